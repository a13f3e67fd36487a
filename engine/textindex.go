package engine

import (
	"context"
	"fmt"
	"regexp/syntax"
	"slices"
	"unicode"
	"unicode/utf8"

	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/table"
	"github.com/laiondb/laiondb/vector"
)

// This file lets a trigram index narrow the rows a where clause is
// evaluated on. The index never decides an answer: it yields candidates, a
// superset of the rows where the clause can be true, and the exact
// predicates are evaluated on every candidate, so answers equal a scan's.
//
// A trigram is three consecutive bytes of a value's folded text: Python's
// str() of the value (FoldedText), lowered as Python's str.lower() does,
// in UTF-8. contains, has word and lexicons test whether the folded needle
// is a byte substring of the folded value, so a row can match only if its
// folded value holds every trigram of the folded needle. matches tests the
// value as stored; every match of a regular expression contains the
// literal strings that regexpQuery derives from it, and the folded value
// then holds one of the literal's folded forms: each rune lowers on its
// own, except capital sigma (σ or ς, by its neighbours); with (?i) a rune
// matches its whole folding orbit, whose runes may lower differently (s,
// S and ſ); and U+FFFD also matches an invalid byte, whose folded text is
// that byte, so a literal is split there.

// Trigram is three consecutive bytes of a value's folded text.
type Trigram [3]byte

// TextIndexer is a Store that keeps a trigram index over some text
// columns. It is optional: without it, or for a column it does not index,
// text predicates scan every row.
type TextIndexer interface {
	// TextIndexed reports whether column col has a trigram index.
	TextIndexed(col string) bool
	// TextCandidates returns a set of rows (over NumRows) that holds every
	// row whose folded text in col contains all the trigrams given (at
	// least one); it may hold more. ok is false when col has no index.
	TextCandidates(ctx context.Context, col string, grams []Trigram) (rows *vector.Bitset, ok bool, err error)
}

// AppendFoldedText appends the text the text predicates search in value i
// of c: Python's str() of the value, lowered as str.lower() does. A null
// value appends nothing (the predicates never hold on it).
func AppendFoldedText(dst []byte, c *table.Column, i int) []byte {
	if c.IsNull(i) {
		return dst
	}
	if c.Type == table.TypeString {
		return appendPyLower(dst, c.Str.At(i))
	}
	var buf [32]byte
	return appendPyLower(dst, appendPyStr(buf[:0], c, i))
}

// AppendTrigrams appends the trigrams of folded text b (every window of
// three bytes, in order, repeats included).
func AppendTrigrams(dst []Trigram, b []byte) []Trigram {
	for i := 0; i+3 <= len(b); i++ {
		dst = append(dst, Trigram{b[i], b[i+1], b[i+2]})
	}
	return dst
}

// textQuery is what a trigram index can say about a where clause: a tree
// whose leaves are the rows of a column holding all of some trigrams. A nil
// *textQuery means every row (the index cannot narrow the clause).
type textQuery struct {
	and, or []*textQuery // at most one of them is set, with two or more
	col     string       // a leaf: rows of col holding every trigram of grams
	grams   []Trigram
}

func tqAnd(x, y *textQuery) *textQuery {
	switch {
	case x == nil:
		return y
	case y == nil:
		return x
	}
	return &textQuery{and: append(flat(x, x.and), flat(y, y.and)...)}
}

func tqOr(x, y *textQuery) *textQuery {
	if x == nil || y == nil {
		return nil
	}
	return &textQuery{or: append(flat(x, x.or), flat(y, y.or)...)}
}

// flat returns q's operands when it is the operation whose operands are
// subs, else q itself: and(and(a, b), c) is and(a, b, c).
func flat(q *textQuery, subs []*textQuery) []*textQuery {
	if subs != nil {
		return slices.Clone(subs)
	}
	return []*textQuery{q}
}

// tqLeaf is the rows of col whose folded text contains folded; nil when it
// is shorter than a trigram.
func tqLeaf(col string, folded []byte) *textQuery {
	if len(folded) < 3 {
		return nil
	}
	return &textQuery{col: col, grams: AppendTrigrams(nil, folded)}
}

