package db

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/demodata"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/hnsw"
	"github.com/laiondb/laiondb/internal/synth"
	"github.com/laiondb/laiondb/vector"
)

// TestCostEstimate checks the planner's arithmetic on made-up costs.
func TestCostEstimate(t *testing.T) {
	c := &Costs{Rows: 1_000_000, Points: []CostPoint{
		{Share: 0.01, Ef: 64, Lower: 0.991, GraphNs: 2_000_000, GraphEf: 64, ScanNsPerRow: 400},
		{Share: 0.1, Ef: 24, Lower: 0.993, GraphNs: 600_000, GraphEf: 24, ScanNsPerRow: 300},
		{Share: 0.5, Ef: 16, Lower: 0.995, GraphNs: 400_000, GraphEf: 16, ScanNsPerRow: 120},
		{Share: 1, Ef: 384, Lower: 0.992, GraphNs: 1_500_000, GraphEf: 384, ScanNsPerRow: 100},
	}}
	near := func(got, want float64) bool { return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want)) }
	// At a measured share the costs are the measured ones.
	e := c.estimate(100_000, 24)
	if !near(e.graphNs, 600_000) || !near(e.scanNs, 300*100_000) || e.scan() {
		t.Errorf("at 10%%: %+v", e)
	}
	// Between two shares: the larger ef, the costs interpolated in the
	// logarithms (the geometric mean halfway).
	share := math.Sqrt(0.01 * 0.1)
	allowed := int(math.Round(share * 1e6))
	if ef, lower, at := c.filteredEf(allowed, 10); ef != 64 || lower != 0.991 || at != 0.01 {
		t.Errorf("ef between 1%% and 10%%: %d %v %v", ef, lower, at)
	}
	e = c.estimate(allowed, 64)
	perEf := math.Sqrt(2_000_000.0 / 64 * 600_000 / 24)
	if math.Abs(e.graphNs/(perEf*64)-1) > 1e-3 || math.Abs(e.scanNs/(math.Sqrt(400*300.0)*float64(allowed))-1) > 1e-3 {
		t.Errorf("between 1%% and 10%%: %+v", e)
	}
	// Near a measured share (within 10%), its ef alone.
	if ef, _, at := c.filteredEf(105_000, 10); ef != 24 || at != 0.1 {
		t.Errorf("ef at 10.5%%: %d (at %v)", ef, at)
	}
	if ef, _, at := c.filteredEf(520_000, 10); ef != 16 || at != 0.5 {
		t.Errorf("ef at 52%%: %d (at %v)", ef, at)
	}
	if ef, _, _ := c.filteredEf(600_000, 10); ef != 384 {
		t.Errorf("ef at 60%%: %d", ef)
	}
	// k beyond 10 scales the ef.
	if ef, _, _ := c.filteredEf(100_000, 100); ef != 240 {
		t.Errorf("k 100 at 10%%: ef %d", ef)
	}
	// Below the smallest share the graph visits 1/share rows for its
	// allowed ones, and the scan of a few rows wins.
	e = c.estimate(1000, 64)
	if !near(e.graphNs, 2_000_000*10) || !near(e.scanNs, 400*1000) || !e.scan() {
		t.Errorf("at 0.1%%: %+v", e)
	}
	// A share whose neighbour reached no ef has none.
	if c.cappedAround(50_000) != nil {
		t.Error("a capped point where none is")
	}
	c.Points[1].Ef = 0
	if ef, _, _ := c.filteredEf(50_000, 10); ef != 0 {
		t.Errorf("ef next to an unreached share: %d", ef)
	}
	// Nor one whose neighbour's calibration stopped where the scan was
	// faster; the plan and the build's lines say so.
	c.Points[1].CappedAt = 24
	if p := c.cappedAround(50_000); p == nil || p.Share != 0.1 {
		t.Errorf("capped point next to 5%%: %+v", p)
	}
	if p := c.cappedAround(520_000); p != nil {
		t.Errorf("capped point at 52%%: %+v", p)
	}
	if lines := (&Calibration{ImageCosts: c}).costLines("nprobe", "IVF index"); len(lines) != 1 ||
		!strings.Contains(lines[0], "10% allowed: not calibrated past nprobe 24, where the IVF index already took longer than the scan") {
		t.Errorf("cost lines: %q", lines)
	}
	c.Points[1].CappedAt = 0
	// The plan names both estimates and the choice.
	s := c.estimate(100_000, 24).String()
	for _, want := range []string{"10% of the indexed rows allowed", "exact scan ≈ 30 ms", "graph search at ef 24 ≈ 0.60 ms", "the graph is faster"} {
		if !strings.Contains(s, want) {
			t.Errorf("plan %q lacks %q", s, want)
		}
	}
}

