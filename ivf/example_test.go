package ivf_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/laiondb/laiondb/ivf"
	"github.com/laiondb/laiondb/vector"
)

// Index 5,000 random 32-d rows (as a store holds them: float16, with their
// inverse norms), then find the 3 rows nearest to row 42: probing every
// list and re-ranking every row read gives the exact answer.
func Example() {
	const n, dim = 5000, 32
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n*dim)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	m := vector.Matrix{Dim: dim, F16: make([]uint16, n*dim)}
	vector.F32ToF16(m.F16, x)
	m.Inv = vector.InvNorms(m, 0, n, nil)

	ctx := context.Background()
	rows := vector.Ranges{{Lo: 0, Hi: n}}
	ix, err := ivf.Train(ctx, m, rows, ivf.Config{Lists: 16, Sub: 8, Seed: 1})
	if err != nil {
		panic(err)
	}
	if err := ix.Add(ctx, m, rows); err != nil {
		panic(err)
	}
	q := m.Row(42, nil)
	vector.Normalize(q)
	res, err := ix.Search(ctx, q, 3, ivf.Search{NProbe: ix.Lists(), Rerank: n})
	if err != nil {
		panic(err)
	}
	exact, _, _ := vector.Exact(ctx, m, q, 3, nil)
	fmt.Println(res.Hits[0].ID, res.Estimated, fmt.Sprint(res.Hits) == fmt.Sprint(exact))
	// Output: 42 5000 true
}
