package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/table"
	"github.com/laiondb/laiondb/vector"
)

// Options tune Run. The zero value (or nil) means: statistics only, the
// built-in lexicon only, the store's default search.
type Options struct {
	// Lexicons maps a lexicon name (matched case-insensitively) to its
	// keywords, e.g. from LoadLexiconFile. Every lexicon given here is
	// reported, besides essay2021, and can be used in the query.
	Lexicons map[string][]string
	// Rows is how many selected rows to include in Result.Rows, with their
	// text and url; 0 includes none, AllRows every selected row.
	Rows int
	// Columns, when not empty, are the columns each row of Result.Rows
	// shows (ResultRow.Columns), instead of sample_id, nsfw, url and text.
	// A column the store lacks is an error.
	Columns []string
	// Exact forces an exact vector search.
	Exact bool
	// ScanText evaluates text predicates by a scan even where the store's
	// text index could narrow them (the answers are the same: to check
	// the index, or to time it).
	ScanText bool
	// Index forces the vector index for k-NN searches, even where the
	// store's planner finds a scan cheaper (SearchRequest.Index). Exact
	// wins over it.
	Index bool
	// IndexKind names the index kind k-NN searches must use ("hnsw",
	// "ivf"; SearchRequest.IndexKind): it forces the index as Index
	// does, and that one among the store's indexes.
	IndexKind string
	// AllowCache, when set, keeps the allow-lists of search queries' where
	// clauses for later queries on the same store content (package db
	// sets its own).
	AllowCache *AllowCache
	// Groups is the most values a "by" lists, most frequent first (0:
	// DefaultGroups); the rest are counted in its LabelCounts.Groups and
	// OtherRows.
	Groups int
	// GroupBytes is the memory the distinct values of a "by" may take
	// before they are written to temporary files and counted from there,
	// one partition at a time (0: DefaultGroupBytes).
	GroupBytes int64
	// TempDir is where those files go ("": os.TempDir()).
	TempDir string
	// Place, for Plan.RunPartial (other runs ignore it), is where the
	// shard's rows lie among the rows of every shard of the dataset. A
	// sample of the whole store is drawn over all of them, so its partial
	// needs it; any partial records it, and the merge checks it against
	// the shards' rows.
	Place *Place
	// Targets, for Plan.RunPartial of a query whose search target is a
	// row, an id or a seed set (other runs ignore it), are the target's
	// rows resolved over every shard (MergeTargets), from which every
	// shard searches.
	Targets []StoredTarget
}

// Place is where a shard's rows lie among all the shards' rows: after
// Before rows of the shards before it, of Total rows in all.
type Place struct {
	Before int64 `json:"rows_before"`
	Total  int64 `json:"rows_in_all"`
}

// AllRows asks Options.Rows for every selected row.
const AllRows = math.MaxInt32

// fetchChunk is the number of rows fetched at once.
const fetchChunk = 1 << 16

// Plan is a query checked against a store's columns and ready to run.
// Its String method describes how it will run (laiondb query --explain).
// A Plan may be run several times, from several goroutines at once.
type Plan struct {
	q     *query.Query
	where *compiled
	post  *compiled
	// stats are the statistics computed, in order.
	stats []statistic
	// nsfw, text and url name the columns of Result.Rows; "" when absent.
	nsfw, text, url string
	opts            Options
	numRows         int
	// share: the text index is used when its candidates are at most
	// 1/share of the rows (candidateShare).
	share int
	// onePass: an all source without limit or post where computes the
	// statistics during the scan that evaluates where.
	onePass bool
	// rowCols are the store columns of Options.Columns, resolved.
	rowCols []string
	// files are the store's source files when by file or sample needs
	// them; byFile asks for the rates by file.
	files  []fileRange
	byFile bool
	// notes go into Result.Notes.
	notes []string
}

// compiled is a compiled predicate and the columns it reads.
type compiled struct {
	p    pred
	cols []string
	expr query.Expr
	// index is what the store's text index narrows expr to (nil: it
	// cannot); why says why it cannot, when expr has text predicates on
	// indexed columns.
	index *textQuery
	why   []string
}

// Run plans the parsed query q against s and runs it: it is NewPlan
// followed by Plan.Run.
func Run(ctx context.Context, s Store, q *query.Query, opts *Options) (*Result, error) {
	p, err := NewPlan(q, s, opts)
	if err != nil {
		return nil, err
	}
	return p.Run(ctx, s)
}

