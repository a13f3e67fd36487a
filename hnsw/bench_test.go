package hnsw

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/laiondb/laiondb/vector"
)

// benchData is the 100k×512 CLIP-like set shared by the benchmarks.
var benchData = sync.OnceValue(func() (d struct {
	m     vector.Matrix
	qs    [][]float32
	truth [][]vector.Hit
}) {
	const n, nq, dim = 100_000, 1000, 512
	all := clipLike(n+nq, dim, 7)
	d.m = all.Slice(0, n)
	for i := 0; i < nq; i++ {
		q := all.Row(n+i, nil)
		t, _, _ := vector.Exact(context.Background(), d.m, q, 10, nil)
		d.qs = append(d.qs, q)
		d.truth = append(d.truth, t)
	}
	return d
})

var benchIndex = sync.OnceValues(func() (*Index, error) {
	d := benchData()
	ix, err := New(512, &Options{Seed: 1})
	if err != nil {
		return nil, err
	}
	return ix, ix.Add(context.Background(), d.m, nil, nil)
})

// TestDumpBenchData writes the benchmark set as raw little-endian float32
// files (base.f32, queries.f32, truth.u32) to $LAIONDB_HNSW_DUMP, for
// side-by-side runs with hnswlib.
func TestDumpBenchData(t *testing.T) {
	dir := os.Getenv("LAIONDB_HNSW_DUMP")
	if dir == "" {
		t.Skip("LAIONDB_HNSW_DUMP not set")
	}
	d := benchData()
	write := func(name string, data any) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := binary.Write(f, binary.LittleEndian, data); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	base := make([]float32, len(d.m.F16))
	vector.F16ToF32(base, d.m.F16)
	write("base.f32", base)
	write("queries.f32", slices.Concat(d.qs...))
	var tr []uint32
	for _, h := range d.truth {
		for _, x := range h {
			tr = append(tr, x.ID)
		}
	}
	write("truth.u32", tr)
}

func BenchmarkBuild(b *testing.B) {
	d := benchData()
	for _, n := range []int{20_000, 100_000} {
		for _, w := range []int{1, 2} {
			b.Run(fmt.Sprintf("n=%d/dim=512/workers=%d", n, w), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					ix, _ := New(512, &Options{Seed: 1, Workers: w})
					if err := ix.Add(context.Background(), d.m.Slice(0, n), nil, nil); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/vector")
			})
		}
	}
}

func BenchmarkSearch(b *testing.B) {
	d := benchData()
	ix, err := benchIndex()
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("graph bytes/vector: %.1f", float64(ix.graphBytes())/float64(ix.Len()))
	for _, ef := range []int{10, 16, 24, 32, 48, 64, 96, 128, 256} {
		b.Run(fmt.Sprintf("n=100000/dim=512/ef=%d", ef), func(b *testing.B) {
			b.ReportAllocs()
			got := make([][]vector.Hit, len(d.qs))
			lat := make([]time.Duration, 0, 1024)
			i := 0
			scored := 0
			for b.Loop() {
				t0 := time.Now()
				r, err := ix.Search(context.Background(), d.qs[i%len(d.qs)], 10, &SearchOptions{Ef: ef})
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
				got[i%len(d.qs)] = r.Hits
				scored += r.Scored
				i++
			}
			if i >= len(d.qs) {
				b.ReportMetric(recallAt(10, got, d.truth), "recall@10")
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
			b.ReportMetric(float64(scored)/float64(i), "scored/op")
		})
	}
}

// BenchmarkFilteredSearch measures the filtered graph search and the exact
// scan over the same allow-list at several selectivities, the costs that
// PlanExact trades off.
func BenchmarkFilteredSearch(b *testing.B) {
	d := benchData()
	ix, err := benchIndex()
	if err != nil {
		b.Fatal(err)
	}
	n := d.m.Len()
	for _, pct := range []float64{50, 10, 3, 1, 0.3} {
		allow := vector.NewBitset(n)
		step := int(math.Round(100 / pct))
		for i := 0; i < n; i += step {
			allow.Set(uint32((i * 7919) % n))
		}
		for _, exact := range []bool{false, true} {
			b.Run(fmt.Sprintf("n=100000/allowed=%g%%/exact=%v", pct, exact), func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				scored := 0
				fallback := 0
				for b.Loop() {
					q := d.qs[i%len(d.qs)]
					var r Result
					var err error
					if exact {
						r.Hits, r.Scored, err = vector.Exact(context.Background(), d.m, q, 10, allow)
					} else {
						r, err = ix.searchGraphForBench(q, 10, DefaultEfSearch, allow)
					}
					if err != nil {
						b.Fatal(err)
					}
					if r.Path == PathFallback {
						fallback++
					}
					scored += r.Scored
					i++
				}
				b.ReportMetric(float64(scored)/float64(i), "scored/op")
				b.ReportMetric(float64(fallback)/float64(i), "fallbacks/op")
			})
		}
	}
	_ = runtime.GOMAXPROCS(0)
}

func (ix *Index) searchGraphForBench(q []float32, k, ef int, allow vector.AllowList) (Result, error) {
	return ix.search(context.Background(), q, k, SearchOptions{Ef: ef, Allow: allow}, false)
}
