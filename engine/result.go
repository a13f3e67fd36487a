package engine

import (
	"encoding/json"
	"math"

	"github.com/laiondb/laiondb/vector"
)

// Result is the answer to a query: how it was computed, the contamination
// statistics of the selected rows and, when Options.Rows asks for them,
// the first rows themselves.
type Result struct {
	// Query is the canonical form of the query.
	Query string `json:"query"`
	// Plan is the printed plan, with the search method once run.
	Plan string `json:"plan"`
	// Fingerprint is the store's fingerprint.
	Fingerprint string `json:"fingerprint"`
	// Exact reports whether every number is exact (false only when the
	// vector search was approximate).
	Exact bool `json:"exact"`
	// TotalRows is the number of rows in the store.
	TotalRows int `json:"total_rows"`
	// RowsScanned counts rows whose predicate was evaluated by a scan.
	RowsScanned int `json:"rows_scanned"`
	// VectorsScanned counts vectors whose score was computed.
	VectorsScanned int `json:"vectors_scanned"`
	// Selected is the number of selected rows: the statistics describe them.
	Selected int `json:"selected"`
	// Search describes the knn or within search; nil for all (check
	// before use).
	Search *SearchStats `json:"search,omitempty"`
	// NSFW counts the values of the nsfw column; nil if the store has none
	// (clip-retrieval metadata and img2dataset output often have none):
	// read it with NSFW.All() or NSFW.Count(v), which handle nil.
	NSFW *LabelCounts `json:"nsfw,omitempty"`
	// By counts the values of the columns named by "by".
	By []*LabelCounts `json:"by,omitempty"`
	// Lexicons holds one entry per lexicon: essay2021 first, then the
	// lexicons of Options.Lexicons by name.
	Lexicons []*LexiconStats `json:"lexicons"`
	// Similarity is the distribution of the similarity column; nil if the
	// store has no numeric similarity column (check before use).
	Similarity *SimilarityStats `json:"similarity,omitempty"`
	// Files are the rates by source file asked for by "by file"; nil
	// otherwise.
	Files *FileRates `json:"files,omitempty"`
	// Sweep is the threshold sweep asked for by "sweep column at (...)";
	// nil otherwise.
	Sweep *SweepStats `json:"sweep,omitempty"`
	// Notes say why a statistic is missing that a reader may expect (a
	// similarity column of strings, say).
	Notes []string `json:"notes,omitempty"`
	// RowColumns are the columns each row shows when Options.Columns
	// names them, in that order.
	RowColumns []string `json:"row_columns,omitempty"`
	// Rows holds the first Options.Rows selected rows.
	Rows []ResultRow `json:"rows,omitempty"`

	// Selection is the set of selected rows.
	Selection *vector.Bitset `json:"-"`
	// Hits are the selected rows with their scores, best first, for knn
	// and within; nil for all.
	Hits []Hit `json:"-"`
	// Seeds, for a seed-set target (rows(file(...)), ids(file(...))),
	// holds for each of Hits the seed rows whose search reached it,
	// ascending; nil otherwise.
	Seeds [][]uint32 `json:"-"`
}

// SearchStats describes the vector search of a knn or within query.
type SearchStats struct {
	Kind      string  `json:"kind"` // "knn" or "within"
	K         int     `json:"k,omitempty"`
	Threshold float64 `json:"threshold,omitempty"`
	// Returned is the number of rows the search returned (before limit and
	// post where).
	Returned int `json:"returned"`
	// ScoreMin and ScoreMax are the score range of the selected rows.
	ScoreMin float32 `json:"score_min"`
	ScoreMax float32 `json:"score_max"`
	Method   string  `json:"method"`
	Exact    bool    `json:"exact"`
	// Seeds is the number of seed rows of a seed-set target, each
	// searched on its own; 0 otherwise.
	Seeds int `json:"seeds,omitempty"`
	// Dedup is the threshold of "dedup" (0 without), and Deduped the rows
	// it dropped as near-duplicates of a better row kept before them.
	Dedup   float64 `json:"dedup,omitempty"`
	Deduped int     `json:"deduped,omitempty"`
	// NearThreshold counts, for within, the rows whose cosine lies within
	// ScoreTolerance of the threshold, on either side: float32 rounding
	// decides whether they are in.
	NearThreshold int `json:"near_threshold,omitempty"`
}

// Proportion is a count of selected rows with its share and the Wilson
// score 95% interval of the share.
type Proportion struct {
	Count int `json:"count"`
	// Of is the number of rows the share is of. When it is 0 the share
	// and its interval are undefined: they are 0 here (see Defined), null
	// in JSON, empty in CSV and "–" in the table.
	Of    int     `json:"of"`
	Share float64 `json:"share"`
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
}

// Defined reports whether the share and its interval are defined: the
// proportion is of at least one row.
func (p Proportion) Defined() bool { return p.Of > 0 }

// MarshalJSON writes an undefined share and interval as null.
func (p Proportion) MarshalJSON() ([]byte, error) {
	type plain struct {
		Count int      `json:"count"`
		Of    int      `json:"of"`
		Share *float64 `json:"share"`
		Lo    *float64 `json:"lo"`
		Hi    *float64 `json:"hi"`
	}
	out := plain{Count: p.Count, Of: p.Of}
	if p.Defined() {
		out.Share, out.Lo, out.Hi = &p.Share, &p.Lo, &p.Hi
	}
	return json.Marshal(out)
}

// ResultRow is one selected row. Pointer fields are nil for nulls and for
// columns the store lacks.
type ResultRow struct {
	Row      uint32   `json:"row"`
	File     string   `json:"file"`
	FileRow  int64    `json:"file_row"`
	Score    *float32 `json:"score,omitempty"`
	SampleID *int64   `json:"sample_id,omitempty"`
	NSFW     *string  `json:"nsfw,omitempty"`
	URL      *string  `json:"url,omitempty"`
	Text     *string  `json:"text,omitempty"`
	// Seeds, for a seed-set target, are the seed rows whose search
	// reached this row, ascending.
	Seeds []uint32 `json:"seeds,omitempty"`
	// Columns holds, when Options.Columns names them, those columns'
	// values as Python's str() gives them (nil for null), instead of
	// SampleID, NSFW, URL and Text.
	Columns map[string]*string `json:"columns,omitempty"`
}

// wilsonZ is the 97.5% quantile of the standard normal distribution.
const wilsonZ = 1.959963984540054

// NewProportion returns k of n with its Wilson score interval (95%).
func NewProportion(k, n int) Proportion {
	if n == 0 {
		return Proportion{Count: k}
	}
	p := float64(k) / float64(n)
	z2 := wilsonZ * wilsonZ
	nf := float64(n)
	den := 1 + z2/nf
	center := (p + z2/(2*nf)) / den
	half := wilsonZ * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / den
	return Proportion{Count: k, Of: n, Share: p, Lo: max(0, center-half), Hi: min(1, center+half)}
}
