package hnsw

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/laiondb/laiondb/internal/par"

	"github.com/laiondb/laiondb/vector"
)

const (
	none     = ^uint32(0) // empty adjacency slot; lists are packed, so the first none ends a list
	absent   = 0xFF       // levels[i] of a row that is not in the graph
	maxLevel = 16         // level cap (the expected top level of 1e9 nodes at M=16 is 7)
	nLocks   = 1 << 14    // striped per-node locks used while a build runs
)

// Default parameters. DefaultEfSearch gives recall@10 >= 0.99 on 100k
// CLIP-like 512-d vectors (see doc.go for the measurement).
const (
	DefaultM              = 16
	DefaultEfConstruction = 200
	DefaultEfSearch       = 96
)

// ErrClosed is returned by methods of an Index after Close.
var ErrClosed = errors.New("hnsw: index closed")

// Options are the index parameters. The zero value of a field means its
// default.
type Options struct {
	// M is the number of links per node on the upper layers; layer 0 has 2M.
	// Default 16, at most 127.
	M int
	// EfConstruction is the candidate list size while building. Default 200.
	EfConstruction int
	// EfSearch is the default candidate list size of Search. Default 96.
	EfSearch int
	// Seed seeds the level generator. A build on one worker is
	// deterministic; parallel builds differ only in link order and ties.
	Seed uint64
	// Workers is the number of goroutines Add uses. Default GOMAXPROCS.
	Workers int
	// NoSQ8 keeps no SQ8 codes: searches traverse the graph scoring the
	// float16 rows. By default Add keeps one byte per component of every
	// row, and searches traverse with those codes and re-rank their best
	// candidates exactly (see "Vectors are not copied" in the package doc).
	NoSQ8 bool
}

func (o *Options) withDefaults() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	if r.M == 0 {
		r.M = DefaultM
	}
	if r.EfConstruction == 0 {
		r.EfConstruction = DefaultEfConstruction
	}
	if r.EfSearch == 0 {
		r.EfSearch = DefaultEfSearch
	}
	if r.Workers <= 0 {
		r.Workers = runtime.GOMAXPROCS(0)
	}
	if r.M < 2 || r.M > 127 {
		return r, fmt.Errorf("hnsw: M = %d, want 2..127", r.M)
	}
	if r.EfConstruction < 1 || r.EfSearch < 1 {
		return r, fmt.Errorf("hnsw: ef must be positive (efConstruction %d, efSearch %d)", r.EfConstruction, r.EfSearch)
	}
	return r, nil
}

// Index is an HNSW graph over the rows of a vector.Matrix, with inner product
// as the similarity. The graph holds only links; the vectors stay in the
// matrix the caller hands to Add or Open (typically the store's
// memory-mapped float16 file).
//
// It is safe to call Search, Len and Write concurrently with each other
// and with one Add; concurrent Adds are serialised.
type Index struct {
	addMu sync.Mutex   // serialises Add
	mu    sync.RWMutex // write-held only to resize arrays and switch modes

	dim  int
	opts Options
	// levelShift raises every drawn level: with 1, a graph of the rows
	// that reach layer 1 in a graph n times larger has that graph's upper
	// layers (BenchmarkSeeding). Only tests set it, before Add.
	levelShift int
	m          int // links per node on layers >= 1
	m0         int // links per node on layer 0
	mult       float64

	vecs     vector.Matrix
	q8       *vector.SQ8 // nil, or codes of rows [0, q8.Len()) that searches traverse with
	levels   []uint8     // per row: top layer, or absent
	links0   []uint32    // per row: m0 slots
	upperOff []uint32    // per row with level > 0: offset of its level*m slots in upper
	upper    []uint32
	count    int           // rows in the graph
	ep       atomic.Uint64 // (top level+1)<<32 | entry row; 0 when empty

	building bool // an Add is linking nodes: readers must take node locks
	locks    []sync.Mutex
	entryMu  sync.Mutex

	fingerprint uint64 // of the vectors the graph was built over
	mapped      *mapping
	closed      bool

	scratch sync.Pool
}

// New returns an empty index for vectors of dimension dim.
func New(dim int, opts *Options) (*Index, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if dim <= 0 {
		return nil, fmt.Errorf("%w: dimension %d", vector.ErrDimension, dim)
	}
	ix := &Index{dim: dim, opts: o}
	ix.init()
	return ix, nil
}

