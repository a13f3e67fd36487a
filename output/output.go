package output

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/query"
)

// WriteJSON writes r as indented JSON.
func WriteJSON(w io.Writer, r *engine.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("query: writing json: %w", err)
	}
	return nil
}

func pct(x float64) string { return strconv.FormatFloat(100*x, 'f', 2, 64) + "%" }

func ci(p *engine.Proportion) string {
	if !p.Defined() {
		return "–"
	}
	return "[" + pct(p.Lo) + ", " + pct(p.Hi) + "]"
}

// share prints a proportion's share, "–" when it is of no rows.
func share(p *engine.Proportion) string {
	if !p.Defined() {
		return "–"
	}
	return pct(p.Share)
}

// Table cells are cut to these many characters, so that one long value
// (a URL in "all by url") does not widen every line; JSON and CSV hold
// the full values.
const (
	labelWidth = 60
	cellWidth  = 100
)

// clip cuts s to at most n characters, marking a cut with "…".
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func label(v string, null bool) string {
	if null {
		return "(null)"
	}
	return strconv.Quote(clip(v, labelWidth))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no (approximate search)"
}

func ffloat(f float64) string { return strconv.FormatFloat(f, 'f', 4, 64) }

// WriteTable writes r as readable aligned tables. Row text and urls appear
// only if the result holds rows (engine.Options.Rows).
func WriteTable(w io.Writer, r *engine.Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format, args...) }
	p("query\t%s\n", r.Query)
	p("store\t%d rows, fingerprint %s\n", r.TotalRows, r.Fingerprint)
	p("selected\t%d rows\n", r.Selected)
	p("scanned\t%d rows, %d vectors\n", r.RowsScanned, r.VectorsScanned)
	p("exact\t%s\n", yesNo(r.Exact))
	if s := r.Search; s != nil {
		from := ""
		if s.Seeds > 0 {
			from = fmt.Sprintf(" from each of %d seeds", s.Seeds)
		}
		if s.Kind == "knn" {
			p("knn\tk=%d asked%s, %d returned by the search, %d selected\n", s.K, from, s.Returned, r.Selected)
		} else {
			p("within\tthreshold %s%s, %d returned by the search, %d selected\n", floatLit(s.Threshold), from, s.Returned, r.Selected)
			if s.NearThreshold > 0 {
				p("\t%d rows lie within %g of the threshold: float32 rounding decides their side\n", s.NearThreshold, engine.ScoreTolerance)
			}
		}
		if s.Dedup > 0 {
			p("dedup\t%d rows dropped: cosine >= %s with a better row kept\n", s.Deduped, floatLit(s.Dedup))
		}
		if r.Selected > 0 {
			p("scores\t%.4f .. %.4f\n", s.ScoreMin, s.ScoreMax)
		}
		p("method\t%s\n", s.Method)
	}
	for _, n := range r.Notes {
		p("note\t%s\n", n)
	}
	labels := func(lc *engine.LabelCounts) {
		p("\n%s\tcount\tshare\n", lc.Column)
		for _, v := range lc.Values {
			p("%s\t%d\t%s\n", label(v.Value, v.Null), v.Count, pct(v.Share))
		}
		if lc.Groups > 0 {
			p("(%d other values)\t%d\t\n", lc.Groups-len(lc.Values), lc.OtherRows)
			p("note\t%d distinct values, null as one; those not listed are summed above (more with laiondb query --groups); every count is exact\n", lc.Groups)
		}
	}
	if r.NSFW != nil {
		labels(r.NSFW)
	}
	for _, lc := range r.By {
		labels(lc)
	}
	if fr := r.Files; fr != nil {
		p("\nby file\trows\tof\tselected\tshare\t95%% CI (Wilson)\n")
		for _, f := range fr.Files {
			p("%s\t%d\t%d\t%d\t%s\t%s\n", f.File, f.Rows, f.Rate.Of, f.Rate.Count, share(&f.Rate), ci(&f.Rate))
		}
		p("pooled\t%d\t%d\t%d\t%s\t%s\n", r.TotalRows, fr.Pooled.Of, fr.Pooled.Count, share(&fr.Pooled), ci(&fr.Pooled))
		p("of\t%s\n", fr.Population)
	}
	for _, lx := range r.Lexicons {
		kws := make([]string, len(lx.Keywords))
		for i, k := range lx.Keywords {
			kws[i] = strconv.Quote(k)
		}
		p("\nlexicon %s\t%s\n", lx.Name, strings.Join(kws, " "))
		p("flagged in\trows\tshare\t95%% CI (Wilson)\n")
		if lx.Text != nil {
			p("text\t%d\t%s\t%s\n", lx.Text.Count, share(lx.Text), ci(lx.Text))
		}
		if lx.URL != nil {
			p("url\t%d\t%s\t%s\n", lx.URL.Count, share(lx.URL), ci(lx.URL))
		}
		p("either\t%d\t%s\t%s\n", lx.Either.Count, share(&lx.Either), ci(&lx.Either))
		p("keyword\ttext\turl\teither\n")
		for _, k := range lx.PerKeyword {
			p("%s\t%d\t%d\t%d\n", strconv.Quote(k.Keyword), k.Text, k.URL, k.Either)
		}
		if len(lx.ByNSFW) > 0 {
			p("nsfw\trows\tflagged\tshare flagged\n")
			for _, c := range lx.ByNSFW {
				p("%s\t%d\t%d\t%s\n", label(c.NSFW, c.Null), c.Rows, c.Flagged, pct(c.Share))
			}
		}
	}
	if s := r.Similarity; s != nil {
		p("\nsimilarity\tvalid\tmin\tq1\tmedian\tq3\tmax\tbelow 0.3\n")
		p("\t%d\t%s\t%s\t%s\t%s\t%s\t%d\n", s.Valid, ffloat(s.Min), ffloat(s.Q1), ffloat(s.Median), ffloat(s.Q3), ffloat(s.Max), s.Below03)
		p("invalid\t%d\t(null %d, NaN %d, > 1: %d, < -1: %d)\n", s.Invalid, s.Null, s.NaN, s.Above1, s.BelowMinus1)
	}
	if sw := r.Sweep; sw != nil {
		flag := ""
		if sw.Lexicon != "" {
			flag = "\tkept flagged\tdropped flagged"
		}
		p("\nsweep %s >= t\tkept\tdropped%s\n", sw.Column, flag)
		for _, t := range sw.Thresholds {
			if sw.Lexicon != "" {
				p("%s\t%d\t%d\t%d\t%d\n", ffloat(t.Threshold), t.Kept, t.Dropped, t.KeptFlagged, t.DroppedFlagged)
			} else {
				p("%s\t%d\t%d\n", ffloat(t.Threshold), t.Kept, t.Dropped)
			}
		}
		if sw.Missing > 0 {
			p("missing\t%d\t(null or NaN: neither kept nor dropped)\n", sw.Missing)
		}
		if len(sw.Thresholds) > 0 && len(sw.Thresholds[0].ByNSFW) > 0 {
			p("nsfw")
			for _, t := range sw.Thresholds {
				p("\tkept at %s\tdropped", ffloat(t.Threshold))
			}
			p("\n")
			for i, l := range sw.Thresholds[0].ByNSFW {
				p("%s", label(l.NSFW, l.Null))
				for _, t := range sw.Thresholds {
					p("\t%d\t%d", t.ByNSFW[i].Kept, t.ByNSFW[i].Dropped)
				}
				p("\n")
			}
		}
		if ag := sw.Agreement; ag != nil {
			p("\nsimilarity against pair_cos\trows\n")
			p("compared\t%d\n", ag.Compared)
			p("differ by more than %g\t%d\t(largest difference %s)\n", engine.AgreementTolerance, ag.Differ, ffloat(ag.MaxDiff))
			p("invalid similarity\t%d\n", ag.Invalid)
			for _, x := range ag.Examples {
				p("  row %d\tsimilarity %s\tpair_cos %s\n", x.Row, x.Similarity, ffloat(x.PairCos))
			}
		}
	}
	// A seed set's rows show the seeds that reached them after the score.
	seeded := r.Search != nil && r.Search.Seeds > 0
	scoreHead := "score"
	if seeded {
		scoreHead = "score\tseeds"
	}
	scoreCell := func(row *engine.ResultRow) string {
		score := ""
		if row.Score != nil {
			score = strconv.FormatFloat(float64(*row.Score), 'f', 4, 32)
		}
		if seeded {
			score += "\t" + seedList(row.Seeds)
		}
		return score
	}
	if len(r.Rows) > 0 && len(r.RowColumns) > 0 {
		p("\nrow\tsource\t%s\t%s\n", scoreHead, strings.Join(r.RowColumns, "\t"))
		for _, row := range r.Rows {
			score := scoreCell(&row)
			cells := make([]string, len(r.RowColumns))
			for i, c := range r.RowColumns {
				cells[i] = cell(row.Columns[c])
			}
			p("%d\t%s:%d\t%s\t%s\n", row.Row, row.File, row.FileRow, score, strings.Join(cells, "\t"))
		}
	} else if len(r.Rows) > 0 {
		// The nsfw column only when the store has one (Result.NSFW).
		nsfw := r.NSFW != nil
		if nsfw {
			p("\nrow\tsource\t%s\tsample_id\tnsfw\turl\ttext\n", scoreHead)
		} else {
			p("\nrow\tsource\t%s\tsample_id\turl\ttext\n", scoreHead)
		}
		for _, row := range r.Rows {
			score, id := scoreCell(&row), ""
			if row.SampleID != nil {
				id = strconv.FormatInt(*row.SampleID, 10)
			}
			if nsfw {
				p("%d\t%s:%d\t%s\t%s\t%s\t%s\t%s\n", row.Row, row.File, row.FileRow, score, id,
					cell(row.NSFW), cell(row.URL), cell(row.Text))
			} else {
				p("%d\t%s:%d\t%s\t%s\t%s\t%s\n", row.Row, row.File, row.FileRow, score, id, cell(row.URL), cell(row.Text))
			}
		}
	}
	p("\nplan\n")
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("query: writing table: %w", err)
	}
	for _, l := range strings.Split(strings.TrimRight(r.Plan, "\n"), "\n") {
		if _, err := fmt.Fprintf(w, "  %s\n", l); err != nil {
			return fmt.Errorf("query: writing table: %w", err)
		}
	}
	return nil
}

