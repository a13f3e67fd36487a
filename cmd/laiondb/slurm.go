package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/laiondb/laiondb/db"
	"github.com/laiondb/laiondb/query"
)

var slurmFlags struct {
	work    string
	stores  string
	shards  int
	queries []string
	sbatch  []string
	laiondb string
	noIndex bool
	audit   string
	model   string
	dups    string
	near    float64
}

func init() {
	register(&command{
		name:    "slurm",
		summary: "write SLURM batch scripts that ingest and query a dataset as shards, and merge the answers",
		usage: "--work DIR --shards M --query QUERY... [--sbatch OPTION]... PATH...\n\n" +
			"Splits the sources PATH... expands to (as laiondb ingest lists them) into M consecutive\n" +
			"groups and writes into DIR:\n" +
			"  shards.sbatch  an array job of M tasks: task K ingests group K into its own store\n" +
			"                 (laiondb ingest --shard K/M) and writes each query's partial result\n" +
			"  merge.sbatch   merges every query's partials into DIR/results/qN.json and qN.txt (and\n" +
			"                 with --audit, the shards' audits into the report DIR/results/audit; with\n" +
			"                 --dups, the shards' distinct keys into DIR/results/dups.json and dups.txt)\n" +
			"  stored.sbatch  (for queries from a row or id target or a seed set) an array job of M\n" +
			"                 tasks after those: task K searches its store from the target's rows,\n" +
			"                 which the first job's tasks found (laiondb query --target-out, then\n" +
			"                 --target); it reopens the stores, so they must lie where every node\n" +
			"                 sees them, as must a seed set's file\n" +
			"  near.sbatch    (with --near) an array job of M(M+1)/2 tasks after the ingest: the\n" +
			"                 near-duplicate pairs within each shard and between each two (laiondb dups\n" +
			"                 --near --partial), which the merge joins into DIR/results/near.json\n" +
			"  submit.sh      submits them, the merge to run once every shard task succeeded\n" +
			"Each step is tried three times and the tasks are requeued if their node fails; running\n" +
			"submit.sh again skips the sources and the partial results already done. The merged\n" +
			"answers are those of one store of all the sources.",
		flags: func(fs *pflag.FlagSet) {
			f := &slurmFlags
			fs.StringVar(&f.work, "work", "", "folder for the scripts, logs, partial results and results (on a filesystem every node sees)")
			fs.StringVar(&f.stores, "stores", "", "folder for the shard stores, shard-K in it (default DIR/stores; a node-local folder works when every query runs in the same job as the ingest)")
			fs.IntVar(&f.shards, "shards", 0, "number of shards M")
			fs.StringArrayVar(&f.queries, "query", nil, "a query to answer over all the shards (give it once per query)")
			fs.StringArrayVar(&f.sbatch, "sbatch", nil, "an #SBATCH option for the shard tasks, e.g. --sbatch=--mem=16G --sbatch=--time=4:00:00 (give it once per option)")
			fs.StringVar(&f.laiondb, "laiondb", "", "the laiondb binary the nodes run (default: this one)")
			fs.BoolVar(&f.noIndex, "no-index", false, "do not build the shards' vector indexes (the queries then scan)")
			fs.StringVar(&f.audit, "audit", "", "also run laiondb audit with these --terms (a file, or essay2021-terms): each shard writes its partial results, the merge job writes the report to DIR/results/audit")
			fs.StringVar(&f.model, "model", "", "the CLIP model folder the shard tasks encode text targets and audit terms with (as for query)")
			fs.StringVar(&f.dups, "dups", "", "also count the exact duplicates by these key columns (e.g. url, or url,text): each shard writes its distinct keys (laiondb dups --partial), the merge job the report")
			fs.Float64Var(&f.near, "near", 0, "also find the near-duplicate images at this cosine or above (e.g. 0.94), exactly: an array job of M(M+1)/2 tasks (near.sbatch, after the shards' ingest) finds the pairs within each shard and between each two, the merge job the report; it reopens the stores, which must lie where every node sees them")
		},
		run: runSlurm,
	})
}

