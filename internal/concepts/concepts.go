// Package concepts generates seeded, CLIP-like embedding sets from a model
// written independently of internal/synth, so that a benchmark can be
// checked on two generators that share no code and no cluster structure.
//
// # Model
//
// An image shows a few things. The generator keeps a vocabulary of Vocab
// concept vectors (unit, random directions) whose popularity follows a
// Zipf law (rank r is drawn with probability ∝ (r+1)^-Zipf), as word and
// object frequencies do. An image draws between MinConcepts and MaxConcepts
// distinct concepts and random mixture weights (exponential draws, that is
// a flat Dirichlet), so images share concepts in overlapping, mixed ways:
// there are no clusters that partition the set, popular concepts appear in
// a large fraction of it and rare ones in a handful of images. Before
// L2-normalisation,
//
//	content = unit(Σᵢ wᵢ·c[kᵢ])
//	image   = √0.42·μ + √0.30·content + √0.16·style + √0.12·floor
//
// where μ is a shared mean direction (CLIP image embeddings sit in a narrow
// cone, so random pairs have cosine ≈ 0.3–0.5), style = Σⱼ sⱼ·zⱼ·uⱼ is
// anisotropic noise of low rank (Rank random directions uⱼ with spreads
// sⱼ ∝ (j+1)^-½ and zⱼ ~ N(0,1): a few directions such as lighting or
// photographic style carry much of the variance of real embeddings), and
// floor is isotropic Gaussian noise (the full-rank floor of the covariance).
// Both noise terms have unit expected norm, so the constants are the shares
// of the squared norm.
//
// A caption goes through a different "text tower". Its concepts are drawn
// like an image's; with the mean and isotropic noise floor' they pass
// through a fixed random linear map close to the identity, A = I + 0.3·G (G with N(0, 1/Dim) entries),
// then a constant modality offset δ (a unit vector orthogonal to μ) is
// added:
//
//	u    = √0.12·μ + √0.36·content + √0.52·floor'
//	text = √0.32·unit(A·u) + √0.68·δ
//
// So text vectors form a cone of their own around δ, displaced from the
// image cone (CLIP's modality gap), and a caption's best image match scores
// about 0.3 instead of the ≈ 0.7 of a near-duplicate image. This differs
// from synth's gap (a separate text mean plus a weakened cluster centre):
// here the gap is one constant offset added after a near-identity map of
// image-side content, the picture of CLIP's gap given by Liang et al.,
// "Mind the Gap" (NeurIPS 2022): two cones shifted by a roughly constant
// vector.
//
// Image queries are held-out images drawn like the base; text queries are
// fresh captions (their concept mixtures are not copied from any image).
//
// # Measured properties
//
// With the defaults (Dim 512, Vocab 4096, Zipf 1.0, 2–4 concepts, Rank 24),
// seed 1, measured by TestCosineRanges on a base of 2,000 images (in
// brackets: 20,000, with go test -run CosineRanges -args -n 20000) and 200
// queries of each kind, as mean and 5–95% range:
//
//	random image pairs          0.43, 0.30–0.54
//	image query → best image    0.70, 0.56–0.81  [0.75, 0.65–0.83]
//	text query → best image     0.29, 0.22–0.35  [0.32, 0.26–0.38]
//	text query → random image   0.12, 0.06–0.20
//	random text pairs           0.72, 0.69–0.77
//
// The best text match grows slowly with the base (more images share a
// caption's concepts and noise aligns by chance): about +0.03 per tenfold.
//
// Every row has its own PCG stream keyed by (Seed, row), so output is
// identical for a seed whatever the number of goroutines used to make it,
// and Base(n) is a prefix of Base(m) for n < m.
package concepts

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"

	"github.com/laiondb/laiondb/internal/par"
)

// Config describes a generated set. Zero fields take the defaults noted.
type Config struct {
	// Dim is the dimension (default 512, CLIP ViT-B/32).
	Dim int
	// Seed selects the set; equal seeds give equal vectors.
	Seed uint64
	// Vocab is the number of concepts (default 4096).
	Vocab int
	// Zipf is the popularity exponent of concepts (default 1.0).
	Zipf float64
	// MinConcepts and MaxConcepts bound the concepts per image or caption
	// (defaults 2 and 4).
	MinConcepts, MaxConcepts int
	// Rank is the rank of the anisotropic style noise (default 24).
	Rank int
}

