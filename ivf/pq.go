package ivf

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/laiondb/laiondb/internal/par"
	"github.com/laiondb/laiondb/vector"
)

// pq is a product quantiser: a vector of dim values is cut into sub
// pieces of dsub values, and each piece is coded as the byte naming the
// nearest of its piece's 256 codewords.
type pq struct {
	sub, dsub int
	// books holds each piece's codewords transposed, sub × dsub × 256:
	// value t of codeword j of piece s is books[(s·dsub+t)·256+j], so
	// that a piece is scored against all 256 codewords by dsub Axpys.
	books []float32
	// half is ½‖codeword‖², sub × 256.
	half []float32
}

// trainPQ learns the codewords of each piece by k-means on the pieces of
// the n rows of x (dim values each); with fewer than 256 rows, the
// codewords past the rows repeat row 0's piece.
func trainPQ(ctx context.Context, x []float32, dim, sub, iters int, seed uint64) (*pq, error) {
	if sub <= 0 || dim%sub != 0 {
		return nil, fmt.Errorf("ivf: %d dimensions do not split into %d pieces", dim, sub)
	}
	n, dsub := len(x)/dim, dim/sub
	p := &pq{sub: sub, dsub: dsub, books: make([]float32, sub*dsub*256), half: make([]float32, sub*256)}
	piece := make([]float32, n*dsub)
	for s := 0; s < sub; s++ {
		for i := 0; i < n; i++ {
			copy(piece[i*dsub:(i+1)*dsub], x[i*dim+s*dsub:i*dim+(s+1)*dsub])
		}
		c, err := kmeans(ctx, piece, dsub, 256, iters, false, seed+uint64(s)+1)
		if err != nil {
			return nil, err
		}
		for j := 0; j < 256; j++ {
			cj := c[(j%(len(c)/dsub))*dsub:][:dsub]
			for t, v := range cj {
				p.books[(s*dsub+t)*256+j] = v
			}
			p.half[s*256+j] = vector.Dot(cj, cj) / 2
		}
	}
	return p, nil
}

// encode writes the code of v (dim values) to dst (sub bytes); acc is
// scratch of 256 values.
func (p *pq) encode(v []float32, dst []byte, acc []float32) {
	for s := 0; s < p.sub; s++ {
		p.scores(v, s, acc)
		for j := range acc {
			acc[j] -= p.half[s*256+j] // x·c − ½‖c‖²: highest is nearest
		}
		dst[s] = byte(argmax(acc))
	}
}

// scores writes the inner products of piece s of v with the piece's 256
// codewords to acc.
func (p *pq) scores(v []float32, s int, acc []float32) {
	clear(acc)
	for t := 0; t < p.dsub; t++ {
		vector.Axpy(v[s*p.dsub+t], p.books[(s*p.dsub+t)*256:(s*p.dsub+t+1)*256], acc)
	}
}

// table writes to dst (sub×256 values) the inner product of each piece of
// q with each of its codewords: the estimate of q·v for a coded v is the
// sum of the entries its code names.
func (p *pq) table(q []float32, dst []float32) {
	for s := 0; s < p.sub; s++ {
		p.scores(q, s, dst[s*256:(s+1)*256])
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

// estimates writes to dst the estimate of each code of a list (sub bytes a
// code), as estimate does but summed in four interleaved partial sums: the
// table lookups of one code do not wait on each other, which made estimate
// half of a search's time. On amd64 (estimatesAsm) a lookup is two
// instructions; estimatesGo is the same sum in Go, in the same order.
func estimates(table []float32, codes []byte, sub int, dst []float32) {
	dst = dst[:len(codes)/sub]
	switch {
	case len(dst) == 0:
	case sub%8 != 0:
		for i := range dst {
			dst[i] = estimate(table, codes[i*sub:(i+1)*sub])
		}
	case haveEstimatesAsm:
		_ = table[sub*256-1]
		estimatesAsm(&table[0], &codes[0], len(dst), sub, &dst[0])
	default:
		estimatesGo(table, codes, sub, dst)
	}
}

// estimatesGo is estimates for sub a multiple of 8, in Go.
func estimatesGo(table []float32, codes []byte, sub int, dst []float32) {
	table = table[:sub*256]
	for i := range dst {
		code := codes[i*sub : (i+1)*sub]
		t := table
		var a, b, c, d float32
		for len(code) >= 8 {
			w := binary.LittleEndian.Uint64(code)
			r := (*[8 * 256]float32)(t)
			a += r[0<<8|int(byte(w))]
			b += r[1<<8|int(byte(w>>8))]
			c += r[2<<8|int(byte(w>>16))]
			d += r[3<<8|int(byte(w>>24))]
			a += r[4<<8|int(byte(w>>32))]
			b += r[5<<8|int(byte(w>>40))]
			c += r[6<<8|int(byte(w>>48))]
			d += r[7<<8|int(byte(w>>56))]
			code, t = code[8:], t[8*256:]
		}
		dst[i] = (a + b) + (c + d)
	}
}

// argmax returns the index of the highest value, the lowest index among
// equals.
func argmax(a []float32) int {
	best, bi := float32(math.Inf(-1)), 0
	for j, v := range a {
		if v > best {
			best, bi = v, j
		}
	}
	return bi
}

// assignSmall sets assign[i] to the centre of c (k×dim) nearest to row i
// of x in squared distance, scoring each row against all centres at once
// with dim Axpys over the transposed centres; for the small dimensions of
// a quantiser's pieces, where a dot product per centre costs more in calls
// than in arithmetic.
func assignSmall(ctx context.Context, x, c []float32, dim int, assign []int32) error {
	k := len(c) / dim
	ct := make([]float32, dim*k)
	half := make([]float32, k)
	for j := 0; j < k; j++ {
		cj := c[j*dim : (j+1)*dim]
		for t, v := range cj {
			ct[t*k+j] = v
		}
		half[j] = vector.Dot(cj, cj) / 2
	}
	_, err := par.Chunks(ctx, len(x)/dim, 512, func(_, lo, hi int) {
		acc := make([]float32, k)
		for i := lo; i < hi; i++ {
			for j := range acc {
				acc[j] = -half[j]
			}
			for t, v := range x[i*dim : (i+1)*dim] {
				vector.Axpy(v, ct[t*k:(t+1)*k], acc)
			}
			assign[i] = int32(argmax(acc))
		}
	})
	return err
}
