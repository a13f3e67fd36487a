package query

import (
	"math"
	"strconv"
	"strings"
)

// Node is an element of a parsed query. Pos is the byte offset in the query
// where the node starts; String is its canonical form, which parses back to
// an equal node.
type Node interface {
	Pos() int
	String() string
}

// Query is a parsed query:
//
//	source [where expr] [limit n] [post where expr] [by column, ...] [sweep column [at (t, ...)]]
type Query struct {
	// Text is the query as given to Parse.
	Text   string
	Source Source
	// Where is the predicate applied before the search (nil if absent):
	// knn(T, K) where P is the K nearest rows among those satisfying P.
	Where Expr
	// Limit caps the number of selected rows; -1 when absent.
	Limit    int64
	LimitPos int
	// Post is the predicate of "post where", applied after the source and
	// limit: knn(T, K) post where P is the global top K, then filtered.
	Post Expr
	// By lists extra label-like columns whose value counts are reported.
	By []*Field
	// Sweep, when set, asks for the threshold sweep of a numeric column.
	Sweep *Sweep
	// Sample, when set, draws the rows of all from a seeded uniform
	// sample (of the store, or of each source file) before where.
	Sample *Sample
}

// Sample is "sample N [per file] [seed S]" after all: a uniform random
// sample of N rows without replacement, of the whole store or of each
// source file (every row of a file with fewer rows), drawn from seed S (0
// when absent) so that the same query on the same store draws the same
// rows. Package engine documents the draw.
type Sample struct {
	Offset  int
	N       int64
	PerFile bool
	Seed    int64
}

// Pos implements Node.
func (s *Sample) Pos() int { return s.Offset }

// String implements Node: the seed is always written out.
func (s *Sample) String() string {
	out := "sample " + strconv.FormatInt(s.N, 10)
	if s.PerFile {
		out += " per file"
	}
	return out + " seed " + strconv.FormatInt(s.Seed, 10)
}

// Sweep is "sweep column [at (t1, t2, ...)]": for each threshold, how many
// selected rows a cut at column >= t keeps and drops, by NSFW label and by
// lexicon hit.
type Sweep struct {
	Offset int
	Field  *Field
	// At are the thresholds as written; DefaultSweep when the query gives
	// none.
	At []float64
}

// DefaultSweep are the thresholds of a sweep without "at": 0.26, 0.28,
// 0.30 and 0.32, around the cuts the LAION sets used (LAION-400M 0.3,
// LAION-5B's English part 0.28; DataComp used 0.25).
var DefaultSweep = []float64{0.26, 0.28, 0.30, 0.32}

// Pos implements Node.
func (s *Sweep) Pos() int { return s.Offset }

// String implements Node: the thresholds are always written out.
func (s *Sweep) String() string {
	var b strings.Builder
	b.WriteString("sweep ")
	b.WriteString(s.Field.String())
	b.WriteString(" at (")
	for i, t := range s.At {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(formatFloat(t))
	}
	b.WriteByte(')')
	return b.String()
}

// Pos returns the offset of the source.
func (q *Query) Pos() int { return q.Source.Pos() }

