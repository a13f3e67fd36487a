package db

import (
	"context"

	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/vector"
)

// Calibrating the default ef.
//
// How wide a graph search must be to find the true neighbours depends on
// the data, its size and the kind of query: on 1M CLIP-like vectors, image
// queries reach recall@10 0.99 at ef 48 while text queries, which lie in
// CLIP's text cone far from the images they match, need ef near 1,500
// (BENCHMARKS.md); on a more crowded 1M set the same holds at ef 96 and
// 4,096. No fixed default fits every store, so each index build measures
// it: it takes the embeddings of calibrationQueries rows spread evenly over
// the store, searches the graph with them at the ef values of
// hnsw.EfLadder (and between its last two rungs tried, in eighths),
// compares with exact scans, and records the smallest ef at
// which a lower confidence bound of the recall (the mean of the per-query
// recalls minus two standard errors) reaches CalibrationTarget, per query
// kind (image, text) and for k = 10 and 100. Searches then use that ef,
// and the plan says which calibration chose it; where no ef on the ladder
// reached the target, searches of that kind scan exactly.
//
// The sample stands in for audit queries: image embeddings of stored rows,
// each leaving its own row out of the answer and out of the graph search
// (which would otherwise follow that row's links straight to its
// neighbours), and the stored captions' text embeddings (a caption's own
// image is in the store, which makes it slightly easier than a new text).
// The cost is one exact scan per sample query plus the graph searches:
// about a minute for 1M rows on two cores, against about 7 for the build.

// CalibrationTarget is the recall the calibrated ef must reach: the lower
// confidence bound of the sample's recall (hnsw.Calibration.Lower) must be
// at least this.
const CalibrationTarget = 0.99

// calibrationQueries is the sample size per query kind. Per-query recall
// is heavy-tailed (most queries find all k, a few find far fewer), so small
// samples mislead: on 1M CLIP-like rows, image queries at ef 64 measured
// 0.9955 on one sample of 200 rows, 0.9836 on one of 500 and 0.9910 on one
// of 1,000, and 0.987-0.990 on new images.
const calibrationQueries = 500

// calibrationVersion numbers the calibration method. Version 1 (unnumbered
// in the manifest, read as 0) took 200 queries per kind, let image sample
// queries pass through their own rows' graph nodes and required a mean
// recall of 0.995; on a 1M store it chose ef 64 for image queries, where
// new images reached only 0.987. Version 2 kept the searches out of those
// nodes, which alone did not change that. Version 3 also takes 500
// queries and requires the lower confidence bound to reach 0.99. Version 4
// adds the planner's costs (plancost.go) and searches the graph as the
// store does at every effort (before, the index scanned exactly where its
// own planner found that cheaper, which the store never lets it do).
// Version 5 measures the HNSW's filtered searches as they now run: below
// hnsw.TwoHopShare of the rows allowed they score allowed rows only,
// taking those two links away (hnsw.TraverseTwoHop); searches through an
// index calibrated before score every neighbour, as measured. Version 6
// tries efs between the last rung of the ladder that fell short and the
// first that reached the target (hnsw's refineEf: 160 and 144 between 128
// and 192), so that searches run within an eighth of the smallest ef that
// reaches it on the sample, where a rung could be up to half above it.
// Version 7 measures two-hop searches seeded by a narrower layer-1 beam
// (hnsw.TwoHopSeedBeam, 32 rows, where an unfiltered search's is up to
// 128); searches through an index calibrated before are seeded as
// measured.
const calibrationVersion = 7

// calibrationK are the k the calibration measures.
var calibrationK = []int{10, 100}

// calibrate measures the default ef of ix over the rows of m with image
// vectors (img), for image queries and, if the store has text
// embeddings, text queries.
func (d *DB) calibrate(ctx context.Context, ix VectorIndex, kind indexKind, m *Manifest, sp query.Space) (*Calibration, error) {
	// The index's own embeddings (sp) are queried leaving their own row
	// out, as a new item of that kind is not in the store; the other
	// space's embeddings are queried as they are (a caption is not its
	// image). Calibration.Image holds the image-embedding queries and
	// Text the text-embedding ones, whichever space the index covers.
	var withImg, withTxt vector.Ranges
	for _, s := range m.Segments {
		if s.Rows == 0 {
			continue
		}
		r := vector.Range{Lo: uint32(s.Base), Hi: uint32(s.Base + s.Rows)}
		if s.HasImage {
			withImg = append(withImg, r)
		}
		if s.HasText {
			withTxt = append(withTxt, r)
		}
	}
	own, other := withImg, withTxt
	ownFile, otherFile := d.imgFile(nil), d.txtFile(nil)
	if sp == query.SpaceText {
		own, other, ownFile, otherFile = withTxt, withImg, otherFile, ownFile
	}
	cal := &Calibration{Version: calibrationVersion, MaxEffort: kind.efforts[len(kind.efforts)-1]}
	var ownMat vector.Matrix
	if ownFile != nil {
		ownMat = ownFile.matrix(m.Rows)
	}
	sample := func(vf *vecFile, rs vector.Ranges, self bool) ([]vector.Calibration, *Costs, error) {
		if vf == nil || len(rs) == 0 {
			return nil, nil, nil
		}
		mat := vf.matrix(m.Rows)
		rows := spread(rs, calibrationQueries)
		qs := make([][]float32, len(rows))
		var skip []int64
		if self {
			skip = make([]int64, len(rows))
		}
		for i, r := range rows {
			qs[i] = mat.Row(int(r), nil)
			if self {
				skip[i] = int64(r)
			}
		}
		if len(qs) == 0 {
			return nil, nil, nil
		}
		cs, err := ix.Calibrate(ctx, qs, skip, calibrationK, CalibrationTarget, IndexCalibrate{Efforts: kind.efforts})
		if err != nil {
			return nil, nil, err
		}
		costs, err := measureCosts(ctx, ix, kind, ownMat, own, qs, skip, cs)
		return cs, costs, err
	}
	ownCal, ownCosts, err := sample(ownFile, own, true)
	if err != nil {
		return nil, err
	}
	otherCal, otherCosts, err := sample(otherFile, other, false)
	if err != nil {
		return nil, err
	}
	cal.Image, cal.Text = ownCal, otherCal
	cal.ImageCosts, cal.TextCosts = ownCosts, otherCosts
	if sp == query.SpaceText {
		cal.Image, cal.Text = otherCal, ownCal
		cal.ImageCosts, cal.TextCosts = otherCosts, ownCosts
	}
	return cal, nil
}

// spread returns up to n rows of rs, evenly spaced over their total count:
// the same rows for the same store, and every file represented.
func spread(rs vector.Ranges, n int) []uint32 {
	total := rs.Count()
	n = min(n, total)
	out := make([]uint32, 0, n)
	for i := range n {
		// The middle of the i-th of n equal shares of the rows.
		j := (2*i + 1) * total / (2 * n)
		for _, r := range rs {
			if size := int(r.Hi - r.Lo); j < size {
				out = append(out, r.Lo+uint32(j))
				break
			} else {
				j -= size
			}
		}
	}
	return out
}