func (ix *Index) init() {
	ix.m = ix.opts.M
	ix.m0 = 2 * ix.opts.M
	ix.mult = 1 / math.Log(float64(ix.m))
}

// Dim returns the vector dimension.
func (ix *Index) Dim() int { return ix.dim }

// Options returns the index parameters.
func (ix *Index) Options() Options { return ix.opts }

// Len returns the number of rows in the graph.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.count
}

// Contains reports whether row id is in the graph.
func (ix *Index) Contains(id uint32) bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return int(id) < len(ix.levels) && ix.levels[id] != absent
}

// SetVectors replaces the matrix the index reads, e.g. after the store
// re-mapped a grown vector file. It must have the index's dimension and at
// least as many rows as the graph covers.
func (ix *Index) SetVectors(m vector.Matrix) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if m.Dim != ix.dim {
		return fmt.Errorf("%w: vectors have %d dimensions, index %d", vector.ErrDimension, m.Dim, ix.dim)
	}
	if m.Len() < len(ix.levels) {
		return fmt.Errorf("hnsw: vectors have %d rows, index covers %d", m.Len(), len(ix.levels))
	}
	ix.vecs = m
	return nil
}

// levelOf draws row id's level from a hash of (seed, id), so levels do not
// depend on insertion order or thread scheduling.
func (ix *Index) levelOf(id uint32) uint8 {
	x := ix.opts.Seed ^ (uint64(id)+1)*0x9E3779B97F4A7C15
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	x ^= x >> 31
	u := (float64(x>>11) + 0.5) / (1 << 53) // in (0, 1)
	l := int(-math.Log(u)*ix.mult) + ix.levelShift
	return uint8(min(l, maxLevel-1))
}

// slots returns row id's adjacency slots on layer lc.
func (ix *Index) slots(id uint32, lc int) []uint32 {
	if lc == 0 {
		o := int(id) * ix.m0
		return ix.links0[o : o+ix.m0 : o+ix.m0]
	}
	o := int(ix.upperOff[id]) + (lc-1)*ix.m
	return ix.upper[o : o+ix.m : o+ix.m]
}

func (ix *Index) lock(id uint32) *sync.Mutex { return &ix.locks[id&(nLocks-1)] }

// neighbors returns row id's links on layer lc. While a build runs it copies
// them into buf under the node's lock.
func (ix *Index) neighbors(id uint32, lc int, locked bool, buf []uint32) []uint32 {
	s := ix.slots(id, lc)
	if locked {
		l := ix.lock(id)
		l.Lock()
		n := copy(buf[:len(s)], s)
		l.Unlock()
		s = buf[:n]
	}
	for i, v := range s {
		if v == none {
			return s[:i]
		}
	}
	return s
}

// scratch is per-goroutine search state.
type scratch struct {
	marks []uint16
	gen   uint16
	cands maxHeap
	res   minHeap
	buf   []uint32
	buf2  []uint32 // neighbours of a neighbour (twoHop)
	hop   []uint32 // twoHop's neighbours not allowed
	todo  []uint32
	q     []float32
	sel   []float32 // selected rows as float32, m0*dim
	tmp   []cand
	link  []cand    // candidates of link
	base  []float32 // the row link prunes
	ids   []uint32  // the rows insert links back
	seeds []cand    // beamSeeds' candidates
	// approx makes score use the SQ8 codes with the prepared query q8;
	// otherwise it scores q exactly against the vectors.
	approx bool
	q8     vector.SQ8Query
	// twoHop makes a filtered search move through allowed rows only
	// (Index.twoHop).
	twoHop bool
	// skip, when hasSkip, is a row searches treat as absent.
	skip    uint32
	hasSkip bool
}

// score returns the score of row id against the query q the search runs
// for: exact, or from the SQ8 codes when s.approx.
func (ix *Index) score(s *scratch, q []float32, id uint32) float32 {
	if s.approx {
		return ix.q8.Dot(&s.q8, int(id))
	}
	return ix.vecs.Dot(q, int(id))
}

func (ix *Index) prefetch(s *scratch, id uint32) {
	if s.approx {
		ix.q8.Prefetch(int(id))
	} else {
		ix.vecs.Prefetch(int(id))
	}
}

func (ix *Index) getScratch() *scratch {
	s, _ := ix.scratch.Get().(*scratch)
	if s == nil {
		s = &scratch{}
	}
	if len(s.buf) < ix.m0 {
		s.buf = make([]uint32, ix.m0)
		s.buf2 = make([]uint32, ix.m0)
	}
	return s
}

