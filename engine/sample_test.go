package engine_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/vector"
)

func runQ(t *testing.T, s engine.Store, q string) *engine.Result {
	t.Helper()
	res, err := engine.Run(context.Background(), s, query.MustParse(q), nil)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return res
}

func rowsOf(b *vector.Bitset) []uint32 {
	var out []uint32
	b.ForEach(func(r uint32) bool { out = append(out, r); return true })
	return out
}

// TestSampleReproducibleAndSized: the same seed draws the same rows, another
// seed other rows; each file gives min(N, its rows), and by file reports
// those as the population.
func TestSampleReproducibleAndSized(t *testing.T) {
	s := enginetest.Generate(2500, 0, 1)
	s.FileRows = 1000 // files of 1000, 1000 and 500 rows
	a := runQ(t, s, `all sample 600 per file seed 7 by file`)
	b := runQ(t, s, `all sample 600 per file seed 7 by file`)
	c := runQ(t, s, `all sample 600 per file seed 8 by file`)
	if fmt.Sprint(rowsOf(a.Selection)) != fmt.Sprint(rowsOf(b.Selection)) {
		t.Fatal("the same seed drew different rows")
	}
	if fmt.Sprint(rowsOf(a.Selection)) == fmt.Sprint(rowsOf(c.Selection)) {
		t.Fatal("seeds 7 and 8 drew the same rows")
	}
	if a.Selected != 1700 || a.Files == nil || len(a.Files.Files) != 3 {
		t.Fatalf("selected %d, files %+v", a.Selected, a.Files)
	}
	for i, want := range []int{600, 600, 500} {
		f := a.Files.Files[i]
		lo := uint32(1000 * i)
		n := 0
		a.Selection.ForEach(func(r uint32) bool {
			if r >= lo && r < lo+uint32(f.Rows) {
				n++
			}
			return true
		})
		if f.Rate.Of != want || f.Rate.Count != want || n != want || f.File != fmt.Sprintf("part-%05d.parquet", i) {
			t.Errorf("file %d: %+v, %d drawn; want %d", i, f, n, want)
		}
	}
	if p := a.Files.Pooled; p.Of != 1700 || p.Count != 1700 || p.Share != 1 {
		t.Errorf("pooled %+v", p)
	}
	whole := runQ(t, s, `all sample 600 seed 7`)
	if whole.Selected != 600 {
		t.Errorf("a store-wide sample of 600 holds %d rows", whole.Selected)
	}
}

// TestSampleUniform: over many seeds, every row is drawn equally often (a
// chi-square test of the inclusion counts), per file and store-wide.
func TestSampleUniform(t *testing.T) {
	s := enginetest.Generate(250, 0, 1)
	s.FileRows = 100 // files of 100, 100 and 50 rows
	const seeds = 1500
	for _, tc := range []struct {
		q    string
		n    int                 // rows a sample holds
		want func(r int) float64 // expected inclusions of row r
	}{
		{"all sample 10 per file seed %d", 30, func(r int) float64 {
			if r >= 200 {
				return seeds * 10.0 / 50
			}
			return seeds * 10.0 / 100
		}},
		{"all sample 25 seed %d", 25, func(int) float64 { return seeds * 25.0 / 250 }},
	} {
		counts := make([]int, 250)
		for sd := range seeds {
			res := runQ(t, s, fmt.Sprintf(tc.q, sd))
			if res.Selected != tc.n {
				t.Fatalf("%s: %d rows drawn, want %d", res.Query, res.Selected, tc.n)
			}
			res.Selection.ForEach(func(r uint32) bool {
				counts[r]++
				return true
			})
		}
		chi2 := 0.0
		for r, c := range counts {
			e := tc.want(r)
			chi2 += (float64(c) - e) * (float64(c) - e) / e
		}
		// 250 cells: the 99.9% point of chi-square with 249 degrees of
		// freedom is about 328 (and of 248, the store-wide case's, 327).
		if chi2 > 327 {
			t.Errorf("%s: chi-square %.1f over 250 rows: not uniform", tc.q, chi2)
		}
	}
}

// TestSampleThenWhere: where filters the sample; by file counts the
// selected rows of each file against the rows the sample drew there, or,
// without sample, against every row of the file.
func TestSampleThenWhere(t *testing.T) {
	s := enginetest.Generate(3000, 0, 2)
	s.FileRows = 700
	samp := runQ(t, s, `all sample 300 per file seed 1`)
	where := runQ(t, s, `all where nsfw = 'UNLIKELY'`)
	both := runQ(t, s, `all sample 300 per file seed 1 where nsfw = 'UNLIKELY' by file`)
	census := runQ(t, s, `all where nsfw = 'UNLIKELY' by file`)
	want := samp.Selection.Clone()
	want.And(where.Selection)
	if fmt.Sprint(rowsOf(both.Selection)) != fmt.Sprint(rowsOf(want)) || both.Selected != want.Count() {
		t.Fatalf("sample where: %d rows, want %d", both.Selected, want.Count())
	}
	if both.NSFW.Count("UNLIKELY") != both.Selected {
		t.Errorf("statistics not of the selection: %d UNLIKELY of %d", both.NSFW.Count("UNLIKELY"), both.Selected)
	}
	for _, tc := range []struct {
		res *engine.Result
		sel *vector.Bitset
		of  func(lo, hi uint32) int
	}{
		{both, want, func(lo, hi uint32) int { return min(300, int(hi-lo)) }},
		{census, where.Selection, func(lo, hi uint32) int { return int(hi - lo) }},
	} {
		if len(tc.res.Files.Files) != 5 {
			t.Fatalf("%d files, want 5", len(tc.res.Files.Files))
		}
		sum, of := 0, 0
		for i, f := range tc.res.Files.Files {
			lo, hi := uint32(700*i), min(uint32(700*(i+1)), 3000)
			n := 0
			for r := lo; r < hi; r++ {
				if tc.sel.Contains(r) {
					n++
				}
			}
			if f.Rows != int(hi-lo) || f.Rate.Of != tc.of(lo, hi) || f.Rate.Count != n {
				t.Errorf("%s: file %d %+v, want %d of %d", tc.res.Query, i, f, n, tc.of(lo, hi))
			}
			sum, of = sum+n, of+tc.of(lo, hi)
		}
		if p := tc.res.Files.Pooled; p.Count != sum || p.Of != of || p.Count != tc.res.Selected {
			t.Errorf("%s: pooled %+v, want %d of %d", tc.res.Query, p, sum, of)
		}
	}
}
