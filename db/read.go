package db

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/dgraph-io/badger/v4"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/internal/lane"
	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/table"
	"github.com/laiondb/laiondb/vector"
)

// view is a consistent snapshot of the store for one read: the manifest
// and the vector matrices it covers. Ingests that commit later are not
// seen.
type view struct {
	d *DB
	m *Manifest
	// metas are the store's metadata databases by name (never mutated).
	metas map[string]*badger.DB
	img   vector.Matrix
	txt   vector.Matrix
	// hasImg, when non-nil, restricts searches to rows that have image
	// vectors (nil: every row has one).
	hasImg vector.Ranges
	// indexes are the store's vector indexes, in the manifest's order.
	indexes []viewIndex
	// hasTxt lists the rows that have text vectors (nil: every row has
	// one, when the store has text vectors).
	hasTxt vector.Ranges
	// self is the row whose own embedding Vector returned (a row(N) or
	// id(N) target), or -1, and selfSpace the space of that embedding:
	// searches of this view in that space rank it first among the rows
	// that tie with it. A view serves one query.
	self      int64
	selfSpace query.Space
	// encoded holds text targets encoded ahead by Vectors.
	encoded map[string][]float32
}

// rowsWith returns the rows of the segments for which has is true, or nil
// when it is true of every segment.
func (m *Manifest) rowsWith(has func(*Segment) bool) vector.Ranges {
	all := true
	for i := range m.Segments {
		all = all && has(&m.Segments[i])
	}
	if all {
		return nil
	}
	out := vector.Ranges{}
	for i := range m.Segments {
		if s := &m.Segments[i]; has(s) {
			out = append(out, vector.Range{Lo: uint32(s.Base), Hi: uint32(s.Base + s.Rows)})
		}
	}
	return out
}

// txns holds one read transaction per metadata database a reader uses,
// and the cursors its block reads move along.
type txns struct {
	metas map[string]*badger.DB
	open  map[string]*badger.Txn
	curs  map[cursorKey]*badger.Iterator
}

// cursorKey names a cursor: one per metadata database and key prefix
// (a segment's column).
type cursorKey struct {
	meta   string
	prefix [blockPrefix]byte
}

// blockPrefix is the length of a block key's prefix naming its segment
// and column (blockKey).
const blockPrefix = 7

// cursorReach is how many keys a cursor steps forward before it seeks
// instead. A step costs about 0.1 µs, a seek 1 µs and a Get 1.7 µs
// (one development run with a throwaway program on a 10M-row store's
// metadata, 2,480 block keys; BenchmarkTextQuery measures the effect).
const cursorReach = 8

func (v *view) txns() *txns {
	return &txns{metas: v.metas, open: map[string]*badger.Txn{}}
}

// of returns the transaction reading segment s's blocks.
func (t *txns) of(s *Segment) (*badger.Txn, error) {
	name := s.metaName()
	if txn := t.open[name]; txn != nil {
		return txn, nil
	}
	bdb := t.metas[name]
	if bdb == nil {
		return nil, fmt.Errorf("db: segment %s: its metadata %s is not open", s.Name, name)
	}
	txn := bdb.NewTransaction(false)
	t.open[name] = txn
	return txn, nil
}

// block returns the item of block key of segment s, or
// badger.ErrKeyNotFound. A reader reads a column's blocks in increasing
// order, so each column of each database has a cursor that steps forward
// to the key, or seeks when it is behind by more than cursorReach keys or
// past it; a Get per block costs more than a step. The item is valid
// until the next call.
func (t *txns) block(s *Segment, key []byte) (*badger.Item, error) {
	if len(key) < blockPrefix {
		return nil, fmt.Errorf("db: block key %x too short", key)
	}
	txn, err := t.of(s)
	if err != nil {
		return nil, err
	}
	ck := cursorKey{meta: s.metaName(), prefix: [blockPrefix]byte(key[:blockPrefix])}
	it := t.curs[ck]
	if it == nil {
		if t.curs == nil {
			t.curs = map[cursorKey]*badger.Iterator{}
		}
		it = txn.NewIterator(badger.IteratorOptions{Prefix: ck.prefix[:]})
		t.curs[ck] = it
		it.Seek(key)
	} else {
		steps := 0
		for it.Valid() && bytes.Compare(it.Item().Key(), key) < 0 && steps < cursorReach {
			it.Next()
			steps++
		}
		if !it.Valid() || bytes.Compare(it.Item().Key(), key) != 0 {
			// Behind by more than the reach, past the key, or at the end.
			it.Seek(key)
		}
	}
	if !it.Valid() || !bytes.Equal(it.Item().Key(), key) {
		return nil, badger.ErrKeyNotFound
	}
	return it.Item(), nil
}

