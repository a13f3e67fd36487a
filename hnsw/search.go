package hnsw

import (
	"context"
	"fmt"
	"math"

	"github.com/laiondb/laiondb/vector"
)

// Path says which plan answered a search.
type Path uint8

const (
	// PathGraph is the HNSW graph search (approximate).
	PathGraph Path = 1 + iota
	// PathExact is the exact scan, chosen by the planner or forced.
	PathExact
	// PathFallback is the exact scan after a filtered graph search could
	// not find k allowed rows within its budget.
	PathFallback
)

// String returns "graph", "exact" or "fallback".
func (p Path) String() string {
	switch p {
	case PathGraph:
		return "graph"
	case PathExact:
		return "exact"
	case PathFallback:
		return "fallback"
	}
	return fmt.Sprintf("Path(%d)", uint8(p))
}

// SearchOptions tune one Search. The zero value searches the whole graph at
// the index's EfSearch.
type SearchOptions struct {
	// Ef is the candidate list size; 0 means Options.EfSearch. It is raised
	// to k when smaller.
	Ef int
	// Allow, if not nil, restricts the answer to these rows.
	Allow vector.AllowList
	// Exact forces the exact scan.
	Exact bool
	// Seeds, when positive, starts the layer-0 search also from the
	// Seeds best of the graph's hub nodes (at most MaxHubs rows of the
	// highest layers: hubIDs), besides the greedy descent's entry point. DefaultSeeds is what the
	// store uses.
	Seeds int
	// NoSQ8 traverses the graph with exact scores even when the index has
	// SQ8 codes (see Options.NoSQ8).
	NoSQ8 bool
	// Planned skips PlanExact: the caller has weighed the exact scan
	// against the graph already (package db does) and wants the graph.
	Planned bool

	// skip, when hasSkip, is a row the search must neither return nor
	// pass through: Calibrate's stand-in for a query that is not in the
	// graph.
	skip    uint32
	hasSkip bool
}

// DefaultSeeds is the number of hub nodes that seed the layer-0 search in
// the store (package db) and in the benchmark harness. Text queries lie
// off the image manifold, where the greedy descent often ends in a poor
// region: on 1M CLIP-like vectors, 200 text queries, seeding raised
// recall@10 from 0.84 to 0.91 at ef 256 and from 0.92 to 0.96 at ef 512,
// image queries staying at 0.999, for about 4,000 extra scores per query
// (one per hub; BENCHMARKS.md).
const DefaultSeeds = 16

// MaxHubs bounds the hub nodes a seeded search scores, so that seeding
// costs the same at any size of the graph (BenchmarkSeeds). Up to about
// 1,048,576 nodes (MaxHubs × M², M = 16) every node on layer 2 and above
// is a hub, as before the bound. Fewer hubs seed worse: with 1,024 on 1M
// vectors, recall@10 at ef 32 fell from 0.994 to 0.980 for image queries
// and from 0.760 to 0.651 for text queries (BENCHMARKS.md).
const MaxHubs = 4096

// hubIDs returns the hub nodes of a graph whose rows have the given
// levels: the nodes on layer 2 and above when they number at most max;
// otherwise every node on the layers above the highest layer L at which
// they would number more than max, then nodes of layer L, spread evenly
// over its rows, up to max in all. Levels are drawn from a hash of the
// row, so the hubs are a random sample of the rows, densest among the
// nodes with the most links.
func hubIDs(levels []uint8, max int) []uint32 {
	var perLevel [256]int
	for _, l := range levels {
		if l != absent {
			perLevel[l]++
		}
	}
	// from is the lowest layer all of whose nodes (and those above) fit.
	from, above := 2, 0
	for l := 255; l >= 2; l-- {
		if above+perLevel[l] > max {
			from = l + 1
			break
		}
		above += perLevel[l]
	}
	ids := make([]uint32, 0, max)
	if from == 2 {
		for id, l := range levels {
			if l != absent && l >= 2 {
				ids = append(ids, uint32(id))
			}
		}
		return ids
	}
	// Layer from-1 fills the rest: every step-th of its nodes.
	fill := max - above
	step := float64(perLevel[from-1]) / float64(fill)
	next, seen := 0.0, 0
	for id, l := range levels {
		switch {
		case l == absent || int(l) < from-1:
		case int(l) >= from:
			ids = append(ids, uint32(id))
		default:
			if float64(seen) >= next && fill > 0 {
				ids = append(ids, uint32(id))
				fill--
				next += step
			}
			seen++
		}
	}
	return ids
}

// hubSet is the graph's hub nodes (hubIDs) with a packed copy of their
// codes (or, without codes, of their rows), so that scoring all of them
// reads memory sequentially instead of hopping across the vector file.
type hubSet struct {
	n   int         // len(levels) it was computed for
	q8  *vector.SQ8 // the codes it was packed from, or nil
	ids []uint32
	c   vector.SQ8    // their codes, when q8 is not nil
	m   vector.Matrix // their rows, when q8 is nil
}