func runSlurm(e *env, fs *pflag.FlagSet) error {
	f := &slurmFlags
	switch {
	case f.work == "":
		return usageErrorf("give --work DIR")
	case f.shards < 1:
		return usageErrorf("give --shards M, at least 1")
	case len(f.queries) == 0 && f.audit == "" && f.dups == "" && f.near == 0:
		return usageErrorf("give at least one --query, or --audit TERMS, or --dups KEY, or --near COSINE")
	case f.near != 0 && !(f.near > 0 && f.near <= 1):
		return usageErrorf("--near %v: want a cosine above 0 and at most 1", f.near)
	case fs.NArg() == 0:
		return usageErrorf("give the dataset's files or folders")
	}
	stored := make([]bool, len(f.queries))
	for i, q := range f.queries {
		var err error
		if stored[i], err = storedTargetQuery(q); err != nil {
			return err
		}
	}
	for _, o := range f.sbatch {
		if !strings.HasPrefix(o, "-") || strings.ContainsAny(o, "\n\r") {
			return usageErrorf("--sbatch %q: want one sbatch option such as --mem=16G", o)
		}
	}
	bin := f.laiondb
	if bin == "" {
		var err error
		if bin, err = os.Executable(); err != nil {
			return err
		}
	}
	work, err := filepath.Abs(f.work)
	if err != nil {
		return err
	}
	stores := f.stores
	if stores == "" {
		stores = filepath.Join(work, "stores")
	}
	if stores, err = filepath.Abs(stores); err != nil {
		return err
	}
	var paths []string
	for _, p := range fs.Args() {
		ap, err := filepath.Abs(p)
		if err != nil {
			return err
		}
		paths = append(paths, ap)
	}
	srcs, err := db.ExpandPaths(paths)
	if err != nil {
		return err
	}
	if len(srcs) < f.shards {
		return fmt.Errorf("%d shards of %d sources: each shard needs a source", f.shards, len(srcs))
	}
	for _, d := range []string{"logs", "partials", "results"} {
		if err := os.MkdirAll(filepath.Join(work, d), 0o755); err != nil {
			return err
		}
	}
	m := f.shards
	var sh strings.Builder
	fmt.Fprintf(&sh, "#!/bin/bash\n# Written by laiondb slurm: %d shards of %d sources, %d queries.\n", m, len(srcs), len(f.queries))
	fmt.Fprintf(&sh, "#SBATCH --job-name=laiondb-shards\n#SBATCH --array=1-%d\n#SBATCH --output=%s\n#SBATCH --requeue\n",
		m, filepath.Join(work, "logs", "shard-%a.out"))
	for _, o := range f.sbatch {
		fmt.Fprintf(&sh, "#SBATCH %s\n", o)
	}
	// Each shard's place among the dataset's rows, from the sources' own
	// row counts: a sample of the whole store needs it, and the merge
	// checks every shard's rows against it.
	before := make([]string, m+1)
	var total int64
	for k := 1; k <= m; k++ {
		group, err := db.Shard(srcs, k, m)
		if err != nil {
			return err
		}
		before[k] = fmt.Sprint(total)
		for _, s := range group {
			n, err := db.SourceRows(s)
			if err != nil {
				return err
			}
			total += n
		}
	}
	before[0] = "-"
	fmt.Fprintf(&sh, "set -euo pipefail\nK=$SLURM_ARRAY_TASK_ID\nL=%s\nSTORE=%s/shard-$K\n", shq(bin), shq(stores))
	fmt.Fprintf(&sh, "# the rows of the shards before shard K, and of all %d shards (the sources' own counts)\nBEFORE=(%s)\nTOTAL=%d\n", m, strings.Join(before, " "), total)
	sh.WriteString("try() { for i in 1 2 3; do \"$@\" && return 0; echo \"laiondb slurm: attempt $i failed: $*\" >&2; sleep $((i * 10)); done; return 1; }\n")
	ingest := []string{`"$L" ingest -q --store "$STORE"`, fmt.Sprintf(`--shard "$K/%d"`, m)}
	if f.noIndex {
		ingest = append(ingest, "--no-index")
	}
	for _, p := range paths {
		ingest = append(ingest, shq(p))
	}
	fmt.Fprintf(&sh, "try %s\n", strings.Join(ingest, " "))
	model := ""
	if f.model != "" {
		abs, err := filepath.Abs(f.model)
		if err != nil {
			return err
		}
		model = " --model " + shq(abs)
	}
	// A query from a row or id target takes two steps: here each shard
	// writes what it holds of the target; stored.sbatch, once every shard
	// has, searches from it.
	var st strings.Builder
	for i, q := range f.queries {
		part := filepath.Join(work, "partials", fmt.Sprintf("q%d-shard-", i+1))
		if stored[i] {
			tgt := filepath.Join(work, "partials", fmt.Sprintf("q%d-target-", i+1))
			fmt.Fprintf(&sh, "try \"$L\" query --store \"$STORE\" --target-out %s\"$K\".json --shard \"$K/%d\" --rows-before \"${BEFORE[$K]}\" --rows-total \"$TOTAL\" %s\n", shq(tgt), m, shq(q))
			fmt.Fprintf(&st, "try \"$L\" query --store \"$STORE\"%s --partial %s\"$K\".json --shard \"$K/%d\" --rows-before \"${BEFORE[$K]}\" --rows-total \"$TOTAL\" --target %s --skip-done %s\n", model, shq(part), m, shq(tgt+"*.json"), shq(q))
			continue
		}
		fmt.Fprintf(&sh, "try \"$L\" query --store \"$STORE\"%s --partial %s\"$K\".json --shard \"$K/%d\" --rows-before \"${BEFORE[$K]}\" --rows-total \"$TOTAL\" --skip-done %s\n", model, shq(part), m, shq(q))
	}
	terms := f.audit
	if terms != "" && terms != "essay2021-terms" {
		if terms, err = filepath.Abs(terms); err != nil {
			return err
		}
	}
	if terms != "" {
		fmt.Fprintf(&sh, "try \"$L\" audit --store \"$STORE\"%s --terms %s --partial %s --shard \"$K/%d\"\n", model, shq(terms), shq(filepath.Join(work, "partials", "audit")), m)
	}
	if f.dups != "" {
		fmt.Fprintf(&sh, "try \"$L\" dups --store \"$STORE\" --key %s --partial %s\"$K\".dups --shard \"$K/%d\" --skip-done\n", shq(f.dups), shq(filepath.Join(work, "partials", "dups-shard-")), m)
	}
	var mg strings.Builder
	fmt.Fprintf(&mg, "#!/bin/bash\n# Written by laiondb slurm: merges the partial results of %d shards.\n", m)
	fmt.Fprintf(&mg, "#SBATCH --job-name=laiondb-merge\n#SBATCH --output=%s\nset -euo pipefail\nL=%s\n", filepath.Join(work, "logs", "merge.out"), shq(bin))
	var list strings.Builder
	for i, q := range f.queries {
		var parts []string
		for k := 1; k <= m; k++ {
			parts = append(parts, shq(filepath.Join(work, "partials", fmt.Sprintf("q%d-shard-%d.json", i+1, k))))
		}
		res := filepath.Join(work, "results", fmt.Sprintf("q%d", i+1))
		fmt.Fprintf(&mg, "# q%d: %s\n", i+1, strings.ReplaceAll(q, "\n", " "))
		fmt.Fprintf(&mg, "\"$L\" merge --format json %s > %s && mv %s %s\n", strings.Join(parts, " "), shq(res+".json.tmp"), shq(res+".json.tmp"), shq(res+".json"))
		fmt.Fprintf(&mg, "\"$L\" merge %s > %s\n", strings.Join(parts, " "), shq(res+".txt"))
		fmt.Fprintf(&list, "q%d\t%s\n", i+1, strings.ReplaceAll(q, "\n", " "))
	}
	if f.dups != "" {
		var parts []string
		for k := 1; k <= m; k++ {
			parts = append(parts, shq(filepath.Join(work, "partials", fmt.Sprintf("dups-shard-%d.dups", k))))
		}
		res := filepath.Join(work, "results", "dups")
		fmt.Fprintf(&mg, "# exact duplicates by %s\n\"$L\" dups --merge --format json %s > %s && mv %s %s\n\"$L\" dups --merge %s > %s\n", f.dups,
			strings.Join(parts, " "), shq(res+".json.tmp"), shq(res+".json.tmp"), shq(res+".json"), strings.Join(parts, " "), shq(res+".txt"))
	}
	if f.near != 0 {
		res := filepath.Join(work, "results", "near")
		nears := shq(filepath.Join(work, "partials", "near-")) + "*.near"
		fmt.Fprintf(&mg, "# near-duplicate images at cosine >= %v\n\"$L\" dups --merge --format json %s > %s && mv %s %s\n\"$L\" dups --merge %s > %s\n", f.near,
			nears, shq(res+".json.tmp"), shq(res+".json.tmp"), shq(res+".json"), nears, shq(res+".txt"))
	}
	if terms != "" {
		fmt.Fprintf(&mg, "# the audit of --terms %s\n\"$L\" audit --terms %s --merge %s --shards %d --report %s > %s\n", terms, shq(terms),
			shq(filepath.Join(work, "partials", "audit")), m, shq(filepath.Join(work, "results", "audit")), shq(filepath.Join(work, "results", "audit.txt")))
	}
	sub := fmt.Sprintf("#!/bin/bash\n# Written by laiondb slurm: submits the shard tasks, then the merge once they all succeeded.\nset -euo pipefail\ncd %s\n"+
		"jid=$(sbatch --parsable shards.sbatch)\njid=${jid%%%%;*}\nafter=$jid\n", shq(work))
	files := map[string]string{"shards.sbatch": sh.String(), "merge.sbatch": mg.String(), "queries.txt": list.String()}
	if st.Len() > 0 {
		// The same preamble as shards.sbatch, up to its ingest.
		pre := sh.String()
		pre = pre[:strings.Index(pre, "try \"$L\" ingest")]
		pre = strings.Replace(pre, "#SBATCH --job-name=laiondb-shards", "#SBATCH --job-name=laiondb-stored", 1)
		pre = strings.Replace(pre, filepath.Join(work, "logs", "shard-%a.out"), filepath.Join(work, "logs", "stored-%a.out"), 1)
		files["stored.sbatch"] = pre + st.String()
		sub += "sid=$(sbatch --parsable --dependency=afterok:$jid stored.sbatch)\nsid=${sid%%;*}\nafter=$jid:$sid\necho \"searches from row and id targets: job $sid (array of " + fmt.Sprint(m) + ")\"\n"
	}
	if f.near != 0 {
		// One task for each shard K and each pair K < J.
		var ks, js []string
		for k := 1; k <= m; k++ {
			for j := k; j <= m; j++ {
				ks, js = append(ks, fmt.Sprint(k)), append(js, fmt.Sprint(j))
			}
		}
		var nb strings.Builder
		fmt.Fprintf(&nb, "#!/bin/bash\n# Written by laiondb slurm: the near-duplicate pairs within each of %d shards and between each two.\n", m)
		fmt.Fprintf(&nb, "#SBATCH --job-name=laiondb-near\n#SBATCH --array=1-%d\n#SBATCH --output=%s\n#SBATCH --requeue\n", len(ks), filepath.Join(work, "logs", "near-%a.out"))
		for _, o := range f.sbatch {
			fmt.Fprintf(&nb, "#SBATCH %s\n", o)
		}
		fmt.Fprintf(&nb, "set -euo pipefail\nL=%s\nKS=(- %s)\nJS=(- %s)\nK=${KS[$SLURM_ARRAY_TASK_ID]}\nJ=${JS[$SLURM_ARRAY_TASK_ID]}\n", shq(bin), strings.Join(ks, " "), strings.Join(js, " "))
		nb.WriteString("try() { for i in 1 2 3; do \"$@\" && return 0; echo \"laiondb slurm: attempt $i failed: $*\" >&2; sleep $((i * 10)); done; return 1; }\n")
		part := shq(filepath.Join(work, "partials", "near-")) + `"$K-$J".near`
		fmt.Fprintf(&nb, "if [ \"$K\" = \"$J\" ]; then\n  try \"$L\" dups --near --threshold %v --store %s/shard-\"$K\" --partial %s --shard \"$K/%d\" --skip-done\n", f.near, shq(stores), part, m)
		fmt.Fprintf(&nb, "else\n  try \"$L\" dups --near --threshold %v --store %s/shard-\"$K\" --store %s/shard-\"$J\" --with \"$J\" --partial %s --shard \"$K/%d\" --skip-done\nfi\n", f.near, shq(stores), shq(stores), part, m)
		files["near.sbatch"] = nb.String()
		sub += "nid=$(sbatch --parsable --dependency=afterok:$jid near.sbatch)\nnid=${nid%%;*}\nafter=$after:$nid\necho \"near-duplicate pairs: job $nid (array of " + fmt.Sprint(len(ks)) + ")\"\n"
	}
	sub += fmt.Sprintf("mid=$(sbatch --parsable --dependency=afterok:$after merge.sbatch)\nmid=${mid%%%%;*}\n"+
		"echo \"shard tasks: job $jid (array of %d); merge: job $mid; results in %s\"\n", m, filepath.Join(work, "results"))
	files["submit.sh"] = sub
	for name, body := range files {
		mode := os.FileMode(0o755)
		if name == "queries.txt" {
			mode = 0o644
		}
		if err := os.WriteFile(filepath.Join(work, name), []byte(body), mode); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "%d sources in %d shards of %d to %d sources; %d queries\n", len(srcs), m, len(srcs)/m, (len(srcs)+m-1)/m, len(f.queries))
	fmt.Fprintf(e.stdout, "wrote %s, %s and %s\nsubmit with: %s\n", filepath.Join(work, "shards.sbatch"), filepath.Join(work, "merge.sbatch"),
		filepath.Join(work, "submit.sh"), filepath.Join(work, "submit.sh"))
	return nil
}

// storedTargetQuery reports whether query q searches from a row or id
// target or a seed set, which the shards resolve before their partials.
func storedTargetQuery(q string) (bool, error) {
	parsed, err := query.Parse(q)
	if err != nil {
		return false, usageErrorf("--query %s: %v", q, err)
	}
	var tn *query.TargetNode
	switch src := parsed.Source.(type) {
	case *query.KNNSource:
		tn = src.Target
	case *query.WithinSource:
		tn = src.Target
	}
	return tn != nil && tn.Target.Kind.Stored(), nil
}

// shq quotes s for a POSIX shell.
func shq(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
