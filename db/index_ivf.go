package db

import (
	"context"
	"errors"
	"fmt"

	"github.com/laiondb/laiondb/ivf"
	"github.com/laiondb/laiondb/vector"
)

// The inverted file of package ivf as the store's VectorIndex: kind "ivf",
// parameters lists (0: 4·√N, a power of two) and sub (bytes of a row's
// code, default 32), file vectors/img.ivf. It keeps about 38 bytes a row
// in memory (BENCHMARKS.md, at 10M rows) and re-ranks on the store's float16 rows, so
// it serves stores whose HNSW graph would not fit in memory. Its lists and
// codewords are trained once, on the rows of its first build; rows
// ingested later are coded with them, and 'laiondb index --kind ivf
// --rebuild' trains again when the data has changed.
func init() {
	registerIndex("ivf", indexKind{
		file:    "img.ivf",
		params:  map[string]int{"lists": 0, "sub": 32},
		efforts: ivf.ProbeLadder,
		// A filtered search reads the same lists and keeps only the
		// allowed rows, so it needs at least the unfiltered nprobe.
		filterEfforts: ivf.ProbeLadder,
		name:          "IVF",
		describe: func(p map[string]int) string {
			lists := fmt.Sprint(p["lists"])
			if p["lists"] == 0 {
				lists = "4·√N"
			}
			return fmt.Sprintf("%s lists, %d-byte codes", lists, p["sub"])
		},
		effort:        "nprobe",
		path:          "IVF index",
		defaultEffort: func(int) int { return 64 },
		create: func(ctx context.Context, m vector.Matrix, rows vector.Ranges, p map[string]int) (VectorIndex, error) {
			ix, err := ivf.Train(ctx, m, rows, ivf.Config{Lists: p["lists"], Sub: p["sub"], Seed: 1})
			if err != nil {
				return nil, err
			}
			return ivfIndex{ix}, nil
		},
		open: func(path string, m vector.Matrix, _ openOptions) (VectorIndex, error) {
			ix, err := ivf.Open(path, m)
			if err != nil {
				return nil, err
			}
			return ivfIndex{ix}, nil
		},
		verify: ivf.Verify,
	})
}

type ivfIndex struct{ *ivf.Index }

// addChunk is the rows an Add codes between two progress reports.
const addChunk = 1 << 16

func (x ivfIndex) Search(ctx context.Context, q []float32, k int, o IndexSearch) (IndexResult, error) {
	nprobe := max(o.Effort, 1)
	allow := o.Allow
	if r, ok := allow.(vector.Ranges); ok && len(r) == 1 && r[0].Lo == 0 && int(r[0].Hi) >= x.End() {
		allow = nil // every indexed row: no test per row
	}
	so := ivf.Search{NProbe: nprobe, Rerank: ivf.RerankFor(k, nprobe), Allow: allow}
	if allow != nil {
		// A filtered search reads lists until it has weighed as many
		// allowed rows as an unfiltered one weighs rows.
		so.MinAllowed = x.ListRows(nprobe)
	}
	r, err := x.Index.Search(ctx, q, k, so)
	if errors.Is(err, ivf.ErrCorrupt) {
		return IndexResult{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if err != nil {
		return IndexResult{}, err
	}
	if len(r.Hits) < k && allow != nil {
		// The lists read held fewer than k allowed rows: the answer is
		// the k nearest allowed rows, which an exact scan of them gives.
		hits, scanned, err := vector.Exact(ctx, x.Matrix(), q, k, allow)
		if err != nil {
			return IndexResult{}, err
		}
		return IndexResult{Hits: hits, Exact: true, Scored: r.Scored + scanned,
			Method: fmt.Sprintf("exact scan (the %d lists an IVF search at nprobe %d read held %d allowed rows, fewer than k)", r.Lists, nprobe, len(r.Hits))}, nil
	}
	return IndexResult{Hits: r.Hits, Scored: r.Scored,
		Method: fmt.Sprintf("ivf search, nprobe=%d: %d lists read, %d codes, %d rows re-ranked exactly", nprobe, r.Lists, r.Estimated, r.Scored)}, nil
}

// PreferExact prices a search read from the codes of effort lists, at the
// lists' mean length, against a scan of the allowed rows, counting a code
// as half a scanned row (about 47 ns a code at 1M, BENCHMARKS.md, against
// 100–300 ns a scanned row). The store asks it only of an index without
// measured costs; every IVF index has them.
func (x ivfIndex) PreferExact(allowed, effort int) bool {
	return 2*allowed <= effort*x.Len()/max(x.Lists(), 1)
}

func (x ivfIndex) Add(ctx context.Context, m vector.Matrix, rows vector.Ranges, progress func(done, total int)) error {
	// Rows an interrupted Add of this index kept are not added again.
	var todo vector.Ranges
	end := uint32(x.End())
	for _, r := range rows {
		if r.Hi > end {
			todo = append(todo, vector.Range{Lo: max(r.Lo, end), Hi: r.Hi})
		}
	}
	total, done := todo.Count(), 0
	for {
		// An Add with no rows still takes m as the rows searches re-rank.
		chunk, rest := splitRanges(todo, addChunk)
		if err := x.Index.Add(ctx, m, chunk); err != nil {
			return err
		}
		done += chunk.Count()
		if progress != nil {
			progress(done, total)
		}
		if todo = rest; len(todo) == 0 {
			return nil
		}
	}
}

// splitRanges returns the first n rows of rs and the rest.
func splitRanges(rs vector.Ranges, n int) (head, tail vector.Ranges) {
	for i, r := range rs {
		if size := int(r.Hi - r.Lo); size <= n {
			head = append(head, r)
			n -= size
			continue
		}
		if n > 0 {
			head = append(head, vector.Range{Lo: r.Lo, Hi: r.Lo + uint32(n)})
			tail = append(tail, vector.Range{Lo: r.Lo + uint32(n), Hi: r.Hi})
		} else {
			tail = append(tail, r)
		}
		return head, append(tail, rs[i+1:]...)
	}
	return head, nil
}

func (x ivfIndex) Calibrate(ctx context.Context, qs [][]float32, skip []int64, ks []int, target float64, o IndexCalibrate) ([]vector.Calibration, error) {
	return x.Index.Calibrate(ctx, x.Matrix(), qs, skip, ks, target, &ivf.CalibrateOptions{Allow: o.Allow, Ladder: o.Efforts, MaxNs: o.MaxNs})
}

func (x ivfIndex) Params() map[string]int {
	return map[string]int{"lists": x.Lists(), "sub": x.Sub()}
}

func (x ivfIndex) Close() error { return x.Index.Close() }
