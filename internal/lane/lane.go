// Package lane lets long scans give way to short requests. A server marks
// the context of a request that reads every row as background, with the
// Gate its short requests pass through; the scan loops (internal/par's
// chunks, the store's column blocks) call Yield between pieces of work,
// and a background scan waits there while short requests are running, so
// that they have the processors. A scan is never held longer than
// MaxPause at one call, so it always progresses.
package lane

import (
	"context"
	"sync"
	"time"
)

// MaxPause is the longest one Yield waits.
const MaxPause = 50 * time.Millisecond

// Gate counts the short requests running.
type Gate struct {
	mu     sync.Mutex
	active int
	free   chan struct{} // closed when active falls to 0; nil while it is 0
}

// Enter marks a short request as running until the returned leave is
// called.
func (g *Gate) Enter() (leave func()) {
	g.mu.Lock()
	if g.active == 0 {
		g.free = make(chan struct{})
	}
	g.active++
	g.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			g.active--
			if g.active == 0 {
				close(g.free)
				g.free = nil
			}
			g.mu.Unlock()
		})
	}
}

// busy returns a channel closed once no short request runs, or nil when
// none runs now.
func (g *Gate) busy() chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.free
}

type key struct{}

// Background returns ctx marked as a background scan that gives way to
// the short requests of g.
func Background(ctx context.Context, g *Gate) context.Context {
	return context.WithValue(ctx, key{}, g)
}

// Yield waits, when ctx is a background scan's and short requests are
// running, until they are done, ctx is done, or MaxPause has passed. It
// returns at once otherwise.
func Yield(ctx context.Context) {
	g, _ := ctx.Value(key{}).(*Gate)
	if g == nil {
		return
	}
	ch := g.busy()
	if ch == nil {
		return
	}
	t := time.NewTimer(MaxPause)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
	}
}
