package oracle

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Query is a generated query tree. Text renders it as laiondb query text
// (with random keyword case, spacing and number spellings fixed by Style);
// its JSON form is what the oracle evaluates. The two describe the same
// query: every surface choice the semantics depend on (number spellings,
// quoted or bare names) is in the tree.
type Query struct {
	Source Source  `json:"source"`
	Where  *Expr   `json:"where,omitempty"`
	Limit  *string `json:"limit,omitempty"`
	Post   *Expr   `json:"post,omitempty"`
	By     []Field `json:"by,omitempty"`
	// ByFile adds "file" to by: the rates by source file.
	ByFile bool `json:"by_file,omitempty"`
	// Lexicons is Options.Lexicons of the run.
	Lexicons map[string][]string `json:"lexicons,omitempty"`
	// Style seeds the rendering choices that do not change the meaning.
	Style uint64 `json:"-"`
}

// Source is all, scan, knn or within.
type Source struct {
	Kind      string  `json:"kind"`
	Parens    bool    `json:"-"` // all()
	Target    *Target `json:"target,omitempty"`
	K         string  `json:"k,omitempty"`
	Threshold string  `json:"threshold,omitempty"`
}

// Target is a knn or within target.
type Target struct {
	Kind   string   `json:"kind"` // row, id, vec, npy, text, image
	Word   string   `json:"-"`    // id or sample
	N      string   `json:"n,omitempty"`
	Values []string `json:"values,omitempty"`
	Path   string   `json:"path,omitempty"`
	Text   string   `json:"text,omitempty"`
}

// Field is a column name as written, or any.
type Field struct {
	Name   string `json:"name,omitempty"`
	Quoted bool   `json:"quoted,omitempty"`
	Any    bool   `json:"any,omitempty"`
}

// Expr is a where expression.
type Expr struct {
	// Op is and, or, not, paren (explicit parentheses), cmp, in, null,
	// contains, word, matches or lexicon.
	Op    string    `json:"op"`
	X     *Expr     `json:"x,omitempty"`
	Y     *Expr     `json:"y,omitempty"`
	Field *Field    `json:"field,omitempty"`
	Cmp   string    `json:"cmp,omitempty"`
	Spell string    `json:"-"` // the operator as written: == for =, <> for !=, ~ for contains
	Lit   *Literal  `json:"lit,omitempty"`
	Lits  []Literal `json:"lits,omitempty"`
	Not   bool      `json:"not,omitempty"`
	Pat   string    `json:"pat"`
	// Name is a lexicon name; Quoted says it is written "quoted".
	Name   string `json:"name,omitempty"`
	Quoted bool   `json:"quoted,omitempty"`
}

// Literal is a string, a number (as spelled) or a bool (as spelled).
type Literal struct {
	Kind string `json:"kind"` // str, num, bool
	S    string `json:"s"`
	Text string `json:"text,omitempty"`
}

// JSON returns the tree the oracle evaluates.
func (q *Query) JSON() json.RawMessage {
	b, err := json.Marshal(q)
	if err != nil {
		panic(err)
	}
	return b
}

// IsSearch reports whether the source is knn or within.
func (q *Query) IsSearch() bool { return q.Source.Kind == "knn" || q.Source.Kind == "within" }

// Aux is the query's search alone (source and where): its hits are the
// store's search list, which the oracle checks and then uses.
func (q *Query) Aux() *Query {
	a := *q
	a.Limit, a.Post, a.By, a.ByFile = nil, nil, nil, false
	return &a
}

// ---------------------------------------------------------------------------
// Rendering.

type renderer struct {
	r *rand.Rand
	b strings.Builder
}

// Text renders the query as laiondb query text.
func (q *Query) Text() string {
	rd := &renderer{r: rand.New(rand.NewPCG(q.Style, 7))}
	rd.source(&q.Source)
	if q.Where != nil {
		rd.sp()
		rd.kw("where")
		rd.sp()
		rd.expr(q.Where)
	}
	if q.Limit != nil {
		rd.sp()
		rd.kw("limit")
		rd.sp()
		rd.w(*q.Limit)
	}
	if q.Post != nil {
		rd.sp()
		rd.kw("post")
		rd.sp()
		rd.kw("where")
		rd.sp()
		rd.expr(q.Post)
	}
	if len(q.By) > 0 || q.ByFile {
		rd.sp()
		rd.kw("by")
		rd.sp()
		for i := range q.By {
			if i > 0 {
				rd.osp()
				rd.w(",")
				rd.osp()
			}
			rd.field(&q.By[i])
		}
		if q.ByFile {
			if len(q.By) > 0 {
				rd.osp()
				rd.w(",")
				rd.osp()
			}
			rd.kw("file")
		}
	}
	return rd.b.String()
}

func (rd *renderer) w(s string) { rd.b.WriteString(s) }

