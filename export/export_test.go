package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/engine/enginetest"
	"github.com/laiondb/laiondb/export"
	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/table"
)

// awkward are the texts a writer gets wrong: quotes, commas, line breaks,
// control characters, non-ASCII, bytes that are not UTF-8, the line and
// paragraph separators JavaScript treats as line ends, empty strings.
var awkward = []string{
	`she said "hi", then left`, "line one\nline two", "crlf\r\nend", "tab\there", "bell\x07",
	"東京 café naïve İstanbul", "caf\xe9 latte \xff desi", "\xed\xa0\x80 surrogate half", "sep\u2028arator\u2029",
	"", " leading and trailing ", `back\slash`, "a,b,c", `"`, "NaN", "null",
}

// testStore is a store of n rows whose every column holds nulls and odd
// values: sample_id (int), url and text (strings with the awkward texts),
// nsfw (string), similarity (float: NaN, infinities, 6016), watermark
// (bool), and 8-d embeddings. Rows come from files of 700 rows.
func testStore(n int) *enginetest.Store {
	rng := rand.New(rand.NewPCG(3, 5))
	ids, idNull := make([]int64, n), make([]bool, n)
	urls, urlNull := make([]string, n), make([]bool, n)
	texts, textNull := make([]string, n), make([]bool, n)
	nsfw, nsfwNull := make([]string, n), make([]bool, n)
	sim, simNull := make([]float64, n), make([]bool, n)
	wm, wmNull := make([]bool, n), make([]bool, n)
	vecs := make([][]float32, n)
	for i := range n {
		ids[i], idNull[i] = int64(i)*7-50, rng.IntN(40) == 0
		urls[i], urlNull[i] = fmt.Sprintf("https://img.example.com/a,b/%d.jpg?q=\"x\"", i), rng.IntN(30) == 0
		switch k := rng.IntN(10); {
		case k == 0:
			textNull[i] = true
		case k < 4:
			texts[i] = awkward[rng.IntN(len(awkward))]
		default:
			texts[i] = enginetest.Words[rng.IntN(len(enginetest.Words))] + " " + enginetest.Words[rng.IntN(len(enginetest.Words))]
		}
		nsfw[i], nsfwNull[i] = enginetest.NSFWValues[rng.IntN(len(enginetest.NSFWValues))], rng.IntN(25) == 0
		switch k := rng.IntN(40); k {
		case 0:
			sim[i] = math.NaN()
		case 1:
			sim[i] = math.Inf(1)
		case 2:
			sim[i] = math.Inf(-1)
		case 3:
			sim[i] = 6016
		case 4:
			simNull[i] = true
		default:
			sim[i] = 0.2 + 0.2*rng.Float64()
		}
		wm[i], wmNull[i] = rng.IntN(2) == 0, rng.IntN(20) == 0
		vecs[i] = make([]float32, 8)
		for j := range vecs[i] {
			vecs[i][j] = float32(rng.NormFloat64())
		}
	}
	s := enginetest.New(n).
		AddInts("sample_id", ids, idNull).
		AddStrings("url", urls, urlNull).
		AddStrings("text", texts, textNull).
		AddStrings("nsfw", nsfw, nsfwNull).
		AddFloats("similarity", sim, simNull).
		AddBools("watermark", wm, wmNull).
		SetVectors(vecs).
		SetText("beautiful", []float32{1, 2, 3, 4, 5, 6, 7, 8})
	s.FileRows = 700
	return s
}

// run runs a query on s.
func run(t testing.TB, s engine.Store, q string) *engine.Result {
	t.Helper()
	res, err := engine.Run(context.Background(), s, query.MustParse(q), nil)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return res
}

// got is an export read back: the column names in order, and each row's
// values as the reader decoded them (nil for null).
type got struct {
	names []string
	rows  [][]any
	// kinds are the parquet columns' physical types and optionality.
	kinds []string
}

