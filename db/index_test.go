package db

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/internal/fixture"
	"github.com/laiondb/laiondb/query"
)

// recall returns the share of want's rows found in got.
func recall(got, want []query.Hit) float64 {
	in := map[uint32]bool{}
	for _, h := range got {
		in[h.Row] = true
	}
	n := 0
	for _, h := range want {
		if in[h.Row] {
			n++
		}
	}
	return float64(n) / float64(len(want))
}

func TestIndexedSearch(t *testing.T) {
	tmp := t.TempDir()
	emb, err := fixture.EmbeddingFolder(filepath.Join(tmp, "emb"), fixture.Config{Seed: 21, Parts: 3, Rows: 3500, Dim: 64, NoText: true})
	if err != nil {
		t.Fatal(err)
	}
	srcs, _ := ExpandPaths([]string{emb.Dir})
	dir := filepath.Join(tmp, "store")
	// A narrow search (ef 48) so that the planner uses the graph on this
	// small set: the default ef would scan 7000 vectors exactly.
	d, err := Open(dir, &Options{EfSearch: 48, ExactUpTo: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	// The first two files with the index, the third without.
	// The planner scans exactly below sqrt(4·16·ef·n) allowed rows: n must
	// exceed 4·16·96 = 6144 for the graph to answer.
	if _, err := d.Ingest(context.Background(), srcs[:2], &IngestOptions{Index: IndexOptions{EfConstruction: 100}}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Ingest(context.Background(), srcs[2:], &IngestOptions{NoIndex: true}); err != nil {
		t.Fatal(err)
	}
	m, _ := d.Manifest()
	if m.Index == nil || m.Index.Rows != 7000 || m.Index.M != 16 {
		t.Fatalf("index info = %+v", m.Index)
	}
	all := append(append(append([]float32(nil), emb.Image[0]...), emb.Image[1]...), emb.Image[2]...)
	ctx := context.Background()
	var sum float64
	const queries = 40
	for i := 0; i < queries; i++ {
		q := append([]float32(nil), all[(i*181)*64:(i*181+1)*64]...)
		res, err := d.Search(ctx, query.SearchRequest{Vec: q, K: 10})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(res.Method, "hnsw graph") || !strings.Contains(res.Method, "ingested after the index") || res.Exact {
			t.Fatalf("method = %q exact %v", res.Method, res.Exact)
		}
		sum += recall(res.Hits, bruteKNN(all, 64, q, 10, nil))
	}
	if r := sum / queries; r < 0.95 {
		t.Errorf("recall@10 = %.3f, want >= 0.95", r)
	}

	// A selective filter is answered exactly, identical to brute force.
	allow := query.NewBitset(10500)
	for r := uint32(5); r < 10500; r += 97 {
		allow.Set(r)
	}
	q := all[100*64 : 101*64]
	res, err := d.Search(ctx, query.SearchRequest{Vec: q, K: 20, Allow: allow})
	if err != nil {
		t.Fatal(err)
	}
	want := bruteKNN(all, 64, q, 20, allow)
	if !res.Exact || recall(res.Hits, want) != 1 {
		t.Errorf("filtered search: exact %v, method %q, recall %.2f", res.Exact, res.Method, recall(res.Hits, want))
	}

	// Catching up covers the third file; the graph then answers alone.
	if err := d.BuildIndex(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if m, _ := d.Manifest(); m.Index.Rows != 10500 {
		t.Fatalf("index rows after BuildIndex = %d", m.Index.Rows)
	}
	res, _ = d.Search(ctx, query.SearchRequest{Vec: q, K: 10})
	if strings.Contains(res.Method, "ingested after") {
		t.Errorf("method after catch-up = %q", res.Method)
	}
	// --exact forces the scan.
	res, _ = d.Search(ctx, query.SearchRequest{Vec: q, K: 10, Exact: true})
	if !res.Exact || !strings.HasPrefix(res.Method, "exact scan") || recall(res.Hits, bruteKNN(all, 64, q, 10, nil)) != 1 {
		t.Errorf("exact: %+v", res)
	}
	d.Close()

	// The index persists; a damaged file is reported and searches fall
	// back to exact scans until a rebuild.
	var warned []string
	d2, err := Open(dir, &Options{EfSearch: 48, ExactUpTo: -1, Warn: func(s string) { warned = append(warned, s) }})
	if err != nil {
		t.Fatal(err)
	}
	res, _ = d2.Search(ctx, query.SearchRequest{Vec: q, K: 10})
	if !strings.Contains(res.Method, "hnsw") || len(warned) > 0 {
		t.Fatalf("reopened: method %q, warnings %v", res.Method, warned)
	}
	d2.Close()
	flip(t, indexPath(dir), 100000)
	d3, err := Open(dir, &Options{EfSearch: 48, ExactUpTo: -1, Warn: func(s string) { warned = append(warned, s) }})
	if err != nil {
		t.Fatal(err)
	}
	defer d3.Close()
	if len(warned) != 1 || !strings.Contains(warned[0], "laiondb index --rebuild") {
		t.Errorf("warnings = %v", warned)
	}
	res, _ = d3.Search(ctx, query.SearchRequest{Vec: q, K: 10})
	if !res.Exact || !strings.Contains(res.Method, "unusable") {
		t.Errorf("damaged index: %+v", res.Method)
	}
	rep, err := d3.Check(ctx)
	if err != nil || rep.OK() {
		t.Errorf("check of damaged index: %+v %v", rep, err)
	}
	if err := d3.BuildIndex(ctx, &IndexOptions{Rebuild: true}); err != nil {
		t.Fatal(err)
	}
	if rep, _ := d3.Check(ctx); !rep.OK() {
		t.Errorf("check after rebuild: %v", rep.Problems)
	}
	res, _ = d3.Search(ctx, query.SearchRequest{Vec: q, K: 10})
	if !strings.Contains(res.Method, "hnsw") {
		t.Errorf("after rebuild: %q", res.Method)
	}
	if _, err := os.Stat(indexPath(dir)); err != nil {
		t.Fatal(err)
	}
}

// Small searches are answered exactly even with an index; ExactUpTo < 0
// hands them to the index's planner.
func TestExactUpTo(t *testing.T) {
	dir := checkStore(t) // 600 rows with an index
	for _, c := range []struct {
		upTo int
		want string
	}{{0, "answered exactly"}, {-1, "planner"}} {
		d, err := Open(dir, &Options{ReadOnly: true, ExactUpTo: c.upTo})
		if err != nil {
			t.Fatal(err)
		}
		s, _ := d.Snapshot()
		q, err := s.Vector(context.Background(), query.Target{Kind: query.TargetRow, Row: 5})
		if err != nil {
			t.Fatal(err)
		}
		res, err := d.Search(context.Background(), query.SearchRequest{Vec: q, K: 5})
		d.Close()
		if err != nil || !res.Exact || !strings.Contains(res.Method, c.want) || res.Hits[0].Row != 5 {
			t.Errorf("ExactUpTo %d: %+v %v", c.upTo, res, err)
		}
	}
}
