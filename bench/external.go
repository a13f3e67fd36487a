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
	"strconv"
	"strings"

	"github.com/laiondb/laiondb/internal/npy"
)

// Python is the interpreter that sees Debian's python3-faiss,
// python3-hnswlib and python3-pandas (not the python3 first on PATH).
const Python = "/usr/bin/python3"

// External is a system run by a driver process (bench/drivers): a Python
// script for FAISS and hnswlib's bindings, a C++ program for hnswlib
// compiled with -march=native.
type External struct {
	Key    string // --systems key
	Name   string
	Params string
	Knob   string
	Sweep  []int
	Exact  bool
	Note   string
	// Spec is merged into the Python driver's config (kind, factory, M, efC).
	Spec map[string]any
	// Cpp selects the C++ hnswlib driver instead of the Python one.
	Cpp bool
}

// FaissNote goes with every FAISS row: the Debian build is generic.
const FaissNote = "Debian python3-faiss 1.7.3: generic build (SSE only, no AVX2/AVX-512 kernels), OpenBLAS"

// ExternalSystems returns the external systems for a base of n vectors.
func ExternalSystems(n int) []*External {
	efs := []int{10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512}
	nlist := max(16, nearestPow2(4*isqrt(n)))
	probes := []int{1, 2, 4, 8, 16, 32, 64, 128}
	// autofaiss picks OPQ+IVF(HNSW coarse quantizer)+PQ; we use that shape
	// with 64-byte codes but without the OPQ rotation, whose training on
	// Debian's generic FAISS took over 10 minutes for 30k vectors here, and
	// without polysemous training ("np").
	ivfpq := fmt.Sprintf("IVF%d_HNSW32,PQ64x8np", nlist)
	ivfpqRefine := fmt.Sprintf("IVF%d_HNSW32,PQ32x8np,RFlat", nlist)
	return []*External{
		{Key: "faiss-flat", Name: "faiss-flat", Exact: true, Note: FaissNote,
			Spec: map[string]any{"kind": "flat"}},
		{Key: "faiss-hnsw16", Name: "faiss-hnsw", Params: "M=16/efC=200", Knob: "ef", Sweep: efs, Note: FaissNote,
			Spec: map[string]any{"kind": "hnsw", "M": 16, "efC": 200}},
		{Key: "faiss-hnsw32", Name: "faiss-hnsw", Params: "M=32/efC=200", Knob: "ef", Sweep: efs, Note: FaissNote,
			Spec: map[string]any{"kind": "hnsw", "M": 32, "efC": 200}},
		{Key: "faiss-ivfflat", Name: "faiss-ivfflat", Params: fmt.Sprintf("nlist=%d", nlist), Knob: "nprobe", Sweep: probes, Note: FaissNote,
			Spec: map[string]any{"kind": "ivf", "factory": fmt.Sprintf("IVF%d,Flat", nlist)}},
		{Key: "faiss-ivfpq", Name: "faiss-ivfpq", Params: "autofaiss=" + strings.ReplaceAll(ivfpq, ",", "+"), Knob: "nprobe", Sweep: probes,
			Note: FaissNote + "; autofaiss-style index_factory " + ivfpq,
			Spec: map[string]any{"kind": "ivfpq", "factory": ivfpq}},
		{Key: "faiss-ivfpq-refine", Name: "faiss-ivfpq-refine", Params: "factory=" + strings.ReplaceAll(ivfpqRefine, ",", "+") + "/rerank=16·nprobe",
			Knob: "nprobe", Sweep: probes,
			Note: FaissNote + "; index_factory " + ivfpqRefine + ": laiondb-ivf's shape (32-byte codes), its exact re-ranking of 16 rows per list probed (100–16,384) on float32 rows held in RAM (IndexRefineFlat, k_factor)",
			Spec: map[string]any{"kind": "ivfpq-refine", "factory": ivfpqRefine}},
		{Key: "hnswlib-py", Name: "hnswlib-py", Params: "M=16/efC=200", Knob: "ef", Sweep: efs,
			Note: "Debian python3-hnswlib 0.6.2; latency includes Python call overhead",
			Spec: map[string]any{"kind": "hnswlib", "M": 16, "efC": 200}},
		{Key: "hnswlib-cpp", Name: "hnswlib-cpp", Params: "M=16/efC=200", Knob: "ef", Sweep: efs, Cpp: true,
			Note: "Debian libhnswlib-dev 0.6.2 headers, g++ -O3 -march=native"},
	}
}

func isqrt(n int) int {
	r := 0
	for (r+1)*(r+1) <= n {
		r++
	}
	return r
}

func nearestPow2(x int) int {
	p := 1
	for p*2 <= x {
		p *= 2
	}
	if x-p > 2*p-x {
		return 2 * p
	}
	return p
}

