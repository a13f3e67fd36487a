package db

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPostingRoundTrip encodes unit lists of every density, from one unit
// to all of them, and decodes them back: the units, or every unit when
// they are more than 1/frequentTrigram of them.
func TestPostingRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, universe := range []int{1, 2, 7, 63, 64, 65, 1000, 8192, 250000} {
		for _, density := range []float64{0, 0.0001, 0.01, 0.1, 0.3, 0.6, 1} {
			var units []uint32
			for u := range universe {
				if r.Float64() < density {
					units = append(units, uint32(u))
				}
			}
			if len(units) == 0 {
				units = []uint32{uint32(r.IntN(universe))}
			}
			p := appendPosting(nil, units, universe)
			dst := make([]uint64, (universe+63)/64)
			n, err := decodePosting(p, universe, dst)
			if err != nil {
				t.Fatalf("universe %d, %d units: %v", universe, len(units), err)
			}
			var got []uint32
			for i, w := range dst {
				for ; w != 0; w &= w - 1 {
					got = append(got, uint32(i*64+bitsTZ(w)))
				}
			}
			want := units
			if unlisted(len(units), universe) {
				want = nil
				for u := range universe {
					want = append(want, uint32(u))
				}
			}
			if n != len(want) || !slices.Equal(got, want) {
				t.Fatalf("universe %d: %d units in, %d (%d) out", universe, len(units), n, len(got))
			}
			if ef := 1 + 1 + 4 + (len(units)*efLowBits(len(units), universe)+7)/8 + (len(units)+universe>>efLowBits(len(units), universe)+8)/8; len(p) > ef+8 && len(p) > 1+8*((universe+63)/64) {
				t.Errorf("universe %d, %d units: %d bytes", universe, len(units), len(p))
			}
		}
	}
}

func bitsTZ(w uint64) int {
	n := 0
	for w&1 == 0 {
		w >>= 1
		n++
	}
	return n
}

// FuzzPosting decodes arbitrary bytes: an error or units inside the
// universe, never a panic.
func FuzzPosting(f *testing.F) {
	f.Add(appendPosting(nil, []uint32{1, 5, 9, 300}, 1000), 1000)
	f.Add(appendPosting(nil, []uint32{0, 1, 2, 3}, 4), 4)
	f.Fuzz(func(t *testing.T, p []byte, universe int) {
		if universe <= 0 || universe > 1<<20 {
			return
		}
		dst := make([]uint64, (universe+63)/64)
		n, err := decodePosting(p, universe, dst)
		if err != nil {
			return
		}
		k := 0
		for i, w := range dst {
			for ; w != 0; w &= w - 1 {
				if u := i*64 + bitsTZ(w); u >= universe {
					t.Fatalf("unit %d of %d", u, universe)
				}
				k++
			}
		}
		if k != n {
			t.Fatalf("%d units set, %d reported", k, n)
		}
	})
}
