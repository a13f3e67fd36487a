//go:build benchmarkRecall

package hnsw

import (
	"context"
	"testing"

	"github.com/laiondb/laiondb/vector"
)

// TestRecallLarge checks the target on 100k CLIP-like 512-d rows:
// recall@10 >= 0.99 at the default efSearch, unfiltered and with a 50%
// allow-list. Run with: go test -tags benchmarkRecall -run RecallLarge -timeout 1h ./hnsw
func TestRecallLarge(t *testing.T) {
	d := benchData()
	ix, err := benchIndex()
	if err != nil {
		t.Fatal(err)
	}
	got := searchAll(t, ix, d.qs, 10, 0, nil)
	r := recallAt(10, got, d.truth)
	t.Logf("n=100000 dim=512 ef=%d recall@10=%.4f", DefaultEfSearch, r)
	if r < 0.99 {
		t.Errorf("recall@10 = %.4f, want >= 0.99", r)
	}
	n := d.m.Len()
	allow := vector.NewBitset(n)
	for i := 0; i < n; i += 2 {
		allow.Set(uint32(i))
	}
	var want [][]vector.Hit
	for _, q := range d.qs {
		e, _, _ := vector.Exact(context.Background(), d.m, q, 10, allow)
		want = append(want, e)
	}
	r = recallAt(10, searchAll(t, ix, d.qs, 10, 0, allow), want)
	t.Logf("allowed 50%%: recall@10=%.4f", r)
	if r < 0.99 {
		t.Errorf("filtered recall@10 = %.4f, want >= 0.99", r)
	}
}
