package vector

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAxpy: the kernel adds a·x to every element of y, whatever the
// length (every tail), within a float32 rounding of the generic loop, and
// writes nothing past y.
func TestAxpy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 100; n++ {
		a := float32(rng.NormFloat64())
		x := make([]float32, n+3)
		y := make([]float32, n+3)
		for i := range x {
			x[i], y[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		want := append([]float32(nil), y...)
		axpyGeneric(a, x[:n], want[:n])
		got := append([]float32(nil), y...)
		Axpy(a, x, got[:n])
		for i := range got {
			if math.Abs(float64(got[i]-want[i])) > 1e-5*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("n %d: y[%d] = %v, want %v", n, i, got[i], want[i])
			}
		}
		for i := n; i < len(got); i++ {
			if got[i] != y[i] {
				t.Fatalf("n %d: y[%d] past the end changed", n, i)
			}
		}
	}
}
