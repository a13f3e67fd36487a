package db

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/query"
)

// BenchmarkTextQuery times text queries on the store named by
// $LAIONDB_TRI_STORE (one with a trigram index: laiondb index --text
// text,url) through the index and by a scan of the same store, in the
// process (no start-up or open): scripts/textindex-bench.sh runs it.
// The queries are $LAIONDB_TRI_QUERIES, one a line, or the defaults.
// cpu-ms/op is the process's CPU time (user and system) per query: the
// scan runs on every core, the index's verification on one.
func BenchmarkTextQuery(b *testing.B) {
	dir := os.Getenv("LAIONDB_TRI_STORE")
	if dir == "" {
		b.Skip("set LAIONDB_TRI_STORE to a store with a trigram index")
	}
	d, err := Open(dir, &Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	v, err := d.view()
	if err != nil {
		b.Fatal(err)
	}
	qs := []string{"all where text contains 'desi'", "all where text contains 'aunty'", "all where text contains 'istanbul'", "all where any lexicon essay2021"}
	if env := os.Getenv("LAIONDB_TRI_QUERIES"); env != "" {
		qs = strings.Split(strings.TrimSpace(env), "\n")
	}
	for _, qs := range qs {
		q, err := query.Parse(qs)
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range []struct {
			name string
			s    engine.Store
		}{{"index", v}, {"scan", scanOnly{v}}} {
			b.Run(fmt.Sprintf("q=%s/via=%s", qs, s.name), func(b *testing.B) {
				var res *engine.Result
				cpu0 := cpuTime()
				for b.Loop() {
					if res, err = engine.Run(context.Background(), s.s, q, nil); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
				b.ReportMetric(float64(res.Selected), "rows")
				b.ReportMetric(float64(res.RowsScanned), "evaluated")
			})
		}
	}
}
