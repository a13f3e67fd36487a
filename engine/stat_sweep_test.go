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
