package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// TestCLIExport: laiondb export writes what laiondb query selects, in the
// order query --rows all prints it, in the format --out's extension names,
// with a summary on stderr.
func TestCLIExport(t *testing.T) {
	tmp, store := testStore(t)
	out := filepath.Join(tmp, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	const knn = "knn(row(3), 50) where nsfw = 'UNLIKELY'"
	code, stdout, errs := runCmd(t, "query", "--store", store, "--format", "json", "--rows", "all", "--columns", "url", knn)
	if code != 0 {
		t.Fatal(errs)
	}
	var res struct {
		Selected int
		Rows     []struct {
			Row   int64
			Score float32
		}
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Selected != 50 || len(res.Rows) != 50 {
		t.Fatalf("query: %v, %d selected", err, res.Selected)
	}

	path := filepath.Join(out, "knn.parquet")
	code, stdout, errs = runCmd(t, "export", "--store", store, "--out", path, knn)
	if code != 0 || stdout != "" || !strings.Contains(errs, "exported 50 rows (best first) to "+path+": parquet, shape rows") ||
		!strings.Contains(errs, "selection: exact;") || !strings.Contains(errs, "query: "+knn) || !strings.Contains(errs, "note: 1 string holds bytes that are not UTF-8") || !strings.Contains(errs, "columns: row int64, file string, file_row int64, score float32, rank int64, url string, text string") {
		t.Fatalf("export: exit %d, stdout %q, stderr %s", code, stdout, errs)
	}
	rows, err := parquet.ReadFile[struct {
		Row   int64   `parquet:"row"`
		Score float32 `parquet:"score"`
		Rank  int64   `parquet:"rank"`
	}](path)
	if err != nil || len(rows) != 50 {
		t.Fatalf("%s: %d rows, %v", path, len(rows), err)
	}
	for i, r := range rows {
		if r.Row != res.Rows[i].Row || r.Score != res.Rows[i].Score || r.Rank != int64(i+1) {
			t.Fatalf("row %d: %+v, query printed %+v", i, r, res.Rows[i])
		}
	}

	// all in CSV, and to stdout as JSONL: as many rows as the query selects.
	const desi = "all where text contains 'desi'"
	code, stdout, _ = runCmd(t, "query", "--store", store, "--format", "json", desi)
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil || res.Selected == 0 {
		t.Fatalf("query %s: %s", desi, stdout)
	}
	path = filepath.Join(out, "desi.csv")
	if code, _, errs := runCmd(t, "export", "--store", store, "--quiet", "--out", path, "--columns", "row,text,url", desi); code != 0 || errs != "" {
		t.Fatalf("csv: exit %d: %s", code, errs)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(recs) != res.Selected+1 || !slices.Equal(recs[0], []string{"row", "text", "url"}) {
		t.Fatalf("desi.csv: %d records for %d rows, %v", len(recs), res.Selected, err)
	}
	for _, r := range recs[1:] {
		if !strings.Contains(strings.ToLower(r[1]), "desi") {
			t.Fatalf("desi.csv holds %q", r)
		}
	}
	code, stdout, errs = runCmd(t, "export", "--store", store, "--out", "-", "--format", "jsonl", desi)
	if code != 0 || strings.Count(stdout, "\n") != res.Selected || !strings.Contains(errs, "to stdout: jsonl") {
		t.Fatalf("jsonl to stdout: exit %d, %d lines for %d rows: %s", code, strings.Count(stdout, "\n"), res.Selected, errs)
	}

	// clip-retrieval's file, and img2dataset's input.
	path = filepath.Join(out, "clipsubset.json")
	if code, _, errs := runCmd(t, "export", "--store", store, "--shape", "clipsubset", "--out", path, "knn(row(5), 20)"); code != 0 {
		t.Fatal(errs)
	}
	var subset []map[string]any
	if b, err := os.ReadFile(path); err != nil || json.Unmarshal(b, &subset) != nil || len(subset) != 20 || subset[0]["id"] != 5.0 || subset[0]["similarity"] == nil {
		t.Errorf("clipsubset.json: %v, %d objects, first %v", err, len(subset), subset[0])
	}
	path = filepath.Join(out, "urls.parquet")
	if code, _, errs := runCmd(t, "export", "--store", store, "--shape", "img2dataset", "--out", path, desi); code != 0 {
		t.Fatal(errs)
	}
	pairs, err := parquet.ReadFile[struct {
		URL     *string `parquet:"url,optional"`
		Caption *string `parquet:"caption,optional"`
	}](path)
	if err != nil || len(pairs) != res.Selected {
		t.Errorf("img2dataset: %d rows for %d, %v", len(pairs), res.Selected, err)
	}
}

// TestCLIExportMistakes: each mistake is one line on stderr, exit 2 for
// the command line's and 1 for the store's or the query's, and no file is
// left, nor a pre-existing one changed.
func TestCLIExportMistakes(t *testing.T) {
	tmp, store := testStore(t)
	out := filepath.Join(tmp, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	kept := filepath.Join(out, "kept.csv")
	if err := os.WriteFile(kept, []byte("before\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--out", filepath.Join(out, "a.parquet"), "--format", "xlsx", "all"}, 2, `--format: unknown format "xlsx" (want parquet, jsonl, csv or json)`},
		{[]string{"--out", filepath.Join(out, "a.txt"), "all"}, 2, "the extension names no format; give --format parquet, jsonl, csv or json"},
		{[]string{"--out", filepath.Join(out, "a.csv"), "--shape", "tar", "all"}, 2, `--shape: unknown shape "tar" (want rows, img2dataset or clipsubset)`},
		{[]string{"--out", filepath.Join(tmp, "no", "such", "a.csv"), "all"}, 2, "there is no folder " + filepath.Join(tmp, "no", "such")},
		{[]string{"--out", out, "--format", "csv", "all"}, 2, "is a folder"},
		{[]string{"--out", "-", "all"}, 2, "give --format csv, jsonl or json"},
		{[]string{"--out", "-", "--format", "parquet", "all"}, 2, "parquet is not written to stdout"},
		{[]string{"all"}, 2, "give --out FILE"},
		{[]string{"--out", kept, "--columns", "url,colour", "all"}, 1, `no column "colour" (the store has: `},
		{[]string{"--out", kept, "--columns", "score", "all"}, 1, "the query is not a search (knn or within), so its rows have no score"},
		{[]string{"--out", kept, "all where colour = 'red'"}, 1, `unknown column "colour"`},
		{[]string{"--out", kept, "knn(row(3) 5)"}, 1, "syntax error"},
		{[]string{"--out", kept, "knn('beautiful', 5)"}, 1, "--model"},
	} {
		code, stdout, errs := runCmd(t, append([]string{"export", "--store", store}, c.args...)...)
		first, _, _ := strings.Cut(errs, "\n")
		if code != c.code || stdout != "" || !strings.HasPrefix(first, "laiondb export: ") || !strings.Contains(first, c.want) {
			t.Errorf("export %q: exit %d, stdout %q, stderr %q; want %d and %q", c.args, code, stdout, errs, c.code, c.want)
		}
		if strings.Count(errs, "\n") > 1 && !strings.Contains(errs, "^") {
			t.Errorf("export %q: more than one line: %q", c.args, errs)
		}
	}
	ents, err := os.ReadDir(out)
	if err != nil || len(ents) != 1 {
		t.Errorf("files left in %s: %v", out, ents)
	}
	if b, _ := os.ReadFile(kept); string(b) != "before\n" {
		t.Errorf("a failed export changed %s: %q", kept, b)
	}
	if _, err := os.Stat(filepath.Join(tmp, "no")); err == nil {
		t.Error("export made the missing folder")
	}
}
