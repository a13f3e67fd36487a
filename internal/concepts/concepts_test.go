package concepts

import (
	"flag"
	"math"
	"slices"
	"testing"
)

// baseN is the base size of TestCosineRanges; the package comment's
// bracketed figures come from -args -n 20000.
var baseN = flag.Int("n", 2000, "base images in TestCosineRanges")

type stats struct{ mean, p05, p95 float64 }

func summarize(xs []float64) stats {
	slices.Sort(xs)
	var s float64
	for _, x := range xs {
		s += x
	}
	return stats{s / float64(len(xs)), xs[len(xs)*5/100], xs[len(xs)*95/100]}
}

func dot32(a, b []float32) float64 {
	var s float32
	for i, x := range a {
		s += x * b[i]
	}
	return float64(s)
}

// best returns, for each query, its highest cosine with any base row.
func best(base, q []float32, d int) []float64 {
	out := make([]float64, len(q)/d)
	for i := range out {
		b := -2.0
		for j := 0; j < len(base)/d; j++ {
			b = max(b, dot32(q[i*d:(i+1)*d], base[j*d:(j+1)*d]))
		}
		out[i] = b
	}
	return out
}

// pairs returns the cosines of 2,000 pseudo-random pairs (i from a, j from b).
func pairs(a, b []float32, d int) []float64 {
	na, nb := len(a)/d, len(b)/d
	var out []float64
	for i := range 2000 {
		x, y := (i*7919)%na, (i*104729+13)%nb
		if &a[0] == &b[0] && x == y {
			continue
		}
		out = append(out, dot32(a[x*d:(x+1)*d], b[y*d:(y+1)*d]))
	}
	return out
}

func TestUnitNormAndDeterministic(t *testing.T) {
	const d = 512
	g := New(Config{Seed: 7})
	a := g.Base(1000)
	if b := New(Config{Seed: 7}).Base(1000); !slices.Equal(a, b) {
		t.Fatal("same seed gave different vectors")
	}
	if c := New(Config{Seed: 8}).Base(1000); slices.Equal(a, c) {
		t.Fatal("different seeds gave equal vectors")
	}
	if !slices.Equal(a[:10*d], g.Base(10)) {
		t.Fatal("Base(10) is not a prefix of Base(1000)")
	}
	if slices.Equal(g.ImageQueries(10), a[:10*d]) {
		t.Fatal("image queries repeat base rows")
	}
	if tq := g.TextQueries(20); !slices.Equal(tq, New(Config{Seed: 7}).TextQueries(20)) {
		t.Fatal("text queries are not deterministic")
	}
	for name, set := range map[string][]float32{"base": a, "image": g.ImageQueries(50), "text": g.TextQueries(50)} {
		for i := range len(set) / d {
			if n := math.Sqrt(dot32(set[i*d:(i+1)*d], set[i*d:(i+1)*d])); math.Abs(n-1) > 1e-5 {
				t.Fatalf("%s row %d has norm %v", name, i, n)
			}
		}
	}
	ks := g.Concepts(3)
	if len(ks) < 2 || len(ks) > 4 {
		t.Errorf("image 3 has %d concepts, want 2–4", len(ks))
	}
}

// TestZipf checks that concept popularity is skewed: the most popular
// concept appears in far more images than a mid-vocabulary one.
func TestZipf(t *testing.T) {
	g := New(Config{Seed: 1})
	count := map[int]int{}
	for i := range 4000 {
		for _, k := range g.Concepts(i) {
			count[k]++
		}
	}
	// With exponent 1 over 4096 concepts, rank 0 has probability 1/H(4096)
	// ≈ 0.11 per draw, about 3 draws per image: ~1,300 of 4,000 images.
	if count[0] < 800 || count[0] > 1800 {
		t.Errorf("concept 0 in %d of 4000 images, want ≈ 1300", count[0])
	}
	if count[0] < 20*count[99] {
		t.Errorf("concept 0 in %d images, concept 99 in %d: not Zipf-like", count[0], count[99])
	}
}

// TestCosineRanges pins the figures of the package comment.
func TestCosineRanges(t *testing.T) {
	const d = 512
	n := *baseN
	g := New(Config{Seed: 1})
	base := g.Base(n)
	img, txt := g.ImageQueries(200), g.TextQueries(200)
	check := func(what string, s stats, lo, hi float64) {
		t.Helper()
		t.Logf("%-28s mean %.3f, 5–95%% %.3f–%.3f", what, s.mean, s.p05, s.p95)
		if s.mean < lo || s.mean > hi {
			t.Errorf("%s: mean cosine %.3f, want %.2f–%.2f", what, s.mean, lo, hi)
		}
	}
	check("random image pairs", summarize(pairs(base, base, d)), 0.3, 0.5)
	check("image query → best image", summarize(best(base, img, d)), 0.6, 0.9)
	check("text query → best image", summarize(best(base, txt, d)), 0.25, 0.35)
	check("text query → random image", summarize(pairs(txt, base, d)), 0.05, 0.22)
	check("random text pairs", summarize(pairs(txt, txt, d)), 0.5, 0.85)
}

func BenchmarkBase(b *testing.B) {
	g := New(Config{Seed: 1})
	b.ReportAllocs()
	for b.Loop() {
		g.Base(10000)
	}
}
