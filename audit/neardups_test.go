package audit_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/laiondb/laiondb/audit"
	"github.com/laiondb/laiondb/db"
	"github.com/laiondb/laiondb/demodata"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/vector"
)

// groupsOf computes near-duplicate groups by brute force: the float64
// cosine of every pair of the rows that have a vector and pass sel, and
// the connected components of the pairs at or above t, by a depth-first
// search. It returns the number of pairs and each grouped row's group
// representative (its lowest row); it fails the test when a pair's cosine
// lies within 2e-6 of t, where float32 rounding would decide.
func groupsOf(t *testing.T, vecs [][]float32, sel func(int) bool, th float64) (int64, map[uint32]uint32) {
	t.Helper()
	var rows []int
	for i, v := range vecs {
		if v != nil && (sel == nil || sel(i)) {
			rows = append(rows, i)
		}
	}
	unit := make([][]float64, len(vecs))
	for _, i := range rows {
		var ss float64
		for _, x := range vecs[i] {
			ss += float64(x) * float64(x)
		}
		unit[i] = make([]float64, len(vecs[i]))
		for d, x := range vecs[i] {
			unit[i][d] = float64(x) / math.Sqrt(ss)
		}
	}
	adj := map[int][]int{}
	var pairs int64
	for x, i := range rows {
		a := unit[i]
		for _, j := range rows[x+1:] {
			b := unit[j][:len(a)]
			var c float64
			for d := range a {
				c += a[d] * b[d]
			}
			if math.Abs(c-th) < 2e-6 {
				t.Fatalf("the fixture's rows %d and %d lie at cosine %.8f, too close to %v to test", i, j, c, th)
			}
			if c >= th {
				pairs++
				adj[i], adj[j] = append(adj[i], j), append(adj[j], i)
			}
		}
	}
	rep := map[uint32]uint32{}
	for _, i := range rows {
		if _, done := rep[uint32(i)]; done || len(adj[i]) == 0 {
			continue
		}
		stack := []int{i} // rows ascend, so i is its group's lowest row
		rep[uint32(i)] = uint32(i)
		for len(stack) > 0 {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, y := range adj[x] {
				if _, ok := rep[uint32(y)]; !ok {
					rep[uint32(y)] = uint32(i)
					stack = append(stack, y)
				}
			}
		}
	}
	return pairs, rep
}

// checkGroups compares a report (made with KeepRows) with groupsOf's
// answer: the pairs, the drop list with each row's representative, the
// counts and the histogram.
func checkGroups(t *testing.T, what string, r *audit.NearReport, pairs int64, rep map[uint32]uint32) {
	t.Helper()
	var drop, kept []uint32
	size := map[uint32]int{}
	for row, root := range rep {
		size[root]++
		if row != root {
			drop = append(drop, row)
		}
	}
	slices.Sort(drop)
	for _, d := range drop {
		kept = append(kept, rep[d])
	}
	hist := map[int]int{}
	for _, n := range size {
		hist[n]++
	}
	if r.Pairs != pairs || r.Groups != len(size) || r.Duplicates != len(drop) || !slices.Equal(r.Drop, drop) || !slices.Equal(r.Kept, kept) {
		t.Errorf("%s: %d pairs, %d groups, %d duplicates, drop %v kept %v;\nwant %d, %d, %d, drop %v kept %v",
			what, r.Pairs, r.Groups, r.Duplicates, head(r.Drop), head(r.Kept), pairs, len(size), len(drop), head(drop), head(kept))
	}
	got := map[int]int{}
	for _, g := range r.Sizes {
		got[g.Size] = g.Groups
	}
	for n, c := range hist {
		if got[n] != c {
			t.Errorf("%s: %d groups of %d rows, want %d", what, got[n], n, c)
		}
	}
	for _, g := range r.Largest {
		if size[g.First] != g.Rows {
			t.Errorf("%s: largest group at row %d has %d rows, want %d", what, g.First, g.Rows, size[g.First])
		}
	}
}

func head(rows []uint32) []uint32 { return rows[:min(len(rows), 8)] }

