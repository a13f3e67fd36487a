// Command ivfscale measures laiondb's IVF index against FAISS IVF-PQ with
// re-ranking on a base too large for the bench command's in-memory
// datasets: 10M CLIP-like 512-d vectors (10 GB of float16) on a machine
// with 24 GB of RAM.
//
//	go run ./bench/ivfscale --dir /tmp/ivf10m --n 10000000
//
// Each phase writes its output to --dir and is skipped when the output is
// there, so an interrupted run resumes:
//
//  1. gen: the base (internal/synth, seed 1, rounded to float16, as the
//     bench command's "synth" set) as raw little-endian float16 rows in
//     base.f16, a part at a time; 1,000 image and 1,000 text queries.
//  2. gt: the exact top 100 of every query by cosine (vector.ExactBatch,
//     one pass over the memory-mapped rows).
//  3. build-ivf: package ivf's Train and Add over the mapped rows on
//     --threads cores (the defaults laiondb's store uses: 4·√N lists,
//     32-byte codes), its memory, and the file.
//  4. build-faiss: FAISS 1.7.3 (Debian) IVF{L}_HNSW32,PQ32x8np,Refine(SQfp16)
//     on --threads cores, L the IVF's lists: the same 32-byte codes, and
//     re-ranking on float16 copies of the rows held in RAM
//     (bench/drivers/faiss_scale.py).
//  5. open: a fresh process opens each index and answers one query.
//  6. rounds: --rounds rounds, the systems alternated (the first system
//     of a round is the second of the next), each sweeping nprobe over the
//     image and the text queries on one thread, re-ranking
//     ivf.RerankFor(10, nprobe) rows (FAISS: k_factor = that ÷ 10), after
//     200 untimed warm-up queries. laiondb-ivf re-ranks from the mapped
//     base.f16 (the store's vector file); FAISS runs in its own process,
//     which exits after its turn.
//
// report.md and results.json hold recall@10 against the exact top 10,
// QPS per round, median and spread.
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/laiondb/laiondb/hnsw"
	"github.com/laiondb/laiondb/internal/npy"
	"github.com/laiondb/laiondb/internal/synth"
	"github.com/laiondb/laiondb/ivf"
	"github.com/laiondb/laiondb/vector"
)

var (
	dir      = flag.String("dir", "/tmp/ivf10m", "working folder")
	n        = flag.Int("n", 10_000_000, "base rows")
	dim      = flag.Int("dim", 512, "dimensions")
	nq       = flag.Int("nq", 1000, "queries of each kind")
	rounds   = flag.Int("rounds", 3, "alternating rounds")
	threads  = flag.Int("threads", 2, "build threads")
	sweepArg = flag.String("sweep", "8,16,32,64,128,256,512,1024", "nprobe values")
	python   = flag.String("python", "/usr/bin/python3", "the Python with Debian's faiss")
	probe    = flag.String("probe-open", "", "internal: open this ivf file and answer one query")
	withHNSW = flag.Bool("hnsw", false, "also build laiondb's HNSW on the base (M 16, efConstruction 200, as the store) and sweep --ef-sweep over its own rounds")
	hnswFor  = flag.Duration("hnsw-budget", 0, "stop the HNSW build after this long and report the rows it linked (a lower bound of its build time), instead of the whole build; 0: no bound")
	efSweep  = flag.String("ef-sweep", "32,64,128,256,512,1024", "HNSW ef values")
	probeH   = flag.String("probe-open-hnsw", "", "internal: open this hnsw file and answer one query")
	cold     = flag.Bool("cold", false, "with --probe-open: first write back and drop the page cache (root only: /proc/sys/vm/drop_caches), so the open reads from disk")
	profile  = flag.String("profile", "", "profile laiondb-ivf's search: KIND:NPROBE (image:128), 1,000 queries on one thread after 200 warm-up ones; prints QPS and codes read, writes --cpuprofile")
	cpuProf  = flag.String("cpuprofile", "ivf.prof", "with --profile: the CPU profile written (go tool pprof -top)")
	dataOnly = flag.Bool("data-only", false, "stop after the base, the queries and the ground truth (the untimed phases)")
)

