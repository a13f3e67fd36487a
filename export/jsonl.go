package export

import (
	"bufio"
	"io"
	"math"
	"strconv"
	"unicode/utf8"
)

// jsonEncoder writes JSONL (one compact object a line) or, with array
// set, one JSON array laid out as JavaScript's JSON.stringify(rows, null,
// 2) lays it out. Each object's keys are the column names, in order.
type jsonEncoder struct {
	w     *bufio.Writer
	cols  []Column
	keys  [][]byte // each column's name as a JSON string, with its colon
	array bool
	n     int // objects written
	buf   []byte
	sum   *Summary
}

func newJSON(w io.Writer, cols []Column, sum *Summary, array bool) (*jsonEncoder, error) {
	e := &jsonEncoder{w: bufio.NewWriterSize(w, 1<<16), cols: cols, array: array, sum: sum}
	for _, c := range cols {
		k := appendJSONString(nil, []byte(c.Name))
		if array {
			k = append(k, ": "...)
		} else {
			k = append(k, ':')
		}
		e.keys = append(e.keys, k)
	}
	return e, nil
}

func (e *jsonEncoder) rows(ch *chunk) error {
	for i := range ch.rows {
		b := e.buf[:0]
		switch {
		case !e.array:
			b = append(b, '{')
		case e.n == 0:
			b = append(b, "[\n  {"...)
		default:
			b = append(b, ",\n  {"...)
		}
		for j := range e.cols {
			switch {
			case e.array:
				b = append(b, "\n    "...)
			case j > 0:
				b = append(b, ',')
			}
			b = append(b, e.keys[j]...)
			b = e.appendCell(b, ch.cell(&e.cols[j], i))
			if e.array && j < len(e.cols)-1 {
				b = append(b, ',')
			}
		}
		if e.array {
			b = append(b, "\n  }"...)
		} else {
			b = append(b, "}\n"...)
		}
		e.n++
		if _, err := e.w.Write(b); err != nil {
			return err
		}
		e.buf = b
	}
	return nil
}

// appendCell appends a value: null for null, NaN and infinities (counted),
// numbers in the shortest form that reads back to the same value.
func (e *jsonEncoder) appendCell(b []byte, c cell) []byte {
	if c.null {
		return append(b, "null"...)
	}
	switch c.typ {
	case Int64:
		return strconv.AppendInt(b, c.i, 10)
	case Float64, Float32:
		if math.IsNaN(c.f) || math.IsInf(c.f, 0) {
			e.sum.NonFinite++
			return append(b, "null"...)
		}
		size := 64
		if c.typ == Float32 {
			size = 32
		}
		return strconv.AppendFloat(b, c.f, 'g', -1, size)
	case Bool:
		return strconv.AppendBool(b, c.b)
	}
	if !utf8.Valid(c.s) {
		e.sum.NotUTF8++
	}
	return appendJSONString(b, c.s)
}

func (e *jsonEncoder) close() error {
	var err error
	switch {
	case !e.array:
	case e.n == 0:
		_, err = e.w.WriteString("[]\n")
	default:
		_, err = e.w.WriteString("\n]\n")
	}
	if err != nil {
		return err
	}
	return e.w.Flush()
}

// appendJSONString appends s as a JSON string: quote, backslash and control
// characters escaped (\n, \r, \t, else \u00XX), U+2028 and U+2029 escaped
// as encoding/json escapes them, and each byte that is not part of valid
// UTF-8 written as \ufffd.
func appendJSONString(b, s []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
