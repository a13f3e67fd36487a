package engine

import (
	"math"
	"slices"

	"github.com/laiondb/laiondb/table"
)

// The distribution of the similarity column (Result.Similarity), when the
// store has a numeric one.

func init() {
	register(30, func(s *schema) []statistic {
		t, ok := s.cols["similarity"]
		if !ok {
			return nil
		}
		if t != table.TypeFloat && t != table.TypeInt {
			s.notes = append(s.notes, "the similarity column holds "+t.String()+" values, not numbers, so its distribution is not computed")
			return nil
		}
		return []statistic{{desc: "similarity", cols: []string{"similarity"}, new: func() stat {
			return &similarity{col: "similarity"}
		}}}
	})
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

// similarity collects the similarity column: the valid values, and the
// invalid ones counted by kind.
type similarity struct {
	col                           string
	vals                          []float64
	null, nan, above, below, lo03 int
}

func (s *similarity) Add(sel *selection) {
	c := sel.ec.b.Cols[s.col]
	forEachBit(sel.sel, func(i int) {
		if c == nil || c.IsNull(i) {
			s.null++
			return
		}
		x := number(c, i)
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

func (s *similarity) Merge(o stat) {
	t := o.(*similarity)
	s.vals = append(s.vals, t.vals...)
	s.null += t.null
	s.nan += t.nan
	s.above += t.above
	s.below += t.below
	s.lo03 += t.lo03
}

func (s *similarity) Write(res *Result) {
	st := &SimilarityStats{Valid: len(s.vals), Below03: s.lo03, Null: s.null, NaN: s.nan,
		Above1: s.above, BelowMinus1: s.below, Invalid: s.null + s.nan + s.above + s.below}
	if len(s.vals) > 0 {
		slices.Sort(s.vals)
		st.Min, st.Max = s.vals[0], s.vals[len(s.vals)-1]
		st.Q1, st.Median, st.Q3 = quantile(s.vals, 0.25), quantile(s.vals, 0.5), quantile(s.vals, 0.75)
	}
	res.Similarity = st
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
