package db

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/vector"
)

// The vector indexes: VectorIndexes of registered kinds (vectorindex.go;
// "hnsw", an HNSW graph in vectors/img.hnsw, and "ivf", an inverted file
// in vectors/img.ivf), at most one of each kind over each space's
// embeddings, each covering the rows [0, R); the manifest records each
// one's kind, space, parameters, R and the fingerprint of the vectors it
// was built over. An ingest adds its new rows to every index after
// committing them; if that is skipped (IngestOptions.NoIndex), interrupted
// or fails, the rows past R are still found: searches scan them exactly
// and merge the answers. A damaged or stale index file is reported through
// Options.Warn and by Check, searches use another index or scan exactly,
// and BuildIndex rebuilds it.

// IndexInfo describes one vector index in the manifest.
type IndexInfo struct {
	// Kind is the registered index kind ("hnsw", "ivf").
	Kind string `json:"kind"`
	// Space is the embeddings indexed: "image" or "text".
	Space string `json:"space"`
	// Params are the kind's build parameters (hnsw: m, ef_construction).
	Params map[string]int `json:"params"`
	// Rows is R: the index covers the rows [0, R) that have vectors in
	// its space.
	Rows        int64  `json:"rows"`
	Fingerprint string `json:"fingerprint"`
	// Building marks an index whose first build has not finished: it
	// covers the rows [0, Rows) added up to its last checkpoint, searches
	// do not use it, and the next build of its kind resumes it.
	Building bool `json:"building,omitempty"`
	// MemoryBytes is the memory the index held when it was written
	// (VectorIndex.MemoryBytes); 0 in manifests written before it was
	// recorded.
	MemoryBytes int64 `json:"memory_bytes,omitempty"`
	// Calibration is the default effort of searches, measured when the
	// index was built; nil in stores indexed before calibration existed.
	Calibration *Calibration `json:"calibration,omitempty"`

	// M and EfConstruction are how manifests written before index kinds
	// recorded an HNSW graph's parameters; readManifest moves them into
	// Kind and Params.
	M              int `json:"m,omitempty"`
	EfConstruction int `json:"ef_construction,omitempty"`
}