// Squared-norm shares of each component (see the package comment), and the
// strength of the text tower's deviation from the identity.
const (
	imgMean    = 0.42
	imgContent = 0.30
	imgStyle   = 0.16
	imgFloor   = 0.12
	txtMean    = 0.12
	txtContent = 0.36
	txtFloor   = 0.52
	txtGap     = 0.68 // share of the modality offset δ in a text vector
	towerNoise = 0.3  // A = I + towerNoise·G

	// Streams of the per-row generators: base rows use stream i, image
	// queries imageStream+i, text queries textStream+i.
	imageStream = 3 << 60
	textStream  = 5 << 60
)

// Generator makes base rows and query sets for one Config. Its methods are
// safe for concurrent use.
type Generator struct {
	cfg     Config
	mean    []float64   // μ
	offset  []float64   // δ ⟂ μ
	concept [][]float64 // unit concept vectors
	cdf     []float64   // Zipf cumulative popularity over concept ranks
	style   [][]float64 // low-rank noise directions uⱼ, scaled by sⱼ
	tower   []float64   // A, row-major Dim×Dim
}

// New returns the generator for cfg, filling in defaults.
func New(cfg Config) *Generator {
	if cfg.Dim <= 0 {
		cfg.Dim = 512
	}
	if cfg.Vocab <= 0 {
		cfg.Vocab = 4096
	}
	if cfg.Zipf == 0 {
		cfg.Zipf = 1.0
	}
	if cfg.MinConcepts <= 0 {
		cfg.MinConcepts = 2
	}
	if cfg.MaxConcepts < cfg.MinConcepts {
		cfg.MaxConcepts = max(cfg.MinConcepts, 4)
	}
	cfg.MaxConcepts = min(cfg.MaxConcepts, cfg.Vocab)
	cfg.MinConcepts = min(cfg.MinConcepts, cfg.MaxConcepts)
	if cfg.Rank <= 0 {
		cfg.Rank = 24
	}
	d := cfg.Dim
	r := rand.New(rand.NewPCG(cfg.Seed, 0xc0ffee))
	g := &Generator{cfg: cfg}
	g.mean = gaussUnit(r, d)
	g.offset = gaussUnit(r, d)
	axpy(g.offset, -dot(g.offset, g.mean), g.mean)
	unit(g.offset)
	g.concept = make([][]float64, cfg.Vocab)
	for k := range g.concept {
		g.concept[k] = gaussUnit(r, d)
	}
	g.cdf = make([]float64, cfg.Vocab)
	var s float64
	for k := range g.cdf {
		s += math.Pow(float64(k+1), -cfg.Zipf)
		g.cdf[k] = s
	}
	for k := range g.cdf {
		g.cdf[k] /= s
	}
	// Spreads sⱼ ∝ (j+1)^-½ with Σ sⱼ² = 1, so style has unit expected norm.
	var h float64
	for j := range cfg.Rank {
		h += 1 / float64(j+1)
	}
	g.style = make([][]float64, cfg.Rank)
	for j := range g.style {
		u := gaussUnit(r, d)
		sj := math.Sqrt(1 / float64(j+1) / h)
		for i := range u {
			u[i] *= sj
		}
		g.style[j] = u
	}
	g.tower = make([]float64, d*d)
	sd := towerNoise / math.Sqrt(float64(d))
	for i := range g.tower {
		g.tower[i] = sd * r.NormFloat64()
	}
	for i := range d {
		g.tower[i*d+i] += 1
	}
	return g
}

// Config returns the configuration with defaults filled in.
func (g *Generator) Config() Config { return g.cfg }

// Base returns base images [0, n) as a row-major n×Dim float32 slice.
func (g *Generator) Base(n int) []float32 { return g.rows(n, 0, g.image) }

// ImageQueries returns n held-out images drawn like the base from streams
// no base row uses.
func (g *Generator) ImageQueries(n int) []float32 { return g.rows(n, imageStream, g.image) }

// TextQueries returns n captions through the text tower.
func (g *Generator) TextQueries(n int) []float32 { return g.rows(n, textStream, g.text) }

// Concepts returns the concept ids of base image i (most popular first),
// for tests and filters.
func (g *Generator) Concepts(i int) []int {
	r := rand.New(rand.NewPCG(g.cfg.Seed, uint64(i)))
	ks, _ := g.mixture(r, nil, nil)
	sort.Ints(ks)
	return ks
}

