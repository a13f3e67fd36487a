package audit

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/internal/par"
	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/vector"
)

// DefaultNearThreshold is the cosine at which clip-retrieval hides
// near-duplicate images from its search results.
const DefaultNearThreshold = 0.94

// The methods of NearDuplicates.
const (
	NearExact = "exact" // every pair of rows scored
	NearIndex = "index" // each row's nearest neighbours through the store's search
)

// Defaults of NearOptions.
const (
	DefaultNearExactUpTo = 100_000
	DefaultNearK         = 32
	DefaultRecallSample  = 1000
)

// NearOptions configure NearDuplicates. Zero fields take the defaults
// noted.
type NearOptions struct {
	// Threshold is the cosine at or above which two rows' embeddings are
	// near-duplicates, in (0, 1] (default DefaultNearThreshold).
	Threshold float64
	// Space is the embeddings compared: the rows' image embeddings (the
	// zero value) or their text embeddings.
	Space query.Space
	// Selection, when not nil, restricts the rows considered (rows
	// without an embedding in Space are never considered), and Where, for
	// the report, says how they were chosen (the predicate that selected
	// them, say).
	Selection *vector.Bitset
	Where     string
	// Method is NearExact, NearIndex, or "" to choose: exact for at most
	// ExactUpTo rows considered, else index.
	Method string
	// ExactUpTo is the largest number of rows the automatic choice
	// answers exactly (default DefaultNearExactUpTo).
	ExactUpTo int
	// K is the number of neighbours, besides itself, the index method asks
	// for each row (default DefaultNearK).
	K int
	// RecallSample is the number of rows whose pairs the index method also
	// finds exactly, to measure its recall (default DefaultRecallSample;
	// -1: none).
	RecallSample int
	// Seed chooses the recall sample: equal seeds, equal samples.
	Seed uint64
	// KeepRows keeps the rows a dedup drops (NearReport.Drop and Kept).
	KeepRows bool
}

// NearReport describes the near-duplicate embeddings among a store's rows.
// Two rows are joined when their embeddings' cosine is at least the
// threshold, as the store scores it from either row (within(row(a), t)
// returns b, or within(row(b), t) returns a: the two scores can differ in
// the last bit of a float32, and the rule makes the groups independent of
// the order rows are visited in). Groups are the connected components of
// these pairs: a ~ b and b ~ c put a, b and c in one group even when a and
// c lie further apart. Each group's representative, the row a dedup
// keeps, is its lowest store row, as for exact duplicates.
type NearReport struct {
	Fingerprint string  `json:"fingerprint"`
	Space       string  `json:"space"`
	Threshold   float64 `json:"threshold"`
	// Method is NearExact or NearIndex. Exact reports whether every pair at
	// or above the threshold was found.
	Method string `json:"method"`
	Exact  bool   `json:"exact"`
	// Plan says what was computed, a line for each step.
	Plan []string `json:"plan"`
	// StoreRows is the number of rows in the store; Rows the number
	// considered: selected, with an embedding in Space.
	StoreRows int `json:"store_rows"`
	Rows      int `json:"rows"`
	// Where is NearOptions.Where.
	Where string `json:"where,omitempty"`
	// Pairs is the number of pairs of rows found at or above the
	// threshold. NearThreshold counts the pairs, among those scored, whose
	// score lies within engine.ScoreTolerance of the threshold on either
	// side: float32 rounding, not the data, decides whether they are in.
	Pairs         int64 `json:"pairs"`
	NearThreshold int64 `json:"near_threshold"`
	// GroupStats describes the groups, each with its representative as
	// first row.
	GroupStats
	// Scored is the number of scores the searches computed.
	Scored int64 `json:"scored"`
	// Index describes the index method's searches; nil for the exact one.
	Index *IndexPass `json:"index,omitempty"`
	// Drop are the rows a dedup drops, in store order, and Kept the
	// representative of each one's group (with NearOptions.KeepRows).
	Drop []uint32 `json:"-"`
	Kept []uint32 `json:"-"`
}

