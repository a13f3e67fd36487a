package engine

import (
	"bytes"
	"math"
	"slices"
	"sort"

	"github.com/laiondb/laiondb/table"
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
	// Search describes the knn or within search; nil for all.
	Search *SearchStats `json:"search,omitempty"`
	// NSFW counts the values of the nsfw column; nil if the store has none.
	NSFW *LabelCounts `json:"nsfw,omitempty"`
	// By counts the values of the columns named by "by".
	By []*LabelCounts `json:"by,omitempty"`
	// Lexicons holds one entry per lexicon: essay2021 first, then the
	// lexicons of Options.Lexicons by name.
	Lexicons []*LexiconStats `json:"lexicons"`
	// Similarity is the distribution of the similarity column; nil if the
	// store has no numeric similarity column.
	Similarity *SimilarityStats `json:"similarity,omitempty"`
	// Rows holds the first Options.Rows selected rows.
	Rows []ResultRow `json:"rows,omitempty"`

	// Selection is the set of selected rows.
	Selection *vector.Bitset `json:"-"`
	// Hits are the selected rows with their scores, best first, for knn
	// and within; nil for all.
	Hits []Hit `json:"-"`
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
	// NearThreshold counts, for within, the rows whose cosine lies within
	// ScoreTolerance of the threshold, on either side: float32 rounding
	// decides whether they are in.
	NearThreshold int `json:"near_threshold,omitempty"`
}

// LabelCounts counts the values of one column among the selected rows,
// most frequent first (ties by value), null last.
type LabelCounts struct {
	Column string       `json:"column"`
	Values []LabelCount `json:"values"`
}

// LabelCount is one value of a LabelCounts.
type LabelCount struct {
	Value string  `json:"value"`
	Null  bool    `json:"null,omitempty"`
	Count int     `json:"count"`
	Share float64 `json:"share"`
}

// Proportion is a count of selected rows with its share and the Wilson
// score 95% interval of the share.
type Proportion struct {
	Count int     `json:"count"`
	Share float64 `json:"share"`
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
}

// LexiconStats is what a lexicon flags among the selected rows.
type LexiconStats struct {
	Name     string   `json:"name"`
	Keywords []string `json:"keywords"`
	// Text and URL are nil when the store lacks the column.
	Text   *Proportion `json:"text,omitempty"`
	URL    *Proportion `json:"url,omitempty"`
	Either Proportion  `json:"either"`
	// PerKeyword counts rows flagged by each keyword, in lexicon order.
	PerKeyword []KeywordCount `json:"per_keyword"`
	// ByNSFW is the cross-tab nsfw value × flagged (in text or url), in
	// the order of Result.NSFW.
	ByNSFW []CrossTab `json:"by_nsfw,omitempty"`
}

// KeywordCount counts the rows whose text, url, or either contains a keyword.
type KeywordCount struct {
	Keyword string `json:"keyword"`
	Text    int    `json:"text"`
	URL     int    `json:"url"`
	Either  int    `json:"either"`
}

// CrossTab is one row of a lexicon × nsfw cross-tab.
type CrossTab struct {
	NSFW    string  `json:"nsfw"`
	Null    bool    `json:"null,omitempty"`
	Rows    int     `json:"rows"`
	Flagged int     `json:"flagged"`
	Share   float64 `json:"share"` // Flagged / Rows
}

// SimilarityStats is the distribution of the similarity column among the
// selected rows. Quartiles use linear interpolation (numpy's default).
// Invalid values (null, NaN, > 1, < -1) are counted apart and never enter
// the other figures.
type SimilarityStats struct {
	Valid       int     `json:"valid"`
	Min         float64 `json:"min"`
	Q1          float64 `json:"q1"`
	Median      float64 `json:"median"`
	Q3          float64 `json:"q3"`
	Max         float64 `json:"max"`
	Below03     int     `json:"below_0_3"`
	Invalid     int     `json:"invalid"`
	Null        int     `json:"null"`
	NaN         int     `json:"nan"`
	Above1      int     `json:"above_1"`
	BelowMinus1 int     `json:"below_minus_1"`
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
}

// wilsonZ is the 97.5% quantile of the standard normal distribution.
const wilsonZ = 1.959963984540054