// mixture draws a set of distinct concepts by popularity and their
// weights, appending to ks and ws.
func (g *Generator) mixture(r *rand.Rand, ks []int, ws []float64) ([]int, []float64) {
	m := g.cfg.MinConcepts + r.IntN(g.cfg.MaxConcepts-g.cfg.MinConcepts+1)
	for len(ks) < m {
		k := sort.SearchFloat64s(g.cdf, r.Float64())
		k = min(k, len(g.cdf)-1)
		dup := false
		for _, x := range ks {
			dup = dup || x == k
		}
		if !dup {
			ks = append(ks, k)
			ws = append(ws, r.ExpFloat64())
		}
	}
	return ks, ws
}

// content writes unit(Σ wᵢ·c[kᵢ]) into v.
func (g *Generator) content(r *rand.Rand, v []float64) {
	var ks [8]int
	var ws [8]float64
	k, w := g.mixture(r, ks[:0], ws[:0])
	clear(v)
	for i := range k {
		axpy(v, w[i], g.concept[k[i]])
	}
	unit(v)
}

// scratch is per-goroutine working memory.
type scratch struct{ a, b []float64 }

func (g *Generator) image(r *rand.Rand, dst []float32, s *scratch) {
	v := s.a
	g.content(r, v)
	for i := range v {
		v[i] *= math.Sqrt(imgContent)
	}
	axpy(v, math.Sqrt(imgMean), g.mean)
	for _, u := range g.style {
		axpy(v, math.Sqrt(imgStyle)*r.NormFloat64(), u)
	}
	fl := math.Sqrt(imgFloor / float64(len(v)))
	for i := range v {
		v[i] += fl * r.NormFloat64()
	}
	store(dst, v)
}

func (g *Generator) text(r *rand.Rand, dst []float32, s *scratch) {
	u, t := s.a, s.b
	g.content(r, u)
	for i := range u {
		u[i] *= math.Sqrt(txtContent)
	}
	axpy(u, math.Sqrt(txtMean), g.mean)
	fl := math.Sqrt(txtFloor / float64(len(u)))
	for i := range u {
		u[i] += fl * r.NormFloat64()
	}
	d := len(u)
	for i := range t {
		t[i] = dot(g.tower[i*d:(i+1)*d], u)
	}
	unit(t)
	for i := range t {
		t[i] *= math.Sqrt(1 - txtGap)
	}
	axpy(t, math.Sqrt(txtGap), g.offset)
	store(dst, t)
}

// rows makes n rows in parallel; row i uses stream first+i.
func (g *Generator) rows(n int, first uint64, fill func(*rand.Rand, []float32, *scratch)) []float32 {
	d := g.cfg.Dim
	out := make([]float32, n*d)
	type state struct {
		src *rand.PCG
		r   *rand.Rand
		s   *scratch
	}
	workers := runtime.GOMAXPROCS(0)
	states := make([]*state, workers)
	par.ChunksN(context.Background(), workers, n, 512, func(w, lo, hi int) {
		st := states[w]
		if st == nil {
			src := rand.NewPCG(0, 0)
			st = &state{src: src, r: rand.New(src), s: &scratch{a: make([]float64, d), b: make([]float64, d)}}
			states[w] = st
		}
		for i := lo; i < hi; i++ {
			st.src.Seed(g.cfg.Seed, first+uint64(i))
			fill(st.r, out[i*d:(i+1)*d], st.s)
		}
	})
	return out
}

func store(dst []float32, v []float64) {
	unit(v)
	for i, x := range v {
		dst[i] = float32(x)
	}
}

func gaussUnit(r *rand.Rand, d int) []float64 {
	v := make([]float64, d)
	for i := range v {
		v[i] = r.NormFloat64()
	}
	unit(v)
	return v
}

func dot(a, b []float64) float64 {
	var s float64
	for i, x := range a {
		s += x * b[i]
	}
	return s
}

// axpy adds a·x to y.
func axpy(y []float64, a float64, x []float64) {
	for i, v := range x {
		y[i] += a * v
	}
}

func unit(v []float64) {
	n := math.Sqrt(dot(v, v))
	if n == 0 {
		return
	}
	for i := range v {
		v[i] /= n
	}
}
