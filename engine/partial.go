package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime/debug"
	"slices"
	"sort"
	"strings"

	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/table"
	"github.com/laiondb/laiondb/vector"
)

// Partial results: a query run on one shard of a dataset (a store of a
// consecutive group of its files), written out, and merged with the
// partials of the other shards into the Result the store of all the files
// gives. A partial holds each statistic's counts (shardable), never its
// shares: the merge adds the counts of every shard and computes the
// shares, Wilson intervals and quartiles once, from the sums. Label counts
// keep every value (the 'by' limit applies after the merge); similarity
// keeps every valid value with its count, so quartiles are exact.
//
// Shards are numbered 1..m in file order, and the merged rows are
// numbered across them in that order, as one store of all the files
// numbers them.
//
// What a partial holds, by query:
//   - all: the statistics' states; with a sample per file too (drawn file
//     by file, so shards of whole files draw what one store draws), or a
//     sample of the whole store when the shard's place among all the
//     rows is given (Options.Place: the draw walks the rows of the
//     shards before it, so each shard draws its rows of the one store's
//     sample); with a limit, the shard's first 'limit' selected rows
//     with the values the statistics read, of which the merge takes the
//     first in shard order (post where applies after).
//   - knn and within whose target is not a stored row (texts and images
//     every shard encodes alike, vector files, inline vectors): the hits
//     with the values of the hit rows the statistics read; the merge
//     keeps the best K of all shards' hits (each shard's own best K hold
//     them) and computes the statistics of those. With dedup, the hits
//     go deeper and carry their embeddings (mergeDedup).
//   - knn and within from a row or id target: the same, once the target
//     was resolved over every shard (partial_target.go); the merge ranks
//     the target's own row first among its ties, as one store does.
//
// A partial records the shard's place when it was given, and the merge
// checks the places against the shards' rows: each shard's rows must
// follow exactly the rows of the shards before it. A sample of the whole
// store or a row or id target without a place, and seed sets, are
// refused, saying why.

// PartialFormat is the version of the partial format this package writes
// and merges; a merge refuses any other.
const PartialFormat = 1

// Partial is a query's result on one shard, to be merged (MergePartials).
type Partial struct {
	Format int `json:"format"`
	// Version is the laiondb build that wrote it, for the record.
	Version string `json:"laiondb_version"`
	// Query is the canonical query.
	Query string `json:"query"`
	// Shard is this shard's number, 1..Shards, in file order.
	Shard  int `json:"shard"`
	Shards int `json:"shards"`
	// Fingerprint is the shard store's.
	Fingerprint string `json:"fingerprint"`
	// Place is where the shard's rows lie among all the shards' rows,
	// when the run was given it (Options.Place).
	Place *Place `json:"place,omitempty"`
	// Columns are the shard store's columns.
	Columns []table.ColumnInfo `json:"columns"`
	// Lexicons are the user lexicons the query was run with, by name.
	Lexicons map[string][]string `json:"lexicons,omitempty"`
	// Rows asks for the first selected rows (Options.Rows); RowCols are
	// the columns they show (Options.Columns).
	Rows    int      `json:"rows_asked,omitempty"`
	RowCols []string `json:"row_columns_asked,omitempty"`
	// Groups is the number of values a 'by' lists (Options.Groups).
	Groups int `json:"groups_listed"`
	// TotalRows, RowsScanned and VectorsScanned are the shard's.
	TotalRows      int `json:"total_rows"`
	RowsScanned    int `json:"rows_scanned"`
	VectorsScanned int `json:"vectors_scanned"`
	// Files are the shard's source files, in row order, with their rows.
	Files []PartialFile `json:"files"`
	// Stats are the statistics' states, in the plan's order.
	Stats []PartialStat `json:"stats"`
	// Selected are the first Rows selected rows of the shard, numbered in
	// the shard (all queries).
	Selected []ResultRow `json:"selected_rows,omitempty"`
	// Search, for knn and within, is the shard's search: its hits (rows
	// numbered in the shard, best first) and the columns of the hit rows
	// the merge's statistics and printed rows read.
	Search *PartialHits `json:"search,omitempty"`
	// Target, for a search from a row or id target or a seed set, is the
	// target's resolution over every shard (Options.Targets).
	Target *PartialTarget `json:"target,omitempty"`
	// First, for an all query with a limit, are the shard's first
	// 'limit' selected rows (scores 0) with the columns the merge reads:
	// the merged limit takes the first of them in shard order.
	First *PartialHits `json:"first,omitempty"`
}

// PartialHits is a shard's knn or within answer, or the first rows of an
// all query with a limit.
type PartialHits struct {
	Exact         bool   `json:"exact"`
	Method        string `json:"method"`
	NearThreshold int    `json:"near_threshold"`
	Hits          []Hit  `json:"hits"`
	// Columns hold the hit rows' values, in the order of Hits.
	Columns map[string]*PartialColumn `json:"columns"`
	// For a search with dedup: the hit rows' embeddings (as stored), the
	// number of rows with an embedding among the allowed ones (what an
	// exact search scans), and whether Hits holds every one of them.
	Vectors    [][]float32 `json:"vectors,omitempty"`
	Candidates int         `json:"candidates,omitempty"`
	Complete   bool        `json:"complete,omitempty"`
	// SeedHits, for a seed set, are each seed's own hits among the
	// shard's rows (numbered in the shard, best first), in the order of
	// the resolved seeds; Hits then holds every row among them once.
	SeedHits [][]Hit `json:"seed_hits,omitempty"`
}

