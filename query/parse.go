package query

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error is a query error at a byte offset: a syntax error from Parse, or an
// unknown column, lexicon or type mismatch from package engine's planner.
// Its Error method prints the message, the query line and a caret under the
// offset:
//
//	query: syntax error: expected ')' after k, found "where" (offset 20)
//	    knn('beautiful',100 where nsfw='UNLIKELY'
//	                        ^
type Error struct {
	Query string
	Off   int
	Msg   string
	// Err is the cause, when the error comes from the store (a row(N)
	// target the store does not have, a missing model); Msg includes it.
	Err error
}

// Unwrap returns the cause, so errors.Is sees through to store errors.
func (e *Error) Unwrap() error { return e.Err }

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "query: %s (offset %d)\n", e.Msg, e.Off)
	off := min(max(e.Off, 0), len(e.Query))
	lineStart := strings.LastIndexByte(e.Query[:off], '\n') + 1
	lineEnd := strings.IndexByte(e.Query[off:], '\n')
	if lineEnd < 0 {
		lineEnd = len(e.Query)
	} else {
		lineEnd += off
	}
	line := e.Query[lineStart:lineEnd]
	b.WriteString("    ")
	b.WriteString(line)
	b.WriteString("\n    ")
	for _, r := range e.Query[lineStart:off] {
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	b.WriteByte('^')
	return b.String()
}

// maxDepth bounds the nesting of parentheses and not.
const maxDepth = 200

// Parse parses a query. Errors are of type *Error.
func Parse(q string) (query *Query, err error) {
	p := &parser{lex: lexer{input: q}, text: q}
	defer p.recover(&err)
	p.next()
	query = p.parseQuery()
	return query, nil
}

// MustParse is like Parse but panics on error; for tests and examples.
func MustParse(q string) *Query {
	query, err := Parse(q)
	if err != nil {
		panic(err)
	}
	return query
}

// parser is a recursive-descent parser with one item of lookahead. Errors
// panic with *Error and are recovered in Parse, as in text/template/parse.
type parser struct {
	lex   lexer
	text  string
	tok   item // current item
	depth int
}

// errorf stops parsing with an error at offset off.
func (p *parser) errorf(off int, format string, args ...any) {
	panic(&Error{Query: p.text, Off: off, Msg: fmt.Sprintf(format, args...)})
}

// recover turns an *Error panic into the returned error; runtime errors
// and anything else are re-panicked.
func (p *parser) recover(errp *error) {
	e := recover()
	if e == nil {
		return
	}
	if _, ok := e.(runtime.Error); ok {
		panic(e)
	}
	qe, ok := e.(*Error)
	if !ok {
		panic(e)
	}
	*errp = qe
}

// next advances to the next item, failing on lexical errors.
func (p *parser) next() item {
	prev := p.tok
	p.tok = p.lex.nextItem()
	if p.tok.typ == itemError {
		p.errorf(p.tok.pos, "syntax error: %s", p.tok.val)
	}
	return prev
}

// isWord reports whether the current item is the (case-insensitive) bare word w.
func (p *parser) isWord(w string) bool {
	return p.tok.typ == itemIdent && strings.EqualFold(p.tok.val, w)
}

// expect consumes an item of type t or fails with "expected t context".
func (p *parser) expect(t itemType, context string) item {
	if p.tok.typ != t {
		p.unexpected(t.String(), context)
	}
	return p.next()
}

// expectWord consumes the bare word w.
func (p *parser) expectWord(w, context string) item {
	if !p.isWord(w) {
		p.unexpected("'"+w+"'", context)
	}
	return p.next()
}

func (p *parser) unexpected(want, context string) {
	if context != "" {
		context = " " + context
	}
	p.errorf(p.tok.pos, "syntax error: expected %s%s, found %s", want, context, p.tok)
}

