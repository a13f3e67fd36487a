package engine

import (
	"sort"

	"github.com/laiondb/laiondb/table"
)

// Label counts: the value counts of the nsfw column (Result.NSFW) and of
// each column named by "by" (Result.By).

func init() {
	register(10, func(s *schema) []statistic {
		if s.has("nsfw") == "" {
			return nil
		}
		return []statistic{labelStat("nsfw", "nsfw counts", func(res *Result, lc *LabelCounts) { res.NSFW = lc })}
	})
	register(40, func(s *schema) []statistic {
		var out []statistic
		for _, b := range s.by {
			put := func(res *Result, lc *LabelCounts) { res.By = append(res.By, lc) }
			if b.fn == "domain" {
				out = append(out, domainStat(b.col, s.opts, put))
				continue
			}
			out = append(out, groupStat(b.col, s.opts, put))
		}
		return out
	})
}

// LabelCounts counts the values of one column among the selected rows,
// most frequent first (ties by value), null last.
type LabelCounts struct {
	Column string       `json:"column"`
	Values []LabelCount `json:"values"`
	// Groups, when not every value is listed (a "by" lists at most
	// Options.Groups), is the number of distinct values, null counted as
	// one; OtherRows is the number of rows holding the values not listed.
	// The counts listed are exact either way.
	Groups    int `json:"groups,omitempty"`
	OtherRows int `json:"other_rows,omitempty"`
}

// All returns the counts, most frequent first; nil when lc is nil (a
// store without the column), so res.NSFW.All() never panics.
func (lc *LabelCounts) All() []LabelCount {
	if lc == nil {
		return nil
	}
	return lc.Values
}

// Count returns the number of selected rows holding value (not null); 0
// when lc is nil.
func (lc *LabelCounts) Count(value string) int {
	for _, v := range lc.All() {
		if !v.Null && v.Value == value {
			return v.Count
		}
	}
	return 0
}

// LabelCount is one value of a LabelCounts.
type LabelCount struct {
	Value string  `json:"value"`
	Null  bool    `json:"null,omitempty"`
	Count int     `json:"count"`
	Share float64 `json:"share"`
}

// labelStat is the statistic counting the values of column col, written
// into a Result by put.
func labelStat(col, desc string, put func(*Result, *LabelCounts)) statistic {
	return statistic{desc: desc, cols: []string{col}, new: func() stat {
		return &labels{col: col, put: put}
	}}
}

// groupStat is the statistic of "by col": labelStat with at most
// o.Groups values listed and the distinct values spilled to temporary
// files past o.GroupBytes (see groups.go).
func groupStat(col string, o *Options, put func(*Result, *LabelCounts)) statistic {
	return statistic{desc: "counts by " + col, cols: []string{col}, new: func() stat {
		return &labels{col: col, put: put, limit: groupLimit(o), sp: newSpill(o)}
	}}
}

// domainStat is the statistic counting the hosts of the URLs in column
// col (see urlHost), reported under the name domain(col), as groupStat
// does.
func domainStat(col string, o *Options, put func(*Result, *LabelCounts)) statistic {
	name := "domain(" + col + ")"
	return statistic{desc: "counts by " + name, cols: []string{col}, new: func() stat {
		return &labels{col: col, name: name, domain: true, put: put, limit: groupLimit(o), sp: newSpill(o)}
	}}
}

func groupLimit(o *Options) int {
	if o == nil || o.Groups <= 0 {
		return DefaultGroups
	}
	return o.Groups
}

// labels counts the values of one column, or the hosts of its URLs.
type labels struct {
	col    string
	name   string // the name reported, when not col
	domain bool
	put    func(*Result, *LabelCounts)
	n      int // rows added
	counter
	// For "by": at most limit values listed (0: all), and the spill of
	// the values past the memory budget (nil: none).
	limit int
	sp    *spill
	fail  error
}

func (la *labels) err() error { return la.fail }

func (la *labels) discard() {
	if la.sp != nil {
		la.sp.remove()
	}
}

// spillIfFull writes the values out when they pass the budget.
func (la *labels) spillIfFull() {
	if la.sp != nil && la.held > la.sp.budget {
		la.sp.write(&la.counter)
	}
}

