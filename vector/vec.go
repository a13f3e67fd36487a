// Float16 values are kept as their IEEE 754 binary16 bit patterns in
// uint16, the layout numpy writes to .npy files.

package vector

import (
	"math"
	"unsafe"

	"github.com/x448/float16"

	"github.com/laiondb/laiondb/internal/readahead"
)

// Matrix is a row-major n×Dim matrix of float16 or float32 values. Exactly
// one of F16 and F32 is non-nil. Row i is [i*Dim, (i+1)*Dim).
//
// Inv, when non-nil, holds the inverse Euclidean norm of each row (see
// InvNorms); Dot then returns the cosine of a unit query with the row as
// stored, whatever the row's own norm.
type Matrix struct {
	Dim int
	F16 []uint16
	F32 []float32
	Inv []float32
}

// Len returns the number of rows.
func (m Matrix) Len() int {
	if m.Dim == 0 {
		return 0
	}
	if m.F16 != nil {
		return len(m.F16) / m.Dim
	}
	return len(m.F32) / m.Dim
}

// Dot returns the inner product of q with row i, divided by the row's norm
// when the matrix has Inv: for a unit q, the cosine.
func (m Matrix) Dot(q []float32, i int) float32 {
	var s float32
	if m.F16 != nil {
		s = DotF16(q, m.F16[i*m.Dim:(i+1)*m.Dim])
	} else {
		s = Dot(q, m.F32[i*m.Dim:(i+1)*m.Dim])
	}
	if m.Inv != nil {
		s *= m.Inv[i]
	}
	return s
}

// InvNorms appends to dst the inverse Euclidean norms of rows [lo, hi) of
// m, computed in float64 from the stored values and rounded to float32; a
// zero row gets 0, so that it scores 0 against every query.
func InvNorms(m Matrix, lo, hi int, dst []float32) []float32 {
	row := make([]float32, m.Dim)
	for i := lo; i < hi; i++ {
		var inv float32
		if n := Norm(m.Row(i, row)); n > 0 {
			inv = float32(1 / n)
		}
		dst = append(dst, inv)
	}
	return dst
}

// rowF32 returns row i as float32: the stored row itself for a float32
// matrix, else widened into buf (of length Dim).
func (m Matrix) rowF32(i int, buf []float32) []float32 {
	if m.F16 == nil {
		return m.F32[i*m.Dim : (i+1)*m.Dim]
	}
	F16ToF32(buf, m.F16[i*m.Dim:(i+1)*m.Dim])
	return buf
}

// Row copies row i into dst (grown as needed) as float32 and returns it.
func (m Matrix) Row(i int, dst []float32) []float32 {
	if cap(dst) < m.Dim {
		dst = make([]float32, m.Dim)
	}
	dst = dst[:m.Dim]
	if m.F16 != nil {
		F16ToF32(dst, m.F16[i*m.Dim:(i+1)*m.Dim])
	} else {
		copy(dst, m.F32[i*m.Dim:(i+1)*m.Dim])
	}
	return dst
}

// Slice returns the rows [lo, hi) as a Matrix sharing storage with m.
func (m Matrix) Slice(lo, hi int) Matrix {
	var inv []float32
	if m.Inv != nil {
		inv = m.Inv[lo:hi]
	}
	if m.F16 != nil {
		return Matrix{Dim: m.Dim, F16: m.F16[lo*m.Dim : hi*m.Dim], Inv: inv}
	}
	return Matrix{Dim: m.Dim, F32: m.F32[lo*m.Dim : hi*m.Dim], Inv: inv}
}

var f16table = func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for i := range t {
		t[i] = float16.Frombits(uint16(i)).Float32()
	}
	return &t
}()

// F16ToF32 converts len(src) float16 values into dst, which must be at least
// as long.
func F16ToF32(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	if useAsm && len(src) >= 8 {
		f16ToF32AVX2(dst, src)
		return
	}
	f16ToF32Generic(dst, src)
}

func f16ToF32Generic(dst []float32, src []uint16) {
	for i, h := range src {
		dst[i] = f16table[h]
	}
}

