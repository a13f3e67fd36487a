package db

import (
	"context"
	"fmt"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/query"
)

// Union is several stores queried as one: the rows of the first, then
// those of the second, and so on (engine.Union over their snapshots). A
// dataset ingested as shards, each shard a consecutive group of its files
// in file order, answers through a Union of the shards in that order as
// the store of all its files does: the same counts, shares, intervals,
// rows and exact hits (see engine.Union). It is safe for concurrent use;
// each query sees a snapshot of every store taken when it starts.
type Union struct {
	dbs []*DB
}

// NewUnion returns the union of dbs, in that order. They must hold
// embeddings of one dimension (or none) from one model, and no store may
// be given twice.
func NewUnion(dbs ...*DB) (*Union, error) {
	if len(dbs) == 0 {
		return nil, fmt.Errorf("db: a union of no stores")
	}
	var dim int
	var model, dimFrom, modelFrom string
	seen := map[string]string{}
	for _, d := range dbs {
		m, err := d.Manifest()
		if err != nil {
			return nil, err
		}
		fp := m.fingerprint()
		if prev, ok := seen[fp]; ok {
			return nil, fmt.Errorf("%w: %s and %s hold the same rows (fingerprint %s): a store given twice would count its rows twice", ErrBadInput, prev, d.dir, fp)
		}
		seen[fp] = d.dir
		if m.Dim != 0 {
			if dim != 0 && m.Dim != dim {
				return nil, fmt.Errorf("%w: %s holds %d-d embeddings, %s %d-d: one query cannot search both", ErrDimension, d.dir, m.Dim, dimFrom, dim)
			}
			dim, dimFrom = m.Dim, d.dir
		}
		if m.Model != "" {
			if model != "" && m.Model != model {
				return nil, fmt.Errorf("%w: %s holds embeddings of model %q, %s of %q: their scores are not comparable", ErrBadInput, d.dir, m.Model, modelFrom, model)
			}
			model, modelFrom = m.Model, d.dir
		}
	}
	return &Union{dbs: dbs}, nil
}

// Snapshot returns a read view of the stores as they are now, a new one
// for each query (it remembers a query's row target, as a store's snapshot
// does).
func (u *Union) Snapshot() (*engine.Union, error) {
	parts := make([]engine.Store, len(u.dbs))
	for i, d := range u.dbs {
		v, err := d.view()
		if err != nil {
			return nil, err
		}
		parts[i] = v
	}
	return engine.NewUnion(parts...)
}

// Fingerprint is the union's fingerprint (engine.Union's): a digest of
// the stores' fingerprints, in order; "" once a store is closed.
func (u *Union) Fingerprint() string {
	s, err := u.Snapshot()
	if err != nil {
		return ""
	}
	return s.Fingerprint()
}

// Query parses and runs a query over the union, as DB.Query does over one
// store. The allow-lists of a where are cached by each store for its own
// queries only, not for the union's.
func (u *Union) Query(ctx context.Context, q string, opts *engine.Options) (*engine.Result, error) {
	p, s, err := u.plan(q, opts)
	if err != nil {
		return nil, err
	}
	return p.Run(ctx, s)
}

// QueryPartial runs a query over the union as shard number shard of
// shards of a larger dataset (see DB.QueryPartial).
func (u *Union) QueryPartial(ctx context.Context, q string, opts *engine.Options, shard, shards int) (*engine.Partial, error) {
	p, s, err := u.plan(q, opts)
	if err != nil {
		return nil, err
	}
	return p.RunPartial(ctx, s, shard, shards)
}

// ResolveTarget resolves a query's row or id target on the union as
// shard number shard of shards (see DB.ResolveTarget).
func (u *Union) ResolveTarget(ctx context.Context, q string, opts *engine.Options, shard, shards int) (*engine.ShardTarget, error) {
	p, s, err := u.plan(q, opts)
	if err != nil {
		return nil, err
	}
	return p.ResolveTarget(ctx, s, shard, shards)
}

// Explain returns the plan of a query over the union without running it.
func (u *Union) Explain(q string, opts *engine.Options) (*engine.Plan, error) {
	p, _, err := u.plan(q, opts)
	return p, err
}

// Describe returns the plan of a query over the union as laiondb query
// --explain prints it (see DB.Describe).
func (u *Union) Describe(ctx context.Context, q string, opts *engine.Options) (string, error) {
	p, s, err := u.plan(q, opts)
	if err != nil {
		return "", err
	}
	return p.Explain(ctx, s)
}

func (u *Union) plan(q string, opts *engine.Options) (*engine.Plan, *engine.Union, error) {
	parsed, err := query.Parse(q)
	if err != nil {
		return nil, nil, err
	}
	s, err := u.Snapshot()
	if err != nil {
		return nil, nil, err
	}
	p, err := engine.NewPlan(parsed, s, opts)
	return p, s, err
}