// readBack decodes an export with a reader independent of the writer:
// encoding/csv, encoding/json (keys in order, numbers as json.Number) and
// parquet-go's reader.
func readBack(t *testing.T, f export.Format, data []byte) got {
	t.Helper()
	var g got
	switch f {
	case export.CSV:
		recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		g.names = recs[0]
		for _, r := range recs[1:] {
			row := make([]any, len(r))
			for i, v := range r {
				row[i] = v
			}
			g.rows = append(g.rows, row)
		}
	case export.JSONL, export.JSON:
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if f == export.JSON {
			if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
				t.Fatalf("JSON does not open with [: %v %v", tok, err)
			}
		}
		for dec.More() {
			names, row := readObject(t, dec)
			if g.names == nil {
				g.names = names
			} else if !slices.Equal(names, g.names) {
				t.Fatalf("object keys %q, the first object's %q", names, g.names)
			}
			g.rows = append(g.rows, row)
		}
		if f == export.JSON {
			if tok, err := dec.Token(); err != nil || tok != json.Delim(']') {
				t.Fatalf("JSON does not close with ]: %v %v", tok, err)
			}
		}
		if _, err := dec.Token(); err != io.EOF {
			t.Fatalf("trailing data after the JSON: %v", err)
		}
	case export.Parquet:
		pf, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range pf.Root().Columns() {
			g.names = append(g.names, c.Name())
			k := c.Type().Kind().String()
			if lt := c.Type().LogicalType(); lt != nil && lt.String() == "STRING" {
				k += " utf8"
			}
			if c.Optional() {
				k += " optional"
			}
			g.kinds = append(g.kinds, k)
		}
		rows := parquet.NewReader(bytes.NewReader(data))
		defer rows.Close()
		buf := make([]parquet.Row, 100)
		for {
			n, err := rows.ReadRows(buf)
			for _, r := range buf[:n] {
				row := make([]any, len(r))
				for _, v := range r {
					row[v.Column()] = parquetValue(v)
				}
				g.rows = append(g.rows, row)
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	return g
}

func parquetValue(v parquet.Value) any {
	if v.IsNull() {
		return nil
	}
	switch v.Kind() {
	case parquet.Int64:
		return v.Int64()
	case parquet.Double:
		return v.Double()
	case parquet.Float:
		return v.Float()
	case parquet.Boolean:
		return v.Boolean()
	}
	return string(v.ByteArray())
}

// readObject reads one JSON object, keeping its keys' order.
func readObject(t *testing.T, dec *json.Decoder) ([]string, []any) {
	t.Helper()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("want an object: %v %v", tok, err)
	}
	var names []string
	var vals []any
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		names, vals = append(names, k.(string)), append(vals, v)
	}
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	return names, vals
}

// expected lists, for the rows an export should hold in order, every
// value of every column of cols (nil for null), from s.Fetch and
// s.Source: the export's answer computed apart from it.
func expected(t *testing.T, s engine.Store, rows []uint32, scores []float32, cols []export.Column) [][]any {
	t.Helper()
	var names []string
	for _, c := range cols {
		if c.Store != "" {
			names = append(names, c.Store)
		}
	}
	b, err := s.Fetch(context.Background(), rows, names)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]any, len(rows))
	for i, r := range rows {
		file, fileRow := s.Source(r)
		for _, c := range cols {
			var v any
			switch {
			case c.Store != "":
				col := b.Cols[c.Store]
				switch {
				case col.IsNull(i):
				case col.Type == table.TypeInt:
					v = col.Int[i]
				case col.Type == table.TypeFloat:
					v = col.Float[i]
				case col.Type == table.TypeBool:
					v = col.Bool[i]
				default:
					v = string(col.Str.At(i))
				}
			case c.Name == "row" || c.Name == "id":
				v = int64(r)
			case c.Name == "file":
				v = file
			case c.Name == "file_row":
				v = fileRow
			case c.Name == "score" || c.Name == "similarity":
				v = scores[i]
			case c.Name == "rank":
				v = int64(i + 1)
			default:
				t.Fatalf("no expectation for column %s", c.Name)
			}
			out[i] = append(out[i], v)
		}
	}
	return out
}

