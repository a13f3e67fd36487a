package audit

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/internal/atomicfile"
)

// labels are the NSFW columns of the tables and charts: the three
// documented values, then everything else and null.
var labels = []string{"UNLIKELY", "UNSURE", "NSFW"}

// split returns a view's counts of UNLIKELY, UNSURE, NSFW, other values
// and null.
func split(v *View) [5]int {
	var out [5]int
	for _, l := range v.NSFW {
		switch {
		case l.Null:
			out[4] += l.Count
		case l.Value == labels[0]:
			out[0] += l.Count
		case l.Value == labels[1]:
			out[1] += l.Count
		case l.Value == labels[2]:
			out[2] += l.Count
		default:
			out[3] += l.Count
		}
	}
	return out
}

func pct(x float64) string { return strconv.FormatFloat(100*x, 'f', 1, 64) + "%" }

// share formats a lexicon share with its interval; "-" for no rows.
func share(v *View) string {
	p := v.Lexicon
	if p.Of == 0 {
		return "-"
	}
	return fmt.Sprintf("%s [%s, %s]", pct(p.Share), pct(p.Lo), pct(p.Hi))
}

// domains lists a view's top hosts with their counts.
func domains(v *View) string {
	var parts []string
	for _, d := range v.Domains {
		parts = append(parts, fmt.Sprintf("%s %d", d.Value, d.Count))
	}
	return strings.Join(parts, ", ")
}

func recall(t *Term, v *View) string {
	switch {
	case v.Kind != ViewKNN:
		return ""
	case t.IndexRecall == nil:
		return "exact"
	}
	return strconv.FormatFloat(*t.IndexRecall, 'f', 3, 64)
}

// WriteTable writes one line per term and view.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "term\tview\tselected\tUNLIKELY\tUNSURE\tNSFW\tother\tnull\t%s share [95%% CI]\tindex recall\t\n", r.Lexicon)
	for i := range r.Terms {
		t := &r.Terms[i]
		for j := range t.Views {
			v := &t.Views[j]
			c := split(v)
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t\n", strconv.Quote(t.Term), v.Kind, v.Selected,
				c[0], c[1], c[2], c[3], c[4], share(v), recall(t, v))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nstore %s; knn views: k %d, filtered by %s; index recall: share of the exact top k the index returned\n",
		r.Fingerprint, r.K, r.Filter)
	return err
}

// WriteJSON writes the report as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// CSVHeader is the header of WriteCSV.
var CSVHeader = []string{"term", "view", "query", "selected", "exact", "unlikely", "unsure", "nsfw", "other", "null",
	"lexicon_count", "lexicon_share", "lexicon_lo", "lexicon_hi", "index_recall"}

