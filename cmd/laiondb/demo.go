package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/laiondb/laiondb/db"
	"github.com/laiondb/laiondb/demodata"
)

var demoFlags struct {
	dir   string
	rows  int
	parts int
	dim   int
	near  float64
	fine  int
	fresh bool
	quiet bool
	model string
	vocab string
}

// The demo's CLIP model: the tiny CLIP-shaped test model, with OpenAI's
// BPE vocabulary from the shared folder beside the checkout.
const (
	demoModel = "encode/testdata/models/hf"
	demoVocab = "../shared/clip/bpe_simple_vocab_16e6.txt.gz"
	demoImage = "encode/testdata/images/landscape.png"
)

func init() {
	register(&command{
		name:    "demo",
		summary: "build a demo store from a generated LAION-like dataset and audit it",
		usage:   "[--dir DIR]",
		flags: func(fs *pflag.FlagSet) {
			f := &demoFlags
			fs.StringVar(&f.dir, "dir", "demo-store", "folder for the generated data and the store")
			fs.IntVar(&f.parts, "parts", 2, "files of each kind to generate")
			fs.IntVar(&f.rows, "rows", 50000, "rows per generated file")
			fs.IntVar(&f.dim, "dim", 0, "embedding dimension (default: the demo model's, else 512)")
			fs.Float64Var(&f.near, "near-dups", 0, "share of rows whose image embedding is a planted near-duplicate of an earlier row's (cosine 0.95 to 1)")
			fs.IntVar(&f.fine, "clusters", 0, "concepts the embeddings are drawn from (default 32: heavily clustered, so that searches need a large ef; CLIP-like sets of n rows have about n/100)")
			fs.StringVar(&f.model, "model", demoModel, "CLIP model folder for the text searches")
			fs.StringVar(&f.vocab, "vocab", demoVocab, "tokenizer file for the model")
			fs.BoolVar(&f.fresh, "fresh", false, "delete DIR first")
			fs.BoolVarP(&f.quiet, "quiet", "q", false, "no progress bar")
		},
		run: runDemo,
	})
}

// demoMarker marks a folder that laiondb demo made: the only kind of
// non-empty folder demo deletes or rebuilds.
const demoMarker = ".laiondb-demo"

// claimDemoDir makes sure dir is a folder demo may use: missing or empty
// (it is created and marked), or marked by an earlier demo. Any other
// folder is refused, so that a mistyped --dir never deletes a user's files.
func claimDemoDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist) || (err == nil && len(entries) == 0):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, demoMarker), []byte("made by laiondb demo; the folder may be deleted and rebuilt by it\n"), 0o644)
	case err != nil:
		return err
	}
	if exists(filepath.Join(dir, demoMarker)) || exists(filepath.Join(dir, "data", "done")) {
		return nil // an earlier demo's folder (data/done: before the marker)
	}
	return fmt.Errorf("%s is a folder with other files in it, not one that laiondb demo made; give --dir a new or empty folder", dir)
}

