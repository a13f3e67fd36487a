package db

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
	"strconv"
	"sync/atomic"

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
//	crc:u32 type:u8 n:u32 flags:u8 [nulls: n bytes, 1 = null] payload [sums]
//
// flags: bit 0, the block has nulls (and the null bytes); bit 1, the block
// is chunked (written since store format 3).
//
// payload by type: string: (n+1)×u32 offsets then the bytes; int: n×i64;
// float: n×f64 (IEEE bits); bool: n bytes.
//
// A chunked block ends with sums: k×u32 then k:u32, the CRC-32C of each
// chunkSize bytes of the block from byte 4 to the sums (the last chunk
// shorter), and crc is the CRC-32C of sums. A block's first read checks
// its sums; a read checks only the chunks holding the bytes it reads, each
// chunk once per block and DB: a query fetching a few rows of a 2.4 MB
// block of captions checks a few KiB of it, not all of it (a fresh process answering 'bhabhi' on 10M rows
// checked 2.2 GB). An unchunked block (store formats 1 and 2) has no sums,
// and crc is the CRC-32C of everything after it, checked on a block's
// first read.
const (
	blockNulls   = 1
	blockChunked = 2
	chunkSize    = 1024
)

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
	sink  byte // what touch loaded, kept so that its loads are not dropped
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
	chunks := (size - 4 + chunkSize - 1) / chunkSize
	out := make([]byte, 10, size+4*chunks+4)
	out[4] = byte(b.typ)
	binary.LittleEndian.PutUint32(out[5:], uint32(b.n))
	out[9] = blockChunked
	if b.any {
		out[9] |= blockNulls
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
	return sealChunked(out)
}

// sealChunked appends the sums of a chunked block whose bytes up to them
// are out, and sets its crc.
func sealChunked(out []byte) []byte {
	body := len(out)
	for at := 4; at < body; at += chunkSize {
		out = binary.LittleEndian.AppendUint32(out, crc32.Checksum(out[at:min(at+chunkSize, body)], castagnoli))
	}
	out = binary.LittleEndian.AppendUint32(out, uint32((body-4+chunkSize-1)/chunkSize))
	binary.LittleEndian.PutUint32(out, crc32.Checksum(out[body:], castagnoli))
	return out
}

// chunked splits a chunked block into its body (the block up to its sums,
// from byte 0) and the sums (k×u32), checking the sums' checksum and that
// they cover the body.
func chunked(val []byte) (body, sums []byte, err error) {
	body, sums, err = splitChunked(val)
	if err == nil && crc32.Checksum(val[len(body):], castagnoli) != binary.LittleEndian.Uint32(val) {
		return nil, nil, fmt.Errorf("%w: column block checksums' checksum mismatch", ErrCorrupt)
	}
	return body, sums, err
}

// splitChunked is chunked without the check of the sums' checksum, for a
// block whose sums were checked before.
func splitChunked(val []byte) (body, sums []byte, err error) {
	if len(val) < 14 {
		return nil, nil, fmt.Errorf("%w: column block of %d bytes", ErrCorrupt, len(val))
	}
	k := int(binary.LittleEndian.Uint32(val[len(val)-4:]))
	end := len(val) - 4 - 4*k
	if k <= 0 || end < 10 || (end-4+chunkSize-1)/chunkSize != k {
		return nil, nil, fmt.Errorf("%w: column block checksums: %d for %d bytes", ErrCorrupt, k, len(val))
	}
	return val[:end], val[end : len(val)-4], nil
}

// checkChunk checks chunk j of a chunked block's body against sums.
func checkChunk(body, sums []byte, j int) error {
	lo := 4 + j*chunkSize
	hi := min(lo+chunkSize, len(body))
	if crc32.Checksum(body[lo:hi], castagnoli) != binary.LittleEndian.Uint32(sums[4*j:]) {
		return fmt.Errorf("%w: column block checksum mismatch in bytes %d-%d", ErrCorrupt, lo, hi)
	}
	return nil
}

