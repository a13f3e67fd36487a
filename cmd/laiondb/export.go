package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/laiondb/laiondb"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/export"
	"github.com/laiondb/laiondb/internal/atomicfile"
	"github.com/laiondb/laiondb/query"
)

var exportFlags struct {
	store   storeFlags
	model   modelFlags
	out     string
	format  string
	shape   string
	columns []string
	quiet   bool
	search  searchFlags
}

func init() {
	register(&command{
		name:    "export",
		summary: "write every row a query selects to a parquet, JSONL, CSV or JSON file, with provenance",
		usage: "--out FILE [--format parquet|jsonl|csv|json] [--shape rows|img2dataset|clipsubset] [--columns a,b] [--store DIR] QUERY\n\n" +
			"Writes every row the query selects, with no cap: knn and within best first with their score and\n" +
			"rank, all in store order; each row with its store position (row), source file and row in it\n" +
			"(file, file_row), then the store's columns, or those of --columns. --shape img2dataset writes\n" +
			"url and caption, for img2dataset --input_format parquet --url_col url --caption_col caption;\n" +
			"--shape clipsubset writes clip-retrieval's clipsubset.json. The format is --out's extension\n" +
			"(.parquet, .jsonl, .csv, .json) unless --format names one; --out - writes to stdout (not\n" +
			"parquet). FILE is replaced only when the export is complete. A summary goes to stderr: rows,\n" +
			"bytes, columns with their nulls, the query's plan and whether the selection is exact.\n\n" +
			"  laiondb export --out beautiful.parquet \"knn('beautiful', 100000) where nsfw = 'UNLIKELY'\"\n" +
			"  laiondb export --out desi.csv \"all where text contains 'desi'\"\n" +
			"  laiondb export --shape img2dataset --out nsfw-urls.parquet \"all where nsfw = 'NSFW'\"\n" +
			"  laiondb export --shape clipsubset --out clipsubset.json \"knn('beautiful', 10000)\"",
		flags: func(fs *pflag.FlagSet) {
			f := &exportFlags
			f.store.addMany(fs)
			f.model.add(fs)
			fs.StringVar(&f.out, "out", "", "the file to write, or - for stdout (required)")
			fs.StringVar(&f.format, "format", "", "parquet, jsonl, csv or json (default: from --out's extension)")
			fs.StringVar(&f.shape, "shape", "rows", "rows (provenance, score and rank, the store's columns), img2dataset (url, caption) or clipsubset (clip-retrieval's clipsubset.json)")
			fs.StringSliceVar(&f.columns, "columns", nil, "with --shape rows, the columns to write, in order: store columns and row, file, file_row, score, rank (default: row, file, file_row, score and rank for searches, then every store column but pair_cos)")
			fs.BoolVarP(&f.quiet, "quiet", "q", false, "print no summary")
			f.search.add(fs)
		},
		run: runExport,
	})
}

func runExport(e *env, fs *pflag.FlagSet) error {
	f := &exportFlags
	if err := f.search.checkArgs(fs); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("want one QUERY argument (quote it), got %d", fs.NArg())
	}
	o, err := exportOptions()
	if err != nil {
		return err
	}
	q, err := query.Parse(fs.Arg(0))
	if err != nil {
		return err
	}
	opts, err := f.search.options()
	if err != nil {
		return err
	}
	d, err := f.store.openQuerier(e, f.search.openOptions(&f.model))
	if err != nil {
		return err
	}
	defer d.Close()
	s, err := d.Snapshot()
	if err != nil {
		return err
	}
	// The columns are checked before the query runs.
	_, all := q.Source.(*query.AllSource)
	if _, err := export.Columns(s, !all, o); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := engine.Run(ctx, s, q, opts)
	if err != nil {
		return laiondb.Hint(err)
	}
	var sum *export.Summary
	write := func(w io.Writer) error {
		sum, err = export.Write(ctx, s, res, w, o)
		return err
	}
	if f.out == "-" {
		err = write(e.stdout)
	} else {
		err = atomicfile.Write(f.out, write)
	}
	if err != nil {
		return err
	}
	if !f.quiet {
		printSummary(e.stderr, f.out, sum)
	}
	return nil
}

// exportOptions checks the flags that need no store: the format (from
// --out's extension unless --format names it), the shape, and --out.
func exportOptions() (*export.Options, error) {
	f := &exportFlags
	o := &export.Options{Columns: f.columns}
	var err error
	if o.Shape, err = export.ParseShape(f.shape); err != nil {
		return nil, usageErrorf("--shape: %v", err)
	}
	switch {
	case f.out == "":
		return nil, usageErrorf("give --out FILE, or --out - for stdout")
	case f.format != "":
		if o.Format, err = export.ParseFormat(f.format); err != nil {
			return nil, usageErrorf("--format: %v", err)
		}
	case f.out == "-":
		return nil, usageErrorf("--out - writes to stdout: give --format csv, jsonl or json")
	default:
		var ok bool
		if o.Format, ok = export.FormatOf(f.out); !ok {
			return nil, usageErrorf("--out %s: the extension names no format; give --format parquet, jsonl, csv or json", f.out)
		}
	}
	if f.out == "-" {
		if o.Format == export.Parquet {
			return nil, usageErrorf("--out -: parquet is not written to stdout; give --out FILE")
		}
		return o, nil
	}
	if fi, err := os.Stat(f.out); err == nil && fi.IsDir() {
		return nil, usageErrorf("--out %s is a folder; give a file name", f.out)
	}
	if dir := filepath.Dir(f.out); !isDir(dir) {
		return nil, usageErrorf("--out %s: there is no folder %s", f.out, dir)
	}
	return o, nil
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// printSummary says what an export wrote.
func printSummary(w io.Writer, out string, sum *export.Summary) {
	if out == "-" {
		out = "stdout"
	}
	fmt.Fprintf(w, "exported %d rows (%s) to %s: %s, shape %s, %d bytes\n", sum.Rows, sum.Order, out, sum.Format, sum.Shape, sum.Bytes)
	cols := make([]string, len(sum.Columns))
	for i, c := range sum.Columns {
		cols[i] = c.Name + " " + c.Type.String()
		if c.Store != "" && c.Store != c.Name {
			cols[i] += " (" + c.Store + ")"
		}
		switch {
		case c.Nulls == 1:
			cols[i] += " 1 null"
		case c.Nulls > 1:
			cols[i] += fmt.Sprintf(" %d nulls", c.Nulls)
		}
	}
	fmt.Fprintf(w, "columns: %s\n", strings.Join(cols, ", "))
	exact := "exact"
	if !sum.Exact {
		exact = "approximate: the vector search was answered by the index, not an exact scan (--exact forces one)"
	}
	fmt.Fprintf(w, "selection: %s; %d rows and %d vectors scanned; store fingerprint %s\n", exact, sum.RowsScanned, sum.VectorsScanned, sum.Fingerprint)
	fmt.Fprint(w, sum.Plan)
	for _, n := range sum.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}