// NewPlan checks q against the store's columns and the lexicons of opts
// and compiles its predicates. Unknown columns and lexicons, type
// mismatches and bad regular expressions are reported as *Error with the
// offset of the culprit.
func NewPlan(q *query.Query, s Store, opts *Options) (*Plan, error) {
	if opts == nil {
		opts = &Options{}
	}
	if opts.Rows < 0 {
		return nil, fmt.Errorf("query: negative Options.Rows %d", opts.Rows)
	}
	pl := &planner{q: q, cols: map[string]table.Type{}, lexicons: map[string]*lexicon{}}
	for _, c := range s.Columns() {
		pl.cols[c.Name] = c.Type
		pl.names = append(pl.names, c.Name)
	}
	sort.Strings(pl.names)
	if ti, ok := s.(TextIndexer); ok && !opts.ScanText && slices.ContainsFunc(pl.names, ti.TextIndexed) {
		pl.ti = ti
	}
	p := &Plan{q: q, opts: *opts, numRows: s.NumRows(), share: candidateShare(s)}

	// Lexicons: essay2021, then the user's by name.
	sch := &schema{cols: pl.cols, opts: &p.opts}
	sch.lexicons = append(sch.lexicons, newLexicon(BuiltinLexicon, Essay2021))
	var user []string
	for name := range opts.Lexicons {
		user = append(user, name)
	}
	sort.Strings(user)
	for _, name := range user {
		ln := strings.ToLower(name)
		if ln == BuiltinLexicon {
			return nil, fmt.Errorf("query: lexicon %s is built in and cannot be redefined", BuiltinLexicon)
		}
		if pl.lexicons[ln] != nil {
			return nil, fmt.Errorf("query: lexicon %s given twice", ln)
		}
		if len(opts.Lexicons[name]) == 0 {
			return nil, fmt.Errorf("query: lexicon %s has no keywords", ln)
		}
		for i, kw := range opts.Lexicons[name] {
			if strings.TrimSpace(kw) == "" {
				return nil, fmt.Errorf("query: lexicon %s has an empty keyword (number %d is empty or only white space): it would flag every row", ln, i+1)
			}
		}
		sch.lexicons = append(sch.lexicons, newLexicon(ln, opts.Lexicons[name]))
		pl.lexicons[ln] = sch.lexicons[len(sch.lexicons)-1]
	}
	pl.lexicons[BuiltinLexicon] = sch.lexicons[0]

	var err error
	if q.Where != nil {
		if p.where, err = pl.compileTop(q.Where); err != nil {
			return nil, err
		}
	}
	if q.Post != nil {
		if p.post, err = pl.compileTop(q.Post); err != nil {
			return nil, err
		}
	}
	for _, f := range q.By {
		if f.Func == "file" {
			sch.byFile = true
			continue
		}
		name, typ, err := pl.resolve(f)
		if err != nil {
			return nil, err
		}
		if f.Func == "domain" && typ != table.TypeString {
			return nil, pl.errorf(f.Offset, "domain() needs a column of URLs (strings); %s holds %s values", name, typ)
		}
		sch.by = append(sch.by, byItem{col: name, fn: f.Func})
	}
	if sw := q.Sweep; sw != nil {
		name, typ, err := pl.resolve(sw.Field)
		if err != nil {
			return nil, err
		}
		if typ != table.TypeFloat && typ != table.TypeInt {
			return nil, pl.errorf(sw.Field.Offset, "sweep needs a numeric column; %s holds %s values", name, typ)
		}
		spec := &sweepSpec{col: name, at: sw.At}
		if sch.has("text") != "" || sch.has("url") != "" {
			if spec.flag, err = pl.compileTop(&query.LexiconExpr{Field: &query.Field{Offset: sw.Offset, Any: true}, Name: BuiltinLexicon}); err != nil {
				return nil, err
			}
		}
		sch.sweep = spec
	}
	for _, c := range opts.Columns {
		name := strings.ToLower(c)
		if _, ok := pl.cols[name]; !ok && name == "caption" {
			name = "text"
		}
		if _, ok := pl.cols[name]; !ok {
			return nil, fmt.Errorf("query: no column %q to show in the rows (the store has: %s)", c, strings.Join(pl.names, ", "))
		}
		if !slices.Contains(p.rowCols, name) {
			p.rowCols = append(p.rowCols, name)
		}
	}
	if sch.byFile || q.Sample != nil {
		sch.files = sourceFiles(s)
		p.files = sch.files
	}
	p.byFile = sch.byFile
	p.stats = planStats(sch)
	p.notes = append(pl.notes, sch.notes...)
	p.nsfw, p.text, p.url = sch.has("nsfw"), sch.has("text"), sch.has("url")
	_, isAll := q.Source.(*query.AllSource)
	p.onePass = isAll && q.Limit < 0 && q.Post == nil && q.Sample == nil
	return p, nil
}

// planner holds the state of NewPlan.
type planner struct {
	q        *query.Query
	notes    []string // what the plan says about its predicates
	cols     map[string]table.Type
	names    []string
	lexicons map[string]*lexicon
	used     []string
	// ti is the store's text index, nil when it indexes no column.
	ti TextIndexer
}

// ErrUnknownLexicon is the cause of the error for a lexicon the query names
// that is neither built in nor in Options.Lexicons.
var ErrUnknownLexicon = errors.New("engine: unknown lexicon")

func (pl *planner) errorf(off int, format string, args ...any) error {
	return &query.Error{Query: pl.q.Text, Off: off, Msg: fmt.Sprintf(format, args...)}
}

// resolve maps a field to a store column.
func (pl *planner) resolve(f *query.Field) (string, table.Type, error) {
	name, t, ok := pl.lookup(f)
	if !ok {
		return "", 0, pl.errorf(f.Offset, "unknown column %q (the store has: %s)", f.Name, strings.Join(pl.names, ", "))
	}
	if !slices.Contains(pl.used, name) {
		pl.used = append(pl.used, name)
	}
	return name, t, nil
}

func (pl *planner) compileTop(e query.Expr) (*compiled, error) {
	pl.used = nil
	p, err := pl.compile(e)
	if err != nil {
		return nil, err
	}
	c := &compiled{p: p, cols: pl.used, expr: e}
	if pl.ti != nil {
		c.index, c.why = pl.indexQuery(e)
		slices.Sort(c.why)
		c.why = slices.Compact(c.why)
	}
	return c, nil
}

