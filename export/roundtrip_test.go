package export_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/db"
	"github.com/laiondb/laiondb/demodata"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/export"
	"github.com/laiondb/laiondb/table"
)

// ingest builds a store in dir from the given files or folders.
func ingest(t *testing.T, dir string, paths ...string) *db.DB {
	t.Helper()
	d, err := db.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	srcs, err := db.ExpandPaths(paths)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Ingest(context.Background(), srcs, nil); err != nil {
		t.Fatal(err)
	}
	return d
}

// exportFile exports a query of d to path.
func exportFile(t *testing.T, d *db.DB, q, path string, o *export.Options) *export.Summary {
	t.Helper()
	s, err := d.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	res := run(t, s, q)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := export.Write(context.Background(), s, res, f, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return sum
}

// statistics is what a query reports, without what names the store.
func statistics(t *testing.T, d *db.DB, q string) *engine.Result {
	t.Helper()
	res, err := d.Query(context.Background(), q, nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Fingerprint, res.Plan, res.Selection, res.TotalRows = "", "", nil, 0
	return res
}

// TestRoundTrip: a store's every row, exported to parquet and ingested
// into a new store, gives the new store the same statistics and the same
// column types; pair_cos, which the store computes, is left out unless
// asked for, and the export's own columns come back as ordinary columns.
func TestRoundTrip(t *testing.T) {
	tmp := t.TempDir()
	if _, _, err := demodata.LAION400M(filepath.Join(tmp, "meta"), demodata.Config{Seed: 9, Parts: 2, Rows: 1500}); err != nil {
		t.Fatal(err)
	}
	if _, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 9, Parts: 1, Rows: 1000, Dim: 16}); err != nil {
		t.Fatal(err)
	}
	old := ingest(t, filepath.Join(tmp, "old"), filepath.Join(tmp, "meta"), filepath.Join(tmp, "emb"))
	s, err := old.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	oldCols := s.Columns()
	if i := slices.IndexFunc(oldCols, func(c table.ColumnInfo) bool { return c.Name == "pair_cos" }); i < 0 || !oldCols[i].Computed {
		t.Fatalf("the old store has no computed pair_cos: %+v", oldCols)
	}
	var plain []string // the columns of the dataset
	for _, c := range oldCols {
		if !c.Computed {
			plain = append(plain, c.Name)
		}
	}

	path := filepath.Join(tmp, "all.parquet")
	sum := exportFile(t, old, "all", path, &export.Options{ChunkRows: 1000})
	if sum.Rows != 4000 || sum.NotUTF8 == 0 || slices.ContainsFunc(sum.Columns, func(c export.Column) bool { return c.Name == "pair_cos" }) {
		t.Fatalf("summary: %d rows, %d not UTF-8, columns %+v", sum.Rows, sum.NotUTF8, sum.Columns)
	}
	back := ingest(t, filepath.Join(tmp, "new"), path)
	for _, q := range []string{"all", "all by license", "all where text contains 'desi' by nsfw", "all where any lexicon essay2021"} {
		if a, b := statistics(t, old, q), statistics(t, back, q); !reflect.DeepEqual(a, b) {
			t.Errorf("%s: statistics differ after the round trip:\n old %+v\n new %+v", q, a, b)
		}
	}
	ns, _ := back.Snapshot()
	want := append([]table.ColumnInfo{{Name: "row", Type: table.TypeInt}, {Name: "file", Type: table.TypeString}, {Name: "file_row", Type: table.TypeInt}}, oldCols[:len(plain)]...)
	if got := ns.Columns(); !reflect.DeepEqual(got, want) {
		t.Errorf("columns after the round trip:\n%+v\nwant\n%+v", got, want)
	}
	// Provenance survives: row r of the new store names row r of the old.
	b, err := ns.Fetch(context.Background(), []uint32{0, 3999}, []string{"row", "file", "file_row"})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range []uint32{0, 3999} {
		file, fr := s.Source(r)
		if b.Cols["row"].Int[i] != int64(r) || string(b.Cols["file"].Str.At(i)) != file || b.Cols["file_row"].Int[i] != fr {
			t.Errorf("provenance of row %d: %d %s %d, want %s %d", r, b.Cols["row"].Int[i], b.Cols["file"].Str.At(i), b.Cols["file_row"].Int[i], file, fr)
		}
	}

	// With Columns naming the dataset's columns, the new store has exactly
	// the old one's; pair_cos, asked for, is written, and ingest refuses it.
	path = filepath.Join(tmp, "plain.parquet")
	exportFile(t, old, "all", path, &export.Options{Columns: plain})
	back2 := ingest(t, filepath.Join(tmp, "new2"), path)
	ns2, _ := back2.Snapshot()
	if got := ns2.Columns(); !reflect.DeepEqual(got, oldCols[:len(plain)]) {
		t.Errorf("columns after the round trip with Columns:\n%+v\nwant\n%+v", got, oldCols[:len(plain)])
	}
	path = filepath.Join(tmp, "knn.parquet")
	sum = exportFile(t, old, "knn(row(3500), 20)", path, &export.Options{Columns: []string{"row", "score", "pair_cos"}})
	if sum.Rows != 20 || sum.Columns[2].Nulls != 0 {
		t.Errorf("knn with pair_cos: %+v", sum)
	}
	d, err := db.Open(filepath.Join(tmp, "new3"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	srcs, err := db.ExpandPaths([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Ingest(context.Background(), srcs, nil); err == nil || !strings.Contains(err.Error(), "pair_cos") {
		t.Errorf("ingest of an export with pair_cos: %v", err)
	}
}