// PartialColumn is a column of values as stored: strings as bytes (base64
// in JSON, so that invalid UTF-8 survives), floats as their IEEE 754 bits
// (so that NaN and 6016.0 do).
type PartialColumn struct {
	Type  table.Type `json:"type"`
	Null  []bool     `json:"null,omitempty"`
	Str   [][]byte   `json:"str,omitempty"`
	Int   []int64    `json:"int,omitempty"`
	Float []uint64   `json:"float_bits,omitempty"`
	Bool  []bool     `json:"bool,omitempty"`
}

// appendColumn appends the n values of c.
func (pc *PartialColumn) appendColumn(c *table.Column, n int) {
	for i := range n {
		pc.Null = append(pc.Null, c.IsNull(i))
		switch c.Type {
		case table.TypeString:
			pc.Str = append(pc.Str, slices.Clone(c.Str.At(i)))
		case table.TypeInt:
			pc.Int = append(pc.Int, c.Int[i])
		case table.TypeFloat:
			pc.Float = append(pc.Float, math.Float64bits(c.Float[i]))
		case table.TypeBool:
			pc.Bool = append(pc.Bool, c.Bool[i])
		}
	}
}

// append appends value i of pc to dst, checking pc's shape.
func (pc *PartialColumn) append(dst *table.Column, i int) error {
	bad := i >= len(pc.Null)
	switch pc.Type {
	case table.TypeString:
		bad = bad || i >= len(pc.Str)
	case table.TypeInt:
		bad = bad || i >= len(pc.Int)
	case table.TypeFloat:
		bad = bad || i >= len(pc.Float)
	case table.TypeBool:
		bad = bad || i >= len(pc.Bool)
	default:
		bad = true
	}
	if bad {
		return fmt.Errorf("a hit row's column of type %d has no value %d", pc.Type, i)
	}
	one := &table.Column{Type: pc.Type, Null: []bool{pc.Null[i]}}
	switch pc.Type {
	case table.TypeString:
		one.Str = table.Strings{Data: pc.Str[i], Off: []uint32{0, uint32(len(pc.Str[i]))}}
	case table.TypeInt:
		one.Int = pc.Int[i : i+1]
	case table.TypeFloat:
		one.Float = []float64{math.Float64frombits(pc.Float[i])}
	case table.TypeBool:
		one.Bool = pc.Bool[i : i+1]
	}
	dst.Append(one, 0)
	return nil
}

// PartialFile is one source file of a shard: Rows of its rows, from row
// First of the file on (0 unless the file's rows start in another shard).
type PartialFile struct {
	Name  string `json:"name"`
	First int64  `json:"first"`
	Rows  int    `json:"rows"`
	// Drawn, for a query with a sample per file, is how many of the
	// file's rows the sample holds.
	Drawn int `json:"drawn,omitempty"`
}

// PartialStat is one statistic's state.
type PartialStat struct {
	// Stat is the statistic as the plan names it.
	Stat  string          `json:"stat"`
	State json.RawMessage `json:"state"`
}

// ErrPartial is the error of a query that cannot be run as a partial, and
// of partials that cannot be merged.
var ErrPartial = errors.New("partial results")

// partialOK reports why the plan cannot give a partial result, or "";
// resolved says that its row or id target, if it has one, was resolved
// over every shard (Options.Targets; Partial.Target).
func (p *Plan) partialOK(resolved bool) string {
	var tn *query.TargetNode
	switch src := p.q.Source.(type) {
	case *query.AllSource:
		return ""
	case *query.KNNSource:
		tn = src.Target
	case *query.WithinSource:
		tn = src.Target
	}
	switch {
	case tn.Target.Kind.Seeds() && !resolved:
		return "a seed set names rows of any shard, whose embeddings every shard searches with: resolve them on every shard first (laiondb query --target-out FILE --rows-before N --rows-total N; then --target FILE... with --partial; laiondb slurm does both)"
	case tn.Target.Kind.Stored() && !resolved:
		return "a row or id target names a row of one shard, whose embedding every shard searches with: resolve it on every shard first (laiondb query --target-out FILE --rows-before N --rows-total N; then --target FILE... with --partial; laiondb slurm does both)"
	}
	return ""
}

// hitCols are the columns the merge of a search reads of its hit rows:
// post where's, the statistics', and the printed rows'.
func (p *Plan) hitCols() []string {
	cols := p.statCols()
	if p.post != nil {
		cols = union(p.post.cols, cols)
	}
	if len(p.opts.Columns) > 0 {
		return union(cols, p.rowCols)
	}
	for _, c := range []string{"sample_id", p.nsfw, p.url, p.text} {
		if c != "" {
			cols = union(cols, []string{c})
		}
	}
	return cols
}

