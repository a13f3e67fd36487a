package audit_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/laiondb/laiondb/audit"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/query"
)

// shard answers queries as one shard of a dataset.
type shard struct{ s *enginetest.Store }

func (q shard) QueryPartial(ctx context.Context, text string, opts *engine.Options, k, m int) (*engine.Partial, error) {
	pq, err := query.Parse(text)
	if err != nil {
		return nil, err
	}
	p, err := engine.NewPlan(pq, q.s, opts)
	if err != nil {
		return nil, err
	}
	return p.RunPartial(ctx, q.s, k, m)
}

func (q shard) Columns() []string { return (&store{s: q.s}).Columns() }

// TestShardedAudit: each of three shards writes the audit's partial
// results into one folder; the audit over their merge reports what the
// audit of the store of all the rows reports (apart from the fingerprint
// and the search methods), and a missing shard is an error naming it.
func TestShardedAudit(t *testing.T) {
	terms := []string{"beautiful", "desi", "aunty"}
	whole := newStore(t, terms)
	now := func() time.Time { return time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC) }
	opts := &audit.Options{Terms: terms, K: 50, Rows: 3, Now: now}
	ctx := context.Background()
	want, err := audit.Run(ctx, &store{s: whole}, opts)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cuts := []int{0, 1000, 2700, 4000}
	for k := 1; k <= 3; k++ {
		w := &audit.ShardWriter{Store: shard{whole.Rows(cuts[k-1], cuts[k])}, Dir: dir, Shard: k, Shards: 3}
		if _, err := audit.Run(ctx, w, opts); err != nil {
			t.Fatalf("shard %d: %v", k, err)
		}
	}
	got, err := audit.Run(ctx, &audit.ShardMerger{Dir: dir, Shards: 3}, opts)
	if err != nil {
		t.Fatal(err)
	}
	norm := func(r *audit.Report) string {
		r.Fingerprint = ""
		for i := range r.Terms {
			for j := range r.Terms[i].Views {
				r.Terms[i].Views[j].Method = ""
			}
		}
		b, _ := json.MarshalIndent(r, "", " ")
		return string(b)
	}
	if g, w := norm(got), norm(want); g != w {
		t.Errorf("the merged audit differs from the store's:\n%s\nwant\n%s", g, w)
	}
	_, err = audit.Run(ctx, &audit.ShardMerger{Dir: dir, Shards: 4}, opts)
	if err == nil || !strings.Contains(err.Error(), "shard 1 of 4") {
		t.Errorf("4 shards where 3 wrote: %v", err)
	}
}
