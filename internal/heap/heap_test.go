package heap

import (
	"math/rand/v2"
	"slices"
	"testing"
)

type less struct{}

func (less) Before(a, b int) bool { return a < b }

type greater struct{}

func (greater) Before(a, b int) bool { return a > b }

// check runs random Push, Pop and Replace on h against a sorted model in
// which first(model) is the element the order puts at the root.
func check[O Order[int]](t *testing.T, r *rand.Rand, first func([]int) int) {
	t.Helper()
	var h Heap[int, O]
	var model []int
	remove := func(x int) { model = slices.Delete(model, slices.Index(model, x), slices.Index(model, x)+1) }
	for step := range 5000 {
		switch op := r.IntN(5); {
		case op < 2 || len(model) == 0:
			x := r.IntN(30) // duplicates on purpose
			h.Push(x)
			model = append(model, x)
		case op < 4:
			want := first(model)
			if got := h.Pop(); got != want {
				t.Fatalf("step %d: Pop() = %d, want %d", step, got, want)
			}
			remove(want)
		default:
			x := r.IntN(30)
			remove(first(model))
			h.Replace(x)
			model = append(model, x)
		}
		if len(h) != len(model) {
			t.Fatalf("step %d: %d elements, want %d", step, len(h), len(model))
		}
		if len(h) > 0 && h[0] != first(model) {
			t.Fatalf("step %d: root %d, want %d", step, h[0], first(model))
		}
	}
}

// TestOrder: both orders, against the model, with duplicates.
func TestOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	check[less](t, r, slices.Min[[]int])
	check[greater](t, r, slices.Max[[]int])
}
