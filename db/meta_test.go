package db

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/demodata"
	"github.com/laiondb/laiondb/engine"
)

func TestMergeRun(t *testing.T) {
	g := func(rows ...int64) []metaGroup {
		var gs []metaGroup
		for i, r := range rows {
			gs = append(gs, metaGroup{name: newMetaName(uint32(i)), first: i, last: i, rows: r})
		}
		return gs
	}
	for _, c := range []struct {
		rows []int64
		want int // groups merged, 0: none
	}{
		{nil, 0},
		{[]int64{5}, 0},
		{[]int64{1, 1}, 2},
		{[]int64{4, 1}, 0},
		{[]int64{4, 2, 1}, 0},
		{[]int64{4, 2, 1, 1}, 4}, // 1+1 >= 2, 2+2 >= 4: a binary counter carries
		{[]int64{8, 1, 1, 1}, 3},
		{[]int64{3, 1, 1, 1}, 4},
	} {
		run := mergeRun(g(c.rows...))
		if len(run) != c.want {
			t.Errorf("mergeRun(%v) merges %d groups, want %d", c.rows, len(run), c.want)
		}
	}
	// badger/ of a format-1 store is never merged.
	gs := g(1, 1)
	gs[0].name = legacyMeta
	if run := mergeRun(gs); run != nil {
		t.Errorf("merged the legacy database: %v", run)
	}
}

