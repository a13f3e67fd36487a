package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/internal/atomicfile"
)

// An audit of a dataset held as shards, each on its own machine (laiondb
// slurm): every shard runs the audit's queries as partial results
// (ShardWriter), written into one folder, and Run over a ShardMerger of
// that folder writes the report the store of all the shards would give.
// A view the shards answered through an index is written a second time
// exactly, so that the merged report measures the index against the
// exact answer as one store's does.

// PartialQuerier is a store that answers a query as one shard of a
// dataset (*laiondb.Store does).
type PartialQuerier interface {
	QueryPartial(ctx context.Context, q string, opts *engine.Options, shard, shards int) (*engine.Partial, error)
	Columns() []string
}

// partialPath is the file of the partial result of query q (exact: its
// exact answer) of shard k of m, in dir.
func partialPath(dir, q string, exact bool, k, m int) string {
	h := sha256.Sum256([]byte(q))
	name := hex.EncodeToString(h[:8])
	if exact {
		name += "-exact"
	}
	return filepath.Join(dir, fmt.Sprintf("%s-shard-%d-of-%d.json", name, k, m))
}

// ShardWriter is a Querier that writes, for each query Run asks, the
// partial result of shard Shard of Shards into Dir, and answers Run with
// an empty result: the report of a Run over it means nothing; the files
// are what it is for.
type ShardWriter struct {
	Store         PartialQuerier
	Dir           string
	Shard, Shards int
}

// Columns implements Querier.
func (w *ShardWriter) Columns() []string { return w.Store.Columns() }

// Query implements Querier: it writes q's partial result (and, when the
// shard answered through an index, its exact one) and returns an exact,
// empty result.
func (w *ShardWriter) Query(ctx context.Context, q string, opts *engine.Options) (*engine.Result, error) {
	p, err := w.Store.QueryPartial(ctx, q, opts, w.Shard, w.Shards)
	if err != nil {
		return nil, err
	}
	if err := writePartial(partialPath(w.Dir, q, opts != nil && opts.Exact, w.Shard, w.Shards), p); err != nil {
		return nil, err
	}
	if p.Search != nil && !p.Search.Exact && (opts == nil || !opts.Exact) {
		o := engine.Options{Exact: true}
		if opts != nil {
			o = *opts
			o.Exact = true
		}
		ep, err := w.Store.QueryPartial(ctx, q, &o, w.Shard, w.Shards)
		if err != nil {
			return nil, err
		}
		if err := writePartial(partialPath(w.Dir, q, true, w.Shard, w.Shards), ep); err != nil {
			return nil, err
		}
	}
	return &engine.Result{Query: q, Exact: true}, nil
}

func writePartial(path string, p *engine.Partial) error {
	return atomicfile.Write(path, func(w io.Writer) error { return json.NewEncoder(w).Encode(p) })
}

// ShardMerger is a Querier over the partial results ShardWriters of every
// shard wrote into Dir: each query's answer is its partials merged
// (engine.MergePartials), and a query some shard did not write is an
// error naming the shard.
type ShardMerger struct {
	Dir    string
	Shards int
	// Options holds the merge's memory and temporary folder for 'by'
	// values (GroupBytes, TempDir); nil: the defaults.
	Options *engine.Options
	cols    []string
}

// Columns implements Querier: the columns of the shards, from their first
// partial results, in the order first seen.
func (m *ShardMerger) Columns() []string {
	if m.cols != nil {
		return m.cols
	}
	for k := 1; k <= m.Shards; k++ {
		paths, _ := filepath.Glob(filepath.Join(m.Dir, fmt.Sprintf("*-shard-%d-of-%d.json", k, m.Shards)))
		if len(paths) == 0 {
			continue
		}
		p, err := readPartial(paths[0])
		if err != nil {
			continue
		}
		for _, c := range p.Columns {
			if !slices.Contains(m.cols, c.Name) {
				m.cols = append(m.cols, c.Name)
			}
		}
	}
	return m.cols
}

// Query implements Querier.
func (m *ShardMerger) Query(ctx context.Context, q string, opts *engine.Options) (*engine.Result, error) {
	exact := opts != nil && opts.Exact
	var ps []*engine.Partial
	for k := 1; k <= m.Shards; k++ {
		path := partialPath(m.Dir, q, exact, k, m.Shards)
		p, err := readPartial(path)
		if exact && os.IsNotExist(err) {
			// The shard answered exactly the first time.
			p, err = readPartial(partialPath(m.Dir, q, false, k, m.Shards))
			if err == nil && p.Search != nil && !p.Search.Exact {
				err = fmt.Errorf("no exact answer to %q was written", q)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("shard %d of %d: %w", k, m.Shards, err)
		}
		ps = append(ps, p)
	}
	return engine.MergePartials(ps, m.Options)
}

func readPartial(path string) (*engine.Partial, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	p, err := engine.ReadPartial(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}
