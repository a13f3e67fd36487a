package bench

import (
	"context"
	"fmt"

	"github.com/laiondb/laiondb/ivf"
	"github.com/laiondb/laiondb/vector"
)

// laiondb's inverted-file index (package ivf): lists = 4·√N rounded to a
// power of two, 32-byte product-quantised residual codes, and the float16
// rows memory-mapped as in the store, re-ranking 16 rows per list probed
// (100 to 4,000).
func init() {
	RegisterGo("laiondb-ivf", func() *GoSystem {
		return &GoSystem{
			Name:   "laiondb-ivf",
			Params: "lists=auto/pq=32x8/rerank=16·nprobe",
			Knob:   "nprobe",
			Sweep:  []int{1, 2, 4, 8, 16, 32, 64, 128, 256},
			Note: "package ivf: RAM is the centres, the codes (32 B/vec) and the row numbers (4 B/vec); the float16 rows " +
				"stay in a memory-mapped file, as in the store, read to re-rank 16 rows per list probed (at least 10·k, at most 16,384: ivf.RerankFor)",
			Build: func(ctx context.Context, ds *Dataset, threads int) (Searcher, error) {
				h, dim, err := f16File(ds)
				if err != nil {
					return nil, err
				}
				m := vector.Matrix{Dim: dim, F16: h}
				m.Inv = vector.InvNorms(m, 0, m.Len(), nil)
				rows := vector.Ranges{{Lo: 0, Hi: uint32(m.Len())}}
				ix, err := ivf.Train(ctx, m, rows, ivf.Config{Seed: 1})
				if err != nil {
					return nil, fmt.Errorf("bench: laiondb-ivf train: %w", err)
				}
				if err := ix.Add(ctx, m, rows); err != nil {
					return nil, fmt.Errorf("bench: laiondb-ivf add: %w", err)
				}
				return &laiondbIVF{ix: ix, m: m}, nil
			},
			OwnBytes: func(s Searcher) int64 { return s.(*laiondbIVF).ix.MemoryBytes() },
			// Save writes the index file and, next to it, the float16 rows
			// as .npy (the store's vector file); the reported size is the
			// index file's alone.
			Save: func(s Searcher, path string) error {
				l := s.(*laiondbIVF)
				return saveWithRows(path, l.m, l.ix.Write)
			},
			// Open reads the index and memory-maps the rows, as the store
			// does, computing their inverse norms (the store keeps them).
			Open: func(path, _ string) (Searcher, error) {
				m, err := openRows(path)
				if err != nil {
					return nil, err
				}
				m.Inv = vector.InvNorms(m, 0, m.Len(), nil)
				ix, err := ivf.Open(path, m)
				if err != nil {
					return nil, fmt.Errorf("bench: %w", err)
				}
				return &laiondbIVF{ix: ix, m: m}, nil
			},
		}
	})
}

type laiondbIVF struct {
	ix *ivf.Index
	m  vector.Matrix
}

func (l *laiondbIVF) Search(q []float32, k, nprobe int, dst []int32) []int32 {
	res, err := l.ix.Search(context.Background(), q, k, ivf.Search{NProbe: nprobe, Rerank: min(max(16*nprobe, 100), 4000)})
	if err != nil {
		return dst
	}
	for _, h := range res.Hits {
		dst = append(dst, int32(h.ID))
	}
	return dst
}
