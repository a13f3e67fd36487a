package engine_test

import (
	"context"
	"math"
	"strconv"
	"testing"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/query"
)

// TestSweepBruteForce checks the threshold sweep against a row-by-row
// count: the generated similarity column holds NaN, nulls, 6016.0 and -2,
// and values on both sides of every threshold; a threshold equal to a
// stored value keeps that row.
func TestSweepBruteForce(t *testing.T) {
	s := enginetest.Generate(3000, 0, 5)
	s.BatchSize = 1000 // several batches, merged
	rows := readRows(s)
	at := []float64{0.26, 0.28, 0.3, 0.32, *rows[17].sim}
	for _, q := range []string{
		"all sweep similarity at (0.26, 0.28, 0.3, 0.32, " + strconv.FormatFloat(at[4], 'g', -1, 64) + ")",
		"all where text contains 'desi' sweep similarity at (0.26, 0.28, 0.3, 0.32, " + strconv.FormatFloat(at[4], 'g', -1, 64) + ")",
	} {
		pq, err := query.Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		res, err := engine.Run(context.Background(), s, pq, nil)
		if err != nil {
			t.Fatal(err)
		}
		sw := res.Sweep
		if sw == nil || sw.Column != "similarity" || sw.Lexicon != "essay2021" || len(sw.Thresholds) != len(at) {
			t.Fatalf("%s: sweep %+v", q, sw)
		}
		desiOnly := pq.Where != nil
		var selected, missing int
		for _, r := range rows {
			if desiOnly && !has(r.text, "desi") {
				continue
			}
			selected++
			if r.sim == nil || math.IsNaN(*r.sim) {
				missing++
			}
		}
		if sw.Rows != selected || sw.Missing != missing || res.Selected != selected {
			t.Errorf("%s: rows %d missing %d, want %d and %d", q, sw.Rows, sw.Missing, selected, missing)
		}
		for ti, th := range at {
			got := sw.Thresholds[ti]
			if got.Threshold != th {
				t.Errorf("threshold %d is %v, want %v", ti, got.Threshold, th)
			}
			var kept, dropped, keptF, droppedF int
			byKept, byDropped := map[string]int{}, map[string]int{}
			for _, r := range rows {
				if desiOnly && !has(r.text, "desi") || r.sim == nil || math.IsNaN(*r.sim) {
					continue
				}
				label := "<null>"
				if r.nsfw != nil {
					label = *r.nsfw
				}
				fl := flagged(r.text, engine.Essay2021) || flagged(r.url, engine.Essay2021)
				if *r.sim >= th {
					kept++
					byKept[label]++
					if fl {
						keptF++
					}
				} else {
					dropped++
					byDropped[label]++
					if fl {
						droppedF++
					}
				}
			}
			if got.Kept != kept || got.Dropped != dropped || got.KeptFlagged != keptF || got.DroppedFlagged != droppedF {
				t.Errorf("%s at %v: kept %d dropped %d flagged %d/%d; want %d %d %d/%d", q, th,
					got.Kept, got.Dropped, got.KeptFlagged, got.DroppedFlagged, kept, dropped, keptF, droppedF)
			}
			if kept+dropped+missing != selected {
				t.Fatalf("brute force does not add up")
			}
			n := 0
			for _, l := range got.ByNSFW {
				label := l.NSFW
				if l.Null {
					label = "<null>"
				}
				if l.Kept != byKept[label] || l.Dropped != byDropped[label] {
					t.Errorf("%s at %v, nsfw %q: kept %d dropped %d, want %d %d", q, th, label, l.Kept, l.Dropped, byKept[label], byDropped[label])
				}
				n += l.Kept + l.Dropped
			}
			if n != kept+dropped {
				t.Errorf("%s at %v: by nsfw sums to %d, want %d", q, th, n, kept+dropped)
			}
		}
		if ti := 4; sw.Thresholds[ti].Kept == 0 {
			t.Errorf("the threshold equal to a stored value kept nothing")
		}
	}
}

func TestSweepErrors(t *testing.T) {
	s := enginetest.Generate(100, 0, 1)
	for _, q := range []string{"all sweep text", "all sweep nosuch"} {
		pq, err := query.Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := engine.Run(context.Background(), s, pq, nil); err == nil {
			t.Errorf("%s: no error", q)
		}
	}
}

// TestSweepAgreement plants released scores against recomputed ones: equal,
// within and beyond the tolerance, and invalid (null, NaN, 6016.0, -2), on
// rows with and without a pair_cos.
func TestSweepAgreement(t *testing.T) {
	const n = 600
	sim := make([]float64, n)
	simNull := make([]bool, n)
	pc := make([]float64, n)
	pcNull := make([]bool, n)
	var compared, differ, invalid int
	var firstInvalid []uint32
	maxDiff := 0.0
	for i := range n {
		pc[i] = 0.2 + float64(i%37)/300
		switch i % 10 {
		case 0:
			sim[i] = pc[i]
		case 1:
			sim[i] = pc[i] + 0.005
		case 2:
			sim[i] = pc[i] - 0.02
		case 3:
			simNull[i] = true
		case 4:
			sim[i] = math.NaN()
		case 5:
			sim[i] = 6016
		case 6:
			sim[i] = -2
		case 7:
			sim[i] = pc[i] + 0.3
		case 8:
			pcNull[i] = true
			sim[i] = 6016 // no pair_cos: not compared, not counted
		default:
			sim[i] = 0.31
		}
		if pcNull[i] {
			continue
		}
		x := sim[i]
		if simNull[i] || x != x || x > 1 || x < -1 {
			invalid++
			if len(firstInvalid) < 20 {
				firstInvalid = append(firstInvalid, uint32(i))
			}
			continue
		}
		compared++
		d := math.Abs(x - pc[i])
		maxDiff = max(maxDiff, d)
		if d > engine.AgreementTolerance {
			differ++
		}
	}
	s := enginetest.New(n).AddFloats("similarity", sim, simNull).AddFloats("pair_cos", pc, pcNull)
	s.BatchSize = 64
	pq, err := query.Parse("all sweep similarity at (0.3)")
	if err != nil {
		t.Fatal(err)
	}
	res, err := engine.Run(context.Background(), s, pq, nil)
	if err != nil {
		t.Fatal(err)
	}
	ag := res.Sweep.Agreement
	if ag == nil {
		t.Fatal("no agreement")
	}
	if ag.Compared != compared || ag.Differ != differ || ag.Invalid != invalid || ag.MaxDiff != maxDiff {
		t.Errorf("agreement %+v, want compared %d differ %d invalid %d max %v", *ag, compared, differ, invalid, maxDiff)
	}
	if len(ag.Examples) != 20 {
		t.Fatalf("%d examples", len(ag.Examples))
	}
	for i, x := range ag.Examples {
		if x.Row != firstInvalid[i] {
			t.Errorf("example %d is row %d, want %d", i, x.Row, firstInvalid[i])
		}
		if x.PairCos != pc[x.Row] {
			t.Errorf("row %d: pair_cos %v", x.Row, x.PairCos)
		}
	}
	if got := ag.Examples[1].Similarity; got != "NaN" {
		t.Errorf("row 4's similarity written %q", got)
	}
	// A sweep of another column, or a store without pair_cos, has none.
	for _, q := range []string{"all sweep pair_cos at (0.3)"} {
		pq, _ := query.Parse(q)
		res, err := engine.Run(context.Background(), s, pq, nil)
		if err != nil || res.Sweep.Agreement != nil {
			t.Errorf("%s: agreement %+v, %v", q, res.Sweep.Agreement, err)
		}
	}
}
