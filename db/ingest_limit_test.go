package db

import (
	"errors"
	"strings"
	"testing"
)

// TestRowLimit: a source that would take a store past MaxRows rows (row
// numbers are 32 bits) is refused as bad input naming the file; one that
// fills the store exactly is not.
func TestRowLimit(t *testing.T) {
	if err := checkRowLimit(MaxRows-10, 10, "a.parquet"); err != nil {
		t.Fatalf("exactly MaxRows: %v", err)
	}
	if err := checkRowLimit(0, 5_850_000_000, "laion5b.parquet"); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "laion5b.parquet") {
		t.Fatalf("5.85B rows: %v", err)
	}
	if err := checkRowLimit(MaxRows-10, 11, "b.parquet"); !errors.Is(err, ErrBadInput) {
		t.Fatalf("one row past MaxRows: %v", err)
	}
}
