package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/audit"
	"github.com/laiondb/laiondb/demodata"
	"github.com/laiondb/laiondb/engine"
)

var update = flag.Bool("update", false, "rewrite golden files")

var spaces = regexp.MustCompile(`  +`)

// testStore ingests a small generated dataset (32-d embeddings, the tiny
// test model's dimension, plus metadata-only parts) through the CLI.
func testStore(t *testing.T) (tmp, store string) {
	t.Helper()
	tmp = t.TempDir()
	if _, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 4, Parts: 2, Rows: 600, Dim: 32}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := demodata.LAION400M(filepath.Join(tmp, "meta"), demodata.Config{Seed: 4, Parts: 1, Rows: 800}); err != nil {
		t.Fatal(err)
	}
	store = filepath.Join(tmp, "store")
	code, out, errs := runCmd(t, "ingest", "--store", store, "--model-name", "tiny-clip-test", filepath.Join(tmp, "emb"), filepath.Join(tmp, "meta"))
	if code != 0 {
		t.Fatalf("ingest: exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "ingested 2000 rows") {
		t.Fatalf("ingest output: %s", out)
	}
	return tmp, store
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update accepts it):\n%s", path, got)
	}
}

func TestCLIIngestInfoQuery(t *testing.T) {
	tmp, store := testStore(t)
	clean := func(s string) string { return strings.ReplaceAll(s, tmp, "$TMP") }

	code, out, errs := runCmd(t, "ingest", "--store", store, filepath.Join(tmp, "meta"))
	if code != 0 || !strings.Contains(out, "already in the store, skipped") {
		t.Errorf("re-ingest: exit %d: %s %s", code, out, errs)
	}
	code, out, errs = runCmd(t, "info", "--store", store)
	if code != 0 {
		t.Fatalf("info: %d %s", code, errs)
	}
	golden(t, "info", clean(out))

	const q = "knn(row(3), 20) where nsfw = 'UNLIKELY' and not text contains 'design'"
	for _, format := range []string{"table", "json", "csv"} {
		code, out, errs = runCmd(t, "query", "--store", store, "--format", format, "--rows", "3", q)
		if code != 0 {
			t.Fatalf("query --format %s: exit %d: %s", format, code, errs)
		}
		if format == "table" {
			// Column widths depend on the temporary path's length.
			out = spaces.ReplaceAllString(out, "  ")
		}
		golden(t, "query-"+format, clean(out))
	}
	code, out, _ = runCmd(t, "query", "--store", store, "--format", "json", "all where any lexicon essay2021")
	var res struct {
		Selected int `json:"selected"`
		Exact    bool
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Selected == 0 || !res.Exact {
		t.Errorf("lexicon query: exit %d, %+v", code, res)
	}
	code, out, _ = runCmd(t, "query", "--store", store, "--explain", "all where text contains 'desi'")
	if code != 0 || !strings.Contains(out, "scan 2000 rows") {
		t.Errorf("explain: exit %d: %s", code, out)
	}
	// A syntax error is one line naming the offset, then the query with a
	// caret under it; exit status 1. So is a row the store does not have.
	code, _, errs = runCmd(t, "query", "--store", store, "knn(row(3),100 where nsfw='UNLIKELY'")
	if want := "laiondb query: syntax error: expected ')' after k, found \"where\" (offset 15)\n" +
		"    knn(row(3),100 where nsfw='UNLIKELY'\n" +
		"                   ^\n"; code != 1 || errs != want {
		t.Errorf("syntax error: exit %d: %q, want %q", code, errs, want)
	}
	code, _, errs = runCmd(t, "query", "--store", store, "knn(row(99999), 5)")
	if want := "laiondb query: target row(99999): db: not found: row 99999 (the store has 2000 rows) (offset 4)\n" +
		"    knn(row(99999), 5)\n" +
		"        ^\n"; code != 1 || errs != want {
		t.Errorf("missing row: exit %d: %q, want %q", code, errs, want)
	}
	// A text target without a model says how to give one.
	code, _, errs = runCmd(t, "query", "--store", store, "knn('beautiful',100) where nsfw='UNLIKELY'")
	if code != 1 || !strings.Contains(errs, "--model") {
		t.Errorf("no model: exit %d: %q", code, errs)
	}
	code, _, errs = runCmd(t, "query", "--store", filepath.Join(tmp, "nope"), "all")
	if code != 1 || !strings.Contains(errs, "no store at") {
		t.Errorf("missing store: exit %d: %q", code, errs)
	}
	code, _, _ = runCmd(t, "query", "--store", store, "--format", "xml", "all")
	if code != 2 {
		t.Errorf("bad format: exit %d, want 2", code)
	}
	// A rebuilt index reports its calibration, and a search through the
	// graph names the calibrated ef it used.
	code, out, errs = runCmd(t, "index", "--store", store, "--rebuild")
	if code != 0 || !strings.Contains(out, "index covers 2000 rows") ||
		!strings.Contains(out, "default ef for image queries: k 10 ef ") || !strings.Contains(out, "default ef for text queries: k 10 ef ") {
		t.Errorf("index --rebuild: exit %d: %s %s", code, out, errs)
	}
	code, out, errs = runCmd(t, "query", "--store", store, "--index", "--ef", "0", "--format", "json", "knn(row(3), 10)")
	if code != 0 || !strings.Contains(out, "(calibrated: recall@10 ") || !strings.Contains(out, " image embeddings of this store") {
		t.Errorf("graph query: exit %d: %s %s", code, out, errs)
	}

	// An IVF index beside the graph: built, listed by info, forced by
	// --index=ivf, dropped.
	code, out, errs = runCmd(t, "index", "--store", store, "--kind", "ivf")
	if code != 0 || !strings.Contains(out, "image ivf index covers 2000 rows (128 lists, 32-byte codes)") ||
		!strings.Contains(out, "default nprobe for image queries: k 10 nprobe ") {
		t.Errorf("index --kind ivf: exit %d: %s %s", code, out, errs)
	}
	code, out, _ = runCmd(t, "info", "--store", store)
	if code != 0 || !strings.Contains(out, "HNSW over the 1200 image vectors") || !strings.Contains(out, "IVF over the 1200 image vectors") {
		t.Errorf("info with two indexes: %s", out)
	}
	code, out, errs = runCmd(t, "query", "--store", store, "--index=ivf", "--format", "json", "knn(row(3), 10)")
	if code != 0 || !strings.Contains(out, "ivf search, nprobe=") {
		t.Errorf("query --index=ivf: exit %d: %s %s", code, out, errs)
	}
	code, _, errs = runCmd(t, "query", "--store", store, "--index", "ivf", "knn(row(3), 10)")
	if code != 2 || !strings.Contains(errs, "write --index=ivf") {
		t.Errorf("query --index ivf QUERY: exit %d: %s", code, errs)
	}
	code, _, errs = runCmd(t, "query", "--store", store, "--index=annoy", "knn(row(3), 10)")
	if code != 2 || !strings.Contains(errs, "hnsw, ivf") {
		t.Errorf("query --index=annoy: exit %d: %s", code, errs)
	}
	// --index-memory below the graph's memory: the IVF answers, the plan
	// and a warning say why the graph does not.
	code, out, errs = runCmd(t, "query", "--store", store, "--index", "--index-memory", "0.0002", "--format", "json", "knn(row(3), 10)")
	if code != 0 || !strings.Contains(out, "ivf search, nprobe=") || !strings.Contains(out, "the hnsw index was passed over (not loaded: over the memory for indexes") ||
		!strings.Contains(errs, "warning: the hnsw index over the image embeddings is not loaded") {
		t.Errorf("query --index-memory 0.0002: exit %d: %s %s", code, out, errs)
	}
	code, out, errs = runCmd(t, "index", "--store", store, "--kind", "ivf", "--drop")
	if code != 0 || !strings.Contains(out, "dropped the ivf index over the image embeddings") {
		t.Errorf("index --drop: exit %d: %s %s", code, out, errs)
	}
	code, _, errs = runCmd(t, "query", "--store", store, "--index=ivf", "knn(row(3), 10)")
	if code != 1 || !strings.Contains(errs, "--kind ivf") {
		t.Errorf("query --index=ivf after the drop: exit %d: %s", code, errs)
	}
}

// TestCLITextKNN runs the user's example as written, through the tiny
// CLIP model and the real ONNX Runtime.
func TestCLITextKNN(t *testing.T) {
	vocab := clipVocab(t)
	needRuntime(t)
	_, store := testStore(t)
	model := filepath.Join(encodeRoot(t), "encode", "testdata", "models", "hf")
	code, out, errs := runCmd(t, "query", "--store", store, "--model", model, "--vocab", vocab,
		"--format", "json", "knn('beautiful',100) where nsfw='UNLIKELY'")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res struct {
		Selected int `json:"selected"`
		NSFW     struct {
			Values []struct {
				Value string `json:"value"`
				Count int    `json:"count"`
			} `json:"values"`
		} `json:"nsfw"`
		Search struct {
			K        int  `json:"k"`
			Returned int  `json:"returned"`
			Exact    bool `json:"exact"`
		} `json:"search"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Selected != 100 || res.Search.K != 100 || res.Search.Returned != 100 || !res.Search.Exact ||
		len(res.NSFW.Values) != 1 || res.NSFW.Values[0].Value != "UNLIKELY" || res.NSFW.Values[0].Count != 100 {
		t.Errorf("result = %+v", res)
	}
	if errs != "" {
		t.Errorf("unexpected stderr: %s", errs)
	}
	// Image targets and range searches go through the same encoders.
	img := filepath.Join(encodeRoot(t), "encode", "testdata", "images", "landscape.png")
	for _, q := range []string{
		"knn(image('" + img + "'), 7)",
		"within('beautiful', 0.3)",
		"within(image('" + img + "'), 0.2) where nsfw = 'UNLIKELY'",
	} {
		code, out, errs = runCmd(t, "query", "--store", store, "--model", model, "--vocab", vocab, "--format", "json", q)
		var r struct {
			Selected int `json:"selected"`
			Search   struct {
				Returned int     `json:"returned"`
				Exact    bool    `json:"exact"`
				ScoreMin float64 `json:"score_min"`
			} `json:"search"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &r) != nil {
			t.Fatalf("%s: exit %d: %s", q, code, errs)
		}
		if strings.HasPrefix(q, "knn") && r.Selected != 7 {
			t.Errorf("%s: selected %d", q, r.Selected)
		}
		if strings.HasPrefix(q, "within('beautiful'") && r.Selected == 0 {
			t.Errorf("%s selected nothing", q)
		}
		if strings.HasPrefix(q, "within") && (!r.Search.Exact || (r.Selected > 0 && r.Search.ScoreMin < 0.2)) {
			t.Errorf("%s: %+v", q, r)
		}
	}
	// A model of another name is warned about.
	code, _, errs = runCmd(t, "query", "--store", store, "--model", filepath.Join(encodeRoot(t), "encode", "testdata", "models", "openclip"),
		"--vocab", vocab, "knn('beautiful',10)")
	if code != 0 || !strings.Contains(errs, "warning") || !strings.Contains(errs, "tiny-clip-test") {
		t.Errorf("other model: exit %d, stderr %q", code, errs)
	}
}

