package engine

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/bits"
	"regexp"
	"slices"
	"unsafe"

	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/table"
)

// This file evaluates compiled predicates on a Batch, column by column.
// Every predicate yields two bitsets over the batch rows: t, the rows where
// it is true, and f, the rows where it is false; rows in neither are
// unknown (SQL's three-valued logic, for nulls and NaN).

// lowered is a string column of one batch after pyLower: value i is
// data[off[i]-base : off[i+1]-base].
type lowered struct {
	data []byte
	off  []uint32
	base uint32
	own  []uint32 // storage for rebuilt offsets; off may alias the store's
}

func (lw *lowered) at(i int) []byte { return lw.data[lw.off[i]-lw.base : lw.off[i+1]-lw.base] }

// evalCtx is one goroutine's evaluation state; it is reused across batches.
type evalCtx struct {
	b  *table.Batch
	n  int // rows in the batch
	nw int // words per bitset

	low    map[string]*lowered       // lowered columns of the current batch
	lowBuf map[string]*lowered       // their reusable storage
	strs   map[string]*table.Strings // stringified non-string columns
	strBuf map[string]*table.Strings

	stack [][]uint64 // bitset scratch, used as a stack
	sp    int
	row   []byte // scratch for one lowered value
}

func newEvalCtx() *evalCtx {
	return &evalCtx{
		low: map[string]*lowered{}, lowBuf: map[string]*lowered{},
		strs: map[string]*table.Strings{}, strBuf: map[string]*table.Strings{},
	}
}

// reset prepares the context for batch b.
func (ec *evalCtx) reset(b *table.Batch) {
	ec.b = b
	ec.n = b.Len
	ec.nw = (b.Len + 63) / 64
	clear(ec.low)
	clear(ec.strs)
	ec.sp = 0
}

// push returns a zeroed scratch bitset; pop releases the last one.
func (ec *evalCtx) push() []uint64 {
	if ec.sp == len(ec.stack) {
		ec.stack = append(ec.stack, nil)
	}
	w := ec.stack[ec.sp]
	if cap(w) < ec.nw {
		w = make([]uint64, ec.nw, ec.nw+ec.nw/4)
	}
	w = w[:ec.nw]
	clear(w)
	ec.stack[ec.sp] = w
	ec.sp++
	return w
}

func (ec *evalCtx) pop(k int) { ec.sp -= k }

// ones sets the first n bits of w and clears the rest.
func ones(w []uint64, n int) {
	for i := range w {
		w[i] = ^uint64(0)
	}
	if r := n % 64; r != 0 {
		w[len(w)-1] = 1<<r - 1
	}
}

func setBit(w []uint64, i int) { w[i>>6] |= 1 << (i & 63) }
func andInto(dst, a []uint64) {
	for i := range dst {
		dst[i] &= a[i]
	}
}
func orInto(dst, a []uint64) {
	for i := range dst {
		dst[i] |= a[i]
	}
}
func andNotInto(dst, a []uint64) {
	for i := range dst {
		dst[i] &^= a[i]
	}
}
func popcount(w []uint64) (c int) {
	for _, x := range w {
		c += bits.OnesCount64(x)
	}
	return c
}

// anySet reports whether some bit of w is set.
func anySet(w []uint64) bool {
	for _, x := range w {
		if x != 0 {
			return true
		}
	}
	return false
}

// forEachBit calls fn for each set bit of w.
func forEachBit(w []uint64, fn func(i int)) {
	for k, x := range w {
		for x != 0 {
			fn(k*64 + bits.TrailingZeros64(x))
			x &= x - 1
		}
	}
}

// valid sets v to the rows of column c that are not null (and not NaN for
// floats); a nil column is all null.
func (ec *evalCtx) valid(c *table.Column, v []uint64) {
	if c == nil {
		clear(v)
		return
	}
	ones(v, ec.n)
	if c.Null != nil {
		clearFlagged(c.Null[:ec.n], v)
	}
	if c.Type == table.TypeFloat {
		nan := func(x []float64) uint64 {
			return bit(x[0] != x[0]) | bit(x[1] != x[1])<<1 | bit(x[2] != x[2])<<2 | bit(x[3] != x[3])<<3 |
				bit(x[4] != x[4])<<4 | bit(x[5] != x[5])<<5 | bit(x[6] != x[6])<<6 | bit(x[7] != x[7])<<7
		}
		f := c.Float[:ec.n]
		i := 0
		for ; i+8 <= len(f); i += 8 {
			v[i>>6] &^= nan(f[i:i+8:i+8]) << (i & 63)
		}
		for ; i < len(f); i++ {
			v[i>>6] &^= bit(f[i] != f[i]) << (i & 63)
		}
	}
}