// query = source [ "where" expr ] [ "limit" int ] [ "post" "where" expr ] [ "by" field { "," field } ] .
func (p *parser) parseQuery() *Query {
	q := &Query{Text: p.text, Limit: -1}
	q.Source = p.parseSource()
	if p.isWord("sample") {
		q.Sample = p.parseSample()
		if _, ok := q.Source.(*AllSource); !ok {
			p.errorf(q.Sample.Offset, "sample draws from all: knn and within choose their rows by score")
		}
	}
	if p.isWord("where") {
		p.next()
		q.Where = p.parseExpr()
	}
	if p.isWord("limit") {
		p.next()
		q.LimitPos = p.tok.pos
		q.Limit = p.parseInt("after limit", 0)
	}
	if p.isWord("post") {
		p.next()
		p.expectWord("where", "after post")
		q.Post = p.parseExpr()
	}
	if p.isWord("by") {
		p.next()
		for {
			f := p.parseByItem()
			if f.Any {
				p.errorf(f.Offset, "by needs a column, not any")
			}
			q.By = append(q.By, f)
			if p.tok.typ != itemComma {
				break
			}
			p.next()
		}
	}
	if p.isWord("sweep") {
		q.Sweep = p.parseSweep()
	}
	if p.tok.typ != itemEOF {
		want := "end of query"
		switch {
		case q.Sweep != nil:
		case q.Where == nil && q.Limit < 0 && q.Post == nil && q.By == nil && q.Sample == nil:
			want = "sample, where, limit, post where, by, sweep or end of query"
			if _, ok := q.Source.(*AllSource); !ok {
				want = "where, limit, post where, by, sweep or end of query"
			}
		case q.Where == nil && q.Limit < 0 && q.Post == nil && q.By == nil:
			want = "where, limit, post where, by, sweep or end of query"
		case q.Limit < 0 && q.Post == nil && q.By == nil:
			want = "and, or, limit, post where, by, sweep or end of query"
		case q.Post == nil && q.By == nil:
			want = "post where, by, sweep or end of query"
		default:
			want = "sweep or end of query"
		}
		p.errorf(p.tok.pos, "syntax error: expected %s, found %s", want, p.tok)
	}
	return q
}

// sample = "sample" int [ "per" "file" ] [ "seed" int ] .
func (p *parser) parseSample() *Sample {
	s := &Sample{Offset: p.tok.pos}
	p.next()
	s.N = p.parseInt("after sample", 1)
	if p.isWord("per") {
		p.next()
		p.expectWord("file", "after sample N per")
		s.PerFile = true
	}
	if p.isWord("seed") {
		p.next()
		s.Seed = p.parseInt("after seed", 0)
	}
	return s
}

// byItem = column | "domain" "(" column ")" | "file" .
//
// A column named domain stays a column: domain( makes the function. The
// word file is the rows' source file; a column named file is "file".
func (p *parser) parseByItem() *Field {
	if p.isWord("file") {
		f := &Field{Offset: p.tok.pos, Func: "file"}
		p.next()
		return f
	}
	if !p.isWord("domain") {
		return p.parseField("after by")
	}
	t := p.tok
	p.next()
	if p.tok.typ != itemLParen {
		return &Field{Offset: t.pos, Name: strings.ToLower(t.val)}
	}
	p.next()
	f := p.parseField("in domain(...)")
	if f.Any {
		p.errorf(f.Offset, "domain needs a column, not any")
	}
	p.expect(itemRParen, "after domain's column")
	f.Offset, f.Func = t.pos, "domain"
	return f
}

