package hnsw

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

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
	// Seeds, when positive, replaces the greedy descent through layers 2
	// and 1 by beam searches (seedEf) and starts the layer-0 search from
	// their Seeds best nodes. DefaultSeeds is what the store uses.
	Seeds int
	// NoSQ8 traverses the graph with exact scores even when the index has
	// SQ8 codes (see Options.NoSQ8).
	NoSQ8 bool
	// Traverse is how a filtered search moves through the graph; the zero
	// value, TraverseAuto, chooses by the share of rows allowed.
	Traverse Traverse
	// Planned skips PlanExact: the caller has weighed the exact scan
	// against the graph already (package db does) and wants the graph.
	Planned bool
	// SeedBeam, when positive, bounds the layer-1 beam of the seeds
	// (seedEf) in place of its default: SeedBeam for searches that
	// score every neighbour, TwoHopSeedBeam for two-hop searches.
	SeedBeam int

	// skip, when hasSkip, is a row the search must neither return nor
	// pass through: Calibrate's stand-in for a query that is not in the
	// graph.
	skip    uint32
	hasSkip bool
}

// Traverse says how a filtered graph search (SearchOptions.Allow not nil)
// moves through the rows it does not admit.
type Traverse uint8

const (
	// TraverseAuto is TraverseTwoHop when less than TwoHopShare of the
	// rows in the graph are allowed but a row's neighbours and theirs
	// hold about TwoHopReach allowed rows or more (at M 16, 2.4% of the
	// rows), else TraverseAll.
	TraverseAuto Traverse = iota
	// TraverseAll scores every neighbour of an expanded row and moves
	// through the rows not allowed as through the others; only allowed
	// rows enter the results.
	TraverseAll
	// TraverseTwoHop scores allowed rows only: an expanded row's allowed
	// neighbours, and the allowed neighbours of its neighbours that are
	// not allowed, which are passed over unscored.
	TraverseTwoHop
)

// TwoHopShare is the share of allowed rows below which TraverseAuto
// searches two hops. On 1M CLIP-like vectors (BENCHMARKS.md, "Filtered
// k-NN two links away"; image queries from the store, each left out of
// its own search), at 10% allowed and ef 128 the two-hop search reached
// recall@10 0.991 scoring 5,000 rows in 2.3 ms, where scoring every
// neighbour scored 19,700 for 0.994 in 4.0 ms, and at ef 256 0.995 in 3.9
// ms against 6.9–8.2; at 20% and 30% (queries not left out) scoring every
// neighbour was the faster at equal recall (at ef 48, 0.93 against 1.29 ms
// and 0.77 against 1.44).
const TwoHopShare = 0.125

// TwoHopReach is the fewest allowed rows TraverseAuto expects within two
// links of a row (its (2M)² neighbours' and theirs, times the share) to
// search two hops. At M 16 and 1% allowed, 10 of them, the two-hop search
// lost recall (0.885 at ef 128) and navigation; at 3%, 31, it reached
// 0.991 at ef 512 in 4.8 ms where scoring every neighbour took 10–12 ms
// for 0.997. At M 6 and 10%, 14, it did not reach 0.98 in a small graph.
const TwoHopReach = 24

// twoHopPays is TraverseAuto's choice for allowed of n rows in a graph of
// m0 links a row on layer 0.
func twoHopPays(n, allowed, m0 int) bool {
	share := float64(allowed) / float64(max(n, 1))
	return share < TwoHopShare && float64(m0*m0)*share >= TwoHopReach
}

// DefaultSeeds is the number of seeds the store (package db) and the
// benchmark harness start the layer-0 search from. Text queries lie off
// the image manifold, where a greedy descent often ends in a poor region;
// seeds from beam searches of the upper layers start them in several.
const DefaultSeeds = 16

// SeedBeam is the largest layer-1 beam of a seeded search (seedEf), and
// TwoHopSeedBeam a two-hop search's. A two-hop search's layer-0 beam
// walks allowed rows only and does not need seeds as many or as good: on
// 1M CLIP-like rows at a tenth allowed and ef 176, a layer-1 beam of 32
// instead of 88 scored 5,474 rows a search instead of 6,027 for recall@10
// 0.9942 instead of 0.9944 (1,000 image queries; 48: 5,645 and 0.9942).
const (
	SeedBeam       = 128
	TwoHopSeedBeam = 32
)