func (pl *planner) compile(e query.Expr) (pred, error) {
	switch e := e.(type) {
	case *query.BinaryExpr:
		x, err := pl.compile(e.X)
		if err != nil {
			return nil, err
		}
		y, err := pl.compile(e.Y)
		if err != nil {
			return nil, err
		}
		if e.Op == "and" {
			return &andPred{x, y}, nil
		}
		return &orPred{x, y}, nil
	case *query.NotExpr:
		x, err := pl.compile(e.X)
		if err != nil {
			return nil, err
		}
		return &notPred{x}, nil
	case *query.NullExpr:
		name, _, err := pl.resolve(e.Field)
		if err != nil {
			return nil, err
		}
		return &nullPred{col: name, not: e.Not}, nil
	case *query.CompareExpr:
		name, t, err := pl.resolve(e.Field)
		if err != nil {
			return nil, err
		}
		op := cmpOps[e.Op]
		if err := pl.checkLit(name, t, e.Value); err != nil {
			return nil, err
		}
		if t == table.TypeBool && op != opEq && op != opNe {
			return nil, pl.errorf(e.Value.Offset, "bool column %s supports only = and !=", name)
		}
		return &leafPred{col: name, match: compareMatch(t, op, e.Value)}, nil
	case *query.InExpr:
		name, t, err := pl.resolve(e.Field)
		if err != nil {
			return nil, err
		}
		if e.File != nil {
			match, n, err := listMatch(t, e.File)
			if err == nil && n == 0 {
				err = fmt.Errorf("%s holds no values (empty lines are skipped): an empty list would select nothing", e.File.Path)
			}
			if err != nil {
				return nil, pl.errorf(e.File.Offset, "%s: %v", e.File, err)
			}
			how := "as exact bytes"
			switch {
			case e.File.Mode == "url":
				how = "as URLs with the scheme and host in lower case and one trailing slash dropped"
			case t != table.TypeString:
				how = "as numbers"
			}
			pl.notes = append(pl.notes, fmt.Sprintf("%s in %s: %d distinct values, compared %s", name, e.File, n, how))
			return &leafPred{col: name, neg: e.Not, match: match}, nil
		}
		for _, v := range e.Values {
			if err := pl.checkLit(name, t, v); err != nil {
				return nil, err
			}
		}
		return &leafPred{col: name, neg: e.Not, match: inMatch(t, e.Values)}, nil
	case *query.MatchExpr:
		var re *regexp.Regexp
		var needles [][]byte
		if e.Kind == query.MatchRegexp {
			var err error
			if re, err = regexp.Compile(e.Pattern); err != nil {
				if what, at := unsupportedRegexp(e.Pattern); what != "" {
					return nil, pl.errorf(patternOffset(pl.q.Text, e.PatPos, at), "unsupported regular expression: %s; matches takes RE2 syntax (Go's regexp), which has no lookaround, backreferences, atomic groups or possessive quantifiers", what)
				}
				return nil, pl.errorf(e.PatPos, "bad regular expression: %v", err)
			}
		} else {
			needles = [][]byte{[]byte(pyLower(e.Pattern))}
			if e.Kind == query.MatchWord && e.Pattern == "" {
				return nil, pl.errorf(e.PatPos, "has word needs a word: an empty pattern is no word")
			}
		}
		return pl.textLeaf(e.Field, func(name string) func(*evalCtx, *table.Column, []uint64) {
			if re != nil {
				return regexpMatch(name, re)
			}
			return textMatch(name, needles, e.Kind == query.MatchWord)
		})
	case *query.LexiconExpr:
		lx := pl.lexicons[e.Name]
		if lx == nil {
			known := make([]string, 0, len(pl.lexicons))
			for n := range pl.lexicons {
				known = append(known, n)
			}
			sort.Strings(known)
			return nil, &query.Error{Query: pl.q.Text, Off: e.NamePos, Err: ErrUnknownLexicon,
				Msg: fmt.Sprintf("unknown lexicon %q (known: %s)", e.Name, strings.Join(known, ", "))}
		}
		return pl.textLeaf(e.Field, func(name string) func(*evalCtx, *table.Column, []uint64) {
			return textMatch(name, lx.lowered, false)
		})
	}
	return nil, fmt.Errorf("query: unknown expression %T", e)
}

// textLeaf builds a text predicate on a column, or on text or url for any.
func (pl *planner) textLeaf(f *query.Field, mk func(name string) func(*evalCtx, *table.Column, []uint64)) (pred, error) {
	if !f.Any {
		name, _, err := pl.resolve(f)
		if err != nil {
			return nil, err
		}
		return &leafPred{col: name, match: mk(name)}, nil
	}
	var p pred
	for _, name := range pl.textCols(f) {
		pl.resolve(&query.Field{Offset: f.Offset, Name: name})
		leaf := &leafPred{col: name, match: mk(name)}
		if p == nil {
			p = leaf
		} else {
			p = &orPred{p, leaf}
		}
	}
	if p == nil {
		return nil, pl.errorf(f.Offset, "any needs a text or url column, and the store has neither")
	}
	return p, nil
}

// checkLit checks that a literal can be compared with a column of type t.
func (pl *planner) checkLit(name string, t table.Type, l *query.Literal) error {
	ok := false
	switch t {
	case table.TypeString:
		ok = l.Kind == query.LitString
	case table.TypeInt, table.TypeFloat:
		ok = l.Kind == query.LitInt || l.Kind == query.LitFloat
	case table.TypeBool:
		ok = l.Kind == query.LitBool
	}
	if !ok {
		what := map[query.LiteralKind]string{query.LitString: "a string", query.LitInt: "a number", query.LitFloat: "a number", query.LitBool: "a bool"}[l.Kind]
		return pl.errorf(l.Offset, "cannot compare %s column %s with %s", t, name, what)
	}
	return nil
}

// String describes the plan, one step a line.
func (p *Plan) String() string { return p.describe("", "") }

// Explain describes the plan as String does, except that where the text
// index would be asked for candidates (an all source without a sample), it
// asks it — a lookup of postings, no row is read — and says how many
// candidates there are, whether they or a scan would be evaluated, and
// what each costs in scanned rows (laiondb query --explain).
func (p *Plan) Explain(ctx context.Context, s Store) (string, error) {
	if _, ok := p.q.Source.(*query.AllSource); !ok || p.q.Sample != nil || p.where == nil || p.where.index == nil {
		return p.String(), nil
	}
	cand, how, err := p.candidates(ctx, s, nil)
	if err != nil {
		return "", err
	}
	n := s.NumRows()
	cost := candidateCost(s)
	if cand != nil {
		k := cand.Count()
		how = fmt.Sprintf("text index: %d candidates of %d rows (%.3g%%, at most 1/%d for the index); evaluating where on them costs about %.0f scanned rows (%.1f each), against %d for a scan",
			k, n, 100*float64(k)/float64(max(n, 1)), p.share, cost*float64(k), cost, n)
	} else if how != "" {
		how += fmt.Sprintf("; each would cost about %.1f scanned rows", cost)
	}
	return p.describe("", how), nil
}

