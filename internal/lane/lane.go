// Package lane lets long scans give way to short requests. A server marks
// the context of a request that reads every row as background, with the
// Gate its short requests pass through; the scan loops (internal/par's
// chunks, the store's column blocks) call Yield between pieces of work,
// and a background scan waits there while short requests are running, so
// that they have the processors. A scan is never held longer than the
// gate's pause (MaxPause by default) at one call, so it always progresses.
package lane

import (
	"context"
	"sync"
	"time"
)

// MaxPause is the longest one Yield waits, unless a Gate says otherwise.
const MaxPause = 50 * time.Millisecond

// Gate counts the short requests running.
type Gate struct {
	// Pause is the longest one Yield waits (0: MaxPause).
	Pause  time.Duration
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

// Waits reports whether Yield(ctx) would wait now: ctx is a background
// scan's and short requests of its gate are running.
func Waits(ctx context.Context) bool {
	g, _ := ctx.Value(key{}).(*Gate)
	return g != nil && g.busy() != nil
}

// Yield waits, when ctx is a background scan's and short requests are
// running, until they are done, ctx is done, or the gate's pause has
// passed. It returns at once otherwise.
func Yield(ctx context.Context) {
	g, _ := ctx.Value(key{}).(*Gate)
	if g == nil {
		return
	}
	ch := g.busy()
	if ch == nil {
		return
	}
	pause := g.Pause
	if pause <= 0 {
		pause = MaxPause
	}
	t := time.NewTimer(pause)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
	}
}
