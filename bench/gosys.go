package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/laiondb/laiondb/internal/npy"
	"github.com/laiondb/laiondb/internal/par"
)

// Searcher answers k-nearest-neighbour queries. knob is the system's
// search-effort setting (efSearch for HNSW; ignored by exact scans). It
// appends up to k row ids, best first, to dst and returns it.
type Searcher interface {
	Search(q []float32, k, knob int, dst []int32) []int32
}

// GoSystem is a system measured inside the harness process. Each adapter
// file (sys_*.go) registers one or more with RegisterGo; plugging in a new
// index is one such file.
type GoSystem struct {
	Name   string // e.g. "laiondb-hnsw"
	Params string // e.g. "M=16/efC=200"
	Knob   string // "ef", or "" for exact systems
	Sweep  []int  // knob values to measure
	Exact  bool   // an exact scan: timed on at most Options.ExactQueries queries
	Note   string
	// Build builds an index over ds using the given number of threads.
	Build func(ctx context.Context, ds *Dataset, threads int) (Searcher, error)
	// Save writes the index to path (nil: cannot be saved).
	Save func(s Searcher, path string) error
	// Open opens a saved index in a fresh process; base is the float32 .npy
	// of the base vectors, for systems whose index does not hold them.
	Open func(path, base string) (Searcher, error)
	// OwnBytes, when set, is the index's own accounting of the memory it
	// holds (reported next to the measured heap delta).
	OwnBytes func(s Searcher) int64
	// ConcurrentBuildProbe marks a system whose multi-threaded build may
	// crash the process (coder/hnsw: concurrent map writes); its 2-thread
	// build runs in a subprocess and its fate is reported.
	ConcurrentBuildProbe bool
}

var goSystems = map[string]func() *GoSystem{}

// RegisterGo adds a Go system under key (used by --systems).
func RegisterGo(key string, mk func() *GoSystem) { goSystems[key] = mk }