// describe is the plan after a run whose search was answered by method and
// whose where clause was evaluated as how says (see Plan.candidates); both
// are empty before a run.
func (p *Plan) describe(method, how string) string {
	var b strings.Builder
	step := 0
	line := func(format string, args ...any) {
		step++
		fmt.Fprintf(&b, "%d. %s\n", step, fmt.Sprintf(format, args...))
	}
	fmt.Fprintf(&b, "query: %s\n", p.q)
	scan := func(c *compiled, what string) {
		cols := strings.Join(c.cols, ", ")
		switch {
		case strings.HasPrefix(how, "text index:"):
			line("%s; fetch them, columns [%s]: where %s%s", how, cols, c.expr, what)
		case how != "":
			line("scan %d rows, columns [%s]: where %s%s (%s)", p.numRows, cols, c.expr, what, how)
		case c.index != nil:
			line("text index: candidates of the rows whose folded text holds the needles' trigrams (a scan when they are more than 1/%d of the %d rows); fetch them, columns [%s]: where %s%s",
				p.share, p.numRows, cols, c.expr, what)
		case len(c.why) > 0:
			line("scan %d rows, columns [%s]: where %s%s (scan: %s)", p.numRows, cols, c.expr, what, strings.Join(c.why, "; "))
		default:
			line("scan %d rows, columns [%s]: where %s%s", p.numRows, cols, c.expr, what)
		}
	}
	switch src := p.q.Source.(type) {
	case *query.AllSource:
		if sp := p.q.Sample; sp != nil {
			of := fmt.Sprintf("of the store's %d rows, seed %d (PCG seeded with (%d, 0))", p.numRows, sp.Seed, sp.Seed)
			if sp.PerFile {
				of = fmt.Sprintf("of each of the %d source files (all rows of a file with fewer), seed %d (PCG seeded with (%d, xxhash64 of the file's base name))", len(p.files), sp.Seed, sp.Seed)
			}
			line("sample: %d rows drawn uniformly without replacement %s; Algorithm S", sp.N, of)
		}
		if p.where != nil && p.q.Sample != nil {
			of := ""
			if how != "" {
				of = " (" + how + ")"
			}
			line("fetch the sampled rows' columns [%s]%s: where %s", strings.Join(p.where.cols, ", "), of, p.where.expr)
		} else if p.where != nil {
			if p.onePass {
				scan(p.where, "; statistics in the same pass")
			} else {
				scan(p.where, "")
			}
		} else {
			line("scan all %d rows; statistics in the same pass", p.numRows)
		}
	case *query.KNNSource, *query.WithinSource:
		if p.where != nil {
			scan(p.where, " -> allow-list for the search")
		}
		among := "all rows"
		if p.where != nil {
			among = "the allowed rows (exact count of K among rows satisfying where)"
		}
		if p.opts.Exact {
			among += ", exact search forced"
		}
		in := ""
		if searchSpace(src) == query.SpaceText {
			in = " in the rows' text embeddings"
		}
		if s, ok := src.(*query.KNNSource); ok {
			line("search: %d nearest to %s%s among %s", s.K, describeTarget(s.Target), in, among)
		} else {
			s := src.(*query.WithinSource)
			line("search: every row with cosine >= %s to %s%s among %s", floatLit(s.Threshold), describeTarget(s.Target), in, among)
		}
		if method != "" {
			fmt.Fprintf(&b, "   method: %s\n", method)
		}
		if t := dedupSpec(src); t > 0 {
			more := ""
			if _, ok := src.(*query.KNNSource); ok {
				more = "; searched deeper until K rows remain"
			}
			line("dedup: drop each row whose cosine with a row kept before it is >= %s (best first)%s", floatLit(t), more)
		}
	}
	if p.q.Limit >= 0 {
		order := "best first"
		if _, ok := p.q.Source.(*query.AllSource); ok {
			order = "in store order"
		}
		line("limit: first %d rows, %s", p.q.Limit, order)
	}
	if p.post != nil {
		line("post where %s, on the rows above, columns [%s]", p.post.expr, strings.Join(p.post.cols, ", "))
	}
	var st []string
	for _, x := range p.stats {
		if x.desc != "" {
			st = append(st, x.desc)
		}
	}
	line("statistics of the selected rows: %s", strings.Join(st, ", "))
	switch {
	case p.opts.Rows == AllRows:
		line("rows: every selected row with %s", p.rowColumnsText())
	case p.opts.Rows > 0:
		line("rows: first %d selected rows with %s", p.opts.Rows, p.rowColumnsText())
	}
	return b.String()
}

func describeTarget(t *query.TargetNode) string {
	switch t.Target.Kind {
	case query.TargetText:
		return "text " + t.String() + " (CLIP text encoder)"
	case query.TargetImage:
		return t.String() + " (CLIP image encoder)"
	case query.TargetRows, query.TargetIDs:
		what := "positions"
		if t.Target.Kind == query.TargetIDs {
			what = "SAMPLE_IDs"
		}
		return fmt.Sprintf("the %s embeddings of the seed rows whose %s %s lists, each searched among the rows other than the seeds; the answers merged",
			t.Target.Space, what, (&query.ListFile{Path: t.Target.Path}).String())
	case query.TargetRow, query.TargetSampleID:
		if t.Target.Space == query.SpaceText {
			return "the text embedding of " + t.String()
		}
		return "the embedding of " + t.String()
	case query.TargetVector:
		return fmt.Sprintf("an inline vector of %d dimensions", len(t.Target.Vec))
	}
	return t.String()
}

// searchSpace is the embedding space a knn or within source searches.
func searchSpace(src query.Source) query.Space {
	switch s := src.(type) {
	case *query.KNNSource:
		return s.Space
	case *query.WithinSource:
		return s.Space
	}
	return query.SpaceImage
}

