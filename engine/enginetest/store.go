// Package enginetest provides an in-memory engine.Store for tests, examples
// and benchmarks: columns held in memory, brute-force vector search, and a
// generator of LAION-like datasets with the awkward values real files hold
// (null captions, non-ASCII text, unexpected NSFW labels, similarity
// 6016.0).
package enginetest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/table"
	"github.com/laiondb/laiondb/vector"
)

// Store is an in-memory engine.Store. Build it with New and the Add methods,
// or with Generate; do not modify it once queries run. It is safe for
// concurrent use.
type Store struct {
	cols  []table.ColumnInfo
	data  map[string]*table.Column
	n     int
	vecs  [][]float32
	tvecs [][]float32 // text embeddings; a nil row has none
	texts map[string][]float32

	fpOnce sync.Once
	fp     string

	// BatchSize is the number of rows per Scan batch (default 4096). Sizes
	// that are not multiples of 64 exercise unaligned batches.
	BatchSize int
	// Parallel is the number of goroutines Scan calls fn from (default
	// GOMAXPROCS).
	Parallel int
	// FileRows is the number of rows per simulated source file (default
	// 1000): row r comes from part-{r/FileRows}.parquet, row r%FileRows.
	FileRows int

	first int // the row of the store Rows took this one from that is row 0 here
}

// New returns an empty store with n rows.
func New(n int) *Store {
	return &Store{n: n, data: map[string]*table.Column{}, texts: map[string][]float32{}}
}

func (s *Store) add(name string, c *table.Column) *Store {
	if _, ok := s.data[name]; ok {
		panic("enginetest: duplicate column " + name)
	}
	s.cols = append(s.cols, table.ColumnInfo{Name: name, Type: c.Type})
	s.data[name] = c
	return s
}

// AddStrings adds a string column; null may be nil.
func (s *Store) AddStrings(name string, vals []string, null []bool) *Store {
	c := &table.Column{Type: table.TypeString, Null: null}
	c.Str.Off = append(c.Str.Off, 0)
	for _, v := range vals {
		c.Str.Data = append(c.Str.Data, v...)
		c.Str.Off = append(c.Str.Off, uint32(len(c.Str.Data)))
	}
	s.check(name, len(vals), null)
	return s.add(name, c)
}

// AddInts adds an int column; null may be nil.
func (s *Store) AddInts(name string, vals []int64, null []bool) *Store {
	s.check(name, len(vals), null)
	return s.add(name, &table.Column{Type: table.TypeInt, Int: vals, Null: null})
}

// AddFloats adds a float column; null may be nil.
func (s *Store) AddFloats(name string, vals []float64, null []bool) *Store {
	s.check(name, len(vals), null)
	return s.add(name, &table.Column{Type: table.TypeFloat, Float: vals, Null: null})
}

// AddBools adds a bool column; null may be nil.
func (s *Store) AddBools(name string, vals []bool, null []bool) *Store {
	s.check(name, len(vals), null)
	return s.add(name, &table.Column{Type: table.TypeBool, Bool: vals, Null: null})
}

func (s *Store) check(name string, n int, null []bool) {
	if n != s.n || (null != nil && len(null) != s.n) {
		panic(fmt.Sprintf("enginetest: column %s has %d values, want %d", name, n, s.n))
	}
}

// SetVectors sets the row embeddings (normalised to unit length).
func (s *Store) SetVectors(vecs [][]float32) *Store {
	if len(vecs) != s.n {
		panic("enginetest: wrong number of vectors")
	}
	s.vecs = make([][]float32, len(vecs))
	for i, v := range vecs {
		s.vecs[i] = normalize(v)
	}
	return s
}

// SetTextVectors sets the rows' text embeddings (normalised to unit
// length); a nil vector means the row has none.
func (s *Store) SetTextVectors(vecs [][]float32) *Store {
	if len(vecs) != s.n {
		panic("enginetest: wrong number of text vectors")
	}
	s.tvecs = make([][]float32, len(vecs))
	for i, v := range vecs {
		if v != nil {
			s.tvecs[i] = normalize(v)
		}
	}
	return s
}

// space returns the embeddings of a space.
func (s *Store) space(sp query.Space) [][]float32 {
	if sp == query.SpaceText {
		return s.tvecs
	}
	return s.vecs
}

// SetText makes the text target t resolve to vec (normalised), standing in
// for the CLIP text encoder.
func (s *Store) SetText(t string, vec []float32) *Store {
	s.texts[t] = normalize(vec)
	return s
}

// Column returns a stored column, for brute-force checks in tests.
func (s *Store) Column(name string) *table.Column { return s.data[name] }

// Vectors returns the stored embeddings.
func (s *Store) Vectors() [][]float32 { return s.vecs }

func normalize(v []float32) []float32 {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	if ss == 0 {
		return out
	}
	inv := 1 / math.Sqrt(ss)
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out
}

// Columns implements engine.Store.
func (s *Store) Columns() []table.ColumnInfo { return slices.Clone(s.cols) }

// NumRows implements engine.Store.
func (s *Store) NumRows() int { return s.n }

