package db

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// A posting of the text index (format 3) is the sorted list of a
// trigram's units in a segment: a unit is 1<<shift consecutive rows, and a
// unit is listed when one of its rows holds the trigram. It is stored in
// whichever of two encodings is smaller, or not at all when the trigram
// is frequent:
//
//	0, uvarint n, l, low, high   Elias–Fano: n values; low packs the l low
//	                             bits of each value, LSB first; high sets
//	                             bit (v>>l)+i for the i-th value v
//	1, words                     a bitmap of the units, LSB first
//	2                            every unit: the trigram is in more than
//	                             1/frequentTrigram of them, and not listed
//	                             (in segments of frequentFrom units or more)
//
// Elias–Fano spends about 2 + log2(units/n) bits a value, where Roaring
// (formats 1 and 2) spends 16 bits a value in sparse containers and
// units/n bits in dense ones: on LAION-like captions a trigram of a few
// percent of the rows costs about a third.

const (
	postingEF     = 0
	postingBitmap = 1
	postingAll    = 2
)

// frequentTrigram: a trigram in more than 1/frequentTrigram of a
// segment's units is written as postingAll. Such a trigram narrows a
// search little (a needle made only of them is scanned, and the plan says
// so), and it costs most of an index: on LAION-like text
// (bench.GenerateLAIONRows, 1M rows, units of one row) the index of the
// captions is 0.80 times their bytes with every trigram listed, 0.56 times
// without those in more than 5% of the rows; of the URLs 0.81 and 0.60.
const frequentTrigram = 20

// frequentFrom is the fewest units a segment must have for its frequent
// trigrams to be left out: a small segment's index is small anyway, and
// listing every trigram there keeps the index narrowing (and the tests of
// its candidates meaningful) on small stores.
const frequentFrom = 1 << 12

// unlisted reports whether a trigram in n of universe units is left out.
func unlisted(n, universe int) bool { return universe >= frequentFrom && n*frequentTrigram > universe }

var errPosting = errors.New("posting is malformed")

// efLowBits returns the low bits per value of an Elias–Fano list of n
// values below universe.
func efLowBits(n, universe int) int {
	l := 0
	for n > 0 && universe>>(l+1) >= n {
		l++
	}
	return l
}

// appendPosting appends the encoding of units (sorted, distinct, each
// below universe) to dst.
func appendPosting(dst []byte, units []uint32, universe int) []byte {
	n := len(units)
	if unlisted(n, universe) {
		return append(dst, postingAll)
	}
	l := efLowBits(n, universe)
	lowBytes := (n*l + 7) / 8
	highBytes := (n + universe>>l + 1 + 7) / 8
	efSize := 1 + len(binary.AppendUvarint(nil, uint64(n))) + 1 + lowBytes + highBytes
	if mapSize := 1 + 8*((universe+63)/64); mapSize <= efSize {
		dst = append(dst, postingBitmap)
		w := make([]uint64, (universe+63)/64)
		for _, u := range units {
			w[u>>6] |= 1 << (u & 63)
		}
		for _, x := range w {
			dst = binary.LittleEndian.AppendUint64(dst, x)
		}
		return dst
	}
	dst = append(dst, postingEF)
	dst = binary.AppendUvarint(dst, uint64(n))
	dst = append(dst, byte(l))
	low := len(dst)
	dst = append(dst, make([]byte, lowBytes+highBytes)...)
	lo, hi := dst[low:low+lowBytes], dst[low+lowBytes:]
	mask := uint32(1)<<l - 1
	for i, u := range units {
		if l > 0 {
			v, at := u&mask, i*l
			for b := 0; b < l; {
				// Write the bits of v from bit b at bit at+b.
				p := at + b
				k := min(8-p&7, l-b)
				lo[p>>3] |= byte((v>>b)&(1<<k-1)) << (p & 7)
				b += k
			}
		}
		h := int(u>>l) + i
		hi[h>>3] |= 1 << (h & 7)
	}
	return dst
}