// sweep = "sweep" column [ "at" "(" number { "," number } ")" ] .
func (p *parser) parseSweep() *Sweep {
	sw := &Sweep{Offset: p.tok.pos}
	p.next()
	sw.Field = p.parseField("after sweep")
	if sw.Field.Any {
		p.errorf(sw.Field.Offset, "sweep needs a column, not any")
	}
	if !p.isWord("at") {
		sw.At = append([]float64(nil), DefaultSweep...)
		return sw
	}
	p.next()
	p.expect(itemLParen, "after sweep ... at")
	for {
		lit := p.parseNumber("threshold")
		v := lit.num()
		if math.IsInf(v, 0) || math.IsNaN(v) {
			p.errorf(lit.Offset, "threshold %s is not finite", lit)
		}
		if slices.Contains(sw.At, v) {
			p.errorf(lit.Offset, "threshold %s given twice", lit)
		}
		sw.At = append(sw.At, v)
		if p.tok.typ == itemRParen {
			p.next()
			break
		}
		p.expect(itemComma, "or ')' after a threshold")
	}
	if len(sw.At) > 64 {
		p.errorf(sw.Offset, "sweep: at most 64 thresholds")
	}
	return sw
}

// source = ("all" | "scan") [ "(" ")" ]
//
//	| "knn" "(" target "," int ")" space
//	| "within" "(" target "," number ")" space .
func (p *parser) parseSource() Source {
	t := p.tok
	switch {
	case p.isWord("all") || p.isWord("scan"):
		p.next()
		if p.tok.typ == itemLParen {
			p.next()
			p.expect(itemRParen, "after "+strings.ToLower(t.val)+"(")
		}
		return &AllSource{Offset: t.pos}
	case p.isWord("knn"):
		p.next()
		p.expect(itemLParen, "after knn")
		tg := p.parseTarget("knn")
		p.expect(itemComma, "after knn target")
		kpos := p.tok.pos
		k := p.parseInt("k (the number of neighbours)", 1)
		p.expect(itemRParen, "after k")
		if k > math.MaxInt32 {
			p.errorf(kpos, "k too large")
		}
		src := &KNNSource{Offset: t.pos, Target: tg, K: k, Space: p.parseSpace("knn")}
		src.Dedup = p.parseDedup(tg)
		return src
	case p.isWord("within"):
		p.next()
		p.expect(itemLParen, "after within")
		tg := p.parseTarget("within")
		p.expect(itemComma, "after within target")
		th := p.parseNumber("threshold")
		p.expect(itemRParen, "after threshold")
		v := th.num()
		if v < -1 || v > 1 {
			p.errorf(th.Offset, "threshold %s outside [-1, 1]", th)
		}
		src := &WithinSource{Offset: t.pos, Target: tg, Threshold: v, Space: p.parseSpace("within")}
		src.Dedup = p.parseDedup(tg)
		return src
	}
	p.errorf(t.pos, "syntax error: expected a source (knn(...), within(...) or all), found %s", t)
	return nil
}

// dedup = [ "dedup" [ number ] ] .
func (p *parser) parseDedup(tg *TargetNode) float64 {
	if !p.isWord("dedup") {
		return 0
	}
	pos := p.tok.pos
	p.next()
	if tg.Target.Kind.Seeds() {
		p.errorf(pos, "dedup does not apply to a seed set: each row reached appears once already")
	}
	if p.tok.typ != itemNumber {
		return DefaultDedup
	}
	th := p.parseNumber("after dedup")
	if v := th.num(); v > 0 && v <= 1 {
		return v
	}
	p.errorf(th.Offset, "dedup threshold %s outside (0, 1]", th)
	return 0
}

// space = [ "in" ( "image" | "text" ) ] .
func (p *parser) parseSpace(src string) Space {
	if !p.isWord("in") {
		return SpaceImage
	}
	p.next()
	return p.spaceName("after " + src + "(...) in")
}

// spaceName parses "image" or "text".
func (p *parser) spaceName(context string) Space {
	switch {
	case p.isWord("image"):
		p.next()
		return SpaceImage
	case p.isWord("text"):
		p.next()
		return SpaceText
	}
	p.unexpected("image or text (the embeddings to search)", context)
	return SpaceImage
}

// member = [ "." ( "image" | "text" ) ] .
func (p *parser) parseMember(src string) Space {
	if p.tok.typ != itemDot {
		return SpaceImage
	}
	p.next()
	return p.spaceName("after " + src + "(...).")
}

