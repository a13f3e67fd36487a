package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/table"
)

// Format is the encoding of an export.
type Format string

// The formats.
const (
	// Parquet is one parquet file, Snappy-compressed, a row group per
	// chunk of rows.
	Parquet Format = "parquet"
	// JSONL is one JSON object a line.
	JSONL Format = "jsonl"
	// CSV is RFC 4180 CSV with a header line.
	CSV Format = "csv"
	// JSON is one JSON array of objects, laid out as JavaScript's
	// JSON.stringify(rows, null, 2) lays it out.
	JSON Format = "json"
)

var formats = []Format{Parquet, JSONL, CSV, JSON}

// ParseFormat returns the format named s.
func ParseFormat(s string) (Format, error) {
	if f := Format(strings.ToLower(s)); slices.Contains(formats, f) {
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q (want parquet, jsonl, csv or json)", s)
}

// FormatOf returns the format a file name's extension names: .parquet,
// .jsonl (or .ndjson), .csv or .json; false for any other.
func FormatOf(path string) (Format, bool) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".parquet":
		return Parquet, true
	case ".jsonl", ".ndjson":
		return JSONL, true
	case ".csv":
		return CSV, true
	case ".json":
		return JSON, true
	}
	return "", false
}

// Shape is the set of columns an export writes.
type Shape string

// The shapes.
const (
	// Rows is provenance, the search's score and rank, and the store's
	// columns (or those of Options.Columns).
	Rows Shape = "rows"
	// Img2Dataset is the columns url and caption, the input img2dataset
	// reads with --url_col url --caption_col caption.
	Img2Dataset Shape = "img2dataset"
	// ClipSubset is the objects of clip-retrieval's clipsubset.json: url,
	// caption, NSFW, id and similarity (see clipsubset.go).
	ClipSubset Shape = "clipsubset"
)

var shapes = []Shape{Rows, Img2Dataset, ClipSubset}

// ParseShape returns the shape named s.
func ParseShape(s string) (Shape, error) {
	if sh := Shape(strings.ToLower(s)); slices.Contains(shapes, sh) {
		return sh, nil
	}
	return "", fmt.Errorf("unknown shape %q (want rows, img2dataset or clipsubset)", s)
}

// DefaultChunkRows is the number of rows fetched, and written as one
// parquet row group, at a time.
const DefaultChunkRows = 1 << 16

// Options configure an export. A nil *Options means the zero Options.
type Options struct {
	// Format is the encoding; empty means JSON for the ClipSubset shape
	// and Parquet otherwise.
	Format Format
	// Shape is the set of columns; empty means Rows.
	Shape Shape
	// Columns, for the Rows shape, names the columns to write, in order:
	// store columns (case-insensitive; caption names text when the store
	// has no caption column) and row, file, file_row, and for searches
	// score and rank. A name the store has always means the store's
	// column. Empty means row, file, file_row, score and rank (for
	// searches), then every column of the store that is not Computed.
	Columns []string
	// ChunkRows is the number of rows fetched at a time, which bounds the
	// memory an export uses; 0 means DefaultChunkRows.
	ChunkRows int
	// Extra are columns the caller computes (the row a dedup keeps for
	// each dropped row, say): written after the others when Columns is
	// empty, else where Columns names them. Write adds two to a seed
	// set's answer in the rows shape: seeds (the seed rows that reached
	// each row, space-separated) and status (empty, for a reviewer).
	Extra []Extra
}

// Extra is a column computed by the caller: one value for each row
// written, in the order the rows are written (a query's order for Write,
// the list's for WriteRows). Exactly one of Ints and Strings is set.
type Extra struct {
	Name    string
	Ints    []int64
	Strings []string
}

// len is the number of values.
func (e *Extra) len() int { return max(len(e.Ints), len(e.Strings)) }

// Type is the type of an exported column.
type Type uint8

// The column types; parquet writes them as INT64, DOUBLE, FLOAT, BOOLEAN
// and BYTE_ARRAY with the String logical type.
const (
	Int64 Type = iota + 1
	Float64
	Float32
	Bool
	String
)

// String returns the type's name.
func (t Type) String() string {
	switch t {
	case Int64:
		return "int64"
	case Float64:
		return "float64"
	case Float32:
		return "float32"
	case Bool:
		return "bool"
	case String:
		return "string"
	}
	return "unknown"
}

