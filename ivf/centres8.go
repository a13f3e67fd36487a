package ivf

import (
	"math"

	"github.com/laiondb/laiondb/vector"
)

// centres8 are the centres in 8 bits, for choosing a search's lists: value
// t of centre j is about v[j·dim+t]·scale[j], scale[j] being the centre's
// largest magnitude ÷ 127. Reading all the centres is a search's largest
// read from memory after the codes; in 8 bits it is a quarter of the
// float32 centres (4 MB at 8,192 lists of 512 dimensions).
type centres8 struct {
	dim   int
	v     []int8
	scale []float32
}

// newCentres8 rounds the centres (lists × dim) to 8 bits.
func newCentres8(cent []float32, dim int) *centres8 {
	lists := len(cent) / dim
	c := &centres8{dim: dim, v: make([]int8, len(cent)), scale: make([]float32, lists)}
	for j := 0; j < lists; j++ {
		row := cent[j*dim : (j+1)*dim]
		var top float32
		for _, x := range row {
			top = max(top, float32(math.Abs(float64(x))))
		}
		if top == 0 {
			continue
		}
		c.scale[j] = top / 127
		for t, x := range row {
			c.v[j*dim+t] = int8(math.Round(float64(x / c.scale[j])))
		}
	}
	return c
}

// scores sets dst[j] to centre j and its approximate inner product with q
// (q rounded to 16 bits, the centre to 8), for every centre.
func (c *centres8) scores(q []float32, dst []cand) {
	var top float32
	for _, x := range q {
		top = max(top, float32(math.Abs(float64(x))))
	}
	// q's largest magnitude becomes qmax: at most 32,767, and small
	// enough that dim products of at most qmax·127 add up within int32.
	qmax := float32(min(32767, math.MaxInt32/(127*c.dim)))
	q16 := make([]int16, c.dim)
	if top > 0 && !math.IsInf(float64(top), 0) {
		for t, x := range q {
			q16[t] = int16(math.Round(float64(x / top * qmax)))
		}
	}
	acc := make([]int32, len(c.scale))
	dotsI8(q16, c.v, acc)
	unit := top / qmax
	for j, a := range acc {
		dst[j] = cand{float32(a) * unit * c.scale[j], uint32(j)}
	}
}

// dotsI8 sets dst[j] to the inner product of q with row j of v (len(q)
// values a row), in 32-bit integers, which the caller keeps from
// overflowing (centres8.scores).
func dotsI8(q []int16, v []int8, dst []int32) {
	dim := len(q)
	dst = dst[:len(v)/dim]
	if haveDotsI8Asm && dim%32 == 0 && len(dst) > 0 {
		dotsI8Asm(&q[0], &v[0], dim, len(dst), &dst[0])
		return
	}
	dotsI8Go(q, v, dst)
}

// dotsI8Go is dotsI8 in Go.
func dotsI8Go(q []int16, v []int8, dst []int32) {
	dim := len(q)
	for j := range dst {
		row := v[j*dim : (j+1)*dim]
		var s int32
		for t, x := range row {
			s += int32(q[t]) * int32(x)
		}
		dst[j] = s
	}
}

// nearLists returns the keep lists whose centres have the highest inner
// product with q, scored in float32, chosen among the keep + keep/4 + 16
// best by the 8-bit centres: a list the rounding moves down by that many
// places is left out, which the test of the choice has not seen happen.
func (ix *Index) nearLists(q []float32, keep int) []cand {
	c8 := ix.eightBitCentres()
	all := make([]cand, ix.Lists())
	c8.scores(q, all)
	wide := min(len(all), keep+keep/4+16)
	selectBest(all, wide)
	probe := all[:wide]
	for i, p := range probe {
		probe[i].score = vector.Dot(q, ix.cent[int(p.id)*ix.dim:int(p.id+1)*ix.dim])
	}
	selectBest(probe, keep)
	return probe[:keep]
}