// newProportion returns k of n with its Wilson score interval.
func newProportion(k, n int) Proportion {
	if n == 0 {
		return Proportion{Count: k}
	}
	p := float64(k) / float64(n)
	z2 := wilsonZ * wilsonZ
	nf := float64(n)
	den := 1 + z2/nf
	center := (p + z2/(2*nf)) / den
	half := wilsonZ * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / den
	return Proportion{Count: k, Share: p, Lo: max(0, center-half), Hi: min(1, center+half)}
}

// quantile returns the p-quantile of sorted xs by linear interpolation.
func quantile(xs []float64, p float64) float64 {
	h := float64(len(xs)-1) * p
	lo := int(math.Floor(h))
	if lo+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	return xs[lo] + (h-float64(lo))*(xs[lo+1]-xs[lo])
}

// statCols names the columns the statistics read ("" when absent).
type statCols struct {
	nsfw, text, url, sim string
	by                   []string
	lexicons             []*lexicon
}

// names lists the columns to fetch.
func (sc *statCols) names() []string {
	var out []string
	for _, c := range []string{sc.nsfw, sc.text, sc.url, sc.sim} {
		if c != "" {
			out = append(out, c)
		}
	}
	return append(out, sc.by...)
}

// labelAcc counts the values of one column.
type labelAcc struct {
	idx         map[string]int
	keys        []string
	counts      []int
	flagged     [][]int // [value][lexicon], nsfw only
	null        int
	nullFlagged []int
	nlex        int
	buf         []byte
}

func newLabelAcc(nlex int) *labelAcc {
	return &labelAcc{idx: map[string]int{}, nlex: nlex, nullFlagged: make([]int, nlex)}
}

func (la *labelAcc) id(v []byte) int {
	k, ok := la.idx[string(v)]
	if !ok {
		k = len(la.keys)
		la.idx[string(v)] = k
		la.keys = append(la.keys, string(v))
		la.counts = append(la.counts, 0)
		if la.nlex > 0 {
			la.flagged = append(la.flagged, make([]int, la.nlex))
		}
	}
	return k
}

// value returns batch row i of c as bytes (Python's str() for non-strings).
func (la *labelAcc) value(c *table.Column, i int) []byte {
	if c.Type == table.TypeString {
		return c.Str.At(i)
	}
	la.buf = appendPyStr(la.buf[:0], c, i)
	return la.buf
}

func (la *labelAcc) merge(o *labelAcc) {
	for k, key := range o.keys {
		j := la.id([]byte(key))
		la.counts[j] += o.counts[k]
		for l := range la.nlex {
			la.flagged[j][l] += o.flagged[k][l]
		}
	}
	la.null += o.null
	for l := range la.nlex {
		la.nullFlagged[l] += o.nullFlagged[l]
	}
}

// order returns value ids most frequent first, ties by value.
func (la *labelAcc) order() []int {
	ids := make([]int, len(la.keys))
	for i := range ids {
		ids[i] = i
	}
	sort.Slice(ids, func(a, b int) bool {
		ca, cb := la.counts[ids[a]], la.counts[ids[b]]
		if ca != cb {
			return ca > cb
		}
		return la.keys[ids[a]] < la.keys[ids[b]]
	})
	return ids
}

func (la *labelAcc) counts2(col string, n int) *LabelCounts {
	lc := &LabelCounts{Column: col, Values: []LabelCount{}}
	share := func(k int) float64 {
		if n == 0 {
			return 0
		}
		return float64(k) / float64(n)
	}
	for _, id := range la.order() {
		lc.Values = append(lc.Values, LabelCount{Value: la.keys[id], Count: la.counts[id], Share: share(la.counts[id])})
	}
	if la.null > 0 {
		lc.Values = append(lc.Values, LabelCount{Null: true, Count: la.null, Share: share(la.null)})
	}
	return lc
}

// kwAcc counts one keyword's rows.
type kwAcc struct{ text, url, either int }

// lexAcc counts one lexicon's rows.
type lexAcc struct {
	text, url, either int
	kw                []kwAcc
}

// simAcc collects the similarity column.
type simAcc struct {
	vals                          []float64
	null, nan, above, below, lo03 int
}

// acc accumulates the statistics of one goroutine.
type acc struct {
	sc     *statCols
	sel    int
	nsfw   *labelAcc
	by     []*labelAcc
	lex    []lexAcc
	sim    simAcc
	sparse [2]sparseRows
}

