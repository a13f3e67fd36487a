package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/pflag"

	"github.com/laiondb/laiondb/db"
	"github.com/laiondb/laiondb/query"
)

var indexFlags struct {
	store   storeFlags
	idx     indexParams
	rebuild bool
	drop    bool
	kind    string
	quiet   bool
	space   string
	text    []string
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
		summary: "build or update the vector indexes (HNSW, IVF) over the store's image or text embeddings, or the trigram index of text columns",
		usage: "--store DIR [--space image|text] [--kind hnsw|ivf] [--rebuild | --drop]\n       --store DIR --text COL,...\n\nIngest keeps the indexes up to date; use this after 'ingest --no-index', to rebuild a damaged\n" +
			"index, with --space text to index the text embeddings (searches 'in text' scan exactly without it), or\n" +
			"with --kind ivf to add an inverted file (about 40 bytes a vector in memory against the graph's 650: for\n" +
			"stores whose graph would not fit). Each build calibrates its index; the planner picks among them per search.\n" +
			"A long build commits a checkpoint every 10 minutes: after an interruption, the same command resumes it.\n" +
			"--text builds the trigram index of the columns named (and of those indexed already) in every segment that\n" +
			"lacks it, one committed file at a time, so an interrupted build resumes; contains, has word, matches and\n" +
			"lexicon predicates then evaluate only the rows it leaves (answers are a scan's).",
		flags: func(fs *pflag.FlagSet) {
			f := &indexFlags
			f.store.add(fs)
			f.idx.add(fs)
			fs.StringVar(&f.kind, "kind", "", "the kind of vector index to build or bring up to date: hnsw (a graph, about 650 bytes a vector in memory) or ivf (an inverted file, about 40 bytes a vector; for stores past what a graph holds in memory); default: every index over the space, or a new hnsw")
			fs.BoolVar(&f.rebuild, "rebuild", false, "discard the index (with --kind, that one) and build it anew; for ivf this retrains its lists and codes on the data as it is now")
			fs.BoolVar(&f.drop, "drop", false, "remove the index --kind names (its file too); searches use the others or scan")
			fs.StringVar(&f.space, "space", "image", "the embeddings to index: image or text")
			fs.StringSliceVar(&f.text, "text", nil, "build the trigram index of these columns (e.g. text,url) instead of a vector index")
			fs.BoolVarP(&f.quiet, "quiet", "q", false, "print nothing on success (no progress bar, no summary)")
		},
		run: func(e *env, fs *pflag.FlagSet) error {
			f := &indexFlags
			if fs.NArg() > 0 {
				return usageErrorf("unexpected arguments %v", fs.Args())
			}
			sp := query.SpaceImage
			switch f.space {
			case "image":
			case "text":
				sp = query.SpaceText
			default:
				return usageErrorf("--space %q: want image or text", f.space)
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
			if len(f.text) > 0 {
				if fs.Changed("space") || f.rebuild || f.drop || f.kind != "" || f.idx.m > 0 || f.idx.efc > 0 {
					return usageErrorf("--text builds the trigram index: --space, --kind, --rebuild, --drop, --m and --ef-construction are for vector indexes")
				}
				err := d.BuildTextIndex(ctx, &db.TextIndexOptions{Columns: f.text, Progress: cb})
				finish()
				if err != nil || f.quiet {
					return err
				}
				return printTextIndex(e, d, time.Since(start))
			}
			if f.drop && (f.kind == "" || f.rebuild) {
				return usageErrorf("--drop needs --kind, and not --rebuild")
			}
			err = d.BuildIndex(ctx, &db.IndexOptions{Kind: f.kind, M: f.idx.m, EfConstruction: f.idx.efc, Rebuild: f.rebuild, Drop: f.drop, Progress: cb, Space: sp})
			finish()
			if err != nil {
				return err
			}
			if f.drop {
				if !f.quiet {
					fmt.Fprintf(e.stdout, "dropped the %s index over the %s embeddings\n", f.kind, sp)
				}
				return nil
			}
			m, err := d.Manifest()
			if err != nil {
				return err
			}
			if f.quiet {
				return nil
			}
			infos := m.IndexesOf(sp)
			if f.kind != "" {
				infos = nil
				if ix := m.FindIndex(sp, f.kind); ix != nil {
					infos = append(infos, ix)
				}
			}
			if len(infos) == 0 {
				fmt.Fprintf(e.stdout, "the store has no %s embeddings to index\n", sp)
				return nil
			}
			for _, info := range infos {
				fmt.Fprintf(e.stdout, "%s %s index covers %d rows (%s), %.1f MB in memory, %.1fs\n", sp, info.Kind, info.Rows, info.DescribeParams(),
					float64(info.MemoryBytes)/1e6, time.Since(start).Seconds())
				for _, l := range info.Lines() {
					fmt.Fprintf(e.stdout, "default %s for %s\n", info.Effort(), l)
				}
				for _, l := range info.CostLines() {
					fmt.Fprintf(e.stdout, "planner costs (one thread) for %s\n", l)
				}
			}
			return nil
		},
	})
}

// printTextIndex summarises the store's trigram index.
func printTextIndex(e *env, d *db.DB, took time.Duration) error {
	m, err := d.Manifest()
	if err != nil {
		return err
	}
	files, done := map[string]int64{}, map[string]int{}
	for _, s := range m.Segments {
		for _, f := range s.Trigrams {
			files[f.Column] += f.Size
			done[f.Column]++
		}
	}
	for _, c := range m.Trigrams.Columns {
		per := 0.0
		if m.Rows > 0 {
			per = float64(files[c]) / float64(m.Rows)
		}
		fmt.Fprintf(e.stdout, "text index of %s: %d of %d segments, %d bytes (%.1f bytes/row)\n", c, done[c], len(m.Segments), files[c], per)
	}
	fmt.Fprintf(e.stdout, "%.1fs\n", took.Seconds())
	return nil
}