func (t *txns) discard() {
	for _, it := range t.curs {
		it.Close()
	}
	for _, txn := range t.open {
		txn.Discard()
	}
}

func (d *DB) view() (*view, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return nil, ErrClosed
	}
	v := &view{d: d, m: d.man, metas: d.metas, self: -1}
	for i := range d.man.Indexes {
		info := &d.man.Indexes[i]
		vi := viewIndex{info: info}
		o, ok := d.ixs[indexKey{info.space(), info.Kind}]
		vi.kind, vi.err = lookupIndex(info.Kind)
		switch {
		case vi.err != nil:
		case ok:
			vi.ix, vi.err = o.ix, o.err
		default:
			vi.err = fmt.Errorf("the store has no %s vectors for it", info.space())
		}
		if vi.err != nil {
			vi.ix = nil
		}
		v.indexes = append(v.indexes, vi)
	}
	if d.img != nil {
		v.img = d.img.matrix(d.man.Rows)
	}
	if d.txt != nil {
		v.txt = d.txt.matrix(d.man.Rows)
	}
	v.hasImg = d.man.rowsWith(func(s *Segment) bool { return s.HasImage })
	v.hasTxt = d.man.rowsWith(func(s *Segment) bool { return s.HasText })
	return v, nil
}

// Columns lists the store's columns, with pair_cos (marked Computed) when
// some rows have both embeddings.
func (v *view) Columns() []table.ColumnInfo {
	out := make([]table.ColumnInfo, len(v.m.Columns))
	for i, c := range v.m.Columns {
		out[i] = table.ColumnInfo{Name: c.Name, Type: c.Type, Computed: c.Name == PairCosColumn}
	}
	if v.m.column(PairCosColumn) == nil && v.pairCosComputed() {
		out = append(out, table.ColumnInfo{Name: PairCosColumn, Type: table.TypeFloat, Computed: true})
	}
	return out
}

// pairCosVirtual stands for the pair_cos column of a store whose manifest
// has none (segments ingested before laiondb stored it).
var pairCosVirtual = ManifestColumn{ID: math.MaxUint16, Name: PairCosColumn, Type: table.TypeFloat}

// pairCosComputed reports whether some segment has both embeddings.
func (v *view) pairCosComputed() bool {
	for i := range v.m.Segments {
		if s := &v.m.Segments[i]; s.HasImage && s.HasText {
			return true
		}
	}
	return false
}

// pairCosOnTheFly reports whether column c of segment s is pair_cos
// computed as it is read: the segment has both embeddings but was ingested
// before pair_cos was stored.
func pairCosOnTheFly(c *ManifestColumn, s *Segment) bool {
	return c.Name == PairCosColumn && s.HasImage && s.HasText && !slices.Contains(s.Columns, PairCosColumn)
}

func (v *view) NumRows() int        { return int(v.m.Rows) }
func (v *view) Fingerprint() string { return v.m.fingerprint() }

// Source names the file a row came from and the row's number in it.
func (v *view) Source(row uint32) (string, int64) {
	i := v.m.segmentOf(int64(row))
	if i >= len(v.m.Segments) {
		return "", -1
	}
	s := v.m.Segments[i]
	return s.Files[0].Path, int64(row) - s.Base
}

// colsFor resolves column names to manifest columns; unknown names are
// left out, as engine.Store specifies.
func (v *view) colsFor(names []string) []ManifestColumn {
	var out []ManifestColumn
	for _, n := range names {
		if c := v.m.column(strings.ToLower(n)); c != nil {
			out = append(out, *c)
		} else if strings.EqualFold(n, PairCosColumn) && v.pairCosComputed() {
			out = append(out, pairCosVirtual)
		}
	}
	return out
}

