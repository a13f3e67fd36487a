package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"

	"github.com/spf13/pflag"

	"github.com/laiondb/laiondb"
	"github.com/laiondb/laiondb/audit"
	"github.com/laiondb/laiondb/db"
)

var auditFlags struct {
	store    storeFlags
	model    modelFlags
	terms    string
	k        int
	filter   string
	format   string
	report   string
	exactMax int
	ef       int
	lexicons []string
	rows     int
}

func init() {
	register(&command{
		name:    "audit",
		summary: "run the 2021 essay's audit for a list of search terms, with a report",
		usage: "[--store DIR] [--model DIR] [--terms FILE|essay2021-terms] [--k K] [--report DIR]\n\n" +
			"For each term: the K nearest rows by the CLIP text encoder, the same among rows with\n" +
			"nsfw = 'UNLIKELY', and the rows whose text contains the term (substring and whole word),\n" +
			"with NSFW labels and the essay2021 lexicon share; when the index answered, its recall\n" +
			"against an exact scan. --report writes report.md, report.html (charts) and results.json.\n\n" +
			"  laiondb audit --report audit-report\n" +
			"  laiondb audit --terms my-terms.txt --k 50 --format csv",
		flags: func(fs *pflag.FlagSet) {
			f := &auditFlags
			f.store.add(fs)
			f.model.add(fs)
			fs.StringVar(&f.terms, "terms", "essay2021-terms", "a file of search terms, one a line, or essay2021-terms (the essay's twelve)")
			fs.IntVar(&f.k, "k", 100, "nearest rows per CLIP view")
			fs.StringVar(&f.filter, "filter", "nsfw = 'UNLIKELY'", "the pre-filter of the filtered CLIP view (a where clause)")
			fs.StringVar(&f.format, "format", "table", "output format: table, json or csv")
			fs.StringVar(&f.report, "report", "", "also write the report folder DIR (report.md, report.html, results.json)")
			fs.IntVar(&f.exactMax, "exact-up-to", 0, "as for query")
			fs.IntVar(&f.ef, "ef", 0, "as for query")
			fs.StringArrayVar(&f.lexicons, "lexicon", nil, "as for query (NAME=FILE; repeatable)")
			fs.IntVar(&f.rows, "rows", 0, "also show the first N rows of each CLIP view (source, score, nsfw, url, text) in the JSON and the report; by default the report holds no row text")
		},
		run: runAudit,
	})
}

// readTerms reads a term file: one term a line, blank lines and lines
// starting with # skipped, spaces inside a term kept.
func readTerms(path string) ([]string, error) {
	if path == "essay2021-terms" {
		return audit.Essay2021Terms, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, usageErrorf("--terms: %v", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		t := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(t) == "" || strings.HasPrefix(t, "#") {
			continue
		}
		out = append(out, strings.TrimSpace(t))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, usageErrorf("--terms %s: no terms in the file", path)
	}
	return out, nil
}

// version is laiondb's version as the build recorded it.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
		if s.Key == "vcs.modified" && s.Value == "true" {
			v += " (modified)"
		}
	}
	return v
}

func runAudit(e *env, fs *pflag.FlagSet) error {
	f := &auditFlags
	if fs.NArg() != 0 {
		return usageErrorf("audit takes no arguments (terms come from --terms), got %q", fs.Args())
	}
	switch f.format {
	case "table", "json", "csv":
	default:
		return usageErrorf("--format %q: want table, json or csv", f.format)
	}
	if f.k < 1 {
		return usageErrorf("--k %d: want 1 or more", f.k)
	}
	if f.rows < 0 {
		return usageErrorf("--rows %d: want 0 or more", f.rows)
	}
	terms, err := readTerms(f.terms)
	if err != nil {
		return err
	}
	lex, err := laiondb.Lexicons(f.lexicons)
	if err != nil {
		return err
	}
	d, err := f.store.openAudit(e, &laiondb.Options{ReadOnly: true, Model: f.model.dir, Vocab: f.model.vocab, ORTLib: f.model.ortLib,
		Tune: func(o *db.Options) { o.EfSearch, o.ExactUpTo = f.ef, f.exactMax }})
	if err != nil {
		return err
	}
	defer d.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	m, err := d.Manifest()
	if err != nil {
		return err
	}
	model := m.Model
	if f.model.dir != "" {
		model = strings.TrimSpace(model + " (queries encoded by " + f.model.dir + ")")
	}
	rep, err := audit.Run(ctx, d, &audit.Options{Terms: terms, K: f.k, Filter: f.filter, Lexicons: lex, Rows: f.rows,
		Model: model, Version: version(), Command: "laiondb " + strings.Join(os.Args[1:], " "),
		Progress: func(_ int, what string) {
			if e.isTerminal {
				fmt.Fprintf(e.stderr, "audit: %s\n", what)
			}
		}})
	if err != nil {
		return laiondb.Hint(err)
	}
	if f.report != "" {
		if err := rep.WriteDir(f.report); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "report: %s/report.html, %s/report.md, %s/results.json\n", f.report, f.report, f.report)
	}
	switch f.format {
	case "json":
		return rep.WriteJSON(e.stdout)
	case "csv":
		return rep.WriteCSV(e.stdout)
	}
	return rep.WriteTable(e.stdout)
}