// candidates returns the rows q allows, or nil when the store's index does
// not narrow q (a column without an index).
func (q *textQuery) candidates(ctx context.Context, ti TextIndexer) (*vector.Bitset, error) {
	switch {
	case q.and != nil:
		var out *vector.Bitset
		for _, x := range q.and {
			c, err := x.candidates(ctx, ti)
			if err != nil {
				return nil, err
			}
			if c == nil {
				continue
			}
			if out == nil {
				out = c
			} else {
				out.And(c)
			}
		}
		return out, nil
	case q.or != nil:
		var out *vector.Bitset
		for _, x := range q.or {
			c, err := x.candidates(ctx, ti)
			if err != nil || c == nil {
				return nil, err
			}
			if out == nil {
				out = c
			} else {
				out.Or(c)
			}
		}
		return out, nil
	}
	c, ok, err := ti.TextCandidates(ctx, q.col, q.grams)
	if err != nil {
		return nil, fmt.Errorf("query: text index of %s: %w", q.col, err)
	}
	if !ok {
		return nil, nil
	}
	return c, nil
}

// foldedRune returns the folded texts that a rune matched by rune r in a
// literal of a regular expression may have in the folded value (with
// fold, matched case-insensitively: any rune of r's simple-folding orbit,
// such as s, S and ſ, which lowers to itself): capital sigma lowers to σ
// or ς by its neighbours. It returns nil for U+FFFD, which an invalid byte
// also matches: its folded text is unknown.
func foldedRune(r rune, fold bool) []string {
	one := func(r rune) []string {
		switch {
		case r == utf8.RuneError || r < 0 || r > unicode.MaxRune:
			return nil
		case r == 0x3A3:
			return []string{"σ", "ς"}
		}
		return []string{pyLower(string(r))}
	}
	alts := one(r)
	if alts == nil || !fold {
		return alts
	}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		o := one(f)
		if o == nil {
			return nil
		}
		for _, x := range o {
			if !slices.Contains(alts, x) {
				alts = append(alts, x)
			}
		}
	}
	return alts
}

// regexpQuery returns what every match of re requires of the folded text of
// col, as a tree of trigram sets (nil: nothing). It is conservative: a
// construct it does not understand requires nothing.
func regexpQuery(col string, re *syntax.Regexp) *textQuery {
	switch re.Op {
	case syntax.OpLiteral:
		return literalQuery(col, []*syntax.Regexp{re})
	case syntax.OpConcat:
		var q *textQuery
		var run []*syntax.Regexp // consecutive literals
		for _, sub := range re.Sub {
			if sub.Op == syntax.OpLiteral {
				run = append(run, sub)
				continue
			}
			q = tqAnd(q, literalQuery(col, run))
			run = nil
			q = tqAnd(q, regexpQuery(col, sub))
		}
		return tqAnd(q, literalQuery(col, run))
	case syntax.OpCapture, syntax.OpPlus:
		return regexpQuery(col, re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return regexpQuery(col, re.Sub[0])
		}
	case syntax.OpAlternate:
		q := regexpQuery(col, re.Sub[0])
		for _, sub := range re.Sub[1:] {
			q = tqOr(q, regexpQuery(col, sub))
		}
		return q
	}
	return nil
}

// maxLiteralAlts bounds the folded forms of a run of literal runes (the
// product of each rune's, see foldedRune); a longer run is split.
const maxLiteralAlts = 16

