package engine_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/query"
)

// TestDedup checks knn and within with dedup against a reference computed
// here in float64: rows ranked by cosine to the target, each dropped when
// its cosine with a row kept before it is at least t. The store holds
// clusters of near-copies around the target, so that the nearest 60 rows
// hold only a few distinct ones and knn must search deeper to keep K.
func TestDedup(t *testing.T) {
	const n, dim = 3000, 16
	s := enginetest.Generate(n, dim, 9)
	vecs := s.Vectors()
	rng := rand.New(rand.NewPCG(1, 2))
	q := make([]float32, dim)
	for j := range q {
		q[j] = float32(rng.NormFloat64())
	}
	// 12 clusters of 8 near-copies near q: cosine within a cluster
	// about 0.999, between clusters well below 0.94.
	for c := range 12 {
		base := make([]float32, dim)
		for j := range base {
			base[j] = q[j] + 0.6*float32(rng.NormFloat64())
		}
		for m := range 8 {
			r := 100 + 200*c + 7*m
			for j := range base {
				vecs[r][j] = base[j] + 0.01*float32(rng.NormFloat64())
			}
		}
	}
	s.SetVectors(vecs)
	s.SetText("target", q)
	type scored struct {
		r int
		c float64
	}
	ranked := make([]scored, 0, n)
	for r := range n {
		ranked = append(ranked, scored{r, cos64(q, vecs[r])})
	}
	sort.SliceStable(ranked, func(i, j int) bool { return ranked[i].c > ranked[j].c })
	// ref keeps rows of ranked with where allow, by the dedup rule, until
	// want are kept (want < 0: every row at or above min).
	ref := func(th float64, want int, min float64, allow func(int) bool) (kept []uint32, dropped int) {
		for _, sc := range ranked {
			if want >= 0 && len(kept) == want || want < 0 && sc.c < min {
				break
			}
			if !allow(sc.r) {
				continue
			}
			dup := slices.ContainsFunc(kept, func(k uint32) bool { return cos64(vecs[k], vecs[sc.r]) >= th })
			if dup {
				dropped++
				continue
			}
			kept = append(kept, uint32(sc.r))
		}
		return kept, dropped
	}
	all := func(int) bool { return true }
	nsfw := s.Column("nsfw")
	unlikely := func(r int) bool { return !nsfw.IsNull(r) && string(nsfw.Str.At(r)) == "UNLIKELY" }
	for _, tc := range []struct {
		q     string
		th    float64
		k     int
		min   float64
		allow func(int) bool
	}{
		{`knn('target', 20) dedup`, 0.94, 20, 0, all},
		{`knn('target', 20) dedup 0.5`, 0.5, 20, 0, all},
		{`knn('target', 3) dedup`, 0.94, 3, 0, all},
		{`knn('target', 20) dedup where nsfw = 'UNLIKELY'`, 0.94, 20, 0, unlikely},
		{`within('target', 0.6) dedup`, 0.94, -1, 0.6, all},
	} {
		res, err := engine.Run(context.Background(), s, query.MustParse(tc.q), nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.q, err)
		}
		want, dropped := ref(tc.th, tc.k, tc.min, tc.allow)
		var got []uint32
		for _, h := range res.Hits {
			got = append(got, h.Row)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", tc.q, got, want)
		}
		if res.Search.Deduped != dropped || res.Search.Dedup != tc.th || res.Search.Returned != len(want) {
			t.Errorf("%s: deduped %d (threshold %v), returned %d; want %d, %v, %d", tc.q, res.Search.Deduped, res.Search.Dedup, res.Search.Returned, dropped, tc.th, len(want))
		}
		if tc.k > 0 && dropped == 0 {
			t.Errorf("%s: the reference dropped nothing: the test's clusters are not near the target", tc.q)
		}
	}
	// Without dedup, the top 20 hold far fewer than 20 distinct rows.
	res, err := engine.Run(context.Background(), s, query.MustParse(`knn('target', 20)`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Hits[0].Row < 100 || math.Abs(float64(res.Hits[0].Score)-ranked[0].c) > engine.ScoreTolerance {
		t.Errorf("the nearest row %d is not a planted one", res.Hits[0].Row)
	}
}