// hubList returns the hub set, computed once per graph size. The caller
// holds ix.mu for reading, so levels cannot grow meanwhile.
func (ix *Index) hubList() *hubSet {
	valid := func(h *hubSet) bool { return h != nil && h.n == len(ix.levels) && h.q8 == ix.q8 }
	if h := ix.hubs.Load(); valid(h) {
		return h
	}
	ix.hubMu.Lock()
	defer ix.hubMu.Unlock()
	if h := ix.hubs.Load(); valid(h) {
		return h
	}
	h := &hubSet{n: len(ix.levels), q8: ix.q8, ids: hubIDs(ix.levels, MaxHubs)}
	d := ix.dim
	switch {
	case ix.q8 != nil:
		h.c = vector.SQ8{Dim: d, Lo: ix.q8.Lo, Step: ix.q8.Step, Codes: make([]uint8, 0, len(h.ids)*d)}
		for _, id := range h.ids {
			h.c.Codes = append(h.c.Codes, ix.q8.Codes[int(id)*d:int(id+1)*d]...)
		}
	case ix.vecs.F16 != nil:
		h.m = vector.Matrix{Dim: d, F16: make([]uint16, 0, len(h.ids)*d)}
		for _, id := range h.ids {
			h.m.F16 = append(h.m.F16, ix.vecs.F16[int(id)*d:int(id+1)*d]...)
		}
	default:
		h.m = vector.Matrix{Dim: d, F32: make([]float32, 0, len(h.ids)*d)}
		for _, id := range h.ids {
			h.m.F32 = append(h.m.F32, ix.vecs.F32[int(id)*d:int(id+1)*d]...)
		}
	}
	ix.hubs.Store(h)
	return h
}

// seeds scores the hub nodes hs and returns the best k.
func (ix *Index) seeds(s *scratch, hs *hubSet, q []float32, k int) []cand {
	var h minHeap
	for i, id := range hs.ids {
		if s.hasSkip && id == s.skip {
			continue
		}
		var sc float32
		switch {
		case s.approx:
			sc = hs.c.Dot(s.qs, s.bias, i)
		case hs.q8 == nil:
			sc = hs.m.Dot(q, i)
		default: // codes exist but this search does not use them
			sc = ix.vecs.Dot(q, int(id))
		}
		if len(h) < k {
			h.Push(cand{sc, id})
		} else if sc > h[0].score {
			h.Pop()
			h.Push(cand{sc, id})
		}
	}
	return h
}

// Result is the answer of Search.
type Result struct {
	// Hits are sorted by score descending, then row ascending.
	Hits []vector.Hit
	// Path says which plan answered.
	Path Path
	// Exact reports whether Hits is guaranteed to be the true top k.
	Exact bool
	// Scored is the number of vectors scored.
	Scored int
	// Ef is the candidate list size the graph search used (0 if it did not
	// run).
	Ef int
}

// present is the vector.AllowList of rows in the graph.
type present struct {
	levels []uint8
	count  int
}

func (p present) Contains(id uint32) bool { return int(id) < len(p.levels) && p.levels[id] != absent }
func (p present) Count() int              { return p.count }
func (p present) ForEach(fn func(uint32) bool) {
	for i, l := range p.levels {
		if l != absent && !fn(uint32(i)) {
			return
		}
	}
}

// Planner cost constants, measured on this project's reference machine
// (see doc.go, "Choosing between graph and exact scan"): the cost of one
// score in a graph search relative to one in the exact scan, and the scores
// an unfiltered graph search computes per unit of ef.
const (
	graphCostRatio = 4.0
	visitsPerEf    = 16.0
)

// PlanExact reports whether an exact scan of allowed rows out of n is
// expected to be cheaper than a filtered graph search at ef. A graph search
// admitting a fraction s = allowed/n of the rows visits about
// visitsPerEf·ef/s rows, each costing graphCostRatio times a row of the
// (sequential, parallel) exact scan, so the scan wins below
// allowed = sqrt(graphCostRatio·visitsPerEf·ef·n).
func PlanExact(n, allowed, ef int) bool {
	if allowed <= 0 || n <= 0 {
		return true
	}
	cut := math.Sqrt(graphCostRatio * visitsPerEf * float64(ef) * float64(n))
	return float64(allowed) < cut
}

// Search returns the k rows nearest to q by inner product, among the rows
// o.Allow admits. Small indexes and allow-lists (see PlanExact) and o.Exact
// are answered by the exact scan; otherwise a graph search that only admits allowed rows
// into its results runs, and falls back to the exact scan if it cannot find
// k of them. It is safe to call concurrently with other Searches and Add.
func (ix *Index) Search(ctx context.Context, q []float32, k int, o *SearchOptions) (Result, error) {
	var so SearchOptions
	if o != nil {
		so = *o
	}
	return ix.search(ctx, q, k, so, !so.Planned)
}