// metaDirs lists the databases under meta/.
func metaDirs(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, metaDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

// TestSegmentDatabases: an ingest of several files ends with their blocks
// in one database; the per-file ones are removed when the writer closes,
// except one a reader in another process still has open, which stays
// readable and goes at the next writer's open.
func TestSegmentDatabases(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	paths, _, err := demodata.LAION400M(filepath.Join(tmp, "parts"), demodata.Config{Seed: 2, Parts: 6, Rows: 700})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "store")
	ingest := func(d *DB, ps ...string) {
		t.Helper()
		srcs, err := ExpandPaths(ps)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Ingest(ctx, srcs, nil); err != nil {
			t.Fatal(err)
		}
	}
	count := func(d *DB, q string) int {
		t.Helper()
		res, err := d.Query(ctx, q, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.Selected
	}
	const q = "all where text contains 'desi' and nsfw = 'UNLIKELY'"

	d, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ingest(d, paths[:3]...)
	want3 := count(d, q)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if got := metaDirs(t, dir); !slices.Equal(got, []string{"s00000000-00000002"}) {
		t.Fatalf("after one ingest of 3 files: %v", got)
	}

	// Files ingested one at a time: sizes as in a binary counter.
	d, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ingest(d, paths[3])
	if got := metaDirs(t, dir); len(got) != 2 {
		t.Fatalf("3 rows-groups + 1: %v", got)
	}
	// A reader in another process (here: another open) opens the store
	// while the writer has it: it sees 4 files and keeps their databases.
	r, err := Open(dir, &Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("reader while a writer has the store: %v", err)
	}
	want4 := count(r, q)
	ingest(d, paths[4]) // 3 + 1 + 1: the two singles merge
	ingest(d, paths[5]) // 3 + 2 + 1
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	got := metaDirs(t, dir)
	if !slices.Contains(got, "s00000003") {
		t.Errorf("the reader's database was removed under it: %v", got)
	}
	if c := count(r, q); c != want4 {
		t.Errorf("reader after the writer merged: %d, want %d", c, want4)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	d, err = Open(dir, nil) // the next writer removes what no one reads
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	m, _ := d.Manifest()
	var listed []string
	for _, s := range m.Segments {
		if !slices.Contains(listed, strings.TrimPrefix(s.Meta, metaDir+"/")) {
			listed = append(listed, strings.TrimPrefix(s.Meta, metaDir+"/"))
		}
	}
	if got := metaDirs(t, dir); !slices.Equal(got, listed) || len(got) != 3 {
		t.Errorf("databases %v, manifest lists %v (want 3: 3+2+1 files)", got, listed)
	}
	// Every row reads, and the counts agree with a store made in one go.
	one := openTest(t, filepath.Join(tmp, "one"))
	ingest(one, paths...)
	if a, b := count(d, q), count(one, q); a != b || a <= want3 {
		t.Errorf("merged store counts %d, store of one ingest %d (first 3 files: %d)", a, b, want3)
	}
	if a, b := count(d, "all where url contains 'hot' by nsfw"), count(one, "all where url contains 'hot' by nsfw"); a != b {
		t.Errorf("url counts: %d vs %d", a, b)
	}
	if d.Fingerprint() != one.Fingerprint() {
		t.Errorf("fingerprints differ: %s vs %s", d.Fingerprint(), one.Fingerprint())
	}
	rep, err := d.Check(ctx)
	if err != nil || !rep.OK() {
		t.Errorf("check: %+v %v", rep, err)
	}
}

// copyTree copies a directory tree.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestFormat1Store opens testdata/store-v1, a store written by the format-1
// code (all segments in badger/; see testdata/store-v1/README), reads it,
// then ingests into it: the new segment goes to meta/, the old ones stay
// where they are, and every answer equals a store made by today's code
// from the same files.
func TestFormat1Store(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "v1")
	copyTree(t, filepath.Join("testdata", "store-v1"), dir)
	os.Remove(filepath.Join(dir, "README"))
	// The same files, generated again (the generator is pinned by seed).
	if _, _, err := demodata.LAION400M(filepath.Join(tmp, "parts"), demodata.Config{Seed: 21, Parts: 2, Rows: 300}); err != nil {
		t.Fatal(err)
	}
	if _, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 21, Parts: 1, Rows: 200, Dim: 16}); err != nil {
		t.Fatal(err)
	}
	more, _, err := demodata.LAION400M(filepath.Join(tmp, "more"), demodata.Config{Seed: 22, Parts: 3, Rows: 250})
	if err != nil {
		t.Fatal(err)
	}
	queries := []string{
		"all where text contains 'desi' by nsfw",
		"all where nsfw = 'UNLIKELY' and similarity >= 0.3",
		"knn(row(5), 20) where nsfw != 'NSFW'",
		"within(row(7), 0.2)",
		"all where pair_cos >= 0.25 by nsfw",
		"knn(row(5).text, 10) in text",
	}
	answers := func(d *DB) []string {
		t.Helper()
		var out []string
		for _, q := range queries {
			res, err := d.Query(ctx, q, &engine.Options{Rows: 5})
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			// The fingerprints differ: parquet-go writes its version
			// into the files it makes, from the build information that
			// a test binary lacks.
			res.Plan, res.Fingerprint = "", ""
			for i := range res.Rows {
				res.Rows[i].File = filepath.Base(res.Rows[i].File)
			}
			b, err := json.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, string(b))
		}
		return out
	}
	fresh := openTest(t, filepath.Join(tmp, "fresh"))
	ingestPaths(t, fresh, filepath.Join(tmp, "emb"), filepath.Join(tmp, "parts"))

	r, err := Open(dir, &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := r.Manifest(); m.FormatVersion != 1 || len(m.Segments) != 3 || m.Segments[0].Meta != "" {
		t.Fatalf("not the format-1 fixture: version %d, %d segments", m.FormatVersion, len(m.Segments))
	}
	if got, want := answers(r), answers(fresh); !slices.Equal(got, want) {
		t.Errorf("format-1 store answers\n%v\nwant\n%v", got, want)
	}
	// The fingerprint the format-1 code gave this store (testdata/store-v1/README).
	if fp := r.Fingerprint(); fp != "7eb829d2d9135815" {
		t.Errorf("fingerprint %s, the format-1 code's 7eb829d2d9135815", fp)
	}
	r.Close()

	w := openTest(t, dir)
	ingestPaths(t, w, more[2]) // part-00002: a name the store does not have
	ingestPaths(t, fresh, more[2])
	m, _ := w.Manifest()
	if m.FormatVersion != FormatVersion || m.Segments[0].Meta != "" || m.Segments[3].Meta != newMetaName(3) {
		t.Errorf("after an ingest: version %d, metas %q %q", m.FormatVersion, m.Segments[0].Meta, m.Segments[3].Meta)
	}
	if got, want := answers(w), answers(fresh); !slices.Equal(got, want) {
		t.Errorf("format-1 store + 1 file answers\n%v\nwant\n%v", got, want)
	}
	if rep, err := w.Check(ctx); err != nil || !rep.OK() {
		t.Errorf("check: %+v %v", rep, err)
	}
}