// space returns the embeddings the index covers.
func (ix *IndexInfo) space() query.Space {
	if ix.Space == query.SpaceText.String() {
		return query.SpaceText
	}
	return query.SpaceImage
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

// upgradeIndexes moves the indexes of manifests written before a store
// held several (Index, TextIndex) into Indexes, upgrades each, and checks
// that no kind is recorded twice over the same space.
func (m *Manifest) upgradeIndexes() error {
	for _, old := range []struct {
		ix *IndexInfo
		sp query.Space
	}{{m.Index, query.SpaceImage}, {m.TextIndex, query.SpaceText}} {
		if old.ix != nil {
			ix := *old.ix
			ix.Space = old.sp.String()
			m.Indexes = append(m.Indexes, ix)
		}
	}
	m.Index, m.TextIndex = nil, nil
	seen := map[indexKey]bool{}
	for i := range m.Indexes {
		ix := &m.Indexes[i]
		ix.upgrade()
		if ix.Space != query.SpaceImage.String() && ix.Space != query.SpaceText.String() {
			return fmt.Errorf("index %d (%s) covers the embeddings of space %q: want image or text", i, ix.Kind, ix.Space)
		}
		k := indexKey{ix.space(), ix.Kind}
		if seen[k] {
			return fmt.Errorf("two %s indexes over the %s embeddings", ix.Kind, ix.Space)
		}
		seen[k] = true
	}
	return nil
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
	// Kind is the index kind to build or bring up to date; "" means every
	// index over the space's embeddings, or a new one of the default kind
	// ("hnsw") when there is none.
	Kind string
	// Params override the kind's default build parameters.
	Params map[string]int
	// M and EfConstruction set the hnsw parameters m and ef_construction
	// (zero: 16 and 200).
	M              int
	EfConstruction int
	// Rebuild discards the index (or each index, for Kind "") and builds
	// it anew: for an index trained on the data (ivf), this is the
	// retraining that a change in the data calls for.
	Rebuild bool
	// Drop removes the index of Kind from the store instead.
	Drop bool
	// CheckpointEvery is how often a long build commits its progress, so
	// that a build killed resumes from there (0: every 10 minutes;
	// negative: never). Rebuilds do not checkpoint.
	CheckpointEvery time.Duration
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

// indexKey names one index of the store: its space and kind.
type indexKey struct {
	space query.Space
	kind  string
}

// openedIndex is an index the store opened, or why it could not.
type openedIndex struct {
	ix  VectorIndex
	err error
}

// IndexesOf returns the manifest's indexes over the embeddings of sp, in
// the order they were first built.
func (m *Manifest) IndexesOf(sp query.Space) []*IndexInfo {
	var out []*IndexInfo
	for i := range m.Indexes {
		if m.Indexes[i].space() == sp {
			out = append(out, &m.Indexes[i])
		}
	}
	return out
}

// FindIndex returns the manifest's index of kind over the embeddings of
// sp, or nil.
func (m *Manifest) FindIndex(sp query.Space, kind string) *IndexInfo {
	for i := range m.Indexes {
		if ix := &m.Indexes[i]; ix.space() == sp && ix.Kind == kind {
			return ix
		}
	}
	return nil
}

// setIndex records ix, in place of the index of its kind and space.
func (m *Manifest) setIndex(ix IndexInfo) {
	if old := m.FindIndex(ix.space(), ix.Kind); old != nil {
		*old = ix
		return
	}
	m.Indexes = append(m.Indexes, ix)
}

// dropIndex removes the index of kind over the embeddings of sp.
func (m *Manifest) dropIndex(sp query.Space, kind string) {
	m.Indexes = slices.DeleteFunc(m.Indexes, func(ix IndexInfo) bool { return ix.space() == sp && ix.Kind == kind })
}

// rebuildHint is the command that rebuilds the index of a kind and space.
func rebuildHint(sp query.Space, kind string) string {
	cmd := "'laiondb index"
	if sp == query.SpaceText {
		cmd += " --space text"
	}
	if kind != "" && kind != defaultIndexKind {
		cmd += " --kind " + kind
	}
	return cmd + " --rebuild'"
}

// openIndexes opens the indexes the manifest records, if any. A missing,
// damaged or stale file is not an error: the store answers by another
// index or exact scans, and says so.
//
// Indexes are loaded smallest first while their memory fits the bound
// Options.IndexMemory sets; one that does not fit is not loaded, its error
// wrapping errIndexMemory.
func (d *DB) openIndexes(m *Manifest) {
	d.ixs = map[indexKey]openedIndex{}
	budget := d.indexMemory()
	order := make([]*IndexInfo, len(m.Indexes))
	for i := range m.Indexes {
		order[i] = &m.Indexes[i]
	}
	slices.SortStableFunc(order, func(a, b *IndexInfo) int { return cmp.Compare(a.MemoryBytes, b.MemoryBytes) })
	var used int64
	for _, info := range order {
		sp := info.space()
		vf := d.img
		if sp == query.SpaceText {
			vf = d.txt
		}
		if vf == nil {
			continue
		}
		k, err := lookupIndex(info.Kind)
		var ix VectorIndex
		if err == nil && budget > 0 && used+info.MemoryBytes > budget {
			err = fmt.Errorf("%w: it holds %s, and the store's indexes may hold %s (Options.IndexMemory; --index-memory), %s of it taken by smaller indexes",
				errIndexMemory, byteSize(info.MemoryBytes), byteSize(budget), byteSize(used))
			d.opts.Warn(fmt.Sprintf("the %s index over the %s embeddings is %v; searches use another index or scan exactly",
				info.Kind, sp, err))
			d.ixs[indexKey{sp, info.Kind}] = openedIndex{nil, err}
			continue
		}
		if err == nil {
			ix, err = k.open(indexPath(d.dir, k, sp), vf.matrix(m.Rows), openOptions{hugePages: d.opts.HugePages})
		}
		if err == nil {
			used += info.MemoryBytes
		}
		if err != nil {
			d.opts.Warn(fmt.Sprintf("the %s index over the %s embeddings cannot be used (%v); searches use another index or scan exactly until it is rebuilt with %s",
				info.Kind, sp, err, rebuildHint(sp, info.Kind)))
		}
		d.ixs[indexKey{sp, info.Kind}] = openedIndex{ix, err}
	}
}

// errIndexMemory is why an index that would pass Options.IndexMemory is
// not loaded.
var errIndexMemory = errors.New("not loaded: over the memory for indexes")

// indexMemory is the bound on the indexes' memory, 0 for none.
func (d *DB) indexMemory() int64 {
	switch {
	case d.opts.IndexMemory < 0:
		return 0
	case d.opts.IndexMemory > 0:
		return d.opts.IndexMemory
	}
	return physicalMemory() / 4 * 3
}

// BuildIndex brings the vector indexes over one space's embeddings up to
// date (o.Kind: one of them, or a new one of that kind): each adds the
// rows with vectors that it does not cover yet (all of them with Rebuild
// or when it is not usable), is calibrated, written atomically and
// recorded in the manifest. It runs on all cores and stops when ctx is
// cancelled, leaving the previous index in place. With o.Drop it removes
// the index of o.Kind instead.
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
	if _, ok := indexKinds[opts.Kind]; !ok && opts.Kind != "" {
		return fmt.Errorf("db: index: unknown index kind %q (this laiondb knows %s)", opts.Kind, strings.Join(IndexKinds(), ", "))
	}
	if opts.Drop {
		return d.dropIndex(opts.Space, opts.Kind)
	}
	m, err := d.snapshot()
	if err != nil {
		return err
	}
	kinds := []string{opts.Kind}
	if opts.Kind == "" {
		kinds = nil
		for _, ix := range m.IndexesOf(opts.Space) {
			kinds = append(kinds, ix.Kind)
		}
		if len(kinds) == 0 {
			kinds = []string{defaultIndexKind}
		}
	}
	for _, k := range kinds {
		if err := d.buildOne(ctx, opts, k); err != nil {
			return err
		}
	}
	return nil
}

// dropIndex removes the index of kind over the embeddings of sp from the
// manifest, then its file.
func (d *DB) dropIndex(sp query.Space, kind string) error {
	if kind == "" {
		return fmt.Errorf("db: index: say which kind of index to drop")
	}
	m, err := d.snapshot()
	if err != nil {
		return err
	}
	if m.FindIndex(sp, kind) == nil {
		return fmt.Errorf("%w: the store has no %s index over the %s embeddings", ErrNotFound, kind, sp)
	}
	next := m.clone()
	next.dropIndex(sp, kind)
	if err := writeManifest(d.dir, next); err != nil {
		return fmt.Errorf("db: recording the index's removal: %w", err)
	}
	key := indexKey{sp, kind}
	d.mu.Lock()
	old := d.ixs[key]
	ixs := maps.Clone(d.ixs)
	delete(ixs, key)
	d.ixs, d.man = ixs, next
	if old.ix != nil {
		d.retired = append(d.retired, old.ix)
	}
	d.mu.Unlock()
	k, _ := lookupIndex(kind)
	// A reader that opened the store before still reads the file it
	// mapped; the name goes, the data stays until it closes.
	if err := os.Remove(indexPath(d.dir, k, sp)); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("db: removing the index file: %w", err)
	}
	return nil
}