func (ix *Index) putScratch(s *scratch) { ix.scratch.Put(s) }

// resetVisited starts a new visited set over n rows.
func (s *scratch) resetVisited(n int) {
	if len(s.marks) < n {
		s.marks = make([]uint16, n+n/8)
		s.gen = 0
	}
	s.gen++
	if s.gen == 0 {
		clear(s.marks)
		s.gen = 1
	}
}

// visit marks id and reports whether it was unvisited.
func (s *scratch) visit(id uint32) bool {
	if s.marks[id] == s.gen {
		return false
	}
	s.marks[id] = s.gen
	return true
}

func (ix *Index) entry() (id uint32, level int, ok bool) {
	e := ix.ep.Load()
	if e == 0 {
		return 0, 0, false
	}
	return uint32(e), int(e>>32) - 1, true
}

// greedy walks layer lc from ep to a local maximum of the score.
func (ix *Index) greedy(s *scratch, q []float32, ep cand, lc int, locked bool) cand {
	n := uint32(len(ix.levels))
	for changed := true; changed; {
		changed = false
		for _, nb := range ix.neighbors(ep.id, lc, locked, s.buf) {
			if nb >= n || (s.hasSkip && nb == s.skip) {
				continue
			}
			if sc := ix.score(s, q, nb); sc > ep.score {
				ep = cand{sc, nb}
				changed = true
			}
		}
	}
	return ep
}

// searchLayer is the ef-bounded best-first search of layer lc from ep. Only
// rows allow admits (nil: all) enter the results. The search moves
// through every row, or, when s.twoHop, through allowed rows only, taking
// those two links away as well (see twoHop). It stops after budget score computations (0: no
// limit) and reports whether it did. The results are left in s.res.
func (ix *Index) searchLayer(s *scratch, q []float32, ep cand, ef, lc int, locked bool, allow vector.AllowList, budget int, more ...cand) (visited int, stopped bool) {
	n := uint32(len(ix.levels))
	s.resetVisited(int(n))
	if s.hasSkip && s.skip < n {
		s.visit(s.skip) // never entered, expanded or returned
	}
	s.cands = s.cands[:0]
	s.res = s.res[:0]
	// ep, then more, without allocating a slice of both: beamSeeds calls
	// this three times a query.
	for i := -1; i < len(more); i++ {
		e := ep
		if i >= 0 {
			e = more[i]
		}
		if !s.visit(e.id) {
			continue
		}
		s.cands.Push(e)
		if allow == nil || allow.Contains(e.id) {
			s.res.Push(e)
			if len(s.res) > ef {
				s.res.Pop()
			}
		}
	}
	for len(s.cands) > 0 {
		c := s.cands[0]
		if len(s.res) >= ef && c.score < s.res[0].score {
			break
		}
		s.cands.Pop()
		todo := s.todo[:0]
		if allow != nil && s.twoHop {
			todo = ix.twoHop(s, c.id, lc, locked, allow, todo)
		} else {
			for _, nb := range ix.neighbors(c.id, lc, locked, s.buf) {
				if nb < n && s.visit(nb) {
					todo = append(todo, nb)
				}
			}
		}
		s.todo = todo
		if len(todo) > 0 {
			ix.prefetch(s, todo[0])
		}
		for j, nb := range todo {
			if j+1 < len(todo) {
				ix.prefetch(s, todo[j+1])
			}
			sc := ix.score(s, q, nb)
			visited++
			if len(s.res) < ef || sc > s.res[0].score {
				s.cands.Push(cand{sc, nb})
				if allow == nil || allow.Contains(nb) {
					s.res.Push(cand{sc, nb})
					if len(s.res) > ef {
						s.res.Pop()
					}
				}
			}
		}
		if budget > 0 && visited >= budget {
			return visited, true
		}
	}
	return visited, false
}