// GoSystems lists the registered Go system keys.
func GoSystems() []string {
	keys := make([]string, 0, len(goSystems))
	for k := range goSystems {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Options controls a run.
type Options struct {
	// BatchThreads is the thread count of batched searches (default 2).
	BatchThreads int
	// ExactQueries caps the queries timed on exact systems (default 200).
	ExactQueries int
	// Probe, when non-empty, is the command (argv prefix) of this program's
	// probe mode, used to open saved indexes in a fresh process; empty skips
	// the open measurement and the coder/hnsw concurrent-build probe.
	Probe []string
	// Dir is the output folder (indexes are written to Dir/index).
	Dir   string
	Log   func(format string, a ...any)
	Build []int // thread counts to build with (default 1, 2)
	// Ef, when not empty, replaces the ef sweep of every system whose knob
	// is ef (a 1M base needs larger ef for text queries than 100k).
	Ef []int
	// Rounds, when 2 or more, adds that many alternating search rounds
	// after the run, each system in a fresh process (see rounds.go); 0 and
	// 1 add none.
	Rounds int
}

// sweep returns the knob values to measure for a system with the given
// knob and default sweep.
func (o *Options) sweep(knob string, def []int) []int {
	if knob == "ef" && len(o.Ef) > 0 {
		return o.Ef
	}
	return def
}

func (o *Options) defaults() {
	if o.BatchThreads == 0 {
		o.BatchThreads = 2
	}
	if o.ExactQueries == 0 {
		o.ExactQueries = 200
	}
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
	if len(o.Build) == 0 {
		o.Build = []int{1, 2}
	}
}

// rss returns the process's resident set size in bytes (Linux).
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	p, _ := strconv.ParseInt(f[1], 10, 64)
	return p * int64(os.Getpagesize())
}

func liveHeap() uint64 {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// RunGo measures one Go system on ds.
func RunGo(ctx context.Context, sys *GoSystem, ds *Dataset, o Options) (*Result, error) {
	o.defaults()
	r := &Result{System: sys.Name, Params: sys.Params, N: ds.N, Note: sys.Note}
	var idx Searcher
	for i, threads := range o.Build {
		if threads > 1 && sys.ConcurrentBuildProbe {
			if len(o.Probe) == 0 {
				continue
			}
			o.Log("%s: %d-thread build in a subprocess", sys.Name, threads)
			sec, msg := probeConcurrentBuild(ctx, o, sys, ds, threads)
			if threads == 2 {
				r.BuildSec2 = sec
			}
			r.Note = joinNote(r.Note, msg)
			continue
		}
		idx = nil
		h0, rss0 := liveHeap(), rss()
		prev := runtime.GOMAXPROCS(threads)
		o.Log("%s %s: build with %d thread(s)", sys.Name, sys.Params, threads)
		t0 := time.Now()
		s, err := sys.Build(ctx, ds, threads)
		sec := time.Since(t0).Seconds()
		runtime.GOMAXPROCS(prev)
		if err != nil {
			return nil, fmt.Errorf("bench: %s build: %w", sys.Name, err)
		}
		idx = s
		switch threads {
		case 1:
			r.BuildSec1 = sec
		case 2:
			r.BuildSec2 = sec
		}
		if i == 0 {
			h1, rss1 := liveHeap(), rss()
			r.BytesPerVec = float64(int64(h1)-int64(h0)) / float64(ds.N)
			r.BytesMethod = fmt.Sprintf("Go live heap delta after GC (RSS delta %.0f B/vec)", float64(rss1-rss0)/float64(ds.N))
			if sys.OwnBytes != nil {
				r.BytesMethod += fmt.Sprintf("; own accounting %.0f B/vec", float64(sys.OwnBytes(idx))/float64(ds.N))
			}
			o.Log("%s: %.1f s, %.0f B/vec", sys.Name, sec, r.BytesPerVec)
		}
	}
	if idx == nil {
		return nil, fmt.Errorf("bench: %s: no index was built", sys.Name)
	}
	if sys.Save != nil && o.Dir != "" {
		dir := filepath.Join(o.Dir, "index")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		path := filepath.Join(dir, fileSafe(sys.Name+"-"+sys.Params)+".idx")
		if err := sys.Save(idx, path); err != nil {
			r.Note = joinNote(r.Note, "save failed: "+err.Error())
		} else {
			r.FileBytes = dirOrFileSize(path)
			r.Index = path
			if len(o.Probe) > 0 && sys.Open != nil {
				sec, err := probeOpen(ctx, o, sys, path, ds)
				if err != nil {
					r.Note = joinNote(r.Note, "open probe: "+err.Error())
				}
				r.OpenQuerySec = sec
			}
		}
	}
	for _, qs := range ds.Queries {
		sweep := o.sweep(sys.Knob, sys.Sweep)
		if len(sweep) == 0 {
			sweep = []int{0}
		}
		nq := qs.Len(ds.Dim)
		if sys.Exact {
			nq = min(nq, o.ExactQueries)
		}
		q := &QuerySet{Name: qs.Name, Vecs: qs.Vecs[:nq*ds.Dim], GT: qs.GT[:nq*GTK]}
		for _, knob := range sweep {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			p := measurePoint(idx, q, ds.Dim, knob, o.BatchThreads)
			p.Knob = sys.Knob
			o.Log("%s %s %s %s=%d: recall@10 %.4f, %.0f QPS", sys.Name, sys.Params, qs.Name, sys.Knob, knob, p.Recall10, p.QPS1)
			r.Points = append(r.Points, p)
		}
	}
	return r, nil
}

// measurePoint runs the timed single-thread pass (k=10), the k=100 recall
// pass and the batched pass.
func measurePoint(idx Searcher, qs *QuerySet, dim, knob, batchThreads int) Point {
	nq := qs.Len(dim)
	p := Point{Queries: qs.Name, Value: knob, BatchThreads: batchThreads, NQ: nq}
	ids10, lat, total := searchSingle(idx, qs.Vecs, dim, knob)
	p.QPS1 = float64(nq) / total.Seconds()
	p.P50, p.P99 = Latencies(lat)
	p.Recall1 = Recall(ids10, 10, qs.GT, 1)
	p.Recall10 = Recall(ids10, 10, qs.GT, 10)

	ids100 := make([]int32, nq*GTK)
	for i := range ids100 {
		ids100[i] = -1
	}
	parallel(nq, batchThreads, func(i int, buf []int32) []int32 {
		buf = idx.Search(qs.Vecs[i*dim:(i+1)*dim], GTK, knob, buf[:0])
		copy(ids100[i*GTK:(i+1)*GTK], buf)
		return buf
	})
	p.Recall100 = Recall(ids100, GTK, qs.GT, GTK)

	prev := runtime.GOMAXPROCS(batchThreads)
	t0 := time.Now()
	parallel(nq, batchThreads, func(i int, buf []int32) []int32 {
		return idx.Search(qs.Vecs[i*dim:(i+1)*dim], 10, knob, buf[:0])
	})
	p.BatchQPS = float64(nq) / time.Since(t0).Seconds()
	runtime.GOMAXPROCS(prev)
	return p
}

// searchSingle is the timed single-thread pass: every query one at a time,
// k=10, with GOMAXPROCS=1. It returns the result ids (nq×10, -1 for none),
// each query's latency and the pass's wall time.
func searchSingle(idx Searcher, vecs []float32, dim, knob int) ([]int32, []time.Duration, time.Duration) {
	nq := len(vecs) / dim
	ids10 := make([]int32, nq*10)
	for i := range ids10 {
		ids10[i] = -1
	}
	lat := make([]time.Duration, nq)
	prev := runtime.GOMAXPROCS(1)
	var buf []int32
	t0 := time.Now()
	for i := range nq {
		s := time.Now()
		buf = idx.Search(vecs[i*dim:(i+1)*dim], 10, knob, buf[:0])
		lat[i] = time.Since(s)
		copy(ids10[i*10:(i+1)*10], buf)
	}
	total := time.Since(t0)
	runtime.GOMAXPROCS(prev)
	return ids10, lat, total
}

// parallel calls fn for 0..n-1 on w goroutines, each with its own buffer.
func parallel(n, w int, fn func(i int, buf []int32) []int32) {
	bufs := make([][]int32, w)
	par.ChunksN(context.Background(), w, n, 1, func(wk, i, _ int) { bufs[wk] = fn(i, bufs[wk]) })
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	if b == "" {
		return a
	}
	return a + "; " + b
}

func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '/', ' ', '=':
			return '_'
		}
		return r
	}, s)
}

