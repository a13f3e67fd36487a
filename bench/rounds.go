package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The search rounds (Options.Rounds ≥ 2, laiondb-bench --rounds R): after
// the run has built, saved and swept every system, R more rounds search
// every query of every set with k=10 on one thread, one query at a time, at
// every knob value of the system's sweep. In each round every system that
// can be reopened runs in a fresh process opened from its saved index:
// laiondb's Go systems through "laiondb-bench --probe sweep" (ProbeSweep),
// hnswlib-cpp through its driver's "sweep" mode. The order of the systems
// alternates: A, B in round 1, B, A in round 2, and so on. Each process
// runs one untimed warm-up pass per query set at the largest knob value
// first, so a memory-mapped index does not pay its first page faults inside
// the first timed point (the open itself is measured by the open probe).
//
// Exact scans (timed on a subset in the run) and the Python drivers (no
// sweep mode) take no part; their results say so.

// rounder is a system taking part in the rounds.
type rounder struct {
	key string
	r   *Result
	// cmd returns the fresh process of one round, writing ids into out.
	cmd func(ctx context.Context, out string) *exec.Cmd
}

// runRounds runs cfg.Rounds alternating rounds over the systems of a run
// (results[i] is keys[i]'s) and appends them to the results' Rounds,
// rewriting the report after each round.
func runRounds(ctx context.Context, cfg RunConfig, ds *Dataset, keys []string, results []*Result, externals map[string]*External) error {
	var in []rounder
	for i, k := range keys {
		x, why := cfg.rounder(ctx, ds, k, results[i], externals[k])
		if why != "" {
			if results[i].Err == "" {
				results[i].Note = joinNote(results[i].Note, "not in the search rounds: "+why)
			}
			continue
		}
		in = append(in, x)
	}
	if len(in) == 0 {
		cfg.Log("rounds: no system can be reopened in a fresh process")
		return nil
	}
	for round := 1; round <= cfg.Rounds; round++ {
		order := slices.Clone(in)
		if round%2 == 0 {
			slices.Reverse(order)
		}
		for pos, x := range order {
			if err := ctx.Err(); err != nil {
				return err
			}
			rd := Round{Round: round, Pos: pos, Load: loadAvg()}
			out := filepath.Join(cfg.Dir, "rounds", fmt.Sprintf("round%d", round), x.key)
			cfg.Log("round %d/%d: %s in a fresh process", round, cfg.Rounds, x.key)
			res, err := func() (*Result, error) {
				if err := os.MkdirAll(out, 0o755); err != nil {
					return nil, err
				}
				return driverResult(x.cmd(ctx, out), cfg.Progress)
			}()
			if err == nil {
				for i := range res.Points {
					if err = ds.score(&res.Points[i]); err != nil {
						break
					}
				}
			}
			if err != nil {
				rd.Err = err.Error()
				cfg.Log("round %d: %s failed: %v", round, x.key, err)
			} else {
				rd.Points = res.Points
				for _, p := range rd.Points {
					cfg.Log("round %d: %s %s %s=%d: recall@10 %.4f, %.0f QPS", round, x.key, p.Queries, p.Knob, p.Value, p.Recall10, p.QPS1)
				}
			}
			x.r.Rounds = append(x.r.Rounds, rd)
			for _, l := range x.r.roundBench(rd) {
				fmt.Fprintln(cfg.Out, l)
			}
		}
		if err := WriteReport(cfg, ds, results); err != nil {
			return err
		}
	}
	return nil
}

