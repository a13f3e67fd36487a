package db

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/laiondb/laiondb/vector"
)

// Info summarises a store, as `laiondb info` prints it.
type Info struct {
	Dir           string        `json:"dir"`
	FormatVersion int           `json:"format_version"`
	Fingerprint   string        `json:"fingerprint"`
	Rows          int64         `json:"rows"`
	Vectors       VectorInfo    `json:"vectors"`
	Columns       []ColumnStats `json:"columns"`
	Files         []Segment     `json:"files"`
	// Trigrams describes the trigram index of text columns, nil when
	// there is none; Files lists each segment's files.
	Trigrams *TrigramInfo `json:"trigrams,omitempty"`
	// NSFW counts every value of the nsfw column, the empty string and
	// null apart (null has Null set); a value that is not valid UTF-8 is
	// shown Go-quoted.
	NSFW []ValueCount `json:"nsfw"`
	// SimilarityInvalid counts similarity values that are NaN, > 1 or < -1.
	SimilarityInvalid int64 `json:"similarity_invalid"`
}

// VectorInfo describes the store's embeddings.
type VectorInfo struct {
	Image      int64  `json:"image"`
	Text       int64  `json:"text"`
	Dim        int    `json:"dim"`
	DType      string `json:"dtype"`
	Model      string `json:"model,omitempty"`
	Normalized int64  `json:"normalized"`
	// Index describes the vector index, nil when there is none.
	Index *IndexInfo `json:"index,omitempty"`
	// TextIndex describes the index over the text embeddings, if any.
	TextIndex *IndexInfo `json:"text_index,omitempty"`
}

// ColumnStats describes one column.
type ColumnStats struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Nulls       int64  `json:"nulls"`
	InvalidUTF8 int64  `json:"invalid_utf8,omitempty"`
}

// ValueCount is a value with its number of rows.
type ValueCount struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
	// Null marks the count of null values (Value is then "").
	Null bool `json:"null,omitempty"`
}

// Info returns the store's summary. It reads only the manifest.
func (d *DB) Info() (*Info, error) {
	m, err := d.snapshot()
	if err != nil {
		return nil, err
	}
	in := &Info{Dir: d.dir, FormatVersion: m.FormatVersion, Fingerprint: m.fingerprint(), Rows: m.Rows,
		Vectors: VectorInfo{Dim: m.Dim, DType: m.DType, Model: m.Model, Index: m.Index, TextIndex: m.TextIndex}, Files: m.Segments, Trigrams: m.Trigrams}
	nsfw := map[string]int64{}
	var nsfwNull int64
	hasNSFW := m.column("nsfw") != nil
	for _, s := range m.Segments {
		if s.HasImage {
			in.Vectors.Image += s.Rows
		}
		if s.HasText {
			in.Vectors.Text += s.Rows
		}
		in.Vectors.Normalized += s.NormalizedImage + s.NormalizedText
		in.SimilarityInvalid += s.Stats.SimilarityInvalid
		if hasNSFW {
			// The manifest counts null under "" with the empty string; the
			// column's null count tells them apart.
			if s.Stats.NSFW == nil {
				nsfwNull += s.Rows // the file has no nsfw column
			} else {
				nsfwNull += s.Stats.Nulls["nsfw"]
			}
			for k, n := range s.Stats.NSFW {
				nsfw[k] += n
			}
		}
	}
	for _, c := range m.Columns {
		cs := ColumnStats{Name: c.Name, Type: c.Type.String()}
		for _, s := range m.Segments {
			if segmentHasColumn(s, c.Name) {
				cs.Nulls += s.Stats.Nulls[c.Name]
			} else {
				cs.Nulls += s.Rows
			}
			cs.InvalidUTF8 += s.Stats.InvalidUTF8[c.Name]
		}
		in.Columns = append(in.Columns, cs)
	}
	nsfw[""] -= nsfwNull
	for k, n := range nsfw {
		if n > 0 {
			in.NSFW = append(in.NSFW, ValueCount{Value: k, Count: n})
		}
	}
	if nsfwNull > 0 {
		in.NSFW = append(in.NSFW, ValueCount{Count: nsfwNull, Null: true})
	}
	sort.Slice(in.NSFW, func(i, j int) bool {
		a, b := in.NSFW[i], in.NSFW[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.Null != b.Null {
			return b.Null
		}
		return a.Value < b.Value
	})
	return in, nil
}

// segmentHasColumn reports whether the segment's file had the column.
func segmentHasColumn(s Segment, name string) bool {
	for _, c := range s.Columns {
		if c == name {
			return true
		}
	}
	return false
}

// WriteText prints the summary as aligned text.
func (in *Info) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "store\t%s\n", in.Dir)
	fmt.Fprintf(tw, "format\tversion %d, fingerprint %s\n", in.FormatVersion, in.Fingerprint)
	fmt.Fprintf(tw, "rows\t%d\n", in.Rows)
	if in.Vectors.Dim == 0 {
		fmt.Fprintf(tw, "vectors\tnone\n")
	} else {
		fmt.Fprintf(tw, "vectors\t%d image, %d text; dim %d, %s", in.Vectors.Image, in.Vectors.Text, in.Vectors.Dim, in.Vectors.DType)
		if in.Vectors.Model != "" {
			fmt.Fprintf(tw, ", model %s", in.Vectors.Model)
		}
		fmt.Fprintf(tw, "; %d normalised at ingest\n", in.Vectors.Normalized)
		if ix := in.Vectors.Index; ix != nil {
			fmt.Fprintf(tw, "index\t%s", strings.Replace(ix.Describe(), " (", " over the "+imageRows(in.Files, ix.Rows)+" (", 1))
			if ix.Rows < in.Rows {
				fmt.Fprintf(tw, "; rows after %d are searched by exact scan until 'laiondb index'", ix.Rows-1)
			}
			fmt.Fprintln(tw)
			if c := ix.Calibration; c != nil {
				for i, l := range c.Lines() {
					if i == 0 {
						fmt.Fprintf(tw, "default ef\t%s\n", l)
					} else {
						fmt.Fprintf(tw, "\t%s\n", l)
					}
				}
			}
		} else {
			fmt.Fprintf(tw, "index\tnone: searches scan exactly ('laiondb index' builds one)\n")
		}
		if ix := in.Vectors.TextIndex; ix != nil {
			fmt.Fprintf(tw, "text index\t%s", strings.Replace(ix.Describe(), " (", " over the text embeddings of rows 0-"+fmt.Sprint(ix.Rows-1)+" (", 1))
			if ix.Rows < in.Rows {
				fmt.Fprintf(tw, "; rows after %d are searched by exact scan until 'laiondb index --space text'", ix.Rows-1)
			}
			fmt.Fprintln(tw)
			if c := ix.Calibration; c != nil {
				for _, l := range c.Lines() {
					fmt.Fprintf(tw, "text-space ef\t%s\n", l)
				}
			}
		}
	}
	if tr := in.Trigrams; tr != nil {
		for _, c := range tr.Columns {
			segs, size := 0, int64(0)
			for i := range in.Files {
				if f := in.Files[i].trigramFile(c); f != nil {
					segs++
					size += f.Size
				}
			}
			fmt.Fprintf(tw, "trigram index	column %s: %d of %d segments, %d bytes", c, segs, len(in.Files), size)
			if segs < len(in.Files) {
				fmt.Fprintf(tw, "; the others are scanned until 'laiondb index --text %s'", c)
			}
			fmt.Fprintln(tw)
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "\ncolumns (%d):\n", len(in.Columns))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "name\ttype\tnulls\tinvalid utf-8\t\n")
	for _, c := range in.Columns {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t\n", c.Name, c.Type, c.Nulls, c.InvalidUTF8)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nnsfw values:\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	if len(in.NSFW) == 0 {
		fmt.Fprintf(tw, "(no nsfw column)\t\n")
	}
	for _, v := range in.NSFW {
		name := v.Value
		switch {
		case v.Null:
			name = "(null)"
		case name == "":
			name = `""`
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t\n", name, v.Count, pct(v.Count, in.Rows))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nsimilarity values NaN, > 1 or < -1: %d\n", in.SimilarityInvalid)
	fmt.Fprintf(w, "\nfiles (%d):\n", len(in.Files))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range in.Files {
		var roles []string
		for _, f := range s.Files {
			roles = append(roles, f.Role)
		}
		extra := ""
		if len(s.Stats.Missing) > 0 {
			extra = "  missing: " + strings.Join(s.Stats.Missing, ",")
		}
		fmt.Fprintf(tw, "%s\trows %d-%d\t%s\tsha256 %s…%s\n", s.Name, s.Base, s.Base+s.Rows-1, strings.Join(roles, "+"), s.Files[0].SHA256[:12], extra)
	}
	return tw.Flush()
}