// IndexPass describes the searches of the index method.
type IndexPass struct {
	// K is the number of neighbours asked for each row besides itself.
	K int `json:"k"`
	// Searches is the number of searches, Approximate those the store
	// answered approximately (through its index), and Method the first
	// search's method as the store describes it.
	Searches    int    `json:"searches"`
	Approximate int    `json:"approximate"`
	Method      string `json:"method"`
	// Full counts the rows whose K neighbours all scored at or above the
	// threshold: such a row may have more, and a pair that neither row's
	// search returns joins a group only through a chain of other pairs.
	Full int `json:"full"`
	// Recall is measured on a sample of rows; nil when not asked for.
	Recall *PairRecall `json:"recall,omitempty"`
}

// PairRecall compares the index method's pairs with the exact pairs of a
// sample of rows: every pair at or above the threshold that has a sample
// row in it, found by range searches as the exact method finds them.
type PairRecall struct {
	// Sample is the number of rows drawn, uniformly without replacement
	// from the rows considered, with Seed.
	Sample int    `json:"sample"`
	Seed   uint64 `json:"seed"`
	// Pairs is the share of those pairs the index method found, with its
	// Wilson 95% interval (pairs of one row are missed together more often
	// than independent draws would be, so the interval is indicative);
	// Joined the share whose rows it put in one group, directly or through
	// a chain.
	Pairs  engine.Proportion `json:"pairs"`
	Joined engine.Proportion `json:"joined"`
}

// NearDuplicates finds the groups of near-duplicate embeddings among the
// rows of s that o selects (see NearReport). The exact method scores every
// pair once, from its lower row, by exact range searches (one pass over
// the rows for many searches when s is an engine.WithinBatcher), and
// rescores from the other row the pairs that fall just below the
// threshold. The index method asks s for each row's K nearest rows (its
// index answers when it has one) and keeps those at or above the
// threshold; its recall is measured on a sample. Both run on all cores and
// stop when ctx is cancelled. Bad options are an error; a selection
// without rows is an empty report.
func NearDuplicates(ctx context.Context, s engine.Store, o *NearOptions) (*NearReport, error) {
	opts, err := nearDefaults(o)
	if err != nil {
		return nil, err
	}
	sel := s.VectorRows(opts.Space)
	if sel.Count() == 0 {
		return nil, fmt.Errorf("neardups: the store has no %s embeddings", opts.Space)
	}
	// Searches over every row with an embedding need no allow-list.
	var allow *vector.Bitset
	if opts.Selection != nil {
		sel.And(opts.Selection)
		allow = sel
	}
	var rows []uint32
	sel.ForEach(func(r uint32) bool { rows = append(rows, r); return true })
	r := &NearReport{Fingerprint: s.Fingerprint(), Space: opts.Space.String(), Threshold: opts.Threshold,
		StoreRows: s.NumRows(), Rows: len(rows), Where: opts.Where, GroupStats: summarize(nil)}
	what := fmt.Sprintf("%d rows with %s %s embedding", len(rows), article(opts.Space), opts.Space)
	if opts.Selection != nil {
		what = "the selected " + what
	}
	r.Plan = append(r.Plan, fmt.Sprintf("rows: %s, of %d in the store", what, r.StoreRows))
	method, why := opts.Method, ""
	if method == "" {
		method, why = NearIndex, fmt.Sprintf(" (more than %d rows)", opts.ExactUpTo)
		if len(rows) <= opts.ExactUpTo {
			method, why = NearExact, fmt.Sprintf(" (at most %d rows)", opts.ExactUpTo)
		}
	}
	r.Method = method
	if len(rows) == 0 {
		r.Exact = true
		r.Plan = append(r.Plan, "no row to compare")
		return r, nil
	}
	p := &nearPass{s: s, sp: opts.Space, t: float32(opts.Threshold), sel: sel, uf: newUnionFind(s.NumRows())}
	if err := p.setBlock(ctx, rows[0], len(rows)); err != nil {
		return nil, err
	}
	if method == NearExact {
		err = p.exact(ctx, r, rows, why)
	} else {
		err = p.index(ctx, r, rows, allow, why, opts)
	}
	if err != nil {
		return nil, err
	}
	r.Scored = p.scored
	r.Plan = append(r.Plan, "groups: the connected components of the pairs; each group's representative, the row a dedup keeps, is its lowest store row")
	p.groups(r, rows, opts.KeepRows)
	return r, nil
}

