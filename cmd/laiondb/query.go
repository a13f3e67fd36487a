package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/laiondb/laiondb"
	"github.com/laiondb/laiondb/db"
	"github.com/laiondb/laiondb/encode"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/internal/atomicfile"
	"github.com/laiondb/laiondb/output"
	"github.com/laiondb/laiondb/query"
)

var queryFlags struct {
	store     storeFlags
	model     modelFlags
	format    string
	rows      string
	columns   []string
	explain   bool
	partial   string
	shard     string
	skipDone  bool
	before    int64
	total     int64
	targetOut string
	targets   []string
	search    searchFlags
}

func init() {
	register(&command{
		name:    "query",
		summary: "run an audit query and print its contamination statistics",
		usage: "[--store DIR]... [--format table|json|csv] [--rows N] [--explain] QUERY\n\n" +
			"  laiondb query \"knn('beautiful',100) where nsfw='UNLIKELY'\"\n" +
			"  laiondb query \"all where text contains 'desi'\"\n" +
			"  laiondb query \"all where any lexicon essay2021\"\n" +
			"See 'go doc github.com/laiondb/laiondb/query' for the language.",
		flags: func(fs *pflag.FlagSet) {
			f := &queryFlags
			f.store.addMany(fs)
			f.model.add(fs)
			fs.StringVar(&f.format, "format", "table", "output format: table, json or csv")
			fs.StringVar(&f.rows, "rows", "0", "also print the first N selected rows, or all of them (all): source file and row, score, and the columns of --columns")
			fs.StringSliceVar(&f.columns, "columns", nil, "columns the printed rows show (default: sample_id, nsfw, url, text, those the store has)")
			fs.BoolVar(&f.explain, "explain", false, "print the plan without running it (a text predicate's plan asks the text index for its candidates: their count, and their cost against a scan)")
			fs.StringVar(&f.partial, "partial", "", "write the result as a partial result to this file (JSON), for laiondb merge, instead of printing it; with --shard")
			fs.StringVar(&f.shard, "shard", "", "with --partial: which shard of the dataset the store holds, K/M (the K-th of M consecutive groups of its files, from 1)")
			fs.BoolVar(&f.skipDone, "skip-done", false, "with --partial: leave FILE as it is when it already holds this shard's partial result of this query on this store (a re-run of a batch job)")
			fs.Int64Var(&f.before, "rows-before", -1, "with --partial and --rows-total: the rows of the shards before this one; a sample of the whole store needs the shard's place, and laiondb merge checks it against the shards' rows (laiondb slurm gives both)")
			fs.Int64Var(&f.total, "rows-total", -1, "with --partial and --rows-before: the rows of all the shards")
			fs.StringVar(&f.targetOut, "target-out", "", "the first step of a partial run from a row or id target: write to this file what this shard holds of the target (with --shard, --rows-before and --rows-total); then give every shard's file to --target")
			fs.StringSliceVar(&f.targets, "target", nil, "with --partial: every shard's --target-out file of this query (paths or quoted patterns such as 'targets/q1-*.json', comma-separated or the flag repeated): each shard then searches from the row they resolve")
			f.search.add(fs)
		},
		run: runQuery,
	})
}

