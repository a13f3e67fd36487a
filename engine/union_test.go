package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/table"
	"github.com/laiondb/laiondb/vector"
)

// unionQueries are the kinds of query a sharded store must answer as one
// store does: statistics of every row and of a where, label counts by a
// column and by domain, lexicons, the similarity sweep, samples of the
// whole store and per file, rates by file, exact k-NN with and without a
// where, row and id targets, range searches and dedup.
var unionQueries = []string{
	`all`,
	`all where text contains 'desi' by nsfw`,
	`all where width < 300 by license`,
	`all where any lexicon essay2021 by domain(url)`,
	`all sweep similarity at (0.26, 0.3, 0.34)`,
	`all sample 50 per file seed 3 by file`,
	`all sample 200 seed 5 where nsfw = 'UNLIKELY'`,
	`all where text contains 'hot' by file`,
	`knn('beautiful', 25)`,
	`knn('beautiful', 40) where nsfw = 'UNLIKELY' by license`,
	`knn(row(1234), 10)`,
	`knn(row(2999), 10) where width > 500`,
	`knn(id(4000), 15)`,
	`within('beautiful', 0.2)`,
	`within(row(17), 0.3) where text contains 'a'`,
	`knn('beautiful', 20) dedup 0.5`,
	`within('beautiful', 0.25) dedup 0.6`,
}

