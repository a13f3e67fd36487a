package par

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

func TestChunks(t *testing.T) {
	for _, total := range []int{0, 1, 7, 64, 1000} {
		seen := make([]atomic.Int32, total)
		w, err := ChunksN(context.Background(), 3, total, 8, func(w, lo, hi int) {
			if w < 0 || w >= 3 || hi-lo > 8 || lo >= hi {
				t.Errorf("visit(%d, %d, %d)", w, lo, hi)
			}
			for i := lo; i < hi; i++ {
				seen[i].Add(1)
			}
		})
		if err != nil || w > 3 || (total > 0 && w < 1) {
			t.Errorf("total %d: %d workers, %v", total, w, err)
		}
		for i := range seen {
			if seen[i].Load() != 1 {
				t.Fatalf("total %d: index %d visited %d times", total, i, seen[i].Load())
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var n atomic.Int32
	if _, err := Chunks(ctx, 1000, 10, func(_, _, _ int) { n.Add(1) }); !errors.Is(err, context.Canceled) || n.Load() != 0 {
		t.Errorf("cancelled: %v, %d chunks", err, n.Load())
	}
}

func TestChunksErr(t *testing.T) {
	bg := context.Background()
	for _, total := range []int{0, 1, 7, 64, 1000} {
		seen := make([]atomic.Int32, total)
		err := ChunksErr(bg, 3, total, 8, func(w, lo, hi int) error {
			if w < 0 || w >= 3 || hi-lo > 8 || lo >= hi {
				t.Errorf("visit(%d, %d, %d)", w, lo, hi)
			}
			for i := lo; i < hi; i++ {
				seen[i].Add(1)
			}
			return nil
		})
		if err != nil {
			t.Errorf("total %d: %v", total, err)
		}
		for i := range seen {
			if seen[i].Load() != 1 {
				t.Fatalf("total %d: index %d visited %d times", total, i, seen[i].Load())
			}
		}
	}
	// The first error stops the others and is returned.
	boom := errors.New("boom")
	var n atomic.Int32
	err := ChunksErr(bg, 3, 100000, 1, func(_, lo, _ int) error {
		n.Add(1)
		if lo == 10 {
			return boom
		}
		return nil
	})
	if err != boom || n.Load() >= 100000 {
		t.Errorf("error: %v after %d chunks", err, n.Load())
	}
	// A done ctx stops it before the first chunk...
	ctx, cancel := context.WithCancel(bg)
	cancel()
	n.Store(0)
	if err := ChunksErr(ctx, 3, 1000, 10, func(_, _, _ int) error { n.Add(1); return nil }); !errors.Is(err, context.Canceled) || n.Load() != 0 {
		t.Errorf("cancelled: %v, %d chunks", err, n.Load())
	}
	// ...but is no error once every chunk ran.
	ctx, cancel = context.WithCancel(bg)
	if err := ChunksErr(ctx, 3, 1, 10, func(_, _, _ int) error { cancel(); return nil }); err != nil {
		t.Errorf("cancelled after the last chunk: %v", err)
	}
}