// target = string | "image" "(" string ")" | "row" "(" int ")" member
//
//	| ("id" | "sample") "(" int ")" member | "vector" "(" string ")"
//	| ( "rows" | "ids" ) "(" "file" "(" string ")" ")" member
//	| "[" number { "," number } "]" .
func (p *parser) parseTarget(src string) *TargetNode {
	t := p.tok
	n := &TargetNode{Offset: t.pos}
	tg := &n.Target
	call := func(name string) item {
		p.next()
		p.expect(itemLParen, "after "+name)
		return p.tok
	}
	switch {
	case t.typ == itemString:
		p.next()
		tg.Kind, tg.Text = TargetText, t.val
	case p.isWord("image"):
		call("image")
		tg.Kind, tg.Path = TargetImage, p.expect(itemString, "(an image path) in image(...)").val
		p.expect(itemRParen, "after image path")
	case p.isWord("vector"):
		call("vector")
		tg.Kind, tg.Path = TargetNpy, p.expect(itemString, "(an .npy path) in vector(...)").val
		p.expect(itemRParen, "after vector path")
	case p.isWord("row"):
		call("row")
		pos := p.tok.pos
		r := p.parseInt("(a row position) in row(...)", 0)
		if r > math.MaxUint32 {
			p.errorf(pos, "row %d out of range", r)
		}
		tg.Kind, tg.Row = TargetRow, uint32(r)
		p.expect(itemRParen, "after row position")
		tg.Space = p.parseMember("row")
	case p.isWord("rows") || p.isWord("ids"):
		name := strings.ToLower(t.val)
		call(name)
		if !p.isWord("file") {
			p.unexpected("file('path') (a file of seeds, one a line)", "in "+name+"(...)")
		}
		call("file")
		tg.Kind, tg.Path = TargetRows, p.expect(itemString, "(a file path) in "+name+"(file(...))").val
		if name == "ids" {
			tg.Kind = TargetIDs
		}
		p.expect(itemRParen, "after file(...)")
		p.expect(itemRParen, "after "+name+"(file(...))")
		tg.Space = p.parseMember(name)
	case p.isWord("id") || p.isWord("sample"):
		call(strings.ToLower(t.val))
		lit := p.parseNumber("(a SAMPLE_ID) in " + strings.ToLower(t.val) + "(...)")
		if lit.Kind != LitInt {
			p.errorf(lit.Offset, "SAMPLE_ID must be an integer")
		}
		tg.Kind, tg.SampleID = TargetSampleID, lit.Int
		p.expect(itemRParen, "after SAMPLE_ID")
		tg.Space = p.parseMember(strings.ToLower(t.val))
	case t.typ == itemLBrack:
		p.next()
		tg.Kind = TargetVector
		tg.Vec = []float32{}
		for {
			if p.tok.typ != itemNumber {
				p.unexpected("number", "in vector")
			}
			f, err := strconv.ParseFloat(p.tok.val, 32)
			if err != nil {
				p.errorf(p.tok.pos, "vector component %s out of range", p.tok.val)
			}
			p.next()
			tg.Vec = append(tg.Vec, float32(f))
			if p.tok.typ == itemRBrack {
				p.next()
				break
			}
			p.expect(itemComma, "or ']' in vector")
		}
	default:
		p.unexpected("a target ('text', image('path'), row(n), id(n), rows(file('path')), ids(file('path')), vector('file.npy') or [x, y, ...])", "in "+src)
	}
	return n
}

// parseInt parses a non-negative integer of at least lo.
func (p *parser) parseInt(what string, lo int64) int64 {
	lit := p.parseNumber(what)
	if lit.Kind != LitInt || lit.Int < lo {
		if lo == 0 {
			p.errorf(lit.Offset, "%s must be a non-negative integer", strings.TrimPrefix(what, "after "))
		}
		p.errorf(lit.Offset, "%s must be an integer >= %d", what, lo)
	}
	return lit.Int
}

