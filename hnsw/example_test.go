package hnsw_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/laiondb/laiondb/hnsw"
	"github.com/laiondb/laiondb/vector"
)

func show(r hnsw.Result) {
	fmt.Printf("%s exact=%v:", r.Path, r.Exact)
	for _, h := range r.Hits {
		fmt.Printf(" row %d (%.2f)", h.ID, h.Score)
	}
	fmt.Println()
}

func Example() {
	ctx := context.Background()
	// Four 2-d unit vectors as float16, the layout of the store's vector file.
	f := []float32{1, 0, 0.6, 0.8, 0, 1, -1, 0}
	h := make([]uint16, len(f))
	vector.F32ToF16(h, f)
	m := vector.Matrix{Dim: 2, F16: h}

	ix, err := hnsw.New(2, &hnsw.Options{Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	if err := ix.Add(ctx, m, nil, nil); err != nil {
		log.Fatal(err)
	}
	q := []float32{0.8, 0.6}
	r, err := ix.Search(ctx, q, 2, nil)
	if err != nil {
		log.Fatal(err)
	}
	show(r)

	// Only rows 2 and 3 allowed.
	r, _ = ix.Search(ctx, q, 2, &hnsw.SearchOptions{Allow: vector.Ranges{{Lo: 2, Hi: 4}}})
	show(r)

	// Save, reopen over the same vectors.
	dir, _ := os.MkdirTemp("", "hnsw")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "img.hnsw")
	if err := ix.Write(path); err != nil {
		log.Fatal(err)
	}
	ox, err := hnsw.Open(path, m)
	if err != nil {
		log.Fatal(err)
	}
	defer ox.Close()
	fmt.Println(ox.Len(), hnsw.Verify(path))
	// Output:
	// exact exact=true: row 1 (0.96) row 0 (0.80)
	// exact exact=true: row 2 (0.60) row 3 (-0.80)
	// 4 <nil>
}
