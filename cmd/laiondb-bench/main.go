// Command laiondb-bench compares laiondb's vector search with FAISS,
// hnswlib and coder/hnsw on the same files in one run (package bench). It
// prints Go benchmark lines on stdout (benchstat reads them) and writes
// results.json, bench.txt, report.md and recall-qps.svg into --out. --gen
// picks the generator of the CLIP-like data; --rounds R (R ≥ 2) adds R
// alternating search rounds, each system reopened in a fresh process (a
// "--probe sweep" of this command for the Go systems).
//
// It is a command of its own so that the laiondb binary links none of the
// comparison systems and test generators:
//
//	go run ./cmd/laiondb-bench --systems laiondb-hnsw,hnswlib-cpp --n 100000 --rounds 3
//
// BENCHMARKS.md gives the runs and their commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/spf13/pflag"

	"github.com/laiondb/laiondb/bench"
)

var errUsage = errors.New("usage")

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run parses args, runs the comparison and returns the exit status: 2 for
// a usage error, 1 for a failed run.
func run(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("laiondb-bench", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
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
		rerun        bool
		buildThreads []int
		efs          []int
	)
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
	fs.BoolVar(&rerun, "rerun-rounds", false, "replace the search rounds of the run in --out by --rounds new ones on its saved indexes, with this binary's search code (same data and --systems flags)")
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
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "laiondb-bench: %v\n", err)
		return 2
	}
	err := func() error {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		if probe == "sweep" {
			return bench.ProbeSweep(ctx, pSystem, pIndex, pBase, pQueries, pEf, pOut, stdout)
		}
		if probe != "" {
			return bench.Probe(ctx, probe, pSystem, pIndex, pBase, pQuery, pThreads, func(s string) { fmt.Fprintln(stdout, s) })
		}
		if fs.NArg() > 0 {
			return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
		}
		if _, err := os.Stat(src + "/drivers"); err != nil {
			return fmt.Errorf("drivers not found under --src %s (run from the repository root): %w", src, err)
		}
		if base != "" {
			if fs.Changed("gen") {
				return fmt.Errorf("%w: --gen and --base exclude each other", errUsage)
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
			Options: bench.Options{BatchThreads: batchThreads, ExactQueries: exactQ, Dir: out, Probe: []string{exe}, Build: buildThreads, Ef: efs, Rounds: rounds},
			SrcDir:  src, Targets: targets, Out: stdout, Progress: stderr,
		}
		if rerender {
			return bench.Rerender(ctx, cfg)
		}
		if rerun {
			if err := bench.RerunRounds(ctx, cfg); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "report: %s/report.md\n", out)
			return nil
		}
		if _, err := bench.Run(ctx, cfg); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "report: %s/report.md, plot: %s/recall-qps.svg, benchstat input: %s/bench.txt\n", out, out, out)
		return nil
	}()
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "laiondb-bench: %s\n", strings.TrimPrefix(err.Error(), "usage: "))
		return 2
	}
	fmt.Fprintf(stderr, "laiondb-bench: %v\n", err)
	return 1
}
