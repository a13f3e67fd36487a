package vector

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"sync"

	"github.com/laiondb/laiondb/internal/heap"
	"github.com/laiondb/laiondb/internal/par"
)

// ErrDimension is returned when a query or matrix has the wrong dimension.
var ErrDimension = errors.New("vector: dimension mismatch")

// Hit is one search result: a store row and its score, the inner product
// of the query with the row as the matrix computes it (Matrix.Dot: the
// cosine when the matrix carries the rows' inverse norms, as the store's
// do).
type Hit struct {
	ID    uint32
	Score float32
}

// AllowList is a set of store rows a search may return. Bitset
// satisfies it. Implementations must be safe for concurrent Contains calls.
type AllowList interface {
	// Contains reports whether row id is allowed.
	Contains(id uint32) bool
	// Count returns the number of allowed rows.
	Count() int
	// ForEach calls fn for each allowed row in increasing order until fn
	// returns false.
	ForEach(fn func(id uint32) bool)
}

// Range is the half-open interval [Lo, Hi) of store rows.
type Range struct{ Lo, Hi uint32 }

// Ranges is an AllowList made of sorted, non-overlapping row intervals. Use
// it to restrict a scan to the rows that have vectors.
type Ranges []Range

// Contains reports whether id lies in one of the ranges.
func (r Ranges) Contains(id uint32) bool {
	i, _ := slices.BinarySearchFunc(r, id, func(x Range, id uint32) int {
		if x.Hi <= id {
			return -1
		}
		if x.Lo > id {
			return 1
		}
		return 0
	})
	return i < len(r) && r[i].Lo <= id && id < r[i].Hi
}

// Count returns the number of rows in the ranges.
func (r Ranges) Count() int {
	c := 0
	for _, x := range r {
		if x.Hi > x.Lo {
			c += int(x.Hi - x.Lo)
		}
	}
	return c
}

// ForEach calls fn for each row in increasing order until fn returns false.
func (r Ranges) ForEach(fn func(id uint32) bool) {
	for _, x := range r {
		for id := x.Lo; id < x.Hi; id++ {
			if !fn(id) {
				return
			}
		}
	}
}

// And returns the intersection of two allow-lists; a nil argument means
// "all rows". A Bitset with a Bitset or Ranges gives a new Bitset, built
// in one pass over the words, so that membership is one bit test.
// Otherwise ForEach iterates the operand with the smaller Count; Count is
// computed once, on first use, by iterating it.
func And(a, b AllowList) AllowList {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	if x, ok := a.(*Bitset); ok {
		if s := andBits(x, b); s != nil {
			return s
		}
	}
	if x, ok := b.(*Bitset); ok {
		if s := andBits(x, a); s != nil {
			return s
		}
	}
	ca, cb := a.Count(), b.Count()
	if cb < ca {
		a, b, ca = b, a, cb
	}
	return &and{a: a, b: b, bound: ca, count: -1}
}

// andBits returns the rows of x that o holds, as a Bitset, when o is a
// Bitset or Ranges, and nil otherwise. A filtered search over the rows
// with vectors (a Bitset and Ranges) tested every row it visited by a
// binary search of the ranges: at 1M rows, most of the time of a knn with
// a where.
func andBits(x *Bitset, o AllowList) *Bitset {
	switch y := o.(type) {
	case *Bitset:
		c := x.Clone()
		c.And(y)
		return c
	case Ranges:
		c := NewBitset(x.n)
		end := uint64(len(x.w)) * 64 // may be 2^32
		for _, r := range y {
			lo, hi := uint64(r.Lo), min(uint64(r.Hi), end)
			if lo >= hi {
				continue
			}
			first, last := lo>>6, (hi-1)>>6
			for i := first; i <= last; i++ {
				m := ^uint64(0)
				if i == first {
					m &= ^uint64(0) << (lo & 63)
				}
				if i == last {
					m &= ^uint64(0) >> (63 - ((hi - 1) & 63))
				}
				c.w[i] |= x.w[i] & m
			}
		}
		return c
	}
	return nil
}