// RunPartial runs the plan on s, shard number shard of shards (counted
// from 1, in file order), and returns its partial result.
func (p *Plan) RunPartial(ctx context.Context, s Store, shard, shards int) (*Partial, error) {
	tn := p.resolvedTarget()
	if why := p.partialOK(tn != nil && len(p.opts.Targets) > 0); why != "" {
		return nil, fmt.Errorf("%w: %s", ErrPartial, why)
	}
	pl := p.opts.Place
	if err := checkPlace(pl, int64(s.NumRows()), shard, shards); err != nil {
		return nil, err
	}
	switch {
	case pl == nil && p.q.Sample != nil && !p.q.Sample.PerFile:
		return nil, fmt.Errorf("%w: a sample of the whole store is drawn over every shard's rows in order: give the shard's place among them (laiondb query --rows-before N --rows-total N; laiondb slurm does), or draw 'sample N per file', file by file", ErrPartial)
	case pl == nil && tn != nil:
		return nil, fmt.Errorf("%w: a row or id target's or a seed set's rows are numbered among every shard's rows: give the shard's place among them (laiondb query --rows-before N --rows-total N; laiondb slurm does)", ErrPartial)
	case tn != nil && !tn.Target.Kind.Seeds() && len(p.opts.Targets) != 1:
		return nil, fmt.Errorf("%w: %d rows resolved for the target %s, which names one", ErrPartial, len(p.opts.Targets), tn)
	}
	for _, t := range p.opts.Targets {
		if len(t.Vec) == 0 {
			return nil, fmt.Errorf("%w: the resolved target row %d has no embedding", ErrPartial, t.Row)
		}
	}
	out := &Partial{Format: PartialFormat, Version: buildVersion(), Query: p.q.String(), Shard: shard, Shards: shards, Place: pl,
		Fingerprint: s.Fingerprint(), Columns: s.Columns(), Lexicons: p.opts.Lexicons, Rows: p.opts.Rows, RowCols: p.opts.Columns, Groups: groupLimit(&p.opts),
		TotalRows: s.NumRows(), Files: []PartialFile{}, Stats: []PartialStat{}}
	if tn != nil {
		out.Target = ResolvedTarget(p.opts.Targets)
	}
	for _, f := range sourceFiles(s) {
		_, first := s.Source(f.lo)
		out.Files = append(out.Files, PartialFile{Name: f.name, First: first, Rows: int(f.hi - f.lo)})
	}
	if _, ok := p.q.Source.(*query.AllSource); !ok {
		return out, p.searchPartial(ctx, s, out)
	}
	var st stats
	var first []uint32
	var drawn []int
	pr := &partialRun{keep: &st, drawn: &drawn}
	if p.q.Limit >= 0 {
		pr.first = &first
	}
	res, err := p.runKeep(ctx, s, nil, pr)
	if err != nil {
		return nil, err
	}
	defer st.discard()
	out.RowsScanned, out.VectorsScanned, out.Selected = res.RowsScanned, res.VectorsScanned, res.Rows
	for i, n := range drawn {
		out.Files[i].Drawn = n
	}
	if pr.first != nil {
		hits := make([]Hit, len(first))
		for i, r := range first {
			hits[i] = Hit{Row: r}
		}
		out.First, err = p.hitRows(ctx, s, hits)
		return out, err
	}
	for i, a := range st {
		sh, ok := a.(shardable)
		if !ok {
			return nil, fmt.Errorf("%w: statistic %q cannot be written as a partial", ErrPartial, p.stats[i].desc)
		}
		v, err := sh.state()
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		out.Stats = append(out.Stats, PartialStat{Stat: statName(p.stats[i], i), State: b})
	}
	return out, nil
}

// searchPartial runs a knn or within plan's search on a shard and puts
// its hits, with the columns of the hit rows the merge reads, into out.
func (p *Plan) searchPartial(ctx context.Context, s Store, out *Partial) error {
	st := &SearchStats{}
	if tn := p.searchStats(st); tn.Target.Kind.Seeds() {
		return p.seedPartial(ctx, s, out, tn, st.Kind)
	}
	// A shard without an embedding among the allowed rows has no hit:
	// one store of all the rows would not ask it, nor resolve the target
	// on it; where is evaluated all the same (its rows count).
	has := s.VectorRows(searchSpace(p.q.Source))
	var req SearchRequest
	var sel *selected
	var err error
	if has.Count() > 0 {
		req, sel, err = p.partialRequest(ctx, s, st)
	} else if p.where != nil {
		sel, err = p.selectCached(ctx, s)
	}
	if err != nil {
		return err
	}
	if sel != nil {
		out.RowsScanned = sel.n
		has.And(sel.rows)
	}
	sr := SearchResult{Exact: true, Method: "none: no embedding among the shard's allowed rows"}
	cand := has.Count()
	complete := true
	if cand > 0 {
		if sr, err = p.search(ctx, s, req, st.Kind); err != nil {
			return err
		}
		if dedupSpec(p.q.Source) > 0 && st.Kind == "knn" {
			if sr, complete, err = p.dedupDepth(ctx, s, req, sr, cand); err != nil {
				return err
			}
		}
	}
	out.VectorsScanned = sr.Scanned
	ps, err := p.hitRows(ctx, s, sr.Hits)
	if err != nil {
		return err
	}
	ps.Exact, ps.Method, ps.NearThreshold = sr.Exact, sr.Method, sr.NearThreshold
	if dedupSpec(p.q.Source) > 0 {
		if !sr.Exact {
			return fmt.Errorf("%w: dedup over shards needs exact searches (an index answered: give --exact)", ErrPartial)
		}
		rv, ok := s.(RowVectorer)
		if !ok {
			return fmt.Errorf("%w: dedup needs the rows' embeddings, which this store does not give", ErrPartial)
		}
		rows := make([]uint32, len(sr.Hits))
		for i, h := range sr.Hits {
			rows[i] = h.Row
		}
		if ps.Vectors, err = rv.RowVectors(ctx, rows, req.Space); err != nil {
			return err
		}
		ps.Candidates, ps.Complete = cand, complete
	}
	out.Search = ps
	return nil
}

// partialRequest is searchRequest for a shard's partial. A row or id
// target comes resolved over every shard (Options.Target): the shard
// holding its row searches from the row, as one store does (ranking it
// first among its ties), after checking that the row's embedding is the
// resolution's; the other shards search with the resolution's embedding.
func (p *Plan) partialRequest(ctx context.Context, s Store, st *SearchStats) (SearchRequest, *selected, error) {
	tn := p.storedTarget()
	if tn == nil {
		return p.searchRequest(ctx, s, st)
	}
	vec, err := p.targetVector(ctx, s, tn, p.opts.Targets[0])
	if err != nil {
		return SearchRequest{}, nil, err
	}
	return p.request(ctx, s, vec, nil)
}