// twoHop appends to todo the rows a filtered search expanding row id on
// layer lc goes on to score: its unvisited allowed neighbours, then the
// unvisited allowed neighbours of its unvisited neighbours that allow
// does not admit. Those are marked visited but never scored: at a small
// share of allowed rows most neighbours are not admitted, and scoring them
// only to walk through them is most of a search's work. This is ACORN-1's
// expansion (Patel et al., SIGMOD 2024) over the ordinary graph, without
// its cap on the list.
func (ix *Index) twoHop(s *scratch, id uint32, lc int, locked bool, allow vector.AllowList, todo []uint32) []uint32 {
	n := uint32(len(ix.levels))
	hop := s.hop[:0]
	for _, nb := range ix.neighbors(id, lc, locked, s.buf) {
		if nb < n && s.visit(nb) {
			if allow.Contains(nb) {
				todo = append(todo, nb)
			} else {
				hop = append(hop, nb)
			}
		}
	}
	s.hop = hop
	if lc == 0 && !locked {
		for _, x := range hop {
			vector.PrefetchWords(ix.slots(x, 0))
		}
	}
	for _, x := range hop {
		for _, nb := range ix.neighbors(x, lc, locked, s.buf2) {
			if nb < n && allow.Contains(nb) && s.visit(nb) {
				todo = append(todo, nb)
			}
		}
	}
	return todo
}

// selectNeighbors applies the HNSW neighbour-selection heuristic (Malkov &
// Yashunin, algorithm 4, as in hnswlib): walking candidates from the
// closest, keep one only if it is closer to the base than to every row
// kept so far. cs is sorted in place; the kept rows are returned in cs's
// storage.
func (ix *Index) selectNeighbors(s *scratch, cs []cand, max int) []cand {
	slices.SortFunc(cs, func(a, b cand) int {
		if a.score != b.score {
			if a.score > b.score {
				return -1
			}
			return 1
		}
		return int(int64(a.id) - int64(b.id))
	})
	if len(cs) <= max {
		return cs
	}
	d := ix.dim
	if len(s.sel) < ix.m0*d {
		s.sel = make([]float32, ix.m0*d)
	}
	kept := 0
	for _, c := range cs {
		good := true
		for j := 0; j < kept; j++ {
			if ix.vecs.Dot(s.sel[j*d:(j+1)*d], int(c.id)) > c.score {
				good = false
				break
			}
		}
		if good {
			ix.vecs.Row(int(c.id), s.sel[kept*d:(kept+1)*d])
			cs[kept] = c
			kept++
			if kept == max {
				break
			}
		}
	}
	return cs[:kept]
}

// insert links row id (whose level is already set) into the graph.
func (ix *Index) insert(s *scratch, id uint32) {
	s.q = ix.vecs.Row(int(id), s.q)
	q := s.q
	s.approx, s.hasSkip, s.twoHop = false, false, false
	level := int(ix.levels[id])

	epID, top, ok := ix.entry()
	if !ok || level > top {
		// A new top level: hold the entry lock for the whole insert, as
		// hnswlib does, so that the entry point only moves to a linked node.
		ix.entryMu.Lock()
		epID, top, ok = ix.entry()
		switch {
		case !ok:
			ix.ep.Store(uint64(level+1)<<32 | uint64(id))
			ix.entryMu.Unlock()
			return
		case level > top:
			defer func() {
				ix.ep.Store(uint64(level+1)<<32 | uint64(id))
				ix.entryMu.Unlock()
			}()
		default:
			ix.entryMu.Unlock()
		}
	}
	ep := cand{ix.vecs.Dot(q, int(epID)), epID}
	for lc := top; lc > level; lc-- {
		ep = ix.greedy(s, q, ep, lc, true)
	}
	for lc := min(level, top); lc >= 0; lc-- {
		ix.searchLayer(s, q, ep, ix.opts.EfConstruction, lc, true, nil, 0)
		s.tmp = s.tmp[:0]
		for _, c := range s.res {
			if c.id != id {
				s.tmp = append(s.tmp, c)
			}
		}
		if len(s.tmp) == 0 {
			continue
		}
		best := s.tmp[0]
		for _, c := range s.tmp {
			if c.score > best.score {
				best = c
			}
		}
		ep = best
		sel := ix.selectNeighbors(s, s.tmp, ix.m)
		// Own links.
		l := ix.lock(id)
		l.Lock()
		own := ix.slots(id, lc)
		for i := range own {
			own[i] = none
			if i < len(sel) {
				own[i] = sel[i].id
			}
		}
		l.Unlock()
		// Back links.
		ids := s.ids[:0]
		for _, c := range sel {
			ids = append(ids, c.id)
		}
		s.ids = ids
		for _, nb := range ids {
			if nb != id {
				ix.link(s, nb, id, lc)
			}
		}
	}
}