func main() {
	flag.Parse()
	if *probe != "" {
		probeOpen(*probe)
		return
	}
	if *probeH != "" {
		probeOpenHNSW(*probeH)
		return
	}
	if *profile != "" {
		if err := profileIVF(*profile); err != nil {
			fmt.Fprintln(os.Stderr, "ivfscale:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ivfscale:", err)
		os.Exit(1)
	}
}

func logf(format string, a ...any) {
	fmt.Printf("%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
}

func path(name string) string { return filepath.Join(*dir, name) }

func exists(name string) bool { _, err := os.Stat(path(name)); return err == nil }

func run() error {
	ctx := context.Background()
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	if !exists("base.f16.npy") {
		if err := gen(); err != nil {
			return err
		}
	}
	m, err := mapBase()
	if err != nil {
		return err
	}
	qs := map[string][][]float32{}
	for _, kind := range []string{"image", "text"} {
		a, err := npy.Read(path("queries-" + kind + ".npy"))
		if err != nil {
			return err
		}
		qs[kind] = split(a.F32, *dim, *dim)
	}
	if !exists("gt-text.npy") {
		if err := groundTruth(ctx, m, qs); err != nil {
			return err
		}
	}
	if *dataOnly {
		return nil
	}
	gt := map[string][][]int64{}
	for _, kind := range []string{"image", "text"} {
		a, err := npy.Read(path("gt-" + kind + ".npy"))
		if err != nil {
			return err
		}
		gt[kind] = split(a.I64, 100, 10) // each query's exact top 10
	}
	var res results
	if b, err := os.ReadFile(path("results.json")); err == nil {
		json.Unmarshal(b, &res)
	}
	if res.IVFBuildSec == 0 {
		if err := buildIVF(ctx, m, &res); err != nil {
			return err
		}
		save(&res)
	}
	if res.FAISSBuildSec == 0 {
		if err := buildFAISS(&res); err != nil {
			return err
		}
		save(&res)
	}
	if res.IVFOpenSec == 0 {
		out, err := exec.Command(os.Args[0], "--dir", *dir, "--n", fmt.Sprint(*n), "--dim", fmt.Sprint(*dim), "--probe-open", path("laiondb.ivf")).Output()
		if err != nil {
			return fmt.Errorf("open probe: %w", err)
		}
		fmt.Sscan(string(out), &res.IVFOpenSec)
		logf("laiondb-ivf: open and first query in a fresh process %.3f s", res.IVFOpenSec)
		save(&res)
	}
	ix, err := ivf.Open(path("laiondb.ivf"), m)
	if err != nil {
		return err
	}
	res.IVFMemoryBytes = ix.MemoryBytes() // as this version counts it
	var sweep []int
	for _, s := range strings.Split(*sweepArg, ",") {
		var v int
		fmt.Sscan(s, &v)
		sweep = append(sweep, v)
	}
	for r := len(res.Rounds); r < *rounds; r++ {
		round := map[string][]point{}
		order := []string{"laiondb-ivf", "faiss-ivfpq-refine"}
		if r%2 == 1 {
			order[0], order[1] = order[1], order[0]
		}
		for _, sys := range order {
			var pts []point
			var err error
			if sys == "laiondb-ivf" {
				pts, err = sweepIVF(ctx, ix, qs, gt, sweep)
			} else {
				pts, err = sweepFAISS(qs, gt, sweep, &res)
			}
			if err != nil {
				return err
			}
			round[sys] = pts
		}
		res.Rounds = append(res.Rounds, round)
		save(&res)
	}
	if *withHNSW {
		if err := runHNSW(ctx, m, qs, gt, &res); err != nil {
			return err
		}
	}
	return report(&res)
}

// split cuts a row-major array of rows of width cols into its rows, each
// cut to its first keep values.
func split[T any](a []T, cols, keep int) [][]T {
	var rows [][]T
	for i := 0; i+cols <= len(a); i += cols {
		rows = append(rows, a[i:i+keep])
	}
	return rows
}

// gen writes the base a part at a time and the queries.
func gen() error {
	g := synth.New(synth.Config{Dim: *dim, Seed: 1, N: *n})
	f, err := os.Create(path("base.f16.npy.tmp"))
	if err != nil {
		return err
	}
	if err := npy.WriteHeader(f, npy.Float16, *n, *dim); err != nil {
		return err
	}
	const part = 200_000
	buf := make([]byte, 0, part**dim*2)
	h := make([]uint16, part**dim)
	t0 := time.Now()
	for lo := 0; lo < *n; lo += part {
		hi := min(lo+part, *n)
		rows := g.BaseRows(lo, hi)
		vector.F32ToF16(h[:len(rows)], rows)
		buf = buf[:0]
		for _, x := range h[:len(rows)] {
			buf = binary.LittleEndian.AppendUint16(buf, x)
		}
		if _, err := f.Write(buf); err != nil {
			return err
		}
	}
	if err := f.Sync(); err != nil {
		return err
	}
	f.Close()
	for kind, vecs := range map[string][]float32{"image": g.ImageQueries(*nq), "text": g.TextQueries(*nq)} {
		// Rounded to float16 as the base is (and as LAION ships them).
		h := make([]uint16, len(vecs))
		vector.F32ToF16(h, vecs)
		vector.F16ToF32(vecs, h)
		if err := npy.WriteFloat32(path("queries-"+kind+".npy"), vecs, *dim); err != nil {
			return err
		}
	}
	logf("gen: %d rows in %.0f s", *n, time.Since(t0).Seconds())
	return os.Rename(path("base.f16.npy.tmp"), path("base.f16.npy"))
}

// mapBase maps base.f16.npy as the store maps its vector file, with each
// row's inverse norm (searches score cosines, as the store's do), which,
// as the store does, it computes once and keeps in a file (inv.f32.npy).
func mapBase() (vector.Matrix, error) {
	f16, cols, err := npy.MmapFloat16(path("base.f16.npy"))
	if err != nil {
		return vector.Matrix{}, err
	}
	if cols != *dim || len(f16) != *n**dim {
		return vector.Matrix{}, fmt.Errorf("base.f16.npy holds %d values of %d columns, not %d rows of %d", len(f16), cols, *n, *dim)
	}
	m := vector.Matrix{Dim: *dim, F16: f16}
	if a, err := npy.Read(path("inv.f32.npy")); err == nil && len(a.F32) == *n {
		m.Inv = a.F32
		return m, nil
	}
	m.Inv = vector.InvNorms(m, 0, *n, nil)
	return m, npy.WriteFloat32(path("inv.f32.npy"), m.Inv, 1)
}

// groundTruth writes the exact top 100 of each query set.
func groundTruth(ctx context.Context, m vector.Matrix, qs map[string][][]float32) error {
	for _, kind := range []string{"image", "text"} {
		t0 := time.Now()
		hits, _, err := vector.ExactBatch(ctx, m, qs[kind], 100, nil)
		if err != nil {
			return err
		}
		ids := make([]int32, 0, 100*len(hits))
		for _, h := range hits {
			for _, x := range h {
				ids = append(ids, int32(x.ID))
			}
		}
		if err := npy.WriteInt32(path("gt-"+kind+".npy"), ids, 100); err != nil {
			return err
		}
		logf("gt %s: %d queries in %.0f s", kind, len(hits), time.Since(t0).Seconds())
	}
	return nil
}

type results struct {
	N, Dim          int
	Lists           int
	IVFBuildSec     float64
	IVFMemoryBytes  int64
	IVFHeapBytes    int64
	IVFFileBytes    int64
	IVFOpenSec      float64
	FAISSBuildSec   float64
	FAISSRSSBytes   int64
	FAISSFileBytes  int64
	FAISSOpenSec    float64
	FAISSOpenQuery  float64
	FAISSFactory    string
	Threads         int
	Rounds          []map[string][]point
	MachineCPUs     int
	GoMaxProcsBuild int
	// HNSW: laiondb's own graph index with the store's defaults, built
	// only with --hnsw, to place the IVF against it (build time, memory,
	// recall and QPS over an ef sweep, its own rounds).
	HNSWBuildSec    float64
	HNSWMemoryBytes int64
	HNSWHeapBytes   int64
	HNSWFileBytes   int64
	HNSWOpenSec     float64
	HNSWRounds      [][]point
	// HNSWPartialSec and HNSWPartialRows: a build stopped by
	// --hnsw-budget had linked this many rows in this long.
	HNSWPartialSec  float64
	HNSWPartialRows int
}

type point struct {
	Queries string
	NProbe  int
	Recall  float64
	QPS     float64
	P50Ms   float64
}

func save(r *results) {
	b, _ := json.MarshalIndent(r, "", " ")
	os.WriteFile(path("results.json"), b, 0o644)
}

func buildIVF(ctx context.Context, m vector.Matrix, res *results) error {
	prev := runtime.GOMAXPROCS(*threads)
	defer runtime.GOMAXPROCS(prev)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h0 := ms.HeapAlloc
	t0 := time.Now()
	all := vector.Ranges{{Lo: 0, Hi: uint32(*n)}}
	ix, err := ivf.Train(ctx, m, all, ivf.Config{Seed: 1})
	if err != nil {
		return err
	}
	if err := ix.Add(ctx, m, all); err != nil {
		return err
	}
	res.IVFBuildSec = time.Since(t0).Seconds()
	res.N, res.Dim, res.Lists, res.Threads = *n, *dim, ix.Lists(), *threads
	res.MachineCPUs, res.GoMaxProcsBuild = runtime.NumCPU(), *threads
	res.IVFMemoryBytes = ix.MemoryBytes()
	// The mapped rows the build read are page cache, not the process's
	// memory: what the index holds is the live heap it added.
	runtime.GC()
	runtime.ReadMemStats(&ms)
	res.IVFHeapBytes = int64(ms.HeapAlloc) - int64(h0)
	runtime.KeepAlive(ix)
	if err := ix.Write(path("laiondb.ivf")); err != nil {
		return err
	}
	st, _ := os.Stat(path("laiondb.ivf"))
	res.IVFFileBytes = st.Size()
	logf("laiondb-ivf: built in %.0f s on %d threads, %d lists, %.1f bytes a vector (%d bytes)", res.IVFBuildSec, *threads, res.Lists,
		float64(res.IVFMemoryBytes)/float64(*n), res.IVFMemoryBytes)
	return nil
}

func driver() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "drivers", "faiss_scale.py")
}

