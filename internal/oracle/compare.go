package oracle

import (
	"fmt"
	"math"
	"regexp"
	"strings"

	"github.com/laiondb/laiondb/engine"
)

// Tolerances: statistics (shares, Wilson bounds, quartiles) are float64
// computations of the same numbers and must agree to 1e-9; scores are the
// store's float32 against the oracle's float64 cosine.
const (
	StatTol  = 1e-9
	ScoreTol = 1e-6
)

// Diff is one figure on which laiondb and the oracle disagree.
type Diff struct {
	// Kind groups differences: the figure without indexes ("nsfw",
	// "lexicons.per_keyword", "hits"), or a search-list problem
	// ("search-score", "search-tie-order"...), or "error" kinds.
	Kind   string
	Figure string
	Got    string // laiondb
	Want   string // oracle
}

func (d Diff) String() string {
	return fmt.Sprintf("%s: laiondb %s, oracle %s", d.Figure, d.Got, d.Want)
}

var indexRE = regexp.MustCompile(`\[[^\]]*\]`)

type differ struct{ diffs []Diff }

func (c *differ) add(fig string, got, want any) {
	kind := indexRE.ReplaceAllString(fig, "")
	if strings.HasPrefix(kind, "lexicons.") {
		// A proportion's count, share and bounds are one figure.
		for _, f := range []string{".count", ".share", ".lo", ".hi"} {
			if k, ok := strings.CutSuffix(kind, f); ok && !strings.HasSuffix(k, ".by_nsfw") {
				kind = k
			}
		}
	}
	c.diffs = append(c.diffs, Diff{Kind: kind, Figure: fig, Got: fmt.Sprint(got), Want: fmt.Sprint(want)})
}

func (c *differ) int(fig string, got, want int) {
	if got != want {
		c.add(fig, got, want)
	}
}

func (c *differ) float(fig string, got, want, tol float64) {
	if !(math.Abs(got-want) <= tol) {
		c.add(fig, fmt.Sprintf("%.17g", got), fmt.Sprintf("%.17g", want))
	}
}

func (c *differ) str(fig string, got, want string) {
	if got != want {
		c.add(fig, fmt.Sprintf("%q", got), fmt.Sprintf("%q", want))
	}
}

