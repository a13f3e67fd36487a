package db

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/laiondb/laiondb/query"
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
	// Indexes describes the vector indexes, over the image embeddings
	// and then over the text embeddings.
	Indexes []IndexInfo `json:"indexes,omitempty"`
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
		Vectors: VectorInfo{Dim: m.Dim, DType: m.DType, Model: m.Model}, Files: m.Segments, Trigrams: m.Trigrams}
	for _, sp := range []query.Space{query.SpaceImage, query.SpaceText} {
		for _, ix := range m.IndexesOf(sp) {
			in.Vectors.Indexes = append(in.Vectors.Indexes, *ix)
		}
	}
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
		image := false
		for i := range in.Vectors.Indexes {
			ix := &in.Vectors.Indexes[i]
			image = image || ix.space() == query.SpaceImage
			ix.writeText(tw, in)
		}
		if !image {
			fmt.Fprintf(tw, "index\tnone: searches scan exactly ('laiondb index' builds one)\n")
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
func (c *Calibration) Lines() []string { return c.lines("ef") }

// lines is Lines for an index whose effort is called effort.
func (c *Calibration) lines(effort string) []string {
	return []string{calibrationLine("image", c.Image, c.MaxEffort, effort), calibrationLine("text", c.Text, c.MaxEffort, effort)}
}

// Lines describes the index's calibration (Calibration.Lines), with its
// kind's name for the effort ("ef", "nprobe"); nil when it has none.
func (ix *IndexInfo) Lines() []string {
	if ix.Calibration == nil {
		return nil
	}
	return ix.Calibration.lines(ix.Effort())
}

// Effort names the index's search effort: "ef" for an HNSW graph,
// "nprobe" for an inverted file.
func (ix *IndexInfo) Effort() string {
	if k, err := lookupIndex(ix.Kind); err == nil {
		return k.effort
	}
	return "effort"
}

// writeText prints the index's lines of the store's summary.
func (ix *IndexInfo) writeText(tw io.Writer, in *Info) {
	label, over, cmd := "index", imageRows(in.Files, ix.Rows), "'laiondb index'"
	if ix.space() == query.SpaceText {
		label, over, cmd = "text index", "text embeddings of rows 0-"+fmt.Sprint(ix.Rows-1), "'laiondb index --space text'"
	}
	fmt.Fprintf(tw, "%s\t%s", label, strings.Replace(ix.Describe(), " (", " over the "+over+" (", 1))
	if ix.MemoryBytes > 0 {
		n := in.Vectors.Image
		if ix.space() == query.SpaceText {
			n = in.Vectors.Text
		}
		fmt.Fprintf(tw, "; %s in memory", memory(ix.MemoryBytes, n))
	}
	switch {
	case ix.Building:
		fmt.Fprintf(tw, "; being built, not used by searches until %s resumes and finishes the build", strings.Replace(cmd, "'laiondb index", "'laiondb index --kind "+ix.Kind, 1))
	case ix.Rows < in.Rows:
		fmt.Fprintf(tw, "; rows after %d are searched by exact scan until %s", ix.Rows-1, cmd)
	}
	fmt.Fprintln(tw)
	prefix := "default " + ix.Effort()
	if ix.space() == query.SpaceText {
		prefix = "text-space " + ix.Effort()
	}
	for i, l := range ix.Lines() {
		if i == 0 {
			fmt.Fprintf(tw, "%s\t%s\n", prefix, l)
		} else {
			fmt.Fprintf(tw, "\t%s\n", l)
		}
	}
}

// byteSize writes a size in bytes, kB, MB or GB (powers of ten).
func byteSize(b int64) string {
	switch {
	case b >= 1e9:
		return fmt.Sprintf("%.2f GB", float64(b)/1e9)
	case b >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(b)/1e6)
	case b >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(b)/1e3)
	}
	return fmt.Sprintf("%d bytes", b)
}

// memory says how much memory an index holds: "52 MB, 53 bytes a vector".
func memory(b, vectors int64) string {
	s := fmt.Sprintf("%.1f MB", float64(b)/1e6)
	if vectors > 0 {
		s += fmt.Sprintf(", %.0f bytes a vector", float64(b)/float64(vectors))
	}
	return s
}

// calibrationLine describes the calibration of one query kind.
func calibrationLine(kind string, cs []vector.Calibration, maxEffort int, effort string) string {
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
			fmt.Fprintf(&b, "%s k %d exact scan (recall@%d %.4f, lower bound %.4f < %.2f at %s %d)", sep, c.K, c.K, c.Recall, c.Lower, c.Target, effort, maxEffort)
		} else {
			fmt.Fprintf(&b, "%s k %d %s %d (recall@%d %.4f)", sep, c.K, effort, c.Ef, c.K, c.Recall)
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
