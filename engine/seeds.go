package engine

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/table"
	"github.com/laiondb/laiondb/vector"
)

// A seed set (rows(file(...)) or ids(file(...))) is the review queue of
// an audit that starts from confirmed rows: each seed's own search, among
// the rows other than the seeds, and the union of the answers, each
// candidate with the seeds that reached it and its best score.

// seedLine is a seed a seed file lists, and its line.
type seedLine struct {
	v    int64
	line int
}

// readSeeds reads the seeds a rows(file(...)) or ids(file(...)) target
// lists, in file order. A line that is not an integer (a negative row
// position) and a file with no seeds are errors naming the file (and
// line).
func readSeeds(t query.Target) ([]seedLine, error) {
	b, err := os.ReadFile(t.Path)
	if err != nil {
		return nil, err
	}
	var seeds []seedLine
	what := "a row position"
	if t.Kind == query.TargetIDs {
		what = "a SAMPLE_ID"
	}
	err = lines(b, func(lo, hi, n int) error {
		v, err := strconv.ParseInt(string(bytes.TrimSpace(b[lo:hi])), 10, 64)
		if err != nil || (t.Kind == query.TargetRows && v < 0) {
			return fmt.Errorf("%s, line %d: %q is not %s", t.Path, n, b[lo:hi], what)
		}
		seeds = append(seeds, seedLine{v, n})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(seeds) == 0 {
		return nil, fmt.Errorf("%s holds no seeds (one %s a line)", t.Path, strings.TrimPrefix(what, "a "))
	}
	return seeds, nil
}

// checkSeeds checks the seeds of t against a store of n rows: a row
// position past them is an error, and so is a SAMPLE_ID outside found
// (the SAMPLE_IDs of the rows found), naming the file and line.
func checkSeeds(t query.Target, seeds []seedLine, n int64, found map[int64]bool) error {
	if t.Kind == query.TargetRows {
		for _, sd := range seeds {
			if sd.v >= n {
				return fmt.Errorf("%s, line %d: row %d is past the store's %d rows", t.Path, sd.line, sd.v, n)
			}
		}
		return nil
	}
	var missing []seedLine
	for _, sd := range seeds {
		if !found[sd.v] {
			missing = append(missing, sd)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s, line %d: no row has SAMPLE_ID %d (%d of the %d seeds match no row)", t.Path, missing[0].line, missing[0].v, len(missing), len(seeds))
	}
	return nil
}

// seedRows reads the seeds a rows(file(...)) or ids(file(...)) target
// lists and returns their store rows, ascending and distinct: for ids,
// every row holding one of the SAMPLE_IDs. A line that is not an integer,
// a position past the store, a SAMPLE_ID no row holds, and a file with no
// seeds are errors naming the file (and line).
func seedRows(ctx context.Context, s Store, t query.Target) ([]uint32, error) {
	seeds, err := readSeeds(t)
	if err != nil {
		return nil, err
	}
	if t.Kind == query.TargetRows {
		if err := checkSeeds(t, seeds, int64(s.NumRows()), nil); err != nil {
			return nil, err
		}
		rows := make([]uint32, len(seeds))
		for i, sd := range seeds {
			rows[i] = uint32(sd.v)
		}
		slices.Sort(rows)
		return slices.Compact(rows), nil
	}
	rows, found, err := idRows(ctx, s, t, seeds)
	if err != nil {
		return nil, err
	}
	return rows, checkSeeds(t, seeds, int64(s.NumRows()), found)
}

// idRows returns the rows of s whose SAMPLE_ID an ids(file(...)) seed
// lists, ascending, and the SAMPLE_IDs found.
func idRows(ctx context.Context, s Store, t query.Target, seeds []seedLine) ([]uint32, map[int64]bool, error) {
	ids := make([]int64, len(seeds))
	for i, sd := range seeds {
		ids[i] = sd.v
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	rows, err := rowsWithIDs(ctx, s, ids, t.Path)
	if err != nil {
		return nil, nil, err
	}
	found := map[int64]bool{}
	if len(rows) > 0 {
		b, err := s.Fetch(ctx, rows, []string{"sample_id"})
		if err != nil {
			return nil, nil, err
		}
		for i := range rows {
			found[b.Cols["sample_id"].Int[i]] = true
		}
	}
	return rows, found, nil
}

// rowsWithIDs returns the rows whose sample_id is in ids (sorted), in
// store order.
func rowsWithIDs(ctx context.Context, s Store, ids []int64, path string) ([]uint32, error) {
	var col *table.ColumnInfo
	for _, c := range s.Columns() {
		if c.Name == "sample_id" {
			col = &c
			break
		}
	}
	if col == nil || col.Type != table.TypeInt {
		return nil, fmt.Errorf("%s: ids(file(...)) needs an integer sample_id column, and the store has none", path)
	}
	sel := vector.NewBitset(s.NumRows())
	err := s.Scan(ctx, []string{"sample_id"}, func(b *table.Batch) error {
		c := b.Cols["sample_id"]
		for i := 0; i < b.Len; i++ {
			if c.IsNull(i) {
				continue
			}
			if _, ok := slices.BinarySearch(ids, c.Int[i]); ok {
				sel.Set(b.Row(i))
			}
		}
		return nil
	})
	var rows []uint32
	sel.ForEach(func(r uint32) bool {
		rows = append(rows, r)
		return true
	})
	return rows, err
}

// seeded is the merged answer of a seed set's searches: the hits, best
// first, and for each the seeds that reached it, ascending.
type seeded struct {
	sr    SearchResult
	seeds map[uint32][]uint32
	n     int // seeds
}

// seedSearch runs one search per seed of the plan's seed-set target among
// allow (the where clause's answer; every row when nil) minus the seeds,
// and merges the answers.
func (p *Plan) seedSearch(ctx context.Context, s Store, tn *query.TargetNode, allow *vector.Bitset, kind string) (*seeded, error) {
	seeds, err := seedRows(ctx, s, tn.Target)
	if err != nil {
		return nil, &query.Error{Query: p.q.Text, Off: tn.Offset, Msg: fmt.Sprintf("target %s: %v", tn, err), Err: err}
	}
	if allow == nil {
		allow = vector.NewBitset(s.NumRows())
		allow.Fill()
	} else {
		allow = allow.Clone()
	}
	for _, r := range seeds {
		allow.Clear(r)
	}
	out := &seeded{seeds: map[uint32][]uint32{}, n: len(seeds)}
	best := map[uint32]float32{}
	out.sr.Exact = true
	methods := map[string]int{}
	var order []string
	for _, r := range seeds {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		vec, err := s.Vector(ctx, query.Target{Kind: query.TargetRow, Row: r, Space: tn.Target.Space})
		if err != nil {
			return nil, &query.Error{Query: p.q.Text, Off: tn.Offset, Msg: fmt.Sprintf("target %s: seed row %d: %v", tn, r, err), Err: err}
		}
		req, _, err := p.request(ctx, s, vec, &selected{rows: allow})
		if err != nil {
			return nil, err
		}
		req.Allow = allow
		sr, err := p.search(ctx, s, req, kind)
		if err != nil {
			return nil, err
		}
		out.sr.Exact = out.sr.Exact && sr.Exact
		out.sr.Scanned += sr.Scanned
		out.sr.NearThreshold += sr.NearThreshold
		if methods[sr.Method] == 0 {
			order = append(order, sr.Method)
		}
		methods[sr.Method]++
		for _, h := range sr.Hits {
			if b, ok := best[h.Row]; !ok || h.Score > b {
				best[h.Row] = h.Score
			}
			out.seeds[h.Row] = append(out.seeds[h.Row], r)
		}
	}
	out.sr.Hits = make([]Hit, 0, len(best))
	for r, sc := range best {
		out.sr.Hits = append(out.sr.Hits, Hit{Row: r, Score: sc})
	}
	slices.SortFunc(out.sr.Hits, func(a, b Hit) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		return int(a.Row) - int(b.Row)
	})
	parts := make([]string, len(order))
	for i, m := range order {
		parts[i] = fmt.Sprintf("%s (%d seeds)", m, methods[m])
		if len(order) == 1 {
			parts[i] = m
		}
	}
	out.sr.Method = fmt.Sprintf("%d seed searches, each: %s", len(seeds), strings.Join(parts, "; "))
	return out, nil
}