// sparseRows holds lowered values of a few selected rows of a batch.
type sparseRows struct {
	idx  []int
	off  []int
	buf  []byte
	vals [][]byte
}

func newAcc(sc *statCols) *acc {
	a := &acc{sc: sc}
	nlex := len(sc.lexicons)
	if sc.nsfw != "" {
		a.nsfw = newLabelAcc(nlex)
	}
	for range sc.by {
		a.by = append(a.by, newLabelAcc(0))
	}
	a.lex = make([]lexAcc, nlex)
	for l, lx := range sc.lexicons {
		a.lex[l].kw = make([]kwAcc, len(lx.keywords))
	}
	return a
}

// add accumulates the rows of the current batch of ec that are in sel.
func (a *acc) add(ec *evalCtx, sel []uint64) {
	nsel := popcount(sel)
	if nsel == 0 {
		return
	}
	a.sel += nsel
	sp0 := ec.sp
	defer func() { ec.sp = sp0 }() // release the scratch bitsets pushed below
	b := ec.b
	sc := a.sc
	dense := nsel*2 >= ec.n // else lower and test the selected rows one by one

	// Lexicons: flagged bits per lexicon (either field), for the cross-tab.
	fields := [2]string{sc.text, sc.url}
	var valid [2][]uint64
	for f, name := range fields {
		if name == "" {
			continue
		}
		valid[f] = ec.push()
		ec.valid(b.Cols[name], valid[f])
		andInto(valid[f], sel)
		if !dense {
			a.lowerSparse(ec, f, name, valid[f])
		}
	}
	flagged := make([][]uint64, len(sc.lexicons))
	for l, lx := range sc.lexicons {
		var fb [2][]uint64
		for f := range fields {
			if valid[f] != nil {
				fb[f] = ec.push()
			}
		}
		kb := [2][]uint64{ec.push(), ec.push()}
		either := ec.push()
		for k, nd := range lx.lowered {
			for f, name := range fields {
				clear(kb[f])
				if valid[f] == nil {
					continue
				}
				if dense {
					searchAll(ec.lowered(name), ec.n, nd, false, kb[f])
					andInto(kb[f], valid[f])
				} else {
					sp := &a.sparse[f]
					for j, v := range sp.vals {
						if bytes.Contains(v, nd) {
							setBit(kb[f], sp.idx[j])
						}
					}
				}
				orInto(fb[f], kb[f])
			}
			kw := &a.lex[l].kw[k]
			kw.text += popcount(kb[0])
			kw.url += popcount(kb[1])
			orInto(kb[0], kb[1])
			kw.either += popcount(kb[0])
		}
		for f := range fields {
			if fb[f] != nil {
				orInto(either, fb[f])
			}
		}
		if fb[0] != nil {
			a.lex[l].text += popcount(fb[0])
		}
		if fb[1] != nil {
			a.lex[l].url += popcount(fb[1])
		}
		a.lex[l].either += popcount(either)
		flagged[l] = either
	}

	if a.nsfw != nil {
		c := b.Cols[sc.nsfw]
		la := a.nsfw
		forEachBit(sel, func(i int) {
			if c == nil || c.Missing(i) {
				la.null++
				for l := range flagged {
					if hasBit(flagged[l], i) {
						la.nullFlagged[l]++
					}
				}
				return
			}
			id := la.id(la.value(c, i))
			la.counts[id]++
			for l := range flagged {
				if hasBit(flagged[l], i) {
					la.flagged[id][l]++
				}
			}
		})
	}
	for k, name := range sc.by {
		c := b.Cols[name]
		la := a.by[k]
		forEachBit(sel, func(i int) {
			if c == nil || c.Missing(i) {
				la.null++
				return
			}
			la.counts[la.id(la.value(c, i))]++
		})
	}
	if sc.sim != "" {
		c := b.Cols[sc.sim]
		s := &a.sim
		forEachBit(sel, func(i int) {
			if c == nil || c.IsNull(i) {
				s.null++
				return
			}
			var x float64
			if c.Type == table.TypeInt {
				x = float64(c.Int[i])
			} else {
				x = c.Float[i]
			}
			switch {
			case x != x:
				s.nan++
			case x > 1:
				s.above++
			case x < -1:
				s.below++
			default:
				s.vals = append(s.vals, x)
				if x < 0.3 {
					s.lo03++
				}
			}
		})
	}
}

