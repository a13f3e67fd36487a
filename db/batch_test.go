package db

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/laiondb/laiondb/demodata"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/vector"
)

// fakeEmbedder maps each text to a fixed pseudo-random vector and counts
// its calls.
type fakeEmbedder struct {
	dim   int
	calls atomic.Int32
}

func (f *fakeEmbedder) Name() string { return "fake" }
func (f *fakeEmbedder) Dim() int     { return f.dim }
func (f *fakeEmbedder) EncodeText(ctx context.Context, texts []string) ([][]float32, error) {
	f.calls.Add(1)
	out := make([][]float32, len(texts))
	for i, t := range texts {
		h := fnv.New64a()
		h.Write([]byte(t))
		r := rand.New(rand.NewPCG(h.Sum64(), 1))
		out[i] = make([]float32, f.dim)
		for j := range out[i] {
			out[i][j] = float32(r.NormFloat64())
		}
	}
	return out, nil
}
func (f *fakeEmbedder) EncodeImage(ctx context.Context, paths []string) ([][]float32, error) {
	return f.EncodeText(ctx, paths)
}

// TestQueryBatch: every answer of a batch equals the query's own answer,
// the text targets are encoded in one call, and exact scans over the same
// rows share a pass.
func TestQueryBatch(t *testing.T) {
	tmp := t.TempDir()
	emb, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 8, Parts: 2, Rows: 700, Dim: 16})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := demodata.LAION400M(filepath.Join(tmp, "meta"), demodata.Config{Seed: 8, Parts: 1, Rows: 300}); err != nil {
		t.Fatal(err)
	}
	w := openTest(t, filepath.Join(tmp, "store"))
	ingestPaths(t, w, emb.Dir, filepath.Join(tmp, "meta"))
	w.Close()
	fe := &fakeEmbedder{dim: 16}
	d, err := Open(filepath.Join(tmp, "store"), &Options{ReadOnly: true, Embedder: fe})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	qs := []string{
		"knn('beautiful', 10)",
		"knn('desi', 10)",
		"knn('beautiful', 10) where nsfw = 'UNLIKELY'",
		"knn('aunty', 10) where nsfw = 'UNLIKELY' by domain(url)",
		"knn('aunty', 7) where nsfw = 'UNLIKELY'",
		"knn(row(3), 10)",
		"knn(row(3), 10) in text",
		"all where text contains 'desi'",
		"within('desi', 0.2)",
		"knn('desi', 10) in text",
		"knn('hot', 10) where nsfw = 'NSFW' and text contains 'zzz-no-such'",
		"knn('hot', 10) post where nsfw = 'NSFW'",
	}
	ctx := context.Background()
	opts := &engine.Options{Rows: 3}
	got, err := d.QueryBatch(ctx, qs, opts)
	if err != nil {
		t.Fatal(err)
	}
	if c := fe.calls.Load(); c != 1 {
		t.Errorf("%d calls to the text encoder for the batch, want 1", c)
	}
	shared := 0
	for i, q := range qs {
		want, err := d.Query(ctx, q, opts)
		if err != nil {
			t.Fatal(err)
		}
		g := *got[i]
		if g.Search != nil && strings.Contains(g.Search.Method, "one pass shared by") {
			shared++
		}
		// The plans differ only in saying that a pass was shared.
		for _, r := range []*engine.Result{&g, want} {
			r.Plan = ""
			if r.Search != nil {
				s := *r.Search
				s.Method = ""
				r.Search = &s
			}
		}
		a, _ := json.Marshal(g)
		b, _ := json.Marshal(want)
		if string(a) != string(b) {
			t.Errorf("%s: batch answer\n%s\nwant\n%s", q, a, b)
		}
	}
	if shared < 4 {
		t.Errorf("%d searches shared a pass, want the 5 text-target knn searches over image embeddings in 2 groups", shared)
	}
}

// TestWithinBatch: every answer of a batch of range searches equals
// Within's for the request alone, and VectorRows lists the rows that have
// an embedding in each space.
func TestWithinBatch(t *testing.T) {
	ctx := context.Background()
	s, err := newSpaceFixture(t).d.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range []query.Space{query.SpaceImage, query.SpaceText} {
		rows := s.VectorRows(sp)
		if rows.Count() != 800 || !rows.Contains(0) || !rows.Contains(799) || rows.Contains(800) || rows.Cap() != 1100 {
			t.Errorf("%s: VectorRows holds %d rows of %d", sp, rows.Count(), rows.Cap())
		}
	}
	odd := vector.NewBitset(1100)
	for r := uint32(1); r < 1100; r += 2 {
		odd.Set(r)
	}
	var reqs []engine.SearchRequest
	for i, row := range []uint32{3, 3, 17, 500, 700, 701} {
		sp := query.Space(i % 2)
		q, err := s.Vector(ctx, query.Target{Kind: query.TargetRow, Row: row, Space: sp})
		if err != nil {
			t.Fatal(err)
		}
		for _, allow := range []*vector.Bitset{nil, odd} {
			for _, min := range []float32{0.5, 0.9} {
				reqs = append(reqs, engine.SearchRequest{Vec: q, MinScore: min, Allow: allow, Space: sp})
			}
		}
	}
	got, err := s.(engine.WithinBatcher).WithinBatch(ctx, reqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, req := range reqs {
		want, err := s.Within(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		g := got[i]
		if !strings.HasPrefix(g.Method, want.Method+"; one pass shared by") {
			t.Errorf("request %d: method %q, want %q and a shared pass", i, g.Method, want.Method)
		}
		g.Method = want.Method
		a, _ := json.Marshal(g)
		b, _ := json.Marshal(want)
		if string(a) != string(b) {
			t.Errorf("request %d: batch answer\n%s\nwant\n%s", i, a, b)
		}
	}
	if _, err := s.(engine.WithinBatcher).WithinBatch(ctx, []engine.SearchRequest{{Vec: make([]float32, 5)}}); !errors.Is(err, ErrDimension) {
		t.Errorf("a short vector: %v", err)
	}
}
