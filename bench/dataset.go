package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"

	"github.com/laiondb/laiondb/internal/concepts"
	"github.com/laiondb/laiondb/internal/npy"
	"github.com/laiondb/laiondb/internal/par"
	"github.com/laiondb/laiondb/internal/synth"
	"github.com/laiondb/laiondb/vector"
)

// GTK is the depth of the ground truth: recall is measured up to @100.
const GTK = 100

// QuerySet is one set of queries with its exact ground truth.
type QuerySet struct {
	Name string    // "image", "text" or the file's base name
	Vecs []float32 // nq×Dim, unit norm
	Path string    // float32 .npy that external drivers read
	// GT holds, for each query, the ids of its GTK nearest base rows by inner
	// product, best first (ties by lower id).
	GT     []int32
	GTPath string
}

// Len returns the number of queries.
func (q *QuerySet) Len(dim int) int { return len(q.Vecs) / dim }

// Dataset is the data every system sees in a run.
type Dataset struct {
	Name string
	// Gen is the generator of a generated set ("synth" or "concepts"),
	// empty for data read from files.
	Gen string
	Dim int
	N   int
	// Base is the base set as float32 rows. When loaded from float16 or
	// generated with RoundF16, every value is exactly a float16, so systems
	// that keep float16 (laiondb) and float32 (FAISS, hnswlib) index the
	// same numbers.
	Base     []float32
	BaseF16  []uint16 // Base as float16 bit patterns (nil if not exact)
	BasePath string   // float32 .npy of Base, for drivers
	Queries  []*QuerySet
	Dir      string // data folder
}

// DataConfig says where a run's data comes from.
type DataConfig struct {
	// Base and Queries are paths to .npy or .fvecs files; when Base is empty
	// a synthetic CLIP-like set is generated with N rows and NQ queries of
	// each kind (image, text).
	Base string
	// Gen names the generator of a synthetic set: "synth" (internal/synth,
	// the default) or "concepts" (internal/concepts, written independently).
	// It is part of the dataset's name, so the two never share cached data
	// or ground truth.
	Gen     string
	Queries []string
	GT      []string // optional ground truth .npy per query file (int ids, ≥100 columns)
	N, NQ   int
	Dim     int
	Seed    uint64
	// RoundF16 rounds generated vectors to float16 (what LAION ships) so
	// that all systems see identical values. Loaded float32 data is kept.
	RoundF16 bool
	// Dir is the output folder; data and ground truth are cached in
	// Dir/data-<name>.
	Dir string
	Log io.Writer
}

