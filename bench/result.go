package bench

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// Result is one system's measurements in a run. Go systems fill it directly;
// external drivers print it as JSON (with IDs files instead of recalls,
// which the harness computes so every system is scored by the same code).
type Result struct {
	System string `json:"system"` // e.g. "faiss-hnsw"
	Params string `json:"params"` // e.g. "M=16/efC=200", key=value pairs joined by "/"
	Note   string `json:"note,omitempty"`
	N      int    `json:"n"`
	// BuildSec is the wall time to build the index with 1 and 2 threads
	// (0 when not measured or impossible; see Note).
	BuildSec1 float64 `json:"build_sec_1"`
	BuildSec2 float64 `json:"build_sec_2"`
	// BytesPerVec is memory the index holds per vector; BytesMethod says how
	// it was measured.
	BytesPerVec float64 `json:"bytes_per_vec"`
	BytesMethod string  `json:"bytes_method"`
	// FileBytes is the size of the saved index (0 when it cannot be saved).
	FileBytes int64 `json:"file_bytes"`
	// OpenQuerySec is the time, in a fresh process, to open the saved index
	// and answer one query (page cache warm: "cold-ish").
	OpenQuerySec float64 `json:"open_query_sec"`
	Points       []Point `json:"points"`
	Err          string  `json:"error,omitempty"`
	// Index is the saved index that a fresh process reopens for the search
	// rounds ("" when the system saved none).
	Index string `json:"index,omitempty"`
	// Rounds are the alternating fresh-process search rounds (--rounds).
	Rounds []Round `json:"rounds,omitempty"`
}

// Round is one fresh-process search sweep of one system: its saved index
// opened in a new process, every query of every set searched one at a
// time (k=10, one thread) at every knob value. Points carry QPS1, P50,
// P99, Recall1 and Recall10 (no k=100 or batched pass).
type Round struct {
	Round  int     `json:"round"` // 1, 2, ...
	Pos    int     `json:"pos"`   // position in the round's order, 0 first
	Points []Point `json:"points"`
	Err    string  `json:"error,omitempty"`
	// Load is the machine's 1-minute load average as the process started
	// (/proc/loadavg; 0 when unknown). The previous search process counts
	// for up to 1 of it; beyond the core count, other work competed for
	// the CPU.
	Load float64 `json:"load1,omitempty"`
}

// Point is one setting of a system's search knob on one query set.
type Point struct {
	Queries string `json:"queries"`
	Knob    string `json:"knob"` // "ef", "nprobe" or "" for exact systems
	Value   int    `json:"value"`
	NQ      int    `json:"nq"` // queries measured
	// Recall@1 and @10 come from the timed k=10 searches; Recall@100 from a
	// separate k=100 pass (whose effective ef is max(ef, 100) in every
	// HNSW library).
	Recall1   float64 `json:"recall1"`
	Recall10  float64 `json:"recall10"`
	Recall100 float64 `json:"recall100"`
	// QPS1 is single-thread queries per second, one query at a time;
	// P50 and P99 are its latency percentiles in nanoseconds.
	QPS1 float64 `json:"qps1"`
	P50  float64 `json:"p50_ns"`
	P99  float64 `json:"p99_ns"`
	// BatchQPS is queries per second when all queries are handed over at
	// once, on BatchThreads threads.
	BatchQPS     float64 `json:"batch_qps"`
	BatchThreads int     `json:"batch_threads"`
	// IDs10 and IDs100 are .npy files of result ids written by external
	// drivers (nq×10 and nq×100, -1 for missing).
	IDs10  string `json:"ids10,omitempty"`
	IDs100 string `json:"ids100,omitempty"`
}

// Recall returns the mean recall@k of results (nq rows of width w, -1 for
// none) against the ground truth (nq rows of GTK).
func Recall(results []int32, w int, gt []int32, k int) float64 {
	if w < k || len(gt) == 0 {
		return math.NaN()
	}
	nq := len(gt) / GTK
	var hit int
	for q := range nq {
		truth := gt[q*GTK : q*GTK+k]
		for _, id := range results[q*w : q*w+k] {
			if id >= 0 && slices.Contains(truth, id) {
				hit++
			}
		}
	}
	return float64(hit) / float64(nq*k)
}