// String returns the canonical form of the query.
func (q *Query) String() string {
	var b strings.Builder
	b.WriteString(q.Source.String())
	if q.Sample != nil {
		b.WriteByte(' ')
		b.WriteString(q.Sample.String())
	}
	if q.Where != nil {
		b.WriteString(" where ")
		b.WriteString(q.Where.String())
	}
	if q.Limit >= 0 {
		b.WriteString(" limit ")
		b.WriteString(strconv.FormatInt(q.Limit, 10))
	}
	if q.Post != nil {
		b.WriteString(" post where ")
		b.WriteString(q.Post.String())
	}
	for i, f := range q.By {
		if i == 0 {
			b.WriteString(" by ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(f.String())
	}
	if q.Sweep != nil {
		b.WriteByte(' ')
		b.WriteString(q.Sweep.String())
	}
	return b.String()
}

// Source is where a query's rows come from: *AllSource, *KNNSource or
// *WithinSource.
type Source interface {
	Node
	source()
}

// AllSource is every row of the store: all (or scan).
type AllSource struct {
	Offset int
}

// KNNSource is knn(target, k) [in space]: the K rows whose embeddings in
// Space are nearest to the target.
type KNNSource struct {
	Offset int
	Target *TargetNode
	K      int64
	Space  Space
	// Dedup, when above 0, drops each row whose cosine with a row kept
	// before it is at least Dedup, before the K are taken ("dedup t").
	Dedup float64
}

// WithinSource is within(target, threshold) [in space]: every row whose
// embedding in Space has a cosine similarity to the target of at least
// Threshold.
type WithinSource struct {
	Offset    int
	Target    *TargetNode
	Threshold float64
	Space     Space
	// Dedup is as for KNNSource.
	Dedup float64
}

// DefaultDedup is the threshold of "dedup" without a number: the cosine
// at which clip-retrieval's back end hides duplicates.
const DefaultDedup = 0.94

// dedupSuffix is " dedup t" as the canonical form writes it, or nothing.
func dedupSuffix(t float64) string {
	if t <= 0 {
		return ""
	}
	return " dedup " + formatFloat(t)
}

// Space names the embeddings a search compares the target with: the rows'
// image embeddings (the default) or their text (caption) embeddings.
type Space uint8

// Embedding spaces.
const (
	SpaceImage Space = iota // image embeddings: knn(T, K), knn(T, K) in image
	SpaceText               // text embeddings: knn(T, K) in text
)

// String returns "image" or "text".
func (s Space) String() string {
	if s == SpaceText {
		return "text"
	}
	return "image"
}

// suffix is the space as the canonical form writes it after a search:
// nothing for the default.
func (s Space) suffix() string {
	if s == SpaceText {
		return " in text"
	}
	return ""
}

func (*AllSource) source()    {}
func (*KNNSource) source()    {}
func (*WithinSource) source() {}

// Pos implements Node.
func (s *AllSource) Pos() int { return s.Offset }

// Pos implements Node.
func (s *KNNSource) Pos() int { return s.Offset }

// Pos implements Node.
func (s *WithinSource) Pos() int { return s.Offset }

// String implements Node.
func (s *AllSource) String() string { return "all" }

// String implements Node.
func (s *KNNSource) String() string {
	return "knn(" + s.Target.String() + ", " + strconv.FormatInt(s.K, 10) + ")" + s.Space.suffix() + dedupSuffix(s.Dedup)
}

// String implements Node.
func (s *WithinSource) String() string {
	return "within(" + s.Target.String() + ", " + formatFloat(s.Threshold) + ")" + s.Space.suffix() + dedupSuffix(s.Dedup)
}

// TargetNode is the first argument of knn or within.
type TargetNode struct {
	Offset int
	Target Target
}

// Pos implements Node.
func (t *TargetNode) Pos() int { return t.Offset }

// String implements Node.
func (t *TargetNode) String() string {
	tg := &t.Target
	switch tg.Kind {
	case TargetText:
		return quoteString(tg.Text)
	case TargetImage:
		return "image(" + quoteString(tg.Path) + ")"
	case TargetRow:
		return "row(" + strconv.FormatUint(uint64(tg.Row), 10) + ")" + tg.Space.member()
	case TargetSampleID:
		return "id(" + strconv.FormatInt(tg.SampleID, 10) + ")" + tg.Space.member()
	case TargetNpy:
		return "vector(" + quoteString(tg.Path) + ")"
	case TargetRows:
		return "rows(file(" + quoteString(tg.Path) + "))" + tg.Space.member()
	case TargetIDs:
		return "ids(file(" + quoteString(tg.Path) + "))" + tg.Space.member()
	case TargetVector:
		var b strings.Builder
		b.WriteByte('[')
		for i, v := range tg.Vec {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.FormatFloat(float64(v), 'g', -1, 32))
		}
		b.WriteByte(']')
		return b.String()
	}
	return "?"
}

// TargetKind says what a knn or within target names.
type TargetKind uint8

// Target kinds.
const (
	TargetText     TargetKind = iota + 1 // a text, through the CLIP text encoder
	TargetImage                          // an image file, through the CLIP image encoder
	TargetRow                            // a stored row's own embedding, by store position
	TargetSampleID                       // a stored row's own embedding, by SAMPLE_ID
	TargetVector                         // an inline vector
	TargetNpy                            // a vector read from an .npy file (first row)
	TargetRows                           // seeds: the stored rows at the positions listed in a file
	TargetIDs                            // seeds: the stored rows with the SAMPLE_IDs listed in a file
)

// Target describes the first argument of knn or within as written: a
// text, an image or .npy file path, a row position, a SAMPLE_ID or an inline
// vector. The language does not resolve it: the engine asks its store for
// the vector it stands for.
type Target struct {
	Kind     TargetKind
	Text     string    // TargetText
	Path     string    // TargetImage, TargetNpy, TargetRows, TargetIDs
	Row      uint32    // TargetRow
	SampleID int64     // TargetSampleID
	Vec      []float32 // TargetVector
	// Space says which of the rows' embeddings a stored-row target
	// (TargetRow, TargetSampleID, TargetRows, TargetIDs) names: the image
	// embedding (row(N), the default) or the text embedding (row(N).text).
	Space Space
}

// IsImage reports whether targets of this kind can be image embeddings:
// image files and stored rows.
func (k TargetKind) IsImage() bool {
	return k == TargetImage || k.Stored()
}

// Stored reports whether targets of this kind name stored rows: row(N),
// id(N), and the seed sets rows(file(...)) and ids(file(...)).
func (k TargetKind) Stored() bool {
	return k == TargetRow || k == TargetSampleID || k.Seeds()
}

// Seeds reports whether targets of this kind are seed sets, a file of
// stored rows whose neighbours a search merges.
func (k TargetKind) Seeds() bool {
	return k == TargetRows || k == TargetIDs
}

// ImageEmbedding reports whether the target's vector is an image embedding:
// an image file, or a stored row's image embedding.
func (t *Target) ImageEmbedding() bool {
	return t.Kind.IsImage() && t.Space == SpaceImage
}

// member is the space as written after a row or id target: nothing for the
// image embedding.
func (s Space) member() string {
	if s == SpaceText {
		return ".text"
	}
	return ""
}

// Expr is a predicate: *BinaryExpr, *NotExpr, *CompareExpr, *InExpr,
// *MatchExpr, *LexiconExpr or *NullExpr.
type Expr interface {
	Node
	expr()
}

// BinaryExpr is X and Y, or X or Y.
type BinaryExpr struct {
	Offset int
	Op     string // "and" or "or"
	X, Y   Expr
}

// NotExpr is not X.
type NotExpr struct {
	Offset int
	X      Expr
}

// CompareExpr is Field Op Value, Op one of = != < <= > >=.
type CompareExpr struct {
	Field *Field
	Op    string
	Value *Literal
}

// InExpr is Field in (v, ...) or Field not in (v, ...).
type InExpr struct {
	Field  *Field
	Not    bool
	Values []*Literal
	// File, when set, is the list in place of Values: in file('path').
	File *ListFile
}

// ListFile is file('path') or file('path', 'url') after in: the values of a
// file, one a line. Mode "url" compares URLs after lower-casing their
// scheme and host and dropping one trailing slash, on both sides; "" (the
// default) compares the exact bytes.
type ListFile struct {
	Offset int
	Path   string
	Mode   string
}

// String implements Node.
func (l *ListFile) String() string {
	if l.Mode != "" {
		return "file(" + quoteString(l.Path) + ", " + quoteString(l.Mode) + ")"
	}
	return "file(" + quoteString(l.Path) + ")"
}

// MatchKind is the kind of a text match.
type MatchKind uint8

// Text match kinds.
const (
	// MatchContains is case-insensitive substring: Python's
	// pattern.lower() in str(value).lower().
	MatchContains MatchKind = iota + 1
	// MatchWord is a case-insensitive whole-word match.
	MatchWord
	// MatchRegexp is an RE2 regular expression, case-sensitive unless the
	// pattern says (?i).
	MatchRegexp
)

// MatchExpr is Field contains 'p', Field has word 'p' or Field matches 'p'.
type MatchExpr struct {
	Field   *Field
	Kind    MatchKind
	Pattern string
	PatPos  int
}

// LexiconExpr is Field lexicon name: true when the value contains any of
// the lexicon's keywords, as MatchContains.
type LexiconExpr struct {
	Field   *Field
	Name    string
	NamePos int
}

// NullExpr is Field is null, or Field is not null.
type NullExpr struct {
	Field *Field
	Not   bool
}

func (*BinaryExpr) expr()  {}
func (*NotExpr) expr()     {}
func (*CompareExpr) expr() {}
func (*InExpr) expr()      {}
func (*MatchExpr) expr()   {}
func (*LexiconExpr) expr() {}
func (*NullExpr) expr()    {}

// Pos implements Node.
func (e *BinaryExpr) Pos() int { return e.Offset }

// Pos implements Node.
func (e *NotExpr) Pos() int { return e.Offset }

// Pos implements Node.
func (e *CompareExpr) Pos() int { return e.Field.Offset }

// Pos implements Node.
func (e *InExpr) Pos() int { return e.Field.Offset }

// Pos implements Node.
func (e *MatchExpr) Pos() int { return e.Field.Offset }

// Pos implements Node.
func (e *LexiconExpr) Pos() int { return e.Field.Offset }

// Pos implements Node.
func (e *NullExpr) Pos() int { return e.Field.Offset }

// String implements Node.
func (e *BinaryExpr) String() string {
	return "(" + e.X.String() + " " + e.Op + " " + e.Y.String() + ")"
}

// String implements Node.
func (e *NotExpr) String() string { return "not " + e.X.String() }

// String implements Node.
func (e *CompareExpr) String() string {
	return e.Field.String() + " " + e.Op + " " + e.Value.String()
}

// String implements Node.
func (e *InExpr) String() string {
	var b strings.Builder
	b.WriteString(e.Field.String())
	if e.Not {
		b.WriteString(" not")
	}
	if e.File != nil {
		b.WriteString(" in ")
		b.WriteString(e.File.String())
		return b.String()
	}
	b.WriteString(" in (")
	for i, v := range e.Values {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(v.String())
	}
	b.WriteByte(')')
	return b.String()
}

// String implements Node.
func (e *MatchExpr) String() string {
	op := " contains "
	switch e.Kind {
	case MatchWord:
		op = " has word "
	case MatchRegexp:
		op = " matches "
	}
	return e.Field.String() + op + quoteString(e.Pattern)
}

// String implements Node.
func (e *LexiconExpr) String() string {
	return e.Field.String() + " lexicon " + identString(e.Name)
}

// String implements Node.
func (e *NullExpr) String() string {
	if e.Not {
		return e.Field.String() + " is not null"
	}
	return e.Field.String() + " is null"
}

// Field names a column, or, with Any set, the text and url columns together
// (any contains 'x' is text contains 'x' or url contains 'x').
type Field struct {
	Offset int
	// Name is the lower-cased column name; empty when Any is set.
	Name string
	Any  bool
	// Func is "domain" for domain(column) in a by clause: the host of the
	// URL the column holds; "file" for the word file there, the rows'
	// source file (Name empty); empty for the column itself.
	Func string
}

// Pos implements Node.
func (f *Field) Pos() int { return f.Offset }

// String implements Node.
func (f *Field) String() string {
	if f.Any {
		return "any"
	}
	switch f.Func {
	case "":
		return identString(f.Name)
	case "file":
		return "file"
	}
	return f.Func + "(" + identString(f.Name) + ")"
}

// LiteralKind is the type of a literal.
type LiteralKind uint8

// Literal kinds.
const (
	LitString LiteralKind = iota + 1
	LitInt
	LitFloat
	LitBool
)

// Literal is a constant: 'string', 123, 0.5, true or false.
type Literal struct {
	Offset int
	Kind   LiteralKind
	Str    string
	Int    int64
	Float  float64
	Bool   bool
}

// Pos implements Node.
func (l *Literal) Pos() int { return l.Offset }

// String implements Node.
func (l *Literal) String() string {
	switch l.Kind {
	case LitString:
		return quoteString(l.Str)
	case LitInt:
		return strconv.FormatInt(l.Int, 10)
	case LitFloat:
		return formatFloat(l.Float)
	case LitBool:
		return strconv.FormatBool(l.Bool)
	}
	return "?"
}

// num returns the literal as a float64 (ints and floats only).
func (l *Literal) num() float64 {
	if l.Kind == LitInt {
		return float64(l.Int)
	}
	return l.Float
}

// formatFloat prints a float literal so that it lexes as a float again.
func formatFloat(f float64) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return "?" // the parser never produces these
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// quoteString returns s in single quotes, doubling any quote inside.
func quoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// quoteIdent returns s in double quotes, doubling any quote inside.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// identString returns s bare when it lexes as a non-keyword identifier,
// and quoted otherwise.
func identString(s string) string {
	if s == "" || !isIdentStart(s[0]) || keywords[s] {
		return quoteIdent(s)
	}
	for i := 1; i < len(s); i++ {
		if !isIdentChar(s[i]) || ('A' <= s[i] && s[i] <= 'Z') {
			return quoteIdent(s)
		}
	}
	if 'A' <= s[0] && s[0] <= 'Z' {
		return quoteIdent(s)
	}
	return s
}

// keywords are the words that identString quotes when they name a column
// or lexicon.
var keywords = map[string]bool{
	"all": true, "scan": true, "knn": true, "within": true, "where": true,
	"post": true, "limit": true, "by": true, "and": true, "or": true,
	"not": true, "in": true, "contains": true, "has": true, "word": true,
	"matches": true, "lexicon": true, "is": true, "null": true, "true": true,
	"false": true, "any": true, "image": true, "row": true, "id": true,
	"sample": true, "vector": true, "file": true, "per": true, "seed": true, "dedup": true,
}