// parseNumber parses a number literal.
func (p *parser) parseNumber(what string) *Literal {
	t := p.tok
	if t.typ != itemNumber {
		p.unexpected("number", what)
	}
	p.next()
	return p.numberLit(t)
}

func (p *parser) numberLit(t item) *Literal {
	lit := &Literal{Offset: t.pos}
	if !strings.ContainsAny(t.val, ".eE") {
		n, err := strconv.ParseInt(t.val, 10, 64)
		if err != nil {
			p.errorf(t.pos, "integer %s out of range", t.val)
		}
		lit.Kind, lit.Int = LitInt, n
		return lit
	}
	f, err := strconv.ParseFloat(t.val, 64)
	if err != nil {
		p.errorf(t.pos, "number %s out of range", t.val)
	}
	lit.Kind, lit.Float = LitFloat, f
	return lit
}

// expr = and { "or" and } .
func (p *parser) parseExpr() Expr {
	x := p.parseAnd()
	for p.isWord("or") {
		t := p.next()
		y := p.parseAnd()
		x = &BinaryExpr{Offset: x.Pos(), Op: "or", X: x, Y: y}
		_ = t
	}
	return x
}

// and = unary { "and" unary } .
func (p *parser) parseAnd() Expr {
	x := p.parseUnary()
	for p.isWord("and") {
		p.next()
		y := p.parseUnary()
		x = &BinaryExpr{Offset: x.Pos(), Op: "and", X: x, Y: y}
	}
	return x
}

// unary = "not" unary | "(" expr ")" | predicate .
func (p *parser) parseUnary() Expr {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		p.errorf(p.tok.pos, "expression nested too deeply")
	}
	t := p.tok
	switch {
	case p.isWord("not"):
		p.next()
		return &NotExpr{Offset: t.pos, X: p.parseUnary()}
	case t.typ == itemLParen:
		p.next()
		x := p.parseExpr()
		p.expect(itemRParen, "to close '(' at offset "+strconv.Itoa(t.pos))
		// A parenthesised expression keeps its operand's node; for a
		// binary expression, report the offset of the parenthesis.
		if b, ok := x.(*BinaryExpr); ok {
			b.Offset = t.pos
		}
		return x
	}
	return p.parsePredicate()
}

// reserved are the words that cannot name a column unquoted: the
// operators and clause words, so that "all where and x = 1" is an error
// rather than a column named and.
var reserved = map[string]bool{
	"and": true, "or": true, "not": true, "in": true, "is": true, "null": true,
	"where": true, "limit": true, "post": true, "by": true, "contains": true,
	"has": true, "matches": true, "lexicon": true, "true": true, "false": true,
}

// parseField parses a column name: an identifier, a "quoted identifier",
// or the word any.
func (p *parser) parseField(context string) *Field {
	t := p.tok
	switch t.typ {
	case itemIdent:
		p.next()
		name := strings.ToLower(t.val)
		if name == "any" {
			return &Field{Offset: t.pos, Any: true}
		}
		if reserved[name] {
			p.errorf(t.pos, "syntax error: expected a column name %s, found the keyword %s (a column so named is written \"%s\")", context, name, name)
		}
		return &Field{Offset: t.pos, Name: name}
	case itemQIdent:
		p.next()
		if t.val == "" {
			p.errorf(t.pos, "empty column name")
		}
		return &Field{Offset: t.pos, Name: strings.ToLower(t.val)}
	}
	p.unexpected("a column name", context)
	return nil
}