// nearDefaults validates o and fills in the defaults.
func nearDefaults(o *NearOptions) (NearOptions, error) {
	var opts NearOptions
	if o != nil {
		opts = *o
	}
	if opts.Threshold == 0 {
		opts.Threshold = DefaultNearThreshold
	}
	switch {
	case !(opts.Threshold > 0 && opts.Threshold <= 1): // NaN too
		return opts, fmt.Errorf("neardups: threshold %v: want a cosine above 0 and at most 1", opts.Threshold)
	case opts.Space != query.SpaceImage && opts.Space != query.SpaceText:
		return opts, fmt.Errorf("neardups: unknown embedding space %d", opts.Space)
	case opts.Method != "" && opts.Method != NearExact && opts.Method != NearIndex:
		return opts, fmt.Errorf("neardups: method %q: want %q, %q or empty (automatic)", opts.Method, NearExact, NearIndex)
	case opts.K < 0:
		return opts, fmt.Errorf("neardups: %d neighbours: want at least 1", opts.K)
	case opts.ExactUpTo < 0:
		return opts, fmt.Errorf("neardups: exact up to %d rows: want 0 (the default) or more", opts.ExactUpTo)
	case opts.RecallSample < -1:
		return opts, fmt.Errorf("neardups: recall sample of %d rows: want -1 (none), 0 (the default) or more", opts.RecallSample)
	}
	if opts.K == 0 {
		opts.K = DefaultNearK
	}
	if opts.ExactUpTo == 0 {
		opts.ExactUpTo = DefaultNearExactUpTo
	}
	if opts.RecallSample == 0 {
		opts.RecallSample = DefaultRecallSample
	}
	return opts, nil
}

func article(sp query.Space) string {
	if sp == query.SpaceImage {
		return "an"
	}
	return "a"
}

// rescoreMargin is how far below the threshold the exact method looks for
// pairs to rescore from their other row: two stored vectors' scores from
// either side lie within engine.ScoreTolerance of their float64 cosine,
// so within twice that of each other; the margin doubles it again.
const rescoreMargin = 4 * engine.ScoreTolerance

// nearPass holds the state of one NearDuplicates call.
type nearPass struct {
	s  engine.Store
	sp query.Space
	t  float32
	// sel are the rows considered.
	sel *vector.Bitset
	uf  unionFind
	// block is the number of range searches in one pass over the rows.
	block  int
	scored int64
}

// setBlock sizes the passes of range searches over n rows from the
// dimension of row's embedding: the queries of a pass fit in 256 KiB (a
// core's L2 cache), between 16 and 256 of them, and fewer when the rows
// are many, so that a pass holds at most 1<<26 hits whatever the
// threshold.
func (p *nearPass) setBlock(ctx context.Context, row uint32, n int) error {
	v, err := p.vectors(ctx, []uint32{row})
	if err != nil {
		return err
	}
	p.block = max(1, min(256, max(16, 64<<10/len(v[0])), 1<<26/n))
	return nil
}

// near reports whether a score lies within engine.ScoreTolerance of the
// threshold, as the store's range searches count them.
func (p *nearPass) near(score float32) bool {
	return score >= p.t-engine.ScoreTolerance && score < p.t+engine.ScoreTolerance
}

// vectors resolves the embeddings of rows. It runs on one goroutine: a
// store may keep a row target as state for the searches that follow it
// (package db's view does, to rank that row first among its ties), so row
// targets are resolved one at a time, before the searches that use them.
func (p *nearPass) vectors(ctx context.Context, rows []uint32) ([][]float32, error) {
	out := make([][]float32, len(rows))
	for i, r := range rows {
		v, err := p.s.Vector(ctx, query.Target{Kind: query.TargetRow, Row: r, Space: p.sp})
		if err != nil {
			return nil, fmt.Errorf("neardups: the %s embedding of row %d: %w", p.sp, r, err)
		}
		out[i] = v
	}
	return out, nil
}

