package synth

import (
	"math"
	"slices"
	"testing"

	"github.com/laiondb/laiondb/vector"
)

// stats summarises cosine similarities of a sample.
type stats struct{ mean, p05, p95 float64 }

func summarize(xs []float64) stats {
	slices.Sort(xs)
	var s float64
	for _, x := range xs {
		s += x
	}
	return stats{s / float64(len(xs)), xs[len(xs)*5/100], xs[len(xs)*95/100]}
}

// top1 returns, for each query, its best inner product with any base row.
func top1(base, q []float32, d int) []float64 {
	out := make([]float64, len(q)/d)
	for i := range out {
		best := float32(-2)
		for j := 0; j < len(base)/d; j++ {
			best = max(best, vector.Dot(q[i*d:(i+1)*d], base[j*d:(j+1)*d]))
		}
		out[i] = float64(best)
	}
	return out
}

func TestUnitNormAndDeterministic(t *testing.T) {
	g := New(Config{Seed: 7, N: 2000})
	a := g.Base(2000)
	b := New(Config{Seed: 7, N: 2000}).Base(2000)
	if !slices.Equal(a, b) {
		t.Fatal("same seed gave different vectors")
	}
	c := New(Config{Seed: 8, N: 2000}).Base(2000)
	if slices.Equal(a, c) {
		t.Fatal("different seeds gave equal vectors")
	}
	// Prefix property: rows do not depend on n.
	if !slices.Equal(a[:100*512], g.Base(100)) {
		t.Fatal("Base(100) is not a prefix of Base(2000)")
	}
	// BaseRowsAt picks rows of the same set, in the order asked.
	ids := []int{1999, 0, 512, 513, 7}
	at := g.BaseRowsAt(ids)
	for i, id := range ids {
		if !slices.Equal(at[i*512:(i+1)*512], a[id*512:(id+1)*512]) {
			t.Fatalf("BaseRowsAt row %d is not Base's row %d", i, id)
		}
	}
	for _, set := range [][]float32{a, g.ImageQueries(50), g.TextQueries(50)} {
		for i := 0; i < len(set)/512; i++ {
			if n := vector.Norm(set[i*512 : (i+1)*512]); math.Abs(n-1) > 1e-5 {
				t.Fatalf("row %d norm %v", i, n)
			}
		}
	}
}

func TestCosineRanges(t *testing.T) {
	const n, d = 5000, 512
	g := New(Config{Seed: 1, N: n})
	base := g.Base(n)
	// Random pairs.
	var pairs []float64
	for i := 0; i < 4000; i++ {
		a, b := (i*7919)%n, (i*104729+13)%n
		if a == b {
			continue
		}
		pairs = append(pairs, float64(vector.Dot(base[a*d:(a+1)*d], base[b*d:(b+1)*d])))
	}
	rp := summarize(pairs)
	t.Logf("random image pairs: mean %.3f p05 %.3f p95 %.3f", rp.mean, rp.p05, rp.p95)
	if rp.mean < 0.3 || rp.mean > 0.5 {
		t.Errorf("random-pair mean cosine %.3f, want 0.3–0.5", rp.mean)
	}
	img := summarize(top1(base, g.ImageQueries(100), d))
	t.Logf("image query top-1: mean %.3f p05 %.3f p95 %.3f", img.mean, img.p05, img.p95)
	if img.mean < 0.6 || img.mean > 0.95 {
		t.Errorf("image query top-1 mean %.3f, want 0.6–0.95", img.mean)
	}
	txt := summarize(top1(base, g.TextQueries(100), d))
	t.Logf("text query top-1: mean %.3f p05 %.3f p95 %.3f", txt.mean, txt.p05, txt.p95)
	if txt.mean < 0.22 || txt.mean > 0.38 {
		t.Errorf("text query top-1 mean %.3f, want ~0.3", txt.mean)
	}
	// Text queries sit in their own cone: close to each other, far from images.
	tq := g.TextQueries(200)
	var tt []float64
	for i := 1; i < 200; i++ {
		tt = append(tt, float64(vector.Dot(tq[(i-1)*d:i*d], tq[i*d:(i+1)*d])))
	}
	ts := summarize(tt)
	t.Logf("random text pairs: mean %.3f", ts.mean)
	if ts.mean < 0.4 {
		t.Errorf("text-text mean cosine %.3f, want a tight cone (>0.4)", ts.mean)
	}
}

func BenchmarkBase(b *testing.B) {
	g := New(Config{Seed: 1, N: 100000})
	b.ReportAllocs()
	for b.Loop() {
		g.Base(10000)
	}
}