// Compare compares laiondb's answer (res, or the error qerr) with the
// oracle's, figure by figure, in the order of engine.Result; the first diff
// is the first differing figure.
func Compare(res *engine.Result, qerr error, a *Answer) []Diff {
	c := &differ{}
	switch {
	case a.Error != nil && qerr == nil:
		c.diffs = append(c.diffs, Diff{Kind: "error-accepted: " + a.ErrorClass, Figure: "error", Got: "no error", Want: "error (" + *a.Error + ")"})
		return c.diffs
	case a.Error == nil && qerr != nil:
		c.diffs = append(c.diffs, Diff{Kind: "error-rejected", Figure: "error", Got: "error: " + firstLine(qerr.Error()), Want: "no error"})
		return c.diffs
	case a.Error != nil:
		return nil
	}
	for _, p := range a.SearchProblems {
		c.diffs = append(c.diffs, Diff{Kind: p.Kind, Figure: "search list", Got: p.Msg, Want: "an acceptable list"})
	}
	c.int("total_rows", res.TotalRows, a.TotalRows)
	if !res.Exact {
		c.add("exact", false, true)
	}
	c.int("selected", res.Selected, a.Selected)

	// The selected rows, in order for searches.
	var got []uint32
	fig := "rows"
	if a.Search != nil {
		fig = "hits"
		for _, h := range res.Hits {
			got = append(got, h.Row)
		}
	} else if res.Selection != nil {
		res.Selection.ForEach(func(r uint32) bool {
			got = append(got, r)
			return true
		})
	}
	if i := firstDiff(got, a.Rows); i >= 0 {
		c.add(fmt.Sprintf("%s[%d]", fig, i), around(got, i), around(a.Rows, i))
	} else if a.Search != nil {
		for i, h := range res.Hits {
			c.float(fmt.Sprintf("scores[%d, row %d]", i, h.Row), float64(h.Score), a.Scores[i], ScoreTol)
		}
	}

	switch {
	case (res.Search == nil) != (a.Search == nil):
		c.add("search", res.Search != nil, a.Search != nil)
	case a.Search != nil:
		s, w := res.Search, a.Search
		c.str("search.kind", s.Kind, w.Kind)
		if w.Kind == "knn" {
			c.int("search.k", s.K, w.K)
		} else {
			c.float("search.threshold", s.Threshold, w.Threshold, 1e-12)
		}
		c.int("search.returned", s.Returned, w.Returned)
		c.float("search.score_min", float64(s.ScoreMin), w.ScoreMin, ScoreTol)
		c.float("search.score_max", float64(s.ScoreMax), w.ScoreMax, ScoreTol)
	}

	if (res.NSFW == nil) != (a.NSFW == nil) {
		c.add("nsfw", res.NSFW != nil, a.NSFW != nil)
	} else if res.NSFW != nil {
		c.labels("nsfw", res.NSFW.Values, a.NSFW)
	}
	if len(res.By) != len(a.By) {
		c.add("by", len(res.By), len(a.By))
	} else {
		for i, b := range res.By {
			c.str(fmt.Sprintf("by[%d].column", i), b.Column, a.By[i].Column)
			c.labels(fmt.Sprintf("by[%s]", b.Column), b.Values, a.By[i].Values)
		}
	}

	if (res.Files == nil) != (a.Files == nil) {
		c.add("files", res.Files != nil, a.Files != nil)
	} else if res.Files != nil {
		if len(res.Files.Files) != len(a.Files.Files) {
			c.add("files", len(res.Files.Files), len(a.Files.Files))
		} else {
			for i, f := range res.Files.Files {
				c.int(fmt.Sprintf("files[%d].rows", i), f.Rows, a.Files.Files[i].Rows)
				c.prop(fmt.Sprintf("files[%d].rate", i), &f.Rate, &a.Files.Files[i].Rate)
			}
		}
		c.prop("files.pooled", &res.Files.Pooled, &a.Files.Pooled)
	}

	if len(res.Lexicons) != len(a.Lexicons) {
		c.add("lexicons", len(res.Lexicons), len(a.Lexicons))
	} else {
		for i, l := range res.Lexicons {
			w := a.Lexicons[i]
			if !strings.EqualFold(l.Name, w.Name) {
				c.add(fmt.Sprintf("lexicons[%d].name", i), l.Name, w.Name)
				continue
			}
			p := fmt.Sprintf("lexicons[%s]", w.Name)
			if fmt.Sprintf("%q", l.Keywords) != fmt.Sprintf("%q", w.Keywords) {
				c.add(p+".keywords", fmt.Sprintf("%q", l.Keywords), fmt.Sprintf("%q", w.Keywords))
			}
			c.prop(p+".text", l.Text, w.Text)
			c.prop(p+".url", l.URL, w.URL)
			c.prop(p+".either", &l.Either, &w.Either)
			if len(l.PerKeyword) != len(w.PerKeyword) {
				c.add(p+".per_keyword", len(l.PerKeyword), len(w.PerKeyword))
			} else {
				for k, kw := range l.PerKeyword {
					ww := w.PerKeyword[k]
					q := fmt.Sprintf("%s.per_keyword[%q]", p, ww.Keyword)
					c.str(q+".keyword", kw.Keyword, ww.Keyword)
					c.int(q+".text", kw.Text, ww.Text)
					c.int(q+".url", kw.URL, ww.URL)
					c.int(q+".either", kw.Either, ww.Either)
				}
			}
			if len(l.ByNSFW) != len(w.ByNSFW) {
				c.add(p+".by_nsfw", len(l.ByNSFW), len(w.ByNSFW))
			} else {
				for k, x := range l.ByNSFW {
					y := w.ByNSFW[k]
					q := fmt.Sprintf("%s.by_nsfw[%d]", p, k)
					if x.Null != y.Null || (!y.Null && (y.NSFW == nil || x.NSFW != *y.NSFW)) {
						c.add(q+".nsfw", label(&x.NSFW, x.Null), label(y.NSFW, y.Null))
						continue
					}
					c.int(q+".rows", x.Rows, y.Rows)
					c.int(q+".flagged", x.Flagged, y.Flagged)
					c.float(q+".share", x.Share, y.Share, StatTol)
				}
			}
		}
	}

	switch s, w := res.Similarity, a.Similarity; {
	case (s == nil) != (w == nil):
		c.add("similarity", s != nil, w != nil)
	case s != nil:
		c.int("similarity.valid", s.Valid, w.Valid)
		c.int("similarity.invalid", s.Invalid, w.Invalid)
		c.int("similarity.null", s.Null, w.Null)
		c.int("similarity.nan", s.NaN, w.NaN)
		c.int("similarity.above_1", s.Above1, w.Above1)
		c.int("similarity.below_minus_1", s.BelowMinus1, w.BelowMinus1)
		c.int("similarity.below_0_3", s.Below03, w.Below03)
		c.float("similarity.min", s.Min, w.Min, StatTol)
		c.float("similarity.q1", s.Q1, w.Q1, StatTol)
		c.float("similarity.median", s.Median, w.Median, StatTol)
		c.float("similarity.q3", s.Q3, w.Q3, StatTol)
		c.float("similarity.max", s.Max, w.Max, StatTol)
	}
	return c.diffs
}

