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
)

// TestLexiconStatsLarge checks a lexicon past maxEachKeywords (counted a
// keyword at a time) against the same keywords in a short one (counted in
// one pass): the per-keyword counts of the shared keywords agree.
func TestLexiconStatsLarge(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	words := []string{"hot ", "sex", "porn", "photo", "shot ", "adult", "xxx", "desi", "a", "the", "fuck", "rape"}
	n := 3000
	text, url := make([]string, n), make([]string, n)
	for i := range n {
		var b strings.Builder
		for range 1 + r.IntN(8) {
			b.WriteString(words[r.IntN(len(words))])
			b.WriteByte(' ')
		}
		text[i] = b.String()
		url[i] = "http://x.com/" + words[r.IntN(len(words))]
	}
	s := enginetest.New(n).AddStrings("text", text, nil).AddStrings("url", url, nil)
	big := slices.Clone(engine.Essay2021)
	for i := range 70 { // past maxEachKeywords, 64
		big = append(big, fmt.Sprintf("zz%03d", i))
	}
	res, err := engine.Run(context.Background(), s, query.MustParse("all"), &engine.Options{Lexicons: map[string][]string{"big": big}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Lexicons) != 2 || len(res.Lexicons[1].PerKeyword) != len(big) {
		t.Fatalf("lexicons %+v", res.Lexicons)
	}
	for k := range engine.Essay2021 {
		if a, b := res.Lexicons[0].PerKeyword[k], res.Lexicons[1].PerKeyword[k]; a != b || a.Either == 0 {
			t.Errorf("keyword %q: %+v in essay2021, %+v in the large lexicon", engine.Essay2021[k], a, b)
		}
	}
	if res.Lexicons[0].Either != res.Lexicons[1].Either {
		t.Errorf("flagged rows: essay2021 %+v, large %+v", res.Lexicons[0].Either, res.Lexicons[1].Either)
	}
}
