package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/spf13/pflag"

	"github.com/laiondb/laiondb/bench"
)

// bench runs the side-by-side vector search comparison of package bench:
// laiondb's index and exact scan, FAISS, hnswlib and coder/hnsw on the same
// files in one run. It prints Go benchmark lines on stdout (benchstat reads
// them) and writes results.json, bench.txt, report.md and recall-qps.svg
// into --out. --gen picks the generator of the CLIP-like data; --rounds R
// (R ≥ 2) adds R alternating search rounds, each system reopened in a fresh
// process (a "--probe sweep" of this command for the Go systems).
func init() {
	var (
		systems      []string
		base, out    string
		gen          string
		queries, gt  []string
		n, nq, dim   int
		seed         uint64
		noF16        bool
		batchThreads int
		exactQ       int
		src          string
		targets      []float64
		probe        string
		pSystem      string
		pIndex       string
		pBase        string
		pQuery       string
		pThreads     int
		pQueries     []string
		pEf          []int
		pOut         string
		rounds       int
		rerender     bool
		buildThreads []int
		efs          []int
	)
	register(&command{
		name:    "bench",
		summary: "compare laiondb's vector search with FAISS, hnswlib and coder/hnsw",
		usage:   "[--systems all|go|NAME,...] [--gen synth|concepts] [--n 100000] [--rounds R] [--base B.npy --queries Q.npy ...]",
		flags: func(fs *pflag.FlagSet) {
			fs.StringSliceVar(&systems, "systems", []string{"all"}, "systems to run: all, go, or names from: "+strings.Join(bench.Order, ","))
			fs.IntVar(&n, "n", 100000, "base vectors to generate (or the prefix of --base to use)")
			fs.IntVar(&nq, "nq", 1000, "queries per set (image and text when generating)")
			fs.IntVar(&dim, "dim", 512, "dimension of generated vectors")
			fs.Uint64Var(&seed, "seed", 1, "seed of the generated set")
			fs.BoolVar(&noF16, "no-f16", false, "keep generated vectors in float32 (default: rounded to float16 as LAION ships them)")
			fs.StringVar(&gen, "gen", "synth", "generator of the CLIP-like vectors: synth (internal/synth) or concepts (internal/concepts)")
			fs.StringVar(&base, "base", "", "base vectors (.npy float16/float32 or .fvecs); default: generate CLIP-like vectors")
			fs.StringSliceVar(&queries, "queries", nil, "query files (.npy or .fvecs), with --base")
			fs.StringSliceVar(&gt, "gt", nil, "ground truth .npy per query file (default: computed and cached)")
			fs.StringVar(&out, "out", "bench/out", "output folder (data, indexes, results)")
			fs.IntVar(&batchThreads, "batch-threads", 2, "threads of batched searches")
			fs.IntSliceVar(&buildThreads, "build-threads", []int{1, 2}, "thread counts to build each index with, in order (RAM is measured across the first)")
			fs.IntSliceVar(&efs, "ef", nil, "ef values to sweep for every HNSW system (default: 10 … 512)")
			fs.IntVar(&rounds, "rounds", 1, "with 2 or more: after the run, that many alternating search rounds, each system reopened in a fresh process (k=10, one thread, all queries)")
			fs.IntVar(&exactQ, "exact-queries", 200, "queries timed on exact systems")
			fs.StringVar(&src, "src", "bench", "folder holding drivers/ (the bench package source)")
			fs.Float64SliceVar(&targets, "targets", []float64{0.9, 0.95, 0.99}, "recall@10 levels of the summary table")
			fs.BoolVar(&rerender, "rerender", false, "rewrite the report of the run in --out from its results.json (same data flags)")
			fs.StringVar(&probe, "probe", "", "internal: run a fresh-process probe (open|build|sweep)")
			fs.StringVar(&pSystem, "probe-system", "", "internal")
			fs.StringVar(&pIndex, "probe-index", "", "internal")
			fs.StringVar(&pBase, "probe-base", "", "internal")
			fs.StringVar(&pQuery, "probe-query", "", "internal")
			fs.IntVar(&pThreads, "probe-threads", 2, "internal")
			fs.StringArrayVar(&pQueries, "probe-queries", nil, "internal")
			fs.IntSliceVar(&pEf, "probe-ef", nil, "internal")
			fs.StringVar(&pOut, "probe-out", "", "internal")
			for _, f := range []string{"probe", "probe-system", "probe-index", "probe-base", "probe-query", "probe-threads", "probe-queries", "probe-ef", "probe-out"} {
				_ = fs.MarkHidden(f)
			}
		},
		run: func(e *env, fs *pflag.FlagSet) error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			if probe == "sweep" {
				return bench.ProbeSweep(ctx, pSystem, pIndex, pBase, pQueries, pEf, pOut, e.stdout)
			}
			if probe != "" {
				return bench.Probe(ctx, probe, pSystem, pIndex, pBase, pQuery, pThreads, func(s string) { fmt.Fprintln(e.stdout, s) })
			}
			if fs.NArg() > 0 {
				return usageErrorf("unexpected argument %q", fs.Arg(0))
			}
			if _, err := os.Stat(src + "/drivers"); err != nil {
				return fmt.Errorf("drivers not found under --src %s (run from the repository root): %w", src, err)
			}
			if base != "" {
				if fs.Changed("gen") {
					return usageErrorf("--gen and --base exclude each other")
				}
				gen = ""
			}
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("bench: %w", err)
			}
			cfg := bench.RunConfig{
				Data:    bench.DataConfig{Gen: gen, Base: base, Queries: queries, GT: gt, N: n, NQ: nq, Dim: dim, Seed: seed, RoundF16: !noF16},
				Systems: systems,
				Options: bench.Options{BatchThreads: batchThreads, ExactQueries: exactQ, Dir: out, Probe: []string{exe, "bench"}, Build: buildThreads, Ef: efs, Rounds: rounds},
				SrcDir:  src, Targets: targets, Out: e.stdout, Progress: e.stderr,
			}
			if rerender {
				return bench.Rerender(ctx, cfg)
			}
			if _, err := bench.Run(ctx, cfg); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "report: %s/report.md, plot: %s/recall-qps.svg, benchstat input: %s/bench.txt\n", out, out, out)
			return nil
		},
	})
}