func dirOrFileSize(path string) int64 {
	var total int64
	_ = filepath.Walk(path, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			total += fi.Size()
		}
		return nil
	})
	return total
}

// probeOpen runs "<probe> open" in a fresh process and returns the seconds it
// reports for opening the index and answering one query.
func probeOpen(ctx context.Context, o Options, sys *GoSystem, path string, ds *Dataset) (float64, error) {
	args := append(append([]string{}, o.Probe[1:]...), "--probe", "open", "--probe-system", sys.key(),
		"--probe-index", path, "--probe-base", ds.BasePath, "--probe-query", ds.Queries[0].Path)
	out, err := exec.CommandContext(ctx, o.Probe[0], args...).Output()
	if err != nil {
		return 0, fmt.Errorf("%w: %s", err, stderrOf(err))
	}
	f := strings.Fields(string(out))
	if len(f) == 0 {
		return 0, fmt.Errorf("no output")
	}
	return strconv.ParseFloat(f[len(f)-1], 64)
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		s := strings.TrimSpace(string(ee.Stderr))
		if i := strings.IndexByte(s, '\n'); i > 0 {
			s = s[:i]
		}
		return s
	}
	return ""
}

// probeConcurrentBuild runs a multi-threaded build in a subprocess and
// reports its wall time or how it failed.
func probeConcurrentBuild(ctx context.Context, o Options, sys *GoSystem, ds *Dataset, threads int) (float64, string) {
	args := append(append([]string{}, o.Probe[1:]...), "--probe", "build", "--probe-system", sys.key(),
		"--probe-base", ds.BasePath, "--probe-threads", strconv.Itoa(threads))
	cmd := exec.CommandContext(ctx, o.Probe[0], args...)
	cmd.WaitDelay = time.Second
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Sprintf("%d-thread build (concurrent Add) failed: %s", threads, firstFatal(err))
	}
	f := strings.Fields(string(out))
	sec, _ := strconv.ParseFloat(f[len(f)-1], 64)
	return sec, fmt.Sprintf("%d-thread build (concurrent Add) completed", threads)
}

