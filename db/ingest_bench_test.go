package db

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/laiondb/laiondb/demodata"
)

// BenchmarkIngest measures ingest throughput: metadata rows per second for
// LAION-400M parquet parts, and vectors per second for an embedding folder
// of 512-d float16 vectors (metadata included), each into a fresh store.
// The index build is measured by hnsw's and bench's benchmarks.
func BenchmarkIngest(b *testing.B) {
	const rows = 100_000
	tmp := b.TempDir()
	meta, _, err := demodata.LAION400M(filepath.Join(tmp, "meta"), demodata.Config{Seed: 1, Parts: 2, Rows: rows / 2})
	if err != nil {
		b.Fatal(err)
	}
	emb, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 1, Parts: 2, Rows: rows / 2, Dim: 512, NoText: true})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		paths []string
		unit  string
	}{{"kind=metadata", meta, "rows/s"}, {"kind=embeddings-512d-f16", []string{emb.Dir}, "vectors/s"}} {
		b.Run(c.name, func(b *testing.B) {
			srcs, err := ExpandPaths(c.paths)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				dir, err := os.MkdirTemp(tmp, "store-")
				if err != nil {
					b.Fatal(err)
				}
				d, err := Open(dir, nil)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := d.Ingest(context.Background(), srcs, &IngestOptions{NoIndex: true}); err != nil {
					b.Fatal(err)
				}
				d.Close()
				os.RemoveAll(dir)
			}
			b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), c.unit)
		})
	}
}