// Run runs the plan against s, which must be the store (or have the
// columns of the store) the plan was made for.
func (p *Plan) Run(ctx context.Context, s Store) (*Result, error) {
	return p.run(ctx, s, nil)
}

// searched is a search step done ahead of run, by RunBatch.
type searched struct {
	sr  SearchResult
	sel *selected // where's answer; nil without where
}

// searchStats fills the kind and parameters of a knn or within source.
func (p *Plan) searchStats(st *SearchStats) *query.TargetNode {
	switch src := p.q.Source.(type) {
	case *query.KNNSource:
		st.Kind, st.K = "knn", int(src.K)
		return src.Target
	case *query.WithinSource:
		st.Kind, st.Threshold = "within", src.Threshold
		return src.Target
	}
	return nil
}

// searchRequest resolves the target and evaluates where into the
// allow-list: the request of a knn or within source, and where's answer
// (nil without where).
func (p *Plan) searchRequest(ctx context.Context, s Store, st *SearchStats) (SearchRequest, *selected, error) {
	tn := p.searchStats(st)
	vec, err := s.Vector(ctx, tn.Target)
	if err != nil {
		return SearchRequest{}, nil, &query.Error{Query: p.q.Text, Off: tn.Offset, Msg: fmt.Sprintf("target %s: %v", tn, err), Err: err}
	}
	return p.request(ctx, s, vec, nil)
}

// request builds the search request for the target vector vec; sel, when
// not nil, is the where clause's answer computed already. It returns
// where's answer (nil without where).
func (p *Plan) request(ctx context.Context, s Store, vec []float32, sel *selected) (SearchRequest, *selected, error) {
	var st SearchStats
	tn := p.searchStats(&st)
	req := SearchRequest{Exact: p.opts.Exact, Index: p.opts.Index, IndexKind: p.opts.IndexKind, K: st.K, MinScore: float32(st.Threshold),
		Vec: vec, Image: tn.Target.ImageEmbedding(), Space: searchSpace(p.q.Source)}
	if p.where == nil {
		return req, nil, nil
	}
	if sel == nil {
		var err error
		if sel, err = p.selectCached(ctx, s); err != nil {
			return req, nil, err
		}
	}
	req.Allow = sel.rows
	return req, sel, nil
}

// selectCached answers a search's where (selectWhere), or takes the
// answer from Options.AllowCache. A cached answer keeps the rows counted
// when it was computed, so that a result does not depend on the cache:
// only its method says where the allow-list came from (selected.cached).
func (p *Plan) selectCached(ctx context.Context, s Store) (*selected, error) {
	key, keep := p.allowKey(s)
	if !keep {
		return p.selectWhere(ctx, s)
	}
	sel, cached, err := p.opts.AllowCache.do(ctx, key, func() (*selected, error) { return p.selectWhere(ctx, s) })
	if err != nil || !cached {
		return sel, err
	}
	c := *sel
	c.cached = true
	return &c, nil
}

// cachedNote is added to a search's method when its allow-list came from
// the cache.
const cachedNote = " (where: the allow-list of an earlier search on this store content, reused)"

// search runs a request: nothing when where allows no row.
func (p *Plan) search(ctx context.Context, s Store, req SearchRequest, kind string) (SearchResult, error) {
	if req.Allow != nil && req.Allow.Count() == 0 {
		return SearchResult{Exact: true, Method: "none: no row satisfies where"}, nil
	}
	var sr SearchResult
	var err error
	if kind == "knn" {
		sr, err = s.Search(ctx, req)
	} else {
		sr, err = s.Within(ctx, req)
	}
	if err != nil {
		return SearchResult{}, fmt.Errorf("query: %s search: %w", kind, err)
	}
	return sr, nil
}

func (p *Plan) run(ctx context.Context, s Store, pre *searched) (*Result, error) {
	return p.runKeep(ctx, s, pre, nil)
}

// partialRun is what a partial result takes from a run of an all source
// (see RunPartial): its statistics, not written into the Result but kept
// (keep), or with a limit the rows the statistics would be of (first).
type partialRun struct {
	keep  *stats
	first *[]uint32
	drawn *[]int // the sample's rows in each file
}

