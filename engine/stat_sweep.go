package engine

import (
	"math"
	"slices"
	"strconv"

	"github.com/laiondb/laiondb/table"
)

// The threshold sweep (Result.Sweep) of "sweep column at (t, ...)": for
// each threshold t, the selected rows a filter column >= t keeps and
// drops, by NSFW label and by whether the built-in lexicon flags them. It
// answers the question the 2021 essay raised about LAION's 0.3 cut: how
// much of a selection sits near the cut, and what moving it does to the
// labels.

func init() {
	register(40, func(s *schema) []statistic {
		sw := s.sweep
		if sw == nil {
			return nil
		}
		cols := []string{sw.col}
		if s.has("nsfw") != "" {
			cols = append(cols, "nsfw")
		}
		agree := ""
		if sw.col == "similarity" {
			if t, ok := s.cols[recomputedColumn]; ok && t == table.TypeFloat {
				agree = recomputedColumn
				cols = append(cols, agree)
			}
		}
		if sw.flag != nil {
			for _, c := range sw.flag.cols {
				if !slices.Contains(cols, c) {
					cols = append(cols, c)
				}
			}
		}
		return []statistic{{desc: "sweep " + sw.col, cols: cols, new: func() stat {
			return &sweepStats{spec: sw, nsfw: s.has("nsfw"), agree: agree, rows: make([]sweepCounts, len(sw.at))}
		}}}
	})
}

// sweepSpec is a resolved sweep clause.
type sweepSpec struct {
	col  string
	at   []float64
	flag *compiled // any lexicon essay2021; nil when the store has neither text nor url
}

// SweepStats is the threshold sweep of a column over the selected rows.
type SweepStats struct {
	Column string `json:"column"`
	// Lexicon names the lexicon whose flagged rows are counted (in text
	// or url); empty when the store has neither column.
	Lexicon string `json:"lexicon,omitempty"`
	// Rows is the number of selected rows.
	Rows int `json:"rows"`
	// Missing counts selected rows whose value is null or NaN: a cut
	// neither keeps nor drops them (LAION's filters dropped them).
	Missing int `json:"missing"`
	// Thresholds has one entry per threshold, in the order of the query.
	Thresholds []SweepRow `json:"thresholds"`
	// Agreement compares the released similarity with pair_cos, the
	// cosine recomputed from the stored embeddings, when the sweep is over
	// similarity and the store has both embeddings.
	Agreement *Agreement `json:"agreement,omitempty"`
}

// recomputedColumn is the column holding the recomputed image-text cosine
// (db.PairCosColumn).
const recomputedColumn = "pair_cos"

// AgreementTolerance is the difference between the released similarity and
// the recomputed cosine above which Agreement counts a row as differing.
const AgreementTolerance = 0.01

// Agreement compares the released similarity of the selected rows with the
// cosine of their stored image and text embeddings (pair_cos).
type Agreement struct {
	// Compared counts rows with a valid similarity (a number in [-1, 1])
	// and a pair_cos; Differ those among them whose two values differ by
	// more than AgreementTolerance; MaxDiff is the largest difference.
	Compared int     `json:"compared"`
	Differ   int     `json:"differ"`
	MaxDiff  float64 `json:"max_diff"`
	// Invalid counts rows with a pair_cos whose similarity is null, NaN,
	// above 1 or below -1 (LAION-400M's 6016.0); Examples lists the first
	// of them in store order, with the recomputed cosine.
	Invalid  int            `json:"invalid"`
	Examples []InvalidScore `json:"examples,omitempty"`
}

// InvalidScore is a row whose released similarity is not a cosine.
type InvalidScore struct {
	Row uint32 `json:"row"`
	// Similarity is the released value in Go's shortest form ("6016",
	// "NaN", "-2"), or "null".
	Similarity string  `json:"similarity"`
	PairCos    float64 `json:"pair_cos"`
}

// maxExamples is the number of invalid scores Agreement lists.
const maxExamples = 20