// A model whose embeddings have another dimension than the store's is
// refused, naming both.
func TestCLIModelDimensionMismatch(t *testing.T) {
	vocab := clipVocab(t)
	needRuntime(t)
	tmp := t.TempDir()
	if _, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 5, Parts: 1, Rows: 100, Dim: 16}); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(tmp, "store")
	if code, _, errs := runCmd(t, "ingest", "--store", store, filepath.Join(tmp, "emb")); code != 0 {
		t.Fatal(errs)
	}
	model := filepath.Join(encodeRoot(t), "encode", "testdata", "models", "hf")
	code, _, errs := runCmd(t, "query", "--store", store, "--model", model, "--vocab", vocab, "knn('beautiful',10)")
	if code != 1 || !strings.Contains(errs, "32-d") || !strings.Contains(errs, "16-d") {
		t.Errorf("exit %d: %q", code, errs)
	}
}

// TestDemoDir: demo uses a new or empty folder, or one it made before; it
// refuses any other folder and leaves its files alone.
func TestDemoDir(t *testing.T) {
	tmp := t.TempDir()
	user := filepath.Join(tmp, "mine")
	os.MkdirAll(user, 0o755)
	precious := filepath.Join(user, "thesis.tex")
	os.WriteFile(precious, []byte("years of work"), 0o644)
	for _, extra := range [][]string{nil, {"--fresh"}} {
		args := append([]string{"demo", "-q", "--dir", user, "--rows", "200", "--parts", "1", "--dim", "16"}, extra...)
		code, _, errs := runCmd(t, args...)
		if code != 1 || !strings.Contains(errs, "not one that laiondb demo made") {
			t.Errorf("demo %v into a user's folder: exit %d: %s", extra, code, errs)
		}
		if b, err := os.ReadFile(precious); err != nil || string(b) != "years of work" {
			t.Fatalf("demo %v touched the user's file: %v", extra, err)
		}
	}
	dir := filepath.Join(tmp, "demo")
	for i, extra := range [][]string{nil, nil, {"--fresh"}} {
		args := append([]string{"demo", "-q", "--dir", dir, "--rows", "200", "--parts", "1", "--dim", "16"}, extra...)
		code, out, errs := runCmd(t, args...)
		if code != 0 || !strings.Contains(out, "ingest") {
			t.Fatalf("demo run %d %v: exit %d: %s", i, extra, code, errs)
		}
		if _, err := os.Stat(filepath.Join(dir, demoMarker)); err != nil {
			t.Errorf("demo run %d: no marker: %v", i, err)
		}
	}
}

// TestDemoClusters: --clusters sets the concepts the embeddings are drawn
// from, so the same rows get other vectors; a negative count is refused.
func TestDemoClusters(t *testing.T) {
	tmp := t.TempDir()
	emb := map[string][]byte{}
	for _, n := range []string{"0", "50"} {
		dir := filepath.Join(tmp, "c"+n)
		code, _, errs := runCmd(t, "demo", "-q", "--dir", dir, "--rows", "200", "--parts", "1", "--dim", "16", "--clusters", n)
		if code != 0 {
			t.Fatalf("--clusters %s: exit %d: %s", n, code, errs)
		}
		b, err := os.ReadFile(filepath.Join(dir, "data", "laion-emb", "img_emb", "img_emb_0.npy"))
		if err != nil {
			t.Fatal(err)
		}
		emb[n] = b
	}
	if bytes.Equal(emb["0"], emb["50"]) {
		t.Error("--clusters 50 wrote the same image embeddings as the default")
	}
	code, _, errs := runCmd(t, "demo", "-q", "--dir", filepath.Join(tmp, "bad"), "--clusters", "-1")
	if code != 2 || !strings.Contains(errs, "--clusters -1") {
		t.Errorf("--clusters -1: exit %d: %s", code, errs)
	}
}