// clearFlagged clears in v the bits of the rows whose flag is true, eight
// flags a multiplication (Go stores a bool as one byte, 0 or 1): the product with
// 0x0102040810204080 gathers bit 0 of byte k into bit 56+k, and no two
// partial products meet, so nothing carries.
func clearFlagged(flags []bool, v []uint64) {
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(flags))), len(flags))
	i := 0
	for ; i+8 <= len(b); i += 8 {
		v[i>>6] &^= (binary.LittleEndian.Uint64(b[i:]) * 0x0102040810204080 >> 56) << (i & 63)
	}
	for ; i < len(b); i++ {
		v[i>>6] &^= uint64(b[i]&1) << (i & 63)
	}
}

// strings returns column name as strings: the column itself for string
// columns, Python's str() of each value otherwise.
func (ec *evalCtx) strings(name string) *table.Strings {
	c := ec.b.Cols[name]
	if c == nil {
		return nil
	}
	if c.Type == table.TypeString {
		return &c.Str
	}
	if s := ec.strs[name]; s != nil {
		return s
	}
	s := ec.strBuf[name]
	if s == nil {
		s = &table.Strings{}
		ec.strBuf[name] = s
	}
	s.Data = s.Data[:0]
	s.Off = append(s.Off[:0], 0)
	for i := 0; i < ec.n; i++ {
		if !c.IsNull(i) {
			s.Data = appendPyStr(s.Data, c, i)
		}
		s.Off = append(s.Off, uint32(len(s.Data)))
	}
	ec.strs[name] = s
	return s
}

// lowered returns column name lowered with pyLower, computed once per batch.
func (ec *evalCtx) lowered(name string) *lowered {
	if lw := ec.low[name]; lw != nil {
		return lw
	}
	s := ec.strings(name)
	if s == nil {
		return nil
	}
	lw := ec.lowBuf[name]
	if lw == nil {
		lw = &lowered{}
		ec.lowBuf[name] = lw
	}
	lowerStrings(lw, s, ec.n)
	ec.low[name] = lw
	return lw
}

// lowerStrings lowers the first n values of s into lw. The batch's bytes
// are lowered in bulk (eight ASCII bytes at a time); a row holding non-ASCII
// bytes is lowered on its own with appendPyLower (which can change its
// length, and needs the row for the final sigma rule), and the offsets of
// the rows after it are shifted. Pure-ASCII batches keep s's offsets.
func lowerStrings(lw *lowered, s *table.Strings, n int) {
	if n == 0 {
		lw.data, lw.off, lw.base = lw.data[:0], []uint32{0}, 0
		return
	}
	lo, hi := s.Off[0], s.Off[n]
	src := s.Data[lo:hi]
	k := indexNonASCII(src)
	if cap(lw.data) < len(src) {
		lw.data = make([]byte, len(src), len(src)+len(src)/4+64)
	}
	if k < 0 {
		lw.data = lw.data[:len(src)]
		lowerASCII(lw.data, src)
		lw.off, lw.base = s.Off[:n+1], lo
		return
	}
	data := lw.data[:0]
	if cap(lw.own) < n+1 {
		lw.own = make([]uint32, n+1)
	}
	off := lw.own[:n+1]
	delta := int64(0) // len(data) - bytes of src consumed, after the last non-ASCII row
	r := 0            // rows before r have their offset written
	pos := lo         // src bytes before pos are lowered
	appendASCII := func(b []byte) {
		m := len(data)
		data = slices.Grow(data, len(b))[:m+len(b)]
		lowerASCII(data[m:], b)
	}
	for k >= 0 {
		p := pos + uint32(k)
		for s.Off[r+1] <= p {
			off[r] = uint32(int64(s.Off[r]-lo) + delta)
			r++
		}
		start, end := s.Off[r], s.Off[r+1]
		appendASCII(s.Data[pos:start])
		off[r] = uint32(len(data))
		data = appendPyLower(data, s.Data[start:end])
		delta = int64(len(data)) - int64(end-lo)
		r++
		pos = end
		k = indexNonASCII(s.Data[pos:hi])
	}
	appendASCII(s.Data[pos:hi])
	for ; r <= n; r++ {
		off[r] = uint32(int64(s.Off[r]-lo) + delta)
	}
	lw.data, lw.off, lw.own, lw.base = data, off, off, 0
}

