package engine_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/query"
)

// writeSeeds writes a seed file and returns its path.
func writeSeeds(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "seeds.txt")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// cos64 is the cosine of a and b computed in float64.
func cos64(a, b []float32) float64 {
	var d, na, nb float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return d / math.Sqrt(na*nb)
}

// TestSeedExpansion checks knn and within over a seed set against a
// reference computed here in float64: each seed's K nearest rows among the
// rows other than the seeds (and satisfying where), merged, each candidate
// with the seeds that reached it and its best score.
func TestSeedExpansion(t *testing.T) {
	const n, dim = 600, 8
	s := enginetest.Generate(n, dim, 5)
	vecs := s.Vectors()
	seeds := []uint32{3, 17, 250, 599}
	// Positions: unsorted, repeated, with a CR and a blank line.
	rowsFile := writeSeeds(t, "250\r\n3\n\n17\n599\n3\n")
	// SAMPLE_IDs of the same rows (1000 + 3*row in the generated store).
	idsFile := writeSeeds(t, "1750\n1009\n1051\n2797\n")
	nsfw := s.Column("nsfw")
	isSeed := func(r int) bool { return slices.Contains(seeds, uint32(r)) }
	type ref struct {
		best  float64
		seeds []uint32
	}
	// expand is the reference answer: K > 0 for knn, else within t.
	expand := func(k int, th float64, allow func(int) bool) map[uint32]*ref {
		out := map[uint32]*ref{}
		for _, sd := range seeds {
			type cand struct {
				r int
				c float64
			}
			var cs []cand
			for r := range n {
				if isSeed(r) || !allow(r) {
					continue
				}
				c := cos64(vecs[sd], vecs[r])
				if k > 0 || c >= th {
					cs = append(cs, cand{r, c})
				}
			}
			sort.Slice(cs, func(i, j int) bool { return cs[i].c > cs[j].c })
			if k > 0 {
				cs = cs[:k]
			}
			for _, c := range cs {
				e := out[uint32(c.r)]
				if e == nil {
					e = &ref{best: -2}
					out[uint32(c.r)] = e
				}
				e.best = max(e.best, c.c)
				e.seeds = append(e.seeds, sd)
			}
		}
		return out
	}
	all := func(int) bool { return true }
	unlikely := func(r int) bool { return !nsfw.IsNull(r) && string(nsfw.Str.At(r)) == "UNLIKELY" }
	for _, tc := range []struct {
		q     string
		want  map[uint32]*ref
		limit int
	}{
		{`knn(rows(file('` + rowsFile + `')), 10)`, expand(10, 0, all), -1},
		{`knn(ids(file('` + idsFile + `')), 10)`, expand(10, 0, all), -1},
		{`knn(rows(file('` + rowsFile + `')), 7) where nsfw = 'UNLIKELY'`, expand(7, 0, unlikely), -1},
		{`within(rows(file('` + rowsFile + `')), 0.6)`, expand(0, 0.6, all), -1},
		{`knn(rows(file('` + rowsFile + `')), 10) limit 5`, expand(10, 0, all), 5},
	} {
		res, err := engine.Run(context.Background(), s, query.MustParse(tc.q), &engine.Options{Rows: engine.AllRows})
		if err != nil {
			t.Fatalf("%s: %v", tc.q, err)
		}
		if res.Search.Seeds != len(seeds) || res.Search.Returned != len(tc.want) {
			t.Errorf("%s: seeds %d returned %d, want %d and %d", tc.q, res.Search.Seeds, res.Search.Returned, len(seeds), len(tc.want))
		}
		want := len(tc.want)
		if tc.limit >= 0 {
			want = tc.limit
		}
		if res.Selected != want || len(res.Hits) != want || len(res.Seeds) != want || len(res.Rows) != want {
			t.Fatalf("%s: selected %d, hits %d, seeds %d, rows %d; want %d", tc.q, res.Selected, len(res.Hits), len(res.Seeds), len(res.Rows), want)
		}
		for i, h := range res.Hits {
			e := tc.want[h.Row]
			if e == nil {
				t.Fatalf("%s: row %d is not a neighbour of any seed", tc.q, h.Row)
			}
			if math.Abs(float64(h.Score)-e.best) > engine.ScoreTolerance {
				t.Errorf("%s: row %d score %v, want the best %v", tc.q, h.Row, h.Score, e.best)
			}
			if !slices.Equal(res.Seeds[i], e.seeds) || !slices.Equal(res.Rows[i].Seeds, e.seeds) || res.Rows[i].Row != h.Row {
				t.Errorf("%s: row %d reached by %v (row %v), want %v", tc.q, h.Row, res.Seeds[i], res.Rows[i].Seeds, e.seeds)
			}
			if i > 0 && (h.Score > res.Hits[i-1].Score || h.Score == res.Hits[i-1].Score && h.Row < res.Hits[i-1].Row) {
				t.Errorf("%s: hits out of order at %d", tc.q, i)
			}
		}
		if !strings.Contains(res.Plan, "seed rows") || !strings.Contains(res.Search.Method, "4 seed searches") {
			t.Errorf("%s: plan %q, method %q", tc.q, res.Plan, res.Search.Method)
		}
	}
}

// TestSeedErrors checks that a bad seed file is an error naming the file
// and line, never an answer from fewer seeds.
func TestSeedErrors(t *testing.T) {
	s := enginetest.Generate(100, 4, 1)
	for _, tc := range []struct{ target, body, want string }{
		{"rows", "", "holds no seeds"},
		{"rows", "\n\r\n", "holds no seeds"},
		{"rows", "1\nx2\n", `line 2: "x2" is not a row position`},
		{"rows", "1\n-3\n", `line 2: "-3" is not a row position`},
		{"rows", "5\n100\n", "line 2: row 100 is past the store's 100 rows"},
		{"ids", "1000\n1001\n1003\n7\n", "line 2: no row has SAMPLE_ID 1001 (2 of the 4 seeds match no row)"},
		{"ids", "1000\n1e3\n", `line 2: "1e3" is not a SAMPLE_ID`},
	} {
		q := `knn(` + tc.target + `(file('` + writeSeeds(t, tc.body) + `')), 5)`
		_, err := engine.Run(context.Background(), s, query.MustParse(q), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "seeds.txt") {
			t.Errorf("%s with %q: error %v, want %q", tc.target, tc.body, err, tc.want)
		}
	}
	q := `knn(rows(file('` + filepath.Join(t.TempDir(), "none.txt") + `')), 5)`
	if _, err := engine.Run(context.Background(), s, query.MustParse(q), nil); err == nil || !strings.Contains(err.Error(), "none.txt") {
		t.Errorf("missing file: %v", err)
	}
	// A seed without a vector in the space searched.
	noText := enginetest.Generate(10, 4, 1)
	q = `knn(rows(file('` + writeSeeds(t, "1\n") + `')).text, 5)`
	if _, err := engine.Run(context.Background(), noText, query.MustParse(q), nil); err == nil || !strings.Contains(err.Error(), "seed row 1") {
		t.Errorf("seed without a text vector: %v", err)
	}
}
