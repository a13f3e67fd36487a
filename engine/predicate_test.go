package engine_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/query"
)

// edgeStore holds the texts the essay's substring checks trip on.
func edgeStore(t testing.TB) *enginetest.Store {
	t.Helper()
	texts := []string{
		0: "design", 1: "screenshot ", 2: "unisex", 3: "sussex", 4: "grape ",
		5: "a rape case", 6: "", 7: "DESIGN Mixed", 8: "İstanbul", 9: "ΟΔΟΣ",
		10: "", 11: "hot", 12: "desi-aunty", 13: "the Desi_aunty", 14: "HOT DOG",
	}
	n := len(texts)
	textNull := make([]bool, n)
	textNull[6] = true
	urls := make([]string, n)
	for i := range urls {
		urls[i] = "http://x/" + string(rune('a'+i))
	}
	urls[10] = "http://porn.example/desi"
	ints := make([]int64, n)
	intNull := make([]bool, n)
	floats := make([]float64, n)
	bools := make([]bool, n)
	for i := range n {
		ints[i] = int64(i)
		floats[i] = float64(i) / 10
		bools[i] = i%2 == 0
	}
	intNull[6], intNull[7] = true, true
	floats[3] = math.NaN()
	return enginetest.New(n).
		AddStrings("text", texts, textNull).
		AddStrings("url", urls, nil).
		AddInts("n", ints, intNull).
		AddFloats("f", floats, nil).
		AddBools("b", bools, nil)
}

func selected(t *testing.T, s engine.Store, q string, opts *engine.Options) []uint32 {
	t.Helper()
	res, err := engine.Run(context.Background(), s, query.MustParse(q), opts)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var rows []uint32
	res.Selection.ForEach(func(r uint32) bool { rows = append(rows, r); return true })
	if len(rows) != res.Selected {
		t.Fatalf("%s: selection has %d rows, Selected %d", q, len(rows), res.Selected)
	}
	return rows
}

