package ivf

import (
	"context"
	"fmt"
)

// pq is a product quantiser: a vector of dim values is cut into sub
// pieces of dsub values, and each piece is coded as the byte naming the
// nearest of its piece's codewords (at most 256).
type pq struct {
	sub, dsub int
	books     []float32 // sub × 256 × dsub; unused codewords are zero
}

// trainPQ learns the codewords of each piece by k-means on the pieces of
// the n rows of x (dim values each).
func trainPQ(ctx context.Context, x []float32, dim, sub, iters int, seed uint64) (*pq, error) {
	if sub <= 0 || dim%sub != 0 {
		return nil, fmt.Errorf("ivf: %d dimensions do not split into %d pieces", dim, sub)
	}
	n, dsub := len(x)/dim, dim/sub
	p := &pq{sub: sub, dsub: dsub, books: make([]float32, sub*256*dsub)}
	piece := make([]float32, n*dsub)
	for s := 0; s < sub; s++ {
		for i := 0; i < n; i++ {
			copy(piece[i*dsub:(i+1)*dsub], x[i*dim+s*dsub:i*dim+(s+1)*dsub])
		}
		c, err := kmeans(ctx, piece, dsub, 256, iters, false, seed+uint64(s)+1)
		if err != nil {
			return nil, err
		}
		copy(p.books[s*256*dsub:], c)
	}
	return p, nil
}

// encode writes the code of v (dim values) to dst (sub bytes).
func (p *pq) encode(v []float32, dst []byte) {
	for s := 0; s < p.sub; s++ {
		piece := v[s*p.dsub : (s+1)*p.dsub]
		book := p.books[s*256*p.dsub : (s+1)*256*p.dsub]
		best, bi := float32(0), 0
		for j := 0; j < 256; j++ {
			var d float32
			for t, w := range book[j*p.dsub : (j+1)*p.dsub] {
				e := piece[t] - w
				d += e * e
			}
			if j == 0 || d < best {
				best, bi = d, j
			}
		}
		dst[s] = byte(bi)
	}
}

// table writes to dst (sub×256 values) the inner product of each piece of
// q with each of its codewords: the estimate of q·v for a coded v is the
// sum of the table's entries its code names.
func (p *pq) table(q []float32, dst []float32) {
	for s := 0; s < p.sub; s++ {
		piece := q[s*p.dsub : (s+1)*p.dsub]
		book := p.books[s*256*p.dsub : (s+1)*256*p.dsub]
		row := dst[s*256 : (s+1)*256]
		for j := range row {
			var d float32
			for t, w := range book[j*p.dsub : (j+1)*p.dsub] {
				d += piece[t] * w
			}
			row[j] = d
		}
	}
}

// estimate returns the sum of the table's entries that code names.
func estimate(table []float32, code []byte) float32 {
	var s float32
	for i, c := range code {
		s += table[i<<8|int(c)]
	}
	return s
}
