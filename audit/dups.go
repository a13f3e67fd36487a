package audit

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/table"
	"github.com/laiondb/laiondb/vector"
)

// DupsReport describes the exact duplicates of a store by a key: rows that
// hold the same value of the key columns (nulls included: two rows with a
// null URL share that key).
type DupsReport struct {
	Key         []string `json:"key"`
	Fingerprint string   `json:"fingerprint"`
	// StoreRows is the number of rows in the store; Rows the number
	// considered: every row, or those of DupsOptions.Selection.
	StoreRows int `json:"store_rows"`
	Rows      int `json:"rows"`
	// Where is DupsOptions.Where.
	Where string `json:"where,omitempty"`
	// Keys is the number of distinct keys; the groups are the keys held
	// by two rows or more.
	Keys int `json:"keys"`
	GroupStats
	// Drop are the rows a dedup drops, in store order, and Kept the row
	// of each one's group that it keeps (with DupsOptions.KeepRows).
	Drop []uint32 `json:"-"`
	Kept []uint32 `json:"-"`
}

// GroupStats describes groups of duplicates.
type GroupStats struct {
	// Groups is the number of groups (of two rows or more), Duplicates the
	// rows a dedup drops: every row of a group but its first in store
	// order.
	Groups     int `json:"groups"`
	Duplicates int `json:"duplicates"`
	// Sizes is the histogram of group sizes: how many groups hold exactly
	// Size rows.
	Sizes []GroupSize `json:"sizes"`
	// Largest are the biggest groups (at most 10), largest first, then by
	// first row.
	Largest []Group `json:"largest"`
}

// summarize returns the statistics of groups.
func summarize(groups []Group) GroupStats {
	st := GroupStats{Groups: len(groups), Sizes: []GroupSize{}}
	hist := map[int]int{}
	for _, g := range groups {
		st.Duplicates += g.Rows - 1
		hist[g.Rows]++
	}
	for size, n := range hist {
		st.Sizes = append(st.Sizes, GroupSize{size, n})
	}
	sort.Slice(st.Sizes, func(i, j int) bool { return st.Sizes[i].Size < st.Sizes[j].Size })
	st.Largest = append([]Group{}, groups...)
	sort.Slice(st.Largest, func(i, j int) bool {
		a, b := st.Largest[i], st.Largest[j]
		return a.Rows > b.Rows || a.Rows == b.Rows && a.First < b.First
	})
	st.Largest = st.Largest[:min(10, len(st.Largest))]
	return st
}

// GroupSize is one bar of the group-size histogram.
type GroupSize struct {
	Size   int `json:"size"`
	Groups int `json:"groups"`
}

// Group is a group of duplicates (rows sharing a key, or near-duplicate
// embeddings): its size and its first row in store order, the one a dedup
// keeps.
type Group struct {
	Rows  int    `json:"rows"`
	First uint32 `json:"first_row"`
}

// keyEntry is a key's first row (lowest store position) and count.
type keyEntry struct {
	first uint32
	n     int32
}

// dupsOptions returns o with its defaults, checked against s.
func dupsOptions(s engine.Store, o *DupsOptions) (DupsOptions, error) {
	var opts DupsOptions
	if o != nil {
		opts = *o
	}
	if len(opts.Key) == 0 {
		opts.Key = []string{"url"}
	}
	for _, k := range opts.Key {
		if !slices.ContainsFunc(s.Columns(), func(c table.ColumnInfo) bool { return c.Name == k }) {
			return opts, fmt.Errorf("dups: the store has no column %q to key on", k)
		}
	}
	return opts, nil
}

// countKeys returns each key of opts.Key among the rows of s (of
// opts.Selection) with its first row and count, and the rows counted.
func countKeys(ctx context.Context, s engine.Store, opts DupsOptions) (map[string]*keyEntry, int, error) {
	skip := func(r uint32) bool { return opts.Selection != nil && !opts.Selection.Contains(r) }
	var mu sync.Mutex
	keys := map[string]*keyEntry{}
	rows := 0
	err := s.Scan(ctx, opts.Key, func(b *table.Batch) error {
		var buf []byte
		local := map[string]*keyEntry{}
		n := 0
		for i := 0; i < b.Len; i++ {
			r := b.Row(i)
			if skip(r) {
				continue
			}
			n++
			buf = keyOf(buf[:0], b, opts.Key, i)
			if e := local[string(buf)]; e != nil {
				e.n++
				e.first = min(e.first, r)
			} else {
				local[string(buf)] = &keyEntry{r, 1}
			}
		}
		mu.Lock()
		defer mu.Unlock()
		rows += n
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
		return nil, 0, fmt.Errorf("dups: %w", err)
	}
	return keys, rows, nil
}

// DupsOptions configure Duplicates.
type DupsOptions struct {
	// Key are the columns that identify a row (default url).
	Key []string
	// Selection, when not nil, restricts the count to these rows, and
	// Where, for the report, says how they were chosen (the predicate
	// that selected them, say).
	Selection *vector.Bitset
	Where     string
	// KeepRows keeps the rows a dedup drops (DupsReport.Drop).
	KeepRows bool
}

// Duplicates counts the exact duplicates of s by o.Key, among the rows of
// o.Selection when it is set.
func Duplicates(ctx context.Context, s engine.Store, o *DupsOptions) (*DupsReport, error) {
	opts, err := dupsOptions(s, o)
	if err != nil {
		return nil, err
	}
	keys, rows, err := countKeys(ctx, s, opts)
	if err != nil {
		return nil, err
	}
	skip := func(r uint32) bool { return opts.Selection != nil && !opts.Selection.Contains(r) }
	var mu sync.Mutex
	r := &DupsReport{Key: opts.Key, Fingerprint: s.Fingerprint(), StoreRows: s.NumRows(), Rows: rows, Where: opts.Where, Keys: len(keys)}
	var groups []Group
	for _, e := range keys {
		if e.n > 1 {
			groups = append(groups, Group{int(e.n), e.first})
		}
	}
	r.GroupStats = summarize(groups)
	if opts.KeepRows && r.Duplicates > 0 {
		firsts := map[string]uint32{}
		for k, e := range keys {
			if e.n > 1 {
				firsts[k] = e.first
			}
		}
		var pairs [][2]uint32 // dropped row, kept row
		err := s.Scan(ctx, opts.Key, func(b *table.Batch) error {
			var buf []byte
			var local [][2]uint32
			for i := 0; i < b.Len; i++ {
				if skip(b.Row(i)) {
					continue
				}
				buf = keyOf(buf[:0], b, opts.Key, i)
				if f, ok := firsts[string(buf)]; ok && f != b.Row(i) {
					local = append(local, [2]uint32{b.Row(i), f})
				}
			}
			mu.Lock()
			pairs = append(pairs, local...)
			mu.Unlock()
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("dups: %w", err)
		}
		slices.SortFunc(pairs, func(a, b [2]uint32) int { return cmp.Compare(a[0], b[0]) })
		r.Drop, r.Kept = make([]uint32, len(pairs)), make([]uint32, len(pairs))
		for i, p := range pairs {
			r.Drop[i], r.Kept[i] = p[0], p[1]
		}
	}
	return r, nil
}