// predicate = field op literal
//
//	| field [ "not" ] "in" "(" literal { "," literal } ")"
//	| field ( "contains" | "~" | "has" "word" | "matches" ) string
//	| field "lexicon" name
//	| field "is" [ "not" ] "null" .
func (p *parser) parsePredicate() Expr {
	f := p.parseField("(a predicate)")
	t := p.tok
	var op string
	switch t.typ {
	case itemEq:
		op = "="
	case itemNe:
		op = "!="
	case itemLt:
		op = "<"
	case itemLe:
		op = "<="
	case itemGt:
		op = ">"
	case itemGe:
		op = ">="
	case itemTilde:
		p.next()
		return p.parseMatch(f, MatchContains, "~")
	case itemIdent:
		switch strings.ToLower(t.val) {
		case "contains":
			p.next()
			return p.parseMatch(f, MatchContains, "contains")
		case "has":
			p.next()
			p.expectWord("word", "after has")
			return p.parseMatch(f, MatchWord, "has word")
		case "matches":
			p.next()
			return p.parseMatch(f, MatchRegexp, "matches")
		case "lexicon":
			p.next()
			n := p.tok
			if n.typ != itemIdent && n.typ != itemQIdent {
				p.unexpected("a lexicon name", "after lexicon")
			}
			p.next()
			return &LexiconExpr{Field: f, Name: strings.ToLower(n.val), NamePos: n.pos}
		case "is":
			p.next()
			not := false
			if p.isWord("not") {
				p.next()
				not = true
			}
			p.expectWord("null", "after is")
			return &NullExpr{Field: f, Not: not}
		case "not", "in":
			not := p.isWord("not")
			if not {
				p.next()
				if !p.isWord("in") {
					p.unexpected("'in'", "after not")
				}
			}
			p.next()
			p.anyCheck(f, "in")
			e := &InExpr{Field: f, Not: not}
			if p.isWord("file") {
				lf := &ListFile{Offset: p.tok.pos}
				p.next()
				p.expect(itemLParen, "after file")
				lf.Path = p.expect(itemString, "(a file path) in file(...)").val
				if p.tok.typ == itemComma {
					p.next()
					mode := p.expect(itemString, "(a comparison: 'url') after the file path")
					if mode.val != "url" {
						p.errorf(mode.pos, "file(...): unknown comparison %s (want 'url', or nothing for exact bytes)", quoteString(mode.val))
					}
					lf.Mode = mode.val
				}
				p.expect(itemRParen, "after file(...)")
				e.File = lf
				return e
			}
			p.expect(itemLParen, "after in")
			for {
				e.Values = append(e.Values, p.parseLiteral("in list"))
				if p.tok.typ == itemRParen {
					p.next()
					return e
				}
				p.expect(itemComma, "or ')' in list")
			}
		}
	}
	if op == "" {
		p.unexpected("an operator (=, !=, <, <=, >, >=, in, contains, ~, has word, matches, lexicon, is null)", "after "+f.String())
	}
	p.anyCheck(f, op)
	p.next()
	return &CompareExpr{Field: f, Op: op, Value: p.parseLiteral("after " + op)}
}

// anyCheck rejects any with comparison operators.
func (p *parser) anyCheck(f *Field, op string) {
	if f.Any {
		p.errorf(f.Offset, "any (text or url) works only with contains, ~, has word, matches and lexicon, not %s", op)
	}
}

func (p *parser) parseMatch(f *Field, kind MatchKind, op string) Expr {
	t := p.tok
	if t.typ != itemString {
		p.unexpected("a string", "after "+op)
	}
	p.next()
	if !utf8.ValidString(t.val) && kind == MatchRegexp {
		p.errorf(t.pos, "regular expression is not valid UTF-8")
	}
	return &MatchExpr{Field: f, Kind: kind, Pattern: t.val, PatPos: t.pos}
}

// literal = string | number | "true" | "false" .
func (p *parser) parseLiteral(context string) *Literal {
	t := p.tok
	switch {
	case t.typ == itemString:
		p.next()
		return &Literal{Offset: t.pos, Kind: LitString, Str: t.val}
	case t.typ == itemNumber:
		p.next()
		return p.numberLit(t)
	case p.isWord("true") || p.isWord("false"):
		p.next()
		return &Literal{Offset: t.pos, Kind: LitBool, Bool: strings.EqualFold(t.val, "true")}
	}
	p.unexpected("a value (a 'string', a number, true or false)", context)
	return nil
}
