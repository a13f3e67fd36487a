package bench

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
)

// Reference picks the result the ratios are taken against: laiondb's
// index when it ran, else its exact scan.
func Reference(rs []*Result) *Result {
	for _, name := range []string{"laiondb-hnsw", "laiondb-exact"} {
		for _, r := range rs {
			if r.System == name && r.Err == "" {
				return r
			}
		}
	}
	return nil
}

func fmtF(v float64, prec int) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

// ratio formats v/ref as "×1.23".
func ratio(v, ref float64) string {
	if v == 0 || ref == 0 || math.IsNaN(v) || math.IsNaN(ref) {
		return ""
	}
	return fmt.Sprintf(" (×%.2f)", v/ref)
}

// WriteMarkdown writes the summary table (one row per system, each value
// followed by its ratio to laiondb's) for every query set, then the full
// sweeps.
func WriteMarkdown(w io.Writer, rs []*Result, queries []string, targets []float64) {
	ref := Reference(rs)
	refName := "none"
	if ref != nil {
		refName = ref.label()
	}
	fmt.Fprintf(w, "Ratios in parentheses are system ÷ %s (for times and bytes lower is better, for QPS higher is better).\n\n", refName)
	fmt.Fprintf(w, "### Build, memory, open\n\n")
	fmt.Fprintf(w, "| system | build 1 thread (s) | build 2 threads (s) | RAM B/vector | file MB | open + 1st query (ms) |\n|---|---|---|---|---|---|\n")
	for _, r := range rs {
		if r.Err != "" {
			fmt.Fprintf(w, "| %s | failed: %s | | | | |\n", r.label(), r.Err)
			continue
		}
		var rb1, rb2, rm, rf, ro float64
		if ref != nil {
			rb1, rb2, rm, rf, ro = ref.BuildSec1, ref.BuildSec2, ref.BytesPerVec, float64(ref.FileBytes), ref.OpenQuerySec
		}
		fmt.Fprintf(w, "| %s | %s%s | %s%s | %s%s | %s%s | %s%s |\n", r.label(),
			fmtF(r.BuildSec1, 1), ratio(r.BuildSec1, rb1), fmtF(r.BuildSec2, 1), ratio(r.BuildSec2, rb2),
			fmtF(r.BytesPerVec, 0), ratio(r.BytesPerVec, rm), fmtF(float64(r.FileBytes)/1e6, 1), ratio(float64(r.FileBytes), rf),
			fmtF(r.OpenQuerySec*1e3, 1), ratio(r.OpenQuerySec, ro))
	}
	fmt.Fprintln(w)
	for _, qs := range queries {
		fmt.Fprintf(w, "### Search, %s queries: fastest single-thread setting reaching each recall@10\n\n", qs)
		fmt.Fprintf(w, "| system |")
		for _, t := range targets {
			fmt.Fprintf(w, " QPS @ R@10≥%.2f (knob) | p99 µs |", t)
		}
		fmt.Fprintf(w, " best R@10 | best R@100 | batch QPS @ best |\n|---|")
		for range targets {
			fmt.Fprintf(w, "---|---|")
		}
		fmt.Fprintf(w, "---|---|---|\n")
		for _, r := range rs {
			if r.Err != "" {
				continue
			}
			fmt.Fprintf(w, "| %s |", r.label())
			for _, t := range targets {
				p, ok := r.atRecall(qs, t)
				if !ok {
					fmt.Fprintf(w, " not reached | |")
					continue
				}
				rr := ""
				if ref != nil {
					if pr, ok := ref.atRecall(qs, t); ok {
						rr = ratio(p.QPS1, pr.QPS1)
					}
				}
				knob := ""
				if p.Knob != "" {
					knob = fmt.Sprintf(" (%s=%d)", p.Knob, p.Value)
				}
				fmt.Fprintf(w, " %s%s%s | %s |", fmtF(p.QPS1, 0), rr, knob, fmtF(p.P99/1e3, 0))
			}
			var best Point
			var r100 float64
			for _, p := range r.Points {
				if p.Queries == qs && p.Recall10 > best.Recall10 {
					best = p
				}
				if p.Queries == qs {
					r100 = max(r100, p.Recall100)
				}
			}
			fmt.Fprintf(w, " %s | %s | %s |\n", fmtF(best.Recall10, 4), fmtF(r100, 4), fmtF(best.BatchQPS, 0))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "<details><summary>Full sweeps</summary>\n\n")
	fmt.Fprintf(w, "| system | queries | knob | R@1 | R@10 | R@100 | QPS 1 thread | p50 µs | p99 µs | batch QPS |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rs {
		for _, p := range r.Points {
			knob := "exact"
			if p.Knob != "" {
				knob = fmt.Sprintf("%s=%d", p.Knob, p.Value)
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.label(), p.Queries, knob,
				fmtF(p.Recall1, 4), fmtF(p.Recall10, 4), fmtF(p.Recall100, 4), fmtF(p.QPS1, 0),
				fmtF(p.P50/1e3, 0), fmtF(p.P99/1e3, 0), fmtF(p.BatchQPS, 0))
		}
	}
	fmt.Fprintf(w, "\n</details>\n\n")
	fmt.Fprintf(w, "Notes and memory methods:\n\n")
	for _, r := range rs {
		fmt.Fprintf(w, "- **%s**: %s. RAM: %s.\n", r.label(), strings.TrimSuffix(r.Note, "."), r.BytesMethod)
	}
}

// WriteSVG plots recall@10 (x) against single-thread QPS (y, log scale) per
// system, one panel per query set.
func WriteSVG(w io.Writer, rs []*Result, queries []string) {
	const pw, ph, ml, mr, mt, mb = 460, 360, 60, 15, 30, 45
	width := len(queries)*(pw+ml+mr) + 190
	height := ph + mt + mb
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", width, height)
	fmt.Fprintf(w, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	colors := []string{"#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#000000"}
	var labels []string
	for _, r := range rs {
		if r.Err == "" && len(r.Points) > 0 && !slices.Contains(labels, r.label()) {
			labels = append(labels, r.label())
		}
	}
	qmin, qmax := math.Inf(1), math.Inf(-1)
	for _, r := range rs {
		for _, p := range r.Points {
			if p.QPS1 > 0 {
				qmin, qmax = math.Min(qmin, p.QPS1), math.Max(qmax, p.QPS1)
			}
		}
	}
	if math.IsInf(qmin, 0) {
		qmin, qmax = 1, 10
	}
	lo, hi := math.Floor(math.Log10(qmin)), math.Ceil(math.Log10(qmax))
	if hi == lo {
		hi++
	}
	for pi, qs := range queries {
		x0 := float64(pi*(pw+ml+mr) + ml)
		y0 := float64(mt)
		xr := func(rc float64) float64 { return x0 + rc*pw }
		yq := func(q float64) float64 { return y0 + ph - (math.Log10(q)-lo)/(hi-lo)*ph }
		fmt.Fprintf(w, `<text x="%.0f" y="18" font-size="13" font-weight="bold">%s queries: recall@10 vs single-thread QPS</text>`+"\n", x0, qs)
		fmt.Fprintf(w, `<rect x="%.0f" y="%.0f" width="%d" height="%d" fill="none" stroke="#444"/>`+"\n", x0, y0, pw, ph)
		for t := 0; t <= 10; t += 2 {
			x := xr(float64(t) / 10)
			fmt.Fprintf(w, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#ddd"/><text x="%.1f" y="%.0f" text-anchor="middle">%.1f</text>`+"\n", x, y0, x, y0+ph, x, y0+ph+14, float64(t)/10)
		}
		for e := lo; e <= hi; e++ {
			y := yq(math.Pow(10, e))
			fmt.Fprintf(w, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#ddd"/><text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n", x0, y, x0+pw, y, x0-4, y+4, humanQPS(math.Pow(10, e)))
		}
		fmt.Fprintf(w, `<text x="%.0f" y="%d" text-anchor="middle">recall@10</text>`+"\n", x0+pw/2, height-8)
		fmt.Fprintf(w, `<text x="%.0f" y="%.0f" transform="rotate(-90 %.0f %.0f)" text-anchor="middle">QPS (1 thread, log)</text>`+"\n", x0-45, y0+ph/2, x0-45, y0+ph/2)
		for _, r := range rs {
			var pts []Point
			for _, p := range r.Points {
				if p.Queries == qs && p.QPS1 > 0 {
					pts = append(pts, p)
				}
			}
			if len(pts) == 0 {
				continue
			}
			sort.Slice(pts, func(i, j int) bool { return pts[i].Recall10 < pts[j].Recall10 })
			c := colors[slices.Index(labels, r.label())%len(colors)]
			var path []string
			for _, p := range pts {
				path = append(path, fmt.Sprintf("%.1f,%.1f", xr(p.Recall10), yq(p.QPS1)))
			}
			fmt.Fprintf(w, `<polyline points="%s" fill="none" stroke="%s" stroke-width="1.5"/>`+"\n", strings.Join(path, " "), c)
			for _, p := range pts {
				fmt.Fprintf(w, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"><title>%s %s=%d R@10=%.4f %.0f QPS</title></circle>`+"\n", xr(p.Recall10), yq(p.QPS1), c, r.label(), p.Knob, p.Value, p.Recall10, p.QPS1)
			}
		}
	}
	lx := float64(len(queries)*(pw+ml+mr) + 5)
	for i, l := range labels {
		y := float64(mt + 10 + 16*i)
		fmt.Fprintf(w, `<rect x="%.0f" y="%.0f" width="12" height="3" fill="%s"/><text x="%.0f" y="%.0f">%s</text>`+"\n", lx, y-3, colors[i%len(colors)], lx+16, y+2, l)
	}
	fmt.Fprintln(w, "</svg>")
}

func humanQPS(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%gk", v/1e3)
	}
	return fmt.Sprintf("%g", v)
}