// Fingerprint implements engine.Store: an FNV-1a hash of the content,
// computed on first use.
func (s *Store) Fingerprint() string {
	s.fpOnce.Do(func() {
		h := fnv.New64a()
		var buf []byte
		u64 := func(x uint64) { buf = binary.LittleEndian.AppendUint64(buf[:0], x); h.Write(buf) }
		u64(uint64(s.n))
		for _, ci := range s.cols {
			c := s.data[ci.Name]
			h.Write([]byte(ci.Name))
			u64(uint64(ci.Type))
			for i := range s.n {
				if c.IsNull(i) {
					u64(1)
					continue
				}
				switch c.Type {
				case table.TypeString:
					u64(uint64(len(c.Str.At(i))))
					h.Write(c.Str.At(i))
				case table.TypeInt:
					u64(uint64(c.Int[i]))
				case table.TypeFloat:
					u64(math.Float64bits(c.Float[i]))
				case table.TypeBool:
					if c.Bool[i] {
						u64(2)
					} else {
						u64(3)
					}
				}
			}
		}
		for _, v := range s.vecs {
			for _, x := range v {
				u64(uint64(math.Float32bits(x)))
			}
		}
		s.fp = fmt.Sprintf("fnv64a:%016x", h.Sum64())
	})
	return s.fp
}

// slice returns rows [lo, hi) of column c, sharing its memory: string
// offsets are not rebased, so Off[0] is usually not 0.
func slice(c *table.Column, lo, hi int) *table.Column {
	out := &table.Column{Type: c.Type}
	if c.Null != nil {
		out.Null = c.Null[lo:hi]
	}
	switch c.Type {
	case table.TypeString:
		out.Str = table.Strings{Data: c.Str.Data, Off: c.Str.Off[lo : hi+1]}
	case table.TypeInt:
		out.Int = c.Int[lo:hi]
	case table.TypeFloat:
		out.Float = c.Float[lo:hi]
	case table.TypeBool:
		out.Bool = c.Bool[lo:hi]
	}
	return out
}

