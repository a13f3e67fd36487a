package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Order is the order systems run and appear in: laiondb first, then the
// headline comparators (hnswlib -march=native, FAISS HNSW), then the rest,
// so an interrupted run still holds the most important rows.
var Order = []string{"laiondb-hnsw", "laiondb-ivf", "laiondb-exact", "hnswlib-cpp", "faiss-hnsw16", "faiss-flat",
	"faiss-ivfflat", "faiss-ivfpq", "faiss-ivfpq-refine", "hnswlib-py", "faiss-hnsw32", "coder-hnsw"}

// RunConfig is one comparison run.
type RunConfig struct {
	Data DataConfig
	// Systems are keys from Order, or "all" / "go" (the Go systems only).
	Systems []string
	Options
	// SrcDir is the bench source folder holding drivers/ (default "bench").
	SrcDir string
	// Targets are the recall@10 levels of the summary table.
	Targets []float64
	// Out receives the Go benchmark lines; Progress the progress log.
	Out, Progress io.Writer
}

// Expand resolves "all" and "go" into system keys, in Order.
func Expand(systems []string) ([]string, error) {
	var keys []string
	for _, s := range systems {
		switch s {
		case "all":
			keys = append(keys, Order...)
		case "go":
			keys = append(keys, GoSystems()...)
		default:
			if !slices.Contains(Order, s) {
				return nil, fmt.Errorf("bench: unknown system %q (have %s, all, go)", s, strings.Join(Order, ", "))
			}
			keys = append(keys, s)
		}
	}
	var out []string
	for _, k := range Order {
		if slices.Contains(keys, k) {
			out = append(out, k)
		}
	}
	return out, nil
}

// setup fills in the defaults of a run's configuration: the source and
// report folders, the recall targets, the writers and the log.
func (cfg *RunConfig) setup() {
	cfg.defaults()
	if cfg.SrcDir == "" {
		cfg.SrcDir = "bench"
	}
	if len(cfg.Targets) == 0 {
		cfg.Targets = []float64{0.9, 0.95, 0.99}
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	progress := cfg.Progress
	cfg.Log = func(format string, a ...any) {
		fmt.Fprintf(progress, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
	}
	cfg.Data.Dir = cfg.Dir
	cfg.Data.Log = cfg.Progress
}

// Run prepares the data, measures every selected system and writes
// results.json, bench.txt (Go benchmark format), report.md and
// recall-qps.svg into cfg.Dir.
func Run(ctx context.Context, cfg RunConfig) ([]*Result, error) {
	cfg.setup()
	logf := cfg.Log
	keys, err := Expand(cfg.Systems)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	t0 := time.Now()
	ds, err := LoadData(ctx, cfg.Data)
	if err != nil {
		return nil, err
	}
	logf("data %s ready in %.1f s", ds.Name, time.Since(t0).Seconds())
	var results []*Result
	externals := map[string]*External{}
	for _, e := range ExternalSystems(ds.N) {
		externals[e.Key] = e
	}
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return results, err
		}
		st := time.Now()
		var r *Result
		var err error
		if mk, ok := goSystems[k]; ok {
			r, err = RunGo(ctx, mk(), ds, cfg.Options)
		} else {
			e := externals[k]
			r, err = RunExternal(ctx, e, ds, cfg.Options, cfg.SrcDir, cfg.Progress)
			if err != nil {
				r = &Result{System: e.Name, Params: e.Params, Note: e.Note}
			}
		}
		if err != nil {
			logf("%s failed: %v", k, err)
			if r == nil {
				r = &Result{System: k}
			}
			r.Err = err.Error()
		}
		logf("%s done in %.0f s", k, time.Since(st).Seconds())
		results = append(results, r)
		for _, l := range GoBench(r) {
			fmt.Fprintln(cfg.Out, l)
		}
		// Rewrite the report after every system, so a long run that is
		// interrupted keeps what it measured.
		if err := WriteReport(cfg, ds, results); err != nil {
			return results, err
		}
	}
	if err := WriteReport(cfg, ds, results); err != nil {
		return results, err
	}
	if cfg.Rounds >= 2 {
		if err := runRounds(ctx, cfg, ds, keys, results, externals); err != nil {
			return results, err
		}
	}
	return results, nil
}

