package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// probeEnv makes the test binary act as "laiondb-bench --probe ...", so the
// rounds' fresh processes can be started from a test (see TestMain).
const probeEnv = "LAIONDB_BENCH_TEST_PROBE"

func TestMain(m *testing.M) {
	if os.Getenv(probeEnv) == "1" {
		os.Exit(probeMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// repeated is a flag that may be given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(s string) error { *r = append(*r, s); return nil }

// probeMain parses the probe flags of cmd/laiondb's bench command and runs
// the probe, as the laiondb binary does.
func probeMain(args []string) int {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	mode := fs.String("probe", "", "")
	sys := fs.String("probe-system", "", "")
	index := fs.String("probe-index", "", "")
	base := fs.String("probe-base", "", "")
	query := fs.String("probe-query", "", "")
	out := fs.String("probe-out", "", "")
	efs := fs.String("probe-ef", "", "")
	threads := fs.Int("probe-threads", 2, "")
	var queries repeated
	fs.Var(&queries, "probe-queries", "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var knobs []int
	for _, s := range strings.Split(*efs, ",") {
		if v, err := strconv.Atoi(s); err == nil {
			knobs = append(knobs, v)
		}
	}
	var err error
	if *mode == "sweep" {
		err = ProbeSweep(context.Background(), *sys, *index, *base, queries, knobs, *out, os.Stdout)
	} else {
		err = Probe(context.Background(), *mode, *sys, *index, *base, *query, *threads, func(s string) { fmt.Println(s) })
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestRatioPairByPair checks that a ratio is taken round by round (round r
// of one system against round r of the other), not as a ratio of medians,
// and that the QPS at a target is that of the smallest ef reaching it.
func TestRatioPairByPair(t *testing.T) {
	mk := func(name string, qps [][2]float64, recall [2]float64) *Result {
		r := &Result{System: name}
		for i, q := range qps {
			r.Rounds = append(r.Rounds, Round{Round: i + 1, Pos: i % 2, Points: []Point{
				{Queries: "text", Knob: "ef", Value: 32, QPS1: q[0], Recall10: recall[0]},
				{Queries: "text", Knob: "ef", Value: 64, QPS1: q[1], Recall10: recall[1]},
			}})
		}
		return r
	}
	// laiondb reaches 0.99 at ef=32, the other only at ef=64.
	a := mk("laiondb-hnsw", [][2]float64{{100, 50}, {200, 100}, {300, 150}}, [2]float64{0.99, 1})
	b := mk("hnswlib-cpp", [][2]float64{{200, 100}, {800, 400}, {300, 150}}, [2]float64{0.95, 0.995})
	b.Rounds[1].Points[1].Recall10 = 0.98 // round 2: 0.99 not reached
	s := SummarizeRounds([]*Result{a, b}, []string{"text"}, []float64{0.99})
	check := func(what string, got Spread, med, lo, hi float64, n int) {
		t.Helper()
		if got.N != n || got.Median != med || got.Min != lo || got.Max != hi {
			t.Errorf("%s = %+v, want median %v (%v–%v) over %d", what, got, med, lo, hi, n)
		}
	}
	// At ef=32: per-round ratios 0.5, 0.25, 1 → median 0.5 (the ratio of
	// the medians would be 200/300).
	sp, _ := s.Ratio("hnswlib-cpp", "text", 0, 32)
	check("ratio at ef=32", sp, 0.5, 0.25, 1, 3)
	// At R@10 ≥ 0.99: laiondb ef=32 (100, 200, 300) against hnswlib ef=64
	// (100, –, 150): rounds 1 and 3 only → 1 and 2.
	sp, _ = s.Ratio("hnswlib-cpp", "text", 0.99, 0)
	check("ratio at 0.99", sp, 1.5, 1, 2, 2)
	p, _ := s.atTarget("hnswlib-cpp", "text", 0.99)
	check("hnswlib QPS at 0.99", p.QPS, 125, 100, 150, 2)
	if fmt.Sprint(p.Values) != "[64 0 64]" {
		t.Errorf("hnswlib efs at 0.99 by round = %v, want [64 0 64]", p.Values)
	}
	if got := fmtAtTarget(p, 0); !strings.Contains(got, "ef=64") || !strings.Contains(got, "2 of 3 rounds") {
		t.Errorf("at-target cell %q lacks the ef or the rounds reached", got)
	}
	p, _ = s.atTarget("laiondb-hnsw", "text", 0.99)
	check("laiondb QPS at 0.99", p.QPS, 200, 100, 300, 3)
}

// roundsRun runs a tiny comparison with search rounds whose fresh
// processes are this test binary.
func roundsRun(t *testing.T, gen string, systems []string, efs []int) (string, []*Result, *RoundsSummary) {
	t.Helper()
	t.Setenv(probeEnv, "1")
	dir := t.TempDir()
	var out, progress bytes.Buffer
	rs, err := Run(context.Background(), RunConfig{
		Data:    DataConfig{Gen: gen, N: 2000, NQ: 50, Dim: 64, Seed: 5, RoundF16: true},
		Systems: systems,
		Options: Options{Dir: dir, ExactQueries: 20, Build: []int{1}, Ef: efs, Rounds: 2,
			Probe: []string{os.Args[0]}},
		SrcDir: ".",
		Out:    &out, Progress: &progress,
	})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, progress.String())
	}
	for _, r := range rs {
		if r.Err != "" {
			t.Fatalf("%s failed: %s\n%s", r.System, r.Err, progress.String())
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "rounds.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s RoundsSummary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "/round=2\t") {
		t.Errorf("no round=2 benchmark lines on stdout:\n%s", out.String())
	}
	return dir, rs, &s
}

// checkRounds checks the rounds of a run against the pair laiondb-hnsw and
// other: both ran every round in alternating order, the summary has its
// fields filled, and its ratios are the round-by-round ones.
func checkRounds(t *testing.T, dir string, rs []*Result, s *RoundsSummary, other string, efs []int) {
	t.Helper()
	var ref, oth *Result
	for _, r := range rs {
		switch r.System {
		case "laiondb-hnsw":
			ref = r
		case other:
			oth = r
		}
	}
	if ref == nil || oth == nil {
		t.Fatalf("missing results for laiondb-hnsw or %s", other)
	}
	for _, r := range []*Result{ref, oth} {
		if len(r.Rounds) != 2 {
			t.Fatalf("%s has %d rounds, want 2", r.System, len(r.Rounds))
		}
		for _, rd := range r.Rounds {
			if rd.Err != "" || len(rd.Points) != 2*len(efs) {
				t.Fatalf("%s round %d: %d points, error %q", r.System, rd.Round, len(rd.Points), rd.Err)
			}
			for _, p := range rd.Points {
				if p.NQ != 50 || p.QPS1 <= 0 || p.P50 <= 0 || p.P99 < p.P50 || p.Recall10 <= 0 || p.Recall10 > 1 {
					t.Errorf("%s round %d point %+v: fields not filled", r.System, rd.Round, p)
				}
			}
		}
	}
	if ref.Rounds[0].Pos == ref.Rounds[1].Pos || ref.Rounds[0].Pos == oth.Rounds[0].Pos {
		t.Errorf("order did not alternate: laiondb at %d, %d; %s at %d, %d", ref.Rounds[0].Pos, ref.Rounds[1].Pos, other, oth.Rounds[0].Pos, oth.Rounds[1].Pos)
	}
	if s.Rounds != 2 || s.Reference == "" || len(s.Order) != 2 || s.Order[0][0] != s.Order[1][1] {
		t.Errorf("summary header: rounds %d, reference %q, order %v", s.Rounds, s.Reference, s.Order)
	}
	for _, qs := range []string{"image", "text"} {
		for _, ef := range efs {
			var want []float64
			for i := range 2 {
				a, _ := ref.Rounds[i].pointAt(qs, ef)
				b, _ := oth.Rounds[i].pointAt(qs, ef)
				want = append(want, a.QPS1/b.QPS1)
			}
			got, ok := s.Ratio(oth.label(), qs, 0, ef)
			if w := spreadOf(want); !ok || got != w {
				t.Errorf("%s ef=%d: ratio %+v, want the round-by-round %+v", qs, ef, got, w)
			}
		}
		// At R@10 ≥ 0.9: the smallest ef reaching it in each round, from
		// the raw points; laiondb must reach it on this small set.
		reached := map[string]int{}
		for _, r := range []*Result{ref, oth} {
			var want []int
			for _, rd := range r.Rounds {
				ef := 0
				for _, p := range rd.Points {
					if p.Queries == qs && p.Recall10 >= 0.9 && (ef == 0 || p.Value < ef) {
						ef = p.Value
					}
				}
				want = append(want, ef)
				if ef > 0 {
					reached[r.System]++
				}
			}
			p, ok := s.atTarget(r.label(), qs, 0.9)
			if !ok || fmt.Sprint(p.Values) != fmt.Sprint(want) || p.QPS.N != reached[r.System] || (p.QPS.N > 0) != (p.QPS.Median > 0) {
				t.Errorf("%s %s at R@10 ≥ 0.9: %+v, want efs %v", r.System, qs, p, want)
			}
		}
		if reached["laiondb-hnsw"] != 2 {
			t.Errorf("laiondb-hnsw %s: R@10 ≥ 0.9 reached in %d of 2 rounds", qs, reached["laiondb-hnsw"])
		}
		if sp, ok := s.Ratio(oth.label(), qs, 0.9, 0); !ok || sp.N != min(reached["laiondb-hnsw"], reached[other]) {
			t.Errorf("%s: ratio at 0.9 = %+v", qs, sp)
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	for _, want := range []string{"### Search rounds: 2 alternating rounds", "R@10 ≥ 0.99: QPS (ef)", "| **laiondb-hnsw ÷ " + other + "** |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	txt, _ := os.ReadFile(filepath.Join(dir, "bench.txt"))
	if !strings.Contains(string(txt), "BenchmarkSearchRound/system="+other) || !strings.Contains(string(txt), fmt.Sprintf("/ef=%d/round=2\t", efs[0])) {
		t.Errorf("bench.txt lacks the round lines of %s", other)
	}
}

// TestRoundsGo runs the rounds path end to end on both generators with
// Go systems: laiondb's HNSW against coder/hnsw, and the exact scan, which
// is left out of the rounds and says so.
func TestRoundsGo(t *testing.T) {
	efs := []int{16, 64}
	for _, gen := range []string{"synth", "concepts"} {
		t.Run("gen="+gen, func(t *testing.T) {
			dir, rs, s := roundsRun(t, gen, []string{"laiondb-hnsw", "coder-hnsw", "laiondb-exact"}, efs)
			checkRounds(t, dir, rs, s, "coder-hnsw", efs)
			for _, r := range rs {
				if r.System == "laiondb-exact" && (len(r.Rounds) > 0 || !strings.Contains(r.Note, "not in the search rounds")) {
					t.Errorf("laiondb-exact: %d rounds, note %q", len(r.Rounds), r.Note)
				}
			}
		})
	}
}

// TestRoundsHnswlib covers the C++ driver's sweep mode.
func TestRoundsHnswlib(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: compiles hnswlib_bench (about 5 s)")
	}
	if _, err := os.Stat("/usr/include/hnswlib/hnswalg.h"); err != nil {
		t.Skip("skipped: libhnswlib-dev is not installed (/usr/include/hnswlib/hnswalg.h), so hnswlib_bench's sweep mode is not covered")
	}
	if _, err := exec.LookPath("g++"); err != nil {
		t.Skip("skipped: no g++ to compile hnswlib_bench, so its sweep mode is not covered")
	}
	efs := []int{16, 64}
	dir, rs, s := roundsRun(t, "concepts", []string{"laiondb-hnsw", "hnswlib-cpp"}, efs)
	checkRounds(t, dir, rs, s, "hnswlib-cpp", efs)
	for _, qs := range []string{"image", "text"} {
		if sp, _ := s.Ratio("hnswlib-cpp M=16 efC=200", qs, 0.9, 0); sp.N != 2 {
			t.Errorf("%s: ratio at R@10 ≥ 0.9 over %d rounds, want 2 (hnswlib reaches 0.9 at ef=64 here)", qs, sp.N)
		}
	}
}

// TestRoundsIVF: laiondb-ivf is saved, reopened in fresh processes and
// searched in the rounds beside laiondb's HNSW, over its own nprobe sweep
// (--ef replaces only the sweeps of ef knobs); its widest probe reads
// every list, so it is exact.
func TestRoundsIVF(t *testing.T) {
	_, rs, _ := roundsRun(t, "synth", []string{"laiondb-hnsw", "laiondb-ivf"}, []int{16, 64})
	var ivf *Result
	for _, r := range rs {
		if r.System == "laiondb-ivf" {
			ivf = r
		}
	}
	if ivf == nil || len(ivf.Rounds) != 2 {
		t.Fatalf("laiondb-ivf: %+v", ivf)
	}
	sweep := goSystems["laiondb-ivf"]().Sweep
	for _, rd := range ivf.Rounds {
		if rd.Err != "" || len(rd.Points) != 2*len(sweep) {
			t.Fatalf("round %d: %d points, want %d; error %q", rd.Round, len(rd.Points), 2*len(sweep), rd.Err)
		}
		for _, p := range rd.Points {
			if p.Value == sweep[len(sweep)-1] && p.Recall10 < 0.99 {
				t.Errorf("round %d, %s queries at nprobe %d: recall@10 %v, want ≥ 0.99", rd.Round, p.Queries, p.Value, p.Recall10)
			}
			if p.QPS1 <= 0 || p.Recall10 <= 0 || p.Recall10 > 1 {
				t.Errorf("round %d point %+v: fields not filled", rd.Round, p)
			}
		}
	}
}

// TestRerunRounds: --rerun-rounds replaces a run's rounds by new ones on
// its saved indexes, keeps its build figures, notes the rerun, and refuses
// systems that do not match results.json.
func TestRerunRounds(t *testing.T) {
	efs := []int{16, 64}
	systems := []string{"laiondb-hnsw", "coder-hnsw"}
	dir, first, _ := roundsRun(t, "synth", systems, efs)
	var progress bytes.Buffer
	cfg := RunConfig{
		Data:    DataConfig{Gen: "synth", N: 2000, NQ: 50, Dim: 64, Seed: 5, RoundF16: true},
		Systems: systems,
		Options: Options{Dir: dir, ExactQueries: 20, Build: []int{1}, Ef: efs, Rounds: 3, Probe: []string{os.Args[0]}},
		SrcDir:  ".", Progress: &progress,
	}
	if err := RerunRounds(context.Background(), cfg); err != nil {
		t.Fatalf("rerun: %v\n%s", err, progress.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rs []*Result
	if err := json.Unmarshal(b, &rs); err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		if len(r.Rounds) != 3 || !strings.Contains(r.Note, "search rounds rerun") {
			t.Fatalf("%s: %d rounds, note %q", r.System, len(r.Rounds), r.Note)
		}
		for _, rd := range r.Rounds {
			if rd.Err != "" || len(rd.Points) != 2*len(efs) {
				t.Fatalf("%s round %d: %d points, error %q", r.System, rd.Round, len(rd.Points), rd.Err)
			}
		}
		if r.BuildSec1 != first[i].BuildSec1 || r.BytesPerVec != first[i].BytesPerVec || r.Index != first[i].Index || len(r.Points) != len(first[i].Points) {
			t.Errorf("%s: builds or index changed by the rerun", r.System)
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	if !strings.Contains(string(md), "### Search rounds: 3 alternating rounds") {
		t.Error("report.md does not show the 3 new rounds")
	}
	cfg.Systems = []string{"laiondb-hnsw", "laiondb-ivf"}
	if err := RerunRounds(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "in --systems") {
		t.Errorf("other systems: %v", err)
	}
	cfg.Systems = []string{"laiondb-hnsw"}
	if err := RerunRounds(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "results.json holds 2") {
		t.Errorf("fewer systems: %v", err)
	}
}