// buildOne brings the index of kindName over the embeddings of opts.Space
// up to date, creating it if the store has none of that kind.
func (d *DB) buildOne(ctx context.Context, opts IndexOptions, kindName string) error {
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
		if sp == query.SpaceText && opts.Kind != "" {
			return fmt.Errorf("%w: the store has no text embeddings to index", ErrNoVectors)
		}
		return nil
	}
	kind, err := lookupIndex(kindName)
	if err != nil {
		return fmt.Errorf("db: index: %w", err)
	}
	info := m.FindIndex(sp, kindName)
	key := indexKey{sp, kindName}
	d.mu.RLock()
	oi := d.ixs[key]
	d.mu.RUnlock()
	ix := oi.ix
	if ix == nil && errors.Is(oi.err, errIndexMemory) && info != nil && !opts.Rebuild {
		// The memory bound left the index unloaded; a build loads it, to
		// add to it rather than build it again, and keeps it.
		if ix, err = kind.open(indexPath(d.dir, kind, sp), vf.matrix(m.Rows), openOptions{hugePages: d.opts.HugePages}); err == nil {
			d.mu.Lock()
			ixs := maps.Clone(d.ixs)
			ixs[key] = openedIndex{ix: ix}
			d.ixs = ixs
			d.mu.Unlock()
		}
	}
	from := int64(0)
	if ix != nil && info != nil && !opts.Rebuild {
		from = info.Rows
	} else {
		ix = nil
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
			return fmt.Errorf("db: calibrating the %s index: %w", kindName, err)
		}
		next := m.clone()
		ni := *info
		ni.Calibration, ni.Building = cal, false
		next.setIndex(ni)
		if err := writeManifest(d.dir, next); err != nil {
			return fmt.Errorf("db: recording the index: %w", err)
		}
		d.mu.Lock()
		d.man = next
		d.mu.Unlock()
		return nil
	}
	mat := vf.matrix(m.Rows)
	fresh := ix == nil
	if fresh {
		// A kind that learns from the data (ivf) trains on the rows it
		// will hold.
		if ix, err = kind.create(ctx, mat, add, opts.params(kind)); err != nil {
			return fmt.Errorf("db: index: %w", err)
		}
	}
	// discard closes an index of this build that no search can reach.
	published := false
	discard := func() {
		if fresh && !published {
			ix.Close()
		}
	}
	path := indexPath(d.dir, kind, sp)
	// commit writes the index and records it as covering the rows
	// [0, rows), with its calibration cal; a nil cal is a checkpoint (see
	// below).
	commit := func(rows int64, cal *Calibration) error {
		if err := ix.Write(path); err != nil {
			return fmt.Errorf("db: writing the %s index: %w", kindName, err)
		}
		cur, err := d.snapshot()
		if err != nil {
			return err
		}
		ni := IndexInfo{Kind: kindName, Space: sp.String(), Params: ix.Params(), Rows: rows,
			Fingerprint: fmt.Sprintf("%016x", ix.Fingerprint()), MemoryBytes: ix.MemoryBytes(), Calibration: cal}
		if cal == nil {
			ni.Building = true
			if in := cur.FindIndex(sp, kindName); in != nil && !in.Building && !fresh {
				ni.Calibration, ni.Building = in.Calibration, false
			}
		}
		next := cur.clone()
		next.setIndex(ni)
		if err := writeManifest(d.dir, next); err != nil {
			return fmt.Errorf("db: recording the %s index: %w", kindName, err)
		}
		d.mu.Lock()
		old := d.ixs[key].ix
		ixs := maps.Clone(d.ixs)
		ixs[key] = openedIndex{ix: ix}
		d.ixs, d.man = ixs, next
		d.mu.Unlock()
		if old != nil && old != ix {
			d.retired = append(d.retired, old)
		}
		published = true
		return nil
	}
	// A long build commits its progress every CheckpointEvery: the index
	// file, and the manifest's record of the rows it covers. A new index
	// is recorded as building, which searches do not use; an index in use
	// keeps its calibration until this build's own replaces it. A build
	// killed after a checkpoint resumes from there. A rebuild does not
	// checkpoint: the index it replaces serves until it is done.
	every := opts.CheckpointEvery
	if every == 0 {
		every = defaultCheckpointEvery
	}
	steps := []vector.Ranges{add}
	if every > 0 && !opts.Rebuild {
		steps = nil
		for rest := add; len(rest) > 0; {
			var step vector.Ranges
			step, rest = splitRanges(rest, checkpointRows)
			steps = append(steps, step)
		}
	}
	total, done, last := add.Count(), 0, time.Now()
	for i, step := range steps {
		var progress func(done, total int)
		if opts.Progress != nil {
			progress = func(n, _ int) { opts.Progress(int64(done+n), int64(total)) }
		}
		if err := ix.Add(ctx, mat, step, progress); err != nil {
			// A shared index keeps the rows added so far: searches
			// restrict it to the covered rows, and the next build skips
			// them.
			discard()
			return fmt.Errorf("db: building the %s index: %w", kindName, err)
		}
		done += step.Count()
		if i == len(steps)-1 || time.Since(last) < every {
			continue
		}
		if err := commit(int64(step[len(step)-1].Hi), nil); err != nil {
			discard()
			return err
		}
		last = time.Now()
	}
	cal, err := d.calibrate(ctx, ix, kind, m, sp)
	if err != nil {
		discard()
		return fmt.Errorf("db: calibrating the %s index: %w", kindName, err)
	}
	if err := commit(m.Rows, cal); err != nil {
		discard()
		return err
	}
	return nil
}