// resultJSON is a Result as JSON, without what a union may word
// differently: the plan, the fingerprint and the search method.
func resultJSON(t *testing.T, res *engine.Result) string {
	t.Helper()
	r := *res
	r.Plan, r.Fingerprint = "", ""
	if r.Search != nil {
		s := *r.Search
		s.Method = ""
		r.Search = &s
	}
	b, err := json.MarshalIndent(&r, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestUnionEqualsOneStore splits a generated store into 1, 2, 5 and 17
// consecutive shards (one of them empty) and checks that every query over
// their union gives, byte for byte in JSON apart from the plan,
// fingerprint and search method, the answer of the store itself, and the
// same selected rows and hits.
func TestUnionEqualsOneStore(t *testing.T) {
	const n = 3100
	whole := enginetest.Generate(n, 16, 11)
	whole.FileRows = 700
	whole.BatchSize = 333
	// Exact duplicates, so that ties decide ranks: copies of rows further
	// on, and of the row targets' rows before and after them.
	vecs := whole.Vectors()
	for i := 0; i+1500 < n; i += 97 {
		vecs[i+1500] = vecs[i]
	}
	for _, d := range [][2]int{{100, 1234}, {2500, 1234}, {5, 17}, {3000, 17}, {900, 1000}} {
		vecs[d[0]] = vecs[d[1]]
	}
	ctx := context.Background()
	opts := &engine.Options{Rows: engine.AllRows}
	want := map[string]*engine.Result{}
	for _, q := range unionQueries {
		res, err := engine.Run(ctx, &rowFirst{Store: whole, self: -1}, query.MustParse(q), opts)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		want[q] = res
		if res.Selected == 0 || res.Selected == n && strings.Contains(q, "where") {
			t.Fatalf("%s selects %d of %d rows: a poor test", q, res.Selected, n)
		}
		if res.Search != nil && res.Search.Dedup > 0 && res.Search.Deduped == 0 {
			t.Fatalf("%s drops no near-duplicate: a poor test", q)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, shards := range []int{1, 2, 5, 17} {
		cuts := []int{0, n}
		for len(cuts) < shards+1 {
			cuts = append(cuts, rng.IntN(n))
		}
		if shards == 5 {
			cuts[2] = cuts[3] // an empty shard
		}
		slices.Sort(cuts)
		for _, q := range unionQueries {
			parts := make([]engine.Store, shards)
			for i := range parts {
				parts[i] = &rowFirst{Store: whole.Rows(cuts[i], cuts[i+1]), self: -1}
			}
			u, err := engine.NewUnion(parts...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := engine.Run(ctx, u, query.MustParse(q), opts)
			if err != nil {
				t.Fatalf("%d shards: %s: %v", shards, q, err)
			}
			if g, w := resultJSON(t, got), resultJSON(t, want[q]); g != w {
				t.Fatalf("%d shards %v: %s: the union's answer differs from the store's:\n%s", shards, cuts, q, firstDiff(g, w))
			}
			if !slices.Equal(got.Selection.Words(), want[q].Selection.Words()) || !slices.Equal(got.Hits, want[q].Hits) {
				t.Fatalf("%d shards: %s: other rows selected", shards, q)
			}
		}
	}
}

// firstDiff shows the first line where two texts differ.
func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return "line " + la[i] + "\n want " + lb[i]
		}
	}
	return "lengths differ"
}

// rowFirst adds to an enginetest store the rule db's snapshots keep and
// the language promises: a row or id target comes first among the rows
// that tie with it. Like a snapshot, it serves one query.
type rowFirst struct {
	*enginetest.Store
	self int64
	sp   query.Space
}

func (s *rowFirst) Vector(ctx context.Context, t query.Target) ([]float32, error) {
	s.self = -1
	v, err := s.Store.Vector(ctx, t)
	if err != nil {
		return nil, err
	}
	switch t.Kind {
	case query.TargetRow:
		s.self, s.sp = int64(t.Row), t.Space
	case query.TargetSampleID:
		ids := s.Column("sample_id")
		for i, id := range ids.Int {
			if id == t.SampleID && !ids.IsNull(i) {
				s.self, s.sp = int64(i), t.Space
				break
			}
		}
	}
	return v, nil
}

// first ranks every allowed row, then moves the target's row before the
// rows that tie with it.
func (s *rowFirst) first(ctx context.Context, req engine.SearchRequest) (engine.SearchResult, error) {
	all := req
	all.K = s.NumRows()
	res, err := s.Store.Search(ctx, all)
	if err != nil || s.self < 0 || s.sp != req.Space {
		return res, err
	}
	i := slices.IndexFunc(res.Hits, func(h engine.Hit) bool { return int64(h.Row) == s.self })
	if i < 0 {
		return res, nil
	}
	h := res.Hits[i]
	j := i
	for j > 0 && res.Hits[j-1].Score == h.Score {
		j--
	}
	copy(res.Hits[j+1:i+1], res.Hits[j:i])
	res.Hits[j] = h
	return res, nil
}

func (s *rowFirst) Search(ctx context.Context, req engine.SearchRequest) (engine.SearchResult, error) {
	res, err := s.first(ctx, req)
	res.Hits = res.Hits[:min(len(res.Hits), req.K)]
	return res, err
}

func (s *rowFirst) Within(ctx context.Context, req engine.SearchRequest) (engine.SearchResult, error) {
	res, err := s.first(ctx, req)
	k := slices.IndexFunc(res.Hits, func(h engine.Hit) bool { return h.Score < req.MinScore })
	if k >= 0 {
		res.Hits = res.Hits[:k]
	}
	return res, err
}

// failing is a store whose scans, fetches and searches fail, as a shard
// on a lost disk would.
type failing struct{ *enginetest.Store }

var errLost = errors.New("the disk went away")

func (failing) Scan(context.Context, []string, func(*table.Batch) error) error { return errLost }
func (failing) Fetch(context.Context, []uint32, []string) (*table.Batch, error) {
	return nil, errLost
}
func (failing) Search(context.Context, engine.SearchRequest) (engine.SearchResult, error) {
	return engine.SearchResult{}, errLost
}
func (failing) Within(context.Context, engine.SearchRequest) (engine.SearchResult, error) {
	return engine.SearchResult{}, errLost
}

// TestUnionFailedPart: a query over a union with a failing part fails,
// naming the part; it never answers from the other parts alone.
func TestUnionFailedPart(t *testing.T) {
	whole := enginetest.Generate(900, 8, 14)
	u, err := engine.NewUnion(whole.Rows(0, 300), failing{whole.Rows(300, 600)}, whole.Rows(600, 900))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`all by nsfw`, `knn('beautiful', 10)`, `knn(row(700), 5)`} {
		res, err := engine.Run(context.Background(), u, query.MustParse(q), nil)
		if !errors.Is(err, errLost) || !strings.Contains(err.Error(), "store 2 of 3") {
			t.Errorf("%s: %v, %v; want the second store's error", q, res, err)
		}
	}
}

// TestUnionWithinBatch: a union's range searches in one batch answer as
// each alone does (a part without allowed rows, an allow-list for none,
// a threshold no row reaches), and a failing part fails the batch.
func TestUnionWithinBatch(t *testing.T) {
	whole := enginetest.Generate(900, 8, 16)
	u, err := engine.NewUnion(whole.Rows(0, 300), whole.Rows(300, 300), whole.Rows(300, 900))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	vecs := whole.Vectors()
	late := vector.NewBitset(900)
	for r := 650; r < 900; r += 3 {
		late.Set(uint32(r))
	}
	var reqs []engine.SearchRequest
	for i, r := range []int{5, 301, 899, 450} {
		req := engine.SearchRequest{Vec: vecs[r], MinScore: 0.2, Exact: true, Image: true}
		switch i {
		case 1:
			req.Allow = late
		case 2:
			req.Allow = vector.NewBitset(900)
		case 3:
			req.MinScore = 2
		}
		reqs = append(reqs, req)
	}
	got, err := u.WithinBatch(ctx, reqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, req := range reqs {
		want, err := u.Within(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got[i].Hits, want.Hits) || got[i].Scanned != want.Scanned || got[i].Exact != want.Exact {
			t.Errorf("request %d: batch %d hits (%d scanned), alone %d (%d)", i, len(got[i].Hits), got[i].Scanned, len(want.Hits), want.Scanned)
		}
	}
	if len(got[0].Hits) < 2 || len(got[1].Hits) == 0 {
		t.Fatalf("%d and %d hits: a poor test", len(got[0].Hits), len(got[1].Hits))
	}
	bad, _ := engine.NewUnion(whole.Rows(0, 300), failing{whole.Rows(300, 900)})
	if _, err := bad.WithinBatch(ctx, reqs); !errors.Is(err, errLost) || !strings.Contains(err.Error(), "store 2 of 2") {
		t.Errorf("a failing part: %v", err)
	}
}
