package engine_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/table"
)

// TestByGroups: "by" over a column of many distinct values gives the same
// exact counts whether its values stay in memory or are written to
// temporary files and counted a partition at a time (a budget of one
// byte writes them out after every batch), lists the most frequent
// Options.Groups of them (ties by value, null last) with the number of
// groups and the rows of those not listed, all checked against counts
// taken directly from the column; and the temporary files are gone after.
func TestByGroups(t *testing.T) {
	const n = 30000
	r := rand.New(rand.NewPCG(11, 12))
	keys := make([]string, n)
	null := make([]bool, n)
	for i := range keys {
		switch x := r.IntN(100); {
		case x < 5:
			null[i] = true
		case x < 50: // a few frequent values
			keys[i] = fmt.Sprintf("https://often.example/%d", r.IntN(40))
		case x < 60:
			keys[i] = fmt.Sprintf("ünï/%d", r.IntN(3000))
		default: // mostly distinct
			keys[i] = fmt.Sprintf("http://h%d.example/p?%d", r.IntN(500), r.Uint64())
		}
	}
	s := enginetest.Generate(n, 8, 3).AddStrings("key", keys, null)
	tmp := t.TempDir()
	for _, q := range []string{"all by key", "all where width < 500 by key", "knn(row(3), 2000) by key"} {
		for _, o := range []engine.Options{
			{},
			{Groups: 10, GroupBytes: 1, TempDir: tmp},
			{Groups: 7, GroupBytes: 64 << 10, TempDir: tmp},
			{Groups: n, GroupBytes: 1, TempDir: tmp},
		} {
			name := fmt.Sprintf("%s/groups=%d,bytes=%d", q, o.Groups, o.GroupBytes)
			res, err := engine.Run(context.Background(), s, query.MustParse(q), &o)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if len(res.By) != 1 {
				t.Fatalf("%s: %d by results", name, len(res.By))
			}
			got := res.By[0]
			// The oracle: counts taken from the column over the selection.
			count := map[string]int{}
			nulls, rows := 0, 0
			res.Selection.ForEach(func(id uint32) bool {
				rows++
				if null[id] {
					nulls++
				} else {
					count[keys[id]]++
				}
				return true
			})
			vals := make([]string, 0, len(count))
			for k := range count {
				vals = append(vals, k)
			}
			slices.SortFunc(vals, func(a, b string) int {
				if c := cmp.Compare(count[b], count[a]); c != 0 {
					return c
				}
				return strings.Compare(a, b)
			})
			limit := o.Groups
			if limit == 0 {
				limit = engine.DefaultGroups
			}
			shown := min(limit, len(vals))
			var want []engine.LabelCount
			other := 0
			for i, v := range vals {
				if i < shown {
					want = append(want, engine.LabelCount{Value: v, Count: count[v], Share: float64(count[v]) / float64(rows)})
				} else {
					other += count[v]
				}
			}
			groups := len(vals)
			if nulls > 0 {
				want = append(want, engine.LabelCount{Null: true, Count: nulls, Share: float64(nulls) / float64(rows)})
				groups++
			}
			if !slices.Equal(got.Values, want) {
				t.Fatalf("%s: %d values listed, want %d; first %v, want %v", name, len(got.Values), len(want), got.Values[:min(3, len(got.Values))], want[:min(3, len(want))])
			}
			wantGroups, wantOther := groups, other
			if len(want) == groups {
				wantGroups, wantOther = 0, 0 // all listed
			}
			if got.Groups != wantGroups || got.OtherRows != wantOther {
				t.Fatalf("%s: groups %d, other rows %d; want %d, %d", name, got.Groups, got.OtherRows, wantGroups, wantOther)
			}
			if left, _ := os.ReadDir(tmp); len(left) > 0 {
				t.Fatalf("%s: %d temporary files left in %s", name, len(left), tmp)
			}
		}
	}

	// A scan that fails part way leaves no temporary files.
	errBoom := errors.New("boom")
	failing := failingScan{Store: s, after: 5, err: errBoom}
	if _, err := engine.Run(context.Background(), failing, query.MustParse("all by key"), &engine.Options{GroupBytes: 1, TempDir: tmp}); !errors.Is(err, errBoom) {
		t.Fatalf("a failing scan: %v, want boom", err)
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Fatalf("a failed query left %d temporary files in %s", len(left), tmp)
	}

	// A place where the files cannot go fails the query with its reason.
	file := filepath.Join(tmp, "not-a-dir")
	os.WriteFile(file, nil, 0o644)
	_, err := engine.Run(context.Background(), s, query.MustParse("all by key"), &engine.Options{GroupBytes: 1, TempDir: file})
	if err == nil || !strings.Contains(err.Error(), "by:") {
		t.Fatalf("spill to a file, not a directory: %v, want a by: error", err)
	}
}

// failingScan is a store whose scans fail after a number of batches.
type failingScan struct {
	*enginetest.Store
	after int
	err   error
}

func (f failingScan) Scan(ctx context.Context, cols []string, fn func(*table.Batch) error) error {
	var n atomic.Int32
	return f.Store.Scan(ctx, cols, func(b *table.Batch) error {
		if int(n.Add(1)) > f.after {
			return f.err
		}
		return fn(b)
	})
}
