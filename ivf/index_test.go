package ivf

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/laiondb/laiondb/internal/synth"
	"github.com/laiondb/laiondb/vector"
)

// testSet is a seeded CLIP-like set stored as a store stores it: float16
// rows with their inverse norms, and unit image and text queries.
func testSet(t testing.TB, n, dim, nq int) (vector.Matrix, [][]float32, [][]float32) {
	t.Helper()
	g := synth.New(synth.Config{Dim: dim, N: n, Seed: 7})
	base := g.Base(n)
	m := vector.Matrix{Dim: dim, F16: make([]uint16, len(base))}
	vector.F32ToF16(m.F16, base)
	m.Inv = vector.InvNorms(m, 0, n, nil)
	split := func(x []float32) [][]float32 {
		var qs [][]float32
		for i := 0; i+dim <= len(x); i += dim {
			qs = append(qs, x[i:i+dim])
		}
		return qs
	}
	return m, split(g.ImageQueries(nq)), split(g.TextQueries(nq))
}

// skipUnderRace skips a test that trains indexes but runs no goroutines
// of its own: ten times slower under the race detector, it runs in make
// test's pass without -race.
func skipUnderRace(t *testing.T) {
	if raceEnabled {
		t.Skip("not concurrent, and slow under the race detector")
	}
}

func all(n int) vector.Ranges { return vector.Ranges{{Lo: 0, Hi: uint32(n)}} }

