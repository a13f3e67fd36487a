package vector

import (
	"math/rand/v2"
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

// TestAndMaterialised: And of a Bitset with a Bitset or Ranges (a new
// Bitset) holds exactly the rows both hold, for ranges that start and end
// inside words, on word boundaries, past the set's end and empty.
func TestAndMaterialised(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 200 {
		n := 1 + r.IntN(700)
		x := NewBitset(n)
		for i := range n {
			if r.IntN(3) > 0 {
				x.Set(uint32(i))
			}
		}
		var rs Ranges
		for lo := uint32(r.IntN(70)); lo < uint32(n+130); {
			hi := lo + uint32(r.IntN(150))
			if r.IntN(4) == 0 {
				hi = (lo/64 + 1) * 64 // a word boundary
			}
			rs = append(rs, Range{lo, hi})
			lo = hi + uint32(r.IntN(100))
		}
		y := NewBitset(n - r.IntN(n))
		for i := range y.Cap() {
			if r.IntN(2) > 0 {
				y.Set(uint32(i))
			}
		}
		for name, o := range map[string]AllowList{"ranges": rs, "bitset": y} {
			for _, got := range []AllowList{And(x, o), And(o, x)} {
				if _, ok := got.(*Bitset); !ok {
					t.Fatalf("And(Bitset, %s) is a %T, want a *Bitset", name, got)
				}
				want := 0
				for id := uint32(0); id < uint32(n+200); id++ {
					in := x.Contains(id) && o.Contains(id)
					if in {
						want++
					}
					if got.Contains(id) != in {
						t.Fatalf("trial %d, %s: row %d: %v, want %v (ranges %v)", trial, name, id, got.Contains(id), in, rs)
					}
				}
				if got.Count() != want {
					t.Fatalf("trial %d, %s: Count %d, want %d", trial, name, got.Count(), want)
				}
			}
		}
	}
}

// TestSliceAndPlace: Slice takes any range of rows out of a set, and Place
// puts sets of consecutive ranges back together into the set they came
// from, at every alignment.
func TestSliceAndPlace(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 1, 63, 64, 65, 200, 1000} {
		for _, density := range []float64{0, 0.01, 0.5, 1} {
			b := NewBitset(n)
			for r := range n {
				if rng.Float64() < density {
					b.Set(uint32(r))
				}
			}
			for range 20 {
				lo := rng.IntN(n + 1)
				hi := lo + rng.IntN(n-lo+1)
				s := b.Slice(lo, hi)
				if s.Cap() != hi-lo {
					t.Fatalf("n %d: Slice(%d, %d).Cap() = %d", n, lo, hi, s.Cap())
				}
				for r := range hi - lo {
					if s.Contains(uint32(r)) != b.Contains(uint32(lo+r)) {
						t.Fatalf("n %d: Slice(%d, %d): row %d differs", n, lo, hi, r)
					}
				}
				if s.Count() != countRange(b, lo, hi) {
					t.Fatalf("n %d: Slice(%d, %d) holds rows past its end", n, lo, hi)
				}
			}
			// Cut into random consecutive parts and put back together.
			whole := NewBitset(n)
			for lo := 0; lo < n; {
				hi := min(n, lo+1+rng.IntN(100))
				whole.Place(b.Slice(lo, hi), lo)
				lo = hi
			}
			if !slices.Equal(whole.Words(), b.Words()) {
				t.Fatalf("n %d density %v: the parts placed back differ from the set", n, density)
			}
		}
	}
}

func countRange(b *Bitset, lo, hi int) int {
	c := 0
	for r := lo; r < hi; r++ {
		if b.Contains(uint32(r)) {
			c++
		}
	}
	return c
}
