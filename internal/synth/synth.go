// Package synth generates seeded, CLIP-like embedding sets for tests and
// benchmarks: unit-norm vectors that are clustered and anisotropic, whose
// random pairs have cosine similarity around 0.3–0.5 (CLIP image embeddings
// share a common mean direction), plus two query sets:
//
//   - image queries, drawn exactly like the base but held out of it;
//   - text queries, drawn in a cone of their own (CLIP's "modality gap"):
//     each aims at one fine cluster's concept, but its best matches in the
//     base score only about 0.3, as CLIP text→image searches do.
//
// The model, before each vector is L2-normalised:
//
//	image = wMean·μ + wCoarse·c[k] + wFine·f[k,l] + wNoise·ε
//	text  = tMean·μt + tConcept·unit(wCoarse·c[k] + wFine·f[k,l]) + tNoise·ε'
//
// μ and μt are fixed orthogonal unit directions, c and f are coarse and fine
// cluster centres, ε and ε' are anisotropic Gaussians whose per-coordinate
// standard deviations follow a power law (σ_j ∝ (j+1)^-Alpha over a
// seeded permutation of the coordinates), so a few dimensions carry most of
// the variance as in real CLIP embeddings. Fine-cluster sizes are skewed.
//
// Every row has its own PCG stream keyed by (Seed, row), so output is
// identical for a seed whatever the number of goroutines used to make it.
package synth

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"

	"github.com/laiondb/laiondb/internal/par"
)

// Config describes a generated set. Zero fields take the defaults noted.
type Config struct {
	// Dim is the dimension (default 512, CLIP ViT-B/32).
	Dim int
	// Seed selects the set; equal seeds give equal vectors.
	Seed uint64
	// N is the intended base size; it sets the number of fine clusters when
	// Fine is zero (N/100, at least 16).
	N int
	// Coarse is the number of coarse clusters (default 64).
	Coarse int
	// Fine is the number of fine clusters (default from N).
	Fine int
	// Alpha is the power-law exponent of the per-coordinate spread
	// (default 0.35).
	Alpha float64
	// Skew makes some fine clusters much larger than others: a row's
	// cluster is floor(Fine·u^Skew) for uniform u (default 1.5; 1 is even).
	Skew float64
}

// Squared shares of each component in an image vector (they sum to 1) and in a
// text vector. Tuned so random image pairs score ~0.4, image nearest
// neighbours ~0.8–0.9 at 100k rows and text→image best matches ~0.3; the
// tests in synth_test.go pin these ranges.
const (
	shareMean    = 0.40
	shareCoarse  = 0.12
	shareFine    = 0.20
	shareNoise   = 0.28
	textMean     = 0.55
	textConcept  = 0.13
	textNoise    = 0.32
	streamImageQ = 1 << 62
	streamTextQ  = 1<<62 + 1<<61
)

// Generator makes base rows and query sets for one Config.
type Generator struct {
	cfg      Config
	sigma    []float64   // per-coordinate spread, Σσ² = 1
	mean     []float64   // μ
	meanText []float64   // μt ⟂ μ
	coarse   [][]float64 // unit coarse centres
	fine     [][]float64 // unit fine centres
	parent   []int       // coarse cluster of each fine cluster
}

// New returns the generator for cfg, filling in defaults.
func New(cfg Config) *Generator {
	if cfg.Dim <= 0 {
		cfg.Dim = 512
	}
	if cfg.Coarse <= 0 {
		cfg.Coarse = 64
	}
	if cfg.Fine <= 0 {
		cfg.Fine = max(16, cfg.N/100)
	}
	if cfg.Alpha == 0 {
		cfg.Alpha = 0.35
	}
	if cfg.Skew == 0 {
		cfg.Skew = 1.5
	}
	d := cfg.Dim
	r := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	g := &Generator{cfg: cfg, sigma: make([]float64, d)}
	perm := r.Perm(d)
	var s2 float64
	for j := range d {
		s := math.Pow(float64(perm[j]+1), -cfg.Alpha)
		g.sigma[j] = s
		s2 += s * s
	}
	for j := range g.sigma {
		g.sigma[j] /= math.Sqrt(s2)
	}
	g.mean = unitGauss(r, d, nil)
	g.meanText = unitGauss(r, d, nil)
	dot := 0.0
	for j := range d {
		dot += g.mean[j] * g.meanText[j]
	}
	for j := range d {
		g.meanText[j] -= dot * g.mean[j]
	}
	normalize64(g.meanText)
	g.coarse = make([][]float64, cfg.Coarse)
	for k := range g.coarse {
		g.coarse[k] = unitGauss(r, d, g.sigma)
	}
	g.fine = make([][]float64, cfg.Fine)
	g.parent = make([]int, cfg.Fine)
	for l := range g.fine {
		g.fine[l] = unitGauss(r, d, g.sigma)
		g.parent[l] = r.IntN(cfg.Coarse)
	}
	return g
}

