package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/laiondb/laiondb/db"
)

var ingestFlags struct {
	store    storeFlags
	imgEmb   string
	textEmb  string
	name     string
	skipText bool
	quiet    bool
	model    string
	noIndex  bool
	strict   bool
	shard    string
	idx      indexParams
}

func init() {
	register(&command{
		name:    "ingest",
		summary: "load LAION parquet metadata and CLIP embedding files into a store",
		usage: "--store DIR PATH...\n\n" +
			"PATH is a .parquet metadata file (LAION-400M part), a folder of them, a clip-retrieval\n" +
			"embedding folder (img_emb/, text_emb/, metadata/), or an img2dataset output folder (every\n" +
			"row is stored, whatever its status). Folders are walked with their subfolders; every\n" +
			"file left out is listed on stderr with the reason. To pair one .npy with one parquet\n" +
			"file, give the parquet file and --img-emb (and --text-emb).",
		flags: func(fs *pflag.FlagSet) {
			f := &ingestFlags
			f.store.add(fs)
			fs.StringVar(&f.imgEmb, "img-emb", "", "image embeddings .npy whose row r is row r of the one parquet PATH")
			fs.StringVar(&f.textEmb, "text-emb", "", "text embeddings .npy paired the same way")
			fs.StringVar(&f.name, "name", "", "name to record for the one PATH (default: its file name)")
			fs.BoolVar(&f.skipText, "skip-text", false, "do not store text embeddings")
			fs.StringVar(&f.model, "model-name", "", "record the CLIP model the embeddings came from (e.g. ViT-B-32/openai); queries through another model are warned about")
			fs.BoolVar(&f.noIndex, "no-index", false, "do not add the new rows to the vector index now (searches scan them exactly until 'laiondb index')")
			f.idx.add(fs)
			fs.BoolVarP(&f.quiet, "quiet", "q", false, "print nothing on success (no progress bar, no per-file lines); warnings and errors still go to stderr")
			fs.BoolVar(&f.strict, "strict", false, "refuse to ingest when a folder holds files that would be left out")
			fs.StringVar(&f.shard, "shard", "", "ingest only the K-th of M consecutive groups of the sources PATH... expands to, K/M: one shard of a dataset (see laiondb slurm)")
		},
		run: runIngest,
	})
}

func runIngest(e *env, fs *pflag.FlagSet) error {
	f := &ingestFlags
	paths := fs.Args()
	if len(paths) == 0 {
		return usageErrorf("no files to ingest")
	}
	var srcs []db.Source
	skipped := 0
	if f.imgEmb != "" || f.textEmb != "" || f.name != "" {
		if f.shard != "" {
			return usageErrorf("--shard picks among the sources PATH... expands to; it does not go with --img-emb, --text-emb or --name")
		}
		if len(paths) != 1 || !strings.HasSuffix(paths[0], ".parquet") {
			return usageErrorf("--img-emb, --text-emb and --name go with exactly one .parquet file")
		}
		srcs = []db.Source{{Name: f.name, Metadata: paths[0], ImageEmb: f.imgEmb, TextEmb: f.textEmb}}
	} else {
		exp, err := db.Expand(paths)
		if err != nil {
			return err
		}
		srcs = exp.Sources
		if f.shard != "" {
			k, m, err := parseShard(f.shard)
			if err != nil {
				return err
			}
			if srcs, err = db.Shard(srcs, k, m); err != nil {
				return err
			}
		}
		for _, sk := range exp.Skipped {
			fmt.Fprintf(e.stderr, "laiondb ingest: skipped %s: %s\n", sk.Path, sk.Reason)
		}
		if n := len(exp.Skipped); n > 0 {
			if f.strict {
				return fmt.Errorf("%d files would be left out (listed above); without --strict they are skipped", n)
			}
			skipped = n
		}
	}
	_, statErr := os.Stat(f.store.dir)
	fresh := errors.Is(statErr, os.ErrNotExist)
	d, err := f.store.open(e, false)
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			d.Close()
		}
	}()
	// A store this command created and could not fill is removed, so a
	// failed first ingest leaves nothing behind.
	discard := func(err error) error {
		if m, merr := d.Manifest(); fresh && merr == nil && m.Rows == 0 {
			closed = true
			d.Close()
			if rerr := os.RemoveAll(f.store.dir); rerr == nil {
				return fmt.Errorf("%w (%s was not created)", err, f.store.dir)
			}
		}
		return err
	}
	if f.model != "" {
		if err := d.SetModel(f.model); err != nil {
			return discard(err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cb, finish := progress(e, f.quiet, "ingest")
	icb, ifinish := progress(e, f.quiet, "index")
	if icb != nil {
		bar := icb
		icb = func(done, total int64) {
			finish() // the ingest bar, before the index bar starts
			bar(done, total)
		}
	}
	start := time.Now()
	res, err := d.Ingest(ctx, srcs, &db.IngestOptions{SkipText: f.skipText, Progress: cb, NoIndex: f.noIndex,
		Index: db.IndexOptions{M: f.idx.m, EfConstruction: f.idx.efc, Progress: icb}})
	finish()
	ifinish()
	out := e.stdout
	if f.quiet {
		out = io.Discard
	}
	var rows int64
	for _, r := range res {
		switch {
		case r.Skipped:
			fmt.Fprintf(out, "%s: already in the store, skipped\n", r.Name)
		default:
			rows += r.Rows
			fmt.Fprintf(out, "%s: %d rows", r.Name, r.Rows)
			if len(r.Missing) > 0 {
				fmt.Fprintf(e.stderr, "laiondb ingest: warning: %s lacks the columns %s: predicates on them select nothing and their statistics are empty ('laiondb info' lists them per file)\n",
					r.Name, strings.Join(r.Missing, ", "))
			}
			if len(r.Ignored) > 0 {
				fmt.Fprintf(out, "; nested columns not stored: %s", strings.Join(r.Ignored, ", "))
			}
			if r.Normalized > 0 {
				fmt.Fprintf(out, "; %d vectors were not unit-norm and were normalised", r.Normalized)
			}
			fmt.Fprintln(out)
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return discard(fmt.Errorf("interrupted; the store holds only the files completed above (run the same command to finish): %w", err))
		}
		return discard(err)
	}
	el := time.Since(start)
	fmt.Fprintf(out, "ingested %d rows in %.1fs (%.0f rows/s)", rows, el.Seconds(), float64(rows)/el.Seconds())
	if skipped > 0 {
		fmt.Fprintf(out, "; %d files skipped (listed on stderr)", skipped)
	}
	fmt.Fprintln(out)
	return nil
}
