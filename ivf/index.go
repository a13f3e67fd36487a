package ivf

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/edsrzf/mmap-go"

	"github.com/laiondb/laiondb/internal/heap"
	"github.com/laiondb/laiondb/internal/par"
	"github.com/laiondb/laiondb/internal/readahead"
	"github.com/laiondb/laiondb/vector"
)

// Config sets how an index is trained. Zero fields take the defaults noted.
type Config struct {
	// Lists is the number of inverted lists (default 4·√N rounded to a
	// power of two, at least 16, for the N rows trained on).
	Lists int
	// Sub is the number of bytes of a vector's code: its residual is cut
	// into Sub pieces (default 32; the dimension must be a multiple).
	Sub int
	// Sample is the number of rows the centres and codewords are trained
	// on (default 32 per list, at least 8,192, at most the rows).
	Sample int
	// Iters is the number of k-means iterations (default 12).
	Iters int
	// Seed selects the training sample and the k-means starts.
	Seed uint64
}

// Index is an inverted-file index with product-quantised codes. Search is
// safe to call concurrently with other Searches and with Add.
type Index struct {
	dim  int
	cent []float32 // lists × dim, unit length
	// cent8 is cent in 8 bits, for choosing the lists (eightBitCentres).
	cent8    *centres8
	centOnce sync.Once
	groups   *groups // the centres grouped, past groupedFrom lists
	pq       *pq

	mu    sync.RWMutex
	m     vector.Matrix // the rows, for re-ranking
	ids   [][]uint32    // per list, increasing
	codes [][]byte      // per list, pq.sub bytes per row
	n     int
	// end is one past the last row added (0 when none is); covered the
	// rows of the matrix of the last Add, and fingerprint theirs, as
	// Write recorded it or Open read it.
	end         int
	covered     int
	fingerprint uint64

	// An index opened from a file uses the mapped file in place (mapping)
	// and checks each list the first time it is read: checked[j] once list
	// j matched sums[j] and held rows below fileEnd. Lists built or grown
	// in memory are checked. name is the file, for errors.
	mapping mmap.MMap
	checked []atomic.Bool
	sums    []uint64
	fileEnd int
	name    string
}

// ErrEmpty is returned by Train when there are no rows to train on.
var ErrEmpty = errors.New("ivf: no rows to train on")

// Train learns the centres and codewords from a seeded sample of the
// given rows of m and returns an empty index; Add fills it. Rows are used
// at unit length (m.Inv, when present, scales them).
func Train(ctx context.Context, m vector.Matrix, rows vector.Ranges, cfg Config) (*Index, error) {
	n := rows.Count()
	if n == 0 || m.Dim == 0 {
		return nil, ErrEmpty
	}
	if cfg.Lists <= 0 {
		cfg.Lists = 16
		for cfg.Lists*2 <= 4*int(math.Sqrt(float64(n))) {
			cfg.Lists *= 2
		}
	}
	if cfg.Sub <= 0 {
		cfg.Sub = 32
	}
	if m.Dim%cfg.Sub != 0 {
		return nil, fmt.Errorf("ivf: %d dimensions do not split into %d pieces", m.Dim, cfg.Sub)
	}
	if cfg.Sample <= 0 {
		cfg.Sample = max(32*cfg.Lists, 8192)
	}
	cfg.Sample = min(cfg.Sample, n)
	cfg.Lists = min(cfg.Lists, cfg.Sample)
	if cfg.Iters <= 0 {
		cfg.Iters = 12
	}
	dim := m.Dim
	// The sample: a seeded choice of cfg.Sample of the n rows, in row order.
	var all []uint32
	rows.ForEach(func(r uint32) bool { all = append(all, r); return true })
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5851f42d4c957f2d))
	pick := rng.Perm(n)[:cfg.Sample]
	slices.Sort(pick)
	x := make([]float32, cfg.Sample*dim)
	for i, p := range pick {
		unitRow(m, int(all[p]), x[i*dim:(i+1)*dim])
	}
	cent, gr, err := trainCentres(ctx, x, dim, cfg.Lists, cfg.Iters, cfg.Seed)
	if err != nil {
		return nil, err
	}
	ix := &Index{dim: dim, cent: cent, groups: gr}
	// The codewords are trained on the sample's residuals.
	assign := make([]int32, cfg.Sample)
	if err := ix.assign(ctx, x, assign); err != nil {
		return nil, err
	}
	for i, j := range assign {
		row, c := x[i*dim:(i+1)*dim], cent[int(j)*dim:int(j+1)*dim]
		for d := range row {
			row[d] -= c[d]
		}
	}
	if ix.pq, err = trainPQ(ctx, x, dim, cfg.Sub, cfg.Iters, cfg.Seed); err != nil {
		return nil, err
	}
	lists := len(cent) / dim
	ix.ids, ix.codes = make([][]uint32, lists), make([][]byte, lists)
	return ix, nil
}

