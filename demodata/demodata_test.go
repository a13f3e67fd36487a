package demodata

import (
	"math"
	"path/filepath"
	"testing"
)

// TestNearDups: the planted near-duplicates lie at the cosine they were
// made at (up to float16 rounding), to an earlier row, across parts.
func TestNearDups(t *testing.T) {
	cfg := Config{Seed: 3, Parts: 2, Rows: 500, Dim: 64, NoText: true, NearDups: 0.1}
	e, err := EmbeddingFolder(filepath.Join(t.TempDir(), "emb"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(e.NearDups); n < 60 || n > 140 {
		t.Fatalf("%d near-duplicates planted in 1000 rows at 0.1", n)
	}
	row := func(i int) []float32 {
		p, r := i/cfg.Rows, i%cfg.Rows
		return e.Image[p][r*cfg.Dim : (r+1)*cfg.Dim]
	}
	across := false
	for _, d := range e.NearDups {
		a, b := row(d.Row), row(d.Of)
		var ab, aa, bb float64
		for j := range a {
			ab += float64(a[j]) * float64(b[j])
			aa += float64(a[j]) * float64(a[j])
			bb += float64(b[j]) * float64(b[j])
		}
		if c := ab / math.Sqrt(aa*bb); d.Of >= d.Row || d.Cos < 0.95 || d.Cos > 1 || math.Abs(c-d.Cos) > 1e-3 {
			t.Errorf("row %d of %d: cosine %.5f, planted at %.5f", d.Row, d.Of, c, d.Cos)
		}
		across = across || d.Of/cfg.Rows != d.Row/cfg.Rows
	}
	if !across {
		t.Error("no near-duplicate of a row in another part")
	}
}
