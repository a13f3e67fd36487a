package engine

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/table"
	"github.com/laiondb/laiondb/vector"
)

// Union is a Store over the rows of several stores one after another: the
// rows of parts[0] first, then those of parts[1], and so on. A query over
// it gives the answer the query gives over one store holding the parts'
// rows in that order, the statistics, counts, shares and intervals of the
// selected rows computed once over all of them; only the plan's search
// methods and the fingerprint differ. Exact k-NN answers are each part's
// exact answer merged by score (ties by row, a row target first), range
// answers the parts' answers together; samples are drawn over the union's
// rows as over one store's. Shards of a dataset ingested from consecutive
// groups of its files (a part a group, in file order) therefore answer as
// the store of all the files does.
//
// Columns are the parts' columns by name, in the order first seen; a
// column some parts lack reads as null there, as a column some source
// files lack does in one store. A column of different types in two parts
// is an error. Text, image and vector targets are resolved by the first
// part that holds embeddings, so every part should be opened with the
// same model.
//
// Like a store's snapshot, a Union remembers the row target a query
// resolved (to rank that row first among equal scores): use one Union per
// query, over the parts' snapshots.
type Union struct {
	parts []Store
	off   []int // off[i] is the first row of parts[i]; off[len(parts)] the rows
	cols  []table.ColumnInfo
	types map[string]table.Type
	has   []map[string]bool // the columns of each part
	self  int64             // the row target's row, or -1
	selfS query.Space

	mu      sync.Mutex
	vecRows map[query.Space][]int // each part's rows with an embedding, when counted (-1: not yet)
}

// NewUnion returns the Union of parts, in that order.
func NewUnion(parts ...Store) (*Union, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("engine: a union of no stores")
	}
	u := &Union{parts: parts, off: make([]int, len(parts)+1), types: map[string]table.Type{}, self: -1}
	for i, p := range parts {
		u.off[i+1] = u.off[i] + p.NumRows()
		has := map[string]bool{}
		for _, c := range p.Columns() {
			has[c.Name] = true
			t, seen := u.types[c.Name]
			switch {
			case !seen:
				u.types[c.Name] = c.Type
				u.cols = append(u.cols, c)
			case t != c.Type:
				return nil, fmt.Errorf("engine: column %s is %s in store %d of the union and %s in an earlier one", c.Name, c.Type, i+1, t)
			case c.Computed:
				j := slices.IndexFunc(u.cols, func(x table.ColumnInfo) bool { return x.Name == c.Name })
				u.cols[j].Computed = true
			}
		}
		u.has = append(u.has, has)
	}
	if u.off[len(parts)] > math.MaxUint32 {
		return nil, fmt.Errorf("engine: the union holds %d rows, more than the %d rows one query can address", u.off[len(parts)], uint32(math.MaxUint32))
	}
	return u, nil
}

// Parts returns the stores of the union, in order.
func (u *Union) Parts() []Store { return u.parts }

// part returns the index of the part holding row r.
func (u *Union) part(r uint32) int {
	return sort.Search(len(u.parts), func(i int) bool { return u.off[i+1] > int(r) }) // off[i+1] > r
}

// Columns implements Store.
func (u *Union) Columns() []table.ColumnInfo { return slices.Clone(u.cols) }

// NumRows implements Store.
func (u *Union) NumRows() int { return u.off[len(u.parts)] }

// Fingerprint implements Store: a digest of the parts' fingerprints, in
// order.
func (u *Union) Fingerprint() string {
	fps := make([]string, len(u.parts))
	for i, p := range u.parts {
		fps[i] = p.Fingerprint()
	}
	return UnionFingerprint(fps)
}

// complete adds to b, a batch of part i, the columns of cols the part
// lacks, as nulls.
func (u *Union) complete(i int, b *table.Batch, cols []string) {
	for _, name := range cols {
		if t, ok := u.types[name]; ok && !u.has[i][name] {
			b.Cols[name] = table.NullColumn(t, b.Len)
		}
	}
}

// shift returns b, a batch of part i, as a batch of the union: its rows
// moved by the part's first row. The part's batch is not changed.
func (u *Union) shift(i int, b *table.Batch, cols []string) *table.Batch {
	out := &table.Batch{Start: b.Start + uint32(u.off[i]), Len: b.Len, Cols: make(map[string]*table.Column, len(cols))}
	for k, c := range b.Cols {
		out.Cols[k] = c
	}
	if b.Rows != nil {
		out.Rows = make([]uint32, len(b.Rows))
		for j, r := range b.Rows {
			out.Rows[j] = r + uint32(u.off[i])
		}
	}
	u.complete(i, out, cols)
	return out
}

