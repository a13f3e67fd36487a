package db

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/laiondb/laiondb/vector"
)

// The planner's costs.
//
// A k-NN search restricted to some rows (a `where`) can be answered by an
// exact scan of the allowed rows or by a filtered graph search, which
// keeps expanding until it holds ef allowed rows. Which is faster, and at
// which ef the graph keeps the recall promise, depends on the share of rows
// allowed, on the data and on the machine: on the 1M-row demo store of
// BENCHMARKS.md ("Filtered k-NN"), a search admitting 10% of the rows
// costs 45 ms by the scan and 9 through the graph, one admitting 1% 4 ms
// by the scan and 15 through the graph. So the index build measures it.
// For each query kind it draws allow-lists of 1%, 10% and 50% of the
// indexed rows at random (and takes all of them), finds the smallest ef at
// which a filtered search of the calibration sample reaches the recall
// target, as the unfiltered calibration does, and times on one thread,
// sequentially, graph searches at that ef and exact scans of the same
// allowed rows. The planner interpolates between the measured shares (in
// the logarithm of the share) and takes the faster path; the plan prints
// both estimates. Times are CPU time on one thread: the scan runs on every
// core, but a store serving many searches has no core to spare. An index
// may search in more than one way by the share allowed (the HNSW scores
// allowed rows only, two links away, below an eighth): each point records
// the variant it measured, and a search runs by the variant of the point
// its ef comes from (variantAround).

// costShares are the shares of indexed rows whose filtered searches the
// calibration measures, besides 1 (no filter).
var costShares = []float64{0.01, 0.1, 0.5}

// costK is the k of the measured searches; the planner scales the
// estimates of larger k.
const costK = 10

// minCostRows is the fewest allowed rows a share is measured at: below it
// a scan is cheaper than any graph search.
const minCostRows = 200

// costBudget bounds the timing of one path at one share; at least
// minTimed searches are timed, at most maxTimed.
const (
	costBudget = 300 * time.Millisecond
	minTimed   = 5
	maxTimed   = 100
)

// Costs are the planner's measurements for one kind of query (image or
// text embeddings as queries).
type Costs struct {
	// Rows is the number of indexed rows they were measured on.
	Rows int `json:"rows"`
	// Points are the measurements by share of rows allowed, ascending; the
	// last is the unfiltered search (share 1).
	Points []CostPoint `json:"points"`
}

// CostPoint is the measurement at one share of rows allowed.
type CostPoint struct {
	// Share is the allowed rows' share of the indexed rows.
	Share float64 `json:"share"`
	// Ef is the smallest ef at which the filtered search's recall@10
	// lower confidence bound reached the target (0: none did); at share
	// 1, the unfiltered calibration's ef for k 10.
	Ef int `json:"ef"`
	// Recall and Lower are the recall@10 measured at Ef and its lower
	// confidence bound (at the largest ef tried when Ef is 0).
	Recall float64 `json:"recall"`
	Lower  float64 `json:"lower"`
	// GraphNs is the mean time of one graph search at GraphEf (Ef; else
	// CappedAt; else the ladder's largest ef), in nanoseconds on one
	// thread.
	GraphNs float64 `json:"graph_ns"`
	GraphEf int     `json:"graph_ef"`
	// CappedAt, when not 0, is the ef at which the calibration stopped
	// (vector.Calibration.CappedAt): searches there already cost more
	// than the scan, before any reached the target. GraphEf is that ef.
	CappedAt int `json:"capped_at,omitempty"`
	// ScanNsPerRow is the time of the exact scan of the allowed rows,
	// in nanoseconds per allowed row on one thread.
	ScanNsPerRow float64 `json:"scan_ns_per_row"`
	// Variant is how the index's filtered searches ran at this share
	// (IndexResult.Variant; version 5 on): the searches at a share
	// between two measured ones run as the lower one's (variantAround).
	Variant string `json:"variant,omitempty"`
}

// costs returns the planner's costs for image queries (image true) or
// text queries, and whether they were measured with queries of that kind:
// a store without text embeddings prices text queries (inline vectors,
// vector files) with the image queries' costs, but has no filtered ef
// calibrated for them. nil when the index has no costs.
func (ix *IndexInfo) costs(image bool) (*Costs, bool) {
	if ix == nil || ix.Calibration == nil {
		return nil, false
	}
	c, own := ix.Calibration.TextCosts, true
	if image {
		c = ix.Calibration.ImageCosts
	}
	if c == nil || len(c.Points) == 0 {
		c, own = ix.Calibration.ImageCosts, false
	}
	if c == nil || len(c.Points) == 0 {
		return nil, false
	}
	return c, own
}

