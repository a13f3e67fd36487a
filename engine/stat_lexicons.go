package engine

import (
	"bytes"
	"strings"
)

// Lexicon statistics (Result.Lexicons): for each lexicon, essay2021 first
// and then those of Options.Lexicons by name, the selected rows it flags in
// text, in url and in either, per keyword, and against nsfw.

func init() {
	register(20, func(s *schema) []statistic {
		var desc []string
		for _, lx := range s.lexicons {
			desc = append(desc, "lexicon "+lx.name)
		}
		text, url, nsfw := s.has("text"), s.has("url"), s.has("nsfw")
		var cols []string
		for _, c := range []string{text, url, nsfw} {
			if c != "" {
				cols = append(cols, c)
			}
		}
		return []statistic{{desc: strings.Join(desc, ", "), cols: cols, new: func() stat {
			a := &lexStats{lexicons: s.lexicons, fields: [2]string{text, url}, nsfw: nsfw, lex: make([]lexCounts, len(s.lexicons))}
			for l, lx := range s.lexicons {
				a.lex[l].kw = make([]kwCounts, len(lx.keywords))
			}
			return a
		}}}
	})
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

// lexStats counts what the lexicons flag.
type lexStats struct {
	lexicons []*lexicon
	fields   [2]string // the text and url columns; "" when the store lacks one
	nsfw     string    // the nsfw column, or ""
	n        int       // rows added
	lex      []lexCounts
	sparse   [2]sparseRows // scratch: the lowered fields of the selected rows
}

// lexCounts counts one lexicon's rows.
type lexCounts struct {
	text, url, either int
	kw                []kwCounts
	byNSFW            counter // the flagged rows (text or url) by nsfw value
}

// kwCounts counts one keyword's rows.
type kwCounts struct{ text, url, either int }

// sparseRows holds lowered values of a few selected rows of a batch.
type sparseRows struct {
	idx  []int
	off  []int
	buf  []byte
	vals [][]byte
}

// maxEachKeywords bounds the lexicons whose statistics find all their
// keywords in one pass: it takes a bitset of the batch's rows per keyword.
const maxEachKeywords = 64

func (a *lexStats) Add(s *selection) {
	ec, sel := s.ec, s.sel
	a.n += s.count
	sp0 := ec.sp
	defer func() { ec.sp = sp0 }() // release the scratch bitsets pushed below
	b := ec.b
	dense := s.count*2 >= ec.n // else lower and test the selected rows one by one

	var valid [2][]uint64
	for f, name := range a.fields {
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
	if !anySet(valid[0]) && !anySet(valid[1]) {
		return // no selected row has text to match (a column of nulls): nothing to count
	}
	for l, lx := range a.lexicons {
		lc := &a.lex[l]
		var fb [2][]uint64
		for f := range a.fields {
			if valid[f] != nil {
				fb[f] = ec.push()
			}
		}
		kb := [2][]uint64{ec.push(), ec.push()}
		either := ec.push()
		// Dense: each keyword's rows, found in one pass per field (for
		// lexicons of at most maxEachKeywords: a bitset per keyword).
		var each [2][][]uint64
		one := dense && len(lx.lowered) <= maxEachKeywords
		if one {
			for f, name := range a.fields {
				if valid[f] == nil {
					continue
				}
				each[f] = make([][]uint64, len(lx.lowered))
				for k := range each[f] {
					each[f][k] = ec.push()
				}
				lx.set.each(ec.lowered(name), ec.n, false, each[f])
			}
		}
		for k, nd := range lx.lowered {
			for f := range a.fields {
				clear(kb[f])
				if valid[f] == nil {
					continue
				}
				switch {
				case one:
					copy(kb[f], each[f][k])
					andInto(kb[f], valid[f])
				case dense:
					searchAll(ec.lowered(a.fields[f]), ec.n, nd, false, kb[f])
					andInto(kb[f], valid[f])
				default:
					sp := &a.sparse[f]
					for j, v := range sp.vals {
						if bytes.Contains(v, nd) {
							setBit(kb[f], sp.idx[j])
						}
					}
				}
				orInto(fb[f], kb[f])
			}
			kw := &lc.kw[k]
			kw.text += popcount(kb[0])
			kw.url += popcount(kb[1])
			orInto(kb[0], kb[1])
			kw.either += popcount(kb[0])
		}
		for f := range a.fields {
			if fb[f] != nil {
				orInto(either, fb[f])
			}
		}
		if fb[0] != nil {
			lc.text += popcount(fb[0])
		}
		if fb[1] != nil {
			lc.url += popcount(fb[1])
		}
		lc.either += popcount(either)
		if a.nsfw != "" {
			c := b.Cols[a.nsfw]
			forEachBit(either, func(i int) { lc.byNSFW.add(c, i) })
		}
	}
}

// lowerSparse lowers the values of field f at the rows of sel.
func (a *lexStats) lowerSparse(ec *evalCtx, f int, name string, sel []uint64) {
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

func (a *lexStats) Merge(o stat) {
	ob := o.(*lexStats)
	a.n += ob.n
	for l := range a.lex {
		x, y := &a.lex[l], &ob.lex[l]
		x.text += y.text
		x.url += y.url
		x.either += y.either
		for k := range x.kw {
			x.kw[k].text += y.kw[k].text
			x.kw[k].url += y.kw[k].url
			x.kw[k].either += y.kw[k].either
		}
		x.byNSFW.merge(&y.byNSFW)
	}
}

// Write writes one LexiconStats per lexicon. The rows of the cross-tab
// against nsfw are the nsfw counts, which the nsfw statistic (registered
// with a lower order) has written.
func (a *lexStats) Write(res *Result) {
	n := a.n
	res.Lexicons = []*LexiconStats{}
	for l, lx := range a.lexicons {
		lc := &a.lex[l]
		ls := &LexiconStats{Name: lx.name, Keywords: lx.keywords, Either: NewProportion(lc.either, n), PerKeyword: []KeywordCount{}}
		if a.fields[0] != "" {
			p := NewProportion(lc.text, n)
			ls.Text = &p
		}
		if a.fields[1] != "" {
			p := NewProportion(lc.url, n)
			ls.URL = &p
		}
		for k, kw := range lx.keywords {
			c := lc.kw[k]
			ls.PerKeyword = append(ls.PerKeyword, KeywordCount{Keyword: kw, Text: c.text, URL: c.url, Either: c.either})
		}
		if a.nsfw != "" {
			for _, v := range res.NSFW.Values {
				fl := lc.byNSFW.null
				if !v.Null {
					fl = lc.byNSFW.count(v.Value)
				}
				share := 0.0
				if v.Count > 0 {
					share = float64(fl) / float64(v.Count)
				}
				ls.ByNSFW = append(ls.ByNSFW, CrossTab{NSFW: v.Value, Null: v.Null, Rows: v.Count, Flagged: fl, Share: share})
			}
		}
		res.Lexicons = append(res.Lexicons, ls)
	}
}