// Scan implements Store: the parts one after another.
func (u *Union) Scan(ctx context.Context, cols []string, fn func(*table.Batch) error) error {
	for i, p := range u.parts {
		if err := p.Scan(ctx, cols, func(b *table.Batch) error { return fn(u.shift(i, b, cols)) }); err != nil {
			return u.fail(i, err)
		}
	}
	return nil
}

// ScanRows implements RowScanner: each part's rows through its own
// ScanRows, or its Fetch when it has none.
func (u *Union) ScanRows(ctx context.Context, rows *vector.Bitset, cols []string, fn func(*table.Batch) error) error {
	for i, p := range u.parts {
		local := rows.Slice(u.off[i], u.off[i+1])
		if local.Count() == 0 {
			continue
		}
		if rs, ok := p.(RowScanner); ok {
			if err := rs.ScanRows(ctx, local, cols, func(b *table.Batch) error { return fn(u.shift(i, b, cols)) }); err != nil {
				return u.fail(i, err)
			}
			continue
		}
		var ids []uint32
		local.ForEach(func(r uint32) bool { ids = append(ids, r); return true })
		for len(ids) > 0 {
			n := min(len(ids), 4096)
			b, err := p.Fetch(ctx, ids[:n], cols)
			if err != nil {
				return u.fail(i, err)
			}
			if err := fn(u.shift(i, b, cols)); err != nil {
				return err
			}
			ids = ids[n:]
		}
	}
	return nil
}

// Fetch implements Store: the rows of each part fetched from it, put back
// in the order asked.
func (u *Union) Fetch(ctx context.Context, rows []uint32, cols []string) (*table.Batch, error) {
	n := u.NumRows()
	type at struct{ pos, row int } // position in rows, row in the part's batch
	where := make([]at, len(rows))
	local := make([][]uint32, len(u.parts))
	for j, r := range rows {
		if int(r) >= n {
			return nil, fmt.Errorf("engine: row %d of a union of %d rows", r, n)
		}
		i := u.part(r)
		where[j] = at{i, len(local[i])}
		local[i] = append(local[i], r-uint32(u.off[i]))
	}
	got := make([]*table.Batch, len(u.parts))
	for i, p := range u.parts {
		if len(local[i]) == 0 {
			continue
		}
		b, err := p.Fetch(ctx, local[i], cols)
		if err != nil {
			return nil, u.fail(i, err)
		}
		u.complete(i, b, cols)
		got[i] = b
	}
	out := &table.Batch{Rows: slices.Clone(rows), Len: len(rows), Cols: map[string]*table.Column{}}
	for _, name := range cols {
		t, ok := u.types[name]
		if !ok {
			continue
		}
		c := &table.Column{Type: t}
		for _, w := range where {
			c.Append(got[w.pos].Cols[name], w.row)
		}
		if t == table.TypeString && len(c.Str.Off) == 0 {
			c.Str.Off = []uint32{0}
		}
		out.Cols[name] = c
	}
	return out, nil
}

// Vector implements Store. A row target is the row's embedding in the
// part holding it; a sample-id target the first row with that SAMPLE_ID,
// found by a scan. Other targets are resolved by the first part.
func (u *Union) Vector(ctx context.Context, t query.Target) ([]float32, error) {
	u.self = -1
	switch t.Kind {
	case query.TargetSampleID:
		row, err := u.sampleRow(ctx, t.SampleID)
		if err != nil {
			return nil, err
		}
		t.Kind, t.Row = query.TargetRow, row
		fallthrough
	case query.TargetRow:
		if int(t.Row) >= u.NumRows() {
			return nil, fmt.Errorf("row %d (the stores hold %d rows)", t.Row, u.NumRows())
		}
		i := u.part(t.Row)
		local := t
		local.Row -= uint32(u.off[i])
		q, err := u.parts[i].Vector(ctx, local)
		if err != nil {
			return nil, u.fail(i, err)
		}
		u.self, u.selfS = int64(t.Row), t.Space
		return q, nil
	}
	// Texts, images and vectors are resolved by the first part that holds
	// embeddings (a part without any has no dimension to check them by).
	for i, p := range u.parts {
		if u.vectors(i, query.SpaceImage) > 0 || u.vectors(i, query.SpaceText) > 0 {
			q, err := p.Vector(ctx, t)
			return q, u.fail(i, err)
		}
	}
	return u.parts[0].Vector(ctx, t)
}

