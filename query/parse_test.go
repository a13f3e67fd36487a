package query

import (
	"errors"
	"strings"
	"testing"
)

// parseTests maps each input to its canonical String().
var parseTests = []struct{ in, want string }{
	{`knn('beautiful',100) where nsfw='UNLIKELY'`, `knn('beautiful', 100) where nsfw = 'UNLIKELY'`},
	{`all where a=1 and b=2 or c=3`, `all where ((a = 1 and b = 2) or c = 3)`},
	{`all where a=1 or b=2 and c=3`, `all where (a = 1 or (b = 2 and c = 3))`},
	{`all where (a=1 or b=2) and c=3`, `all where ((a = 1 or b = 2) and c = 3)`},
	{`all where a=1 and b=2 and c=3`, `all where ((a = 1 and b = 2) and c = 3)`},
	{`all where not a=1 and b=2`, `all where (not a = 1 and b = 2)`},
	{`all where not (a=1 and b=2)`, `all where not (a = 1 and b = 2)`},
	{`all where not not a = 1`, `all where not not a = 1`},
	{`ALL WHERE TEXT CONTAINS 'Desi'`, `all where text contains 'Desi'`},
	{`scan`, `all`},
	{`all()`, `all`},
	{`scan() limit 5`, `all limit 5`},
	{`all where text ~ 'desi'`, `all where text contains 'desi'`},
	{`all where text has word 'desi'`, `all where text has word 'desi'`},
	{`all where text matches '(?i)\bdesi\b'`, `all where text matches '(?i)\bdesi\b'`},
	{`all where text lexicon essay2021`, `all where text lexicon essay2021`},
	{`all where any lexicon Essay2021 or url lexicon mine`, `all where (any lexicon essay2021 or url lexicon mine)`},
	{`all where any ~ 'x'`, `all where any contains 'x'`},
	{`all where text is null`, `all where text is null`},
	{`all where text IS NOT NULL`, `all where text is not null`},
	{`all where nsfw in ('NSFW','UNSURE')`, `all where nsfw in ('NSFW', 'UNSURE')`},
	{`all where nsfw not in ('NSFW')`, `all where nsfw not in ('NSFW')`},
	{`all where w in (1, 2.5, -3)`, `all where w in (1, 2.5, -3)`},
	{`all where a == 1 and b <> 2 and c != 3`, `all where ((a = 1 and b != 2) and c != 3)`},
	{`all where a<1 or a<=1 or a>1 or a>=1`, `all where (((a < 1 or a <= 1) or a > 1) or a >= 1)`},
	{`all where s = 1.0`, `all where s = 1.0`},
	{`all where s = 1e3`, `all where s = 1000.0`},
	{`all where s = -.5`, `all where s = -0.5`},
	{`all where s = +7`, `all where s = 7`},
	{`all where s = .5 or s = 5. or s = +.5e1`, `all where ((s = 0.5 or s = 5.0) or s = 5.0)`},
	{`all where text lexicon ESSAY2021`, `all where text lexicon essay2021`},
	{`all where "and" = 1 and "null" is null`, `all where ("and" = 1 and "null" is null)`},
	{`all where s = 1e21`, `all where s = 1e+21`},
	{`all where b = TRUE or b = false`, `all where (b = true or b = false)`},
	{`all where text = 'it''s'`, `all where text = 'it''s'`},
	{`all where "where" = 1 and "Text" = 'x' and "a b" = 2 and "q""" = 3`, `all where ((("where" = 1 and text = 'x') and "a b" = 2) and "q""" = 3)`},
	{`all where "any" = 1`, `all where "any" = 1`},
	{`all where "größe" = 1`, `all where "größe" = 1`},
	{`knn(row(123), 10)`, `knn(row(123), 10)`},
	{`knn(id(123), 10)`, `knn(id(123), 10)`},
	{`knn(sample(-5), 10)`, `knn(id(-5), 10)`},
	{`knn(ROWS(FILE('seeds.txt')), 10)`, `knn(rows(file('seeds.txt')), 10)`},
	{`knn('desi', 10) DEDUP where a = 1`, `knn('desi', 10) dedup 0.94 where a = 1`},
	{`within(row(3), 0.5) in text dedup 1`, `within(row(3), 0.5) in text dedup 1.0`},
	{`knn('x', 5) dedup .9`, `knn('x', 5) dedup 0.9`},
	{`all where "dedup" = 1`, `all where "dedup" = 1`},
	{`all sample 100 per file seed 42 where nsfw = 'NSFW' by file`, `all sample 100 per file seed 42 where nsfw = 'NSFW' by file`},
	{`scan() SAMPLE 5 by "file", file, domain(url)`, `all sample 5 seed 0 by "file", file, domain(url)`},
	{`all where "file" = 'x' and "seed" = 1`, `all where ("file" = 'x' and "seed" = 1)`},
	{`within(ids(file('a b''s.txt')).text, 0.9) in text`, `within(ids(file('a b''s.txt')).text, 0.9) in text`},
	{`knn(rows(file('s')).image, 3)`, `knn(rows(file('s')), 3)`},
	{`knn(image('a b.jpg'), 10)`, `knn(image('a b.jpg'), 10)`},
	{`knn(vector('q.npy'), 10)`, `knn(vector('q.npy'), 10)`},
	{`knn([0.1, -0.2,3e-1, 1], 5)`, `knn([0.1, -0.2, 0.3, 1], 5)`},
	{`within('desi', 0.3)`, `within('desi', 0.3)`},
	{`within(row(1), 1)`, `within(row(1), 1.0)`},
	{`within(row(1), -0.25) where nsfw = 'NSFW' limit 10`, `within(row(1), -0.25) where nsfw = 'NSFW' limit 10`},
	{`knn('desi', 100) post where nsfw='UNLIKELY'`, `knn('desi', 100) post where nsfw = 'UNLIKELY'`},
	{`knn('desi', 100) where a=1 limit 3 post where b=2 by license, Width`, `knn('desi', 100) where a = 1 limit 3 post where b = 2 by license, width`},
	{"all\twhere\n text ~ 'a'", `all where text contains 'a'`},
	{`all by "limit"`, `all by "limit"`},
	{`knn('desi', 100) in text`, `knn('desi', 100) in text`},
	{`KNN('desi', 100) IN TEXT where a = 1`, `knn('desi', 100) in text where a = 1`},
	{`knn('desi', 100) in image`, `knn('desi', 100)`},
	{`within(row(3).text, 0.3) in text limit 5`, `within(row(3).text, 0.3) in text limit 5`},
	{`knn(row(3).image, 5)`, `knn(row(3), 5)`},
	{`knn(id(7).TEXT, 5)`, `knn(id(7).text, 5)`},
	{`all where text in ('a') and s = .5`, `all where (text in ('a') and s = 0.5)`},
	{`all sweep similarity`, `all sweep similarity at (0.26, 0.28, 0.3, 0.32)`},
	{`all by domain(URL), domain, nsfw`, `all by domain(url), domain, nsfw`},
	{`all where url in file('removed.txt')`, `all where url in file('removed.txt')`},
	{`all where URL NOT IN FILE('a b.txt', 'url') and sample_id in file('ids')`, `all where (url not in file('a b.txt', 'url') and sample_id in file('ids'))`},
	{`all by Domain ( "image url" )`, `all by domain("image url")`},
	{`knn('x', 5) by nsfw SWEEP pair_cos AT (0.3,.25)`, `knn('x', 5) by nsfw sweep pair_cos at (0.3, 0.25)`},
	{`all where a = 1 sweep "at" at (1)`, `all where a = 1 sweep at at (1.0)`},
}