func runQuery(e *env, fs *pflag.FlagSet) error {
	f := &queryFlags
	if err := f.search.checkArgs(fs); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("want one QUERY argument (quote it), got %d", fs.NArg())
	}
	switch f.format {
	case "table", "json", "csv":
	default:
		return usageErrorf("--format %q: want table, json or csv", f.format)
	}
	rows := engine.AllRows
	if f.rows != "all" {
		n, err := strconv.Atoi(f.rows)
		if err != nil || n < 0 {
			return usageErrorf("--rows %s: want a number of rows, 0 or more, or all", f.rows)
		}
		rows = n
	}
	if len(f.columns) > 0 && rows == 0 {
		return usageErrorf("--columns says what --rows prints: give --rows N or --rows all too")
	}
	opts, err := f.search.options()
	if err != nil {
		return err
	}
	opts.Rows, opts.Columns = rows, f.columns
	out, outFlag := f.partial, "--partial"
	switch {
	case f.targetOut != "" && f.partial != "":
		return usageErrorf("--target-out resolves a row or id target, the step before --partial: give one")
	case f.targetOut != "":
		out, outFlag = f.targetOut, "--target-out"
		if f.total < 0 {
			return usageErrorf("--target-out numbers the target's row among every shard's rows: give --rows-before N --rows-total N")
		}
	case len(f.targets) > 0 && f.partial == "":
		return usageErrorf("--target resolves the target of a --partial run: give --partial FILE --shard K/M too")
	}
	shard, shards, err := partialShard(outFlag, out, f.shard)
	if err != nil {
		return err
	}
	switch {
	case out != "" && f.explain:
		return usageErrorf("--explain prints a plan; --partial and --target-out write results: give one")
	case (f.before >= 0) != (f.total >= 0):
		return usageErrorf("--rows-before and --rows-total give a shard's place together: give both")
	case f.total >= 0 && out == "":
		return usageErrorf("--rows-before and --rows-total place a --partial result's shard: give --partial FILE --shard K/M too")
	case f.total >= 0:
		opts.Place = &engine.Place{Before: f.before, Total: f.total}
	}
	if len(f.targets) > 0 {
		if opts.Targets, err = readTargets(f.targets); err != nil {
			return err
		}
	}
	d, err := f.store.openQuerier(e, f.search.openOptions(&f.model))
	if err != nil {
		return err
	}
	defer d.Close()
	q := fs.Arg(0)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if f.explain {
		p, err := d.Describe(ctx, q, opts)
		if err != nil {
			return err
		}
		return writePlan(e.stdout, f.format, p)
	}
	if f.targetOut != "" {
		t, err := d.ResolveTarget(ctx, q, opts, shard, shards)
		if err != nil {
			return err
		}
		if err := atomicfile.Write(f.targetOut, func(w io.Writer) error { return json.NewEncoder(w).Encode(t) }); err != nil {
			return err
		}
		where := "holds no row of the target"
		switch {
		case len(t.Found) == 1:
			where = fmt.Sprintf("holds the target: row %d", t.Found[0].Row)
		case len(t.Found) > 1:
			where = fmt.Sprintf("holds %d of the target's rows", len(t.Found))
		}
		fmt.Fprintf(e.stdout, "shard %d of %d %s; wrote %s\n", shard, shards, where, f.targetOut)
		return nil
	}
	if f.partial != "" {
		if f.skipDone && partialDone(f.partial, q, shard, shards, d.Fingerprint(), opts.Place, opts.Targets) {
			fmt.Fprintf(e.stdout, "%s already holds the partial result of shard %d of %d of this query on this store: kept\n", f.partial, shard, shards)
			return nil
		}
		p, err := d.QueryPartial(ctx, q, opts, shard, shards)
		if err != nil {
			return err
		}
		if err := atomicfile.Write(f.partial, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", " ")
			return enc.Encode(p)
		}); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote the partial result of shard %d of %d (%d rows) to %s\n", shard, shards, p.TotalRows, f.partial)
		return nil
	}
	res, err := d.Query(ctx, q, opts)
	if err != nil {
		return err
	}
	return writeResult(e.stdout, f.format, res)
}

// writeResult prints a result as --format asks: table, json or csv.
func writeResult(w io.Writer, format string, res *engine.Result) error {
	switch format {
	case "json":
		return output.WriteJSON(w, res)
	case "csv":
		return output.WriteCSV(w, res)
	}
	return output.WriteTable(w, res)
}

// readTargets reads every shard's resolution of a row or id target from
// the files (or glob patterns) given, and merges them.
func readTargets(paths []string) ([]engine.StoredTarget, error) {
	var ts []*engine.ShardTarget
	for _, p := range paths {
		names := []string{p}
		if strings.ContainsAny(p, "*?[") {
			m, err := filepath.Glob(p)
			if err != nil || len(m) == 0 {
				return nil, usageErrorf("--target %s: no file matches", p)
			}
			names = m
		}
		for _, name := range names {
			fh, err := os.Open(name)
			if err != nil {
				return nil, err
			}
			t, err := engine.ReadShardTarget(fh)
			fh.Close()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			ts = append(ts, t)
		}
	}
	return engine.MergeTargets(ts)
}

// partialDone reports whether path holds a valid partial result of query
// q, shard k of m at place pl, from the resolved targets rt, on the store
// with fingerprint fp.
func partialDone(path, q string, k, m int, fp string, pl *engine.Place, rt []engine.StoredTarget) bool {
	parsed, err := query.Parse(q)
	if err != nil {
		return false
	}
	fh, err := os.Open(path)
	if err != nil {
		return false
	}
	defer fh.Close()
	p, err := engine.ReadPartial(fh)
	if err != nil || (p.Place == nil) != (pl == nil) || pl != nil && *p.Place != *pl {
		return false
	}
	if !p.Target.Equal(engine.ResolvedTarget(rt)) {
		return false
	}
	return p.Query == parsed.String() && p.Shard == k && p.Shards == m && p.Fingerprint == fp
}

// searchFlags say how a query's searches run, and the lexicons it may
// name: the flags query and export share.
type searchFlags struct {
	exact    bool
	scanText bool
	index    string
	exactMax int
	ef       int
	lexicons []string
	groups   int
	groupMem int64
	tempDir  string
}

