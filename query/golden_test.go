package query_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/output"
	"github.com/laiondb/laiondb/query"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestGolden pins the table, JSON and CSV outputs of two audit queries on a
// generated store, from parse through package engine to package output: the
// end-to-end test of the query language, kept beside its golden files. Run
// go test -run Golden -update to refresh them.
func TestGolden(t *testing.T) {
	s := enginetest.Generate(2000, 8, 7)
	s.BatchSize = 300
	for _, tt := range []struct {
		name, q string
		opts    *engine.Options
	}{
		{"knn", `knn('beautiful', 20) where nsfw != 'NSFW' by license`,
			&engine.Options{Rows: 3, Lexicons: map[string][]string{"desi": {"desi", "aunty"}}}},
		{"scan", `all where text contains 'desi'`, nil},
	} {
		res, err := engine.Run(context.Background(), s, query.MustParse(tt.q), tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []struct {
			ext   string
			write func(*bytes.Buffer) error
		}{
			{"table", func(b *bytes.Buffer) error { return output.WriteTable(b, res) }},
			{"json", func(b *bytes.Buffer) error { return output.WriteJSON(b, res) }},
			{"csv", func(b *bytes.Buffer) error { return output.WriteCSV(b, res) }},
		} {
			var buf bytes.Buffer
			if err := f.write(&buf); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.name+"."+f.ext+".golden")
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run Golden -update)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s differs from the golden file; got:\n%s", path, buf.Bytes())
			}
		}
	}
}
