package engine_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/vector"
)

// triStore is an in-memory Store with a trigram index over some columns,
// built from engine.AppendFoldedText as package db builds its files.
type triStore struct {
	*enginetest.Store
	post map[string]map[engine.Trigram]*vector.Bitset
}

func indexed(s *enginetest.Store, cols ...string) *triStore {
	ts := &triStore{Store: s, post: map[string]map[engine.Trigram]*vector.Bitset{}}
	for _, name := range cols {
		c := s.Column(name)
		p := map[engine.Trigram]*vector.Bitset{}
		var buf []byte
		var grams []engine.Trigram
		for i := range s.NumRows() {
			buf = engine.AppendFoldedText(buf[:0], c, i)
			grams = engine.AppendTrigrams(grams[:0], buf)
			for _, g := range grams {
				if p[g] == nil {
					p[g] = vector.NewBitset(s.NumRows())
				}
				p[g].Set(uint32(i))
			}
		}
		ts.post[name] = p
	}
	return ts
}

func (s *triStore) TextIndexed(col string) bool { return s.post[col] != nil }

func (s *triStore) TextCandidates(ctx context.Context, col string, grams []engine.Trigram) (*vector.Bitset, bool, error) {
	p := s.post[col]
	if p == nil {
		return nil, false, nil
	}
	out := vector.NewBitset(s.NumRows())
	out.Fill()
	for _, g := range grams {
		b := p[g]
		if b == nil {
			return vector.NewBitset(s.NumRows()), true, nil
		}
		out.And(b)
	}
	return out, true, nil
}

// hostileStore is a generated store whose title column holds the hostile
// strings and query/doc.go's examples, and whose text column has some too.
func hostileStore(n int) (*enginetest.Store, []string) {
	s := enginetest.Generate(n, 8, 7)
	rng := rand.New(rand.NewPCG(7, 8))
	extra := append(slices.Clone(enginetest.Hostile), "design", "Desi aunty", "unisex", "sussex", "grape ", " rape ", "Hot-dog")
	titles := make([]string, n)
	null := make([]bool, n)
	text := s.Column("text")
	var vals []string
	for i := range titles {
		k := 1 + rng.IntN(3)
		parts := make([]string, k)
		for j := range parts {
			parts[j] = extra[rng.IntN(len(extra))]
		}
		titles[i] = strings.Join(parts, []string{" ", "", "_", "-"}[rng.IntN(4)])
		null[i] = rng.IntN(40) == 0
		if !null[i] {
			vals = append(vals, titles[i])
		}
		if !text.IsNull(i) {
			vals = append(vals, string(text.Str.At(i)))
		}
	}
	return s.AddStrings("title", titles, null), vals
}

// TestTextIndexEqualsScan runs random text predicates (needles cut from
// the values in random case, the hostile ones, regular expressions with
// and without literals, lexicons, and/or/not) through an index and without
// one: every answer and statistic must be equal.
func TestTextIndexEqualsScan(t *testing.T) {
	s, vals := hostileStore(2000)
	s.BatchSize = 700
	ti := indexed(s, "text", "url", "title", "width")
	rng := rand.New(rand.NewPCG(1, 2))
	used, fell := 0, 0
	const n = 2000
	for i := range n {
		where, lx := enginetest.TextQuery(rng, []string{"text", "title", "url", "width"}, vals)
		src := []string{"all", "all", "all", "knn('beautiful', 20)", "all sample 400 seed 3"}[i%5]
		limit := []string{"", "", " limit 7"}[i%3]
		qs := src + " where " + where + limit
		q, err := query.Parse(qs)
		if err != nil {
			t.Fatalf("%s: %v", qs, err)
		}
		opts := &engine.Options{Rows: 5}
		if lx != nil {
			opts.Lexicons = map[string][]string{"lx": lx}
		}
		plan, err := enginetest.SameAnswer(context.Background(), ti, s, q, opts)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.Contains(plan, "text index:"):
			used++
		case strings.Contains(plan, "(scan: "):
			fell++
		}
	}
	t.Logf("%d queries: %d through the index, %d fell back to a scan", n, used, fell)
	if used < n/4 || fell < n/20 {
		t.Errorf("%d of %d queries used the index and %d fell back: the generator does not exercise both", used, n, fell)
	}
}

