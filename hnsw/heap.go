package hnsw

// cand is a node and its score (inner product with the query; higher is
// closer).
type cand struct {
	score float32
	id    uint32
}

// maxHeap pops the highest score first (the search frontier).
type maxHeap []cand

func (h *maxHeap) push(c cand) {
	*h = append(*h, c)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if s[p].score >= s[i].score {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *maxHeap) pop() cand {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	*h = s
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		w := l
		if r := l + 1; r < n && s[r].score > s[l].score {
			w = r
		}
		if s[i].score >= s[w].score {
			break
		}
		s[i], s[w] = s[w], s[i]
		i = w
	}
	return top
}

// minHeap keeps the best results with the worst at the root.
type minHeap []cand

func (h *minHeap) push(c cand) {
	*h = append(*h, c)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if s[p].score <= s[i].score {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *minHeap) pop() cand {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	*h = s
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		w := l
		if r := l + 1; r < n && s[r].score < s[l].score {
			w = r
		}
		if s[i].score <= s[w].score {
			break
		}
		s[i], s[w] = s[w], s[i]
		i = w
	}
	return top
}
