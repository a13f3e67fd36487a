package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/laiondb/laiondb"
	"github.com/laiondb/laiondb/audit"
)

var dupsFlags struct {
	store  storeFlags
	key    []string
	format string
	drop   string
}

func init() {
	register(&command{
		name:    "dups",
		summary: "count a store's exact duplicates by a key (url, url and text, or any columns)",
		usage: "[--store DIR] [--key url|url,text|COLUMNS] [--format table|json] [--drop FILE.csv]\n\n" +
			"Rows that hold the same key form a group; a dedup keeps each group's first row in store\n" +
			"order and drops the others. Prints the groups, the rows a dedup drops and the histogram of\n" +
			"group sizes; --drop writes the dropped rows (store row, source file and row, key, nsfw, url,\n" +
			"text) as CSV. Nulls are values: rows with a null URL form one group.",
		flags: func(fs *pflag.FlagSet) {
			f := &dupsFlags
			f.store.add(fs)
			fs.StringSliceVar(&f.key, "key", []string{"url"}, "the columns that identify a row, comma-separated")
			fs.StringVar(&f.format, "format", "table", "output format: table or json")
			fs.StringVar(&f.drop, "drop", "", "write the rows a dedup drops to this CSV file")
		},
		run: func(e *env, fs *pflag.FlagSet) error {
			f := &dupsFlags
			if fs.NArg() != 0 {
				return usageErrorf("dups takes no arguments, got %q", fs.Args())
			}
			if f.format != "table" && f.format != "json" {
				return usageErrorf("--format %q: want table or json", f.format)
			}
			st, err := f.store.openAudit(e, &laiondb.Options{ReadOnly: true})
			if err != nil {
				return err
			}
			defer st.Close()
			s, err := st.Snapshot()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			key := keyColumns(f.key)
			r, err := audit.Duplicates(ctx, s, &audit.DupsOptions{Key: key, KeepRows: f.drop != ""})
			if err != nil {
				return err
			}
			if f.drop != "" {
				if err := writeRemoved(ctx, f.drop, s, key, r.Drop); err != nil {
					return err
				}
			}
			if f.format == "json" {
				return writeJSON(e.stdout, r)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintf(tw, "key\t%s\n", strings.Join(r.Key, ", "))
			fmt.Fprintf(tw, "store\t%d rows, fingerprint %s\n", r.Rows, r.Fingerprint)
			fmt.Fprintf(tw, "distinct keys\t%d\n", r.Keys)
			fmt.Fprintf(tw, "groups\t%d keys held by 2 rows or more\n", r.Groups)
			share := 0.0
			if r.Rows > 0 {
				share = 100 * float64(r.Duplicates) / float64(r.Rows)
			}
			fmt.Fprintf(tw, "duplicates\t%d rows a dedup drops (%.2f%%)\n", r.Duplicates, share)
			for _, g := range r.Sizes {
				fmt.Fprintf(tw, "  groups of %d rows\t%d\n", g.Size, g.Groups)
			}
			for _, g := range r.Largest {
				fmt.Fprintf(tw, "  largest: %d rows, first row %d\n", g.Rows, g.First)
			}
			return tw.Flush()
		},
	})
}