// Latencies returns p50 and p99 of d in nanoseconds.
func Latencies(d []time.Duration) (p50, p99 float64) {
	if len(d) == 0 {
		return math.NaN(), math.NaN()
	}
	s := slices.Clone(d)
	slices.Sort(s)
	at := func(p float64) float64 { return float64(s[min(len(s)-1, int(p*float64(len(s))))]) }
	return at(0.50), at(0.99)
}

// GoBench formats a result as Go benchmark lines (one per build, per search
// point, per search point of each round), so that benchstat can compare
// runs:
//
//	BenchmarkSearch/system=faiss-hnsw/M=16/efC=200/queries=image/ef=64  1000  151234 ns/op  0.98 recall@10 ...
//	BenchmarkSearchRound/system=hnswlib-cpp/M=16/efC=200/queries=image/ef=64/round=2  1000  ...
func GoBench(r *Result) []string {
	var out []string
	line := benchLine(&out)
	name := r.benchName()
	for t, s := range map[int]float64{1: r.BuildSec1, 2: r.BuildSec2} {
		if s > 0 && !math.IsNaN(s) {
			line(fmt.Sprintf("Build/%s/threads=%d", name, t), 1, s*1e9, map[string]float64{
				"B/vec": r.BytesPerVec, "file-B": float64(r.FileBytes)})
		}
	}
	if r.OpenQuerySec > 0 {
		line(fmt.Sprintf("OpenFirstQuery/%s", name), 1, r.OpenQuerySec*1e9, nil)
	}
	for _, p := range r.Points {
		knob := ""
		if p.Knob != "" {
			knob = fmt.Sprintf("/%s=%d", p.Knob, p.Value)
		}
		if p.QPS1 > 0 {
			line(fmt.Sprintf("Search/%s/queries=%s%s", name, p.Queries, knob), max(1, p.NQ), 1e9/p.QPS1, map[string]float64{
				"recall@1": p.Recall1, "recall@10": p.Recall10, "recall@100": p.Recall100,
				"p50-ns": p.P50, "p99-ns": p.P99})
		}
		if p.BatchQPS > 0 {
			line(fmt.Sprintf("SearchBatch/%s/queries=%s%s/threads=%d", name, p.Queries, knob, p.BatchThreads), max(1, p.NQ), 1e9/p.BatchQPS, map[string]float64{
				"recall@10": p.Recall10})
		}
	}
	sort.Strings(out)
	for _, rd := range r.Rounds {
		out = append(out, r.roundBench(rd)...)
	}
	return out
}

// roundBench formats one round's points as Go benchmark lines whose last
// name key is round=N (benchstat -ignore /round pools the rounds).
func (r *Result) roundBench(rd Round) []string {
	var out []string
	line := benchLine(&out)
	for _, p := range rd.Points {
		knob := ""
		if p.Knob != "" {
			knob = fmt.Sprintf("/%s=%d", p.Knob, p.Value)
		}
		if p.QPS1 > 0 {
			line(fmt.Sprintf("SearchRound/%s/queries=%s%s/round=%d", r.benchName(), p.Queries, knob, rd.Round), max(1, p.NQ), 1e9/p.QPS1,
				map[string]float64{"recall@1": p.Recall1, "recall@10": p.Recall10, "p50-ns": p.P50, "p99-ns": p.P99})
		}
	}
	return out
}

func (r *Result) benchName() string {
	name := "system=" + r.System
	if r.Params != "" {
		name += "/" + r.Params
	}
	return name
}

// benchLine returns a function appending one benchmark line to out.
func benchLine(out *[]string) func(bname string, n int, nsPerOp float64, extra map[string]float64) {
	return func(bname string, n int, nsPerOp float64, extra map[string]float64) {
		br := testing.BenchmarkResult{N: n, T: time.Duration(nsPerOp * float64(n)), Extra: map[string]float64{}}
		for k, v := range extra {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				br.Extra[k] = v
			}
		}
		*out = append(*out, fmt.Sprintf("Benchmark%s\t%s", bname, br.String()))
	}
}

// label is a result's display name.
func (r *Result) label() string {
	if r.Params == "" {
		return r.System
	}
	return r.System + " " + strings.ReplaceAll(r.Params, "/", " ")
}

// atRecall returns the fastest single-thread point on query set qs whose
// recall@10 is at least target.
func (r *Result) atRecall(qs string, target float64) (Point, bool) {
	var best Point
	ok := false
	for _, p := range r.Points {
		if p.Queries == qs && p.Recall10 >= target && (!ok || p.QPS1 > best.QPS1) {
			best, ok = p, true
		}
	}
	return best, ok
}
