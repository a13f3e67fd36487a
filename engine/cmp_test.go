package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/laiondb/laiondb/table"
)

// TestCmpLoop compares the word-at-a-time comparison with the plain
// definition on every operator, lengths around word boundaries, ties and
// NaN, into a mask that already has bits set (cmpLoop only adds bits).
func TestCmpLoop(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ops := []cmpOp{opEq, opNe, opLt, opLe, opGt, opGe}
	holds := func(op cmpOp, v, x float64) bool {
		switch op {
		case opEq:
			return v == x
		case opNe:
			return v != x
		case opLt:
			return v < x
		case opLe:
			return v <= x
		case opGt:
			return v > x
		}
		return v >= x
	}
	for _, n := range []int{0, 1, 63, 64, 65, 127, 128, 200} {
		ints := make([]int64, n)
		floats := make([]float64, n)
		for i := range n {
			ints[i] = int64(r.IntN(5))
			floats[i] = float64(r.IntN(5))
			if r.IntN(7) == 0 {
				floats[i] = math.NaN()
			}
		}
		for _, op := range ops {
			for _, x := range []int64{-1, 2, 9} {
				pre := make([]uint64, (n+63)/64+1)
				for i := range pre {
					pre[i] = 1 << 5
				}
				gi := append([]uint64(nil), pre...)
				gf := append([]uint64(nil), pre...)
				cmpLoop(ints, op, x, gi)
				cmpLoop(floats, op, float64(x), gf)
				for i := range n {
					wi := holds(op, float64(ints[i]), float64(x)) || i%64 == 5
					wf := holds(op, floats[i], float64(x)) || i%64 == 5
					if got := gi[i/64]>>(i%64)&1 == 1; got != wi {
						t.Fatalf("ints n=%d op %d x %d: row %d = %v, want %v", n, op, x, i, got, wi)
					}
					if got := gf[i/64]>>(i%64)&1 == 1; got != wf {
						t.Fatalf("floats n=%d op %d x %d: row %d (%v) = %v, want %v", n, op, x, i, floats[i], got, wf)
					}
				}
				if last := len(pre) - 1; gi[last] != pre[last] || gf[last] != pre[last] {
					t.Fatalf("n=%d: a word past the values changed", n)
				}
			}
		}
	}
}

// BenchmarkCmpLoop is a numeric comparison over 1M values on one
// goroutine at 0%, 10% and 50% selectivity.
func BenchmarkCmpLoop(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	vals := make([]int64, 1<<20)
	for i := range vals {
		vals[i] = int64(r.IntN(1000))
	}
	m := make([]uint64, len(vals)/64)
	for _, x := range []int64{0, 100, 500} {
		b.Run(fmt.Sprintf("lt=%d", x), func(b *testing.B) {
			for b.Loop() {
				clear(m)
				cmpLoop(vals, opLt, x, m)
			}
		})
	}
}

// TestValid checks valid's null and NaN masks against the definition, at
// word edges, on every pattern of eight flags.
func TestValid(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 63, 64, 65, 200, 256 * 8} {
		c := &table.Column{Type: table.TypeFloat, Null: make([]bool, n), Float: make([]float64, n)}
		for i := range n {
			c.Null[i] = (i/8)>>(i%8)&1 == 1 // row i/8's byte pattern is i/8
			if i%5 == 0 {
				c.Float[i] = math.NaN()
			}
		}
		ec := &evalCtx{n: n}
		v := make([]uint64, (n+63)/64)
		ec.valid(c, v)
		for i := range n {
			want := !c.Null[i] && i%5 != 0
			if got := v[i/64]>>(i%64)&1 == 1; got != want {
				t.Fatalf("n=%d row %d: valid %v, want %v", n, i, got, want)
			}
		}
	}
}
