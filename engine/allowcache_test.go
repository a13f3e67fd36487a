package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/query"
)

// TestAllowCache: a search's where is evaluated once per store content,
// predicate and lexicons; the answer is the same with or without the
// cache, and only its method says the list was reused. Predicates that read
// a file are never kept, and the byte budget holds.
func TestAllowCache(t *testing.T) {
	s := enginetest.Generate(2000, 8, 3)
	list := filepath.Join(t.TempDir(), "urls.txt")
	os.WriteFile(list, []byte("x\n"), 0o644)
	cache := engine.NewAllowCache(1 << 20)
	run := func(q string, lex map[string][]string, c *engine.AllowCache) *engine.Result {
		t.Helper()
		res, err := engine.Run(context.Background(), s, query.MustParse(q), &engine.Options{AllowCache: c, Lexicons: lex, Rows: 5})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return res
	}
	same := func(a, b *engine.Result) bool {
		if a.Selected != b.Selected || a.RowsScanned != b.RowsScanned || len(a.Hits) != len(b.Hits) {
			return false
		}
		for i := range a.Hits {
			if a.Hits[i] != b.Hits[i] {
				return false
			}
		}
		return true
	}
	lexA := map[string][]string{"mine": {"a"}}
	lexB := map[string][]string{"mine": {"b"}}
	for _, tc := range []struct {
		q        string
		lex      map[string][]string
		want     bool // the second run reuses the first's list
		misses   int64
		withLex2 bool
	}{
		{q: "knn(row(3), 10) where nsfw = 'UNLIKELY'", want: true},
		{q: "within(row(3), 0.2) where width < 500 and text contains 'a'", want: true},
		{q: "knn(row(3), 10) where url not in file('" + list + "')", want: false},
		{q: "knn(row(3), 10) where text lexicon mine", lex: lexA, want: true, withLex2: true},
	} {
		plain := run(tc.q, tc.lex, nil)
		first := run(tc.q, tc.lex, cache)
		second := run(tc.q, tc.lex, cache)
		if !same(plain, first) || !same(plain, second) {
			t.Errorf("%s: answers differ with the cache", tc.q)
		}
		if strings.Contains(first.Search.Method, "reused") {
			t.Errorf("%s: the first run claims a reused list", tc.q)
		}
		if got := strings.Contains(second.Search.Method, "reused"); got != tc.want {
			t.Errorf("%s: second run reused %v, want %v (method %q)", tc.q, got, tc.want, second.Search.Method)
		}
		if tc.withLex2 {
			// The same predicate over another lexicon of the same name.
			other := run(tc.q, lexB, cache)
			if strings.Contains(other.Search.Method, "reused") || !same(other, run(tc.q, lexB, nil)) {
				t.Errorf("%s: a lexicon with other keywords reused the list", tc.q)
			}
		}
	}
	// A budget smaller than one list keeps nothing.
	tiny := engine.NewAllowCache(100)
	run("knn(row(3), 10) where nsfw = 'UNLIKELY'", nil, tiny)
	if r := run("knn(row(3), 10) where nsfw = 'UNLIKELY'", nil, tiny); strings.Contains(r.Search.Method, "reused") {
		t.Error("a 100-byte cache kept a 250-byte list")
	}
	// Room for one: the older entry leaves.
	one := engine.NewAllowCache(400)
	run("knn(row(3), 10) where nsfw = 'UNLIKELY'", nil, one)
	run("knn(row(3), 10) where nsfw = 'NSFW'", nil, one)
	if r := run("knn(row(3), 10) where nsfw = 'UNLIKELY'", nil, one); strings.Contains(r.Search.Method, "reused") {
		t.Error("the least recently used list was not dropped")
	}
	if hits, misses := one.Stats(); hits != 0 || misses != 3 {
		t.Errorf("stats %d hits %d misses, want 0 and 3", hits, misses)
	}
}