// same reports whether a value read back from format f is the value
// wanted, by the format's rules: CSV writes nulls and empty strings as
// empty cells; JSON writes NaN and infinities as null; parquet and JSON
// write bytes that are not UTF-8 as U+FFFD, each byte.
func same(f export.Format, want, got any) bool {
	if s, ok := got.(string); ok && f == export.CSV {
		switch w := want.(type) {
		case nil:
			return s == ""
		case int64:
			n, err := strconv.ParseInt(s, 10, 64)
			return err == nil && n == w
		case float64:
			x, err := strconv.ParseFloat(s, 64)
			return err == nil && (x == w || math.IsNaN(x) && math.IsNaN(w))
		case float32:
			x, err := strconv.ParseFloat(s, 32)
			return err == nil && float32(x) == w
		case bool:
			return s == strconv.FormatBool(w)
		case string:
			// encoding/csv's reader turns \r\n inside a quoted field
			// into \n; the writer writes the bytes (TestCSVBytes).
			return s == strings.ReplaceAll(w, "\r\n", "\n")
		}
		return false
	}
	if n, ok := got.(json.Number); ok {
		switch w := want.(type) {
		case int64:
			x, err := n.Int64()
			return err == nil && x == w
		case float64:
			x, err := strconv.ParseFloat(n.String(), 64)
			return err == nil && x == w
		case float32:
			x, err := strconv.ParseFloat(n.String(), 32)
			return err == nil && float32(x) == w
		}
		return false
	}
	switch w := want.(type) {
	case float64:
		if (math.IsNaN(w) || math.IsInf(w, 0)) && f != export.Parquet {
			return got == nil
		}
		x, ok := got.(float64)
		return ok && (x == w || math.IsNaN(x) && math.IsNaN(w))
	case string:
		return got == string([]rune(w)) // each invalid byte one U+FFFD
	}
	return got == want
}

// check reads an export back and compares it with the rows wanted, value
// by value.
func check(t *testing.T, f export.Format, data []byte, sum *export.Summary, rows []uint32, scores []float32, s engine.Store) {
	t.Helper()
	g := readBack(t, f, data)
	var names []string
	for _, c := range sum.Columns {
		names = append(names, c.Name)
	}
	if len(rows) > 0 || f == export.CSV || f == export.Parquet { // JSON names columns in objects
		if !slices.Equal(g.names, names) {
			t.Fatalf("%s: columns %q, the summary says %q", f, g.names, names)
		}
	}
	if len(g.rows) != len(rows) || sum.Rows != len(rows) {
		t.Fatalf("%s: read back %d rows, the summary says %d, want %d", f, len(g.rows), sum.Rows, len(rows))
	}
	want := expected(t, s, rows, scores, sum.Columns)
	for i := range want {
		for j := range want[i] {
			if !same(f, want[i][j], g.rows[i][j]) {
				t.Fatalf("%s: row %d (store row %d), column %s: got %#v, want %#v", f, i, rows[i], names[j], g.rows[i][j], want[i][j])
			}
		}
	}
	if sum.Bytes != int64(len(data)) {
		t.Errorf("%s: summary says %d bytes, %d written", f, sum.Bytes, len(data))
	}
}

// selected lists the rows and scores a result selected, in the order an
// export writes them: best first for searches, store order for all.
func selected(res *engine.Result) ([]uint32, []float32) {
	var rows []uint32
	var scores []float32
	if res.Hits != nil {
		for _, h := range res.Hits {
			rows, scores = append(rows, h.Row), append(scores, h.Score)
		}
		return rows, scores
	}
	res.Selection.ForEach(func(r uint32) bool {
		rows = append(rows, r)
		return true
	})
	return rows, nil
}

var allFormats = []export.Format{export.Parquet, export.JSONL, export.CSV, export.JSON}