// defaultCheckpointEvery is how often a long index build commits its
// progress (IndexOptions.CheckpointEvery): writing an HNSW graph of 100M
// rows takes about a minute, an IVF index of as many a few seconds.
const defaultCheckpointEvery = 10 * time.Minute

// checkpointRows is the most rows an index build adds between two looks
// at the clock: the granularity of its checkpoints.
var checkpointRows = 1 << 20

// viewIndex is one of the store's indexes as a view sees it.
type viewIndex struct {
	info *IndexInfo
	kind indexKind
	// ix is nil when the index is unusable; err says why.
	ix  VectorIndex
	err error
}

// indexesOf returns the view's indexes over the embeddings of sp, usable
// or not, in the manifest's order.
func (v *view) indexesOf(sp query.Space) []viewIndex {
	var out []viewIndex
	for _, vi := range v.indexes {
		if vi.info.space() == sp {
			out = append(out, vi)
		}
	}
	return out
}

// choice is how a k-NN request is answered: by an exact scan of the rows
// allow admits (why says why, for the plan), or by the index vi at effort
// ef.
type choice struct {
	scan       bool
	why        string
	allow      vector.AllowList // the rows with vectors the request allows
	graphAllow vector.AllowList // those of them the index covers
	vi         viewIndex
	ef         int
	efWhy      string
	variant    string // IndexSearch.Variant
	// err is why a request that forces the index cannot have it.
	err error
}