// searchAll sets in m every row of lw that contains needle (as a whole word
// when word is set). It searches the batch's whole buffer at once and maps
// each match back to its row, rejecting matches that cross a row boundary.
func searchAll(lw *lowered, n int, needle []byte, word bool, m []uint64) {
	if len(needle) == 0 {
		for i := 0; i < n; i++ {
			setBit(m, i)
		}
		return
	}
	data, off, base := lw.data, lw.off, lw.base
	r := 0
	for p := 0; p < len(data); {
		i := bytes.Index(data[p:], needle)
		if i < 0 {
			return
		}
		at := uint32(p+i) + base
		for off[r+1] <= at {
			r++
		}
		start, end := int(off[r]-base), int(off[r+1]-base)
		if p+i+len(needle) <= end && (!word || wordBounded(data[start:end], p+i-start, p+i-start+len(needle))) {
			setBit(m, r)
			p = end
			r++
			continue
		}
		p += i + 1
	}
}

// pred is a compiled predicate.
type pred interface {
	// eval sets t and f (zeroed, ec.nw words) to the true and false rows.
	eval(ec *evalCtx, t, f []uint64)
}

type andPred struct{ x, y pred }
type orPred struct{ x, y pred }
type notPred struct{ x pred }

func (p *andPred) eval(ec *evalCtx, t, f []uint64) {
	p.x.eval(ec, t, f)
	t2, f2 := ec.push(), ec.push()
	p.y.eval(ec, t2, f2)
	andInto(t, t2)
	orInto(f, f2)
	ec.pop(2)
}

func (p *orPred) eval(ec *evalCtx, t, f []uint64) {
	p.x.eval(ec, t, f)
	t2, f2 := ec.push(), ec.push()
	p.y.eval(ec, t2, f2)
	orInto(t, t2)
	andInto(f, f2)
	ec.pop(2)
}

func (p *notPred) eval(ec *evalCtx, t, f []uint64) { p.x.eval(ec, f, t) }

// leafPred is a predicate on one column: match sets the rows where it
// holds, and valid rows not matched are false.
type leafPred struct {
	col   string
	neg   bool // not in
	match func(ec *evalCtx, c *table.Column, m []uint64)
}

func (p *leafPred) eval(ec *evalCtx, t, f []uint64) {
	c := ec.b.Cols[p.col]
	v := ec.push()
	ec.valid(c, v)
	if c != nil {
		p.match(ec, c, t)
	}
	copy(f, v)
	andInto(t, v)
	andNotInto(f, t)
	if p.neg {
		copy(v, t)
		copy(t, f)
		copy(f, v)
	}
	ec.pop(1)
}

// nullPred is col is null (or, with not, is not null).
type nullPred struct {
	col string
	not bool
}

func (p *nullPred) eval(ec *evalCtx, t, f []uint64) {
	c := ec.b.Cols[p.col]
	if c == nil {
		ones(t, ec.n)
	} else {
		// Missing values are null and, in float columns, NaN (pandas'
		// isna): valid() already leaves both out.
		ec.valid(c, f)
		ones(t, ec.n)
		andNotInto(t, f)
	}
	if p.not {
		copy(t, f) // t and f swap; t is never needed again
		f2 := ec.push()
		ones(f2, ec.n)
		andNotInto(f2, t)
		copy(f, f2)
		ec.pop(1)
	}
}

// textMatch compiles a contains / has word / lexicon test on one column:
// the rows whose lowered value contains any needle.
func textMatch(name string, needles [][]byte, word bool) func(ec *evalCtx, c *table.Column, m []uint64) {
	if len(needles) > 1 {
		ns := newNeedleSet(needles)
		return func(ec *evalCtx, c *table.Column, m []uint64) {
			ns.any(ec.lowered(name), ec.n, word, m)
		}
	}
	return func(ec *evalCtx, c *table.Column, m []uint64) {
		lw := ec.lowered(name)
		for _, nd := range needles {
			searchAll(lw, ec.n, nd, word, m)
		}
	}
}

