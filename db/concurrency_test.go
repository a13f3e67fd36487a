package db

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/laiondb/laiondb/demodata"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/table"
)

// TestConcurrentReadsDuringIngest runs queries, searches and snapshot scans
// from many goroutines while an ingest of several files runs. Readers must
// only ever see whole files: every row count is the sum of the rows of the
// files committed so far, a snapshot's scan delivers exactly its NumRows
// rows, and what a reader sees never goes backwards. Run it with -race.
func TestConcurrentReadsDuringIngest(t *testing.T) {
	tmp := t.TempDir()
	// Files of different sizes, so that each committed prefix has its own
	// row count.
	sizes := []int{200, 300, 400, 500, 600}
	var srcs []Source
	committed := map[int]bool{0: true}
	total := 0
	for i, n := range sizes {
		emb, err := demodata.EmbeddingFolder(filepath.Join(tmp, fmt.Sprintf("emb%d", i)), demodata.Config{Seed: uint64(40 + i), Parts: 1, Rows: n, Dim: 16})
		if err != nil {
			t.Fatal(err)
		}
		s, err := ExpandPaths([]string{emb.Dir})
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, s...)
		total += n
		committed[total] = true
	}
	d := openTest(t, filepath.Join(tmp, "store"))
	if _, err := d.Ingest(context.Background(), srcs[:1], nil); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	var done atomic.Bool
	var reads, changes atomic.Int64
	errc := make(chan error, 64)
	fail := func(format string, a ...any) {
		select {
		case errc <- fmt.Errorf(format, a...):
		default:
		}
	}
	q := make([]float32, 16)
	for i := range q {
		q[i] = float32(1 / math.Sqrt(16))
	}
	var wg sync.WaitGroup
	reader := func(id int) {
		defer wg.Done()
		last := 0
		seen := func(n int, what string) {
			if !committed[n] {
				fail("reader %d: %s saw %d rows, not a sum of whole files", id, what, n)
			}
			if n < last {
				fail("reader %d: %s saw %d rows after %d", id, what, n, last)
			}
			if n != last {
				changes.Add(1)
			}
			last = n
		}
		for i := 0; !done.Load() || i < 2; i++ {
			reads.Add(1)
			if raceEnabled {
				time.Sleep(2 * time.Millisecond) // leave the ingest some of the two cores
			}
			switch (id + i) % 3 {
			case 0: // a snapshot scans exactly its rows, however long it lives
				s, err := d.Snapshot()
				if err != nil {
					fail("snapshot: %v", err)
					return
				}
				n := s.NumRows()
				seen(n, "snapshot")
				var mu sync.Mutex
				rows, nulls := 0, 0
				err = s.Scan(ctx, []string{"key", "text"}, func(b *table.Batch) error {
					mu.Lock()
					defer mu.Unlock()
					rows += b.Len
					for j := 0; j < b.Len; j++ {
						if b.Cols["key"].IsNull(j) {
							nulls++
						}
					}
					return nil
				})
				if err != nil {
					fail("scan: %v", err)
				}
				if rows != n || nulls != 0 {
					fail("reader %d: snapshot of %d rows scanned %d (%d without key)", id, n, rows, nulls)
				}
				if n > 0 {
					if file, row := s.Source(uint32(n - 1)); file == "" || row < 0 {
						fail("source of row %d: %q %d", n-1, file, row)
					}
				}
			case 1: // a query counts over one consistent snapshot
				r, err := d.Query(ctx, "all where text contains 'desi' or nsfw = 'NSFW'", nil)
				if err != nil {
					fail("query: %v", err)
					continue
				}
				seen(r.TotalRows, "query")
				if r.Selected > r.TotalRows || r.RowsScanned > r.TotalRows {
					fail("query selected %d, scanned %d of %d rows", r.Selected, r.RowsScanned, r.TotalRows)
				}
			case 2: // a search sees only committed vectors
				s, err := d.Snapshot()
				if err != nil {
					fail("snapshot: %v", err)
					return
				}
				n := s.NumRows()
				seen(n, "search snapshot")
				res, err := s.Search(ctx, engine.SearchRequest{Vec: q, K: 20, Exact: true})
				if err != nil {
					fail("search: %v", err)
					continue
				}
				if len(res.Hits) != 20 {
					fail("search returned %d hits", len(res.Hits))
				}
				for _, h := range res.Hits {
					if int(h.Row) >= n || h.Score != h.Score || h.Score > 1.01 {
						fail("search over %d rows returned row %d score %v", n, h.Row, h.Score)
					}
				}
				if _, err := d.Search(ctx, engine.SearchRequest{Vec: q, K: 5}); err != nil {
					fail("search through the index: %v", err)
				}
			}
		}
	}
	const readers = 6
	for i := 0; i < readers; i++ {
		wg.Add(1)
		go reader(i)
	}
	res, err := d.Ingest(ctx, srcs[1:], nil)
	done.Store(true)
	wg.Wait()
	close(errc)
	for e := range errc {
		t.Error(e)
	}
	if err != nil || len(res) != len(srcs)-1 {
		t.Fatalf("ingest: %v %+v", err, res)
	}
	in, _ := d.Info()
	if in.Rows != int64(total) {
		t.Fatalf("rows = %d, want %d", in.Rows, total)
	}
	if r, err := d.Check(ctx); err != nil || !r.OK() {
		t.Fatalf("check: %v %v", err, r.Problems)
	}
	t.Logf("%d reads by %d readers saw %d changes of the row count", reads.Load(), readers, changes.Load())
}
