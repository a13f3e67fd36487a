package ivf

import (
	"context"
	"testing"
)

// TestCalibrate: the NProbe calibration finds reaches the target on its
// sample (a search at it gives the recall it reports), a smaller ladder
// step did not, and a leave-one-out calibration over indexed rows never
// answers the query's own row.
func TestCalibrate(t *testing.T) {
	skipUnderRace(t)
	m, img, txt := testSet(t, 10000, 128, 100)
	ix := build(t, m, Config{Sub: 32, Seed: 1})
	ctx := context.Background()
	for _, set := range []struct {
		name string
		qs   [][]float32
	}{{"image", img}, {"text", txt}} {
		cs, err := ix.Calibrate(ctx, m, set.qs, nil, []int{1, 10}, 0.95, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			t.Logf("%s k %d: nprobe %d, recall %.4f (lower %.4f), %.0f codes read", set.name, c.K, c.Ef, c.Recall, c.Lower, c.Scored)
			if c.Ef == 0 || c.Lower < 0.95 || c.Recall < c.Lower {
				t.Fatalf("%s k %d: %+v", set.name, c.K, c)
			}
			sum := 0.0
			for _, q := range set.qs {
				res, err := ix.Search(ctx, q, c.K, Search{NProbe: c.Ef, Rerank: RerankFor(c.K, c.Ef)})
				if err != nil {
					t.Fatal(err)
				}
				sum += recall(t, m, q, c.K, nil, res.Hits)
			}
			if got := sum / float64(len(set.qs)); got < c.Recall-1e-6 || got > c.Recall+1e-6 {
				t.Errorf("%s k %d: searches at nprobe %d give recall %.6f, the calibration %.6f", set.name, c.K, c.Ef, got, c.Recall)
			}
		}
	}
	// Leave one out: rows of the index as queries.
	var qs [][]float32
	var skip []int64
	for i := 0; i < 50; i++ {
		r := i * 193
		q := make([]float32, m.Dim)
		unitRow(m, r, q)
		qs, skip = append(qs, q), append(skip, int64(r))
		res, err := ix.Search(ctx, q, 10, Search{NProbe: 8, Rerank: 100, Skip: uint32(r), HasSkip: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range res.Hits {
			if h.ID == uint32(r) {
				t.Fatalf("row %d skipped, and answered", r)
			}
		}
	}
	cs, err := ix.Calibrate(ctx, m, qs, skip, []int{10}, 0.9, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cs[0].Ef == 0 || cs[0].Lower < 0.9 {
		t.Fatalf("leave-one-out calibration: %+v", cs[0])
	}
	// A bound on a search's time stops the climb at the first nprobe
	// past it that falls short of the target, and says where; a target
	// reached there is kept.
	cs, err = ix.Calibrate(ctx, m, txt, nil, []int{10}, 0.999, &CalibrateOptions{MaxNs: 1, Ladder: []int{1, 2, 4}})
	if err != nil {
		t.Fatal(err)
	}
	if c := cs[0]; c.CappedAt != 1 || c.Ef != 0 {
		t.Errorf("bound of 1 ns: %+v", c)
	}
	cs, err = ix.Calibrate(ctx, m, txt, nil, []int{10}, 0.5, &CalibrateOptions{MaxNs: 1, Ladder: []int{64}})
	if err != nil {
		t.Fatal(err)
	}
	if c := cs[0]; c.CappedAt != 0 || c.Ef != 64 {
		t.Errorf("target reached past the bound: %+v", c)
	}
}
