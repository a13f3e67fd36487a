package db

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/laiondb/laiondb/engine"
)

// BenchmarkFilteredKNN runs filtered k-NN queries through the query
// language on the indexed store in $LAIONDB_FILTER_STORE, as a server
// would: the store opened once with the index allowed (ExactUpTo -1) and
// its graph in huge pages (HugePages; LAIONDB_FILTER_HUGE=0 turns them off),
// knn(row(R), 10) where width < W for 1,000 rows R spread over the first
// $LAIONDB_FILTER_ROWS rows (default 1,000,000; they must have image
// embeddings), W chosen so that about 1%, 10% and 50% of the rows pass
// (widths uniform in [200, 1000), as laiondb demo writes them). It
// reports the median and 99th percentile latency, the share of queries
// the graph answered, and recall@10 against the exact answers (computed
// after the timing). Each share runs three ways: path=planner (the
// store's choice), path=exact (Options.Exact: the scan of the allowed
// rows) and path=graph (Options.Index: the graph at the ef calibrated for
// that share). Run it with -cpu 1 for the one-thread figures and
// -benchtime 1000x for one pass over the queries;
// scripts/filtered-vs-faiss.sh alternates it with FAISS on the same rows.
func BenchmarkFilteredKNN(b *testing.B) {
	dir := os.Getenv("LAIONDB_FILTER_STORE")
	if dir == "" {
		b.Skip("set LAIONDB_FILTER_STORE to an indexed store made by laiondb demo")
	}
	rows := 1_000_000
	if s := os.Getenv("LAIONDB_FILTER_ROWS"); s != "" {
		var err error
		if rows, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	huge := os.Getenv("LAIONDB_FILTER_HUGE") != "0"
	d, err := Open(dir, &Options{ReadOnly: true, ExactUpTo: -1, HugePages: huge})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	const nq = 1000
	for _, f := range []struct {
		name  string
		width int
	}{{"1pct", 208}, {"10pct", 280}, {"50pct", 600}} {
		queries := make([]string, nq)
		for i := range queries {
			queries[i] = fmt.Sprintf("knn(row(%d), 10) where width < %d", (i*7919)%rows, f.width)
		}
		for _, path := range []struct {
			name string
			opt  *engine.Options
		}{{"planner", nil}, {"exact", &engine.Options{Exact: true}}, {"graph", &engine.Options{Index: true}}} {
			b.Run("allowed="+f.name+"/path="+path.name, func(b *testing.B) {
				var lat []time.Duration
				graph := 0
				got := map[int][]uint32{}
				i := 0
				for b.Loop() {
					t := time.Now()
					res, err := d.Query(ctx, queries[i%nq], path.opt)
					if err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t))
					if !res.Search.Exact {
						graph++
					}
					if _, ok := got[i%nq]; !ok {
						got[i%nq] = hitRows(res)
					}
					i++
				}
				b.StopTimer()
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
				b.ReportMetric(float64(graph)/float64(len(lat)), "graph-share")
				if path.name == "exact" {
					return // the reference itself
				}
				found, want := 0, 0
				for j, g := range got {
					ex, err := d.Query(ctx, queries[j], &engine.Options{Exact: true})
					if err != nil {
						b.Fatal(err)
					}
					for _, r := range hitRows(ex) {
						want++
						if slices.Contains(g, r) {
							found++
						}
					}
				}
				b.ReportMetric(float64(found)/float64(max(want, 1)), "recall@10")
			})
		}
	}
}
