package ivf

import (
	"context"
	"math"
	"slices"

	"github.com/laiondb/laiondb/internal/par"
	"github.com/laiondb/laiondb/vector"
)

// Assigning a row to the nearest of L centres costs L inner products: at
// L = 4,096 and 512 dimensions, 4.2 MFLOP a row, 70 minutes of a 2-core
// machine for 10M rows, and training L centres by k-means on 32 rows a
// centre costs as much again. Past groupedFrom lists, the centres are
// trained in two levels: the sample is clustered into about √L groups, and
// each group's rows into its share of the L centres (in proportion to its
// rows). A row then goes to the nearest centre of its groupProbe nearest
// groups: about √L + groupProbe·√L products. That may miss the nearest
// centre; the index stays correct (a row is always in some list, and
// searches re-rank exactly), only less tight.
const groupProbe = 8

// groupedFrom is the number of lists past which centres come in two
// levels (a variable for tests).
var groupedFrom = 1024

// groups is the first level of two-level centres.
type groups struct {
	cent    []float32 // G × dim, unit
	members [][]int32 // the centres of each group, increasing
}

// trainCentres clusters the unit rows of x into k unit centres, in two
// levels when k is past groupedFrom, and returns them with their groups
// (nil in one level).
func trainCentres(ctx context.Context, x []float32, dim, k, iters int, seed uint64) ([]float32, *groups, error) {
	if k <= groupedFrom {
		c, err := kmeans(ctx, x, dim, k, iters, true, seed)
		return c, nil, err
	}
	n := len(x) / dim
	g := int(math.Round(math.Sqrt(float64(k))))
	gc, err := kmeans(ctx, x, dim, g, iters, true, seed)
	if err != nil {
		return nil, nil, err
	}
	g = len(gc) / dim
	of := make([]int32, n)
	if err := nearest(ctx, x, gc, dim, true, of, nil); err != nil {
		return nil, nil, err
	}
	rows := make([][]int32, g)
	for i, j := range of {
		rows[j] = append(rows[j], int32(i))
	}
	// Each group's share of the k centres, in proportion to its rows (the
	// largest remainders rounding up), at least one for a group with rows
	// and at most its rows.
	share := make([]int, g)
	type rem struct {
		f float64
		j int
	}
	var rems []rem
	given := 0
	for j, r := range rows {
		exact := float64(k) * float64(len(r)) / float64(n)
		share[j] = min(int(exact), len(r))
		if len(r) > 0 && share[j] == 0 {
			share[j] = 1
		}
		given += share[j]
		rems = append(rems, rem{exact - math.Floor(exact), j})
	}
	slices.SortStableFunc(rems, func(a, b rem) int {
		switch {
		case a.f > b.f:
			return -1
		case a.f < b.f:
			return 1
		}
		return 0
	})
	for i := 0; given < k && i < len(rems)*4; i++ {
		if j := rems[i%len(rems)].j; share[j] < len(rows[j]) {
			share[j]++
			given++
		}
	}
	gr := &groups{cent: gc, members: make([][]int32, g)}
	var cent []float32
	sub := make([]float32, 0, n*dim)
	for j, r := range rows {
		if share[j] == 0 {
			continue
		}
		sub = sub[:0]
		for _, i := range r {
			sub = append(sub, x[int(i)*dim:int(i+1)*dim]...)
		}
		c, err := kmeans(ctx, sub, dim, share[j], iters, true, seed+uint64(j)+1)
		if err != nil {
			return nil, nil, err
		}
		for t := 0; t < len(c)/dim; t++ {
			gr.members[j] = append(gr.members[j], int32(len(cent)/dim+t))
		}
		cent = append(cent, c...)
	}
	return cent, gr, nil
}

// assign sets list[i] to the list of row i of x (unit rows): the nearest
// centre, or with groups the nearest among those of the rows' groupProbe
// nearest groups.
func (ix *Index) assign(ctx context.Context, x []float32, list []int32) error {
	if ix.groups == nil {
		return nearest(ctx, x, ix.cent, ix.dim, true, list, nil)
	}
	dim, n := ix.dim, len(x)/ix.dim
	qs := make([][]float32, n)
	for i := range qs {
		qs[i] = x[i*dim : (i+1)*dim]
	}
	near, _, err := vector.ExactBatch(ctx, vector.Matrix{Dim: dim, F32: ix.groups.cent}, qs, groupProbe, nil)
	if err != nil {
		return err
	}
	_, err = par.Chunks(ctx, n, 64, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			best, bj := float32(math.Inf(-1)), int32(-1)
			for _, h := range near[i] {
				for _, j := range ix.groups.members[h.ID] {
					s := vector.Dot(qs[i], ix.cent[int(j)*dim:int(j+1)*dim])
					if s > best || s == best && j < bj {
						best, bj = s, j
					}
				}
			}
			list[i] = max(bj, 0)
		}
	})
	return err
}