// literalQuery requires of consecutive literals that the folded value hold
// one of their folded forms, split where a rune's form is unknown or the
// forms would be more than maxLiteralAlts.
func literalQuery(col string, lits []*syntax.Regexp) *textQuery {
	var q *textQuery
	cur := []string{""} // the folded forms of the run so far
	flush := func() {
		var or *textQuery
		for i, x := range cur {
			leaf := tqLeaf(col, []byte(x))
			if i == 0 {
				or = leaf
			} else {
				or = tqOr(or, leaf)
			}
		}
		q = tqAnd(q, or)
		cur = []string{""}
	}
	for _, l := range lits {
		for _, r := range l.Rune {
			alts := foldedRune(r, l.Flags&syntax.FoldCase != 0)
			if alts == nil {
				flush()
				continue
			}
			if len(cur)*len(alts) > maxLiteralAlts {
				flush()
			}
			next := make([]string, 0, len(cur)*len(alts))
			for _, c := range cur {
				for _, a := range alts {
					next = append(next, c+a)
				}
			}
			cur = next
		}
	}
	flush()
	return q
}

// candidateShare bounds the share of the store's rows that the text
// index's candidates may be for the index to be used: above 1/share, where
// is evaluated by a scan. A candidate costs more than a scanned row: its
// values are copied out of their blocks one by one, and the needles found
// in them were chosen to be there. Measured on 1M LAION-like rows (text
// index format 3; BENCHMARKS.md, "Text index: candidates read block by
// block"), CPU of the whole query:
//   - through RowScanner, on every core: 34,184 candidates of 'hot ' (3.4%)
//     50 ms against the scan's 205; 49,595 of 'woman' (5.0%) 51 against 186;
//     56,634 of the essay's lexicon (5.7%) 75 against 260; every row as a
//     candidate cost 1.4-1.5 times the scan. A candidate cost 7.1, 5.5 and
//     5.1 scanned rows there, so at 1/8 of the rows the index still costs
//     less; candidateCost takes 6.5, a round figure in that range;
//   - through Fetch, on one core (format 2 and 3): a candidate of 'desi'
//     cost 1.7 µs and a scanned row 0.19 µs, ×9; 1/32 keeps the margin.
func candidateShare(s Store) int {
	if _, ok := s.(RowScanner); ok {
		return 8
	}
	return 32
}

// candidateCost is what a candidate costs, in scanned rows, for the
// plan's estimate (Plan.Explain), from candidateShare's measurements: 6.5
// through RowScanner (5.1 to 7.1 measured), 9 through Fetch.
func candidateCost(s Store) float64 {
	if _, ok := s.(RowScanner); ok {
		return 6.5
	}
	return 9
}

// lookup maps a field to a store column without recording its use.
func (pl *planner) lookup(f *query.Field) (string, table.Type, bool) {
	name := f.Name
	t, ok := pl.cols[name]
	if !ok && name == "caption" {
		name = "text"
		t, ok = pl.cols[name]
	}
	return name, t, ok
}

// textCols lists the columns a text predicate's field searches.
func (pl *planner) textCols(f *query.Field) []string {
	if !f.Any {
		name, _, _ := pl.lookup(f)
		return []string{name}
	}
	var out []string
	for _, name := range []string{"text", "url"} {
		if _, ok := pl.cols[name]; ok {
			out = append(out, name)
		}
	}
	return out
}

