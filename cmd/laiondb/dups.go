package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/laiondb/laiondb"
	"github.com/laiondb/laiondb/audit"
	"github.com/laiondb/laiondb/db"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/internal/atomicfile"
	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/vector"
)

var dupsFlags struct {
	store     storeFlags
	key       []string
	where     string
	format    string
	drop      string
	near      bool
	threshold float64
	space     string
	method    string
	k         int
	ef        int
	sample    int
	seed      uint64
	partial   string
	shard     string
	skipDone  bool
	merge     bool
	with      int
}

// nearOnly are the flags that only --near uses.
var nearOnly = []string{"threshold", "space", "method", "k", "ef", "sample", "seed"}

func init() {
	register(&command{
		name:    "dups",
		summary: "count a store's duplicates: exact by a key (url, url and text, any columns), or near by embedding",
		usage: "[--store DIR] [--key url|url,text|COLUMNS] [--where PREDICATE] [--format table|json] [--drop FILE.csv]\n" +
			"       laiondb dups --near [--threshold 0.94] [--space image|text] [--method auto|exact|index] [--k 32] [--ef N]\n" +
			"                    [--sample 1000] [--seed 0] [--where PREDICATE] [--format table|json] [--drop FILE.csv]\n\n" +
			"Rows that hold the same key form a group; a dedup keeps each group's first row in store\n" +
			"order and drops the others. Prints the groups, the rows a dedup drops and the histogram of\n" +
			"group sizes; --drop writes the dropped rows (store row, the row it keeps, source file and row,\n" +
			"key, nsfw, url, text) as CSV. Nulls are values: rows with a null URL form one group.\n\n" +
			"With --near, rows are near-duplicates when their embeddings' cosine is at least --threshold\n" +
			"(clip-retrieval's 0.94 by default), as the store scores it from either row: the pairs that\n" +
			"within(row(N), T) finds. Groups are connected components (a ~ b and b ~ c is one group even\n" +
			"when a and c lie further apart); a dedup keeps each group's lowest row. --method exact scores\n" +
			"every pair (the default for up to 100000 rows); index asks the store's index for each row's\n" +
			"--k nearest rows (the default above that), and measures its recall against exact range\n" +
			"searches for --sample rows. The output says which, whether the answer is exact, and why.\n\n" +
			"--where restricts either kind to the rows a predicate of the query language selects\n" +
			"(the rows of 'all where PREDICATE'; 'laiondb help query').\n\n" +
			"Shards on other machines count exact duplicates together: on each,\n" +
			"  laiondb dups --store SHARD --key url --partial shard-K.dups --shard K/M\n" +
			"writes the shard's distinct keys (24 bytes a key: a 128-bit hash, its rows, its first row),\n" +
			"and 'laiondb dups --merge shard-*.dups' prints the report of the store of all the shards.\n" +
			"Near-duplicates take a task for each shard K and each pair of shards K < J, M(M+1)/2 in all:\n" +
			"  laiondb dups --near --store SHARD_K --partial near-K-K.near --shard K/M\n" +
			"  laiondb dups --near --store SHARD_K --store SHARD_J --with J --partial near-K-J.near --shard K/M\n" +
			"write the pairs within shard K, and between shards K and J (found from K's rows, the lower of\n" +
			"each pair, as one store finds them); 'laiondb dups --merge near-*.near' joins them into the exact\n" +
			"report of the store of all the shards.",
		flags: func(fs *pflag.FlagSet) {
			f := &dupsFlags
			f.store.addMany(fs)
			fs.StringSliceVar(&f.key, "key", []string{"url"}, "the columns that identify a row, comma-separated")
			fs.StringVar(&f.where, "where", "", "count only the rows this predicate selects, e.g. \"nsfw = 'UNLIKELY'\"")
			fs.StringVar(&f.format, "format", "table", "output format: table or json")
			fs.StringVar(&f.drop, "drop", "", "write the rows a dedup drops to this CSV file")
			fs.BoolVar(&f.near, "near", false, "near-duplicates by embedding instead of exact duplicates by key")
			fs.Float64Var(&f.threshold, "threshold", audit.DefaultNearThreshold, "with --near: the cosine at or above which two rows are near-duplicates")
			fs.StringVar(&f.space, "space", "image", "with --near: the embeddings compared, image or text")
			fs.StringVar(&f.method, "method", "auto", "with --near: exact, index, or auto (exact up to 100000 rows)")
			fs.IntVar(&f.k, "k", audit.DefaultNearK, "with --near --method index: the neighbours asked for each row")
			fs.IntVar(&f.ef, "ef", 0, "with --near --method index: HNSW candidate list size (default: the ef the index build calibrated for recall@100 0.99; near-duplicates, far closer than most neighbours, are found at much less: the recall line says)")
			fs.IntVar(&f.sample, "sample", audit.DefaultRecallSample, "with --near --method index: rows whose pairs are found exactly to measure the recall (0: none)")
			fs.Uint64Var(&f.seed, "seed", 0, "with --near --method index: the seed that draws the recall sample")
			fs.StringVar(&f.partial, "partial", "", "write the store's distinct keys to this file, for dups --merge, instead of printing the report; with --shard")
			fs.StringVar(&f.shard, "shard", "", "with --partial: which shard of the dataset the store holds, K/M (the K-th of M consecutive groups of its files, from 1)")
			fs.BoolVar(&f.skipDone, "skip-done", false, "with --partial: leave FILE as it is when it already holds this shard's keys, complete and valid, counted the same way on this store (a re-run of a batch job)")
			fs.BoolVar(&f.merge, "merge", false, "merge the partial files given as arguments (every shard's, from dups --partial) and print the report of all their rows")
			fs.IntVar(&f.with, "with", 0, "with --near --partial: the task between shard K (the first --store) and shard J > K (the second --store); without it, the task within shard K")
		},
		run: runDups,
	})
}