// cell prints a nullable string on one line, quoted so that tabs and
// newlines in captions cannot break the table.
func cell(s *string) string {
	if s == nil {
		return "(null)"
	}
	return strconv.Quote(clip(*s, cellWidth))
}

// CSVHeader is the header line WriteCSV writes.
var CSVHeader = []string{"section", "group", "key", "field", "count", "share", "lo", "hi", "value"}

// WriteCSV writes the statistics of r in long form, one figure a line, under
// CSVHeader: section is summary, search, label, lexicon, keyword,
// crosstab, similarity, sweep, agreement or row. Sweep lines have the column as group,
// the threshold as value, the NSFW value as key (by-label counts) and what
// is counted as field (kept, dropped, kept_flagged, ...). Rows (when asked for) follow as section
// "row" lines: group is the store row, key the source file:row, field the
// column and value its value.
//
// In label, crosstab and keyword lines the key is the value as a JSON
// string ("UNLIKELY", "None", "" for the empty label, " rape "), and the
// null bucket has an empty key and field is_null (crosstab: "flagged null"),
// so that a plain pandas.read_csv, which reads None, null and empty
// fields as missing, keeps every category apart: json.loads of the key
// gives the value back. No key or field is a word pandas reads as missing
// (the similarity counts of null and NaN values are null_values and
// nan_values).
func WriteCSV(w io.Writer, r *engine.Result) error {
	cw := csv.NewWriter(w)
	rec := func(section, group, key, field string, count int, share, lo, hi *float64, value string) {
		cs := ""
		if count >= 0 {
			cs = strconv.Itoa(count)
		}
		f := func(x *float64) string {
			if x == nil {
				return ""
			}
			return strconv.FormatFloat(*x, 'g', -1, 64)
		}
		cw.Write([]string{section, group, key, field, cs, f(share), f(lo), f(hi), value})
	}
	val := func(section, key, value string) { rec(section, "", key, "", -1, nil, nil, nil, value) }
	cw.Write(CSVHeader)
	val("summary", "query", r.Query)
	val("summary", "fingerprint", r.Fingerprint)
	val("summary", "exact", strconv.FormatBool(r.Exact))
	rec("summary", "", "total_rows", "", r.TotalRows, nil, nil, nil, "")
	rec("summary", "", "rows_scanned", "", r.RowsScanned, nil, nil, nil, "")
	rec("summary", "", "vectors_scanned", "", r.VectorsScanned, nil, nil, nil, "")
	rec("summary", "", "selected", "", r.Selected, nil, nil, nil, "")
	val("summary", "plan", r.Plan)
	for _, n := range r.Notes {
		val("summary", "note", n)
	}
	if s := r.Search; s != nil {
		val("search", "kind", s.Kind)
		if s.Kind == "knn" {
			rec("search", "", "k", "", s.K, nil, nil, nil, "")
		} else {
			val("search", "threshold", strconv.FormatFloat(s.Threshold, 'g', -1, 64))
			rec("search", "", "near_threshold", "", s.NearThreshold, nil, nil, nil, "")
		}
		if s.Seeds > 0 {
			rec("search", "", "seeds", "", s.Seeds, nil, nil, nil, "")
		}
		if s.Dedup > 0 {
			val("search", "dedup", strconv.FormatFloat(s.Dedup, 'g', -1, 64))
			rec("search", "", "deduped", "", s.Deduped, nil, nil, nil, "")
		}
		rec("search", "", "returned", "", s.Returned, nil, nil, nil, "")
		val("search", "score_min", strconv.FormatFloat(float64(s.ScoreMin), 'g', -1, 32))
		val("search", "score_max", strconv.FormatFloat(float64(s.ScoreMax), 'g', -1, 32))
		val("search", "method", s.Method)
		val("search", "exact", strconv.FormatBool(s.Exact))
	}
	labels := func(lc *engine.LabelCounts) {
		for _, v := range lc.Values {
			share := v.Share
			field := ""
			if v.Null {
				field = "is_null" // not "null", which pandas reads as missing
			}
			rec("label", lc.Column, csvKey(v.Value, v.Null), field, v.Count, &share, nil, nil, "")
		}
		if lc.Groups > 0 {
			rec("label", lc.Column, "", "groups", lc.Groups, nil, nil, nil, "")
			rec("label", lc.Column, "", "other_rows", lc.OtherRows, nil, nil, nil, "")
		}
	}
	if r.NSFW != nil {
		labels(r.NSFW)
	}
	for _, lc := range r.By {
		labels(lc)
	}
	if fr := r.Files; fr != nil {
		rate := func(key string, rows int, p *engine.Proportion) {
			rec("file", key, "", "rows", rows, nil, nil, nil, "")
			rec("file", key, "", "of", p.Of, nil, nil, nil, "")
			if p.Defined() {
				rec("file", key, "", "selected", p.Count, &p.Share, &p.Lo, &p.Hi, "")
			} else {
				rec("file", key, "", "selected", p.Count, nil, nil, nil, "")
			}
		}
		val("file", "population", fr.Population)
		for _, f := range fr.Files {
			rate(f.File, f.Rows, &f.Rate)
		}
		rate("", r.TotalRows, &fr.Pooled)
	}
	for _, lx := range r.Lexicons {
		prop := func(field string, p *engine.Proportion) {
			switch {
			case p == nil:
			case p.Defined():
				rec("lexicon", lx.Name, "", field, p.Count, &p.Share, &p.Lo, &p.Hi, "")
			default: // a share of no rows is undefined: empty fields
				rec("lexicon", lx.Name, "", field, p.Count, nil, nil, nil, "")
			}
		}
		prop("text", lx.Text)
		prop("url", lx.URL)
		prop("either", &lx.Either)
		for _, k := range lx.PerKeyword {
			rec("keyword", lx.Name, csvKey(k.Keyword, false), "text", k.Text, nil, nil, nil, "")
			rec("keyword", lx.Name, csvKey(k.Keyword, false), "url", k.URL, nil, nil, nil, "")
			rec("keyword", lx.Name, csvKey(k.Keyword, false), "either", k.Either, nil, nil, nil, "")
		}
		for _, c := range lx.ByNSFW {
			share := c.Share
			field := "flagged"
			if c.Null {
				field = "flagged null"
			}
			rec("crosstab", lx.Name, csvKey(c.NSFW, c.Null), field, c.Flagged, &share, nil, nil, strconv.Itoa(c.Rows))
		}
	}
	if s := r.Similarity; s != nil {
		for _, kv := range []struct {
			k string
			v float64
		}{{"min", s.Min}, {"q1", s.Q1}, {"median", s.Median}, {"q3", s.Q3}, {"max", s.Max}} {
			val("similarity", kv.k, strconv.FormatFloat(kv.v, 'g', -1, 64))
		}
		for _, kv := range []struct {
			k string
			n int
		}{{"valid", s.Valid}, {"below_0_3", s.Below03}, {"invalid", s.Invalid}, {"null_values", s.Null},
			{"nan_values", s.NaN}, {"above_1", s.Above1}, {"below_minus_1", s.BelowMinus1}} {
			rec("similarity", "", kv.k, "", kv.n, nil, nil, nil, "")
		}
	}
	if sw := r.Sweep; sw != nil {
		rec("sweep", sw.Column, "", "missing", sw.Missing, nil, nil, nil, "")
		if ag := sw.Agreement; ag != nil {
			rec("agreement", sw.Column, "", "compared", ag.Compared, nil, nil, nil, "")
			rec("agreement", sw.Column, "", "differ", ag.Differ, nil, nil, nil, strconv.FormatFloat(engine.AgreementTolerance, 'g', -1, 64))
			rec("agreement", sw.Column, "", "max_diff", -1, nil, nil, nil, strconv.FormatFloat(ag.MaxDiff, 'g', -1, 64))
			rec("agreement", sw.Column, "", "invalid", ag.Invalid, nil, nil, nil, "")
			for _, x := range ag.Examples {
				rec("agreement", sw.Column, strconv.FormatUint(uint64(x.Row), 10), "invalid_example", -1, nil, nil, nil,
					x.Similarity+" "+strconv.FormatFloat(x.PairCos, 'g', -1, 64))
			}
		}
		for _, t := range sw.Thresholds {
			th := strconv.FormatFloat(t.Threshold, 'g', -1, 64)
			rec("sweep", sw.Column, "", "kept", t.Kept, nil, nil, nil, th)
			rec("sweep", sw.Column, "", "dropped", t.Dropped, nil, nil, nil, th)
			if sw.Lexicon != "" {
				rec("sweep", sw.Column, "", "kept_flagged", t.KeptFlagged, nil, nil, nil, th)
				rec("sweep", sw.Column, "", "dropped_flagged", t.DroppedFlagged, nil, nil, nil, th)
			}
			for _, l := range t.ByNSFW {
				kept, dropped := "kept", "dropped"
				if l.Null {
					kept, dropped = "kept is_null", "dropped is_null"
				}
				rec("sweep", sw.Column, csvKey(l.NSFW, l.Null), kept, l.Kept, nil, nil, nil, th)
				rec("sweep", sw.Column, csvKey(l.NSFW, l.Null), dropped, l.Dropped, nil, nil, nil, th)
			}
		}
	}
	for _, row := range r.Rows {
		g, k := strconv.FormatUint(uint64(row.Row), 10), row.File+":"+strconv.FormatInt(row.FileRow, 10)
		if row.Score != nil {
			rec("row", g, k, "score", -1, nil, nil, nil, strconv.FormatFloat(float64(*row.Score), 'g', -1, 32))
		}
		if row.Seeds != nil {
			rec("row", g, k, "seeds", -1, nil, nil, nil, seedList(row.Seeds))
		}
		if row.SampleID != nil {
			rec("row", g, k, "sample_id", -1, nil, nil, nil, strconv.FormatInt(*row.SampleID, 10))
		}
		for _, kv := range []struct {
			k string
			v *string
		}{{"nsfw", row.NSFW}, {"url", row.URL}, {"text", row.Text}} {
			if kv.v != nil {
				rec("row", g, k, kv.k, -1, nil, nil, nil, *kv.v)
			}
		}
		for _, c := range r.RowColumns {
			if v := row.Columns[c]; v != nil {
				rec("row", g, k, c, -1, nil, nil, nil, *v)
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("query: writing csv: %w", err)
	}
	return nil
}

// floatLit prints f as the query language writes a float literal.
func floatLit(f float64) string {
	return (&query.Literal{Kind: query.LitFloat, Float: f}).String()
}

// csvKey writes a label value as a JSON string, and null as an empty field.
func csvKey(v string, null bool) string {
	if null {
		return ""
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return strings.TrimSuffix(b.String(), "\n")
}

// seedList writes seed rows as "3 17 250".
func seedList(rows []uint32) string {
	parts := make([]string, len(rows))
	for i, r := range rows {
		parts[i] = strconv.FormatUint(uint64(r), 10)
	}
	return strings.Join(parts, " ")
}
