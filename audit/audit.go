package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/laiondb/laiondb/engine"
)

// Querier answers queries in laiondb's language.
type Querier interface {
	Query(ctx context.Context, q string, opts *engine.Options) (*engine.Result, error)
	// Columns lists the store's column names.
	Columns() []string
}

// BatchQuerier is a Querier that answers several queries at once against
// one snapshot, each as Query would (*laiondb.Store does, sharing one pass
// over the vectors among the exact searches). Run uses it when it can.
type BatchQuerier interface {
	QueryBatch(ctx context.Context, qs []string, opts *engine.Options) ([]*engine.Result, error)
}

// queryAll answers qs with one QueryBatch when q has it, else one by one.
func queryAll(ctx context.Context, q Querier, qs []string, opts *engine.Options) ([]*engine.Result, error) {
	if b, ok := q.(BatchQuerier); ok {
		return b.QueryBatch(ctx, qs, opts)
	}
	out := make([]*engine.Result, len(qs))
	for i, s := range qs {
		r, err := q.Query(ctx, s, opts)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

// Essay2021Terms are the search terms of Birhane, Prabhu and Kahembwe
// (2021), the built-in term list "essay2021-terms".
var Essay2021Terms = []string{"beautiful", "small", "Asian", "Indian women", "Black women", "Latina",
	"Desi", "mummy", "aunty", "abuela", "maa", "bhabhi"}

// Options configure Run. The zero value audits Essay2021Terms with K 100.
type Options struct {
	// Terms are the search terms (default Essay2021Terms).
	Terms []string
	// K is the number of nearest rows of the CLIP views (default 100).
	K int
	// Filter is the pre-filter of the filtered CLIP view (default
	// "nsfw = 'UNLIKELY'", the safe-search filter LAION's tools offer).
	Filter string
	// Lexicons are more keyword lists, besides essay2021, as in
	// engine.Options.
	Lexicons map[string][]string
	// Rows is how many selected rows of each CLIP view the report shows
	// (their source, score, nsfw, url and text). The default, 0, shows
	// none: an audit report carries no row text unless asked to.
	Rows int
	// Progress, when set, is told what the audit is doing.
	Progress func(step int, what string)
	// Header fields of the report, set by the caller: the model's name,
	// laiondb's version and the command line.
	Model, Version, Command string
	// Now is the report's date (default time.Now).
	Now func() time.Time
}

// Report is the audit's result.
type Report struct {
	Fingerprint string    `json:"fingerprint"`
	Model       string    `json:"model,omitempty"`
	Version     string    `json:"version,omitempty"`
	Command     string    `json:"command,omitempty"`
	Date        time.Time `json:"date"`
	K           int       `json:"k"`
	Filter      string    `json:"filter"`
	// Lexicon is the lexicon whose share each view reports.
	Lexicon string `json:"lexicon"`
	// Rows is how many rows of each CLIP view the report shows (0: none).
	Rows  int    `json:"rows,omitempty"`
	Terms []Term `json:"terms"`
}

// Term is the audit of one search term.
type Term struct {
	Term  string `json:"term"`
	Views []View `json:"views"`
	// IndexRecall is, when the vector index answered the unfiltered CLIP
	// view, the share of the exact top K it returned (recall@K for this
	// term); nil when that view was an exact scan.
	IndexRecall *float64 `json:"index_recall,omitempty"`
}

// TopDomains is the number of hosts a View lists.
const TopDomains = 5

// View kinds.
const (
	ViewKNN         = "knn"          // knn('term', K)
	ViewKNNFiltered = "knn filtered" // knn('term', K) where Filter
	ViewContains    = "contains"     // all where text contains 'term'
	ViewWord        = "word"         // all where text has word 'term'
)

// View is one way of looking at a term: a query and what it selected.
type View struct {
	Kind     string `json:"kind"`
	Query    string `json:"query"`
	Selected int    `json:"selected"`
	Exact    bool   `json:"exact"`
	Method   string `json:"method,omitempty"`
	// NSFW counts the selected rows' nsfw values (nil without the column).
	NSFW []engine.LabelCount `json:"nsfw,omitempty"`
	// Lexicon is the share of selected rows the lexicon flags in text or
	// url, with its 95% Wilson interval.
	Lexicon engine.Proportion `json:"lexicon"`
	// Domains are the most frequent hosts of the selected rows' URLs
	// (domain(url)), at most TopDomains of them; nil without a url column.
	Domains []engine.LabelCount `json:"domains,omitempty"`
	// Sweep is, for the CLIP views of a store with a similarity column,
	// what cuts at the sweep thresholds keep and drop of the selected rows
	// (see engine.SweepStats); nil otherwise.
	Sweep *engine.SweepStats `json:"sweep,omitempty"`
	// Rows are the first Options.Rows selected rows of a CLIP view, best
	// first; empty unless asked for.
	Rows []engine.ResultRow `json:"rows,omitempty"`
	// ScoreMin and ScoreMax are the score range of a CLIP view.
	ScoreMin float32 `json:"score_min,omitempty"`
	ScoreMax float32 `json:"score_max,omitempty"`
}

// quote writes s as a query string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Run audits the store q.
func Run(ctx context.Context, q Querier, o *Options) (*Report, error) {
	var opts Options
	if o != nil {
		opts = *o
	}
	if len(opts.Terms) == 0 {
		opts.Terms = Essay2021Terms
	}
	if opts.K <= 0 {
		opts.K = 100
	}
	if opts.Filter == "" {
		opts.Filter = "nsfw = 'UNLIKELY'"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	for _, t := range opts.Terms {
		if strings.TrimSpace(t) == "" {
			return nil, errors.New("audit: an empty search term")
		}
	}
	cols := q.Columns()
	hasNSFW, hasText, hasURL := slices.Contains(cols, "nsfw"), slices.Contains(cols, "text"), slices.Contains(cols, "url")
	by := ""
	if hasURL {
		by = " by domain(url)"
	}
	// The CLIP views also sweep the released similarity around LAION's
	// cuts (a numeric column is checked by the query itself).
	sweep := ""
	if slices.Contains(cols, "similarity") {
		sweep = " sweep similarity"
	}
	if opts.Rows < 0 {
		return nil, fmt.Errorf("audit: negative Options.Rows %d", opts.Rows)
	}
	rep := &Report{Model: opts.Model, Version: opts.Version, Command: opts.Command, Date: opts.Now().UTC(),
		K: opts.K, Filter: opts.Filter, Lexicon: engine.BuiltinLexicon, Rows: opts.Rows}
	eo := &engine.Options{Lexicons: opts.Lexicons, Rows: opts.Rows}
	// Every view of every term, asked at once.
	type view struct {
		term int
		kind string
		q    string
	}
	var views []view
	for i, term := range opts.Terms {
		knn := fmt.Sprintf("knn(%s, %d)", quote(term), opts.K)
		views = append(views, view{i, ViewKNN, knn + by + sweep})
		if hasNSFW {
			views = append(views, view{i, ViewKNNFiltered, knn + " where " + opts.Filter + by + sweep})
		}
		if hasText {
			views = append(views, view{i, ViewContains, "all where text contains " + quote(term) + by},
				view{i, ViewWord, "all where text has word " + quote(term) + by})
		}
	}
	if opts.Progress != nil {
		opts.Progress(0, fmt.Sprintf("%d queries for %d terms", len(views), len(opts.Terms)))
	}
	qs := make([]string, len(views))
	for i, v := range views {
		qs[i] = v.q
	}
	results, err := queryAll(ctx, q, qs, eo)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	rep.Terms = make([]Term, len(opts.Terms))
	var approx []int // views answered approximately by the index
	for i, vq := range views {
		res := results[i]
		t := &rep.Terms[vq.term]
		t.Term = opts.Terms[vq.term]
		if rep.Fingerprint == "" {
			rep.Fingerprint = res.Fingerprint
		} else if res.Fingerprint != rep.Fingerprint {
			return nil, fmt.Errorf("audit: the store changed during the audit (fingerprint %s, then %s)", rep.Fingerprint, res.Fingerprint)
		}
		v := View{Kind: vq.kind, Query: res.Query, Selected: res.Selected, Exact: res.Exact}
		if res.NSFW != nil {
			v.NSFW = res.NSFW.Values
		}
		if len(res.Lexicons) > 0 {
			v.Lexicon = res.Lexicons[0].Either
		}
		if len(res.By) > 0 {
			for _, d := range res.By[0].Values {
				if !d.Null && len(v.Domains) < TopDomains {
					v.Domains = append(v.Domains, d)
				}
			}
		}
		if s := res.Search; s != nil {
			v.Method, v.ScoreMin, v.ScoreMax = s.Method, s.ScoreMin, s.ScoreMax
		}
		v.Sweep = res.Sweep
		if vq.kind == ViewKNN || vq.kind == ViewKNNFiltered {
			v.Rows = res.Rows
		}
		t.Views = append(t.Views, v)
		if vq.kind == ViewKNN && !res.Exact {
			approx = append(approx, i)
		}
	}
	// The index against an exact scan, for the views it answered.
	if len(approx) > 0 {
		eqs := make([]string, len(approx))
		for j, i := range approx {
			eqs[j] = views[i].q
		}
		exact, err := queryAll(ctx, q, eqs, &engine.Options{Lexicons: opts.Lexicons, Exact: true})
		if err != nil {
			return nil, fmt.Errorf("audit: exact top %d: %w", opts.K, err)
		}
		for j, i := range approx {
			r := overlap(results[i].Hits, exact[j].Hits)
			rep.Terms[views[i].term].IndexRecall = &r
		}
	}
	return rep, nil
}

// overlap is the share of the exact hits that got are.
func overlap(got, exact []engine.Hit) float64 {
	if len(exact) == 0 {
		return 1
	}
	in := map[uint32]bool{}
	for _, h := range exact {
		in[h.Row] = true
	}
	n := 0
	for _, h := range got {
		if in[h.Row] {
			n++
		}
	}
	return float64(n) / float64(len(exact))
}

// Count returns the count of an nsfw value in v (null: the null bucket).
func (v *View) Count(value string, null bool) int {
	for _, l := range v.NSFW {
		if l.Null == null && (null || l.Value == value) {
			return l.Count
		}
	}
	return 0
}
