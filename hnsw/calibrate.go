package hnsw

import (
	"context"
	"fmt"
	"math"
	"runtime"

	"github.com/laiondb/laiondb/internal/par"
	"github.com/laiondb/laiondb/vector"
)

// EfLadder is the sequence of ef values Calibrate tries, smallest first.
var EfLadder = []int{32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192}

// CalibrateOptions tune Calibrate. The zero value calibrates unfiltered
// searches without seeds over EfLadder.
type CalibrateOptions struct {
	// Seeds is the number of seeds of the searches (see
	// SearchOptions.Seeds).
	Seeds int
	// Allow, when not nil, restricts both the exact and the graph answers
	// to these rows: the calibration of filtered searches.
	Allow vector.AllowList
	// Ladder is the ef values tried, smallest first; nil means EfLadder.
	Ladder []int
}

// Calibrate measures, for a sample of queries and each k of ks, recall@k
// of the graph search against the exact scan, at increasing ef from the
// ladder and then, between the last rung that fell short and the first
// that reached, at efs halfway between (refineEf), and returns per k the
// smallest ef tried at which a lower confidence bound of the recall
// (Calibration.Lower) reaches target, with the mean number of vectors a
// search scored there and the largest ef below it that fell short
// (Calibration.Below).
//
// skip[i], when not negative, is a row left out of query i's answers, both
// exact and approximate, and which the graph search does not pass through:
// a query that is itself a row of the index (an image embedding from the
// store) would otherwise find itself and follow its own links to its
// neighbours, which a new image cannot (a leave-one-out estimate). skip
// may be nil.
//
// The cost is one exact scan per query (at the largest k) plus graph
// searches at each ef tried; queries run in parallel on GOMAXPROCS
// goroutines, and ctx stops the work.
func (ix *Index) Calibrate(ctx context.Context, queries [][]float32, skip []int64, ks []int, target float64, o *CalibrateOptions) ([]vector.Calibration, error) {
	var opts CalibrateOptions
	if o != nil {
		opts = *o
	}
	ladder := opts.Ladder
	if ladder == nil {
		ladder = EfLadder
	}
	if skip != nil && len(skip) != len(queries) {
		return nil, fmt.Errorf("hnsw: calibrate: %d queries but %d rows to skip", len(queries), len(skip))
	}
	kmax := 0
	for _, k := range ks {
		if k <= 0 {
			return nil, fmt.Errorf("hnsw: calibrate: k = %d", k)
		}
		kmax = max(kmax, k)
	}
	skipOf := func(i int) int64 {
		if skip == nil {
			return -1
		}
		return skip[i]
	}
	// The exact answers at the largest k; a smaller k takes their head.
	exact := make([][]vector.Hit, len(queries))
	if kmax > 0 && len(queries) > 0 {
		err := parallelQueries(ctx, len(queries), func(i int) error {
			r, err := ix.Search(ctx, queries[i], kmax+1, &SearchOptions{Exact: true, Allow: opts.Allow})
			exact[i] = r.Hits
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	out := make([]vector.Calibration, len(ks))
	for ki, k := range ks {
		c := vector.Calibration{K: k, Queries: len(queries), Target: target}
		truth := make([][]uint32, len(queries))
		asked := 0
		for i := range queries {
			truth[i] = vector.TopIDs(exact[i], skipOf(i), k)
			if len(truth[i]) > 0 {
				asked++
			}
		}
		// measure sets c's recall, bound and scores at ef and reports
		// whether the bound reached target.
		measure := func(ef int) (bool, error) {
			found := make([]int, len(queries))
			scored := make([]int, len(queries))
			err := parallelQueries(ctx, len(queries), func(i int) error {
				so := SearchOptions{Ef: ef, Seeds: opts.Seeds, Allow: opts.Allow, Planned: true}
				if sk := skipOf(i); sk >= 0 {
					so.skip, so.hasSkip = uint32(sk), true
				}
				r, err := ix.Search(ctx, queries[i], k+1, &so)
				if err != nil {
					return err
				}
				scored[i] = r.Scored
				in := make(map[uint32]bool, len(truth[i]))
				for _, id := range truth[i] {
					in[id] = true
				}
				for _, id := range vector.TopIDs(r.Hits, skipOf(i), k) {
					if in[id] {
						found[i]++
					}
				}
				return nil
			})
			if err != nil {
				return false, err
			}
			want := make([]int, len(truth))
			for i, t := range truth {
				want[i] = len(t)
			}
			c.Recall, c.Lower, _ = vector.RecallBound(found, want)
			total := 0
			for _, x := range scored {
				total += x
			}
			c.Scored = math.Round(float64(total) / float64(len(queries)))
			return c.Lower >= target, nil
		}
		below := 0 // the largest ef tried that did not reach target
		for _, ef := range ladder {
			if asked == 0 {
				break
			}
			if ef < k {
				continue
			}
			ok, err := measure(ef)
			if err != nil {
				return nil, err
			}
			if !ok {
				below = ef
				continue
			}
			c.Ef = ef
			break
		}
		if c.Ef > 0 && below > 0 {
			pass := c
			for {
				mid := refineEf(below, pass.Ef)
				if mid == 0 {
					break
				}
				ok, err := measure(mid)
				if err != nil {
					return nil, err
				}
				if ok {
					pass = c
					pass.Ef = mid
				} else {
					below = mid
				}
			}
			c = pass
			c.Below = below
		}
		out[ki] = c
	}
	return out, nil
}

// refineEf returns the ef halfway between below, which did not reach the
// target, and ef, which did, rounded to a multiple of 8, or 0 when the two
// are within an eighth of ef of each other: between two rungs of EfLadder
// (a third to a half apart) the calibration tries two more efs at most,
// and a search then runs within 12.5% of the smallest ef that reaches
// the target on the sample, not up to 50% above it.
func refineEf(below, ef int) int {
	if ef-below <= ef/8 {
		return 0
	}
	mid := (below + ef) / 2 / 8 * 8
	if mid <= below || mid >= ef {
		return 0
	}
	return mid
}

// parallelQueries runs fn(0..n-1) on GOMAXPROCS goroutines and returns the
// first error; ctx stops it between queries.
func parallelQueries(ctx context.Context, n int, fn func(i int) error) error {
	err := par.ChunksErr(ctx, runtime.GOMAXPROCS(0), n, 1, func(_, i, _ int) error { return fn(i) })
	if err != nil {
		return fmt.Errorf("hnsw: calibrate: %w", err)
	}
	return nil
}
