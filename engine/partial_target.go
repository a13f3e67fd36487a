package engine

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/table"
	"github.com/laiondb/laiondb/vector"
)

// Row and id targets, and seed sets, over shards. row(N) and id(N) name
// one row of the dataset, which one shard holds, and every shard must
// search with its embedding; rows(file(...)) and ids(file(...)) name seed
// rows anywhere. Such a query runs in two steps. First every shard
// resolves the targets it holds (Plan.ResolveTarget): each row's number
// among all the shards' rows and its embedding. Then every shard runs its
// partial with the resolutions of all the shards (MergeTargets, into
// Options.Targets): for row(N) and id(N) the shard holding the row
// searches from the row itself, as one store does, and the others with
// its embedding, and the merge ranks the target's row first among the hits
// of its score, as one store ranks a row target's own row; for a seed set
// each shard searches from every seed among its rows other than the seeds,
// and the merge keeps each seed's best K of all shards before the union.

// TargetsFormat is the version of the ShardTarget format.
const TargetsFormat = 1

// ShardTarget is one shard's resolution of a query's row or id target or
// seed set.
type ShardTarget struct {
	Format      int    `json:"format"`
	Version     string `json:"laiondb_version"`
	Query       string `json:"query"`
	Shard       int    `json:"shard"`
	Shards      int    `json:"shards"`
	Fingerprint string `json:"fingerprint"`
	Place       Place  `json:"place"`
	TotalRows   int    `json:"total_rows"`
	// Found are the target's rows this shard holds, ascending: for row(N)
	// and id(N) at most one (id's first in the shard), for a seed set
	// every seed row it holds.
	Found []StoredTarget `json:"found"`
}

// StoredTarget is a resolved target row: its number among all the
// shards' rows, its embedding (unit norm, as the store holding it gives a
// search) and, for ids(file(...)), its SAMPLE_ID.
type StoredTarget struct {
	Row int64     `json:"row"`
	Vec []float32 `json:"vector"`
	ID  *int64    `json:"sample_id,omitempty"`
}

