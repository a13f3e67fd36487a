package db

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/laiondb/laiondb/table"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
)

// canonicalName maps a file's column name to the store's: lower case, with
// LAION's two spellings of the caption and URL unified.
func canonicalName(name string) string {
	n := strings.ToLower(textKey(name))
	switch n {
	case "caption":
		return "text"
	}
	return n
}

// expectedColumns are the LAION columns info reports as missing when a
// metadata file of the LAION layouts lacks them.
var expectedColumns = []string{"text", "url", "nsfw", "similarity", "width", "height", "license"}

// pqColumn is one top-level leaf column of a parquet file.
type pqColumn struct {
	col  *parquet.Column
	name string // canonical
	orig string
	typ  table.Type
	// unsigned is set for unsigned integer columns: uint32 values are
	// read as such, uint64 ones (beyond int64) as their decimal text.
	unsigned bool
}

// pqFile is an opened, schema-checked metadata parquet file.
type pqFile struct {
	path    string
	f       *os.File
	pf      *parquet.File
	rows    int64
	cols    []pqColumn
	skipped []string // nested or repeated columns not stored
}

func openParquet(path string) (_ *pqFile, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	// parquet-go can panic on corrupt input: a refused file, not a crash.
	defer func() {
		if r := recover(); r != nil {
			f.Close()
			err = fmt.Errorf("%w: %s: not a readable parquet file: %v", ErrBadInput, path, r)
		}
	}()
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	pf, err := parquet.OpenFile(f, fi.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %s: not a readable parquet file: %v", ErrBadInput, path, err)
	}
	p := &pqFile{path: path, f: f, pf: pf, rows: pf.NumRows()}
	if p.rows < 0 || p.rows > math.MaxUint32 {
		f.Close()
		return nil, fmt.Errorf("%w: %s: the footer claims %d rows", ErrBadInput, path, p.rows)
	}
	seen := map[string]string{}
	for _, c := range pf.Root().Columns() {
		if !c.Leaf() || c.Repeated() {
			p.skipped = append(p.skipped, c.Name())
			continue
		}
		name := canonicalName(c.Name())
		if prev, ok := seen[name]; ok {
			f.Close()
			return nil, fmt.Errorf("%w: %s: columns %q and %q both map to %q", ErrBadInput, path, prev, c.Name(), name)
		}
		seen[name] = c.Name()
		p.cols = append(p.cols, pqColumn{col: c, name: name, orig: c.Name(), typ: storeType(c.Type()), unsigned: isUnsigned(c.Type())})
	}
	if len(p.cols) == 0 {
		f.Close()
		return nil, fmt.Errorf("%w: %s: no flat columns", ErrBadInput, path)
	}
	return p, nil
}

// isUnsigned reports whether t is an unsigned integer type.
func isUnsigned(t parquet.Type) bool {
	if lt := t.LogicalType(); lt != nil {
		if it, ok := lt.Value.(*format.IntType); ok {
			return !it.IsSigned
		}
	}
	if ct := t.ConvertedType(); ct != nil {
		switch *ct {
		case deprecated.Uint8, deprecated.Uint16, deprecated.Uint32, deprecated.Uint64:
			return true
		}
	}
	return false
}

func storeType(t parquet.Type) table.Type {
	switch t.Kind() {
	case parquet.Boolean:
		return table.TypeBool
	case parquet.Int64:
		if isUnsigned(t) { // uint64 does not fit the store's int64
			return table.TypeString
		}
		return table.TypeInt
	case parquet.Int32:
		return table.TypeInt
	case parquet.Float, parquet.Double:
		return table.TypeFloat
	}
	return table.TypeString
}

func (p *pqFile) close() error { return p.f.Close() }

// readColumn reads every value of c in row order, emitting a full batch of
// blockRows rows (the last one shorter) through emit. Any decoding failure
// names the file, column and row.
func (p *pqFile) readColumn(c pqColumn, emit func(*ColumnBatch) error) (err error) {
	row := 0
	// parquet-go can panic on corrupt pages: a refused file, not a crash
	// (this runs in its own goroutine, where a panic would end the process).
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: column %s near row %d: unreadable page: %v", ErrBadInput, p.path, c.orig, row, r)
		}
	}()
	batch := NewColumnBatch(c.typ)
	b := &batch.b
	pages := c.col.Pages()
	defer pages.Close()
	buf := make([]parquet.Value, 1024)
	kind := c.col.Type().Kind()
	var scratch []byte
	for {
		page, err := pages.ReadPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: %s: column %s near row %d: %v", ErrBadInput, p.path, c.orig, row, err)
		}
		vr := page.Values()
		for {
			n, err := vr.ReadValues(buf)
			for _, v := range buf[:n] {
				if v.IsNull() {
					b.appendNull()
				} else {
					switch c.typ {
					case table.TypeBool:
						b.appendBool(v.Boolean())
					case table.TypeInt:
						if kind == parquet.Int32 && c.unsigned {
							b.appendInt(int64(uint32(v.Int32())))
						} else if kind == parquet.Int32 {
							b.appendInt(int64(v.Int32()))
						} else {
							b.appendInt(v.Int64())
						}
					case table.TypeFloat:
						f := v.Double()
						if kind == parquet.Float {
							f = float64(v.Float())
						}
						b.appendFloat(f)
					default:
						var s []byte
						switch kind {
						case parquet.ByteArray, parquet.FixedLenByteArray:
							s = v.ByteArray()
						case parquet.Int64: // unsigned
							scratch = strconv.AppendUint(scratch[:0], uint64(v.Int64()), 10)
							s = scratch
						default: // int96 and anything else: its text form
							scratch = append(scratch[:0], v.String()...)
							s = scratch
						}
						b.appendString(s)
					}
				}
				row++
				if b.n == blockRows {
					if err := emit(batch); err != nil {
						parquet.Release(page)
						return err
					}
					b.reset()
				}
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				parquet.Release(page)
				return fmt.Errorf("%w: %s: column %s at row %d: %v", ErrBadInput, p.path, c.orig, row, err)
			}
		}
		parquet.Release(page)
	}
	if b.n > 0 {
		if err := emit(batch); err != nil {
			return err
		}
	}
	if int64(row) != p.rows {
		return fmt.Errorf("%w: %s: column %s has %d values, the file says %d rows", ErrBadInput, p.path, c.orig, row, p.rows)
	}
	return nil
}
