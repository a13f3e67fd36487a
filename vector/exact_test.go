package vector

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/laiondb/laiondb/internal/hugemem"
)

// naive is the reference: score every allowed row, sort, cut.
func naive(m Matrix, q []float32, allow AllowList, keep func(i int, h Hit) bool) []Hit {
	var all []Hit
	for i := 0; i < m.Len(); i++ {
		if allow != nil && !allow.Contains(uint32(i)) {
			continue
		}
		all = append(all, Hit{uint32(i), m.Dot(q, i)})
	}
	SortHits(all)
	var out []Hit
	for i, h := range all {
		if keep(i, h) {
			out = append(out, h)
		}
	}
	return out
}

// quantMatrix returns an n×dim float16 matrix whose entries take few
// distinct values, so that many scores tie.
func quantMatrix(r *rand.Rand, n, dim, levels int) Matrix {
	f := make([]float32, n*dim)
	for i := range f {
		f[i] = float32(r.IntN(levels)) / float32(levels)
	}
	h := make([]uint16, len(f))
	F32ToF16(h, f)
	return Matrix{Dim: dim, F16: h}
}

func TestExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ctx := context.Background()
	for _, tc := range []struct{ n, dim, levels, k int }{
		{0, 8, 4, 5}, {1, 8, 4, 5}, {100, 8, 2, 10}, {1000, 17, 3, 50}, {50000, 32, 1000, 10}, {20000, 4, 2, 30000},
	} {
		m := quantMatrix(r, tc.n, tc.dim, tc.levels)
		q := make([]float32, tc.dim)
		for i := range q {
			q[i] = float32(r.IntN(3))
		}
		dense := NewBitset(tc.n + 100)
		sparse := NewBitset(tc.n + 100)
		for i := 0; i < tc.n+100; i++ {
			if r.IntN(2) == 0 {
				dense.Set(uint32(i))
			}
			if r.IntN(100) == 0 {
				sparse.Set(uint32(i))
			}
		}
		ranges := Ranges{{0, uint32(tc.n / 3)}, {uint32(tc.n / 2), uint32(tc.n/2 + 7)}}
		for name, allow := range map[string]AllowList{"nil": nil, "dense": dense, "sparse": sparse, "empty": NewBitset(10), "ranges": ranges, "and": And(dense, ranges)} {
			t.Run(fmt.Sprintf("n=%d/k=%d/allow=%s", tc.n, tc.k, name), func(t *testing.T) {
				got, scored, err := Exact(ctx, m, q, tc.k, allow)
				if err != nil {
					t.Fatal(err)
				}
				want := naive(m, q, allow, func(i int, _ Hit) bool { return i < tc.k })
				if !slices.Equal(got, want) {
					t.Fatalf("Exact: got %d hits %v..., want %d %v...", len(got), head(got), len(want), head(want))
				}
				if n := len(naive(m, q, allow, func(int, Hit) bool { return true })); scored != n {
					t.Errorf("scored %d, want %d", scored, n)
				}
				for _, w := range []int{0, 1, 3} {
					one, scoredOne, err := ExactOn(ctx, w, m, q, tc.k, allow)
					if err != nil || !slices.Equal(one, want) || scoredOne != scored {
						t.Fatalf("ExactOn(%d workers): %d hits, %d scored, %v; want %d, %d", w, len(one), scoredOne, err, len(want), scored)
					}
				}
				min := float32(tc.dim) / 4
				gotR, _, err := ExactRange(ctx, m, q, min, allow)
				if err != nil {
					t.Fatal(err)
				}
				wantR := naive(m, q, allow, func(_ int, h Hit) bool { return h.Score >= min })
				if !slices.Equal(gotR, wantR) {
					t.Fatalf("ExactRange: got %d hits, want %d", len(gotR), len(wantR))
				}
			})
		}
	}
}

func head(h []Hit) []Hit { return h[:min(len(h), 5)] }

func TestExactErrors(t *testing.T) {
	m := quantMatrix(rand.New(rand.NewPCG(1, 1)), 100000, 16, 10)
	if _, _, err := Exact(context.Background(), m, make([]float32, 15), 10, nil); !errors.Is(err, ErrDimension) {
		t.Errorf("dimension mismatch: got %v", err)
	}
	if _, _, err := ExactRange(context.Background(), m, make([]float32, 17), 0, nil); !errors.Is(err, ErrDimension) {
		t.Errorf("dimension mismatch: got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Exact(ctx, m, make([]float32, 16), 10, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v", err)
	}
	if _, _, err := ExactRange(ctx, m, make([]float32, 16), 0, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v", err)
	}
	if h, _, err := Exact(context.Background(), m, make([]float32, 16), 0, nil); err != nil || len(h) != 0 {
		t.Errorf("k=0: %v %v", h, err)
	}
}

