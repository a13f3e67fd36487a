package db

import (
	"context"
	"fmt"
	"math"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/internal/npy"
	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/vector"
)

// Snapshot returns a read view of the store as it is now, implementing
// engine.Store. Ingests that commit afterwards are not visible through it;
// it stays valid until the DB is closed.
func (d *DB) Snapshot() (engine.Store, error) {
	return d.view()
}

// Search returns the req.K rows whose image embeddings have the highest
// inner product with req.Vec (cosine similarity: stored vectors are
// unit-norm), among the rows in req.Allow (nil: all rows). It uses the
// vector index when the store has one, unless req.Exact; the result says
// how it was computed and whether it is exact. req.Vec is used as given.
func (d *DB) Search(ctx context.Context, req engine.SearchRequest) (engine.SearchResult, error) {
	v, err := d.view()
	if err != nil {
		return engine.SearchResult{}, err
	}
	return v.Search(ctx, req)
}

// Within returns every row whose image embedding has an inner product of at
// least req.MinScore with req.Vec, among the rows in req.Allow (nil: all
// rows), by an exact scan.
func (d *DB) Within(ctx context.Context, req engine.SearchRequest) (engine.SearchResult, error) {
	v, err := d.view()
	if err != nil {
		return engine.SearchResult{}, err
	}
	return v.Within(ctx, req)
}

// readQueryNpy reads the first row of an .npy file as a query vector.
func readQueryNpy(path string) ([]float32, error) {
	a, err := npy.Read(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	rows, cols := a.Rows, a.Cols
	if cols == 1 && rows > 1 {
		rows, cols = 1, rows // a one-dimensional array: np.save(f, emb[i])
	}
	switch {
	case rows == 0 || cols == 0:
		return nil, fmt.Errorf("%w: %s holds no vector", ErrBadInput, path)
	case rows > 1:
		return nil, fmt.Errorf("%w: %s holds %d vectors of %d dimensions; a vector target takes one (save one row, e.g. np.save(f, emb[i]))", ErrBadInput, path, rows, cols)
	}
	q := make([]float32, cols)
	switch {
	case a.F16 != nil:
		vector.F16ToF32(q, a.F16)
	case a.F32 != nil:
		copy(q, a.F32)
	default:
		return nil, fmt.Errorf("%w: %s holds %s values, not floats", ErrBadInput, path, a.DType)
	}
	for j, x := range q {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("%w: %s: element %d is %v", ErrBadInput, path, j, x)
		}
	}
	return q, nil
}

// Query parses and runs an audit query (see package query for the
// language) against a snapshot of the store. Nil opts means defaults.
func (d *DB) Query(ctx context.Context, q string, opts *engine.Options) (*engine.Result, error) {
	p, v, err := d.plan(q, opts)
	if err != nil {
		return nil, err
	}
	return p.Run(ctx, v)
}

// QueryPartial runs a query against a snapshot of the store as shard
// number shard of shards (counted from 1, in file order) of a dataset,
// and returns its partial result, for engine.MergePartials.
func (d *DB) QueryPartial(ctx context.Context, q string, opts *engine.Options, shard, shards int) (*engine.Partial, error) {
	p, v, err := d.plan(q, opts)
	if err != nil {
		return nil, err
	}
	return p.RunPartial(ctx, v, shard, shards)
}

// ResolveTarget resolves a query's row or id target on the store as shard
// number shard of shards, placed by opts.Place: the first step of the
// query's partial run (engine.Plan.ResolveTarget; engine.MergeTargets
// merges the shards' answers into opts.Targets for QueryPartial).
func (d *DB) ResolveTarget(ctx context.Context, q string, opts *engine.Options, shard, shards int) (*engine.ShardTarget, error) {
	p, v, err := d.plan(q, opts)
	if err != nil {
		return nil, err
	}
	return p.ResolveTarget(ctx, v, shard, shards)
}

// QueryBatch runs several queries against one snapshot of the store and
// returns their results in order, each equal to Query's. Their knn
// searches run together (engine.RunBatch): the text targets encoded in one
// call, each where clause evaluated once, and the exact scans over the
// same rows done in one pass. A query with a row or id target runs on its
// own.
func (d *DB) QueryBatch(ctx context.Context, qs []string, opts *engine.Options) ([]*engine.Result, error) {
	v, err := d.view()
	if err != nil {
		return nil, err
	}
	plans := make([]*engine.Plan, len(qs))
	for i, q := range qs {
		parsed, err := query.Parse(q)
		if err != nil {
			return nil, err
		}
		if plans[i], err = engine.NewPlan(parsed, v, d.withCache(opts)); err != nil {
			return nil, err
		}
	}
	// RunBatch runs the plans it cannot batch one by one on the store it
	// is given; a row target leaves state in a view, so those get a view
	// of their own (the same snapshot).
	out := make([]*engine.Result, len(qs))
	var batch []*engine.Plan
	var at []int
	for i, q := range qs {
		if hasRowTarget(q) {
			own := v.clone()
			if out[i], err = plans[i].Run(ctx, own); err != nil {
				return nil, err
			}
			continue
		}
		batch = append(batch, plans[i])
		at = append(at, i)
	}
	res, err := engine.RunBatch(ctx, v, batch)
	if err != nil {
		return nil, err
	}
	for j, i := range at {
		out[i] = res[j]
	}
	return out, nil
}

// hasRowTarget reports whether a query's source names a stored row.
func hasRowTarget(q string) bool {
	parsed, err := query.Parse(q)
	if err != nil {
		return false
	}
	var tn *query.TargetNode
	switch s := parsed.Source.(type) {
	case *query.KNNSource:
		tn = s.Target
	case *query.WithinSource:
		tn = s.Target
	default:
		return false
	}
	return tn.Target.Kind.Stored()
}

// Explain returns the plan of a query without running it.
func (d *DB) Explain(q string, opts *engine.Options) (*engine.Plan, error) {
	p, _, err := d.plan(q, opts)
	return p, err
}

// Describe returns the plan of a query as laiondb query --explain prints
// it: without running the query, but with the text index's candidate
// count and the cost of verifying them where the index would be asked
// (engine.Plan.Explain).
func (d *DB) Describe(ctx context.Context, q string, opts *engine.Options) (string, error) {
	p, v, err := d.plan(q, opts)
	if err != nil {
		return "", err
	}
	return p.Explain(ctx, v)
}

// plan parses q and plans it against a snapshot of the store.
func (d *DB) plan(q string, opts *engine.Options) (*engine.Plan, *view, error) {
	parsed, err := query.Parse(q)
	if err != nil {
		return nil, nil, err
	}
	v, err := d.view()
	if err != nil {
		return nil, nil, err
	}
	p, err := engine.NewPlan(parsed, v, d.withCache(opts))
	return p, v, err
}

// withCache returns opts with the store's allow-list cache, unless opts
// has one.
func (d *DB) withCache(opts *engine.Options) *engine.Options {
	if d.allow == nil || opts != nil && opts.AllowCache != nil {
		return opts
	}
	var o engine.Options
	if opts != nil {
		o = *opts
	}
	o.AllowCache = d.allow
	return &o
}
