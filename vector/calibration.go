package vector

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
	// Ef is the smallest effort of the ladder tried at which the index search
	// reached Target on the sample, or 0 if none did.
	Ef int `json:"ef"`
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
}