func runDemo(e *env, fs *pflag.FlagSet) error {
	f := &demoFlags
	if err := claimDemoDir(f.dir); err != nil {
		return err
	}
	if f.fresh {
		if err := os.RemoveAll(f.dir); err != nil {
			return err
		}
		if err := claimDemoDir(f.dir); err != nil {
			return err
		}
	}
	withModel := exists(f.model) && exists(f.vocab)
	if f.dim == 0 {
		f.dim = 512
		if withModel {
			f.dim = 32 // the tiny test model's
		}
	}
	data := filepath.Join(f.dir, "data")
	storeDir := filepath.Join(f.dir, "store")
	if f.near < 0 || f.near > 1 {
		return usageErrorf("--near-dups %v: want a share between 0 and 1", f.near)
	}
	if f.fine < 0 {
		return usageErrorf("--clusters %d: want a positive count", f.fine)
	}
	cfg := demodata.Config{Seed: 2021, Parts: f.parts, Rows: f.rows, Dim: f.dim, NearDups: f.near, Fine: f.fine}
	if b, err := os.ReadFile(filepath.Join(data, "done")); err != nil || string(b) != fmt.Sprint(cfg) {
		// Start again from a marked, empty folder (claimed above).
		if err := os.RemoveAll(f.dir); err != nil {
			return err
		}
		if err := claimDemoDir(f.dir); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "== generating %d LAION-400M-style metadata parts and a %d-part clip-retrieval embedding folder (%d-d float16), %d rows each, in %s\n",
			f.parts, f.parts, f.dim, f.rows, data)
		if _, _, err := demodata.LAION400M(filepath.Join(data, "laion400m-meta"), cfg); err != nil {
			return fmt.Errorf("generating parquet parts: %w", err)
		}
		emb, err := demodata.EmbeddingFolder(filepath.Join(data, "laion-emb"), cfg)
		if err != nil {
			return fmt.Errorf("generating embedding folder: %w", err)
		}
		if len(emb.NearDups) > 0 {
			fmt.Fprintf(e.stdout, "planted %d near-duplicate image embeddings\n", len(emb.NearDups))
		}
		if err := os.WriteFile(filepath.Join(data, "done"), []byte(fmt.Sprint(cfg)), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "== laiondb ingest --store %s %s %s\n", storeDir, filepath.Join(data, "laion-emb"), filepath.Join(data, "laion400m-meta"))
	d, err := db.Open(storeDir, nil)
	if errors.Is(err, db.ErrCorrupt) || errors.Is(err, db.ErrVersion) {
		// A demo store left by another laiondb version: start it again.
		fmt.Fprintf(e.stdout, "(rebuilding %s: %v)\n", storeDir, err)
		if err := os.RemoveAll(storeDir); err != nil {
			return err
		}
		d, err = db.Open(storeDir, nil)
	}
	if err != nil {
		return err
	}
	srcs, err := db.ExpandPaths([]string{filepath.Join(data, "laion-emb"), filepath.Join(data, "laion400m-meta")})
	if err != nil {
		d.Close()
		return err
	}
	cb, finish := progress(e, f.quiet, "ingest")
	start := time.Now()
	res, err := d.Ingest(context.Background(), srcs, &db.IngestOptions{Progress: cb})
	finish()
	if err != nil {
		d.Close()
		return err
	}
	var rows int64
	for _, r := range res {
		if r.Skipped {
			fmt.Fprintf(e.stdout, "%s: already in the store, skipped\n", r.Name)
		} else {
			rows += r.Rows
			fmt.Fprintf(e.stdout, "%s: %d rows\n", r.Name, r.Rows)
		}
	}
	if rows > 0 {
		fmt.Fprintf(e.stdout, "ingested %d rows in %.1fs\n", rows, time.Since(start).Seconds())
	}
	if err := d.Close(); err != nil {
		return err
	}
	steps := [][]string{
		{"info", "--store", storeDir},
		// The essay's plain text search: 'desi' in TEXT, as Python's in.
		{"query", "--store", storeDir, "all where text contains 'desi'"},
		// Its keyword check over every row, text or url.
		{"query", "--store", storeDir, "all where any lexicon essay2021"},
		// Semantic search from a stored row's own embedding: no model needed.
		{"query", "--store", storeDir, "--rows", "5", "knn(row(42), 100) where nsfw = 'UNLIKELY'"},
		// The 0.3 cut questioned: what cuts around it keep and drop.
		{"query", "--store", storeDir, "all where text contains 'desi' sweep similarity"},
	}
	if withModel {
		m := []string{"--model", f.model, "--vocab", f.vocab}
		steps = append(steps,
			append([]string{"query", "--store", storeDir}, append(m, "knn('beautiful',100) where nsfw='UNLIKELY'")...),
			append([]string{"query", "--store", storeDir}, append(m, "knn('beautiful',100) post where nsfw='UNLIKELY'")...),
			append(append([]string{"sim"}, m...), demoImage, "a beautiful landscape", "a photo of a cat"),
			// The essay's audit of twelve terms, with its report.
			append(append([]string{"audit", "--store", storeDir}, m...), "--report", filepath.Join(f.dir, "report")),
		)
	} else {
		fmt.Fprintf(e.stdout, "\n(no demo model at %s with vocabulary %s: skipping the text searches)\n", f.model, f.vocab)
	}
	for _, args := range steps {
		fmt.Fprintf(e.stdout, "\n== laiondb %s\n", quoteArgs(args))
		if err := run1(e, args...); err != nil {
			return err
		}
	}
	if withModel {
		fmt.Fprintf(e.stdout, "\nNote: %s is a tiny generated model with CLIP's inputs and outputs; it runs\n"+
			"the real tokenizer and ONNX Runtime, but its neighbours carry no meaning. Point --model at an\n"+
			"exported CLIP model (Hugging Face or open_clip ONNX) for real audits.\n", f.model)
	}
	serve := []string{"serve", "--store", "demo=" + storeDir}
	if withModel {
		serve = append(serve, "--model", f.model, "--vocab", f.vocab)
	}
	fmt.Fprintf(e.stdout, "\nTo browse the demo store, and to call it as clip-retrieval's back end (index name demo):\n"+
		"  laiondb %s\nthen open http://127.0.0.1:1234/\n", quoteArgs(serve))
	return nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// quoteArgs prints arguments as a shell would need them.
func quoteArgs(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if strings.ContainsAny(a, " '()=*") {
			b.WriteString(`"` + a + `"`)
		} else {
			b.WriteString(a)
		}
	}
	return b.String()
}

// run1 runs another subcommand with the same streams.
func run1(e *env, args ...string) error {
	if code := run(e, args); code != 0 {
		return fmt.Errorf("laiondb %s exited with %d", args[0], code)
	}
	return nil
}
