package ivf

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"time"

	"github.com/laiondb/laiondb/internal/par"
	"github.com/laiondb/laiondb/vector"
)

// ProbeLadder is the sequence of NProbe values Calibrate tries, smallest
// first (those past the number of lists are not tried).
var ProbeLadder = []int{1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024}

// RerankFor is the number of estimates a search for k rows probing nprobe
// lists re-ranks exactly: 16 a list probed, at least 10·k, at most 16,384.
func RerankFor(k, nprobe int) int { return min(max(16*nprobe, 10*k), 16384) }

// CalibrateOptions tune Calibrate.
type CalibrateOptions struct {
	// Allow, when not nil, restricts both the exact and the index answers
	// to these rows: the calibration of filtered searches, which read
	// lists until they have estimated ListRows(nprobe) allowed rows.
	Allow vector.AllowList
	// Ladder is the NProbe values tried, smallest first; nil means
	// ProbeLadder.
	Ladder []int
	// MaxNs, when positive, stops the climb at the first NProbe whose
	// searches take longer than this on average (nanoseconds of one
	// thread) without reaching the target; Calibration.CappedAt says
	// where. A filtered search reads about 1/share as many codes as an
	// unfiltered one, so at a small share the ladder soon passes the cost
	// of scanning the allowed rows exactly, and climbing further would
	// only spend the build's time.
	MaxNs float64
}

// Calibrate measures, for a sample of queries and each k of ks, recall@k
// of the index's search (re-ranking RerankFor(k, nprobe) rows) against the
// exact scan of m, at increasing NProbe from the ladder, and returns per k
// the smallest NProbe (in Calibration.Ef) at which the lower confidence
// bound of the recall (Calibration.Lower) reaches target, with the mean
// number of codes a search read there (Calibration.Scored). skip[i], when
// not negative, is a row left out of query i's answers, exact and
// approximate (a leave-one-out estimate for queries that are indexed
// rows); skip may be nil. Queries run on GOMAXPROCS goroutines.
func (ix *Index) Calibrate(ctx context.Context, m vector.Matrix, queries [][]float32, skip []int64, ks []int, target float64, o *CalibrateOptions) ([]vector.Calibration, error) {
	var opts CalibrateOptions
	if o != nil {
		opts = *o
	}
	ladder := opts.Ladder
	if ladder == nil {
		ladder = ProbeLadder
	}
	if skip != nil && len(skip) != len(queries) {
		return nil, fmt.Errorf("ivf: calibrate: %d queries but %d rows to skip", len(queries), len(skip))
	}
	kmax := 0
	for _, k := range ks {
		if k <= 0 {
			return nil, fmt.Errorf("ivf: calibrate: k = %d", k)
		}
		kmax = max(kmax, k)
	}
	skipOf := func(i int) int64 {
		if skip == nil {
			return -1
		}
		return skip[i]
	}
	exact := make([][]vector.Hit, len(queries))
	if kmax > 0 && len(queries) > 0 {
		var err error
		if exact, _, err = vector.ExactBatch(ctx, m, queries, kmax+1, opts.Allow); err != nil {
			return nil, fmt.Errorf("ivf: calibrate: %w", err)
		}
	}
	out := make([]vector.Calibration, len(ks))
	for ki, k := range ks {
		c := vector.Calibration{K: k, Queries: len(queries), Target: target}
		truth := make([][]uint32, len(queries))
		want := make([]int, len(queries))
		for i := range queries {
			truth[i] = vector.TopIDs(exact[i], skipOf(i), k)
			want[i] = len(truth[i])
		}
		for _, nprobe := range ladder {
			if nprobe > ix.Lists() {
				break
			}
			found := make([]int, len(queries))
			read := make([]int, len(queries))
			workers := runtime.GOMAXPROCS(0)
			start := time.Now()
			err := par.ChunksErr(ctx, workers, len(queries), 1, func(_, i, _ int) error {
				so := Search{NProbe: nprobe, Rerank: RerankFor(k, nprobe), Allow: opts.Allow}
				if opts.Allow != nil {
					so.MinAllowed = ix.ListRows(nprobe)
				}
				if sk := skipOf(i); sk >= 0 {
					so.Skip, so.HasSkip = uint32(sk), true
				}
				r, err := ix.Search(ctx, queries[i], k, so)
				if err != nil {
					return err
				}
				read[i] = r.Estimated
				in := make(map[uint32]bool, len(truth[i]))
				for _, id := range truth[i] {
					in[id] = true
				}
				for _, h := range r.Hits {
					if in[h.ID] {
						found[i]++
					}
				}
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("ivf: calibrate: %w", err)
			}
			var asked int
			c.Recall, c.Lower, asked = vector.RecallBound(found, want)
			if asked == 0 {
				break
			}
			total := 0
			for _, x := range read {
				total += x
			}
			c.Scored = math.Round(float64(total) / float64(len(queries)))
			if c.Lower >= target {
				c.Ef = nprobe
				break
			}
			// The mean search's time on one thread: the pass's time
			// times the threads it ran on, over the searches.
			if perSearch := float64(time.Since(start).Nanoseconds()) * float64(min(workers, len(queries))) / float64(len(queries)); opts.MaxNs > 0 && perSearch > opts.MaxNs {
				c.CappedAt = nprobe
				break
			}
		}
		out[ki] = c
	}
	return out, nil
}