// WriteCSV writes one line per term and view under CSVHeader.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write(CSVHeader)
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	for i := range r.Terms {
		t := &r.Terms[i]
		for j := range t.Views {
			v := &t.Views[j]
			c := split(v)
			rec := []string{t.Term, v.Kind, v.Query, strconv.Itoa(v.Selected), strconv.FormatBool(v.Exact)}
			for _, n := range c {
				rec = append(rec, strconv.Itoa(n))
			}
			rec = append(rec, strconv.Itoa(v.Lexicon.Count))
			if v.Lexicon.Of > 0 {
				rec = append(rec, f(v.Lexicon.Share), f(v.Lexicon.Lo), f(v.Lexicon.Hi))
			} else {
				rec = append(rec, "", "", "")
			}
			rr := ""
			if v.Kind == ViewKNN && t.IndexRecall != nil {
				rr = f(*t.IndexRecall)
			}
			cw.Write(append(rec, rr))
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteDir writes the report folder: results.json (every number),
// report.md and report.html (tables and SVG charts, no row text, no
// network access needed to render it).
func (r *Report) WriteDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	files := []struct {
		name  string
		write func(io.Writer) error
	}{{"results.json", r.WriteJSON}, {"report.md", r.writeMarkdown}, {"report.html", r.writeHTML}}
	for _, f := range files {
		if err := atomicfile.Write(filepath.Join(dir, f.name), f.write); err != nil {
			return fmt.Errorf("audit: writing %s: %w", f.name, err)
		}
	}
	return nil
}

func (r *Report) header() []string {
	h := []string{
		"store fingerprint: " + r.Fingerprint,
		"date: " + r.Date.Format("2006-01-02 15:04 UTC"),
		fmt.Sprintf("CLIP views: the %d nearest rows by the text encoder; filtered: among rows with %s", r.K, r.Filter),
		"text views: rows whose text contains the term (Python's substring test) and whose text has it as a whole word",
		"lexicon: " + r.Lexicon + ", flagged in text or url; 95% Wilson intervals",
	}
	if r.Model != "" {
		h = append(h, "model: "+r.Model)
	}
	if r.Version != "" {
		h = append(h, "laiondb: "+r.Version)
	}
	if r.Command != "" {
		h = append(h, "command: "+r.Command)
	}
	return h
}

// welfare says whether the report holds row text.
func (r *Report) welfare() string {
	if r.Rows == 0 {
		return "No row text and no image is included in this report."
	}
	return fmt.Sprintf("This report includes the text and URL of the first %d rows of each CLIP view (asked with --rows); no image.", r.Rows)
}

// rowCells are a row's row, source, score, nsfw, url and text.
func rowCells(row engine.ResultRow) []string {
	s := func(p *string) string {
		if p == nil {
			return "(null)"
		}
		return *p
	}
	score := ""
	if row.Score != nil {
		score = strconv.FormatFloat(float64(*row.Score), 'f', 4, 32)
	}
	return []string{strconv.FormatUint(uint64(row.Row), 10), fmt.Sprintf("%s:%d", row.File, row.FileRow), score, s(row.NSFW), s(row.URL), s(row.Text)}
}

// md escapes a Markdown table cell.
func md(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
}

func (r *Report) writeMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# laiondb audit\n\n")
	for _, h := range r.header() {
		b.WriteString("- " + h + "\n")
	}
	b.WriteString("\n" + r.welfare() + "\n\n")
	fmt.Fprintf(&b, "| term | view | selected | UNLIKELY | UNSURE | NSFW | other | null | %s share [95%% CI] | index recall |\n", r.Lexicon)
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for i := range r.Terms {
		t := &r.Terms[i]
		for j := range t.Views {
			v := &t.Views[j]
			c := split(v)
			fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %d | %d | %d | %s | %s |\n", strings.ReplaceAll(t.Term, "|", `\|`), v.Kind, v.Selected,
				c[0], c[1], c[2], c[3], c[4], share(v), recall(t, v))
		}
	}
	b.WriteString("\n## Top domains (hosts of the selected rows' URLs)\n\n| term | view | domains |\n|---|---|---|\n")
	for i := range r.Terms {
		t := &r.Terms[i]
		for j := range t.Views {
			v := &t.Views[j]
			fmt.Fprintf(&b, "| %s | %s | %s |\n", strings.ReplaceAll(t.Term, "|", `\|`), v.Kind, strings.ReplaceAll(domains(v), "|", `\|`))
		}
	}
	if head, rows := r.sweepTable(); head != nil {
		b.WriteString("\n## The similarity cut: what each threshold keeps of the CLIP views\n\n|")
		for _, h := range head {
			b.WriteString(" " + h + " |")
		}
		b.WriteString("\n|" + strings.Repeat("---|", len(head)) + "\n")
		for _, row := range rows {
			b.WriteString("|")
			for _, c := range row {
				b.WriteString(" " + strings.ReplaceAll(c, "|", `\|`) + " |")
			}
			b.WriteString("\n")
		}
		b.WriteString("\nRows whose similarity is null or NaN are neither kept nor dropped.\n")
	}
	if r.Rows > 0 {
		fmt.Fprintf(&b, "\n## Rows (the first %d of each CLIP view, as asked with --rows)\n\n| term | view | row | source | score | nsfw | url | text |\n|---|---|---|---|---|---|---|---|\n", r.Rows)
		for i := range r.Terms {
			t := &r.Terms[i]
			for _, v := range knnViews(t) {
				for _, row := range v.Rows {
					cells := rowCells(row)
					fmt.Fprintf(&b, "| %s | %s |", md(t.Term), v.Kind)
					for _, c := range cells {
						b.WriteString(" " + md(c) + " |")
					}
					b.WriteString("\n")
				}
			}
		}
	}
	b.WriteString("\nCharts: report.html. Every number: results.json.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// colors of UNLIKELY, UNSURE, NSFW, other, null.
var colors = [5]string{"#4c9a5b", "#e0b040", "#c0392b", "#8e7cc3", "#999999"}
var legend = [5]string{"UNLIKELY", "UNSURE", "NSFW", "other value", "null"}

// labelChart draws, per term, the NSFW label shares of the CLIP views,
// unfiltered above filtered.
func (r *Report) labelChart() string {
	const left, width, bar, gap = 150, 420, 14, 10
	var b strings.Builder
	rows := 0
	for _, t := range r.Terms {
		rows += len(knnViews(&t))
	}
	height := 40 + rows*(bar+2) + len(r.Terms)*gap + 30
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11" role="img" aria-label="NSFW labels of the CLIP views per term">`, left+width+20, height)
	y := 20
	for i := range r.Terms {
		t := &r.Terms[i]
		for _, v := range knnViews(t) {
			c := split(v)
			total := 0
			for _, n := range c {
				total += n
			}
			name := t.Term
			if v.Kind == ViewKNNFiltered {
				name = "  filtered"
			}
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, left-6, y+bar-3, html.EscapeString(name))
			x := float64(left)
			for k, n := range c {
				if total == 0 || n == 0 {
					continue
				}
				wd := float64(width) * float64(n) / float64(total)
				fmt.Fprintf(&b, `<rect x="%.2f" y="%d" width="%.2f" height="%d" fill="%s"><title>%s: %d of %d</title></rect>`, x, y, wd, bar, colors[k], legend[k], n, total)
				x += wd
			}
			y += bar + 2
		}
		y += gap
	}
	x := left
	for k, l := range legend {
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">%s</text>`, x, y, colors[k], x+14, y+9, l)
		x += 14 + 7*len(l) + 12
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// knnViews returns a term's CLIP views.
func knnViews(t *Term) []*View {
	var out []*View
	for j := range t.Views {
		if v := &t.Views[j]; v.Kind == ViewKNN || v.Kind == ViewKNNFiltered {
			out = append(out, v)
		}
	}
	return out
}

// lexiconChart draws each view's lexicon share with its interval, per
// term, on a 0-100% axis.
func (r *Report) lexiconChart() string {
	const left, width, step = 150, 420, 12
	kinds := []string{ViewKNN, ViewKNNFiltered, ViewContains, ViewWord}
	marks := map[string]string{ViewKNN: "#1f77b4", ViewKNNFiltered: "#2ca02c", ViewContains: "#ff7f0e", ViewWord: "#9467bd"}
	var b strings.Builder
	height := 30 + len(r.Terms)*(step*len(kinds)+8) + 40
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11" role="img" aria-label="lexicon share per term and view">`, left+width+20, height)
	for p := 0; p <= 100; p += 25 {
		x := left + width*p/100
		fmt.Fprintf(&b, `<line x1="%d" y1="12" x2="%d" y2="%d" stroke="#ddd"/><text x="%d" y="10" text-anchor="middle">%d%%</text>`, x, x, height-40, x, p)
	}
	y := 24
	for i := range r.Terms {
		t := &r.Terms[i]
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, left-6, y+step*2, html.EscapeString(t.Term))
		for _, kind := range kinds {
			for j := range t.Views {
				v := &t.Views[j]
				if v.Kind != kind || v.Lexicon.Of == 0 {
					continue
				}
				p := v.Lexicon
				cy := y + step/2
				x := func(s float64) float64 { return float64(left) + float64(width)*s }
				fmt.Fprintf(&b, `<line x1="%.2f" y1="%d" x2="%.2f" y2="%d" stroke="%s" stroke-width="2"/>`, x(p.Lo), cy, x(p.Hi), cy, marks[kind])
				fmt.Fprintf(&b, `<circle cx="%.2f" cy="%d" r="3.5" fill="%s"><title>%s: %d of %d, %s [%s, %s]</title></circle>`, x(p.Share), cy, marks[kind],
					kind, p.Count, p.Of, pct(p.Share), pct(p.Lo), pct(p.Hi))
			}
			y += step
		}
		y += 8
	}
	x := left
	for _, kind := range kinds {
		fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="4" fill="%s"/><text x="%d" y="%d">%s</text>`, x+5, y+10, marks[kind], x+12, y+14, kind)
		x += 12 + 7*len(kind) + 14
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// sweepThresholds returns the thresholds of the CLIP views' sweeps; nil
// when the views have none.
func (r *Report) sweepThresholds() []float64 {
	for i := range r.Terms {
		for j := range r.Terms[i].Views {
			if sw := r.Terms[i].Views[j].Sweep; sw != nil {
				var out []float64
				for _, t := range sw.Thresholds {
					out = append(out, t.Threshold)
				}
				return out
			}
		}
	}
	return nil
}

// sweepChart draws, per term and CLIP view, the share of the selected rows
// with a similarity that a cut at each threshold keeps (NSFW rows among the
// kept in red, at the bar's start).
func (r *Report) sweepChart() string {
	ths := r.sweepThresholds()
	if ths == nil {
		return ""
	}
	const left, cell, bar, gap = 150, 110, 12, 8
	var b strings.Builder
	rows := 0
	for i := range r.Terms {
		rows += len(knnViews(&r.Terms[i]))
	}
	height := 30 + rows*(bar+2) + len(r.Terms)*gap + 30
	width := left + cell*len(ths) + 20
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11" role="img" aria-label="rows kept by similarity cuts">`, width, height)
	for k, th := range ths {
		fmt.Fprintf(&b, `<text x="%d" y="14" text-anchor="middle">similarity &gt;= %s</text>`, left+k*cell+cell/2-5, strconv.FormatFloat(th, 'f', -1, 64))
	}
	y := 24
	for i := range r.Terms {
		t := &r.Terms[i]
		for _, v := range knnViews(t) {
			name := t.Term
			if v.Kind == ViewKNNFiltered {
				name = "  filtered"
			}
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, left-6, y+bar-3, html.EscapeString(name))
			if sw := v.Sweep; sw != nil {
				for k, row := range sw.Thresholds {
					x0 := left + k*cell
					n := row.Kept + row.Dropped
					fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="#eee"/>`, x0, y, cell-20, bar)
					if n == 0 {
						continue
					}
					nsfwKept := 0
					for _, l := range row.ByNSFW {
						if !l.Null && l.NSFW == "NSFW" {
							nsfwKept = l.Kept
						}
					}
					wk := float64(cell-20) * float64(row.Kept) / float64(n)
					wn := float64(cell-20) * float64(nsfwKept) / float64(n)
					fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.2f" height="%d" fill="%s"><title>kept %d of %d (NSFW %d)</title></rect>`, x0, y, wk, bar, colors[0], row.Kept, n, nsfwKept)
					if wn > 0 {
						fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.2f" height="%d" fill="%s"/>`, x0, y, wn, bar, colors[2])
					}
				}
			}
			y += bar + 2
		}
		y += gap
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">kept (share of rows with a similarity)</text>`, left, y, colors[0], left+14, y+9)
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">of which NSFW</text>`, left+260, y, colors[2], left+274, y+9)
	b.WriteString(`</svg>`)
	return b.String()
}