// unitRow writes row i of m, at unit length, to dst.
func unitRow(m vector.Matrix, i int, dst []float32) {
	m.Row(i, dst)
	if m.Inv != nil {
		for d := range dst {
			dst[d] *= m.Inv[i]
		}
	} else {
		vector.Normalize(dst)
	}
}

// Add assigns the given rows of m to their lists and codes them, on all
// cores; m becomes the matrix searches re-rank on (the store's, which
// grows as rows are added). Rows must come after those added before.
func (ix *Index) Add(ctx context.Context, m vector.Matrix, rows vector.Ranges) error {
	if m.Dim != ix.dim {
		return fmt.Errorf("ivf: rows of %d dimensions added to an index of %d", m.Dim, ix.dim)
	}
	var all []uint32
	rows.ForEach(func(r uint32) bool { all = append(all, r); return true })
	end := ix.End()
	if len(all) > 0 && int(all[0]) < end {
		return fmt.Errorf("ivf: row %d added after row %d", all[0], end-1)
	}
	if len(all) > 0 && int(all[len(all)-1]) >= m.Len() {
		return fmt.Errorf("ivf: row %d added from a matrix of %d rows", all[len(all)-1], m.Len())
	}
	sub := ix.pq.sub
	list := make([]int32, len(all))
	code := make([]byte, len(all)*sub)
	// In chunks: the chunk's rows at unit length, their lists (batched
	// exact searches of the centres, or of their groups), then their
	// residuals' codes.
	const chunk = 4096
	x := make([]float32, min(chunk, len(all))*ix.dim)
	for lo := 0; lo < len(all); lo += chunk {
		hi := min(lo+chunk, len(all))
		xc := x[:(hi-lo)*ix.dim]
		for i := lo; i < hi; i++ {
			unitRow(m, int(all[i]), xc[(i-lo)*ix.dim:(i-lo+1)*ix.dim])
		}
		if err := ix.assign(ctx, xc, list[lo:hi]); err != nil {
			return err
		}
		_, err := par.Chunks(ctx, hi-lo, 256, func(_, clo, chi int) {
			acc := make([]float32, 256)
			for i := clo; i < chi; i++ {
				r, j := xc[i*ix.dim:(i+1)*ix.dim], int(list[lo+i])
				c := ix.cent[j*ix.dim : (j+1)*ix.dim]
				for d := range r {
					r[d] -= c[d]
				}
				ix.pq.encode(r, code[(lo+i)*sub:(lo+i+1)*sub], acc)
			}
		})
		if err != nil {
			return err
		}
	}
	// Each list grows once, to exactly what it holds: the index's memory
	// is its rows' numbers and codes, without append's slack.
	grow := make([]int, len(ix.ids))
	for _, j := range list {
		grow[j]++
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	// A list read from a file is checked before it is copied: a corrupt
	// list fails the Add rather than joining memory unchecked.
	for j, g := range grow {
		if g > 0 {
			if err := ix.checkList(j); err != nil {
				return err
			}
		}
	}
	for j, g := range grow {
		if ids := ix.ids[j]; g > 0 && cap(ids)-len(ids) < g {
			ix.ids[j] = append(make([]uint32, 0, len(ids)+g), ids...)
			ix.codes[j] = append(make([]byte, 0, (len(ids)+g)*sub), ix.codes[j]...)
		}
	}
	for i, r := range all {
		j := list[i]
		ix.ids[j] = append(ix.ids[j], r)
		ix.codes[j] = append(ix.codes[j], code[i*sub:(i+1)*sub]...)
	}
	ix.n += len(all)
	if len(all) > 0 {
		ix.end = int(all[len(all)-1]) + 1
	}
	ix.m, ix.covered = m, m.Len()
	return nil
}

// End returns one past the last row added: Add takes rows from there.
func (ix *Index) End() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.end
}