// targetsDigest returns a hex SHA-256 of the rows and the vectors' bits,
// which a partial records so that the merge can tell shards given
// different resolutions apart.
func targetsDigest(ts []StoredTarget) string {
	h := sha256.New()
	var b [8]byte
	for _, t := range ts {
		binary.LittleEndian.PutUint64(b[:], uint64(t.Row))
		h.Write(b[:])
		binary.LittleEndian.PutUint64(b[:], uint64(len(t.Vec)))
		h.Write(b[:])
		for _, x := range t.Vec {
			binary.LittleEndian.PutUint32(b[:4], math.Float32bits(x))
			h.Write(b[:4])
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// PartialTarget is what a partial records of its query's resolved
// targets.
type PartialTarget struct {
	// Rows are the target rows among all the shards' rows, ascending.
	Rows []int64 `json:"rows"`
	// Digest is the resolution's (rows and embeddings).
	Digest string `json:"digest"`
}

// ResolvedTarget returns what a partial run from the resolved targets ts
// records of them (nil for none).
func ResolvedTarget(ts []StoredTarget) *PartialTarget {
	if len(ts) == 0 {
		return nil
	}
	pt := &PartialTarget{Rows: make([]int64, len(ts)), Digest: targetsDigest(ts)}
	for i, t := range ts {
		pt.Rows[i] = t.Row
	}
	return pt
}

// Equal reports whether a and b record the same resolution (or none).
func (a *PartialTarget) Equal(b *PartialTarget) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Digest == b.Digest && slices.Equal(a.Rows, b.Rows)
}

// resolvedTarget returns the plan's search target when every shard must
// resolve it first (row, id, a seed set), or nil.
func (p *Plan) resolvedTarget() *query.TargetNode {
	var tn *query.TargetNode
	switch src := p.q.Source.(type) {
	case *query.KNNSource:
		tn = src.Target
	case *query.WithinSource:
		tn = src.Target
	}
	if tn == nil || !tn.Target.Kind.Stored() {
		return nil
	}
	return tn
}

// storedTarget returns the plan's row or id search target, or nil when
// its search target is of another kind (a seed set among them).
func (p *Plan) storedTarget() *query.TargetNode {
	if tn := p.resolvedTarget(); tn != nil && !tn.Target.Kind.Seeds() {
		return tn
	}
	return nil
}

// checkPlace checks a shard's place against its rows n and its number.
func checkPlace(pl *Place, n int64, shard, shards int) error {
	switch {
	case shards < 1 || shard < 1 || shard > shards:
		return fmt.Errorf("%w: shard %d of %d: want 1 <= shard <= shards", ErrPartial, shard, shards)
	case pl == nil:
		return nil
	case pl.Before < 0 || pl.Before+n > pl.Total:
		return fmt.Errorf("%w: shard %d of %d holds %d rows, which cannot lie after %d rows of %d in all", ErrPartial, shard, shards, n, pl.Before, pl.Total)
	case shard == 1 && pl.Before != 0:
		return fmt.Errorf("%w: shard 1 of %d lies after %d rows: the first shard's rows come first", ErrPartial, shards, pl.Before)
	case shard == shards && pl.Before+n != pl.Total:
		return fmt.Errorf("%w: shard %d of %d, the last, holds rows %d-%d of %d: the last shard's rows end the dataset's", ErrPartial, shard, shards, pl.Before, pl.Before+n-1, pl.Total)
	}
	return nil
}

// ResolveTarget is the first step of a partial run of a query with a row
// or id target or a seed set: it returns the target rows shard number
// shard of shards holds, which needs the shard's place (Options.Place). A
// row(N) target is found in the shard whose rows hold row N of all; an
// id(N) target in every shard holding a row with that sample_id, at its
// first such row (MergeTargets keeps the first of all); a seed set's rows
// wherever they lie (for ids(file(...)), every row with a SAMPLE_ID it
// lists, as one store takes them).
func (p *Plan) ResolveTarget(ctx context.Context, s Store, shard, shards int) (*ShardTarget, error) {
	tn := p.resolvedTarget()
	if tn == nil {
		return nil, fmt.Errorf("%w: %s has no row or id target or seed set to resolve", ErrPartial, p.q.String())
	}
	pl := p.opts.Place
	if pl == nil {
		return nil, fmt.Errorf("%w: a row or id target or a seed set is resolved over the rows of every shard: give the shard's place among them (laiondb query --rows-before N --rows-total N; laiondb slurm does)", ErrPartial)
	}
	n := int64(s.NumRows())
	if err := checkPlace(pl, n, shard, shards); err != nil {
		return nil, err
	}
	out := &ShardTarget{Format: TargetsFormat, Version: buildVersion(), Query: p.q.String(), Shard: shard, Shards: shards,
		Fingerprint: s.Fingerprint(), Place: *pl, TotalRows: s.NumRows(), Found: []StoredTarget{}}
	t := tn.Target
	hasIDs := slices.ContainsFunc(s.Columns(), func(c table.ColumnInfo) bool { return c.Name == "sample_id" })
	var local []uint32 // the target rows the shard holds, ascending
	var ids []int64    // for ids(file(...)), their SAMPLE_IDs
	switch t.Kind {
	case query.TargetRow:
		if r := int64(t.Row); r >= pl.Before && r < pl.Before+n {
			local = []uint32{uint32(r - pl.Before)}
		}
	case query.TargetSampleID:
		if !hasIDs {
			break // a shard without the column holds no such row
		}
		rows, err := rowsWithIDs(ctx, s, []int64{t.SampleID}, "id("+fmt.Sprint(t.SampleID)+")")
		if err != nil {
			return nil, err
		}
		if len(rows) > 0 {
			local = rows[:1]
		}
	case query.TargetRows, query.TargetIDs:
		seeds, err := readSeeds(t)
		if err != nil {
			return nil, &query.Error{Query: p.q.Text, Off: tn.Offset, Msg: fmt.Sprintf("target %s: %v", tn, err), Err: err}
		}
		if t.Kind == query.TargetRows {
			for _, sd := range seeds {
				if sd.v >= pl.Before && sd.v < pl.Before+n {
					local = append(local, uint32(sd.v-pl.Before))
				}
			}
			slices.Sort(local)
			local = slices.Compact(local)
			break
		}
		if !hasIDs {
			break
		}
		if local, _, err = idRows(ctx, s, t, seeds); err != nil {
			return nil, err
		}
		if len(local) > 0 {
			b, err := s.Fetch(ctx, local, []string{"sample_id"})
			if err != nil {
				return nil, err
			}
			ids = b.Cols["sample_id"].Int
		}
	}
	for i, r := range local {
		vec, err := s.Vector(ctx, query.Target{Kind: query.TargetRow, Row: r, Space: t.Space})
		if err != nil {
			msg := fmt.Sprintf("target %s: %v", tn, err)
			if t.Kind.Seeds() {
				msg = fmt.Sprintf("target %s: seed row %d: %v", tn, pl.Before+int64(r), err)
			}
			return nil, &query.Error{Query: p.q.Text, Off: tn.Offset, Msg: msg, Err: err}
		}
		st := StoredTarget{Row: pl.Before + int64(r), Vec: vec}
		if ids != nil {
			st.ID = &ids[i]
		}
		out.Found = append(out.Found, st)
	}
	return out, nil
}

// ReadShardTarget reads a ShardTarget written as JSON, refusing other
// formats and unknown fields.
func ReadShardTarget(r io.Reader) (*ShardTarget, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var t ShardTarget
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("%w: reading a shard's target: %v", ErrPartial, err)
	}
	if t.Format != TargetsFormat {
		return nil, fmt.Errorf("%w: a shard's target of format %d, this laiondb reads format %d", ErrPartial, t.Format, TargetsFormat)
	}
	return &t, nil
}

// MergeTargets merges every shard's resolution of a query's row or id
// target or seed set into the target rows all the shards search from:
// for row(N) the row, for id(N) the first row with that sample_id, for a
// seed set every seed row, ascending, each with its embedding. It refuses
// resolutions of different queries, a missing shard or a shard twice,
// places that do not follow the shards' rows, and targets no shard holds,
// saying why (for a seed set as one store says it, naming the file and
// line).
func MergeTargets(ts []*ShardTarget) ([]StoredTarget, error) {
	if len(ts) == 0 {
		return nil, fmt.Errorf("%w: no shard's target to merge", ErrPartial)
	}
	ts = slices.Clone(ts)
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].Shard < ts[j].Shard })
	first := ts[0]
	var before int64
	var found []StoredTarget
	for i, t := range ts {
		switch {
		case t.Format != TargetsFormat:
			return nil, fmt.Errorf("%w: shard %d's target is format %d, this laiondb merges format %d", ErrPartial, t.Shard, t.Format, TargetsFormat)
		case t.Query != first.Query:
			return nil, fmt.Errorf("%w: shard %d resolved the target of %q, shard %d of %q: different queries", ErrPartial, t.Shard, t.Query, first.Shard, first.Query)
		case t.Shards != first.Shards:
			return nil, fmt.Errorf("%w: shard %d's target is one of %d shards, shard %d's one of %d", ErrPartial, t.Shard, t.Shards, first.Shard, first.Shards)
		case i > 0 && t.Shard == ts[i-1].Shard:
			return nil, fmt.Errorf("%w: shard %d of %d's target given twice", ErrPartial, t.Shard, t.Shards)
		case t.Shard != i+1:
			return nil, fmt.Errorf("%w: %d of %d shards' targets given; shard %d is missing (a target no shard given holds may lie in it)", ErrPartial, len(ts), first.Shards, i+1)
		case t.Place.Total != first.Place.Total:
			return nil, fmt.Errorf("%w: shard %d places its rows among %d rows in all, shard %d among %d", ErrPartial, first.Shard, first.Place.Total, t.Shard, t.Place.Total)
		case t.Place.Before != before:
			return nil, fmt.Errorf("%w: shard %d lies after %d rows, but the shards before it hold %d: the places given do not match the shards' stores", ErrPartial, t.Shard, t.Place.Before, before)
		}
		for j, f := range t.Found {
			if f.Row < t.Place.Before || f.Row >= t.Place.Before+int64(t.TotalRows) || len(f.Vec) == 0 || j > 0 && f.Row <= t.Found[j-1].Row {
				return nil, fmt.Errorf("%w: shard %d found a target at row %d, outside its rows %d-%d or out of order", ErrPartial, t.Shard, f.Row, t.Place.Before, t.Place.Before+int64(t.TotalRows)-1)
			}
		}
		found = append(found, t.Found...)
		before += int64(t.TotalRows)
	}
	if len(ts) != first.Shards {
		return nil, fmt.Errorf("%w: %d of %d shards' targets given; shard %d is missing", ErrPartial, len(ts), first.Shards, len(ts)+1)
	}
	if before != first.Place.Total {
		return nil, fmt.Errorf("%w: the shards hold %d rows, their places say %d: the places given do not match the shards' stores", ErrPartial, before, first.Place.Total)
	}
	q, err := query.Parse(first.Query)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPartial, err)
	}
	tn := (&Plan{q: q}).resolvedTarget()
	if tn == nil {
		return nil, fmt.Errorf("%w: %s has no row or id target or seed set", ErrPartial, first.Query)
	}
	switch t := tn.Target; t.Kind {
	case query.TargetRow, query.TargetSampleID:
		if len(found) == 0 && t.Kind == query.TargetRow {
			return nil, fmt.Errorf("target %s: row %d (the shards hold %d rows)", tn, t.Row, before)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("target %s: no row has sample_id %d", tn, t.SampleID)
		}
		return found[:1], nil
	default:
		seeds, err := readSeeds(t)
		if err != nil {
			return nil, fmt.Errorf("target %s: %v", tn, err)
		}
		ids := map[int64]bool{}
		for _, f := range found {
			if f.ID != nil {
				ids[*f.ID] = true
			}
		}
		if err := checkSeeds(t, seeds, before, ids); err != nil {
			return nil, fmt.Errorf("target %s: %v", tn, err)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%w: target %s: no shard holds a seed row", ErrPartial, tn)
		}
		return found, nil
	}
}