// runKeep is run, for a partial result when pr is not nil.
func (p *Plan) runKeep(ctx context.Context, s Store, pre *searched, pr *partialRun) (*Result, error) {
	var keep *stats
	if pr != nil {
		keep = pr.keep
	}
	res := &Result{
		Notes:       p.notes,
		RowColumns:  p.rowCols,
		Query:       p.q.String(),
		Fingerprint: s.Fingerprint(),
		Exact:       true,
		TotalRows:   s.NumRows(),
	}
	n := s.NumRows()
	var sample *vector.Bitset
	var drawn []int // the sample's rows in each file
	if sp := p.q.Sample; sp != nil {
		var err error
		var place *Place // a shard's, in a partial run
		if pr != nil {
			place = p.opts.Place
		}
		if sample, drawn, err = drawSample(ctx, n, p.files, sp, place); err != nil {
			return nil, err
		}
	}
	if p.byFile {
		res.Files = p.fileRates(drawn)
	}
	if pr != nil && pr.drawn != nil {
		*pr.drawn = drawn
	}
	var where pred
	var whereCols []string
	if p.where != nil {
		where, whereCols = p.where.p, p.where.cols
	}
	method, how := "", ""
	switch p.q.Source.(type) {
	case *query.AllSource:
		// The text index's candidates, when it narrows where: where is
		// evaluated on them only (of the sample's rows, with a sample).
		cand, h, err := p.candidates(ctx, s, sample)
		if err != nil {
			return nil, err
		}
		how = h
		if p.onePass {
			cols := union(whereCols, p.statCols())
			var sel *vector.Bitset
			var st stats
			if cand != nil {
				sel, st, res.RowsScanned, err = fetchSelect(ctx, s, cand, cols, where, p.stats)
			} else {
				sel, st, err = scanSelect(ctx, s, n, cols, where, p.stats)
				res.RowsScanned = n
			}
			if err != nil {
				return nil, err
			}
			if keep != nil {
				*keep = st
			} else if err := st.write(res); err != nil {
				return nil, err
			}
			res.Selection = sel
			if p.opts.Rows > 0 {
				var rows []uint32
				sel.ForEach(func(r uint32) bool {
					rows = append(rows, r)
					return len(rows) < p.opts.Rows
				})
				if res.Rows, err = p.fetchRows(ctx, s, rows, nil); err != nil {
					return nil, err
				}
			}
			break
		}
		var rows []uint32
		if where != nil || sample != nil {
			sel := sample
			switch {
			case where != nil && cand != nil:
				if sel, _, res.RowsScanned, err = fetchSelect(ctx, s, cand, whereCols, where, nil); err != nil {
					return nil, err
				}
			case where != nil && sample != nil:
				// where is evaluated on the sample's rows only.
				if sel, _, res.RowsScanned, err = fetchSelect(ctx, s, sample, whereCols, where, nil); err != nil {
					return nil, err
				}
			case where != nil:
				if sel, _, err = scanSelect(ctx, s, n, whereCols, where, nil); err != nil {
					return nil, err
				}
				res.RowsScanned = n
			}
			sel.ForEach(func(r uint32) bool {
				if p.q.Limit >= 0 && len(rows) >= int(p.q.Limit) {
					return false
				}
				rows = append(rows, r)
				return true
			})
		} else {
			m := n
			if p.q.Limit >= 0 {
				m = min(m, int(p.q.Limit))
			}
			rows = make([]uint32, m)
			for i := range rows {
				rows[i] = uint32(i)
			}
		}
		if pr != nil && pr.first != nil {
			*pr.first = rows
			return res, nil
		}
		if err := p.finishKeep(ctx, s, res, rows, nil, keep); err != nil {
			return nil, err
		}
	case *query.KNNSource, *query.WithinSource:
		var sr SearchResult
		var seeds map[uint32][]uint32 // a seed set's: the seeds that reached each row
		st := &SearchStats{}
		cached := false // the allow-list came from Options.AllowCache
		if pre != nil {
			sr = pre.sr
			if pre.sel != nil {
				res.RowsScanned, how, cached = pre.sel.n, pre.sel.how, pre.sel.cached
			}
			p.searchStats(st)
		} else if tn := p.searchStats(st); tn.Target.Kind.Seeds() {
			var allow *vector.Bitset
			if p.where != nil {
				sel, err := p.selectCached(ctx, s)
				if err != nil {
					return nil, err
				}
				allow, res.RowsScanned, how, cached = sel.rows, sel.n, sel.how, sel.cached
			}
			sd, err := p.seedSearch(ctx, s, tn, allow, st.Kind)
			if err != nil {
				return nil, err
			}
			sr, seeds, st.Seeds = sd.sr, sd.seeds, sd.n
		} else {
			req, sel, err := p.searchRequest(ctx, s, st)
			if err != nil {
				return nil, err
			}
			if sel != nil {
				res.RowsScanned, how, cached = sel.n, sel.how, sel.cached
			}
			if sr, err = p.search(ctx, s, req, st.Kind); err != nil {
				return nil, err
			}
			if st.Dedup = dedupSpec(p.q.Source); st.Dedup > 0 {
				if sr, st.Deduped, err = p.dedup(ctx, s, req, sr, st.Kind); err != nil {
					return nil, err
				}
			}
		}
		if cached {
			sr.Method += cachedNote
		}
		st.Returned, st.Method, st.Exact, st.NearThreshold = len(sr.Hits), sr.Method, sr.Exact, sr.NearThreshold
		method = sr.Method
		res.Exact = sr.Exact
		res.VectorsScanned = sr.Scanned
		hits := sr.Hits
		if p.q.Limit >= 0 && len(hits) > int(p.q.Limit) {
			hits = hits[:p.q.Limit]
		}
		rows := make([]uint32, len(hits))
		scores := make([]float32, len(hits))
		for i, h := range hits {
			rows[i], scores[i] = h.Row, h.Score
		}
		if err := p.finish(ctx, s, res, rows, scores); err != nil {
			return nil, err
		}
		if seeds != nil {
			res.setSeeds(seeds)
		}
		st.scoreRange(res.Hits)
		res.Search = st
	}
	res.Plan = p.describe(method, how)
	return res, nil
}

// setSeeds gives each hit and printed row of a seed set's answer the
// seeds that reached it.
func (res *Result) setSeeds(seeds map[uint32][]uint32) {
	res.Seeds = make([][]uint32, len(res.Hits))
	for i, h := range res.Hits {
		res.Seeds[i] = seeds[h.Row]
	}
	for i := range res.Rows {
		res.Rows[i].Seeds = seeds[res.Rows[i].Row]
	}
}

// scoreRange sets the score range of the selected rows, hits.
func (st *SearchStats) scoreRange(hits []Hit) {
	for i, h := range hits {
		if i == 0 || h.Score < st.ScoreMin {
			st.ScoreMin = h.Score
		}
		if i == 0 || h.Score > st.ScoreMax {
			st.ScoreMax = h.Score
		}
	}
}

// finish applies post where to a list of rows (with scores for searches),
// computes the statistics of the survivors and fetches the rows asked for.
func (p *Plan) finish(ctx context.Context, s Store, res *Result, rows []uint32, scores []float32) error {
	return p.finishKeep(ctx, s, res, rows, scores, nil)
}