// blockJob is one block range of one segment, or some rows of it.
type blockJob struct {
	seg   *Segment
	start uint32 // first row of the block within the segment
	n     int
	rows  []uint32 // ScanRows: the store rows of the block to read, ascending
}

// Scan calls fn with batches of consecutive rows covering the store, from
// GOMAXPROCS goroutines. A column a segment lacks comes as all null. A
// background scan's workers give way to short requests between blocks
// (lane.Yield).
func (v *view) Scan(ctx context.Context, names []string, fn func(*table.Batch) error) error {
	cols := v.colsFor(names)
	feed := func(send func(blockJob) bool) {
		for i := range v.m.Segments {
			s := &v.m.Segments[i]
			for start := int64(0); start < s.Rows; start += blockRows {
				if !send(blockJob{seg: s, start: uint32(start), n: int(min(blockRows, s.Rows-start))}) {
					return
				}
			}
		}
	}
	return v.eachBlock(ctx, feed, func(txns *txns) func(blockJob) error {
		b := &table.Batch{Cols: map[string]*table.Column{}}
		store := make([]table.Column, len(cols))
		return func(job blockJob) error {
			txn, err := txns.of(job.seg)
			if err != nil {
				return err
			}
			return v.scanBlock(ctx, txn, job, cols, store, b, fn)
		}
	})
}

// ScanRows calls fn with batches holding the named columns of the rows of
// rows (a set over the store's rows): one batch per block that has any of
// them, its Rows listing them in store order. Like Scan, it calls fn from
// GOMAXPROCS goroutines, and a batch is valid only during the call. Only
// those rows' values are read and copied (from the blocks scans keep
// decoded, or straight from the encoded ones), so a where clause evaluated
// on the text index's candidates costs about those rows, not the blocks'.
func (v *view) ScanRows(ctx context.Context, rows *vector.Bitset, names []string, fn func(*table.Batch) error) error {
	cols := v.colsFor(names)
	words := rows.Words()
	feed := func(send func(blockJob) bool) {
		for i := range v.m.Segments {
			s := &v.m.Segments[i]
			for start := int64(0); start < s.Rows; start += blockRows {
				lo, hi := s.Base+start, s.Base+min(start+blockRows, s.Rows)
				if r := appendRows(nil, words, lo, hi); len(r) > 0 {
					if !send(blockJob{seg: s, start: uint32(start), n: int(hi - lo), rows: r}) {
						return
					}
				}
			}
		}
	}
	return v.eachBlock(ctx, feed, func(txns *txns) func(blockJob) error {
		b := &table.Batch{Cols: map[string]*table.Column{}}
		blds := make([]*colBuilder, len(cols))
		for i, c := range cols {
			blds[i] = newColBuilder(c.Type)
		}
		var slots []int
		return func(job blockJob) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			for len(slots) < len(job.rows) {
				slots = append(slots, len(slots))
			}
			b.Start, b.Rows, b.Len = 0, job.rows, len(job.rows)
			clear(b.Cols)
			for i := range cols {
				blds[i].reset()
				if err := v.fetchBlock(txns, job.seg, &cols[i], int64(job.start), job.rows, slots[:len(job.rows)], 0, blds[i]); err != nil {
					return err
				}
				b.Cols[cols[i].Name] = blds[i].column()
			}
			return fn(b)
		}
	})
}

// appendRows appends to dst the rows in [lo, hi) of the set whose words
// are w.
func appendRows(dst []uint32, w []uint64, lo, hi int64) []uint32 {
	for i := lo >> 6; i < (hi+63)>>6 && i < int64(len(w)); i++ {
		x := w[i]
		if i == lo>>6 {
			x &= ^uint64(0) << (lo & 63)
		}
		if i == hi>>6 {
			x &= 1<<(hi&63) - 1
		}
		for x != 0 {
			dst = append(dst, uint32(i<<6+int64(bits.TrailingZeros64(x))))
			x &= x - 1
		}
	}
	return dst
}

