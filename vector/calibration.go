package vector

import "math"

// Calibration is what calibrating an approximate index measured for one
// sample of queries and one k: the smallest search effort (ef for HNSW)
// whose recall against exact scans is good enough.
type Calibration struct {
	// K is the number of neighbours the recall is measured at.
	K int `json:"k"`
	// Queries is the number of sample queries.
	Queries int `json:"queries"`
	// Target is the recall@K the sample had to reach.
	Target float64 `json:"target"`
	// Ef is the smallest effort tried at which the index search reached
	// Target on the sample, or 0 if none did.
	Ef int `json:"ef"`
	// Below, when not 0, is the largest effort tried below Ef, at which
	// the sample did not reach Target: the calibration shows Ef is the
	// smallest to that resolution.
	Below int `json:"below,omitempty"`
	// Recall is the recall@K measured at Ef (at the largest effort tried when
	// Ef is 0): the mean over the queries of the share of each query's
	// true top K that the index search found.
	Recall float64 `json:"recall"`
	// Lower is a lower confidence bound of the recall of new queries like
	// the sample: Recall minus two standard errors of the per-query
	// recalls. Misses cluster in a few hard queries, so this is wider than
	// a bound that counts each neighbour as an independent trial. Ef is
	// the smallest effort whose Lower reaches Target.
	Lower float64 `json:"lower"`
	// Scored is the mean number of vectors a search scored at Ef (at the
	// largest effort tried when Ef is 0): the work the effort costs.
	Scored float64 `json:"scored,omitempty"`
	// CappedAt, when not 0, is the effort at which the calibration
	// stopped before reaching Target because a search there cost more than
	// the bound it was given (the exact scan's time, for filtered
	// searches): no larger effort is worth having. Ef is then 0.
	CappedAt int `json:"capped_at,omitempty"`
}

// RecallBound returns the mean of per-query recalls found[i]/want[i] over
// the queries with want[i] > 0, and its lower confidence bound as
// Calibration.Lower defines it (the mean minus two standard errors), both
// rounded to 6 decimals (beyond that the digits are noise, and the
// store's manifest shows them), and the number of queries counted.
func RecallBound(found, want []int) (mean, lower float64, asked int) {
	var sum, sum2 float64
	for i, f := range found {
		if want[i] <= 0 {
			continue
		}
		r := float64(f) / float64(want[i])
		sum += r
		sum2 += r * r
		asked++
	}
	if asked == 0 {
		return 0, 0, 0
	}
	n := float64(asked)
	mean = sum / n
	se := 0.0
	if asked > 1 {
		se = math.Sqrt(max(0, (sum2-n*mean*mean)/(n-1)) / n)
	}
	return math.Round(mean*1e6) / 1e6, math.Round((mean-2*se)*1e6) / 1e6, asked
}

// TopIDs returns the rows of the first k hits other than row skip (skip
// negative: none left out): a query's answer in a leave-one-out
// calibration, where the query is itself a row.
func TopIDs(hits []Hit, skip int64, k int) []uint32 {
	out := make([]uint32, 0, k)
	for _, h := range hits {
		if int64(h.ID) != skip && len(out) < k {
			out = append(out, h.ID)
		}
	}
	return out
}