// TestFormats exports queries of every kind in every format, in chunks
// that do not divide the rows, and compares every value read back with
// the store's: knn and within best first with their scores and ranks
// (equal to res.Hits), all in store order, limit and post where obeyed,
// the count equal to res.Selected.
func TestFormats(t *testing.T) {
	s := testStore(2000)
	queries := []string{
		"all",
		"all where nsfw = 'UNLIKELY' or text is null limit 700",
		"knn(row(7), 300) where not text contains 'desi'",
		"within(row(3), 0.2) post where nsfw != 'NSFW'",
		"knn('beautiful', 50) limit 40",
		"all where sample_id = -2", // nothing
	}
	for _, q := range queries {
		res := run(t, s, q)
		rows, scores := selected(res)
		if len(rows) != res.Selected {
			t.Fatalf("%s: %d rows, selected %d", q, len(rows), res.Selected)
		}
		for _, f := range allFormats {
			var buf bytes.Buffer
			sum, err := export.Write(context.Background(), s, res, &buf, &export.Options{Format: f, ChunkRows: 333})
			if err != nil {
				t.Fatalf("%s as %s: %v", q, f, err)
			}
			check(t, f, buf.Bytes(), sum, rows, scores, s)
			if sum.Query != res.Query || sum.Fingerprint != s.Fingerprint() || !sum.Exact || sum.Plan != res.Plan {
				t.Errorf("%s as %s: summary %+v", q, f, sum)
			}
			if (res.Search != nil) != (sum.Order == "best first") {
				t.Errorf("%s: order %q", q, sum.Order)
			}
		}
	}
}

// TestSummaryCounts: the summary counts the nulls of each column and the
// values each format had to change, and says so in its notes.
func TestSummaryCounts(t *testing.T) {
	s := testStore(2000)
	res := run(t, s, "all")
	text, nsfw, sim := s.Column("text"), s.Column("nsfw"), s.Column("similarity")
	var textNulls, empty, notUTF8, nonFinite int
	for i := range 2000 {
		if text.IsNull(i) {
			textNulls++
		} else if v := string(text.Str.At(i)); string([]rune(v)) != v {
			notUTF8++
		}
		for _, c := range []*table.Column{text, nsfw} {
			if !c.IsNull(i) && len(c.Str.At(i)) == 0 {
				empty++
			}
		}
		if !sim.IsNull(i) && (math.IsNaN(sim.Float[i]) || math.IsInf(sim.Float[i], 0)) {
			nonFinite++
		}
	}
	if textNulls == 0 || empty == 0 || notUTF8 == 0 || nonFinite == 0 {
		t.Fatalf("the test store lacks odd values: %d %d %d %d", textNulls, empty, notUTF8, nonFinite)
	}
	for _, f := range allFormats {
		sum, err := export.Write(context.Background(), s, res, io.Discard, &export.Options{Format: f})
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(sum.Columns, func(c export.Column) bool { return c.Name == "text" })
		if sum.Columns[i].Nulls != textNulls || sum.Columns[0].Nulls != 0 {
			t.Errorf("%s: text nulls %d, row nulls %d; want %d, 0", f, sum.Columns[i].Nulls, sum.Columns[0].Nulls, textNulls)
		}
		wantNonFinite, wantEmpty := 0, 0
		switch f {
		case export.JSON, export.JSONL:
			wantNonFinite = nonFinite
		case export.CSV:
			wantEmpty = empty
		}
		// The other string columns are UTF-8; only texts count.
		if sum.NotUTF8 != notUTF8 || sum.NonFinite != wantNonFinite || sum.EmptyStrings != wantEmpty {
			t.Errorf("%s: not UTF-8 %d, non-finite %d, empty %d; want %d, %d, %d", f, sum.NotUTF8, sum.NonFinite, sum.EmptyStrings, notUTF8, wantNonFinite, wantEmpty)
		}
		notes := strings.Join(sum.Notes, "\n")
		if !strings.Contains(notes, fmt.Sprintf("%d strings hold bytes that are not UTF-8", notUTF8)) ||
			(wantNonFinite > 0) != strings.Contains(notes, "NaN or infinite") || (wantEmpty > 0) != strings.Contains(notes, "cannot tell them apart") {
			t.Errorf("%s: notes %q", f, sum.Notes)
		}
	}
}

