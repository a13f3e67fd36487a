package db

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/vector"
)

// The vector index: a VectorIndex of a registered kind (vectorindex.go;
// today "hnsw", an HNSW graph in vectors/img.hnsw) over the image
// embeddings of the rows [0, R); the manifest records its kind, its
// parameters, R and the fingerprint of the vectors it was built over. An
// ingest adds its new rows to the index after committing them; if that is
// skipped (IngestOptions.NoIndex), interrupted or fails, the rows past R
// are still found: searches scan them exactly and merge the answers. A
// damaged or stale index file is reported through Options.Warn and by
// Check, searches fall back to exact scans, and BuildIndex rebuilds it.

// IndexInfo describes the store's vector index in the manifest.
type IndexInfo struct {
	// Kind is the registered index kind ("hnsw").
	Kind string `json:"kind"`
	// Params are the kind's build parameters (hnsw: m, ef_construction).
	Params map[string]int `json:"params"`
	// Rows is R: the index covers the rows [0, R) that have image vectors.
	Rows        int64  `json:"rows"`
	Fingerprint string `json:"fingerprint"`
	// Calibration is the default effort of searches, measured when the
	// index was built; nil in stores indexed before calibration existed.
	Calibration *Calibration `json:"calibration,omitempty"`

	// M and EfConstruction are how manifests written before index kinds
	// recorded an HNSW graph's parameters; readManifest moves them into
	// Kind and Params.
	M              int `json:"m,omitempty"`
	EfConstruction int `json:"ef_construction,omitempty"`
}

// upgrade fills Kind and Params from the fields of older manifests.
func (ix *IndexInfo) upgrade() {
	if ix.Kind == "" {
		ix.Kind = defaultIndexKind
		ix.Params = map[string]int{"m": ix.M, "ef_construction": ix.EfConstruction}
		ix.M, ix.EfConstruction = 0, 0
	}
	if c := ix.Calibration; c != nil && c.MaxEffort == 0 {
		if k, err := lookupIndex(ix.Kind); err == nil && len(k.efforts) > 0 {
			c.MaxEffort = k.efforts[len(k.efforts)-1]
		}
	}
}

// Calibration records, per query kind, the smallest effort (ef) at which a
// lower confidence bound of the index's recall on a sample of this store's
// own embeddings reached CalibrationTarget, for k = 10 and k = 100 (see
// calibrate.go).
type Calibration struct {
	// Version is the calibration method (calibrationVersion when it was
	// measured); BuildIndex measures an older one again.
	Version int `json:"version"`
	// Image was measured with image embeddings of sampled rows, each
	// leaving its own row out of the answers (a new image is not in the
	// store).
	Image []vector.Calibration `json:"image"`
	// Text was measured with the text embeddings of sampled rows; empty
	// when the store has none.
	Text []vector.Calibration `json:"text,omitempty"`
	// MaxEffort is the largest effort calibration tried.
	MaxEffort int `json:"max_effort,omitempty"`
	// ImageCosts and TextCosts are what the planner weighs for image and
	// text queries (version 4 on; see plancost.go): nil before, or when
	// the store has no embeddings of that kind.
	ImageCosts *Costs `json:"image_costs,omitempty"`
	TextCosts  *Costs `json:"text_costs,omitempty"`
}

// IndexOptions are the parameters of a new index.
type IndexOptions struct {
	// Kind is the index kind to build (default "hnsw").
	Kind string
	// Params override the kind's default build parameters.
	Params map[string]int
	// M and EfConstruction set the hnsw parameters m and ef_construction
	// (zero: 16 and 200).
	M              int
	EfConstruction int
	// Rebuild discards the current index and builds a new one.
	Rebuild bool
	// Space is the embeddings indexed: image (the default) or text.
	Space query.Space
	// Progress, when set, is called with the rows linked so far.
	Progress func(done, total int64)
}

// params returns the build parameters of kind k that o asks for.
func (o *IndexOptions) params(k indexKind) map[string]int {
	p := maps.Clone(k.params)
	maps.Copy(p, o.Params)
	if o.M > 0 {
		p["m"] = o.M
	}
	if o.EfConstruction > 0 {
		p["ef_construction"] = o.EfConstruction
	}
	return p
}