// checkBlock checks a whole block, chunked or not, and returns its body
// (without the sums of a chunked block).
func checkBlock(val []byte) ([]byte, error) {
	if len(val) < 10 {
		return nil, fmt.Errorf("%w: column block of %d bytes", ErrCorrupt, len(val))
	}
	if val[9]&blockChunked == 0 {
		if crc32.Checksum(val[4:], castagnoli) != binary.LittleEndian.Uint32(val) {
			return nil, fmt.Errorf("%w: column block checksum mismatch", ErrCorrupt)
		}
		return val, nil
	}
	body, sums, err := chunked(val)
	if err != nil {
		return nil, err
	}
	for j := range len(sums) / 4 {
		if err := checkChunk(body, sums, j); err != nil {
			return nil, err
		}
	}
	return body, nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// decodeBlock decodes a block into c as column type want (a block written
// before the column's type was widened is converted). String data aliases
// val; everything else is copied into c's reused slices. If rows is
// non-nil, only those block rows are decoded, in that order, and appended
// to c.
func decodeBlock(val []byte, want table.Type, c *table.Column) error {
	val, err := checkBlock(val)
	if err != nil {
		return err
	}
	typ := table.Type(val[4])
	n := int(binary.LittleEndian.Uint32(val[5:]))
	p := val[10:]
	c.Type = want
	c.Null = c.Null[:0]
	if val[9]&blockNulls != 0 {
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
	// A chunked block's checks: the chunks of body each read needs are
	// checked against sums (and marked in done) before it reads them.
	body, sums []byte
	done       *chunkSet
	pAt        int // p's offset in body
}

// chunkSet marks the chunks of a block that have been checked, and
// whether its sums have been, for the DB's life (committed blocks never
// change).
type chunkSet struct {
	sums atomic.Bool
	w    []atomic.Uint64
}

// need checks the chunks holding bytes [lo, hi) of the block, unless they
// were checked before; nothing for an unchunked block (checked whole).
func (br *blockReader) need(lo, hi int) error {
	if br.done == nil || hi <= lo {
		return nil
	}
	if lo < 4 || hi > len(br.body) {
		return fmt.Errorf("%w: bytes %d-%d of a column block of %d", ErrCorrupt, lo, hi, len(br.body))
	}
	for j := (lo - 4) / chunkSize; j <= (hi-5)/chunkSize; j++ {
		w := &br.done.w[j>>6]
		if w.Load()&(1<<(j&63)) != 0 {
			continue
		}
		if err := checkChunk(br.body, br.sums, j); err != nil {
			return err
		}
		w.Or(1 << (j & 63))
	}
	return nil
}

// readBlock checks a block's checksum — once per block and DB, since
// committed blocks never change — and returns a reader over it.
func (d *DB) readBlock(key string, val []byte) (blockReader, error) {
	if len(val) < 10 {
		return blockReader{}, fmt.Errorf("%w: column block of %d bytes", ErrCorrupt, len(val))
	}
	var br blockReader
	if val[9]&blockChunked != 0 {
		// The sums' own checksum on a block's first read, the header
		// (chunk 0) and the chunks each value needs as it is read.
		done, _ := d.verified.Load(key)
		cs, _ := done.(*chunkSet)
		var body, sums []byte
		var err error
		if cs != nil && cs.sums.Load() {
			body, sums, err = splitChunked(val)
		} else {
			body, sums, err = chunked(val)
		}
		if err != nil {
			return blockReader{}, err
		}
		if cs == nil {
			done, _ = d.verified.LoadOrStore(key, &chunkSet{w: make([]atomic.Uint64, (len(sums)/4+63)/64)})
			if cs, _ = done.(*chunkSet); cs == nil || len(cs.w) != (len(sums)/4+63)/64 {
				return blockReader{}, fmt.Errorf("%w: column block %x read as two formats", ErrCorrupt, key)
			}
		}
		cs.sums.Store(true)
		br.body, br.sums, br.done = body, sums, cs
		if err := br.need(4, 10); err != nil {
			return blockReader{}, err
		}
		val = body
	} else if _, ok := d.verified.Load(key); !ok {
		if crc32.Checksum(val[4:], castagnoli) != binary.LittleEndian.Uint32(val) {
			return blockReader{}, fmt.Errorf("%w: column block checksum mismatch", ErrCorrupt)
		}
		d.verified.Store(key, struct{}{})
	}
	br.typ, br.n, br.p, br.pAt = table.Type(val[4]), int(binary.LittleEndian.Uint32(val[5:])), val[10:], 10
	if val[9]&blockNulls != 0 {
		if len(br.p) < br.n {
			return br, fmt.Errorf("%w: column block null map truncated", ErrCorrupt)
		}
		br.nulls, br.p, br.pAt = br.p[:br.n], br.p[br.n:], 10+br.n
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
func (br *blockReader) at(i int) (cell, error) {
	if i < 0 || i >= br.n {
		return cell{}, fmt.Errorf("%w: row %d of a block of %d", ErrCorrupt, i, br.n)
	}
	if null, err := br.null(i); err != nil || null {
		return cell{null: null}, err
	}
	c := cell{typ: br.typ}
	switch br.typ {
	case table.TypeString:
		s, err := br.str(i)
		if err != nil {
			return cell{}, err
		}
		c.s = append([]byte(nil), s...)
	case table.TypeInt, table.TypeFloat:
		if err := br.need(br.pAt+8*i, br.pAt+8*i+8); err != nil {
			return cell{}, err
		}
		x := binary.LittleEndian.Uint64(br.p[8*i:])
		c.i, c.f = int64(x), math.Float64frombits(x)
	case table.TypeBool:
		if err := br.need(br.pAt+i, br.pAt+i+1); err != nil {
			return cell{}, err
		}
		c.b = br.p[i] != 0
	}
	return c, nil
}

// null reports whether value i (within the block) is null.
func (br *blockReader) null(i int) (bool, error) {
	if br.nulls == nil {
		return false, nil
	}
	if err := br.need(10+i, 11+i); err != nil {
		return false, err
	}
	return br.nulls[i] != 0, nil
}

// offsets returns the bounds of string i (within the block) in its data.
func (br *blockReader) offsets(i int) (lo, hi uint32, err error) {
	if err := br.need(br.pAt+4*i, br.pAt+4*i+8); err != nil {
		return 0, 0, err
	}
	return binary.LittleEndian.Uint32(br.p[4*i:]), binary.LittleEndian.Uint32(br.p[4*i+4:]), nil
}

// str returns string i (within the block), aliasing the block.
func (br *blockReader) str(i int) ([]byte, error) {
	lo, hi, err := br.offsets(i)
	if err != nil {
		return nil, err
	}
	data := br.p[4*(br.n+1):]
	if lo > hi || int(hi) > len(data) {
		return nil, fmt.Errorf("%w: string offsets out of range", ErrCorrupt)
	}
	at := br.pAt + 4*(br.n+1)
	if err := br.need(at+int(lo), at+int(hi)); err != nil {
		return nil, err
	}
	return data[lo:hi], nil
}

// touch loads, ahead of reading them, the bytes that rows[slot] (for each
// slot) will read in br, a block whose first row is first: their null
// flags and values (a string's offsets) in a first pass, and a string's
// first and last bytes in a second. The loads of a pass do not depend on
// each other, so the processor overlaps their cache and TLB misses, where
// reading the values one by one waits for each in turn (one development
// run on a 10M-row store with its caches cold: 'bhabhi', 15,090 values
// from 915 blocks, about 16.8 → 13.1 ms of CPU; not a published figure).
// The bytes are not checked yet
// and the sum returned has no meaning; what is out of range is skipped,
// for the reads that follow to report.
func (br *blockReader) touch(rows []uint32, slots []int, first int64) byte {
	if len(slots) < 2 {
		return 0
	}
	w := int64(1)
	switch br.typ {
	case table.TypeString:
		w = 4
	case table.TypeInt, table.TypeFloat:
		w = 8
	}
	var sum byte
	for _, slot := range slots {
		i := int64(rows[slot]) - first
		if i < 0 || i >= int64(br.n) || w*i >= int64(len(br.p)) {
			return sum
		}
		sum += br.p[w*i]
		if br.nulls != nil {
			sum += br.nulls[i]
		}
	}
	if br.typ != table.TypeString || len(br.p) < 4*(br.n+1) {
		return sum
	}
	offs, data := br.p[:4*(br.n+1)], br.p[4*(br.n+1):]
	for _, slot := range slots {
		i := int64(rows[slot]) - first
		lo, hi := binary.LittleEndian.Uint32(offs[4*i:]), binary.LittleEndian.Uint32(offs[4*i+4:])
		if lo < hi && int64(hi) <= int64(len(data)) {
			sum += data[lo] + data[hi-1]
		}
	}
	return sum
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
	need, data := 0, len(br.p)-4*(br.n+1)
	for _, slot := range slots {
		i := int(int64(rows[slot]) - first)
		if i < 0 || i >= br.n {
			return // appendTo reports it
		}
		lo, hi, err := br.offsets(i)
		if err != nil || hi > uint32(data) {
			return // appendTo reports it
		}
		if hi > lo {
			need += int(hi - lo)
		}
	}
	if cap(b.data) == 0 && br.n > 0 && br.need(br.pAt+4*br.n, br.pAt+4*br.n+4) == nil {
		all := min(binary.LittleEndian.Uint32(br.p[4*br.n:]), uint32(data))
		need += int(uint64(all) * uint64(more) / uint64(br.n))
	}
	b.data = slices.Grow(b.data, need)
}

// appendTo appends value i to b, converted to the column type want; a
// string is copied straight into b.
func (br *blockReader) appendTo(b *colBuilder, i int, want table.Type) error {
	if br.typ == table.TypeString && want == table.TypeString && i >= 0 && i < br.n {
		null, err := br.null(i)
		if err != nil {
			return err
		}
		if !null {
			s, err := br.str(i)
			if err != nil {
				return err
			}
			b.appendString(s)
			return nil
		}
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
