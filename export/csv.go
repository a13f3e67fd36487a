package export

import (
	"encoding/csv"
	"io"
	"strconv"
	"unicode/utf8"
)

// csvEncoder writes CSV: a header line of column names, then one line a
// row, through encoding/csv (fields quoted when they hold a comma, a quote
// or a line break). Nulls are empty cells.
type csvEncoder struct {
	w    *csv.Writer
	cols []Column
	rec  []string
	sum  *Summary
}

func newCSV(w io.Writer, cols []Column, sum *Summary) (*csvEncoder, error) {
	e := &csvEncoder{w: csv.NewWriter(w), cols: cols, rec: make([]string, len(cols)), sum: sum}
	for i, c := range cols {
		e.rec[i] = c.Name
	}
	return e, e.w.Write(e.rec)
}

func (e *csvEncoder) rows(ch *chunk) error {
	for i := range ch.rows {
		for j := range e.cols {
			c := ch.cell(&e.cols[j], i)
			if c.typ == String && !c.null {
				if len(c.s) == 0 {
					e.sum.EmptyStrings++
				} else if !utf8.Valid(c.s) {
					e.sum.NotUTF8++
				}
			}
			e.rec[j] = c.text()
		}
		if err := e.w.Write(e.rec); err != nil {
			return err
		}
	}
	e.w.Flush()
	return e.w.Error()
}

func (e *csvEncoder) close() error {
	e.w.Flush()
	return e.w.Error()
}

// text is the cell as CSV writes it: empty for null, numbers in the
// shortest form that reads back to the same value (NaN, +Inf and -Inf for
// those), true or false, strings as they are.
func (c cell) text() string {
	if c.null {
		return ""
	}
	switch c.typ {
	case Int64:
		return strconv.FormatInt(c.i, 10)
	case Float64:
		return strconv.FormatFloat(c.f, 'g', -1, 64)
	case Float32:
		return strconv.FormatFloat(c.f, 'g', -1, 32)
	case Bool:
		return strconv.FormatBool(c.b)
	}
	return string(c.s)
}