// decodePosting decodes p, a posting over universe units, into dst (at
// least (universe+63)/64 words, zeroed by the caller), and reports the
// number of units. A posting that lists a unit twice, out of order or
// outside the universe is an error.
func decodePosting(p []byte, universe int, dst []uint64) (int, error) {
	words := (universe + 63) / 64
	if len(p) == 0 || len(dst) < words {
		return 0, errPosting
	}
	switch p[0] {
	case postingBitmap:
		if len(p) != 1+8*words {
			return 0, fmt.Errorf("%w: bitmap of %d bytes for %d units", errPosting, len(p)-1, universe)
		}
		n := 0
		for i := range words {
			x := binary.LittleEndian.Uint64(p[1+8*i:])
			dst[i] = x
			n += bits.OnesCount64(x)
		}
		if r := universe & 63; r != 0 && dst[words-1]>>r != 0 {
			return 0, fmt.Errorf("%w: units past the %d of the segment", errPosting, universe)
		}
		return n, nil
	case postingAll:
		if len(p) != 1 {
			return 0, fmt.Errorf("%w: %d bytes after 'every unit'", errPosting, len(p)-1)
		}
		for i := range words {
			dst[i] = ^uint64(0)
		}
		if r := universe & 63; r != 0 {
			dst[words-1] = 1<<r - 1
		}
		return universe, nil
	case postingEF:
	default:
		return 0, fmt.Errorf("%w: encoding %d", errPosting, p[0])
	}
	n64, k := binary.Uvarint(p[1:])
	if k <= 0 || n64 == 0 || n64 > uint64(universe) || 1+k >= len(p) {
		return 0, fmt.Errorf("%w: bad count", errPosting)
	}
	n := int(n64)
	l := int(p[1+k])
	if l != efLowBits(n, universe) {
		return 0, fmt.Errorf("%w: %d low bits for %d of %d units", errPosting, l, n, universe)
	}
	body := p[2+k:]
	lowBytes := (n*l + 7) / 8
	highBytes := (n + universe>>l + 1 + 7) / 8
	if len(body) != lowBytes+highBytes {
		return 0, fmt.Errorf("%w: %d bytes, want %d", errPosting, len(body), lowBytes+highBytes)
	}
	lo, hi := body[:lowBytes], body[lowBytes:]
	i := 0
	prev := -1
	for w := 0; w < len(hi); w += 8 {
		var x uint64
		if w+8 <= len(hi) {
			x = binary.LittleEndian.Uint64(hi[w:])
		} else {
			for j := len(hi) - 1; j >= w; j-- {
				x = x<<8 | uint64(hi[j])
			}
		}
		for x != 0 {
			pos := w*8 + bits.TrailingZeros64(x)
			x &= x - 1
			if i == n {
				return 0, fmt.Errorf("%w: more than %d values", errPosting, n)
			}
			u := (pos - i) << l
			if l > 0 {
				u |= int(readBits(lo, i*l, l))
			}
			if u <= prev || u >= universe {
				return 0, fmt.Errorf("%w: unit %d after %d (of %d)", errPosting, u, prev, universe)
			}
			dst[u>>6] |= 1 << (u & 63)
			prev = u
			i++
		}
	}
	if i != n {
		return 0, fmt.Errorf("%w: %d values, want %d", errPosting, i, n)
	}
	return n, nil
}

// readBits returns the l (≤ 32) bits of b from bit at, LSB first.
func readBits(b []byte, at, l int) uint32 {
	i := at >> 3
	var x uint64
	if i+8 <= len(b) {
		x = binary.LittleEndian.Uint64(b[i:])
	} else {
		for j := len(b) - 1; j >= i; j-- {
			x = x<<8 | uint64(b[j])
		}
	}
	return uint32(x>>(at&7)) & (1<<l - 1)
}
