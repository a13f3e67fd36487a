package hnsw

import "github.com/laiondb/laiondb/internal/heap"

// cand is a node and its score (inner product with the query; higher is
// closer).
type cand struct {
	score float32
	id    uint32
}

// nearer puts the highest score at the root; farther the lowest.
type (
	nearer  struct{}
	farther struct{}
)

func (nearer) Before(a, b cand) bool  { return a.score > b.score }
func (farther) Before(a, b cand) bool { return a.score < b.score }

type (
	// maxHeap pops the highest score first (the search frontier).
	maxHeap = heap.Heap[cand, nearer]
	// minHeap keeps the best results with the worst at the root.
	minHeap = heap.Heap[cand, farther]
)
