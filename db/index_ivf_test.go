package db

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/laiondb/laiondb/demodata"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/vector"
)

// ivfParams are the IVF parameters of the tests' 64-dimensional rows.
var ivfParams = map[string]int{"sub": 16}

// ivfStore ingests parts of a seeded embedding folder, 64 dimensions,
// with the IVF index (and no HNSW), and returns the store, its rows'
// vectors in row order and the sources.
func ivfStore(t *testing.T, parts, rows int, o *Options) (*DB, []float32, []Source) {
	t.Helper()
	tmp := t.TempDir()
	emb, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 33, Parts: parts, Rows: rows, Dim: 64, NoText: true})
	if err != nil {
		t.Fatal(err)
	}
	srcs, err := ExpandPaths([]string{emb.Dir})
	if err != nil {
		t.Fatal(err)
	}
	d, err := Open(filepath.Join(tmp, "store"), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	var all []float32
	for _, p := range emb.Image {
		all = append(all, p...)
	}
	return d, all, srcs
}

// ivfRecall is the mean recall@10 of forced IVF searches for stored rows'
// vectors against brute force.
func ivfRecall(t *testing.T, d *DB, all []float32, queries int) float64 {
	t.Helper()
	n := len(all) / 64
	var sum float64
	for i := range queries {
		r := (i*7919 + 13) % n
		q := all[r*64 : (r+1)*64]
		res, err := d.Search(context.Background(), engine.SearchRequest{Vec: q, K: 10, IndexKind: "ivf", Image: true})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(res.Method, "ivf search") || res.Exact {
			t.Fatalf("method %q, exact %v", res.Method, res.Exact)
		}
		sum += recall(res.Hits, bruteKNN(all, 64, q, 10, nil))
	}
	return sum / float64(queries)
}