// MarshalText writes the type's name.
func (t Type) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// typeOf maps a store column type to its exported type.
func typeOf(t table.Type) Type {
	switch t {
	case table.TypeInt:
		return Int64
	case table.TypeFloat:
		return Float64
	case table.TypeBool:
		return Bool
	}
	return String
}

// kind says where a column's values come from.
type kind uint8

const (
	kindStore   kind = iota // a store column
	kindRow                 // the store position
	kindFile                // the source file
	kindFileRow             // the row in the source file
	kindScore               // the search score
	kindRank                // the position in the search's answer, from 1
	kindExtra               // a column of Options.Extra
)

// own names the columns an export adds, in the Rows shape's order.
var own = []struct {
	name string
	kind kind
	typ  Type
}{
	{"row", kindRow, Int64}, {"file", kindFile, String}, {"file_row", kindFileRow, Int64},
	{"score", kindScore, Float32}, {"rank", kindRank, Int64},
}

// Column is one exported column.
type Column struct {
	// Name is the column's name in the output.
	Name string `json:"name"`
	Type Type   `json:"type"`
	// Store is the store column it holds; empty for the columns the export
	// adds (row, file, file_row, score, rank; id and similarity in the
	// ClipSubset shape).
	Store string `json:"store,omitempty"`
	// Nulls counts the null values written (set in a Summary).
	Nulls int `json:"nulls"`
	kind  kind
	extra *Extra // kindExtra's values
}

// Summary describes a finished export.
type Summary struct {
	// Query is the canonical form of the query exported ("" for WriteRows).
	Query string `json:"query,omitempty"`
	// Plan is the query's plan: what was scanned and how the search ran.
	Plan string `json:"plan,omitempty"`
	// Fingerprint is the store's fingerprint.
	Fingerprint string `json:"fingerprint"`
	// Exact reports whether the selection is exact (false only when a
	// vector search was approximate).
	Exact bool `json:"exact"`
	// RowsScanned and VectorsScanned are the query's.
	RowsScanned    int    `json:"rows_scanned"`
	VectorsScanned int    `json:"vectors_scanned"`
	Format         Format `json:"format"`
	Shape          Shape  `json:"shape"`
	// Order is "best first" for searches, "store order" for all and "as
	// listed" for WriteRows.
	Order   string   `json:"order"`
	Columns []Column `json:"columns"`
	// Rows is the number of rows written: the query's Selected.
	Rows int `json:"rows"`
	// Bytes is the number of bytes written.
	Bytes int64 `json:"bytes"`
	// NotUTF8 counts the strings holding bytes that are not UTF-8, written
	// with U+FFFD in their place by the formats that require UTF-8
	// (parquet, JSON, JSONL) and as they are by CSV.
	NotUTF8 int `json:"not_utf8"`
	// NonFinite counts the NaN and infinite floats that JSON and JSONL,
	// which have no such numbers, write as null.
	NonFinite int `json:"non_finite"`
	// EmptyStrings counts the empty strings CSV writes as empty cells, as
	// it writes nulls: CSV cannot tell the two apart.
	EmptyStrings int `json:"empty_strings"`
	// Notes say in words what the counts above mean for this export.
	Notes []string `json:"notes,omitempty"`
}

