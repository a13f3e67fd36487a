package audit

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/table"
)

// DiffOptions configure Diff.
type DiffOptions struct {
	// Key are the columns that identify a row (default sample_id); for
	// example url, or url and text.
	Key []string
	// KeepRows keeps the store positions of the rows found in one store
	// only (DiffSide.OnlyRows), for exporting them.
	KeepRows bool
}

// DiffReport compares two stores by a key: the rows of each whose key the
// other lacks (removed from OLD, added in NEW), with their NSFW labels and
// source files.
type DiffReport struct {
	Key []string `json:"key"`
	Old DiffSide `json:"old"`
	New DiffSide `json:"new"`
	// Common counts the rows of OLD whose key NEW has.
	Common int `json:"common"`
}

// DiffSide is one store's part of a diff.
type DiffSide struct {
	Fingerprint string `json:"fingerprint"`
	Rows        int    `json:"rows"`
	// Only counts the rows whose key the other store lacks.
	Only int `json:"only"`
	// DuplicateKeys counts rows whose key another row of the same store
	// has too (each such row after the first).
	DuplicateKeys int `json:"duplicate_keys"`
	// ByNSFW and ByFile count the Only rows by nsfw value and source file.
	ByNSFW []engine.LabelCount `json:"by_nsfw,omitempty"`
	ByFile []FileCount         `json:"by_file"`
	// OnlyRows are the Only rows' store positions (with KeepRows).
	OnlyRows []uint32 `json:"-"`
}

// FileCount is a number of rows of one source file.
type FileCount struct {
	File string `json:"file"`
	Rows int    `json:"rows"`
}

// keyOf appends row i's key to dst: each column's value, null marked, with
// separators no value can forge.
func keyOf(dst []byte, b *table.Batch, cols []string, i int) []byte {
	for _, name := range cols {
		c := b.Cols[name]
		if c == nil || c.IsNull(i) {
			dst = append(dst, 0, 'n')
			continue
		}
		dst = append(dst, 0, 'v')
		switch c.Type {
		case table.TypeString:
			v := c.Str.At(i)
			dst = strconv.AppendInt(dst, int64(len(v)), 10)
			dst = append(dst, ':')
			dst = append(dst, v...)
		case table.TypeInt:
			dst = strconv.AppendInt(dst, c.Int[i], 10)
		case table.TypeFloat:
			dst = strconv.AppendFloat(dst, c.Float[i], 'g', -1, 64)
		case table.TypeBool:
			dst = strconv.AppendBool(dst, c.Bool[i])
		}
	}
	return dst
}

// keyCounts returns how many rows of s hold each key.
func keyCounts(ctx context.Context, s engine.Store, key []string) (map[string]int32, error) {
	var mu sync.Mutex
	out := map[string]int32{}
	err := s.Scan(ctx, key, func(b *table.Batch) error {
		var buf []byte
		local := map[string]int32{}
		for i := 0; i < b.Len; i++ {
			buf = keyOf(buf[:0], b, key, i)
			local[string(buf)]++
		}
		mu.Lock()
		for k, n := range local {
			out[k] += n
		}
		mu.Unlock()
		return nil
	})
	return out, err
}

// side classifies the rows of s against the keys of the other store.
func side(ctx context.Context, s engine.Store, key []string, mine, other map[string]int32, keep bool) (DiffSide, int, error) {
	d := DiffSide{Fingerprint: s.Fingerprint(), Rows: s.NumRows()}
	cols := slices.Clone(key)
	hasNSFW := false
	for _, c := range s.Columns() {
		if c.Name == "nsfw" && c.Type == table.TypeString {
			hasNSFW = true
		}
	}
	if hasNSFW && !slices.Contains(cols, "nsfw") {
		cols = append(cols, "nsfw")
	}
	var mu sync.Mutex
	nsfw := map[string]int{}
	nsfwNull := 0
	files := map[string]int{}
	common := 0
	err := s.Scan(ctx, cols, func(b *table.Batch) error {
		var buf []byte
		var only []uint32
		localNSFW := map[string]int{}
		localNull, c := 0, 0
		col := b.Cols["nsfw"]
		for i := 0; i < b.Len; i++ {
			buf = keyOf(buf[:0], b, key, i)
			if other[string(buf)] > 0 {
				c++
				continue
			}
			only = append(only, b.Row(i))
			switch {
			case !hasNSFW:
			case col == nil || col.IsNull(i):
				localNull++
			default:
				localNSFW[string(col.Str.At(i))]++
			}
		}
		mu.Lock()
		defer mu.Unlock()
		common += c
		d.Only += len(only)
		for _, r := range only {
			f, _ := s.Source(r)
			files[f]++
		}
		for v, n := range localNSFW {
			nsfw[v] += n
		}
		nsfwNull += localNull
		if keep {
			d.OnlyRows = append(d.OnlyRows, only...)
		}
		return nil
	})
	if err != nil {
		return d, 0, err
	}
	for _, n := range mine {
		if n > 1 {
			d.DuplicateKeys += int(n - 1)
		}
	}
	if hasNSFW {
		d.ByNSFW = []engine.LabelCount{}
		for v, n := range nsfw {
			d.ByNSFW = append(d.ByNSFW, engine.LabelCount{Value: v, Count: n})
		}
		sort.Slice(d.ByNSFW, func(i, j int) bool {
			a, b := d.ByNSFW[i], d.ByNSFW[j]
			return a.Count > b.Count || a.Count == b.Count && a.Value < b.Value
		})
		if nsfwNull > 0 {
			d.ByNSFW = append(d.ByNSFW, engine.LabelCount{Null: true, Count: nsfwNull})
		}
		for i := range d.ByNSFW {
			if d.Only > 0 {
				d.ByNSFW[i].Share = float64(d.ByNSFW[i].Count) / float64(d.Only)
			}
		}
	}
	d.ByFile = []FileCount{}
	for f, n := range files {
		d.ByFile = append(d.ByFile, FileCount{f, n})
	}
	sort.Slice(d.ByFile, func(i, j int) bool { return d.ByFile[i].File < d.ByFile[j].File })
	slices.Sort(d.OnlyRows)
	return d, common, nil
}

// Diff compares the stores old and new by o.Key.
func Diff(ctx context.Context, old, new engine.Store, o *DiffOptions) (*DiffReport, error) {
	var opts DiffOptions
	if o != nil {
		opts = *o
	}
	if len(opts.Key) == 0 {
		opts.Key = []string{"sample_id"}
	}
	for _, s := range []engine.Store{old, new} {
		for _, k := range opts.Key {
			if !slices.ContainsFunc(s.Columns(), func(c table.ColumnInfo) bool { return c.Name == k }) {
				return nil, fmt.Errorf("diff: a store (fingerprint %s) has no column %q to key on", s.Fingerprint(), k)
			}
		}
	}
	oldKeys, err := keyCounts(ctx, old, opts.Key)
	if err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	newKeys, err := keyCounts(ctx, new, opts.Key)
	if err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	r := &DiffReport{Key: opts.Key}
	if r.Old, r.Common, err = side(ctx, old, opts.Key, oldKeys, newKeys, opts.KeepRows); err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	if r.New, _, err = side(ctx, new, opts.Key, newKeys, oldKeys, opts.KeepRows); err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	return r, nil
}
