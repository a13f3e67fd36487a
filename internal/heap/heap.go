// Package heap is a binary heap over a slice, generic in its element and in
// its order. The order is a type (an empty struct with a Before method), so
// a heap carries no function value. The compiler shares one body between
// instantiations of the same shape and calls Before through a dictionary;
// the HNSW search, which pushes and pops candidates in its innermost loop,
// measured the same with this heap as with the hand-written copies it
// replaced (hnsw BenchmarkSearch, three alternating rounds, within noise).
package heap

// Order ranks elements: Before(a, b) reports whether a belongs nearer the
// root than b. Implementations are empty structs.
type Order[T any] interface {
	Before(a, b T) bool
}

// Heap is a binary heap of T whose root, h[0], is an element that no
// other element is Before. The zero value is an empty heap; h[:0] empties
// it and keeps its memory.
type Heap[T any, O Order[T]] []T

// Push adds x.
func (h *Heap[T, O]) Push(x T) {
	var o O
	*h = append(*h, x)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !o.Before(s[i], s[p]) {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

// Pop removes and returns the root. The heap must not be empty.
func (h *Heap[T, O]) Pop() T {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	*h = s[:n]
	h.down(0)
	return top
}

// Replace sets the root to x and restores the order: a Pop and a Push in
// one pass, for bounded heaps that keep the best k.
func (h *Heap[T, O]) Replace(x T) {
	(*h)[0] = x
	h.down(0)
}

// down moves the element at i away from the root until the order holds.
func (h *Heap[T, O]) down(i int) {
	var o O
	s := *h
	n := len(s)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		w := l
		if r := l + 1; r < n && o.Before(s[r], s[l]) {
			w = r
		}
		if !o.Before(s[w], s[i]) {
			return
		}
		s[i], s[w] = s[w], s[i]
		i = w
	}
}