// targetVector returns the vector a shard searches from for a resolved
// target row: its embedding as resolved, or, in the shard holding the
// row, the row itself (so that a row target's view knows its own row),
// checked to be the embedding the other shards were given.
func (p *Plan) targetVector(ctx context.Context, s Store, tn *query.TargetNode, rt StoredTarget) ([]float32, error) {
	local := rt.Row - p.opts.Place.Before
	if local < 0 || local >= int64(s.NumRows()) {
		return slices.Clone(rt.Vec), nil
	}
	vec, err := s.Vector(ctx, query.Target{Kind: query.TargetRow, Row: uint32(local), Space: tn.Target.Space})
	if err != nil {
		return nil, &query.Error{Query: p.q.Text, Off: tn.Offset, Msg: fmt.Sprintf("target %s: %v", tn, err), Err: err}
	}
	if !slices.EqualFunc(vec, rt.Vec, func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }) {
		return nil, fmt.Errorf("%w: target %s: row %d of this shard is not the embedding the target was resolved to (resolved on other stores?)", ErrPartial, tn, local)
	}
	return vec, nil
}

// dedupDepth returns a knn search with dedup as a shard answers it for a
// merge: the shard's own dedup, as one store runs it (searching 4 times
// deeper until K rows survive), tells how deep its raw hits go; the shard
// sends 4 times as many, so that the merge, whose dedup may need to go
// deeper than any shard's, usually finds them there (it checks, and says
// so when not). complete reports that the hits are every allowed row.
func (p *Plan) dedupDepth(ctx context.Context, s Store, req SearchRequest, sr SearchResult, cand int) (SearchResult, bool, error) {
	rv, ok := s.(RowVectorer)
	if !ok {
		return sr, false, fmt.Errorf("%w: dedup needs the rows' embeddings, which this store does not give", ErrPartial)
	}
	k := req.K
	d := &deduper{s: rv, sp: req.Space, t: float32(dedupSpec(p.q.Source))}
	depth := k
	for {
		if err := d.offer(ctx, sr.Hits[min(len(sr.Hits), len(d.hits)+d.dropped):], k); err != nil {
			return sr, false, err
		}
		if len(d.hits) >= k || len(sr.Hits) < depth || depth >= cand {
			break
		}
		depth = min(4*depth, cand)
		req.K = depth
		next, err := p.search(ctx, s, req, "knn")
		if err != nil {
			return sr, false, err
		}
		sr = next
	}
	if want := min(4*depth, cand); want > len(sr.Hits) {
		req.K = want
		next, err := p.search(ctx, s, req, "knn")
		if err != nil {
			return sr, false, err
		}
		sr = next
	}
	return sr, len(sr.Hits) >= cand, nil
}

// hitRows returns hits with the columns of their rows the merge reads.
func (p *Plan) hitRows(ctx context.Context, s Store, hits []Hit) (*PartialHits, error) {
	ps := &PartialHits{Exact: true, Hits: hits, Columns: map[string]*PartialColumn{}}
	if ps.Hits == nil {
		ps.Hits = []Hit{}
	}
	rows := make([]uint32, len(hits))
	for i, h := range hits {
		rows[i] = h.Row
	}
	for lo := 0; lo < len(rows); lo += fetchChunk {
		chunk := rows[lo:min(lo+fetchChunk, len(rows))]
		b, err := s.Fetch(ctx, chunk, p.hitCols())
		if err != nil {
			return nil, fmt.Errorf("query: fetching rows: %w", err)
		}
		for name, c := range b.Cols {
			pc := ps.Columns[name]
			if pc == nil {
				pc = &PartialColumn{Type: c.Type}
				ps.Columns[name] = pc
			}
			pc.appendColumn(c, b.Len)
		}
	}
	return ps, nil
}

// statName names a plan's statistic i in a partial.
func statName(st statistic, i int) string {
	if st.desc != "" {
		return st.desc
	}
	return fmt.Sprintf("statistic %d", i)
}

// buildVersion is the laiondb module version of this build.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range append([]*debug.Module{&bi.Main}, bi.Deps...) {
			if m.Path == "github.com/laiondb/laiondb" {
				return m.Version
			}
		}
	}
	return "unknown"
}

// ReadPartial reads a partial written as JSON, checking its format.
func ReadPartial(r io.Reader) (*Partial, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var p Partial
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%w: not a partial result: %v", ErrPartial, err)
	}
	if p.Format != PartialFormat {
		return nil, fmt.Errorf("%w: format %d, this laiondb reads format %d (written by laiondb %s): write it again with this laiondb", ErrPartial, p.Format, PartialFormat, p.Version)
	}
	return &p, nil
}