// planted builds unit vectors of dim 64: random rows (cosine near 0 to
// one another) with these near-duplicates among them, at rows given by
// the returned map:
//
//	pair     two rows at cosine 0.97
//	chain    a ~ b ~ c at cosine 0.95, a and c at 0.9025
//	above    two rows at t + 2e-5, below two at t - 2e-5
//	same     four identical rows
//	clique   40 rows at cosine about 0.98 to one another
func planted(n int, th float64, seed uint64) ([][]float32, map[string][]int) {
	const dim = 64
	r := rand.New(rand.NewPCG(seed, 1))
	unit := func() []float64 {
		v := make([]float64, dim)
		var s float64
		for i := range v {
			v[i] = r.NormFloat64()
			s += v[i] * v[i]
		}
		for i := range v {
			v[i] /= math.Sqrt(s)
		}
		return v
	}
	// orth returns unit vectors orthogonal to each other and to base.
	orth := func(base []float64, k int) [][]float64 {
		out := [][]float64{base}
		for len(out) < k+1 {
			u := unit()
			for _, b := range out {
				var d float64
				for i := range u {
					d += u[i] * b[i]
				}
				for i := range u {
					u[i] -= d * b[i]
				}
			}
			var s float64
			for _, x := range u {
				s += x * x
			}
			for i := range u {
				u[i] /= math.Sqrt(s)
			}
			out = append(out, u)
		}
		return out[1:]
	}
	// at returns the vector at cosine c to base, along the unit u ⟂ base.
	at := func(base, u []float64, c float64) []float64 {
		v := make([]float64, dim)
		for i := range v {
			v[i] = c*base[i] + math.Sqrt(1-c*c)*u[i]
		}
		return v
	}
	vecs := make([][]float32, n)
	f32 := func(v []float64) []float32 {
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x)
		}
		return out
	}
	for i := range vecs {
		vecs[i] = f32(unit())
	}
	rows := map[string][]int{}
	next, step := 7, (n-8)/53 // 53 planted rows, spread out
	put := func(name string, vs ...[]float64) {
		for _, v := range vs {
			rows[name] = append(rows[name], next)
			vecs[next] = f32(v)
			next += step
		}
	}
	b := unit()
	put("pair", b, at(b, orth(b, 1)[0], 0.97))
	b = unit()
	u := orth(b, 2)
	put("chain", at(b, u[0], 0.95), b, at(b, u[1], 0.95)) // the middle row is b
	b = unit()
	put("above", b, at(b, orth(b, 1)[0], th+2e-5))
	b = unit()
	put("below", b, at(b, orth(b, 1)[0], th-2e-5))
	b = unit()
	put("same", b, b, b, b)
	b = unit()
	var clique [][]float64
	for _, u := range orth(b, 40) {
		clique = append(clique, at(b, u, 0.99)) // pairwise 0.99² = 0.9801
	}
	put("clique", clique...)
	return vecs, rows
}

// TestNearDuplicatesExact: the exact method's groups are the brute-force
// float64 groups: a chain is one group, pairs just above and below the
// threshold fall on their sides, rows without a vector and rows outside
// the selection are left out.
func TestNearDuplicatesExact(t *testing.T) {
	const n, th = 1500, 0.94
	vecs, rows := planted(n, th, 1)
	// Text embeddings: the same, but the chain's middle row and one row of
	// the pair have none.
	txt := slices.Clone(vecs)
	txt[rows["chain"][1]], txt[rows["pair"][0]] = nil, nil
	s := enginetest.New(n).SetVectors(vecs).SetTextVectors(txt)
	ctx := context.Background()
	stored := s.Vectors()

	r, err := audit.NearDuplicates(ctx, s, &audit.NearOptions{KeepRows: true})
	if err != nil {
		t.Fatal(err)
	}
	pairs, rep := groupsOf(t, stored, nil, th)
	checkGroups(t, "image", r, pairs, rep)
	if r.Method != audit.NearExact || !r.Exact || r.Rows != n || r.Threshold != th || r.Index != nil || r.Scored == 0 {
		t.Errorf("method %s exact %v rows %d threshold %v scored %d", r.Method, r.Exact, r.Rows, r.Threshold, r.Scored)
	}
	in := func(row int) bool { _, ok := rep[uint32(row)]; return ok }
	ch := rows["chain"]
	if rep[uint32(ch[2])] != uint32(ch[0]) || !in(rows["above"][1]) || in(rows["below"][1]) || r.Largest[0].Rows != 40 {
		t.Errorf("chain %v, above %v, below %v, largest %v", ch, rows["above"], rows["below"], r.Largest)
	}

	// In text space the chain falls apart and the pair is gone.
	r, err = audit.NearDuplicates(ctx, s, &audit.NearOptions{Space: query.SpaceText, KeepRows: true})
	if err != nil {
		t.Fatal(err)
	}
	pairs, rep = groupsOf(t, txt, nil, th)
	checkGroups(t, "text", r, pairs, rep)
	if r.Rows != n-2 || in(ch[0]) || in(ch[2]) || in(rows["pair"][1]) {
		t.Errorf("text: %d rows; chain ends grouped %v %v", r.Rows, in(ch[0]), in(ch[2]))
	}

	// A selection that leaves out the chain's middle row and a row of
	// the clique, at another threshold.
	sel := vector.NewBitset(n)
	for i := range n {
		if i != ch[1] && i != rows["clique"][5] {
			sel.Set(uint32(i))
		}
	}
	r, err = audit.NearDuplicates(ctx, s, &audit.NearOptions{Selection: sel, Threshold: 0.96, KeepRows: true})
	if err != nil {
		t.Fatal(err)
	}
	pairs, rep = groupsOf(t, stored, func(i int) bool { return sel.Contains(uint32(i)) }, 0.96)
	checkGroups(t, "selection", r, pairs, rep)
	if r.Rows != n-2 || in(ch[0]) || r.Largest[0].Rows != 39 {
		t.Errorf("selection: %d rows, largest %v", r.Rows, r.Largest)
	}
}