func (la *labels) Add(s *selection) {
	la.n += s.count
	c := s.ec.b.Cols[la.col]
	if !la.domain {
		if c == nil {
			la.null += s.count
			return
		}
		sel := s.sel
		if c.Null != nil || c.Type == table.TypeFloat {
			// Count the missing rows by their mask; visit the others.
			sp0 := s.ec.sp
			defer func() { s.ec.sp = sp0 }()
			sel = s.ec.push()
			s.ec.valid(c, sel)
			andInto(sel, s.sel)
			la.null += s.count - popcount(sel)
		}
		forEachBit(sel, func(i int) { la.add(c, i) })
		la.spillIfFull()
		return
	}
	defer la.spillIfFull()
	forEachBit(s.sel, func(i int) {
		if c == nil || c.IsNull(i) {
			la.null++
			return
		}
		h, ok := urlHost(c.Str.At(i), la.buf[:0])
		if !ok {
			la.null++
			return
		}
		la.buf = h
		la.counts[la.id(h)]++
	})
}

func (la *labels) Merge(o stat) {
	ob := o.(*labels)
	la.n += ob.n
	if la.sp != nil && la.sp.err == nil {
		la.sp.err = ob.sp.err
	}
	if la.sp != nil && (len(la.sp.files) > 0 || len(ob.sp.files) > 0 || la.held+ob.held > la.sp.budget) {
		// Not both in memory: what ob holds goes to its files.
		ob.sp.write(&ob.counter)
		la.null += ob.null
		la.sp.merge(ob.sp)
		return
	}
	la.counter.merge(&ob.counter)
	la.spillIfFull()
}

// Write writes the counts most frequent first, ties by value, null last.
func (la *labels) Write(res *Result) {
	name := la.col
	if la.name != "" {
		name = la.name
	}
	lc := &LabelCounts{Column: name, Values: []LabelCount{}}
	share := func(k int) float64 {
		if la.n == 0 {
			return 0
		}
		return float64(k) / float64(la.n)
	}
	limit := la.limit
	if limit <= 0 {
		limit = len(la.keys)
	}
	keys, counts, groups, other, err := top(&la.counter, la.sp, limit)
	if la.sp != nil {
		if err == nil {
			err = la.sp.err
		}
		la.sp.remove()
	}
	if err != nil {
		la.fail = err
		return
	}
	for i, k := range keys {
		lc.Values = append(lc.Values, LabelCount{Value: k, Count: counts[i], Share: share(counts[i])})
	}
	if la.null > 0 {
		lc.Values = append(lc.Values, LabelCount{Null: true, Count: la.null, Share: share(la.null)})
		groups++
	}
	if len(lc.Values) < groups {
		lc.Groups, lc.OtherRows = groups, other
	}
	la.put(res, lc)
}

// counter counts the values of a column as label counts see them: Python's
// str() of the value, with missing values (null, and NaN in float columns)
// counted apart.
type counter struct {
	idx    map[string]int
	keys   []string
	counts []int
	null   int
	buf    []byte
	held   int64 // memory the distinct values take, about
}

// reset forgets the values and their counts (not the null count).
func (ct *counter) reset() {
	ct.idx, ct.keys, ct.counts, ct.held = nil, nil, nil, 0
}

// add counts value i of c; a nil c is all null.
func (ct *counter) add(c *table.Column, i int) {
	if c == nil || c.Missing(i) {
		ct.null++
		return
	}
	var v []byte
	if c.Type == table.TypeString {
		v = c.Str.At(i)
	} else {
		ct.buf = appendPyStr(ct.buf[:0], c, i)
		v = ct.buf
	}
	k := ct.id(v) // before indexing: id may grow counts
	ct.counts[k]++
}

// id returns the index of value v, adding it if new.
func (ct *counter) id(v []byte) int {
	k, ok := ct.idx[string(v)]
	if !ok {
		if ct.idx == nil {
			ct.idx = map[string]int{}
		}
		k = len(ct.keys)
		s := string(v)
		ct.idx[s] = k
		ct.keys = append(ct.keys, s)
		ct.counts = append(ct.counts, 0)
		ct.held += int64(len(s)) + entryBytes
	}
	return k
}

// count returns the count of value v.
func (ct *counter) count(v string) int {
	if k, ok := ct.idx[v]; ok {
		return ct.counts[k]
	}
	return 0
}

func (ct *counter) merge(o *counter) {
	for k, key := range o.keys {
		j := ct.id([]byte(key))
		ct.counts[j] += o.counts[k]
	}
	ct.null += o.null
}

// order returns value ids most frequent first, ties by value.
func (ct *counter) order() []int {
	ids := make([]int, len(ct.keys))
	for i := range ids {
		ids[i] = i
	}
	sort.Slice(ids, func(a, b int) bool {
		ca, cb := ct.counts[ids[a]], ct.counts[ids[b]]
		if ca != cb {
			return ca > cb
		}
		return ct.keys[ids[a]] < ct.keys[ids[b]]
	})
	return ids
}
