package vector

import (
	"slices"
	"testing"
)

func TestBitsetAnd(t *testing.T) {
	a, b := NewBitset(200), NewBitset(70)
	for _, r := range []uint32{0, 5, 64, 65, 130, 199} {
		a.Set(r)
	}
	for _, r := range []uint32{5, 6, 65, 69} {
		b.Set(r)
	}
	a.And(b) // b is shorter: a's rows past its end go
	var got []uint32
	a.ForEach(func(r uint32) bool { got = append(got, r); return true })
	if want := []uint32{5, 65}; !slices.Equal(got, want) || a.Count() != 2 {
		t.Errorf("a and b = %v, want %v", got, want)
	}
}