// MergePartials merges the partials of every shard of a query into the
// Result of the query over the store of all the shards' files: the same
// counts, shares, intervals and quartiles, and the first rows selected
// numbered across the shards. It refuses partials of different queries,
// lexicons, shard counts or formats, a shard given twice, and a missing
// shard, naming them. Of opts only GroupBytes and TempDir count: the
// memory and the folder of the merging machine for the values of a 'by'
// (nil: the defaults); what the query asked for comes from the partials.
func MergePartials(parts []*Partial, opts *Options) (*Result, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("%w: nothing to merge", ErrPartial)
	}
	ps := slices.Clone(parts)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Shard < ps[j].Shard })
	first := ps[0]
	for i, p := range ps {
		switch {
		case p.Format != PartialFormat:
			return nil, fmt.Errorf("%w: shard %d is format %d, this laiondb merges format %d", ErrPartial, p.Shard, p.Format, PartialFormat)
		case p.Query != first.Query:
			return nil, fmt.Errorf("%w: shard %d answers %q, shard %d %q: partials of different queries", ErrPartial, p.Shard, p.Query, first.Shard, first.Query)
		case p.Shards != first.Shards:
			return nil, fmt.Errorf("%w: shard %d is one of %d shards, shard %d one of %d", ErrPartial, p.Shard, p.Shards, first.Shard, first.Shards)
		case !sameLexicons(p.Lexicons, first.Lexicons):
			return nil, fmt.Errorf("%w: shards %d and %d were run with different lexicons", ErrPartial, first.Shard, p.Shard)
		case p.Rows != first.Rows || !slices.Equal(p.RowCols, first.RowCols) || p.Groups != first.Groups:
			return nil, fmt.Errorf("%w: shards %d and %d were asked for different rows or groups", ErrPartial, first.Shard, p.Shard)
		case i > 0 && p.Shard == ps[i-1].Shard:
			return nil, fmt.Errorf("%w: shard %d of %d given twice (fingerprints %s and %s)", ErrPartial, p.Shard, p.Shards, ps[i-1].Fingerprint, p.Fingerprint)
		}
	}
	if len(ps) != first.Shards {
		var missing []string
		for k := 1; k <= first.Shards; k++ {
			if !slices.ContainsFunc(ps, func(p *Partial) bool { return p.Shard == k }) {
				missing = append(missing, fmt.Sprint(k))
			}
		}
		return nil, fmt.Errorf("%w: %d of %d shards given; missing: %s (a merge of some shards would count fewer rows than the dataset holds)", ErrPartial, len(ps), first.Shards, strings.Join(missing, ", "))
	}
	if err := checkPlaces(ps); err != nil {
		return nil, err
	}
	ms, err := newMergeStore(ps)
	if err != nil {
		return nil, err
	}
	q, err := query.Parse(first.Query)
	if err != nil {
		return nil, fmt.Errorf("%w: shard %d: %v", ErrPartial, first.Shard, err)
	}
	o := &Options{Lexicons: first.Lexicons, Rows: first.Rows, Columns: first.RowCols, Groups: first.Groups}
	if opts != nil {
		o.GroupBytes, o.TempDir = opts.GroupBytes, opts.TempDir
	}
	plan, err := NewPlan(q, ms, o)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPartial, err)
	}
	for _, p := range ps {
		if !p.Target.Equal(first.Target) {
			return nil, fmt.Errorf("%w: shards %d and %d searched from different resolutions of the target", ErrPartial, first.Shard, p.Shard)
		}
	}
	if why := plan.partialOK(first.Target != nil); why != "" {
		return nil, fmt.Errorf("%w: %s", ErrPartial, why)
	}
	if tn := plan.resolvedTarget(); tn == nil && first.Target != nil {
		return nil, fmt.Errorf("%w: the partials record a resolved target, and their query %s has no row or id target or seed set", ErrPartial, first.Query)
	} else if tn != nil && first.Place == nil {
		return nil, fmt.Errorf("%w: a row or id target's or a seed set's partials give each shard's place among all the rows", ErrPartial)
	} else if tn != nil && (len(first.Target.Rows) == 0 || !tn.Target.Kind.Seeds() && len(first.Target.Rows) != 1) {
		return nil, fmt.Errorf("%w: the partials record %d target rows for %s", ErrPartial, len(first.Target.Rows), tn)
	}
	res := &Result{Notes: plan.notes, RowColumns: plan.rowCols, Query: plan.q.String(), Fingerprint: ms.Fingerprint(),
		Exact: true, TotalRows: ms.n}
	if _, ok := plan.q.Source.(*query.AllSource); !ok {
		return mergeSearches(ps, plan, ms, res)
	}
	if sp := plan.q.Sample; sp != nil && !sp.PerFile && first.Place == nil {
		return nil, fmt.Errorf("%w: a sample of the whole store merges only from partials that give each shard's place among all the rows", ErrPartial)
	}
	if sp := plan.q.Sample; sp != nil && sp.PerFile && ms.split {
		return nil, fmt.Errorf("%w: a file's rows are split between shards; a sample per file needs each file whole in one shard", ErrPartial)
	}
	if plan.byFile {
		res.Files = plan.fileRates(ms.drawn(plan.q.Sample != nil))
	}
	if plan.q.Limit >= 0 {
		return mergeFirst(ps, plan, ms, res)
	}
	st := newStats(plan.stats)
	defer st.discard()
	for k, p := range ps {
		if len(p.Stats) != len(st) {
			return nil, fmt.Errorf("%w: shard %d holds %d statistics, the query over all shards %d (its columns differ)", ErrPartial, p.Shard, len(p.Stats), len(st))
		}
		for i, a := range st {
			if name := statName(plan.stats[i], i); p.Stats[i].Stat != name {
				return nil, fmt.Errorf("%w: shard %d: statistic %d is %q, want %q", ErrPartial, p.Shard, i+1, p.Stats[i].Stat, name)
			}
			if err := a.(shardable).addState(p.Stats[i].State, uint32(ms.off[k])); err != nil {
				return nil, fmt.Errorf("%w: shard %d: %s: %v", ErrPartial, p.Shard, p.Stats[i].Stat, err)
			}
		}
		res.RowsScanned += p.RowsScanned
		res.VectorsScanned += p.VectorsScanned
		for _, r := range p.Selected {
			if len(res.Rows) < first.Rows {
				r.Row += uint32(ms.off[k])
				res.Rows = append(res.Rows, r)
			}
		}
	}
	if err := st.write(res); err != nil {
		return nil, err
	}
	res.Plan = fmt.Sprintf("merged from the partial results of %d shards\n", len(ps)) + plan.describe("", "")
	return res, nil
}