// option is one index's bid for a k-NN request: the effort it would
// search at, why, and the planner's estimate (nil without measured
// costs).
type option struct {
	vi         viewIndex
	graphAllow vector.AllowList
	ef         int
	efWhy      string
	variant    string // IndexSearch.Variant
	est        *estimate
}

// bid prices a search of req through vi.
func (v *view) bid(req engine.SearchRequest, vi viewIndex, allow vector.AllowList) option {
	covered := vector.Ranges{{Lo: 0, Hi: uint32(vi.info.Rows)}}
	var graphAllow vector.AllowList = covered
	if allow != nil {
		graphAllow = vector.And(allow, covered)
	}
	// ef 0: calibration found no effort reaching the target for this kind
	// of query, so the index is not good enough.
	ef, efWhy := v.ef(req, vi)
	// With the costs the index build measured, a filtered search takes the
	// effort calibrated for its share of rows, and the planner prices both
	// paths; without them (an index calibrated before version 4) the
	// index's own rule decides.
	o := option{vi: vi, graphAllow: graphAllow, ef: ef, efWhy: efWhy}
	if costs, own := vi.info.costs(req.Image); costs != nil {
		allowed := vector.CountHint(graphAllow)
		if set, _ := v.setEf(req, vi); own && allow != nil && set == 0 && costs.share(allowed) < 1 {
			// A forced index search (Index, or IndexKind) keeps the
			// unfiltered effort where no filtered one kept the promise.
			switch fef, lower, at := costs.filteredEf(allowed, req.K); {
			case fef > 0:
				o.ef, o.efWhy = fef, fmt.Sprintf("calibrated for filtered searches: recall@10 lower bound %.4f with %.3g%% of the rows allowed", lower, 100*at)
				o.variant = costs.variantAround(allowed)
			case !req.Index && req.IndexKind == "":
				o.ef, o.efWhy = 0, fmt.Sprintf("at index build, no %s up to %d reached recall@10 %.2f in filtered searches with about %.3g%% of the rows allowed",
					vi.kind.effort, vi.info.Calibration.MaxEffort, CalibrationTarget, 100*costs.share(allowed))
				if cp := costs.cappedAround(allowed); cp != nil {
					o.efWhy = fmt.Sprintf("at index build, with %.3g%% of the rows allowed, the exact scan (%s) was faster than the %s at %s %d (%s), before any %s reached recall@10 %.2f",
						100*cp.Share, millis(cp.ScanNsPerRow*cp.Share*float64(costs.Rows)), vi.kind.path, vi.kind.effort, cp.CappedAt, millis(cp.GraphNs), vi.kind.effort, CalibrationTarget)
				}
			}
		}
		if o.ef > 0 {
			e := costs.estimate(allowed, vi.kind.searched(o.ef, req.K))
			e.path = vi.kind.path
			e.effort = vi.kind.effort
			o.est = &e
		}
	}
	return o
}