// RunExternal runs one external system's driver and scores its results.
func RunExternal(ctx context.Context, sys *External, ds *Dataset, o Options, srcDir string, stderr io.Writer) (*Result, error) {
	o.defaults()
	sweep := o.sweep(sys.Knob, sys.Sweep)
	out := filepath.Join(o.Dir, "runs", sys.Key)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	var cmd *exec.Cmd
	if sys.Cpp {
		bin, err := CompileHnswlib(ctx, srcDir, o.Dir)
		if err != nil {
			return nil, err
		}
		args := []string{"run", ds.BasePath, out, sys.Key, "16", "200", strconv.Itoa(o.BatchThreads), joinInts(sweep), joinInts(o.Build)}
		for _, q := range ds.Queries {
			args = append(args, q.Name+"="+q.Path)
		}
		cmd = exec.CommandContext(ctx, bin, args...)
	} else {
		cfg := map[string]any{
			"system": sys.Name, "params": sys.Params, "tag": sys.Key, "base": ds.BasePath, "out": out,
			"knob": sys.Knob, "sweep": sweep, "exact": sys.Exact, "exact_queries": o.ExactQueries,
			"batch_threads": o.BatchThreads, "build_threads": o.Build, "default_knob": defaultKnob(sweep),
		}
		var qs []map[string]string
		for _, q := range ds.Queries {
			qs = append(qs, map[string]string{"name": q.Name, "path": q.Path})
		}
		cfg["queries"] = qs
		for k, v := range sys.Spec {
			cfg[k] = v
		}
		b, _ := json.MarshalIndent(cfg, "", "  ")
		cfgPath := filepath.Join(out, "config.json")
		if err := os.WriteFile(cfgPath, b, 0o644); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		cmd = exec.CommandContext(ctx, Python, filepath.Join(srcDir, "drivers", "pydriver.py"), cfgPath)
	}
	r, err := driverResult(cmd, stderr)
	if err != nil {
		return nil, fmt.Errorf("bench: %s %w", sys.Key, err)
	}
	r.Note = joinNote(sys.Note, r.Note)
	if sys.Cpp && len(ds.Queries) > 0 {
		// Fresh-process open probe: the driver binary in "open" mode.
		bin := filepath.Join(o.Dir, "bin", "hnswlib_bench")
		idx := filepath.Join(out, sys.Key+".index")
		r.Index = idx
		pout, err := exec.CommandContext(ctx, bin, "open", idx, ds.Queries[0].Path, strconv.Itoa(ds.Dim), strconv.Itoa(defaultKnob(o.sweep(sys.Knob, sys.Sweep)))).Output()
		if err == nil {
			f := strings.Fields(string(pout))
			if len(f) > 0 {
				r.OpenQuerySec, _ = strconv.ParseFloat(f[len(f)-1], 64)
			}
		} else {
			r.Note = joinNote(r.Note, "open probe failed: "+err.Error())
		}
	}
	if r.Params == "" {
		r.Params = sys.Params
	}
	for i := range r.Points {
		if err := ds.score(&r.Points[i]); err != nil {
			return nil, fmt.Errorf("bench: %s: %w", sys.Key, err)
		}
	}
	return r, nil
}

// driverResult runs a driver or probe process, passing its stderr on, and
// decodes the Result it prints as the last line of its stdout.
func driverResult(cmd *exec.Cmd, stderr io.Writer) (*Result, error) {
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("driver: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var r Result
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		return nil, fmt.Errorf("driver output: %w", err)
	}
	return &r, nil
}

// score sets a point's recalls from the result ids a driver or a probe
// wrote (IDs10, and IDs100 when set), against the query set's ground
// truth.
func (ds *Dataset) score(p *Point) error {
	qs := ds.query(p.Queries)
	if qs == nil {
		return fmt.Errorf("unknown query set %q", p.Queries)
	}
	ids10, err := readIDs(p.IDs10)
	if err != nil {
		return err
	}
	p.NQ = len(ids10) / 10
	if p.NQ > qs.Len(ds.Dim) {
		return fmt.Errorf("%s: %d rows of ids for %d queries", p.IDs10, p.NQ, qs.Len(ds.Dim))
	}
	gt := qs.GT[:p.NQ*GTK]
	p.Recall1 = Recall(ids10, 10, gt, 1)
	p.Recall10 = Recall(ids10, 10, gt, 10)
	if p.IDs100 != "" {
		ids100, err := readIDs(p.IDs100)
		if err != nil {
			return err
		}
		p.Recall100 = Recall(ids100, GTK, gt, GTK)
	}
	return nil
}

func (ds *Dataset) query(name string) *QuerySet {
	for _, q := range ds.Queries {
		if q.Name == name {
			return q
		}
	}
	return nil
}

func readIDs(path string) ([]int32, error) {
	a, err := npy.Read(path)
	if err != nil {
		return nil, err
	}
	if a.I64 == nil {
		return nil, fmt.Errorf("bench: %s: ids are %s, want int", path, a.DType)
	}
	out := make([]int32, len(a.I64))
	for i, v := range a.I64 {
		out[i] = int32(v)
	}
	return out, nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func defaultKnob(sweep []int) int {
	for _, v := range sweep {
		if v >= 64 {
			return v
		}
	}
	if len(sweep) > 0 {
		return sweep[len(sweep)-1]
	}
	return 0
}

// CompileHnswlib compiles the C++ hnswlib driver from srcDir/drivers into
// outDir/bin with g++ -O3 -march=native, unless the binary is newer than
// its source.
func CompileHnswlib(ctx context.Context, srcDir, outDir string) (string, error) {
	src := filepath.Join(srcDir, "drivers", "hnswlib_bench.cpp")
	bin := filepath.Join(outDir, "bin", "hnswlib_bench")
	if s, err := os.Stat(src); err != nil {
		return "", fmt.Errorf("bench: hnswlib driver source: %w", err)
	} else if b, err := os.Stat(bin); err == nil && b.ModTime().After(s.ModTime()) {
		return bin, nil
	}
	if _, err := os.Stat("/usr/include/hnswlib/hnswalg.h"); err != nil {
		return "", fmt.Errorf("bench: libhnswlib-dev headers missing (apt-get install libhnswlib-dev): %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", fmt.Errorf("bench: %w", err)
	}
	cmd := exec.CommandContext(ctx, "g++", "-O3", "-march=native", "-std=c++17", "-pthread", "-o", bin, src)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("bench: compile %s: %w\n%s", src, err, out)
	}
	return bin, nil
}
