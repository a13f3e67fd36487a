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

// SQ8Query is a query prepared by SQ8.Prepare for scoring against the
// codes. Its zero value is ready for Prepare, which reuses its memory.
type SQ8Query struct {
	q    []int16 // q[j]·Step[j] in steps of unit
	unit float32
	bias float32 // Σ q[j]·Lo[j]
}

// Prepare turns q into the form Dot takes, in p: the score of a row is
// Σ q[j]·(Lo[j] + Step[j]·c[j]) = bias + Σ qs[j]·c[j], with qs[j] =
// q[j]·Step[j] rounded to a whole number of units, unit = max|qs[j]| /
// qmax. qmax is 32767 or, where that could overflow, the largest value
// for which Σ qs[j]·c[j] in units fits an int32 at this dimension
// (MaxInt32 / (255·Dim): 16,448 at 512). The rounding adds at most
// unit/2·Σ c[j] to the score's error, against Σ |q[j]|·Step[j]/2 for the
// codes themselves.
func (s *SQ8) Prepare(q []float32, p *SQ8Query) {
	if cap(p.q) < s.Dim {
		p.q = make([]int16, s.Dim)
	}
	p.q = p.q[:s.Dim]
	var b float64
	var top float32
	for j, x := range q[:s.Dim] {
		top = max(top, abs32(x*s.Step[j]))
		b += float64(x) * float64(s.Lo[j])
	}
	p.bias = float32(b)
	p.unit = 0
	if top == 0 {
		clear(p.q)
		return
	}
	qmax := min(32767, math.MaxInt32/(255*max(s.Dim, 1)))
	p.unit = top / float32(qmax)
	inv := float32(qmax) / top
	for j, x := range q[:s.Dim] {
		p.q[j] = int16(math.Round(float64(x * s.Step[j] * inv)))
	}
}

// bound returns the most the rounding of p can add to the error of a
// score: unit/2 · 255 · Dim.
func (p *SQ8Query) bound() float64 { return float64(p.unit) / 2 * 255 * float64(len(p.q)) }

// Dot returns the approximate inner product of a prepared query with
// row i.
func (s *SQ8) Dot(p *SQ8Query, i int) float32 {
	c := s.Codes[i*s.Dim : (i+1)*s.Dim]
	if useAsm {
		return p.bias + p.unit*float32(dotQ16AVX2(p.q, c))
	}
	return p.bias + p.unit*float32(dotQ16Generic(p.q, c))
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// Prefetch asks the CPU to start loading row i's codes into cache.
func (s *SQ8) Prefetch(i int) {
	if useAsm && s.Dim >= 2 {
		c := s.Codes[i*s.Dim : (i+1)*s.Dim]
		prefetchAVX2(unsafe.Slice((*uint16)(unsafe.Pointer(&c[0])), len(c)/2))
	}
}

// dotQ16Generic is dotQ16AVX2 in Go; both sum in int32, so their results
// are equal.
func dotQ16Generic(q []int16, c []uint8) int32 {
	c = c[:len(q)]
	var s0, s1, s2, s3 int32
	i := 0
	for ; i+4 <= len(q); i += 4 {
		s0 += int32(q[i]) * int32(c[i])
		s1 += int32(q[i+1]) * int32(c[i+1])
		s2 += int32(q[i+2]) * int32(c[i+2])
		s3 += int32(q[i+3]) * int32(c[i+3])
	}
	for ; i < len(q); i++ {
		s0 += int32(q[i]) * int32(c[i])
	}
	return s0 + s1 + s2 + s3
}