// F32ToF16 converts len(src) float32 values into dst with round-to-nearest-even.
func F32ToF16(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	for i, f := range src {
		dst[i] = uint16(float16.Fromfloat32(f))
	}
}

// Dot returns the inner product of two float32 vectors of equal length.
func Dot(a, b []float32) float32 {
	b = b[:len(a)]
	if useAsm {
		return dotAVX2(a, b)
	}
	return dotGeneric(a, b)
}

// Axpy adds a·x to y: y[i] += a·x[i] for i < len(y); x must be at least
// as long. With the AVX2 kernel each product is fused with its addition
// (one rounding), so results may differ from axpyGeneric's in the last bit.
func Axpy(a float32, x, y []float32) {
	x = x[:len(y)]
	if useAsm {
		axpyAVX2(a, x, y)
		return
	}
	axpyGeneric(a, x, y)
}

func axpyGeneric(a float32, x, y []float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] += a * x[i]
	}
}

// dot3 returns Dot(q0, row), Dot(q1, row) and Dot(q2, row), each equal
// to Dot's to the bit, reading row once.
func dot3(row, q0, q1, q2 []float32) (float32, float32, float32) {
	n := len(row)
	if useAsm {
		return dot3AVX2(row, q0[:n], q1[:n], q2[:n])
	}
	return dotGeneric(q0, row), dotGeneric(q1, row), dotGeneric(q2, row)
}

// has4 reports whether dot4 and dot4F16 apply to rows of dim elements:
// with AVX-512, and dim a multiple of 32.
func has4(dim int) bool { return useAVX512 && dim%32 == 0 }

// dot4 returns Dot(qi, row) for four queries, each equal to Dot's to the
// bit, reading row once. Only where has4(len(row)).
func dot4(row, q0, q1, q2, q3 []float32) (s0, s1, s2, s3 float32) {
	n := len(row)
	return dot4AVX512(row, q0[:n], q1[:n], q2[:n], q3[:n])
}

// dot4F16 is dot4 on a float16 row, each score equal to DotF16's to the
// bit. Only where has4(len(row)).
func dot4F16(row []uint16, q0, q1, q2, q3 []float32) (s0, s1, s2, s3 float32) {
	n := len(row)
	return dot4F16AVX512(row, q0[:n], q1[:n], q2[:n], q3[:n])
}

// dot8F16 is dot4F16 for eight queries, q[0:8]. Only where has4(len(row)).
func dot8F16(row []uint16, q [][]float32, s []float32) {
	n := len(row)
	s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7] = dot8F16AVX512(row, q[0][:n], q[1][:n], q[2][:n], q[3][:n], q[4][:n], q[5][:n], q[6][:n], q[7][:n])
}

// pack12 lays out twelve queries of dim elements (a multiple of 32) for
// dot12F16: for each 32-element step, that step of q[0], then of q[1],
// ..., q[11].
func pack12(q [][]float32, dim int) []float32 {
	p := make([]float32, 0, 12*dim)
	for t := 0; t < dim; t += 32 {
		for _, qi := range q[:12] {
			p = append(p, qi[t:t+32]...)
		}
	}
	return p
}

// dot12F16 is dot8F16 for twelve queries packed by pack12, scores to
// s[0:12]. Only where has4(len(row)).
func dot12F16(row []uint16, p []float32, s []float32) {
	dot12F16AVX512(row, p[:12*len(row)], s[:12])
}

func dotGeneric(a, b []float32) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// DotF16 returns the inner product of a float32 vector with a float16 vector
// of the same length.
func DotF16(q []float32, h []uint16) float32 {
	h = h[:len(q)]
	if useAsm {
		return dotF16AVX2(q, h)
	}
	return dotF16Generic(q, h)
}

func dotF16Generic(q []float32, h []uint16) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(q); i += 4 {
		s0 += q[i] * f16table[h[i]]
		s1 += q[i+1] * f16table[h[i+1]]
		s2 += q[i+2] * f16table[h[i+2]]
		s3 += q[i+3] * f16table[h[i+3]]
	}
	for ; i < len(q); i++ {
		s0 += q[i] * f16table[h[i]]
	}
	return (s0 + s1) + (s2 + s3)
}

