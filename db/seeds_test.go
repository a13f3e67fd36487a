package db

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/laiondb/laiondb/engine"
)

// TestSeedSetIsMergedRowSearches: on a real store, knn over a seed set is
// the merge of knn(row(s), K + seeds) for each seed, the seeds dropped and
// each list cut at K; QueryBatch answers it as Query does. Row 41 holds
// the vector of seed 7, so a tie with a seed is among the candidates.
func TestSeedSetIsMergedRowSearches(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	vecs := make([][]float32, 400)
	for i := range vecs {
		vecs[i] = make([]float32, 16)
		for j := range vecs[i] {
			vecs[i][j] = float32(rng.NormFloat64())
		}
	}
	vecs[41] = slices.Clone(vecs[7])
	d, _ := vectorStore(t, vecs)
	ctx := context.Background()
	seeds := []uint32{7, 100, 399}
	path := filepath.Join(t.TempDir(), "seeds.txt")
	if err := os.WriteFile(path, []byte("399\n7\n100\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const k = 12
	best := map[uint32]float32{}
	reached := map[uint32][]uint32{}
	for _, s := range seeds {
		res, err := d.Query(ctx, fmt.Sprintf("knn(row(%d), %d)", s, k+len(seeds)), nil)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, h := range res.Hits {
			if slices.Contains(seeds, h.Row) || n == k {
				continue
			}
			n++
			if b, ok := best[h.Row]; !ok || h.Score > b {
				best[h.Row] = h.Score
			}
			reached[h.Row] = append(reached[h.Row], s)
		}
	}
	if best[41] != 1 || !slices.Contains(reached[41], 7) {
		t.Fatalf("the copy of seed 7 is not its first neighbour: %v %v", best[41], reached[41])
	}
	q := fmt.Sprintf("knn(rows(file('%s')), %d)", path, k)
	one, err := d.Query(ctx, q, &engine.Options{Rows: engine.AllRows})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := d.QueryBatch(ctx, []string{q, "knn(row(3), 5)", q}, &engine.Options{Rows: engine.AllRows})
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range []*engine.Result{one, batch[0], batch[2]} {
		if len(res.Hits) != len(best) || !res.Exact {
			t.Fatalf("%d hits (exact %v), want %d", len(res.Hits), res.Exact, len(best))
		}
		for i, h := range res.Hits {
			if h.Score != best[h.Row] || !slices.Equal(res.Seeds[i], reached[h.Row]) {
				t.Errorf("row %d: score %v seeds %v, want %v %v", h.Row, h.Score, res.Seeds[i], best[h.Row], reached[h.Row])
			}
		}
	}
}

// TestDedupOnStore: on a real store, dedup reads the rows' stored vectors:
// of rows 0..5, rows 1 and 2 copy row 0 and row 4 copies row 3, so
// knn(row(0), 3) dedup is rows 0, 3 and 5 — the copies dropped, and the
// search repeated deeper to keep three.
func TestDedupOnStore(t *testing.T) {
	d, _ := vectorStore(t, [][]float32{{1, 0, 0}, {1, 0, 0}, {1, 0, 0}, {0.8, 0.6, 0}, {0.8, 0.6, 0}, {0, 0.6, 0.8}})
	res, err := d.Query(context.Background(), "knn(row(0), 3) dedup", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := hitRows(res); !slices.Equal(got, []uint32{0, 3, 5}) || res.Search.Deduped != 3 {
		t.Errorf("rows %v, %d dropped; want [0 3 5], 3", got, res.Search.Deduped)
	}
	res, err = d.Query(context.Background(), "within(row(0), 0.7) dedup 0.99", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := hitRows(res); !slices.Equal(got, []uint32{0, 3}) || res.Search.Deduped != 3 {
		t.Errorf("within: rows %v, %d dropped; want [0 3], 3", got, res.Search.Deduped)
	}
}

// TestChanged: a reader learns that another handle committed.
func TestChanged(t *testing.T) {
	d, _ := vectorStore(t, [][]float32{{1, 0}, {0, 1}})
	r, err := Open(d.Dir(), &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if ch, err := r.Changed(); err != nil || ch {
		t.Fatalf("fresh reader: changed %v, %v", ch, err)
	}
	if err := d.SetModel("another-model"); err != nil {
		t.Fatal(err)
	}
	if ch, err := r.Changed(); err != nil || !ch {
		t.Errorf("after a commit: changed %v, %v", ch, err)
	}
	if ch, err := d.Changed(); err != nil || ch {
		t.Errorf("the writer itself: changed %v, %v", ch, err)
	}
}
