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
	partial  string
	shard    string
	merge    string
	shards   int
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
			"  laiondb audit --terms my-terms.txt --k 50 --format csv\n\n" +
			"A dataset held as shards (laiondb ingest --shard K/M, on any machines): each shard writes\n" +
			"its partial results into one folder, and --merge reports what one store of all the shards\n" +
			"would report:\n" +
			"  laiondb audit --store shard-K --partial partials --shard K/M     (each shard)\n" +
			"  laiondb audit --merge partials --shards M --report audit-report   (then, once)",
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
			fs.StringVar(&f.partial, "partial", "", "write the partial results of this shard's answers into this folder, for --merge, instead of a report; with --shard")
			fs.StringVar(&f.shard, "shard", "", "with --partial: which shard of the dataset the store holds, K/M")
			fs.StringVar(&f.merge, "merge", "", "audit the dataset whose shards wrote their partial results into this folder (--partial), with --shards M; no store is opened")
			fs.IntVar(&f.shards, "shards", 0, "with --merge: how many shards wrote into the folder")
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var q audit.Querier
	model := ""
	switch {
	case f.partial != "" && f.merge != "":
		return usageErrorf("--partial writes a shard's answers, --merge reads every shard's: give one")
	case (f.partial != "") != (f.shard != ""):
		return usageErrorf("--partial DIR and --shard K/M go together")
	case (f.merge != "") != (f.shards > 0):
		return usageErrorf("--merge DIR and --shards M go together")
	case f.merge != "":
		q = &audit.ShardMerger{Dir: f.merge, Shards: f.shards}
		model = "(from the shards' partial results in " + f.merge + ")"
	}
	if q == nil {
		d, err := f.store.openAudit(e, &laiondb.Options{ReadOnly: true, Model: f.model.dir, Vocab: f.model.vocab, ORTLib: f.model.ortLib,
			Tune: func(o *db.Options) { o.EfSearch, o.ExactUpTo = f.ef, f.exactMax }})
		if err != nil {
			return err
		}
		defer d.Close()
		m, err := d.Manifest()
		if err != nil {
			return err
		}
		model = m.Model
		if f.model.dir != "" {
			model = strings.TrimSpace(model + " (queries encoded by " + f.model.dir + ")")
		}
		q = d
		if f.partial != "" {
			k, n, err := parseShard(f.shard)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(f.partial, 0o755); err != nil {
				return err
			}
			q = &audit.ShardWriter{Store: d, Dir: f.partial, Shard: k, Shards: n}
		}
	}
	rep, err := audit.Run(ctx, q, &audit.Options{Terms: terms, K: f.k, Filter: f.filter, Lexicons: lex, Rows: f.rows,
		Model: model, Version: version(), Command: "laiondb " + strings.Join(os.Args[1:], " "),
		Progress: func(_ int, what string) {
			if e.isTerminal {
				fmt.Fprintf(e.stderr, "audit: %s\n", what)
			}
		}})
	if err != nil {
		return laiondb.Hint(err)
	}
	if f.partial != "" {
		fmt.Fprintf(e.stdout, "wrote the partial results of shard %s of the audit's queries into %s\n", f.shard, f.partial)
		return nil
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