type and struct {
	a, b  AllowList
	bound int // Count of a, an upper bound of the intersection
	once  sync.Once
	count int
}

func (x *and) Contains(id uint32) bool { return x.a.Contains(id) && x.b.Contains(id) }
func (x *and) Count() int {
	x.once.Do(func() {
		c := 0
		x.ForEach(func(uint32) bool { c++; return true })
		x.count = c
	})
	return x.count
}
func (x *and) ForEach(fn func(id uint32) bool) {
	x.a.ForEach(func(id uint32) bool {
		if x.b.Contains(id) {
			return fn(id)
		}
		return true
	})
}

// CountHint returns allow.Count(), or a cheap upper bound of it for an
// intersection, for planning decisions that need not be exact.
func CountHint(allow AllowList) int {
	if x, ok := allow.(*and); ok {
		return x.bound
	}
	return allow.Count()
}

// better reports whether a ranks before b: higher score, then lower id.
func better(a, b Hit) bool {
	return a.Score > b.Score || (a.Score == b.Score && a.ID < b.ID)
}

func SortHits(h []Hit) {
	slices.SortFunc(h, func(a, b Hit) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// topK keeps the k best hits in a heap with the worst at the root.
type topK struct {
	k int
	h heap.Heap[Hit, worse]
}

// worse orders a topK: the hit that better ranks last is the root.
type worse struct{}

func (worse) Before(a, b Hit) bool { return better(b, a) }

func (t *topK) push(x Hit) {
	switch {
	case len(t.h) < t.k:
		t.h.Push(x)
	case better(x, t.h[0]):
		t.h.Replace(x)
	}
}

// full reports whether the heap holds k hits; min is then its worst score.
func (t *topK) full() bool { return len(t.h) >= t.k }

// scanChunk is the number of rows a worker scores between context checks.
const scanChunk = 8192

// scan calls visit(worker, lo, hi) over [0, total) in chunks from up to
// workers goroutines, stopping early when ctx is cancelled.
func scan(ctx context.Context, workers, total int, visit func(w, lo, hi int)) (int, error) {
	w, err := par.ChunksN(ctx, workers, total, scanChunk, visit)
	if err != nil {
		return w, fmt.Errorf("vector: exact scan: %w", err)
	}
	return w, nil
}

// sparseFactor: an allow-list holding fewer than n/sparseFactor rows is
// iterated (ForEach) instead of testing Contains on every row.
const sparseFactor = 8

// sparseIDs returns the ids below n that allow admits, when iterating
// them beats walking every row, else nil. A Bitset and Ranges are walked
// in place, whatever their density.
func sparseIDs(n int, allow AllowList) []uint32 {
	switch allow.(type) {
	case nil, *Bitset, Ranges:
		return nil
	}
	c := CountHint(allow)
	if c*sparseFactor > n {
		return nil
	}
	ids := make([]uint32, 0, min(c, n))
	allow.ForEach(func(id uint32) bool {
		if int(id) >= n {
			return false
		}
		ids = append(ids, id)
		return true
	})
	return ids
}

// checkDim validates q against m.
func checkDim(m Matrix, q []float32) error {
	if len(q) != m.Dim || m.Dim <= 0 {
		return fmt.Errorf("%w: query has %d dimensions, vectors have %d", ErrDimension, len(q), m.Dim)
	}
	return nil
}

// idBlock is the most rows a scan hands its scorer at once: enough that
// the per-call costs vanish, few enough that the ids and their scores
// stay in L1.
const idBlock = 256

// visitBlocks runs fn(worker, ids) in parallel over the rows of [0, n)
// admitted by allow (nil: all rows), in blocks of at most idBlock
// ascending ids (fn must not keep ids), and returns the number of rows
// visited. Rows are handed out in chunks of scanChunk, and ctx is checked
// between chunks.
func visitBlocks(ctx context.Context, workers, n int, allow AllowList, fn func(w int, ids []uint32)) (int, error) {
	list := sparseIDs(n, allow)
	total := n
	if list != nil {
		total = len(list)
	}
	blocks := make([]block, workers)
	for w := range blocks {
		blocks[w] = block{w: w, fn: fn}
	}
	_, err := scan(ctx, workers, total, func(w, lo, hi int) {
		b := &blocks[w]
		if list != nil {
			for ; lo < hi; lo += idBlock {
				ids := list[lo:min(lo+idBlock, hi)]
				b.visited += len(ids)
				fn(w, ids)
			}
			return
		}
		switch a := allow.(type) {
		case nil:
			for id := lo; id < hi; id++ {
				b.add(uint32(id))
			}
		case Ranges:
			i, _ := slices.BinarySearchFunc(a, uint32(lo), func(r Range, id uint32) int {
				if r.Hi <= id {
					return -1
				}
				return 1
			})
			for ; i < len(a) && int(a[i].Lo) < hi; i++ {
				for id := max(int(a[i].Lo), lo); id < min(int(a[i].Hi), hi); id++ {
					b.add(uint32(id))
				}
			}
		case *Bitset:
			words := a.Words()
			hi = min(hi, len(words)*64)
			for id := lo; id < hi; {
				end := min(id&^63+64, hi)
				word := words[id>>6] >> (id & 63)
				if k := end - id; k < 64 {
					word &= 1<<k - 1
				}
				for ; word != 0; word &= word - 1 {
					b.add(uint32(id + bits.TrailingZeros64(word)))
				}
				id = end
			}
		default:
			for id := lo; id < hi; id++ {
				if allow.Contains(uint32(id)) {
					b.add(uint32(id))
				}
			}
		}
		b.flush()
	})
	visited := 0
	for _, b := range blocks {
		visited += b.visited
	}
	return visited, err
}

// block gathers one worker's allowed ids for visitBlocks.
type block struct {
	ids     [idBlock]uint32
	n       int
	w       int
	visited int
	fn      func(w int, ids []uint32)
	_       [64]byte // workers' blocks sit side by side: keep their counts off each other's lines
}

func (b *block) add(id uint32) {
	b.ids[b.n] = id
	b.n++
	if b.n == idBlock {
		b.flush()
	}
}

func (b *block) flush() {
	if b.n > 0 {
		b.visited += b.n
		b.fn(b.w, b.ids[:b.n])
		b.n = 0
	}
}

// prefetchAhead is how many allowed rows ahead of the one scored a
// filtered scan prefetches (BenchmarkExactAllowed chose it).
const prefetchAhead = 4

// dots sets out[j] to m.Dot(q, ids[j]), bit for bit, for the ids of one
// block. Rows that are not consecutive (a filtered scan's) are prefetched
// a few ahead: reading a scattered row from memory takes longer than
// scoring it. The prefetches go to the L2 cache (PREFETCHT1): each row is
// 16 lines at 512 dimensions, and four rows ahead asked into L1 fill its
// few miss buffers, so that the core waits on them; asked into L2 they
// queue in its larger miss queue, more of them arrive at once, and the
// loads then find them a few cycles away (BenchmarkExactAllowed at 10% of
// 1M rows: 97–113 ns a row against 134–157 into L1). Consecutive rows are
// read in order, which the processor prefetches by itself.
func (m Matrix) dots(q []float32, ids []uint32, out []float32) {
	out = out[:len(ids)]
	d := m.Dim
	switch {
	case m.F16 != nil && useAsm:
		ahead := m.Dim >= minPrefetchDim && len(ids) > 1 && int(ids[len(ids)-1]-ids[0]) != len(ids)-1
		if ahead {
			for _, id := range ids[:min(prefetchAhead, len(ids))] {
				prefetchL2AVX2(m.F16[int(id)*d : int(id)*d+d])
			}
		}
		for j, id := range ids {
			if ahead && j+prefetchAhead < len(ids) {
				p := int(ids[j+prefetchAhead]) * d
				prefetchL2AVX2(m.F16[p : p+d])
			}
			o := int(id) * d
			out[j] = dotF16AVX2(q, m.F16[o:o+d])
		}
	case m.F16 != nil:
		for j, id := range ids {
			o := int(id) * d
			out[j] = DotF16(q, m.F16[o:o+d])
		}
	default:
		for j, id := range ids {
			o := int(id) * d
			out[j] = Dot(q, m.F32[o:o+d])
		}
	}
	if m.Inv != nil {
		for j, id := range ids {
			out[j] *= m.Inv[id]
		}
	}
}

// blockScores returns per-worker buffers for a block's scores, each on
// cache lines of its own.
func blockScores(workers int) [][]float32 {
	s := make([][]float32, workers)
	for w := range s {
		s[w] = padded(idBlock)
	}
	return s
}

// Exact returns the k rows of m with the highest inner product with q among
// the rows allow admits (nil: all rows), sorted by score descending, then
// row ascending, so equal inputs give identical answers. It also returns the
// number of vectors scored. A row that scores NaN or ±Inf is an error (ErrNonFinite). It
// runs on GOMAXPROCS goroutines and checks ctx between chunks of rows.
func Exact(ctx context.Context, m Matrix, q []float32, k int, allow AllowList) ([]Hit, int, error) {
	return ExactOn(ctx, runtime.GOMAXPROCS(0), m, q, k, allow)
}

// ExactOn is Exact on at most workers goroutines: the store's planner
// measures the scan's cost on one thread with it.
func ExactOn(ctx context.Context, workers int, m Matrix, q []float32, k int, allow AllowList) ([]Hit, int, error) {
	if err := checkDim(m, q); err != nil {
		return nil, 0, err
	}
	if k <= 0 {
		return nil, 0, nil
	}
	n := m.Len()
	workers = max(workers, 1)
	heaps := make([]topK, workers)
	for i := range heaps {
		heaps[i].k = k
	}
	bad := newNonFinite(workers)
	scores := blockScores(workers)
	scored, err := visitBlocks(ctx, workers, n, allow, func(w int, ids []uint32) {
		sc := scores[w][:len(ids)]
		m.dots(q, ids, sc)
		t := &heaps[w]
		for j, s := range sc {
			switch {
			case s-s != 0: // NaN or ±Inf: a damaged row
				bad.note(w, ids[j], s)
			case t.full() && s < t.h[0].Score:
			default:
				t.push(Hit{ids[j], s})
			}
		}
	})
	if err == nil {
		err = bad.err()
	}
	if err != nil {
		return nil, scored, err
	}
	var all []Hit
	for _, t := range heaps {
		all = append(all, t.h...)
	}
	SortHits(all)
	if len(all) > k {
		all = all[:k:k]
	}
	return all, scored, nil
}

// ExactBatch answers several exact k-NN queries over the same rows in one
// pass: each row is read from memory once, widened to float32 once, and
// scored against every query while it is in cache, so Q queries read the
// matrix once instead of Q times. Answer i is exactly Exact(ctx, m, qs[i], k, allow): the same
// scores (the same kernel), the same order. It returns the number of rows
// visited (each scored len(qs) times).
func ExactBatch(ctx context.Context, m Matrix, qs [][]float32, k int, allow AllowList) ([][]Hit, int, error) {
	for _, q := range qs {
		if err := checkDim(m, q); err != nil {
			return nil, 0, err
		}
	}
	out := make([][]Hit, len(qs))
	if k <= 0 || len(qs) == 0 {
		return out, 0, nil
	}
	workers := runtime.GOMAXPROCS(0)
	heaps := make([][]topK, workers) // worker, query
	for w := range heaps {
		heaps[w] = make([]topK, len(qs))
		for i := range heaps[w] {
			heaps[w][i].k = k
		}
	}
	visited, err := scanBatch(ctx, m, qs, allow, workers, func(w int, id uint32, sc []float32) {
		hs := heaps[w]
		for i, s := range sc {
			t := &hs[i]
			if t.full() && s < t.h[0].Score {
				continue
			}
			t.push(Hit{id, s})
		}
	})
	if err != nil {
		return nil, visited, err
	}
	for i := range qs {
		var all []Hit
		for w := range heaps {
			all = append(all, heaps[w][i].h...)
		}
		SortHits(all)
		if len(all) > k {
			all = all[:k:k]
		}
		out[i] = all
	}
	return out, visited, nil
}

// ExactRangeBatch answers several range queries over the same rows in one
// pass, as ExactBatch does for k-NN queries: answer i is exactly
// ExactRange(ctx, m, qs[i], min, allow), the same scores in the same
// order. It returns the number of rows visited (each scored len(qs)
// times).
func ExactRangeBatch(ctx context.Context, m Matrix, qs [][]float32, min float32, allow AllowList) ([][]Hit, int, error) {
	for _, q := range qs {
		if err := checkDim(m, q); err != nil {
			return nil, 0, err
		}
	}
	if math.IsNaN(float64(min)) {
		return nil, 0, fmt.Errorf("vector: exact range: threshold is NaN")
	}
	out := make([][]Hit, len(qs))
	if len(qs) == 0 {
		return out, 0, nil
	}
	workers := runtime.GOMAXPROCS(0)
	found := make([][][]Hit, workers) // worker, query
	for w := range found {
		found[w] = make([][]Hit, len(qs))
	}
	visited, err := scanBatch(ctx, m, qs, allow, workers, func(w int, id uint32, sc []float32) {
		f := found[w]
		for i, s := range sc {
			if s >= min {
				f[i] = append(f[i], Hit{id, s})
			}
		}
	})
	if err != nil {
		return nil, visited, err
	}
	for i := range qs {
		var all []Hit
		for w := range found {
			all = append(all, found[w][i]...)
		}
		SortHits(all)
		out[i] = all
	}
	return out, visited, nil
}

// scanBatch scores every row allow admits against all of qs, on workers
// goroutines, and calls keep(worker, row, scores) with the row's scores
// (scores[i] against qs[i]; the slice is reused). A float16 row is widened
// once (exactly) for all the queries; Dot on the widened row runs the same
// sums as DotF16 on the stored one, so the scores are Exact's and
// ExactRange's to the bit (TestExactBatch, TestExactRangeBatch). A row
// that scores NaN or ±Inf is not kept and makes the scan fail
// (ErrNonFinite). It returns the number of rows visited.
func scanBatch(ctx context.Context, m Matrix, qs [][]float32, allow AllowList, workers int, keep func(w int, id uint32, scores []float32)) (int, error) {
	bad := newNonFinite(workers)
	bufs := make([][]float32, workers)
	scores := make([][]float32, workers)
	for w := range bufs {
		bufs[w] = make([]float32, m.Dim)
		scores[w] = padded(len(qs))
	}
	pf := m.prefetcher()
	n := uint32(m.Len())
	wide := has4(m.Dim)
	var packs [][]float32 // groups of 12 queries, packed for dot12F16
	if wide && m.F16 != nil {
		for i := 0; i+12 <= len(qs); i += 12 {
			packs = append(packs, pack12(qs[i:i+12], m.Dim))
		}
	}
	one := func(w int, id uint32) {
		sc := scores[w]
		i := 0
		if wide && m.F16 != nil {
			h := m.F16[int(id)*m.Dim : int(id+1)*m.Dim]
			for _, p := range packs {
				dot12F16(h, p, sc[i:i+12])
				i += 12
			}
			for ; i+8 <= len(qs); i += 8 {
				dot8F16(h, qs[i:i+8], sc[i:i+8])
			}
			for ; i+4 <= len(qs); i += 4 {
				sc[i], sc[i+1], sc[i+2], sc[i+3] = dot4F16(h, qs[i], qs[i+1], qs[i+2], qs[i+3])
			}
		}
		if i < len(qs) {
			row := m.rowF32(int(id), bufs[w])
			for ; wide && i+4 <= len(qs); i += 4 {
				sc[i], sc[i+1], sc[i+2], sc[i+3] = dot4(row, qs[i], qs[i+1], qs[i+2], qs[i+3])
			}
			for ; i+3 <= len(qs); i += 3 {
				sc[i], sc[i+1], sc[i+2] = dot3(row, qs[i], qs[i+1], qs[i+2])
			}
			for ; i < len(qs); i++ {
				sc[i] = Dot(qs[i], row)
			}
		}
		for i, s := range sc {
			if m.Inv != nil {
				s *= m.Inv[id]
				sc[i] = s
			}
			if s-s != 0 {
				bad.note(w, id, s)
				return
			}
		}
		keep(w, id, sc)
	}
	visited, err := visitBlocks(ctx, workers, m.Len(), allow, func(w int, ids []uint32) {
		for j, id := range ids {
			if pf != nil {
				if allow == nil && id+batchAhead < n {
					pf(id + batchAhead)
				} else if allow != nil && j+prefetchAhead < len(ids) {
					pf(ids[j+prefetchAhead])
				}
			}
			one(w, id)
		}
	})
	if err == nil {
		err = bad.err()
	}
	return visited, err
}

// padded returns n float32s on cache lines of their own. The workers'
// score buffers of a batch scan, allocated side by side, shared a line:
// each worker's reads of its scores waited on the other's writes, a third
// of the scan's time at 12 queries (BenchmarkExactBatch: 116–127 ms →
// 76–109 ms, same runs).
func padded(n int) []float32 {
	return make([]float32, n+32)[16 : 16+n : 16+n]
}

// batchAhead is how many rows ahead of the one scored a batch scan of
// every row prefetches. At 1M rows and 12 queries, 2 to 32 rows ahead
// all scanned within 5% of each other, and 7% faster than no prefetch.
const batchAhead = 8

// ErrNonFinite is returned by the exact scans when a row scores NaN or
// ±Inf against a finite query: its stored vector is not finite (a damaged
// file), and no answer that leaves it out could be trusted.
var ErrNonFinite = errors.New("vector: a stored vector is not finite")

// nonFinite remembers, per worker, the first row that scored NaN or ±Inf.
type nonFinite struct {
	rows   []int64
	scores []float32
}

func newNonFinite(workers int) *nonFinite {
	nf := &nonFinite{rows: make([]int64, workers), scores: make([]float32, workers)}
	for i := range nf.rows {
		nf.rows[i] = -1
	}
	return nf
}

func (nf *nonFinite) note(w int, id uint32, s float32) {
	if r := nf.rows[w]; r < 0 || int64(id) < r {
		nf.rows[w], nf.scores[w] = int64(id), s
	}
}

// err names the lowest such row, or returns nil.
func (nf *nonFinite) err() error {
	best := -1
	for w, r := range nf.rows {
		if r >= 0 && (best < 0 || r < nf.rows[best]) {
			best = w
		}
	}
	if best < 0 {
		return nil
	}
	return fmt.Errorf("%w: row %d scores %v", ErrNonFinite, nf.rows[best], nf.scores[best])
}

// ExactRange returns every row admitted by allow (nil: all rows) whose inner
// product with q is at least min, sorted like Exact, and the number of
// vectors scored.
func ExactRange(ctx context.Context, m Matrix, q []float32, min float32, allow AllowList) ([]Hit, int, error) {
	if err := checkDim(m, q); err != nil {
		return nil, 0, err
	}
	if math.IsNaN(float64(min)) {
		return nil, 0, fmt.Errorf("vector: exact range: threshold is NaN")
	}
	n := m.Len()
	workers := runtime.GOMAXPROCS(0)
	out := make([][]Hit, workers)
	bad := newNonFinite(workers)
	scores := blockScores(workers)
	scored, err := visitBlocks(ctx, workers, n, allow, func(w int, ids []uint32) {
		sc := scores[w][:len(ids)]
		m.dots(q, ids, sc)
		for j, s := range sc {
			if s-s != 0 {
				bad.note(w, ids[j], s)
			} else if s >= min {
				out[w] = append(out[w], Hit{ids[j], s})
			}
		}
	})
	if err == nil {
		err = bad.err()
	}
	if err != nil {
		return nil, scored, err
	}
	var all []Hit
	for _, o := range out {
		all = append(all, o...)
	}
	SortHits(all)
	return all, scored, nil
}
