//go:build qps

package hnsw

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/laiondb/laiondb/internal/npy"
	"github.com/laiondb/laiondb/vector"
)

// TestQPSOnIndex searches a saved laiondb-bench run's laiondb-hnsw index
// with its 1,000 image and 1,000 text queries, one at a time, and prints
// recall@10 and QPS at a few ef: the one-process A/B of BENCHMARKS.md
// ("The integer kernel and the huge pages, each alone"). Run it in turn
// from two binaries, or with LAIONDB_QPS_HUGE=1 and 0:
//
//	LAIONDB_QPS_RUN=bench/out/run1000000-synth LAIONDB_QPS_DATA=data-synth-n1000000-d512-q1000-s1-f16 \
//	  go test -tags qps -run TestQPSOnIndex -count 1 -v ./hnsw
func TestQPSOnIndex(t *testing.T) {
	dir, data := os.Getenv("LAIONDB_QPS_RUN"), os.Getenv("LAIONDB_QPS_DATA")
	if dir == "" || data == "" {
		t.Skip("LAIONDB_QPS_RUN and LAIONDB_QPS_DATA not set")
	}
	path := dir + "/index/laiondb-hnsw-M_16_efC_200_seeds_16.idx"
	h, dim, err := npy.MmapFloat16(path + ".vec.npy")
	if err != nil {
		t.Fatal(err)
	}
	ix, err := OpenWith(path, vector.Matrix{Dim: dim, F16: h}, &OpenOptions{HugePages: os.Getenv("LAIONDB_QPS_HUGE") == "1"})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	for _, set := range []struct {
		kind string
		efs  []int
	}{{"image", []int{16, 32, 64}}, {"text", []int{128, 512}}} {
		q, err := npy.Read(dir + "/" + data + "/queries-" + set.kind + ".f32.npy")
		if err != nil {
			t.Fatal(err)
		}
		gt, err := npy.Read(dir + "/" + data + "/gt-" + set.kind + ".npy")
		if err != nil {
			t.Fatal(err)
		}
		for _, ef := range set.efs {
			so := &SearchOptions{Ef: ef, Seeds: DefaultSeeds, Planned: true}
			for i := 0; i < q.Rows; i++ { // warm-up
				ix.Search(context.Background(), q.F32[i*dim:(i+1)*dim], 10, so)
			}
			found := 0
			t0 := time.Now()
			for i := 0; i < q.Rows; i++ {
				r, err := ix.Search(context.Background(), q.F32[i*dim:(i+1)*dim], 10, so)
				if err != nil {
					t.Fatal(err)
				}
				for _, hit := range r.Hits {
					for c := 0; c < 10; c++ {
						if uint32(gt.I64[i*gt.Cols+c]) == hit.ID {
							found++
						}
					}
				}
			}
			fmt.Printf("%s ef %d: recall@10 %.4f, %.0f QPS\n", set.kind, ef, float64(found)/float64(10*q.Rows), float64(q.Rows)/time.Since(t0).Seconds())
		}
	}
}
