package db

import (
	"context"
	"fmt"

	"github.com/laiondb/laiondb/hnsw"
	"github.com/laiondb/laiondb/vector"
)

// The HNSW graph of package hnsw as the store's VectorIndex: kind "hnsw",
// parameters m and ef_construction, file vectors/img.hnsw. Searches start
// the layer-0 search from hnsw.DefaultSeeds seeds found by beam searches
// of the upper layers.
func init() {
	registerIndex("hnsw", indexKind{
		file:    "img.hnsw",
		params:  map[string]int{"m": 16, "ef_construction": 200},
		efforts: hnsw.EfLadder,
		// A filtered search keeps expanding until it holds ef allowed
		// rows, so it reaches a recall at a smaller ef than an
		// unfiltered one: its ladder starts lower.
		filterEfforts: append([]int{10, 16, 24}, hnsw.EfLadder...),
		name:          "HNSW",
		describe: func(p map[string]int) string {
			return fmt.Sprintf("M %d, efConstruction %d", p["m"], p["ef_construction"])
		},
		effort:        "ef",
		path:          "graph",
		defaultEffort: defaultEf,
		effortCoversK: true,
		create: func(_ context.Context, m vector.Matrix, _ vector.Ranges, p map[string]int) (VectorIndex, error) {
			ix, err := hnsw.New(m.Dim, &hnsw.Options{M: p["m"], EfConstruction: p["ef_construction"], Seed: 1})
			if err != nil {
				return nil, err
			}
			return hnswIndex{ix}, nil
		},
		open: func(path string, m vector.Matrix, o openOptions) (VectorIndex, error) {
			ix, err := hnsw.OpenWith(path, m, &hnsw.OpenOptions{HugePages: o.hugePages})
			if err != nil {
				return nil, err
			}
			return hnswIndex{ix}, nil
		},
		verify: hnsw.Verify,
	})
}

type hnswIndex struct{ *hnsw.Index }

// The HNSW's filtered search variants (IndexResult.Variant): scoring
// allowed rows only, two links away, or every neighbour.
const (
	variantTwoHops        = "two hops"
	variantEveryNeighbour = "every neighbour"
)

// twoHopCalibration is the first calibration version that measured the
// two-hop searches, and narrowSeedCalibration the first that measured
// them seeded by hnsw.TwoHopSeedBeam (see calibrationVersion).
const (
	twoHopCalibration     = 5
	narrowSeedCalibration = 7
)

func (h hnswIndex) Search(ctx context.Context, q []float32, k int, o IndexSearch) (IndexResult, error) {
	so := hnsw.SearchOptions{Allow: o.Allow, Ef: o.Effort, Seeds: hnsw.DefaultSeeds, Planned: true}
	if o.Calibration > 0 && o.Calibration < narrowSeedCalibration {
		// Older calibrations measured every search seeded by the wider
		// layer-1 beam.
		so.SeedBeam = hnsw.SeedBeam
	}
	switch {
	case o.Calibration > 0 && o.Calibration < twoHopCalibration:
		// Older calibrations measured filtered searches that score every
		// neighbour.
		so.Traverse = hnsw.TraverseAll
	case o.Variant == variantTwoHops:
		so.Traverse = hnsw.TraverseTwoHop
	case o.Variant == variantEveryNeighbour:
		so.Traverse = hnsw.TraverseAll
	}
	r, err := h.Index.Search(ctx, q, k, &so)
	if err != nil {
		return IndexResult{}, err
	}
	res := IndexResult{Hits: r.Hits, Exact: r.Exact, Scored: r.Scored}
	switch r.Traverse {
	case hnsw.TraverseTwoHop:
		res.Variant = variantTwoHops
	case hnsw.TraverseAll:
		res.Variant = variantEveryNeighbour
	}
	switch r.Path {
	case hnsw.PathGraph:
		res.Method = fmt.Sprintf("hnsw graph search, ef=%d%s", r.Ef, traversed(r.Traverse))
	case hnsw.PathFallback:
		res.Method = fmt.Sprintf("exact scan (the filtered graph search%s, could not find k allowed rows)", traversed(r.Traverse))
	default:
		res.Method = "exact scan"
	}
	return res, nil
}

// traversed is what the plan says of a search that scored allowed rows
// only (", " and how), or "" for one that scored every neighbour: the
// store's searches all pass an allow-list (the rows the index covers),
// so most of those are not filtered at all.
func traversed(t hnsw.Traverse) string {
	if t == hnsw.TraverseTwoHop {
		return ", scoring allowed rows only, two links away"
	}
	return ""
}

func (h hnswIndex) PreferExact(allowed, effort int) bool {
	return hnsw.PlanExact(h.Len(), allowed, effort)
}

func (h hnswIndex) Calibrate(ctx context.Context, qs [][]float32, skip []int64, ks []int, target float64, o IndexCalibrate) ([]vector.Calibration, error) {
	return h.Index.Calibrate(ctx, qs, skip, ks, target, &hnsw.CalibrateOptions{Seeds: hnsw.DefaultSeeds, Allow: o.Allow, Ladder: o.Efforts})
}

func (h hnswIndex) Params() map[string]int {
	o := h.Options()
	return map[string]int{"m": o.M, "ef_construction": o.EfConstruction}
}