// within runs exact range searches at min for the vectors qs over the
// rows allow admits (nil: every row with an embedding): at once when the
// store is a WithinBatcher, else in parallel.
func (p *nearPass) within(ctx context.Context, qs [][]float32, min float32, allow *vector.Bitset) ([]engine.SearchResult, error) {
	reqs := make([]engine.SearchRequest, len(qs))
	for i, q := range qs {
		reqs[i] = engine.SearchRequest{Vec: q, MinScore: min, Allow: allow, Exact: true, Image: p.sp == query.SpaceImage, Space: p.sp}
	}
	var out []engine.SearchResult
	if wb, ok := p.s.(engine.WithinBatcher); ok {
		var err error
		if out, err = wb.WithinBatch(ctx, reqs); err != nil {
			return nil, fmt.Errorf("neardups: %w", err)
		}
	} else {
		out = make([]engine.SearchResult, len(reqs))
		err := par.ChunksErr(ctx, runtime.GOMAXPROCS(0), len(reqs), 1, func(_, lo, hi int) error {
			for i := lo; i < hi; i++ {
				var err error
				if out[i], err = p.s.Within(ctx, reqs[i]); err != nil {
					return fmt.Errorf("neardups: %w", err)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for _, sr := range out {
		p.scored += int64(sr.Scanned)
	}
	return out, nil
}

// pairs calls pair(a, b) for each row a of qs and each row b != a of
// allow (nil: every row with an embedding) whose cosine is at least the
// threshold from either side. With upper, b is instead any row considered
// above a (the searches run over the rows from their block's first on),
// so that each pair comes once; without, a pair may come twice (not when
// every row of qs lies below every row of allow: a task of two shards,
// WriteNearPartial). It returns the number of hits whose score lies within
// engine.ScoreTolerance of the threshold: with upper, or with qs below
// allow, the pairs whose score from the lower row does.
func (p *nearPass) pairs(ctx context.Context, qs []uint32, allow *vector.Bitset, upper bool, pair func(a, b uint32)) (int64, error) {
	var band int64
	type rescore struct{ from, to uint32 }
	var again []rescore
	for lo := 0; lo < len(qs); lo += p.block {
		block := qs[lo:min(lo+p.block, len(qs))]
		vecs, err := p.vectors(ctx, block)
		if err != nil {
			return 0, err
		}
		over := allow
		if upper {
			over = from(p.sel, block[0])
		}
		res, err := p.within(ctx, vecs, p.t-rescoreMargin, over)
		if err != nil {
			return 0, err
		}
		for i, sr := range res {
			a := block[i]
			for _, h := range sr.Hits {
				b := h.Row
				if b == a || upper && b < a {
					continue
				}
				if p.near(h.Score) {
					band++
				}
				if h.Score >= p.t {
					pair(a, b)
				} else {
					again = append(again, rescore{b, a})
				}
			}
		}
	}
	if len(again) == 0 {
		return band, nil
	}
	// The pairs just below the threshold from one side, scored from the
	// other: one range search for each row, over the rows it rescores.
	slices.SortFunc(again, func(x, y rescore) int { return cmp.Or(cmp.Compare(x.from, y.from), cmp.Compare(x.to, y.to)) })
	want := map[rescore]bool{}
	to := vector.NewBitset(p.s.NumRows())
	var froms []uint32
	for _, x := range again {
		want[x] = true
		to.Set(x.to)
		if len(froms) == 0 || froms[len(froms)-1] != x.from {
			froms = append(froms, x.from)
		}
	}
	for lo := 0; lo < len(froms); lo += p.block {
		block := froms[lo:min(lo+p.block, len(froms))]
		vecs, err := p.vectors(ctx, block)
		if err != nil {
			return 0, err
		}
		res, err := p.within(ctx, vecs, p.t, to)
		if err != nil {
			return 0, err
		}
		for i, sr := range res {
			for _, h := range sr.Hits {
				if want[rescore{block[i], h.Row}] {
					pair(h.Row, block[i])
				}
			}
		}
	}
	return band, nil
}

// from returns the rows of sel from first on.
func from(sel *vector.Bitset, first uint32) *vector.Bitset {
	out := vector.NewBitset(sel.Cap())
	out.Or(sel)
	w := out.Words()
	clear(w[:first/64])
	w[first/64] &^= 1<<(first%64) - 1
	return out
}

// exact finds every pair among rows by exact range searches.
func (p *nearPass) exact(ctx context.Context, r *NearReport, rows []uint32, why string) error {
	band, err := p.pairs(ctx, rows, nil, true, func(a, b uint32) {
		r.Pairs++
		p.uf.union(a, b)
	})
	if err != nil {
		return err
	}
	r.Exact, r.NearThreshold = true, band
	passes := (len(rows) + p.block - 1) / p.block
	r.Plan = append(r.Plan,
		fmt.Sprintf("method: exact%s: every pair scored once, from its lower row, by exact range searches at cosine >= %.6g over the rows from each search's block on, %d passes of up to %d searches; pairs scoring less than %.0e below the threshold rescored from their other row", why, r.Threshold, passes, p.block, rescoreMargin),
		"pairs: two rows are joined when either row's range search returns the other")
	return nil
}

// index finds each row's pairs among its K nearest rows.
func (p *nearPass) index(ctx context.Context, r *NearReport, rows []uint32, allow *vector.Bitset, why string, opts NearOptions) error {
	k := opts.K
	ip := &IndexPass{K: k, Searches: len(rows)}
	r.Index = ip
	workers := runtime.GOMAXPROCS(0)
	type state struct {
		keys, band           []uint64
		approx, full, scored int
	}
	st := make([]state, workers)
	const block = 4096
	for lo := 0; lo < len(rows); lo += block {
		blk := rows[lo:min(lo+block, len(rows))]
		vecs, err := p.vectors(ctx, blk)
		if err != nil {
			return err
		}
		err = par.ChunksErr(ctx, workers, len(blk), 16, func(w, i0, i1 int) error {
			s := &st[w]
			for i := i0; i < i1; i++ {
				sr, err := p.s.Search(ctx, engine.SearchRequest{Vec: vecs[i], K: k + 1, Allow: allow, Image: p.sp == query.SpaceImage, Space: p.sp})
				if err != nil {
					return fmt.Errorf("neardups: the search of row %d: %w", blk[i], err)
				}
				if lo+i == 0 {
					ip.Method = sr.Method
				}
				s.scored += sr.Scanned
				if !sr.Exact {
					s.approx++
				}
				if len(sr.Hits) == k+1 && sr.Hits[k].Score >= p.t {
					s.full++
				}
				a := blk[i]
				for _, h := range sr.Hits {
					switch {
					case h.Row == a:
					case h.Score >= p.t:
						s.keys = append(s.keys, pairKey(a, h.Row))
					}
					if h.Row != a && p.near(h.Score) {
						s.band = append(s.band, pairKey(a, h.Row))
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	var keys, band []uint64
	for _, s := range st {
		keys, band = append(keys, s.keys...), append(band, s.band...)
		ip.Approximate += s.approx
		ip.Full += s.full
		p.scored += int64(s.scored)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	slices.Sort(band)
	r.Pairs, r.NearThreshold = int64(len(keys)), int64(len(slices.Compact(band)))
	for _, key := range keys {
		p.uf.union(uint32(key>>32), uint32(key))
	}
	r.Exact = ip.Approximate == 0 && ip.Full == 0
	r.Plan = append(r.Plan,
		fmt.Sprintf("method: index%s: each row's %d nearest rows besides itself, by the store's search (%d of %d searches approximate; the first: %s)", why, k, ip.Approximate, ip.Searches, ip.Method),
		"pairs: two rows are joined when either row's search returns the other at or above the threshold",
		fmt.Sprintf("rows whose %d neighbours all scored at or above the threshold: %d (such a row may have more; a pair that neither row's search returns joins a group only through a chain)", k, ip.Full))
	if opts.RecallSample < 0 {
		r.Plan = append(r.Plan, "recall: not measured")
		return nil
	}
	sample := sampleRows(rows, opts.RecallSample, opts.Seed)
	truth := map[uint64]bool{}
	if _, err := p.pairs(ctx, sample, allow, false, func(a, b uint32) { truth[pairKey(a, b)] = true }); err != nil {
		return err
	}
	found, joined := 0, 0
	for key := range truth {
		if _, ok := slices.BinarySearch(keys, key); ok {
			found++
		}
		if p.uf.find(uint32(key>>32)) == p.uf.find(uint32(key)) {
			joined++
		}
	}
	ip.Recall = &PairRecall{Sample: len(sample), Seed: opts.Seed, Pairs: engine.NewProportion(found, len(truth)), Joined: engine.NewProportion(joined, len(truth))}
	line := fmt.Sprintf("recall: %d sample rows (seed %d) have %d pairs at or above the threshold, found exactly", len(sample), opts.Seed, len(truth))
	if len(truth) > 0 {
		pr, jr := ip.Recall.Pairs, ip.Recall.Joined
		line += fmt.Sprintf("; the index method found %d (%.4f, 95%% CI %.4f–%.4f) and joined %d in one group (%.4f, %.4f–%.4f)", found, pr.Share, pr.Lo, pr.Hi, joined, jr.Share, jr.Lo, jr.Hi)
	} else {
		line += "; recall undefined (sample more rows)"
	}
	r.Plan = append(r.Plan, line)
	return nil
}

// pairKey identifies the pair of rows a and b whatever their order.
func pairKey(a, b uint32) uint64 {
	return uint64(min(a, b))<<32 | uint64(max(a, b))
}

// sampleRows draws n of rows (all when n >= len(rows)), uniformly without
// replacement, in store order.
func sampleRows(rows []uint32, n int, seed uint64) []uint32 {
	if n >= len(rows) {
		return rows
	}
	r := rand.New(rand.NewPCG(seed, 0x73616d706c65)) // "sample"
	pick := slices.Clone(rows)
	for i := 0; i < n; i++ {
		j := i + r.IntN(len(pick)-i)
		pick[i], pick[j] = pick[j], pick[i]
	}
	pick = pick[:n]
	slices.Sort(pick)
	return pick
}

// groups fills r's groups from the union-find.
func (p *nearPass) groups(r *NearReport, rows []uint32, keep bool) {
	r.setGroups(rows, p.uf.find, keep)
}

// setGroups fills r's groups from find, which gives each row's group
// representative (its lowest row), over rows (ascending; rows outside
// every group may be left out); with keep, the rows a dedup drops too.
func (r *NearReport) setGroups(rows []uint32, find func(uint32) uint32, keep bool) {
	size := map[uint32]int{}
	for _, x := range rows {
		if root := find(x); root != x {
			size[root]++
			if keep {
				r.Drop, r.Kept = append(r.Drop, x), append(r.Kept, root)
			}
		}
	}
	groups := make([]Group, 0, len(size))
	for root, n := range size {
		groups = append(groups, Group{Rows: n + 1, First: root})
	}
	r.GroupStats = summarize(groups)
}

// unionFind is a disjoint-set forest over store rows whose roots are each
// set's lowest row.
type unionFind []uint32

func newUnionFind(n int) unionFind {
	u := make(unionFind, n)
	for i := range u {
		u[i] = uint32(i)
	}
	return u
}

// find returns the lowest row of x's set, halving the path to it.
func (u unionFind) find(x uint32) uint32 {
	for u[x] != x {
		u[x] = u[u[x]]
		x = u[x]
	}
	return x
}

// union joins the sets of a and b.
func (u unionFind) union(a, b uint32) {
	a, b = u.find(a), u.find(b)
	if a != b {
		u[max(a, b)] = min(a, b)
	}
}