// indexPath is the file of an index of kind k over the embeddings of space
// sp: the kind's file name (img.hnsw), with txt. for img. in text space.
func indexPath(dir string, k indexKind, sp query.Space) string {
	name := k.file
	if sp == query.SpaceText {
		name = "txt." + strings.TrimPrefix(name, "img.")
	}
	return filepath.Join(dir, "vectors", name)
}

// indexInfo returns the manifest's index over the embeddings of sp.
func (m *Manifest) indexInfo(sp query.Space) *IndexInfo {
	if sp == query.SpaceText {
		return m.TextIndex
	}
	return m.Index
}

// setIndexInfo records the index over the embeddings of sp.
func (m *Manifest) setIndexInfo(sp query.Space, ix *IndexInfo) {
	if sp == query.SpaceText {
		m.TextIndex = ix
	} else {
		m.Index = ix
	}
}

// rebuildHint is the command that rebuilds the index of a space.
func rebuildHint(sp query.Space) string {
	if sp == query.SpaceText {
		return "'laiondb index --space text --rebuild'"
	}
	return "'laiondb index --rebuild'"
}

// openIndex opens the indexes the manifest records, if any. A missing,
// damaged or stale file is not an error: the store answers by exact scans
// and says so.
func (d *DB) openIndex(m *Manifest) {
	for _, sp := range []query.Space{query.SpaceImage, query.SpaceText} {
		info, vf := m.indexInfo(sp), d.img
		if sp == query.SpaceText {
			vf = d.txt
		}
		if info == nil || vf == nil {
			continue
		}
		k, err := lookupIndex(info.Kind)
		var ix VectorIndex
		if err == nil {
			ix, err = k.open(indexPath(d.dir, k, sp), vf.matrix(m.Rows))
		}
		if err != nil {
			d.opts.Warn(fmt.Sprintf("the vector index over the %s embeddings cannot be used (%v); searches scan exactly until it is rebuilt with %s", sp, err, rebuildHint(sp)))
		}
		if sp == query.SpaceText {
			d.tix, d.tixErr = ix, err
		} else {
			d.ix, d.ixErr = ix, err
		}
	}
}

// BuildIndex brings the vector index up to date: it links the rows with
// image vectors that the graph does not cover yet (all of them with
// Rebuild or when there is no usable index), writes the graph atomically
// and records it in the manifest. It runs on all cores and stops when ctx
// is cancelled, leaving the previous index in place.
func (d *DB) BuildIndex(ctx context.Context, o *IndexOptions) error {
	if d.opts.ReadOnly {
		return ErrReadOnly
	}
	d.ingestMu.Lock()
	defer d.ingestMu.Unlock()
	return d.buildIndex(ctx, o)
}

