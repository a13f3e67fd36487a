//go:build diagfilter

package hnsw

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/laiondb/laiondb/vector"
)

// TestDiagFilter times filtered searches of a store's HNSW alone, by each
// traversal, against exact answers: the figures of BENCHMARKS.md, "Filtered
// k-NN two links away", search-alone table. 1,000 queries, each the
// embedding of a store row left out of its own search; allow-lists of
// DIAG_SHARE of the rows at random; for each ef of DIAG_EFS, each traversal
// of DIAG_HOPS (0 auto, 1 every neighbour, 2 two hops) in turn, three
// rounds. It prints p50, rows scored and recall@10 (DIAG_NORECALL=1 skips
// the exact answers). Run with:
//
//	go test -c -tags diagfilter -o /tmp/hnsw.diag ./hnsw && cd hnsw &&
//	DIAG_STORE=/tmp/cl1m/store DIAG_SHARE=0.1 DIAG_EFS="128 192" DIAG_HOPS="1 2" /tmp/hnsw.diag -test.run DiagFilter -test.v
func TestDiagFilter(t *testing.T) {
	dir := os.Getenv("DIAG_STORE")
	f, err := os.Open(dir + "/vectors/img.f16")
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	b, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	const dim = 512
	h := unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), len(b)/2)
	m := vector.Matrix{Dim: dim, F16: h}
	ix, err := OpenWith(dir+"/vectors/img.hnsw", m, &OpenOptions{HugePages: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	n := ix.Len()
	share, _ := strconv.ParseFloat(os.Getenv("DIAG_SHARE"), 64)
	rng := rand.New(rand.NewPCG(1, 2))
	allow := vector.NewBitset(n)
	for r := range n {
		if rng.Float64() < share {
			allow.Set(uint32(r))
		}
	}
	const nq = 1000
	qs := make([][]float32, nq)
	gt := make([][]uint32, nq)
	for i := range qs {
		qs[i] = m.Row((i*7919)%n, nil)
		vector.Normalize(qs[i])
		if os.Getenv("DIAG_NORECALL") != "" {
			continue
		}
		hits, _, _ := vector.Exact(context.Background(), m, qs[i], 11, allow)
		for _, h := range hits {
			if int(h.ID) != (i*7919)%n && len(gt[i]) < 10 {
				gt[i] = append(gt[i], h.ID)
			}
		}
	}
	var hops []int
	for _, f := range strings.Fields(os.Getenv("DIAG_HOPS")) {
		h, _ := strconv.Atoi(f)
		hops = append(hops, h)
	}
	var efs []int
	for _, f := range strings.Fields(os.Getenv("DIAG_EFS")) {
		h, _ := strconv.Atoi(f)
		efs = append(efs, h)
	}
	for round := 0; round < 3; round++ {
		for _, ef := range efs {
			for _, ahead := range hops {
				so := &SearchOptions{Traverse: Traverse(ahead), Ef: ef, Seeds: DefaultSeeds, Planned: true, Allow: allow}
				for i := range qs[:200] {
					ix.Search(context.Background(), qs[i], 10, so)
				}
				lat := make([]time.Duration, nq)
				found, scored := 0, 0
				for i := range qs {
					t0 := time.Now()
					so.skip, so.hasSkip = uint32((i*7919)%n), true
					r, err := ix.Search(context.Background(), qs[i], 10, so)
					lat[i] = time.Since(t0)
					if err != nil {
						t.Fatal(err)
					}
					scored += r.Scored
					for _, h := range r.Hits {
						if slices.Contains(gt[i], h.ID) {
							found++
						}
					}
				}
				slices.Sort(lat)
				fmt.Printf("share %.2f ef %d ahead %d: p50 %.3f ms, mean scored %d, recall %.4f\n", share, ef, ahead, float64(lat[nq/2].Microseconds())/1000, scored/nq, float64(found)/float64(10*nq))
			}
		}
	}
}