// CostLines describes the planner's costs, one line per query kind that
// has them: at each share measured, the filtered ef and the two paths'
// times on one thread. They are timings of the machine that built the
// index, so they differ from one build to the next.
func (c *Calibration) CostLines() []string { return c.costLines("ef", "graph") }

// CostLines is Calibration.CostLines with the index kind's names for its
// effort and search; nil without a calibration.
func (ix *IndexInfo) CostLines() []string {
	k, err := lookupIndex(ix.Kind)
	if ix.Calibration == nil || err != nil {
		return nil
	}
	return ix.Calibration.costLines(k.effort, k.path)
}

// costLines is CostLines for an index whose effort and search are called
// effort and path.
func (c *Calibration) costLines(effort, path string) []string {
	var out []string
	for _, k := range []struct {
		kind  string
		costs *Costs
	}{{"image", c.ImageCosts}, {"text", c.TextCosts}} {
		if k.costs == nil {
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s queries:", k.kind)
		for i, p := range k.costs.Points {
			sep := ";"
			if i == 0 {
				sep = ""
			}
			ef := fmt.Sprintf("%s %d", effort, p.Ef)
			if p.Variant != "" {
				ef += " (" + p.Variant + ")"
			}
			switch {
			case p.CappedAt > 0:
				ef = fmt.Sprintf("not calibrated past %s %d, where the %s already took longer than the scan", effort, p.CappedAt, path)
			case p.Ef == 0:
				ef = fmt.Sprintf("no %s reached the target (best lower bound %.4f)", effort, p.Lower)
			}
			fmt.Fprintf(&b, "%s %.3g%% allowed: %s, %s %s, scan %s", sep, 100*p.Share, ef, path,
				millis(p.GraphNs), millis(p.ScanNsPerRow*p.Share*float64(k.costs.Rows)))
		}
		out = append(out, b.String())
	}
	return out
}

// measureCosts measures the Costs of one query kind: qs (with skip, as for
// Calibrate) against ix, built over the rows covered of mat. unfiltered is
// the kind's calibration for calibrationK.
func measureCosts(ctx context.Context, ix VectorIndex, kind indexKind, mat vector.Matrix, covered vector.Ranges, qs [][]float32, skip []int64, unfiltered []vector.Calibration) (*Costs, error) {
	total := covered.Count()
	if total == 0 || len(qs) == 0 || len(kind.filterEfforts) == 0 {
		return nil, nil
	}
	costs := &Costs{Rows: total}
	for i, share := range costShares {
		if share*float64(total) < minCostRows {
			continue
		}
		allow := randomRows(mat.Len(), covered, share, uint64(i+1))
		// The scan is timed first: an index may stop calibrating where
		// its searches cost more (IndexCalibrate.MaxNs).
		scanNs, err := timeScan(ctx, mat, qs, allow)
		if err != nil {
			return nil, err
		}
		cs, err := ix.Calibrate(ctx, qs, skip, []int{costK}, CalibrationTarget, IndexCalibrate{Efforts: kind.filterEfforts, Allow: allow, MaxNs: scanNs})
		if err != nil {
			return nil, err
		}
		c := cs[0]
		allowed := allow.Count()
		p := CostPoint{Share: float64(allowed) / float64(total), Ef: c.Ef, Recall: c.Recall, Lower: c.Lower, CappedAt: c.CappedAt}
		ef := c.Ef
		switch {
		case c.CappedAt > 0:
			ef = c.CappedAt
		case ef == 0:
			ef = kind.filterEfforts[len(kind.filterEfforts)-1]
		}
		p.GraphEf = ef
		if p.GraphNs, p.Variant, err = timeGraph(ctx, ix, qs, allow, ef); err != nil {
			return nil, err
		}
		p.ScanNsPerRow = perRow(scanNs, allowed)
		costs.Points = append(costs.Points, p)
	}
	p := CostPoint{Share: 1}
	ef := kind.efforts[len(kind.efforts)-1]
	for _, c := range unfiltered {
		if c.K == costK {
			p.Ef, p.Recall, p.Lower = c.Ef, c.Recall, c.Lower
			if c.Ef > 0 {
				ef = c.Ef
			}
		}
	}
	p.GraphEf = ef
	var err error
	if p.GraphNs, _, err = timeGraph(ctx, ix, qs, covered, ef); err != nil {
		return nil, err
	}
	scanNs, err := timeScan(ctx, mat, qs, covered)
	if err != nil {
		return nil, err
	}
	p.ScanNsPerRow = perRow(scanNs, total)
	costs.Points = append(costs.Points, p)
	return costs, nil
}

// randomRows draws each row of covered with probability share, from a
// fixed seed: the same rows for the same store.
func randomRows(n int, covered vector.Ranges, share float64, seed uint64) *vector.Bitset {
	r := rand.New(rand.NewPCG(seed, 0x9a11e7))
	b := vector.NewBitset(n)
	for _, rg := range covered {
		for id := rg.Lo; id < rg.Hi; id++ {
			if r.Float64() < share {
				b.Set(id)
			}
		}
	}
	return b
}

// timeEach times run, on this goroutine, for some of qs (at least
// minTimed, at most maxTimed, until costBudget is spent): the mean
// nanoseconds of one run.
func timeEach(qs [][]float32, run func(q []float32) error) (float64, error) {
	nq := min(len(qs), maxTimed)
	var spent time.Duration
	n := 0
	for i := range nq {
		t := time.Now()
		if err := run(qs[i*len(qs)/nq]); err != nil {
			return 0, err
		}
		spent += time.Since(t)
		n++
		if n >= minTimed && spent >= costBudget {
			break
		}
	}
	return float64(spent.Nanoseconds()) / float64(max(n, 1)), nil
}

// timeGraph is the mean time of an index search at ef among the allowed
// rows, on one thread, and the variant the index searched by.
func timeGraph(ctx context.Context, ix VectorIndex, qs [][]float32, allow vector.AllowList, ef int) (float64, string, error) {
	variant := ""
	ns, err := timeEach(qs, func(q []float32) error {
		r, err := ix.Search(ctx, q, costK, IndexSearch{Effort: ef, Allow: allow})
		variant = r.Variant
		return err
	})
	return math.Round(ns), variant, err
}

// timeScan is the mean time of an exact scan of the allowed rows, on one
// thread.
func timeScan(ctx context.Context, mat vector.Matrix, qs [][]float32, allow vector.AllowList) (float64, error) {
	return timeEach(qs, func(q []float32) error {
		_, _, err := vector.ExactOn(ctx, 1, mat, q, costK, allow)
		return err
	})
}

// perRow is a scan's time per allowed row, to 0.01 ns.
func perRow(scanNs float64, allowed int) float64 {
	return math.Round(scanNs/float64(max(allowed, 1))*100) / 100
}

// estimate is the planner's view of one search.
type estimate struct {
	share   float64 // allowed rows' share of the indexed rows
	ef      int     // the effort of the index search priced
	graphNs float64 // the index search's time
	scanNs  float64 // the exact scan's
	// path and effort name the index search and its effort, for the
	// plan: "graph" and "ef" (the zero value), "IVF index" and "nprobe".
	path, effort string
}

// around returns the measured points around share: lo at or below it, hi
// at or above (the same point beyond either end), and where share lies
// between them in the logarithm of the share (0 at lo, 1 at hi).
func (c *Costs) around(share float64) (lo, hi CostPoint, t float64) {
	ps := c.Points
	h := len(ps) - 1
	for i, p := range ps {
		if p.Share >= share {
			h = i
			break
		}
	}
	l := h
	if h > 0 && ps[h].Share > share {
		l = h - 1
	}
	if l != h {
		t = (math.Log(share) - math.Log(ps[l].Share)) / (math.Log(ps[h].Share) - math.Log(ps[l].Share))
	}
	return ps[l], ps[h], t
}

// share is allowed's share of the indexed rows.
func (c *Costs) share(allowed int) float64 { return float64(allowed) / float64(max(c.Rows, 1)) }

// snapShare is how close (relative) a share must be to a measured one to
// take its ef alone.
const snapShare = 0.1

// filteredEf returns the ef that keeps the recall promise for a filtered
// search for k rows among allowed of the indexed rows: the ef calibrated
// at a measured share within snapShare of it, else the larger of the efs
// calibrated at the measured shares around it (the share between them is
// not measured; the larger kept the promise at both), scaled for k beyond
// the measured 10; 0 when the ef it would take reached none. lower and at are
// the recall@10 lower bound of that ef and the share it was measured at.
func (c *Costs) filteredEf(allowed, k int) (ef int, lower, at float64) {
	if len(c.Points) == 0 {
		return 0, 0, 0
	}
	share := c.share(allowed)
	lo, hi, _ := c.around(share)
	// A share within snapShare of a measured one (relative) takes its ef:
	// the recall changes little with the share, and the calibration's
	// lower bound leaves a margin.
	for _, p := range []CostPoint{lo, hi} {
		if math.Abs(share-p.Share) <= snapShare*p.Share {
			lo, hi = p, p
		}
	}
	if lo.Ef == 0 || hi.Ef == 0 {
		return 0, 0, 0
	}
	p := lo
	if hi.Ef > lo.Ef {
		p = hi
	}
	ef = p.Ef
	if k > costK {
		ef = ef * k / costK
	}
	return ef, p.Lower, p.Share
}

// variantAround returns the variant a filtered search among allowed of
// the indexed rows runs by: that of the measured point it takes its ef
// from (as filteredEf snaps), else, between two points measured by
// different variants, the lower share's. The ef is the larger of the two
// points', and each variant's recall at an ef was measured not to fall
// from its share upwards: the HNSW's two-hop search finds more allowed
// rows two links away as the share grows, while the search scoring every
// neighbour kept its recall from 1% to 10% at the efs calibrated (the
// upper point's variant would not do: two hops at 3% with the ef of 10%
// reached recall@10 0.971, not 0.99).
func (c *Costs) variantAround(allowed int) string {
	if len(c.Points) == 0 {
		return ""
	}
	share := c.share(allowed)
	lo, hi, _ := c.around(share)
	for _, p := range []CostPoint{lo, hi} {
		if math.Abs(share-p.Share) <= snapShare*p.Share {
			return p.Variant
		}
	}
	return lo.Variant
}

// cappedAround returns the measured point around the share of allowed rows
// (as filteredEf takes them) at which the calibration stopped because the
// scan was faster (CostPoint.CappedAt), or nil.
func (c *Costs) cappedAround(allowed int) *CostPoint {
	if len(c.Points) == 0 {
		return nil
	}
	share := c.share(allowed)
	lo, hi, _ := c.around(share)
	for _, p := range []CostPoint{lo, hi} {
		if math.Abs(share-p.Share) <= snapShare*p.Share {
			lo, hi = p, p
		}
	}
	for _, p := range []CostPoint{lo, hi} {
		if p.CappedAt > 0 {
			return &p
		}
	}
	return nil
}

// estimate prices a search among allowed of the indexed rows: the exact
// scan of those rows, and a graph search at ef. The costs per unit of ef
// and per row are interpolated between the measured shares in the
// logarithms; below the smallest share measured, the graph search visits
// about 1/share rows to collect its allowed ones.
func (c *Costs) estimate(allowed, ef int) estimate {
	e := estimate{share: c.share(allowed), ef: ef}
	if len(c.Points) == 0 {
		return e
	}
	perEf := func(p CostPoint) float64 { return p.GraphNs / float64(max(p.GraphEf, 1)) }
	lo, hi, t := c.around(e.share)
	mix := func(a, b float64) float64 {
		if a <= 0 || b <= 0 {
			return max(a, b)
		}
		return math.Exp((1-t)*math.Log(a) + t*math.Log(b))
	}
	graphPerEf := mix(perEf(lo), perEf(hi))
	scanPerRow := mix(lo.ScanNsPerRow, hi.ScanNsPerRow)
	if first := c.Points[0]; e.share < first.Share {
		graphPerEf = perEf(first) * first.Share / e.share
		scanPerRow = first.ScanNsPerRow
	}
	e.graphNs = graphPerEf * float64(ef)
	e.scanNs = scanPerRow * float64(allowed)
	return e
}

// scan reports whether the scan is expected to be faster.
func (e estimate) scan() bool { return e.scanNs <= e.graphNs }

// String says what the planner weighed, for the plan.
func (e estimate) String() string {
	path, effort := e.path, e.effort
	if path == "" {
		path, effort = "graph", "ef"
	}
	choice := "the " + path + " is faster"
	if e.scan() {
		choice = "the scan is faster"
	}
	return fmt.Sprintf("planner, %.3g%% of the indexed rows allowed: exact scan ≈ %s, %s search at %s %d ≈ %s, on one thread by the costs measured at index build: %s",
		100*e.share, millis(e.scanNs), path, effort, e.ef, millis(e.graphNs), choice)
}

// millis formats nanoseconds as milliseconds with 2 significant digits.
func millis(ns float64) string {
	ms := ns / 1e6
	switch {
	case ms >= 10:
		return fmt.Sprintf("%.0f ms", ms)
	case ms >= 1:
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.2f ms", ms)
}