// Fingerprint returns the vector.Fingerprint of the rows the index
// covers, as the last Write recorded it or Open read it (0 before).
func (ix *Index) Fingerprint() uint64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.fingerprint
}

// Len returns the number of rows indexed.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.n
}

// ListRows returns the number of rows nprobe lists hold on average: the
// MinAllowed that makes a filtered search weigh as many candidates as an
// unfiltered one at that nprobe.
func (ix *Index) ListRows(nprobe int) int {
	return nprobe * ix.Len() / max(ix.Lists(), 1)
}

// Sub returns the number of bytes of a row's code.
func (ix *Index) Sub() int { return ix.pq.sub }

// Matrix returns the matrix searches re-rank on.
func (ix *Index) Matrix() vector.Matrix {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.m
}

// Lists returns the number of inverted lists.
func (ix *Index) Lists() int { return len(ix.cent) / ix.dim }

// eightBitCentres returns the centres in 8 bits, made on first use.
func (ix *Index) eightBitCentres() *centres8 {
	ix.centOnce.Do(func() { ix.cent8 = newCentres8(ix.cent, ix.dim) })
	return ix.cent8
}

// MemoryBytes is the memory the index holds: centres (in float32 and in
// 8 bits, with a scale each), codewords, and each row's number and code.
func (ix *Index) MemoryBytes() int64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	b := int64(5*len(ix.cent) + 4*ix.Lists() + 4*len(ix.pq.books))
	for j := range ix.ids {
		b += int64(4*cap(ix.ids[j]) + cap(ix.codes[j]))
	}
	return b
}

// Search tunes one search.
type Search struct {
	// NProbe is the number of lists read (default 1; at most Lists).
	NProbe int
	// Rerank is the number of best estimates scored exactly (at least k).
	Rerank int
	// Allow, when not nil, restricts the answer to these rows.
	Allow vector.AllowList
	// MinAllowed, with Allow, makes a filtered search read lists past
	// NProbe, nearest first, until it has estimated at least this many
	// allowed rows (or read every list): with NProbe's mean number of
	// rows, a filtered search weighs as many candidates as an unfiltered
	// one, whatever the share of rows allowed.
	MinAllowed int
	// Skip, when HasSkip, is a row left out of the answer: a query that
	// is itself an indexed row, in a leave-one-out estimate (Calibrate).
	Skip    uint32
	HasSkip bool
}

// Result is a search's answer and what it cost.
type Result struct {
	Hits []vector.Hit // best first (vector.SortHits order)
	// Lists is the number of lists read, Estimated the number of codes
	// read (of allowed rows or not), Scored the rows scored exactly.
	Lists, Estimated, Scored int
}

// cand is a row and its score.
type cand struct {
	score float32
	id    uint32
}

type farther struct{}

// Before puts the lowest score, then the highest row, at the root, so the
// kept set does not depend on the order rows are read in.
func (farther) Before(a, b cand) bool {
	return a.score < b.score || a.score == b.score && a.id > b.id
}

// cut keeps the k best of a (selectBest) and returns the score of the
// worst of them with a cut to them.
func cut(a []cand, k int) (float32, []cand) {
	selectBest(a, k)
	return a[k-1].score, a[:k]
}