// sweepTable returns the sweep figures as rows of cells: term, view, then
// kept/dropped (NSFW kept) per threshold.
func (r *Report) sweepTable() (head []string, rows [][]string) {
	ths := r.sweepThresholds()
	if ths == nil {
		return nil, nil
	}
	head = []string{"term", "view"}
	for _, th := range ths {
		head = append(head, "kept / dropped at "+strconv.FormatFloat(th, 'f', -1, 64))
	}
	for i := range r.Terms {
		t := &r.Terms[i]
		for _, v := range knnViews(t) {
			if v.Sweep == nil {
				continue
			}
			row := []string{t.Term, v.Kind}
			for _, x := range v.Sweep.Thresholds {
				row = append(row, fmt.Sprintf("%d / %d", x.Kept, x.Dropped))
			}
			rows = append(rows, row)
		}
	}
	return head, rows
}

func (r *Report) writeHTML(w io.Writer) error {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>laiondb audit</title>\n")
	b.WriteString("<style>body{font-family:sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse}" +
		"td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}td:first-child,td:nth-child(2){text-align:left}</style></head><body>\n")
	b.WriteString("<h1>laiondb audit</h1>\n<ul>\n")
	for _, h := range r.header() {
		b.WriteString("<li>" + html.EscapeString(h) + "</li>\n")
	}
	b.WriteString("</ul>\n<p>" + html.EscapeString(r.welfare()) + "</p>\n")
	b.WriteString("<h2>NSFW labels of the CLIP views</h2>\n" + r.labelChart() + "\n")
	b.WriteString("<h2>Lexicon share per view, with 95% intervals</h2>\n" + r.lexiconChart() + "\n")
	if chart := r.sweepChart(); chart != "" {
		b.WriteString("<h2>The similarity cut: what each threshold keeps of the CLIP views</h2>\n" + chart + "\n<table><tr>")
		head, rows := r.sweepTable()
		for _, h := range head {
			b.WriteString("<th>" + html.EscapeString(h) + "</th>")
		}
		b.WriteString("</tr>\n")
		for _, row := range rows {
			b.WriteString("<tr>")
			for _, c := range row {
				b.WriteString("<td>" + html.EscapeString(c) + "</td>")
			}
			b.WriteString("</tr>\n")
		}
		b.WriteString("</table>\n<p>Rows whose similarity is null or NaN are neither kept nor dropped.</p>\n")
	}
	b.WriteString("<h2>All figures</h2>\n<table><tr>")
	for _, h := range []string{"term", "view", "selected", "UNLIKELY", "UNSURE", "NSFW", "other", "null", r.Lexicon + " share [95% CI]", "index recall"} {
		b.WriteString("<th>" + html.EscapeString(h) + "</th>")
	}
	b.WriteString("</tr>\n")
	for i := range r.Terms {
		t := &r.Terms[i]
		for j := range t.Views {
			v := &t.Views[j]
			c := split(v)
			cells := []string{t.Term, v.Kind, strconv.Itoa(v.Selected), strconv.Itoa(c[0]), strconv.Itoa(c[1]), strconv.Itoa(c[2]),
				strconv.Itoa(c[3]), strconv.Itoa(c[4]), share(v), recall(t, v)}
			b.WriteString("<tr>")
			for _, c := range cells {
				b.WriteString("<td>" + html.EscapeString(c) + "</td>")
			}
			b.WriteString("</tr>\n")
		}
	}
	b.WriteString("</table>\n<h2>Top domains (hosts of the selected rows' URLs)</h2>\n<table><tr><th>term</th><th>view</th><th>domains</th></tr>\n")
	for i := range r.Terms {
		t := &r.Terms[i]
		for j := range t.Views {
			v := &t.Views[j]
			b.WriteString("<tr><td>" + html.EscapeString(t.Term) + "</td><td>" + v.Kind + "</td><td style=\"text-align:left\">" + html.EscapeString(domains(v)) + "</td></tr>\n")
		}
	}
	if r.Rows > 0 {
		fmt.Fprintf(&b, "</table>\n<h2>Rows (the first %d of each CLIP view, as asked with --rows)</h2>\n<table><tr>", r.Rows)
		for _, h := range []string{"term", "view", "row", "source", "score", "nsfw", "url", "text"} {
			b.WriteString("<th>" + h + "</th>")
		}
		b.WriteString("</tr>\n")
		for i := range r.Terms {
			t := &r.Terms[i]
			for _, v := range knnViews(t) {
				for _, row := range v.Rows {
					b.WriteString("<tr><td>" + html.EscapeString(t.Term) + "</td><td>" + v.Kind + "</td>")
					for _, c := range rowCells(row) {
						b.WriteString("<td style=\"text-align:left\">" + html.EscapeString(c) + "</td>")
					}
					b.WriteString("</tr>\n")
				}
			}
		}
	}
	b.WriteString("</table>\n<p>Every number is in results.json.</p>\n</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
