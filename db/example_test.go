package db_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/laiondb/laiondb/db"
	"github.com/laiondb/laiondb/demodata"
)

// Ingest a clip-retrieval embedding folder and count rows by NSFW label.
func ExampleDB_Query() {
	tmp, _ := os.MkdirTemp("", "laiondb-example-")
	defer os.RemoveAll(tmp)
	if _, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 1, Parts: 1, Rows: 1000, Dim: 32}); err != nil {
		log.Fatal(err)
	}

	d, err := db.Open(filepath.Join(tmp, "store"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	srcs, err := db.ExpandPaths([]string{filepath.Join(tmp, "emb")})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if _, err := d.Ingest(ctx, srcs, nil); err != nil {
		log.Fatal(err)
	}

	res, err := d.Query(ctx, "all where text contains 'desi'", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d of %d rows contain 'desi' (exact: %v)\n", res.Selected, res.TotalRows, res.Exact)
	for _, v := range res.NSFW.Values {
		fmt.Printf("  %-8s %d\n", v.Value, v.Count)
	}

	// The 5 nearest rows to row 0's image embedding, among UNLIKELY rows.
	res, err = d.Query(ctx, "knn(row(0), 5) where nsfw = 'UNLIKELY'", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("knn returned", res.Search.Returned, "rows; exact:", res.Search.Exact)
	// Output:
	// 290 of 1000 rows contain 'desi' (exact: true)
	//   UNLIKELY 196
	//   UNSURE   56
	//   NSFW     38
	// knn returned 5 rows; exact: true
}

// The README's "From Go" snippet, as written there, on LAION-400M-style
// parquet parts.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "laiondb-example-")
	defer os.RemoveAll(dir)
	if _, _, err := demodata.LAION400M(filepath.Join(dir, "laion400m-meta"), demodata.Config{Seed: 1, Parts: 2, Rows: 500}); err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	d, err := db.Open(filepath.Join(dir, "audit.db"), nil) // nil options: read-write, silent
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	srcs, err := db.ExpandPaths([]string{filepath.Join(dir, "laion400m-meta")})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := d.Ingest(ctx, srcs, nil); err != nil {
		log.Fatal(err)
	}
	res, err := d.Query(ctx, "all where text contains 'desi'", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Selected, "rows;", res.NSFW.Count("UNLIKELY"), "UNLIKELY") // NSFW may be nil: All and Count handle it
	for _, v := range res.NSFW.All() {
		fmt.Printf("%q null=%v %d\n", v.Value, v.Null, v.Count)
	}
	// Output:
	// 210 rows; 136 UNLIKELY
	// "UNLIKELY" null=false 136
	// "UNSURE" null=false 46
	// "NSFW" null=false 24
	// "None" null=false 3
	// "" null=true 1
}