func firstFatal(err error) string {
	ee, ok := err.(*exec.ExitError)
	if !ok {
		return err.Error()
	}
	for _, l := range strings.Split(string(ee.Stderr), "\n") {
		if strings.HasPrefix(l, "fatal error:") || strings.HasPrefix(l, "panic:") || strings.HasPrefix(l, "recovered panic:") {
			return strings.TrimSpace(l)
		}
	}
	return ee.Error()
}

func (s *GoSystem) key() string {
	for k, mk := range goSystems {
		if m := mk(); m.Name == s.Name && m.Params == s.Params {
			return k
		}
	}
	return s.Name
}

// Probe is the body of the fresh-process probes ("laiondb-bench --probe
// open|build"). It prints the measured seconds as the last word on w.
func Probe(ctx context.Context, mode, key, index, base, query string, threads int, w func(string)) error {
	mk, ok := goSystems[key]
	if !ok {
		return fmt.Errorf("bench: unknown system %q", key)
	}
	sys := mk()
	switch mode {
	case "open":
		qv, d, err := ReadVectors(query)
		if err != nil {
			return err
		}
		t0 := time.Now()
		s, err := sys.Open(index, base)
		if err != nil {
			return fmt.Errorf("bench: open %s: %w", index, err)
		}
		ids := s.Search(qv[:d], 10, sys.defaultKnob(), nil)
		sec := time.Since(t0).Seconds()
		w(fmt.Sprintf("%d ids %.6f", len(ids), sec))
		return nil
	case "build":
		bv, d, err := ReadVectors(base)
		if err != nil {
			return err
		}
		ds := &Dataset{Dim: d, N: len(bv) / d, Base: bv, BasePath: base}
		runtime.GOMAXPROCS(threads)
		t0 := time.Now()
		if _, err := sys.Build(ctx, ds, threads); err != nil {
			return err
		}
		w(fmt.Sprintf("%.6f", time.Since(t0).Seconds()))
		return nil
	}
	return fmt.Errorf("bench: unknown probe %q", mode)
}

// ProbeSweep is the body of "laiondb-bench --probe sweep", one system's
// part of a search round: it opens the saved index (as a fresh process
// does) and, for each query set given as name=path, runs one untimed
// warm-up pass at the largest knob value, then times every query one at a
// time (k=10, one thread) at each knob value. It writes the result ids as
// .npy files into out and prints a Result holding the points as one JSON
// line on w, for the harness to score as it scores the external drivers.
func ProbeSweep(ctx context.Context, key, index, base string, queries []string, knobs []int, out string, w io.Writer) error {
	mk, ok := goSystems[key]
	if !ok {
		return fmt.Errorf("bench: unknown system %q", key)
	}
	sys := mk()
	if sys.Open == nil {
		return fmt.Errorf("bench: %s cannot be reopened", key)
	}
	if len(knobs) == 0 {
		knobs = []int{0}
	}
	idx, err := sys.Open(index, base)
	if err != nil {
		return fmt.Errorf("bench: open %s: %w", index, err)
	}
	r := &Result{System: sys.Name, Params: sys.Params}
	for _, q := range queries {
		name, path, ok := strings.Cut(q, "=")
		if !ok {
			return fmt.Errorf("bench: query set %q is not name=path", q)
		}
		vecs, d, err := ReadVectors(path)
		if err != nil {
			return err
		}
		searchSingle(idx, vecs, d, slices.Max(knobs))
		for _, knob := range knobs {
			if err := ctx.Err(); err != nil {
				return err
			}
			ids, lat, total := searchSingle(idx, vecs, d, knob)
			nq := len(vecs) / d
			p := Point{Queries: name, Knob: sys.Knob, Value: knob, NQ: nq, QPS1: float64(nq) / total.Seconds(),
				IDs10: filepath.Join(out, fileSafe(fmt.Sprintf("%s-%s-%s%d-k10", key, name, sys.Knob, knob))+".npy")}
			p.P50, p.P99 = Latencies(lat)
			if err := npy.WriteInt32(p.IDs10, ids, 10); err != nil {
				return err
			}
			r.Points = append(r.Points, p)
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func (s *GoSystem) defaultKnob() int {
	if len(s.Sweep) == 0 {
		return 0
	}
	for _, v := range s.Sweep {
		if v >= 64 {
			return v
		}
	}
	return s.Sweep[len(s.Sweep)-1]
}