// TestParquetSchema: the column types as parquet declares them, in order.
func TestParquetSchema(t *testing.T) {
	s := testStore(300)
	res := run(t, s, "knn(row(1), 10)")
	var buf bytes.Buffer
	if _, err := export.Write(context.Background(), s, res, &buf, nil); err != nil {
		t.Fatal(err)
	}
	g := readBack(t, export.Parquet, buf.Bytes())
	want := []string{"row INT64", "file BYTE_ARRAY utf8", "file_row INT64", "score FLOAT", "rank INT64",
		"sample_id INT64 optional", "url BYTE_ARRAY utf8 optional", "text BYTE_ARRAY utf8 optional",
		"nsfw BYTE_ARRAY utf8 optional", "similarity DOUBLE optional", "watermark BOOLEAN optional"}
	var have []string
	for i := range g.names {
		have = append(have, g.names[i]+" "+g.kinds[i])
	}
	if !slices.Equal(have, want) {
		t.Errorf("schema\n%q\nwant\n%q", have, want)
	}
	pf, _ := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if q, _ := pf.Lookup("laiondb.query"); q != res.Query {
		t.Errorf("laiondb.query = %q, want %q", q, res.Query)
	}
	if fp, _ := pf.Lookup("laiondb.fingerprint"); fp != s.Fingerprint() {
		t.Errorf("laiondb.fingerprint = %q", fp)
	}
}

// TestColumns: Options.Columns picks and orders columns; caption names
// text; names are case-insensitive.
func TestColumns(t *testing.T) {
	s := testStore(500)
	res := run(t, s, "knn(row(2), 20)")
	for _, f := range allFormats {
		var buf bytes.Buffer
		sum, err := export.Write(context.Background(), s, res, &buf, &export.Options{Format: f, Columns: []string{"Caption", "rank", "url", "score", "file_row"}})
		if err != nil {
			t.Fatal(err)
		}
		rows, scores := selected(res)
		check(t, f, buf.Bytes(), sum, rows, scores, s)
		if g := readBack(t, f, buf.Bytes()); !slices.Equal(g.names, []string{"text", "rank", "url", "score", "file_row"}) {
			t.Errorf("%s: columns %q", f, g.names)
		}
	}
}

// TestShapes: img2dataset is url and caption; clipsubset is clip-retrieval's
// objects, laid out as its page saves them.
func TestShapes(t *testing.T) {
	s := testStore(400)
	res := run(t, s, "knn(row(5), 3)")
	rows, scores := selected(res)
	for _, f := range allFormats {
		var buf bytes.Buffer
		sum, err := export.Write(context.Background(), s, res, &buf, &export.Options{Format: f, Shape: export.Img2Dataset})
		if err != nil {
			t.Fatal(err)
		}
		check(t, f, buf.Bytes(), sum, rows, scores, s)
		if g := readBack(t, f, buf.Bytes()); !slices.Equal(g.names, []string{"url", "caption"}) || sum.Columns[1].Store != "text" {
			t.Errorf("img2dataset as %s: columns %q", f, g.names)
		}
	}
	var buf bytes.Buffer
	sum, err := export.Write(context.Background(), s, res, &buf, &export.Options{Shape: export.ClipSubset})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Format != export.JSON {
		t.Errorf("clipsubset's default format is %s", sum.Format)
	}
	check(t, export.JSON, buf.Bytes(), sum, rows, scores, s)
	b, _ := s.Fetch(context.Background(), rows[:1], []string{"url", "text", "nsfw"})
	want := fmt.Sprintf("[\n  {\n    \"url\": %s,\n    \"caption\": %s,\n    \"NSFW\": %s,\n    \"id\": %d,\n    \"similarity\": %s\n  },\n  {\n",
		jsonOf(b.Cols["url"], 0), jsonOf(b.Cols["text"], 0), jsonOf(b.Cols["nsfw"], 0), rows[0], strconv.FormatFloat(float64(scores[0]), 'g', -1, 32))
	if !strings.HasPrefix(buf.String(), want) || !strings.HasSuffix(buf.String(), "\n  }\n]\n") {
		t.Errorf("clipsubset.json begins\n%s\nwant\n%s", buf.String()[:min(len(want)+40, buf.Len())], want)
	}
	// An all query has no similarity; an empty answer is [].
	sum, err = export.Write(context.Background(), s, run(t, s, "all where sample_id = -2"), &buf, &export.Options{Shape: export.ClipSubset})
	if err != nil || len(sum.Columns) != 4 || !strings.HasSuffix(buf.String(), "]\n[]\n") {
		t.Errorf("empty clipsubset: %v, %v, %q", err, sum, buf.String())
	}
}