func TestParse(t *testing.T) {
	check := func(q, want string) {
		t.Helper()
		got, err := Parse(q)
		if err != nil {
			t.Fatalf("Parse(%q): %v", q, err)
		}
		if got.String() != want {
			t.Errorf("Parse(%q) = %s, want %s", q, got, want)
		}
		again, err := Parse(want)
		if err != nil || again.String() != want {
			t.Errorf("Parse(%q) does not round-trip: %v, %v", want, again, err)
		}
	}
	for _, tt := range parseTests {
		check(tt.in, tt.want)
	}
}

func TestParsePositions(t *testing.T) {
	q := MustParse(`knn('x', 3) where a = 1 and (b = 2 or c ~ 'z')`)
	if q.Source.Pos() != 0 {
		t.Errorf("source pos %d", q.Source.Pos())
	}
	and := q.Where.(*BinaryExpr)
	if and.Pos() != 18 || and.X.Pos() != 18 {
		t.Errorf("and pos %d, x pos %d", and.Pos(), and.X.Pos())
	}
	or := and.Y.(*BinaryExpr)
	if or.Pos() != 28 {
		t.Errorf("or pos %d, want 28 (the parenthesis)", or.Pos())
	}
	m := or.Y.(*MatchExpr)
	if m.Pos() != 38 || m.PatPos != 42 {
		t.Errorf("match pos %d pat %d", m.Pos(), m.PatPos)
	}
}