// Write writes the rows a query selected: res must be the result of
// running the query on s (the same snapshot: the fingerprints must match).
// Searches (knn, within) are written best first, with their score and
// rank; all queries in store order. Rows are fetched ChunkRows at a time,
// and ctx is checked between chunks. The number of rows written is
// res.Selected, or Write fails.
func Write(ctx context.Context, s engine.Store, res *engine.Result, w io.Writer, o *Options) (*Summary, error) {
	if res == nil || res.Selection == nil {
		return nil, errors.New("export: the result holds no selection")
	}
	if fp := s.Fingerprint(); res.Fingerprint != fp {
		return nil, fmt.Errorf("export: the result is of a store with fingerprint %s, not of this one (%s): run the query on the snapshot exported", res.Fingerprint, fp)
	}
	if res.Selection.Cap() != s.NumRows() {
		return nil, fmt.Errorf("export: the result's selection covers %d rows, the store has %d", res.Selection.Cap(), s.NumRows())
	}
	search := res.Search != nil
	o = withSeeds(res, o)
	if err := checkExtra(o, res.Selected); err != nil {
		return nil, err
	}
	sum := &Summary{Query: res.Query, Plan: res.Plan, Exact: res.Exact, RowsScanned: res.RowsScanned,
		VectorsScanned: res.VectorsScanned, Order: "store order"}
	var each func(fn func(rows []uint32, scores []float32) error) error
	chunkRows := chunkSize(o)
	if search {
		if len(res.Hits) != res.Selected {
			return nil, fmt.Errorf("export: the result lists %d hits for %d selected rows", len(res.Hits), res.Selected)
		}
		sum.Order = "best first"
		each = func(fn func([]uint32, []float32) error) error {
			rows := make([]uint32, 0, min(chunkRows, len(res.Hits)))
			scores := make([]float32, 0, cap(rows))
			for lo := 0; lo < len(res.Hits); lo += chunkRows {
				rows, scores = rows[:0], scores[:0]
				for _, h := range res.Hits[lo:min(lo+chunkRows, len(res.Hits))] {
					rows, scores = append(rows, h.Row), append(scores, h.Score)
				}
				if err := fn(rows, scores); err != nil {
					return err
				}
			}
			return nil
		}
	} else {
		if n := res.Selection.Count(); n != res.Selected {
			return nil, fmt.Errorf("export: the result's selection holds %d rows, it says %d", n, res.Selected)
		}
		each = func(fn func([]uint32, []float32) error) error {
			rows := make([]uint32, 0, min(chunkRows, res.Selected))
			var err error
			res.Selection.ForEach(func(r uint32) bool {
				if rows = append(rows, r); len(rows) == chunkRows {
					err, rows = fn(rows, nil), rows[:0]
				}
				return err == nil
			})
			if err == nil && len(rows) > 0 {
				err = fn(rows, nil)
			}
			return err
		}
	}
	if err := write(ctx, s, search, each, w, o, sum); err != nil {
		return nil, err
	}
	if sum.Rows != res.Selected {
		return nil, fmt.Errorf("export: wrote %d rows, the query selected %d", sum.Rows, res.Selected)
	}
	return sum, nil
}

// WriteRows writes the listed rows of s, in that order, as Write writes a
// query's: for rows that come from elsewhere than a query (the rows a
// dedup drops, the rows a diff finds removed). There are no scores, so
// the columns score and rank do not exist.
func WriteRows(ctx context.Context, s engine.Store, rows []uint32, w io.Writer, o *Options) (*Summary, error) {
	n := s.NumRows()
	for _, r := range rows {
		if int(r) >= n {
			return nil, fmt.Errorf("export: row %d is not in the store (it has %d rows)", r, n)
		}
	}
	if err := checkExtra(o, len(rows)); err != nil {
		return nil, err
	}
	sum := &Summary{Exact: true, Order: "as listed"}
	chunkRows := chunkSize(o)
	each := func(fn func([]uint32, []float32) error) error {
		for lo := 0; lo < len(rows); lo += chunkRows {
			if err := fn(rows[lo:min(lo+chunkRows, len(rows))], nil); err != nil {
				return err
			}
		}
		return nil
	}
	if err := write(ctx, s, false, each, w, o, sum); err != nil {
		return nil, err
	}
	return sum, nil
}

func chunkSize(o *Options) int {
	if o != nil && o.ChunkRows > 0 {
		return o.ChunkRows
	}
	return DefaultChunkRows
}

