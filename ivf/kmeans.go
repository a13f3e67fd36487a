package ivf

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/laiondb/laiondb/vector"
)

// kmeans clusters the n = len(x)/dim rows of x into k centres by Lloyd's
// iterations, from k distinct rows drawn with seed: each row goes to its
// nearest centre (spherical: highest inner product, with centres kept at
// unit length; else least squared distance) and each centre becomes the
// mean of its rows. A centre left without rows takes a random row. It
// returns the centres, k×dim. The result depends only on the inputs, not
// on the number of goroutines.
func kmeans(ctx context.Context, x []float32, dim, k, iters int, spherical bool, seed uint64) ([]float32, error) {
	n := len(x) / dim
	if k > n {
		k = n
	}
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	c := make([]float32, k*dim)
	for j, r := range rng.Perm(n)[:k] {
		copy(c[j*dim:(j+1)*dim], x[r*dim:(r+1)*dim])
	}
	if spherical {
		normalizeRows(c, dim)
	}
	assign := make([]int32, n)
	sum := make([]float64, k*dim)
	count := make([]int, k)
	for it := 0; it < iters; it++ {
		if err := nearest(ctx, x, c, dim, spherical, assign, nil); err != nil {
			return nil, err
		}
		clear(sum)
		clear(count)
		for i, j := range assign {
			count[j]++
			s, row := sum[int(j)*dim:int(j+1)*dim], x[i*dim:(i+1)*dim]
			for d, v := range row {
				s[d] += float64(v)
			}
		}
		for j := 0; j < k; j++ {
			cj := c[j*dim : (j+1)*dim]
			if count[j] == 0 {
				r := rng.IntN(n)
				copy(cj, x[r*dim:(r+1)*dim])
				continue
			}
			for d := range cj {
				cj[d] = float32(sum[j*dim+d] / float64(count[j]))
			}
		}
		if spherical {
			normalizeRows(c, dim)
		}
	}
	return c, nil
}

// nearest sets assign[i] to the centre of c nearest to row i of x, and,
// when score is not nil, score[i] to its inner product with it. It is an
// exact search with k = 1 of the rows among the centres, all rows in one
// pass over the centres (vector.ExactBatch), ties going to the lower
// centre; the squared distance is an inner product in one more dimension:
// x·c − ½‖c‖² = [x, 1]·[c, −½‖c‖²].
func nearest(ctx context.Context, x, c []float32, dim int, spherical bool, assign []int32, score []float32) error {
	if !spherical && score == nil && dim <= 32 {
		return assignSmall(ctx, x, c, dim, assign)
	}
	k, n := len(c)/dim, len(x)/dim
	ext := dim
	if !spherical {
		ext = (dim + 1 + 7) &^ 7 // the extra value, then zeros to a multiple of 8
	}
	cm := vector.Matrix{Dim: ext, F32: c}
	if !spherical {
		cm.F32 = make([]float32, k*ext)
		for j := 0; j < k; j++ {
			cj, e := c[j*dim:(j+1)*dim], cm.F32[j*ext:(j+1)*ext]
			copy(e, cj)
			e[dim] = -vector.Dot(cj, cj) / 2
		}
	}
	qs := make([][]float32, n)
	var xe []float32
	if !spherical {
		xe = make([]float32, n*ext)
	}
	for i := range qs {
		if spherical {
			qs[i] = x[i*dim : (i+1)*dim]
			continue
		}
		q := xe[i*ext : (i+1)*ext]
		copy(q, x[i*dim:(i+1)*dim])
		q[dim] = 1
		qs[i] = q
	}
	hits, _, err := vector.ExactBatch(ctx, cm, qs, 1, nil)
	if err != nil {
		return err
	}
	for i, h := range hits {
		if len(h) == 0 {
			return fmt.Errorf("ivf: row %d has no nearest centre", i)
		}
		assign[i] = int32(h[0].ID)
		if score != nil {
			score[i] = vector.Dot(x[i*dim:(i+1)*dim], c[int(h[0].ID)*dim:int(h[0].ID+1)*dim])
		}
	}
	return nil
}

// normalizeRows scales each row of x to unit length (a zero row stays).
func normalizeRows(x []float32, dim int) {
	for i := 0; i+dim <= len(x); i += dim {
		vector.Normalize(x[i : i+dim])
	}
}