// TestJSONOutputs: every JSON output of every command is one JSON document
// on stdout and nothing else.
func TestJSONOutputs(t *testing.T) {
	_, store := testStore(t)
	for _, args := range [][]string{
		{"check", "--store", store, "--json"},
		{"info", "--store", store, "--json"},
		{"query", "--store", store, "--format", "json", "all where text contains 'desi'"},
		{"query", "--store", store, "--format", "json", "knn(row(3), 5) where nsfw = 'UNLIKELY'"},
		{"query", "--store", store, "--format", "json", "--explain", "all where text contains 'desi'"},
	} {
		code, out, errs := runCmd(t, args...)
		if code != 0 {
			t.Errorf("%v: exit %d: %s", args, code, errs)
			continue
		}
		dec := json.NewDecoder(strings.NewReader(out))
		var v map[string]any
		if err := dec.Decode(&v); err != nil {
			t.Errorf("%v: not JSON: %v\n%s", args, err, out)
			continue
		}
		if rest, _ := io.ReadAll(dec.Buffered()); strings.TrimSpace(string(rest)) != "" || dec.More() {
			t.Errorf("%v: more than one JSON document on stdout: %q", args, rest)
		}
	}
	code, out, _ := runCmd(t, "query", "--store", store, "--format", "json", "--explain", "all where text contains 'desi'")
	var plan struct {
		Plan  string   `json:"plan"`
		Steps []string `json:"steps"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &plan) != nil || len(plan.Steps) < 2 || !strings.Contains(plan.Plan, "scan 2000 rows") {
		t.Errorf("explain as JSON: %s", out)
	}
}

// TestDamagedVectorFile: a NaN written into the vector file by hand makes a
// search fail naming the row and pointing at check, not answer without it.
func TestDamagedVectorFile(t *testing.T) {
	_, store := testStore(t)
	path := filepath.Join(store, "vectors", "img.f16")
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Row 7, element 0 (32-d float16 rows): the float16 NaN 0x7e00.
	if _, err := f.WriteAt([]byte{0x00, 0x7e}, 7*32*2); err != nil {
		t.Fatal(err)
	}
	f.Close()
	code, out, errs := runCmd(t, "query", "--store", store, "--exact", "knn(row(3), 3)")
	if code != 1 || !strings.Contains(errs, "row 7") || !strings.Contains(errs, "laiondb check") || strings.Contains(out, "selected") {
		t.Errorf("search over a damaged vector: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	code, out, _ = runCmd(t, "check", "--store", store)
	if code != 1 || !strings.Contains(out, "PROBLEM") {
		t.Errorf("check does not report the damage: exit %d: %s", code, out)
	}
}

// TestFailedFirstIngest: an ingest that creates a store and fails before
// any file is in it leaves no store directory behind; a store that holds
// rows is kept.
func TestFailedFirstIngest(t *testing.T) {
	tmp := t.TempDir()
	bad := filepath.Join(tmp, "bad.parquet")
	os.WriteFile(bad, []byte("PAR1 this is not parquet PAR1"), 0o644)
	store := filepath.Join(tmp, "store")
	code, _, errs := runCmd(t, "ingest", "--store", store, bad)
	if code != 1 || !strings.Contains(errs, "was not created") {
		t.Errorf("bad first ingest: exit %d: %s", code, errs)
	}
	if _, err := os.Stat(store); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the failed first ingest left %s: %v", store, err)
	}
	_, good := testStore(t)
	code, _, errs = runCmd(t, "ingest", "--store", good, bad)
	if code != 1 || strings.Contains(errs, "was not created") {
		t.Errorf("bad ingest into a store with rows: exit %d: %s", code, errs)
	}
	if code, _, _ := runCmd(t, "info", "--store", good); code != 0 {
		t.Errorf("the store with rows is gone")
	}
}

// TestFlagErrorsSpeakOfFlags: errors a user gets name flags, not Go
// options.
func TestFlagErrorsSpeakOfFlags(t *testing.T) {
	_, store := testStore(t)
	code, _, errs := runCmd(t, "query", "--store", store, "--rows", "-1", "all")
	if code != 2 || !strings.Contains(errs, "--rows -1") || strings.Contains(errs, "Options") {
		t.Errorf("--rows -1: exit %d: %s", code, errs)
	}
	code, _, errs = runCmd(t, "query", "--store", store, "all where text lexicon slurs")
	if code != 1 || !strings.Contains(errs, "--lexicon NAME=FILE") || strings.Contains(errs, "Options") {
		t.Errorf("unknown lexicon: exit %d: %s", code, errs)
	}
}

// TestHelpTopics: the manual and the model guide print without a checkout.
func TestHelpTopics(t *testing.T) {
	for topic, wants := range map[string][]string{
		"query":  {"# Grammar", "knn(T, K) is the K rows nearest", "three-valued logic", "\tall where text contains 'desi'"},
		"models": {"optimum-cli export onnx", "textual.onnx", "text_embeds", "input_ids"},
	} {
		code, out, errs := runCmd(t, "help", topic)
		if code != 0 {
			t.Errorf("help %s: exit %d: %s", topic, code, errs)
		}
		for _, w := range wants {
			if !strings.Contains(out, w) {
				t.Errorf("help %s lacks %q", topic, w)
			}
		}
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "//") {
				t.Errorf("help %s shows comment markers: %q", topic, l)
			}
		}
	}
	if code, _, errs := runCmd(t, "help", "nope"); code != 2 || !strings.Contains(errs, "no topic") {
		t.Errorf("help nope: exit %d: %s", code, errs)
	}
}

// TestMissingColumnsWarn: a LAION part without TEXT or SAMPLE_ID is
// ingested with a warning on stderr naming them, and info lists them.
func TestMissingColumnsWarn(t *testing.T) {
	tmp := t.TempDir()
	rows := demodata.Rows(5, 0, 50, nil)
	path := filepath.Join(tmp, "part.parquet")
	if err := demodata.WriteParquet(path, "clip-retrieval", rows); err != nil { // no SAMPLE_ID
		t.Fatal(err)
	}
	store := filepath.Join(tmp, "store")
	code, out, errs := runCmd(t, "ingest", "--store", store, path)
	if code != 0 || !strings.Contains(errs, "warning: part.parquet lacks the columns sample_id") || strings.Contains(out, "missing") {
		t.Errorf("ingest: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	code, out, _ = runCmd(t, "info", "--store", store)
	if code != 0 || !strings.Contains(out, "missing: sample_id") {
		t.Errorf("info does not list the missing column: %s", out)
	}
}

// TestIngestNestedFolder: a nested download is walked; every file left out
// is named with its reason and counted; --strict refuses instead.
func TestIngestNestedFolder(t *testing.T) {
	tmp := t.TempDir()
	root := filepath.Join(tmp, "laion")
	if _, _, err := demodata.LAION400M(filepath.Join(root, "a"), demodata.Config{Seed: 1, Parts: 1, Rows: 100}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := demodata.LAION400M(filepath.Join(root, "sub", "b"), demodata.Config{Seed: 2, Parts: 2, Rows: 100}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "README.md"), []byte("readme"), 0o644)
	os.WriteFile(filepath.Join(root, "sub", "stats.csv"), []byte("a,b"), 0o644)
	os.WriteFile(filepath.Join(root, "sub", "stray.npy"), []byte("x"), 0o644)
	store := filepath.Join(tmp, "store")
	code, _, errs := runCmd(t, "ingest", "--store", store, "--strict", root)
	if code != 1 || !strings.Contains(errs, "3 files would be left out") {
		t.Errorf("--strict: exit %d: %s", code, errs)
	}
	code, out, errs := runCmd(t, "ingest", "--store", store, root)
	if code != 0 || !strings.Contains(out, "ingested 300 rows") || !strings.Contains(out, "3 files skipped") {
		t.Errorf("nested ingest: exit %d\n%s\n%s", code, out, errs)
	}
	for _, w := range []string{"skipped " + filepath.Join(root, "README.md") + ": not a .parquet",
		"skipped " + filepath.Join(root, "sub", "stats.csv"), "stray.npy: an .npy file without its metadata"} {
		if !strings.Contains(errs, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errs)
		}
	}
}

// TestRowsColumns: --columns chooses what printed rows show, --rows all
// prints every selected row, and a column the store lacks is named.
func TestRowsColumns(t *testing.T) {
	_, store := testStore(t)
	code, out, errs := runCmd(t, "query", "--store", store, "--rows", "all", "--columns", "similarity,license,caption",
		"all where text contains 'desi aunty'")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var selected int
	fmt.Sscanf(out[strings.Index(out, "selected"):], "selected %d rows", &selected)
	header := regexp.MustCompile(`(?m)^row +source +score +similarity +license +text *$`)
	if selected == 0 || !header.MatchString(out) || strings.Count(out, ".parquet:") != selected {
		t.Errorf("--rows all --columns: %d selected\n%s", selected, out)
	}
	code, out, _ = runCmd(t, "query", "--store", store, "--format", "json", "--rows", "2", "--columns", "url,width", "all")
	var res struct {
		RowColumns []string `json:"row_columns"`
		Rows       []struct {
			Columns map[string]*string `json:"columns"`
		} `json:"rows"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || len(res.Rows) != 2 || len(res.RowColumns) != 2 || res.Rows[0].Columns["width"] == nil {
		t.Errorf("JSON rows with --columns: %s", out)
	}
	code, _, errs = runCmd(t, "query", "--store", store, "--rows", "3", "--columns", "punsafe", "all")
	if code != 1 || !strings.Contains(errs, `no column "punsafe" to show`) {
		t.Errorf("unknown column: exit %d: %s", code, errs)
	}
	code, _, errs = runCmd(t, "query", "--store", store, "--columns", "url", "all")
	if code != 2 || !strings.Contains(errs, "--rows") {
		t.Errorf("--columns without --rows: exit %d: %s", code, errs)
	}
}

// TestCLIAudit runs laiondb audit with a term file and a report folder, and
// checks its CSV against laiondb query for one view.
func TestCLIAudit(t *testing.T) {
	vocab := clipVocab(t)
	needRuntime(t)
	tmp, store := testStore(t)
	model := filepath.Join(encodeRoot(t), "encode", "testdata", "models", "hf")
	terms := filepath.Join(tmp, "terms.txt")
	os.WriteFile(terms, []byte("# my terms\nbeautiful\n\ndesi wedding\nit's\n"), 0o644)
	report := filepath.Join(tmp, "report")
	code, out, errs := runCmd(t, "audit", "--store", store, "--model", model, "--vocab", vocab,
		"--terms", terms, "--k", "20", "--format", "csv", "--report", report)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 1+3*4 {
		t.Fatalf("%d records, %v:\n%s", len(recs), err, out)
	}
	for _, name := range []string{"report.html", "report.md", "results.json"} {
		if _, err := os.Stat(filepath.Join(report, name)); err != nil {
			t.Error(err)
		}
	}
	// The "contains" view of "desi wedding" is laiondb query's answer.
	code, qout, errs := runCmd(t, "query", "--store", store, "--format", "json", "all where text contains 'desi wedding'")
	if code != 0 {
		t.Fatal(errs)
	}
	var res struct {
		Selected int `json:"selected"`
	}
	json.Unmarshal([]byte(qout), &res)
	found := false
	for _, r := range recs[1:] {
		if r[0] == "desi wedding" && r[1] == "contains" {
			found = true
			if r[3] != strconv.Itoa(res.Selected) || res.Selected == 0 {
				t.Errorf("audit counts %s rows, query %d", r[3], res.Selected)
			}
		}
	}
	if !found {
		t.Errorf("no contains view of 'desi wedding':\n%s", out)
	}
	if code, _, errs := runCmd(t, "audit", "--store", store, "--terms", filepath.Join(tmp, "none.txt")); code == 0 || !strings.Contains(errs, "none.txt") {
		t.Errorf("a missing term file: exit %d, %s", code, errs)
	}
}

// TestCLIDiff: a new store without one of the old store's parts.
func TestCLIDiff(t *testing.T) {
	tmp := t.TempDir()
	paths, _, err := demodata.LAION400M(filepath.Join(tmp, "parts"), demodata.Config{Seed: 6, Parts: 2, Rows: 300})
	if err != nil {
		t.Fatal(err)
	}
	oldS, newS := filepath.Join(tmp, "old"), filepath.Join(tmp, "new")
	if code, _, errs := runCmd(t, "ingest", "--quiet", "--store", oldS, paths[0], paths[1]); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := runCmd(t, "ingest", "--quiet", "--store", newS, paths[0]); code != 0 {
		t.Fatal(errs)
	}
	csvPath := filepath.Join(tmp, "removed.csv")
	code, out, errs := runCmd(t, "diff", "--old", oldS, "--new", newS, "--removed", csvPath)
	out = spaces.ReplaceAllString(out, " ")
	if code != 0 || !strings.Contains(out, "only in old (removed) 300 rows") || !strings.Contains(out, "file "+paths[1]+" 300") ||
		!strings.Contains(out, "only in new (added) 0 rows") {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) != 301 || recs[0][3] != "sample_id" || recs[1][1] != paths[1] {
		t.Errorf("removed.csv: %d records, %v, %q", len(recs), err, recs[:2])
	}
}

// TestCLIDups: SAMPLE_IDs of a generated part are unique; the table form
// prints the counts.
func TestCLIDups(t *testing.T) {
	tmp := t.TempDir()
	paths, _, err := demodata.LAION400M(filepath.Join(tmp, "parts"), demodata.Config{Seed: 7, Parts: 1, Rows: 400})
	if err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(tmp, "s")
	if code, _, errs := runCmd(t, "ingest", "--quiet", "--store", store, paths[0]); code != 0 {
		t.Fatal(errs)
	}
	code, out, errs := runCmd(t, "dups", "--store", store, "--key", "sample_id", "--format", "json", "--drop", filepath.Join(tmp, "drop.csv"))
	var r struct {
		Rows, Keys, Duplicates int
	}
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.Rows != 400 || r.Keys != 400 || r.Duplicates != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	code, out, errs = runCmd(t, "dups", "--store", store)
	if code != 0 || !strings.Contains(spaces.ReplaceAllString(out, " "), "distinct keys ") {
		t.Errorf("exit %d: %s %s", code, out, errs)
	}
	// --where: the rows of the query's selection.
	code, out, errs = runCmd(t, "query", "--store", store, "--format", "json", "all where nsfw = 'NSFW'")
	var q struct{ Selected int }
	if code != 0 || json.Unmarshal([]byte(out), &q) != nil || q.Selected == 0 {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	code, out, errs = runCmd(t, "dups", "--store", store, "--key", "nsfw", "--where", "nsfw = 'NSFW'", "--format", "json")
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.Rows != q.Selected || r.Keys != 1 || r.Duplicates != q.Selected-1 {
		t.Errorf("--where: exit %d: %s %s", code, out, errs)
	}
}

// TestCLIDupsNear: planted near-duplicate image embeddings are found by
// both methods, --drop names each dropped row's kept row, --where
// restricts the rows, and mistakes are usage errors.
func TestCLIDupsNear(t *testing.T) {
	tmp := t.TempDir()
	emb, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 8, Parts: 2, Rows: 500, Dim: 64, Fine: 20, NoText: true, NearDups: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(tmp, "s")
	if code, _, errs := runCmd(t, "ingest", "--quiet", "--store", store, emb.Dir); code != 0 {
		t.Fatal(errs)
	}
	type report struct {
		Where                    string
		Method                   string
		Exact                    bool
		Rows, Groups, Duplicates int
		Pairs                    int64
		Index                    *struct{ Searches int }
	}
	dups := func(args ...string) report {
		t.Helper()
		code, out, errs := runCmd(t, append([]string{"dups", "--store", store, "--near", "--format", "json"}, args...)...)
		var r report
		if code != 0 || json.Unmarshal([]byte(out), &r) != nil {
			t.Fatalf("dups %q: exit %d: %s %s", args, code, out, errs)
		}
		return r
	}
	drop := filepath.Join(tmp, "drop.csv")
	ex := dups("--drop", drop)
	if ex.Method != "exact" || !ex.Exact || ex.Rows != 1000 || ex.Duplicates < len(emb.NearDups)*9/10 || ex.Groups == 0 {
		t.Errorf("exact: %+v for %d planted", ex, len(emb.NearDups))
	}
	f, err := os.Open(drop)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) != 1+ex.Duplicates || strings.Join(recs[0][:3], ",") != "row,kept_row,file" || recs[1][1] >= recs[1][0] {
		t.Errorf("drop.csv: %d records, %v, %q", len(recs), err, recs[:min(2, len(recs))])
	}
	ix := dups("--method", "index", "--k", "8", "--ef", "32", "--sample", "200")
	if ix.Method != "index" || ix.Index == nil || ix.Index.Searches != 1000 || ix.Duplicates != ex.Duplicates {
		t.Errorf("index: %+v, exact %+v", ix, ex)
	}
	if r := dups("--where", "nsfw = 'no such label'"); r.Rows != 0 || r.Groups != 0 || !r.Exact || r.Where == "" {
		t.Errorf("an empty selection: %+v", r)
	}
	if r := dups("--where", "nsfw = 'UNLIKELY'", "--threshold", "0.97"); r.Rows == 0 || r.Rows >= 1000 || r.Pairs >= ex.Pairs {
		t.Errorf("a selection at 0.97: %+v", r)
	}
	code, out, errs := runCmd(t, "dups", "--store", store, "--near")
	if code != 0 || !strings.Contains(spaces.ReplaceAllString(out, " "), "method exact (the answer is exact)") {
		t.Errorf("table: exit %d: %s %s", code, out, errs)
	}
	if code, _, errs := runCmd(t, "dups", "--store", store, "--near", "--space", "text"); code != 1 || !strings.Contains(errs, "no text embeddings") {
		t.Errorf("--space text without text embeddings: exit %d, %s", code, errs)
	}
	for _, args := range [][]string{
		{"--near", "--threshold", "0"}, {"--near", "--threshold", "1.5"}, {"--near", "--threshold", "-1"},
		{"--threshold", "0.9"}, {"--near", "--key", "url"}, {"--near", "--space", "audio"}, {"--near", "--method", "fast"},
		{"--near", "--k", "0"}, {"--near", "--sample", "-1"}, {"--near", "--ef", "-1"}, {"--ef", "64"}, {"--where", "nsfw = 'NSFW' limit 3"},
	} {
		if code, out, errs := runCmd(t, append([]string{"dups", "--store", store}, args...)...); code != 2 || out != "" {
			t.Errorf("dups %q: exit %d, %q %q; want a usage error", args, code, out, errs)
		}
	}
}

// TestCLICompare runs compare on one store with two queries, and on two
// stores with one, checking the numbers against each query's own output.
func TestCLICompare(t *testing.T) {
	tmp := t.TempDir()
	paths, _, err := demodata.LAION400M(filepath.Join(tmp, "parts"), demodata.Config{Seed: 7, Parts: 3, Rows: 300})
	if err != nil {
		t.Fatal(err)
	}
	a, b := filepath.Join(tmp, "a"), filepath.Join(tmp, "b")
	for _, st := range []struct {
		dir   string
		parts []string
	}{{a, paths}, {b, paths[:2]}} {
		if code, _, errs := runCmd(t, append([]string{"ingest", "--quiet", "--store", st.dir}, st.parts...)...); code != 0 {
			t.Fatal(errs)
		}
	}
	qa := "all sample 100 per file seed 3 where text contains 'a' by file"
	code, out, errs := runCmd(t, "query", "--store", a, "--format", "json", qa)
	var ref struct{ Files engine.FileRates }
	if code != 0 || json.Unmarshal([]byte(out), &ref) != nil || len(ref.Files.Files) != 3 || ref.Files.Pooled.Of != 300 {
		t.Fatalf("query: exit %d: %s %s", code, out, errs)
	}
	code, out, errs = runCmd(t, "compare", "--store", a, "--other", b, "--format", "json", qa)
	var c audit.RateComparison
	if code != 0 || json.Unmarshal([]byte(out), &c) != nil {
		t.Fatalf("compare: exit %d: %s %s", code, out, errs)
	}
	if c.A.Pooled != ref.Files.Pooled || c.A.Files != 3 || c.B.Files != 2 || c.Welch == nil || c.Difference != c.A.Pooled.Share-c.B.Pooled.Share {
		t.Errorf("compare: %+v, want side A's pooled %+v", c, ref.Files.Pooled)
	}
	code, out, errs = runCmd(t, "compare", "--store", a, qa, "all where text contains 'e' by file")
	if code != 0 || !strings.Contains(out, "Welch's t") || !strings.Contains(out, "Newcombe") {
		t.Errorf("compare two queries: exit %d: %s %s", code, out, errs)
	}
	for _, args := range [][]string{{"compare", "--store", a, qa}, {"compare", "--store", a, "all", "all by file"}} {
		if code, _, errs := runCmd(t, args...); code == 0 || !(strings.Contains(errs, "QUERY_B or --other") || strings.Contains(errs, "by file")) {
			t.Errorf("%q: exit %d: %s", args, code, errs)
		}
	}
}

// TestServeRefusesOpenListenWithoutToken: serve listens beyond loopback
// only with a bearer token, and an empty token file is an error.
func TestServeRefusesOpenListenWithoutToken(t *testing.T) {
	t.Setenv("LAIONDB_TOKEN", "")
	tok := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tok, []byte("\n"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--store", "s", "--listen", "0.0.0.0:0"}, "give a bearer token"},
		{[]string{"serve", "--store", "s", "--listen", "192.168.1.5:80"}, "give a bearer token"},
		{[]string{"serve", "--store", "s", "--listen", "nonsense"}, "--listen"},
		{[]string{"serve", "--store", "s", "--token", tok}, "is empty"},
		{[]string{"serve", "--store", "n="}, "the store path is empty"},
	} {
		code, _, errs := runCmd(t, tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%q: exit %d: %s", tc.args, code, errs)
		}
	}
}

// TestCLITextIndex builds the trigram index through the CLI: a query's
// answer stays the same, its plan names the index, and check passes.
func TestCLITextIndex(t *testing.T) {
	_, store := testStore(t)
	const q = "all where text contains 'desi'"
	selected := func() int {
		t.Helper()
		code, out, errs := runCmd(t, "query", "--store", store, "--format", "json", q)
		var res struct {
			Selected int    `json:"selected"`
			Plan     string `json:"plan"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
			t.Fatalf("query: exit %d: %s %s", code, out, errs)
		}
		return res.Selected
	}
	before := selected()
	code, out, errs := runCmd(t, "index", "--store", store, "--text", "text,url")
	if code != 0 || !strings.Contains(out, "text index of text: 3 of 3 segments, ") || !strings.Contains(out, "text index of url: 3 of 3 segments, ") {
		t.Fatalf("index --text: exit %d: %s %s", code, out, errs)
	}
	if after := selected(); after != before || before == 0 {
		t.Errorf("%s selects %d rows with the index, %d without", q, after, before)
	}
	// --explain asks the index for the candidates (here more than 1/8 of
	// the demo store's rows: a scan), at least the rows selected.
	code, out, _ = runCmd(t, "query", "--store", store, "--explain", q)
	m := regexp.MustCompile(`text index's (\d+) candidates are more than 1/8 of the 2000 rows; each would cost about 6.5 scanned rows`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Errorf("explain: exit %d: %s", code, out)
	} else if k, _ := strconv.Atoi(m[1]); k < before {
		t.Errorf("explain: %d candidates, but %d rows selected", k, before)
	}
	code, out, _ = runCmd(t, "query", "--store", store, "--explain", "all where text contains 'de'")
	if code != 0 || !strings.Contains(out, "(scan: needle shorter than 3 bytes)") {
		t.Errorf("explain: exit %d: %s", code, out)
	}
	code, out, errs = runCmd(t, "check", "--store", store)
	if code != 0 {
		t.Errorf("check: exit %d: %s %s", code, out, errs)
	}
	code, out, _ = runCmd(t, "info", "--store", store)
	if code != 0 || !strings.Contains(out, "trigram index  column url: 3 of 3 segments, ") {
		t.Errorf("info: exit %d: %s", code, out)
	}
	code, _, errs = runCmd(t, "index", "--store", store, "--text", "nope")
	if code != 1 || !strings.Contains(errs, `no column "nope"`) {
		t.Errorf("index --text nope: exit %d: %s", code, errs)
	}
	code, _, _ = runCmd(t, "index", "--store", store, "--text", "text", "--rebuild")
	if code != 2 {
		t.Errorf("index --text --rebuild: exit %d, want 2", code)
	}
}

// TestQuerySeveralStores: query with --store given once per shard answers
// as the store of all the shards' files does (the JSON apart from the
// plan, fingerprint and search method), prints a plan over the shards,
// and refuses a store given twice.
func TestQuerySeveralStores(t *testing.T) {
	tmp := t.TempDir()
	var dirs []string
	for i := range 2 {
		dir := filepath.Join(tmp, fmt.Sprintf("emb%d", i))
		if _, err := demodata.EmbeddingFolder(dir, demodata.Config{Seed: uint64(20 + i), Parts: 2, Rows: 150, Dim: 16}); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	ingest := func(store string, src ...string) {
		if code, _, errs := runCmd(t, append([]string{"ingest", "-q", "--store", store}, src...)...); code != 0 {
			t.Fatalf("ingest %v: exit %d: %s", src, code, errs)
		}
	}
	whole, a, b := filepath.Join(tmp, "whole"), filepath.Join(tmp, "a"), filepath.Join(tmp, "b")
	ingest(whole, dirs...)
	ingest(a, dirs[0])
	ingest(b, dirs[1])
	strip := func(out string) map[string]any { return stripJSON(t, []byte(out)) }
	for _, q := range []string{"all where nsfw = 'UNLIKELY' by license", "knn(row(450), 20) where text contains 'a'", "within(row(3), 0.5)"} {
		code, one, errs := runCmd(t, "query", "--store", whole, "--format", "json", "--rows", "all", q)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", q, code, errs)
		}
		code, two, errs := runCmd(t, "query", "--store", a, "--store", b, "--format", "json", "--rows", "all", q)
		if code != 0 {
			t.Fatalf("%s over two stores: exit %d: %s", q, code, errs)
		}
		if !reflect.DeepEqual(strip(one), strip(two)) {
			t.Errorf("%s: two shards answer\n%s\nthe store of both\n%s", q, two, one)
		}
	}
	code, plan, errs := runCmd(t, "query", "--store", a, "--store", b, "--explain", "knn(row(450), 20)")
	if code != 0 || !strings.Contains(plan, "knn") {
		t.Errorf("--explain over two stores: exit %d: %s%s", code, plan, errs)
	}
	code, _, errs = runCmd(t, "query", "--store", a, "--store", a, "all")
	if code != 1 || !strings.Contains(errs, "twice") {
		t.Errorf("a store given twice: exit %d: %s", code, errs)
	}

	// dups and export read the shards as one store too.
	for _, args := range [][]string{
		{"dups", "--key", "url", "--format", "json"},
		{"dups", "--near", "--threshold", "0.9", "--format", "json"},
		{"export", "--out", "-", "--format", "csv", "within(row(3), 0.4)"},
	} {
		code, one, errs := runCmd(t, append([]string{args[0], "--store", whole}, args[1:]...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		code, two, errs := runCmd(t, append([]string{args[0], "--store", a, "--store", b}, args[1:]...)...)
		if code != 0 {
			t.Fatalf("%v over two stores: exit %d: %s", args, code, errs)
		}
		if args[0] == "dups" {
			if !reflect.DeepEqual(strip(one), strip(two)) {
				t.Errorf("%v: two shards\n%s\nthe store of both\n%s", args, two, one)
			}
		} else if one != two || len(one) < 100 {
			t.Errorf("%v: two shards\n%s\nthe store of both\n%s", args, two, one)
		}
	}

	// Each shard's partial result, merged, answers as the store of both.
	q := "all where text contains 'a' by license, nsfw sweep similarity at (0.3)"
	pa, pb := filepath.Join(tmp, "a.json"), filepath.Join(tmp, "b.json")
	for _, c := range [][]string{{a, pa, "1/2"}, {b, pb, "2/2"}} {
		if code, out, errs := runCmd(t, "query", "--store", c[0], "--partial", c[1], "--shard", c[2], "--rows", "5", q); code != 0 || !strings.Contains(out, "wrote the partial result of shard") {
			t.Fatalf("partial of %s: exit %d: %s%s", c[0], code, out, errs)
		}
	}
	code, one, errs := runCmd(t, "query", "--store", whole, "--format", "json", "--rows", "5", q)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	code, merged, errs := runCmd(t, "merge", "--format", "json", pb, pa)
	if code != 0 {
		t.Fatalf("merge: exit %d: %s", code, errs)
	}
	if !reflect.DeepEqual(strip(one), strip(merged)) {
		t.Errorf("merged partials\n%s\nthe store of both\n%s", merged, one)
	}
	// A sample of the whole store, each shard given its place among the
	// rows of both; a place that does not follow the shards' rows is
	// refused at the merge.
	var rowsA, rowsB int
	for _, c := range []struct {
		store string
		n     *int
	}{{a, &rowsA}, {b, &rowsB}} {
		code, out, _ := runCmd(t, "query", "--store", c.store, "--format", "json", "all")
		var r struct {
			Total int `json:"total_rows"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.Total == 0 {
			t.Fatalf("rows of %s: exit %d: %s", c.store, code, out)
		}
		*c.n = r.Total
	}
	sq := "all sample 40 seed 3 where nsfw = 'UNLIKELY' by file"
	total := fmt.Sprint(rowsA + rowsB)
	sa, sb, sbad := filepath.Join(tmp, "sa.json"), filepath.Join(tmp, "sb.json"), filepath.Join(tmp, "sbad.json")
	for _, c := range [][]string{{a, sa, "1/2", "0"}, {b, sb, "2/2", fmt.Sprint(rowsA)}, {b, sbad, "2/2", fmt.Sprint(rowsA - 1)}} {
		tot := total
		if c[1] == sbad {
			tot = fmt.Sprint(rowsA + rowsB - 1)
		}
		if code, out, errs := runCmd(t, "query", "--store", c[0], "--partial", c[1], "--shard", c[2], "--rows-before", c[3], "--rows-total", tot, sq); code != 0 {
			t.Fatalf("sample partial of %s: exit %d: %s%s", c[0], code, out, errs)
		}
	}
	code, one, errs = runCmd(t, "query", "--store", whole, "--format", "json", sq)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if code, merged, errs = runCmd(t, "merge", "--format", "json", sa, sb); code != 0 {
		t.Fatalf("merge of a sample: exit %d: %s", code, errs)
	}
	if !reflect.DeepEqual(strip(one), strip(merged)) || !strings.Contains(one, `"rows_scanned": 40,`) {
		t.Errorf("merged sample partials\n%s\nthe store of both\n%s", merged, one)
	}
	if code, _, errs = runCmd(t, "merge", sa, sbad); code != 1 || !strings.Contains(errs, "rows in all, shard 2 among") {
		t.Errorf("a misplaced shard merged: exit %d: %s", code, errs)
	}
	// A row target through its vector: laiondb vector writes row N's
	// query vector from the shards (the row lies in b) as from the store
	// of both, and every shard searches with it.
	rowN := fmt.Sprint(rowsA + 3)
	va, vw := filepath.Join(tmp, "va.npy"), filepath.Join(tmp, "vw.npy")
	if code, out, errs := runCmd(t, "vector", "--store", a, "--store", b, "--out", va, "row("+rowN+")"); code != 0 || !strings.Contains(out, "query vector of row("+rowN+")") {
		t.Fatalf("vector: exit %d: %s%s", code, out, errs)
	}
	if code, _, errs := runCmd(t, "vector", "--store", whole, "--out", vw, "row("+rowN+")"); code != 0 {
		t.Fatalf("vector: exit %d: %s", code, errs)
	}
	if x, y := readFile(t, va), readFile(t, vw); x != y || len(x) < 100 {
		t.Errorf("row %s's vector from the shards differs from the store's", rowN)
	}
	vq := "knn(vector('" + va + "'), 20) by nsfw"
	for _, c := range [][]string{{a, pa, "1/2"}, {b, pb, "2/2"}} {
		if code, out, errs := runCmd(t, "query", "--store", c[0], "--partial", c[1], "--shard", c[2], "--rows", "3", vq); code != 0 {
			t.Fatalf("partial of %s: exit %d: %s%s", c[0], code, out, errs)
		}
	}
	_, one, _ = runCmd(t, "query", "--store", whole, "--format", "json", "--rows", "3", vq)
	_, merged, _ = runCmd(t, "merge", "--format", "json", pa, pb)
	_, rowRes, _ := runCmd(t, "query", "--store", whole, "--format", "json", "--rows", "3", "knn(row("+rowN+"), 20) by nsfw")
	if !reflect.DeepEqual(strip(one), strip(merged)) || !strings.Contains(rowRes, `"row": `+rowN) || !strings.Contains(merged, `"row": `+rowN) {
		t.Errorf("knn through row %s's vector: merged\n%s\nthe store of both\n%s", rowN, merged, one)
	}
	// The row target itself, in two steps: each shard writes what it
	// holds of it, then each searches from every shard's resolution.
	rq := "knn(row(" + rowN + "), 20) by nsfw"
	for _, c := range [][]string{{a, "1/2", "0", "holds no row of the target"}, {b, "2/2", fmt.Sprint(rowsA), "holds the target: row " + rowN}} {
		tf := filepath.Join(tmp, "t-"+c[1][:1]+".json")
		if code, out, errs := runCmd(t, "query", "--store", c[0], "--target-out", tf, "--shard", c[1], "--rows-before", c[2], "--rows-total", total, rq); code != 0 || !strings.Contains(out, c[3]) {
			t.Fatalf("--target-out of %s: exit %d: %s%s", c[0], code, out, errs)
		}
	}
	for _, c := range [][]string{{a, pa, "1/2", "0"}, {b, pb, "2/2", fmt.Sprint(rowsA)}} {
		if code, out, errs := runCmd(t, "query", "--store", c[0], "--partial", c[1], "--shard", c[2], "--rows-before", c[3], "--rows-total", total, "--target", filepath.Join(tmp, "t-*.json"), "--rows", "3", rq); code != 0 {
			t.Fatalf("partial of %s from the resolved row: exit %d: %s%s", c[0], code, out, errs)
		}
	}
	_, merged, _ = runCmd(t, "merge", "--format", "json", pa, pb)
	if !reflect.DeepEqual(strip(rowRes), strip(merged)) {
		t.Errorf("knn(row(%s)) from its resolution: merged\n%s\nthe store of both\n%s", rowN, merged, rowRes)
	}
	if code, _, errs := runCmd(t, "query", "--store", a, "--partial", pa, "--shard", "1/2", "--rows-before", "0", "--rows-total", total, "--target", filepath.Join(tmp, "t-1.json"), rq); code != 1 || !strings.Contains(errs, "shard 2 is missing") {
		t.Errorf("--target without every shard's: exit %d: %s", code, errs)
	}

	// Exact duplicates: each shard's distinct keys, merged, count as the
	// store of both; the table too.
	for _, args := range [][]string{{"--key", "url"}, {"--key", "url,text", "--where", "nsfw = 'UNLIKELY'"}} {
		da, db := filepath.Join(tmp, "a.dups"), filepath.Join(tmp, "b.dups")
		for _, c := range [][]string{{a, da, "1/2"}, {b, db, "2/2"}} {
			if code, out, errs := runCmd(t, append([]string{"dups", "--store", c[0], "--partial", c[1], "--shard", c[2]}, args...)...); code != 0 || !strings.Contains(out, "wrote the distinct keys of shard") {
				t.Fatalf("dups partial of %s: exit %d: %s%s", c[0], code, out, errs)
			}
		}
		code, one, errs := runCmd(t, append([]string{"dups", "--store", whole, "--format", "json"}, args...)...)
		if code != 0 {
			t.Fatalf("dups: exit %d: %s", code, errs)
		}
		code, merged, errs := runCmd(t, "dups", "--merge", "--format", "json", db, da)
		if code != 0 {
			t.Fatalf("dups --merge: exit %d: %s", code, errs)
		}
		if !reflect.DeepEqual(strip(one), strip(merged)) || !strings.Contains(one, `"duplicates"`) {
			t.Errorf("dups %v: merged\n%s\nthe store of both\n%s", args, merged, one)
		}
		_, oneT, _ := runCmd(t, append([]string{"dups", "--store", whole}, args...)...)
		_, mergedT, _ := runCmd(t, "dups", "--merge", da, db)
		cutFP := func(s string) string { return regexp.MustCompile(`fingerprint \S+`).ReplaceAllString(s, "") }
		if cutFP(oneT) != cutFP(mergedT) || len(oneT) < 100 {
			t.Errorf("dups %v tables: merged\n%s\nthe store of both\n%s", args, mergedT, oneT)
		}
		// Again with --skip-done: kept; a damaged file is written again.
		if code, out, _ := runCmd(t, append([]string{"dups", "--store", a, "--partial", da, "--shard", "1/2", "--skip-done"}, args...)...); code != 0 || !strings.Contains(out, "already holds the distinct keys of shard 1 of 2") {
			t.Errorf("dups --skip-done: exit %d: %s", code, out)
		}
		good := readFile(t, da)
		os.WriteFile(da, []byte(good[:len(good)-3]), 0o644)
		if code, out, _ := runCmd(t, append([]string{"dups", "--store", a, "--partial", da, "--shard", "1/2", "--skip-done"}, args...)...); code != 0 || !strings.Contains(out, "wrote the distinct keys") || readFile(t, da) != good {
			t.Errorf("dups --skip-done over a truncated file: exit %d: %s", code, out)
		}
		if code, _, errs := runCmd(t, "dups", "--merge", da); code != 1 || !strings.Contains(errs, "missing: 2") {
			t.Errorf("dups --merge of one shard: exit %d: %s", code, errs)
		}
	}
	// Near-duplicates: the task within each shard and the task between
	// them, merged, report as the store of both.
	for _, args := range [][]string{{"--threshold", "0.9"}, {"--threshold", "0.92", "--space", "text", "--where", "nsfw = 'UNLIKELY'"}} {
		n11, n22, n12 := filepath.Join(tmp, "n11.near"), filepath.Join(tmp, "n22.near"), filepath.Join(tmp, "n12.near")
		for _, c := range [][]string{{"--store", a, "--partial", n11, "--shard", "1/2"}, {"--store", b, "--partial", n22, "--shard", "2/2"},
			{"--store", a, "--store", b, "--with", "2", "--partial", n12, "--shard", "1/2"}} {
			if code, out, errs := runCmd(t, append(append([]string{"dups", "--near"}, c...), args...)...); code != 0 || !strings.Contains(out, "near-duplicate pairs of shards") {
				t.Fatalf("dups --near %v: exit %d: %s%s", c, code, out, errs)
			}
		}
		code, one, errs := runCmd(t, append([]string{"dups", "--near", "--method", "exact", "--store", whole, "--format", "json"}, args...)...)
		if code != 0 {
			t.Fatalf("dups --near: exit %d: %s", code, errs)
		}
		code, merged, errs := runCmd(t, "dups", "--merge", "--format", "json", n22, n12, n11)
		if code != 0 {
			t.Fatalf("dups --merge of near pairs: exit %d: %s", code, errs)
		}
		cut := func(s string) map[string]any { m := strip(s); delete(m, "scored"); return m }
		if !reflect.DeepEqual(cut(one), cut(merged)) || strings.Contains(one, `"groups": 0,`) {
			t.Errorf("dups --near %v: merged\n%s\nthe store of both\n%s", args, merged, one)
		}
		// And over both shards' stores on one machine (a union, whose
		// range searches run in batches part by part).
		code, both, errs := runCmd(t, append([]string{"dups", "--near", "--method", "exact", "--store", a, "--store", b, "--format", "json"}, args...)...)
		if code != 0 || !reflect.DeepEqual(cut(one), cut(both)) {
			t.Errorf("dups --near %v over two stores: exit %d: %s\n%s\nthe store of both\n%s", args, code, errs, both, one)
		}
		if code, out, _ := runCmd(t, append([]string{"dups", "--near", "--store", a, "--store", b, "--with", "2", "--partial", n12, "--shard", "1/2", "--skip-done"}, args...)...); code != 0 || !strings.Contains(out, "already holds the near-duplicate pairs of shards 1 and 2") {
			t.Errorf("dups --near --skip-done: exit %d: %s", code, out)
		}
		if code, _, errs := runCmd(t, "dups", "--merge", n11, n22); code != 1 || !strings.Contains(errs, "missing: shards 1 and 2") {
			t.Errorf("a missing task: exit %d: %s", code, errs)
		}
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"merge", pa}, 1, "missing: 2"},
		{[]string{"dups", "--near", "--store", a, "--partial", pa, "--shard", "1/2", "--with", "2"}, 2, "a near-duplicates task reads one shard's store"},
		{[]string{"dups", "--near", "--store", a, "--store", b, "--partial", pa, "--shard", "2/2", "--with", "1"}, 2, "--with 1: want the other shard J"},
		{[]string{"dups", "--near", "--store", a, "--partial", pa, "--shard", "1/2", "--method", "index"}, 2, "found exactly"},
		{[]string{"dups", "--store", a, "--with", "2"}, 2, "--with names the other shard"},
		{[]string{"merge", pa, pa, pb}, 1, "given twice"},
		{[]string{"merge", filepath.Join(tmp, "whole", "MANIFEST.json")}, 1, "not a partial result"},
		{[]string{"query", "--store", a, "--partial", pa, q}, 2, "--partial needs --shard"},
		{[]string{"query", "--store", a, "--partial", pa, "--shard", "3/2", q}, 2, "--shard 3/2"},
		{[]string{"query", "--store", a, "--partial", pa, "--shard", "1/2", "knn(row(3), 5)"}, 1, "resolve it on every shard first"},
		{[]string{"query", "--store", a, "--target-out", pa, "--shard", "1/2", "knn(row(3), 5)"}, 2, "give --rows-before N --rows-total N"},
		{[]string{"query", "--store", a, "--target-out", pa, "--rows-before", "0", "--rows-total", "9", "knn(row(3), 5)"}, 2, "--target-out needs --shard"},
		{[]string{"query", "--store", a, "--target", pa, "knn(row(3), 5)"}, 2, "give --partial FILE"},
		{[]string{"query", "--store", a, "--partial", pa, "--shard", "1/2", sq}, 1, "give the shard's place"},
		{[]string{"query", "--store", a, "--partial", pa, "--shard", "1/2", "--rows-before", "0", sq}, 2, "give both"},
		{[]string{"query", "--store", a, "--rows-before", "0", "--rows-total", "9", sq}, 2, "give --partial FILE"},
		{[]string{"dups", "--store", a, "--partial", pa}, 2, "--partial needs --shard"},
		{[]string{"dups", "--store", a, "--partial", pa, "--shard", "1/2", "--drop", "x.csv"}, 2, "--drop lists"},
		{[]string{"dups", "--merge", "--store", a, pa}, 2, "--store does not go with --merge"},
		{[]string{"dups", "--merge"}, 2, "give the partial files"},
		{[]string{"vector", "--store", a, "row(1)"}, 2, "give --out"},
		{[]string{"vector", "--store", a, "--out", filepath.Join(tmp, "x.npy"), "rows(file('x.txt'))"}, 2, "a seed set"},
		{[]string{"vector", "--store", a, "--out", filepath.Join(tmp, "x.npy"), "row(999999)"}, 1, "999999"},
		{[]string{"dups", "--merge", pa}, 1, "not a dups partial"},
		{[]string{"ingest", "--store", a, "--shard", "3/2", dirs[0]}, 2, "--shard 3/2"},
	} {
		code, _, errs := runCmd(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, %s; want exit %d and %q", c.args, code, errs, c.code, c.want)
		}
	}
}

// TestCLIAuditShards: three shards (ingest --shard K/3) each write the
// audit's partial results (audit --partial DIR --shard K/3); audit --merge
// DIR --shards 3 reports what the audit of the store of all the sources
// reports, apart from the fingerprint, the search methods, the command
// and the date.
func TestCLIAuditShards(t *testing.T) {
	vocab := clipVocab(t)
	needRuntime(t)
	tmp, store := testStore(t)
	model := filepath.Join(encodeRoot(t), "encode", "testdata", "models", "hf")
	paths := []string{filepath.Join(tmp, "emb"), filepath.Join(tmp, "meta")}
	parts := filepath.Join(tmp, "partials")
	for k := 1; k <= 3; k++ {
		shard := filepath.Join(tmp, fmt.Sprintf("shard-%d", k))
		if code, _, errs := runCmd(t, append([]string{"ingest", "-q", "--store", shard, "--model-name", "tiny-clip-test", "--shard", fmt.Sprintf("%d/3", k)}, paths...)...); code != 0 {
			t.Fatalf("ingest shard %d: exit %d: %s", k, code, errs)
		}
		if code, out, errs := runCmd(t, "audit", "--store", shard, "--model", model, "--vocab", vocab, "--k", "20", "--rows", "2",
			"--partial", parts, "--shard", fmt.Sprintf("%d/3", k)); code != 0 || !strings.Contains(out, "wrote the partial results") {
			t.Fatalf("audit of shard %d: exit %d: %s%s", k, code, out, errs)
		}
	}
	norm := func(out string) map[string]any {
		var v map[string]any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		for _, k := range []string{"fingerprint", "command", "date", "model"} {
			delete(v, k)
		}
		for _, term := range v["terms"].([]any) {
			for _, view := range term.(map[string]any)["views"].([]any) {
				delete(view.(map[string]any), "method")
			}
		}
		return v
	}
	code, one, errs := runCmd(t, "audit", "--store", store, "--model", model, "--vocab", vocab, "--k", "20", "--rows", "2", "--format", "json")
	if code != 0 {
		t.Fatalf("audit: exit %d: %s", code, errs)
	}
	code, merged, errs := runCmd(t, "audit", "--merge", parts, "--shards", "3", "--k", "20", "--rows", "2", "--format", "json")
	if code != 0 {
		t.Fatalf("audit --merge: exit %d: %s", code, errs)
	}
	if !reflect.DeepEqual(norm(one), norm(merged)) {
		t.Errorf("the merged audit\n%s\nthe store's\n%s", merged, one)
	}
	if code, _, errs := runCmd(t, "audit", "--merge", parts, "--shards", "4"); code != 1 || !strings.Contains(errs, "shard 1 of 4") {
		t.Errorf("--shards 4 where 3 wrote: exit %d: %s", code, errs)
	}
	if code, _, errs := runCmd(t, "audit", "--store", store, "--partial", parts); code != 2 || !strings.Contains(errs, "--shard") {
		t.Errorf("--partial without --shard: exit %d: %s", code, errs)
	}
}

// stripJSON reads a result printed as JSON without what shards word
// differently from one store: the plan, the fingerprint and the search
// method.
func stripJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	delete(v, "plan")
	delete(v, "fingerprint")
	if s, ok := v["search"].(map[string]any); ok {
		delete(s, "method")
	}
	return v
}

// readFile returns the content of a file the test needs.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLazyFile: a lazy file opens at its first read and is closed once
// read to its end; a missing file fails at its first read.
func TestLazyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	os.WriteFile(path, []byte("hello"), 0o644)
	l := &lazyFile{name: path}
	if l.f != nil {
		t.Fatal("opened before a read")
	}
	b, err := io.ReadAll(l)
	if err != nil || string(b) != "hello" || l.f != nil {
		t.Fatalf("%q, %v, still open %v", b, err, l.f != nil)
	}
	if _, err := (&lazyFile{name: path + "x"}).Read(make([]byte, 4)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}
