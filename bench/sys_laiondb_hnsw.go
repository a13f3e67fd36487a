package bench

import (
	"context"
	"fmt"

	"github.com/laiondb/laiondb/hnsw"
	"github.com/laiondb/laiondb/internal/npy"
	"github.com/laiondb/laiondb/vector"
)

// laiondb's own HNSW index (package hnsw), M=16, efConstruction=200,
// searched as the store searches it (hnsw.DefaultSeeds seeds from the upper layers). The
// float16 rows live in a file, memory-mapped as the store's vector file
// is: the index reads them to build and to re-rank, and keeps in memory
// only its graph and the SQ8 codes it traverses with. This file is the
// whole adapter between the harness and the index.
func init() {
	RegisterGo("laiondb-hnsw", func() *GoSystem {
		return &GoSystem{
			Name:   "laiondb-hnsw",
			Params: "M=16/efC=200/seeds=16",
			Knob:   "ef",
			Sweep:  []int{10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512},
			Note: "package hnsw: RAM is the graph and the SQ8 codes (Go heap; reopened, the links and codes are copied into " +
				"2 MiB pages where the kernel offers them, the rest stays mapped); the float16 rows (1024 B/vec at 512-d) " +
				"stay in a memory-mapped file, as in the store, read to build and to re-rank 8k candidates per query",
			Build: func(ctx context.Context, ds *Dataset, threads int) (Searcher, error) {
				h, dim, err := f16File(ds)
				if err != nil {
					return nil, err
				}
				m := vector.Matrix{Dim: dim, F16: h}
				ix, err := hnsw.New(ds.Dim, &hnsw.Options{M: 16, EfConstruction: 200, Seed: 1, Workers: threads})
				if err != nil {
					return nil, fmt.Errorf("bench: %w", err)
				}
				if err := ix.Add(ctx, m, nil, nil); err != nil {
					return nil, fmt.Errorf("bench: laiondb-hnsw add: %w", err)
				}
				return &laiondbIndex{ix: ix, m: m}, nil
			},
			OwnBytes: func(s Searcher) int64 { return s.(*laiondbIndex).ix.MemoryBytes() },
			// Save writes the graph file (hnsw's own format) and, next to
			// it, the float16 vectors as .npy (the store's vector file); the
			// reported file size is the graph file's alone.
			Save: func(s Searcher, path string) error {
				l := s.(*laiondbIndex)
				return saveWithRows(path, l.m, l.ix.Write)
			},
			// Open memory-maps both files, as the store does, and copies the
			// links and codes into huge pages, as laiondb serve does.
			Open: func(path, _ string) (Searcher, error) {
				m, err := openRows(path)
				if err != nil {
					return nil, err
				}
				ix, err := hnsw.OpenWith(path, m, &hnsw.OpenOptions{HugePages: true})
				if err != nil {
					return nil, fmt.Errorf("bench: %w", err)
				}
				return &laiondbIndex{ix: ix}, nil
			},
		}
	})
}

type laiondbIndex struct {
	ix *hnsw.Index
	m  vector.Matrix
}

func (l *laiondbIndex) Search(q []float32, k, ef int, dst []int32) []int32 {
	res, err := l.ix.Search(context.Background(), q, k, &hnsw.SearchOptions{Ef: ef, Seeds: hnsw.DefaultSeeds})
	if err != nil {
		return dst
	}
	for _, h := range res.Hits {
		dst = append(dst, int32(h.ID))
	}
	return dst
}

// saveWithRows writes an index with write and, next to it, the float16
// rows it re-ranks on as .npy (the store's vector file).
func saveWithRows(path string, m vector.Matrix, write func(path string) error) error {
	if err := write(path); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return npy.WriteFloat16(path+".vec.npy", m.F16, m.Dim)
}

// openRows memory-maps the rows saveWithRows wrote, as the store maps its
// vector file.
func openRows(path string) (vector.Matrix, error) {
	h, dim, err := npy.MmapFloat16(path + ".vec.npy")
	if err != nil {
		return vector.Matrix{}, err
	}
	return vector.Matrix{Dim: dim, F16: h}, nil
}

// f16File returns the base as float16 rows memory-mapped from
// BasePath+".f16.npy", writing that file first if it is missing.
func f16File(ds *Dataset) ([]uint16, int, error) {
	path := ds.BasePath + ".f16.npy"
	if h, dim, err := npy.MmapFloat16(path); err == nil && dim == ds.Dim && len(h) == len(ds.Base) {
		return h, dim, nil
	}
	h := make([]uint16, len(ds.Base))
	vector.F32ToF16(h, ds.Base)
	if err := npy.WriteFloat16(path, h, ds.Dim); err != nil {
		return nil, 0, err
	}
	return npy.MmapFloat16(path)
}