func buildFAISS(res *results) error {
	res.FAISSFactory = fmt.Sprintf("IVF%d_HNSW32,PQ32x8np,Refine(SQfp16)", res.Lists)
	cmd := exec.Command(*python, driver(), "build", path("base.f16.npy"), fmt.Sprint(*n), fmt.Sprint(*dim),
		res.FAISSFactory, fmt.Sprint(32*res.Lists), fmt.Sprint(*threads), path("faiss.index"))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("faiss build: %w", err)
	}
	var r struct {
		BuildSec  float64 `json:"build_sec"`
		RSSBytes  int64   `json:"rss_bytes"`
		FileBytes int64   `json:"file_bytes"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return fmt.Errorf("faiss build: %w: %s", err, out)
	}
	res.FAISSBuildSec, res.FAISSRSSBytes, res.FAISSFileBytes = r.BuildSec, r.RSSBytes, r.FileBytes
	logf("faiss: built in %.0f s, %.1f bytes a vector resident", r.BuildSec, float64(r.RSSBytes)/float64(*n))
	return nil
}

// recall10 is the share of the exact top 10s found: the rows found over
// 10 a query, counted in integers, so that 9,500 of 10,000 is 0.95 and
// not a sum of shares a rounding below it.
func recall10(got [][]int64, want [][]int64) float64 {
	found := 0
	for i := range want {
		in := map[int64]bool{}
		for _, id := range got[i] {
			in[id] = true
		}
		for _, id := range want[i] {
			if in[id] {
				found++
			}
		}
	}
	return float64(found) / float64(10*len(want))
}

func sweepIVF(ctx context.Context, ix *ivf.Index, qs map[string][][]float32, gt map[string][][]int64, sweep []int) ([]point, error) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	// Warm-up: 200 queries at the widest search, untimed.
	for i := 0; i < 200; i++ {
		q := qs["text"][i%len(qs["text"])]
		if _, err := ix.Search(ctx, q, 10, ivf.Search{NProbe: sweep[len(sweep)-1], Rerank: ivf.RerankFor(10, sweep[len(sweep)-1])}); err != nil {
			return nil, err
		}
	}
	var pts []point
	for _, kind := range []string{"image", "text"} {
		for _, np := range sweep {
			got := make([][]int64, len(qs[kind]))
			lat := make([]float64, len(qs[kind]))
			t0 := time.Now()
			for i, q := range qs[kind] {
				s := time.Now()
				r, err := ix.Search(ctx, q, 10, ivf.Search{NProbe: np, Rerank: ivf.RerankFor(10, np)})
				if err != nil {
					return nil, err
				}
				lat[i] = time.Since(s).Seconds()
				for _, h := range r.Hits {
					got[i] = append(got[i], int64(h.ID))
				}
			}
			total := time.Since(t0).Seconds()
			sort.Float64s(lat)
			p := point{Queries: kind, NProbe: np, Recall: recall10(got, gt[kind]), QPS: float64(len(got)) / total, P50Ms: 1e3 * lat[len(lat)/2]}
			logf("laiondb-ivf %s nprobe %d: recall@10 %.4f, %.0f QPS", kind, np, p.Recall, p.QPS)
			pts = append(pts, p)
		}
	}
	return pts, nil
}

func sweepFAISS(qs map[string][][]float32, gt map[string][][]int64, sweep []int, res *results) ([]point, error) {
	var s []string
	for _, v := range sweep {
		s = append(s, fmt.Sprint(v))
	}
	out := path("faiss-ids")
	os.MkdirAll(out, 0o755)
	cmd := exec.Command(*python, driver(), "search", path("faiss.index"), path("queries-image.npy"), path("queries-text.npy"),
		strings.Join(s, ","), out)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("faiss search: %w", err)
	}
	var r struct {
		OpenSec      float64 `json:"open_sec"`
		OpenQuerySec float64 `json:"open_query_sec"`
		Points       []struct {
			Queries string  `json:"queries"`
			NProbe  int     `json:"nprobe"`
			QPS     float64 `json:"qps"`
			P50Ms   float64 `json:"p50_ms"`
			IDs     string  `json:"ids"`
		} `json:"points"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("faiss search: %w: %s", err, b)
	}
	if res.FAISSOpenSec == 0 {
		res.FAISSOpenSec, res.FAISSOpenQuery = r.OpenSec, r.OpenQuerySec
	}
	var pts []point
	for _, p := range r.Points {
		a, err := npy.Read(p.IDs)
		if err != nil {
			return nil, err
		}
		got := split(a.I64, 10, 10)
		pt := point{Queries: p.Queries, NProbe: p.NProbe, Recall: recall10(got, gt[p.Queries]), QPS: p.QPS, P50Ms: p.P50Ms}
		logf("faiss-ivfpq-refine %s nprobe %d: recall@10 %.4f, %.0f QPS", pt.Queries, pt.NProbe, pt.Recall, pt.QPS)
		pts = append(pts, pt)
	}
	return pts, nil
}