func (s *searchFlags) add(fs *pflag.FlagSet) {
	fs.BoolVar(&s.exact, "exact", false, "answer vector searches by an exact scan")
	fs.BoolVar(&s.scanText, "scan-text", false, "evaluate text predicates by a scan of every row, not through the store's text index (same answers; to check or time the index)")
	fs.StringVar(&s.index, "index", "", "answer knn searches through an index, even where a scan is cheaper (the store has no index: an error); --index=KIND (hnsw, ivf) through that one; --exact wins")
	fs.Lookup("index").NoOptDefVal = anyIndex
	fs.IntVar(&s.exactMax, "exact-up-to", 0, "scan exactly whenever a knn search has at most this many candidate vectors, index or not (default 1048576: exact answers; -1: the planner picks the faster of the index and a scan, by costs measured at index build). At 1M 512-d vectors, a search whose where admits 10% of them takes about 10-15 ms exact on one thread, and about 3 ms through the HNSW graph at recall@10 0.99 (BENCHMARKS.md)")
	fs.IntVar(&s.ef, "ef", 0, "effort of index searches: HNSW's candidate list size, or with --index=ivf the lists an IVF search reads (default: the effort the index build calibrated for recall 0.99, per query kind; see 'laiondb info'); larger is slower and closer to exact")
	fs.StringArrayVar(&s.lexicons, "lexicon", nil, "a keyword list file, one keyword per line, as NAME=FILE or FILE (named after the file); repeatable")
	fs.IntVar(&s.groups, "groups", engine.DefaultGroups, "a 'by' lists at most this many values, most frequent first, with exact counts; the rest are summed")
	fs.Int64Var(&s.groupMem, "group-memory", engine.DefaultGroupBytes, "bytes the distinct values of a 'by' may take in memory before they go to temporary files (counted from there, exactly)")
	fs.StringVar(&s.tempDir, "temp-dir", "", "where those files go (default $TMPDIR or /tmp)")
}

// anyIndex is --index without a kind: any of the store's indexes.
const anyIndex = "any"

// checkArgs catches "--index KIND QUERY": --index takes a kind only as
// --index=KIND, so KIND would be read as the query.
func (s *searchFlags) checkArgs(fs *pflag.FlagSet) error {
	if s.index == anyIndex && fs.NArg() > 1 && slices.Contains(db.IndexKinds(), fs.Arg(0)) {
		return usageErrorf("write --index=%s: --index takes its kind only after '='", fs.Arg(0))
	}
	return nil
}

// options returns the engine options the flags ask for, lexicons read.
func (s *searchFlags) options() (*engine.Options, error) {
	kind := s.index
	if kind == anyIndex {
		kind = ""
	} else if kind != "" && !slices.Contains(db.IndexKinds(), kind) {
		return nil, usageErrorf("--index=%s: this laiondb knows the index kinds %s", kind, strings.Join(db.IndexKinds(), ", "))
	}
	lex, err := laiondb.Lexicons(s.lexicons)
	if err != nil {
		return nil, err
	}
	if s.groups <= 0 || s.groupMem <= 0 {
		return nil, usageErrorf("--groups and --group-memory must be positive")
	}
	return &engine.Options{Exact: s.exact, ScanText: s.scanText, Index: s.index != "", IndexKind: kind, Lexicons: lex, Groups: s.groups, GroupBytes: s.groupMem, TempDir: s.tempDir}, nil
}

// openOptions are open's options: read-only, the model, the flags' search
// settings.
func (s *searchFlags) openOptions(m *modelFlags) *laiondb.Options {
	return &laiondb.Options{ReadOnly: true, Model: m.dir, Vocab: m.vocab, ORTLib: m.ortLib,
		Tune: func(o *db.Options) { o.EfSearch, o.ExactUpTo = s.ef, s.exactMax }}
}

// modelFlags select the CLIP model used for text and image targets.
type modelFlags struct {
	dir, vocab, ortLib string
}

func (m *modelFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&m.dir, "model", "", "CLIP model folder with the text and vision ONNX files and tokenizer (default $"+encode.ModelEnv+")")
	fs.StringVar(&m.vocab, "vocab", "", "tokenizer file, instead of the model folder's")
	fs.StringVar(&m.ortLib, "ort-lib", "", "ONNX Runtime library (default $"+encode.LibEnv+", then "+encode.DefaultLibPath+")")
}

// writePlan prints a plan as --format asks: text as it is, JSON as one
// object {"plan": text, "steps": [lines]}, CSV as one step a row.
func writePlan(w io.Writer, format, plan string) error {
	lines := strings.Split(strings.TrimRight(plan, "\n"), "\n")
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Plan  string   `json:"plan"`
			Steps []string `json:"steps"`
		}{plan, lines})
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write([]string{"line", "plan"})
		for i, l := range lines {
			cw.Write([]string{strconv.Itoa(i + 1), l})
		}
		cw.Flush()
		return cw.Error()
	}
	_, err := fmt.Fprintln(w, plan)
	return err
}
