package export_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/export"
	"github.com/laiondb/laiondb/query"
)

func ExampleWrite() {
	// A generated LAION-like store: 10,000 rows with 8-dimensional
	// embeddings; the text 'beautiful' resolves to a fixed vector.
	s := enginetest.Generate(10000, 8, 1)
	ctx := context.Background()
	res, err := engine.Run(ctx, s, query.MustParse(`knn('beautiful', 3) where nsfw = 'UNLIKELY'`), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	sum, err := export.Write(ctx, s, res, os.Stdout, &export.Options{Format: export.JSONL,
		Columns: []string{"rank", "score", "file", "file_row", "nsfw", "text"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sum.Rows, "rows,", sum.Order+", exact:", sum.Exact)
	// Output:
	// {"rank":1,"score":0.9383363,"file":"part-00006.parquet","file_row":74,"nsfw":"UNLIKELY","text":null}
	// {"rank":2,"score":0.9310447,"file":"part-00002.parquet","file_row":418,"nsfw":"UNLIKELY","text":"the Hot-dog adult unisex Desi porn the"}
	// {"rank":3,"score":0.90161717,"file":"part-00001.parquet","file_row":81,"nsfw":"UNLIKELY","text":"saree 東京 with desired"}
	// 3 rows, best first, exact: true
}

func ExampleWrite_parquet() {
	s := enginetest.Generate(10000, 8, 1)
	ctx := context.Background()
	res, err := engine.Run(ctx, s, query.MustParse(`all where text contains 'desi'`), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	path := filepath.Join(os.TempDir(), "laiondb-export-example.parquet")
	defer os.Remove(path)
	f, err := os.Create(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	sum, err := export.Write(ctx, s, res, f, nil) // nil options: parquet, every column
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d of %d rows, in %s\n", sum.Rows, res.TotalRows, sum.Order)
	for _, c := range sum.Columns {
		fmt.Printf("%-10s %-7s %d nulls\n", c.Name, c.Type, c.Nulls)
	}
	// Output:
	// 3364 of 10000 rows, in store order
	// row        int64   0 nulls
	// file       string  0 nulls
	// file_row   int64   0 nulls
	// sample_id  int64   0 nulls
	// url        string  0 nulls
	// text       string  0 nulls
	// nsfw       string  74 nulls
	// license    string  0 nulls
	// width      int64   0 nulls
	// similarity float64 22 nulls
}
