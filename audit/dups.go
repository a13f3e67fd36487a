package audit

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/table"
)

// DupsReport describes the exact duplicates of a store by a key: rows that
// hold the same value of the key columns (nulls included: two rows with a
// null URL share that key).
type DupsReport struct {
	Key         []string `json:"key"`
	Fingerprint string   `json:"fingerprint"`
	Rows        int      `json:"rows"`
	// Keys is the number of distinct keys; Groups those held by two rows
	// or more, and Duplicates the rows a dedup drops: every row of a group
	// after its first in store order.
	Keys       int `json:"keys"`
	Groups     int `json:"groups"`
	Duplicates int `json:"duplicates"`
	// Sizes is the histogram of group sizes: how many keys are held by
	// exactly Size rows, for every size above 1.
	Sizes []GroupSize `json:"sizes"`
	// Largest are the biggest groups (at most 10), largest first, with the
	// first row of each.
	Largest []Group `json:"largest"`
	// Drop are the rows a dedup drops, in store order (with
	// DupsOptions.KeepRows).
	Drop []uint32 `json:"-"`
}

// GroupSize is one bar of the group-size histogram.
type GroupSize struct {
	Size   int `json:"size"`
	Groups int `json:"groups"`
}

// Group is a set of rows sharing a key.
type Group struct {
	Rows  int    `json:"rows"`
	First uint32 `json:"first_row"`
}

// DupsOptions configure Duplicates.
type DupsOptions struct {
	// Key are the columns that identify a row (default url).
	Key []string
	// KeepRows keeps the rows a dedup drops (DupsReport.Drop).
	KeepRows bool
}

// Duplicates counts the exact duplicates of s by o.Key.
func Duplicates(ctx context.Context, s engine.Store, o *DupsOptions) (*DupsReport, error) {
	var opts DupsOptions
	if o != nil {
		opts = *o
	}
	if len(opts.Key) == 0 {
		opts.Key = []string{"url"}
	}
	for _, k := range opts.Key {
		if !slices.ContainsFunc(s.Columns(), func(c table.ColumnInfo) bool { return c.Name == k }) {
			return nil, fmt.Errorf("dups: the store has no column %q to key on", k)
		}
	}
	// Each key's first row (lowest store position) and count.
	type entry struct {
		first uint32
		n     int32
	}
	var mu sync.Mutex
	keys := map[string]*entry{}
	err := s.Scan(ctx, opts.Key, func(b *table.Batch) error {
		var buf []byte
		local := map[string]*entry{}
		for i := 0; i < b.Len; i++ {
			buf = keyOf(buf[:0], b, opts.Key, i)
			r := b.Row(i)
			if e := local[string(buf)]; e != nil {
				e.n++
				e.first = min(e.first, r)
			} else {
				local[string(buf)] = &entry{r, 1}
			}
		}
		mu.Lock()
		defer mu.Unlock()
		for k, le := range local {
			if e := keys[k]; e != nil {
				e.n += le.n
				e.first = min(e.first, le.first)
			} else {
				keys[k] = le
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dups: %w", err)
	}
	r := &DupsReport{Key: opts.Key, Fingerprint: s.Fingerprint(), Rows: s.NumRows(), Keys: len(keys), Sizes: []GroupSize{}, Largest: []Group{}}
	sizes := map[int]int{}
	for _, e := range keys {
		if e.n > 1 {
			r.Groups++
			r.Duplicates += int(e.n - 1)
			sizes[int(e.n)]++
			r.Largest = append(r.Largest, Group{int(e.n), e.first})
		}
	}
	for size, n := range sizes {
		r.Sizes = append(r.Sizes, GroupSize{size, n})
	}
	sort.Slice(r.Sizes, func(i, j int) bool { return r.Sizes[i].Size < r.Sizes[j].Size })
	sort.Slice(r.Largest, func(i, j int) bool {
		a, b := r.Largest[i], r.Largest[j]
		return a.Rows > b.Rows || a.Rows == b.Rows && a.First < b.First
	})
	r.Largest = r.Largest[:min(10, len(r.Largest))]
	if opts.KeepRows && r.Duplicates > 0 {
		firsts := map[string]uint32{}
		for k, e := range keys {
			if e.n > 1 {
				firsts[k] = e.first
			}
		}
		err := s.Scan(ctx, opts.Key, func(b *table.Batch) error {
			var buf []byte
			var drop []uint32
			for i := 0; i < b.Len; i++ {
				buf = keyOf(buf[:0], b, opts.Key, i)
				if f, ok := firsts[string(buf)]; ok && f != b.Row(i) {
					drop = append(drop, b.Row(i))
				}
			}
			mu.Lock()
			r.Drop = append(r.Drop, drop...)
			mu.Unlock()
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("dups: %w", err)
		}
		slices.Sort(r.Drop)
	}
	return r, nil
}
