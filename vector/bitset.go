package vector

import "math/bits"

// Bitset is a set of store rows: an AllowList that can be built row by
// row.
type Bitset struct {
	w []uint64
	n int
}

// NewBitset returns an empty set able to hold rows 0..n-1.
func NewBitset(n int) *Bitset { return &Bitset{w: make([]uint64, (n+63)/64), n: n} }

// Cap returns the n given to NewBitset.
func (b *Bitset) Cap() int { return b.n }

// Set adds row r.
func (b *Bitset) Set(r uint32) { b.w[r>>6] |= 1 << (r & 63) }

// Contains reports whether row r is in the set.
func (b *Bitset) Contains(r uint32) bool {
	i := int(r >> 6)
	return i < len(b.w) && b.w[i]&(1<<(r&63)) != 0
}

// Count returns the number of rows in the set.
func (b *Bitset) Count() int {
	c := 0
	for _, w := range b.w {
		c += bits.OnesCount64(w)
	}
	return c
}

// Words exposes the backing words (row r is bit r%64 of word r/64) for
// fast iteration and merging. Concurrent Set calls on rows in different
// words are safe; callers that set rows of the same word from several
// goroutines must merge per-goroutine sets with Or instead.
func (b *Bitset) Words() []uint64 { return b.w }

// Or adds every row of o.
func (b *Bitset) Or(o *Bitset) {
	for i, w := range o.w {
		b.w[i] |= w
	}
}

// And keeps only the rows that o holds too.
func (b *Bitset) And(o *Bitset) {
	for i := range b.w {
		if i < len(o.w) {
			b.w[i] &= o.w[i]
		} else {
			b.w[i] = 0
		}
	}
}

// ForEach calls fn for each row in ascending order until fn returns false.
func (b *Bitset) ForEach(fn func(r uint32) bool) {
	for i, w := range b.w {
		for w != 0 {
			t := bits.TrailingZeros64(w)
			if !fn(uint32(i*64 + t)) {
				return
			}
			w &= w - 1
		}
	}
}

// Clear removes row r.
func (b *Bitset) Clear(r uint32) { b.w[r>>6] &^= 1 << (r & 63) }

// Fill adds every row 0..Cap()-1.
func (b *Bitset) Fill() {
	for i := range b.w {
		b.w[i] = ^uint64(0)
	}
	if r := b.n % 64; r != 0 {
		b.w[len(b.w)-1] = 1<<r - 1
	}
}

// Clone returns a copy of the set.
func (b *Bitset) Clone() *Bitset { return &Bitset{w: append([]uint64(nil), b.w...), n: b.n} }

// Slice returns rows lo..hi-1 of the set as a new set of hi-lo rows: row
// lo+r of b is row r of the result. Several stores queried as one
// (engine.Union) give each store its part of an allow-list this way.
func (b *Bitset) Slice(lo, hi int) *Bitset {
	out := NewBitset(hi - lo)
	w, s := lo>>6, uint(lo&63)
	for j := range out.w {
		var x uint64
		if w+j < len(b.w) {
			x = b.w[w+j] >> s
		}
		if s > 0 && w+j+1 < len(b.w) {
			x |= b.w[w+j+1] << (64 - s)
		}
		out.w[j] = x
	}
	if r := out.n % 64; r != 0 {
		out.w[len(out.w)-1] &= 1<<r - 1
	}
	return out
}

// Place adds every row r of o as row at+r: the inverse of Slice, for
// assembling a set from the sets of consecutive parts. at+o.Cap() must not
// exceed b.Cap().
func (b *Bitset) Place(o *Bitset, at int) {
	w, s := at>>6, uint(at&63)
	for j, x := range o.w {
		if x == 0 {
			continue
		}
		b.w[w+j] |= x << s
		if s > 0 && w+j+1 < len(b.w) {
			b.w[w+j+1] |= x >> (64 - s)
		}
	}
}