// search is Search; plan=false skips the planner (benchmarks use it to
// measure the filtered graph search on its own).
func (ix *Index) search(ctx context.Context, q []float32, k int, so SearchOptions, plan bool) (Result, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return Result{}, ErrClosed
	}
	if len(q) != ix.dim {
		return Result{}, fmt.Errorf("hnsw: search: %w: query has %d dimensions, index %d", vector.ErrDimension, len(q), ix.dim)
	}
	if k <= 0 || ix.count == 0 {
		return Result{Path: PathExact, Exact: true}, nil
	}
	ef := so.Ef
	if ef <= 0 {
		ef = ix.opts.EfSearch
	}
	ef = max(ef, k)
	pres := present{ix.levels, ix.count}
	n := ix.count
	allowed := n
	if so.Allow != nil {
		allowed = vector.CountHint(so.Allow)
	}
	exact := func(p Path, scored int) (Result, error) {
		var allow vector.AllowList = pres
		if so.Allow != nil {
			allow = vector.And(so.Allow, pres)
		}
		hits, sc, err := vector.Exact(ctx, ix.vecs.Slice(0, len(ix.levels)), q, k, allow)
		if err != nil {
			return Result{}, err
		}
		return Result{Hits: hits, Path: p, Exact: true, Scored: scored + sc}, nil
	}
	if so.Exact || k >= n || (plan && PlanExact(n, allowed, ef)) {
		return exact(PathExact, 0)
	}
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("hnsw: search: %w", err)
	}
	epID, top, ok := ix.entry()
	if !ok {
		return Result{Path: PathGraph, Exact: true}, nil
	}
	s := ix.getScratch()
	defer ix.putScratch(s)
	locked := ix.building
	s.skip, s.hasSkip = so.skip, so.hasSkip
	s.approx = ix.q8 != nil && ix.q8.Len() >= len(ix.levels) && !so.NoSQ8
	if s.approx {
		s.qs, s.bias = ix.q8.Prepare(q, s.qs)
	}
	ep := cand{ix.score(s, q, epID), epID}
	scored := 1
	for lc := top; lc > 0; lc-- {
		ep = ix.greedy(s, q, ep, lc, locked)
	}
	budget := 0
	if so.Allow != nil {
		// A filtered search visits about ef/s rows; allow a generous multiple
		// before handing over to the exact scan, which costs about
		// `allowed` scores.
		budget = max(allowed, int(visitsPerEf*float64(ef))*4)
	}
	var seeds []cand
	if so.Seeds > 0 {
		hs := ix.hubList()
		seeds = ix.seeds(s, hs, q, so.Seeds)
		scored += len(hs.ids)
	}
	v, stopped := ix.searchLayer(s, q, ep, ef, 0, locked, so.Allow, budget, seeds...)
	scored += v
	if len(s.res) < k || stopped {
		// Too few allowed rows reachable, or the budget ran out (the
		// results so far would be a poor answer): scan.
		return exact(PathFallback, scored)
	}
	hits := make([]vector.Hit, len(s.res))
	for i, c := range s.res {
		hits[i] = vector.Hit{ID: c.id, Score: c.score}
	}
	vector.SortHits(hits)
	if s.approx {
		// Re-rank the best candidates by their exact scores. Each row's
		// first line is asked for 16 rows before it is scored
		// (vector.Matrix.PrefetchHead): in a one-off A/B on 1M mapped
		// rows, 1,000 image and 1,000 text queries at ef 16, 32 and 128,
		// 5 alternated rounds, QPS rose by 2–8% (medians).
		hits = hits[:min(len(hits), rerankDepth(k))]
		const ahead = 16
		for _, h := range hits[:min(ahead, len(hits))] {
			ix.vecs.PrefetchHead(int(h.ID), 1)
		}
		for i := range hits {
			if i+ahead < len(hits) {
				ix.vecs.PrefetchHead(int(hits[i+ahead].ID), 1)
			}
			hits[i].Score = ix.vecs.Dot(q, int(hits[i].ID))
		}
		scored += len(hits)
		vector.SortHits(hits)
	}
	return Result{Hits: hits[:k:k], Path: PathGraph, Scored: scored, Ef: ef}, nil
}

// Range returns every row in the graph (restricted to allow, if not nil)
// whose inner product with q is at least min, by an exact scan, sorted by
// score descending, then row ascending, and the number of vectors scored.
func (ix *Index) Range(ctx context.Context, q []float32, min float32, allow vector.AllowList) ([]vector.Hit, int, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return nil, 0, ErrClosed
	}
	if len(q) != ix.dim {
		return nil, 0, fmt.Errorf("hnsw: range: %w: query has %d dimensions, index %d", vector.ErrDimension, len(q), ix.dim)
	}
	if ix.count == 0 {
		return nil, 0, nil
	}
	var a vector.AllowList = present{ix.levels, ix.count}
	if allow != nil {
		a = vector.And(allow, a)
	}
	return vector.ExactRange(ctx, ix.vecs.Slice(0, len(ix.levels)), q, min, a)
}

// rerankDepth is how many of a graph search's best candidates, ranked by
// their SQ8 scores, are re-ranked by exact scores to give the top k. SQ8
// scores are off by at most half a quantisation step per component (about
// 1e-3 for CLIP vectors), far less than the score spread of 8k
// candidates; on 1M CLIP-like vectors re-ranking 4k or all ef candidates
// gave the same recall@10 at every ef (BENCHMARKS.md).
func rerankDepth(k int) int { return max(8*k, 64) }