// seedEf returns the ef of a seeded search's beam on layer lc (2 or 1)
// when its layer-0 search runs at ef: 16 on layer 2, ef/2 within [16,
// beam] on layer 1, beam being SeedBeam, TwoHopSeedBeam for two-hop
// searches, or SearchOptions.SeedBeam. Neither depends on the size of the
// graph. The rule was
// chosen on 1M CLIP-like vectors (BENCHMARKS.md, "HNSW seeds from the
// upper layers"): against every node of layer 2 and above scored as a
// hub seed (about n/256 of them), it raised recall@10 at equal ef for text
// queries (0.928 → 0.955 at ef 256) and kept it for image queries (0.994
// at ef 32), while a search scored 5,245 nodes instead of 7,648 (text,
// ef 256) and 919 instead of 4,429 (image, ef 32).
func seedEf(ef, lc, beam int) int {
	if lc >= 2 {
		return 16
	}
	return max(min(ef/2, beam), 16)
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
	// Traverse is how a filtered graph search moved through the graph
	// (TraverseAll or TraverseTwoHop); TraverseAuto when none ran.
	Traverse Traverse
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
	s.twoHop = so.Allow != nil && (so.Traverse == TraverseTwoHop ||
		so.Traverse == TraverseAuto && twoHopPays(n, allowed, ix.m0))
	s.approx = ix.q8 != nil && ix.q8.Len() >= len(ix.levels) && !so.NoSQ8
	if s.approx {
		ix.q8.Prepare(q, &s.q8)
	}
	ep := cand{ix.score(s, q, epID), epID}
	scored := 1
	var seeds []cand
	if so.Seeds > 0 {
		var v int
		beam := SeedBeam
		switch {
		case so.SeedBeam > 0:
			beam = so.SeedBeam
		case s.twoHop:
			beam = TwoHopSeedBeam
		}
		ep, seeds, v = ix.beamSeeds(s, q, ep, top, ef, so.Seeds, beam, locked)
		scored += v
	} else {
		for lc := top; lc > 0; lc-- {
			ep = ix.greedy(s, q, ep, lc, locked)
		}
	}
	budget := 0
	if so.Allow != nil {
		// A filtered search visits about ef/s rows; allow a generous multiple
		// before handing over to the exact scan, which costs about
		// `allowed` scores.
		budget = max(allowed, int(visitsPerEf*float64(ef))*4)
	}
	v, stopped := ix.searchLayer(s, q, ep, ef, 0, locked, so.Allow, budget, seeds...)
	scored += v
	var tr Traverse
	if so.Allow != nil {
		tr = TraverseAll
		if s.twoHop {
			tr = TraverseTwoHop
		}
	}
	if len(s.res) < k || stopped {
		// Too few allowed rows reachable, or the budget ran out (the
		// results so far would be a poor answer): scan.
		r, err := exact(PathFallback, scored)
		r.Traverse = tr
		return r, err
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
	return Result{Hits: hits[:k:k], Path: PathGraph, Scored: scored, Ef: ef, Traverse: tr}, nil
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

// beamSeeds descends from ep on layer top to the starting points of a
// layer-0 search at ef: greedily down to layer 3, then by beam searches of
// layers 2 and 1 (seedEf), each starting from all the results of the one
// above. It returns the best node found, the k best as seeds (best first,
// ties by row) and the number of nodes the beams scored.
func (ix *Index) beamSeeds(s *scratch, q []float32, ep cand, top, ef, k, beam int, locked bool) (cand, []cand, int) {
	for lc := top; lc > 2; lc-- {
		ep = ix.greedy(s, q, ep, lc, locked)
	}
	s.seeds = append(s.seeds[:0], ep)
	scored := 0
	for lc := min(top, 2); lc >= 1; lc-- {
		v, _ := ix.searchLayer(s, q, s.seeds[0], seedEf(ef, lc, beam), lc, locked, nil, 0, s.seeds[1:]...)
		scored += v
		if len(s.res) == 0 {
			// The start is the row the search skips: nothing was
			// reached, and the layer-0 search will find nothing either
			// (Search then scans), as after a greedy descent.
			break
		}
		s.seeds = append(s.seeds[:0], s.res...)
		slices.SortFunc(s.seeds, func(a, b cand) int {
			switch {
			case a.score > b.score:
				return -1
			case a.score < b.score:
				return 1
			}
			return cmp.Compare(a.id, b.id)
		})
	}
	return s.seeds[0], s.seeds[:min(k, len(s.seeds))], scored
}
