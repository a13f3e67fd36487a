package engine

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/table"
)

// TestPyLower compares pyLower with CPython 3.11.7's str.lower(); the
// table was produced by running str.lower() on each input.
func TestPyLower(t *testing.T) {
	for _, tt := range [][2]string{
		{"İstanbul", "i̇stanbul"}, {"ΟΔΟΣ", "οδος"}, {"Σ", "σ"}, {"ΑΣ Β", "ας β"},
		{"ΑΣ.Β", "ασ.β"}, {"ΑΣ.", "ας."}, {"ΑΣ'", "ας'"}, {"Σ Σ", "σ σ"}, {"ΑΣΣ", "ασς"},
		{"Straße", "straße"}, {"ẞ", "ß"}, {"ǅemal", "ǆemal"}, {"ǄEMAL", "ǆemal"},
		{"DESIGN Mixed", "design mixed"}, {"naïve CAFÉ", "naïve café"},
		{"ΌΣΟΣ ΚΑΙ", "όσος και"}, {"Ａ Ｂ", "ａ ｂ"}, {"ꭰ", "ꭰ"}, {"Ꭰ", "ꭰ"},
		{"ΑΣ\u0301", "ας\u0301"}, {"ΑΣ\u00adΒ", "ασ\u00adβ"}, {"AİB", "ai̇b"},
		{"ẞΩKÅ", "ßωkå"}, {"ᾼΣ", "ᾳς"}, {"", ""}, {"ABC xyz 123", "abc xyz 123"},
		{"bad \xff UTF-8 É", "bad \xff utf-8 é"},
	} {
		if got := pyLower(tt[0]); got != tt[1] {
			t.Errorf("pyLower(%q) = %q, want %q", tt[0], got, tt[1])
		}
	}
}

func TestPyFloat(t *testing.T) {
	tenth := 0.1
	for _, tt := range []struct {
		f    float64
		want string
	}{
		{1, "1.0"}, {1e16, "1e+16"}, {1e15, "1000000000000000.0"}, {0.0001, "0.0001"},
		{0.00001, "1e-05"}, {6016, "6016.0"}, {tenth + 0.2, "0.30000000000000004"},
		{math.Copysign(0, -1), "-0.0"}, {math.NaN(), "nan"}, {math.Inf(-1), "-inf"},
		{1.5e300, "1.5e+300"}, {123456789012345678, "1.2345678901234568e+17"}, {-2.5, "-2.5"},
	} {
		if got := string(appendPyFloat(nil, tt.f)); got != tt.want {
			t.Errorf("appendPyFloat(%v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}

func TestLowerStringsBatch(t *testing.T) {
	// A batch whose offsets do not start at 0, ASCII and not.
	for _, vals := range [][]string{{"xx", "AbC", "", "DEF"}, {"xx", "ΟΔΟΣ", "İ", "DESI"}} {
		var s table.Strings
		s.Off = []uint32{0}
		for _, v := range vals {
			s.Data = append(s.Data, v...)
			s.Off = append(s.Off, uint32(len(s.Data)))
		}
		sub := table.Strings{Data: s.Data, Off: s.Off[1:]}
		var lw lowered
		lowerStrings(&lw, &sub, 3)
		for i := range 3 {
			if got, want := string(lw.at(i)), pyLower(vals[i+1]); got != want {
				t.Errorf("row %d: %q, want %q", i, got, want)
			}
		}
		m := make([]uint64, 1)
		searchAll(&lw, 3, []byte("c"), false, m)
		_ = m
	}
}

func TestSearchAllBoundaries(t *testing.T) {
	vals := []string{"ab", "cab", "", "abab", "b", "a", "xab"}
	var s table.Strings
	s.Off = []uint32{0}
	for _, v := range vals {
		s.Data = append(s.Data, v...)
		s.Off = append(s.Off, uint32(len(s.Data)))
	}
	var lw lowered
	lowerStrings(&lw, &s, len(vals))
	m := make([]uint64, 1)
	searchAll(&lw, len(vals), []byte("ba"), false, m)
	// "ab"+"cab" and "b"+"a" cross boundaries; only "abab" has "ba".
	if m[0] != 1<<3 {
		t.Errorf("ba: %b", m[0])
	}
	m[0] = 0
	searchAll(&lw, len(vals), []byte("ab"), true, m)
	if m[0] != 1<<0 {
		t.Errorf("word ab: %b", m[0])
	}
}

func TestLowerStringsRandom(t *testing.T) {
	words := []string{"", "a", "ABC", "Desi ", "ΟΔΟΣ", "İ", "x\xffY", "Σ", "MIXED case TEXT here", "東京"}
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 200 {
		n := rng.IntN(40)
		var s table.Strings
		s.Off = []uint32{0}
		var vals []string
		skip := rng.IntN(3) // rows before the batch
		for i := range n + skip {
			var v string
			for range rng.IntN(4) {
				v += words[rng.IntN(len(words))]
			}
			if iter%2 == 0 {
				v = strings.ToUpper(strings.Map(func(r rune) rune {
					if r >= 0x80 {
						return 'q'
					}
					return r
				}, v))
			}
			if i >= skip {
				vals = append(vals, v)
			}
			s.Data = append(s.Data, v...)
			s.Off = append(s.Off, uint32(len(s.Data)))
		}
		sub := table.Strings{Data: s.Data, Off: s.Off[skip:]}
		var lw lowered
		lowerStrings(&lw, &sub, n)
		for i, v := range vals {
			if got := string(lw.at(i)); got != pyLower(v) {
				t.Fatalf("iter %d row %d: %q, want %q", iter, i, got, pyLower(v))
			}
		}
	}
	for c := range 128 {
		src := []byte(strings.Repeat(string(rune(c)), 9))
		dst := make([]byte, 9)
		lowerASCII(dst, src)
		if string(dst) != strings.Repeat(string(asciiLower[c]), 9) {
			t.Errorf("lowerASCII(%q) = %q", src, dst)
		}
	}
}
