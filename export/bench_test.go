package export_test

import (
	"context"
	"io"
	"testing"

	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/export"
)

// BenchmarkWrite exports every row of a 100,000-row in-memory store in each
// format, to io.Discard: the encoders' cost without the store's reads
// (scripts/export-bench.sh measures whole exports from a store on disk).
func BenchmarkWrite(b *testing.B) {
	s := enginetest.Generate(100_000, 0, 1)
	res := run(b, s, "all")
	for _, f := range allFormats {
		b.Run("format="+string(f), func(b *testing.B) {
			b.ReportAllocs()
			var bytes int64
			for b.Loop() {
				sum, err := export.Write(context.Background(), s, res, io.Discard, &export.Options{Format: f})
				if err != nil {
					b.Fatal(err)
				}
				bytes = sum.Bytes
			}
			b.ReportMetric(float64(res.Selected)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(bytes), "bytes/export")
		})
	}
}