// link adds a link nb -> id on layer lc, pruning nb's list with the
// heuristic when it is full.
func (ix *Index) link(s *scratch, nb, id uint32, lc int) {
	l := ix.lock(nb)
	l.Lock()
	defer l.Unlock()
	sl := ix.slots(nb, lc)
	n := 0
	for n < len(sl) && sl[n] != none {
		if sl[n] == id {
			return
		}
		n++
	}
	if n < len(sl) {
		sl[n] = id
		return
	}
	s.base = ix.vecs.Row(int(nb), s.base)
	base := s.base
	cs := s.link[:0]
	for _, x := range sl {
		cs = append(cs, cand{ix.vecs.Dot(base, int(x)), x})
	}
	cs = append(cs, cand{ix.vecs.Dot(base, int(id)), id})
	s.link = cs
	sel := ix.selectNeighbors(s, cs, len(sl))
	for i := range sl {
		sl[i] = none
		if i < len(sel) {
			sl[i] = sel[i].id
		}
	}
}

// Add links the rows of m that rows lists (nil: every row of m) into the
// graph, in parallel on Options.Workers goroutines. Rows already in the
// graph are skipped, so an interrupted Add can simply be repeated. m
// becomes the matrix the index reads; it must extend the previous one.
// progress, if not nil, is called now and then with the rows linked so far
// and the rows to link, never concurrently. If ctx is cancelled, the rows
// linked so far stay in the graph and Add returns ctx's error.
func (ix *Index) Add(ctx context.Context, m vector.Matrix, rows vector.Ranges, progress func(done, total int)) error {
	ix.addMu.Lock()
	defer ix.addMu.Unlock()

	ix.mu.Lock()
	if ix.closed {
		ix.mu.Unlock()
		return ErrClosed
	}
	if m.Dim != ix.dim {
		ix.mu.Unlock()
		return fmt.Errorf("hnsw: add: %w: vectors have %d dimensions, index %d", vector.ErrDimension, m.Dim, ix.dim)
	}
	n := m.Len()
	if n < len(ix.levels) {
		ix.mu.Unlock()
		return fmt.Errorf("hnsw: add: vectors have %d rows, index covers %d", n, len(ix.levels))
	}
	if n > math.MaxUint32-1 {
		ix.mu.Unlock()
		return fmt.Errorf("hnsw: add: %d rows exceed the uint32 id space", n)
	}
	if rows == nil {
		rows = vector.Ranges{{Lo: 0, Hi: uint32(n)}}
	}
	ix.makeWritable(n)
	old := len(ix.levels)
	if n > old {
		ix.levels = slices.Grow(ix.levels, n-old)[:n]
		ix.upperOff = slices.Grow(ix.upperOff, n-old)[:n]
		ix.links0 = slices.Grow(ix.links0, (n-old)*ix.m0)[:n*ix.m0]
		for i := old; i < n; i++ {
			ix.levels[i] = absent
			ix.upperOff[i] = 0
		}
		for i := old * ix.m0; i < n*ix.m0; i++ {
			ix.links0[i] = none
		}
	}
	var ids []uint32
	upperNeed := 0
	for _, r := range rows {
		for id := r.Lo; id < min(r.Hi, uint32(n)); id++ {
			if ix.levels[id] != absent {
				continue
			}
			ids = append(ids, id)
			lv := ix.levelOf(id)
			ix.levels[id] = lv
			if lv > 0 {
				ix.upperOff[id] = uint32(len(ix.upper) + upperNeed)
				upperNeed += int(lv) * ix.m
			}
		}
	}
	if len(ix.upper)+upperNeed > math.MaxUint32 {
		for _, id := range ids {
			ix.levels[id] = absent
		}
		ix.mu.Unlock()
		return fmt.Errorf("hnsw: add: upper layers exceed 2^32 slots")
	}
	u := len(ix.upper)
	ix.upper = slices.Grow(ix.upper, upperNeed)[:u+upperNeed]
	for i := u; i < len(ix.upper); i++ {
		ix.upper[i] = none
	}
	ix.vecs = m
	if ix.locks == nil {
		ix.locks = make([]sync.Mutex, nLocks)
	}
	ix.building = true
	ix.count += len(ids)
	ix.fingerprint = 0
	ix.mu.Unlock()

	done := make([]bool, len(ids))
	err := ix.build(ctx, ids, done, progress)

	ix.mu.Lock()
	ix.building = false
	if err != nil {
		for i, id := range ids {
			if !done[i] {
				ix.levels[id] = absent
				ix.count--
			}
		}
	}
	ix.mu.Unlock()
	if err != nil {
		return fmt.Errorf("hnsw: add: %w", err)
	}
	if !ix.opts.NoSQ8 {
		// Until the codes cover every row, searches score float16 rows.
		q := ix.extendSQ8(m, n)
		ix.mu.Lock()
		ix.q8 = q
		ix.mu.Unlock()
	}
	return nil
}