// seedPartial is searchPartial for a seed set: one search from each
// resolved seed (Options.Targets) among the shard's rows that where
// allows, other than the seeds, as one store runs them; the partial keeps
// each seed's hits, and once each of their rows with its columns.
func (p *Plan) seedPartial(ctx context.Context, s Store, out *Partial, tn *query.TargetNode, kind string) error {
	n := s.NumRows()
	allow := vector.NewBitset(n)
	if p.where != nil {
		sel, err := p.selectCached(ctx, s)
		if err != nil {
			return err
		}
		out.RowsScanned = sel.n
		allow = sel.rows.Clone()
	} else {
		allow.Fill()
	}
	pl := p.opts.Place
	for _, t := range p.opts.Targets {
		if local := t.Row - pl.Before; local >= 0 && local < int64(n) {
			allow.Clear(uint32(local))
		}
	}
	has := s.VectorRows(searchSpace(p.q.Source))
	has.And(allow)
	seedHits := make([][]Hit, len(p.opts.Targets))
	best := map[uint32]float32{}
	sr := SearchResult{Exact: true, Method: "none: no embedding among the shard's allowed rows"}
	var methods []string
	for i, t := range p.opts.Targets {
		seedHits[i] = []Hit{}
		if has.Count() == 0 {
			continue
		}
		vec, err := p.targetVector(ctx, s, tn, t)
		if err != nil {
			return err
		}
		req, _, err := p.request(ctx, s, vec, &selected{rows: allow})
		if err != nil {
			return err
		}
		req.Allow = allow // with where or without
		one, err := p.search(ctx, s, req, kind)
		if err != nil {
			return err
		}
		sr.Exact = sr.Exact && one.Exact
		sr.Scanned += one.Scanned
		sr.NearThreshold += one.NearThreshold
		if !slices.Contains(methods, one.Method) {
			methods = append(methods, one.Method)
		}
		seedHits[i] = one.Hits
		for _, h := range one.Hits {
			if b, ok := best[h.Row]; !ok || h.Score > b {
				best[h.Row] = h.Score
			}
		}
	}
	if len(methods) > 0 {
		sr.Method = fmt.Sprintf("%d seed searches, each: %s", len(p.opts.Targets), strings.Join(methods, "; "))
	}
	for r, sc := range best {
		sr.Hits = append(sr.Hits, Hit{Row: r, Score: sc})
	}
	slices.SortFunc(sr.Hits, func(a, b Hit) int { return cmp.Compare(a.Row, b.Row) })
	out.VectorsScanned = sr.Scanned
	ps, err := p.hitRows(ctx, s, sr.Hits)
	if err != nil {
		return err
	}
	ps.Exact, ps.Method, ps.NearThreshold, ps.SeedHits = sr.Exact, sr.Method, sr.NearThreshold, seedHits
	out.Search = ps
	return nil
}