// asymmetric is a store whose score of one pair of rows differs with the
// side it is computed from, as float32 scores of float16 rows can: from
// row lo it is below the threshold, from row hi above, or the reverse.
type asymmetric struct {
	*enginetest.Store
	lo, hi uint32
	fromLo float32 // the score of hi in lo's searches
	fromHi float32 // the score of lo in hi's searches
	mu     sync.Mutex
	rowOf  map[*float32]uint32
}

func (a *asymmetric) Vector(ctx context.Context, t query.Target) ([]float32, error) {
	v, err := a.Store.Vector(ctx, t)
	if err == nil && t.Kind == query.TargetRow {
		a.mu.Lock()
		a.rowOf[&v[0]] = t.Row
		a.mu.Unlock()
	}
	return v, err
}

func (a *asymmetric) Within(ctx context.Context, req engine.SearchRequest) (engine.SearchResult, error) {
	a.mu.Lock()
	q, ok := a.rowOf[&req.Vec[0]]
	a.mu.Unlock()
	req.MinScore -= 1e-3 // to see the pair, then filter
	sr, err := a.Store.Within(ctx, req)
	if err != nil || !ok {
		return sr, err
	}
	min := req.MinScore + 1e-3
	hits := sr.Hits[:0]
	for _, h := range sr.Hits {
		switch {
		case q == a.lo && h.Row == a.hi:
			h.Score = a.fromLo
		case q == a.hi && h.Row == a.lo:
			h.Score = a.fromHi
		}
		if h.Score >= min {
			hits = append(hits, h)
		}
	}
	sr.Hits = hits
	return sr, nil
}

// TestNearDuplicatesAsymmetric: a pair whose score crosses the threshold
// from one side only is joined, whichever side that is.
func TestNearDuplicatesAsymmetric(t *testing.T) {
	vecs, rows := planted(300, 0.94, 2)
	lo, hi := uint32(rows["pair"][0]), uint32(rows["pair"][1])
	const below, above = 0.94 - 2e-6, 0.94 + 1e-7
	for _, c := range []struct{ fromLo, fromHi float32 }{{below, above}, {above, below}, {below, below}} {
		s := &asymmetric{Store: enginetest.New(300).SetVectors(vecs), lo: lo, hi: hi, fromLo: c.fromLo, fromHi: c.fromHi, rowOf: map[*float32]uint32{}}
		r, err := audit.NearDuplicates(context.Background(), s, &audit.NearOptions{KeepRows: true})
		if err != nil {
			t.Fatal(err)
		}
		joined := slices.Contains(r.Drop, hi)
		if want := c.fromLo >= 0.94 || c.fromHi >= 0.94; joined != want {
			t.Errorf("scores %v from row %d, %v from row %d: joined %v, want %v", c.fromLo, lo, c.fromHi, hi, joined, want)
		}
	}
}