// probeOpen opens the ivf file over the mapped base and answers one query,
// printing the seconds from the open's start.
func probeOpen(file string) {
	probeWith(func(m vector.Matrix, q []float32) error {
		ix, err := ivf.Open(file, m)
		if err != nil {
			return err
		}
		_, err = ix.Search(context.Background(), q, 10, ivf.Search{NProbe: 64, Rerank: ivf.RerankFor(10, 64)})
		return err
	})
}

func probeOpenHNSW(file string) {
	probeWith(func(m vector.Matrix, q []float32) error {
		ix, err := hnsw.Open(file, m)
		if err != nil {
			return err
		}
		_, err = ix.Search(context.Background(), q, 10, &hnsw.SearchOptions{Ef: 256, Seeds: hnsw.DefaultSeeds, Planned: true})
		return err
	})
}

// probeWith times, in this fresh process, mapping the base, opening an
// index and answering the first text query (open), after dropping the page
// cache with --cold; it prints the seconds.
func probeWith(open func(m vector.Matrix, q []float32) error) {
	if *cold {
		syscall.Sync()
		if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("1\n"), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "--cold:", err)
			os.Exit(1)
		}
	}
	t0 := time.Now()
	m, err := mapBase()
	if err == nil {
		var a *npy.Array
		if a, err = npy.Read(path("queries-text.npy")); err == nil {
			err = open(m, a.F32[:*dim])
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%.6f\n", time.Since(t0).Seconds())
}

// profileIVF runs --nq queries of one kind through the saved laiondb.ivf
// at one nprobe, on one thread, under the CPU profiler: where a search's
// time goes (BENCHMARKS.md, "The IVF index at 10M, run again").
func profileIVF(spec string) error {
	kind, np, ok := strings.Cut(spec, ":")
	nprobe, err := strconv.Atoi(np)
	if !ok || err != nil || (kind != "image" && kind != "text") {
		return fmt.Errorf("--profile %q: want image:NPROBE or text:NPROBE", spec)
	}
	runtime.GOMAXPROCS(1)
	m, err := mapBase()
	if err != nil {
		return err
	}
	a, err := npy.Read(path("queries-" + kind + ".npy"))
	if err != nil {
		return err
	}
	qs := split(a.F32, *dim, *dim)
	ix, err := ivf.Open(path("laiondb.ivf"), m)
	if err != nil {
		return err
	}
	defer ix.Close()
	ctx := context.Background()
	o := ivf.Search{NProbe: nprobe, Rerank: ivf.RerankFor(10, nprobe)}
	for i := range 200 {
		if _, err := ix.Search(ctx, qs[i%len(qs)], 10, o); err != nil {
			return err
		}
	}
	f, err := os.Create(*cpuProf)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	t0 := time.Now()
	codes, scored := 0, 0
	for _, q := range qs {
		r, err := ix.Search(ctx, q, 10, o)
		if err != nil {
			pprof.StopCPUProfile()
			return err
		}
		codes += r.Estimated
		scored += r.Scored
	}
	pprof.StopCPUProfile()
	d := time.Since(t0)
	nq := float64(len(qs))
	fmt.Printf("%s nprobe %d: %d queries, %.1f QPS, %.0f codes and %.0f rows re-ranked a query, %.1f ns a code read; profile in %s\n",
		kind, nprobe, len(qs), nq/d.Seconds(), float64(codes)/nq, float64(scored)/nq, float64(d.Nanoseconds())/float64(codes), *cpuProf)
	return nil
}

// runHNSW builds laiondb's HNSW over the base with the store's parameters
// on --threads cores (once), probes its open in a fresh process, and runs
// --rounds rounds of an ef sweep over both query sets on one thread. Its
// rounds are its own: they place the IVF against the graph index (build
// time, memory, recall reached), they are not alternated with the others.
func runHNSW(ctx context.Context, m vector.Matrix, qs map[string][][]float32, gt map[string][][]int64, res *results) error {
	file := path("laiondb.hnsw")
	if res.HNSWPartialRows > 0 {
		return nil
	}
	if res.HNSWBuildSec == 0 {
		prev := runtime.GOMAXPROCS(*threads)
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		h0 := ms.HeapAlloc
		t0 := time.Now()
		ix, err := hnsw.New(*dim, &hnsw.Options{M: 16, EfConstruction: 200, Seed: 1, Workers: *threads})
		if err != nil {
			return err
		}
		last, linked := time.Now(), 0
		bctx, cancel := ctx, context.CancelFunc(func() {})
		if *hnswFor > 0 {
			bctx, cancel = context.WithTimeout(ctx, *hnswFor)
		}
		err = ix.Add(bctx, m, nil, func(done, total int) {
			linked = done
			if time.Since(last) > time.Minute {
				last = time.Now()
				logf("laiondb-hnsw: %d of %d rows after %.0f s", done, total, time.Since(t0).Seconds())
			}
		})
		cancel()
		if err != nil && errors.Is(err, context.DeadlineExceeded) && linked > 0 {
			runtime.GOMAXPROCS(prev)
			res.HNSWPartialSec, res.HNSWPartialRows = time.Since(t0).Seconds(), linked
			logf("laiondb-hnsw: stopped after %.0f s with %d of %d rows linked", res.HNSWPartialSec, linked, *n)
			save(res)
			return nil
		}
		if err != nil {
			return err
		}
		res.HNSWBuildSec = time.Since(t0).Seconds()
		runtime.GOMAXPROCS(prev)
		res.HNSWMemoryBytes = ix.MemoryBytes()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		res.HNSWHeapBytes = int64(ms.HeapAlloc) - int64(h0)
		if err := ix.Write(file); err != nil {
			return err
		}
		st, _ := os.Stat(file)
		res.HNSWFileBytes = st.Size()
		logf("laiondb-hnsw: built in %.0f s on %d threads, %.1f bytes a vector", res.HNSWBuildSec, *threads, float64(res.HNSWMemoryBytes)/float64(*n))
		save(res)
	}
	if res.HNSWOpenSec == 0 {
		out, err := exec.Command(os.Args[0], "--dir", *dir, "--n", fmt.Sprint(*n), "--dim", fmt.Sprint(*dim), "--probe-open-hnsw", file).Output()
		if err != nil {
			return fmt.Errorf("open probe: %w", err)
		}
		fmt.Sscan(string(out), &res.HNSWOpenSec)
		logf("laiondb-hnsw: open and first query in a fresh process %.3f s", res.HNSWOpenSec)
		save(res)
	}
	if len(res.HNSWRounds) >= *rounds {
		return nil
	}
	ix, err := hnsw.Open(file, m)
	if err != nil {
		return err
	}
	var sweep []int
	for _, s := range strings.Split(*efSweep, ",") {
		var v int
		fmt.Sscan(s, &v)
		sweep = append(sweep, v)
	}
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	search := func(q []float32, ef int) ([]int64, error) {
		r, err := ix.Search(ctx, q, 10, &hnsw.SearchOptions{Ef: ef, Seeds: hnsw.DefaultSeeds, Planned: true})
		if err != nil {
			return nil, err
		}
		ids := make([]int64, len(r.Hits))
		for i, h := range r.Hits {
			ids[i] = int64(h.ID)
		}
		return ids, nil
	}
	for r := len(res.HNSWRounds); r < *rounds; r++ {
		for i := 0; i < 200; i++ {
			if _, err := search(qs["text"][i%len(qs["text"])], sweep[len(sweep)-1]); err != nil {
				return err
			}
		}
		var pts []point
		for _, kind := range []string{"image", "text"} {
			for _, ef := range sweep {
				got := make([][]int64, len(qs[kind]))
				lat := make([]float64, len(qs[kind]))
				t0 := time.Now()
				for i, q := range qs[kind] {
					s := time.Now()
					if got[i], err = search(q, ef); err != nil {
						return err
					}
					lat[i] = time.Since(s).Seconds()
				}
				total := time.Since(t0).Seconds()
				sort.Float64s(lat)
				p := point{Queries: kind, NProbe: ef, Recall: recall10(got, gt[kind]), QPS: float64(len(got)) / total, P50Ms: 1e3 * lat[len(lat)/2]}
				logf("laiondb-hnsw %s ef %d: recall@10 %.4f, %.0f QPS", kind, ef, p.Recall, p.QPS)
				pts = append(pts, p)
			}
		}
		res.HNSWRounds = append(res.HNSWRounds, pts)
		save(res)
	}
	return nil
}

// report writes report.md: per system, query kind and nprobe, recall@10
// and the median QPS over the rounds with its spread; then the best QPS at
// the recall targets and the ratios.
func report(res *results) error {
	type key struct {
		sys, kind string
		np        int
	}
	qps := map[key][]float64{}
	rec := map[key]float64{}
	for _, round := range res.Rounds {
		for sys, pts := range round {
			for _, p := range pts {
				k := key{sys, p.Queries, p.NProbe}
				qps[k] = append(qps[k], p.QPS)
				// Runs before 2026-12-07 stored a sum of per-query shares,
				// a rounding off the multiple of 1/(10·queries) it is.
				rec[k] = math.Round(p.Recall*1e9) / 1e9
			}
		}
	}
	med := func(xs []float64) (float64, float64, float64) {
		s := append([]float64(nil), xs...)
		sort.Float64s(s)
		return s[len(s)/2], s[0], s[len(s)-1]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# laiondb-ivf against FAISS IVF-PQ with re-ranking, %d × %d synth (float16)\n\n", res.N, res.Dim)
	fmt.Fprintf(&b, "Command: `go run ./bench/ivfscale --dir DIR --n %d --rounds %d --threads %d`. %d rounds, systems alternated; one query thread; %d image and %d text queries; recall@10 against the exact top 10 by cosine.\n\n",
		res.N, len(res.Rounds), res.Threads, len(res.Rounds), *nq, *nq)
	fmt.Fprintf(&b, "| | laiondb-ivf | FAISS `%s` | ratio |\n|---|---|---|---|\n", res.FAISSFactory)
	fmt.Fprintf(&b, "| build, %d threads | %.0f s | %.0f s | %.2f× |\n", res.Threads, res.IVFBuildSec, res.FAISSBuildSec, res.IVFBuildSec/res.FAISSBuildSec)
	fmt.Fprintf(&b, "| resident bytes per vector | %.1f (MemoryBytes; %.1f live heap after the build) | %.1f (anonymous RSS growth across the build) | %.3f× |\n",
		float64(res.IVFMemoryBytes)/float64(res.N), float64(res.IVFHeapBytes)/float64(res.N), float64(res.FAISSRSSBytes)/float64(res.N),
		float64(res.IVFMemoryBytes)/float64(res.FAISSRSSBytes))
	fmt.Fprintf(&b, "| index file | %.2f GB | %.2f GB | |\n", float64(res.IVFFileBytes)/1e9, float64(res.FAISSFileBytes)/1e9)
	fmt.Fprintf(&b, "| open and first query, fresh process | %.2f s | %.2f s | |\n\n", res.IVFOpenSec, res.FAISSOpenQuery)
	for _, kind := range []string{"image", "text"} {
		fmt.Fprintf(&b, "## %s queries\n\n| nprobe | laiondb-ivf recall@10 | QPS median (min–max) | FAISS recall@10 | QPS median (min–max) |\n|---|---|---|---|---|\n", kind)
		var nps []int
		for k := range rec {
			if k.kind == kind && k.sys == "laiondb-ivf" {
				nps = append(nps, k.np)
			}
		}
		sort.Ints(nps)
		for _, np := range nps {
			a, f := key{"laiondb-ivf", kind, np}, key{"faiss-ivfpq-refine", kind, np}
			am, alo, ahi := med(qps[a])
			fm, flo, fhi := math.NaN(), math.NaN(), math.NaN()
			if len(qps[f]) > 0 {
				fm, flo, fhi = med(qps[f])
			}
			fmt.Fprintf(&b, "| %d | %.4f | %.0f (%.0f–%.0f) | %.4f | %.0f (%.0f–%.0f) |\n", np, rec[a], am, alo, ahi, rec[f], fm, flo, fhi)
		}
		target := map[string]float64{"image": 0.99, "text": 0.95}[kind]
		best := func(sys string) (float64, int, float64) {
			bq, bn, br := 0.0, 0, 0.0
			for _, np := range nps {
				k := key{sys, kind, np}
				if m, _, _ := med(qps[k]); rec[k] >= target && m > bq {
					bq, bn, br = m, np, rec[k]
				}
			}
			return bq, bn, br
		}
		say := func(sys string) string {
			q, np, r := best(sys)
			if q == 0 {
				top := 0.0
				for _, np := range nps {
					top = max(top, rec[key{sys, kind, np}])
				}
				return fmt.Sprintf("not reached (best %.4f)", top)
			}
			return fmt.Sprintf("%.0f QPS (nprobe %d, %.4f)", q, np, r)
		}
		aq, _, _ := best("laiondb-ivf")
		fq, _, _ := best("faiss-ivfpq-refine")
		fmt.Fprintf(&b, "\nAt recall@10 ≥ %.2f: laiondb-ivf %s, FAISS %s", target, say("laiondb-ivf"), say("faiss-ivfpq-refine"))
		if aq > 0 && fq > 0 {
			fmt.Fprintf(&b, ": ×%.2f", aq/fq)
		}
		fmt.Fprintf(&b, ".\n\nAt FAISS's recall: for each FAISS point, laiondb-ivf's QPS at the smallest nprobe whose recall@10 is at least as high (medians):\n\n| FAISS nprobe | FAISS recall@10, QPS | laiondb-ivf nprobe, recall@10, QPS | ratio |\n|---|---|---|---|\n")
		for _, np := range nps {
			f := key{"faiss-ivfpq-refine", kind, np}
			if len(qps[f]) == 0 {
				continue
			}
			fm, _, _ := med(qps[f])
			for _, anp := range nps {
				a := key{"laiondb-ivf", kind, anp}
				if rec[a] >= rec[f] {
					am, _, _ := med(qps[a])
					fmt.Fprintf(&b, "| %d | %.4f, %.0f | %d, %.4f, %.0f | ×%.2f |\n", np, rec[f], fm, anp, rec[a], am, am/fm)
					break
				}
			}
		}
		fmt.Fprintln(&b)
	}
	if res.HNSWPartialRows > 0 {
		fmt.Fprintf(&b, "## laiondb-hnsw (M 16, efConstruction 200, the store's defaults), build stopped by --hnsw-budget\n\n")
		fmt.Fprintf(&b, "After %.0f s on %d threads it had linked %d of %d rows. A row's insertion does not get cheaper as the graph grows, so the whole build takes at least %.0f s; laiondb-ivf's build took %.0f s (≤ %.2f× of that).\n\n",
			res.HNSWPartialSec, res.Threads, res.HNSWPartialRows, res.N, res.HNSWPartialSec*float64(res.N)/float64(res.HNSWPartialRows),
			res.IVFBuildSec, res.IVFBuildSec/(res.HNSWPartialSec*float64(res.N)/float64(res.HNSWPartialRows)))
	}
	if res.HNSWBuildSec > 0 {
		fmt.Fprintf(&b, "## laiondb-hnsw (M 16, efConstruction 200, the store's defaults), its own %d rounds\n\n", len(res.HNSWRounds))
		fmt.Fprintf(&b, "| | laiondb-ivf | laiondb-hnsw | ivf ÷ hnsw |\n|---|---|---|---|\n")
		fmt.Fprintf(&b, "| build, %d threads | %.0f s | %.0f s | %.2f× |\n", res.Threads, res.IVFBuildSec, res.HNSWBuildSec, res.IVFBuildSec/res.HNSWBuildSec)
		fmt.Fprintf(&b, "| resident bytes per vector (MemoryBytes) | %.1f | %.1f (%.1f live heap after the build) | %.3f× |\n",
			float64(res.IVFMemoryBytes)/float64(res.N), float64(res.HNSWMemoryBytes)/float64(res.N), float64(res.HNSWHeapBytes)/float64(res.N),
			float64(res.IVFMemoryBytes)/float64(res.HNSWMemoryBytes))
		fmt.Fprintf(&b, "| index file | %.2f GB | %.2f GB | |\n", float64(res.IVFFileBytes)/1e9, float64(res.HNSWFileBytes)/1e9)
		fmt.Fprintf(&b, "| open and first query, fresh process | %.2f s | %.2f s | |\n\n", res.IVFOpenSec, res.HNSWOpenSec)
		type hk struct {
			kind string
			ef   int
		}
		hq := map[hk][]float64{}
		hr := map[hk]float64{}
		var keys []hk
		for _, round := range res.HNSWRounds {
			for _, p := range round {
				k := hk{p.Queries, p.NProbe}
				if _, ok := hr[k]; !ok {
					keys = append(keys, k)
				}
				hq[k] = append(hq[k], p.QPS)
				hr[k] = p.Recall
			}
		}
		fmt.Fprintf(&b, "| queries | ef | recall@10 | QPS median (min–max) |\n|---|---|---|---|\n")
		for _, k := range keys {
			m, lo, hi := med(hq[k])
			fmt.Fprintf(&b, "| %s | %d | %.4f | %.0f (%.0f–%.0f) |\n", k.kind, k.ef, hr[k], m, lo, hi)
		}
		fmt.Fprintln(&b)
	}
	return os.WriteFile(path("report.md"), []byte(b.String()), 0o644)
}