// LoadData prepares the dataset: generates or reads vectors, writes the
// float32 .npy files the drivers read and computes or reads (and caches) the
// exact ground truth.
func LoadData(ctx context.Context, cfg DataConfig) (*Dataset, error) {
	logf := func(format string, a ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, format+"\n", a...)
		}
	}
	ds := &Dataset{}
	if cfg.Base == "" {
		if cfg.Dim == 0 {
			cfg.Dim = 512
		}
		var g generator
		switch cfg.Gen {
		case "", "synth":
			cfg.Gen = "synth"
			g = synth.New(synth.Config{Dim: cfg.Dim, Seed: cfg.Seed, N: cfg.N})
		case "concepts":
			g = concepts.New(concepts.Config{Dim: cfg.Dim, Seed: cfg.Seed})
		default:
			return nil, fmt.Errorf("bench: unknown generator %q (have synth, concepts)", cfg.Gen)
		}
		ds.Gen = cfg.Gen
		ds.Name = fmt.Sprintf("%s-n%d-d%d-q%d-s%d", cfg.Gen, cfg.N, cfg.Dim, cfg.NQ, cfg.Seed)
		if cfg.RoundF16 {
			ds.Name += "-f16"
		}
		ds.Dim, ds.N = cfg.Dim, cfg.N
		ds.Base = g.Base(cfg.N)
		ds.Queries = []*QuerySet{
			{Name: "image", Vecs: g.ImageQueries(cfg.NQ)},
			{Name: "text", Vecs: g.TextQueries(cfg.NQ)},
		}
		if cfg.RoundF16 {
			ds.BaseF16 = roundF16(ds.Base)
			for _, q := range ds.Queries {
				roundF16(q.Vecs)
			}
		}
	} else {
		if cfg.Gen != "" {
			return nil, fmt.Errorf("bench: a generator (%s) and --base exclude each other", cfg.Gen)
		}
		st, err := os.Stat(cfg.Base)
		if err != nil {
			return nil, fmt.Errorf("bench: base: %w", err)
		}
		base, d, err := ReadVectors(cfg.Base)
		if err != nil {
			return nil, err
		}
		ds.Name = fmt.Sprintf("%s-%d-%d", filepath.Base(cfg.Base), st.Size(), st.ModTime().Unix())
		ds.Base, ds.Dim, ds.N = base, d, len(base)/d
		if cfg.N > 0 && cfg.N < ds.N {
			ds.Base, ds.N = ds.Base[:cfg.N*d], cfg.N
			ds.Name += fmt.Sprintf("-n%d", cfg.N)
		}
		if isF16Exact(ds.Base) {
			ds.BaseF16 = make([]uint16, len(ds.Base))
			vector.F32ToF16(ds.BaseF16, ds.Base)
		}
		if len(cfg.Queries) == 0 {
			return nil, fmt.Errorf("bench: --base needs --queries")
		}
		for _, p := range cfg.Queries {
			q, qd, err := ReadVectors(p)
			if err != nil {
				return nil, err
			}
			if qd != d {
				return nil, fmt.Errorf("bench: %s has dimension %d, base has %d", p, qd, d)
			}
			name := filepath.Base(p)
			name = name[:len(name)-len(filepath.Ext(name))]
			if cfg.NQ > 0 && cfg.NQ < len(q)/d {
				q = q[:cfg.NQ*d]
			}
			ds.Queries = append(ds.Queries, &QuerySet{Name: name, Vecs: q})
		}
	}
	ds.Dir = filepath.Join(cfg.Dir, "data-"+ds.Name)
	if err := os.MkdirAll(ds.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	ds.BasePath = filepath.Join(ds.Dir, "base.f32.npy")
	if !fileHasSize(ds.BasePath, int64(4*len(ds.Base))) {
		if err := npy.WriteFloat32(ds.BasePath, ds.Base, ds.Dim); err != nil {
			return nil, err
		}
	}
	for i, q := range ds.Queries {
		q.Path = filepath.Join(ds.Dir, "queries-"+q.Name+".f32.npy")
		if err := npy.WriteFloat32(q.Path, q.Vecs, ds.Dim); err != nil {
			return nil, err
		}
		q.GTPath = filepath.Join(ds.Dir, "gt-"+q.Name+".npy")
		src := q.GTPath
		if i < len(cfg.GT) {
			src = cfg.GT[i]
		}
		if a, err := npy.Read(src); err == nil && a.I64 != nil && a.Rows == q.Len(ds.Dim) && a.Cols >= GTK {
			q.GT = make([]int32, a.Rows*GTK)
			for r := range a.Rows {
				for c := range GTK {
					q.GT[r*GTK+c] = int32(a.I64[r*a.Cols+c])
				}
			}
			logf("ground truth %s: read %s", q.Name, src)
			continue
		} else if i < len(cfg.GT) {
			return nil, fmt.Errorf("bench: ground truth %s: %v (want %d rows × ≥%d int ids)", src, err, q.Len(ds.Dim), GTK)
		}
		logf("ground truth %s: exact scan of %d×%d ...", q.Name, q.Len(ds.Dim), ds.N)
		gt, err := GroundTruth(ctx, ds.Base, q.Vecs, ds.Dim, GTK)
		if err != nil {
			return nil, err
		}
		q.GT = gt
		if err := npy.WriteInt32(q.GTPath, gt, GTK); err != nil {
			return nil, err
		}
	}
	meta, _ := json.MarshalIndent(map[string]any{"name": ds.Name, "n": ds.N, "dim": ds.Dim, "config": cfg}, "", "  ")
	_ = os.WriteFile(filepath.Join(ds.Dir, "dataset.json"), meta, 0o644)
	return ds, nil
}