// TestNearDuplicatesIndex: on a store with an HNSW index and planted
// near-duplicates, the index method finds the exact method's groups and
// measures its recall; both match brute force on the stored float16
// vectors. Rows without embeddings (metadata-only parts) are left out.
func TestNearDuplicatesIndex(t *testing.T) {
	tmp := t.TempDir()
	emb, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 5, Parts: 2, Rows: 2500, Dim: 64, Fine: 50, NoText: true, NearDups: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := demodata.LAION400M(filepath.Join(tmp, "meta"), demodata.Config{Seed: 5, Parts: 1, Rows: 200}); err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(filepath.Join(tmp, "store"), &db.Options{EfSearch: 48, ExactUpTo: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	srcs, err := db.ExpandPaths([]string{emb.Dir, filepath.Join(tmp, "meta")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := d.Ingest(ctx, srcs, &db.IngestOptions{Index: db.IndexOptions{EfConstruction: 100}}); err != nil {
		t.Fatal(err)
	}
	s, err := d.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	vecs := make([][]float32, s.NumRows())
	for p, part := range emb.Image {
		for i := range len(part) / 64 {
			vecs[p*2500+i] = part[i*64 : (i+1)*64]
		}
	}
	pairs, rep := groupsOf(t, vecs, nil, 0.94)
	ex, err := audit.NearDuplicates(ctx, s, &audit.NearOptions{Method: audit.NearExact, KeepRows: true})
	if err != nil {
		t.Fatal(err)
	}
	checkGroups(t, "exact", ex, pairs, rep)
	if ex.Rows != 5000 || ex.StoreRows != 5200 || ex.Duplicates < len(emb.NearDups)*9/10 {
		t.Errorf("exact: %d rows of %d, %d duplicates for %d planted", ex.Rows, ex.StoreRows, ex.Duplicates, len(emb.NearDups))
	}
	ix, err := audit.NearDuplicates(ctx, s, &audit.NearOptions{Method: audit.NearIndex, K: 16, RecallSample: 700, Seed: 3, KeepRows: true})
	if err != nil {
		t.Fatal(err)
	}
	checkGroups(t, "index", ix, pairs, rep)
	ip := ix.Index
	// The store's planner may find a scan of 5,000 vectors cheaper than
	// the graph (costs measured at index build, on this machine): then
	// every search is exact, and says so.
	graph := ip != nil && strings.Contains(ip.Method, "hnsw")
	if ip == nil || ip.Recall == nil || graph && (ip.Approximate != 5000 || ix.Exact) || !graph && (ip.Approximate != 0 || !ix.Exact) {
		t.Fatalf("index pass %+v, exact %v", ip, ix.Exact)
	}
	if rc := ip.Recall; rc.Sample != 700 || rc.Pairs.Of < 20 || rc.Pairs.Share < 0.95 || rc.Joined.Share < rc.Pairs.Share {
		t.Errorf("recall %+v", rc)
	}
	// The same sample, the same recall; automatic choice is exact here.
	again, err := audit.NearDuplicates(ctx, s, &audit.NearOptions{Method: audit.NearIndex, K: 16, RecallSample: 700, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if again.Index.Recall.Pairs != ip.Recall.Pairs {
		t.Errorf("recall %+v, then %+v", ip.Recall.Pairs, again.Index.Recall.Pairs)
	}
	auto, err := audit.NearDuplicates(ctx, s, nil)
	if err != nil || auto.Method != audit.NearExact || auto.Pairs != pairs {
		t.Errorf("automatic: %v %v", auto, err)
	}
}

// TestNearDuplicatesErrors: bad options are errors that say what is
// wrong; a selection without rows is an empty report.
func TestNearDuplicatesErrors(t *testing.T) {
	vecs, _ := planted(200, 0.94, 3)
	s := enginetest.New(200).SetVectors(vecs)
	ctx := context.Background()
	for _, c := range []struct {
		o    audit.NearOptions
		want string
	}{
		{audit.NearOptions{Threshold: -1}, "threshold -1"},
		{audit.NearOptions{Threshold: 1.5}, "threshold 1.5"},
		{audit.NearOptions{Threshold: math.NaN()}, "threshold NaN"},
		{audit.NearOptions{Space: query.SpaceText}, "no text embeddings"},
		{audit.NearOptions{Method: "fast"}, `method "fast"`},
		{audit.NearOptions{K: -1}, "-1 neighbours"},
		{audit.NearOptions{RecallSample: -2}, "recall sample of -2"},
	} {
		if _, err := audit.NearDuplicates(ctx, s, &c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error with %q", c.o, err, c.want)
		}
	}
	for _, sel := range []*vector.Bitset{vector.NewBitset(200), vector.NewBitset(0)} {
		r, err := audit.NearDuplicates(ctx, s, &audit.NearOptions{Selection: sel})
		if err != nil || r.Rows != 0 || r.Groups != 0 || !r.Exact || r.Largest == nil {
			t.Errorf("an empty selection: %+v, %v", r, err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := audit.NearDuplicates(ctx, s, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled context: %v", err)
	}
}