func TestPredicates(t *testing.T) {
	s := edgeStore(t)
	s.BatchSize = 5 // several unaligned batches
	all := func(except ...uint32) []uint32 {
		var out []uint32
		for r := range uint32(15) {
			if !slices.Contains(except, r) {
				out = append(out, r)
			}
		}
		return out
	}
	opts := &engine.Options{Lexicons: map[string][]string{"Mine": {"  AUNTY", "dog"}}}
	for _, tt := range []struct {
		q    string
		want []uint32
	}{
		{`all where text contains 'desi'`, []uint32{0, 7, 12, 13}}, // 'design' contains 'desi'
		{`all where text ~ 'DeSi'`, []uint32{0, 7, 12, 13}},
		{`all where text contains 'hot '`, []uint32{1, 14}}, // 'screenshot ' contains 'hot '
		{`all where text contains 'sex'`, []uint32{2, 3}},   // unisex, sussex
		{`all where text contains ' rape '`, []uint32{5}},   // not 'grape '
		{`all where text lexicon essay2021`, []uint32{1, 2, 3, 5, 14}},
		{`all where url lexicon essay2021`, []uint32{10}},
		{`all where any lexicon essay2021`, []uint32{1, 2, 3, 5, 10, 14}},
		{`all where not text lexicon essay2021`, []uint32{0, 4, 7, 8, 9, 10, 11, 12, 13}},
		{`all where text lexicon mine`, []uint32{14}},
		{`all where any contains 'desi'`, []uint32{0, 7, 10, 12, 13}},
		// Python: 'İstanbul'.lower() == 'i̇stanbul', which does not contain 'istanbul'.
		{`all where text contains 'istanbul'`, nil},
		{`all where text contains 'İSTANBUL'`, []uint32{8}},
		{`all where text contains 'i̇st'`, []uint32{8}},
		// Final sigma: 'ΟΔΟΣ'.lower() == 'οδος'.
		{`all where text contains 'οδος'`, []uint32{9}},
		{`all where text contains 'οδοσ'`, nil},
		{`all where text contains 'ΟΔΟΣ'`, []uint32{9}},
		{`all where text contains ''`, all(6)}, // null never matches
		{`all where not text contains 'desi'`, all(0, 6, 7, 12, 13)},
		{`all where text is null`, []uint32{6}},
		{`all where text is not null`, all(6)},
		{`all where not text is null`, all(6)},
		{`all where text has word 'desi'`, []uint32{12}}, // '_' is a word character
		{`all where text has word 'hot'`, []uint32{11, 14}},
		{`all where text has word 'rape'`, []uint32{5}},
		{`all where text matches '^[a-z]+$'`, []uint32{0, 2, 3, 11}},
		{`all where text matches '(?i)^design'`, []uint32{0, 7}},
		{`all where text = 'design'`, []uint32{0}},
		{`all where text = 'DESIGN'`, nil}, // = is case-sensitive
		{`all where text != 'design'`, all(0, 6)},
		{`all where text < 'b'`, []uint32{5, 7, 10, 14}}, // byte order: 'D' < 'b'
		{`all where text in ('design', 'unisex', 'nope')`, []uint32{0, 2}},
		{`all where text not in ('design', 'unisex')`, all(0, 2, 6)},
		{`all where n >= 12`, []uint32{12, 13, 14}},
		{`all where n < 2.5`, []uint32{0, 1, 2}},
		{`all where n != 3`, all(3, 6, 7)},
		{`all where not n = 3`, all(3, 6, 7)},
		{`all where n in (1, 2, 7)`, []uint32{1, 2}},
		{`all where n in (1.0, 2.5)`, []uint32{1}},
		{`all where n is null`, []uint32{6, 7}},
		{`all where f > 1.25`, []uint32{13, 14}},
		{`all where f < 0.35`, []uint32{0, 1, 2}}, // NaN (row 3) never compares
		{`all where not f < 0.35`, all(0, 1, 2, 3)},
		{`all where f != 0`, all(0, 3)},
		{`all where f in (0.4, 0.5)`, []uint32{4, 5}},
		// Numbers compare numerically whatever their spelling (f is i/10).
		{`all where f in (1)`, []uint32{10}},
		{`all where f = 1`, []uint32{10}},
		{`all where f in (1, 0.4)`, []uint32{4, 10}},
		{`all where f not in (1, 0.4)`, all(3, 4, 10)}, // NaN (row 3) is missing
		{`all where n in (1.0, 2)`, []uint32{1, 2}},
		{`all where n not in (1.5)`, all(6, 7)},
		// NaN is missing, as pandas' isna says.
		{`all where f is null`, []uint32{3}},
		{`all where f is not null`, all(3)},
		{`all where not f is null`, all(3)},
		{`all where f contains 'nan'`, nil},
		{`all where b = true`, []uint32{0, 2, 4, 6, 8, 10, 12, 14}},
		{`all where b != true and n > 10`, []uint32{11, 13}},
		{`all where b in (false)`, []uint32{1, 3, 5, 7, 9, 11, 13}},
		// Three-valued logic: row 6 has null text and null n.
		{`all where text contains 'x' or n = 6`, []uint32{2, 3, 7}}, // row 6: null or null
		{`all where text contains 'desi' or n = 8`, []uint32{0, 7, 8, 12, 13}},
		{`all where not (text contains 'desi' or n < 14)`, []uint32{14}},
		{`all where (text is null or text = 'design') and not n is null`, []uint32{0}},
		{`all where text contains 'desi' and f > 0.5`, []uint32{7, 12, 13}},
		{`all where caption contains 'rape'`, []uint32{4, 5}},
		{`all where n contains '1'`, []uint32{1, 10, 11, 12, 13, 14}}, // str(n)
		{`all where f contains '.5'`, []uint32{5}},
		{`all where b contains 'tr'`, []uint32{0, 2, 4, 6, 8, 10, 12, 14}}, // str(True)
		{`all limit 3`, []uint32{0, 1, 2}},
		{`all where text contains 'desi' limit 2`, []uint32{0, 7}},
		{`all limit 5 post where text contains 'sex'`, []uint32{2, 3}},
		{`all post where text contains 'sex'`, []uint32{2, 3}},
	} {
		got := selected(t, s, tt.q, opts)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.q, got, tt.want)
		}
	}
}

// TestIntFloatExact: an int column compares with a float literal exactly,
// as Python does, not after rounding the integer to float64.
func TestIntFloatExact(t *testing.T) {
	ids := []int64{1 << 53, 1<<53 + 1, math.MaxInt64, math.MinInt64, -3, 3}
	s := enginetest.New(len(ids)).AddInts("id", ids, nil)
	for _, tt := range []struct {
		q    string
		want []uint32
	}{
		{`all where id = 9007199254740993.0`, []uint32{0}}, // the literal is 2^53 in float64
		{`all where id = 9007199254740993`, []uint32{1}},
		{`all where id > 9007199254740992.0`, []uint32{1, 2}},
		{`all where id in (9223372036854775807.0)`, nil}, // 2^63: no int64
		{`all where id < 9223372036854775807.0`, []uint32{0, 1, 2, 3, 4, 5}},
		{`all where id >= -9223372036854775808.0`, []uint32{0, 1, 2, 3, 4, 5}},
		{`all where id < -2.5`, []uint32{3, 4}},
		{`all where id > 2.5`, []uint32{0, 1, 2, 5}},
		{`all where id in (-3.0, 3.5)`, []uint32{4}},
	} {
		if got := selected(t, s, tt.q, nil); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.q, got, tt.want)
		}
	}
}

