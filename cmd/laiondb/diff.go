package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/laiondb/laiondb"
	"github.com/laiondb/laiondb/audit"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/export"
	"github.com/laiondb/laiondb/internal/atomicfile"
	"github.com/laiondb/laiondb/table"
)

var diffFlags struct {
	old, new storeFlags
	key      []string
	format   string
	removed  string
}

func init() {
	register(&command{
		name:    "diff",
		summary: "compare two stores by a key: the rows removed from the old one and added in the new one",
		usage: "--old DIR --new DIR [--key sample_id|url|url,text] [--format table|json] [--removed FILE.csv]\n\n" +
			"As when a dataset's maintainers remove links (Re-LAION-5B): the rows of OLD whose key NEW lacks,\n" +
			"and the reverse, counted by NSFW value and source file. --removed writes the removed rows\n" +
			"(store row, source file and row, key, nsfw, url, text) as CSV.",
		flags: func(fs *pflag.FlagSet) {
			f := &diffFlags
			fs.StringVar(&f.old.dir, "old", "", "the older store")
			fs.StringVar(&f.new.dir, "new", "", "the newer store")
			fs.StringSliceVar(&f.key, "key", []string{"sample_id"}, "the columns that identify a row, comma-separated")
			fs.StringVar(&f.format, "format", "table", "output format: table or json")
			fs.StringVar(&f.removed, "removed", "", "write the rows only in the old store to this CSV file")
		},
		run: runDiff,
	})
}

func runDiff(e *env, fs *pflag.FlagSet) error {
	f := &diffFlags
	if fs.NArg() != 0 {
		return usageErrorf("diff takes no arguments, got %q", fs.Args())
	}
	if f.old.dir == "" || f.new.dir == "" {
		return usageErrorf("give both --old DIR and --new DIR")
	}
	if f.format != "table" && f.format != "json" {
		return usageErrorf("--format %q: want table or json", f.format)
	}
	var stores [2]*laiondb.Store
	for i, s := range []*storeFlags{&f.old, &f.new} {
		st, err := s.openAudit(e, &laiondb.Options{ReadOnly: true})
		if err != nil {
			return err
		}
		defer st.Close()
		stores[i] = st
	}
	o, err := stores[0].Snapshot()
	if err != nil {
		return err
	}
	n, err := stores[1].Snapshot()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	key := keyColumns(f.key)
	r, err := audit.Diff(ctx, o, n, &audit.DiffOptions{Key: key, KeepRows: f.removed != ""})
	if err != nil {
		return err
	}
	if f.removed != "" {
		if err := writeRemoved(ctx, f.removed, o, key, r.Old.OnlyRows, nil); err != nil {
			return err
		}
	}
	if f.format == "json" {
		return writeJSON(e.stdout, r)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "key\t%s\n", strings.Join(r.Key, ", "))
	fmt.Fprintf(tw, "old\t%s: %d rows, fingerprint %s\n", f.old.dir, r.Old.Rows, r.Old.Fingerprint)
	fmt.Fprintf(tw, "new\t%s: %d rows, fingerprint %s\n", f.new.dir, r.New.Rows, r.New.Fingerprint)
	fmt.Fprintf(tw, "in both\t%d rows of old\n", r.Common)
	for _, s := range []struct {
		what string
		d    audit.DiffSide
	}{{"only in old (removed)", r.Old}, {"only in new (added)", r.New}} {
		fmt.Fprintf(tw, "%s\t%d rows", s.what, s.d.Only)
		if s.d.DuplicateKeys > 0 {
			fmt.Fprintf(tw, "; %d rows repeat a key of the same store", s.d.DuplicateKeys)
		}
		fmt.Fprintln(tw)
		for _, l := range s.d.ByNSFW {
			v := strconv.Quote(l.Value)
			if l.Null {
				v = "(null)"
			}
			fmt.Fprintf(tw, "  nsfw %s\t%d\n", v, l.Count)
		}
		for _, fc := range s.d.ByFile {
			fmt.Fprintf(tw, "  file %s\t%d\n", fc.File, fc.Rows)
		}
	}
	return tw.Flush()
}

// writeRemoved writes rows of store s as CSV (export.WriteRows), replacing
// path only once it is complete: store row, source file and row, the key
// columns, nsfw, url and text (those the store has). With kept (not nil),
// the second column is kept_row: kept[i] for rows[i], the row of its group
// that a dedup keeps.
func writeRemoved(ctx context.Context, path string, s engine.Store, key []string, rows, kept []uint32) error {
	cols := append([]string{"row", "file", "file_row"}, key...)
	var extra []export.Extra
	if kept != nil {
		ints := make([]int64, len(kept))
		for i, r := range kept {
			ints[i] = int64(r)
		}
		extra = []export.Extra{{Name: "kept_row", Ints: ints}}
		cols = slices.Insert(cols, 1, "kept_row")
	}
	for _, c := range []string{"nsfw", "url", "text"} {
		if !slices.Contains(cols, c) && slices.ContainsFunc(s.Columns(), func(ci table.ColumnInfo) bool { return ci.Name == c }) {
			cols = append(cols, c)
		}
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := export.WriteRows(ctx, s, rows, w, &export.Options{Format: export.CSV, Columns: cols, Extra: extra})
		return err
	})
}
