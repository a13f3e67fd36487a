package engine

import "bytes"

// needleSet finds several needles in one pass over a lowered batch, where
// searchAll makes a pass per needle: the essay's lexicon has seven
// keywords, three of which ('sex', 'hot ', ' rape ') start with bytes that
// most captions hold, so each of those passes stops at nearly every word.
// A pass reads each byte pair once and looks it up in a table of the
// needles' first two bytes; only the needles starting with a pair found
// are compared there, so a lexicon of thousands of keywords costs about
// what a short one does.
type needleSet struct {
	needles [][]byte
	pairs   [1 << 16 / 64]uint64 // bit b0 | b1<<8: a needle starts with b0 b1
	byPair  map[uint16][]int     // the needles starting with each pair, in order
	short   bool                 // a needle is shorter than two bytes: use searchAll
}

func newNeedleSet(needles [][]byte) *needleSet {
	ns := &needleSet{needles: needles, byPair: map[uint16][]int{}}
	for k, nd := range needles {
		if len(nd) < 2 {
			ns.short = true
			continue
		}
		p := uint16(nd[0]) | uint16(nd[1])<<8
		ns.pairs[p>>6] |= 1 << (p & 63)
		ns.byPair[p] = append(ns.byPair[p], k)
	}
	return ns
}

// each sets bit r of out[k] for every row r of lw (n rows) that holds
// needle k (as a whole word when word is set); out[k] must be zeroed.
func (ns *needleSet) each(lw *lowered, n int, word bool, out [][]uint64) {
	if ns.short {
		for k, nd := range ns.needles {
			searchAll(lw, n, nd, word, out[k])
		}
		return
	}
	ns.scan(lw, n, word, func(k, r int) bool {
		setBit(out[k], r)
		return false
	})
}

// any sets in m every row of lw (n rows) that holds one of the needles.
func (ns *needleSet) any(lw *lowered, n int, word bool, m []uint64) {
	if ns.short {
		for _, nd := range ns.needles {
			searchAll(lw, n, nd, word, m)
		}
		return
	}
	ns.scan(lw, n, word, func(k, r int) bool {
		setBit(m, r)
		return true
	})
}

// scan calls hit(k, r) for each needle k found in row r, at most once per
// pair; when hit returns true the rest of row r is skipped.
func (ns *needleSet) scan(lw *lowered, n int, word bool, hit func(k, r int) bool) {
	data, off, base := lw.data, lw.off, lw.base
	if n == 0 || len(data) < 2 {
		return
	}
	var seen uint64 // needles found in row r so far (the first 64)
	r := 0
	end := int(off[1] - base)
	for i := 0; i+1 < len(data); i++ {
		p := uint32(data[i]) | uint32(data[i+1])<<8
		if ns.pairs[p>>6]&(1<<(p&63)) == 0 {
			continue
		}
		if i >= end {
			for int(off[r+1]-base) <= i {
				r++
			}
			end, seen = int(off[r+1]-base), 0
		}
		start := int(off[r] - base)
		for _, k := range ns.byPair[uint16(p)] {
			nd := ns.needles[k]
			if k < 64 && seen&(1<<k) != 0 {
				continue
			}
			if i+len(nd) > end || !bytes.HasPrefix(data[i:end], nd) {
				continue
			}
			if word && !wordBounded(data[start:end], i-start, i-start+len(nd)) {
				continue
			}
			if k < 64 {
				seen |= 1 << k
			}
			if hit(k, r) {
				i = end - 1
				break
			}
		}
	}
}