// buildIndex is BuildIndex with ingestMu held.
func (d *DB) buildIndex(ctx context.Context, o *IndexOptions) error {
	var opts IndexOptions
	if o != nil {
		opts = *o
	}
	sp := opts.Space
	m, err := d.snapshot()
	if err != nil {
		return err
	}
	vf := d.imgFile(nil)
	has := func(s *Segment) bool { return s.HasImage }
	if sp == query.SpaceText {
		vf = d.txtFile(nil)
		has = func(s *Segment) bool { return s.HasText }
	}
	if vf == nil || m.Dim == 0 {
		if sp == query.SpaceText && o != nil {
			return fmt.Errorf("%w: the store has no text embeddings to index", ErrNoVectors)
		}
		return nil
	}
	info := m.indexInfo(sp)
	d.mu.RLock()
	ix := d.ix
	if sp == query.SpaceText {
		ix = d.tix
	}
	d.mu.RUnlock()
	kindName := opts.Kind
	if kindName == "" {
		kindName = defaultIndexKind
	}
	from := int64(0)
	if ix != nil && info != nil && !opts.Rebuild && (opts.Kind == "" || opts.Kind == info.Kind) {
		from = info.Rows
		kindName = info.Kind
	} else {
		k, err := lookupIndex(kindName)
		if err != nil {
			return fmt.Errorf("db: index: %w", err)
		}
		if ix, err = k.create(m.Dim, opts.params(k)); err != nil {
			return fmt.Errorf("db: index: %w", err)
		}
	}
	kind, err := lookupIndex(kindName)
	if err != nil {
		return fmt.Errorf("db: index: %w", err)
	}
	var add vector.Ranges
	for i := range m.Segments {
		s := &m.Segments[i]
		lo, hi := max(s.Base, from), s.Base+s.Rows
		if has(s) && lo < hi {
			add = append(add, vector.Range{Lo: uint32(lo), Hi: uint32(hi)})
		}
	}
	if len(add) == 0 && from == m.Rows && info != nil && !opts.Rebuild {
		if c := info.Calibration; c != nil && c.Version == calibrationVersion {
			return nil
		}
		// Nothing to link, but the calibration is missing or from an
		// older method: measure it again.
		cal, err := d.calibrate(ctx, ix, kind, m, sp)
		if err != nil {
			return fmt.Errorf("db: calibrating the index: %w", err)
		}
		next := m.clone()
		ni := *info
		ni.Calibration = cal
		next.setIndexInfo(sp, &ni)
		if err := writeManifest(d.dir, next); err != nil {
			return fmt.Errorf("db: recording the index: %w", err)
		}
		d.mu.Lock()
		d.man = next
		d.mu.Unlock()
		return nil
	}
	var progress func(done, total int)
	if opts.Progress != nil {
		progress = func(done, total int) { opts.Progress(int64(done), int64(total)) }
	}
	mat := vf.matrix(m.Rows)
	d.mu.RLock()
	fresh := ix != d.ix && ix != d.tix
	d.mu.RUnlock()
	if err := ix.Add(ctx, mat, add, progress); err != nil {
		// A shared graph keeps the rows linked so far: searches restrict
		// it to the covered rows, and the next build skips them.
		if fresh {
			ix.Close()
		}
		return fmt.Errorf("db: building the index: %w", err)
	}
	cal, err := d.calibrate(ctx, ix, kind, m, sp)
	if err != nil {
		if fresh {
			ix.Close()
		}
		return fmt.Errorf("db: calibrating the index: %w", err)
	}
	if err := ix.Write(indexPath(d.dir, kind, sp)); err != nil {
		if fresh {
			ix.Close()
		}
		return fmt.Errorf("db: writing the index: %w", err)
	}
	next := m.clone()
	next.setIndexInfo(sp, &IndexInfo{Kind: kindName, Params: ix.Params(), Rows: m.Rows, Fingerprint: fmt.Sprintf("%016x", ix.Fingerprint()), Calibration: cal})
	if err := writeManifest(d.dir, next); err != nil {
		return fmt.Errorf("db: recording the index: %w", err)
	}
	d.mu.Lock()
	var old VectorIndex
	if sp == query.SpaceText {
		old = d.tix
		d.tix, d.tixErr, d.man = ix, nil, next
	} else {
		old = d.ix
		d.ix, d.ixErr, d.man = ix, nil, next
	}
	d.mu.Unlock()
	if old != nil && old != ix {
		d.retired = append(d.retired, old)
	}
	return nil
}

// index returns the view's index over the embeddings of sp, the rows it
// covers and why it is unusable; nil when there is none.
func (v *view) index(sp query.Space) (VectorIndex, int64, error, *IndexInfo) {
	if sp == query.SpaceText {
		return v.tix, v.tixRows, v.tixErr, v.m.TextIndex
	}
	return v.ix, v.ixRows, v.ixErr, v.m.Index
}

// choice is how a k-NN request is answered: by an exact scan of the rows
// allow admits (why says why, for the plan), or by the index at effort ef.
type choice struct {
	scan       bool
	why        string
	allow      vector.AllowList // the rows with vectors the request allows
	graphAllow vector.AllowList // those of them the index covers
	ef         int
	efWhy      string
	// err is why a request that forces the index cannot have it.
	err error
}