// mergeSeeds merges a seed set's searches over the shards as one store
// merges its own: each seed's hits of every shard, best first (ties by
// row), its best K for knn; then their union, each row at its best score
// with the seeds that reached it (ascending), best first. Rows are
// numbered across the shards (ms.off); every hit row must be among its
// shard's hits, whose columns the merge reads.
func mergeSeeds(ps []*Partial, ms *mergeStore, st *SearchStats) ([]Hit, map[uint32][]uint32, error) {
	seedRows := ps[0].Target.Rows
	for _, p := range ps {
		if len(p.Search.SeedHits) != len(seedRows) {
			return nil, nil, fmt.Errorf("%w: shard %d holds the hits of %d seeds, not %d", ErrPartial, p.Shard, len(p.Search.SeedHits), len(seedRows))
		}
	}
	best := map[uint32]float32{}
	seeds := map[uint32][]uint32{}
	for i, seed := range seedRows {
		var hits []Hit
		for k, p := range ps {
			for _, h := range p.Search.SeedHits[i] {
				h.Row += uint32(ms.off[k])
				if at, ok := ms.hit[h.Row]; !ok || at[0] != k {
					return nil, nil, fmt.Errorf("%w: shard %d: seed %d reached row %d, which its hits do not hold", ErrPartial, p.Shard, seed, h.Row)
				}
				hits = append(hits, h)
			}
		}
		slices.SortFunc(hits, bestFirst)
		if st.Kind == "knn" && len(hits) > st.K {
			hits = hits[:st.K]
		}
		for _, h := range hits {
			if b, ok := best[h.Row]; !ok || h.Score > b {
				best[h.Row] = h.Score
			}
			seeds[h.Row] = append(seeds[h.Row], uint32(seed))
		}
	}
	out := make([]Hit, 0, len(best))
	for r, sc := range best {
		out = append(out, Hit{Row: r, Score: sc})
	}
	slices.SortFunc(out, bestFirst)
	return out, seeds, nil
}
