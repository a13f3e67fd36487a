package engine

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
)

// The states of the statistics in a Partial: what each accumulator holds
// after a shard's rows, as JSON, and the adding of such a state to an
// accumulator of the same statistic. A state holds counts, never shares:
// a merge adds the counts and computes shares and intervals once, from
// the sums, as one pass over all the rows does.

// shardable is a statistic whose state can be written into a Partial and
// added back. rowOff is the first row of the shard the state came from,
// in the merged numbering (states that name rows shift them by it).
type shardable interface {
	state() (any, error)
	addState(raw json.RawMessage, rowOff uint32) error
}

func (c *selectedCount) state() (any, error) { return int(*c), nil }

func (c *selectedCount) addState(raw json.RawMessage, _ uint32) error {
	var n int
	if err := json.Unmarshal(raw, &n); err != nil {
		return err
	}
	if n < 0 {
		return fmt.Errorf("%d rows selected", n)
	}
	*c += selectedCount(n)
	return nil
}

// counterState is a counter's values and counts, sorted by value, and its
// null count.
type counterState struct {
	Values [][2]any `json:"values"` // [value, count]
	Null   int      `json:"null"`
}

func newCounterState() counterState { return counterState{Values: [][2]any{}} }

func (cs *counterState) add(k string, c int) { cs.Values = append(cs.Values, [2]any{k, c}) }