// checkPlaces checks the shards' places, in shard order: every partial
// gives one or none does, and each shard's rows follow the rows of the
// shards before it, to the total of all.
func checkPlaces(ps []*Partial) error {
	with := slices.IndexFunc(ps, func(p *Partial) bool { return p.Place != nil })
	without := slices.IndexFunc(ps, func(p *Partial) bool { return p.Place == nil })
	switch {
	case with < 0:
		return nil
	case without >= 0:
		return fmt.Errorf("%w: shard %d gives its place among all the rows, shard %d does not", ErrPartial, ps[with].Shard, ps[without].Shard)
	}
	var before int64
	total := ps[0].Place.Total
	for _, p := range ps {
		switch {
		case p.Place.Total != total:
			return fmt.Errorf("%w: shard %d places its rows among %d rows in all, shard %d among %d", ErrPartial, ps[0].Shard, total, p.Shard, p.Place.Total)
		case p.Place.Before != before:
			return fmt.Errorf("%w: shard %d drew as if after %d rows, but the shards before it hold %d: the places given do not match the shards' stores", ErrPartial, p.Shard, p.Place.Before, before)
		}
		before += int64(p.TotalRows)
	}
	if before != total {
		return fmt.Errorf("%w: the shards hold %d rows, their places say %d: the places given do not match the shards' stores", ErrPartial, before, total)
	}
	return nil
}

// mergeFirst merges the first rows of an all query with a limit: the
// first 'limit' of the shards' rows in shard order, whose statistics are
// then computed (after post where) as one store computes them.
func mergeFirst(ps []*Partial, plan *Plan, ms *mergeStore, res *Result) (*Result, error) {
	var rows []uint32
	ms.hit, ms.parts = map[uint32][2]int{}, ps
	for k, p := range ps {
		if p.First == nil {
			return nil, fmt.Errorf("%w: shard %d holds no first rows", ErrPartial, p.Shard)
		}
		res.RowsScanned += p.RowsScanned
		for i, h := range p.First.Hits {
			if int(h.Row) >= p.TotalRows {
				return nil, fmt.Errorf("%w: shard %d: row %d of %d rows", ErrPartial, p.Shard, h.Row, p.TotalRows)
			}
			r := h.Row + uint32(ms.off[k])
			rows = append(rows, r)
			ms.hit[r] = [2]int{k, i}
		}
	}
	rows = rows[:min(len(rows), int(plan.q.Limit))]
	ms.first = true
	if err := plan.finish(context.Background(), ms, res, rows, nil); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPartial, err)
	}
	res.Plan = fmt.Sprintf("merged from the partial results of %d shards\n", len(ps)) + plan.describe("", "")
	return res, nil
}

// mergeSearches merges the shards' knn or within answers: every hit, best
// first (ties by row), the best K for knn; then the statistics of the
// rows kept are computed from the hit rows' columns the partials hold, as
// one store computes them from its own.
func mergeSearches(ps []*Partial, plan *Plan, ms *mergeStore, res *Result) (*Result, error) {
	st := &SearchStats{}
	plan.searchStats(st)
	var hits []Hit
	methods := []string{}
	ms.hit = map[uint32][2]int{}
	for k, p := range ps {
		sp := p.Search
		if sp == nil {
			return nil, fmt.Errorf("%w: shard %d holds no search", ErrPartial, p.Shard)
		}
		for i, h := range sp.Hits {
			if int(h.Row) >= p.TotalRows {
				return nil, fmt.Errorf("%w: shard %d: hit row %d of %d rows", ErrPartial, p.Shard, h.Row, p.TotalRows)
			}
			h.Row += uint32(ms.off[k])
			hits = append(hits, h)
			ms.hit[h.Row] = [2]int{k, i}
		}
		st.NearThreshold += sp.NearThreshold
		res.RowsScanned += p.RowsScanned
		res.VectorsScanned += p.VectorsScanned
		res.Exact = res.Exact && sp.Exact
		if !slices.Contains(methods, sp.Method) {
			methods = append(methods, sp.Method)
		}
	}
	ms.parts = ps
	slices.SortFunc(hits, bestFirst)
	if tn := plan.storedTarget(); tn != nil && tn.Target.Space == searchSpace(plan.q.Source) {
		selfFirst(hits, ps[0].Target.Rows[0])
	}
	var seeds map[uint32][]uint32 // a seed set's: the seeds that reached each row
	if tn := plan.resolvedTarget(); tn != nil && tn.Target.Kind.Seeds() {
		var err error
		if hits, seeds, err = mergeSeeds(ps, ms, st); err != nil {
			return nil, err
		}
		st.Seeds = len(ps[0].Target.Rows)
	} else if st.Dedup = dedupSpec(plan.q.Source); st.Dedup > 0 {
		var err error
		if hits, st.Deduped, res.VectorsScanned, err = mergeDedup(ps, plan, ms, st, hits); err != nil {
			return nil, err
		}
	} else if st.Kind == "knn" && len(hits) > st.K {
		hits = hits[:st.K]
	}
	st.Returned, st.Exact = len(hits), res.Exact
	st.Method = fmt.Sprintf("merged from %d shards: %s", len(ps), strings.Join(methods, "; "))
	if plan.q.Limit >= 0 && len(hits) > int(plan.q.Limit) {
		hits = hits[:plan.q.Limit]
	}
	rows := make([]uint32, len(hits))
	scores := make([]float32, len(hits))
	for i, h := range hits {
		rows[i], scores[i] = h.Row, h.Score
	}
	if plan.byFile {
		res.Files = plan.fileRates(nil)
	}
	if err := plan.finish(context.Background(), ms, res, rows, scores); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPartial, err)
	}
	if seeds != nil {
		res.setSeeds(seeds)
	}
	st.scoreRange(res.Hits)
	res.Search = st
	res.Plan = fmt.Sprintf("merged from the partial results of %d shards\n", len(ps)) + plan.describe(st.Method, "")
	return res, nil
}