// lowerSparse lowers the values of field f at the rows of sel.
func (a *acc) lowerSparse(ec *evalCtx, f int, name string, sel []uint64) {
	sp := &a.sparse[f]
	sp.idx, sp.off, sp.buf, sp.vals = sp.idx[:0], sp.off[:0], sp.buf[:0], sp.vals[:0]
	if lw := ec.low[name]; lw != nil {
		forEachBit(sel, func(i int) {
			sp.idx = append(sp.idx, i)
			sp.vals = append(sp.vals, lw.at(i))
		})
		return
	}
	s := ec.strings(name)
	forEachBit(sel, func(i int) {
		sp.idx = append(sp.idx, i)
		sp.off = append(sp.off, len(sp.buf))
		sp.buf = appendPyLower(sp.buf, s.At(i))
	})
	sp.off = append(sp.off, len(sp.buf))
	for j := range sp.idx {
		sp.vals = append(sp.vals, sp.buf[sp.off[j]:sp.off[j+1]])
	}
}

func (a *acc) merge(o *acc) {
	a.sel += o.sel
	if a.nsfw != nil {
		a.nsfw.merge(o.nsfw)
	}
	for k := range a.by {
		a.by[k].merge(o.by[k])
	}
	for l := range a.lex {
		x, y := &a.lex[l], &o.lex[l]
		x.text += y.text
		x.url += y.url
		x.either += y.either
		for k := range x.kw {
			x.kw[k].text += y.kw[k].text
			x.kw[k].url += y.kw[k].url
			x.kw[k].either += y.kw[k].either
		}
	}
	s, t := &a.sim, &o.sim
	s.vals = append(s.vals, t.vals...)
	s.null += t.null
	s.nan += t.nan
	s.above += t.above
	s.below += t.below
	s.lo03 += t.lo03
}

// fill writes the statistics into r.
func (a *acc) fill(r *Result) {
	sc := a.sc
	n := a.sel
	r.Selected = n
	if a.nsfw != nil {
		r.NSFW = a.nsfw.counts2(sc.nsfw, n)
	}
	for k, name := range sc.by {
		r.By = append(r.By, a.by[k].counts2(name, n))
	}
	r.Lexicons = []*LexiconStats{}
	for l, lx := range sc.lexicons {
		la := &a.lex[l]
		ls := &LexiconStats{Name: lx.name, Keywords: lx.keywords, Either: newProportion(la.either, n), PerKeyword: []KeywordCount{}}
		if sc.text != "" {
			p := newProportion(la.text, n)
			ls.Text = &p
		}
		if sc.url != "" {
			p := newProportion(la.url, n)
			ls.URL = &p
		}
		for k, kw := range lx.keywords {
			c := la.kw[k]
			ls.PerKeyword = append(ls.PerKeyword, KeywordCount{Keyword: kw, Text: c.text, URL: c.url, Either: c.either})
		}
		if a.nsfw != nil {
			ratio := func(k, n int) float64 {
				if n == 0 {
					return 0
				}
				return float64(k) / float64(n)
			}
			for _, id := range a.nsfw.order() {
				rows, fl := a.nsfw.counts[id], a.nsfw.flagged[id][l]
				ls.ByNSFW = append(ls.ByNSFW, CrossTab{NSFW: a.nsfw.keys[id], Rows: rows, Flagged: fl, Share: ratio(fl, rows)})
			}
			if a.nsfw.null > 0 {
				rows, fl := a.nsfw.null, a.nsfw.nullFlagged[l]
				ls.ByNSFW = append(ls.ByNSFW, CrossTab{Null: true, Rows: rows, Flagged: fl, Share: ratio(fl, rows)})
			}
		}
		r.Lexicons = append(r.Lexicons, ls)
	}
	if sc.sim != "" {
		s := &a.sim
		st := &SimilarityStats{Valid: len(s.vals), Below03: s.lo03, Null: s.null, NaN: s.nan,
			Above1: s.above, BelowMinus1: s.below, Invalid: s.null + s.nan + s.above + s.below}
		if len(s.vals) > 0 {
			slices.Sort(s.vals)
			st.Min, st.Max = s.vals[0], s.vals[len(s.vals)-1]
			st.Q1, st.Median, st.Q3 = quantile(s.vals, 0.25), quantile(s.vals, 0.5), quantile(s.vals, 0.75)
		}
		r.Similarity = st
	}
}
