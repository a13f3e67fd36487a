package hnsw

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/laiondb/laiondb/vector"
)

// recallAt returns the mean fraction of the exact top k found by got.
func recallAt(k int, got, want [][]vector.Hit) float64 {
	var s float64
	for i := range got {
		truth := map[uint32]bool{}
		for _, h := range want[i][:min(k, len(want[i]))] {
			truth[h.ID] = true
		}
		c := 0
		for _, h := range got[i][:min(k, len(got[i]))] {
			if truth[h.ID] {
				c++
			}
		}
		s += float64(c) / float64(len(truth))
	}
	return s / float64(len(got))
}

// testSet builds an index over n seeded CLIP-like vectors and returns it
// with nq held-out queries and their exact top-k.
func testSet(tb testing.TB, n, nq, dim, k int, opts *Options) (*Index, vector.Matrix, [][]float32, [][]vector.Hit) {
	tb.Helper()
	all := clipLike(n+nq, dim, 42)
	m := all.Slice(0, n)
	ix, err := New(dim, opts)
	if err != nil {
		tb.Fatal(err)
	}
	if err := ix.Add(context.Background(), m, nil, nil); err != nil {
		tb.Fatal(err)
	}
	qs := make([][]float32, nq)
	truth := make([][]vector.Hit, nq)
	for i := range qs {
		qs[i] = all.Row(n+i, nil)
		truth[i], _, err = vector.Exact(context.Background(), m, qs[i], k, nil)
		if err != nil {
			tb.Fatal(err)
		}
	}
	return ix, m, qs, truth
}

func searchAll(tb testing.TB, ix *Index, qs [][]float32, k, ef int, allow vector.AllowList) [][]vector.Hit {
	tb.Helper()
	out := make([][]vector.Hit, len(qs))
	for i, q := range qs {
		r, err := ix.Search(context.Background(), q, k, &SearchOptions{Ef: ef, Allow: allow})
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = r.Hits
	}
	return out
}

func TestRecall(t *testing.T) {
	ix, _, qs, truth := testSet(t, 10000, 200, 96, 10, &Options{Seed: 1})
	for _, ef := range []int{10, 32, 64, 128} {
		r := recallAt(10, searchAll(t, ix, qs, 10, ef, nil), truth)
		t.Logf("ef=%d recall@10=%.4f", ef, r)
		if ef == DefaultEfSearch && r < 0.95 {
			t.Errorf("recall@10 at ef=%d = %.4f, want >= 0.95", ef, r)
		}
	}
	_ = fmt.Sprint()
}

func TestFilteredSearch(t *testing.T) {
	ctx := context.Background()
	ix, m, qs, _ := testSet(t, 8000, 30, 64, 10, &Options{Seed: 5})
	n := m.Len()
	for _, every := range []int{2, 10, 50, 1000} {
		allow := vector.NewBitset(n)
		for i := 0; i < n; i += every {
			allow.Set(uint32(i))
		}
		var got, want, graph [][]vector.Hit
		paths := map[Path]int{}
		for _, q := range qs {
			g, err := ix.search(ctx, q, 10, SearchOptions{Allow: allow}, false)
			if err != nil {
				t.Fatal(err)
			}
			paths[Path(100+g.Path)]++
			graph = append(graph, g.Hits)
			r, err := ix.Search(ctx, q, 10, &SearchOptions{Allow: allow})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range r.Hits {
				if !allow.Contains(h.ID) {
					t.Fatalf("every=%d: hit %d not allowed", every, h.ID)
				}
			}
			paths[r.Path]++
			e, _, err := vector.Exact(ctx, m, q, 10, allow)
			if err != nil {
				t.Fatal(err)
			}
			if r.Exact && !slices.Equal(r.Hits, e) {
				t.Fatalf("every=%d: %v path claims exact but differs", every, r.Path)
			}
			got, want = append(got, r.Hits), append(want, e)
		}
		rec := recallAt(10, got, want)
		grec := recallAt(10, graph, want)
		t.Logf("allowed 1/%d: paths %v recall@10 %.4f, unplanned (Path(101)=graph, Path(103)=fallback) %.4f", every, paths, rec, grec)
		if grec < 0.95 {
			t.Errorf("allowed 1/%d: unplanned recall@10 %.4f", every, grec)
		}
		if rec < 0.95 {
			t.Errorf("allowed 1/%d: recall@10 %.4f", every, rec)
		}
		if every >= 50 && rec != 1 {
			t.Errorf("selective allow-list (1/%d) not answered exactly", every)
		}
	}
	// Forced exact, and an empty allow-list.
	r, err := ix.Search(ctx, qs[0], 5, &SearchOptions{Exact: true})
	if err != nil || r.Path != PathExact || !r.Exact || len(r.Hits) != 5 {
		t.Fatalf("forced exact: %+v %v", r, err)
	}
	r, err = ix.Search(ctx, qs[0], 5, &SearchOptions{Allow: vector.NewBitset(0)})
	if err != nil || len(r.Hits) != 0 || !r.Exact {
		t.Fatalf("empty allow-list: %+v %v", r, err)
	}
	if _, err := ix.Search(ctx, qs[0][:3], 5, nil); !errors.Is(err, vector.ErrDimension) {
		t.Fatalf("short query: %v", err)
	}
	hits, _, err := ix.Range(ctx, qs[0], 0.7, nil)
	want, _, _ := vector.ExactRange(ctx, m, qs[0], 0.7, nil)
	if err != nil || !slices.Equal(hits, want) {
		t.Fatalf("Range: %d hits, want %d (%v)", len(hits), len(want), err)
	}
}