func label(v *string, null bool) string {
	if null || v == nil {
		return "(null)"
	}
	return fmt.Sprintf("%q", *v)
}

func (c *differ) labels(fig string, got []engine.LabelCount, want []Label) {
	n := max(len(got), len(want))
	for i := 0; i < n; i++ {
		f := fmt.Sprintf("%s[%d]", fig, i)
		switch {
		case i >= len(got):
			c.add(f, "(missing)", fmt.Sprintf("%s × %d", label(want[i].Value, want[i].Null), want[i].Count))
			return
		case i >= len(want):
			c.add(f, fmt.Sprintf("%s × %d", label(&got[i].Value, got[i].Null), got[i].Count), "(missing)")
			return
		}
		g, w := got[i], want[i]
		if g.Null != w.Null || (!w.Null && (w.Value == nil || g.Value != *w.Value)) || g.Count != w.Count {
			c.add(f, fmt.Sprintf("%s × %d", label(&g.Value, g.Null), g.Count), fmt.Sprintf("%s × %d", label(w.Value, w.Null), w.Count))
			return
		}
		c.float(f+".share", g.Share, w.Share, StatTol)
	}
}

func (c *differ) prop(fig string, got *engine.Proportion, want *Prop) {
	if (got == nil) != (want == nil) {
		c.add(fig, got != nil, want != nil)
		return
	}
	if got == nil {
		return
	}
	c.int(fig+".count", got.Count, want.Count)
	c.int(fig+".of", got.Of, want.Of)
	c.float(fig+".share", got.Share, want.Share, StatTol)
	c.float(fig+".lo", got.Lo, want.Lo, StatTol)
	c.float(fig+".hi", got.Hi, want.Hi, StatTol)
}

func firstDiff(a, b []uint32) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// around prints a few rows of xs around index i, and the length.
func around(xs []uint32, i int) string {
	lo, hi := max(0, i-2), min(len(xs), i+3)
	s := fmt.Sprint(xs[lo:hi])
	if lo > 0 {
		s = "[… " + s[1:]
	}
	if hi < len(xs) {
		s = s[:len(s)-1] + " …]"
	}
	return fmt.Sprintf("%s (of %d)", s, len(xs))
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// SelectionKind reports whether a kind of difference is about which rows
// were selected (or whether the query is an error), as opposed to the
// statistics of the selected rows.
func SelectionKind(kind string) bool {
	for _, p := range []string{"error", "search", "panic"} {
		if strings.HasPrefix(kind, p) {
			return true
		}
	}
	switch kind {
	case "selected", "rows", "hits", "scores", "total_rows", "exact":
		return true
	}
	return false
}