// sampleRow returns the first row whose sample_id is id.
func (u *Union) sampleRow(ctx context.Context, id int64) (uint32, error) {
	if _, ok := u.types["sample_id"]; !ok {
		return 0, fmt.Errorf("the stores have no sample_id column")
	}
	for i, p := range u.parts {
		if !u.has[i]["sample_id"] {
			continue
		}
		best := int64(-1)
		var mu sync.Mutex
		err := p.Scan(ctx, []string{"sample_id"}, func(b *table.Batch) error {
			c := b.Cols["sample_id"]
			for j := range b.Len {
				if c.Type == table.TypeInt && !c.IsNull(j) && c.Int[j] == id {
					r := int64(b.Row(j))
					mu.Lock()
					if best < 0 || r < best {
						best = r
					}
					mu.Unlock()
					break
				}
			}
			return nil
		})
		if err != nil {
			return 0, u.fail(i, err)
		}
		if best >= 0 {
			return uint32(best) + uint32(u.off[i]), nil
		}
	}
	return 0, fmt.Errorf("no row has sample_id %d", id)
}

// Search implements Store: each part's answer among its allowed rows, the
// best K of them all. It is exact when every part's is.
func (u *Union) Search(ctx context.Context, req SearchRequest) (SearchResult, error) {
	return u.gather(ctx, req, Store.Search, req.K)
}

// Within implements Store: the parts' answers together.
func (u *Union) Within(ctx context.Context, req SearchRequest) (SearchResult, error) {
	return u.gather(ctx, req, Store.Within, -1)
}

// gather asks every part with rows allowed, and merges their answers best
// first (ties: the row target first, then by row), keeping k (all when k
// < 0).
func (u *Union) gather(ctx context.Context, req SearchRequest, ask func(Store, context.Context, SearchRequest) (SearchResult, error), k int) (SearchResult, error) {
	out := SearchResult{Exact: true}
	var methods []string
	asked := false
	for i, p := range u.parts {
		local := req
		if req.Allow != nil {
			local.Allow = req.Allow.Slice(u.off[i], u.off[i+1])
		}
		if !u.searchable(i, local) && (asked || i < len(u.parts)-1) {
			continue // unless no part is: then the last says why
		}
		asked = true
		r, err := ask(p, ctx, local)
		if err != nil {
			return SearchResult{}, u.fail(i, err)
		}
		for _, h := range r.Hits {
			out.Hits = append(out.Hits, Hit{Row: h.Row + uint32(u.off[i]), Score: h.Score})
		}
		out.Exact = out.Exact && r.Exact
		out.Scanned += r.Scanned
		out.NearThreshold += r.NearThreshold
		if r.Method != "" && !slices.Contains(methods, r.Method) {
			methods = append(methods, r.Method)
		}
	}
	self := u.self
	if u.selfS != req.Space {
		self = -1
	}
	slices.SortFunc(out.Hits, func(a, b Hit) int {
		if a.Score == b.Score && (int64(a.Row) == self || int64(b.Row) == self) {
			return cmp.Compare(boolInt(int64(b.Row) == self), boolInt(int64(a.Row) == self))
		}
		return bestFirst(a, b)
	})
	if k >= 0 && len(out.Hits) > k {
		out.Hits = out.Hits[:k]
	}
	out.Method = fmt.Sprintf("%d stores: ", len(u.parts))
	for j, m := range methods {
		if j > 0 {
			out.Method += "; "
		}
		out.Method += m
	}
	return out, nil
}

// WithinBatch implements WithinBatcher: each part answers the requests
// its allowed rows concern at once (in one pass over its rows when it is
// a WithinBatcher itself), and each request's hits are merged best first,
// ties by row. A request no part concerns is asked of the last, which
// says why it has no hit.
func (u *Union) WithinBatch(ctx context.Context, reqs []SearchRequest) ([]SearchResult, error) {
	out := make([]SearchResult, len(reqs))
	asked := make([]bool, len(reqs))
	methods := make([][]string, len(reqs))
	for i := range out {
		out[i].Exact = true
	}
	for i, p := range u.parts {
		var local []SearchRequest
		var which []int
		for j, req := range reqs {
			l := req
			if req.Allow != nil {
				l.Allow = req.Allow.Slice(u.off[i], u.off[i+1])
			}
			if u.searchable(i, l) || !asked[j] && i == len(u.parts)-1 {
				local, which = append(local, l), append(which, j)
				asked[j] = true
			}
		}
		if len(local) == 0 {
			continue
		}
		var res []SearchResult
		if wb, ok := p.(WithinBatcher); ok {
			var err error
			if res, err = wb.WithinBatch(ctx, local); err != nil {
				return nil, u.fail(i, err)
			}
		} else {
			res = make([]SearchResult, len(local))
			for x, l := range local {
				var err error
				if res[x], err = p.Within(ctx, l); err != nil {
					return nil, u.fail(i, err)
				}
			}
		}
		for x, r := range res {
			o := &out[which[x]]
			for _, h := range r.Hits {
				o.Hits = append(o.Hits, Hit{Row: h.Row + uint32(u.off[i]), Score: h.Score})
			}
			o.Exact = o.Exact && r.Exact
			o.Scanned += r.Scanned
			o.NearThreshold += r.NearThreshold
			if r.Method != "" && !slices.Contains(methods[which[x]], r.Method) {
				methods[which[x]] = append(methods[which[x]], r.Method)
			}
		}
	}
	for j := range out {
		slices.SortFunc(out[j].Hits, bestFirst)
		out[j].Method = fmt.Sprintf("%d stores: %s", len(u.parts), strings.Join(methods[j], "; "))
	}
	return out, nil
}

