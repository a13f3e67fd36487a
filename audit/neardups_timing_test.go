package audit_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/laiondb/laiondb/audit"
	"github.com/laiondb/laiondb/db"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/query"
)

// BenchmarkNearDuplicates times NearDuplicates on the store in
// $LAIONDB_NEARDUPS_STORE, a demo store with planted near-duplicates
// (BENCHMARKS.md, "Near-duplicates", builds it): the exact method on about
// 12,500, 50,000 and 100,000 rows chosen by their width, and the index
// method on every row at ef 64. The store is opened once, outside the
// timing; each iteration is one call.
func BenchmarkNearDuplicates(b *testing.B) {
	dir := os.Getenv("LAIONDB_NEARDUPS_STORE")
	if dir == "" {
		b.Skip("set LAIONDB_NEARDUPS_STORE to a store made by laiondb demo --near-dups")
	}
	ctx := context.Background()
	d, err := db.Open(dir, &db.Options{ReadOnly: true, ExactUpTo: -1, EfSearch: 64})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	s, err := d.Snapshot()
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, o *audit.NearOptions) {
		var r *audit.NearReport
		for b.Loop() {
			if r, err = audit.NearDuplicates(ctx, s, o); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(r.Rows), "rows")
		b.ReportMetric(float64(r.Duplicates), "duplicates")
		if r.Index != nil && r.Index.Recall != nil {
			b.ReportMetric(r.Index.Recall.Pairs.Share, "pair-recall")
			b.ReportMetric(r.Index.Recall.Pairs.Lo, "pair-recall-lo")
		}
	}
	// The demo's widths are uniform in [200, 1000): width < 210 keeps
	// 1.25% of the rows, < 240 5%, < 280 10%.
	for _, w := range []int{210, 240, 280} {
		pred := fmt.Sprintf("all where pair_cos is not null and width < %d", w)
		q, err := query.Parse(pred)
		if err != nil {
			b.Fatal(err)
		}
		res, err := engine.Run(ctx, s, q, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("method=exact/width<%d", w), func(b *testing.B) {
			run(b, &audit.NearOptions{Method: audit.NearExact, Selection: res.Selection})
		})
	}
	b.Run("method=index/ef=64/rows=all", func(b *testing.B) {
		run(b, &audit.NearOptions{Method: audit.NearIndex})
	})
}