func build(t testing.TB, m vector.Matrix, cfg Config) *Index {
	t.Helper()
	ctx := context.Background()
	ix, err := Train(ctx, m, all(m.Len()), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Add(ctx, m, all(m.Len())); err != nil {
		t.Fatal(err)
	}
	return ix
}

// recall is the share of the exact top k that hits holds.
func recall(t testing.TB, m vector.Matrix, q []float32, k int, allow vector.AllowList, hits []vector.Hit) float64 {
	t.Helper()
	want, _, err := vector.Exact(context.Background(), m, q, k, allow)
	if err != nil {
		t.Fatal(err)
	}
	in := map[uint32]bool{}
	for _, h := range hits {
		in[h.ID] = true
	}
	got := 0
	for _, h := range want {
		if in[h.ID] {
			got++
		}
	}
	return float64(got) / float64(len(want))
}

// TestExhaustiveIsExact: probing every list and re-ranking every row read
// gives the exact answer, row for row and score for score, with and
// without an allow-list.
func TestExhaustiveIsExact(t *testing.T) {
	skipUnderRace(t)
	m, img, txt := testSet(t, 3000, 64, 20)
	ix := build(t, m, Config{Lists: 16, Sub: 16, Seed: 1})
	allow := vector.NewBitset(m.Len())
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < m.Len(); i++ {
		if rng.IntN(10) == 0 {
			allow.Set(uint32(i))
		}
	}
	for _, qs := range [][][]float32{img, txt} {
		for _, q := range qs {
			for _, a := range []vector.AllowList{nil, allow} {
				res, err := ix.Search(context.Background(), q, 10, Search{NProbe: ix.Lists(), Rerank: m.Len(), Allow: a})
				if err != nil {
					t.Fatal(err)
				}
				want, _, err := vector.Exact(context.Background(), m, q, 10, a)
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(res.Hits) != fmt.Sprint(want) {
					t.Fatalf("exhaustive search %v, exact %v", res.Hits, want)
				}
				if res.Estimated != m.Len() {
					t.Fatalf("read %d codes of %d rows", res.Estimated, m.Len())
				}
			}
		}
	}
}

// TestRecall: recall@10 grows with the lists probed and the rows
// re-ranked, and a moderate search finds most neighbours of image queries.
func TestRecall(t *testing.T) {
	skipUnderRace(t)
	m, img, txt := testSet(t, 10000, 128, 60)
	ix := build(t, m, Config{Sub: 32, Seed: 1})
	t.Logf("%d lists, %d bytes (%.1f a row)", ix.Lists(), ix.MemoryBytes(), float64(ix.MemoryBytes())/float64(m.Len()))
	for _, set := range []struct {
		name string
		qs   [][]float32
		min  float64 // at NProbe 16, Rerank 200
	}{{"image", img, 0.95}, {"text", txt, 0.80}} {
		prev := -1.0
		for _, s := range []Search{{NProbe: 1, Rerank: 10}, {NProbe: 4, Rerank: 50}, {NProbe: 16, Rerank: 200}, {NProbe: 64, Rerank: 1000}} {
			sum := 0.0
			for _, q := range set.qs {
				res, err := ix.Search(context.Background(), q, 10, s)
				if err != nil {
					t.Fatal(err)
				}
				sum += recall(t, m, q, 10, nil, res.Hits)
			}
			r := sum / float64(len(set.qs))
			t.Logf("%s queries, nprobe %d, rerank %d: recall@10 %.3f", set.name, s.NProbe, s.Rerank, r)
			if r < prev-0.01 {
				t.Errorf("%s: recall fell from %.3f to %.3f with a larger search", set.name, prev, r)
			}
			if s.NProbe == 16 && r < set.min {
				t.Errorf("%s: recall@10 %.3f at nprobe 16, rerank 200; want ≥ %.2f", set.name, r, set.min)
			}
			prev = r
		}
	}
}

// TestDeterministic: the same seed gives the same index whatever the
// number of goroutines.
func TestDeterministic(t *testing.T) {
	skipUnderRace(t)
	m, img, _ := testSet(t, 4000, 64, 5)
	a := build(t, m, Config{Lists: 32, Sub: 16, Seed: 9})
	b := build(t, m, Config{Lists: 32, Sub: 16, Seed: 9})
	if fmt.Sprint(a.cent) != fmt.Sprint(b.cent) || fmt.Sprint(a.codes) != fmt.Sprint(b.codes) || fmt.Sprint(a.ids) != fmt.Sprint(b.ids) {
		t.Fatal("two builds with one seed differ")
	}
	for _, q := range img {
		ra, _ := a.Search(context.Background(), q, 10, Search{NProbe: 4, Rerank: 40})
		rb, _ := b.Search(context.Background(), q, 10, Search{NProbe: 4, Rerank: 40})
		if fmt.Sprint(ra) != fmt.Sprint(rb) {
			t.Fatal("two builds with one seed answer differently")
		}
	}
}

// TestAddInParts: rows added in two parts give the index one Add of all
// gives, and a part that goes back is refused.
func TestAddInParts(t *testing.T) {
	skipUnderRace(t)
	m, _, _ := testSet(t, 3000, 64, 1)
	whole := build(t, m, Config{Lists: 16, Sub: 16, Seed: 2})
	ctx := context.Background()
	parts, err := Train(ctx, m, all(m.Len()), Config{Lists: 16, Sub: 16, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := parts.Add(ctx, m.Slice(0, 1000), vector.Ranges{{Lo: 0, Hi: 1000}}); err != nil {
		t.Fatal(err)
	}
	if err := parts.Add(ctx, m, vector.Ranges{{Lo: 1000, Hi: 3000}}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(whole.ids) != fmt.Sprint(parts.ids) || fmt.Sprint(whole.codes) != fmt.Sprint(parts.codes) || parts.Len() != 3000 {
		t.Fatal("an index added to in two parts differs from one added to at once")
	}
	if err := parts.Add(ctx, m, vector.Ranges{{Lo: 2000, Hi: 2100}}); err == nil {
		t.Fatal("rows added again were accepted")
	}
}

// TestSearchDuringAdd searches while rows are added, for the race
// detector; every answer stays best first.
func TestSearchDuringAdd(t *testing.T) {
	m, img, _ := testSet(t, 2000, 32, 4)
	ctx := context.Background()
	ix, err := Train(ctx, m, all(m.Len()), Config{Lists: 8, Sub: 8, Seed: 5, Iters: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Add(ctx, m, vector.Ranges{{Lo: 0, Hi: 500}}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		for lo := uint32(500); lo < 2000; lo += 250 {
			if err := ix.Add(ctx, m, vector.Ranges{{Lo: lo, Hi: lo + 250}}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for running := true; running; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			running = false
		default:
		}
		for _, q := range img {
			res, err := ix.Search(ctx, q, 10, Search{NProbe: 4, Rerank: 40})
			if err != nil {
				t.Fatal(err)
			}
			for i, h := range res.Hits {
				if i > 0 && h.Score > res.Hits[i-1].Score {
					t.Fatalf("hits out of order: %v", res.Hits)
				}
			}
		}
	}
	if ix.Len() != 2000 {
		t.Fatalf("%d rows indexed, want 2000", ix.Len())
	}
}

// TestTwoLevel: past groupedFrom lists the centres are trained in two
// levels; rows assigned through the groups mostly go to their nearest
// centre, searches find their neighbours, and the groups survive a round
// trip through a file.
func TestTwoLevel(t *testing.T) {
	skipUnderRace(t)
	defer func(g int) { groupedFrom = g }(groupedFrom)
	groupedFrom = 64
	m, img, txt := testSet(t, 20000, 64, 40)
	ctx := context.Background()
	ix := build(t, m, Config{Lists: 256, Sub: 16, Seed: 3, Iters: 6})
	if ix.groups == nil || len(ix.groups.members) != 16 || ix.Lists() != 256 {
		t.Fatalf("256 lists past 64: %d lists, groups %v", ix.Lists(), ix.groups != nil)
	}
	x := make([]float32, m.Len()*m.Dim)
	for i := 0; i < m.Len(); i++ {
		unitRow(m, i, x[i*m.Dim:(i+1)*m.Dim])
	}
	exact := make([]int32, m.Len())
	if err := nearest(ctx, x, ix.cent, ix.dim, true, exact, nil); err != nil {
		t.Fatal(err)
	}
	got := make([]int32, m.Len())
	if err := ix.assign(ctx, x, got); err != nil {
		t.Fatal(err)
	}
	same := 0
	for i := range exact {
		if got[i] == exact[i] {
			same++
		}
	}
	share := float64(same) / float64(len(exact))
	t.Logf("assignment through 8 of 16 groups agrees with the exact one for %.1f%% of rows", 100*share)
	if share < 0.9 {
		t.Errorf("assignment through the groups agrees with the exact one for %.1f%% of rows, want ≥ 90%%", 100*share)
	}
	for _, qs := range [][][]float32{img, txt} {
		sum := 0.0
		for _, q := range qs {
			res, err := ix.Search(ctx, q, 10, Search{NProbe: 32, Rerank: 300})
			if err != nil {
				t.Fatal(err)
			}
			sum += recall(t, m, q, 10, nil, res.Hits)
		}
		if r := sum / float64(len(qs)); r < 0.9 {
			t.Errorf("recall@10 %.3f at nprobe 32, rerank 300, want ≥ 0.9", r)
		}
	}
	path := t.TempDir() + "/ivf"
	if err := ix.Write(path); err != nil {
		t.Fatal(err)
	}
	back, err := Open(path, m)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(back.groups) != fmt.Sprint(ix.groups) {
		t.Fatal("the groups differ after a round trip")
	}
}

// TestFilteredReadsOn: with 2% of the rows allowed, a search at nprobe 8
// reads lists past the 8 until it has weighed ListRows(8) allowed rows,
// and then finds about as many of the true neighbours among the allowed
// rows as an unfiltered search does among all; stopping at 8 lists weighs
// 50 times fewer candidates and finds fewer.
func TestFilteredReadsOn(t *testing.T) {
	skipUnderRace(t)
	m, img, _ := testSet(t, 20000, 64, 40)
	ix := build(t, m, Config{Sub: 16, Seed: 2})
	allow := vector.NewBitset(m.Len())
	for r := uint32(3); r < uint32(m.Len()); r += 50 {
		allow.Set(r)
	}
	const nprobe = 8
	var on, at, free float64
	for _, q := range img {
		s := Search{NProbe: nprobe, Rerank: RerankFor(10, nprobe), Allow: allow, MinAllowed: ix.ListRows(nprobe)}
		res, err := ix.Search(context.Background(), q, 10, s)
		if err != nil {
			t.Fatal(err)
		}
		if res.Lists <= nprobe || res.Lists > ix.Lists() {
			t.Fatalf("read %d lists of %d", res.Lists, ix.Lists())
		}
		on += recall(t, m, q, 10, allow, res.Hits)
		s.MinAllowed = 0
		if res, err = ix.Search(context.Background(), q, 10, s); err != nil {
			t.Fatal(err)
		}
		if res.Lists != nprobe {
			t.Fatalf("read %d lists without MinAllowed", res.Lists)
		}
		at += recall(t, m, q, 10, allow, res.Hits)
		if res, err = ix.Search(context.Background(), q, 10, Search{NProbe: nprobe, Rerank: RerankFor(10, nprobe)}); err != nil {
			t.Fatal(err)
		}
		free += recall(t, m, q, 10, nil, res.Hits)
	}
	n := float64(len(img))
	on, at, free = on/n, at/n, free/n
	t.Logf("recall@10 at nprobe %d: filtered, reading on %.3f; filtered, %d lists %.3f; unfiltered %.3f", nprobe, on, nprobe, at, free)
	if on < free-0.03 || on <= at {
		t.Errorf("filtered search reading on: recall@10 %.3f; stopping at nprobe %.3f; unfiltered %.3f", on, at, free)
	}
}

// TestSelectBest checks the quickselect that keeps a search's rerank best
// estimates against a sort, with many equal scores.
func TestSelectBest(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 500; trial++ {
		n := 1 + r.IntN(300)
		a := make([]cand, n)
		for i, id := range r.Perm(n) {
			a[i] = cand{float32(r.IntN(1 + n/8)), uint32(id)}
		}
		k := 1 + r.IntN(n)
		want := slices.Clone(a)
		slices.SortFunc(want, func(x, y cand) int {
			if (farther{}).Before(y, x) {
				return -1
			}
			return 1
		})
		selectBest(a, k)
		if a[k-1] != want[k-1] {
			t.Fatalf("n %d k %d: a[k-1] = %v, want %v", n, k, a[k-1], want[k-1])
		}
		got := slices.Clone(a[:k])
		slices.SortFunc(got, func(x, y cand) int {
			if (farther{}).Before(y, x) {
				return -1
			}
			return 1
		})
		if !slices.Equal(got, want[:k]) {
			t.Fatalf("n %d k %d: kept %v, want %v", n, k, got, want[:k])
		}
	}
}

// TestEstimates checks the interleaved sums of a list's estimates: the
// assembly and the Go version give the same bits, and both the plain sum
// within rounding.
func TestEstimates(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, sub := range []int{4, 8, 16, 32, 64} {
		table := make([]float32, sub*256)
		for i := range table {
			table[i] = float32(r.NormFloat64())
		}
		n := 37
		codes := make([]byte, n*sub)
		for i := range codes {
			codes[i] = byte(r.IntN(256))
		}
		got := make([]float32, n)
		estimates(table, codes, sub, got)
		for i := range n {
			want := estimate(table, codes[i*sub:(i+1)*sub])
			if d := got[i] - want; d > 1e-4 || d < -1e-4 {
				t.Fatalf("sub %d code %d: %v, plain sum %v", sub, i, got[i], want)
			}
		}
		if sub%8 == 0 {
			g := make([]float32, n)
			estimatesGo(table, codes, sub, g)
			if !slices.Equal(g, got) {
				t.Fatalf("sub %d: estimatesGo %v, estimates %v", sub, g, got)
			}
		}
	}
}
