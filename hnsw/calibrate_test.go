package hnsw

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/laiondb/laiondb/vector"
)

// TestCalibrate checks that Calibrate returns the smallest ladder ef whose
// recall, recomputed here from scratch, reaches the target, and that the
// leave-one-out queries do not count themselves.
func TestCalibrate(t *testing.T) {
	const n, dim, k = 6000, 48, 10
	m := clipLike(n, dim, 21)
	ix, err := New(dim, &Options{Seed: 1, EfConstruction: 40, M: 6, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Add(context.Background(), m, nil, nil); err != nil {
		t.Fatal(err)
	}
	// recall returns the mean per-query recall and its lower bound (mean
	// minus two standard errors).
	recall := func(qs [][]float32, skip []int64, k, ef int) (float64, float64) {
		var rs []float64
		for i, q := range qs {
			sk := int64(-1)
			if skip != nil {
				sk = skip[i]
			}
			keep := func(hs []vector.Hit) map[uint32]bool {
				out := map[uint32]bool{}
				for _, h := range hs {
					if int64(h.ID) != sk && len(out) < k {
						out[h.ID] = true
					}
				}
				return out
			}
			e, _, _ := vector.Exact(context.Background(), m, q, k+1, nil)
			so := SearchOptions{Ef: ef, Planned: true}
			if sk >= 0 {
				so.skip, so.hasSkip = uint32(sk), true
			}
			r, err := ix.Search(context.Background(), q, k+1, &so)
			for _, h := range r.Hits {
				if sk >= 0 && int64(h.ID) == sk && r.Path == PathGraph {
					t.Fatalf("skipped row %d returned by the graph search", sk)
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			truth := keep(e)
			got := 0
			for id := range keep(r.Hits) {
				if truth[id] {
					got++
				}
			}
			rs = append(rs, float64(got)/float64(len(truth)))
		}
		var m, v float64
		for _, r := range rs {
			m += r
		}
		m /= float64(len(rs))
		for _, r := range rs {
			v += (r - m) * (r - m)
		}
		se := math.Sqrt(v / float64(len(rs)-1) / float64(len(rs)))
		return m, m - 2*se
	}
	held := clipLike(60, dim, 22)
	var qs [][]float32
	for i := 0; i < held.Len(); i++ {
		qs = append(qs, held.Row(i, nil))
	}
	var rows [][]float32
	var skip []int64
	for i := 0; i < 60; i++ {
		rows = append(rows, m.Row(i*97, nil))
		skip = append(skip, int64(i*97))
	}
	for _, tc := range []struct {
		name string
		qs   [][]float32
		skip []int64
	}{{"held-out", qs, nil}, {"leave-one-out", rows, skip}} {
		ks := []int{k, 3 * k}
		cs, err := ix.Calibrate(context.Background(), tc.qs, tc.skip, ks, 0.98, nil)
		if err != nil {
			t.Fatal(err)
		}
		for j, c := range cs {
			k := ks[j]
			if c.Ef == 0 || c.K != k || c.Queries != len(tc.qs) {
				t.Fatalf("%s: calibration %+v", tc.name, c)
			}
			if r, lb := recall(tc.qs, tc.skip, k, c.Ef); math.Abs(r-c.Recall) > 1e-6 || math.Abs(lb-c.Lower) > 1e-6 || lb < 0.98 {
				t.Errorf("%s k %d: recall at ef %d = %.4f (lower %.4f), calibration says %.4f (%.4f)", tc.name, k, c.Ef, r, lb, c.Recall, c.Lower)
			}
			// Below fell short, and the ef chosen is within an eighth of it
			// or a rung of the ladder with nothing tried below.
			if c.Below > 0 {
				if _, lb := recall(tc.qs, tc.skip, k, c.Below); lb >= 0.98 {
					t.Errorf("%s k %d: ef %d already reaches %.4f; calibration chose %d", tc.name, k, c.Below, lb, c.Ef)
				}
				if refineEf(c.Below, c.Ef) != 0 {
					t.Errorf("%s k %d: chose ef %d with %d below it, not refined", tc.name, k, c.Ef, c.Below)
				}
			} else if i := slices.Index(EfLadder, c.Ef); i < 0 || i > 0 && EfLadder[i-1] >= k {
				t.Errorf("%s k %d: ef %d with nothing tried below it", tc.name, k, c.Ef)
			}
			t.Logf("%s: %+v", tc.name, c)
		}
	}
	// Filtered: a tenth of the rows allowed, on a ladder that starts low;
	// the recall recomputed with the same allow-list matches.
	allow := vector.NewBitset(n)
	for i := 0; i < n; i += 10 {
		allow.Set(uint32(i))
	}
	ladder := []int{10, 16, 24, 32, 48, 64, 96, 128}
	fc, err := ix.Calibrate(context.Background(), qs, nil, []int{k}, 0.98, &CalibrateOptions{Allow: allow, Ladder: ladder})
	if err != nil || len(fc) != 1 {
		t.Fatalf("filtered calibration: %+v, %v", fc, err)
	}
	var got, want float64
	for _, q := range qs {
		e, _, _ := vector.Exact(context.Background(), m, q, k, allow)
		r, err := ix.Search(context.Background(), q, k+1, &SearchOptions{Ef: fc[0].Ef, Allow: allow, Planned: true})
		if err != nil {
			t.Fatal(err)
		}
		in := map[uint32]bool{}
		for _, h := range e {
			in[h.ID] = true
		}
		for _, h := range r.Hits[:min(k, len(r.Hits))] {
			if !allow.Contains(h.ID) {
				t.Fatalf("filtered search returned row %d", h.ID)
			}
			if in[h.ID] {
				got++
			}
		}
		want += float64(len(e))
	}
	if c := fc[0]; c.Ef == 0 || !slices.Contains(ladder, c.Ef) || math.Abs(got/want-c.Recall) > 1e-6 || c.Scored <= 0 {
		t.Errorf("filtered calibration %+v; recall recomputed %.6f", c, got/want)
	}
	// An unreachable target reports the best recall and no ef.
	cs, err := ix.Calibrate(context.Background(), qs[:5], nil, []int{k}, 1.01, nil)
	if err != nil || len(cs) != 1 || cs[0].Ef != 0 || cs[0].Recall <= 0 {
		t.Errorf("unreachable target: %+v, %v", cs, err)
	}
	if _, err := ix.Calibrate(context.Background(), qs, skip[:3], []int{k}, 0.9, nil); err == nil {
		t.Error("mismatched skip list accepted")
	}
	if _, err := ix.Calibrate(context.Background(), qs, nil, []int{0}, 0.9, nil); err == nil {
		t.Error("k = 0 accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ix.Calibrate(ctx, qs, nil, []int{k}, 0.9, nil); err == nil {
		t.Error("cancelled calibration returned no error")
	}
}

// TestRefineEf checks the efs tried between two rungs of the ladder.
func TestRefineEf(t *testing.T) {
	for _, c := range []struct{ below, ef, want int }{
		{128, 192, 160}, {128, 160, 144}, {144, 160, 0}, {128, 144, 0},
		{32, 48, 40}, {32, 40, 0}, {16, 24, 0}, {10, 16, 0},
		{192, 256, 224}, {192, 224, 208}, {4096, 6144, 5120},
	} {
		if got := refineEf(c.below, c.ef); got != c.want {
			t.Errorf("refineEf(%d, %d) = %d, want %d", c.below, c.ef, got, c.want)
		}
	}
}
