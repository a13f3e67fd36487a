package db

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/laiondb/laiondb/demodata"
)

// TestColumnCache: answers are the same with decoded blocks kept, with a
// budget so small that blocks are dropped during every scan, and with
// none kept; the cache never holds more than its budget.
func TestColumnCache(t *testing.T) {
	tmp := t.TempDir()
	if _, _, err := demodata.LAION400M(filepath.Join(tmp, "parts"), demodata.Config{Seed: 3, Parts: 3, Rows: 1500}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "store")
	ingestPaths(t, openTest(t, dir), filepath.Join(tmp, "parts"))
	queries := []string{
		"all where width < 500",
		"all where nsfw = 'UNLIKELY' and similarity >= 0.3",
		"all where text contains 'desi' or height > 900",
		"all where license != '?' by nsfw",
	}
	answers := func(o *Options) (out []string, d *DB) {
		o.ReadOnly = true
		d, err := Open(dir, o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		for range 2 { // the second pass reads what the first kept
			for _, q := range queries {
				res, err := d.Query(context.Background(), q, nil)
				if err != nil {
					t.Fatalf("%s: %v", q, err)
				}
				res.Plan = ""
				j, err := json.Marshal(res)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, string(j))
			}
		}
		return out, d
	}
	want, none := answers(&Options{ColumnCacheBytes: -1})
	if none.cols != nil {
		t.Fatal("a negative budget keeps a cache")
	}
	for _, budget := range []int64{0, 200_000} {
		got, d := answers(&Options{ColumnCacheBytes: budget})
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("budget %d, query %q (pass %d): %s\nwithout the cache: %s", budget, queries[i%len(queries)], i/len(queries)+1, got[i], want[i])
			}
		}
		used, blocks := d.cols.c.Usage()
		if used > d.cols.c.Max() || blocks == 0 {
			t.Fatalf("budget %d: %d bytes used of %d in %d blocks", budget, used, d.cols.c.Max(), blocks)
		}
		t.Logf("budget %d: %d blocks, %d bytes", d.cols.c.Max(), blocks, used)
	}
}