// selectBest reorders a so that a[:k] holds its k best candidates (highest
// score, then lowest row) and a[k-1] the worst of those: a quickselect
// with median-of-three pivots, in time linear in len(a) on average. The
// set chosen depends only on the candidates, not on their order.
func selectBest(a []cand, k int) {
	better := func(x, y cand) bool { return (farther{}).Before(y, x) }
	lo, hi := 0, len(a)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if better(a[mid], a[lo]) {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if better(a[hi], a[lo]) {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if better(a[hi], a[mid]) {
			a[hi], a[mid] = a[mid], a[hi]
		}
		pivot := a[mid] // the median of three
		i, j := lo, hi
		for i <= j {
			for better(a[i], pivot) {
				i++
			}
			for better(pivot, a[j]) {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		// a[lo..j] are no worse than pivot, a[i..hi] no better, and
		// a[j+1..i-1] equal to it.
		switch {
		case k-1 <= j:
			hi = j
		case k-1 >= i:
			lo = i
		default:
			return
		}
	}
}

// readAhead asks for the pages of the lists a search will read, when the
// first of them is not in the page cache: an index opened from a file
// that is not (or no longer) cached reads them in one disk round trip,
// not one per list. Called with the read lock held.
func (ix *Index) readAhead(probe []cand) {
	if len(probe) == 0 {
		return
	}
	first := probe[0].id
	if readahead.Resident(unsafe.Pointer(unsafe.SliceData(ix.codes[first])), uintptr(len(ix.codes[first]))) &&
		readahead.Resident(unsafe.Pointer(unsafe.SliceData(ix.ids[first])), uintptr(4*len(ix.ids[first]))) {
		return
	}
	for _, p := range probe {
		readahead.Bytes(u32Bytes(ix.ids[p.id]))
		readahead.Bytes(ix.codes[p.id])
	}
}

// Search returns the k rows with the highest inner product with q among
// those o.Allow admits, as the index estimates them and then as the rows
// score exactly. q is used as given (the store searches with unit
// queries, so the scores are cosines).
func (ix *Index) Search(ctx context.Context, q []float32, k int, o Search) (Result, error) {
	if len(q) != ix.dim {
		return Result{}, fmt.Errorf("ivf: query of %d dimensions, index of %d", len(q), ix.dim)
	}
	if k <= 0 {
		return Result{}, nil
	}
	lists := ix.Lists()
	nprobe := min(max(o.NProbe, 1), lists)
	rerank := max(o.Rerank, k)
	// The nearest lists, by the query's inner product with their centres
	// (the lower list first among equals), nearest first: nprobe of them,
	// or all of them for a filtered search that may read past nprobe.
	expand := o.Allow != nil && o.MinAllowed > 0 && nprobe < lists
	keep := nprobe
	if expand {
		keep = lists
	}
	// A search that keeps fewer than an eighth of the lists chooses them
	// with the 8-bit centres and scores the chosen ones in float32
	// (nearLists); one that keeps more (a filtered search may read every
	// list) scores them all in float32, so probing every list still gives
	// the exact answer.
	var probe []cand
	if !expand && keep*8 < lists {
		probe = ix.nearLists(q, keep)
	} else {
		h := heap.Heap[cand, farther](make([]cand, 0, keep))
		for j := 0; j < lists; j++ {
			c := cand{vector.Dot(q, ix.cent[j*ix.dim:(j+1)*ix.dim]), uint32(j)}
			if len(h) < keep {
				h.Push(c)
			} else if (farther{}).Before(h[0], c) {
				h.Replace(c)
			}
		}
		probe = h
	}
	slices.SortFunc(probe, func(a, b cand) int {
		switch {
		case (farther{}).Before(b, a):
			return -1
		case (farther{}).Before(a, b):
			return 1
		}
		return 0
	})
	table := make([]float32, ix.pq.sub*256)
	ix.pq.table(q, table)
	sub := ix.pq.sub
	var res Result
	var est []float32 // a list's estimates
	// The rerank best estimates: a candidate below floor (the rerank-th
	// best so far) cannot be among them and is dropped at once; the others
	// gather in best, cut back to the rerank best whenever it is full.
	best := make([]cand, 0, 2*rerank)
	floor := float32(math.Inf(-1))
	ix.mu.RLock()
	m := ix.m
	if ix.mapping != nil {
		ix.readAhead(probe[:nprobe])
	}
	allowed := 0
	for i, p := range probe {
		if i >= nprobe && allowed >= o.MinAllowed {
			break
		}
		if err := ctx.Err(); err != nil {
			ix.mu.RUnlock()
			return Result{}, err
		}
		if err := ix.checkList(int(p.id)); err != nil {
			ix.mu.RUnlock()
			return Result{}, err
		}
		ids, codes := ix.ids[p.id], ix.codes[p.id]
		res.Estimated += len(ids)
		res.Lists++
		est = slices.Grow(est[:0], len(ids))[:len(ids)]
		estimates(table, codes, sub, est)
		if o.Allow == nil && !o.HasSkip {
			allowed += len(ids)
			ids := ids[:len(est)]
			for i, e := range est {
				if s := p.score + e; !(s < floor) {
					best = append(best, cand{s, ids[i]})
					if len(best) == cap(best) {
						floor, best = cut(best, rerank)
					}
				}
			}
			continue
		}
		for i, id := range ids {
			if o.Allow != nil && !o.Allow.Contains(id) || o.HasSkip && id == o.Skip {
				continue
			}
			allowed++
			if s := p.score + est[i]; !(s < floor) {
				best = append(best, cand{s, id})
				if len(best) == cap(best) {
					floor, best = cut(best, rerank)
				}
			}
		}
	}
	ix.mu.RUnlock()
	if len(best) > rerank {
		_, best = cut(best, rerank)
	}
	// Exact scores of the kept rows. Rows not in the page cache are asked
	// for all at once (the first few tell).
	for i := range min(4, len(best)) {
		if !m.RowResident(int(best[i].id)) {
			ids := make([]uint32, len(best))
			for j, c := range best {
				ids[j] = c.id
			}
			m.WillNeed(ids)
			break
		}
	}
	// Each row's first line is asked for 32 rows before it is scored
	// (vector.Matrix.PrefetchHead): the rows are scattered over a mapped
	// file of gigabytes, and what a row waits for is mostly its address
	// translation, which that request starts. Asking for whole rows 16
	// ahead, as before, filled the core's queue of misses with lines the
	// processor streams in anyway: 10M rows, nprobe 80, 1,280 rows
	// re-ranked, 367 → 389 QPS on one thread for image queries (a one-off
	// A/B in one process; BENCHMARKS.md has the runs since). At 1M rows
	// the bench harness's probe measured it 25% slower than whole rows,
	// and a one-pass program faster; why is not known yet.
	const ahead = 32
	for _, c := range best[:min(ahead, len(best))] {
		m.PrefetchHead(int(c.id), 1)
	}
	top := heap.Heap[cand, farther](make([]cand, 0, k))
	for i, c := range best {
		if i+ahead < len(best) {
			m.PrefetchHead(int(best[i+ahead].id), 1)
		}
		s := m.Dot(q, int(c.id))
		if math.IsNaN(float64(s)) || math.IsInf(float64(s), 0) {
			return Result{}, fmt.Errorf("ivf: row %d: %w", c.id, vector.ErrNonFinite)
		}
		if e := (cand{s, c.id}); len(top) < k {
			top.Push(e)
		} else if (farther{}).Before(top[0], e) {
			top.Replace(e)
		}
	}
	res.Scored = len(best)
	hits := make([]vector.Hit, len(top))
	for i, c := range top {
		hits[i] = vector.Hit{ID: c.id, Score: c.score}
	}
	vector.SortHits(hits)
	res.Hits = hits
	return res, nil
}