// VectorCounter is a Store that counts its rows with an embedding in a
// space without listing them (db's snapshots do). A Union asks it of
// every part on every search, and lists the rows (VectorRows) of the
// parts that are not VectorCounters.
type VectorCounter interface {
	VectorCount(sp query.Space) int
}

// searchable reports whether part i may have rows req returns: rows with
// an embedding in the space searched, and rows allowed. A part with no
// embedding there is not asked (one store of all the rows would not
// search it, and a part alone would say it has none).
func (u *Union) searchable(i int, req SearchRequest) bool {
	if req.Allow != nil && req.Allow.Count() == 0 {
		return false
	}
	return u.vectors(i, req.Space) > 0
}

// vectors returns the number of part i's rows with an embedding in sp.
func (u *Union) vectors(i int, sp query.Space) int {
	if vc, ok := u.parts[i].(VectorCounter); ok {
		return vc.VectorCount(sp)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.vecRows == nil {
		u.vecRows = map[query.Space][]int{}
	}
	counts := u.vecRows[sp]
	if counts == nil {
		counts = make([]int, len(u.parts))
		for j := range counts {
			counts[j] = -1
		}
		u.vecRows[sp] = counts
	}
	if counts[i] < 0 {
		counts[i] = u.parts[i].VectorRows(sp).Count()
	}
	return counts[i]
}

// fail names the part an error came from: a query over the union fails
// with it, and never answers from the other parts alone. A nil err stays
// nil.
func (u *Union) fail(i int, err error) error {
	if err == nil || len(u.parts) == 1 {
		return err
	}
	return fmt.Errorf("store %d of %d: %w", i+1, len(u.parts), err)
}

// bestFirst orders hits as search answers are: score descending, then
// row ascending.
func bestFirst(a, b Hit) int {
	if c := cmp.Compare(b.Score, a.Score); c != 0 {
		return c
	}
	return cmp.Compare(a.Row, b.Row)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// VectorRows implements Store.
func (u *Union) VectorRows(sp query.Space) *vector.Bitset {
	out := vector.NewBitset(u.NumRows())
	for i, p := range u.parts {
		out.Place(p.VectorRows(sp), u.off[i])
	}
	return out
}

// Source implements Store.
func (u *Union) Source(row uint32) (string, int64) {
	if int(row) >= u.NumRows() {
		return "", -1
	}
	i := u.part(row)
	return u.parts[i].Source(row - uint32(u.off[i]))
}

// RowVectors implements RowVectorer, through the parts' own.
func (u *Union) RowVectors(ctx context.Context, rows []uint32, sp query.Space) ([][]float32, error) {
	local := make([][]uint32, len(u.parts))
	pos := make([][]int, len(u.parts))
	for j, r := range rows {
		if int(r) >= u.NumRows() {
			return nil, fmt.Errorf("row %d (the stores hold %d rows)", r, u.NumRows())
		}
		i := u.part(r)
		local[i] = append(local[i], r-uint32(u.off[i]))
		pos[i] = append(pos[i], j)
	}
	out := make([][]float32, len(rows))
	for i, p := range u.parts {
		if len(local[i]) == 0 {
			continue
		}
		rv, ok := p.(RowVectorer)
		if !ok {
			return nil, fmt.Errorf("engine: store %d of the union cannot return its rows' vectors", i+1)
		}
		vs, err := rv.RowVectors(ctx, local[i], sp)
		if err != nil {
			return nil, u.fail(i, err)
		}
		for k, j := range pos[i] {
			out[j] = vs[k]
		}
	}
	return out, nil
}

// TextIndexed implements TextIndexer: a column is indexed when every part
// indexes it.
func (u *Union) TextIndexed(col string) bool {
	for _, p := range u.parts {
		ti, ok := p.(TextIndexer)
		if !ok || !ti.TextIndexed(col) {
			return false
		}
	}
	return true
}

// TextCandidates implements TextIndexer: the parts' candidates together.
func (u *Union) TextCandidates(ctx context.Context, col string, grams []Trigram) (*vector.Bitset, bool, error) {
	out := vector.NewBitset(u.NumRows())
	for i, p := range u.parts {
		ti, ok := p.(TextIndexer)
		if !ok {
			return nil, false, nil
		}
		rows, ok, err := ti.TextCandidates(ctx, col, grams)
		if err != nil || !ok {
			return nil, ok, u.fail(i, err)
		}
		out.Place(rows, u.off[i])
	}
	return out, true, nil
}