// choose makes the decision search describes.
func (v *view) choose(req engine.SearchRequest) choice {
	allow := v.allow(req.Allow, req.Space)
	all := v.indexesOf(req.Space)
	forced := req.Index || req.IndexKind != ""
	if req.IndexKind != "" && !req.Exact {
		all = slices.DeleteFunc(all, func(vi viewIndex) bool { return vi.info.Kind != req.IndexKind })
		if len(all) == 0 {
			return choice{scan: true, allow: allow, err: fmt.Errorf("%w: the %s index was asked for, but the store has none over the %s embeddings ('laiondb index%s --kind %s' builds one)",
				ErrNoIndex, req.IndexKind, req.Space, spaceFlag(req.Space), req.IndexKind)}
		}
		if all[0].info.Building {
			return choice{scan: true, allow: allow, err: fmt.Errorf("%w: the %s index over the %s embeddings is being built (%d rows so far; 'laiondb index%s --kind %s' resumes the build)",
				ErrNoIndex, req.IndexKind, req.Space, all[0].info.Rows, spaceFlag(req.Space), req.IndexKind)}
		}
	}
	// An index whose first build has not finished serves no search.
	var building *IndexInfo
	all = slices.DeleteFunc(all, func(vi viewIndex) bool {
		if vi.info.Building && building == nil {
			building = vi.info
		}
		return vi.info.Building
	})
	var usable []viewIndex
	var broken *viewIndex
	var unloaded []viewIndex // over Options.IndexMemory
	for i, vi := range all {
		switch {
		case vi.ix != nil && vi.err == nil:
			usable = append(usable, vi)
		case errors.Is(vi.err, errIndexMemory):
			unloaded = append(unloaded, vi)
		case broken == nil:
			broken = &all[i]
		}
	}
	cheap := false
	if limit := v.d.exactUpTo(); len(usable) > 0 && !req.Exact && !forced && limit > 0 {
		candidates := v.matrix(req.Space).Len()
		if allow != nil {
			candidates = allow.Count()
		}
		cheap = candidates <= limit
	}
	// Each usable index bids; the one with the lowest estimate wins, then
	// those without measured costs in the manifest's order.
	var best *option
	var others []option
	if !req.Exact && !cheap {
		for _, vi := range usable {
			o := v.bid(req, vi, allow)
			switch {
			case best == nil:
				best = &o
			case o.ef > 0 && (best.ef == 0 || o.est != nil && (best.est == nil || o.est.graphNs < best.est.graphNs)):
				others = append(others, *best)
				best = &o
			default:
				others = append(others, o)
			}
		}
	}
	why, scan := "", true
	switch {
	case req.Exact:
	case cheap:
		why = fmt.Sprintf(" (searches over at most %d vectors are answered exactly; the index answers larger ones)", v.d.exactUpTo())
	case best == nil && len(unloaded) > 0:
		var says []string
		for _, vi := range unloaded {
			says = append(says, fmt.Sprintf("the %s index is %v", vi.info.Kind, vi.err))
		}
		why = " (" + strings.Join(says, "; ") + ")"
	case best == nil && broken != nil:
		why = fmt.Sprintf(" (the %s index is unusable: rebuild it with %s)", broken.info.Kind, rebuildHint(req.Space, broken.info.Kind))
	case best == nil && building != nil:
		why = fmt.Sprintf(" (the %s index is being built, %d rows so far: 'laiondb index%s --kind %s' resumes the build)", building.Kind, building.Rows, spaceFlag(req.Space), building.Kind)
	case best == nil && req.Space == query.SpaceText:
		why = " (the store has no index over the text embeddings: 'laiondb index --space text' builds one)"
	case best == nil:
		why = " (the store has no index)"
	case best.ef == 0:
		why = " (" + best.efWhy + ")"
	case !forced && best.est != nil && best.est.scan():
		why = fmt.Sprintf(" (%s; %s %d: %s)", best.est, best.vi.kind.effort, best.est.ef, best.efWhy)
	case !forced && best.est == nil && best.vi.ix.PreferExact(vector.CountHint(best.graphAllow), best.vi.kind.searched(best.ef, req.K)):
		why = fmt.Sprintf(" (planner: cheaper than a %s search at this size and filter with %s=%d (%s))", best.vi.kind.path, best.vi.kind.effort, best.ef, best.efWhy)
	default:
		scan = false
	}
	c := choice{scan: scan, why: why, allow: allow}
	if best != nil {
		c.vi, c.graphAllow, c.ef, c.efWhy, c.variant = best.vi, best.graphAllow, best.ef, best.efWhy, best.variant
		if !scan && best.est != nil && !forced {
			c.efWhy += "; " + best.est.String()
		}
		if !scan {
			for _, o := range others {
				c.efWhy += "; " + o.passedOver()
			}
			for _, vi := range unloaded {
				c.efWhy += fmt.Sprintf("; the %s index was passed over (%v)", vi.info.Kind, vi.err)
			}
		}
	}
	if forced && scan && !req.Exact {
		c.err = fmt.Errorf("%w: the index was asked for, but the store scans%s", ErrNoIndex, why)
	}
	return c
}