// indexQuery returns the rows the store's text index can narrow the
// checked expression e to (nil: it cannot), and, when it cannot, why, for
// the plan (nothing when e has no text predicate on an indexed column).
// An and is narrowed by either side, an or only by both; not never.
func (pl *planner) indexQuery(e query.Expr) (*textQuery, []string) {
	switch e := e.(type) {
	case *query.BinaryExpr:
		qx, wx := pl.indexQuery(e.X)
		qy, wy := pl.indexQuery(e.Y)
		if e.Op == "and" {
			if q := tqAnd(qx, qy); q != nil {
				return q, nil
			}
			return nil, append(wx, wy...)
		}
		if q := tqOr(qx, qy); q != nil {
			return q, nil
		}
		why := append(wx, wy...)
		if len(why) == 0 && (qx != nil || qy != nil) {
			why = []string{"or with a predicate the text index cannot narrow"}
		}
		return nil, why
	case *query.NotExpr:
		if q, why := pl.indexQuery(e.X); q != nil || len(why) > 0 {
			return nil, []string{"not: the text index cannot narrow a negation"}
		}
		return nil, nil
	case *query.MatchExpr:
		var re *syntax.Regexp
		if e.Kind == query.MatchRegexp {
			var err error
			if re, err = syntax.Parse(e.Pattern, syntax.Perl); err != nil {
				return nil, nil // compile reported it
			}
			re = re.Simplify()
		}
		return pl.indexLeaves(e.Field, func(col string) (*textQuery, string) {
			if re != nil {
				if q := regexpQuery(col, re); q != nil {
					return q, ""
				}
				return nil, "regular expression with no required trigram"
			}
			if q := tqLeaf(col, []byte(pyLower(e.Pattern))); q != nil {
				return q, ""
			}
			return nil, "needle shorter than 3 bytes"
		})
	case *query.LexiconExpr:
		lx := pl.lexicons[e.Name]
		return pl.indexLeaves(e.Field, func(col string) (*textQuery, string) {
			var q *textQuery
			for i, kw := range lx.lowered {
				k := tqLeaf(col, kw)
				if k == nil {
					return nil, fmt.Sprintf("keyword %q of lexicon %s shorter than 3 bytes", lx.keywords[i], lx.name)
				}
				if q == nil {
					q = k
				} else {
					q = tqOr(q, k)
				}
			}
			return q, ""
		})
	}
	return nil, nil
}

// indexLeaves ORs the candidates of a text predicate on each column its
// field searches; leaf gives one column's, or why there are none.
func (pl *planner) indexLeaves(f *query.Field, leaf func(col string) (*textQuery, string)) (*textQuery, []string) {
	var q *textQuery
	for i, col := range pl.textCols(f) {
		if !pl.ti.TextIndexed(col) {
			return nil, []string{fmt.Sprintf("column %s has no text index", col)}
		}
		x, why := leaf(col)
		if x == nil {
			return nil, []string{why}
		}
		if i == 0 {
			q = x
		} else {
			q = tqOr(q, x)
		}
	}
	return q, nil
}

// candidates returns the rows of in (every row when nil) that the text
// index leaves for where to be evaluated on, or nil when where must be
// evaluated on all of them; how says which, for the plan.
func (p *Plan) candidates(ctx context.Context, s Store, in *vector.Bitset) (*vector.Bitset, string, error) {
	ti, ok := s.(TextIndexer)
	if p.where == nil || p.where.index == nil || !ok {
		return nil, "", nil
	}
	cand, err := p.where.index.candidates(ctx, ti)
	if err != nil || cand == nil {
		return nil, "", err
	}
	of := fmt.Sprintf("%d rows", s.NumRows())
	if in != nil {
		cand.And(in)
		of = fmt.Sprintf("%d sampled rows", in.Count())
	}
	k := cand.Count()
	if in == nil && k*p.share > s.NumRows() {
		return nil, fmt.Sprintf("scan: the text index's %d candidates are more than 1/%d of the %d rows", k, p.share, s.NumRows()), nil
	}
	return cand, fmt.Sprintf("text index: %d candidates of %s", k, of), nil
}

// selected is the answer of a where clause: the rows satisfying it, the
// number of rows it was evaluated on, and how, for the plan.
type selected struct {
	rows *vector.Bitset
	n    int
	how  string
	// cached reports that the answer came from Options.AllowCache.
	cached bool
}

// selectWhere answers where, through the text index's candidates when it
// narrows where enough, else by a scan.
func (p *Plan) selectWhere(ctx context.Context, s Store) (*selected, error) {
	cand, how, err := p.candidates(ctx, s, nil)
	if err != nil {
		return nil, err
	}
	sel := &selected{n: s.NumRows(), how: how}
	if cand != nil {
		sel.rows, _, sel.n, err = fetchSelect(ctx, s, cand, p.where.cols, p.where.p, nil)
	} else {
		sel.rows, _, err = scanSelect(ctx, s, s.NumRows(), p.where.cols, p.where.p, nil)
	}
	if err != nil {
		return nil, err
	}
	return sel, nil
}
