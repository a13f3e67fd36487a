package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/vector"
)

// RowVectorer is a Store that gives the stored embeddings of rows, for
// "dedup", which compares the rows a search found with each other. Its
// vectors need not be unit length. Package db and enginetest implement it.
type RowVectorer interface {
	// RowVectors returns the embeddings in space sp of rows, in order; an
	// error when a row has none.
	RowVectors(ctx context.Context, rows []uint32, sp query.Space) ([][]float32, error)
}

// dedupSpec returns a search source's dedup threshold (0 for none).
func dedupSpec(src query.Source) float64 {
	switch s := src.(type) {
	case *query.KNNSource:
		return s.Dedup
	case *query.WithinSource:
		return s.Dedup
	}
	return 0
}

// deduper keeps, of rows offered best first, each whose cosine with every
// row kept before it is below t: greedy, so the decision on a row depends
// only on the rows before it, and a longer list of candidates extends the
// answer without changing its start.
type deduper struct {
	s       RowVectorer
	sp      query.Space
	t       float32
	kept    [][]float32 // unit vectors of the kept rows
	hits    []Hit
	dropped int
}

// offer considers hits in order until want rows are kept (want < 0: all).
func (d *deduper) offer(ctx context.Context, hits []Hit, want int) error {
	for lo := 0; lo < len(hits) && (want < 0 || len(d.hits) < want); lo += 1024 {
		chunk := hits[lo:min(lo+1024, len(hits))]
		rows := make([]uint32, len(chunk))
		for i, h := range chunk {
			rows[i] = h.Row
		}
		vecs, err := d.s.RowVectors(ctx, rows, d.sp)
		if err != nil {
			return err
		}
		for i, v := range vecs {
			if want >= 0 && len(d.hits) >= want {
				return nil
			}
			u := slices.Clone(v)
			vector.Normalize(u)
			dup := false
			for _, k := range d.kept {
				if dot32(u, k) >= d.t {
					dup = true
					break
				}
			}
			if dup {
				d.dropped++
				continue
			}
			d.kept = append(d.kept, u)
			d.hits = append(d.hits, chunk[i])
		}
	}
	return nil
}

// dedup applies the source's dedup to a search's answer. A knn search is
// repeated deeper (4 times as many candidates each time) until K rows
// survive or the rows run out, so that dedup never returns fewer than K
// distinct rows when there are K.
func (p *Plan) dedup(ctx context.Context, s Store, req SearchRequest, sr SearchResult, kind string) (SearchResult, int, error) {
	t := dedupSpec(p.q.Source)
	rv, ok := s.(RowVectorer)
	if !ok {
		return sr, 0, errors.New("query: dedup needs the rows' embeddings, which this store does not give")
	}
	d := &deduper{s: rv, sp: req.Space, t: float32(t)}
	if kind != "knn" {
		if err := d.offer(ctx, sr.Hits, -1); err != nil {
			return sr, 0, err
		}
		sr.Hits = d.hits
		return sr, d.dropped, nil
	}
	k := req.K
	scanned := sr.Scanned
	for depth := k; ; {
		// The hits past those already offered.
		if err := d.offer(ctx, sr.Hits[min(len(sr.Hits), len(d.hits)+d.dropped):], k); err != nil {
			return sr, 0, err
		}
		if len(d.hits) >= k || len(sr.Hits) < depth || depth >= p.numRows {
			break
		}
		depth = min(4*depth, p.numRows)
		req.K = depth
		next, err := p.search(ctx, s, req, kind)
		if err != nil {
			return sr, 0, err
		}
		if !prefixOf(sr.Hits[:len(d.hits)+d.dropped], next.Hits) {
			// An approximate search may order a deeper answer differently:
			// start again on it.
			d = &deduper{s: rv, sp: req.Space, t: float32(t)}
		}
		scanned += next.Scanned
		method := next.Method
		sr = next
		sr.Method = fmt.Sprintf("%s (k=%d searched to keep %d rows after dedup)", method, depth, k)
	}
	sr.Hits, sr.Scanned = d.hits, scanned
	return sr, d.dropped, nil
}

// prefixOf reports whether a is the start of b.
func prefixOf(a, b []Hit) bool {
	if len(a) > len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// dot32 is the inner product of a and b, accumulated in float64.
func dot32(a, b []float32) float32 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return float32(s)
}