// choose makes the decision search describes.
func (v *view) choose(req engine.SearchRequest) choice {
	allow := v.allow(req.Allow, req.Space)
	ix, ixRows, ixErr, info := v.index(req.Space)
	cheap := false
	if limit := v.d.exactUpTo(); ix != nil && !req.Exact && !req.Index && limit > 0 {
		candidates := v.matrix(req.Space).Len()
		if allow != nil {
			candidates = allow.Count()
		}
		cheap = candidates <= limit
	}
	covered := vector.Ranges{{Lo: 0, Hi: uint32(ixRows)}}
	var graphAllow vector.AllowList = covered
	if allow != nil {
		graphAllow = vector.And(allow, covered)
	}
	// ef 0: calibration found no ef reaching the target for this kind of
	// query, so the index is not good enough and the store scans.
	ef, efWhy := v.ef(req)
	// With the costs the index build measured, a filtered search takes the
	// ef calibrated for its share of rows, and the planner prices both
	// paths; without them (an index calibrated before version 4) the
	// index's own rule decides.
	var est *estimate
	if costs, own := info.costs(req.Image); costs != nil && ix != nil && ixErr == nil && !req.Exact && !cheap {
		allowed := vector.CountHint(graphAllow)
		if own && allow != nil && req.Ef <= 0 && v.d.opts.EfSearch <= 0 && costs.share(allowed) < 1 {
			// A forced index search keeps the unfiltered ef where no
			// filtered one kept the promise.
			switch fef, lower, at := costs.filteredEf(allowed, req.K); {
			case fef > 0:
				ef, efWhy = fef, fmt.Sprintf("calibrated for filtered searches: recall@10 lower bound %.4f with %.3g%% of the rows allowed", lower, 100*at)
			case !req.Index:
				ef, efWhy = 0, fmt.Sprintf("at index build, no ef up to %d reached recall@10 %.2f in filtered searches with about %.3g%% of the rows allowed",
					info.Calibration.MaxEffort, CalibrationTarget, 100*costs.share(allowed))
			}
		}
		if ef > 0 {
			e := costs.estimate(allowed, max(ef, req.K))
			est = &e
		}
	}
	why, scan := "", true
	switch {
	case req.Exact:
	case cheap:
		why = fmt.Sprintf(" (searches over at most %d vectors are answered exactly; the index answers larger ones)", v.d.exactUpTo())
	case ixErr != nil:
		why = " (the index is unusable: rebuild it with " + rebuildHint(req.Space) + ")"
	case (info == nil || ix == nil) && req.Space == query.SpaceText:
		why = " (the store has no index over the text embeddings: 'laiondb index --space text' builds one)"
	case info == nil || ix == nil:
		why = " (the store has no index)"
	case ef == 0:
		why = " (" + efWhy + ")"
	case !req.Index && est != nil && est.scan():
		why = fmt.Sprintf(" (%s; ef %d: %s)", est, est.ef, efWhy)
	case !req.Index && est == nil && ix.PreferExact(vector.CountHint(graphAllow), max(ef, req.K)):
		why = fmt.Sprintf(" (planner: cheaper than a graph search at this size and filter with ef=%d (%s))", ef, efWhy)
	default:
		scan = false
	}
	c := choice{scan: scan, why: why, allow: allow, graphAllow: graphAllow, ef: ef, efWhy: efWhy}
	if !scan && est != nil && !req.Index {
		c.efWhy += "; " + est.String()
	}
	if req.Index && scan && !req.Exact {
		c.err = fmt.Errorf("%w: the index was asked for, but the store scans%s", ErrNoIndex, why)
	}
	return c
}

