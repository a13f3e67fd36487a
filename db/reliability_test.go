package db

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/laiondb/laiondb/demodata"
	"github.com/laiondb/laiondb/internal/npy"
	"github.com/laiondb/laiondb/table"
)

var update = flag.Bool("update", false, "rewrite golden files")

// storeState captures what a store holds, to check that refused input
// leaves it unchanged.
func storeState(t testing.TB, d *DB) string {
	t.Helper()
	m, err := d.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	s, _ := d.Snapshot()
	var ids, texts int
	var mu sync.Mutex
	err = s.Scan(context.Background(), []string{"sample_id", "text"}, func(b *table.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		ids += b.Len
		texts += len(b.Cols["text"].Str.Data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("rows=%d segs=%d next=%d fp=%s scanned=%d textbytes=%d", m.Rows, len(m.Segments), m.NextSegment, m.fingerprint(), ids, texts)
}

func TestBadInputLeavesStoreUnchanged(t *testing.T) {
	tmp := t.TempDir()
	emb, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 5, Parts: 1, Rows: 400, Dim: 32})
	if err != nil {
		t.Fatal(err)
	}
	d := openTest(t, filepath.Join(tmp, "store"))
	ingestPaths(t, d, emb.Dir)
	before := storeState(t, d)
	meta := filepath.Join(emb.Dir, "metadata", "metadata_0.parquet")
	good, _ := os.ReadFile(meta)

	write := func(name string, b []byte) string {
		p := filepath.Join(tmp, "bad", name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	npyWith := func(name string, rows, cols int, fill func(i int) float32) string {
		v := make([]float32, rows*cols)
		for i := range v {
			v[i] = fill(i)
		}
		p := filepath.Join(tmp, "bad", name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := npy.WriteFloat32(p, v, cols); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Another metadata file with 400 rows, so that npy files pair with it.
	rows := demodata.Rows(9, 0, 400, nil)
	meta400 := filepath.Join(tmp, "bad", "meta400.parquet")
	os.MkdirAll(filepath.Dir(meta400), 0o755)
	if err := demodata.WriteParquet(meta400, "clip-retrieval", rows); err != nil {
		t.Fatal(err)
	}
	unit := func(i int) float32 {
		if i%32 == 0 {
			return 1
		}
		return 0
	}
	lying := npyWith("lying.npy", 400, 32, unit)
	b, _ := os.ReadFile(lying)
	b = []byte(strings.Replace(string(b), "(400, 32)", "(500, 32)", 1))
	lying = write("lying.npy", b)
	f64hdr := npyWith("f64.npy", 400, 32, unit)
	b, _ = os.ReadFile(f64hdr)
	b = []byte(strings.Replace(string(b), "'<f4'", "'<f8'", 1))
	f64hdr = write("f64.npy", b)
	fortran := npyWith("fortran.npy", 400, 32, unit)
	b, _ = os.ReadFile(fortran)
	b = []byte(strings.Replace(string(b), "False", "True ", 1))
	fortran = write("fortran.npy", b)

	cases := []struct {
		name    string
		src     Source
		wantErr error
		msg     []string
	}{
		{"not parquet", Source{Metadata: write("junk.parquet", []byte("this is not parquet at all, just text"))}, ErrBadInput, []string{"junk.parquet", "not a readable parquet"}},
		{"empty file", Source{Metadata: write("empty.parquet", nil)}, ErrBadInput, []string{"empty.parquet"}},
		{"truncated parquet", Source{Metadata: write("trunc.parquet", good[:len(good)/2])}, ErrBadInput, []string{"trunc.parquet"}},
		{"truncated parquet tail", Source{Metadata: write("trunc2.parquet", append(append([]byte{}, good[:len(good)-40]...), good[len(good)-8:]...))}, ErrBadInput, []string{"trunc2.parquet"}},
		{"npy shape lies", Source{Metadata: meta400, ImageEmb: lying}, ErrBadInput, []string{"lying.npy", "(500, 32)"}},
		{"npy dtype", Source{Metadata: meta400, ImageEmb: f64hdr}, ErrBadInput, []string{"f64.npy", "<f8"}},
		{"npy fortran order", Source{Metadata: meta400, ImageEmb: fortran}, ErrBadInput, []string{"fortran.npy", "fortran"}},
		{"row counts differ", Source{Metadata: meta400, ImageEmb: npyWith("399.npy", 399, 32, unit)}, ErrBadInput, []string{"399.npy", "399 rows", "meta400.parquet", "400"}},
		{"dimension differs", Source{Metadata: meta400, ImageEmb: npyWith("d64.npy", 400, 64, unit)}, ErrDimension, []string{"d64.npy", "64", "32"}},
		{"NaN in vector", Source{Metadata: meta400, ImageEmb: npyWith("nan.npy", 400, 32, func(i int) float32 {
			if i == 397*32+5 {
				return float32(math.NaN())
			}
			return unit(i)
		})}, ErrBadInput, []string{"nan.npy", "row 397", "element 5", "NaN"}},
		{"Inf in vector", Source{Metadata: meta400, ImageEmb: npyWith("inf.npy", 400, 32, func(i int) float32 {
			if i == 12*32 {
				return float32(math.Inf(1))
			}
			return unit(i)
		})}, ErrBadInput, []string{"inf.npy", "row 12", "+Inf"}},
		{"zero vector", Source{Metadata: meta400, ImageEmb: npyWith("zero.npy", 400, 32, func(i int) float32 {
			if i/32 == 250 {
				return 0
			}
			return unit(i)
		})}, ErrBadInput, []string{"zero.npy", "row 250"}},
		{"text without image", Source{Metadata: meta400, TextEmb: npyWith("t.npy", 400, 32, unit)}, ErrBadInput, []string{"t.npy"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := d.Ingest(context.Background(), []Source{c.src}, nil)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
			for _, m := range c.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			if got := storeState(t, d); got != before {
				t.Errorf("store changed:\n got %s\nwant %s", got, before)
			}
		})
	}
	// The store still takes good input afterwards, and float16 subnormals
	// survive exactly.
	sub := filepath.Join(tmp, "bad", "sub.npy")
	h := make([]uint16, 400*32)
	for i := range h {
		if i%32 == 0 {
			h[i] = 0x3c00 // 1.0
		} else {
			h[i] = 0x0001 // smallest subnormal
		}
	}
	if err := npy.WriteFloat16(sub, h, 32); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Ingest(context.Background(), []Source{{Metadata: meta400, ImageEmb: sub}}, nil); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(d.Dir(), "vectors", "img.f16"))
	if got := binary.LittleEndian.Uint16(raw[(400*32+1)*2:]); got != 0x0001 {
		t.Errorf("subnormal stored as %#04x", got)
	}
}

func TestCancelledIngestLeavesNothing(t *testing.T) {
	tmp := t.TempDir()
	emb, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 6, Parts: 2, Rows: 3000, Dim: 32})
	if err != nil {
		t.Fatal(err)
	}
	d := openTest(t, filepath.Join(tmp, "store"))
	srcs, _ := ExpandPaths([]string{emb.Dir})
	ctx, cancel := context.WithCancel(context.Background())
	var seen int64
	res, err := d.Ingest(ctx, srcs, &IngestOptions{Progress: func(done, total int64) {
		seen = done
		if done > 4000 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v (progress %d), want context.Canceled", err, seen)
	}
	if len(res) != 1 {
		t.Fatalf("results = %+v, want the first file only", res)
	}
	if in, _ := d.Info(); in.Rows != 3000 {
		t.Fatalf("rows after cancel = %d, want 3000", in.Rows)
	}
	d.Close()
	// Reopen: the half-written second file's keys and vectors are gone.
	d2 := openTest(t, filepath.Join(tmp, "store"))
	if st := storeState(t, d2); !strings.Contains(st, "rows=3000 ") || !strings.Contains(st, "scanned=3000 ") {
		t.Fatalf("after reopen: %s", st)
	}
	if _, err := d2.Ingest(context.Background(), srcs, nil); err != nil {
		t.Fatal(err)
	}
	checkComplete(t, d2, 6000)
}

// checkComplete checks that the store holds exactly n rows, each once.
func checkComplete(t testing.TB, d *DB, n int) {
	t.Helper()
	in, err := d.Info()
	if err != nil {
		t.Fatal(err)
	}
	if in.Rows != int64(n) {
		t.Fatalf("rows = %d, want %d", in.Rows, n)
	}
	s, _ := d.Snapshot()
	seen := map[string]int{}
	var mu sync.Mutex
	err = s.Scan(context.Background(), []string{"key", "url"}, func(b *table.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		for i := 0; i < b.Len; i++ {
			seen[string(b.Cols["key"].Str.At(i))]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Fatalf("distinct keys = %d, want %d", len(seen), n)
	}
	for k, c := range seen {
		if c != 1 {
			t.Fatalf("key %s appears %d times", k, c)
		}
	}
	st, err := os.Stat(filepath.Join(d.Dir(), "vectors", "img.f16"))
	if err != nil || st.Size() != int64(n)*int64(in.Vectors.Dim)*2 {
		t.Fatalf("vector file: %v, size %d", err, st.Size())
	}
}

// TestKillDuringIngest starts ingests in a child process and kills it with
// SIGKILL at random moments; every time, the store must open with only
// whole files, and a re-run must complete it without duplicates.
func TestKillDuringIngest(t *testing.T) {
	if os.Getenv("LAIONDB_KILL_CHILD") != "" {
		t.Skip("child")
	}
	if raceEnabled {
		t.Skip("crash safety is tested without the race detector: a race-instrumented child is too slow to build its index")
	}
	kills := 6
	if testing.Short() {
		kills = 2
	}
	if s := os.Getenv("LAIONDB_KILLS"); s != "" {
		fmt.Sscan(s, &kills)
	}
	tmp := t.TempDir()
	const parts, rows = 4, 4000
	emb, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 7, Parts: parts, Rows: rows, Dim: 64})
	if err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(tmp, "store")
	r := rand.New(rand.NewPCG(7, 7))
	survived := 0
	for k := 0; k < kills; k++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.v")
		cmd.Env = append(os.Environ(), "LAIONDB_KILL_CHILD=1", "LAIONDB_KILL_STORE="+store, "LAIONDB_KILL_SRC="+emb.Dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Half the kills land early (process start, ingest), half late
		// (the end of the ingest, the index build).
		wait := time.Duration(10+r.IntN(250)) * time.Millisecond
		if k%2 == 1 {
			wait = time.Duration(250+r.IntN(1250)) * time.Millisecond
		}
		time.Sleep(wait)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		// What a user runs next is often a read-only query.
		if k%2 == 0 {
			if _, err := os.Stat(filepath.Join(store, manifestName)); err == nil {
				r, err := Open(store, &Options{ReadOnly: true})
				if err != nil {
					t.Fatalf("kill %d: read-only reopen: %v", k, err)
				}
				r.Close()
			}
		}
		d, err := Open(store, nil)
		if err != nil {
			t.Fatalf("kill %d: reopen: %v", k, err)
		}
		in, err := d.Info()
		if err != nil || in.Rows%rows != 0 {
			t.Fatalf("kill %d: rows %d is not whole files (%v)", k, in.Rows, err)
		}
		st := storeState(t, d)
		if !strings.Contains(st, fmt.Sprintf("scanned=%d ", in.Rows)) {
			t.Fatalf("kill %d: %s", k, st)
		}
		rep, err := d.Check(context.Background())
		if err != nil || !rep.OK() {
			t.Fatalf("kill %d: check: %v %v", k, rep.Problems, err)
		}
		m, _ := d.Manifest()
		indexed := int64(0)
		if imageIndex(m) != nil {
			indexed = imageIndex(m).Rows
		}
		d.Close()
		survived++
		t.Logf("kill %d after %v: store opened with %d whole rows, %d indexed", k, wait, in.Rows, indexed)
		if indexed == parts*rows {
			// Finished before the kill: start over so later kills land mid-ingest.
			os.RemoveAll(store)
		}
	}
	d := openTest(t, store)
	srcs, _ := ExpandPaths([]string{emb.Dir})
	if _, err := d.Ingest(context.Background(), srcs, nil); err != nil {
		t.Fatal(err)
	}
	checkComplete(t, d, parts*rows)
	t.Logf("survived %d kills", survived)
}

// TestKillChild is the child of TestKillDuringIngest.
func TestKillChild(t *testing.T) {
	store := os.Getenv("LAIONDB_KILL_STORE")
	if os.Getenv("LAIONDB_KILL_CHILD") == "" || store == "" {
		t.Skip("run by TestKillDuringIngest")
	}
	d, err := Open(store, nil)
	if err != nil {
		t.Fatal(err)
	}
	srcs, _ := ExpandPaths([]string{os.Getenv("LAIONDB_KILL_SRC")})
	if _, err := d.Ingest(context.Background(), srcs, &IngestOptions{Index: IndexOptions{EfConstruction: 40}}); err != nil {
		t.Fatal(err)
	}
	d.Close()
}

func TestLocksAndVersions(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "store")
	d := openTest(t, dir)
	if _, err := Open(dir, nil); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "store is locked") {
		t.Errorf("second writer: %v", err)
	}
	// Readers take no lock: they may open the store while a writer has it.
	r0, err := Open(dir, &Options{ReadOnly: true})
	if err != nil {
		t.Errorf("reader while writer: %v", err)
	} else {
		r0.Close()
	}
	d.Close()
	r1, err := Open(dir, &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := Open(dir, &Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("second reader: %v", err)
	}
	if _, err := r1.Ingest(context.Background(), nil, nil); !errors.Is(err, ErrReadOnly) {
		t.Errorf("ingest on reader: %v", err)
	}
	r1.Close()
	r2.Close()
	// A newer format is refused, naming the version.
	b, _ := os.ReadFile(filepath.Join(dir, manifestName))
	os.WriteFile(filepath.Join(dir, manifestName), []byte(strings.Replace(string(b), fmt.Sprintf(`"format_version": %d`, FormatVersion), `"format_version": 99`, 1)), 0o644)
	if _, err := Open(dir, nil); !errors.Is(err, ErrVersion) || !strings.Contains(err.Error(), "99") {
		t.Errorf("newer format: %v", err)
	}
	// A folder with other files is not taken over.
	other := filepath.Join(tmp, "other")
	os.MkdirAll(other, 0o755)
	os.WriteFile(filepath.Join(other, "notes.txt"), []byte("x"), 0o644)
	if _, err := Open(other, nil); !errors.Is(err, ErrNotStore) {
		t.Errorf("foreign folder: %v", err)
	}
	if _, err := Open(filepath.Join(tmp, "missing"), &Options{ReadOnly: true}); !errors.Is(err, ErrNotStore) {
		t.Errorf("missing store read-only: %v", err)
	}
}

func TestInfoGolden(t *testing.T) {
	tmp := t.TempDir()
	if _, _, err := demodata.LAION400M(filepath.Join(tmp, "parts"), demodata.Config{Seed: 11, Parts: 2, Rows: 1000}); err != nil {
		t.Fatal(err)
	}
	emb, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 11, Parts: 2, Rows: 500, Dim: 16, PadIndex: true})
	if err != nil {
		t.Fatal(err)
	}
	d := openTest(t, filepath.Join(tmp, "store"))
	ingestPaths(t, d, emb.Dir, filepath.Join(tmp, "parts"))
	in, err := d.Info()
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	if err := in.WriteText(&sb); err != nil {
		t.Fatal(err)
	}
	got := strings.ReplaceAll(sb.String(), tmp, "$TMP")
	golden := filepath.Join("testdata", "info.golden")
	if *update {
		os.MkdirAll("testdata", 0o755)
		os.WriteFile(golden, []byte(got), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("info output differs from %s (run with -update to accept):\n%s", golden, got)
	}
}

// A process killed just after Badger created a log file leaves it empty;
// the store must still open, read-write and read-only.
func TestEmptyBadgerLogAfterCrash(t *testing.T) {
	dir := checkStore(t)
	for _, name := range []string{"000099.vlog", "00099.mem"} {
		dbs, _ := filepath.Glob(filepath.Join(dir, metaDir, "s*"))
		if len(dbs) == 0 {
			t.Fatal("no metadata database")
		}
		if err := os.WriteFile(filepath.Join(dbs[0], name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := runCheck(t, dir) // read-only: recovers through a read-write open
	if err != nil || !r.OK() || r.Rows != 600 {
		t.Fatalf("after an empty log: %+v %v", r, err)
	}
}