func TestEmpty(t *testing.T) {
	ctx := context.Background()
	ix, err := New(8, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ix.Search(ctx, make([]float32, 8), 3, nil)
	if err != nil || len(r.Hits) != 0 {
		t.Fatalf("empty index: %+v %v", r, err)
	}
	if h, _, err := ix.Range(ctx, make([]float32, 8), 0, nil); err != nil || len(h) != 0 {
		t.Fatalf("empty Range: %v %v", h, err)
	}
	if err := ix.Add(ctx, clipLike(10, 4, 1), nil, nil); !errors.Is(err, vector.ErrDimension) {
		t.Fatalf("Add 4-d to 8-d: %v", err)
	}
	if _, err := New(8, &Options{M: 1}); err == nil {
		t.Fatal("M=1 accepted")
	}
	path := filepath.Join(t.TempDir(), "empty")
	if err := ix.Write(path); err != nil {
		t.Fatal(err)
	}
	if err := Verify(path); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	if _, err := ix.Search(ctx, make([]float32, 8), 3, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Search after Close: %v", err)
	}
}

func TestFallback(t *testing.T) {
	// Rows 0..99 are allowed but never linked (not in the graph): the graph
	// cannot find them, and neither may the exact fallback.
	ctx := context.Background()
	m := clipLike(3000, 16, 3)
	ix, _ := New(16, &Options{M: 4, EfConstruction: 20, Seed: 1})
	if err := ix.Add(ctx, m, vector.Ranges{{Lo: 100, Hi: 3000}}, nil); err != nil {
		t.Fatal(err)
	}
	allow := vector.NewBitset(3000)
	for i := 0; i < 3000; i += 2 {
		allow.Set(uint32(i))
	}
	r, err := ix.search(ctx, m.Row(5, nil), 2000, SearchOptions{Allow: allow, Ef: 10}, false)
	if err != nil {
		t.Fatal(err)
	}
	if r.Path != PathFallback || !r.Exact || len(r.Hits) != 1450 {
		t.Fatalf("path %v exact %v hits %d", r.Path, r.Exact, len(r.Hits))
	}
	for _, h := range r.Hits {
		if h.ID < 100 {
			t.Fatalf("row %d is not in the graph", h.ID)
		}
	}
}

func TestConcurrentSearchAdd(t *testing.T) {
	ctx := context.Background()
	const n, dim = 3000, 16
	m := clipLike(n, dim, 11)
	ix, _ := New(dim, &Options{M: 6, EfConstruction: 40, Seed: 2, Workers: 2})
	if err := ix.Add(ctx, m, vector.Ranges{{Lo: 0, Hi: 500}}, nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			allow := vector.NewBitset(n)
			for i := 0; i < n; i += 3 {
				allow.Set(uint32(i))
			}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var o SearchOptions
				if i%2 == 1 {
					o.Allow = allow
				}
				// Mostly unplanned, so that the graph search runs during Add.
				if _, err := ix.search(ctx, m.Row(i%n, nil), 5, o, i%4 == 0); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var calls int
	for lo := uint32(500); lo < n; lo += 500 {
		if err := ix.Add(ctx, m, vector.Ranges{{Lo: lo, Hi: lo + 500}}, func(done, total int) { calls++ }); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if ix.Len() != n || calls == 0 {
		t.Fatalf("Len %d, progress calls %d", ix.Len(), calls)
	}
	// Cancelled Add keeps the index consistent and can be resumed.
	ix2, _ := New(dim, &Options{M: 6, EfConstruction: 40, Seed: 2})
	cctx, cancel := context.WithCancel(ctx)
	err := ix2.Add(cctx, m, nil, func(done, total int) {
		if done > 200 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Add: %v", err)
	}
	if l := ix2.Len(); l == 0 || l == n {
		t.Fatalf("Len after cancel = %d", l)
	}
	if err := ix2.Add(ctx, m, nil, nil); err != nil || ix2.Len() != n {
		t.Fatalf("resumed Add: %v, Len %d", err, ix2.Len())
	}
	path := filepath.Join(t.TempDir(), "x")
	if err := ix2.Write(path); err != nil {
		t.Fatal(err)
	}
	if err := Verify(path); err != nil {
		t.Fatal(err)
	}
}

// Seeding the layer-0 search from the upper layers' beams returns true scores of real
// rows, sorted, and does not lose recall.
func TestSearchSeeds(t *testing.T) {
	const n, dim = 6000, 48
	m := clipLike(n, dim, 11)
	ix, err := New(dim, &Options{Seed: 1, EfConstruction: 64, Workers: 1}) // deterministic graph
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Add(context.Background(), m, nil, nil); err != nil {
		t.Fatal(err)
	}
	qs := clipLike(50, dim, 12)
	var plain, seeded float64
	for i := 0; i < qs.Len(); i++ {
		q := qs.Row(i, nil)
		want, _, _ := vector.Exact(context.Background(), m, q, 10, nil)
		for _, seeds := range []int{0, 16} {
			r, err := ix.Search(context.Background(), q, 10, &SearchOptions{Ef: 16, Seeds: seeds})
			if err != nil {
				t.Fatal(err)
			}
			for j, h := range r.Hits {
				if got := m.Dot(q, int(h.ID)); got != h.Score || (j > 0 && h.Score > r.Hits[j-1].Score) {
					t.Fatalf("seeds %d: hit %d = %+v, true score %v", seeds, j, h, got)
				}
			}
			rec := recallAt(10, [][]vector.Hit{r.Hits}, [][]vector.Hit{want})
			if seeds == 0 {
				plain += rec
			} else {
				seeded += rec
			}
		}
	}
	if seeded < 0.95*plain || seeded == 0 {
		t.Errorf("recall with seeds %.2f < without %.2f", seeded/50, plain/50)
	}
}

// TestTwoHop checks the filtered search that scores allowed rows only: it
// returns only allowed rows, finds more of the true neighbours than the
// search scoring every neighbour for less work, and is what TraverseAuto
// picks at a tenth of the rows allowed but not at a half or a hundredth.
func TestTwoHop(t *testing.T) {
	ctx := context.Background()
	ix, m, qs, _ := testSet(t, 30000, 40, 32, 10, &Options{Seed: 5})
	n := m.Len()
	for _, tc := range []struct {
		every int
		auto  Traverse
	}{{10, TraverseTwoHop}, {2, TraverseAll}, {100, TraverseAll}} {
		allow := vector.NewBitset(n)
		for i := 0; i < n; i += tc.every {
			allow.Set(uint32(i))
		}
		if got := twoHopPays(n, allow.Count(), ix.m0); got != (tc.auto == TraverseTwoHop) {
			t.Errorf("1/%d allowed: twoHopPays %v", tc.every, got)
		}
		var want [][]vector.Hit
		for _, q := range qs {
			e, _, err := vector.Exact(ctx, m, q, 10, allow)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, e)
		}
		run := func(tr Traverse, ef int) ([][]vector.Hit, int, map[Path]int) {
			var got [][]vector.Hit
			scored, paths := 0, map[Path]int{}
			for _, q := range qs {
				r, err := ix.search(ctx, q, 10, SearchOptions{Allow: allow, Ef: ef, Traverse: tr}, false)
				if err != nil {
					t.Fatal(err)
				}
				for _, h := range r.Hits {
					if !allow.Contains(h.ID) {
						t.Fatalf("1/%d allowed, traverse %d: hit %d not allowed", tc.every, tr, h.ID)
					}
				}
				want := tr
				if tr == TraverseAuto {
					want = tc.auto
				}
				if r.Traverse != want {
					t.Fatalf("1/%d allowed, traverse %d: the result says %d", tc.every, tr, r.Traverse)
				}
				got = append(got, r.Hits)
				scored += r.Scored
				paths[r.Path]++
			}
			return got, scored / len(qs), paths
		}
		// The search scoring every neighbour at ef 10 (at 1/10 allowed it
		// runs out of budget from ef 24 on) against two hops at ef 40.
		all, allScored, allPaths := run(TraverseAll, 10)
		two, twoScored, twoPaths := run(TraverseTwoHop, 40)
		ra, r2 := recallAt(10, all, want), recallAt(10, two, want)
		t.Logf("1/%d allowed: every neighbour at ef 10 %.4f recall@10, %d scored, %v; two hops at ef 40 %.4f, %d scored, %v",
			tc.every, ra, allScored, allPaths, r2, twoScored, twoPaths)
		if tc.every == 10 {
			if twoPaths[PathGraph] != len(qs) || allPaths[PathGraph] != len(qs) {
				t.Errorf("1/10 allowed: not every search stayed in the graph")
			}
			if r2 < ra || r2 < 0.95 || twoScored >= allScored {
				t.Errorf("1/10 allowed: two hops %.4f recall@10 for %d scores, every neighbour %.4f for %d", r2, twoScored, ra, allScored)
			}
			// Seeded from the upper layers at ef 160: a two-hop search's
			// layer-1 beam is TwoHopSeedBeam (32), not ef/2 (80), unless
			// SearchOptions.SeedBeam says otherwise; it scores fewer rows.
			seeded := func(beam int) ([][]vector.Hit, int) {
				var got [][]vector.Hit
				scored := 0
				for _, q := range qs {
					r, err := ix.search(ctx, q, 10, SearchOptions{Allow: allow, Ef: 160, Traverse: TraverseTwoHop, Seeds: DefaultSeeds, SeedBeam: beam}, false)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, r.Hits)
					scored += r.Scored
				}
				return got, scored
			}
			narrow, narrowScored := seeded(0)
			same, sameScored := seeded(TwoHopSeedBeam)
			wide, wideScored := seeded(SeedBeam)
			rn, rw := recallAt(10, narrow, want), recallAt(10, wide, want)
			t.Logf("1/10 allowed, two hops at ef 160, seeded: beam %d: %.4f recall@10, %d scored; beam %d: %.4f, %d scored", TwoHopSeedBeam, rn, narrowScored, SeedBeam, rw, wideScored)
			if sameScored != narrowScored || !reflect.DeepEqual(same, narrow) {
				t.Errorf("a two-hop search's default layer-1 beam is not TwoHopSeedBeam")
			}
			if narrowScored >= wideScored || rn < rw-0.01 {
				t.Errorf("seeded two hops: beam %d %.4f recall@10 for %d scores, beam %d %.4f for %d", TwoHopSeedBeam, rn, narrowScored, SeedBeam, rw, wideScored)
			}
		}
		auto, _, _ := run(TraverseAuto, 40)
		wantAuto := two
		if tc.auto == TraverseAll {
			wantAuto, _, _ = run(TraverseAll, 40)
		}
		for i := range auto {
			if !slices.Equal(auto[i], wantAuto[i]) {
				t.Fatalf("1/%d allowed: TraverseAuto did not search as traverse %d", tc.every, tc.auto)
			}
		}
	}
}
