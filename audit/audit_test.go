package audit_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/laiondb/laiondb/audit"
	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/query"
)

// store adapts an in-memory store to audit.Querier. approx makes its knn
// answers without where look approximate, dropping the last exact hit for
// the next one, so the index check has something to find.
type store struct {
	s      *enginetest.Store
	approx bool
}

func (q *store) Query(ctx context.Context, text string, opts *engine.Options) (*engine.Result, error) {
	pq, err := query.Parse(text)
	if err != nil {
		return nil, err
	}
	res, err := engine.Run(ctx, q.s, pq, opts)
	if err != nil || !q.approx || opts.Exact || pq.Where != nil {
		return res, err
	}
	if k, ok := pq.Source.(*query.KNNSource); ok && len(res.Hits) == int(k.K) {
		more, err := engine.Run(ctx, q.s, &query.Query{Source: &query.KNNSource{Target: k.Target, K: k.K + 1}, Limit: -1}, opts)
		if err != nil {
			return nil, err
		}
		res.Hits = append(res.Hits[:len(res.Hits)-1], more.Hits[len(more.Hits)-1])
		res.Exact = false
	}
	return res, nil
}

func (q *store) Columns() []string {
	var out []string
	for _, c := range q.s.Columns() {
		out = append(out, c.Name)
	}
	return out
}

func newStore(t *testing.T, terms []string) *enginetest.Store {
	t.Helper()
	s := enginetest.Generate(4000, 16, 3)
	r := rand.New(rand.NewPCG(1, 2))
	for _, term := range terms {
		v := make([]float32, 16)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		s.SetText(term, v)
	}
	return s
}

