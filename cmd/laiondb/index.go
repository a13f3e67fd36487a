package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/pflag"

	"github.com/laiondb/laiondb/db"
)

var indexFlags struct {
	store   storeFlags
	idx     indexParams
	rebuild bool
	quiet   bool
}

// indexParams are the HNSW build parameters shared by ingest and index.
type indexParams struct {
	m, efc int
}

func (p *indexParams) add(fs *pflag.FlagSet) {
	fs.IntVar(&p.m, "m", 0, "HNSW links per node for a new index (default 16; layer 0 has twice as many)")
	fs.IntVar(&p.efc, "ef-construction", 0, "HNSW candidate list size while building a new index (default 200)")
}

func init() {
	register(&command{
		name:    "index",
		summary: "build or update the vector index (HNSW) over the store's image embeddings",
		usage:   "--store DIR [--rebuild]\n\nIngest keeps the index up to date; use this after 'ingest --no-index', or to rebuild a damaged index.",
		flags: func(fs *pflag.FlagSet) {
			f := &indexFlags
			f.store.add(fs)
			f.idx.add(fs)
			fs.BoolVar(&f.rebuild, "rebuild", false, "discard the index and build it anew")
			fs.BoolVarP(&f.quiet, "quiet", "q", false, "no progress bar")
		},
		run: func(e *env, fs *pflag.FlagSet) error {
			f := &indexFlags
			if fs.NArg() > 0 {
				return usageErrorf("unexpected arguments %v", fs.Args())
			}
			d, err := f.store.open(e, false)
			if err != nil {
				return err
			}
			defer d.Close()
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			cb, finish := progress(e, f.quiet, "index")
			start := time.Now()
			err = d.BuildIndex(ctx, &db.IndexOptions{M: f.idx.m, EfConstruction: f.idx.efc, Rebuild: f.rebuild, Progress: cb})
			finish()
			if err != nil {
				return err
			}
			m, err := d.Manifest()
			if err != nil {
				return err
			}
			if m.Index == nil {
				fmt.Fprintln(e.stdout, "the store has no image embeddings to index")
				return nil
			}
			fmt.Fprintf(e.stdout, "index covers %d rows (%s), %.1fs\n", m.Index.Rows, m.Index.DescribeParams(), time.Since(start).Seconds())
			if c := m.Index.Calibration; c != nil {
				for _, l := range c.Lines() {
					fmt.Fprintf(e.stdout, "default ef for %s\n", l)
				}
			}
			return nil
		},
	})
}
