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
	// The needles starting with each pair, in order: an open-addressed
	// table of the pairs (a map lookup cost a fifth of the pass).
	slots []pairSlot
	shift uint32 // 32 - log2(len(slots))
	order []int  // the needles, grouped by pair: slot s has order[s.lo:s.hi]
	short bool   // a needle is shorter than two bytes: use searchAll
	// tri: every needle has three bytes or more, and triples has the bit
	// triHash of each one's first three.
	tri     bool
	triples [1 << 16 / 64]uint64
}

type pairSlot struct {
	pair   uint32 // b0 | b1<<8 | 1<<16 (0: empty)
	lo, hi int32
}

func newNeedleSet(needles [][]byte) *needleSet {
	ns := &needleSet{needles: needles}
	byPair := map[uint32][]int{}
	var pairs []uint32
	for k, nd := range needles {
		if len(nd) < 2 {
			ns.short = true
			continue
		}
		p := uint32(nd[0]) | uint32(nd[1])<<8
		ns.pairs[p>>6] |= 1 << (p & 63)
		if byPair[p] == nil {
			pairs = append(pairs, p)
		}
		byPair[p] = append(byPair[p], k)
	}
	ns.tri = len(needles) > 0
	for _, nd := range needles {
		if len(nd) < 3 {
			ns.tri = false
			break
		}
		h := triHash(uint32(nd[0]) | uint32(nd[1])<<8 | uint32(nd[2])<<16)
		ns.triples[h>>6] |= 1 << (h & 63)
	}
	bits := uint32(1)
	for 1<<bits < 2*len(pairs) {
		bits++
	}
	ns.slots, ns.shift = make([]pairSlot, 1<<bits), 32-bits
	for _, p := range pairs {
		h := ns.hash(p)
		for ns.slots[h].pair != 0 {
			h = (h + 1) & uint32(len(ns.slots)-1)
		}
		lo := int32(len(ns.order))
		ns.order = append(ns.order, byPair[p]...)
		ns.slots[h] = pairSlot{pair: p | 1<<16, lo: lo, hi: int32(len(ns.order))}
	}
	return ns
}

func (ns *needleSet) hash(p uint32) uint32 { return (p * 2654435761) >> ns.shift }

// starting returns the needles that start with pair p.
func (ns *needleSet) starting(p uint32) []int {
	h := ns.hash(p)
	for {
		s := &ns.slots[h]
		switch s.pair {
		case p | 1<<16:
			return ns.order[s.lo:s.hi]
		case 0:
			return nil // a false hit of the triples' hash
		}
		h = (h + 1) & uint32(len(ns.slots)-1)
	}
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
	data := lw.data
	if n == 0 || len(data) < 2 {
		return
	}
	st := scanState{lw: lw, end: int(lw.off[1] - lw.base)}
	if ns.tri {
		// Every needle has three bytes or more: test the hashed first
		// three, which far fewer places of a caption pass than two.
		for i := 0; i+2 < len(data); i++ {
			t := uint32(data[i]) | uint32(data[i+1])<<8 | uint32(data[i+2])<<16
			if h := triHash(t); ns.triples[h>>6]&(1<<(h&63)) != 0 {
				i = ns.at(&st, i, t&0xffff, word, hit)
			}
		}
		return
	}
	for i := 0; i+1 < len(data); i++ {
		if p := uint32(data[i]) | uint32(data[i+1])<<8; ns.pairs[p>>6]&(1<<(p&63)) != 0 {
			i = ns.at(&st, i, p, word, hit)
		}
	}
}

// scanState is where scan is: in row r, which ends at byte end of the
// lowered data, with the needles seen in it so far (the first 64).
type scanState struct {
	lw     *lowered
	r, end int
	seen   uint64
}

// triHash maps three bytes (b0 | b1<<8 | b2<<16) to a bit of triples.
func triHash(t uint32) uint32 { return (t * 0x9E3779B1) >> 16 }

// at compares the needles starting with pair p at byte i of the data and
// returns the byte the scan goes on after (i, or the row's last byte when
// hit asked to skip the rest of the row).
func (ns *needleSet) at(st *scanState, i int, p uint32, word bool, hit func(k, r int) bool) int {
	data, off, base := st.lw.data, st.lw.off, st.lw.base
	if i >= st.end {
		for int(off[st.r+1]-base) <= i {
			st.r++
		}
		st.end, st.seen = int(off[st.r+1]-base), 0
	}
	start, end := int(off[st.r]-base), st.end
	for _, k := range ns.starting(p) {
		nd := ns.needles[k]
		if k < 64 && st.seen&(1<<k) != 0 {
			continue
		}
		if i+len(nd) > end || !bytes.HasPrefix(data[i:end], nd) {
			continue
		}
		if word && !wordBounded(data[start:end], i-start, i-start+len(nd)) {
			continue
		}
		if k < 64 {
			st.seen |= 1 << k
		}
		if hit(k, st.r) {
			return end - 1
		}
	}
	return i
}
