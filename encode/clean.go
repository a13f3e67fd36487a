package encode

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// cleanText is the text normalisation of CLIP's SimpleTokenizer.encode:
//
//	whitespace_clean(basic_clean(text)).lower()
//
// where basic_clean is ftfy.fix_text followed by html.unescape twice.
// ftfy is approximated by the fixes that matter for web captions (see
// ftfyLite); html.unescape is Python's, entity for entity.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = ftfyLite(s)
	s = pyUnescape(pyUnescape(s))
	s = strings.TrimFunc(s, pyIsSpace)
	s = whitespaceClean(s)
	return pyLower(s)
}

// pyIsSpace reports whether Python's str.isspace is true for r, which is
// what \s matches in Python's re module for str patterns.
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// whitespaceClean replaces every run of whitespace with one space and
// trims the ends (CLIP's whitespace_clean).
func whitespaceClean(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if pyIsSpace(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// pyLower is Python's str.lower: Go's simple case mapping plus the two
// full mappings Python applies, U+0130 → "i̇" and the final sigma.
func pyLower(s string) string {
	if !strings.ContainsAny(s, "\u0130\u03a3") {
		return strings.ToLower(s)
	}
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		switch r {
		case '\u0130':
			b.WriteString("i\u0307")
		case '\u03a3':
			if finalSigma(rs, i) {
				b.WriteRune('\u03c2')
			} else {
				b.WriteRune('\u03c3')
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// finalSigma is Unicode's Final_Sigma condition: a cased letter before
// position i and none after it, skipping case-ignorable characters.
func finalSigma(rs []rune, i int) bool {
	before := false
	for j := i - 1; j >= 0; j-- {
		if caseIgnorable(rs[j]) {
			continue
		}
		before = cased(rs[j])
		break
	}
	if !before {
		return false
	}
	for j := i + 1; j < len(rs); j++ {
		if caseIgnorable(rs[j]) {
			continue
		}
		return !cased(rs[j])
	}
	return true
}

func cased(r rune) bool {
	return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r)
}

func caseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', '^', '`', '\u00ad', '\u00b7', '\u2018', '\u2019', '\u2024', '\u2027':
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

// ftfyLite applies the ftfy.fix_text fixes (ftfy 6 defaults) that change
// CLIP tokens of ordinary web captions, in ftfy's order: HTML unescaping
// of complete entities when the text has no '<', terminal escapes removed,
// C1 controls read as Windows-1252, Latin ligatures and full-width forms
// replaced, curly quotes straightened, control characters removed. It
// does not repair mojibake or apply NFC normalisation.
func ftfyLite(s string) string {
	if !strings.Contains(s, "<") && strings.Contains(s, "&") {
		s = unescapeComplete(s)
	}
	if strings.Contains(s, "\x1b[") {
		s = removeTerminalEscapes(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	changed := false
	for _, r := range s {
		switch {
		case r >= 0x80 && r <= 0x9f:
			b.WriteRune(invalidCharrefs[int(r)])
		case ligatures[r] != "":
			b.WriteString(ligatures[r])
		case r >= 0xff01 && r <= 0xff5e:
			b.WriteRune(r - 0xff01 + 0x21)
		case r == 0x3000:
			b.WriteByte(' ')
		case fullwidthSigns[r] != 0:
			b.WriteRune(fullwidthSigns[r])
		case r == 0x02bc || (r >= 0x2018 && r <= 0x201b):
			b.WriteByte('\'')
		case r >= 0x201c && r <= 0x201f:
			b.WriteByte('"')
		case r <= 0x08 || r == 0x0b || (r >= 0x0e && r <= 0x1f) || r == 0x7f ||
			(r >= 0x206a && r <= 0x206f) || r == 0xfeff || (r >= 0xfff9 && r <= 0xfffc):
			// removed
		default:
			b.WriteRune(r)
			continue
		}
		changed = true
	}
	if !changed {
		return s
	}
	return b.String()
}

// ligatures are ftfy's Latin ligatures with their NFKC expansions.
var ligatures = map[rune]string{
	'Ĳ': "IJ", 'ĳ': "ij", 'Ŀ': "L·", 'ŀ': "l·", 'ŉ': "ʼn",
	'Ǆ': "DŽ", 'ǅ': "Dž", 'ǆ': "dž", 'Ǉ': "LJ", 'ǈ': "Lj", 'ǉ': "lj",
	'Ǌ': "NJ", 'ǋ': "Nj", 'ǌ': "nj", 'Ǳ': "DZ", 'ǲ': "Dz", 'ǳ': "dz",
	'ﬀ': "ff", 'ﬁ': "fi", 'ﬂ': "fl", 'ﬃ': "ffi", 'ﬄ': "ffl", 'ﬅ': "ſt", 'ﬆ': "st",
}

// fullwidthSigns are the full-width forms outside U+FF01..U+FF5E that
// ftfy's width fix maps.
var fullwidthSigns = map[rune]rune{
	0xff5f: 0x2985, 0xff60: 0x2986, 0xffe0: 0xa2, 0xffe1: 0xa3, 0xffe2: 0xac,
	0xffe3: 0xaf, 0xffe4: 0xa6, 0xffe5: 0xa5, 0xffe6: 0x20a9,
}

// removeTerminalEscapes drops ANSI escapes "\x1b[" digits/';' letter.
func removeTerminalEscapes(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "\x1b[")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		j := i + 2
		for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ';') {
			j++
		}
		if j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z') {
			s = s[j+1:]
			continue
		}
		b.WriteString(s[i:j])
		s = s[j:]
	}
}

// unescapeComplete is ftfy's unescape_html: only complete references
// matching &#?[0-9A-Za-z]{1,24}; are replaced.
func unescapeComplete(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '&')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		s = s[i:]
		j := 1
		if j < len(s) && s[j] == '#' {
			j++
		}
		k := j
		for k < len(s) && k-j < 24 && isASCIIAlnum(s[k]) {
			k++
		}
		if k == j || k >= len(s) || s[k] != ';' {
			b.WriteByte('&')
			s = s[1:]
			continue
		}
		ref := s[:k+1]
		s = s[k+1:]
		if v, ok := html5Entities[ref[1:]]; ok {
			b.WriteString(v)
		} else if strings.HasPrefix(ref, "&#") {
			u := pyUnescape(ref)
			if strings.Contains(u, ";") {
				u = ref
			}
			b.WriteString(u)
		} else {
			b.WriteString(ref)
		}
	}
}

func isASCIIAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// pyUnescape is Python's html.unescape.
func pyUnescape(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for {
		i := strings.IndexByte(s, '&')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		s = s[i+1:]
		n, repl, ok := charref(s)
		if !ok {
			b.WriteByte('&')
			continue
		}
		b.WriteString(repl)
		s = s[n:]
	}
}

// charref matches Python's _charref pattern after a '&' at the start of s,
// returning the length matched and its replacement.
func charref(s string) (n int, repl string, ok bool) {
	if strings.HasPrefix(s, "#") {
		hex := len(s) > 1 && (s[1] == 'x' || s[1] == 'X')
		start := 1
		if hex {
			start = 2
		}
		j := start
		for j < len(s) && (s[j] >= '0' && s[j] <= '9' || hex && (s[j] >= 'a' && s[j] <= 'f' || s[j] >= 'A' && s[j] <= 'F')) {
			j++
		}
		if j == start {
			return 0, "", false
		}
		digits := s[start:j]
		if j < len(s) && s[j] == ';' {
			j++
		}
		base := 10
		if hex {
			base = 16
		}
		num := int64(-1) // -1: too large
		if v, err := strconv.ParseInt(strings.TrimLeft(digits, "0")+"0", base, 64); err == nil {
			num = v / int64(base) // the appended "0" keeps "" parseable
		}
		switch {
		case num >= 0 && invalidCharrefs[int(num)] != 0:
			return j, string(invalidCharrefs[int(num)]), true
		case num == 0:
			return j, "\uFFFD", true
		case num < 0 || num > 0x10ffff || (num >= 0xd800 && num <= 0xdfff):
			return j, "\uFFFD", true
		case invalidCodepoints[int(num)]:
			return j, "", true
		}
		return j, string(rune(num)), true
	}
	// [^\t\n\f <&#;]{1,32};?
	j, runes := 0, 0
	for j < len(s) && runes < 32 {
		r, size := utf8.DecodeRuneInString(s[j:])
		if strings.ContainsRune("\t\n\f <&#;", r) {
			break
		}
		j += size
		runes++
	}
	if runes == 0 {
		return 0, "", false
	}
	if j < len(s) && s[j] == ';' {
		j++
	}
	name := s[:j]
	if v, ok := html5Entities[name]; ok {
		return j, v, true
	}
	// The longest prefix of at least two characters that is an entity.
	rs := []rune(name)
	for x := len(rs) - 1; x > 1; x-- {
		if v, ok := html5Entities[string(rs[:x])]; ok {
			return j, v + string(rs[x:]), true
		}
	}
	return 0, "", false
}
