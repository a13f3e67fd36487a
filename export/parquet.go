package export

import (
	"fmt"
	"io"
	"slices"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/snappy"
)

// parquetEncoder writes one parquet file: a flat schema with one leaf a
// column, in the columns' order (INT64, DOUBLE, FLOAT, BOOLEAN, or
// BYTE_ARRAY with the String logical type); the columns the export adds
// are required, the store's optional (a null is a null). Pages are
// Snappy-compressed, as LAION's parts are, and each chunk of rows is one
// row group, so the writer holds one chunk at a time. The key-value
// metadata records the query, the store's fingerprint and whether the
// selection is exact.
type parquetEncoder struct {
	w    *parquet.Writer
	cols []Column
	sum  *Summary
	buf  []parquet.Row
}

// parquetLeaves are the parquet types of the column types.
var parquetLeaves = [...]parquet.Node{
	Int64:   parquet.Leaf(parquet.Int64Type),
	Float64: parquet.Leaf(parquet.DoubleType),
	Float32: parquet.Leaf(parquet.FloatType),
	Bool:    parquet.Leaf(parquet.BooleanType),
	String:  parquet.String(),
}

// parquetBatch is the number of rows handed to the writer at once.
const parquetBatch = 1024

func newParquet(w io.Writer, cols []Column, sum *Summary) (*parquetEncoder, error) {
	g := orderedGroup{Group: parquet.Group{}}
	for _, c := range cols {
		n := parquetLeaves[c.Type]
		if c.Store != "" {
			n = parquet.Optional(n)
		} else {
			n = parquet.Required(n)
		}
		g.Group[c.Name] = n
		g.order = append(g.order, c.Name)
	}
	if len(g.order) > parquet.MaxColumnIndex {
		return nil, fmt.Errorf("export: %d columns are more than parquet holds", len(g.order))
	}
	opts := []parquet.WriterOption{
		parquet.NewSchema("laiondb_export", g),
		parquet.Compression(&snappy.Codec{}),
		parquet.CreatedBy("laiondb", "", ""),
		parquet.KeyValueMetadata("laiondb.fingerprint", sum.Fingerprint),
		parquet.KeyValueMetadata("laiondb.exact", fmt.Sprint(sum.Exact)),
	}
	if sum.Query != "" {
		opts = append(opts, parquet.KeyValueMetadata("laiondb.query", sum.Query))
	}
	e := &parquetEncoder{w: parquet.NewWriter(w, opts...), cols: cols, sum: sum}
	e.buf = make([]parquet.Row, parquetBatch)
	for i := range e.buf {
		e.buf[i] = make(parquet.Row, len(cols))
	}
	return e, nil
}

func (e *parquetEncoder) rows(ch *chunk) error {
	for lo := 0; lo < len(ch.rows); lo += parquetBatch {
		batch := e.buf[:min(parquetBatch, len(ch.rows)-lo)]
		for k, row := range batch {
			i := lo + k
			for j := range e.cols {
				row[j] = e.value(ch.cell(&e.cols[j], i), j)
			}
		}
		if _, err := e.w.WriteRows(batch); err != nil {
			return fmt.Errorf("export: writing parquet: %w", err)
		}
	}
	// One row group a chunk: what the writer buffers is one chunk.
	if err := e.w.Flush(); err != nil {
		return fmt.Errorf("export: writing parquet: %w", err)
	}
	return nil
}

// value is a cell as the parquet value of column j: definition level 0 for
// a null, 1 for a value of an optional column, 0 for a required one's.
func (e *parquetEncoder) value(c cell, j int) parquet.Value {
	if c.null {
		return parquet.NullValue().Level(0, 0, j)
	}
	var v parquet.Value
	switch c.typ {
	case Int64:
		v = parquet.Int64Value(c.i)
	case Float64:
		v = parquet.DoubleValue(c.f)
	case Float32:
		v = parquet.FloatValue(float32(c.f))
	case Bool:
		v = parquet.BooleanValue(c.b)
	default:
		s := c.s
		if !utf8.Valid(s) {
			e.sum.NotUTF8++
			s = validUTF8(s)
		}
		v = parquet.ByteArrayValue(s)
	}
	def := 0
	if e.cols[j].Store != "" {
		def = 1
	}
	return v.Level(0, def, j)
}

func (e *parquetEncoder) close() error {
	if err := e.w.Close(); err != nil {
		return fmt.Errorf("export: writing parquet: %w", err)
	}
	return nil
}

// validUTF8 returns a copy of s with each byte that is not part of valid
// UTF-8 replaced by U+FFFD, as the JSON formats write it.
func validUTF8(s []byte) []byte {
	out := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, s[i:i+size]...)
		}
		i += size
	}
	return out
}

// orderedGroup is a parquet group whose fields are in the columns' order;
// parquet.Group, a map, orders them by name.
type orderedGroup struct {
	parquet.Group
	order []string
}

// Fields returns the group's fields in order.
func (g orderedGroup) Fields() []parquet.Field {
	fields := g.Group.Fields()
	slices.SortFunc(fields, func(a, b parquet.Field) int {
		return slices.Index(g.order, a.Name()) - slices.Index(g.order, b.Name())
	})
	return fields
}
