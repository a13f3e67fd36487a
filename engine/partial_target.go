package engine

import (
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

	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/table"
)

// A row or id target over shards. row(N) and id(N) name one row of the
// dataset, which one shard holds, and every shard must search with its
// embedding. Such a query runs in two steps. First every shard resolves
// the target as far as it holds it (Plan.ResolveTarget): the row's number
// among all the shards' rows and its embedding, or nothing. Then every
// shard runs its partial with the resolution of all the shards
// (MergeTargets, into Options.Target): the shard holding the row searches
// from the row itself, as one store does, and the others search with its
// embedding. The partials record the target's row, and the merge ranks
// it first among the hits of its score, as one store ranks a row target's
// own row.

// TargetsFormat is the version of the ShardTarget format.
const TargetsFormat = 1

// ShardTarget is one shard's resolution of a query's row or id target.
type ShardTarget struct {
	Format      int    `json:"format"`
	Version     string `json:"laiondb_version"`
	Query       string `json:"query"`
	Shard       int    `json:"shard"`
	Shards      int    `json:"shards"`
	Fingerprint string `json:"fingerprint"`
	Place       Place  `json:"place"`
	TotalRows   int    `json:"total_rows"`
	// Found is the target as this shard holds it; nil when it holds no
	// row the target names.
	Found *StoredTarget `json:"found,omitempty"`
}

// StoredTarget is a resolved row or id target: the row, numbered among
// all the shards' rows, and its embedding (unit norm, as the store holding
// it gives a search).
type StoredTarget struct {
	Row int64     `json:"row"`
	Vec []float32 `json:"vector"`
}

// Digest returns a hex SHA-256 of the row and the vector's bits, which a
// partial records so that the merge can tell shards given different
// resolutions apart.
func (t *StoredTarget) Digest() string {
	h := sha256.New()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(t.Row))
	h.Write(b[:])
	for _, x := range t.Vec {
		binary.LittleEndian.PutUint32(b[:4], math.Float32bits(x))
		h.Write(b[:4])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// PartialTarget is what a partial records of its query's resolved row or
// id target.
type PartialTarget struct {
	// Row is the target's row among all the shards' rows.
	Row int64 `json:"row"`
	// Digest is the resolution's (StoredTarget.Digest).
	Digest string `json:"digest"`
}

// storedTarget returns the plan's row or id search target, or nil when
// its search target is of another kind (or it has no search).
func (p *Plan) storedTarget() *query.TargetNode {
	var tn *query.TargetNode
	switch src := p.q.Source.(type) {
	case *query.KNNSource:
		tn = src.Target
	case *query.WithinSource:
		tn = src.Target
	}
	if tn == nil || !tn.Target.Kind.Stored() || tn.Target.Kind.Seeds() {
		return nil
	}
	return tn
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
// or id target: it returns the target as shard number shard of shards
// holds it, which needs the shard's place (Options.Place). A row(N) target
// is found in the shard whose rows hold row N of all; an id(N) target in
// every shard holding a row with that sample_id, at its first such row
// (MergeTargets keeps the first of all).
func (p *Plan) ResolveTarget(ctx context.Context, s Store, shard, shards int) (*ShardTarget, error) {
	tn := p.storedTarget()
	if tn == nil {
		return nil, fmt.Errorf("%w: %s has no row or id target to resolve", ErrPartial, p.q.String())
	}
	pl := p.opts.Place
	if pl == nil {
		return nil, fmt.Errorf("%w: a row or id target is resolved over the rows of every shard: give the shard's place among them (laiondb query --rows-before N --rows-total N; laiondb slurm does)", ErrPartial)
	}
	n := int64(s.NumRows())
	if err := checkPlace(pl, n, shard, shards); err != nil {
		return nil, err
	}
	out := &ShardTarget{Format: TargetsFormat, Version: buildVersion(), Query: p.q.String(), Shard: shard, Shards: shards,
		Fingerprint: s.Fingerprint(), Place: *pl, TotalRows: s.NumRows()}
	t := tn.Target
	local := int64(-1)
	switch t.Kind {
	case query.TargetRow:
		if r := int64(t.Row); r >= pl.Before && r < pl.Before+n {
			local = r - pl.Before
		}
	case query.TargetSampleID:
		if !slices.ContainsFunc(s.Columns(), func(c table.ColumnInfo) bool { return c.Name == "sample_id" }) {
			break // a shard without the column holds no such row
		}
		rows, err := rowsWithIDs(ctx, s, []int64{t.SampleID}, "id("+fmt.Sprint(t.SampleID)+")")
		if err != nil {
			return nil, err
		}
		if len(rows) > 0 {
			local = int64(rows[0])
		}
	}
	if local < 0 {
		return out, nil
	}
	vec, err := s.Vector(ctx, query.Target{Kind: query.TargetRow, Row: uint32(local), Space: t.Space})
	if err != nil {
		return nil, &query.Error{Query: p.q.Text, Off: tn.Offset, Msg: fmt.Sprintf("target %s: %v", tn, err), Err: err}
	}
	out.Found = &StoredTarget{Row: pl.Before + local, Vec: vec}
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
// target into the target all the shards search with: the row the target
// names among all the rows (for id(N), the first row with that sample_id)
// and its embedding. It refuses resolutions of different queries, a
// missing shard or a shard twice, places that do not follow the shards'
// rows, and a target no shard holds, saying why.
func MergeTargets(ts []*ShardTarget) (*StoredTarget, error) {
	if len(ts) == 0 {
		return nil, fmt.Errorf("%w: no shard's target to merge", ErrPartial)
	}
	ts = slices.Clone(ts)
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].Shard < ts[j].Shard })
	first := ts[0]
	var before int64
	var found *StoredTarget
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
		if f := t.Found; f != nil {
			if f.Row < t.Place.Before || f.Row >= t.Place.Before+int64(t.TotalRows) || len(f.Vec) == 0 {
				return nil, fmt.Errorf("%w: shard %d found the target at row %d, outside its rows %d-%d", ErrPartial, t.Shard, f.Row, t.Place.Before, t.Place.Before+int64(t.TotalRows)-1)
			}
			if found == nil {
				found = f
			}
		}
		before += int64(t.TotalRows)
	}
	if len(ts) != first.Shards {
		return nil, fmt.Errorf("%w: %d of %d shards' targets given; shard %d is missing", ErrPartial, len(ts), first.Shards, len(ts)+1)
	}
	if before != first.Place.Total {
		return nil, fmt.Errorf("%w: the shards hold %d rows, their places say %d: the places given do not match the shards' stores", ErrPartial, before, first.Place.Total)
	}
	if found == nil {
		q, err := query.Parse(first.Query)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrPartial, err)
		}
		p := &Plan{q: q}
		if tn := p.storedTarget(); tn != nil && tn.Target.Kind == query.TargetRow {
			return nil, fmt.Errorf("target %s: row %d (the shards hold %d rows)", tn, tn.Target.Row, before)
		} else if tn != nil {
			return nil, fmt.Errorf("target %s: no row has sample_id %d", tn, tn.Target.SampleID)
		}
		return nil, fmt.Errorf("%w: %s has no row or id target", ErrPartial, first.Query)
	}
	return found, nil
}