// loadAvg returns the 1-minute load average (0 when unknown).
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// rounder returns how system key takes part in the rounds, or why it
// does not.
func (cfg *RunConfig) rounder(ctx context.Context, ds *Dataset, key string, r *Result, e *External) (rounder, string) {
	x := rounder{key: key, r: r}
	if r.Err != "" {
		return x, "failed"
	}
	if r.Index == "" {
		return x, "no saved index"
	}
	var queries []string
	for _, q := range ds.Queries {
		queries = append(queries, q.Name+"="+q.Path)
	}
	if mk, ok := goSystems[key]; ok {
		sys := mk()
		switch {
		case sys.Exact:
			return x, "an exact scan"
		case sys.Open == nil:
			return x, "cannot be reopened"
		case len(cfg.Probe) == 0:
			return x, "no probe command to start a fresh process"
		}
		knobs := joinInts(cfg.sweep(sys.Knob, sys.Sweep))
		x.cmd = func(ctx context.Context, out string) *exec.Cmd {
			args := append(append([]string{}, cfg.Probe[1:]...), "--probe", "sweep", "--probe-system", key,
				"--probe-index", r.Index, "--probe-base", ds.BasePath, "--probe-out", out, "--probe-ef", knobs)
			for _, q := range queries {
				args = append(args, "--probe-queries", q)
			}
			return exec.CommandContext(ctx, cfg.Probe[0], args...)
		}
		return x, ""
	}
	if e == nil || !e.Cpp {
		return x, "its driver has no fresh-process sweep"
	}
	bin, err := CompileHnswlib(ctx, cfg.SrcDir, cfg.Dir)
	if err != nil {
		return x, err.Error()
	}
	knobs := joinInts(cfg.sweep(e.Knob, e.Sweep))
	x.cmd = func(ctx context.Context, out string) *exec.Cmd {
		args := append([]string{"sweep", r.Index, strconv.Itoa(ds.Dim), out, key, knobs}, queries...)
		return exec.CommandContext(ctx, bin, args...)
	}
	return x, ""
}

// Spread summarises one figure over rounds: median, minimum and maximum.
type Spread struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	N      int     `json:"n"` // the rounds it is taken over
}