// Config returns the configuration with defaults filled in.
func (g *Generator) Config() Config { return g.cfg }

// Base returns base rows [0, n) as a row-major n×Dim float32 slice.
func (g *Generator) Base(n int) []float32 { return g.rows(n, 0, g.image) }

// BaseRows returns rows [lo, hi) of the base set, as Base(hi) holds them
// from row lo: a base too large for memory is generated a part at a time.
func (g *Generator) BaseRows(lo, hi int) []float32 { return g.rows(hi-lo, uint64(lo), g.image) }

// BaseRowsAt returns the base rows at the given indexes, in that order, as
// Base holds them: a sample of a base set without generating all of it.
func (g *Generator) BaseRowsAt(ids []int) []float32 {
	return g.streams(len(ids), func(i int) uint64 { return uint64(ids[i]) }, g.image)
}

// ImageQueries returns n image-like queries drawn like the base but from
// streams no base row uses.
func (g *Generator) ImageQueries(n int) []float32 { return g.rows(n, streamImageQ, g.image) }

// TextQueries returns n text-like queries in their own cone.
func (g *Generator) TextQueries(n int) []float32 { return g.rows(n, streamTextQ, g.text) }

// Cluster returns the fine cluster of base row i (for tests and filters).
func (g *Generator) Cluster(i int) int {
	r := rand.New(rand.NewPCG(g.cfg.Seed, uint64(i)))
	return g.pickFine(r)
}

func (g *Generator) pickFine(r *rand.Rand) int {
	return min(g.cfg.Fine-1, int(float64(g.cfg.Fine)*math.Pow(r.Float64(), g.cfg.Skew)))
}

// rows fills n rows in parallel; row i uses stream base+i.
func (g *Generator) rows(n int, base uint64, fill func(r *rand.Rand, dst []float32, tmp []float64)) []float32 {
	return g.streams(n, func(i int) uint64 { return base + uint64(i) }, fill)
}

// streams fills n rows in parallel; row i uses stream stream(i).
func (g *Generator) streams(n int, stream func(i int) uint64, fill func(r *rand.Rand, dst []float32, tmp []float64)) []float32 {
	d := g.cfg.Dim
	out := make([]float32, n*d)
	type state struct {
		tmp []float64
		pcg *rand.PCG
		r   *rand.Rand
	}
	workers := runtime.GOMAXPROCS(0)
	states := make([]*state, workers)
	par.ChunksN(context.Background(), workers, n, 1024, func(w, lo, hi int) {
		s := states[w]
		if s == nil {
			pcg := rand.NewPCG(0, 0)
			s = &state{tmp: make([]float64, d), pcg: pcg, r: rand.New(pcg)}
			states[w] = s
		}
		for i := lo; i < hi; i++ {
			s.pcg.Seed(g.cfg.Seed, stream(i))
			fill(s.r, out[i*d:(i+1)*d], s.tmp)
		}
	})
	return out
}

func (g *Generator) image(r *rand.Rand, dst []float32, v []float64) {
	l := g.pickFine(r)
	c, f := g.coarse[g.parent[l]], g.fine[l]
	wm, wc, wf, wn := math.Sqrt(shareMean), math.Sqrt(shareCoarse), math.Sqrt(shareFine), math.Sqrt(shareNoise)
	for j := range v {
		v[j] = wm*g.mean[j] + wc*c[j] + wf*f[j] + wn*g.sigma[j]*r.NormFloat64()
	}
	store(dst, v)
}

func (g *Generator) text(r *rand.Rand, dst []float32, v []float64) {
	l := r.IntN(g.cfg.Fine) // a concept: any fine cluster, uniformly
	c, f := g.coarse[g.parent[l]], g.fine[l]
	wc, wf := math.Sqrt(shareCoarse), math.Sqrt(shareFine)
	var cn float64
	for j := range v {
		v[j] = wc*c[j] + wf*f[j]
		cn += v[j] * v[j]
	}
	tc := math.Sqrt(textConcept) / math.Sqrt(cn)
	tm, tn := math.Sqrt(textMean), math.Sqrt(textNoise)
	for j := range v {
		v[j] = tm*g.meanText[j] + tc*v[j] + tn*g.sigma[j]*r.NormFloat64()
	}
	store(dst, v)
}

func store(dst []float32, v []float64) {
	normalize64(v)
	for j, x := range v {
		dst[j] = float32(x)
	}
}

// unitGauss returns a unit vector with coordinates N(0, scale[j]²) before
// normalisation (isotropic when scale is nil).
func unitGauss(r *rand.Rand, d int, scale []float64) []float64 {
	v := make([]float64, d)
	for j := range v {
		v[j] = r.NormFloat64()
		if scale != nil {
			v[j] *= scale[j]
		}
	}
	normalize64(v)
	return v
}

func normalize64(v []float64) {
	var s float64
	for _, x := range v {
		s += x * x
	}
	if s == 0 {
		return
	}
	inv := 1 / math.Sqrt(s)
	for j := range v {
		v[j] *= inv
	}
}
