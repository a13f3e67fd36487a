package ivf

import (
	"context"
	"math"

	"github.com/laiondb/laiondb/internal/par"
	"github.com/laiondb/laiondb/vector"
)

// Assigning a row to the nearest of L centres costs L inner products: at
// L = 4,096 and 512 dimensions, 4.2 MFLOP a row, 70 minutes of a 2-core
// machine for 10M rows. Past groupedFrom lists, the centres are grouped
// (spherical k-means of the centres into about √L groups), and a row is
// assigned to the nearest centre of its groupProbe nearest groups: about
// √L + groupProbe·√L products. The answer may miss the nearest centre; the
// index stays correct (a row is always in some list, and searches re-rank
// exactly), only less tight.
const (
	groupedFrom = 1024
	groupProbe  = 8
	groupSeed   = 0x67726f7570 // the groups depend only on the centres
	groupIters  = 10
)

// groups is a grouping of the centres.
type groups struct {
	cent    []float32 // G × dim, unit
	members [][]int32 // the centres of each group, increasing
}

// groupCentres groups the L centres of cent when L is past groupedFrom
// (past from, for tests), else returns nil.
func groupCentres(ctx context.Context, cent []float32, dim, from int) (*groups, error) {
	lists := len(cent) / dim
	if lists <= from {
		return nil, nil
	}
	g := int(math.Round(math.Sqrt(float64(lists))))
	gc, err := kmeans(ctx, cent, dim, g, groupIters, true, groupSeed)
	if err != nil {
		return nil, err
	}
	of := make([]int32, lists)
	if err := nearest(ctx, cent, gc, dim, true, of, nil); err != nil {
		return nil, err
	}
	gr := &groups{cent: gc, members: make([][]int32, len(gc)/dim)}
	for j, k := range of {
		gr.members[k] = append(gr.members[k], int32(j))
	}
	return gr, nil
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