func spreadOf(xs []float64) Spread {
	if len(xs) == 0 {
		return Spread{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return Spread{Median: med, Min: s[0], Max: s[n-1], N: n}
}

// format prints "median (min–max)" of s·scale with prec decimals.
func (s Spread) format(prec int, scale float64) string {
	if s.N == 0 {
		return "–"
	}
	if s.N == 1 || s.Min == s.Max {
		return fmtF(s.Median*scale, prec)
	}
	return fmt.Sprintf("%s (%s–%s)", fmtF(s.Median*scale, prec), fmtF(s.Min*scale, prec), fmtF(s.Max*scale, prec))
}

// RoundsSummary digests the search rounds of a run; it is written as
// rounds.json and drawn as the rounds tables of report.md.
type RoundsSummary struct {
	Rounds int `json:"rounds"`
	// Reference is laiondb-hnsw's label; ratios are its QPS ÷ the other's.
	Reference string     `json:"reference"`
	Order     [][]string `json:"order"` // the systems' order in each round
	// Load is the 1-minute load average as each system's process started,
	// in the order of Order.
	Load     [][]float64  `json:"load1"`
	Points   []RoundPoint `json:"points"`
	AtTarget []RoundPoint `json:"at_target"`
	Ratios   []RoundRatio `json:"ratios"`
}

// RoundPoint is one system's figures on one query set, over the rounds,
// at one knob value or (in AtTarget) at the smallest knob value whose
// recall@10 reaches Target in each round.
type RoundPoint struct {
	System  string  `json:"system"`
	Queries string  `json:"queries"`
	Knob    string  `json:"knob"`
	Value   int     `json:"value,omitempty"`
	Target  float64 `json:"target,omitempty"`
	// Values are the knob values chosen in each round (AtTarget; 0 where
	// the target was not reached).
	Values   []int     `json:"values,omitempty"`
	QPS      Spread    `json:"qps"`
	P50      Spread    `json:"p50_ns"`
	P99      Spread    `json:"p99_ns"`
	Recall10 Spread    `json:"recall10"`
	ByRound  []float64 `json:"qps_by_round"` // QPS in round order, 0 where missing
}

// RoundRatio is the reference's QPS ÷ another system's, taken round by
// round (round r against round r) and then summarised.
type RoundRatio struct {
	Queries string  `json:"queries"`
	Other   string  `json:"other"`
	Target  float64 `json:"target,omitempty"` // at a recall@10 target, or
	Value   int     `json:"value,omitempty"`  // at one knob value
	Ratio   Spread  `json:"ratio"`
}

// pointAt returns the point of a round at query set qs and knob value v.
func (rd Round) pointAt(qs string, v int) (Point, bool) {
	for _, p := range rd.Points {
		if p.Queries == qs && p.Value == v {
			return p, true
		}
	}
	return Point{}, false
}

// atTarget returns the point of a round with the smallest knob value whose
// recall@10 on qs reaches target.
func (rd Round) atTarget(qs string, target float64) (Point, bool) {
	var best Point
	ok := false
	for _, p := range rd.Points {
		if p.Queries == qs && p.Recall10 >= target && (!ok || p.Value < best.Value) {
			best, ok = p, true
		}
	}
	return best, ok
}

// roundOf returns round number n of r, if it ran without error.
func (r *Result) roundOf(n int) (Round, bool) {
	for _, rd := range r.Rounds {
		if rd.Round == n && rd.Err == "" {
			return rd, true
		}
	}
	return Round{}, false
}

// SummarizeRounds computes the rounds' medians, spreads and ratios for the
// query sets and recall@10 targets given; nil when no result has rounds.
func SummarizeRounds(rs []*Result, queries []string, targets []float64) *RoundsSummary {
	var in []*Result
	n := 0
	for _, r := range rs {
		if len(r.Rounds) > 0 {
			in = append(in, r)
			for _, rd := range r.Rounds {
				n = max(n, rd.Round)
			}
		}
	}
	if len(in) == 0 {
		return nil
	}
	s := &RoundsSummary{Rounds: n}
	var ref *Result
	for _, r := range in {
		if r.System == "laiondb-hnsw" {
			ref = r
			s.Reference = r.label()
		}
	}
	for round := 1; round <= n; round++ {
		order := make([]string, len(in))
		load := make([]float64, len(in))
		for _, r := range in {
			for _, rd := range r.Rounds {
				if rd.Round == round && rd.Pos < len(order) {
					order[rd.Pos], load[rd.Pos] = r.label(), rd.Load
				}
			}
		}
		s.Order = append(s.Order, order)
		s.Load = append(s.Load, load)
	}
	// pick selects a point of a round: at a knob value or at a target.
	type pick func(rd Round, qs string) (Point, bool)
	collect := func(r *Result, qs string, f pick) (rp RoundPoint, qps []float64) {
		rp = RoundPoint{System: r.label(), Queries: qs, ByRound: make([]float64, n)}
		var p50, p99, rec []float64
		for round := 1; round <= n; round++ {
			rd, ok := r.roundOf(round)
			if !ok {
				rp.Values = append(rp.Values, 0)
				continue
			}
			p, ok := f(rd, qs)
			if !ok {
				rp.Values = append(rp.Values, 0)
				continue
			}
			rp.Knob = p.Knob
			rp.Values = append(rp.Values, p.Value)
			rp.ByRound[round-1] = p.QPS1
			qps = append(qps, p.QPS1)
			p50, p99, rec = append(p50, p.P50), append(p99, p.P99), append(rec, p.Recall10)
		}
		rp.QPS, rp.P50, rp.P99, rp.Recall10 = spreadOf(qps), spreadOf(p50), spreadOf(p99), spreadOf(rec)
		return rp, qps
	}
	// ratio pairs the reference's round r with other's round r.
	ratio := func(other *Result, qs string, f pick) Spread {
		var xs []float64
		for round := 1; round <= n; round++ {
			a, okA := ref.roundOf(round)
			b, okB := other.roundOf(round)
			if !okA || !okB {
				continue
			}
			pa, okA := f(a, qs)
			pb, okB := f(b, qs)
			if okA && okB && pb.QPS1 > 0 {
				xs = append(xs, pa.QPS1/pb.QPS1)
			}
		}
		return spreadOf(xs)
	}
	for _, qs := range queries {
		var values []int
		for _, r := range in {
			for _, rd := range r.Rounds {
				for _, p := range rd.Points {
					if p.Queries == qs && !slices.Contains(values, p.Value) {
						values = append(values, p.Value)
					}
				}
			}
		}
		slices.Sort(values)
		for _, r := range in {
			for _, v := range values {
				at := func(rd Round, qs string) (Point, bool) { return rd.pointAt(qs, v) }
				if rp, qps := collect(r, qs, at); len(qps) > 0 {
					rp.Value, rp.Values = v, nil
					s.Points = append(s.Points, rp)
				}
			}
			for _, t := range targets {
				at := func(rd Round, qs string) (Point, bool) { return rd.atTarget(qs, t) }
				rp, _ := collect(r, qs, at)
				rp.Target = t
				s.AtTarget = append(s.AtTarget, rp)
			}
		}
		if ref == nil {
			continue
		}
		for _, o := range in {
			if o == ref {
				continue
			}
			for _, t := range targets {
				at := func(rd Round, qs string) (Point, bool) { return rd.atTarget(qs, t) }
				s.Ratios = append(s.Ratios, RoundRatio{Queries: qs, Other: o.label(), Target: t, Ratio: ratio(o, qs, at)})
			}
			for _, v := range values {
				at := func(rd Round, qs string) (Point, bool) { return rd.pointAt(qs, v) }
				if sp := ratio(o, qs, at); sp.N > 0 {
					s.Ratios = append(s.Ratios, RoundRatio{Queries: qs, Other: o.label(), Value: v, Ratio: sp})
				}
			}
		}
	}
	return s
}

func (s *RoundsSummary) point(system, qs string, v int) (RoundPoint, bool) {
	for _, p := range s.Points {
		if p.System == system && p.Queries == qs && p.Value == v {
			return p, true
		}
	}
	return RoundPoint{}, false
}

func (s *RoundsSummary) atTarget(system, qs string, t float64) (RoundPoint, bool) {
	for _, p := range s.AtTarget {
		if p.System == system && p.Queries == qs && p.Target == t {
			return p, true
		}
	}
	return RoundPoint{}, false
}

// Ratio returns the ratio of the reference to other on qs, at target t
// (v = 0) or at knob value v (t = 0).
func (s *RoundsSummary) Ratio(other, qs string, t float64, v int) (Spread, bool) {
	for _, r := range s.Ratios {
		if r.Other == other && r.Queries == qs && r.Target == t && r.Value == v {
			return r.Ratio, true
		}
	}
	return Spread{}, false
}

// systems lists the systems of the summary, the reference first.
func (s *RoundsSummary) systems() []string {
	var out []string
	if s.Reference != "" {
		out = append(out, s.Reference)
	}
	for _, p := range s.AtTarget {
		if !slices.Contains(out, p.System) {
			out = append(out, p.System)
		}
	}
	return out
}

func fmtRatio(sp Spread) string {
	if sp.N == 0 {
		return "–"
	}
	if sp.N == 1 || sp.Min == sp.Max {
		return fmt.Sprintf("×%.2f", sp.Median)
	}
	return fmt.Sprintf("×%.2f (%.2f–%.2f)", sp.Median, sp.Min, sp.Max)
}

// WriteRoundsMarkdown writes the rounds tables: per query set, each
// system's QPS at the smallest ef reaching each recall@10 target with the
// round-by-round ratios, then the same at every ef, then the full figures.
func WriteRoundsMarkdown(w io.Writer, s *RoundsSummary, queries []string, targets []float64) {
	systems := s.systems()
	var others []string
	if s.Reference != "" {
		others = systems[1:]
	}
	fmt.Fprintf(w, "### Search rounds: %d alternating rounds, each system in a fresh process\n\n", s.Rounds)
	fmt.Fprintf(w, "Each round reopens every system's saved index in a fresh process (laiondb's Go systems: `laiondb-bench --probe sweep`, "+
		"opened as the store opens it; hnswlib-cpp: `hnswlib_bench sweep`, hnswlib's own loadIndex), runs one untimed warm-up pass "+
		"per query set at the largest ef, then searches every query one at a time (k=10, one thread) at every ef. "+
		"Figures are the median (min–max) over the rounds. ")
	if s.Reference != "" {
		fmt.Fprintf(w, "Ratios are %s's QPS ÷ the other system's, taken round by round (round r against round r), "+
			"then given as median (min–max); above 1, %s is faster.", shortLabel(s.Reference), shortLabel(s.Reference))
	}
	fmt.Fprintf(w, "\n\n")
	loads := false
	for i, o := range s.Order {
		var items []string
		for j, sys := range o {
			if i < len(s.Load) && j < len(s.Load[i]) && s.Load[i][j] > 0 {
				sys += fmt.Sprintf(" (load %.1f)", s.Load[i][j])
				loads = true
			}
			items = append(items, sys)
		}
		fmt.Fprintf(w, "- round %d: %s\n", i+1, strings.Join(items, ", "))
	}
	if loads {
		fmt.Fprintf(w, "\nLoad is the 1-minute load average as the system's process started; the previous search process "+
			"counts for up to 1 of it, and beyond the number of cores other work competed for the CPU.\n")
	}
	fmt.Fprintln(w)
	desc := slices.Clone(targets)
	slices.Sort(desc)
	slices.Reverse(desc)
	for _, qs := range queries {
		fmt.Fprintf(w, "#### Rounds, %s queries: QPS at the smallest ef reaching recall@10\n\n| system |", qs)
		for _, t := range desc {
			fmt.Fprintf(w, " R@10 ≥ %.2f: QPS (ef) |", t)
		}
		fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---|", len(desc)))
		for _, sys := range systems {
			fmt.Fprintf(w, "| %s |", sys)
			for _, t := range desc {
				p, _ := s.atTarget(sys, qs, t)
				fmt.Fprintf(w, " %s |", fmtAtTarget(p, s.bestRecall(sys, qs)))
			}
			fmt.Fprintln(w)
		}
		for _, o := range others {
			fmt.Fprintf(w, "| **%s ÷ %s** |", shortLabel(s.Reference), shortLabel(o))
			for _, t := range desc {
				sp, _ := s.Ratio(o, qs, t, 0)
				fmt.Fprintf(w, " %s |", fmtRatio(sp))
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "#### Rounds, %s queries: every ef\n\n| ef |", qs)
		for _, sys := range systems {
			fmt.Fprintf(w, " %s QPS | R@10 |", shortLabel(sys))
		}
		for _, o := range others {
			fmt.Fprintf(w, " %s ÷ %s |", shortLabel(s.Reference), shortLabel(o))
		}
		fmt.Fprintf(w, "\n|---|%s%s\n", strings.Repeat("---|---|", len(systems)), strings.Repeat("---|", len(others)))
		var values []int
		for _, p := range s.Points {
			if p.Queries == qs && !slices.Contains(values, p.Value) {
				values = append(values, p.Value)
			}
		}
		slices.Sort(values)
		for _, v := range values {
			fmt.Fprintf(w, "| %d |", v)
			for _, sys := range systems {
				p, ok := s.point(sys, qs, v)
				if !ok {
					fmt.Fprintf(w, " | |")
					continue
				}
				fmt.Fprintf(w, " %s | %s |", p.QPS.format(0, 1), p.Recall10.format(4, 1))
			}
			for _, o := range others {
				sp, _ := s.Ratio(o, qs, 0, v)
				fmt.Fprintf(w, " %s |", fmtRatio(sp))
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "<details><summary>Rounds: every point</summary>\n\n")
	fmt.Fprintf(w, "| system | queries | knob | QPS median (min–max) | QPS by round | p50 µs | p99 µs | R@10 |\n|---|---|---|---|---|---|---|---|\n")
	for _, p := range s.Points {
		by := make([]string, len(p.ByRound))
		for i, q := range p.ByRound {
			by[i] = fmtF(q, 0)
		}
		fmt.Fprintf(w, "| %s | %s | %s=%d | %s | %s | %s | %s | %s |\n", p.System, p.Queries, p.Knob, p.Value, p.QPS.format(0, 1),
			strings.Join(by, ", "), p.P50.format(0, 1e-3), p.P99.format(0, 1e-3), p.Recall10.format(4, 1))
	}
	fmt.Fprintf(w, "\n</details>\n\n")
}

// bestRecall is a system's highest median recall@10 on qs over its sweep.
func (s *RoundsSummary) bestRecall(system, qs string) float64 {
	var b float64
	for _, p := range s.Points {
		if p.System == system && p.Queries == qs {
			b = max(b, p.Recall10.Median)
		}
	}
	return b
}

// fmtAtTarget prints "QPS median (min–max) (ef=v)", naming every knob
// value chosen and the rounds that did not reach the target.
func fmtAtTarget(p RoundPoint, best float64) string {
	var vs []string
	reached := 0
	for _, v := range p.Values {
		if v > 0 {
			reached++
			if s := strconv.Itoa(v); !slices.Contains(vs, s) {
				vs = append(vs, s)
			}
		}
	}
	if reached == 0 {
		return fmt.Sprintf("not reached (best R@10 %.4f)", best)
	}
	out := fmt.Sprintf("%s (%s=%s)", p.QPS.format(0, 1), p.Knob, strings.Join(vs, "/"))
	if reached < len(p.Values) {
		out += fmt.Sprintf(", reached in %d of %d rounds", reached, len(p.Values))
	}
	return out
}

// shortLabel is a label's first word (the system's name).
func shortLabel(label string) string {
	if i := strings.IndexByte(label, ' '); i > 0 {
		return label[:i]
	}
	return label
}
