package engine

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/laiondb/laiondb/vector"
)

// TestAllowCacheOnce: searches that miss the same entry at once compute it
// once and share the answer; when that computation fails, a waiter
// computes it itself; a waiter whose context ends stops waiting.
func TestAllowCacheOnce(t *testing.T) {
	c := NewAllowCache(1 << 20)
	var computed atomic.Int32
	release := make(chan struct{})
	want := &selected{rows: vector.NewBitset(64), n: 3, how: "scan"}
	compute := func() (*selected, error) {
		computed.Add(1)
		<-release
		return want, nil
	}
	const n = 8
	var wg sync.WaitGroup
	got := make([]*selected, n)
	fresh := make([]bool, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sel, cached, err := c.do(context.Background(), "k", compute)
			if err != nil {
				t.Error(err)
			}
			got[i], fresh[i] = sel, !cached
		}()
	}
	for computed.Load() == 0 {
		runtime.Gosched()
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := c.do(ctx, "k", compute); !errors.Is(err, context.Canceled) {
		t.Errorf("a waiter whose context ended: %v, want context.Canceled", err)
	}
	close(release)
	wg.Wait()
	if computed.Load() != 1 || slices.Index(fresh, true) < 0 || slices.Index(fresh[slices.Index(fresh, true)+1:], true) >= 0 {
		t.Fatalf("computed %d times, fresh %v; want once", computed.Load(), fresh)
	}
	for i, s := range got {
		if s != want {
			t.Fatalf("search %d got %p, want the shared %p", i, s, want)
		}
	}

	// A failed computation is not kept, and the waiters compute again.
	fail := make(chan struct{})
	var tries atomic.Int32
	errBoom := errors.New("boom")
	failing := func() (*selected, error) {
		if tries.Add(1) == 1 {
			<-fail
			return nil, errBoom
		}
		return want, nil
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := c.do(context.Background(), "f", failing)
		done <- err
	}()
	for tries.Load() == 0 {
		runtime.Gosched()
	}
	waiter := make(chan *selected, 1)
	go func() {
		sel, _, err := c.do(context.Background(), "f", failing)
		if err != nil {
			t.Error(err)
		}
		waiter <- sel
	}()
	close(fail)
	if err := <-done; !errors.Is(err, errBoom) {
		t.Fatalf("first computation: %v, want boom", err)
	}
	if sel := <-waiter; sel != want || tries.Load() != 2 {
		t.Fatalf("the waiter got %p after %d tries, want %p after 2", sel, tries.Load(), want)
	}
}
