package hnsw

import (
	"context"
	"fmt"
	"testing"

	"github.com/laiondb/laiondb/internal/vec"
)

// recallAt returns the mean fraction of the exact top k found by got.
func recallAt(k int, got, want [][]Hit) float64 {
	var s float64
	for i := range got {
		truth := map[uint32]bool{}
		for _, h := range want[i][:min(k, len(want[i]))] {
			truth[h.ID] = true
		}
		c := 0
		for _, h := range got[i][:min(k, len(got[i]))] {
			if truth[h.ID] {
				c++
			}
		}
		s += float64(c) / float64(len(truth))
	}
	return s / float64(len(got))
}

// testSet builds an index over n seeded CLIP-like vectors and returns it
// with nq held-out queries and their exact top-k.
func testSet(tb testing.TB, n, nq, dim, k int, opts *Options) (*Index, vec.Matrix, [][]float32, [][]Hit) {
	tb.Helper()
	all := clipLike(n+nq, dim, 42)
	m := all.Slice(0, n)
	ix, err := New(dim, opts)
	if err != nil {
		tb.Fatal(err)
	}
	if err := ix.Add(context.Background(), m, nil, nil); err != nil {
		tb.Fatal(err)
	}
	qs := make([][]float32, nq)
	truth := make([][]Hit, nq)
	for i := range qs {
		qs[i] = all.Row(n+i, nil)
		truth[i], _, err = Exact(context.Background(), m, qs[i], k, nil)
		if err != nil {
			tb.Fatal(err)
		}
	}
	return ix, m, qs, truth
}

func searchAll(tb testing.TB, ix *Index, qs [][]float32, k, ef int, allow AllowList) [][]Hit {
	tb.Helper()
	out := make([][]Hit, len(qs))
	for i, q := range qs {
		r, err := ix.Search(context.Background(), q, k, &SearchOptions{Ef: ef, Allow: allow})
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = r.Hits
	}
	return out
}

func TestRecall(t *testing.T) {
	ix, _, qs, truth := testSet(t, 10000, 200, 96, 10, &Options{Seed: 1})
	for _, ef := range []int{10, 32, 64, 128} {
		r := recallAt(10, searchAll(t, ix, qs, 10, ef, nil), truth)
		t.Logf("ef=%d recall@10=%.4f", ef, r)
		if ef == DefaultEfSearch && r < 0.95 {
			t.Errorf("recall@10 at ef=%d = %.4f, want >= 0.95", ef, r)
		}
	}
	_ = fmt.Sprint()
}
