package db

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"unsafe"

	"github.com/laiondb/laiondb/demodata"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/internal/hugemem"
)

// TestHugePageVectors: Options.HugePages copies the vectors into huge
// pages where the kernel offers them; exact searches read the copy and
// answer bit for bit as the file mapping does, and rows a later ingest
// commits are read from the file. Without the option, or below
// minHugeVectors, nothing is copied.
func TestHugePageVectors(t *testing.T) {
	defer func(old int64) { minHugeVectors = old }(minHugeVectors)
	ctx := context.Background()
	tmp := t.TempDir()
	emb, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 7, Parts: 2, Rows: 300, Dim: 64, NoText: true})
	if err != nil {
		t.Fatal(err)
	}
	srcs, err := ExpandPaths([]string{emb.Dir})
	if err != nil {
		t.Fatal(err)
	}
	var all []float32
	for _, p := range emb.Image {
		all = append(all, p...)
	}
	dir := filepath.Join(tmp, "store")
	d, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Ingest(ctx, srcs[:1], &IngestOptions{NoIndex: true}); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	search := func(d *DB, rows int) {
		t.Helper()
		for _, r := range []int{0, 17, rows - 1} {
			q := all[r*64 : (r+1)*64]
			res, err := d.Search(ctx, engine.SearchRequest{Vec: q, K: 10, Image: true, Exact: true})
			if err != nil {
				t.Fatal(err)
			}
			want := bruteKNN(all[:rows*64], 64, q, 10, nil)
			if !slices.EqualFunc(res.Hits, want, func(a, b engine.Hit) bool { return a.Row == b.Row }) {
				t.Fatalf("row %d of %d: %v, brute force %v", r, rows, res.Hits, want)
			}
		}
	}
	open := func(min int64, huge bool) *DB {
		t.Helper()
		minHugeVectors = min
		d, err := Open(dir, &Options{HugePages: huge})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, c := range []struct {
		min  int64
		huge bool
	}{{0, false}, {1 << 40, true}} {
		d := open(c.min, c.huge)
		if d.img.huge != nil {
			t.Fatalf("min %d, HugePages %v: copied", c.min, c.huge)
		}
		search(d, 300)
		d.Close()
	}
	d = open(0, true)
	defer d.Close()
	if hugemem.On() != (d.img.huge != nil) {
		t.Fatalf("transparent huge pages %v, copy made %v", hugemem.On(), d.img.huge != nil)
	}
	if d.img.huge != nil {
		if d.img.hugeRows != 300 || !slices.Equal(d.img.huge, d.img.cur[:300*64*2]) {
			t.Fatalf("copied %d rows, or not the file's bytes", d.img.hugeRows)
		}
		if m := d.img.matrix(300); unsafe.Pointer(&m.F16[0]) != unsafe.Pointer(&d.img.huge[0]) {
			t.Fatal("the matrix does not read the copy")
		}
	}
	search(d, 300)
	if _, err := d.Ingest(ctx, srcs[1:], &IngestOptions{NoIndex: true}); err != nil {
		t.Fatal(err)
	}
	search(d, 600)
}
