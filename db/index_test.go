package db

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/demodata"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/vector"
)

// recall returns the share of want's rows found in got.
func recall(got, want []engine.Hit) float64 {
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
	emb, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 21, Parts: 3, Rows: 3500, Dim: 64, NoText: true})
	if err != nil {
		t.Fatal(err)
	}
	srcs, _ := ExpandPaths([]string{emb.Dir})
	dir := filepath.Join(tmp, "store")
	// A narrow search (ef 48) through the graph, forced (Index) since on
	// this small set the planner may find a scan of 7000 vectors cheaper.
	d, err := Open(dir, &Options{EfSearch: 48, ExactUpTo: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	// The first two files with the index, the third without.
	if _, err := d.Ingest(context.Background(), srcs[:2], &IngestOptions{Index: IndexOptions{EfConstruction: 100}}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Ingest(context.Background(), srcs[2:], &IngestOptions{NoIndex: true}); err != nil {
		t.Fatal(err)
	}
	m, _ := d.Manifest()
	if imageIndex(m) == nil || imageIndex(m).Rows != 7000 || imageIndex(m).Params["m"] != 16 {
		t.Fatalf("index info = %+v", imageIndex(m))
	}
	all := append(append(append([]float32(nil), emb.Image[0]...), emb.Image[1]...), emb.Image[2]...)
	ctx := context.Background()
	var sum float64
	const queries = 40
	for i := 0; i < queries; i++ {
		q := append([]float32(nil), all[(i*181)*64:(i*181+1)*64]...)
		res, err := d.Search(ctx, engine.SearchRequest{Vec: q, K: 10, Index: true})
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
	allow := vector.NewBitset(10500)
	for r := uint32(5); r < 10500; r += 97 {
		allow.Set(r)
	}
	q := all[100*64 : 101*64]
	res, err := d.Search(ctx, engine.SearchRequest{Vec: q, K: 20, Allow: allow})
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
	if m, _ := d.Manifest(); imageIndex(m).Rows != 10500 {
		t.Fatalf("index rows after BuildIndex = %d", imageIndex(m).Rows)
	}
	res, _ = d.Search(ctx, engine.SearchRequest{Vec: q, K: 10})
	if strings.Contains(res.Method, "ingested after") {
		t.Errorf("method after catch-up = %q", res.Method)
	}
	// --exact forces the scan.
	res, _ = d.Search(ctx, engine.SearchRequest{Vec: q, K: 10, Exact: true})
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
	res, _ = d2.Search(ctx, engine.SearchRequest{Vec: q, K: 10, Index: true})
	if !strings.Contains(res.Method, "hnsw") || len(warned) > 0 {
		t.Fatalf("reopened: method %q, warnings %v", res.Method, warned)
	}
	d2.Close()
	flip(t, indexPath(dir, indexKinds[defaultIndexKind], query.SpaceImage), 100000)
	d3, err := Open(dir, &Options{EfSearch: 48, ExactUpTo: -1, Warn: func(s string) { warned = append(warned, s) }})
	if err != nil {
		t.Fatal(err)
	}
	defer d3.Close()
	if len(warned) != 1 || !strings.Contains(warned[0], "laiondb index --rebuild") {
		t.Errorf("warnings = %v", warned)
	}
	res, _ = d3.Search(ctx, engine.SearchRequest{Vec: q, K: 10})
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
	res, _ = d3.Search(ctx, engine.SearchRequest{Vec: q, K: 10, Index: true})
	if !strings.Contains(res.Method, "hnsw") {
		t.Errorf("after rebuild: %q", res.Method)
	}
	if _, err := os.Stat(indexPath(dir, indexKinds[defaultIndexKind], query.SpaceImage)); err != nil {
		t.Fatal(err)
	}
}

// Small searches are answered exactly even with an index; ExactUpTo < 0
// hands them to the planner.
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
		res, err := d.Search(context.Background(), engine.SearchRequest{Vec: q, K: 5})
		d.Close()
		// With the planner, either path may be the faster on 600 rows.
		if err != nil || (c.upTo == 0 && !res.Exact) || !strings.Contains(res.Method, c.want) || res.Hits[0].Row != 5 {
			t.Errorf("ExactUpTo %d: %+v %v", c.upTo, res, err)
		}
	}
}

// TestCalibratedEf builds an index over a store with image and text
// embeddings and checks that the build records a calibration for both
// kinds, that searches use it (image queries the image one), and that the
// recall it promises holds for new queries of the same kind.
func TestCalibratedEf(t *testing.T) {
	if raceEnabled {
		t.Skip("slow under the race detector; hnsw's TestCalibrate covers the concurrent part")
	}
	tmp := t.TempDir()
	const dim = 32
	emb, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 5, Parts: 4, Rows: 8000, Dim: dim})
	if err != nil {
		t.Fatal(err)
	}
	srcs, _ := ExpandPaths([]string{emb.Dir})
	d, err := Open(filepath.Join(tmp, "store"), &Options{ExactUpTo: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Ingest(context.Background(), srcs, &IngestOptions{Index: IndexOptions{M: 24}}); err != nil {
		t.Fatal(err)
	}
	m, _ := d.Manifest()
	cal := imageIndex(m).Calibration
	if cal == nil || len(cal.Image) != 2 || len(cal.Text) != 2 {
		t.Fatalf("calibration = %+v", cal)
	}
	for _, c := range append(append([]vector.Calibration(nil), cal.Image...), cal.Text...) {
		if c.Queries != calibrationQueries || c.Target != CalibrationTarget || c.Ef == 0 || c.Lower < c.Target || c.Recall < c.Lower {
			t.Errorf("calibration %+v", c)
		}
	}
	t.Logf("image %+v\ntext %+v", cal.Image, cal.Text)
	var all []float32
	for _, p := range emb.Image {
		all = append(all, p...)
	}
	ctx := context.Background()
	// New text queries: the text embeddings of rows the fixture did not
	// write (the generator's stream continues past the store's rows).
	more, err := demodata.EmbeddingFolder(filepath.Join(tmp, "more"), demodata.Config{Seed: 5, Parts: 5, Rows: 8000, Dim: dim})
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	const nq = 50
	for i := 0; i < nq; i++ {
		q := more.Text[4][i*97*dim : (i*97+1)*dim]
		res, err := d.Search(ctx, engine.SearchRequest{Vec: q, K: 10, Index: true})
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("ef=%d (calibrated: recall@10 %.4f on %d text embeddings", cal.Text[0].Ef, cal.Text[0].Recall, calibrationQueries)
		if !strings.Contains(res.Method, want) {
			t.Fatalf("text query method = %q, want %q", res.Method, want)
		}
		sum += recall(res.Hits, bruteKNN(all, dim, q, 10, nil))
	}
	if r := sum / nq; r < 0.98 {
		t.Errorf("recall@10 of new text queries = %.3f at the calibrated ef", r)
	}
	// An image query uses the image calibration; k 50 that of k 100, and
	// k 300 scales it.
	q := all[77*dim : 78*dim]
	for _, tc := range []struct {
		k    int
		want string
	}{
		{10, fmt.Sprintf("ef=%d (calibrated: recall@10 %.4f on %d image embeddings", cal.Image[0].Ef, cal.Image[0].Recall, calibrationQueries)},
		{50, fmt.Sprintf("ef=%d (calibrated: recall@100 %.4f on %d image embeddings", max(50, cal.Image[1].Ef), cal.Image[1].Recall, calibrationQueries)},
		{300, fmt.Sprintf("ef=%d (scaled from ef %d, calibrated for recall@100", cal.Image[1].Ef*3, cal.Image[1].Ef)},
	} {
		res, err := d.Search(ctx, engine.SearchRequest{Vec: q, K: tc.k, Image: true, Index: true})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(res.Method, tc.want) || len(res.Hits) != tc.k {
			t.Errorf("k %d: method = %q, want %q", tc.k, res.Method, tc.want)
		}
	}
}

// TestEfChoice covers the choice of ef without building a graph.
func TestEfChoice(t *testing.T) {
	cal := &Calibration{
		Image:     []vector.Calibration{{K: 10, Queries: 200, Target: 0.995, Ef: 64, Recall: 0.999}, {K: 100, Queries: 200, Target: 0.995, Ef: 256, Recall: 0.996}},
		Text:      []vector.Calibration{{K: 10, Queries: 200, Target: 0.995, Ef: 1536, Recall: 0.996}, {K: 100, Queries: 200, Target: 0.99, Recall: 0.97, Lower: 0.96}},
		MaxEffort: 8192,
	}
	info := &IndexInfo{Kind: defaultIndexKind, Space: "image", Calibration: cal}
	vi := viewIndex{info: info, kind: indexKinds[defaultIndexKind]}
	v := &view{d: &DB{}}
	for _, tc := range []struct {
		req  engine.SearchRequest
		ef   int
		why  string
		opts Options
	}{
		{engine.SearchRequest{K: 10, Image: true}, 64, "calibrated: recall@10 0.9990 on 200 image embeddings", Options{}},
		{engine.SearchRequest{K: 5}, 1536, "calibrated: recall@10 0.9960 on 200 text", Options{}},
		{engine.SearchRequest{K: 11, Image: true}, 256, "recall@100 0.9960", Options{}},
		{engine.SearchRequest{K: 1000, Image: true}, 2560, "scaled from ef 256", Options{}},
		{engine.SearchRequest{K: 100}, 0, "no ef up to 8192 reached recall@100 0.99 on 200 text embeddings of this store (best 0.9700, lower bound 0.9600)", Options{}},
		{engine.SearchRequest{K: 100}, 77, "set by option", Options{EfSearch: 77}},
	} {
		v.d.opts = tc.opts
		ef, why := v.ef(tc.req, vi)
		if ef != tc.ef || !strings.Contains(why, tc.why) {
			t.Errorf("%+v: ef %d (%s), want %d (%s)", tc.req, ef, why, tc.ef, tc.why)
		}
	}
	v.d.opts = Options{}
	info.Calibration = nil
	if ef, why := v.ef(engine.SearchRequest{K: 10}, vi); ef != defaultEf(10) || !strings.Contains(why, "no calibration for text") {
		t.Errorf("uncalibrated: %d %s", ef, why)
	}
	info.Calibration = &Calibration{Image: cal.Image}
	if ef, why := v.ef(engine.SearchRequest{K: 10}, vi); ef != defaultEf(10) || !strings.Contains(why, "no calibration for text") {
		t.Errorf("store without text embeddings: %d %s", ef, why)
	}
}

// TestRecalibrate checks that BuildIndex measures a missing or outdated
// calibration again without relinking, and leaves a current one alone.
func TestRecalibrate(t *testing.T) {
	tmp := t.TempDir()
	emb, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 9, Parts: 2, Rows: 600, Dim: 16})
	if err != nil {
		t.Fatal(err)
	}
	srcs, _ := ExpandPaths([]string{emb.Dir})
	d, err := Open(filepath.Join(tmp, "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	if _, err := d.Ingest(ctx, srcs, nil); err != nil {
		t.Fatal(err)
	}
	m, _ := d.Manifest()
	if c := imageIndex(m).Calibration; c == nil || c.Version != calibrationVersion || len(c.Text) != 2 {
		t.Fatalf("calibration after ingest: %+v", c)
	}
	for _, old := range []*Calibration{nil, {Version: 0, Image: imageIndex(m).Calibration.Image}} {
		next := m.clone()
		imageIndex(next).Calibration = old
		if err := writeManifest(d.dir, next); err != nil {
			t.Fatal(err)
		}
		d.mu.Lock()
		d.man = next
		d.mu.Unlock()
		before, _ := os.Stat(indexPath(d.dir, indexKinds[defaultIndexKind], query.SpaceImage))
		if err := d.BuildIndex(ctx, nil); err != nil {
			t.Fatal(err)
		}
		after, _ := os.Stat(indexPath(d.dir, indexKinds[defaultIndexKind], query.SpaceImage))
		got, _ := d.Manifest()
		if c := imageIndex(got).Calibration; c == nil || c.Version != calibrationVersion || len(c.Image) != 2 || len(c.Text) != 2 {
			t.Errorf("recalibrated: %+v", c)
		}
		if !after.ModTime().Equal(before.ModTime()) {
			t.Error("recalibrating rewrote the graph file")
		}
	}
	// A current calibration: nothing to do, the manifest is not rewritten.
	st, _ := os.Stat(filepath.Join(d.dir, "MANIFEST.json"))
	if err := d.BuildIndex(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if st2, _ := os.Stat(filepath.Join(d.dir, "MANIFEST.json")); !st2.ModTime().Equal(st.ModTime()) {
		t.Error("BuildIndex rewrote an up-to-date manifest")
	}
}

// TestLegacyIndexManifest: a store whose manifest records its index the way
// stores did before index kinds (m and ef_construction fields, no kind, a
// calibration without max_effort) opens with the index in use.
func TestLegacyIndexManifest(t *testing.T) {
	tmp := t.TempDir()
	emb, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 5, Parts: 1, Rows: 3000, Dim: 16, NoText: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "store")
	d := openTest(t, dir)
	ingestPaths(t, d, emb.Dir)
	m, _ := d.Manifest()
	if imageIndex(m) == nil || imageIndex(m).Kind != "hnsw" || imageIndex(m).Params["ef_construction"] != 200 || imageIndex(m).Calibration.MaxEffort != 8192 {
		t.Fatalf("index = %+v", imageIndex(m))
	}
	d.Close()
	legacy := m.clone()
	ix := *imageIndex(legacy)
	cal := *ix.Calibration
	cal.MaxEffort = 0
	ix.Kind, ix.Space, ix.Params, ix.M, ix.EfConstruction, ix.Calibration = "", "", nil, 16, 200, &cal
	legacy.Index, legacy.Indexes = &ix, nil
	if err := writeManifest(dir, legacy); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, manifestName))
	if !strings.Contains(string(b), `"m": 16`) || !strings.Contains(string(b), `"kind": ""`) {
		t.Fatalf("not a legacy manifest:\n%s", b)
	}
	d2, err := Open(dir, &Options{ExactUpTo: -1, EfSearch: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	m2, _ := d2.Manifest()
	if imageIndex(m2).Kind != "hnsw" || imageIndex(m2).Params["m"] != 16 || imageIndex(m2).Params["ef_construction"] != 200 || imageIndex(m2).Calibration.MaxEffort != 8192 {
		t.Errorf("upgraded index = %+v", imageIndex(m2))
	}
	res, err := d2.Query(context.Background(), "knn(row(3), 5)", nil)
	if err != nil || !strings.Contains(res.Plan, "hnsw graph search") {
		t.Errorf("search after opening a legacy manifest: %v\n%s", err, res.Plan)
	}
}

// TestForceIndex: a program that embeds the store can force the graph,
// with an allow-list and its own ef, where the planner would scan; a
// store without an index refuses the request rather than scan.
func TestForceIndex(t *testing.T) {
	dir := checkStore(t) // 600 rows with an index
	d, err := Open(dir, &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	s, _ := d.Snapshot()
	q, err := s.Vector(ctx, query.Target{Kind: query.TargetRow, Row: 5})
	if err != nil {
		t.Fatal(err)
	}
	allow := vector.NewBitset(600)
	for r := uint32(0); r < 600; r += 3 {
		allow.Set(r)
	}
	exact, err := d.Search(ctx, engine.SearchRequest{Vec: q, K: 10, Allow: allow, Exact: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.Search(ctx, engine.SearchRequest{Vec: q, K: 10, Allow: allow, Index: true, Ef: 200})
	if err != nil || !strings.Contains(res.Method, "ef=200") || !strings.HasPrefix(res.Method, "hnsw") {
		t.Fatalf("forced index: %+v %v", res, err)
	}
	for _, h := range res.Hits {
		if !allow.Contains(h.Row) {
			t.Errorf("row %d is not allowed", h.Row)
		}
	}
	if r := recall(res.Hits, exact.Hits); r < 0.9 {
		t.Errorf("recall %.2f of the forced graph search at ef 200", r)
	}
	// Exact wins over Index; without an index, Index is an error.
	if res, err := d.Search(ctx, engine.SearchRequest{Vec: q, K: 10, Index: true, Exact: true}); err != nil || !res.Exact {
		t.Errorf("Exact and Index: %+v %v", res, err)
	}
	// The store has text embeddings but no index over them.
	if _, err := d.Search(ctx, engine.SearchRequest{Vec: q, K: 10, Space: query.SpaceText, Index: true}); !errors.Is(err, ErrNoIndex) {
		t.Errorf("no text index: %v", err)
	}
}

// imageIndex and textIndex return the manifest's HNSW index over the
// image or the text embeddings, or nil.
func imageIndex(m *Manifest) *IndexInfo { return m.FindIndex(query.SpaceImage, defaultIndexKind) }
func textIndex(m *Manifest) *IndexInfo  { return m.FindIndex(query.SpaceText, defaultIndexKind) }