// errorTests: query, substring of the message, offset.
var errorTests = []struct {
	in, msg string
	off     int
}{
	{``, "expected a source", 0},
	{`   `, "expected a source", 3},
	{`knn('beautiful',100 where nsfw='UNLIKELY'`, "expected ')' after k, found \"where\"", 20},
	{`knn('beautiful')`, "expected ',' after knn target", 15},
	{`knn('beautiful', 0)`, "must be an integer >= 1", 17},
	{`knn('beautiful', 2.5)`, "must be an integer >= 1", 17},
	{`knn(foo, 3)`, "expected a target", 4},
	{`knn('a, 3)`, "unterminated string", 4},
	{`knn('a', 99999999999999999999)`, "out of range", 9},
	{`knn('a', 3) where`, "expected a column name", 17},
	{`knn('a', 3) where nsfw`, "expected an operator", 22},
	{`knn('a', 3) where nsfw =`, "expected a value", 24},
	{`knn('a', 3) where nsfw = 'x' and`, "expected a column name", 32},
	{`all where and text contains 'a'`, "found the keyword and", 10},
	{`all where null is null`, "found the keyword null", 10},
	{`all by limit`, "found the keyword limit", 7},
	{`all where (a = 1`, "expected ')' to close '(' at offset 10", 16},
	{`all where a = 1)`, "expected and, or, limit, post where, by, sweep or end of query", 15},
	{`all where a ! 1`, "unexpected '!'", 12},
	{`all where a = 1 % 2`, "unexpected character '%'", 16},
	{`all where a = é`, "non-ASCII", 14},
	{`all where any = 1`, "any (text or url) works only with", 10},
	{`all where any in (1)`, "any (text or url) works only with", 10},
	{`all where text contains 5`, "expected a string after contains", 24},
	{`all where text has 'x'`, "expected 'word' after has", 19},
	{`all where text lexicon 'x'`, "expected a lexicon name", 23},
	{`all where text is nul`, "expected 'null' after is", 18},
	{`all where text not like 'x'`, "expected 'in' after not", 19},
	{`all where x in ()`, "expected a value", 16},
	{`all where x in (1,`, "expected a value", 18},
	{`all where "" = 1`, "empty column name", 10},
	{`all where "abc = 1`, "unterminated quoted identifier", 10},
	{`all limit -1`, "must be a non-negative integer", 10},
	{`all limit x`, "expected number after limit", 10},
	{`all post nsfw = 1`, "expected 'where' after post", 9},
	{`all by any`, "by needs a column", 7},
	{`all by`, "expected a column name after by", 6},
	{`all extra`, "expected sample, where, limit, post where, by, sweep or end of query", 4},
	{`within('x', 1.5)`, "threshold 1.5 outside [-1, 1]", 12},
	{`within('x')`, "expected ','", 10},
	{`knn([], 3)`, "expected number in vector", 5},
	{`knn([1 2], 3)`, "expected ',' or ']' in vector", 7},
	{`knn([1e99], 3)`, "out of range", 5},
	{`knn(row(-1), 3)`, "must be a non-negative integer", 8},
	{`knn(row(99999999999), 3)`, "out of range", 8},
	{`knn(id(1.5), 3)`, "SAMPLE_ID must be an integer", 7},
	{`all sweep any`, "sweep needs a column", 10},
	{`all where url in file('x', 'host')`, "unknown comparison 'host'", 27},
	{`all where url in file(x)`, "expected string", 22},
	{`all by domain(any)`, "domain needs a column", 14},
	{`all by domain(url`, "expected ')'", 17},
	{`all sweep s at (0.3, 0.3)`, "given twice", 21},
	{`all sweep s at ()`, "expected number threshold", 16},
	{`all sweep s by x`, "expected end of query", 12},
	{`knn('x', 5) in foo`, "expected image or text", 15},
	{`knn('x', 5) in`, "expected image or text", 14},
	{`knn(row(1).foo, 5)`, "expected image or text", 11},
	{`knn(rows('s.txt'), 5)`, "expected file('path')", 9},
	{`knn('x', 5) sample 3`, "sample draws from all", 12},
	{`knn('x', 5) dedup 0`, "dedup threshold 0 outside (0, 1]", 18},
	{`knn('x', 5) dedup 1.5`, "outside (0, 1]", 18},
	{`knn(rows(file('s')), 5) dedup`, "dedup does not apply to a seed set", 24},
	{`all sample 0`, "after sample must be an integer >= 1", 11},
	{`all sample 5 per 3`, "expected 'file' after sample N per", 17},
	{`all sample 5 seed -1`, "non-negative", 18},
	{`all sample 5 seed 1 sample 3`, "expected where", 20},
	{`knn(ids(file(3)), 5)`, "a file path", 13},
	{`knn(rows(file('s')), 5`, "expected ')'", 22},
	{`knn('x'.text, 5)`, "expected ','", 7},
	{`all where s = 1e`, "malformed number exponent", 14},
	{`all where s = 1.5.2`, "malformed number", 14},
	{`all where s = 12ab`, "malformed number", 14},
	{`all where s = 1e999`, "out of range", 14},
	{`all where ` + strings.Repeat("(", 300) + "a=1" + strings.Repeat(")", 300), "nested too deeply", 210},
}

