package engine

import (
	"context"
	"fmt"

	"github.com/laiondb/laiondb/query"
)

// BatchSearcher is a Store that answers several k-NN requests at once, for
// example with one exact scan for all the requests that scan the same rows.
// Each answer must be the one Search gives for the request alone.
type BatchSearcher interface {
	SearchBatch(ctx context.Context, reqs []SearchRequest) ([]SearchResult, error)
}

// WithinBatcher is a Store that answers several range searches at once,
// for example with one exact scan for all the requests over the same rows.
// Each answer must be the one Within gives for the request alone.
type WithinBatcher interface {
	WithinBatch(ctx context.Context, reqs []SearchRequest) ([]SearchResult, error)
}

// TargetEncoder is a Store that resolves several targets at once, for
// example encoding all text targets in one call to the CLIP text encoder.
// Each vector must be the one Vector gives for the target alone.
type TargetEncoder interface {
	Vectors(ctx context.Context, ts []query.Target) ([][]float32, error)
}

// batchable reports whether a plan's search can join a batch: a knn
// source whose target is not a stored row (a row target makes the store
// rank that row first among ties, state that belongs to one query) and
// that does not dedup (which may search again, deeper).
func batchable(p *Plan) bool {
	k, ok := p.q.Source.(*query.KNNSource)
	if !ok {
		return false
	}
	return !k.Target.Target.Kind.Stored() && k.Dedup == 0
}

// RunBatch runs plans made for s and returns their results in order, each
// equal to what Plan.Run gives. The knn searches whose targets are not
// stored rows are done together: their targets resolved at once when s is
// a TargetEncoder, each distinct where clause evaluated once, and the
// searches handed to s at once when it is a BatchSearcher. The other plans
// run one by one.
func RunBatch(ctx context.Context, s Store, plans []*Plan) ([]*Result, error) {
	out := make([]*Result, len(plans))
	var idx []int
	for i, p := range plans {
		if batchable(p) {
			idx = append(idx, i)
		}
	}
	// Targets.
	vecs := make([][]float32, len(idx))
	if enc, ok := s.(TargetEncoder); ok && len(idx) > 1 {
		ts := make([]query.Target, len(idx))
		for j, i := range idx {
			ts[j] = plans[i].q.Source.(*query.KNNSource).Target.Target
		}
		var err error
		if vecs, err = enc.Vectors(ctx, ts); err != nil {
			return nil, err
		}
		if len(vecs) != len(idx) {
			return nil, fmt.Errorf("engine: the store resolved %d targets of %d", len(vecs), len(idx))
		}
	} else {
		for j, i := range idx {
			tn := plans[i].q.Source.(*query.KNNSource).Target
			v, err := s.Vector(ctx, tn.Target)
			if err != nil {
				p := plans[i]
				return nil, &query.Error{Query: p.q.Text, Off: tn.Offset, Msg: fmt.Sprintf("target %s: %v", tn, err), Err: err}
			}
			vecs[j] = v
		}
	}
	// Allow-lists, one per distinct where clause, and the requests.
	allows := map[string]*selected{}
	reqs := make([]SearchRequest, len(idx))
	sels := make([]*selected, len(idx))
	for j, i := range idx {
		p := plans[i]
		key := ""
		if p.where != nil {
			key = p.where.expr.String()
		}
		req, sel, err := p.request(ctx, s, vecs[j], allows[key])
		if err != nil {
			return nil, err
		}
		if sel != nil {
			allows[key] = sel
		}
		reqs[j], sels[j] = req, sel
	}
	// Searches.
	srs := make([]SearchResult, len(idx))
	var batch []int // requests with rows to search
	for j, req := range reqs {
		if req.Allow != nil && req.Allow.Count() == 0 {
			srs[j] = SearchResult{Exact: true, Method: "none: no row satisfies where"}
			continue
		}
		batch = append(batch, j)
	}
	if bs, ok := s.(BatchSearcher); ok && len(batch) > 1 {
		rs := make([]SearchRequest, len(batch))
		for b, j := range batch {
			rs[b] = reqs[j]
		}
		got, err := bs.SearchBatch(ctx, rs)
		if err != nil {
			return nil, fmt.Errorf("query: knn search: %w", err)
		}
		for b, j := range batch {
			srs[j] = got[b]
		}
	} else {
		for _, j := range batch {
			var err error
			if srs[j], err = plans[idx[j]].search(ctx, s, reqs[j], "knn"); err != nil {
				return nil, err
			}
		}
	}
	for j, i := range idx {
		res, err := plans[i].run(ctx, s, &searched{sr: srs[j], sel: sels[j]})
		if err != nil {
			return nil, err
		}
		out[i] = res
	}
	for i, p := range plans {
		if out[i] != nil {
			continue
		}
		res, err := p.Run(ctx, s)
		if err != nil {
			return nil, err
		}
		out[i] = res
	}
	return out, nil
}