// passedOver says why an index did not answer, for the plan.
func (o option) passedOver() string {
	switch {
	case o.ef == 0:
		return fmt.Sprintf("the %s index was passed over (%s)", o.vi.info.Kind, o.efWhy)
	case o.est != nil:
		return fmt.Sprintf("the %s index was passed over (%s at %s %d ≈ %s)", o.vi.info.Kind, o.vi.kind.path, o.vi.kind.effort, o.est.ef, millis(o.est.graphNs))
	}
	return fmt.Sprintf("the %s index was passed over (no measured costs)", o.vi.info.Kind)
}

// spaceFlag is the index command's flag for space sp.
func spaceFlag(sp query.Space) string {
	if sp == query.SpaceText {
		return " --space text"
	}
	return ""
}

// search answers a k-NN request. This is the one place that decides
// between an exact scan and an index, which index, and at which effort:
// the store scans when asked to, when it has no usable index, when the
// candidates are few (Options.ExactUpTo), when calibration found no effort
// good enough, or when the planner finds a scan of the allowed rows
// cheaper; otherwise the index with the lowest estimated cost answers for
// the rows it covers and rows added since are scanned exactly.
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
	ixRows := c.vi.info.Rows
	m := v.matrix(req.Space)
	is := IndexSearch{Effort: ef, Allow: graphAllow, Variant: c.variant}
	if cal := c.vi.info.Calibration; cal != nil {
		is.Calibration = max(cal.Version, 1)
	}
	r, err := c.vi.ix.Search(ctx, req.Vec, req.K, is)
	if errors.Is(err, ErrCorrupt) {
		// The index found part of its file corrupt: the answer is the
		// exact scan's, and the plan says so.
		hits, scanned, err2 := vector.Exact(ctx, m, req.Vec, req.K, allow)
		if err2 != nil {
			return engine.SearchResult{}, err2
		}
		return engine.SearchResult{Hits: v.selfFirst(toHits(hits), req.Vec, req.Space, req.K, allow), Exact: true, Scanned: scanned,
			Method: fmt.Sprintf("exact scan of %d %svectors (the %s index failed a check while searching: %v; 'laiondb check' names it, %s repairs it)",
				scanned, spaceWord(req.Space), c.vi.info.Kind, err, rebuildHint(req.Space, c.vi.info.Kind))}, nil
	}
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