// selfFirst moves a row target's own row first among the hits of its
// score, as one store ranks it (hits are sorted best first, ties by row).
// The shard holding the row sent it when its score reaches that shard's
// K-th, which is at most the K-th of all: so it is among hits when one
// store would return it.
func selfFirst(hits []Hit, self int64) {
	i := slices.IndexFunc(hits, func(h Hit) bool { return int64(h.Row) == self })
	if i < 0 {
		return
	}
	h := hits[i]
	j := i
	for j > 0 && hits[j-1].Score == h.Score {
		j--
	}
	copy(hits[j+1:i+1], hits[j:i])
	hits[j] = h
}

// mergeDedup applies a search's dedup to the shards' hits, merged best
// first, as one store applies it to its own: within keeps, of every hit,
// each row not near a row kept before it; knn walks the merged hits to the
// depths one store's searches would reach (K, 4K, 16K, ... until K rows
// survive or the allowed rows run out), checking at each depth that every
// shard sent all of its rows that rank within it. It returns the rows
// kept, the rows dropped and the vectors one store's searches would have
// scanned.
func mergeDedup(ps []*Partial, plan *Plan, ms *mergeStore, st *SearchStats, hits []Hit) ([]Hit, int, int, error) {
	ms.vecs = map[uint32][]float32{}
	cand, scanned, dim := 0, 0, -1
	for k, p := range ps {
		sp := p.Search
		if len(sp.Vectors) != len(sp.Hits) || sp.Candidates < len(sp.Hits) {
			return nil, 0, 0, fmt.Errorf("%w: shard %d holds %d embeddings for %d hits of %d rows", ErrPartial, p.Shard, len(sp.Vectors), len(sp.Hits), sp.Candidates)
		}
		for i, h := range sp.Hits {
			if v := sp.Vectors[i]; dim >= 0 && len(v) != dim || len(v) == 0 {
				return nil, 0, 0, fmt.Errorf("%w: shard %d: an embedding of %d dimensions, not %d", ErrPartial, p.Shard, len(v), dim)
			}
			dim = len(sp.Vectors[i])
			ms.vecs[h.Row+uint32(ms.off[k])] = sp.Vectors[i]
		}
		cand += sp.Candidates
		scanned += p.VectorsScanned
	}
	d := &deduper{s: ms, sp: searchSpace(plan.q.Source), t: float32(st.Dedup)}
	ctx := context.Background()
	if st.Kind != "knn" {
		if err := d.offer(ctx, hits, -1); err != nil {
			return nil, 0, 0, err
		}
		return d.hits, d.dropped, scanned, nil
	}
	// rank is each hit's place in the merged order.
	rank := make(map[uint32]int, len(hits))
	for i, h := range hits {
		rank[h.Row] = i
	}
	k, n := st.K, ms.n
	searches := 0
	for depth := k; ; {
		searches++
		top := min(depth, cand)
		for j, p := range ps {
			sp := p.Search
			if sp.Complete || len(sp.Hits) == 0 {
				continue
			}
			last := sp.Hits[len(sp.Hits)-1].Row + uint32(ms.off[j])
			if rank[last] < top-1 {
				return nil, 0, 0, fmt.Errorf("%w: shard %d sent its best %d rows, and this dedup needs the best %d of all shards, which may hold more of its rows: the partials cannot give the exact answer", ErrPartial, p.Shard, len(sp.Hits), top)
			}
		}
		if top > len(hits) {
			return nil, 0, 0, fmt.Errorf("%w: the shards sent %d hits of the %d this dedup needs", ErrPartial, len(hits), top)
		}
		if err := d.offer(ctx, hits[min(top, len(d.hits)+d.dropped):top], k); err != nil {
			return nil, 0, 0, err
		}
		if len(d.hits) >= k || top < depth || depth >= n {
			break
		}
		depth = min(4*depth, n)
	}
	return d.hits, d.dropped, searches * cand, nil
}

// RowVectors implements RowVectorer for a dedup's merge: the hit rows'
// embeddings the partials hold.
func (ms *mergeStore) RowVectors(_ context.Context, rows []uint32, _ query.Space) ([][]float32, error) {
	out := make([][]float32, len(rows))
	for i, r := range rows {
		v, ok := ms.vecs[r]
		if !ok {
			return nil, fmt.Errorf("%w: row %d", errMergeStore, r)
		}
		out[i] = v
	}
	return out, nil
}

