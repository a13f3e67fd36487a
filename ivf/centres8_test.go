package ivf

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/laiondb/laiondb/internal/synth"
	"github.com/laiondb/laiondb/vector"
)

// TestDotsI8 checks the kernel against the Go sums, at the extremes of
// both operands and at dimensions the assembly does and does not take.
func TestDotsI8(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, dim := range []int{8, 32, 96, 100, 512, 768} {
		qmax := min(32767, math.MaxInt32/(127*dim))
		for _, n := range []int{1, 3, 17} {
			q := make([]int16, dim)
			v := make([]int8, n*dim)
			for t := range q {
				q[t] = int16(rng.IntN(2*qmax+1) - qmax)
			}
			for i := range v {
				v[i] = int8(rng.IntN(255) - 127)
			}
			// Row 0 at the bound: every product at its largest, one sign.
			for t := range q {
				q[t], v[t] = int16(qmax), 127
			}
			got, want := make([]int32, n), make([]int32, n)
			dotsI8(q, v, got)
			dotsI8Go(q, v, want)
			if !slices.Equal(got, want) {
				t.Fatalf("dim %d, %d rows: %v, want %v", dim, n, got, want)
			}
			if want[0] != int32(dim*qmax*127) {
				t.Fatalf("dim %d: row at the bound sums to %d, want %d", dim, want[0], dim*qmax*127)
			}
		}
	}
}

// TestNearLists checks that the lists chosen with the 8-bit centres are
// the lists the float32 centres choose, on centres as close as a CLIP-like
// set's rows, for image and text queries, nprobe from 1 to 256.
func TestNearLists(t *testing.T) {
	const dim, lists = 512, 4096
	g := synth.New(synth.Config{Dim: dim, N: lists, Seed: 11})
	cent := g.Base(lists)
	normalizeRows(cent, dim)
	ix := &Index{dim: dim, cent: cent}
	qs := append(g.ImageQueries(100), g.TextQueries(100)...)
	for i := 0; i+dim <= len(qs); i += dim {
		q := qs[i : i+dim]
		exact := make([]cand, lists)
		for j := range exact {
			exact[j] = cand{vector.Dot(q, cent[j*dim:(j+1)*dim]), uint32(j)}
		}
		for _, keep := range []int{1, 8, 80, 256} {
			selectBest(exact, keep)
			want := ids(exact[:keep])
			if got := ids(ix.nearLists(q, keep)); !slices.Equal(got, want) {
				t.Fatalf("query %d, %d lists: chose %v, want %v", i/dim, keep, got, want)
			}
		}
	}
}

func ids(cs []cand) []uint32 {
	out := make([]uint32, len(cs))
	for i, c := range cs {
		out[i] = c.id
	}
	slices.Sort(out)
	return out
}