// TestTextIndexPlan pins what the plan says about the index.
func TestTextIndexPlan(t *testing.T) {
	const n = 200
	text, nsfw := make([]string, n), make([]string, n)
	for i := range n {
		text[i], nsfw[i] = fmt.Sprintf("the caption %d", i), "UNLIKELY"
		if i%50 == 0 {
			text[i] = fmt.Sprintf("the design %d", i)
		}
	}
	base := enginetest.New(n).AddStrings("text", text, nil).AddStrings("url", text, nil).
		AddStrings("title", text, nil).AddStrings("nsfw", nsfw, nil)
	ti := indexed(base, "text", "url")
	f := func(qs, want string) {
		t.Helper()
		q, err := query.Parse(qs)
		if err != nil {
			t.Fatal(err)
		}
		p, err := engine.NewPlan(q, ti, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := p.Run(context.Background(), ti)
		if err != nil {
			t.Fatal(err)
		}
		line := strings.SplitN(res.Plan, "\n", 3)[1]
		if !strings.Contains(line, want) {
			t.Errorf("%s: plan step\n%s\nwant it to contain %q", qs, line, want)
		}
	}
	f(`all where text contains 'desi'`, "text index: 4 candidates of 200 rows; fetch them, columns [text]: where text contains 'desi'")
	f(`all where text contains 'de'`, "scan 200 rows, columns [text]: where text contains 'de'; statistics in the same pass (scan: needle shorter than 3 bytes)")
	f(`all where text contains 'İ'`, "text index: ")  // 'İ'.lower() is "i̇", three bytes
	f(`all where text contains 'ΣΣ'`, "text index: ") // "σς", four bytes
	f(`all where text matches '[a-z]+'`, "(scan: regular expression with no required trigram)")
	f(`all where text matches '(?i)sex'`, "text index: 0 candidates")  // sex or ſex: (?i)s also matches 'ſ', which lowers to itself
	f(`all where text matches '(?i)desi'`, "text index: 4 candidates") // desi or deſi
	f(`all where text matches '(?i)design [0-9]+'`, "text index: 4 candidates")
	f(`all where any lexicon essay2021`, "text index: 0 candidates")
	f(`all where text contains 'desi' or url contains 'capt'`, "(scan: the text index's 200 candidates")
	f(`all where not text contains 'desi'`, "(scan: not: the text index cannot narrow a negation)")
	f(`all where text contains 'desi' or nsfw = 'NSFW'`, "(scan: or with a predicate the text index cannot narrow)")
	f(`all where text contains 'desi' and nsfw = 'NSFW'`, "text index: ")
	f(`all where title contains 'desi'`, "(scan: column title has no text index)")
	f(`all where text contains 'the'`, "(scan: the text index's ")
	f(`all where nsfw = 'NSFW'`, "scan 200 rows, columns [nsfw]: where nsfw = 'NSFW'; statistics in the same pass")

	// Explain asks the index, without reading a row: the candidates and
	// their cost, or why a scan (the in-memory store fetches rows: 1/32,
	// 9 scanned rows a candidate).
	explain := func(qs, want string) {
		t.Helper()
		p, err := engine.NewPlan(query.MustParse(qs), ti, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.Explain(context.Background(), ti)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got, want) {
			t.Errorf("%s: explained\n%s\nwant it to contain %q", qs, got, want)
		}
	}
	explain(`all where text contains 'desi'`, "1. text index: 4 candidates of 200 rows (2%, at most 1/32 for the index); evaluating where on them costs about 36 scanned rows (9.0 each), against 200 for a scan; fetch them")
	explain(`all where text contains 'the'`, "(scan: the text index's 200 candidates are more than 1/32 of the 200 rows; each would cost about 9.0 scanned rows)")
	explain(`all where text contains 'de'`, "(scan: needle shorter than 3 bytes)")
	explain(`knn(row(1), 5) where text contains 'desi'`, "a scan when they are more than 1/32") // not asked: the plan as String says it

	// Options.ScanText: the same answer by a scan, which the plan says.
	q := query.MustParse(`all where text contains 'desi'`)
	viaIndex, err := engine.Run(context.Background(), ti, q, nil)
	if err != nil {
		t.Fatal(err)
	}
	byScan, err := engine.Run(context.Background(), ti, q, &engine.Options{ScanText: true})
	if err != nil {
		t.Fatal(err)
	}
	if line := strings.SplitN(byScan.Plan, "\n", 3)[1]; !strings.Contains(line, "scan 200 rows") || strings.Contains(byScan.Plan, "text index") {
		t.Errorf("ScanText: plan\n%s", byScan.Plan)
	}
	if viaIndex.Selected != 4 || byScan.Selected != 4 || byScan.RowsScanned != n || viaIndex.RowsScanned != 4 {
		t.Errorf("ScanText: %d rows of %d evaluated, through the index %d of %d", byScan.Selected, byScan.RowsScanned, viaIndex.Selected, viaIndex.RowsScanned)
	}
}

// TestRegexpTrigrams checks the literals required of regular expressions,
// and that the runes whose lower case is uncertain split them.
func TestRegexpTrigrams(t *testing.T) {
	f := func(rx string, want ...string) {
		t.Helper()
		got := engine.RegexpNeedles(rx)
		if !slices.Equal(got, want) {
			t.Errorf("%s: needles %q, want %q", rx, got, want)
		}
	}
	f(`desi`, "desi")
	f(`DESI`, "desi")
	f(`(?i)DANCE`, "dance")
	f(`(?i)desi`, "(desi|deſi)") // s folds to ſ too, whose lower case is itself
	f(`(?i)sss`, "(sss|ssſ|sſs|sſſ|ſss|ſsſ|ſſs|ſſſ)")
	f(`(?i)sssss`, "(ssss|sssſ|ssſs|ssſſ|sſss|sſsſ|sſſs|sſſſ|ſsss|ſssſ|ſsſs|ſsſſ|ſſss|ſſsſ|ſſſs|ſſſſ)") // 16 forms, then a split
	f(`(?i)kelvin`, "kelvin")                                                                           // k folds to K (U+212A), whose lower case is k
	f(`ab.cde(fgh)+ij?`, "cde", "fgh")
	f(`xx(abc|def)yyy`, "(abc|def)", "yyy")
	f(`(abc|de)yyy`, "yyy")
	f(`ΟΔΟΣ`, "(οδοσ|οδος)")          // capital sigma lowers by context
	f(`abc\x{FFFD}bcd`, "abc", "bcd") // U+FFFD also matches an invalid byte
	f(`İst`, "i̇st")
	f(`(?i)ΑΓΔ`, "αγδ")
	f(`(?i)ΑΒΓ`, "(αβγ|αϐγ)") // β folds to ϐ too, whose lower case is itself
	f(`x*`)
}