// eachBlock runs the jobs feed sends on GOMAXPROCS workers, each with its
// own transactions and the work function newWorker makes for it; the
// first error stops the feed and is returned. Workers give way to short
// requests between blocks (lane.Yield).
func (v *view) eachBlock(ctx context.Context, feed func(send func(blockJob) bool), newWorker func(*txns) func(blockJob) error) error {
	workers := runtime.GOMAXPROCS(0)
	next := make(chan blockJob)
	errc := make(chan error, workers)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			txns := v.txns()
			defer txns.discard()
			work := newWorker(txns)
			for job := range next {
				lane.Yield(ctx)
				if err := work(job); err != nil {
					errc <- err
					cancel()
					for range next {
					}
					return
				}
			}
		}()
	}
	var err error
	feed(func(j blockJob) bool {
		select {
		case next <- j:
			return true
		case <-ctx.Done():
			err = ctx.Err()
			return false
		}
	})
	close(next)
	wg.Wait()
	close(errc)
	for e := range errc {
		if err == nil || errors.Is(err, context.Canceled) {
			err = e
		}
	}
	return err
}

// scanBlock loads the block's columns (zero-copy for string data, inside
// nested Badger value callbacks) and calls fn.
func (v *view) scanBlock(ctx context.Context, txn *badger.Txn, job blockJob, cols []ManifestColumn, store []table.Column, b *table.Batch, fn func(*table.Batch) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.Start = uint32(job.seg.Base) + job.start
	b.Rows = nil
	b.Len = job.n
	clear(b.Cols)
	var load func(i int) error
	load = func(i int) error {
		if i == len(cols) {
			return fn(b)
		}
		c := &store[i]
		if pairCosOnTheFly(&cols[i], job.seg) {
			b.Cols[cols[i].Name] = v.pairCosBlock(c, int(job.seg.Base)+int(job.start), job.n)
			return load(i + 1)
		}
		ref := blockRef{seg: job.seg.ID, col: cols[i].ID, start: job.start, typ: cols[i].Type}
		cache := v.d.cols
		if cache != nil {
			if cc := cache.get(ref); cc != nil {
				b.Cols[cols[i].Name] = cc
				return load(i + 1)
			}
		}
		item, err := txn.Get(blockKey(job.seg.ID, cols[i].ID, job.start))
		if errors.Is(err, badger.ErrKeyNotFound) {
			if cache != nil {
				// The segment lacks the column: keep its null block too.
				c = new(table.Column)
				nullColumn(c, cols[i].Type, job.n)
				cache.put(ref, c)
			} else {
				nullColumn(c, cols[i].Type, job.n)
			}
			b.Cols[cols[i].Name] = c
			return load(i + 1)
		}
		if err != nil {
			return fmt.Errorf("db: reading column %s of %s: %w", cols[i].Name, job.seg.Name, err)
		}
		var inner error
		err = item.Value(func(val []byte) error {
			if cache != nil {
				owned, err := ownedColumn(val, cols[i].Type)
				if err != nil {
					return fmt.Errorf("column %s of %s, rows from %d: %w", cols[i].Name, job.seg.Name, job.start, err)
				}
				cache.put(ref, owned)
				c = owned
			} else if err := decodeBlock(val, cols[i].Type, c); err != nil {
				return fmt.Errorf("column %s of %s, rows from %d: %w", cols[i].Name, job.seg.Name, job.start, err)
			}
			b.Cols[cols[i].Name] = c
			inner = load(i + 1)
			return nil
		})
		if err != nil {
			return err
		}
		return inner
	}
	return load(0)
}

// pairCosBlock makes c the pair_cos values of rows [lo, lo+n).
func (v *view) pairCosBlock(c *table.Column, lo, n int) *table.Column {
	*c = table.Column{Type: table.TypeFloat, Float: make([]float64, n)}
	a, b := make([]float32, v.img.Dim), make([]float32, v.txt.Dim)
	for r := range n {
		c.Float[r] = pairCos(v.img, v.txt, lo+r, a, b)
	}
	return c
}

// nullColumn makes c an all-null column of n rows.
func nullColumn(c *table.Column, t table.Type, n int) {
	c.Type = t
	c.Null = make([]bool, n)
	for i := range c.Null {
		c.Null[i] = true
	}
	switch t {
	case table.TypeString:
		c.Str = table.Strings{Off: make([]uint32, n+1)}
	case table.TypeInt:
		c.Int = make([]int64, n)
	case table.TypeFloat:
		c.Float = make([]float64, n)
	case table.TypeBool:
		c.Bool = make([]bool, n)
	}
}

