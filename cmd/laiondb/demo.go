package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/laiondb/laiondb/db"
	"github.com/laiondb/laiondb/internal/fixture"
)

var demoFlags struct {
	dir   string
	rows  int
	parts int
	dim   int
	fresh bool
	quiet bool
}

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
			fs.IntVar(&f.dim, "dim", 512, "embedding dimension")
			fs.BoolVar(&f.fresh, "fresh", false, "delete DIR first")
			fs.BoolVarP(&f.quiet, "quiet", "q", false, "no progress bar")
		},
		run: runDemo,
	})
}

func runDemo(e *env, fs *pflag.FlagSet) error {
	f := &demoFlags
	if f.fresh {
		if err := os.RemoveAll(f.dir); err != nil {
			return err
		}
	}
	data := filepath.Join(f.dir, "data")
	storeDir := filepath.Join(f.dir, "store")
	cfg := fixture.Config{Seed: 2021, Parts: f.parts, Rows: f.rows, Dim: f.dim}
	if _, err := os.Stat(filepath.Join(data, "done")); err != nil {
		fmt.Fprintf(e.stdout, "== generating %d LAION-400M-style metadata parts and a %d-part clip-retrieval embedding folder (%d-d float16), %d rows each, in %s\n",
			f.parts, f.parts, f.dim, f.rows, data)
		if _, _, err := fixture.LAION400M(filepath.Join(data, "laion400m-meta"), cfg); err != nil {
			return fmt.Errorf("generating parquet parts: %w", err)
		}
		if _, err := fixture.EmbeddingFolder(filepath.Join(data, "laion-emb"), cfg); err != nil {
			return fmt.Errorf("generating embedding folder: %w", err)
		}
		if err := os.WriteFile(filepath.Join(data, "done"), nil, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "== laiondb ingest --store %s %s %s\n", storeDir, filepath.Join(data, "laion-emb"), filepath.Join(data, "laion400m-meta"))
	d, err := db.Open(storeDir, nil)
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
	fmt.Fprintf(e.stdout, "\n== laiondb info --store %s\n", storeDir)
	return run1(e, "info", "--store", storeDir)
}

// run1 runs another subcommand with the same streams.
func run1(e *env, args ...string) error {
	if code := run(e, args); code != 0 {
		return fmt.Errorf("laiondb %s exited with %d", args[0], code)
	}
	return nil
}
