package vector

import (
	"math"
	"unsafe"
)

// SQ8 is a scalar-quantised copy of a matrix: component j of a row is
// stored as one byte c, standing for Lo[j] + Step[j]·c. Scoring a query
// against it reads half the bytes of float16 rows; the scores are
// approximate (off by at most half a step per component), so callers
// re-rank their final candidates with the exact rows.
type SQ8 struct {
	Dim      int
	Lo, Step []float32 // per dimension
	Codes    []uint8   // row-major, Dim bytes per row
}

// TrainSQ8 returns per-dimension ranges covering the rows of m (every
// stride-th row, at least 1): the minimum and (max-min)/255 of each
// component. A component equal in every row gets step 0.
func TrainSQ8(m Matrix, stride int) (lo, step []float32) {
	stride = max(stride, 1)
	lo = make([]float32, m.Dim)
	hi := make([]float32, m.Dim)
	for j := range lo {
		lo[j], hi[j] = float32(math.Inf(1)), float32(math.Inf(-1))
	}
	row := make([]float32, m.Dim)
	for i := 0; i < m.Len(); i += stride {
		row = m.Row(i, row)
		for j, x := range row {
			lo[j] = min(lo[j], x)
			hi[j] = max(hi[j], x)
		}
	}
	step = make([]float32, m.Dim)
	for j := range lo {
		if hi[j] < lo[j] { // no rows
			lo[j], hi[j] = 0, 0
		}
		step[j] = (hi[j] - lo[j]) / 255
	}
	return lo, step
}

// Len returns the number of rows.
func (s *SQ8) Len() int {
	if s.Dim == 0 {
		return 0
	}
	return len(s.Codes) / s.Dim
}

// Encode writes the codes of rows [lo, hi) of m into their places in
// s.Codes, which must be long enough. Values outside the trained range
// are clamped.
func (s *SQ8) Encode(m Matrix, lo, hi int) {
	row := make([]float32, m.Dim)
	for i := lo; i < hi; i++ {
		row = m.Row(i, row)
		c := s.Codes[i*s.Dim : (i+1)*s.Dim]
		for j, x := range row {
			v := 0.0
			if s.Step[j] > 0 {
				v = math.Round(float64((x - s.Lo[j]) / s.Step[j]))
			}
			c[j] = uint8(min(max(v, 0), 255))
		}
	}
}

// Prepare turns q into the form Dot takes: qs[j] = q[j]·Step[j] (in dst,
// grown as needed) and bias = Σ q[j]·Lo[j], so that the score of a row is
// bias + Σ qs[j]·c[j].
func (s *SQ8) Prepare(q, dst []float32) (qs []float32, bias float32) {
	if cap(dst) < s.Dim {
		dst = make([]float32, s.Dim)
	}
	dst = dst[:s.Dim]
	var b float64
	for j, x := range q[:s.Dim] {
		dst[j] = x * s.Step[j]
		b += float64(x) * float64(s.Lo[j])
	}
	return dst, float32(b)
}

// Dot returns the approximate inner product of a prepared query (see
// Prepare) with row i.
func (s *SQ8) Dot(qs []float32, bias float32, i int) float32 {
	c := s.Codes[i*s.Dim : (i+1)*s.Dim]
	if useAsm {
		return bias + dotQ8AVX2(qs[:s.Dim], c)
	}
	return bias + dotQ8Generic(qs[:s.Dim], c)
}

// Prefetch asks the CPU to start loading row i's codes into cache.
func (s *SQ8) Prefetch(i int) {
	if useAsm && s.Dim >= 2 {
		c := s.Codes[i*s.Dim : (i+1)*s.Dim]
		prefetchAVX2(unsafe.Slice((*uint16)(unsafe.Pointer(&c[0])), len(c)/2))
	}
}

func dotQ8Generic(q []float32, c []uint8) float32 {
	c = c[:len(q)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(q); i += 4 {
		s0 += q[i] * float32(c[i])
		s1 += q[i+1] * float32(c[i+1])
		s2 += q[i+2] * float32(c[i+2])
		s3 += q[i+3] * float32(c[i+3])
	}
	for ; i < len(q); i++ {
		s0 += q[i] * float32(c[i])
	}
	return (s0 + s1) + (s2 + s3)
}
