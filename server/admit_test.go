package server

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/laiondb/laiondb/internal/lane"
)

// TestAdmit: scans take one of the scan slots and wait, within their
// context, while the slots are taken; short requests never wait; a scan
// runs in the background lane, where it gives way to the short requests
// running.
func TestAdmit(t *testing.T) {
	s := &Server{scans: make(chan struct{}, 1)}
	ctx := context.Background()
	scanCtx, doneScan, err := s.admit(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, _, err := s.admit(short, true); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second scan with the only slot taken: %v, want its deadline", err)
	}
	_, doneShort, err := s.admit(ctx, false)
	if err != nil {
		t.Fatalf("a short request with the slot taken: %v", err)
	}
	if !lane.Waits(scanCtx) {
		t.Error("the scan does not give way to a short request running")
	}
	doneShort()
	if lane.Waits(scanCtx) {
		t.Error("the scan gives way with no short request running")
	}
	doneScan()
	if _, done, err := s.admit(ctx, true); err != nil {
		t.Fatalf("a scan once the slot is free: %v", err)
	} else {
		done()
	}
}
