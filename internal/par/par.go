// Package par runs loops over index ranges on several goroutines: the one
// worker pool the store, the index and the encoders share.
package par

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/laiondb/laiondb/internal/lane"
)

// Chunks calls visit(worker, lo, hi) for consecutive chunks [lo, hi) of
// [0, total), at most chunk long, from up to GOMAXPROCS goroutines (worker
// is 0 .. workers-1, so visit can keep per-worker state), and returns the
// number of workers it used. It stops handing out chunks once ctx is done
// and then returns ctx's error. Before each chunk a worker gives way to
// short requests when ctx is a background scan's (lane.Yield).
func Chunks(ctx context.Context, total, chunk int, visit func(worker, lo, hi int)) (int, error) {
	return ChunksN(ctx, runtime.GOMAXPROCS(0), total, chunk, visit)
}

// ChunksN is Chunks with at most workers goroutines.
func ChunksN(ctx context.Context, workers, total, chunk int, visit func(worker, lo, hi int)) (int, error) {
	if nc := (total + chunk - 1) / chunk; nc < workers {
		workers = nc
	}
	if workers < 1 {
		return 0, ctx.Err()
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				lane.Yield(ctx)
				lo := int(next.Add(int64(chunk))) - chunk
				if lo >= total {
					return
				}
				visit(w, lo, min(lo+chunk, total))
			}
		}()
	}
	wg.Wait()
	return workers, ctx.Err()
}

// ChunksErr is ChunksN for a visit that can fail: it stops handing out
// chunks at the first error visit returns, or once ctx is done, and returns
// that first error. A done ctx counts as the error of the chunk it stops, so
// ChunksErr returns nil when every chunk ran, even if ctx is done by then.
func ChunksErr(ctx context.Context, workers, total, chunk int, visit func(worker, lo, hi int) error) error {
	if nc := (total + chunk - 1) / chunk; nc < workers {
		workers = nc
	}
	var (
		next  atomic.Int64
		stop  atomic.Bool
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				lane.Yield(ctx)
				lo := int(next.Add(int64(chunk))) - chunk
				if lo >= total {
					return
				}
				err := ctx.Err()
				if err == nil {
					err = visit(w, lo, min(lo+chunk, total))
				}
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					stop.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}