// Norm returns the Euclidean norm of v, accumulated in float64.
func Norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// Normalize scales v to unit norm in place and returns its former norm. A
// zero vector is left as it is.
func Normalize(v []float32) float64 {
	n := Norm(v)
	if n > 0 {
		inv := float32(1 / n)
		for i := range v {
			v[i] *= inv
		}
	}
	return n
}

// Prefetch asks the CPU to start loading row i into cache, so that a later
// Dot on it does not wait for memory. It is a no-op for float32 matrices
// and on platforms without the assembly kernels.
func (m Matrix) Prefetch(i int) {
	if useAsm && m.F16 != nil {
		prefetchAVX2(m.F16[i*m.Dim : (i+1)*m.Dim])
	}
}

// PrefetchHead asks the CPU for the first lines 64-byte lines of row i
// (at most the row), for a pass over rows scattered across a large
// memory-mapped matrix: the request starts the row's address translation
// and its first lines, and the processor's own prefetcher follows the
// rest once the row is read. There, asking for whole rows ahead
// (Prefetch) filled the core's queue of misses with lines the processor
// would have fetched anyway (the re-ranks of packages ivf and hnsw). The
// filtered exact scan, whose rows are in row order and closer together,
// measured faster with whole rows (Matrix.dots). Like Prefetch, it does
// nothing for float32 matrices.
func (m Matrix) PrefetchHead(i, lines int) {
	if useAsm && m.F16 != nil {
		lo := i * m.Dim
		prefetchAVX2(m.F16[lo : lo+min(32*lines, m.Dim)])
	}
}

// WillNeed asks the kernel to start reading rows of a memory-mapped
// matrix from disk, all at once (package internal/readahead): a pass over
// scattered rows that are not in the page cache then waits for one disk
// round trip, not one per row. It costs a system call per row, so callers
// use it once they find rows coming from disk (see ivf's re-ranking).
func (m Matrix) WillNeed(rows []uint32) {
	base, size := m.rowBytes()
	if base == nil {
		return
	}
	for _, r := range rows {
		if int(r) < m.Len() {
			readahead.Span(unsafe.Add(base, uintptr(r)*size), size)
		}
	}
}

// RowResident reports whether row i is in memory (for a memory-mapped
// matrix: in the page cache), or cannot tell.
func (m Matrix) RowResident(i int) bool {
	base, size := m.rowBytes()
	if base == nil || i < 0 || i >= m.Len() {
		return true
	}
	return readahead.Resident(unsafe.Add(base, uintptr(i)*size), size)
}

// rowBytes returns the address of row 0 and the bytes of a row (nil for
// an empty matrix).
func (m Matrix) rowBytes() (unsafe.Pointer, uintptr) {
	switch {
	case m.Dim == 0:
		return nil, 0
	case len(m.F16) > 0:
		return unsafe.Pointer(unsafe.SliceData(m.F16)), uintptr(2 * m.Dim)
	case len(m.F32) > 0:
		return unsafe.Pointer(unsafe.SliceData(m.F32)), uintptr(4 * m.Dim)
	}
	return nil, 0
}

// minPrefetchDim is the shortest row (in elements) the scans prefetch: a
// row of 32 float16 values is one cache line, which the processor's own
// prefetcher brings in time, and prefetching it by hand made a filtered
// scan slower.
const minPrefetchDim = 64

// prefetcher returns a function that prefetches a row, or nil when
// Prefetch does nothing for m or rows are too short to gain from it.
func (m Matrix) prefetcher() func(id uint32) {
	if !useAsm || m.F16 == nil || m.Dim < minPrefetchDim {
		return nil
	}
	return func(id uint32) { prefetchAVX2(m.F16[int(id)*m.Dim : int(id+1)*m.Dim]) }
}

// PrefetchWords asks the CPU to start loading every 64-byte line of p into
// cache: for lists of row numbers (graph links) a search reads next. It
// does nothing on platforms without the assembly kernels.
func PrefetchWords(p []uint32) {
	if useAsm && len(p) > 0 {
		prefetchAVX2(unsafe.Slice((*uint16)(unsafe.Pointer(&p[0])), 2*len(p)))
	}
}