// Fetch returns the named columns of the given rows, in the order given.
// It reads each row's values straight from the encoded blocks, so a knn
// answer costs a block lookup per row and column, not a block decode; from
// the decoded blocks scans keep (colcache.go), when a block is there.
func (v *view) Fetch(ctx context.Context, rows []uint32, names []string) (*table.Batch, error) {
	cols := v.colsFor(names)
	out := &table.Batch{Rows: append([]uint32(nil), rows...), Len: len(rows), Cols: map[string]*table.Column{}}
	// Visit rows in store order, so rows of one block are read together.
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	sorted := slices.IsSorted(rows)
	if !sorted {
		sort.SliceStable(order, func(a, b int) bool { return rows[order[a]] < rows[order[b]] })
	}
	txns := v.txns()
	defer txns.discard()
	err := func() error {
		for _, c := range cols {
			// The values in store order (order), then in the order given.
			bld := newColBuilderCap(c.Type, len(rows))
			for k := 0; k < len(order); {
				if err := ctx.Err(); err != nil {
					return err
				}
				r := int64(rows[order[k]])
				si := v.m.segmentOf(r)
				if si >= len(v.m.Segments) {
					return fmt.Errorf("%w: row %d (the store has %d)", ErrNotFound, r, v.m.Rows)
				}
				s := &v.m.Segments[si]
				start := (r - s.Base) / blockRows * blockRows
				// The rows of this block: order[k:e].
				e := k + 1
				for e < len(order) && int64(rows[order[e]]) < s.Base+start+blockRows && int64(rows[order[e]]) < s.Base+s.Rows {
					e++
				}
				if err := v.fetchBlock(txns, s, &c, start, rows, order[k:e], len(order)-e, bld); err != nil {
					return err
				}
				k = e
			}
			col := bld.column()
			if !sorted {
				// Value i of col is that of row rows[order[i]].
				perm := newColBuilderCap(c.Type, len(rows))
				perm.data = make([]byte, 0, len(col.Str.Data))
				at := make([]int, len(order))
				for i, slot := range order {
					at[slot] = i
				}
				for _, i := range at {
					perm.appendFrom(col, i)
				}
				col = perm.column()
			}
			out.Cols[c.Name] = col
		}
		return nil
	}()
	if err != nil {
		return nil, err
	}
	return out, nil
}

