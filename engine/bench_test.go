package engine_test

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/query"
)

var (
	benchOnce  sync.Once
	benchStore *enginetest.Store
)

func benchData(b *testing.B) *enginetest.Store {
	benchOnce.Do(func() { benchStore = enginetest.Generate(1_000_000, 0, 1) })
	return benchStore
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkScan runs full scans with text predicates over 1,000,000
// generated rows, statistics included, and reports rows per second of
// wall time and of CPU time (user + system, all goroutines).
func BenchmarkScan(b *testing.B) {
	s := benchData(b)
	textBytes := len(s.Column("text").Str.Data)
	for _, tt := range []struct{ name, q string }{
		{"contains=aunty", `all where text contains 'aunty'`},
		{"contains=desi", `all where text contains 'desi'`},
		{"contains=none", `all where text contains 'zzzz'`},
		{"word=desi", `all where text has word 'desi'`},
		{"lexicon=essay2021", `all where any lexicon essay2021`},
		{"nsfw=UNSURE", `all where nsfw = 'UNSURE'`},
		{"all", `all`},
	} {
		q := query.MustParse(tt.q)
		b.Run(fmt.Sprintf("rows=%d/%s", s.NumRows(), tt.name), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(textBytes))
			var sel int
			cpu0, wall0 := cpuTime(), time.Now()
			for b.Loop() {
				res, err := engine.Run(context.Background(), s, q, nil)
				if err != nil {
					b.Fatal(err)
				}
				sel = res.Selected
			}
			cpu, wall := cpuTime()-cpu0, time.Since(wall0)
			rows := float64(s.NumRows()) * float64(b.N)
			b.ReportMetric(rows/cpu.Seconds(), "rows/cpu-s")
			b.ReportMetric(rows/wall.Seconds(), "rows/s")
			b.ReportMetric(float64(sel), "selected")
		})
	}
}

// BenchmarkKNNFiltered is knn with a predicate keeping about 1% of rows.
func BenchmarkKNNFiltered(b *testing.B) {
	s := enginetest.Generate(100_000, 64, 3)
	q := query.MustParse(`knn(row(1), 10) where text contains 'ǅemal' and width < 300`)
	b.Run("rows=100000", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := engine.Run(context.Background(), s, q, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
