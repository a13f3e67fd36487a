package engine

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/laiondb/laiondb/table"
)

// asciiLower maps each byte to its ASCII lower case.
var asciiLower = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if 'A' <= i && i <= 'Z' {
			t[i] = byte(i) + 'a' - 'A'
		}
	}
	return t
}()

// isASCII reports whether b has no byte >= 0x80.
func isASCII(b []byte) bool {
	const hi = 0x8080808080808080
	for len(b) >= 32 {
		v := binary.LittleEndian.Uint64(b) | binary.LittleEndian.Uint64(b[8:]) |
			binary.LittleEndian.Uint64(b[16:]) | binary.LittleEndian.Uint64(b[24:])
		if v&hi != 0 {
			return false
		}
		b = b[32:]
	}
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b)&hi != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// lowerASCII writes the ASCII lower case of src to dst (len(dst) >=
// len(src)). src must be ASCII: eight bytes at a time, each byte in A..Z
// gets 0x20 added (no byte is >= 0x80, so additions never carry across bytes).
func lowerASCII(dst, src []byte) {
	dst = dst[:len(src)]
	i := 0
	for ; i+8 <= len(src); i += 8 {
		x := binary.LittleEndian.Uint64(src[i:])
		ge := x + 0x3f3f3f3f3f3f3f3f // high bit set where byte >= 'A'
		gt := x + 0x2525252525252525 // high bit set where byte > 'Z'
		x |= ((ge &^ gt) & 0x8080808080808080) >> 2
		binary.LittleEndian.PutUint64(dst[i:], x)
	}
	for ; i < len(src); i++ {
		dst[i] = asciiLower[src[i]]
	}
}

// indexNonASCII returns the index of the first byte >= 0x80 in b, or -1.
func indexNonASCII(b []byte) int {
	const hi = 0x8080808080808080
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if v := binary.LittleEndian.Uint64(b[i:]) & hi; v != 0 {
			return i + bits.TrailingZeros64(v)/8
		}
	}
	for ; i < len(b); i++ {
		if b[i] >= 0x80 {
			return i
		}
	}
	return -1
}

// pyLower returns Python 3's s.lower().
func pyLower(s string) string {
	if isASCII([]byte(s)) {
		return strings.Map(func(r rune) rune { return rune(asciiLower[r]) }, s)
	}
	return string(appendPyLower(nil, []byte(s)))
}

// appendPyLower appends Python 3's str.lower() of s to dst. It applies
// Unicode's full lower-case mapping as CPython does: the simple mapping
// (unicode.ToLower), U+0130 'İ' to "i̇" (i and U+0307), and capital sigma
// to final sigma 'ς' at the end of a word (CPython's handle_capital_sigma).
// Bytes that are not valid UTF-8 are copied unchanged.
func appendPyLower(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			dst = append(dst, asciiLower[c])
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, c)
		case r == 0x130:
			dst = append(dst, "i\u0307"...)
		case r == 0x3A3:
			if finalSigma(s, i, size) {
				dst = append(dst, "ς"...)
			} else {
				dst = append(dst, "σ"...)
			}
		default:
			dst = utf8.AppendRune(dst, unicode.ToLower(r))
		}
		i += size
	}
	return dst
}

// finalSigma reports whether the capital sigma at s[i:i+size] is in the
// Final_Sigma context: preceded by a cased letter (skipping case-ignorable
// characters) and not followed by one.
func finalSigma(s []byte, i, size int) bool {
	j := i
	cased := false
	for j > 0 {
		r, n := utf8.DecodeLastRune(s[:j])
		j -= n
		if !caseIgnorable(r) {
			cased = isCased(r)
			break
		}
	}
	if !cased {
		return false
	}
	for j = i + size; j < len(s); {
		r, n := utf8.DecodeRune(s[j:])
		j += n
		if !caseIgnorable(r) {
			return !isCased(r)
		}
	}
	return true
}

// isCased is Unicode's Cased property: Lowercase, Uppercase or Lt.
func isCased(r rune) bool {
	return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r) ||
		unicode.Is(unicode.Other_Lowercase, r) || unicode.Is(unicode.Other_Uppercase, r)
}

// caseIgnorable is Unicode's Case_Ignorable property: Mn, Me, Cf, Lm, Sk,
// and Word_Break MidLetter, MidNumLet and Single_Quote.
func caseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', 0xB7, 0x387, 0x55F, 0x5F4, 0x2018, 0x2019, 0x2024,
		0x2027, 0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A:
		return true
	}
	return r >= 0x80 && unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

// isWordRune reports whether r is a letter, digit or underscore: the
// characters that may not touch a "has word" match.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

// wordBounded reports whether the match v[i:j] has no word character right
// before or after it within v.
func wordBounded(v []byte, i, j int) bool {
	if i > 0 {
		r, _ := utf8.DecodeLastRune(v[:i])
		if isWordRune(r) {
			return false
		}
	}
	if j < len(v) {
		r, _ := utf8.DecodeRune(v[j:])
		if isWordRune(r) {
			return false
		}
	}
	return true
}

// appendPyStr appends Python's str() of a column value.
func appendPyStr(dst []byte, c *table.Column, i int) []byte {
	switch c.Type {
	case table.TypeString:
		return append(dst, c.Str.At(i)...)
	case table.TypeInt:
		return strconv.AppendInt(dst, c.Int[i], 10)
	case table.TypeFloat:
		return appendPyFloat(dst, c.Float[i])
	case table.TypeBool:
		if c.Bool[i] {
			return append(dst, "True"...)
		}
		return append(dst, "False"...)
	}
	return dst
}

// appendPyFloat appends Python's repr of a float: shortest round-trip
// digits, positional for exponents -5 < e < 16 (always with a decimal
// point), scientific otherwise (1e+16, 1e-05).
func appendPyFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "nan"...)
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64) // [-]d[.ddd]e±dd
	k := bytes.IndexByte(e, 'e')
	exp, _ := strconv.Atoi(string(e[k+1:]))
	if exp < -4 || exp >= 16 {
		dst = append(dst, e[:k+1]...)
		if exp < 0 {
			dst = append(dst, '-')
			exp = -exp
		} else {
			dst = append(dst, '+')
		}
		if exp < 10 {
			dst = append(dst, '0')
		}
		return strconv.AppendInt(dst, int64(exp), 10)
	}
	s := strconv.AppendFloat(buf[:0], f, 'f', -1, 64)
	dst = append(dst, s...)
	if bytes.IndexByte(s, '.') < 0 {
		dst = append(dst, ".0"...)
	}
	return dst
}
