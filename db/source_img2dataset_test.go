package db

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/table"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/snappy"
)

// img2datasetRow is a row of an img2dataset shard's parquet file: the
// input's url and caption, then what img2dataset adds (with
// --extract_exif and --compute_hash sha256).
type img2datasetRow struct {
	URL            *string `parquet:"url,optional"`
	Caption        *string `parquet:"caption,optional"`
	Key            *string `parquet:"key,optional"`
	Status         *string `parquet:"status,optional"`
	ErrorMessage   *string `parquet:"error_message,optional"`
	Width          *int32  `parquet:"width,optional"`
	Height         *int32  `parquet:"height,optional"`
	OriginalWidth  *int32  `parquet:"original_width,optional"`
	OriginalHeight *int32  `parquet:"original_height,optional"`
	Exif           *string `parquet:"exif,optional"`
	SHA256         *string `parquet:"sha256,optional"`
}

// writeImg2dataset writes an img2dataset output folder: shards of n rows
// as {shard}.parquet beside a .tar and a _stats.json each, and returns the
// rows by shard. Row i of a shard failed to download when i%7 == 3, failed
// to resize when i%11 == 5, and succeeded otherwise.
func writeImg2dataset(t *testing.T, dir string, shards, n int) [][]img2datasetRow {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := func(s string) *string { return &s }
	i32 := func(v int) *int32 { x := int32(v); return &x }
	var all [][]img2datasetRow
	for s := 0; s < shards; s++ {
		rows := make([]img2datasetRow, n)
		for i := range rows {
			key := fmt.Sprintf("%05d%04d", s, i)
			r := img2datasetRow{
				URL:     p(fmt.Sprintf("https://img.example.com/%d/%d.jpg", s, i)),
				Caption: p(fmt.Sprintf("photo %d of shard %d", i, s)),
				Key:     p(key),
			}
			switch {
			case i%7 == 3:
				r.Status, r.ErrorMessage = p("failed_to_download"), p("HTTP Error 404: Not Found")
			case i%11 == 5:
				r.Status, r.ErrorMessage = p("failed_to_resize"), p("image decoding error")
			default:
				r.Status = p("success")
				r.Width, r.Height = i32(256), i32(256)
				r.OriginalWidth, r.OriginalHeight = i32(300+i), i32(200+i)
				r.Exif = p("{}")
				sum := sha256.Sum256([]byte(key))
				r.SHA256 = p(hex.EncodeToString(sum[:]))
			}
			rows[i] = r
		}
		base := filepath.Join(dir, fmt.Sprintf("%05d", s))
		f, err := os.Create(base + ".parquet")
		if err != nil {
			t.Fatal(err)
		}
		w := parquet.NewGenericWriter[img2datasetRow](f, parquet.Compression(&snappy.Codec{}))
		if _, err := w.Write(rows); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		for _, other := range []string{".tar", "_stats.json"} {
			if err := os.WriteFile(base+other, []byte("not read"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		all = append(all, rows)
	}
	return all
}

func TestIngestImg2dataset(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "out")
	const shards, n = 2, 1000
	shardRows := writeImg2dataset(t, dir, shards, n)
	var success, failed int
	for _, rows := range shardRows {
		for _, r := range rows {
			if *r.Status == "success" {
				success++
			} else {
				failed++
			}
		}
	}

	srcs, err := ExpandPaths([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != shards {
		t.Fatalf("ExpandPaths: %+v", srcs)
	}
	for s, src := range srcs {
		if want := filepath.Join(dir, fmt.Sprintf("%05d.parquet", s)); src.Layout != "img2dataset" || src.Metadata != want || src.ImageEmb != "" {
			t.Errorf("source %d = %+v, want img2dataset layout over %s", s, src, want)
		}
	}

	d := openTest(t, filepath.Join(tmp, "store"))
	res, err := d.Ingest(context.Background(), srcs, nil)
	if err != nil {
		t.Fatal(err)
	}
	for s, r := range res {
		// Every row, whatever its status; all img2dataset columns present,
		// and LAION's nsfw, similarity and license not asked for.
		if r.Rows != n || r.Skipped || len(r.Missing) != 0 || r.Name != fmt.Sprintf("%05d.parquet", s) {
			t.Errorf("result %d = %+v", s, r)
		}
	}

	// Columns: as the files have them, caption as text.
	m, err := d.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]table.Type{}
	for _, c := range m.Columns {
		types[c.Name] = c.Type
	}
	for name, typ := range map[string]table.Type{"url": table.TypeString, "text": table.TypeString, "key": table.TypeString,
		"status": table.TypeString, "error_message": table.TypeString, "width": table.TypeInt, "original_height": table.TypeInt,
		"exif": table.TypeString, "sha256": table.TypeString} {
		if types[name] != typ {
			t.Errorf("column %s has type %v, want %v (columns %v)", name, types[name], typ, m.Columns)
		}
	}
	if m.Rows != shards*n || m.Dim != 0 {
		t.Errorf("manifest rows %d dim %d", m.Rows, m.Dim)
	}

	// status is queryable, and counts every row.
	count := func(q string) int {
		t.Helper()
		r, err := d.Query(context.Background(), q, nil)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return r.Selected
	}
	if got := count("all where status = 'success'"); got != success {
		t.Errorf("status = 'success' selects %d, want %d", got, success)
	}
	if got := count("all where status != 'success'"); got != failed || failed == 0 {
		t.Errorf("status != 'success' selects %d, want %d", got, failed)
	}
	if got := count("all where status = 'failed_to_download' and width > 0"); got != 0 {
		t.Errorf("failed downloads with a width: %d", got)
	}

	// Provenance: each segment's file with its checksum, and each row's
	// file and row number in it.
	for s, seg := range m.Segments {
		path := filepath.Join(dir, fmt.Sprintf("%05d.parquet", s))
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		abs, _ := filepath.Abs(path)
		want := SourceFile{Role: "metadata", Path: abs, Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:]), Rows: n}
		if len(seg.Files) != 1 || seg.Files[0] != want || seg.Base != int64(s*n) || seg.HasImage || seg.HasText {
			t.Errorf("segment %d = %+v, want files [%+v]", s, seg, want)
		}
	}
	for _, c := range []struct{ shard, row int }{{0, 0}, {0, 3}, {1, 5}, {1, n - 1}} {
		want := shardRows[c.shard][c.row]
		r, err := d.Query(context.Background(), fmt.Sprintf("all where key = '%s'", *want.Key), &engine.Options{Rows: 5})
		if err != nil {
			t.Fatal(err)
		}
		abs, _ := filepath.Abs(filepath.Join(dir, fmt.Sprintf("%05d.parquet", c.shard)))
		if r.Selected != 1 || len(r.Rows) != 1 {
			t.Fatalf("key %s: selected %d", *want.Key, r.Selected)
		}
		got := r.Rows[0]
		if got.File != abs || got.FileRow != int64(c.row) || got.Row != uint32(c.shard*n+c.row) ||
			got.URL == nil || *got.URL != *want.URL || got.Text == nil || *got.Text != *want.Caption {
			t.Errorf("key %s: row %+v, want %s row %d", *want.Key, got, abs, c.row)
		}
	}
	if row := lookup(t, d, "key", *shardRows[1][3].Key, "status", "error_message", "width"); row["status"] != "failed_to_download" ||
		row["error_message"] != "HTTP Error 404: Not Found" || row["width"] != nil {
		t.Errorf("failed row: %v", row)
	}

	// The same folder again is already in the store.
	res, err = d.Ingest(context.Background(), srcs, nil)
	if err != nil || len(res) != shards || !res[0].Skipped || !res[1].Skipped {
		t.Errorf("re-ingest: %+v, %v", res, err)
	}
	if r, err := d.Check(context.Background()); err != nil || !r.OK() {
		t.Errorf("check: %v %v", err, r.Problems)
	}
}

// TestImg2datasetFolderIngestedBefore: a store that holds an img2dataset
// folder's files from before the layout was recognised (when the folder was
// a plain folder of parquet files) re-ingests them as already there.
func TestImg2datasetFolderIngestedBefore(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "out")
	writeImg2dataset(t, dir, 2, 50)
	d := openTest(t, filepath.Join(tmp, "store"))
	old := []Source{{Metadata: filepath.Join(dir, "00000.parquet")}, {Metadata: filepath.Join(dir, "00001.parquet")}}
	if _, err := d.Ingest(context.Background(), old, &IngestOptions{NoIndex: true}); err != nil {
		t.Fatal(err)
	}
	srcs, err := ExpandPaths([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.Ingest(context.Background(), srcs, nil)
	if err != nil || len(res) != 2 || !res[0].Skipped || !res[1].Skipped {
		t.Fatalf("re-ingest: %+v, %v", res, err)
	}
	// A folder whose first parquet file has no status column is not
	// img2dataset output.
	if err := os.Rename(filepath.Join(dir, "00000.parquet"), filepath.Join(dir, "00000.parquet.bak")); err != nil {
		t.Fatal(err)
	}
	laion := filepath.Join(tmp, "laion")
	if err := os.MkdirAll(laion, 0o755); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join("testdata", "hostile", "types.parquet"))
	if err := os.WriteFile(filepath.Join(laion, "a.parquet"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if srcs, err := ExpandPaths([]string{laion, dir}); err != nil || len(srcs) != 2 ||
		srcs[0].Layout != "laion-parts" || srcs[1].Layout != "img2dataset" {
		t.Errorf("ExpandPaths: %+v, %v", srcs, err)
	}
}
