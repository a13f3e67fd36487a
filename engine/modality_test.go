package engine_test

import (
	"context"
	"testing"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/query"
)

// recorder remembers the last search request.
type recorder struct {
	*enginetest.Store
	last engine.SearchRequest
}

func (r *recorder) Search(ctx context.Context, req engine.SearchRequest) (engine.SearchResult, error) {
	r.last = req
	return r.Store.Search(ctx, req)
}

// TestSearchRequestImage checks that searches from image embeddings (row,
// id) are marked as such and the others are not, so that a store can
// choose its search width by query kind.
func TestSearchRequestImage(t *testing.T) {
	s := &recorder{Store: enginetest.Generate(200, 4, 1)}
	s.SetText("beautiful", []float32{1, 0, 0, 0})
	for q, want := range map[string]bool{
		`knn(row(3), 5)`:                           true,
		`knn('beautiful', 5)`:                      false,
		`knn([0.5, 0.5, 0, 0], 5)`:                 false,
		`knn(row(3), 5) where text ~ 'desi'`:       true,
		`knn('beautiful', 5) post where width<300`: false,
	} {
		if _, err := engine.Run(context.Background(), s, query.MustParse(q), nil); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if s.last.Image != want {
			t.Errorf("%s: Image = %v, want %v", q, s.last.Image, want)
		}
	}
	// The fake store has no encoder and no SAMPLE_ID; the kinds decide.
	for k, want := range map[query.TargetKind]bool{query.TargetImage: true, query.TargetRow: true, query.TargetSampleID: true,
		query.TargetText: false, query.TargetVector: false, query.TargetNpy: false} {
		if k.IsImage() != want {
			t.Errorf("kind %d: IsImage %v", k, !want)
		}
	}
}
