package engine_test

import (
	"context"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/query"
)

// This file checks Run's statistics against a brute-force computation that
// shares no code with the production path: one row at a time, strings
// lowered by lowerRef, counts in maps.

// lowerRef is an independent Python str.lower() for the generated data:
// unicode.ToLower, plus 'İ' → "i̇" and final sigma (a capital sigma after a
// letter and not before one).
func lowerRef(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case r == 'İ':
			b.WriteString("i\u0307")
		case r == 'Σ':
			prev := i > 0 && unicode.IsLetter(rs[i-1])
			next := i+1 < len(rs) && unicode.IsLetter(rs[i+1])
			if prev && !next {
				b.WriteRune('ς')
			} else {
				b.WriteRune('σ')
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// row is one generated row, read back from the store's columns.
type row struct {
	text, url, nsfw *string
	sim             *float64
	width           int64
	license         string
}

func readRows(s *enginetest.Store) []row {
	str := func(name string, i int) *string {
		c := s.Column(name)
		if c.IsNull(i) {
			return nil
		}
		v := string(c.Str.At(i))
		return &v
	}
	rows := make([]row, s.NumRows())
	for i := range rows {
		r := &rows[i]
		r.text, r.url, r.nsfw = str("text", i), str("url", i), str("nsfw", i)
		if c := s.Column("similarity"); !c.IsNull(i) {
			v := c.Float[i]
			r.sim = &v
		}
		r.width = s.Column("width").Int[i]
		r.license = string(s.Column("license").Str.At(i))
	}
	return rows
}

func has(p *string, needle string) bool {
	return p != nil && strings.Contains(lowerRef(*p), lowerRef(needle))
}

func hasWord(p *string, w string) bool {
	if p == nil {
		return false
	}
	v := lowerRef(*p)
	for i := 0; ; i++ {
		k := strings.Index(v[i:], w)
		if k < 0 {
			return false
		}
		a, b := i+k, i+k+len(w)
		before, _ := utf8.DecodeLastRuneInString(v[:a])
		after, _ := utf8.DecodeRuneInString(v[b:])
		isW := func(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) }
		if (a == 0 || !isW(before)) && (b == len(v) || !isW(after)) {
			return true
		}
		i = a
	}
}

func flagged(p *string, kws []string) bool {
	for _, k := range kws {
		if has(p, k) {
			return true
		}
	}
	return false
}

func eqStr(p *string, v string) bool { return p != nil && *p == v }

// topK returns the brute-force search answer.
func topK(t *testing.T, s *enginetest.Store, target query.Target, allow func(int) bool, k int, min float32) []engine.Hit {
	t.Helper()
	q, err := s.Vector(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	var hits []engine.Hit
	for r, v := range s.Vectors() {
		if !allow(r) {
			continue
		}
		var dot float32
		for i := range v {
			dot += v[i] * q[i]
		}
		if k == 0 && dot < min {
			continue
		}
		hits = append(hits, engine.Hit{Row: uint32(r), Score: dot})
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		return hits[i].Row < hits[j].Row
	})
	if k > 0 && len(hits) > k {
		hits = hits[:k]
	}
	return hits
}

func TestStatsBruteForce(t *testing.T) {
	s := enginetest.Generate(20000, 8, 42)
	s.BatchSize = 1000 // not a multiple of 64
	s.Parallel = 3
	rows := readRows(s)
	mine := []string{"Desi", " aunty", "Σ"}
	opts := &engine.Options{Lexicons: map[string][]string{"mine": mine}, Rows: 4}
	scan := func(keep func(r row) bool, limit int) []uint32 {
		var out []uint32
		for i, r := range rows {
			if keep(r) && (limit < 0 || len(out) < limit) {
				out = append(out, uint32(i))
			}
		}
		return out
	}
	fromHits := func(hits []engine.Hit, post func(r row) bool) []uint32 {
		var out []uint32
		for _, h := range hits {
			if post == nil || post(rows[h.Row]) {
				out = append(out, h.Row)
			}
		}
		return out
	}
	for _, tt := range []struct {
		q    string
		want func() []uint32
	}{
		{`all`, func() []uint32 { return scan(func(row) bool { return true }, -1) }},
		{`all where text contains 'desi' by license`, func() []uint32 {
			return scan(func(r row) bool { return has(r.text, "desi") }, -1)
		}},
		{`all where any lexicon essay2021 and nsfw != 'UNLIKELY'`, func() []uint32 {
			return scan(func(r row) bool {
				return (flagged(r.text, engine.Essay2021) || flagged(r.url, engine.Essay2021)) && r.nsfw != nil && *r.nsfw != "UNLIKELY"
			}, -1)
		}},
		{`all where text has word 'desi' limit 700`, func() []uint32 {
			return scan(func(r row) bool { return hasWord(r.text, "desi") }, 700)
		}},
		{`all where not text lexicon mine or width < 100 limit 900 post where similarity >= 0.3`, func() []uint32 {
			first := scan(func(r row) bool { return (r.text != nil && !flagged(r.text, mine)) || r.width < 100 }, 900)
			var out []uint32
			for _, i := range first {
				if r := rows[i]; r.sim != nil && *r.sim >= 0.3 {
					out = append(out, i)
				}
			}
			return out
		}},
		{`knn('beautiful', 500) where nsfw = 'UNSURE'`, func() []uint32 {
			return fromHits(topK(t, s, query.Target{Kind: query.TargetText, Text: "beautiful"},
				func(i int) bool { return eqStr(rows[i].nsfw, "UNSURE") }, 500, 0), nil)
		}},
		{`knn('beautiful', 300) post where text contains 'hot '`, func() []uint32 {
			return fromHits(topK(t, s, query.Target{Kind: query.TargetText, Text: "beautiful"},
				func(int) bool { return true }, 300, 0), func(r row) bool { return has(r.text, "hot ") })
		}},
		{`within(row(5), 0.5) where width > 500`, func() []uint32 {
			return fromHits(topK(t, s, query.Target{Kind: query.TargetRow, Row: 5},
				func(i int) bool { return rows[i].width > 500 }, 0, 0.5), nil)
		}},
		{`knn(id(1015), 50) where text is null`, func() []uint32 {
			return fromHits(topK(t, s, query.Target{Kind: query.TargetRow, Row: 5},
				func(i int) bool { return rows[i].text == nil }, 50, 0), nil)
		}},
	} {
		res, err := engine.Run(context.Background(), s, query.MustParse(tt.q), opts)
		if err != nil {
			t.Fatalf("%s: %v", tt.q, err)
		}
		want := tt.want()
		var got []uint32
		if res.Hits != nil {
			for _, h := range res.Hits {
				got = append(got, h.Row)
			}
		} else {
			res.Selection.ForEach(func(r uint32) bool { got = append(got, r); return true })
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: selected %d rows, want %d", tt.q, len(got), len(want))
			continue
		}
		t.Logf("%s: %d rows selected", tt.q, len(want))
		checkStats(t, tt.q, res, rows, want, map[string][]string{"essay2021": engine.Essay2021, "mine": mine})
		if len(res.Rows) != min(4, len(want)) {
			t.Errorf("%s: %d result rows", tt.q, len(res.Rows))
		}
		for i, rr := range res.Rows {
			r := rows[want[i]]
			if rr.Row != want[i] || !slices.Equal(ptr(rr.Text), ptr(r.text)) || !slices.Equal(ptr(rr.NSFW), ptr(r.nsfw)) {
				t.Errorf("%s: row %d = %+v", tt.q, i, rr)
			}
		}
	}
}

func ptr(p *string) []string {
	if p == nil {
		return nil
	}
	return []string{*p}
}

func checkStats(t *testing.T, q string, res *engine.Result, rows []row, sel []uint32, lexicons map[string][]string) {
	t.Helper()
	n := len(sel)
	if res.Selected != n {
		t.Errorf("%s: Selected %d, want %d", q, res.Selected, n)
	}
	// nsfw counts, null apart.
	nsfw := map[string]int{}
	null := 0
	for _, i := range sel {
		if p := rows[i].nsfw; p == nil {
			null++
		} else {
			nsfw[*p]++
		}
	}
	gotNSFW := map[string]int{}
	gotNull := 0
	sum := 0
	for _, v := range res.NSFW.Values {
		sum += v.Count
		if v.Null {
			gotNull = v.Count
		} else {
			gotNSFW[v.Value] = v.Count
		}
	}
	if gotNull != null || !mapsEqual(gotNSFW, nsfw) || sum != n {
		t.Errorf("%s: nsfw %v null %d, want %v null %d", q, gotNSFW, gotNull, nsfw, null)
	}
	// Lexicons.
	for _, lx := range res.Lexicons {
		kws := lexicons[lx.Name]
		var text, url, either int
		perKW := make([][3]int, len(kws))
		cross := map[string][2]int{}
		for _, i := range sel {
			r := rows[i]
			ft, fu := flagged(r.text, kws), flagged(r.url, kws)
			text += b2i(ft)
			url += b2i(fu)
			either += b2i(ft || fu)
			key := "(null)"
			if r.nsfw != nil {
				key = *r.nsfw
			}
			c := cross[key]
			c[0]++
			c[1] += b2i(ft || fu)
			cross[key] = c
			for k, kw := range kws {
				a, b := has(r.text, kw), has(r.url, kw)
				perKW[k][0] += b2i(a)
				perKW[k][1] += b2i(b)
				perKW[k][2] += b2i(a || b)
			}
		}
		if lx.Text.Count != text || lx.URL.Count != url || lx.Either.Count != either {
			t.Errorf("%s: lexicon %s text/url/either %d/%d/%d, want %d/%d/%d", q, lx.Name,
				lx.Text.Count, lx.URL.Count, lx.Either.Count, text, url, either)
		}
		for k, kc := range lx.PerKeyword {
			if kc.Keyword != kws[k] || [3]int{kc.Text, kc.URL, kc.Either} != perKW[k] {
				t.Errorf("%s: lexicon %s keyword %q: %+v, want %v", q, lx.Name, kws[k], kc, perKW[k])
			}
		}
		gotCross := map[string][2]int{}
		for _, c := range lx.ByNSFW {
			key := c.NSFW
			if c.Null {
				key = "(null)"
			}
			gotCross[key] = [2]int{c.Rows, c.Flagged}
		}
		if !mapsEqual(gotCross, cross) {
			t.Errorf("%s: lexicon %s cross-tab %v, want %v", q, lx.Name, gotCross, cross)
		}
		// Wilson interval contains the share and lies in [0, 1].
		if p := lx.Either; n > 0 && (p.Lo > p.Share || p.Hi < p.Share || p.Lo < 0 || p.Hi > 1) {
			t.Errorf("%s: bad interval %+v", q, p)
		}
	}
	// Similarity.
	var vals []float64
	var snull, nan, above, below, lo03 int
	for _, i := range sel {
		p := rows[i].sim
		switch {
		case p == nil:
			snull++
		case math.IsNaN(*p):
			nan++
		case *p > 1:
			above++
		case *p < -1:
			below++
		default:
			vals = append(vals, *p)
			if *p < 0.3 {
				lo03++
			}
		}
	}
	st := res.Similarity
	if st.Valid != len(vals) || st.Null != snull || st.NaN != nan || st.Above1 != above ||
		st.BelowMinus1 != below || st.Below03 != lo03 || st.Invalid != snull+nan+above+below {
		t.Errorf("%s: similarity %+v", q, st)
	}
	if len(vals) > 0 {
		sort.Float64s(vals)
		// numpy's linear interpolation, computed the long way.
		med := vals[len(vals)/2]
		if len(vals)%2 == 0 {
			med = (vals[len(vals)/2-1] + vals[len(vals)/2]) / 2
		}
		if st.Min != vals[0] || st.Max != vals[len(vals)-1] || math.Abs(st.Median-med) > 1e-12 ||
			st.Q1 < vals[0] || st.Q1 > st.Median || st.Q3 < st.Median || st.Q3 > vals[len(vals)-1] {
			t.Errorf("%s: similarity %+v, want min %v median %v max %v", q, st, vals[0], med, vals[len(vals)-1])
		}
	}
	// Search stats.
	if s := res.Search; s != nil && n > 0 {
		lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
		for _, h := range res.Hits {
			lo, hi = min(lo, h.Score), max(hi, h.Score)
		}
		if s.ScoreMin != lo || s.ScoreMax != hi || (s.Kind == "knn" && s.Returned > s.K) {
			t.Errorf("%s: search %+v", q, s)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestNilLabelCounts: a store without an nsfw column has a nil NSFW, and
// its accessors answer without panicking.
func TestNilLabelCounts(t *testing.T) {
	s := enginetest.New(3).AddStrings("text", []string{"a", "desi", "b"}, nil)
	res, err := engine.Run(context.Background(), s, query.MustParse("all where text contains 'desi'"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.NSFW != nil || res.NSFW.All() != nil || res.NSFW.Count("UNLIKELY") != 0 || res.Selected != 1 {
		t.Errorf("NSFW = %+v, selected %d", res.NSFW, res.Selected)
	}
}