// kw writes a keyword in lower, upper or title case.
func (rd *renderer) kw(s string) {
	switch rd.r.IntN(8) {
	case 0:
		s = strings.ToUpper(s)
	case 1:
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	rd.w(s)
}

// sp writes the white space between words.
func (rd *renderer) sp() {
	switch rd.r.IntN(30) {
	case 0:
		rd.w("\n")
	case 1:
		rd.w("  ")
	case 2:
		rd.w("\t")
	default:
		rd.w(" ")
	}
}

// osp writes optional white space around punctuation.
func (rd *renderer) osp() {
	if rd.r.IntN(2) == 0 {
		rd.w(" ")
	}
}

func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
func quoteIdent(s string) string  { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func (rd *renderer) source(s *Source) {
	switch s.Kind {
	case "all", "scan":
		rd.kw(s.Kind)
		if s.Parens {
			rd.osp()
			rd.w("(")
			rd.osp()
			rd.w(")")
		}
	case "knn", "within":
		rd.kw(s.Kind)
		rd.osp()
		rd.w("(")
		rd.osp()
		rd.target(s.Target)
		rd.osp()
		rd.w(",")
		rd.osp()
		if s.Kind == "knn" {
			rd.w(s.K)
		} else {
			rd.w(s.Threshold)
		}
		rd.osp()
		rd.w(")")
	}
}

func (rd *renderer) call(name, arg string) {
	rd.kw(name)
	rd.osp()
	rd.w("(")
	rd.osp()
	rd.w(arg)
	rd.osp()
	rd.w(")")
}

func (rd *renderer) target(t *Target) {
	switch t.Kind {
	case "row":
		rd.call("row", t.N)
	case "id":
		rd.call(t.Word, t.N)
	case "vec":
		rd.w("[")
		for i, v := range t.Values {
			if i > 0 {
				rd.w(",")
				rd.osp()
			}
			rd.w(v)
		}
		rd.w("]")
	case "npy":
		rd.call("vector", quoteString(t.Path))
	case "image":
		rd.call("image", quoteString(t.Path))
	case "text":
		rd.w(quoteString(t.Text))
	}
}

func (rd *renderer) field(f *Field) {
	switch {
	case f.Any:
		rd.kw("any")
	case f.Quoted:
		rd.w(quoteIdent(f.Name))
	default:
		rd.w(f.Name)
	}
}

func prec(e *Expr) int {
	switch e.Op {
	case "or":
		return 1
	case "and":
		return 2
	case "not":
		return 3
	}
	return 4
}

// sub renders e, in parentheses when its precedence is below min.
func (rd *renderer) sub(e *Expr, min int) {
	if prec(e) < min {
		rd.w("(")
		rd.osp()
		rd.expr(e)
		rd.osp()
		rd.w(")")
		return
	}
	rd.expr(e)
}

func (rd *renderer) expr(e *Expr) {
	switch e.Op {
	case "and", "or":
		p := prec(e)
		rd.sub(e.X, p)
		rd.sp()
		rd.kw(e.Op)
		rd.sp()
		rd.sub(e.Y, p+1) // the tree's grouping exactly, though both are associative
	case "not":
		rd.kw("not")
		rd.sp()
		rd.sub(e.X, 3)
	case "paren":
		rd.w("(")
		rd.osp()
		rd.expr(e.X)
		rd.osp()
		rd.w(")")
	case "cmp":
		rd.field(e.Field)
		rd.osp()
		rd.w(e.Spell)
		rd.osp()
		rd.lit(e.Lit)
	case "in":
		rd.field(e.Field)
		rd.sp()
		if e.Not {
			rd.kw("not")
			rd.sp()
		}
		rd.kw("in")
		rd.osp()
		rd.w("(")
		for i := range e.Lits {
			if i > 0 {
				rd.osp()
				rd.w(",")
				rd.osp()
			}
			rd.lit(&e.Lits[i])
		}
		rd.w(")")
	case "null":
		rd.field(e.Field)
		rd.sp()
		rd.kw("is")
		rd.sp()
		if e.Not {
			rd.kw("not")
			rd.sp()
		}
		rd.kw("null")
	case "contains":
		rd.field(e.Field)
		if e.Spell == "~" {
			rd.osp()
			rd.w("~")
			rd.osp()
		} else {
			rd.sp()
			rd.kw("contains")
			rd.sp()
		}
		rd.w(quoteString(e.Pat))
	case "word":
		rd.field(e.Field)
		rd.sp()
		rd.kw("has")
		rd.sp()
		rd.kw("word")
		rd.sp()
		rd.w(quoteString(e.Pat))
	case "matches":
		rd.field(e.Field)
		rd.sp()
		rd.kw("matches")
		rd.sp()
		rd.w(quoteString(e.Pat))
	case "lexicon":
		rd.field(e.Field)
		rd.sp()
		rd.kw("lexicon")
		rd.sp()
		if e.Quoted {
			rd.w(quoteIdent(e.Name))
		} else {
			rd.w(e.Name)
		}
	default:
		panic("oracle: unknown op " + e.Op)
	}
}

func (rd *renderer) lit(l *Literal) {
	switch l.Kind {
	case "str":
		rd.w(quoteString(l.S))
	default:
		rd.w(l.Text)
	}
}

// ---------------------------------------------------------------------------
// Generation.

// LexiconSets are the Options.Lexicons a query may run with; the last has
// an empty keyword, which makes every query an error.
var LexiconSets = []map[string][]string{
	nil,
	{"mylex": {"desi", "İ", "ß", "straße", " sex", "k", "σ"}},
	{"mylex": {"desi", "İ", "ß", "straße", " sex", "k", "σ"}, "zeta": {"ος", "_", " ", "1.0", "ſ"}},
	{"MyLex": {"Desi", "HOT ", "ΟΔΟΣ"}},
	{"bad": {"x", ""}},
}

type colInfo struct {
	name    string // store name
	kind    string // str, int, f64, f32
	keyword bool
	strs    []string
	ints    []int64
	floats  []float64
}

// Gen generates queries over a dataset.
type Gen struct {
	ds   *Dataset
	cols []*colInfo
	lex  map[string][]string // lexicons of the query being generated
}

// NewGen returns a query generator for ds.
func NewGen(ds *Dataset) *Gen {
	g := &Gen{ds: ds}
	byName := map[string]*colInfo{}
	add := func(name, kind string) *colInfo {
		c := &colInfo{name: name, kind: kind, keyword: keywordColumns[name]}
		g.cols = append(g.cols, c)
		byName[name] = c
		return c
	}
	for _, c := range [][2]string{{"sample_id", "int"}, {"key", "str"}, {"url", "str"}, {"text", "str"},
		{"height", "int"}, {"width", "int"}, {"license", "str"}, {"nsfw", "str"}, {"similarity", "f64"},
		{"punsafe", "f32"}, {"pwatermark", "f32"}, {"limit", "f64"}, {"by", "str"}, {"and", "int"}} {
		add(c[0], c[1])
	}
	s := func(name string, p *string) {
		if p != nil {
			byName[name].strs = append(byName[name].strs, *p)
		}
	}
	i32 := func(name string, p *int32) {
		if p != nil {
			byName[name].ints = append(byName[name].ints, int64(*p))
		}
	}
	f := func(name string, p *float64) {
		if p != nil && !math.IsNaN(*p) && !math.IsInf(*p, 0) {
			byName[name].floats = append(byName[name].floats, *p)
		}
	}
	for _, r := range ds.Rows {
		if r.SampleID != nil {
			byName["sample_id"].ints = append(byName["sample_id"].ints, *r.SampleID)
		}
		s("key", r.Key)
		s("url", r.URL)
		s("text", r.Text)
		i32("height", r.Height)
		i32("width", r.Width)
		s("license", r.License)
		s("nsfw", r.NSFW)
		f("similarity", r.Similarity)
		for _, p := range []struct {
			n string
			v *float32
		}{{"punsafe", r.Punsafe}, {"pwatermark", r.Pwatermark}} {
			if p.v != nil {
				x := float64(*p.v)
				f(p.n, &x)
			}
		}
		f("limit", r.Limit)
		s("by", r.By)
		i32("and", r.And)
	}
	return g
}

// Query generates a query.
func (g *Gen) Query(r Rand) *Query {
	q := &Query{Style: uint64(r.IntN(1 << 30))}
	switch k := r.IntN(40); {
	case k < 20:
	case k < 28:
		q.Lexicons = LexiconSets[1]
	case k < 34:
		q.Lexicons = LexiconSets[2]
	case k < 38:
		q.Lexicons = LexiconSets[3]
	default:
		q.Lexicons = LexiconSets[4]
	}
	g.lex = q.Lexicons
	var tvec []float64
	switch k := r.IntN(20); {
	case k < 8:
		q.Source = Source{Kind: "all", Parens: r.IntN(4) == 1}
		if r.IntN(6) == 1 {
			q.Source.Kind = "scan"
		}
	case k < 15:
		q.Source.Kind = "knn"
		q.Source.Target, tvec = g.target(r)
		q.Source.K = g.k(r)
	default:
		q.Source.Kind = "within"
		q.Source.Target, tvec = g.target(r)
		q.Source.Threshold = g.threshold(r, tvec)
	}
	if r.IntN(5) != 0 {
		q.Where = g.expr(r, 3)
	}
	if r.IntN(4) == 1 {
		lim := []string{"0", "1", "3", "10", "+5", "07", "200", "-1"}[r.IntN(8)]
		if r.IntN(2) == 0 {
			lim = strconv.Itoa(r.IntN(40))
		}
		q.Limit = &lim
	}
	if r.IntN(5) == 1 {
		q.Post = g.expr(r, 2)
	}
	if r.IntN(4) == 1 {
		for i := 1 + r.IntN(2); i > 0; i-- {
			q.By = append(q.By, g.byField(r))
		}
	}
	q.ByFile = r.IntN(6) == 1
	return q
}

func (g *Gen) col(name string) *colInfo {
	for _, c := range g.cols {
		if c.name == name {
			return c
		}
	}
	panic(name)
}

func (g *Gen) byField(r Rand) Field {
	switch k := r.IntN(20); {
	case k < 6:
		return g.field(r, g.col("nsfw"))
	case k < 9:
		return g.field(r, g.col("license"))
	case k < 12:
		return g.field(r, g.col("by"))
	case k < 19:
		return g.field(r, g.cols[r.IntN(len(g.cols))])
	default:
		return Field{Name: "nope"}
	}
}

// field names column c: bare or quoted, in some case; keyword columns
// mostly quoted (bare, they are an error).
func (g *Gen) field(r Rand, c *colInfo) Field {
	if c.keyword {
		if r.IntN(5) == 1 {
			return Field{Name: caseOf(r, c.name)}
		}
		return Field{Name: caseOf(r, c.name), Quoted: true}
	}
	switch r.IntN(6) {
	case 1:
		return Field{Name: strings.ToUpper(c.name)}
	case 2:
		return Field{Name: c.name, Quoted: true}
	case 3:
		return Field{Name: caseOf(r, c.name), Quoted: true}
	}
	return Field{Name: c.name}
}

func caseOf(r Rand, s string) string {
	switch r.IntN(3) {
	case 1:
		return strings.ToUpper(s)
	case 2:
		return strings.ToUpper(s[:1]) + s[1:]
	}
	return s
}

// target returns a target and, when known, its vector (for thresholds).
func (g *Gen) target(r Rand) (*Target, []float64) {
	ds := g.ds
	n := len(ds.Rows)
	vec := func(i int) []float64 {
		out := make([]float64, ds.Dim)
		for j, x := range ds.Vecs[i] {
			out[j] = float64(x)
		}
		return out
	}
	switch k := r.IntN(40); {
	case k < 16:
		i := r.IntN(n)
		if len(ds.Dups) > 0 && r.IntN(2) == 0 {
			i = ds.Dups[r.IntN(len(ds.Dups))]
		}
		if r.IntN(40) == 1 {
			return &Target{Kind: "row", N: strconv.Itoa(n + r.IntN(3))}, nil
		}
		return &Target{Kind: "row", N: spellIndex(r, i)}, vec(i)
	case k < 24:
		var rows []int
		for i, row := range ds.Rows {
			if row.SampleID != nil {
				rows = append(rows, i)
			}
		}
		word := []string{"id", "sample", "ID", "Sample"}[r.IntN(4)]
		if len(rows) == 0 || r.IntN(20) == 1 {
			return &Target{Kind: "id", Word: word, N: "-424242"}, nil
		}
		i := rows[r.IntN(len(rows))]
		return &Target{Kind: "id", Word: word, N: spellIntOnly(r, *ds.Rows[i].SampleID)}, vec(i)
	case k < 32:
		var v []float64
		if r.IntN(2) == 0 {
			v = vec(r.IntN(n))
		} else {
			v = randVec(r, ds.Dim)
			for j := range v {
				v[j] = math.Round(v[j]*64) / 64 // exact in float32
			}
		}
		t := &Target{Kind: "vec"}
		switch r.IntN(25) {
		case 1:
			v = make([]float64, ds.Dim) // all zeros: an error
		case 2:
			v = v[:ds.Dim-1] // wrong dimension: an error
		}
		for _, x := range v {
			t.Values = append(t.Values, spellFloat(r, x))
		}
		return t, v
	case k < 37:
		if r.IntN(5) == 1 {
			return &Target{Kind: "npy", Path: ds.BadNpy[r.IntN(len(ds.BadNpy))]}, nil
		}
		return &Target{Kind: "npy", Path: ds.Npy[r.IntN(len(ds.Npy))]}, nil
	case k < 39:
		return &Target{Kind: "text", Text: "beautiful"}, nil
	default:
		return &Target{Kind: "image", Path: "cat.jpg"}, nil
	}
}

func (g *Gen) k(r Rand) string {
	switch r.IntN(12) {
	case 1:
		return "0" // an error
	case 2:
		return strconv.Itoa(len(g.ds.Rows) + 10)
	case 3:
		return "+" + strconv.Itoa(1+r.IntN(20))
	}
	return strconv.Itoa(1 + r.IntN(25))
}

func (g *Gen) threshold(r Rand, tvec []float64) string {
	if len(tvec) == g.ds.Dim && r.IntN(3) == 1 {
		// Near a row's cosine, rounded: boundary rows.
		v := g.ds.Vecs[r.IntN(len(g.ds.Vecs))]
		var dot, na, nb float64
		for i, x := range v {
			dot += float64(x) * tvec[i]
			na += float64(x) * float64(x)
			nb += tvec[i] * tvec[i]
		}
		if na > 0 && nb > 0 {
			return strconv.FormatFloat(dot/math.Sqrt(na*nb), 'f', 4, 64)
		}
	}
	return []string{"0.9", "0.95", ".99", "0.999", "1", "1.0", "0.5", "0", "-1", "+0.8", "9e-1", "0.97", "0.98", "0.7",
		"1.5", "-1.01"}[r.IntN(16)]
}

// spellIndex spells a row position, mostly plainly.
func spellIndex(r Rand, i int) string {
	switch r.IntN(8) {
	case 1:
		return "+" + strconv.Itoa(i)
	case 2:
		return "0" + strconv.Itoa(i)
	}
	return strconv.Itoa(i)
}

func spellIntOnly(r Rand, v int64) string {
	if v >= 0 && r.IntN(4) == 1 {
		return "+" + strconv.FormatInt(v, 10)
	}
	return strconv.FormatInt(v, 10)
}

// spellInt spells an integer as an integer or as a float.
func spellInt(r Rand, v int64) string {
	s := strconv.FormatInt(v, 10)
	switch r.IntN(8) {
	case 1:
		if v >= 0 {
			return "+" + s
		}
	case 2:
		return s + ".0"
	case 3:
		return s + "."
	case 4:
		return s + "e0"
	case 5:
		if v > 0 {
			return "0" + s
		}
	}
	return s
}

// spellFloat spells a float in one of the forms the language accepts.
func spellFloat(r Rand, v float64) string {
	s := strconv.FormatFloat(v, 'g', -1, 64)
	integral := v == math.Trunc(v) && math.Abs(v) < 1e15
	switch r.IntN(8) {
	case 1:
		if !strings.HasPrefix(s, "-") {
			return "+" + s
		}
	case 2:
		if strings.HasPrefix(s, "0.") {
			return s[1:]
		}
		if strings.HasPrefix(s, "-0.") {
			return "-" + s[2:]
		}
	case 3:
		return strconv.FormatFloat(v, 'e', -1, 64)
	case 4:
		if integral {
			return strconv.FormatFloat(v, 'f', -1, 64) + "."
		}
	case 5:
		if strings.Contains(s, ".") && !strings.ContainsAny(s, "eE") {
			return s + "0"
		}
	case 6:
		if integral {
			return strconv.FormatFloat(v, 'f', 1, 64)
		}
	}
	return s
}

func (g *Gen) expr(r Rand, depth int) *Expr {
	if depth == 0 || r.IntN(3) == 0 {
		return g.pred(r)
	}
	switch k := r.IntN(20); {
	case k < 7:
		return &Expr{Op: "and", X: g.expr(r, depth-1), Y: g.expr(r, depth-1)}
	case k < 13:
		return &Expr{Op: "or", X: g.expr(r, depth-1), Y: g.expr(r, depth-1)}
	case k < 17:
		return &Expr{Op: "not", X: g.expr(r, depth-1)}
	default:
		return &Expr{Op: "paren", X: g.expr(r, depth-1)}
	}
}

// textCol picks a column for a text predicate: mostly text and url.
func (g *Gen) textField(r Rand) (Field, *colInfo) {
	switch k := r.IntN(20); {
	case k < 6:
		return Field{Any: true}, nil
	case k < 11:
		c := g.col("text")
		return g.field(r, c), c
	case k < 14:
		c := g.col("url")
		return g.field(r, c), c
	}
	c := g.cols[r.IntN(len(g.cols))]
	return g.field(r, c), c
}

// predCol picks the column of a predicate, numeric columns with edge
// values more often.
func (g *Gen) predCol(r Rand) *colInfo {
	if k := r.IntN(3); k > 0 {
		return g.col([]string{"similarity", "sample_id", "width", "limit", "punsafe", "similarity"}[r.IntN(6)])
	}
	return g.cols[r.IntN(len(g.cols))]
}

func (g *Gen) pred(r Rand) *Expr {
	c := g.predCol(r)
	switch k := r.IntN(100); {
	case k < 26:
		f := g.field(r, c)
		ops := []string{"=", "==", "!=", "<>", "<", "<=", ">", ">="}
		spell := ops[r.IntN(len(ops))]
		op := map[string]string{"==": "=", "<>": "!="}[spell]
		if op == "" {
			op = spell
		}
		l := g.lit(r, c)
		return &Expr{Op: "cmp", Field: &f, Cmp: op, Spell: spell, Lit: &l}
	case k < 40:
		f := g.field(r, c)
		e := &Expr{Op: "in", Field: &f, Not: r.IntN(5) < 2}
		for i := 1 + r.IntN(4); i > 0; i-- {
			e.Lits = append(e.Lits, g.lit(r, c))
		}
		return e
	case k < 48:
		f := g.field(r, c)
		return &Expr{Op: "null", Field: &f, Not: r.IntN(2) == 1}
	case k < 64:
		f, tc := g.textField(r)
		e := &Expr{Op: "contains", Field: &f, Pat: g.pattern(r, tc), Spell: "contains"}
		if r.IntN(3) == 1 {
			e.Spell = "~"
		}
		return e
	case k < 72:
		f, tc := g.textField(r)
		p := g.pattern(r, tc)
		if r.IntN(15) == 1 {
			p = "" // an error
		}
		return &Expr{Op: "word", Field: &f, Pat: p}
	case k < 82:
		f, _ := g.textField(r)
		return &Expr{Op: "matches", Field: &f, Pat: GenRegex(r)}
	case k < 92:
		f, _ := g.textField(r)
		name, quoted := g.lexName(r)
		return &Expr{Op: "lexicon", Field: &f, Name: name, Quoted: quoted}
	case k < 95:
		// A literal of the wrong type: an error.
		f := g.field(r, c)
		var l Literal
		switch {
		case c.kind == "str":
			l = Literal{Kind: "num", Text: "1"}
		case r.IntN(2) == 0:
			l = Literal{Kind: "str", S: "1"}
		default:
			l = Literal{Kind: "bool", Text: []string{"true", "FALSE"}[r.IntN(2)]}
		}
		return &Expr{Op: "cmp", Field: &f, Cmp: "=", Spell: "=", Lit: &l}
	case k < 97:
		// any is not a column.
		l := Literal{Kind: "str", S: "x"}
		return &Expr{Op: "cmp", Field: &Field{Any: true}, Cmp: "=", Spell: "=", Lit: &l}
	default:
		f := Field{Name: []string{"nope", "Text2", "caption_"}[r.IntN(3)]}
		return &Expr{Op: "null", Field: &f}
	}
}

func (g *Gen) lexName(r Rand) (string, bool) {
	var names []string
	for n := range g.lex {
		names = append(names, n)
	}
	// Map order is random: sort for determinism.
	sortStrings(names)
	switch k := r.IntN(10); {
	case k < 4 || len(names) == 0:
		return []string{"essay2021", "ESSAY2021", "Essay2021"}[r.IntN(3)], r.IntN(4) == 1
	case k < 9:
		n := names[r.IntN(len(names))]
		return caseOf(r, strings.ToLower(n)), r.IntN(4) == 1
	default:
		return "nolex", false
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

var strEdges = []string{"", "UNLIKELY", "unlikely", "UNSURE", "NSFW", "a", "A", "ß", "İ", "zzz", "?", "640", "None", "b"}

// lit returns a literal for column c: mostly one of its values, spelled
// in some way, or a value near one.
func (g *Gen) lit(r Rand, c *colInfo) Literal {
	switch c.kind {
	case "str":
		if len(c.strs) > 0 && r.IntN(3) != 0 {
			return Literal{Kind: "str", S: c.strs[r.IntN(len(c.strs))]}
		}
		return Literal{Kind: "str", S: strEdges[r.IntN(len(strEdges))]}
	case "int":
		var v int64
		if len(c.ints) > 0 && r.IntN(2) == 0 {
			v = c.ints[r.IntN(len(c.ints))]
		} else {
			v = pick(r, []int64{0, 1, -1, 512, 640, 1 << 53, 1<<53 + 1, math.MaxInt64, math.MinInt64, 6016, math.MaxInt32})
		}
		switch r.IntN(8) {
		case 1:
			return Literal{Kind: "num", Text: spellFloat(r, float64(v)+0.5)}
		case 2:
			return Literal{Kind: "num", Text: spellFloat(r, float64(v))}
		}
		return Literal{Kind: "num", Text: spellInt(r, v)}
	default:
		var v float64
		if len(c.floats) > 0 && r.IntN(5) < 2 {
			v = c.floats[r.IntN(len(c.floats))]
		} else {
			v = pick(r, []float64{0, 1, 0.3, 0.1, 6016, -1, 1e308, 5e-324, 0.5, -0.5, 1e-3, -1.5, 0.30000000000000004, -2,
				float64(float32(0.1)), float64(float32(0.3))})
		}
		if c.kind == "f32" && r.IntN(3) == 0 {
			// The float32's own short spelling (0.1 for 0.100000001...).
			return Literal{Kind: "num", Text: strconv.FormatFloat(float64(float32(v)), 'g', -1, 32)}
		}
		if v == math.Trunc(v) && math.Abs(v) < 1e15 && r.IntN(2) == 0 {
			return Literal{Kind: "num", Text: spellInt(r, int64(v))}
		}
		return Literal{Kind: "num", Text: spellFloat(r, v)}
	}
}

var patterns = []string{"desi", "DESI", "hot ", " rape ", "rape", "sex", "SEX", "ß", "ss", "SS", "İ", "i̇", "i", "ı",
	"σ", "ς", "οδος", "ΟΔΟΣ", "k", "K", "\u212a", "ẞ", "strasse", "straße", "", "0.3", "e+", "inf", "nan",
	"6016", "1.0", ".", "-", "true", "none", "_desi", "desi2", "2", "'", "it's", "😀", "%20", "/desi/", "hot",
	"stanbul", "2desi", "desi_", "porn", "xxx", "adult", "fuck", "unisex", "screenshot", "e", "0.1", "1e-45", " ",
	"ſ", "s", "café", "CAFÉ", "ä", "Ä", "å", "Å", "149011612", "0000000", "1e-45", "e-4"}

// pattern returns a contains / has word pattern: a piece of a value of c
// (or of text), in some case, or one of the edge patterns.
func (g *Gen) pattern(r Rand, c *colInfo) string {
	if c == nil || c.kind != "str" || len(c.strs) == 0 {
		c = g.col("text")
	}
	if r.IntN(2) == 0 {
		return patterns[r.IntN(len(patterns))]
	}
	v := []rune(c.strs[r.IntN(len(c.strs))])
	if len(v) == 0 {
		return ""
	}
	i := r.IntN(len(v))
	j := i + 1 + r.IntN(min(6, len(v)-i))
	s := string(v[i:j])
	switch r.IntN(4) {
	case 1:
		s = strings.ToUpper(s)
	case 2:
		s = strings.ToLower(s)
	}
	return s
}

// GenRegex returns an RE2 pattern from the subset oracle.py emulates, or
// now and then one that RE2 rejects (and Python's re may accept).
func GenRegex(r Rand) string {
	if r.IntN(30) == 1 {
		return []string{"(", "[a", "a**", "(?=x)", `\1`, "x{1001}", "*a", "a{2,1}", "(?<!a)b", "(?P=n)"}[r.IntN(10)]
	}
	s := ""
	if r.IntN(3) == 1 {
		s += "(?i)"
	}
	if r.IntN(5) == 1 {
		s += "^"
	}
	s += genAlt(r, 2)
	if r.IntN(5) == 1 {
		s += "$"
	}
	return s
}

func genAlt(r Rand, depth int) string {
	s := genSeq(r, depth)
	if r.IntN(5) == 1 {
		s += "|" + genSeq(r, depth)
	}
	return s
}

var regexChars = []rune("desixhotpnrgaku_ 0123.-/DESIHOTßσςΣéİıKẞ" + "\u212a\u017fÄä")

func genSeq(r Rand, depth int) string {
	s := ""
	for n := 1 + r.IntN(3); n > 0; n-- {
		atom, rep := genAtom(r, depth)
		if rep && r.IntN(4) == 1 {
			atom += []string{"*", "+", "?", "{1,2}", "{2}", "*?", "+?", "{0,1}"}[r.IntN(8)]
		}
		s += atom
	}
	return s
}

func genAtom(r Rand, depth int) (string, bool) {
	switch k := r.IntN(20); {
	case k < 9:
		s := ""
		for n := 1 + r.IntN(4); n > 0; n-- {
			c := regexChars[r.IntN(len(regexChars))]
			if strings.ContainsRune(`\.+*?()|[]{}^$`, c) {
				s += `\`
			}
			s += string(c)
		}
		return s, true
	case k < 13:
		return []string{"[a-z]", "[0-9]", "[^a-z]", "[A-Z0-9_]", "[ßs]", "[ .]", "[^ ]", `[\d_]`, "[σς]", "[^0-9a-z]",
			"[İı]", "[k-m]", "[r-t]", `[\w]`, `[\s-]`}[r.IntN(15)], true
	case k < 14:
		return `\b`, false
	case k < 17:
		return []string{`\d`, `\w`, `\s`, `\D`, `\W`, `\S`, "."}[r.IntN(7)], true
	default:
		if depth == 0 {
			return "x", true
		}
		inner := genAlt(r, depth-1)
		g := "(" + inner + ")"
		if r.IntN(2) == 0 {
			g = "(?:" + g[1:]
		}
		// No repeat of a group with a repeat or an alternation: Python's
		// backtracking takes exponential time on those, RE2 linear.
		return g, !strings.ContainsAny(inner, "*+?{|")
	}
}

// Shrinks returns simpler variants of q, for minimising a failing query.
func (q *Query) Shrinks() []*Query {
	var out []*Query
	with := func(f func(c *Query)) {
		c := *q
		c.By = append([]Field(nil), q.By...)
		f(&c)
		out = append(out, &c)
	}
	if q.IsSearch() {
		with(func(c *Query) { c.Source = Source{Kind: "all"} })
	}
	if q.Source.Parens || q.Source.Kind == "scan" {
		with(func(c *Query) { c.Source = Source{Kind: "all"} })
	}
	if q.Lexicons != nil {
		with(func(c *Query) { c.Lexicons = nil })
	}
	if q.Where != nil {
		with(func(c *Query) { c.Where = nil })
	}
	if q.Limit != nil {
		with(func(c *Query) { c.Limit = nil })
	}
	if q.Post != nil {
		with(func(c *Query) { c.Post = nil })
		with(func(c *Query) { c.Where, c.Post = c.Post, nil })
	}
	for i := range q.By {
		with(func(c *Query) { c.By = append(c.By[:i:i], c.By[i+1:]...) })
	}
	if q.ByFile {
		with(func(c *Query) { c.ByFile = false })
	}
	if q.Style != 0 {
		with(func(c *Query) { c.Style = 0 })
	}
	for _, e := range shrinkExpr(q.Where) {
		with(func(c *Query) { c.Where = e })
	}
	for _, e := range shrinkExpr(q.Post) {
		with(func(c *Query) { c.Post = e })
	}
	return out
}

func shrinkExpr(e *Expr) []*Expr {
	if e == nil {
		return nil
	}
	var out []*Expr
	switch e.Op {
	case "and", "or":
		out = append(out, e.X, e.Y)
		for _, x := range shrinkExpr(e.X) {
			c := *e
			c.X = x
			out = append(out, &c)
		}
		for _, y := range shrinkExpr(e.Y) {
			c := *e
			c.Y = y
			out = append(out, &c)
		}
	case "not", "paren":
		out = append(out, e.X)
		for _, x := range shrinkExpr(e.X) {
			c := *e
			c.X = x
			out = append(out, &c)
		}
	case "in":
		for i := range e.Lits {
			if len(e.Lits) > 1 {
				c := *e
				c.Lits = append(append([]Literal(nil), e.Lits[:i]...), e.Lits[i+1:]...)
				out = append(out, &c)
			}
		}
	}
	return out
}

// String renders the query for messages.
func (q *Query) String() string {
	s := q.Text()
	if q.Lexicons != nil {
		s += fmt.Sprintf("   [Options.Lexicons %v]", q.Lexicons)
	}
	return s
}

// Signature describes the shape of a query for grouping disagreements: the
// source and target kinds, each predicate with its column and the kinds
// of its literals, limit, post where and by.
func (q *Query) Signature() string {
	parts := []string{q.Source.Kind}
	if q.Source.Target != nil {
		parts[0] += "(" + q.Source.Target.Kind + ")"
	}
	var leaves []string
	var walk func(e *Expr)
	walk = func(e *Expr) {
		if e == nil {
			return
		}
		switch e.Op {
		case "and", "or", "not", "paren":
			if e.Op != "paren" {
				leaves = append(leaves, e.Op)
			}
			walk(e.X)
			walk(e.Y)
			return
		}
		s := e.Op
		if e.Op == "null" && e.Not {
			s = "notnull"
		}
		if e.Op == "in" && e.Not {
			s = "notin"
		}
		s += "(" + fieldSig(e.Field)
		lits := e.Lits
		if e.Lit != nil {
			lits = append(lits, *e.Lit)
		}
		for _, l := range lits {
			switch {
			case l.Kind != "num":
				s += "," + l.Kind
			case strings.ContainsAny(l.Text, ".eE"):
				s += ",float"
			default:
				s += ",int"
			}
		}
		if e.Op == "word" && e.Pat == "" {
			s += ",''"
		}
		leaves = append(leaves, s+")")
	}
	walk(q.Where)
	if len(leaves) > 0 {
		parts = append(parts, "where "+strings.Join(leaves, " "))
	}
	if q.Limit != nil {
		parts = append(parts, "limit")
	}
	leaves = nil
	walk(q.Post)
	if len(leaves) > 0 {
		parts = append(parts, "post "+strings.Join(leaves, " "))
	}
	for _, f := range q.By {
		parts = append(parts, "by "+fieldSig(&f))
	}
	if q.Lexicons != nil {
		var names []string
		for n := range q.Lexicons {
			names = append(names, n)
		}
		sortStrings(names)
		parts = append(parts, "lexicons "+strings.Join(names, ","))
	}
	return strings.Join(parts, " | ")
}

func fieldSig(f *Field) string {
	switch {
	case f == nil:
		return ""
	case f.Any:
		return "any"
	case f.Quoted || !keywordColumns[strings.ToLower(f.Name)]:
		return strings.ToLower(f.Name)
	}
	return strings.ToLower(f.Name) + " bare"
}

// keywordColumns are the generated columns whose names are keywords.
var keywordColumns = map[string]bool{"limit": true, "by": true, "and": true}
