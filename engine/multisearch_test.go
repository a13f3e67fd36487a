package engine

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/laiondb/laiondb/table"
)

// TestNeedleSet compares one pass for several needles with a searchAll
// per needle, on random rows over a small alphabet (so that needles
// cross row boundaries, repeat, and sit at words' edges), with needles of
// 1 to 6 bytes, the essay's keywords among them.
func TestNeedleSet(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	alpha := []string{"a", "b", "s", "e", "x", " ", "h", "o", "t", "-", "é", "Σ", "İ"}
	for round := range 300 {
		n := 1 + r.IntN(150)
		var s table.Strings
		s.Off = []uint32{0}
		for range n {
			for range r.IntN(12) {
				s.Data = append(s.Data, alpha[r.IntN(len(alpha))]...)
			}
			s.Off = append(s.Off, uint32(len(s.Data)))
		}
		var lw lowered
		lowerStrings(&lw, &s, n)
		var needles [][]byte
		if round%3 == 0 {
			for _, k := range Essay2021 {
				needles = append(needles, []byte(pyLower(k)))
			}
		} else {
			for range 1 + r.IntN(8) {
				var nd []byte
				for range 1 + r.IntN(4) {
					nd = append(nd, pyLower(alpha[r.IntN(len(alpha))])...)
				}
				if round%5 != 0 && len(nd) < 2 {
					nd = append(nd, 'a')
				}
				needles = append(needles, nd)
			}
		}
		ns := newNeedleSet(needles)
		words := (n + 63) / 64
		for _, word := range []bool{false, true} {
			want := make([][]uint64, len(needles))
			wantAny := make([]uint64, words)
			for k, nd := range needles {
				want[k] = make([]uint64, words)
				searchAll(&lw, n, nd, word, want[k])
				orInto(wantAny, want[k])
			}
			got := make([][]uint64, len(needles))
			for k := range got {
				got[k] = make([]uint64, words)
			}
			ns.each(&lw, n, word, got)
			for k := range needles {
				if !slices.Equal(got[k], want[k]) {
					t.Fatalf("round %d, word %v, needle %q: %b, want %b", round, word, needles[k], got[k], want[k])
				}
			}
			gotAny := make([]uint64, words)
			ns.any(&lw, n, word, gotAny)
			if !slices.Equal(gotAny, wantAny) {
				t.Fatalf("round %d, word %v, any of %q: %b, want %b", round, word, needles, gotAny, wantAny)
			}
		}
	}
}

// TestNeedleSetMany finds 300 needles, most sharing their first bytes,
// as a searchAll per needle does.
func TestNeedleSetMany(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	alpha := "abcdes x"
	var s table.Strings
	s.Off = []uint32{0}
	n := 500
	for range n {
		for range r.IntN(40) {
			s.Data = append(s.Data, alpha[r.IntN(len(alpha))])
		}
		s.Off = append(s.Off, uint32(len(s.Data)))
	}
	var lw lowered
	lowerStrings(&lw, &s, n)
	// Needles of two bytes or more are found by their first two bytes,
	// needles all of three or more by their first three.
	for _, shortest := range []int{2, 3} {
		var needles [][]byte
		for range 300 {
			nd := make([]byte, shortest+r.IntN(4))
			for i := range nd {
				nd[i] = alpha[r.IntN(len(alpha))]
			}
			needles = append(needles, nd)
		}
		ns := newNeedleSet(needles)
		if ns.tri != (shortest == 3) {
			t.Fatalf("shortest needle %d bytes: tri %v", shortest, ns.tri)
		}
		words := (n + 63) / 64
		got := make([][]uint64, len(needles))
		for k := range got {
			got[k] = make([]uint64, words)
		}
		ns.each(&lw, n, false, got)
		for k, nd := range needles {
			want := make([]uint64, words)
			searchAll(&lw, n, nd, false, want)
			if !slices.Equal(got[k], want) {
				t.Fatalf("needle %d %q: %b, want %b", k, nd, got[k], want)
			}
		}
	}
}

// TestNeedleSetFalseHit: three bytes whose hash is a needle's, but whose
// first two bytes start no needle, are passed over.
func TestNeedleSetFalseHit(t *testing.T) {
	ns := newNeedleSet([][]byte{[]byte("sex")})
	want := triHash('s' | 'e'<<8 | 'x'<<16)
	var false3 []byte
	for t3 := uint32(0); t3 < 1<<24 && false3 == nil; t3++ {
		if triHash(t3) == want && t3&0xffff != 's'|'e'<<8 {
			false3 = []byte{byte(t3), byte(t3 >> 8), byte(t3 >> 16)}
		}
	}
	if false3 == nil {
		t.Fatal("no three bytes share the hash of 'sex'")
	}
	var s table.Strings
	s.Off = []uint32{0}
	for _, row := range [][]byte{false3, append(append([]byte("a"), false3...), "sex"...), []byte("se")} {
		s.Data = append(s.Data, row...)
		s.Off = append(s.Off, uint32(len(s.Data)))
	}
	lw := lowered{data: s.Data, off: s.Off}
	got := make([]uint64, 1)
	ns.any(&lw, 3, false, got)
	if got[0] != 0b010 {
		t.Errorf("rows %03b hold 'sex', want 010 (false hit %q)", got[0], false3)
	}
}