// finishKeep is finish; with keepStats not nil, the statistics are left
// in *keepStats, not written into res (a partial result's states).
func (p *Plan) finishKeep(ctx context.Context, s Store, res *Result, rows []uint32, scores []float32, keepStats *stats) error {
	var postCols []string
	if p.post != nil {
		postCols = p.post.cols
	}
	cols := union(postCols, p.statCols())
	st := newStats(p.stats)
	ec := newEvalCtx()
	keep := rows[:0:0]
	var keepScores []float32
	sel := vector.NewBitset(s.NumRows())
	written := false
	defer func() {
		if !written {
			st.discard()
		}
	}()
	for lo := 0; lo < len(rows); lo += fetchChunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk := rows[lo:min(lo+fetchChunk, len(rows))]
		b, err := s.Fetch(ctx, chunk, cols)
		if err != nil {
			return fmt.Errorf("query: fetching rows: %w", err)
		}
		if b.Len != len(chunk) {
			return fmt.Errorf("query: store fetched %d rows, want %d", b.Len, len(chunk))
		}
		ec.reset(b)
		t := ec.push()
		if p.post != nil {
			f := ec.push()
			p.post.p.eval(ec, t, f)
		} else {
			ones(t, b.Len)
		}
		st.add(ec, t)
		forEachBit(t, func(i int) {
			keep = append(keep, chunk[i])
			sel.Set(chunk[i])
			if scores != nil {
				keepScores = append(keepScores, scores[lo+i])
			}
		})
	}
	written = true
	if keepStats != nil {
		*keepStats = st
	} else if err := st.write(res); err != nil {
		return err
	}
	res.Selection = sel
	if scores != nil {
		res.Hits = make([]Hit, len(keep))
		for i := range keep {
			res.Hits[i] = Hit{Row: keep[i], Score: keepScores[i]}
		}
	}
	if p.opts.Rows > 0 {
		m := min(p.opts.Rows, len(keep))
		var sc []float32
		if scores != nil {
			sc = keepScores[:m]
		}
		var err error
		if res.Rows, err = p.fetchRows(ctx, s, keep[:m], sc); err != nil {
			return err
		}
	}
	return nil
}

// fetchRows returns the output rows for rows.
func (p *Plan) fetchRows(ctx context.Context, s Store, rows []uint32, scores []float32) ([]ResultRow, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	var cols []string
	if len(p.opts.Columns) > 0 {
		cols = p.rowCols
	} else {
		for _, c := range []string{"sample_id", p.nsfw, p.url, p.text} {
			if c != "" {
				cols = append(cols, c)
			}
		}
	}
	b, err := s.Fetch(ctx, rows, cols)
	if err != nil {
		return nil, fmt.Errorf("query: fetching rows: %w", err)
	}
	if b.Len != len(rows) {
		return nil, fmt.Errorf("query: store fetched %d rows, want %d", b.Len, len(rows))
	}
	str := func(name string, i int) *string {
		c := b.Cols[name]
		if name == "" || c == nil || c.IsNull(i) {
			return nil
		}
		v := string(appendPyStr(nil, c, i))
		return &v
	}
	out := make([]ResultRow, len(rows))
	for i, r := range rows {
		rr := &out[i]
		rr.Row = r
		rr.File, rr.FileRow = s.Source(r)
		if scores != nil {
			sc := scores[i]
			rr.Score = &sc
		}
		if len(p.opts.Columns) > 0 {
			rr.Columns = make(map[string]*string, len(cols))
			for _, c := range cols {
				rr.Columns[c] = str(c, i)
			}
			continue
		}
		if c := b.Cols["sample_id"]; c != nil && c.Type == table.TypeInt && !c.IsNull(i) {
			id := c.Int[i]
			rr.SampleID = &id
		}
		rr.NSFW, rr.URL, rr.Text = str(p.nsfw, i), str(p.url, i), str(p.text, i)
	}
	return out, nil
}

// statCols lists the columns the statistics read.
func (p *Plan) statCols() []string {
	var cols []string
	for _, x := range p.stats {
		cols = union(cols, x.cols)
	}
	return cols
}

// union returns the distinct names of a and b, in order.
func union(a, b []string) []string {
	var out []string
	for _, s := range append(slices.Clip(a), b...) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// worker is one goroutine's state during a scan: the rows selected, in
// sel (batches of consecutive rows) or rows (batches that list theirs).
type worker struct {
	ec    *evalCtx
	sel   *vector.Bitset
	rows  []uint32
	stats stats
}

// scanSelect scans the store, evaluating where (nil: every row) on each
// batch, and returns the selected rows and, when sts is non-nil, those
// statistics of them. Batches may arrive concurrently: each goroutine works
// on its own worker (bitset and accumulators), merged at the end.
func scanSelect(ctx context.Context, s Store, n int, cols []string, where pred, sts []statistic) (*vector.Bitset, stats, error) {
	sel, st, err := scanWith(ctx, n, func(fn func(*table.Batch) error) error { return s.Scan(ctx, cols, fn) }, where, sts)
	if err != nil {
		return nil, nil, fmt.Errorf("query: scan: %w", err)
	}
	return sel, st, nil
}

// scanWith is scanSelect over the batches scan gives (to its function,
// perhaps from several goroutines at once), of a store of n rows.
func scanWith(ctx context.Context, n int, scan func(fn func(*table.Batch) error) error, where pred, sts []statistic) (*vector.Bitset, stats, error) {
	var mu sync.Mutex
	var free, all []*worker
	get := func() *worker {
		mu.Lock()
		defer mu.Unlock()
		if k := len(free); k > 0 {
			w := free[k-1]
			free = free[:k-1]
			return w
		}
		w := &worker{ec: newEvalCtx()}
		if sts != nil {
			w.stats = newStats(sts)
		}
		all = append(all, w)
		return w
	}
	put := func(w *worker) {
		mu.Lock()
		free = append(free, w)
		mu.Unlock()
	}
	err := scan(func(b *table.Batch) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		w := get()
		defer put(w)
		ec := w.ec
		ec.reset(b)
		t := ec.push()
		if where != nil {
			f := ec.push()
			where.eval(ec, t, f)
		} else {
			ones(t, b.Len)
		}
		if b.Rows != nil {
			// A few rows of a store's blocks (RowScanner): a list, not a
			// bitset of every row per worker.
			forEachBit(t, func(i int) { w.rows = append(w.rows, b.Rows[i]) })
		} else {
			if w.sel == nil {
				w.sel = vector.NewBitset(n)
			}
			orBatch(w.sel, b, t)
		}
		if w.stats != nil {
			w.stats.add(ec, t)
		}
		return nil
	})
	if err != nil {
		for _, w := range all {
			if w.stats != nil {
				w.stats.discard()
			}
		}
		return nil, nil, err
	}
	var sel *vector.Bitset
	for _, w := range all {
		switch {
		case w.sel == nil:
		case sel == nil:
			sel = w.sel
		default:
			sel.Or(w.sel)
		}
	}
	if sel == nil {
		sel = vector.NewBitset(n)
	}
	var st stats
	if sts != nil {
		st = newStats(sts)
	}
	for _, w := range all {
		for _, r := range w.rows {
			sel.Set(r)
		}
		if st != nil {
			st.merge(w.stats)
		}
	}
	return sel, st, nil
}