func count(t *testing.T, s *enginetest.Store, q string) *engine.Result {
	t.Helper()
	pq, err := query.Parse(q)
	if err != nil {
		t.Fatal(err)
	}
	res, err := engine.Run(context.Background(), s, pq, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestRun(t *testing.T) {
	terms := []string{"desi", "beautiful", "hot", "it's"}
	s := newStore(t, terms)
	rep, err := audit.Run(context.Background(), &store{s: s}, &audit.Options{Terms: terms, K: 50,
		Now: func() time.Time { return time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Terms) != len(terms) || rep.Fingerprint != s.Fingerprint() || rep.K != 50 {
		t.Fatalf("report: %d terms, fingerprint %s", len(rep.Terms), rep.Fingerprint)
	}
	for i, term := range rep.Terms {
		if term.Term != terms[i] || len(term.Views) != 4 || term.IndexRecall != nil {
			t.Fatalf("term %d: %+v", i, term)
		}
		lit := "'" + strings.ReplaceAll(terms[i], "'", "''") + "'"
		want := map[string]string{
			audit.ViewKNN:         "knn(" + lit + ", 50) by domain(url) sweep similarity",
			audit.ViewKNNFiltered: "knn(" + lit + ", 50) where nsfw = 'UNLIKELY' by domain(url) sweep similarity",
			audit.ViewContains:    "all where text contains " + lit + " by domain(url)",
			audit.ViewWord:        "all where text has word " + lit + " by domain(url)",
		}
		for _, v := range term.Views {
			res := count(t, s, want[v.Kind])
			if (v.Sweep == nil) != (res.Sweep == nil) || v.Sweep != nil && v.Sweep.Thresholds[2].Kept != res.Sweep.Thresholds[2].Kept {
				t.Errorf("%s %s: sweep %+v, the query's %+v", term.Term, v.Kind, v.Sweep, res.Sweep)
			}
			if len(res.By[0].Values) > 0 && res.By[0].Values[0].Null == false && (len(v.Domains) == 0 || v.Domains[0] != res.By[0].Values[0]) {
				t.Errorf("%s %s: domains %v, the query's %v", term.Term, v.Kind, v.Domains, res.By[0].Values)
			}
			if v.Selected != res.Selected || v.Lexicon != res.Lexicons[0].Either || v.Query != res.Query {
				t.Errorf("%s %s: selected %d lexicon %+v, the query gives %d %+v", term.Term, v.Kind, v.Selected, v.Lexicon, res.Selected, res.Lexicons[0].Either)
			}
			for _, l := range res.NSFW.Values {
				if v.Count(l.Value, l.Null) != l.Count {
					t.Errorf("%s %s: nsfw %q %d, want %d", term.Term, v.Kind, l.Value, v.Count(l.Value, l.Null), l.Count)
				}
			}
			if v.Kind == audit.ViewKNNFiltered && v.Count("UNLIKELY", false) != v.Selected {
				t.Errorf("%s: the filtered view holds other labels", term.Term)
			}
		}
	}
	// "desi" is a substring of "design", not a word of it.
	d := rep.Terms[0].Views
	if d[2].Selected <= d[3].Selected || d[3].Selected == 0 {
		t.Errorf("desi: contains %d, word %d", d[2].Selected, d[3].Selected)
	}
}

// TestIndexRecall: when the knn view is approximate, the audit measures
// its overlap with the exact top K.
func TestIndexRecall(t *testing.T) {
	s := newStore(t, []string{"desi"})
	rep, err := audit.Run(context.Background(), &store{s: s, approx: true}, &audit.Options{Terms: []string{"desi"}, K: 20})
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Terms[0].IndexRecall
	if r == nil || *r != 19.0/20 {
		t.Fatalf("index recall %v, want 0.95", r)
	}
}

// TestReportFolder: the report files hold the figures and no row text.
func TestReportFolder(t *testing.T) {
	terms := []string{"desi", "beautiful"}
	s := newStore(t, terms)
	rep, err := audit.Run(context.Background(), &store{s: s}, &audit.Options{Terms: terms, K: 30, Command: "laiondb audit --k 30", Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := rep.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	var back audit.Report
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil || json.Unmarshal(b, &back) != nil || back.Terms[1].Views[0].Selected != 30 || back.Command != "laiondb audit --k 30" {
		t.Fatalf("results.json: %v %s", err, b)
	}
	texts := s.Column("text")
	for _, name := range []string{"report.html", "report.md", "results.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(rep.Fingerprint)) {
			t.Errorf("%s does not name the store's fingerprint", name)
		}
		// No caption of a selected row (the generated captions have 3+
		// words; single words are terms and vocabulary).
		for i := 0; i < s.NumRows(); i++ {
			if c := string(texts.Str.At(i)); !texts.IsNull(i) && len(strings.Fields(c)) >= 3 && bytes.Contains(b, []byte(c)) {
				t.Fatalf("%s holds row %d's text %q", name, i, c)
			}
		}
	}
	html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	if bytes.Count(html, []byte("<svg")) != 3 || bytes.Contains(html, []byte("http://")) && !bytes.Contains(html, []byte(`xmlns="http://www.w3.org/2000/svg"`)) {
		t.Errorf("report.html: want three inline SVG charts and no external resources")
	}
	if bytes.Contains(html, []byte("<script")) || bytes.Contains(html, []byte("src=")) {
		t.Errorf("report.html loads something")
	}
	var tb, cb bytes.Buffer
	if err := rep.WriteTable(&tb); err != nil || !strings.Contains(tb.String(), `"desi"`) {
		t.Errorf("table: %v\n%s", err, tb.String())
	}
	if err := rep.WriteCSV(&cb); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&cb).ReadAll()
	if err != nil || len(recs) != 1+2*4 || len(recs[0]) != len(audit.CSVHeader) {
		t.Fatalf("csv: %d records, %v", len(recs), err)
	}
}

// batchStore is store with QueryBatch, through engine.RunBatch.
type batchStore struct {
	store
	calls int
}

func (q *batchStore) QueryBatch(ctx context.Context, qs []string, opts *engine.Options) ([]*engine.Result, error) {
	q.calls++
	plans := make([]*engine.Plan, len(qs))
	for i, text := range qs {
		pq, err := query.Parse(text)
		if err != nil {
			return nil, err
		}
		if plans[i], err = engine.NewPlan(pq, q.s, opts); err != nil {
			return nil, err
		}
	}
	return engine.RunBatch(ctx, q.s, plans)
}

// TestRunBatch: a Querier with QueryBatch gets one call, and the same report.
func TestRunBatch(t *testing.T) {
	terms := []string{"desi", "beautiful", "hot"}
	s := newStore(t, terms)
	now := func() time.Time { return time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC) }
	one, err := audit.Run(context.Background(), &store{s: s}, &audit.Options{Terms: terms, K: 25, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	bq := &batchStore{store: store{s: s}}
	two, err := audit.Run(context.Background(), bq, &audit.Options{Terms: terms, K: 25, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(one)
	b, _ := json.Marshal(two)
	if string(a) != string(b) || bq.calls != 1 {
		t.Errorf("%d batch calls; reports differ:\n%s\n%s", bq.calls, a, b)
	}
}

// TestRowsOptIn: with Rows the report shows the first rows of each CLIP
// view, text included, and says so.
func TestRowsOptIn(t *testing.T) {
	s := newStore(t, []string{"desi"})
	rep, err := audit.Run(context.Background(), &store{s: s}, &audit.Options{Terms: []string{"desi"}, K: 10, Rows: 3})
	if err != nil {
		t.Fatal(err)
	}
	v := rep.Terms[0].Views[0]
	if len(v.Rows) != 3 || v.Rows[0].Text == nil || len(rep.Terms[0].Views[2].Rows) != 0 {
		t.Fatalf("rows: %+v", v.Rows)
	}
	dir := t.TempDir()
	if err := rep.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"report.md", "report.html"} {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		if !bytes.Contains(b, []byte("first 3 rows")) {
			t.Errorf("%s does not say it holds rows", name)
		}
	}
}

// TestViewsBruteForce recomputes the views from the generated rows: the
// substring and whole-word counts, and the CLIP views' rows by cosine.
func TestViewsBruteForce(t *testing.T) {
	terms := []string{"design", "hot"}
	s := newStore(t, terms)
	rep, err := audit.Run(context.Background(), &store{s: s}, &audit.Options{Terms: terms, K: 15, Rows: 15})
	if err != nil {
		t.Fatal(err)
	}
	text, nsfw := s.Column("text"), s.Column("nsfw")
	vecs := s.Vectors()
	for ti, term := range terms {
		contains, word := 0, 0
		wordRE := regexp.MustCompile(`(?i)(^|[^\p{L}\p{N}_])` + regexp.QuoteMeta(term) + `($|[^\p{L}\p{N}_])`)
		for i := 0; i < s.NumRows(); i++ {
			if text.IsNull(i) {
				continue
			}
			c := string(text.Str.At(i))
			if strings.Contains(strings.ToLower(c), term) {
				contains++
			}
			if wordRE.MatchString(c) {
				word++
			}
		}
		views := rep.Terms[ti].Views
		if views[2].Selected != contains || views[3].Selected != word {
			t.Errorf("%s: contains %d word %d, brute force %d %d", term, views[2].Selected, views[3].Selected, contains, word)
		}
		// The CLIP views: the K rows of highest cosine, among UNLIKELY rows
		// for the filtered one.
		q := textVector(s, term)
		for vi, filtered := range []bool{false, true} {
			type hit struct {
				row   int
				score float64
			}
			var hs []hit
			for i, v := range vecs {
				if filtered && (nsfw.IsNull(i) || string(nsfw.Str.At(i)) != "UNLIKELY") {
					continue
				}
				var dot float64
				for j := range v {
					dot += float64(v[j]) * float64(q[j])
				}
				hs = append(hs, hit{i, dot})
			}
			sort.Slice(hs, func(a, b int) bool { return hs[a].score > hs[b].score })
			got := views[vi].Rows
			for k := range 15 {
				if int(got[k].Row) != hs[k].row {
					t.Errorf("%s view %d: rank %d is row %d, brute force %d", term, vi, k, got[k].Row, hs[k].row)
					break
				}
			}
		}
	}
}

// textVector is the unit vector newStore gave term.
func textVector(s *enginetest.Store, term string) []float32 {
	pq, _ := query.Parse("knn('" + term + "', 1)")
	v, err := s.Vector(context.Background(), pq.Source.(*query.KNNSource).Target.Target)
	if err != nil {
		panic(err)
	}
	return v
}