// SweepRow is what a cut at column >= Threshold does to the selection.
type SweepRow struct {
	Threshold float64 `json:"threshold"`
	Kept      int     `json:"kept"`
	Dropped   int     `json:"dropped"`
	// KeptFlagged and DroppedFlagged are the kept and dropped rows the
	// lexicon flags.
	KeptFlagged    int `json:"kept_flagged"`
	DroppedFlagged int `json:"dropped_flagged"`
	// ByNSFW splits the kept and dropped rows by NSFW value (nil without
	// an nsfw column), most frequent value in the selection first, null
	// last.
	ByNSFW []SweepLabel `json:"by_nsfw,omitempty"`
}

// SweepLabel counts the kept and dropped rows of one NSFW value.
type SweepLabel struct {
	NSFW    string `json:"nsfw"`
	Null    bool   `json:"null,omitempty"`
	Kept    int    `json:"kept"`
	Dropped int    `json:"dropped"`
}

// sweepCounts are the counts of one threshold.
type sweepCounts struct {
	kept, dropped               int
	keptFlagged, droppedFlagged int
	// per nsfw value id of sweepStats.labels: kept and dropped
	keptBy, droppedBy     []int
	keptNull, droppedNull int
}

// sweepStats accumulates a sweep.
type sweepStats struct {
	spec    *sweepSpec
	nsfw    string
	agree   string // the pair_cos column, or ""
	ag      Agreement
	n       int
	missing int
	labels  counter // nsfw values of the selected rows with a value to cut
	rows    []sweepCounts
}

func (a *sweepStats) Add(s *selection) {
	ec := s.ec
	b := ec.b
	a.n += s.count
	c := b.Cols[a.spec.col]
	var flagged []uint64
	if a.spec.flag != nil {
		sp0 := ec.sp
		defer func() { ec.sp = sp0 }()
		flagged = ec.push()
		f := ec.push()
		a.spec.flag.p.eval(ec, flagged, f)
	}
	var nsfw *table.Column
	if a.nsfw != "" {
		nsfw = b.Cols[a.nsfw]
	}
	if a.agree != "" {
		a.addAgreement(b, c, b.Cols[a.agree], s.sel)
	}
	forEachBit(s.sel, func(i int) {
		if c == nil || c.Missing(i) {
			a.missing++
			return
		}
		x := number(c, i)
		label, null := -1, true
		if nsfw != nil && !nsfw.Missing(i) {
			label, null = a.labelID(nsfw, i), false
			a.labels.counts[label]++
		} else if a.nsfw != "" {
			a.labels.null++
		}
		flag := flagged != nil && flagged[i>>6]&(1<<(i&63)) != 0
		for t, th := range a.spec.at {
			r := &a.rows[t]
			keep := cmpIntFloatCut(c, i, x, th)
			switch {
			case keep:
				r.kept++
				if flag {
					r.keptFlagged++
				}
			default:
				r.dropped++
				if flag {
					r.droppedFlagged++
				}
			}
			if a.nsfw == "" {
				continue
			}
			if null {
				if keep {
					r.keptNull++
				} else {
					r.droppedNull++
				}
				continue
			}
			for len(r.keptBy) <= label {
				r.keptBy = append(r.keptBy, 0)
				r.droppedBy = append(r.droppedBy, 0)
			}
			if keep {
				r.keptBy[label]++
			} else {
				r.droppedBy[label]++
			}
		}
	})
}

// cmpIntFloatCut reports whether value i of c is at least th: exactly for
// int columns (as the where clause compares), x >= th for floats.
func cmpIntFloatCut(c *table.Column, i int, x, th float64) bool {
	if c.Type == table.TypeInt {
		r, _ := cmpIntFloat(c.Int[i], th)
		return r >= 0
	}
	return x >= th
}

// labelID returns the id of the label of value i of c (not missing).
func (a *sweepStats) labelID(c *table.Column, i int) int {
	if c.Type == table.TypeString {
		return a.labels.id(c.Str.At(i))
	}
	a.labels.buf = appendPyStr(a.labels.buf[:0], c, i)
	return a.labels.id(a.labels.buf)
}

