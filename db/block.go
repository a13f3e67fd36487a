package db

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
	"strconv"

	"github.com/laiondb/laiondb/table"
)

// Badger key layout. Every key starts with a one-byte kind and the
// big-endian segment id, so an interrupted segment's keys go with one
// DropPrefix:
//
//	'b' seg:u32 col:u16 start:u32   column block: rows [start, start+n) of the segment
const keyBlock byte = 'b'

// blockRows is the number of rows in a full column block.
const blockRows = 1 << 15

func segPrefix(kind byte, seg uint32) []byte {
	k := make([]byte, 5)
	k[0] = kind
	binary.BigEndian.PutUint32(k[1:], seg)
	return k
}

func segOfKey(k []byte) uint32 { return binary.BigEndian.Uint32(k[1:5]) }

func blockKey(seg uint32, col uint16, start uint32) []byte {
	k := make([]byte, 11)
	k[0] = keyBlock
	binary.BigEndian.PutUint32(k[1:], seg)
	binary.BigEndian.PutUint16(k[5:], col)
	binary.BigEndian.PutUint32(k[7:], start)
	return k
}

// Column block encoding (all integers little-endian):
//
//	crc:u32 type:u8 n:u32 hasNulls:u8 [nulls: n bytes, 1 = null] payload
//
// crc is the CRC-32C of everything after it, checked on every read.
//
// payload by type: string: (n+1)×u32 offsets then the bytes; int: n×i64;
// float: n×f64 (IEEE bits); bool: n bytes.

// colBuilder accumulates one column's values for a block.
type colBuilder struct {
	typ   table.Type
	n     int
	nulls []bool
	any   bool
	off   []uint32
	data  []byte
	ints  []int64
	flts  []float64
	bools []bool
}

func newColBuilder(t table.Type) *colBuilder {
	b := &colBuilder{typ: t}
	if t == table.TypeString {
		b.off = append(b.off, 0)
	}
	return b
}

// newColBuilderCap returns a builder with room for n values.
func newColBuilderCap(t table.Type, n int) *colBuilder {
	b := &colBuilder{typ: t, nulls: make([]bool, 0, n)}
	switch t {
	case table.TypeString:
		b.off = make([]uint32, 1, n+1)
	case table.TypeInt:
		b.ints = make([]int64, 0, n)
	case table.TypeFloat:
		b.flts = make([]float64, 0, n)
	case table.TypeBool:
		b.bools = make([]bool, 0, n)
	}
	return b
}

func (b *colBuilder) reset() {
	b.n, b.any = 0, false
	b.nulls = b.nulls[:0]
	b.off = b.off[:0]
	if b.typ == table.TypeString {
		b.off = append(b.off, 0)
	}
	b.data, b.ints, b.flts, b.bools = b.data[:0], b.ints[:0], b.flts[:0], b.bools[:0]
}

func (b *colBuilder) appendNull() {
	b.nulls = append(b.nulls, true)
	b.any = true
	b.n++
	switch b.typ {
	case table.TypeString:
		b.off = append(b.off, uint32(len(b.data)))
	case table.TypeInt:
		b.ints = append(b.ints, 0)
	case table.TypeFloat:
		b.flts = append(b.flts, 0)
	case table.TypeBool:
		b.bools = append(b.bools, false)
	}
}

func (b *colBuilder) appendString(s []byte) {
	b.nulls = append(b.nulls, false)
	b.n++
	b.data = append(b.data, s...)
	b.off = append(b.off, uint32(len(b.data)))
}

func (b *colBuilder) appendInt(v int64) {
	b.nulls = append(b.nulls, false)
	b.n++
	b.ints = append(b.ints, v)
}

func (b *colBuilder) appendFloat(v float64) {
	b.nulls = append(b.nulls, false)
	b.n++
	b.flts = append(b.flts, v)
}

func (b *colBuilder) appendBool(v bool) {
	b.nulls = append(b.nulls, false)
	b.n++
	b.bools = append(b.bools, v)
}