func pct(n, of int64) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f%%", 100*float64(n)/float64(of))
}

// Lines describes the calibration, one line per query kind.
func (c *Calibration) Lines() []string {
	return []string{calibrationLine("image", c.Image, c.MaxEffort), calibrationLine("text", c.Text, c.MaxEffort)}
}

// calibrationLine describes the calibration of one query kind.
func calibrationLine(kind string, cs []vector.Calibration, maxEffort int) string {
	if len(cs) == 0 {
		return kind + " queries: not calibrated (no " + kind + " embeddings)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s queries", kind)
	for i, c := range cs {
		sep := ","
		if i == 0 {
			sep = ":"
		}
		if c.Ef == 0 {
			fmt.Fprintf(&b, "%s k %d exact scan (recall@%d %.4f, lower bound %.4f < %.2f at ef %d)", sep, c.K, c.K, c.Recall, c.Lower, c.Target, maxEffort)
		} else {
			fmt.Fprintf(&b, "%s k %d ef %d (recall@%d %.4f)", sep, c.K, c.Ef, c.K, c.Recall)
		}
	}
	fmt.Fprintf(&b, " on %d sampled rows", cs[0].Queries)
	return b.String()
}

// imageRows says which of the rows [0, upTo) have image vectors: "1200
// image vectors of rows 0-1199", with the ranges of the files that have them.
func imageRows(segs []Segment, upTo int64) string {
	var n int64
	var ranges []string
	var lo, hi int64 = -1, -1
	flush := func() {
		if lo >= 0 {
			ranges = append(ranges, fmt.Sprintf("%d-%d", lo, hi-1))
		}
	}
	for _, sg := range segs {
		if !sg.HasImage || sg.Base >= upTo || sg.Rows == 0 {
			continue
		}
		end := min(sg.Base+sg.Rows, upTo)
		n += end - sg.Base
		if sg.Base == hi {
			hi = end
			continue
		}
		flush()
		lo, hi = sg.Base, end
	}
	flush()
	if n == 0 {
		return "0 image vectors"
	}
	return fmt.Sprintf("%d image vectors of rows %s", n, strings.Join(ranges, ", "))
}