// Scan implements engine.Store, calling fn from Parallel goroutines.
func (s *Store) Scan(ctx context.Context, cols []string, fn func(*table.Batch) error) error {
	bs := s.BatchSize
	if bs <= 0 {
		bs = 4096
	}
	par := s.Parallel
	if par <= 0 {
		par = runtime.GOMAXPROCS(0)
	}
	var next int
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range par {
		wg.Go(func() {
			for {
				mu.Lock()
				lo := next
				next += bs
				stop := firstErr != nil
				mu.Unlock()
				if stop || lo >= s.n {
					return
				}
				if err := ctx.Err(); err != nil {
					s.setErr(&mu, &firstErr, err)
					return
				}
				hi := min(lo+bs, s.n)
				b := &table.Batch{Start: uint32(lo), Len: hi - lo, Cols: map[string]*table.Column{}}
				for _, name := range cols {
					if c := s.data[name]; c != nil {
						b.Cols[name] = slice(c, lo, hi)
					}
				}
				if err := fn(b); err != nil {
					s.setErr(&mu, &firstErr, err)
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

func (s *Store) setErr(mu *sync.Mutex, p *error, err error) {
	mu.Lock()
	if *p == nil {
		*p = err
	}
	mu.Unlock()
}

// Fetch implements engine.Store.
func (s *Store) Fetch(ctx context.Context, rows []uint32, cols []string) (*table.Batch, error) {
	b := &table.Batch{Rows: slices.Clone(rows), Len: len(rows), Cols: map[string]*table.Column{}}
	for _, r := range rows {
		if int(r) >= s.n {
			return nil, fmt.Errorf("enginetest: row %d out of range", r)
		}
	}
	for _, name := range cols {
		c := s.data[name]
		if c == nil {
			continue
		}
		out := &table.Column{Type: c.Type}
		if c.Null != nil {
			out.Null = make([]bool, len(rows))
		}
		out.Str.Off = []uint32{0}
		for i, r := range rows {
			if c.Null != nil {
				out.Null[i] = c.Null[r]
			}
			switch c.Type {
			case table.TypeString:
				out.Str.Data = append(out.Str.Data, c.Str.At(int(r))...)
				out.Str.Off = append(out.Str.Off, uint32(len(out.Str.Data)))
			case table.TypeInt:
				out.Int = append(out.Int, c.Int[r])
			case table.TypeFloat:
				out.Float = append(out.Float, c.Float[r])
			case table.TypeBool:
				out.Bool = append(out.Bool, c.Bool[r])
			}
		}
		b.Cols[name] = out
	}
	return b, nil
}

// ErrNoModel is returned for text and image targets without SetText.
var ErrNoModel = errors.New("enginetest: no CLIP model configured")

// RowVectors implements engine.RowVectorer.
func (s *Store) RowVectors(ctx context.Context, rows []uint32, sp query.Space) ([][]float32, error) {
	vecs := s.space(sp)
	out := make([][]float32, len(rows))
	for i, r := range rows {
		if int(r) >= len(vecs) || vecs[r] == nil {
			return nil, fmt.Errorf("enginetest: row %d has no %s vector", r, sp)
		}
		out[i] = vecs[r]
	}
	return out, nil
}

// Vector implements engine.Store.
func (s *Store) Vector(ctx context.Context, t query.Target) ([]float32, error) {
	switch t.Kind {
	case query.TargetText:
		if v, ok := s.texts[t.Text]; ok {
			return v, nil
		}
		return nil, ErrNoModel
	case query.TargetRow:
		vecs := s.space(t.Space)
		if int(t.Row) >= len(vecs) || vecs[t.Row] == nil {
			return nil, fmt.Errorf("enginetest: row %d has no %s vector", t.Row, t.Space)
		}
		return vecs[t.Row], nil
	case query.TargetSampleID:
		c := s.data["sample_id"]
		if c == nil || c.Type != table.TypeInt {
			return nil, errors.New("enginetest: no sample_id column")
		}
		vecs := s.space(t.Space)
		for i, id := range c.Int {
			if id == t.SampleID && !c.IsNull(i) && i < len(vecs) && vecs[i] != nil {
				return vecs[i], nil
			}
		}
		return nil, fmt.Errorf("enginetest: no row with SAMPLE_ID %d", t.SampleID)
	case query.TargetVector:
		if len(s.vecs) > 0 && len(t.Vec) != len(s.vecs[0]) {
			return nil, fmt.Errorf("enginetest: vector has %d dimensions, the store %d", len(t.Vec), len(s.vecs[0]))
		}
		return normalize(t.Vec), nil
	}
	return nil, ErrNoModel
}

func (s *Store) scores(req engine.SearchRequest) ([]engine.Hit, error) {
	vecs := s.space(req.Space)
	if len(vecs) == 0 {
		return nil, fmt.Errorf("enginetest: the store has no %s vectors", req.Space)
	}
	if len(s.vecs) > 0 && len(req.Vec) != len(s.vecs[0]) {
		return nil, fmt.Errorf("enginetest: query has %d dimensions, the store %d", len(req.Vec), len(s.vecs[0]))
	}
	var hits []engine.Hit
	for r, v := range vecs {
		if v == nil || req.Allow != nil && !req.Allow.Contains(uint32(r)) {
			continue
		}
		if len(v) != len(req.Vec) {
			return nil, fmt.Errorf("enginetest: query has %d dimensions, the store %d", len(req.Vec), len(v))
		}
		var dot float32
		for i := range v {
			dot += v[i] * req.Vec[i]
		}
		hits = append(hits, engine.Hit{Row: uint32(r), Score: dot})
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		return hits[i].Row < hits[j].Row
	})
	return hits, nil
}

// Search implements engine.Store by brute force.
func (s *Store) Search(ctx context.Context, req engine.SearchRequest) (engine.SearchResult, error) {
	hits, err := s.scores(req)
	if err != nil {
		return engine.SearchResult{}, err
	}
	n := len(hits)
	if len(hits) > req.K {
		hits = hits[:req.K]
	}
	return engine.SearchResult{Hits: hits, Exact: true, Method: fmt.Sprintf("brute force over %d vectors", n), Scanned: n}, nil
}

// Within implements engine.Store by brute force.
func (s *Store) Within(ctx context.Context, req engine.SearchRequest) (engine.SearchResult, error) {
	hits, err := s.scores(req)
	if err != nil {
		return engine.SearchResult{}, err
	}
	n := len(hits)
	k := sort.Search(len(hits), func(i int) bool { return hits[i].Score < req.MinScore })
	return engine.SearchResult{Hits: hits[:k], Exact: true, Method: fmt.Sprintf("brute force over %d vectors", n), Scanned: n}, nil
}

// VectorRows implements engine.Store.
func (s *Store) VectorRows(sp query.Space) *vector.Bitset {
	b := vector.NewBitset(s.n)
	for r, v := range s.space(sp) {
		if v != nil {
			b.Set(uint32(r))
		}
	}
	return b
}

// Source implements engine.Store.
func (s *Store) Source(row uint32) (string, int64) {
	fr := s.FileRows
	if fr <= 0 {
		fr = 1000
	}
	r := int(row) + s.first
	return fmt.Sprintf("part-%05d.parquet", r/fr), int64(r % fr)
}

// Rows returns a store of rows lo..hi-1 of s (sharing their memory), as a
// shard of the dataset holding them: its row r is row lo+r of s, from the
// same source file, with the same text targets. The columns all come
// along, so a shard whose rows of a column are all null still has it.
func (s *Store) Rows(lo, hi int) *Store {
	out := &Store{cols: slices.Clone(s.cols), data: map[string]*table.Column{}, n: hi - lo, texts: s.texts,
		BatchSize: s.BatchSize, Parallel: s.Parallel, FileRows: s.FileRows, first: s.first + lo}
	for name, c := range s.data {
		out.data[name] = slice(c, lo, hi)
	}
	if s.vecs != nil {
		out.vecs = s.vecs[lo:hi]
	}
	if s.tvecs != nil {
		out.tvecs = s.tvecs[lo:hi]
	}
	return out
}
