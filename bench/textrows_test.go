package bench

import (
	"context"
	"testing"
)

// TestTextScanAgrees checks that the Go baseline and laiondb's query engine
// count the same rows by NSFW label on generated rows.
func TestTextScanAgrees(t *testing.T) {
	rows := GenerateTextRows(20000, 1)
	base := CountDesiByNSFW(rows, "desi")
	got, err := QueryDesiByNSFW(context.Background(), TextStore(rows), "desi")
	if err != nil {
		t.Fatal(err)
	}
	if FormatCounts(base) != FormatCounts(got) {
		t.Errorf("baseline %s\nquery    %s", FormatCounts(base), FormatCounts(got))
	}
	total := 0
	for _, c := range base {
		total += c
	}
	if total < 300 || total > 1000 {
		t.Errorf("%d of 20000 rows contain 'desi', want ~3%%", total)
	}
}

func BenchmarkTextScan(b *testing.B) {
	rows := GenerateTextRows(100000, 1)
	b.Run("system=go-baseline", func(b *testing.B) {
		for b.Loop() {
			CountDesiByNSFW(rows, "desi")
		}
	})
	s := TextStore(rows)
	b.Run("system=laiondb-query", func(b *testing.B) {
		for b.Loop() {
			if _, err := QueryDesiByNSFW(context.Background(), s, "desi"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