// Columns returns the columns an export of s with these options writes;
// search says whether the query is a knn or within search (which has
// scores). It is the check Write makes first: an unknown format, shape or
// column is an error that names what there is.
func Columns(s engine.Store, search bool, o *Options) ([]Column, error) {
	var opts Options
	if o != nil {
		opts = *o
	}
	if _, err := formatOf(&opts); err != nil {
		return nil, err
	}
	shape := opts.Shape
	if shape == "" {
		shape = Rows
	}
	if !slices.Contains(shapes, shape) {
		return nil, fmt.Errorf("export: unknown shape %q (want rows, img2dataset or clipsubset)", shape)
	}
	if shape != Rows && len(opts.Columns) > 0 {
		return nil, fmt.Errorf("export: the %s shape has fixed columns; Columns (--columns) picks those of the rows shape", shape)
	}
	store := s.Columns()
	switch shape {
	case Img2Dataset:
		url, text, err := urlAndCaption(store, shape)
		if err != nil {
			return nil, err
		}
		return []Column{{Name: "url", Type: String, Store: url}, {Name: "caption", Type: String, Store: text}}, nil
	case ClipSubset:
		return clipSubsetColumns(store, search)
	}
	extras := map[string]*Extra{}
	for i := range opts.Extra {
		e := &opts.Extra[i]
		if (e.Ints == nil) == (e.Strings == nil) || e.Name == "" {
			return nil, fmt.Errorf("export: extra column %q: want a name and either Ints or Strings", e.Name)
		}
		if findColumn(store, e.Name) != nil || extras[e.Name] != nil {
			return nil, fmt.Errorf("export: extra column %q: the store or another extra column has that name", e.Name)
		}
		extras[e.Name] = e
	}
	extraColumn := func(e *Extra) Column {
		c := Column{Name: e.Name, Type: String, kind: kindExtra, extra: e}
		if e.Ints != nil {
			c.Type = Int64
		}
		return c
	}
	if len(opts.Columns) == 0 {
		out, err := defaultColumns(store, search)
		if err != nil {
			return nil, err
		}
		for i := range opts.Extra {
			out = append(out, extraColumn(&opts.Extra[i]))
		}
		return out, nil
	}
	var out []Column
	for _, name := range opts.Columns {
		var c Column
		var err error
		if e := extras[strings.ToLower(strings.TrimSpace(name))]; e != nil {
			c = extraColumn(e)
		} else if c, err = resolve(store, search, name); err != nil {
			return nil, err
		}
		if slices.ContainsFunc(out, func(o Column) bool { return o.Name == c.Name }) {
			return nil, fmt.Errorf("export: column %s given twice", c.Name)
		}
		out = append(out, c)
	}
	return out, nil
}

// defaultColumns are the Rows shape's columns without Options.Columns.
func defaultColumns(store []table.ColumnInfo, search bool) ([]Column, error) {
	var out []Column
	for _, c := range own {
		if (c.kind == kindScore || c.kind == kindRank) && !search {
			continue
		}
		if findColumn(store, c.name) != nil {
			return nil, fmt.Errorf("export: the store has a column %q, the name of a column the export adds; name the columns to write with Columns (--columns), where %q means the store's column", c.name, c.name)
		}
		out = append(out, Column{Name: c.name, Type: c.typ, kind: c.kind})
	}
	for _, c := range store {
		if !c.Computed {
			out = append(out, Column{Name: c.Name, Type: typeOf(c.Type), Store: c.Name})
		}
	}
	return out, nil
}

// resolve maps a name of Options.Columns to a column.
func resolve(store []table.ColumnInfo, search bool, name string) (Column, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if c := findColumn(store, n); c != nil {
		return Column{Name: c.Name, Type: typeOf(c.Type), Store: c.Name}, nil
	}
	if n == "caption" {
		if c := findColumn(store, "text"); c != nil {
			return Column{Name: c.Name, Type: typeOf(c.Type), Store: c.Name}, nil
		}
	}
	for _, c := range own {
		if c.name != n {
			continue
		}
		if (c.kind == kindScore || c.kind == kindRank) && !search {
			return Column{}, fmt.Errorf("export: column %s: the query is not a search (knn or within), so its rows have no %s", n, n)
		}
		return Column{Name: c.name, Type: c.typ, kind: c.kind}, nil
	}
	names := make([]string, len(store))
	for i, c := range store {
		names[i] = c.Name
	}
	adds := "row, file, file_row"
	if search {
		adds += ", score, rank"
	}
	return Column{}, fmt.Errorf("export: no column %q (the store has: %s; the export adds %s)", name, strings.Join(names, ", "), adds)
}

// findColumn returns the store column named name, or nil.
func findColumn(store []table.ColumnInfo, name string) *table.ColumnInfo {
	for i := range store {
		if store[i].Name == name {
			return &store[i]
		}
	}
	return nil
}