// TestPlannerCosts builds an index, checks the costs its calibration
// measured, and that filtered searches take the path and ef the costs
// give, with the promised recall.
func TestPlannerCosts(t *testing.T) {
	if raceEnabled {
		t.Skip("slow under the race detector")
	}
	tmp := t.TempDir()
	const dim = 32
	emb, err := demodata.EmbeddingFolder(filepath.Join(tmp, "emb"), demodata.Config{Seed: 8, Parts: 2, Rows: 10_000, Dim: dim, NoText: true})
	if err != nil {
		t.Fatal(err)
	}
	srcs, _ := ExpandPaths([]string{emb.Dir})
	d, err := Open(filepath.Join(tmp, "store"), &Options{ExactUpTo: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	ctx := context.Background()
	if _, err := d.Ingest(ctx, srcs, nil); err != nil {
		t.Fatal(err)
	}
	m, _ := d.Manifest()
	cal := imageIndex(m).Calibration
	if cal == nil || cal.Version != calibrationVersion || cal.ImageCosts == nil || cal.TextCosts != nil {
		t.Fatalf("calibration %+v", cal)
	}
	costs := cal.ImageCosts
	var shares []float64
	for _, p := range costs.Points {
		shares = append(shares, p.Share)
		if p.GraphNs <= 0 || p.ScanNsPerRow <= 0 || p.GraphEf <= 0 || (p.Ef != 0 && p.Lower < CalibrationTarget) {
			t.Errorf("cost point %+v", p)
		}
	}
	if costs.Rows != 20_000 || len(shares) != 4 || math.Abs(shares[0]-0.01) > 0.003 || math.Abs(shares[1]-0.1) > 0.01 ||
		math.Abs(shares[2]-0.5) > 0.02 || shares[3] != 1 {
		t.Fatalf("costs measured at %v on %d rows", shares, costs.Rows)
	}
	t.Logf("costs %+v", costs.Points)
	// 1% of 20,000 rows leaves about 10 allowed rows two links from a row
	// (hnsw.TwoHopReach): every neighbour is scored; at 10%, two hops.
	var variants []string
	for _, p := range costs.Points {
		variants = append(variants, p.Variant)
	}
	if want := []string{variantEveryNeighbour, variantTwoHops, variantEveryNeighbour, ""}; !slices.Equal(variants, want) {
		t.Errorf("variants measured %q, want %q", variants, want)
	}
	if ls := cal.CostLines(); len(ls) != 1 || !strings.HasPrefix(ls[0], "image queries: 1.") || !strings.Contains(ls[0], "; 100% allowed: ef ") {
		t.Errorf("cost lines %q", ls)
	}
	var all []float32
	for _, p := range emb.Image {
		all = append(all, p...)
	}
	// Allow-lists of 0.2%, 10% and 40% of the rows, scattered.
	for _, every := range []int{500, 10, 2} {
		allow := vector.NewBitset(20_000)
		for r := 3; r < 20_000; r += every {
			allow.Set(uint32(r))
		}
		allowed := allow.Count()
		ef, _, _ := costs.filteredEf(allowed, 10)
		want := costs.estimate(allowed, ef)
		var sum float64
		const nq = 40
		fellBack := 0
		for i := range nq {
			q := all[(i*487)*dim : (i*487+1)*dim]
			res, err := d.Search(ctx, engine.SearchRequest{Vec: q, K: 10, Allow: allow, Image: true})
			if err != nil {
				t.Fatal(err)
			}
			// A graph search may hand over to the exact scan when it runs
			// out of its budget before finding k allowed rows (the graph,
			// built on two goroutines, differs from run to run).
			if !want.scan() && res.Exact && strings.Contains(res.Method, "could not find k allowed rows") {
				fellBack++
			} else {
				if !strings.Contains(res.Method, "planner, ") || res.Exact != want.scan() {
					t.Fatalf("1 in %d allowed: method %q, exact %v; the costs say scan %v", every, res.Method, res.Exact, want.scan())
				}
				if !want.scan() && !strings.Contains(res.Method, "calibrated for filtered searches") {
					t.Fatalf("1 in %d allowed: method %q", every, res.Method)
				}
			}
			sum += recall(res.Hits, bruteKNN(all, dim, q, 10, allow))
			// Forcing the index takes the graph at the filtered ef.
			if every <= 10 && i == 0 {
				res, err := d.Search(ctx, engine.SearchRequest{Vec: q, K: 10, Allow: allow, Index: true, Image: true})
				if err != nil || res.Exact || !strings.Contains(res.Method, "calibrated for filtered searches") {
					t.Fatalf("forced index, 1 in %d allowed: %q %v", every, res.Method, err)
				}
			}
		}
		if fellBack > nq/4 {
			t.Errorf("1 in %d allowed: %d of %d graph searches fell back to the exact scan", every, fellBack, nq)
		}
		if r := sum / nq; r < 0.97 {
			t.Errorf("1 in %d allowed (%s): recall@10 %.3f", every, want, r)
		}
		if every == 500 && !want.scan() {
			t.Errorf("0.2%% allowed: the graph priced below a scan of %d rows: %s", allowed, want)
		}
	}

	// A calibration of version 4 measured filtered searches that score
	// every neighbour; the store runs its searches so, at the effort it
	// chose, and a current one two hops (hnsw.TwoHopShare): far fewer
	// vectors scored at a tenth of the rows allowed.
	allow := vector.NewBitset(20_000)
	for r := 3; r < 20_000; r += 10 {
		allow.Set(uint32(r))
	}
	q := all[7*dim : 8*dim]
	// At 5%, between the 1% measured scoring every neighbour and the 10%
	// measured by two hops, the search scores every neighbour (two hops
	// at 10%'s ef would not keep the promise there); at 10%, two hops.
	for _, tc := range []struct {
		every int
		two   bool
	}{{20, false}, {10, true}} {
		a := vector.NewBitset(20_000)
		for r := 3; r < 20_000; r += tc.every {
			a.Set(uint32(r))
		}
		res, err := d.Search(ctx, engine.SearchRequest{Vec: q, K: 10, Allow: a, Index: true, Image: true})
		if err != nil || strings.Contains(res.Method, "two links away") != tc.two {
			t.Errorf("1 in %d allowed, forced index: %q %v", tc.every, res.Method, err)
		}
	}
	forced := func() engine.SearchResult {
		res, err := d.Search(ctx, engine.SearchRequest{Vec: q, K: 10, Allow: allow, Index: true, Image: true})
		if err != nil || res.Exact {
			t.Fatalf("forced index: %q %v", res.Method, err)
		}
		return res
	}
	now := forced()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	mf, err := readManifest(filepath.Join(tmp, "store"))
	if err != nil {
		t.Fatal(err)
	}
	imageIndex(mf).Calibration.Version = 4
	if err := writeManifest(filepath.Join(tmp, "store"), mf); err != nil {
		t.Fatal(err)
	}
	if d, err = Open(filepath.Join(tmp, "store"), &Options{ExactUpTo: -1}); err != nil {
		t.Fatal(err)
	}
	old := forced()
	if old.Scanned < 2*now.Scanned {
		t.Errorf("10%% allowed: %d vectors scored under a version 4 calibration, %d under version %d; want every neighbour scored, far more",
			old.Scanned, now.Scanned, calibrationVersion)
	}
}

// TestOlderCalibrationSearchesAsMeasured checks that an HNSW whose
// calibration predates version 5 runs its filtered searches scoring every
// neighbour, as that calibration measured them, and a current one two
// hops at a tenth of the rows allowed: the effort a calibration chose
// keeps its promise only with the search it measured.
func TestOlderCalibrationSearchesAsMeasured(t *testing.T) {
	ctx := context.Background()
	const n, dim = 20000, 32
	g := synth.New(synth.Config{Dim: dim, Seed: 7, N: n})
	m := vector.Matrix{Dim: dim, F32: g.Base(n)}
	vi, err := indexKinds["hnsw"].create(ctx, m, nil, map[string]int{"m": 16, "ef_construction": 100})
	if err != nil {
		t.Fatal(err)
	}
	defer vi.Close()
	if err := vi.Add(ctx, m, vector.Ranges{{Lo: 0, Hi: n}}, nil); err != nil {
		t.Fatal(err)
	}
	allow := vector.NewBitset(n)
	for i := 0; i < n; i += 10 {
		allow.Set(uint32(i))
	}
	ix := vi.(hnswIndex).Index
	q := g.ImageQueries(1)
	scored := func(version int) int {
		r, err := vi.Search(ctx, q, 10, IndexSearch{Effort: 24, Allow: allow, Calibration: version})
		if err != nil {
			t.Fatal(err)
		}
		return r.Scored
	}
	direct := func(tr hnsw.Traverse) int {
		r, err := ix.Search(ctx, q, 10, &hnsw.SearchOptions{Ef: 24, Allow: allow, Seeds: hnsw.DefaultSeeds, Planned: true, Traverse: tr})
		if err != nil {
			t.Fatal(err)
		}
		return r.Scored
	}
	all, two := direct(hnsw.TraverseAll), direct(hnsw.TraverseTwoHop)
	if all == two {
		t.Fatalf("both traversals scored %d rows: the test cannot tell them apart", all)
	}
	for _, v := range []int{1, 4} {
		if got := scored(v); got != all {
			t.Errorf("calibration version %d: %d rows scored, want %d (every neighbour)", v, got, all)
		}
	}
	for _, v := range []int{0, calibrationVersion} {
		if got := scored(v); got != two {
			t.Errorf("calibration version %d: %d rows scored, want %d (two hops)", v, got, two)
		}
	}
	// Versions 5 and 6 measured two hops seeded by the wider beam (at ef
	// 100 the beams differ: 50 rows against hnsw.TwoHopSeedBeam).
	at100 := func(version, beam int) int {
		if version > 0 {
			r, err := vi.Search(ctx, q, 10, IndexSearch{Effort: 100, Allow: allow, Calibration: version})
			if err != nil {
				t.Fatal(err)
			}
			return r.Scored
		}
		r, err := ix.Search(ctx, q, 10, &hnsw.SearchOptions{Ef: 100, Allow: allow, Seeds: hnsw.DefaultSeeds, Planned: true, Traverse: hnsw.TraverseTwoHop, SeedBeam: beam})
		if err != nil {
			t.Fatal(err)
		}
		return r.Scored
	}
	wide, narrow := at100(0, hnsw.SeedBeam), at100(0, hnsw.TwoHopSeedBeam)
	if wide == narrow {
		t.Fatalf("both seed beams scored %d rows: the test cannot tell them apart", wide)
	}
	for _, v := range []int{5, 6} {
		if got := at100(v, 0); got != wide {
			t.Errorf("calibration version %d: %d rows scored at ef 100, want %d (two hops, wide seeds)", v, got, wide)
		}
	}
	if got := at100(calibrationVersion, 0); got != narrow {
		t.Errorf("calibration version %d: %d rows scored at ef 100, want %d (two hops, narrow seeds)", calibrationVersion, got, narrow)
	}
}

// TestVariantAround checks the variant a filtered search between measured
// shares runs by: a measured point's near it, else the lower point's.
func TestVariantAround(t *testing.T) {
	c := &Costs{Rows: 100_000, Points: []CostPoint{
		{Share: 0.01, Variant: variantEveryNeighbour},
		{Share: 0.1, Variant: variantTwoHops},
		{Share: 0.5, Variant: variantEveryNeighbour},
		{Share: 1},
	}}
	for _, tc := range []struct {
		allowed int
		want    string
	}{
		{500, variantEveryNeighbour},   // below the first point
		{1_050, variantEveryNeighbour}, // at 1%
		{5_000, variantEveryNeighbour}, // between 1% and 10%: the lower's
		{9_500, variantTwoHops},        // near 10%
		{20_000, variantTwoHops},       // between 10% and 50%: the lower's
		{48_000, variantEveryNeighbour},
		{70_000, variantEveryNeighbour},
		{100_000, ""},
	} {
		if got := c.variantAround(tc.allowed); got != tc.want {
			t.Errorf("%d of 100,000 allowed: variant %q, want %q", tc.allowed, got, tc.want)
		}
	}
	if got := (&Costs{}).variantAround(10); got != "" {
		t.Errorf("no points: variant %q", got)
	}
}