// search answers a k-NN request. This is the one place that decides
// between an exact scan and the index, and at which effort: the store
// scans when asked to, when it has no usable index, when the candidates
// are few (Options.ExactUpTo), when calibration found no effort good
// enough, or when the index says a scan of the allowed rows is cheaper;
// otherwise the index answers for the rows it covers and rows added since
// are scanned exactly.
func (v *view) search(ctx context.Context, req engine.SearchRequest) (engine.SearchResult, error) {
	c := v.choose(req)
	if c.err != nil {
		return engine.SearchResult{}, c.err
	}
	if c.scan {
		m := v.matrix(req.Space)
		hits, scanned, err := vector.Exact(ctx, m, req.Vec, req.K, c.allow)
		if err != nil {
			return engine.SearchResult{}, err
		}
		return engine.SearchResult{Hits: v.selfFirst(toHits(hits), req.Vec, req.Space, req.K, c.allow), Exact: true, Scanned: scanned,
			Method: fmt.Sprintf("exact scan of %d %svectors%s", scanned, spaceWord(req.Space), c.why)}, nil
	}
	allow, graphAllow, ef, efWhy := c.allow, c.graphAllow, c.ef, c.efWhy
	ix, ixRows, _, _ := v.index(req.Space)
	m := v.matrix(req.Space)
	r, err := ix.Search(ctx, req.Vec, req.K, IndexSearch{Effort: ef, Allow: graphAllow})
	if err != nil {
		return engine.SearchResult{}, err
	}
	res := engine.SearchResult{Hits: toHits(r.Hits), Exact: r.Exact, Scanned: r.Scored}
	if r.Exact {
		res.Method = fmt.Sprintf("%s, %d vectors scored", r.Method, r.Scored)
	} else {
		res.Method = fmt.Sprintf("%s (%s), %d vectors scored (approximate; --exact scans)", r.Method, efWhy, r.Scored)
	}
	if ixRows < v.m.Rows {
		// Rows ingested since the index was built: scan them and merge.
		rest := vector.Ranges{{Lo: uint32(ixRows), Hi: uint32(v.m.Rows)}}
		var restAllow vector.AllowList = rest
		if allow != nil {
			restAllow = vector.And(allow, rest)
		}
		hits, scanned, err := vector.Exact(ctx, m, req.Vec, req.K, restAllow)
		if err != nil {
			return engine.SearchResult{}, err
		}
		res.Hits = mergeHits(res.Hits, toHits(hits), req.K)
		res.Scanned += scanned
		res.Method += fmt.Sprintf("; plus an exact scan of %d vectors ingested after the index was built", scanned)
	}
	res.Hits = v.selfFirst(res.Hits, req.Vec, req.Space, req.K, allow)
	return res, nil
}

// defaultEf is the candidate list size of an index search for k results
// when the index has no calibration for the query's kind (an index built
// before calibration existed, or text queries on a store without text
// embeddings): wide enough for text queries on a store of about 100k rows
// (BENCHMARKS.md); larger stores need more, which is why they calibrate.
func defaultEf(k int) int { return max(256, 2*k) }

// ef returns the ef of an index search for req, and why: Options.EfSearch
// if set, else the calibrated ef for the query's kind and k (0 if
// calibration found none good enough), else defaultEf.
func (v *view) ef(req engine.SearchRequest) (int, string) {
	if req.Ef > 0 {
		return req.Ef, "set by the request"
	}
	if ef := v.d.opts.EfSearch; ef > 0 {
		return ef, "set by option"
	}
	var cal *Calibration
	if _, _, _, info := v.index(req.Space); info != nil {
		cal = info.Calibration
	}
	kind, list := "text", []vector.Calibration(nil)
	if cal != nil {
		list = cal.Text
		if req.Image {
			kind, list = "image", cal.Image
		}
	}
	if len(list) == 0 {
		return defaultEf(req.K), fmt.Sprintf("default; the index has no calibration for %s queries", kind)
	}
	// The calibration of the smallest k that covers req.K, or the largest.
	c := list[len(list)-1]
	for _, x := range list {
		if x.K >= req.K {
			c = x
			break
		}
	}
	src := fmt.Sprintf("%d %s embeddings of this store", c.Queries, kind)
	if c.Ef == 0 {
		return 0, fmt.Sprintf("at index build, no ef up to %d reached recall@%d %.2f on %s (best %.4f, lower bound %.4f)",
			cal.MaxEffort, c.K, c.Target, src, c.Recall, c.Lower)
	}
	if req.K > c.K {
		ef := c.Ef * req.K / c.K
		return ef, fmt.Sprintf("scaled from ef %d, calibrated for recall@%d %.4f on %s", c.Ef, c.K, c.Recall, src)
	}
	return c.Ef, fmt.Sprintf("calibrated: recall@%d %.4f on %s", c.K, c.Recall, src)
}

// defaultExactUpTo is the default of Options.ExactUpTo: an exact scan of a
// million vectors is cheap (BenchmarkQuery/q=knn-unfiltered measures it),
// and its answer is exact and the same on every store built from the same
// files, where a graph built in parallel may differ from one build to the
// next.
const defaultExactUpTo = 1 << 20