func sameLexicons(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// UnionFingerprint is the fingerprint of the rows of stores with these
// fingerprints, in this order: a Union's, and a merge's of their partials.
func UnionFingerprint(fps []string) string {
	h := sha256.New()
	for _, fp := range fps {
		fmt.Fprintf(h, "%s\n", fp)
	}
	return "union-" + hex.EncodeToString(h.Sum(nil))[:16]
}

// mergeStore is the Store a merge plans against: the shards' columns,
// rows and source files, and nothing to read.
type mergeStore struct {
	cols      []table.ColumnInfo
	n         int
	off       []int // the first row of each shard
	files     []fileRange
	fileFirst []int64 // the row in its file of each file's first row
	fps       []string
	// For a search: the partials, and where each hit row's values are
	// (partial, position in its hits).
	parts []*Partial
	hit   map[uint32][2]int
	first bool                 // the rows are the partials' First, not their Search
	vecs  map[uint32][]float32 // a dedup's hit rows' embeddings
	// split: a file's rows are in two shards; drawn: each file's sample
	// rows, summed over its shards.
	split  bool
	drawns []int
}

// drawn returns each file's rows in the sample, or nil without one.
func (ms *mergeStore) drawn(sample bool) []int {
	if !sample {
		return nil
	}
	return ms.drawns
}

func newMergeStore(ps []*Partial) (*mergeStore, error) {
	ms := &mergeStore{}
	types := map[string]table.Type{}
	for _, p := range ps {
		if p.TotalRows < 0 || p.RowsScanned < 0 || p.VectorsScanned < 0 {
			return nil, fmt.Errorf("%w: shard %d: a negative count of rows", ErrPartial, p.Shard)
		}
		ms.off = append(ms.off, ms.n)
		ms.fps = append(ms.fps, p.Fingerprint)
		for _, c := range p.Columns {
			t, seen := types[c.Name]
			switch {
			case !seen:
				types[c.Name] = c.Type
				ms.cols = append(ms.cols, c)
			case t != c.Type:
				return nil, fmt.Errorf("%w: column %s is %s in shard %d and %s in an earlier shard", ErrPartial, c.Name, c.Type, p.Shard, t)
			}
		}
		lo := ms.n
		for _, f := range p.Files {
			if f.Rows < 0 || f.Drawn < 0 || f.Drawn > f.Rows || f.First < 0 || f.Rows > p.TotalRows {
				return nil, fmt.Errorf("%w: shard %d: file %s: %d rows from row %d, %d drawn", ErrPartial, p.Shard, f.Name, f.Rows, f.First, f.Drawn)
			}
			// A file whose rows go on from the last shard's is one file.
			if k := len(ms.files) - 1; k >= 0 && ms.files[k].name == f.Name && ms.files[k].hi == uint32(lo) && ms.fileFirst[k]+int64(ms.files[k].hi-ms.files[k].lo) == f.First {
				ms.files[k].hi += uint32(f.Rows)
				ms.drawns[k] += f.Drawn
				ms.split = true
			} else {
				ms.files = append(ms.files, fileRange{name: f.Name, lo: uint32(lo), hi: uint32(lo + f.Rows)})
				ms.fileFirst = append(ms.fileFirst, f.First)
				ms.drawns = append(ms.drawns, f.Drawn)
			}
			lo += f.Rows
		}
		if lo != ms.n+p.TotalRows {
			return nil, fmt.Errorf("%w: shard %d lists files of %d rows and holds %d", ErrPartial, p.Shard, lo-ms.n, p.TotalRows)
		}
		ms.n += p.TotalRows
	}
	if ms.n > math.MaxUint32 {
		return nil, fmt.Errorf("%w: the shards hold %d rows, more than the %d one merged result can number (LAION-5B's subsets, 2B-en, 2B-multi and 1B-nolang, each fit)", ErrPartial, ms.n, uint32(math.MaxUint32))
	}
	return ms, nil
}

var errMergeStore = errors.New("engine: a merge of partial results reads no rows")

func (ms *mergeStore) Columns() []table.ColumnInfo { return slices.Clone(ms.cols) }
func (ms *mergeStore) NumRows() int                { return ms.n }
func (ms *mergeStore) Fingerprint() string         { return UnionFingerprint(ms.fps) }
func (ms *mergeStore) Scan(context.Context, []string, func(*table.Batch) error) error {
	return errMergeStore
}

// Fetch returns the values of hit rows, as the partials hold them.
func (ms *mergeStore) Fetch(_ context.Context, rows []uint32, cols []string) (*table.Batch, error) {
	b := &table.Batch{Rows: slices.Clone(rows), Len: len(rows), Cols: map[string]*table.Column{}}
	types := map[string]table.Type{}
	for _, c := range ms.cols {
		types[c.Name] = c.Type
	}
	for _, name := range cols {
		t, ok := types[name]
		if !ok {
			continue
		}
		c := &table.Column{Type: t}
		if t == table.TypeString {
			c.Str.Off = []uint32{0}
		}
		for _, r := range rows {
			at, ok := ms.hit[r]
			if !ok {
				return nil, fmt.Errorf("%w: row %d", errMergeStore, r)
			}
			hits := ms.parts[at[0]].Search
			if ms.first {
				hits = ms.parts[at[0]].First
			}
			pc := hits.Columns[name]
			if pc == nil { // a column the shard lacks
				c.Append(table.NullColumn(t, 1), 0)
				continue
			}
			if pc.Type != t {
				return nil, fmt.Errorf("column %s of shard %d holds %s values, not %s", name, ms.parts[at[0]].Shard, pc.Type, t)
			}
			if err := pc.append(c, at[1]); err != nil {
				return nil, fmt.Errorf("shard %d: column %s: %v", ms.parts[at[0]].Shard, name, err)
			}
		}
		b.Cols[name] = c
	}
	return b, nil
}
func (ms *mergeStore) Vector(context.Context, query.Target) ([]float32, error) {
	return nil, errMergeStore
}
func (ms *mergeStore) Search(context.Context, SearchRequest) (SearchResult, error) {
	return SearchResult{}, errMergeStore
}
func (ms *mergeStore) Within(context.Context, SearchRequest) (SearchResult, error) {
	return SearchResult{}, errMergeStore
}
func (ms *mergeStore) VectorRows(query.Space) *vector.Bitset { return vector.NewBitset(ms.n) }
func (ms *mergeStore) Source(row uint32) (string, int64) {
	i := sort.Search(len(ms.files), func(i int) bool { return ms.files[i].hi > row })
	if i == len(ms.files) {
		return "", -1
	}
	return ms.files[i].name, ms.fileFirst[i] + int64(row-ms.files[i].lo)
}