func TestPlanErrors(t *testing.T) {
	s := edgeStore(t)
	for _, tt := range []struct {
		q, msg string
		off    int
	}{
		{`all where nope = 1`, `unknown column "nope" (the store has: b, f, n, text, url)`, 10},
		{`all where text = 'a' and nope ~ 'x'`, `unknown column "nope"`, 25},
		{`all by nope`, `unknown column "nope"`, 7},
		{`all where text = 1`, `cannot compare string column text with a number`, 17},
		{`all where n = 'x'`, `cannot compare int column n with a string`, 14},
		{`all where n in (1, 'x')`, `cannot compare int column n with a string`, 19},
		{`all where b = 1`, `cannot compare bool column b with a number`, 14},
		{`all where b < true`, `bool column b supports only = and !=`, 14},
		{`all where text lexicon nope`, `unknown lexicon "nope" (known: essay2021)`, 23},
		{`all where text matches '(x'`, `bad regular expression`, 23},
		{`knn('x', 3) post where nope = 1`, `unknown column "nope"`, 23},
		{`all where text has word ''`, `has word needs a word`, 24},
		{`all where text matches '(?<=x)y'`, `unsupported regular expression: lookbehind (?<=`, 24},
		{`all where text matches 'it''s(a)\1'`, `unsupported regular expression: backreference \1`, 32},
		{`all where text matches 'a(?!b)'`, `unsupported regular expression: lookahead (?!`, 25},
		{`all where text matches 'a++'`, `unsupported regular expression: possessive quantifier ++`, 25},
		{`all where text matches '\\1'`, ``, -1}, // an escaped backslash then 1: fine
		{`all where not text has word ''`, `has word needs a word`, 28},
	} {
		_, err := engine.Run(context.Background(), s, query.MustParse(tt.q), nil)
		if tt.off < 0 {
			if err != nil {
				t.Errorf("%s: %v", tt.q, err)
			}
			continue
		}
		var e *query.Error
		if !errors.As(err, &e) || !strings.Contains(e.Msg, tt.msg) || e.Off != tt.off {
			t.Errorf("%s: got %v, want %q at %d", tt.q, err, tt.msg, tt.off)
		}
	}
	// A store without vectors or model gives a clear error.
	_, err := engine.Run(context.Background(), s, query.MustParse(`knn('x', 3)`), nil)
	if !errors.Is(err, enginetest.ErrNoModel) || !strings.HasPrefix(err.Error(), "query: target 'x': ") {
		t.Errorf("knn without model: %v", err)
	}
	_, err = engine.Run(context.Background(), s, query.MustParse(`all`), &engine.Options{Lexicons: map[string][]string{"ESSAY2021": {"x"}}})
	if err == nil || !strings.Contains(err.Error(), "built in") {
		t.Errorf("redefining essay2021: %v", err)
	}
	for _, kws := range [][]string{{"a", ""}, {"   "}, {"x", "\t "}} {
		_, err = engine.Run(context.Background(), s, query.MustParse(`all`), &engine.Options{Lexicons: map[string][]string{"mine": kws}})
		if err == nil || !strings.Contains(err.Error(), "empty") {
			t.Errorf("lexicon %q: got %v, want an error about an empty keyword", kws, err)
		}
	}
}

func TestLoadLexicon(t *testing.T) {
	in := "\uFEFFporn\n# a comment\n\nhot \n rape \r\n   \n  aunty  \nlast"
	got, err := engine.LoadLexicon(strings.NewReader(in))
	want := []string{"porn", "hot ", " rape ", "  aunty  ", "last"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("LoadLexicon = %q, %v; want %q", got, err, want)
	}
	if len(engine.Essay2021) != 7 || strings.Join(engine.Essay2021, "|") != "porn|hot |adult|xxx|sex|fuck| rape " {
		t.Errorf("Essay2021 = %q", engine.Essay2021)
	}
}

func TestCancel(t *testing.T) {
	s := enginetest.Generate(5000, 0, 1)
	s.BatchSize = 100
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := engine.Run(ctx, s, query.MustParse(`all where text ~ 'x'`), nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}
