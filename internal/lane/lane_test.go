package lane

import (
	"context"
	"testing"
	"time"
)

// TestYield: a background scan waits while a short request runs and goes
// on when it leaves; it is never held past the gate's pause; other
// contexts, and background ones with no short request running, never
// wait. The pause is long (2 s) so that the bounds hold on a loaded
// machine.
func TestYield(t *testing.T) {
	const pause = 2 * time.Second
	g := &Gate{Pause: pause}
	bg := Background(context.Background(), g)
	took := func(ctx context.Context) time.Duration {
		start := time.Now()
		Yield(ctx)
		return time.Since(start)
	}
	if Waits(bg) || took(bg) >= pause/2 {
		t.Errorf("no short request running: the scan waited")
	}
	leave := g.Enter()
	if Waits(context.Background()) || took(context.Background()) >= pause/2 {
		t.Errorf("a foreground context waited")
	}
	if !Waits(bg) {
		t.Errorf("a short request running: Waits is false")
	}
	if d := took(bg); d < pause {
		t.Errorf("a short request running: waited %v, want the pause (%v)", d, pause)
	}
	done := make(chan time.Duration)
	go func() { done <- took(bg) }()
	time.Sleep(10 * time.Millisecond)
	leave()
	leave() // a second call changes nothing
	if d := <-done; d >= pause {
		t.Errorf("the short request left: the scan still waited %v", d)
	}
	if Waits(bg) || took(bg) >= pause/2 {
		t.Errorf("after the short request left: the scan waited")
	}
	ctx, cancel := context.WithCancel(bg)
	leave = g.Enter()
	defer leave()
	cancel()
	if d := took(ctx); d >= pause {
		t.Errorf("a cancelled scan waited %v", d)
	}
}
