package lane

import (
	"context"
	"testing"
	"time"
)

// TestYield: a background scan waits while a short request runs and goes
// on when it leaves; it is never held past MaxPause; other contexts, and
// background ones with no short request running, never wait.
func TestYield(t *testing.T) {
	g := &Gate{}
	bg := Background(context.Background(), g)
	took := func(ctx context.Context) time.Duration {
		start := time.Now()
		Yield(ctx)
		return time.Since(start)
	}
	if d := took(bg); d > MaxPause/2 {
		t.Errorf("no short request running: waited %v", d)
	}
	leave := g.Enter()
	if d := took(context.Background()); d > MaxPause/2 {
		t.Errorf("a foreground context waited %v", d)
	}
	if d := took(bg); d < MaxPause {
		t.Errorf("a short request running: waited %v, want MaxPause (%v)", d, MaxPause)
	}
	done := make(chan time.Duration)
	go func() { done <- took(bg) }()
	time.Sleep(5 * time.Millisecond)
	leave()
	leave() // a second call changes nothing
	if d := <-done; d >= MaxPause {
		t.Errorf("the short request left: the scan still waited %v", d)
	}
	if d := took(bg); d > MaxPause/2 {
		t.Errorf("after the short request left: waited %v", d)
	}
	ctx, cancel := context.WithCancel(bg)
	leave = g.Enter()
	defer leave()
	cancel()
	if d := took(ctx); d >= MaxPause {
		t.Errorf("a cancelled scan waited %v", d)
	}
}