// BenchmarkExact scans every row of 1M float16 rows, at CLIP's 512
// dimensions and at the demo store's 32, with no allow-list and with the
// store's (the ranges of rows that have a vector: here two).
func BenchmarkExact(b *testing.B) {
	const n = 1_000_000
	for _, dim := range []int{32, 512} {
		// An exact scan's cost does not depend on the values.
		m := Matrix{Dim: dim, F16: randF16(rand.New(rand.NewPCG(1, 2)), n*dim)}
		q := m.Row(12345, nil)
		for _, allow := range []AllowList{nil, Ranges{{0, n / 2}, {n / 2, n}}} {
			name := "all"
			if allow != nil {
				name = "ranges"
			}
			b.Run(fmt.Sprintf("n=%d/dim=%d/f16/%s", n, dim, name), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(n * dim * 2))
				for b.Loop() {
					if _, _, err := Exact(context.Background(), m, q, 10, allow); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run(fmt.Sprintf("range/n=%d/dim=%d/f16", n, dim), func(b *testing.B) {
			b.SetBytes(int64(n * dim * 2))
			for b.Loop() {
				if _, _, err := ExactRange(context.Background(), m, q, 1e30, nil); err != nil { // no row passes: the scan alone
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkExactAllowed scans the rows of a random allow-list (1%, 10%
// and 50% of 1M float16 rows, 512 and 32 dimensions) on one goroutine,
// the store's filtered exact k-NN, and reports the time per allowed row.
func BenchmarkExactAllowed(b *testing.B) {
	const n = 1_000_000
	for _, dim := range []int{32, 512} {
		m := Matrix{Dim: dim, F16: randF16(rand.New(rand.NewPCG(1, 2)), n*dim)}
		q := m.Row(12345, nil)
		var huge Matrix
		if dim >= minPrefetchDim {
			if p, mapping := hugemem.Alloc(2 * len(m.F16)); p != nil {
				defer hugemem.Free(mapping)
				huge = Matrix{Dim: dim, F16: unsafe.Slice((*uint16)(unsafe.Pointer(&p[0])), len(m.F16))}
				copy(huge.F16, m.F16)
			}
		}
		for _, pct := range []int{1, 10, 50} {
			r := rand.New(rand.NewPCG(3, uint64(pct)))
			allow := NewBitset(n)
			for i := range n {
				if r.IntN(100) < pct {
					allow.Set(uint32(i))
				}
			}
			rows := allow.Count()
			scan := func(m Matrix) func(b *testing.B) {
				return func(b *testing.B) {
					for b.Loop() {
						if _, _, err := ExactOn(context.Background(), 1, m, q, 10, allow); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(rows), "ns/row")
				}
			}
			name := fmt.Sprintf("allowed=%dpct/n=%d/dim=%d/f16/workers=1", pct, n, dim)
			b.Run(name, scan(m))
			if dim < minPrefetchDim {
				continue
			}
			// The memory's share: the same rows in the same order with the
			// same prefetching, one load per cache line and no arithmetic.
			b.Run("read/"+name, func(b *testing.B) { benchRead(b, m, allow, rows) })
			// Both again with the rows in 2 MiB pages (db's
			// Options.HugePages), where the kernel offers them: at 10%
			// nearly every allowed row lies on a 4 KiB page of its own, and
			// its page walk is part of the cost above.
			if huge.F16 != nil {
				b.Run(name+"/pages=2M", scan(huge))
				b.Run("read/"+name+"/pages=2M", func(b *testing.B) { benchRead(b, huge, allow, rows) })
			}
		}
		if dim >= minPrefetchDim {
			// Every row in order: what one thread reads when nothing is
			// scattered.
			b.Run(fmt.Sprintf("read/allowed=100pct/n=%d/dim=%d/f16/workers=1", n, dim), func(b *testing.B) { benchRead(b, m, nil, n) })
		}
	}
}

// benchRead times touchRows over the rows allow admits (rows of them) on
// one goroutine, per row and in bytes a second.
func benchRead(b *testing.B, m Matrix, allow AllowList, rows int) {
	var sink uint32
	for b.Loop() {
		if _, err := visitBlocks(context.Background(), 1, m.Len(), allow, func(_ int, ids []uint32) { sink += touchRows(m, ids) }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(rows), "ns/row")
	b.ReportMetric(float64(rows)*float64(m.Dim*2)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
	_ = sink
}

// touchRows loads one value of every cache line of the rows ids, with the
// prefetching of Matrix.dots, and returns their sum.
func touchRows(m Matrix, ids []uint32) uint32 {
	d := m.Dim
	ahead := len(ids) > 1 && int(ids[len(ids)-1]-ids[0]) != len(ids)-1
	if ahead {
		for _, id := range ids[:min(prefetchAhead, len(ids))] {
			prefetchL2AVX2(m.F16[int(id)*d : int(id)*d+d])
		}
	}
	var s uint32
	for j, id := range ids {
		if ahead && j+prefetchAhead < len(ids) {
			p := int(ids[j+prefetchAhead]) * d
			prefetchL2AVX2(m.F16[p : p+d])
		}
		row := m.F16[int(id)*d : int(id)*d+d]
		for i := 0; i < d; i += 32 {
			s += uint32(row[i])
		}
	}
	return s
}

// TestExactNonFinite: a row whose stored vector is not finite makes both
// exact scans fail, naming the lowest such row, instead of leaving it out.
func TestExactNonFinite(t *testing.T) {
	m := Matrix{Dim: 2, F32: []float32{1, 0, 0, 1, float32(math.NaN()), 0, 0.5, 0.5, float32(math.Inf(1)), 1}}
	q := []float32{1, 0}
	if _, _, err := Exact(context.Background(), m, q, 2, nil); !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "row 2") {
		t.Errorf("Exact: %v, want ErrNonFinite naming row 2", err)
	}
	if _, _, err := ExactRange(context.Background(), m, q, 0.1, nil); !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "row 2") {
		t.Errorf("ExactRange: %v, want ErrNonFinite naming row 2", err)
	}
	if _, _, err := ExactRangeBatch(context.Background(), m, [][]float32{q, q}, 0.1, nil); !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "row 2") {
		t.Errorf("ExactRangeBatch: %v, want ErrNonFinite naming row 2", err)
	}
	allow := Ranges{{Lo: 0, Hi: 2}, {Lo: 3, Hi: 4}}
	if h, _, err := Exact(context.Background(), m, q, 2, allow); err != nil || len(h) != 2 {
		t.Errorf("Exact over finite rows only: %v %v", h, err)
	}
}

// TestExactBatch: each answer of a batch scan, k-NN or range, is the
// single scan's, ties and allow-lists included.
func TestExactBatch(t *testing.T) {
	// 24 dimensions take the 3-query kernel; 64 the 12-, 8- and 4-query
	// ones where the processor has them (23 queries: 12+8+3, 28: 12+12+4).
	for _, dim := range []int{24, 64} {
		for _, nq := range []int{5, 12, 23, 28} {
			t.Run(fmt.Sprint("dim=", dim, "/queries=", nq), func(t *testing.T) { testExactBatch(t, dim, nq) })
		}
	}
}

func testExactBatch(t *testing.T, dim, nq int) {
	r := rand.New(rand.NewPCG(5, 6))
	m := quantMatrix(r, 5000, dim, 3) // many ties
	qs := make([][]float32, nq)
	for i := range qs {
		qs[i] = m.Row(r.IntN(m.Len()), nil)
	}
	sparse := NewBitset(m.Len())
	for i := 0; i < m.Len(); i += 97 {
		sparse.Set(uint32(i))
	}
	dense := NewBitset(m.Len())
	for i := 0; i < m.Len(); i++ {
		if i%3 != 0 {
			dense.Set(uint32(i))
		}
	}
	for _, allow := range []AllowList{nil, sparse, dense, Ranges{{Lo: 100, Hi: 900}, {Lo: 4000, Hi: 4100}}} {
		for _, k := range []int{1, 10, 200} {
			got, visited, err := ExactBatch(context.Background(), m, qs, k, allow)
			if err != nil {
				t.Fatal(err)
			}
			for i, q := range qs {
				want, n, err := Exact(context.Background(), m, q, k, allow)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got[i], want) || visited != n {
					t.Fatalf("allow %T k %d query %d: batch %v (%d visited), single %v (%d)", allow, k, i, got[i][:min(3, len(got[i]))], visited, want[:min(3, len(want))], n)
				}
			}
		}
		for _, min := range []float32{-1, 4, 6, 100} {
			got, visited, err := ExactRangeBatch(context.Background(), m, qs, min, allow)
			if err != nil {
				t.Fatal(err)
			}
			for i, q := range qs {
				want, n, err := ExactRange(context.Background(), m, q, min, allow)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got[i], want) || visited != n {
					t.Fatalf("allow %T min %v query %d: batch %d hits %v (%d visited), single %d %v (%d)", allow, min, i, len(got[i]), head(got[i]), visited, len(want), head(want), n)
				}
			}
		}
	}
	if _, _, err := ExactBatch(context.Background(), m, [][]float32{qs[0], qs[1][:5]}, 3, nil); !errors.Is(err, ErrDimension) {
		t.Errorf("a short query: %v", err)
	}
	if _, _, err := ExactRangeBatch(context.Background(), m, [][]float32{qs[0], qs[1][:5]}, 0, nil); !errors.Is(err, ErrDimension) {
		t.Errorf("a short query, range: %v", err)
	}
	if _, _, err := ExactRangeBatch(context.Background(), m, qs, float32(math.NaN()), nil); err == nil {
		t.Errorf("a NaN threshold: no error")
	}
}

// BenchmarkExactBatch compares 12 queries answered by one batch scan with
// the same 12 answered by 12 scans, over 1M float16 512-d rows (1 GiB):
// bytes/op counts the matrix bytes read.
func BenchmarkExactBatch(b *testing.B) {
	const n, dim, nq = 1_000_000, 512, 12
	r := rand.New(rand.NewPCG(1, 2))
	m := Matrix{Dim: dim, F16: randF16(r, n*dim)}
	qs := make([][]float32, nq)
	for i := range qs {
		qs[i] = m.Row(r.IntN(n), nil)
	}
	b.Run(fmt.Sprintf("queries=%d/scans=%d", nq, nq), func(b *testing.B) {
		b.SetBytes(int64(nq * n * dim * 2))
		for b.Loop() {
			for _, q := range qs {
				if _, _, err := Exact(context.Background(), m, q, 100, nil); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run(fmt.Sprintf("queries=%d/scans=1", nq), func(b *testing.B) {
		b.SetBytes(int64(n * dim * 2))
		for b.Loop() {
			if _, _, err := ExactBatch(context.Background(), m, qs, 100, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestVisitBlocks: the scans' walk hands every allowed row below n to
// exactly one worker, in ascending blocks of at most idBlock, for each
// kind of allow-list (none, ranges that run past n, bitsets smaller and
// larger than n, an intersection walked by Contains, a sparse one walked
// by its ids), and counts them.
func TestVisitBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	bits := func(c int, pct int) *Bitset {
		b := NewBitset(c)
		for i := range c {
			if r.IntN(100) < pct {
				b.Set(uint32(i))
			}
		}
		return b
	}
	for _, n := range []int{0, 1, 63, 64, 65, 1000, 20000, 70001} {
		lists := map[string]AllowList{
			"nil":          nil,
			"ranges":       Ranges{{0, 3}, {60, 130}, {999, 1001}, {19990, 20010}, {69000, 80000}},
			"bitset":       bits(n, 30),
			"bitset-short": bits(n/2, 50),
			"bitset-long":  bits(n+100, 50),
			"contains":     &and{a: bits(n, 40), b: bits(n, 60), bound: n, count: -1},
			"sparse":       &and{a: bits(n, 1), b: bits(n, 90), bound: n / 100, count: -1},
		}
		for name, allow := range lists {
			for _, workers := range []int{1, 2, 3} {
				var mu sync.Mutex
				var got []uint32
				visited, err := visitBlocks(context.Background(), workers, n, allow, func(w int, ids []uint32) {
					if len(ids) == 0 || len(ids) > idBlock || !slices.IsSorted(ids) {
						t.Errorf("n %d %s: a block of %d ids, sorted %v", n, name, len(ids), slices.IsSorted(ids))
					}
					mu.Lock()
					got = append(got, ids...)
					mu.Unlock()
				})
				if err != nil {
					t.Fatal(err)
				}
				slices.Sort(got)
				var want []uint32
				for id := range n {
					if allow == nil || allow.Contains(uint32(id)) {
						want = append(want, uint32(id))
					}
				}
				if !slices.Equal(got, want) || visited != len(want) {
					t.Errorf("n %d %s workers %d: visited %d rows (%d reported), want %d", n, name, workers, len(got), visited, len(want))
				}
			}
		}
	}
}