func runDups(e *env, fs *pflag.FlagSet) error {
	f := &dupsFlags
	if f.format != "table" && f.format != "json" {
		return usageErrorf("--format %q: want table or json", f.format)
	}
	if f.merge {
		return mergeDups(e, fs)
	}
	if fs.NArg() != 0 {
		return usageErrorf("dups takes no arguments, got %q (give --merge to merge partial files)", fs.Args())
	}
	shard, shards, err := partialShard("--partial", f.partial, f.shard)
	if err != nil {
		return err
	}
	switch {
	case f.with != 0 && (!f.near || f.partial == ""):
		return usageErrorf("--with names the other shard of a near-duplicates task: give --near --partial FILE --shard K/M too")
	case f.with != 0 && (f.with <= shard || f.with > shards):
		return usageErrorf("--with %d: want the other shard J, %d < J <= %d (the task within shard %d takes no --with)", f.with, shard, shards, shard)
	case f.partial != "" && f.near && f.method == audit.NearIndex:
		return usageErrorf("--method index: near-duplicates across shards are found exactly, each store's index would answer otherwise than one store's")
	case f.partial != "" && f.near && len(f.store.more) != min(f.with, 1):
		return usageErrorf("a near-duplicates task reads one shard's store (--store SHARD_K), or two with --with J (--store SHARD_K --store SHARD_J)")
	case f.partial != "" && f.drop != "":
		return usageErrorf("--drop lists the rows a dedup drops, which depend on every shard's rows: give it where the shards' stores are together (--store A --store B ...)")
	}
	var near *audit.NearOptions
	if f.near {
		var err error
		if near, err = nearOptions(fs); err != nil {
			return err
		}
	} else {
		for _, name := range nearOnly {
			if fs.Changed(name) {
				return usageErrorf("--%s is for near-duplicates: give --near too", name)
			}
		}
	}
	if near != nil && f.partial != "" {
		return nearPartial(e, near, shard, shards)
	}
	// With --near, k-NN searches use the index whenever the store has one
	// (the index method exists because an exact scan for every row is too
	// slow at its sizes); the planner still scans where that is cheaper.
	st, err := f.store.openQuerier(e, &laiondb.Options{ReadOnly: true, Tune: func(o *db.Options) {
		if near != nil {
			o.ExactUpTo, o.EfSearch = -1, f.ef
		}
	}})
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
	var sel *vector.Bitset
	selected := 0
	if f.where != "" {
		if sel, selected, err = whereRows(ctx, s, f.where); err != nil {
			return err
		}
	}
	var report any
	var drop, kept []uint32
	var key []string
	var table func() error
	if near != nil {
		near.Selection, near.Where, near.KeepRows = sel, f.where, f.drop != ""
		r, err := audit.NearDuplicates(ctx, s, near)
		if err != nil {
			return err
		}
		report, drop, kept = r, r.Drop, r.Kept
		table = func() error { return nearTable(e.stdout, r, selected) }
	} else {
		key = keyColumns(f.key)
		if f.partial != "" {
			if f.skipDone && dupsDone(f.partial, key, f.where, shard, shards, s.Fingerprint()) {
				fmt.Fprintf(e.stdout, "%s already holds the distinct keys of shard %d of %d on this store: kept\n", f.partial, shard, shards)
				return nil
			}
			var p *audit.DupsPartial
			err := atomicfile.Write(f.partial, func(w io.Writer) error {
				var err error
				p, err = audit.WriteDupsPartial(ctx, w, s, &audit.DupsOptions{Key: key, Selection: sel, Where: f.where}, shard, shards)
				return err
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "wrote the distinct keys of shard %d of %d (%d keys of %d rows) to %s\n", shard, shards, p.Keys, p.Rows, f.partial)
			return nil
		}
		r, err := audit.Duplicates(ctx, s, &audit.DupsOptions{Key: key, Selection: sel, Where: f.where, KeepRows: f.drop != ""})
		if err != nil {
			return err
		}
		report, drop, kept = r, r.Drop, r.Kept
		table = func() error { return dupsTable(e.stdout, r, selected) }
	}
	if f.drop != "" {
		if err := writeRemoved(ctx, f.drop, s, key, drop, append([]uint32{}, kept...)); err != nil {
			return err
		}
	}
	if f.format == "json" {
		return writeJSON(e.stdout, report)
	}
	return table()
}

// nearPartial writes the pairs of one near-duplicates task (--near
// --partial): within shard K, or with --with J between shards K and J, whose
// stores are opened here one by one so that the task knows each one's
// rows and fingerprint.
func nearPartial(e *env, near *audit.NearOptions, shard, shards int) error {
	f := &dupsFlags
	with := max(f.with, shard)
	dirs := append([]string{f.store.dir}, f.store.more...)
	var snaps []engine.Store
	for _, dir := range dirs {
		st, err := laiondb.Open(dir, f.store.options(e, &laiondb.Options{ReadOnly: true}))
		if err != nil {
			return err
		}
		defer st.Close()
		s, err := st.Snapshot()
		if err != nil {
			return err
		}
		snaps = append(snaps, s)
	}
	task, split := snaps[0], snaps[0].NumRows()
	fp, withFP := snaps[0].Fingerprint(), snaps[0].Fingerprint()
	if len(snaps) == 2 {
		u, err := engine.NewUnion(snaps...)
		if err != nil {
			return err
		}
		task, withFP = u, snaps[1].Fingerprint()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	near.Method, near.Where = audit.NearExact, f.where
	if f.where != "" {
		var err error
		if near.Selection, _, err = whereRows(ctx, task, f.where); err != nil {
			return err
		}
	}
	if f.skipDone && nearDone(f.partial, near, shard, with, shards, fp, withFP) {
		fmt.Fprintf(e.stdout, "%s already holds the near-duplicate pairs of shards %d and %d of %d on these stores: kept\n", f.partial, shard, with, shards)
		return nil
	}
	var p *audit.NearPartial
	err := atomicfile.Write(f.partial, func(w io.Writer) error {
		var err error
		p, err = audit.WriteNearPartial(ctx, w, task, near, shard, with, shards, split, fp, withFP)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote the %d near-duplicate pairs of shards %d and %d of %d to %s\n", p.Pairs, shard, with, shards, f.partial)
	return nil
}

// nearDone reports whether path holds a complete, valid near partial of
// the task of shards k and j of m, found as o says on the stores with
// fingerprints fp and withFP.
func nearDone(path string, o *audit.NearOptions, k, j, m int, fp, withFP string) bool {
	fh, err := os.Open(path)
	if err != nil {
		return false
	}
	defer fh.Close()
	p, err := audit.ReadNearPartial(path, fh)
	return err == nil && p.Shard == k && p.With == j && p.Shards == m && p.Fingerprint == fp && p.WithFingerprint == withFP &&
		p.Threshold == o.Threshold && p.Space == o.Space.String() && p.Where == o.Where
}

// dupsDone reports whether path holds a complete, valid dups partial of
// shard k of m counted by key where pred selects, on the store with
// fingerprint fp.
func dupsDone(path string, key []string, pred string, k, m int, fp string) bool {
	fh, err := os.Open(path)
	if err != nil {
		return false
	}
	defer fh.Close()
	p, err := audit.ReadDupsPartial(path, fh)
	return err == nil && slices.Equal(p.Key, key) && p.Where == pred && p.Shard == k && p.Shards == m && p.Fingerprint == fp
}

// mergeDups merges the dups partial files given as arguments.
func mergeDups(e *env, fs *pflag.FlagSet) error {
	f := &dupsFlags
	if fs.NArg() == 0 {
		return usageErrorf("give the partial files to merge (from dups --partial)")
	}
	for _, name := range append([]string{"store", "key", "where", "near", "drop", "partial", "shard", "skip-done", "with"}, nearOnly...) {
		if fs.Changed(name) {
			return usageErrorf("--%s does not go with --merge: the partial files say what was counted", name)
		}
	}
	// Near-duplicate pairs or exact duplicates' keys, as the first file's
	// first line says.
	fh, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	head := make([]byte, 32)
	n, _ := io.ReadFull(fh, head)
	fh.Close()
	var files []audit.DupsFile
	if audit.IsNearPartial(head[:n]) {
		// The tasks' files are read one after another, each opened in
		// turn: M shards make M(M+1)/2 of them.
		for _, name := range fs.Args() {
			l := &lazyFile{name: name}
			defer l.close()
			files = append(files, audit.DupsFile{Name: name, R: l})
		}
		r, err := audit.MergeNear(files, false)
		if err != nil {
			return err
		}
		if f.format == "json" {
			return writeJSON(e.stdout, r)
		}
		return nearTable(e.stdout, r, r.Rows)
	}
	for _, name := range fs.Args() {
		fh, err := os.Open(name)
		if err != nil {
			return err
		}
		defer fh.Close()
		files = append(files, audit.DupsFile{Name: name, R: fh})
	}
	r, err := audit.MergeDups(files)
	if err != nil {
		return err
	}
	if f.format == "json" {
		return writeJSON(e.stdout, r)
	}
	return dupsTable(e.stdout, r, r.Rows)
}

// lazyFile opens a file at its first read and closes it once a read
// fails (at its end), so that a merge reading its files one after another
// holds one open at a time.
type lazyFile struct {
	name string
	f    *os.File
	done bool
}

func (l *lazyFile) Read(p []byte) (int, error) {
	if l.done {
		return 0, io.EOF
	}
	if l.f == nil {
		f, err := os.Open(l.name)
		if err != nil {
			l.done = true
			return 0, err
		}
		l.f = f
	}
	n, err := l.f.Read(p)
	if err != nil {
		l.close()
		l.done = true
	}
	return n, err
}

func (l *lazyFile) close() {
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
}

// dupsTable prints an exact-duplicates report as a table.
func dupsTable(w io.Writer, r *audit.DupsReport, selected int) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "key\t%s\n", strings.Join(r.Key, ", "))
	fmt.Fprintf(tw, "store\t%d rows, fingerprint %s\n", r.StoreRows, r.Fingerprint)
	if r.Where != "" {
		fmt.Fprintf(tw, "where\t%s: %d rows\n", r.Where, selected)
	}
	fmt.Fprintf(tw, "distinct keys\t%d\n", r.Keys)
	fmt.Fprintf(tw, "groups\t%d keys held by 2 rows or more\n", r.Groups)
	groupLines(tw, r.GroupStats, r.Rows, "first row")
	return tw.Flush()
}

// nearOptions reads the --near flags.
func nearOptions(fs *pflag.FlagSet) (*audit.NearOptions, error) {
	f := &dupsFlags
	if fs.Changed("key") {
		return nil, usageErrorf("--key is for exact duplicates: --near compares embeddings")
	}
	o := &audit.NearOptions{Threshold: f.threshold, K: f.k, RecallSample: f.sample, Seed: f.seed}
	if !(f.threshold > 0 && f.threshold <= 1) {
		return nil, usageErrorf("--threshold %v: want a cosine above 0 and at most 1", f.threshold)
	}
	switch f.space {
	case "image":
	case "text":
		o.Space = query.SpaceText
	default:
		return nil, usageErrorf("--space %q: want image or text", f.space)
	}
	switch f.method {
	case "auto":
	case audit.NearExact, audit.NearIndex:
		o.Method = f.method
	default:
		return nil, usageErrorf("--method %q: want auto, exact or index", f.method)
	}
	if f.k < 1 {
		return nil, usageErrorf("--k %d: want 1 or more neighbours", f.k)
	}
	if f.ef < 0 {
		return nil, usageErrorf("--ef %d: want 1 or more, or 0 for the calibrated default", f.ef)
	}
	switch {
	case f.sample < 0:
		return nil, usageErrorf("--sample %d: want 0 (no recall measured) or more rows", f.sample)
	case f.sample == 0:
		o.RecallSample = -1
	}
	return o, nil
}

// whereRows returns the rows of s that the predicate pred selects, as the
// query "all where pred" does, and how many they are.
func whereRows(ctx context.Context, s engine.Store, pred string) (*vector.Bitset, int, error) {
	q, err := query.Parse("all where " + pred)
	if err != nil {
		return nil, 0, fmt.Errorf("--where: %w", err)
	}
	if q.Limit >= 0 || q.Post != nil || q.By != nil || q.Sweep != nil {
		return nil, 0, usageErrorf("--where %q: want a predicate only, without limit, post where, by or sweep", pred)
	}
	res, err := engine.Run(ctx, s, q, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("--where: %w", err)
	}
	return res.Selection, res.Selected, nil
}

// nearTable prints a near-duplicates report as a table.
func nearTable(w io.Writer, r *audit.NearReport, selected int) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "near-duplicates\t%s embeddings at cosine >= %g\n", r.Space, r.Threshold)
	fmt.Fprintf(tw, "store\t%d rows, fingerprint %s\n", r.StoreRows, r.Fingerprint)
	if r.Where != "" {
		fmt.Fprintf(tw, "where\t%s: %d rows\n", r.Where, selected)
	}
	fmt.Fprintf(tw, "rows\t%d with %s embedding\n", r.Rows, map[string]string{"image": "an image", "text": "a text"}[r.Space])
	exact := "the answer is exact"
	if !r.Exact {
		exact = "approximate: pairs may be missing (see recall)"
	}
	fmt.Fprintf(tw, "method\t%s (%s)\n", r.Method, exact)
	fmt.Fprintf(tw, "pairs\t%d at or above the threshold (%d within %g of it)\n", r.Pairs, r.NearThreshold, engine.ScoreTolerance)
	fmt.Fprintf(tw, "groups\t%d groups of 2 rows or more\n", r.Groups)
	groupLines(tw, r.GroupStats, r.Rows, "representative row")
	if ip := r.Index; ip != nil && ip.Recall != nil && ip.Recall.Pairs.Defined() {
		p := ip.Recall.Pairs
		fmt.Fprintf(tw, "recall\t%.4f of %d pairs of %d sample rows (95%% CI %.4f–%.4f); %.4f in one group\n", p.Share, p.Of, ip.Recall.Sample, p.Lo, p.Hi, ip.Recall.Joined.Share)
	}
	fmt.Fprintf(tw, "scores computed\t%d\n", r.Scored)
	for _, line := range r.Plan {
		fmt.Fprintf(tw, "plan\t%s\n", line)
	}
	return tw.Flush()
}

// groupLines prints the rows a dedup drops, the histogram of group sizes
// and the largest groups.
func groupLines(tw io.Writer, st audit.GroupStats, rows int, first string) {
	share := 0.0
	if rows > 0 {
		share = 100 * float64(st.Duplicates) / float64(rows)
	}
	fmt.Fprintf(tw, "duplicates\t%d rows a dedup drops (%.2f%%)\n", st.Duplicates, share)
	for _, g := range st.Sizes {
		fmt.Fprintf(tw, "  groups of %d rows\t%d\n", g.Size, g.Groups)
	}
	for _, g := range st.Largest {
		fmt.Fprintf(tw, "  largest: %d rows, %s %d\n", g.Rows, first, g.First)
	}
}