// generator is what internal/synth and internal/concepts both provide.
type generator interface {
	Base(n int) []float32
	ImageQueries(n int) []float32
	TextQueries(n int) []float32
}

func fileHasSize(path string, payload int64) bool {
	st, err := os.Stat(path)
	return err == nil && st.Size() > payload && st.Size() <= payload+4096
}

// roundF16 rounds v to float16 in place and returns the bit patterns.
func roundF16(v []float32) []uint16 {
	h := make([]uint16, len(v))
	vector.F32ToF16(h, v)
	vector.F16ToF32(v, h)
	return h
}

func isF16Exact(v []float32) bool {
	h := make([]uint16, 1)
	back := make([]float32, 1)
	for i := 0; i < len(v); i += max(1, len(v)/4096) {
		vector.F32ToF16(h, v[i:i+1])
		vector.F16ToF32(back, h)
		if back[0] != v[i] {
			return false
		}
	}
	return true
}

// GroundTruth returns, for each query, the ids of its k highest inner
// products with the base rows (ties by lower id), computed by an exact
// parallel scan independent of every system under test.
func GroundTruth(ctx context.Context, base, queries []float32, dim, k int) ([]int32, error) {
	n, nq := len(base)/dim, len(queries)/dim
	k = min(k, n)
	out := make([]int32, nq*k)
	type buffers struct {
		scores []float32
		idx    []int32
	}
	workers := runtime.GOMAXPROCS(0)
	bufs := make([]*buffers, workers)
	err := par.ChunksErr(ctx, workers, nq, 1, func(w, qi, _ int) error {
		b := bufs[w]
		if b == nil {
			b = &buffers{scores: make([]float32, n), idx: make([]int32, n)}
			bufs[w] = b
		}
		q := queries[qi*dim : (qi+1)*dim]
		for i := range n {
			b.scores[i] = vector.Dot(q, base[i*dim:(i+1)*dim])
			b.idx[i] = int32(i)
		}
		top := topK(b.scores, b.idx, k)
		copy(out[qi*k:(qi+1)*k], top)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bench: ground truth: %w", err)
	}
	return out, nil
}

// topK selects the k best ids by score (ties by id) with a partial sort.
func topK(scores []float32, idx []int32, k int) []int32 {
	better := func(a, b int32) bool {
		if scores[a] != scores[b] {
			return scores[a] > scores[b]
		}
		return a < b
	}
	// Keep a running threshold: gather candidates above the k-th best of a
	// prefix, then sort the survivors.
	cand := slices.Clone(idx[:min(len(idx), 4*k)])
	slices.SortFunc(cand, func(a, b int32) int { return cmpBool(better(a, b), better(b, a)) })
	cand = cand[:min(len(cand), k)]
	worst := cand[len(cand)-1]
	for _, i := range idx[min(len(idx), 4*k):] {
		if better(i, worst) {
			cand = append(cand, i)
			if len(cand) >= 8*k {
				slices.SortFunc(cand, func(a, b int32) int { return cmpBool(better(a, b), better(b, a)) })
				cand = cand[:k]
				worst = cand[k-1]
			}
		}
	}
	slices.SortFunc(cand, func(a, b int32) int { return cmpBool(better(a, b), better(b, a)) })
	return cand[:k]
}

func cmpBool(aFirst, bFirst bool) int {
	switch {
	case aFirst:
		return -1
	case bFirst:
		return 1
	}
	return 0
}