func (cs *counterState) sort() {
	slices.SortFunc(cs.Values, func(a, b [2]any) int {
		x, y := a[0].(string), b[0].(string)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
}

// each calls fn with every value of a state read back.
func (cs *counterState) each(fn func(k string, c int)) error {
	if cs.Null < 0 {
		return fmt.Errorf("%d nulls", cs.Null)
	}
	for _, kv := range cs.Values {
		k, ok1 := kv[0].(string)
		c, ok2 := kv[1].(float64)
		if !ok1 || !ok2 || c < 0 || c != math.Trunc(c) {
			return fmt.Errorf("a value count %v", kv)
		}
		fn(k, int(c))
	}
	return nil
}

// addCount adds c rows of value k.
func (ct *counter) addCount(k string, c int) {
	id := ct.id([]byte(k)) // before indexing: id may grow counts
	ct.counts[id] += c
}

// counterStateOf returns ct's state, with the values of its spill files
// (sp may be nil), one partition at a time.
func counterStateOf(ct *counter, sp *spill) (counterState, error) {
	cs := newCounterState()
	cs.Null = ct.null
	if sp == nil || len(sp.files) == 0 {
		for id, k := range ct.keys {
			cs.add(k, ct.counts[id])
		}
		cs.sort()
		return cs, nil
	}
	rest := make([][]int, spillParts)
	for id, k := range ct.keys {
		rest[partOf(k)] = append(rest[partOf(k)], id)
	}
	part := &counter{}
	var pr partReader
	for p := range spillParts {
		part.reset()
		for _, f := range sp.files {
			if err := pr.read(f, p, part); err != nil {
				return cs, err
			}
		}
		for _, id := range rest[p] {
			part.addCount(ct.keys[id], ct.counts[id])
		}
		for id, k := range part.keys {
			cs.add(k, part.counts[id])
		}
	}
	cs.sort()
	return cs, nil
}

type labelsState struct {
	Rows int `json:"rows"`
	counterState
}

func (la *labels) state() (any, error) {
	cs, err := counterStateOf(&la.counter, la.sp)
	if la.sp != nil && err == nil {
		err = la.sp.err
	}
	return labelsState{Rows: la.n, counterState: cs}, err
}

func (la *labels) addState(raw json.RawMessage, _ uint32) error {
	var st labelsState
	if err := json.Unmarshal(raw, &st); err != nil {
		return err
	}
	if st.Rows < 0 {
		return fmt.Errorf("%d rows", st.Rows)
	}
	la.n += st.Rows
	la.null += st.Null
	err := st.each(func(k string, c int) {
		la.addCount(k, c)
		la.spillIfFull()
	})
	return err
}

// similarityState holds the valid values as value and count, ascending.
type similarityState struct {
	Values  [][2]float64 `json:"values"`
	Null    int          `json:"null"`
	NaN     int          `json:"nan"`
	Above1  int          `json:"above_1"`
	Below   int          `json:"below_minus_1"`
	Below03 int          `json:"below_0_3"`
}

func (s *similarity) state() (any, error) {
	slices.Sort(s.vals)
	st := similarityState{Values: [][2]float64{}, Null: s.null, NaN: s.nan, Above1: s.above, Below: s.below, Below03: s.lo03}
	for i := 0; i < len(s.vals); {
		j := i
		for j < len(s.vals) && s.vals[j] == s.vals[i] {
			j++
		}
		st.Values = append(st.Values, [2]float64{s.vals[i], float64(j - i)})
		i = j
	}
	return st, nil
}

func (s *similarity) addState(raw json.RawMessage, _ uint32) error {
	var st similarityState
	if err := json.Unmarshal(raw, &st); err != nil {
		return err
	}
	if min(st.Null, st.NaN, st.Above1, st.Below, st.Below03) < 0 {
		return fmt.Errorf("a negative count of values")
	}
	for _, vc := range st.Values {
		if vc[1] < 1 || vc[1] != math.Trunc(vc[1]) || vc[0] < -1 || vc[0] > 1 {
			return fmt.Errorf("a similarity value %v", vc)
		}
		for range int(vc[1]) {
			s.vals = append(s.vals, vc[0])
		}
	}
	s.null += st.Null
	s.nan += st.NaN
	s.above += st.Above1
	s.below += st.Below
	s.lo03 += st.Below03
	return nil
}

type lexiconState struct {
	Name     string       `json:"name"`
	Keywords []string     `json:"keywords"`
	Text     int          `json:"text"`
	URL      int          `json:"url"`
	Either   int          `json:"either"`
	PerKW    [][3]int     `json:"per_keyword"` // text, url, either
	ByNSFW   counterState `json:"by_nsfw"`
}

type lexStatsState struct {
	Rows     int            `json:"rows"`
	Lexicons []lexiconState `json:"lexicons"`
}

func (a *lexStats) state() (any, error) {
	st := lexStatsState{Rows: a.n, Lexicons: []lexiconState{}}
	for l, lx := range a.lexicons {
		lc := &a.lex[l]
		by, err := counterStateOf(&lc.byNSFW, nil)
		if err != nil {
			return nil, err
		}
		ls := lexiconState{Name: lx.name, Keywords: lx.keywords, Text: lc.text, URL: lc.url, Either: lc.either, PerKW: [][3]int{}, ByNSFW: by}
		for _, k := range lc.kw {
			ls.PerKW = append(ls.PerKW, [3]int{k.text, k.url, k.either})
		}
		st.Lexicons = append(st.Lexicons, ls)
	}
	return st, nil
}

func (a *lexStats) addState(raw json.RawMessage, _ uint32) error {
	var st lexStatsState
	if err := json.Unmarshal(raw, &st); err != nil {
		return err
	}
	if len(st.Lexicons) != len(a.lexicons) || st.Rows < 0 {
		return fmt.Errorf("%d lexicons of %d rows, want %d lexicons", len(st.Lexicons), st.Rows, len(a.lexicons))
	}
	a.n += st.Rows
	for l, lx := range a.lexicons {
		ls, lc := &st.Lexicons[l], &a.lex[l]
		if ls.Name != lx.name || !slices.Equal(ls.Keywords, lx.keywords) || len(ls.PerKW) != len(lc.kw) {
			return fmt.Errorf("lexicon %s with keywords %q, want %s with %q", ls.Name, ls.Keywords, lx.name, lx.keywords)
		}
		if min(ls.Text, ls.URL, ls.Either) < 0 {
			return fmt.Errorf("lexicon %s: a negative count", ls.Name)
		}
		lc.text += ls.Text
		lc.url += ls.URL
		lc.either += ls.Either
		for k, c := range ls.PerKW {
			if min(c[0], c[1], c[2]) < 0 {
				return fmt.Errorf("lexicon %s: a negative count", ls.Name)
			}
			lc.kw[k].text += c[0]
			lc.kw[k].url += c[1]
			lc.kw[k].either += c[2]
		}
		lc.byNSFW.null += ls.ByNSFW.Null
		if err := ls.ByNSFW.each(func(k string, c int) { lc.byNSFW.addCount(k, c) }); err != nil {
			return err
		}
	}
	return nil
}

// fileCountsState is the selected rows of each of the shard's files.
type fileCountsState struct {
	Files  []string `json:"files"`
	Rows   []int    `json:"rows"`
	Counts []int    `json:"counts"`
}

func (fc *fileCounts) state() (any, error) {
	st := fileCountsState{Files: []string{}, Rows: []int{}, Counts: fc.n}
	for _, f := range fc.files {
		st.Files = append(st.Files, f.name)
		st.Rows = append(st.Rows, int(f.hi-f.lo))
	}
	return st, nil
}

func (fc *fileCounts) addState(raw json.RawMessage, rowOff uint32) error {
	var st fileCountsState
	if err := json.Unmarshal(raw, &st); err != nil {
		return err
	}
	if len(st.Files) != len(st.Counts) || len(st.Files) != len(st.Rows) {
		return fmt.Errorf("%d files, %d row counts and %d counts", len(st.Files), len(st.Rows), len(st.Counts))
	}
	// The shard's files are the merged store's from its first row on (its
	// first file's rows may have begun in the shard before).
	lo := rowOff
	for j, name := range st.Files {
		i := sort.Search(len(fc.files), func(i int) bool { return fc.files[i].hi > lo })
		if i == len(fc.files) || fc.files[i].name != name {
			return fmt.Errorf("file %s is not the shard's file %d", name, j+1)
		}
		if st.Counts[j] < 0 || st.Rows[j] < 0 {
			return fmt.Errorf("file %s: %d of %d rows", name, st.Counts[j], st.Rows[j])
		}
		fc.n[i] += st.Counts[j]
		lo += uint32(st.Rows[j])
	}
	return nil
}

type sweepRowState struct {
	Kept           int            `json:"kept"`
	Dropped        int            `json:"dropped"`
	KeptFlagged    int            `json:"kept_flagged"`
	DroppedFlagged int            `json:"dropped_flagged"`
	KeptNull       int            `json:"kept_null"`
	DroppedNull    int            `json:"dropped_null"`
	KeptBy         map[string]int `json:"kept_by"`
	DroppedBy      map[string]int `json:"dropped_by"`
}

type sweepState struct {
	Rows       int             `json:"rows"`
	Missing    int             `json:"missing"`
	Labels     counterState    `json:"labels"`
	Agreement  Agreement       `json:"agreement"`
	Thresholds []sweepRowState `json:"thresholds"`
}

func (a *sweepStats) state() (any, error) {
	labels, err := counterStateOf(&a.labels, nil)
	if err != nil {
		return nil, err
	}
	st := sweepState{Rows: a.n, Missing: a.missing, Labels: labels, Agreement: a.ag, Thresholds: []sweepRowState{}}
	for _, r := range a.rows {
		rs := sweepRowState{Kept: r.kept, Dropped: r.dropped, KeptFlagged: r.keptFlagged, DroppedFlagged: r.droppedFlagged,
			KeptNull: r.keptNull, DroppedNull: r.droppedNull, KeptBy: map[string]int{}, DroppedBy: map[string]int{}}
		for k, c := range r.keptBy {
			rs.KeptBy[a.labels.keys[k]] = c
		}
		for k, c := range r.droppedBy {
			rs.DroppedBy[a.labels.keys[k]] = c
		}
		st.Thresholds = append(st.Thresholds, rs)
	}
	return st, nil
}

func (a *sweepStats) addState(raw json.RawMessage, rowOff uint32) error {
	var st sweepState
	if err := json.Unmarshal(raw, &st); err != nil {
		return err
	}
	if len(st.Thresholds) != len(a.rows) {
		return fmt.Errorf("%d thresholds, want %d", len(st.Thresholds), len(a.rows))
	}
	if st.Rows < 0 || st.Missing < 0 || min(st.Agreement.Compared, st.Agreement.Differ, st.Agreement.Invalid) < 0 {
		return fmt.Errorf("a negative count")
	}
	a.n += st.Rows
	a.missing += st.Missing
	a.labels.null += st.Labels.Null
	if err := st.Labels.each(func(k string, c int) { a.labels.addCount(k, c) }); err != nil {
		return err
	}
	ag := st.Agreement
	a.ag.Compared += ag.Compared
	a.ag.Differ += ag.Differ
	a.ag.MaxDiff = max(a.ag.MaxDiff, ag.MaxDiff)
	a.ag.Invalid += ag.Invalid
	for _, e := range ag.Examples {
		e.Row += rowOff
		a.ag.Examples = append(a.ag.Examples, e)
	}
	a.ag.Examples = firstExamples(a.ag.Examples)
	for t, rs := range st.Thresholds {
		if min(rs.Kept, rs.Dropped, rs.KeptFlagged, rs.DroppedFlagged, rs.KeptNull, rs.DroppedNull) < 0 {
			return fmt.Errorf("threshold %d: a negative count", t+1)
		}
		r := &a.rows[t]
		r.kept += rs.Kept
		r.dropped += rs.Dropped
		r.keptFlagged += rs.KeptFlagged
		r.droppedFlagged += rs.DroppedFlagged
		r.keptNull += rs.KeptNull
		r.droppedNull += rs.DroppedNull
		for _, by := range []struct {
			m   map[string]int
			dst *[]int
		}{{rs.KeptBy, &r.keptBy}, {rs.DroppedBy, &r.droppedBy}} {
			for k, c := range by.m {
				if c < 0 {
					return fmt.Errorf("threshold %d: a negative count", t+1)
				}
				id := a.labels.id([]byte(k))
				for len(r.keptBy) <= id {
					r.keptBy = append(r.keptBy, 0)
					r.droppedBy = append(r.droppedBy, 0)
				}
				(*by.dst)[id] += c
			}
		}
	}
	return nil
}