// extendSQ8 returns SQ8 codes of rows [0, n) of m: the current codes
// extended with the new rows (in the spare capacity of their array when
// there is enough, which searches of the current codes never read), or, if
// there are none yet, codes over ranges trained on m (new rows outside the
// trained ranges are clamped, which only loosens the traversal: hits are
// re-ranked exactly). It encodes on GOMAXPROCS goroutines and only reads
// the index's current codes.
func (ix *Index) extendSQ8(m vector.Matrix, n int) *vector.SQ8 {
	old, from := ix.q8, 0
	q := &vector.SQ8{Dim: ix.dim}
	if old != nil && old.Len() <= n {
		q.Lo, q.Step, from = old.Lo, old.Step, old.Len()
		q.Codes = slices.Grow(old.Codes, (n-from)*ix.dim)[:n*ix.dim]
	} else {
		q.Lo, q.Step = vector.TrainSQ8(m.Slice(0, n), max(1, n/100_000))
		q.Codes = make([]uint8, n*ix.dim)
	}
	par.Chunks(context.Background(), n-from, 8192, func(_, lo, hi int) { q.Encode(m, from+lo, from+hi) })
	return q
}

// serialAdd is the largest add that build links on one goroutine.
const serialAdd = 10_000

// build links ids on ix.opts.Workers goroutines (one for at most serialAdd
// ids), holding the read lock.
func (ix *Index) build(ctx context.Context, ids []uint32, done []bool, progress func(done, total int)) error {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	const chunk = 64
	var linked atomic.Int64
	var pmu sync.Mutex
	report := func() {
		if progress == nil || !pmu.TryLock() {
			return
		}
		progress(int(linked.Load()), len(ids))
		pmu.Unlock()
	}
	if progress != nil {
		progress(0, len(ids))
	}
	// The first node must be inserted alone (it becomes the entry point).
	start := 0
	if _, _, ok := ix.entry(); !ok && len(ids) > 0 {
		s := ix.getScratch()
		ix.insert(s, ids[0])
		ix.putScratch(s)
		done[0] = true
		start = 1
		linked.Add(1)
	}
	// Each worker keeps one scratch for all its chunks. Small adds link
	// on one goroutine: the same rows then make the same graph (and the
	// store's calibration the same figures), at little cost.
	workers := ix.opts.Workers
	if len(ids) <= serialAdd {
		workers = 1
	}
	scratches := make([]*scratch, workers)
	_, err := par.ChunksN(ctx, workers, len(ids)-start, chunk, func(w, lo, hi int) {
		s := scratches[w]
		if s == nil {
			s = ix.getScratch()
			scratches[w] = s
		}
		lo, hi = start+lo, start+hi
		for i := lo; i < hi; i++ {
			ix.insert(s, ids[i])
			done[i] = true
		}
		if linked.Add(int64(hi-lo))%(chunk*16) < chunk {
			report()
		}
	})
	for _, s := range scratches {
		if s != nil {
			ix.putScratch(s)
		}
	}
	if err != nil {
		return err
	}
	if progress != nil {
		progress(len(ids), len(ids))
	}
	return nil
}

// MemoryBytes returns the bytes the index holds in memory or maps from its
// file: the graph (levels, links, offsets) and the SQ8 codes, but not the
// vectors it reads from the caller's matrix.
func (ix *Index) MemoryBytes() int64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	b := int64(ix.graphBytes())
	if ix.q8 != nil {
		b += int64(len(ix.q8.Codes) + 4*len(ix.q8.Lo) + 4*len(ix.q8.Step))
	}
	return b
}

// graphBytes returns the heap or mapped bytes the graph itself occupies
// (levels, links, offsets), excluding the vectors.
func (ix *Index) graphBytes() int {
	return len(ix.levels) + 4*len(ix.links0) + 4*len(ix.upperOff) + 4*len(ix.upper)
}
