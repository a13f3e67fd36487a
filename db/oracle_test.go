package db_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/laiondb/laiondb/db"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/internal/oracle"
)

// The differential test: seeded random rows full of edge cases, ingested
// into a real store, and seeded random queries over the whole language,
// each run through db.Query and through oracle.py, an independent Python
// (pandas/numpy) implementation of query/doc.go; every figure of the two
// answers must agree. A longer run:
//
//	LAIONDB_ORACLE_QUERIES=50000 LAIONDB_ORACLE_SEED=7 go test -run TestOracle ./db
//
// (scripts/oracle.sh; the default is 2,000 queries, 500 under -race).
// LAIONDB_ORACLE_VERBOSE=1 prints every disagreeing query, not only the
// first few.

// oracleOrSkip returns the shared oracle process, skipping the test when
// Python cannot import pandas and numpy (failing under CI).
func oracleOrSkip(t testing.TB) *oracle.Oracle {
	t.Helper()
	o, err := oracle.Shared()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the differential test needs its oracle under CI: %v", err)
		}
		t.Skipf("skipping the differential test (scripts/install-oracle.sh installs what it needs): %v", err)
	}
	return o
}

func envInt(t testing.TB, name string, def uint64) uint64 {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, s, err)
	}
	return v
}

// oracleStore is a generated dataset ingested into a store.
type oracleStore struct {
	ds  *oracle.Dataset
	d   *db.DB
	gen *oracle.Gen
}

