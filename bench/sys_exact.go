package bench

import (
	"context"

	"github.com/laiondb/laiondb/internal/npy"
	"github.com/laiondb/laiondb/vector"
)

// laiondb's exact scan (vector.Exact) over the vectors as the store keeps
// them: float16, 2·Dim bytes per vector. Build copies them into a float16
// matrix (the store's vector file); Save writes that as .npy and Open reads
// it back (the store memory-maps it instead).
func init() {
	RegisterGo("laiondb-exact", func() *GoSystem {
		return &GoSystem{
			Name:  "laiondb-exact",
			Exact: true,
			Note:  "vector.Exact over float16 vectors, parallel over GOMAXPROCS",
			Build: func(ctx context.Context, ds *Dataset, threads int) (Searcher, error) {
				h := make([]uint16, len(ds.Base))
				vector.F32ToF16(h, ds.Base)
				return &exactIndex{m: vector.Matrix{Dim: ds.Dim, F16: h}}, nil
			},
			Save: func(s Searcher, path string) error {
				m := s.(*exactIndex).m
				return npy.WriteFloat16(path, m.F16, m.Dim)
			},
			Open: func(path, _ string) (Searcher, error) {
				a, err := npy.Read(path)
				if err != nil {
					return nil, err
				}
				m, err := npyMatrix(a)
				if err != nil {
					return nil, err
				}
				return &exactIndex{m: m}, nil
			},
			OwnBytes: func(s Searcher) int64 { return int64(2 * len(s.(*exactIndex).m.F16)) },
		}
	})
}

type exactIndex struct{ m vector.Matrix }

func (e *exactIndex) Search(q []float32, k, _ int, dst []int32) []int32 {
	hits, _, err := vector.Exact(context.Background(), e.m, q, k, nil)
	if err != nil {
		return dst
	}
	for _, h := range hits {
		dst = append(dst, int32(h.ID))
	}
	return dst
}