func TestParseErrors(t *testing.T) {
	checkErr := func(q, msg string, off int) {
		t.Helper()
		_, err := Parse(q)
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("Parse(%q) = %v, want *Error", q, err)
		}
		if !strings.Contains(e.Msg, msg) || e.Off != off {
			t.Errorf("Parse(%q) error %q at %d, want %q at %d", q, e.Msg, e.Off, msg, off)
		}
	}
	for _, tt := range errorTests {
		checkErr(tt.in, tt.msg, tt.off)
	}
}

func TestErrorCaret(t *testing.T) {
	_, err := Parse("knn('beautiful',100 where nsfw='UNLIKELY'")
	want := "query: syntax error: expected ')' after k, found \"where\" (offset 20)\n" +
		"    knn('beautiful',100 where nsfw='UNLIKELY'\n" +
		"                        ^"
	if err.Error() != want {
		t.Errorf("got\n%s\nwant\n%s", err, want)
	}
	// Multi-line queries show the offending line; the caret counts runes.
	_, err = Parse("all\nwhere text ~ 'é' and ?")
	want = "query: syntax error: unexpected character '?' (offset 26)\n" +
		"    where text ~ 'é' and ?\n" +
		"                         ^"
	if err.Error() != want {
		t.Errorf("got\n%s\nwant\n%s", err, want)
	}
}

func FuzzParse(f *testing.F) {
	for _, tt := range parseTests {
		f.Add(tt.in)
	}
	for _, tt := range errorTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Off < 0 || e.Off > len(s) {
				t.Fatalf("Parse(%q): malformed error %v", s, err)
			}
			_ = e.Error()
			return
		}
		s2 := q.String()
		q2, err := Parse(s2)
		if err != nil || q2.String() != s2 {
			t.Fatalf("round trip %q -> %q failed: %v", s, s2, err)
		}
	})
}

func TestFiles(t *testing.T) {
	for q, want := range map[string]string{
		`all`:                     ``,
		`knn('x', 5) where a = 1`: ``,
		`knn(image('a.jpg'), 5) where url in file('u.txt') or not (b not in file('b.txt', 'url')) post where c in file('c')`: `a.jpg u.txt b.txt c`,
		`within(rows(file('s.txt')), 0.5)`:    `s.txt`,
		`knn(ids(file('i')).text, 3) in text`: `i`,
		`knn(vector('q.npy'), 3)`:             `q.npy`,
	} {
		if got := strings.Join(MustParse(q).Files(), " "); got != want {
			t.Errorf("%s: files %q, want %q", q, got, want)
		}
	}
}
