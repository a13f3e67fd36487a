package db

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/x448/float16"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/internal/npy"
	"github.com/laiondb/laiondb/query"
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
	f, err := npy.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	defer f.Close()
	raw := make([]byte, f.Cols*f.DType.Size())
	if _, err := f.ReadRaw(raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: %s has no rows", ErrBadInput, path)
		}
		return nil, err
	}
	q := make([]float32, f.Cols)
	for j := range q {
		if f.DType == npy.Float16 {
			q[j] = float16.Frombits(binary.LittleEndian.Uint16(raw[2*j:])).Float32()
		} else {
			q[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
		}
		if math.IsNaN(float64(q[j])) || math.IsInf(float64(q[j]), 0) {
			return nil, fmt.Errorf("%w: %s: row 0, element %d is %v", ErrBadInput, path, j, q[j])
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

// Explain returns the plan of a query without running it.
func (d *DB) Explain(q string, opts *engine.Options) (*engine.Plan, error) {
	p, _, err := d.plan(q, opts)
	return p, err
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
	p, err := engine.NewPlan(parsed, v, opts)
	return p, v, err
}