func buildOracleStore(t testing.TB, dir string, cfg oracle.Config) *oracleStore {
	t.Helper()
	ds, err := oracle.Generate(filepath.Join(dir, "input"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(filepath.Join(dir, "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var srcs []db.Source
	for _, p := range ds.Parts {
		srcs = append(srcs, db.Source{Metadata: p.Parquet, ImageEmb: p.Npy})
	}
	res, err := d.Ingest(context.Background(), srcs, nil)
	if err != nil {
		d.Close()
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Normalized != 0 {
			// The oracle reads the .npy files: they must be what is stored.
			d.Close()
			t.Fatalf("ingest of %s normalised %d vectors; the generator keeps norms within 1e-2", r.Name, r.Normalized)
		}
	}
	return &oracleStore{ds: ds, d: d, gen: oracle.NewGen(ds)}
}

// outcome is one query checked.
type outcome struct {
	q     *oracle.Query
	text  string
	res   *engine.Result
	err   error
	ans   *oracle.Answer
	diffs []oracle.Diff
}

// run runs a query through laiondb, recovering a panic as an error.
func (s *oracleStore) run(text string, opts *engine.Options) (res *engine.Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("PANIC: %v", r)
		}
	}()
	return s.d.Query(context.Background(), text, opts)
}

// check runs q through laiondb and the oracle and compares the answers.
// For searches the store's own search list (the hits of q.Aux()) goes to
// the oracle, which checks it against the cosines with the tolerances of
// near-ties and then uses it, so that near-ties cannot make spurious
// differences downstream. The error is a failure of the harness.
func (s *oracleStore) check(o *oracle.Oracle, q *oracle.Query) (*outcome, error) {
	out := &outcome{q: q, text: q.Text()}
	opts := &engine.Options{Lexicons: q.Lexicons}
	out.res, out.err = s.run(out.text, opts)
	var observed []engine.Hit
	var auxDiff *oracle.Diff
	if q.IsSearch() && out.err == nil {
		aux, err := s.run(q.Aux().Text(), opts)
		if err != nil {
			auxDiff = &oracle.Diff{Kind: "error-aux", Figure: "search list", Got: err.Error(), Want: "the hits of " + q.Aux().Text()}
		} else {
			observed = append([]engine.Hit{}, aux.Hits...)
		}
	}
	ans, err := o.Query(s.ds, q, observed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", out.text, err)
	}
	out.ans = ans
	out.diffs = oracle.Compare(out.res, out.err, ans)
	if auxDiff != nil {
		out.diffs = append([]oracle.Diff{*auxDiff}, out.diffs...)
	}
	for i, d := range out.diffs {
		if strings.HasPrefix(d.Got, "error: PANIC") {
			out.diffs[i].Kind = "panic"
		}
	}
	return out, nil
}

// report describes a disagreement: the query, the first differing figure,
// the others, and both answers.
func (out *outcome) report(full bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "query: %s\n", out.q)
	fmt.Fprintf(&b, "  first difference: %s\n", out.diffs[0])
	for i, d := range out.diffs[1:] {
		if i == 8 {
			fmt.Fprintf(&b, "  ... and %d more\n", len(out.diffs)-9)
			break
		}
		fmt.Fprintf(&b, "  also: %s\n", d)
	}
	if full {
		if out.err != nil {
			fmt.Fprintf(&b, "  laiondb: error %s\n", strings.ReplaceAll(out.err.Error(), "\n", "\n    "))
		} else {
			j, _ := json.Marshal(out.res)
			fmt.Fprintf(&b, "  laiondb: %s\n", j)
			if out.res.Hits != nil {
				fmt.Fprintf(&b, "  laiondb hits: %v\n", out.res.Hits)
			}
		}
		fmt.Fprintf(&b, "  oracle:  %s\n", out.ans.Raw())
	}
	return b.String()
}

// minimize shrinks a query while it keeps a difference of the given kind,
// within a budget of checks.
func (s *oracleStore) minimize(o *oracle.Oracle, out *outcome, kind string) *outcome {
	has := func(x *outcome) bool {
		for _, d := range x.diffs {
			if d.Kind == kind {
				return true
			}
		}
		return false
	}
	budget := 150
	for budget > 0 {
		progressed := false
		for _, c := range out.q.Shrinks() {
			if budget--; budget < 0 {
				break
			}
			x, err := s.check(o, c)
			if err == nil && has(x) {
				out, progressed = x, true
				break
			}
		}
		if !progressed {
			break
		}
	}
	return out
}

// summary groups disagreements by kind of differing figure: kinds about
// which rows are selected (and errors), and kinds about the statistics of
// the rows, counted only where laiondb and the oracle selected the same
// rows (elsewhere they are consequences). Per kind it keeps the count and
// the shortest few queries.
type summary struct {
	n, failed int
	sel, stat map[string]*kindStat
}

type kindStat struct {
	count    int
	shortest []*outcome // by text length, at most keepShortest
	sample   []*outcome // a uniform sample of at most keepSample, for variety
}

const (
	keepShortest = 6
	keepSample   = 10
)

func (k *kindStat) add(out *outcome) {
	k.count++
	// Reservoir sampling, seeded by the count: deterministic.
	if len(k.sample) < keepSample {
		k.sample = append(k.sample, out)
	} else if j := int(uint64(k.count) * 0x9e3779b97f4a7c15 >> 33 % uint64(k.count)); j < keepSample {
		k.sample[j] = out
	}
	i := sort.Search(len(k.shortest), func(i int) bool { return len(k.shortest[i].text) > len(out.text) })
	if i == keepShortest {
		return
	}
	k.shortest = append(k.shortest, nil)
	copy(k.shortest[i+1:], k.shortest[i:])
	k.shortest[i] = out
	if len(k.shortest) > keepShortest {
		k.shortest = k.shortest[:keepShortest]
	}
}

func (sm *summary) add(out *outcome) {
	sm.n++
	if len(out.diffs) == 0 {
		return
	}
	sm.failed++
	if sm.sel == nil {
		sm.sel, sm.stat = map[string]*kindStat{}, map[string]*kindStat{}
	}
	selDiff := false
	for _, d := range out.diffs {
		selDiff = selDiff || oracle.SelectionKind(d.Kind)
	}
	seen := map[string]bool{}
	for _, d := range out.diffs {
		if seen[d.Kind] {
			continue
		}
		seen[d.Kind] = true
		m := sm.stat
		if oracle.SelectionKind(d.Kind) {
			m = sm.sel
		} else if selDiff {
			continue
		}
		if m[d.Kind] == nil {
			m[d.Kind] = &kindStat{}
		}
		m[d.Kind].add(out)
	}
}

// report lists the kinds of disagreement, most frequent first, each with
// minimised examples of distinct shapes (within a budget of time).
func (sm *summary) report(s *oracleStore, o *oracle.Oracle, seed uint64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d queries disagree with the oracle (seed %d).\n", sm.failed, sm.n, seed)
	deadline := time.Now().Add(20 * time.Second)
	section := func(title string, m map[string]*kindStat) {
		if len(m) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n%s\n", title)
		kinds := make([]string, 0, len(m))
		for k := range m {
			kinds = append(kinds, k)
		}
		sort.Slice(kinds, func(i, j int) bool {
			if a, b := m[kinds[i]].count, m[kinds[j]].count; a != b {
				return a > b
			}
			return kinds[i] < kinds[j]
		})
		for _, k := range kinds {
			fmt.Fprintf(&b, "\n== %s: %d queries\n", k, m[k].count)
			shapes := map[string]bool{}
			cands := append(append([]*outcome(nil), m[k].shortest...), m[k].sample...)
			for i, out := range cands {
				if len(shapes) == 6 || (i > 0 && time.Now().After(deadline)) {
					break
				}
				x := out
				if time.Now().Before(deadline) {
					x = s.minimize(o, out, k)
				}
				sig := x.q.Signature()
				if shapes[sig] {
					continue
				}
				shapes[sig] = true
				for _, d := range x.diffs {
					if d.Kind == k {
						fmt.Fprintf(&b, "   e.g. %s\n        %s\n", x.q, d)
						break
					}
				}
			}
		}
	}
	section("-- Which rows are selected, their order and scores, or whether the query is an error:", sm.sel)
	section("-- Statistics, where both select the same rows:", sm.stat)
	return b.String()
}

func TestOracle(t *testing.T) {
	o := oracleOrSkip(t)
	seed := envInt(t, "LAIONDB_ORACLE_SEED", 1)
	nq := int(envInt(t, "LAIONDB_ORACLE_QUERIES", oracleDefaultQueries))
	verbose := os.Getenv("LAIONDB_ORACLE_VERBOSE") != ""
	start := time.Now()
	s := buildOracleStore(t, t.TempDir(), oracle.Config{Seed: seed, PartRows: []int{130, 100, 70}, Dim: 8})
	defer s.d.Close()
	r := oracle.NewRand(seed)
	var sm summary
	shown := 0
	for i := 0; i < nq; i++ {
		q := s.gen.Query(r)
		out, err := s.check(o, q)
		if err != nil {
			if errors.Is(err, oracle.ErrUnsupported) {
				t.Errorf("generator bug (the oracle cannot judge): %v", err)
				continue
			}
			t.Fatal(err)
		}
		sm.add(out)
		if len(out.diffs) > 0 && (verbose || shown < 5) {
			shown++
			t.Errorf("query %d of seed %d disagrees:\n%s", i, seed, out.report(true))
		}
	}
	t.Logf("%d queries on %d rows (seed %d) in %v", sm.n, len(s.ds.Rows), seed, time.Since(start).Round(time.Millisecond))
	if sm.failed > 0 {
		t.Error(sm.report(s, o, seed))
	}
}

// fuzzOracleStores caches a store per dataset seed within a fuzzing
// process: an ingest per input would make each iteration slow.
var fuzzOracleStores struct {
	sync.Mutex
	dir    string
	stores map[uint64]*oracleStore
}

// FuzzOracle generates a small dataset from the seed (one of 4) and a query
// from the bytes, and checks laiondb's answer against the oracle's.
func FuzzOracle(f *testing.F) {
	f.Add(uint64(0), []byte("knn"))
	f.Add(uint64(1), []byte{3, 200, 17, 5, 99, 42, 8, 0, 250, 31, 7, 77, 13})
	f.Add(uint64(2), []byte("all where text has word 'desi' and not nsfw is null"))
	f.Add(uint64(3), []byte{255, 254, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17})
	o := oracleOrSkip(f)
	// Stores live in one directory per process; those of fuzz workers
	// that are gone (workers are killed, not cleaned up) are removed.
	old, _ := filepath.Glob(filepath.Join(os.TempDir(), "laiondb-oracle-fuzz-*"))
	for _, p := range old {
		var pid int
		if _, err := fmt.Sscanf(filepath.Base(p), "laiondb-oracle-fuzz-%d", &pid); err == nil && pid != os.Getpid() && syscall.Kill(pid, 0) != nil {
			os.RemoveAll(p)
		}
	}
	st := &fuzzOracleStores
	f.Cleanup(func() {
		st.Lock()
		defer st.Unlock()
		for _, s := range st.stores {
			s.d.Close()
		}
		if st.dir != "" {
			os.RemoveAll(st.dir)
		}
		st.stores, st.dir = nil, ""
	})
	get := func(t *testing.T, seed uint64) *oracleStore {
		st.Lock()
		defer st.Unlock()
		if st.stores == nil {
			st.dir = filepath.Join(os.TempDir(), fmt.Sprintf("laiondb-oracle-fuzz-%d", os.Getpid()))
			st.stores = map[uint64]*oracleStore{}
		}
		s := st.stores[seed]
		if s == nil {
			s = buildOracleStore(t, filepath.Join(st.dir, strconv.FormatUint(seed, 10)), oracle.Config{Seed: 100 + seed, PartRows: []int{20 + 7*int(seed), 15}, Dim: 8})
			st.stores[seed] = s
		}
		return s
	}
	f.Fuzz(func(t *testing.T, seed uint64, data []byte) {
		s := get(t, seed%4)
		q := s.gen.Query(oracle.ByteRand(data))
		out, err := s.check(o, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.diffs) > 0 {
			t.Fatalf("disagreement:\n%s", out.report(true))
		}
	})
}

// Tree builders for the probes.
func fld(name string) *oracle.Field   { return &oracle.Field{Name: name} }
func qfld(name string) *oracle.Field  { return &oracle.Field{Name: name, Quoted: true} }
func num(text string) oracle.Literal  { return oracle.Literal{Kind: "num", Text: text} }
func strl(s string) oracle.Literal    { return oracle.Literal{Kind: "str", S: s} }
func anyf() *oracle.Field             { return &oracle.Field{Any: true} }
func not(x *oracle.Expr) *oracle.Expr { return &oracle.Expr{Op: "not", X: x} }

func cmp(f *oracle.Field, op string, l oracle.Literal) *oracle.Expr {
	return &oracle.Expr{Op: "cmp", Field: f, Cmp: op, Spell: op, Lit: &l}
}

func in(f *oracle.Field, neg bool, lits ...oracle.Literal) *oracle.Expr {
	return &oracle.Expr{Op: "in", Field: f, Not: neg, Lits: lits}
}

func isNull(f *oracle.Field, neg bool) *oracle.Expr {
	return &oracle.Expr{Op: "null", Field: f, Not: neg}
}

func text(op string, f *oracle.Field, pat string) *oracle.Expr {
	return &oracle.Expr{Op: op, Field: f, Pat: pat, Spell: "contains"}
}

func lexicon(f *oracle.Field, name string) *oracle.Expr {
	return &oracle.Expr{Op: "lexicon", Field: f, Name: name}
}

func allQ(where *oracle.Expr) *oracle.Query {
	return &oracle.Query{Source: oracle.Source{Kind: "all"}, Where: where}
}

func knnQ(t *oracle.Target, k string, where *oracle.Expr) *oracle.Query {
	return &oracle.Query{Source: oracle.Source{Kind: "knn", Target: t, K: k}, Where: where}
}

func withinQ(t *oracle.Target, s string, where *oracle.Expr) *oracle.Query {
	return &oracle.Query{Source: oracle.Source{Kind: "within", Target: t, Threshold: s}, Where: where}
}

func rowT(i int) *oracle.Target { return &oracle.Target{Kind: "row", N: strconv.Itoa(i)} }

// TestOracleProbes checks, one named query each, the semantics the random
// queries of TestOracle may reach only now and then (query/doc.go and the
// numbered points a–i of the oracle's semantics: numbers compare
// numerically, scores are cosines, has word ” is an error, NaN is null,
// knn tie order, number spellings, reserved keywords, nulls in text
// predicates, limit before post where).
func TestOracleProbes(t *testing.T) {
	o := oracleOrSkip(t)
	s := buildOracleStore(t, t.TempDir(), oracle.Config{Seed: 1, PartRows: []int{130, 100, 70}, Dim: 8})
	defer s.d.Close()
	ds := s.ds
	// A row whose vector equals an earlier row's (a tie the target must win),
	// and a row with a SAMPLE_ID.
	dupLater, dupEarlier := -1, -1
	for i := 0; i+1 < len(ds.Dups); i += 2 {
		if ds.Dups[i] < ds.Dups[i+1] {
			dupEarlier, dupLater = ds.Dups[i], ds.Dups[i+1]
			break
		}
	}
	if dupLater < 0 {
		t.Fatal("the dataset has no duplicate vectors")
	}
	idRow := -1
	for i, r := range ds.Rows {
		if r.SampleID != nil && *r.SampleID >= 0 && *r.SampleID < 1e6 {
			idRow = i
			break
		}
	}
	vec5 := &oracle.Target{Kind: "vec"}
	for _, x := range ds.Vecs[5] {
		vec5.Values = append(vec5.Values, strconv.FormatFloat(float64(x)*1.5, 'g', -1, 64))
	}
	post := func(q *oracle.Query, lim string, p *oracle.Expr) *oracle.Query {
		q.Limit, q.Post = &lim, p
		return q
	}
	by := func(q *oracle.Query, f ...oracle.Field) *oracle.Query {
		q.By = f
		return q
	}
	unlikely := cmp(fld("nsfw"), "=", strl("UNLIKELY"))
	probes := []struct {
		name string
		q    *oracle.Query
	}{
		{"a/similarity in (1) matches 1.0", allQ(in(fld("similarity"), false, num("1")))},
		{"a/similarity not in (6016) drops 6016.0", allQ(in(fld("similarity"), true, num("6016")))},
		{"a/width in (1.0) matches 1", allQ(in(fld("width"), false, num("1.0")))},
		{"a/width in (1.5) matches nothing", allQ(in(fld("width"), false, num("1.5")))},
		{"a/punsafe in (0) matches 0.0", allQ(in(fld("punsafe"), false, num("0")))},
		{"a/in (1, 6016) in the allow-list of knn", knnQ(rowT(0), "10", in(fld("similarity"), false, num("1"), num("6016")))},
		{"a/not in (6016) in the allow-list of within", withinQ(rowT(0), "-1", in(fld("similarity"), true, num("6016")))},
		{"a/sample_id = 9007199254740993.0 is 2^53 exactly", allQ(cmp(fld("sample_id"), "=", num("9007199254740993.0")))},
		{"a/sample_id in (9223372036854775807.0) is 2^63, no int64", allQ(in(fld("sample_id"), false, num("9223372036854775807.0")))},
		{"b/row(N) scores itself 1", knnQ(rowT(dupEarlier), "3", nil)},
		{"b/id(N) scores its row 1", knnQ(&oracle.Target{Kind: "id", Word: "id", N: strconv.FormatInt(*ds.Rows[idRow].SampleID, 10)}, "3", nil)},
		{"b/inline vector (1.5 × row 5) scores cosines", knnQ(vec5, "5", nil)},
		{"b/vector('q32.npy') scores cosines", knnQ(&oracle.Target{Kind: "npy", Path: ds.Npy[1]}, "5", nil)},
		{"b/within(row(N), 0.95) is cosine >= 0.95", withinQ(rowT(dupEarlier), "0.95", nil)},
		{"c/has word '' is an error", allQ(text("word", fld("text"), ""))},
		{"c/a lexicon with an empty keyword is an error", &oracle.Query{Source: oracle.Source{Kind: "all"}, Lexicons: oracle.LexiconSets[4]}},
		{"d/similarity is null holds for NaN", allQ(isNull(fld("similarity"), false))},
		{"d/\"limit\" is not null fails for NaN", allQ(isNull(qfld("limit"), true))},
		{"d/punsafe (float32) is null holds for NaN", allQ(isNull(fld("punsafe"), false))},
		{"d/not \"limit\" > 0 is unknown for NaN", allQ(not(cmp(qfld("limit"), ">", num("0"))))},
		{"d/by similarity counts NaN as null", by(allQ(nil), *fld("similarity"))},
		{"e/knn tie: the target row first", knnQ(rowT(dupLater), "3", nil)},
		{"e/within tie: the target row first", withinQ(rowT(dupLater), "0.999", nil)},
		{"f/number spellings +1, .5, 1.", allQ(in(fld("width"), false, num("+1"), num(".5"), num("1.")))},
		{"f/similarity >= .3 and <= 1.", allQ(&oracle.Expr{Op: "and", X: cmp(fld("similarity"), ">=", num(".3")), Y: cmp(fld("similarity"), "<=", num("1."))})},
		{"f/knn(row(0), +5)", knnQ(rowT(0), "+5", nil)},
		{"f/lexicon ESSAY2021", allQ(lexicon(fld("text"), "ESSAY2021"))},
		{"g/bare keyword column limit is an error", allQ(cmp(fld("limit"), ">", num("0")))},
		{"g/bare keyword column and is an error", allQ(cmp(fld("and"), "=", num("1")))},
		{"g/by by is an error", by(allQ(nil), *fld("by"))},
		{"g/quoted keyword columns work", by(allQ(cmp(qfld("limit"), ">", num("0"))), *qfld("by"))},
		{"h/not text contains on null text", allQ(not(text("contains", fld("text"), "desi")))},
		{"h/not any contains on null text or url", allQ(not(text("contains", anyf(), "desi")))},
		{"h/text matches '' on null text", allQ(text("matches", fld("text"), ""))},
		{"i/all: limit, then post where", post(allQ(text("contains", fld("text"), "e")), "5", unlikely)},
		{"i/knn: limit, then post where", post(knnQ(rowT(0), "20", nil), "5", unlikely)},
		{"str() of float32 values is the widened float64's", allQ(text("contains", fld("punsafe"), "149011612"))},
		{"by of float32 values shows the widened float64", by(allQ(nil), *fld("pwatermark"))},
	}
	for _, p := range probes {
		t.Run(p.name, func(t *testing.T) {
			out, err := s.check(o, p.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.diffs) > 0 {
				t.Errorf("%s", out.report(false))
			}
		})
	}
}
