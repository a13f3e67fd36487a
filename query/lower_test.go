package query

import (
	"math"
	"testing"
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
		var s Strings
		s.Off = []uint32{0}
		for _, v := range vals {
			s.Data = append(s.Data, v...)
			s.Off = append(s.Off, uint32(len(s.Data)))
		}
		sub := Strings{Data: s.Data, Off: s.Off[1:]}
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
	var s Strings
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