// addAgreement compares similarity (sim) with pair_cos (pc) on the
// selected rows.
func (a *sweepStats) addAgreement(b *table.Batch, sim, pc *table.Column, sel []uint64) {
	if pc == nil {
		return
	}
	forEachBit(sel, func(i int) {
		if pc.Missing(i) {
			return
		}
		p := pc.Float[i]
		var x float64
		null := sim == nil || sim.IsNull(i)
		if !null {
			x = number(sim, i)
		}
		if null || x != x || x > 1 || x < -1 {
			a.ag.Invalid++
			ex := InvalidScore{Row: b.Row(i), PairCos: p, Similarity: "null"}
			if !null {
				ex.Similarity = strconv.FormatFloat(x, 'g', -1, 64)
			}
			a.ag.Examples = append(a.ag.Examples, ex)
			return
		}
		a.ag.Compared++
		d := math.Abs(x - p)
		a.ag.MaxDiff = max(a.ag.MaxDiff, d)
		if d > AgreementTolerance {
			a.ag.Differ++
		}
	})
	a.ag.Examples = firstExamples(a.ag.Examples)
}

// firstExamples keeps the maxExamples examples of lowest row.
func firstExamples(xs []InvalidScore) []InvalidScore {
	slices.SortFunc(xs, func(p, q InvalidScore) int { return int(int64(p.Row) - int64(q.Row)) })
	if len(xs) > maxExamples {
		xs = xs[:maxExamples]
	}
	return xs
}

func (a *sweepStats) Merge(o stat) {
	t := o.(*sweepStats)
	a.ag.Compared += t.ag.Compared
	a.ag.Differ += t.ag.Differ
	a.ag.MaxDiff = max(a.ag.MaxDiff, t.ag.MaxDiff)
	a.ag.Invalid += t.ag.Invalid
	a.ag.Examples = firstExamples(append(a.ag.Examples, t.ag.Examples...))
	a.n += t.n
	a.missing += t.missing
	// Map t's label ids to a's.
	ids := make([]int, len(t.labels.keys))
	for k, key := range t.labels.keys {
		ids[k] = a.labels.id([]byte(key))
		a.labels.counts[ids[k]] += t.labels.counts[k]
	}
	a.labels.null += t.labels.null
	for r := range a.rows {
		x, y := &a.rows[r], &t.rows[r]
		x.kept += y.kept
		x.dropped += y.dropped
		x.keptFlagged += y.keptFlagged
		x.droppedFlagged += y.droppedFlagged
		x.keptNull += y.keptNull
		x.droppedNull += y.droppedNull
		for k := range y.keptBy {
			j := ids[k]
			for len(x.keptBy) <= j {
				x.keptBy = append(x.keptBy, 0)
				x.droppedBy = append(x.droppedBy, 0)
			}
			x.keptBy[j] += y.keptBy[k]
			x.droppedBy[j] += y.droppedBy[k]
		}
	}
}

func (a *sweepStats) Write(res *Result) {
	st := &SweepStats{Column: a.spec.col, Rows: a.n, Missing: a.missing}
	if a.spec.flag != nil {
		st.Lexicon = BuiltinLexicon
	}
	order := a.labels.order()
	for t, th := range a.spec.at {
		r := &a.rows[t]
		row := SweepRow{Threshold: th, Kept: r.kept, Dropped: r.dropped, KeptFlagged: r.keptFlagged, DroppedFlagged: r.droppedFlagged}
		if a.nsfw != "" {
			row.ByNSFW = []SweepLabel{}
			at := func(xs []int, k int) int {
				if k < len(xs) {
					return xs[k]
				}
				return 0
			}
			for _, k := range order {
				row.ByNSFW = append(row.ByNSFW, SweepLabel{NSFW: a.labels.keys[k], Kept: at(r.keptBy, k), Dropped: at(r.droppedBy, k)})
			}
			if a.labels.null > 0 {
				row.ByNSFW = append(row.ByNSFW, SweepLabel{Null: true, Kept: r.keptNull, Dropped: r.droppedNull})
			}
		}
		st.Thresholds = append(st.Thresholds, row)
	}
	if a.agree != "" {
		ag := a.ag
		st.Agreement = &ag
	}
	res.Sweep = st
}