// TestIVFIndex builds the IVF kind through ingest and checks what the
// store promises of it: recall against brute force at the calibrated
// nprobe, filtered searches answered as an exact scan would, the
// manifest's record and info, persistence, and check.
func TestIVFIndex(t *testing.T) {
	if raceEnabled {
		t.Skip("answers, not concurrency: TestSearchesDuringIVFBuild is the race detector's")
	}
	d, all, srcs := ivfStore(t, 2, 6000, &Options{ExactUpTo: -1})
	ctx := context.Background()
	if _, err := d.Ingest(ctx, srcs, &IngestOptions{Index: IndexOptions{Kind: "ivf", Params: ivfParams}}); err != nil {
		t.Fatal(err)
	}
	m, _ := d.Manifest()
	info := m.FindIndex(query.SpaceImage, "ivf")
	if info == nil || len(m.Indexes) != 1 || info.Rows != 12000 || info.Params["sub"] != 16 || info.Params["lists"] < 64 || info.MemoryBytes <= 0 {
		t.Fatalf("indexes = %+v", m.Indexes)
	}
	c := info.Calibration
	if c == nil || len(c.Image) != 2 || c.Image[0].Ef == 0 || c.Image[0].Lower < CalibrationTarget || c.MaxEffort != 1024 || c.ImageCosts == nil {
		t.Fatalf("calibration = %+v", c)
	}
	// Per row: codes, row numbers, and the centres and codewords spread.
	if per := float64(info.MemoryBytes) / 12000; per > 16+4+30 {
		t.Errorf("%.1f bytes a row in memory", per)
	}
	if r := ivfRecall(t, d, all, 200); r < 0.97 {
		t.Errorf("recall@10 at the calibrated nprobe %d = %.3f", c.Image[0].Ef, r)
	}

	// Selective filters: the lists read hold fewer than k allowed rows,
	// so the index answers with an exact scan; or they hold enough, and
	// the answer is still the exact one for these few rows.
	for _, step := range []uint32{997, 301, 97} {
		allow := vector.NewBitset(12000)
		for r := uint32(5); r < 12000; r += step {
			allow.Set(r)
		}
		for _, qr := range []int{100, 5000, 11000} {
			q := all[qr*64 : (qr+1)*64]
			want := bruteKNN(all, 64, q, 10, allow)
			for _, req := range []engine.SearchRequest{
				{Vec: q, K: 10, Allow: allow, IndexKind: "ivf", Image: true},
				{Vec: q, K: 10, Allow: allow, Image: true},
				{Vec: q, K: 10, Allow: allow, Exact: true},
			} {
				res, err := d.Search(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				if recall(res.Hits, want) != 1 || len(res.Hits) != len(want) {
					t.Errorf("every %d rows, query %d, forced %q: recall %.2f, method %q", step, qr, req.IndexKind, recall(res.Hits, want), res.Method)
				}
			}
		}
	}

	// The plan says which index answered and how.
	res, err := d.Query(ctx, "knn(row(42), 10)", &engine.Options{IndexKind: "ivf"})
	if err != nil || !strings.Contains(res.Plan, "ivf search, nprobe=") || !strings.Contains(res.Plan, "calibrated: recall@10") {
		t.Errorf("plan: %v\n%s", err, res.Plan)
	}
	// The planner prices the nprobe the search runs at, whatever k.
	for i, k := range []int{10, 100} {
		res, err := d.Search(ctx, engine.SearchRequest{Vec: all[4200*64 : 4201*64], K: k, Image: true})
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprint(c.Image[i].Ef)
		if m := regexp.MustCompile(`at nprobe (\d+) ≈`).FindStringSubmatch(res.Method); m == nil || m[1] != want {
			t.Errorf("k %d: the plan prices another nprobe than the calibrated %s: %q", k, want, res.Method)
		}
	}
	// Asking for a kind the store lacks is an error, not a scan.
	if _, err := d.Search(ctx, engine.SearchRequest{Vec: all[:64], K: 10, IndexKind: "hnsw"}); !errors.Is(err, ErrNoIndex) || !strings.Contains(err.Error(), "--kind hnsw") {
		t.Errorf("hnsw asked of a store without one: %v", err)
	}
	in, err := d.Info()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	in.WriteText(&b)
	for _, want := range []string{"IVF over the 12000 image vectors", "16-byte codes", "bytes a vector in memory", "default nprobe  image queries: k 10 nprobe "} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("info lacks %q:\n%s", want, b.String())
		}
	}

	// Reopened, the index answers the same.
	q := all[777*64 : 778*64]
	before, _ := d.Search(ctx, engine.SearchRequest{Vec: q, K: 10, IndexKind: "ivf", Image: true})
	dir := d.dir
	d.Close()
	var warned []string
	d2, err := Open(dir, &Options{ExactUpTo: -1, Warn: func(s string) { warned = append(warned, s) }})
	if err != nil {
		t.Fatal(err)
	}
	after, err := d2.Search(ctx, engine.SearchRequest{Vec: q, K: 10, IndexKind: "ivf", Image: true})
	if err != nil || len(warned) > 0 || !sameHits(before.Hits, after.Hits) || before.Method != after.Method {
		t.Errorf("after reopening: %v %v\n%+v\n%+v", err, warned, before, after)
	}
	if r, err := d2.Check(ctx); err != nil || !r.OK() {
		t.Fatalf("check: %v %+v", err, r)
	}
	d2.Close()

	// A flipped byte in a list's codes: the store opens (a list is
	// checked when first read), check names the file, and a search that
	// reads the list answers by an exact scan and says why.
	path := filepath.Join(dir, "vectors", "img.ivf")
	good, _ := os.ReadFile(path)
	b2 := append([]byte(nil), good...)
	b2[len(b2)-1] ^= 0x40
	if err := os.WriteFile(path, b2, 0o644); err != nil {
		t.Fatal(err)
	}
	warned = nil
	d4, err := Open(dir, &Options{ExactUpTo: -1, Warn: func(s string) { warned = append(warned, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(warned) != 0 {
		t.Errorf("warnings: %q", warned)
	}
	if r, err := d4.Check(ctx); err != nil || r.OK() || !strings.Contains(r.Problems[0].Where, "img.ivf") || !strings.Contains(r.Problems[0].What, "checksum") {
		t.Errorf("check of a damaged list: %v %+v", err, r)
	}
	exact, err := d4.Search(ctx, engine.SearchRequest{Vec: q, K: 10, Image: true, Exact: true})
	if err != nil {
		t.Fatal(err)
	}
	res4, err := d4.Search(ctx, engine.SearchRequest{Vec: q, K: 10, Image: true, IndexKind: "ivf", Ef: 1 << 20})
	if err != nil || !res4.Exact || !strings.Contains(res4.Method, "the ivf index failed a check while searching") ||
		!strings.Contains(res4.Method, "--kind ivf --rebuild") || !sameHits(res4.Hits, exact.Hits) {
		t.Errorf("search reading a damaged list: %v %+v", err, res4)
	}
	d4.Close()

	// A flipped byte in the centres: the index is unusable from the
	// open, check names the file, searches scan and say so.
	b2 = append([]byte(nil), good...)
	b2[100] ^= 0x40
	if err := os.WriteFile(path, b2, 0o644); err != nil {
		t.Fatal(err)
	}
	warned = nil
	d3, err := Open(dir, &Options{ExactUpTo: -1, Warn: func(s string) { warned = append(warned, s) }})
	if err != nil {
		t.Fatal(err)
	}
	defer d3.Close()
	if len(warned) != 1 || !strings.Contains(warned[0], "ivf index") || !strings.Contains(warned[0], "--kind ivf --rebuild") {
		t.Errorf("warnings: %q", warned)
	}
	r, err := d3.Check(ctx)
	if err != nil || r.OK() || !strings.Contains(r.Problems[0].Where, "img.ivf") || !strings.Contains(r.Problems[0].What, "corrupt") {
		t.Errorf("check of a damaged file: %v %+v", err, r)
	}
	res2, err := d3.Search(ctx, engine.SearchRequest{Vec: q, K: 10, Image: true})
	if err != nil || !res2.Exact || !strings.Contains(res2.Method, "the ivf index is unusable") {
		t.Errorf("search with a damaged index: %v %+v", err, res2)
	}
	if err := d3.BuildIndex(ctx, &IndexOptions{Kind: "ivf", Params: ivfParams}); err != nil {
		t.Fatal(err)
	}
	if r, _ := d3.Check(ctx); !r.OK() {
		t.Errorf("check after the rebuild: %+v", r)
	}
}

// sameHits reports whether two answers are the same rows with the same
// scores in the same order.
func sameHits(a, b []engine.Hit) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestIVFIncremental: rows ingested after the first build are coded with
// its lists and codewords, at a recall close to that of an index trained
// on all the rows (the rebuild, which is the retraining command).
func TestIVFIncremental(t *testing.T) {
	if raceEnabled {
		t.Skip("answers, not concurrency: TestSearchesDuringIVFBuild is the race detector's")
	}
	d, all, srcs := ivfStore(t, 3, 5000, &Options{ExactUpTo: -1})
	ctx := context.Background()
	opts := &IngestOptions{Index: IndexOptions{Kind: "ivf", Params: ivfParams}}
	for i := range srcs {
		if _, err := d.Ingest(ctx, srcs[i:i+1], opts); err != nil {
			t.Fatal(err)
		}
	}
	m, _ := d.Manifest()
	info := *m.FindIndex(query.SpaceImage, "ivf")
	if info.Rows != 15000 || info.Params["lists"] != 256 {
		t.Fatalf("after three ingests: %+v", info)
	}
	inc := ivfRecall(t, d, all, 300)
	if err := d.BuildIndex(ctx, &IndexOptions{Kind: "ivf", Params: ivfParams, Rebuild: true}); err != nil {
		t.Fatal(err)
	}
	m, _ = d.Manifest()
	fresh := ivfRecall(t, d, all, 300)
	// Trained on 15,000 rows rather than 5,000, the same number of lists
	// (4·√N rounded down to a power of two).
	if got := m.FindIndex(query.SpaceImage, "ivf"); got.Params["lists"] != 256 || got.Rows != 15000 {
		t.Errorf("after the rebuild: %+v", got)
	}
	t.Logf("recall@10 incremental %.4f (nprobe %d), retrained %.4f (nprobe %d)", inc, info.Calibration.Image[0].Ef, fresh, m.FindIndex(query.SpaceImage, "ivf").Calibration.Image[0].Ef)
	if inc < fresh-0.02 || inc < 0.97 {
		t.Errorf("recall@10 incremental %.4f, retrained %.4f", inc, fresh)
	}
}

// TestIndexKindsTogether: a store with an HNSW graph and an IVF index over
// the same embeddings; the planner picks one by the costs each build
// measured and says why it passed the other over; each can be forced, and
// dropped.
func TestIndexKindsTogether(t *testing.T) {
	if raceEnabled {
		t.Skip("answers, not concurrency: TestSearchesDuringIVFBuild is the race detector's")
	}
	d, all, srcs := ivfStore(t, 2, 6000, &Options{ExactUpTo: -1})
	ctx := context.Background()
	if _, err := d.Ingest(ctx, srcs, &IngestOptions{Index: IndexOptions{EfConstruction: 100}}); err != nil {
		t.Fatal(err)
	}
	if err := d.BuildIndex(ctx, &IndexOptions{Kind: "ivf", Params: ivfParams}); err != nil {
		t.Fatal(err)
	}
	m, _ := d.Manifest()
	if len(m.Indexes) != 2 || m.Indexes[0].Kind != "hnsw" || m.Indexes[1].Kind != "ivf" {
		t.Fatalf("indexes: %+v", m.Indexes)
	}
	q := all[321*64 : 322*64]
	res, err := d.Search(ctx, engine.SearchRequest{Vec: q, K: 10, Image: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Method, "index was passed over") && !strings.Contains(res.Method, "exact scan") {
		t.Errorf("the planner's choice does not say why: %q", res.Method)
	}
	for kind, want := range map[string]string{"hnsw": "hnsw graph search", "ivf": "ivf search"} {
		res, err := d.Search(ctx, engine.SearchRequest{Vec: q, K: 10, Image: true, IndexKind: kind})
		if err != nil || !strings.HasPrefix(res.Method, want) {
			t.Errorf("forced %s: %v %q", kind, err, res.Method)
		}
	}
	// --ef tunes the index it names, and only that one.
	res, err = d.Search(ctx, engine.SearchRequest{Vec: q, K: 10, Image: true, IndexKind: "ivf", Ef: 3})
	if err != nil || !strings.HasPrefix(res.Method, "ivf search, nprobe=3:") {
		t.Errorf("ivf at nprobe 3: %v %q", err, res.Method)
	}
	// Options.IndexMemory: indexes load smallest first while they fit;
	// searches say why one is not used.
	var ivfBytes, hnswBytes int64
	for _, ix := range m.Indexes {
		if ix.Kind == "ivf" {
			ivfBytes = ix.MemoryBytes
		} else {
			hnswBytes = ix.MemoryBytes
		}
	}
	if ivfBytes <= 0 || hnswBytes <= ivfBytes {
		t.Fatalf("memory: ivf %d, hnsw %d bytes", ivfBytes, hnswBytes)
	}
	for _, tc := range []struct {
		bound     int64
		method    string // of an unforced search
		warned    int
		hnsw, ivf string // of forced searches: method prefix, or error text
	}{
		{-1, "", 0, "hnsw graph search", "ivf search"},
		{hnswBytes + ivfBytes, "", 0, "hnsw graph search", "ivf search"},
		{hnswBytes + ivfBytes - 1, "the hnsw index was passed over (not loaded: over the memory for indexes: it holds", 1, "the hnsw index is not loaded", "ivf search"},
		{ivfBytes - 1, "the ivf index is not loaded: over the memory for indexes", 2, "the hnsw index is not loaded", "the ivf index is not loaded"},
	} {
		var warned []string
		r, err := Open(d.dir, &Options{ReadOnly: true, ExactUpTo: -1, IndexMemory: tc.bound, Warn: func(s string) { warned = append(warned, s) }})
		if err != nil {
			t.Fatal(err)
		}
		// An index is asked for (Index), not which: the store picks the
		// kind, and says why it passes one over. (Unasked, the planner may
		// find the scan faster by the costs measured on a busy machine,
		// and then names no index.) With none loaded the store scans, and
		// says why.
		res, err := r.Search(ctx, engine.SearchRequest{Vec: q, K: 10, Image: true, Index: tc.warned < 2})
		if err != nil || !strings.Contains(res.Method, tc.method) || len(warned) != tc.warned {
			t.Errorf("bound %d: %v %q, warned %q", tc.bound, err, res.Method, warned)
		}
		for kind, want := range map[string]string{"hnsw": tc.hnsw, "ivf": tc.ivf} {
			res, err := r.Search(ctx, engine.SearchRequest{Vec: q, K: 10, Image: true, IndexKind: kind})
			if err != nil && !errors.Is(err, ErrNoIndex) || err == nil && !strings.HasPrefix(res.Method, want) || err != nil && !strings.Contains(err.Error(), want) {
				t.Errorf("bound %d, forced %s: %v %q, want %q", tc.bound, kind, err, res.Method, want)
			}
		}
		r.Close()
	}

	// An ingest brings both up to date.
	emb, err := demodata.EmbeddingFolder(filepath.Join(t.TempDir(), "more"), demodata.Config{Seed: 34, Parts: 1, Rows: 1000, Dim: 64, NoText: true})
	if err != nil {
		t.Fatal(err)
	}
	more, _ := ExpandPaths([]string{emb.Dir})
	// With the HNSW left unloaded by the memory bound: the ingest loads
	// it and adds the new rows, rather than building it again.
	dir := d.dir
	d.Close()
	d, err = Open(dir, &Options{ExactUpTo: -1, IndexMemory: hnswBytes + ivfBytes - 1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	most := int64(0)
	if _, err := d.Ingest(ctx, more, &IngestOptions{Index: IndexOptions{Progress: func(_, total int64) { most = max(most, total) }}}); err != nil {
		t.Fatal(err)
	}
	if most != 1000 {
		t.Errorf("the index builds of the ingest added up to %d rows, want the 1000 new ones", most)
	}
	if res, err := d.Search(ctx, engine.SearchRequest{Vec: q, K: 10, Image: true, IndexKind: "hnsw"}); err != nil || !strings.HasPrefix(res.Method, "hnsw graph search") {
		t.Errorf("the hnsw index after the ingest loaded it: %v %q", err, res.Method)
	}
	m, _ = d.Manifest()
	for _, ix := range m.Indexes {
		if ix.Rows != 13000 {
			t.Errorf("after an ingest, the %s index covers %d rows", ix.Kind, ix.Rows)
		}
	}
	if err := d.BuildIndex(ctx, &IndexOptions{Kind: "ivf", Drop: true}); err != nil {
		t.Fatal(err)
	}
	m, _ = d.Manifest()
	if len(m.Indexes) != 1 || m.Indexes[0].Kind != "hnsw" {
		t.Errorf("after dropping ivf: %+v", m.Indexes)
	}
	if _, err := os.Stat(filepath.Join(d.dir, "vectors", "img.ivf")); !os.IsNotExist(err) {
		t.Errorf("the dropped index's file: %v", err)
	}
	if _, err := d.Search(ctx, engine.SearchRequest{Vec: q, K: 10, IndexKind: "ivf"}); !errors.Is(err, ErrNoIndex) {
		t.Errorf("forced ivf after the drop: %v", err)
	}
	if r, err := d.Check(ctx); err != nil || !r.OK() {
		t.Errorf("check after the drop: %v %+v", err, r)
	}
	if err := d.BuildIndex(ctx, &IndexOptions{Kind: "nope"}); err == nil || !strings.Contains(err.Error(), "hnsw, ivf") {
		t.Errorf("unknown kind: %v", err)
	}
}

// TestSearchesDuringIVFBuild searches from several goroutines while an
// ingest adds rows to the IVF index and checkpoints it; run with -race.
func TestSearchesDuringIVFBuild(t *testing.T) {
	d, all, srcs := ivfStore(t, 3, 3000, &Options{ExactUpTo: -1})
	ctx := context.Background()
	opts := &IngestOptions{Index: IndexOptions{Kind: "ivf", Params: ivfParams, CheckpointEvery: time.Nanosecond}}
	if _, err := d.Ingest(ctx, srcs[:1], opts); err != nil {
		t.Fatal(err)
	}
	defer func(n int) { checkpointRows = n }(checkpointRows)
	checkpointRows = 500
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r := (g*1000 + i*37) % 3000
				res, err := d.Search(ctx, engine.SearchRequest{Vec: all[r*64 : (r+1)*64], K: 5, Image: true, IndexKind: "ivf"})
				if err == nil && (len(res.Hits) != 5 || res.Hits[0].Row != uint32(r)) {
					err = fmt.Errorf("query row %d: %+v", r, res.Hits)
				}
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	_, err := d.Ingest(ctx, srcs[1:], opts)
	close(stop)
	wg.Wait()
	close(errc)
	if err != nil {
		t.Fatal(err)
	}
	for err := range errc {
		t.Error(err)
	}
	if m, _ := d.Manifest(); m.FindIndex(query.SpaceImage, "ivf").Rows != 9000 {
		t.Errorf("indexed rows: %+v", m.Indexes)
	}
}

// TestKillDuringIVFBuild kills an IVF index build in a child process at
// random moments. The store must open and check clean every time, with
// the index absent, recorded as building at a checkpoint, or whole; the
// builds that follow resume from the checkpoint, and the file they end
// with is byte for byte the one an uninterrupted build writes.
func TestKillDuringIVFBuild(t *testing.T) {
	if os.Getenv("LAIONDB_KILL_CHILD") != "" {
		t.Skip("child")
	}
	if raceEnabled {
		t.Skip("crash safety is tested without the race detector")
	}
	ctx := context.Background()
	d, _, srcs := ivfStore(t, 4, 6000, nil)
	if _, err := d.Ingest(ctx, srcs, &IngestOptions{NoIndex: true}); err != nil {
		t.Fatal(err)
	}
	store := d.dir
	d.Close()
	// The reference: the same rows, built without interruption.
	ref := openTest(t, filepath.Join(t.TempDir(), "ref"))
	if _, err := ref.Ingest(ctx, srcs, &IngestOptions{NoIndex: true}); err != nil {
		t.Fatal(err)
	}
	if err := ref.BuildIndex(ctx, &IndexOptions{Kind: "ivf", Params: ivfParams}); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(ref.dir, "vectors", "img.ivf"))
	if err != nil {
		t.Fatal(err)
	}

	r := rand.New(rand.NewPCG(17, 17))
	resumed := 0
	for k := 0; k < 8; k++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestIVFBuildChild$", "-test.v")
		cmd.Env = append(os.Environ(), "LAIONDB_KILL_CHILD=1", "LAIONDB_KILL_STORE="+store)
		before, _ := os.ReadFile(filepath.Join(store, manifestName))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		if k%2 == 0 {
			// Anywhere: start-up, training, adding, calibrating.
			time.Sleep(time.Duration(20+r.IntN(1500)) * time.Millisecond)
		} else {
			// After a checkpoint this child wrote.
		wait:
			for {
				select {
				case <-exited:
					break wait
				case <-time.After(time.Millisecond):
				}
				b, _ := os.ReadFile(filepath.Join(store, manifestName))
				if !bytes.Equal(b, before) && bytes.Contains(b, []byte(`"building": true`)) {
					break
				}
			}
			time.Sleep(time.Duration(r.IntN(30)) * time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		d, err := Open(store, nil)
		if err != nil {
			t.Fatalf("kill %d: reopen: %v", k, err)
		}
		rep, err := d.Check(ctx)
		if err != nil || !rep.OK() {
			t.Fatalf("kill %d: check: %v %v", k, rep.Problems, err)
		}
		m, _ := d.Manifest()
		state := "no index"
		if ix := m.FindIndex(query.SpaceImage, "ivf"); ix != nil {
			state = fmt.Sprintf("%d rows, building %v", ix.Rows, ix.Building)
			if ix.Building {
				resumed++
				if ix.Rows%1000 != 0 || ix.Rows == 0 {
					t.Fatalf("kill %d: checkpoint at %d rows", k, ix.Rows)
				}
				res, err := d.Search(ctx, engine.SearchRequest{Vec: make([]float32, 64), K: 3})
				if err != nil || !res.Exact {
					t.Errorf("kill %d: a search with the index being built: %v %+v", k, err, res)
				}
			}
		}
		t.Logf("kill %d: %s", k, state)
		if ix := m.FindIndex(query.SpaceImage, "ivf"); ix != nil && !ix.Building {
			// Finished before the kill: start over, so that later kills
			// land mid-build.
			if err := d.BuildIndex(ctx, &IndexOptions{Kind: "ivf", Drop: true}); err != nil {
				t.Fatal(err)
			}
		}
		d.Close()
	}
	d = openTest(t, store)
	if err := d.BuildIndex(ctx, &IndexOptions{Kind: "ivf", Params: ivfParams}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(store, "vectors", "img.ivf"))
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("the resumed build's file differs from an uninterrupted build's (%d and %d bytes, %v)", len(got), len(want), err)
	}
	if m, _ := d.Manifest(); m.FindIndex(query.SpaceImage, "ivf").Building {
		t.Error("still building")
	}
	t.Logf("%d kills landed between checkpoints of a build", resumed)
	if resumed == 0 {
		t.Error("no kill landed between two checkpoints: the resumption was not tested")
	}
}

// TestIVFBuildChild is the child of TestKillDuringIVFBuild: an IVF build
// that checkpoints every 1,000 rows.
func TestIVFBuildChild(t *testing.T) {
	store := os.Getenv("LAIONDB_KILL_STORE")
	if os.Getenv("LAIONDB_KILL_CHILD") == "" || store == "" {
		t.Skip("run by TestKillDuringIVFBuild")
	}
	checkpointRows = 1000
	d, err := Open(store, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.BuildIndex(context.Background(), &IndexOptions{Kind: "ivf", Params: ivfParams, CheckpointEvery: time.Nanosecond}); err != nil {
		t.Fatal(err)
	}
	d.Close()
}