func (d *DB) exactUpTo() int {
	switch {
	case d.opts.ExactUpTo < 0:
		return 0
	case d.opts.ExactUpTo == 0:
		return defaultExactUpTo
	}
	return d.opts.ExactUpTo
}

// mergeHits merges two sorted hit lists into the best k.
func mergeHits(a, b []engine.Hit, k int) []engine.Hit {
	out := make([]engine.Hit, 0, min(k, len(a)+len(b)))
	for len(out) < k && (len(a) > 0 || len(b) > 0) {
		if len(b) == 0 || (len(a) > 0 && (a[0].Score > b[0].Score || (a[0].Score == b[0].Score && a[0].Row < b[0].Row))) {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return out
}

// checkIndex verifies the index file's checksums and graph, and that it
// matches the vectors.
func (d *DB) checkIndex(v *view, add func(string, string, ...any)) error {
	for _, sp := range []query.Space{query.SpaceImage, query.SpaceText} {
		_, _, ixErr, info := v.index(sp)
		if info == nil {
			continue
		}
		k, err := lookupIndex(info.Kind)
		if err != nil {
			add(manifestName, "%v", err)
			continue
		}
		path := indexPath(d.dir, k, sp)
		if _, err := os.Stat(path); err != nil {
			add(path, "missing: %v (rebuild with %s)", err, rebuildHint(sp))
			continue
		}
		if err := k.verify(path); err != nil {
			add(filepath.Base(path), "%v (rebuild with %s)", err, rebuildHint(sp))
			continue
		}
		if ixErr != nil {
			add(filepath.Base(path), "%v (rebuild with %s)", ixErr, rebuildHint(sp))
		}
	}
	return nil
}

// SearchBatch answers k-NN requests as search does, one by one, except
// that the requests search chooses to scan exactly and that scan the same
// rows (same allow-list, space and k) share one pass over the vectors
// (vector.ExactBatch: each answer identical to its own scan's).
func (v *view) SearchBatch(ctx context.Context, reqs []engine.SearchRequest) ([]engine.SearchResult, error) {
	out := make([]engine.SearchResult, len(reqs))
	type key struct {
		allow *vector.Bitset
		space query.Space
		k     int
	}
	var ps passes[key]
	for i, req := range reqs {
		if err := v.checkVec(req.Vec, req.Space); err != nil {
			return nil, err
		}
		c := v.choose(req)
		if c.err != nil {
			return nil, c.err
		}
		if !c.scan || v.self >= 0 {
			var err error
			if out[i], err = v.search(ctx, req); err != nil {
				return nil, err
			}
			continue
		}
		ps.add(key{req.Allow, req.Space, req.K}, i)
	}
	for _, k := range ps.order {
		idx := ps.idx[k]
		c := v.choose(reqs[idx[0]])
		hits, scanned, err := vector.ExactBatch(ctx, v.matrix(k.space), ps.vecs(k, reqs), k.k, c.allow)
		if err != nil {
			return nil, err
		}
		for j, i := range idx {
			out[i] = engine.SearchResult{Hits: toHits(hits[j]), Exact: true, Scanned: scanned,
				Method: fmt.Sprintf("exact scan of %d %svectors%s%s", scanned, spaceWord(k.space), v.choose(reqs[i]).why, shared(len(idx)))}
		}
	}
	return out, nil
}

// passes groups the requests of a batch that scan the same rows, by a key
// saying what they scan, in the order each key first comes.
type passes[K comparable] struct {
	order []K
	idx   map[K][]int
}

// add puts request i in the group of k.
func (p *passes[K]) add(k K, i int) {
	if p.idx == nil {
		p.idx = map[K][]int{}
	}
	if p.idx[k] == nil {
		p.order = append(p.order, k)
	}
	p.idx[k] = append(p.idx[k], i)
}

// vecs returns the query vectors of the group of k.
func (p *passes[K]) vecs(k K, reqs []engine.SearchRequest) [][]float32 {
	qs := make([][]float32, len(p.idx[k]))
	for j, i := range p.idx[k] {
		qs[j] = reqs[i].Vec
	}
	return qs
}

// shared is what a search's method says of a pass shared by n searches.
func shared(n int) string {
	if n < 2 {
		return ""
	}
	return fmt.Sprintf("; one pass shared by %d searches", n)
}