// fetchBlock appends to bld the values of column c of the rows
// rows[slot] for slot in slots, in that order: rows of segment s in its
// block starting at row start (within the segment), in store order. more
// is the number of rows still to come after these, to size bld.
func (v *view) fetchBlock(txns *txns, s *Segment, c *ManifestColumn, start int64, rows []uint32, slots []int, more int, bld *colBuilder) error {
	if pairCosOnTheFly(c, s) {
		for _, slot := range slots {
			bld.appendFloat(pairCos(v.img, v.txt, int(rows[slot]), nil, nil))
		}
		return nil
	}
	if v.d.cols != nil {
		// A block a scan decoded and kept: no read, no checksum.
		if cc := v.d.cols.get(blockRef{seg: s.ID, col: c.ID, start: uint32(start), typ: c.Type}); cc != nil {
			for _, slot := range slots {
				bld.appendFrom(cc, int(int64(rows[slot])-s.Base-start))
			}
			return nil
		}
	}
	item, err := txns.block(s, blockKey(s.ID, c.ID, uint32(start)))
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		for range slots {
			bld.appendNull()
		}
		return nil
	case err != nil:
		return err
	}
	key := string(item.Key())
	err = item.Value(func(val []byte) error {
		br, err := v.d.readBlock(key, val)
		if err != nil {
			return err
		}
		bld.sink += br.touch(rows, slots, s.Base+start)
		bld.reserve(br, rows, slots, s.Base+start, more)
		for _, slot := range slots {
			if err := br.appendTo(bld, int(int64(rows[slot])-s.Base-start), c.Type); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("column %s of %s: %w", c.Name, s.Name, err)
	}
	return nil
}

// allow combines a query's allow-list with the rows that have vectors in
// the space searched.
func (v *view) allow(a *vector.Bitset, sp query.Space) vector.AllowList {
	has := v.hasImg
	if sp == query.SpaceText {
		has = v.hasTxt
	}
	switch {
	case a == nil && has == nil:
		return nil
	case a == nil:
		return has
	case has == nil:
		return a
	}
	return vector.And(a, has)
}

// matrix returns the embeddings of a space.
func (v *view) matrix(sp query.Space) vector.Matrix {
	if sp == query.SpaceText {
		return v.txt
	}
	return v.img
}

func (v *view) checkVec(q []float32, sp query.Space) error {
	m := v.matrix(sp)
	if m.Dim == 0 {
		if sp == query.SpaceText {
			if v.img.Dim != 0 {
				return fmt.Errorf("%w: the store has no text embeddings (ingest a text_emb folder, or search the image embeddings)", ErrNoVectors)
			}
		}
		return ErrNoVectors
	}
	if len(q) != m.Dim {
		return fmt.Errorf("%w: query vector has %d dimensions, the store %d", ErrDimension, len(q), m.Dim)
	}
	return nil
}

// Search returns the K nearest rows to req.Vec by inner product.
func (v *view) Search(ctx context.Context, req engine.SearchRequest) (engine.SearchResult, error) {
	if err := v.checkVec(req.Vec, req.Space); err != nil {
		return engine.SearchResult{}, err
	}
	return v.search(ctx, req)
}

// Within returns every row whose score is at least req.MinScore.
func (v *view) Within(ctx context.Context, req engine.SearchRequest) (engine.SearchResult, error) {
	if err := v.checkVec(req.Vec, req.Space); err != nil {
		return engine.SearchResult{}, err
	}
	hits, scanned, err := vector.ExactRange(ctx, v.matrix(req.Space), req.Vec, bandFloor(req), v.allow(req.Allow, req.Space))
	if err != nil {
		return engine.SearchResult{}, err
	}
	return v.withinResult(req, hits, scanned), nil
}

// WithinBatch answers range searches as Within does, those over the same
// rows (same allow-list, space and threshold) in one pass over the vectors
// (vector.ExactRangeBatch: each answer identical to its own scan's).
func (v *view) WithinBatch(ctx context.Context, reqs []engine.SearchRequest) ([]engine.SearchResult, error) {
	type key struct {
		allow *vector.Bitset
		space query.Space
		min   float32
	}
	var ps passes[key]
	for i, req := range reqs {
		if err := v.checkVec(req.Vec, req.Space); err != nil {
			return nil, err
		}
		ps.add(key{req.Allow, req.Space, req.MinScore}, i)
	}
	out := make([]engine.SearchResult, len(reqs))
	for _, k := range ps.order {
		idx := ps.idx[k]
		hits, scanned, err := vector.ExactRangeBatch(ctx, v.matrix(k.space), ps.vecs(k, reqs), bandFloor(reqs[idx[0]]), v.allow(k.allow, k.space))
		if err != nil {
			return nil, err
		}
		for j, i := range idx {
			out[i] = v.withinResult(reqs[i], hits[j], scanned)
			out[i].Method += shared(len(idx))
		}
	}
	return out, nil
}

// bandFloor is the score a range search scans down to: the band below its
// threshold, to count the rows whose float32 cosine is too close to it for
// its side to be certain.
func bandFloor(req engine.SearchRequest) float32 { return req.MinScore - engine.ScoreTolerance }

// withinResult is the answer of a range search from the hits at or above
// bandFloor(req), best first.
func (v *view) withinResult(req engine.SearchRequest, hits []vector.Hit, scanned int) engine.SearchResult {
	band := 0
	keep := hits[:0]
	for _, h := range hits {
		if h.Score < req.MinScore+engine.ScoreTolerance {
			band++
		}
		if h.Score >= req.MinScore {
			keep = append(keep, h)
		}
	}
	return engine.SearchResult{Hits: v.selfFirst(toHits(keep), req.Vec, req.Space, -1, nil), Exact: true, Scanned: scanned, NearThreshold: band,
		Method: fmt.Sprintf("exact scan of %d %svectors", scanned, spaceWord(req.Space))}
}

// VectorRows returns the rows that have an embedding in space sp.
func (v *view) VectorRows(sp query.Space) *vector.Bitset {
	out := vector.NewBitset(int(v.m.Rows))
	has := v.hasImg
	if sp == query.SpaceText {
		has = v.hasTxt
	}
	if v.matrix(sp).Dim == 0 {
		return out
	}
	if has == nil {
		has = vector.Ranges{{Lo: 0, Hi: uint32(v.m.Rows)}}
	}
	has.ForEach(func(r uint32) bool { out.Set(r); return true })
	return out
}

// VectorCount returns the number of rows with an embedding in space sp,
// without listing them (engine.Union asks it of every store on every
// search).
func (v *view) VectorCount(sp query.Space) int {
	if v.matrix(sp).Dim == 0 {
		return 0
	}
	has := v.hasImg
	if sp == query.SpaceText {
		has = v.hasTxt
	}
	if has == nil {
		return int(v.m.Rows)
	}
	return has.Count()
}

// spaceWord names the text space in a search method ("text "), and
// nothing for the default image space.
func spaceWord(sp query.Space) string {
	if sp == query.SpaceText {
		return "text "
	}
	return ""
}

// selfFirst puts the view's self row (a row or id target) first among the
// hits whose score equals its own, as the query language promises: a
// duplicate of the target never displaces the target itself. For a k-NN
// answer (k >= 0) a self row missing from hits joins them when its score
// reaches the k-th, displacing the last. hits are sorted best first. A
// target that is a row's embedding in another space than the one searched
// is not the row's own vector there, and has no self row.
func (v *view) selfFirst(hits []engine.Hit, q []float32, sp query.Space, k int, allow vector.AllowList) []engine.Hit {
	if v.self < 0 || v.selfSpace != sp {
		return hits
	}
	self := uint32(v.self)
	i := slices.IndexFunc(hits, func(h engine.Hit) bool { return h.Row == self })
	if i < 0 {
		if k < 0 || (allow != nil && !allow.Contains(self)) {
			return hits
		}
		h := engine.Hit{Row: self, Score: v.matrix(sp).Dot(q, int(self))}
		if h.Score != h.Score || (len(hits) >= k && (k == 0 || h.Score < hits[k-1].Score)) {
			return hits
		}
		if len(hits) >= k {
			hits = hits[:k-1]
		}
		hits = append(hits, h)
		i = len(hits) - 1
	}
	h := hits[i]
	j := i
	for j > 0 && hits[j-1].Score <= h.Score {
		j--
	}
	copy(hits[j+1:i+1], hits[j:i])
	hits[j] = h
	return hits
}

func toHits(h []vector.Hit) []engine.Hit {
	out := make([]engine.Hit, len(h))
	for i, x := range h {
		out[i] = engine.Hit{Row: x.ID, Score: x.Score}
	}
	return out
}

// Vectors resolves several targets as Vector does, encoding all text
// targets in one call to the CLIP text encoder.
func (v *view) Vectors(ctx context.Context, ts []query.Target) ([][]float32, error) {
	var texts []string
	for _, t := range ts {
		if t.Kind == query.TargetText && !slices.Contains(texts, t.Text) {
			texts = append(texts, t.Text)
		}
	}
	if e := v.d.opts.Embedder; e != nil && len(texts) > 1 {
		enc, err := e.EncodeText(ctx, texts)
		if err != nil {
			return nil, err
		}
		if len(enc) != len(texts) {
			return nil, fmt.Errorf("db: the model encoded %d texts of %d", len(enc), len(texts))
		}
		v.encoded = map[string][]float32{}
		for i, t := range texts {
			v.encoded[t] = enc[i]
		}
	}
	out := make([][]float32, len(ts))
	for i, t := range ts {
		q, err := v.Vector(ctx, t)
		if err != nil {
			return nil, err
		}
		out[i] = q
	}
	return out, nil
}

// Vector resolves a knn or range target to a unit-norm query vector.
func (v *view) Vector(ctx context.Context, t query.Target) ([]float32, error) {
	var q []float32
	switch t.Kind {
	case query.TargetText, query.TargetImage:
		e := v.d.opts.Embedder
		if e == nil {
			return nil, fmt.Errorf("%w: text and image targets need a CLIP model (Options.Embedder)", ErrNoModel)
		}
		var out [][]float32
		var err error
		switch {
		case t.Kind == query.TargetText && v.encoded[t.Text] != nil:
			out = [][]float32{append([]float32(nil), v.encoded[t.Text]...)}
		case t.Kind == query.TargetText:
			out, err = e.EncodeText(ctx, []string{t.Text})
		default:
			out, err = e.EncodeImage(ctx, []string{t.Path})
		}
		if err != nil {
			return nil, err
		}
		q = out[0]
		if v.m.Dim != 0 && len(q) != v.m.Dim {
			return nil, fmt.Errorf("%w: model %s makes %d-d embeddings, the store holds %d-d", ErrDimension, e.Name(), len(q), v.m.Dim)
		}
		if v.m.Model != "" && e.Name() != v.m.Model {
			v.d.opts.Warn(fmt.Sprintf("the store's embeddings came from model %q, the query is encoded by %q: scores compare different spaces unless the two are the same model", v.m.Model, e.Name()))
		}
	case query.TargetRow, query.TargetSampleID:
		row := t.Row
		if t.Kind == query.TargetRow && int64(row) >= v.m.Rows {
			return nil, fmt.Errorf("%w: row %d (the store has %d rows)", ErrNotFound, row, v.m.Rows)
		}
		if t.Kind == query.TargetSampleID {
			var err error
			if row, err = v.d.lookupSampleID(v, t.SampleID); err != nil {
				return nil, err
			}
		}
		var err error
		if q, err = v.rowVector(row, t.Space); err != nil {
			return nil, err
		}
		v.self, v.selfSpace = int64(row), t.Space
	case query.TargetVector:
		q = append([]float32(nil), t.Vec...)
	case query.TargetNpy:
		var err error
		if q, err = readQueryNpy(t.Path); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("db: unknown target kind %d", t.Kind)
	}
	if v.m.Dim == 0 {
		return nil, ErrNoVectors
	}
	if len(q) != v.m.Dim {
		return nil, fmt.Errorf("%w: query vector has %d dimensions, the store %d", ErrDimension, len(q), v.m.Dim)
	}
	if vector.Normalize(q) == 0 {
		return nil, fmt.Errorf("db: the query vector is all zeros")
	}
	return q, nil
}

func (v *view) rowVector(row uint32, sp query.Space) ([]float32, error) {
	m, has := v.img, v.hasImg
	if sp == query.SpaceText {
		m, has = v.txt, v.hasTxt
	}
	if m.Dim == 0 {
		return nil, v.checkVec(nil, sp)
	}
	if has != nil && !has.Contains(row) {
		return nil, fmt.Errorf("%w: row %d has no %s embedding", ErrNotFound, row, sp)
	}
	return m.Row(int(row), nil), nil
}

// RowVectors implements engine.RowVectorer: the rows' embeddings in sp,
// as stored (float16 widened to float32, not normalised).
func (v *view) RowVectors(ctx context.Context, rows []uint32, sp query.Space) ([][]float32, error) {
	out := make([][]float32, len(rows))
	for i, r := range rows {
		if int64(r) >= v.m.Rows {
			return nil, fmt.Errorf("%w: row %d (the store has %d rows)", ErrNotFound, r, v.m.Rows)
		}
		var err error
		if out[i], err = v.rowVector(r, sp); err != nil {
			return nil, err
		}
	}
	return out, ctx.Err()
}

// lookupSampleID finds the row with that SAMPLE_ID (the first, if several)
// by scanning the sample_id column: an id lookup is rare (a query target),
// and a per-row index would cost a key per row at ingest.
func (d *DB) lookupSampleID(v *view, id int64) (uint32, error) {
	if v.m.column("sample_id") == nil {
		return 0, fmt.Errorf("%w: the store has no sample_id column", ErrNotFound)
	}
	var mu sync.Mutex
	best := int64(-1)
	err := v.Scan(context.Background(), []string{"sample_id"}, func(b *table.Batch) error {
		c := b.Cols["sample_id"]
		if c.Type != table.TypeInt {
			return nil
		}
		for i := 0; i < b.Len; i++ {
			if !c.IsNull(i) && c.Int[i] == id {
				mu.Lock()
				if r := int64(b.Row(i)); best < 0 || r < best {
					best = r
				}
				mu.Unlock()
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if best < 0 {
		return 0, fmt.Errorf("%w: no row has SAMPLE_ID %d", ErrNotFound, id)
	}
	return uint32(best), nil
}

// clone returns a view of the same snapshot for another query.
func (v *view) clone() *view {
	c := *v
	c.self, c.selfSpace, c.encoded = -1, query.SpaceImage, nil
	return &c
}