// jsonOf is a stored string as encoding/json writes it, or null.
func jsonOf(c *table.Column, i int) string {
	if c.IsNull(i) {
		return "null"
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(string(c.Str.At(i)))
	return strings.TrimSpace(b.String())
}

// TestWriteRows: listed rows, in the order listed, without scores.
func TestWriteRows(t *testing.T) {
	s := testStore(1000)
	rows := []uint32{999, 0, 5, 5, 700, 699}
	for _, f := range allFormats {
		var buf bytes.Buffer
		sum, err := export.WriteRows(context.Background(), s, rows, &buf, &export.Options{Format: f, ChunkRows: 4})
		if err != nil {
			t.Fatal(err)
		}
		check(t, f, buf.Bytes(), sum, rows, nil, s)
	}
	if _, err := export.WriteRows(context.Background(), s, []uint32{1000}, io.Discard, nil); err == nil || !strings.Contains(err.Error(), "row 1000 is not in the store") {
		t.Errorf("a row beyond the store: %v", err)
	}
}

// TestErrors: each mistake is an error that says what there is, and
// nothing is written.
func TestErrors(t *testing.T) {
	s := testStore(300)
	all, knn := run(t, s, "all"), run(t, s, "knn(row(1), 5)")
	check := func(res *engine.Result, o *export.Options, want string) {
		t.Helper()
		var buf bytes.Buffer
		_, err := export.Write(context.Background(), s, res, &buf, o)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: error %v, want one line with %q", o, err, want)
		}
		if buf.Len() != 0 {
			t.Errorf("%+v: %d bytes written before the error", o, buf.Len())
		}
	}
	check(all, &export.Options{Format: "xlsx"}, `unknown format "xlsx" (want parquet, jsonl, csv or json)`)
	check(all, &export.Options{Shape: "webdataset"}, `unknown shape "webdataset"`)
	check(all, &export.Options{Columns: []string{"url", "colour"}}, `no column "colour" (the store has: sample_id, url, text, nsfw, similarity, watermark; the export adds row, file, file_row)`)
	check(all, &export.Options{Columns: []string{"score"}}, "the query is not a search (knn or within), so its rows have no score")
	check(knn, &export.Options{Columns: []string{"url", "URL"}}, "column url given twice")
	check(knn, &export.Options{Shape: export.Img2Dataset, Columns: []string{"url"}}, "the img2dataset shape has fixed columns")
	other := testStore(301)
	check(run(t, other, "all"), nil, "the result is of a store with fingerprint")

	bare := enginetest.New(2).AddStrings("text", []string{"a", "b"}, nil)
	for _, sh := range []export.Shape{export.Img2Dataset, export.ClipSubset} {
		_, err := export.Write(context.Background(), bare, run(t, bare, "all"), io.Discard, &export.Options{Shape: sh})
		if err == nil || !strings.Contains(err.Error(), "shape needs a url column, and the store has none (it has: text)") {
			t.Errorf("%s without url: %v", sh, err)
		}
	}

	// A store column named like a column the export adds: the default
	// refuses, Columns chooses.
	named := enginetest.New(2).AddInts("row", []int64{10, 11}, nil).AddStrings("url", []string{"a", "b"}, nil)
	res := run(t, named, "all")
	if _, err := export.Write(context.Background(), named, res, io.Discard, nil); err == nil || !strings.Contains(err.Error(), `the store has a column "row"`) {
		t.Errorf("store column row: %v", err)
	}
	var buf bytes.Buffer
	if _, err := export.Write(context.Background(), named, res, &buf, &export.Options{Format: export.CSV, Columns: []string{"row", "file_row"}}); err != nil || buf.String() != "row,file_row\n10,0\n11,1\n" {
		t.Errorf("Columns row,file_row: %v %q", err, buf.String())
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := export.Write(ctx, s, all, io.Discard, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled export: %v", err)
	}
}

// TestParseFormat: names and file extensions.
func TestParseFormat(t *testing.T) {
	for _, c := range []struct {
		path string
		want export.Format
	}{{"a.parquet", export.Parquet}, {"b.JSONL", export.JSONL}, {"c.ndjson", export.JSONL}, {"d.csv", export.CSV}, {"clipsubset.json", export.JSON}, {"e.txt", ""}, {"f", ""}} {
		if f, ok := export.FormatOf(c.path); f != c.want || ok != (c.want != "") {
			t.Errorf("FormatOf(%q) = %q, %v", c.path, f, ok)
		}
	}
	if f, err := export.ParseFormat("CSV"); f != export.CSV || err != nil {
		t.Errorf("ParseFormat(CSV) = %q, %v", f, err)
	}
	if _, err := export.ParseShape("rows,img2dataset"); err == nil {
		t.Error("ParseShape accepted a list")
	}
}

// TestCSVBytes: CSV keeps a field's bytes, line breaks and bytes that are
// not UTF-8 included, quoting what needs quotes.
func TestCSVBytes(t *testing.T) {
	s := enginetest.New(3).AddStrings("text", []string{"crlf\r\nend", "caf\xe9, \"x\"", ""}, []bool{false, false, true})
	var buf bytes.Buffer
	sum, err := export.Write(context.Background(), s, run(t, s, "all"), &buf, &export.Options{Format: export.CSV, Columns: []string{"text"}})
	if want := "text\n\"crlf\r\nend\"\n\"caf\xe9, \"\"x\"\"\"\n\n"; err != nil || buf.String() != want || sum.NotUTF8 != 1 {
		t.Errorf("CSV %q, %v, want %q", buf.String(), err, want)
	}
}

// TestReviewQueueAndExtra: a seed set's answer is exported with the seeds
// that reached each row and an empty status column; caller columns go
// where Columns names them, and must have a value for every row.
func TestReviewQueueAndExtra(t *testing.T) {
	s := enginetest.Generate(300, 8, 2)
	seeds := t.TempDir() + "/seeds.txt"
	if err := os.WriteFile(seeds, []byte("4\n77\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := engine.Run(context.Background(), s, query.MustParse("knn(rows(file('"+seeds+"')), 5)"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := export.Write(context.Background(), s, res, &buf, &export.Options{Format: export.CSV}); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := recs[0]
	if head[len(head)-2] != "seeds" || head[len(head)-1] != "status" || len(recs) != 1+len(res.Hits) {
		t.Fatalf("header %v, %d records for %d hits", head, len(recs), len(res.Hits))
	}
	for i, rec := range recs[1:] {
		want := ""
		for j, r := range res.Seeds[i] {
			if j > 0 {
				want += " "
			}
			want += strconv.FormatUint(uint64(r), 10)
		}
		if rec[0] != strconv.FormatUint(uint64(res.Hits[i].Row), 10) || rec[len(rec)-2] != want || rec[len(rec)-1] != "" {
			t.Errorf("record %d: %v, want row %d seeds %q", i, rec, res.Hits[i].Row, want)
		}
	}
	rows := []uint32{9, 3, 200}
	buf.Reset()
	o := &export.Options{Format: export.CSV, Columns: []string{"row", "kept", "url"}, Extra: []export.Extra{{Name: "kept", Ints: []int64{1, 2, 3}}}}
	if _, err := export.WriteRows(context.Background(), s, rows, &buf, o); err != nil {
		t.Fatal(err)
	}
	if recs, _ := csv.NewReader(&buf).ReadAll(); len(recs) != 4 || recs[0][1] != "kept" || recs[3][1] != "3" || recs[3][0] != "200" {
		t.Errorf("extra column: %v", recs)
	}
	o.Extra[0].Ints = o.Extra[0].Ints[:2]
	if _, err := export.WriteRows(context.Background(), s, rows, io.Discard, o); err == nil || !strings.Contains(err.Error(), "2 values for 3 rows") {
		t.Errorf("short extra column: %v", err)
	}
}
