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