// urlAndCaption returns the store's url and caption (text) columns, which
// shape needs.
func urlAndCaption(store []table.ColumnInfo, shape Shape) (url, text string, err error) {
	for _, want := range []string{"url", "text"} {
		c := findColumn(store, want)
		if c == nil && want == "text" {
			c = findColumn(store, "caption")
		}
		if c == nil {
			names := make([]string, len(store))
			for i, c := range store {
				names[i] = c.Name
			}
			return "", "", fmt.Errorf("export: the %s shape needs a %s column, and the store has none (it has: %s)", shape, want, strings.Join(names, ", "))
		}
		if want == "url" {
			url = c.Name
		} else {
			text = c.Name
		}
	}
	return url, text, nil
}

// formatOf returns the options' format, defaults applied.
func formatOf(o *Options) (Format, error) {
	f := o.Format
	switch {
	case f == "" && o.Shape == ClipSubset:
		f = JSON
	case f == "":
		f = Parquet
	case !slices.Contains(formats, f):
		return "", fmt.Errorf("export: unknown format %q (want parquet, jsonl, csv or json)", f)
	}
	return f, nil
}

// chunk is a run of rows with the columns an export writes.
type chunk struct {
	rows   []uint32
	scores []float32 // nil unless the query is a search
	// first is the rank of rows[0] minus one.
	first    int
	files    [][]byte
	fileRows []int64
	b        *table.Batch
}

// cell is one value of a chunk; exactly the field of its type is set.
type cell struct {
	null bool
	typ  Type
	i    int64
	f    float64 // Float64, and Float32 widened
	b    bool
	s    []byte
}

// cell returns the value of column c at row i of the chunk.
func (ch *chunk) cell(c *Column, i int) cell {
	switch c.kind {
	case kindRow:
		return cell{typ: Int64, i: int64(ch.rows[i])}
	case kindFile:
		return cell{typ: String, s: ch.files[i]}
	case kindFileRow:
		return cell{typ: Int64, i: ch.fileRows[i]}
	case kindScore:
		return cell{typ: Float32, f: float64(ch.scores[i])}
	case kindRank:
		return cell{typ: Int64, i: int64(ch.first + i + 1)}
	case kindExtra:
		if c.extra.Ints != nil {
			return cell{typ: Int64, i: c.extra.Ints[ch.first+i]}
		}
		return cell{typ: String, s: []byte(c.extra.Strings[ch.first+i])}
	}
	col := ch.b.Cols[c.Store]
	if col == nil || col.IsNull(i) {
		return cell{null: true, typ: c.Type}
	}
	switch col.Type {
	case table.TypeInt:
		return cell{typ: Int64, i: col.Int[i]}
	case table.TypeFloat:
		return cell{typ: Float64, f: col.Float[i]}
	case table.TypeBool:
		return cell{typ: Bool, b: col.Bool[i]}
	}
	return cell{typ: String, s: col.Str.At(i)}
}

// encoder writes rows in one format.
type encoder interface {
	// rows writes the rows of a chunk.
	rows(ch *chunk) error
	// close writes what follows the last row.
	close() error
}

// newEncoder starts an export in format f to w.
func newEncoder(f Format, w io.Writer, cols []Column, sum *Summary) (encoder, error) {
	switch f {
	case CSV:
		return newCSV(w, cols, sum)
	case JSONL, JSON:
		return newJSON(w, cols, sum, f == JSON)
	}
	return newParquet(w, cols, sum)
}

