//go:build benchmarkRecall

package db

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/laiondb/laiondb/demodata"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/query"
)

// TestRecallLargeStore checks the recall target through the store,
// at its calibrated default ef: a store of LAIONDB_RECALL_ROWS (default
// 1,000,000) CLIP-like 512-d rows (LAIONDB_RECALL_FINE clusters, default
// rows/100) with image and text embeddings is
// ingested and indexed, then 1,000 new image and 1,000 new text queries are
// answered through the graph (ExactUpTo -1) and compared with exact scans.
// Recall@10 and recall@100 must reach 0.99. The store is kept in
// LAIONDB_RECALL_STORE if set (and reused when it exists). The index is
// LAIONDB_RECALL_KIND's (default hnsw; ivf for the inverted file). Run with
//
//	go test -tags benchmarkRecall -run RecallLargeStore -timeout 3h -v ./db
func TestRecallLargeStore(t *testing.T) {
	rows := 1_000_000
	if s := os.Getenv("LAIONDB_RECALL_ROWS"); s != "" {
		var err error
		if rows, err = strconv.Atoi(s); err != nil {
			t.Fatal(err)
		}
	}
	// CLIP-like: about 100 rows per fine cluster, as in the benchmarks;
	// LAIONDB_RECALL_FINE=32 gives the heavily clustered set of the unit
	// tests' fixture, where neighbourhoods are crowded and the calibrated
	// ef is much larger.
	fine := rows / 100
	if s := os.Getenv("LAIONDB_RECALL_FINE"); s != "" {
		var err error
		if fine, err = strconv.Atoi(s); err != nil {
			t.Fatal(err)
		}
	}
	kind := defaultIndexKind
	if s := os.Getenv("LAIONDB_RECALL_KIND"); s != "" {
		kind = s
	}
	cfg := demodata.Config{Seed: 1, Parts: 8, Rows: rows / 8, Dim: 512, Fine: fine}
	total := cfg.Parts * cfg.Rows
	dir := os.Getenv("LAIONDB_RECALL_STORE")
	if dir == "" {
		dir = filepath.Join(t.TempDir(), "store")
	}
	ctx := context.Background()
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST.json")); err != nil {
		tmp := t.TempDir()
		t0 := time.Now()
		if _, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), cfg); err != nil {
			t.Fatal(err)
		}
		d, err := Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		srcs, err := ExpandPaths([]string{filepath.Join(tmp, "emb")})
		if err != nil {
			t.Fatal(err)
		}
		t1 := time.Now()
		if _, err := d.Ingest(ctx, srcs, &IngestOptions{Index: IndexOptions{Kind: kind}}); err != nil {
			t.Fatal(err)
		}
		t.Logf("generated in %.0f s, ingested and indexed in %.0f s", t1.Sub(t0).Seconds(), time.Since(t1).Seconds())
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// A store kept from an earlier run is brought up to date (its
	// calibration measured again if the method changed since).
	if d, err := Open(dir, nil); err != nil {
		t.Fatal(err)
	} else {
		t0 := time.Now()
		if err := d.BuildIndex(ctx, &IndexOptions{Kind: kind}); err != nil {
			t.Fatal(err)
		}
		t.Logf("index up to date in %.1f s", time.Since(t0).Seconds())
		d.Close()
	}
	d, err := Open(dir, &Options{ReadOnly: true, ExactUpTo: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	m, _ := d.Manifest()
	info := m.FindIndex(query.SpaceImage, kind)
	if m.Rows != int64(total) || info == nil || info.Calibration == nil {
		t.Fatalf("store %s: %d rows, %s index %+v", dir, m.Rows, kind, info)
	}
	t.Logf("%s calibration: image %+v, text %+v", kind, info.Calibration.Image, info.Calibration.Text)
	// A store with several kinds answers through the one asked for.
	forced := ""
	if len(m.Indexes) > 1 {
		forced = kind
	}
	g := demodata.Generator(cfg)
	const nq = 1000
	sets := []struct {
		name  string
		vecs  []float32
		image bool
	}{
		{"image", g.ImageQueries(nq), true},
		{"text", g.TextQueries(total + nq)[total*cfg.Dim:], false},
	}
	for _, set := range sets {
		for _, k := range []int{10, 100} {
			var found, want int
			var graph time.Duration
			method := ""
			for i := 0; i < nq; i++ {
				q := set.vecs[i*cfg.Dim : (i+1)*cfg.Dim]
				t0 := time.Now()
				res, err := d.Search(ctx, engine.SearchRequest{Vec: q, K: k, Image: set.image, IndexKind: forced})
				graph += time.Since(t0)
				if err != nil {
					t.Fatal(err)
				}
				ex, err := d.Search(ctx, engine.SearchRequest{Vec: q, K: k, Exact: true})
				if err != nil {
					t.Fatal(err)
				}
				in := map[uint32]bool{}
				for _, h := range res.Hits {
					in[h.Row] = true
				}
				for _, h := range ex.Hits {
					if in[h.Row] {
						found++
					}
				}
				want += len(ex.Hits)
				method = res.Method
			}
			r := float64(found) / float64(want)
			t.Logf("%s queries, k %d: recall@%d %.4f, %.2f ms per query (%s)", set.name, k, k, r, float64(graph.Microseconds())/1000/nq, method)
			if r < 0.99 {
				t.Errorf("%s queries: recall@%d %.4f < 0.99 at the default ef", set.name, k, r)
			}
		}
	}
	fmt.Fprintf(os.Stderr, "store: %s\n", dir)
}
