package db

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/laiondb/laiondb/demodata"
)

var (
	benchStoreOnce sync.Once
	benchStoreDir  string
	benchStoreErr  error
)

// benchStore builds (once per process) a store of 1,000,000 rows with
// 512-d float16 image embeddings, without an index (filtered searches as
// selective as these are answered by exact scans of the allowed rows).
func benchStore(b *testing.B) string {
	b.Helper()
	benchStoreOnce.Do(func() {
		if dir := os.Getenv("LAIONDB_BENCH_STORE"); dir != "" {
			// A store an earlier run built (it prints its path).
			benchStoreDir = dir
			return
		}
		dir, err := os.MkdirTemp("", "laiondb-bench-")
		if err != nil {
			benchStoreErr = err
			return
		}
		benchStoreDir = filepath.Join(dir, "store")
		cfg := demodata.Config{Seed: 1, Parts: 8, Rows: 125_000, Dim: 512, NoText: true}
		if _, err := demodata.EmbeddingFolder(filepath.Join(dir, "emb"), cfg); err != nil {
			benchStoreErr = err
			return
		}
		d, err := Open(benchStoreDir, nil)
		if err != nil {
			benchStoreErr = err
			return
		}
		defer d.Close()
		srcs, err := ExpandPaths([]string{filepath.Join(dir, "emb")})
		if err != nil {
			benchStoreErr = err
			return
		}
		_, benchStoreErr = d.Ingest(context.Background(), srcs, &IngestOptions{NoIndex: true})
		fmt.Fprintf(os.Stderr, "benchmark store: %s (reuse with LAIONDB_BENCH_STORE)\n", benchStoreDir)
	})
	if benchStoreErr != nil {
		b.Fatal(benchStoreErr)
	}
	return benchStoreDir
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkQuery runs audit queries over the 1M-row store and reports rows
// per wall second and per CPU-second (user+system of the whole process, so
// both cores count).
func BenchmarkQuery(b *testing.B) {
	dir := benchStore(b)
	d, err := Open(dir, &Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	for _, q := range []struct{ name, q string }{
		{"substring", "all where text contains 'desi'"},
		{"substring-count-only", "all where text contains 'zzzz'"},
		{"knn-1pct-filter", "knn(row(7), 100) where nsfw = 'None' or nsfw is null"},
		{"knn-unfiltered", "knn(row(7), 100)"},
	} {
		b.Run(fmt.Sprintf("q=%s/rows=1000000", q.name), func(b *testing.B) {
			cpu0 := cpuTime()
			for b.Loop() {
				if _, err := d.Query(context.Background(), q.q, nil); err != nil {
					b.Fatal(err)
				}
			}
			cpu := cpuTime() - cpu0
			b.ReportMetric(1e6*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(1e6*float64(b.N)/cpu.Seconds(), "rows/cpu-s")
		})
	}
}

// BenchmarkPairCos scans the pair_cos column of a 1,000,000-row store
// (16-d image and text embeddings; pair_cos is stored at ingest) with a
// predicate no row satisfies, so that the figure is the column's
// evaluation, and reports rows per CPU-second.
func BenchmarkPairCos(b *testing.B) {
	dir := b.TempDir()
	cfg := demodata.Config{Seed: 2, Parts: 4, Rows: 250_000, Dim: 16}
	if _, err := demodata.EmbeddingFolder(filepath.Join(dir, "emb"), cfg); err != nil {
		b.Fatal(err)
	}
	w, err := Open(filepath.Join(dir, "store"), nil)
	if err != nil {
		b.Fatal(err)
	}
	srcs, err := ExpandPaths([]string{filepath.Join(dir, "emb")})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := w.Ingest(context.Background(), srcs, &IngestOptions{NoIndex: true}); err != nil {
		b.Fatal(err)
	}
	w.Close()
	d, err := Open(filepath.Join(dir, "store"), &Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	b.Run("q=all-where-pair_cos-above-2/rows=1000000", func(b *testing.B) {
		cpu0 := cpuTime()
		for b.Loop() {
			res, err := d.Query(context.Background(), "all where pair_cos > 2", nil)
			if err != nil || res.Selected != 0 {
				b.Fatal(res, err)
			}
		}
		cpu := cpuTime() - cpu0
		b.ReportMetric(1e6*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		b.ReportMetric(1e6*float64(b.N)/cpu.Seconds(), "rows/cpu-s")
	})
}
