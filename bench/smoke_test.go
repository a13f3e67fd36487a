package bench

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSmoke runs the harness end to end on a tiny generated set with the Go
// systems only (laiondb's index and exact scan, coder/hnsw). The external
// systems (FAISS, hnswlib) need Debian packages and run only in the scripted
// comparison, bench/run.sh.
func TestSmoke(t *testing.T) {
	dir := t.TempDir()
	var out, progress bytes.Buffer
	rs, err := Run(context.Background(), RunConfig{
		Data:    DataConfig{N: 1500, NQ: 20, Dim: 64, Seed: 3, RoundF16: true},
		Systems: []string{"go"},
		Options: Options{Dir: dir, ExactQueries: 20},
		Out:     &out, Progress: &progress,
	})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, progress.String())
	}
	byName := map[string]*Result{}
	for _, r := range rs {
		if r.Err != "" {
			t.Errorf("%s failed: %s", r.System, r.Err)
		}
		byName[r.System] = r
	}
	best := func(name, qs string) float64 {
		r := byName[name]
		if r == nil {
			t.Fatalf("no result for %s", name)
		}
		var b float64
		for _, p := range r.Points {
			if p.Queries == qs {
				b = max(b, p.Recall10)
			}
		}
		return b
	}
	for _, qs := range []string{"image", "text"} {
		if got := best("laiondb-exact", qs); got != 1 {
			t.Errorf("laiondb-exact %s recall@10 = %v, want 1", qs, got)
		}
		if got := best("laiondb-hnsw", qs); got < 0.95 {
			t.Errorf("laiondb-hnsw %s best recall@10 = %v, want ≥ 0.95", qs, got)
		}
		if got := best("laiondb-ivf", qs); got < 0.99 { // its widest probe reads every list
			t.Errorf("laiondb-ivf %s best recall@10 = %v, want ≥ 0.99", qs, got)
		}
	}
	for _, f := range []string{"results.json", "bench.txt", "report.md", "recall-qps.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(out.String(), "BenchmarkSearch/system=laiondb-hnsw/M=16/efC=200/seeds=16/queries=image/ef=64\t") ||
		!strings.Contains(out.String(), "recall@10") {
		t.Errorf("benchmark lines missing:\n%s", out.String())
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	if !strings.Contains(string(md), "| laiondb-hnsw M=16 efC=200 seeds=16 |") {
		t.Errorf("report lacks the laiondb row:\n%s", md)
	}
}

func TestRecall(t *testing.T) {
	gt := make([]int32, 2*GTK)
	for i := range gt {
		gt[i] = int32(i % GTK)
	}
	res := []int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 8, 7, 6, 5, 50, 51, 52, 53, -1}
	if got := Recall(res, 10, gt, 10); got != 0.75 {
		t.Errorf("recall@10 = %v, want 0.75", got)
	}
	if got := Recall(res, 10, gt, 1); got != 0.5 {
		t.Errorf("recall@1 = %v, want 0.5", got)
	}
}

func TestGroundTruthTies(t *testing.T) {
	base := []float32{1, 0, 0.5, 0.5, 1, 0, 0, 1}
	gt, err := GroundTruth(context.Background(), base, []float32{1, 0}, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if gt[0] != 0 || gt[1] != 2 || gt[2] != 1 {
		t.Errorf("got %v, want [0 2 1] (ties by lower id)", gt)
	}
}

// TestGenerators checks that the two generators give different data under
// different names and cache folders, and that an unknown one is an error.
func TestGenerators(t *testing.T) {
	dir := t.TempDir()
	load := func(gen string) *Dataset {
		t.Helper()
		ds, err := LoadData(context.Background(), DataConfig{Gen: gen, N: 300, NQ: 5, Dim: 32, Seed: 2, RoundF16: true, Dir: dir})
		if err != nil {
			t.Fatalf("gen %q: %v", gen, err)
		}
		return ds
	}
	def, syn, con := load(""), load("synth"), load("concepts")
	if def.Name != syn.Name || def.Gen != "synth" {
		t.Errorf("default generator: %s (%s), want synth's %s", def.Name, def.Gen, syn.Name)
	}
	if !strings.HasPrefix(con.Name, "concepts-") || con.Dir == syn.Dir || con.Queries[0].GTPath == syn.Queries[0].GTPath {
		t.Errorf("concepts data %s in %s shares a name or folder with synth's %s", con.Name, con.Dir, syn.Dir)
	}
	if con.Base[0] == syn.Base[0] && con.Base[1] == syn.Base[1] {
		t.Error("concepts and synth gave the same vectors")
	}
	if _, err := LoadData(context.Background(), DataConfig{Gen: "nope", N: 10, NQ: 1, Dir: dir}); err == nil {
		t.Error("unknown generator: no error")
	}
}