// regexpMatch compiles matches 'rx' on the value as stored.
func regexpMatch(name string, re *regexp.Regexp) func(ec *evalCtx, c *table.Column, m []uint64) {
	return func(ec *evalCtx, c *table.Column, m []uint64) {
		s := ec.strings(name)
		for i := 0; i < ec.n; i++ {
			if re.Match(s.At(i)) {
				setBit(m, i)
			}
		}
	}
}

// cmpOp is a comparison operator.
type cmpOp uint8

const (
	opEq cmpOp = iota
	opNe
	opLt
	opLe
	opGt
	opGe
)

var cmpOps = map[string]cmpOp{"=": opEq, "!=": opNe, "<": opLt, "<=": opLe, ">": opGt, ">=": opGe}

// cmpLoop sets m where vals[i] op x. Eight values at a time make a byte
// of m without a branch, so the loop costs the same at any selectivity (a
// branch per value is mispredicted at every other row at 50%:
// BenchmarkCmpLoop).
func cmpLoop[T int64 | float64](vals []T, op cmpOp, x T, m []uint64) {
	switch op {
	case opEq:
		cmp8(vals, m, func(v []T) uint64 {
			return bit(v[0] == x) | bit(v[1] == x)<<1 | bit(v[2] == x)<<2 | bit(v[3] == x)<<3 |
				bit(v[4] == x)<<4 | bit(v[5] == x)<<5 | bit(v[6] == x)<<6 | bit(v[7] == x)<<7
		})
	case opNe:
		cmp8(vals, m, func(v []T) uint64 {
			return bit(v[0] != x) | bit(v[1] != x)<<1 | bit(v[2] != x)<<2 | bit(v[3] != x)<<3 |
				bit(v[4] != x)<<4 | bit(v[5] != x)<<5 | bit(v[6] != x)<<6 | bit(v[7] != x)<<7
		})
	case opLt:
		cmp8(vals, m, func(v []T) uint64 {
			return bit(v[0] < x) | bit(v[1] < x)<<1 | bit(v[2] < x)<<2 | bit(v[3] < x)<<3 |
				bit(v[4] < x)<<4 | bit(v[5] < x)<<5 | bit(v[6] < x)<<6 | bit(v[7] < x)<<7
		})
	case opLe:
		cmp8(vals, m, func(v []T) uint64 {
			return bit(v[0] <= x) | bit(v[1] <= x)<<1 | bit(v[2] <= x)<<2 | bit(v[3] <= x)<<3 |
				bit(v[4] <= x)<<4 | bit(v[5] <= x)<<5 | bit(v[6] <= x)<<6 | bit(v[7] <= x)<<7
		})
	case opGt:
		cmp8(vals, m, func(v []T) uint64 {
			return bit(v[0] > x) | bit(v[1] > x)<<1 | bit(v[2] > x)<<2 | bit(v[3] > x)<<3 |
				bit(v[4] > x)<<4 | bit(v[5] > x)<<5 | bit(v[6] > x)<<6 | bit(v[7] > x)<<7
		})
	case opGe:
		cmp8(vals, m, func(v []T) uint64 {
			return bit(v[0] >= x) | bit(v[1] >= x)<<1 | bit(v[2] >= x)<<2 | bit(v[3] >= x)<<3 |
				bit(v[4] >= x)<<4 | bit(v[5] >= x)<<5 | bit(v[6] >= x)<<6 | bit(v[7] >= x)<<7
		})
	}
}

// cmp8 ors into m the bytes f makes of each 8 values of vals; the last
// byte's values are padded with zeros, whose bits are masked off.
func cmp8[T int64 | float64](vals []T, m []uint64, f func(v []T) uint64) {
	i := 0
	for ; i+8 <= len(vals); i += 8 {
		m[i>>6] |= f(vals[i:i+8:i+8]) << (i & 63)
	}
	if i < len(vals) {
		var tail [8]T
		n := copy(tail[:], vals[i:])
		m[i>>6] |= (f(tail[:]) & (1<<n - 1)) << (i & 63)
	}
}

