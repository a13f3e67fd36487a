package query

import (
	"fmt"
	"strings"
)

// itemType identifies the type of a lexical item.
type itemType uint8

const (
	itemError  itemType = iota // error; val is the message
	itemEOF                    // end of input
	itemIdent                  // identifier or keyword: knn, where, text
	itemQIdent                 // double-quoted identifier: "where"; val is unquoted
	itemString                 // single-quoted string; val is unquoted
	itemNumber                 // number: 100, -0.5, 1e-3
	itemLParen                 // (
	itemRParen                 // )
	itemLBrack                 // [
	itemRBrack                 // ]
	itemComma                  // ,
	itemEq                     // = or ==
	itemNe                     // != or <>
	itemLt                     // <
	itemLe                     // <=
	itemGt                     // >
	itemGe                     // >=
	itemTilde                  // ~ (contains)
	itemDot                    // . before a name: row(3).text
)

var itemNames = [...]string{
	itemError: "error", itemEOF: "end of query", itemIdent: "identifier",
	itemQIdent: "quoted identifier", itemString: "string", itemNumber: "number",
	itemLParen: "'('", itemRParen: "')'", itemLBrack: "'['", itemRBrack: "']'",
	itemComma: "','", itemEq: "'='", itemNe: "'!='", itemLt: "'<'", itemLe: "'<='",
	itemGt: "'>'", itemGe: "'>='", itemTilde: "'~'", itemDot: "'.'",
}

func (t itemType) String() string {
	if int(t) < len(itemNames) {
		return itemNames[t]
	}
	return fmt.Sprintf("item(%d)", t)
}

// item is a token: its type, its byte offset in the query, and its value
// (unquoted for strings and quoted identifiers).
type item struct {
	typ itemType
	pos int
	val string
}

func (i item) String() string {
	switch i.typ {
	case itemEOF:
		return "end of query"
	case itemString:
		return "string " + quoteString(i.val)
	case itemQIdent:
		return quoteIdent(i.val)
	case itemIdent, itemNumber:
		return fmt.Sprintf("%q", i.val)
	}
	return i.typ.String()
}

// lexer turns a query into items. The language has no lexical modes, so
// nextItem is one switch on the next byte, in the manner of go/scanner.
type lexer struct {
	input string
	pos   int
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isIdentStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
func isIdentChar(c byte) bool { return isIdentStart(c) || isDigit(c) }

// nextItem returns the next item. After an itemError or itemEOF it keeps
// returning itemEOF.
func (l *lexer) nextItem() item {
	for l.pos < len(l.input) && isSpace(l.input[l.pos]) {
		l.pos++
	}
	start := l.pos
	if l.pos >= len(l.input) {
		return item{itemEOF, start, ""}
	}
	c := l.input[l.pos]
	one := func(t itemType) item { l.pos++; return item{t, start, l.input[start:l.pos]} }
	two := func(t itemType) item { l.pos += 2; return item{t, start, l.input[start:l.pos]} }
	next := byte(0)
	if l.pos+1 < len(l.input) {
		next = l.input[l.pos+1]
	}
	switch {
	case c == '(':
		return one(itemLParen)
	case c == ')':
		return one(itemRParen)
	case c == '[':
		return one(itemLBrack)
	case c == ']':
		return one(itemRBrack)
	case c == ',':
		return one(itemComma)
	case c == '~':
		return one(itemTilde)
	case c == '.' && isIdentStart(next):
		return one(itemDot)
	case c == '=':
		if next == '=' {
			return two(itemEq)
		}
		return one(itemEq)
	case c == '!':
		if next == '=' {
			return two(itemNe)
		}
		return l.errorf(start, "unexpected '!' (did you mean '!='?)")
	case c == '<':
		switch next {
		case '=':
			return two(itemLe)
		case '>':
			return two(itemNe)
		}
		return one(itemLt)
	case c == '>':
		if next == '=' {
			return two(itemGe)
		}
		return one(itemGt)
	case c == '\'':
		return l.lexQuoted(itemString, '\'', "string")
	case c == '"':
		return l.lexQuoted(itemQIdent, '"', "quoted identifier")
	case isDigit(c) || (c == '-' || c == '+' || c == '.') && (isDigit(next) || next == '.'):
		return l.lexNumber()
	case isIdentStart(c):
		for l.pos < len(l.input) && isIdentChar(l.input[l.pos]) {
			l.pos++
		}
		return item{itemIdent, start, l.input[start:l.pos]}
	}
	if c >= 0x80 {
		return l.errorf(start, "unexpected non-ASCII character (quote column names with \"...\", strings with '...')")
	}
	return l.errorf(start, "unexpected character %q", c)
}

// errorf returns an error item and stops the lexer.
func (l *lexer) errorf(pos int, format string, args ...any) item {
	l.pos = len(l.input)
	return item{itemError, pos, fmt.Sprintf(format, args...)}
}

// lexQuoted scans a string or quoted identifier. The quote character is
// escaped by doubling it; there are no other escapes, so regular
// expressions need no extra backslashes.
func (l *lexer) lexQuoted(t itemType, q byte, what string) item {
	start := l.pos
	l.pos++
	var b strings.Builder
	for {
		i := strings.IndexByte(l.input[l.pos:], q)
		if i < 0 {
			return l.errorf(start, "unterminated %s", what)
		}
		b.WriteString(l.input[l.pos : l.pos+i])
		l.pos += i + 1
		if l.pos < len(l.input) && l.input[l.pos] == q {
			b.WriteByte(q)
			l.pos++
			continue
		}
		return item{t, start, b.String()}
	}
}

// lexNumber scans [+-] digits [. digits] [e [+-] digits], or [+-] . digits ...
func (l *lexer) lexNumber() item {
	start := l.pos
	in := l.input
	if in[l.pos] == '-' || in[l.pos] == '+' {
		l.pos++
	}
	digits := func() int {
		s := l.pos
		for l.pos < len(in) && isDigit(in[l.pos]) {
			l.pos++
		}
		return l.pos - s
	}
	n := digits()
	if l.pos < len(in) && in[l.pos] == '.' {
		l.pos++
		n += digits()
	}
	if n == 0 {
		return l.errorf(start, "malformed number")
	}
	if l.pos < len(in) && (in[l.pos] == 'e' || in[l.pos] == 'E') {
		l.pos++
		if l.pos < len(in) && (in[l.pos] == '+' || in[l.pos] == '-') {
			l.pos++
		}
		if digits() == 0 {
			return l.errorf(start, "malformed number exponent")
		}
	}
	if l.pos < len(in) && (isIdentChar(in[l.pos]) || in[l.pos] == '.') {
		return l.errorf(start, "malformed number")
	}
	return item{itemNumber, start, in[start:l.pos]}
}