// defaultEf is the candidate list size of an HNSW search for k results
// when the index has no calibration for the query's kind (an index built
// before calibration existed, or text queries on a store without text
// embeddings): wide enough for text queries on a store of about 100k rows
// (BENCHMARKS.md); larger stores need more, which is why they calibrate.
func defaultEf(k int) int { return max(256, 2*k) }

// ef returns the effort of a search for req through vi, and why: the
// request's or Options.EfSearch if set (they tune the index the request
// names, else the default kind's), else the calibrated effort for the
// query's kind and k (0 if calibration found none good enough), else the
// kind's default.
func (v *view) ef(req engine.SearchRequest, vi viewIndex) (int, string) {
	if ef, why := v.setEf(req, vi); ef > 0 {
		return ef, why
	}
	return v.calibratedEf(req, vi)
}

// setEf returns the effort the request or the options set for a search
// through vi, and why (0 when they set none for it).
func (v *view) setEf(req engine.SearchRequest, vi viewIndex) (int, string) {
	if req.IndexKind != vi.info.Kind && (req.IndexKind != "" || vi.info.Kind != defaultIndexKind) {
		return 0, ""
	}
	if req.Ef > 0 {
		return req.Ef, "set by the request"
	}
	if ef := v.d.opts.EfSearch; ef > 0 {
		return ef, "set by option"
	}
	return 0, ""
}

// calibratedEf is ef's answer when no effort is set.
func (v *view) calibratedEf(req engine.SearchRequest, vi viewIndex) (int, string) {
	cal := vi.info.Calibration
	kind, list := "text", []vector.Calibration(nil)
	if cal != nil {
		list = cal.Text
		if req.Image {
			kind, list = "image", cal.Image
		}
	}
	if len(list) == 0 {
		return vi.kind.defaultEffort(req.K), fmt.Sprintf("default; the index has no calibration for %s queries", kind)
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
		return 0, fmt.Sprintf("at index build, no %s up to %d reached recall@%d %.2f on %s (best %.4f, lower bound %.4f)",
			vi.kind.effort, cal.MaxEffort, c.K, c.Target, src, c.Recall, c.Lower)
	}
	if req.K > c.K {
		ef := c.Ef * req.K / c.K
		return ef, fmt.Sprintf("scaled from %s %d, calibrated for recall@%d %.4f on %s", vi.kind.effort, c.Ef, c.K, c.Recall, src)
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

// checkIndex verifies each index file's checksums and structure, and
// that it matches the vectors.
func (d *DB) checkIndex(v *view, add func(string, string, ...any)) error {
	for _, vi := range v.indexes {
		info := vi.info
		sp := info.space()
		k, err := lookupIndex(info.Kind)
		if err != nil {
			add(manifestName, "%v", err)
			continue
		}
		path := indexPath(d.dir, k, sp)
		if _, err := os.Stat(path); err != nil {
			add(path, "missing: %v (rebuild with %s)", err, rebuildHint(sp, info.Kind))
			continue
		}
		if err := k.verify(path); err != nil {
			add(filepath.Base(path), "%v (rebuild with %s)", err, rebuildHint(sp, info.Kind))
			continue
		}
		if vi.err != nil {
			add(filepath.Base(path), "%v (rebuild with %s)", vi.err, rebuildHint(sp, info.Kind))
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