// Machine describes where a run happened, for the report header.
func Machine() string {
	var b strings.Builder
	fmt.Fprintf(&b, "- date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	if out, err := exec.Command("lscpu").Output(); err == nil {
		for _, l := range strings.Split(string(out), "\n") {
			for _, k := range []string{"Model name:", "CPU(s):", "Thread(s) per core:", "L2 cache:", "L3 cache:", "Hypervisor vendor:"} {
				if strings.HasPrefix(l, k) {
					fmt.Fprintf(&b, "- %s\n", strings.Join(strings.Fields(l), " "))
				}
			}
			if strings.HasPrefix(l, "Flags:") {
				var simd []string
				for _, f := range []string{"avx2", "fma", "f16c", "avx512f", "avx512_bf16"} {
					if slices.Contains(strings.Fields(l), f) {
						simd = append(simd, f)
					}
				}
				fmt.Fprintf(&b, "- SIMD: %s\n", strings.Join(simd, " "))
			}
		}
	}
	fmt.Fprintf(&b, "- Go: %s %s/%s, GOMAXPROCS %d\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0))
	for _, v := range []string{"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS"} {
		if x, ok := os.LookupEnv(v); ok {
			fmt.Fprintf(&b, "- env %s=%s\n", v, x)
		}
	}
	return b.String()
}

// WriteReport writes results.json, bench.txt, report.md and recall-qps.svg,
// and rounds.json when the results hold search rounds.
func WriteReport(cfg RunConfig, ds *Dataset, results []*Result) error {
	b, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return fmt.Errorf("bench: results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(cfg.Dir, "results.json"), b, 0o644); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	var gb bytes.Buffer
	for _, r := range results {
		for _, l := range GoBench(r) {
			fmt.Fprintln(&gb, l)
		}
	}
	if err := os.WriteFile(filepath.Join(cfg.Dir, "bench.txt"), gb.Bytes(), 0o644); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	var qs []string
	for _, q := range ds.Queries {
		qs = append(qs, q.Name)
	}
	var md bytes.Buffer
	fmt.Fprintf(&md, "## Vector search: %s (n=%d, d=%d, %d queries per set)\n\n", ds.Name, ds.N, ds.Dim, ds.Queries[0].Len(ds.Dim))
	if ds.Gen != "" {
		f16 := ""
		if cfg.Data.RoundF16 {
			f16 = ", rounded to float16"
		}
		fmt.Fprintf(&md, "- data: generated by internal/%s (seed %d)%s\n", ds.Gen, cfg.Data.Seed, f16)
	}
	md.WriteString(Machine())
	fmt.Fprintf(&md, "- single-thread QPS: one query at a time, k=10, 1 thread (Go: GOMAXPROCS=1; FAISS: omp_set_num_threads(1)); batched QPS: all queries at once on %d threads; exact systems timed on %d queries\n\n", cfg.BatchThreads, cfg.ExactQueries)
	if s := SummarizeRounds(results, qs, cfg.Targets); s != nil {
		WriteRoundsMarkdown(&md, s, qs, cfg.Targets)
		fmt.Fprintf(&md, "### The run itself: one pass, in the building process\n\n")
		b, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			return fmt.Errorf("bench: rounds: %w", err)
		}
		if err := os.WriteFile(filepath.Join(cfg.Dir, "rounds.json"), b, 0o644); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
	}
	WriteMarkdown(&md, results, qs, cfg.Targets)
	if err := os.WriteFile(filepath.Join(cfg.Dir, "report.md"), md.Bytes(), 0o644); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	var svg bytes.Buffer
	WriteSVG(&svg, results, qs)
	if err := os.WriteFile(filepath.Join(cfg.Dir, "recall-qps.svg"), svg.Bytes(), 0o644); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}

// Rerender rewrites report.md, bench.txt and recall-qps.svg from the
// results.json of an earlier run with the same data flags, e.g. after the
// report format changed.
func Rerender(ctx context.Context, cfg RunConfig) error {
	_, ds, rs, err := loadRun(ctx, &cfg)
	if err != nil {
		return err
	}
	return WriteReport(cfg, ds, rs)
}

// RerunRounds replaces the search rounds of an earlier run (same data
// and system flags) by cfg.Rounds new ones on its saved indexes, searched
// by the code of this binary: a search change measured without building
// again. Builds, the single sweep and the batched figures stay the
// earlier run's; each result's note says so.
func RerunRounds(ctx context.Context, cfg RunConfig) error {
	keys, ds, rs, err := loadRun(ctx, &cfg)
	if err != nil {
		return err
	}
	if cfg.Rounds < 2 {
		return fmt.Errorf("bench: rerun rounds: --rounds %d (at least 2)", cfg.Rounds)
	}
	if len(keys) != len(rs) {
		return fmt.Errorf("bench: rerun rounds: %d systems asked for, results.json holds %d", len(keys), len(rs))
	}
	for i, r := range rs {
		if r.System != keys[i] {
			return fmt.Errorf("bench: rerun rounds: system %d is %s in results.json, %s in --systems", i+1, r.System, keys[i])
		}
	}
	externals := map[string]*External{}
	for _, e := range ExternalSystems(ds.N) {
		externals[e.Key] = e
	}
	when := time.Now().UTC().Format("2006-01-02 15:04 UTC")
	for _, r := range rs {
		r.Rounds = nil
		r.Note = joinNote(r.Note, "search rounds rerun on the saved index at "+when+" (laiondb-bench --rerun-rounds); build and single sweep from the first run")
	}
	if err := runRounds(ctx, cfg, ds, keys, rs, externals); err != nil {
		return err
	}
	return WriteReport(cfg, ds, rs)
}

// loadRun reads the data and results.json of an earlier run in cfg.Dir.
func loadRun(ctx context.Context, cfg *RunConfig) ([]string, *Dataset, []*Result, error) {
	cfg.setup()
	keys, err := Expand(cfg.Systems)
	if err != nil {
		return nil, nil, nil, err
	}
	ds, err := LoadData(ctx, cfg.Data)
	if err != nil {
		return nil, nil, nil, err
	}
	b, err := os.ReadFile(filepath.Join(cfg.Dir, "results.json"))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("bench: %w", err)
	}
	var rs []*Result
	if err := json.Unmarshal(b, &rs); err != nil {
		return nil, nil, nil, fmt.Errorf("bench: results.json: %w", err)
	}
	return keys, ds, rs, nil
}