// column returns the values appended as a column, sharing b's slices.
func (b *colBuilder) column() *table.Column {
	c := &table.Column{Type: b.typ}
	if b.any {
		c.Null = b.nulls
	}
	switch b.typ {
	case table.TypeString:
		c.Str = table.Strings{Data: b.data, Off: b.off}
	case table.TypeInt:
		c.Int = b.ints
	case table.TypeFloat:
		c.Float = b.flts
	case table.TypeBool:
		c.Bool = b.bools
	}
	return c
}

// appendFrom appends value i of c, a column of b's type.
func (b *colBuilder) appendFrom(c *table.Column, i int) {
	if c.IsNull(i) {
		b.appendNull()
		return
	}
	switch b.typ {
	case table.TypeString:
		b.appendString(c.Str.At(i))
	case table.TypeInt:
		b.appendInt(c.Int[i])
	case table.TypeFloat:
		b.appendFloat(c.Float[i])
	case table.TypeBool:
		b.appendBool(c.Bool[i])
	}
}

// encode returns the block's bytes.
func (b *colBuilder) encode() []byte {
	size := 10
	if b.any {
		size += b.n
	}
	switch b.typ {
	case table.TypeString:
		size += 4*(b.n+1) + len(b.data)
	case table.TypeInt, table.TypeFloat:
		size += 8 * b.n
	case table.TypeBool:
		size += b.n
	}
	out := make([]byte, 10, size)
	out[4] = byte(b.typ)
	binary.LittleEndian.PutUint32(out[5:], uint32(b.n))
	if b.any {
		out[9] = 1
		for _, x := range b.nulls {
			if x {
				out = append(out, 1)
			} else {
				out = append(out, 0)
			}
		}
	}
	switch b.typ {
	case table.TypeString:
		for _, o := range b.off {
			out = binary.LittleEndian.AppendUint32(out, o)
		}
		out = append(out, b.data...)
	case table.TypeInt:
		for _, v := range b.ints {
			out = binary.LittleEndian.AppendUint64(out, uint64(v))
		}
	case table.TypeFloat:
		for _, v := range b.flts {
			out = binary.LittleEndian.AppendUint64(out, math.Float64bits(v))
		}
	case table.TypeBool:
		for _, v := range b.bools {
			if v {
				out = append(out, 1)
			} else {
				out = append(out, 0)
			}
		}
	}
	binary.LittleEndian.PutUint32(out, crc32.Checksum(out[4:], castagnoli))
	return out
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// decodeBlock decodes a block into c as column type want (a block written
// before the column's type was widened is converted). String data aliases
// val; everything else is copied into c's reused slices. If rows is
// non-nil, only those block rows are decoded, in that order, and appended
// to c.
func decodeBlock(val []byte, want table.Type, c *table.Column) error {
	if len(val) < 10 {
		return fmt.Errorf("%w: column block of %d bytes", ErrCorrupt, len(val))
	}
	if crc32.Checksum(val[4:], castagnoli) != binary.LittleEndian.Uint32(val) {
		return fmt.Errorf("%w: column block checksum mismatch", ErrCorrupt)
	}
	typ := table.Type(val[4])
	n := int(binary.LittleEndian.Uint32(val[5:]))
	p := val[10:]
	c.Type = want
	c.Null = c.Null[:0]
	if val[9] == 1 {
		if len(p) < n {
			return fmt.Errorf("%w: column block null map truncated", ErrCorrupt)
		}
		for _, x := range p[:n] {
			c.Null = append(c.Null, x != 0)
		}
		p = p[n:]
	} else {
		c.Null = nil
	}
	switch typ {
	case table.TypeString:
		if len(p) < 4*(n+1) {
			return fmt.Errorf("%w: string block offsets truncated", ErrCorrupt)
		}
		off := c.Str.Off[:0]
		for i := 0; i <= n; i++ {
			off = append(off, binary.LittleEndian.Uint32(p[4*i:]))
		}
		data := p[4*(n+1):]
		if int(off[n]) > len(data) {
			return fmt.Errorf("%w: string block data truncated", ErrCorrupt)
		}
		for i := 0; i < n; i++ {
			if off[i] > off[i+1] {
				return fmt.Errorf("%w: string block offsets out of order", ErrCorrupt)
			}
		}
		c.Str = table.Strings{Data: data, Off: off}
	case table.TypeInt, table.TypeFloat:
		if len(p) < 8*n {
			return fmt.Errorf("%w: numeric block truncated", ErrCorrupt)
		}
		if typ == table.TypeInt {
			c.Int = c.Int[:0]
			for i := 0; i < n; i++ {
				c.Int = append(c.Int, int64(binary.LittleEndian.Uint64(p[8*i:])))
			}
		} else {
			c.Float = c.Float[:0]
			for i := 0; i < n; i++ {
				c.Float = append(c.Float, math.Float64frombits(binary.LittleEndian.Uint64(p[8*i:])))
			}
		}
	case table.TypeBool:
		if len(p) < n {
			return fmt.Errorf("%w: bool block truncated", ErrCorrupt)
		}
		c.Bool = c.Bool[:0]
		for _, x := range p[:n] {
			c.Bool = append(c.Bool, x != 0)
		}
	default:
		return fmt.Errorf("%w: column block of unknown type %d", ErrCorrupt, typ)
	}
	if typ != want {
		convertColumn(c, typ, want, n)
	}
	return nil
}

// widen returns the type that holds values of both a and b.
func widen(a, b table.Type) table.Type {
	switch {
	case a == b:
		return a
	case (a == table.TypeInt && b == table.TypeFloat) || (a == table.TypeFloat && b == table.TypeInt):
		return table.TypeFloat
	}
	return table.TypeString
}

// convertColumn converts c's n values from type from to type to.
func convertColumn(c *table.Column, from, to table.Type, n int) {
	if to == table.TypeFloat && from == table.TypeInt {
		c.Float = c.Float[:0]
		for _, v := range c.Int {
			c.Float = append(c.Float, float64(v))
		}
		return
	}
	// to string
	var data []byte
	off := make([]uint32, 0, n+1)
	off = append(off, 0)
	for i := 0; i < n; i++ {
		if !c.IsNull(i) {
			switch from {
			case table.TypeInt:
				data = strconv.AppendInt(data, c.Int[i], 10)
			case table.TypeFloat:
				data = strconv.AppendFloat(data, c.Float[i], 'g', -1, 64)
			case table.TypeBool:
				data = strconv.AppendBool(data, c.Bool[i])
			}
		}
		off = append(off, uint32(len(data)))
	}
	c.Str = table.Strings{Data: data, Off: off}
}

// blockReader reads single values of an encoded block without decoding
// the rest.
type blockReader struct {
	typ   table.Type
	n     int
	nulls []byte // nil without nulls
	p     []byte // payload
}

// readBlock checks a block's checksum — once per block and DB, since
// committed blocks never change — and returns a reader over it.
func (d *DB) readBlock(key string, val []byte) (blockReader, error) {
	if len(val) < 10 {
		return blockReader{}, fmt.Errorf("%w: column block of %d bytes", ErrCorrupt, len(val))
	}
	if _, ok := d.verified.Load(key); !ok {
		if crc32.Checksum(val[4:], castagnoli) != binary.LittleEndian.Uint32(val) {
			return blockReader{}, fmt.Errorf("%w: column block checksum mismatch", ErrCorrupt)
		}
		d.verified.Store(key, struct{}{})
	}
	br := blockReader{typ: table.Type(val[4]), n: int(binary.LittleEndian.Uint32(val[5:])), p: val[10:]}
	if val[9] == 1 {
		if len(br.p) < br.n {
			return br, fmt.Errorf("%w: column block null map truncated", ErrCorrupt)
		}
		br.nulls, br.p = br.p[:br.n], br.p[br.n:]
	}
	need := 0
	switch br.typ {
	case table.TypeString:
		need = 4 * (br.n + 1)
	case table.TypeInt, table.TypeFloat:
		need = 8 * br.n
	case table.TypeBool:
		need = br.n
	default:
		return br, fmt.Errorf("%w: column block of unknown type %d", ErrCorrupt, br.typ)
	}
	if len(br.p) < need {
		return br, fmt.Errorf("%w: column block truncated", ErrCorrupt)
	}
	return br, nil
}

// cell is one value read from a block; strings are copied.
type cell struct {
	null bool
	typ  table.Type
	s    []byte
	i    int64
	f    float64
	b    bool
}

// at returns value i.
func (br blockReader) at(i int) (cell, error) {
	if i < 0 || i >= br.n {
		return cell{}, fmt.Errorf("%w: row %d of a block of %d", ErrCorrupt, i, br.n)
	}
	if br.nulls != nil && br.nulls[i] != 0 {
		return cell{null: true}, nil
	}
	c := cell{typ: br.typ}
	switch br.typ {
	case table.TypeString:
		lo := binary.LittleEndian.Uint32(br.p[4*i:])
		hi := binary.LittleEndian.Uint32(br.p[4*i+4:])
		data := br.p[4*(br.n+1):]
		if lo > hi || int(hi) > len(data) {
			return cell{}, fmt.Errorf("%w: string offsets out of range", ErrCorrupt)
		}
		c.s = append([]byte(nil), data[lo:hi]...)
	case table.TypeInt:
		c.i = int64(binary.LittleEndian.Uint64(br.p[8*i:]))
	case table.TypeFloat:
		c.f = math.Float64frombits(binary.LittleEndian.Uint64(br.p[8*i:]))
	case table.TypeBool:
		c.b = br.p[i] != 0
	}
	return c, nil
}

// reserve grows b's string bytes by those of the values that the rows
// rows[slot] (for each slot) have in br, a block whose first row is first,
// so that appending them does not grow b again; the first time, by as many
// bytes as the more rows to be appended after them would hold at this
// block's average.
func (b *colBuilder) reserve(br blockReader, rows []uint32, slots []int, first int64, more int) {
	if br.typ != table.TypeString || b.typ != table.TypeString {
		return
	}
	need := 0
	for _, slot := range slots {
		i := int(int64(rows[slot]) - first)
		if i < 0 || i >= br.n {
			return // appendTo reports it
		}
		lo := binary.LittleEndian.Uint32(br.p[4*i:])
		hi := binary.LittleEndian.Uint32(br.p[4*i+4:])
		if hi > lo {
			need += int(hi - lo)
		}
	}
	if cap(b.data) == 0 && br.n > 0 {
		all := binary.LittleEndian.Uint32(br.p[4*br.n:])
		need += int(uint64(all) * uint64(more) / uint64(br.n))
	}
	b.data = slices.Grow(b.data, need)
}

// appendTo appends value i to b, converted to the column type want; a
// string is copied straight into b.
func (br blockReader) appendTo(b *colBuilder, i int, want table.Type) error {
	if br.typ == table.TypeString && want == table.TypeString && i >= 0 && i < br.n && (br.nulls == nil || br.nulls[i] == 0) {
		lo := binary.LittleEndian.Uint32(br.p[4*i:])
		hi := binary.LittleEndian.Uint32(br.p[4*i+4:])
		data := br.p[4*(br.n+1):]
		if lo > hi || int(hi) > len(data) {
			return fmt.Errorf("%w: string offsets out of range", ErrCorrupt)
		}
		b.appendString(data[lo:hi])
		return nil
	}
	c, err := br.at(i)
	if err != nil {
		return err
	}
	c.appendTo(b, want)
	return nil
}

// appendTo appends the value to b, converted to the column type want.
func (c cell) appendTo(b *colBuilder, want table.Type) {
	if c.null {
		b.appendNull()
		return
	}
	switch want {
	case c.typ:
		switch c.typ {
		case table.TypeString:
			b.appendString(c.s)
		case table.TypeInt:
			b.appendInt(c.i)
		case table.TypeFloat:
			b.appendFloat(c.f)
		case table.TypeBool:
			b.appendBool(c.b)
		}
	case table.TypeFloat: // from int
		b.appendFloat(float64(c.i))
	default: // to string
		switch c.typ {
		case table.TypeInt:
			b.appendString(strconv.AppendInt(nil, c.i, 10))
		case table.TypeFloat:
			b.appendString(strconv.AppendFloat(nil, c.f, 'g', -1, 64))
		case table.TypeBool:
			b.appendString(strconv.AppendBool(nil, c.b))
		}
	}
}