// orBatch adds the batch rows set in t to sel.
func orBatch(sel *vector.Bitset, b *table.Batch, t []uint64) {
	if b.Rows == nil && b.Start%64 == 0 {
		words := sel.Words()[b.Start/64:]
		for i, x := range t {
			words[i] |= x
		}
		return
	}
	forEachBit(t, func(i int) { sel.Set(b.Row(i)) })
}

// unsupportedRegexp names the first construct of Perl or Python regular
// expressions that RE2 lacks, and its byte index in pattern; "" if none.
// It is asked only after regexp.Compile failed, to explain the failure.
func unsupportedRegexp(pattern string) (string, int) {
	for i := 0; i < len(pattern); i++ {
		rest := pattern[i:]
		switch {
		case rest[0] == '\\' && len(rest) > 1:
			if c := rest[1]; '1' <= c && c <= '9' {
				return fmt.Sprintf("backreference \\%c", c), i
			}
			if rest[1] == 'k' && len(rest) > 2 && (rest[2] == '<' || rest[2] == '{' || rest[2] == '\'') {
				return "named backreference \\k", i
			}
			i++ // an escaped character, never the start of a construct
		case strings.HasPrefix(rest, "(?<=") || strings.HasPrefix(rest, "(?<!"):
			return "lookbehind " + rest[:4] + "...)", i
		case strings.HasPrefix(rest, "(?=") || strings.HasPrefix(rest, "(?!"):
			return "lookahead " + rest[:3] + "...)", i
		case strings.HasPrefix(rest, "(?>"):
			return "atomic group (?>...)", i
		case strings.HasPrefix(rest, "(?P="):
			return "named backreference (?P=...)", i
		case i > 0 && len(rest) > 1 && rest[1] == '+' && strings.ContainsRune("*+?}", rune(rest[0])) && pattern[i-1] != '\\':
			return "possessive quantifier " + rest[:2], i
		}
	}
	return "", 0
}

// patternOffset maps byte index at of a string literal's value to its
// offset in the query text, where the literal starts at pos (its opening
// quote) and each quote of the value is written twice.
func patternOffset(text string, pos, at int) int {
	off := pos + 1
	for i := 0; i < at && off < len(text); i++ {
		if text[off] == '\'' {
			off++ // the doubled quote stands for one byte of the value
		}
		off++
	}
	return min(off, len(text))
}

// floatLit prints f as the query language writes a float literal.
func floatLit(f float64) string {
	return (&query.Literal{Kind: query.LitFloat, Float: f}).String()
}

// rowColumnsText names what each row of Result.Rows shows.
func (p *Plan) rowColumnsText() string {
	if len(p.rowCols) > 0 {
		return "columns " + strings.Join(p.rowCols, ", ")
	}
	return "text and url"
}

// fileRates returns the rates by file to fill, with each file's
// population: the rows the sample drew from it (drawn), or all its rows.
func (p *Plan) fileRates(drawn []int) *FileRates {
	fr := &FileRates{Population: "every row of each file", Files: make([]FileRate, len(p.files))}
	if sp := p.q.Sample; sp != nil {
		fr.Population = "the rows of " + sp.String()
	}
	for i, f := range p.files {
		fr.Files[i] = FileRate{File: f.name, Rows: int(f.hi - f.lo)}
		fr.Files[i].Rate.Of = fr.Files[i].Rows
		if drawn != nil {
			fr.Files[i].Rate.Of = drawn[i]
		}
	}
	return fr
}

// fetchSelect evaluates where on the rows of in, read with the columns
// cols (through the store's ScanRows when it is a RowScanner, else
// fetched in chunks), and returns the rows where it holds, when sts is
// non-nil those statistics of them, and the number of rows evaluated.
func fetchSelect(ctx context.Context, s Store, in *vector.Bitset, cols []string, where pred, sts []statistic) (*vector.Bitset, stats, int, error) {
	if rs, ok := s.(RowScanner); ok {
		scan := func(fn func(*table.Batch) error) error { return rs.ScanRows(ctx, in, cols, fn) }
		sel, st, err := scanWith(ctx, s.NumRows(), scan, where, sts)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("query: fetching rows: %w", err)
		}
		return sel, st, in.Count(), nil
	}
	out := vector.NewBitset(s.NumRows())
	var st stats
	if sts != nil {
		st = newStats(sts)
	}
	ec := newEvalCtx()
	var rows []uint32
	n := 0
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := s.Fetch(ctx, rows, cols)
		if err != nil {
			return fmt.Errorf("query: fetching rows: %w", err)
		}
		ec.reset(b)
		t := ec.push()
		f := ec.push()
		where.eval(ec, t, f)
		forEachBit(t, func(i int) { out.Set(rows[i]) })
		if st != nil {
			st.add(ec, t)
		}
		n += len(rows)
		rows = rows[:0]
		return nil
	}
	var err error
	in.ForEach(func(r uint32) bool {
		rows = append(rows, r)
		if len(rows) == fetchChunk {
			err = flush()
		}
		return err == nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil && st != nil {
		st.discard()
	}
	return out, st, n, err
}