// bit is 1 for true and 0 for false; the compiler makes it a SETcc, not a
// branch.
func bit(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func cmpResult(c int, op cmpOp) bool {
	switch op {
	case opEq:
		return c == 0
	case opNe:
		return c != 0
	case opLt:
		return c < 0
	case opLe:
		return c <= 0
	case opGt:
		return c > 0
	}
	return c >= 0
}

// compareMatch compiles col op lit for a column of type typ (checked by
// the planner).
func compareMatch(typ table.Type, op cmpOp, lit *query.Literal) func(ec *evalCtx, c *table.Column, m []uint64) {
	switch typ {
	case table.TypeString:
		x := []byte(lit.Str)
		return func(ec *evalCtx, c *table.Column, m []uint64) {
			s := &c.Str
			for i := 0; i < ec.n; i++ {
				v := s.At(i)
				var ok bool
				if op == opEq {
					ok = bytes.Equal(v, x)
				} else {
					ok = cmpResult(bytes.Compare(v, x), op)
				}
				if ok {
					setBit(m, i)
				}
			}
		}
	case table.TypeBool:
		x := lit.Bool
		return func(ec *evalCtx, c *table.Column, m []uint64) {
			for i, v := range c.Bool[:ec.n] {
				if (v == x) == (op == opEq) {
					setBit(m, i)
				}
			}
		}
	case table.TypeInt:
		if lit.Kind == query.LitInt {
			return func(ec *evalCtx, c *table.Column, m []uint64) { cmpLoop(c.Int[:ec.n], op, lit.Int, m) }
		}
		x := lit.Float
		return func(ec *evalCtx, c *table.Column, m []uint64) {
			for i, v := range c.Int[:ec.n] {
				if c, ok := cmpIntFloat(v, x); ok && cmpResult(c, op) {
					setBit(m, i)
				}
			}
		}
	}
	x := num(lit)
	return func(ec *evalCtx, c *table.Column, m []uint64) { cmpLoop(c.Float[:ec.n], op, x, m) }
}

// cmpIntFloat compares an integer with a float exactly, as Python does
// (9007199254740993 != 9007199254740992.0, where converting the integer to
// float64 would make them equal); ok is false when x is NaN.
func cmpIntFloat(v int64, x float64) (c int, ok bool) {
	switch {
	case x != x:
		return 0, false
	case x >= 1<<63:
		return -1, true
	case x < -(1 << 63):
		return 1, true
	}
	t := math.Trunc(x) // in int64's range, so exactly an int64
	if n := int64(t); v != n {
		return cmpSign(v, n), true
	}
	return cmpFloat(t, x), true // equal integer parts: x's fraction decides
}

func cmpSign(a, b int64) int {
	if a < b {
		return -1
	}
	return 1
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// inMatch compiles col in (lits...).
func inMatch(typ table.Type, lits []*query.Literal) func(ec *evalCtx, c *table.Column, m []uint64) {
	switch typ {
	case table.TypeString:
		set := map[string]bool{}
		for _, l := range lits {
			set[l.Str] = true
		}
		return func(ec *evalCtx, c *table.Column, m []uint64) {
			for i := 0; i < ec.n; i++ {
				if set[string(c.Str.At(i))] {
					setBit(m, i)
				}
			}
		}
	case table.TypeBool:
		var want [2]bool
		for _, l := range lits {
			if l.Bool {
				want[1] = true
			} else {
				want[0] = true
			}
		}
		return func(ec *evalCtx, c *table.Column, m []uint64) {
			for i, v := range c.Bool[:ec.n] {
				if (v && want[1]) || (!v && want[0]) {
					setBit(m, i)
				}
			}
		}
	}
	// Numbers compare numerically whatever their spelling: 1 and 1.0 are the
	// same literal on an int column and on a float column, as = compares them.
	ints := map[int64]bool{}
	var xs []float64
	for _, l := range lits {
		if typ == table.TypeInt && l.Kind == query.LitInt {
			ints[l.Int] = true
		} else {
			xs = append(xs, num(l))
		}
	}
	if typ == table.TypeInt {
		return func(ec *evalCtx, c *table.Column, m []uint64) {
			for i, v := range c.Int[:ec.n] {
				if ints[v] || slices.ContainsFunc(xs, func(x float64) bool { c, ok := cmpIntFloat(v, x); return ok && c == 0 }) {
					setBit(m, i)
				}
			}
		}
	}
	return func(ec *evalCtx, c *table.Column, m []uint64) {
		for i, v := range c.Float[:ec.n] {
			if slices.Contains(xs, v) {
				setBit(m, i)
			}
		}
	}
}

// num returns a number literal as a float64.
func num(l *query.Literal) float64 {
	if l.Kind == query.LitInt {
		return float64(l.Int)
	}
	return l.Float
}