// write runs an export: each calls its function with the rows to write,
// chunk by chunk, and their scores for searches.
func write(ctx context.Context, s engine.Store, search bool, each func(func([]uint32, []float32) error) error, w io.Writer, o *Options, sum *Summary) error {
	var opts Options
	if o != nil {
		opts = *o
	}
	cols, err := Columns(s, search, &opts)
	if err != nil {
		return err
	}
	if sum.Format, err = formatOf(&opts); err != nil {
		return err
	}
	sum.Shape = opts.Shape
	if sum.Shape == "" {
		sum.Shape = Rows
	}
	sum.Fingerprint = s.Fingerprint()
	sum.Columns = cols
	var storeCols []string
	for _, c := range cols {
		if c.Store != "" && !slices.Contains(storeCols, c.Store) {
			storeCols = append(storeCols, c.Store)
		}
	}
	cw := &countingWriter{w: w}
	enc, err := newEncoder(sum.Format, cw, cols, sum)
	if err != nil {
		return err
	}
	files := map[string][]byte{}
	ch := &chunk{}
	err = each(func(rows []uint32, scores []float32) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := s.Fetch(ctx, rows, storeCols)
		if err != nil {
			return fmt.Errorf("export: fetching rows: %w", err)
		}
		if b.Len != len(rows) {
			return fmt.Errorf("export: the store fetched %d rows, want %d", b.Len, len(rows))
		}
		ch.rows, ch.scores, ch.b = rows, scores, b
		ch.files, ch.fileRows = ch.files[:0], ch.fileRows[:0]
		for _, r := range rows {
			f, fr := s.Source(r)
			name, ok := files[f]
			if !ok {
				name = []byte(f)
				files[f] = name
			}
			ch.files, ch.fileRows = append(ch.files, name), append(ch.fileRows, fr)
		}
		for j := range cols {
			if cols[j].Store != "" {
				cols[j].Nulls += nulls(b.Cols[cols[j].Store], len(rows))
			}
		}
		if err := enc.rows(ch); err != nil {
			return err
		}
		ch.first += len(rows)
		sum.Rows += len(rows)
		return nil
	})
	if err == nil {
		err = enc.close()
	}
	if err != nil {
		return err
	}
	sum.Bytes = cw.n
	sum.Notes = notes(sum)
	return nil
}

// nulls counts the nulls among the first n values of c (all of them when
// the store lacks the column).
func nulls(c *table.Column, n int) int {
	switch {
	case c == nil:
		return n
	case c.Null == nil:
		return 0
	}
	k := 0
	for _, null := range c.Null[:n] {
		if null {
			k++
		}
	}
	return k
}

// notes says what the summary's counts of changed values mean.
func notes(sum *Summary) []string {
	var out []string
	if n := sum.NotUTF8; n > 0 {
		what := plural(n, "string holds", "strings hold")
		if sum.Format == CSV {
			out = append(out, fmt.Sprintf("%d %s bytes that are not UTF-8: written as they are", n, what))
		} else {
			out = append(out, fmt.Sprintf("%d %s bytes that are not UTF-8: written with U+FFFD for each such byte (%s strings are UTF-8)", n, what, sum.Format))
		}
	}
	if n := sum.NonFinite; n > 0 {
		out = append(out, fmt.Sprintf("%d %s NaN or infinite: written as null (JSON has no such numbers)", n, plural(n, "float is", "floats are")))
	}
	if n := sum.EmptyStrings; n > 0 {
		out = append(out, fmt.Sprintf("%d %s empty: written as empty cells, as nulls are (CSV cannot tell them apart)", n, plural(n, "string is", "strings are")))
	}
	return out
}

// plural returns one when n is 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// withSeeds adds, to the rows shape of a seed set's answer (a review
// queue), the seeds that reached each row and an empty status column for
// the reviewer.
func withSeeds(res *engine.Result, o *Options) *Options {
	var opts Options
	if o != nil {
		opts = *o
	}
	if res.Seeds == nil || (opts.Shape != "" && opts.Shape != Rows) || len(res.Seeds) != res.Selected {
		return o
	}
	seeds := make([]string, len(res.Seeds))
	for i, sd := range res.Seeds {
		parts := make([]string, len(sd))
		for j, r := range sd {
			parts[j] = strconv.FormatUint(uint64(r), 10)
		}
		seeds[i] = strings.Join(parts, " ")
	}
	opts.Extra = append(slices.Clip(opts.Extra), Extra{Name: "seeds", Strings: seeds}, Extra{Name: "status", Strings: make([]string, len(seeds))})
	return &opts
}

// checkExtra checks that each extra column has a value for each of the n
// rows written.
func checkExtra(o *Options, n int) error {
	if o == nil {
		return nil
	}
	for i := range o.Extra {
		if e := &o.Extra[i]; e.len() != n {
			return fmt.Errorf("export: extra column %q has %d values for %d rows", e.Name, e.len(), n)
		}
	}
	return nil
}
