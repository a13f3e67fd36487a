package engine

// urlHost appends to dst the host of URL u as Python 3.11's
// urllib.parse.urlsplit(u).hostname gives it, and reports whether there is
// one (hostname is None otherwise): leading C0 controls and spaces are
// dropped and tab, CR and LF removed anywhere; a scheme is letters, digits,
// '+', '-' and '.' starting with a letter, before the first ':'; the netloc
// follows "//" up to the first '/', '?' or '#'; the host is what follows
// its last '@', up to a ':' (or, for "[v6]", inside the brackets), in
// lower case as Python's str.lower() (but for a scoped IPv6 address's
// zone, after '%'). Where Python raises ValueError (a '[' without its ']')
// the host is the rest of the netloc.
func urlHost(u []byte, dst []byte) ([]byte, bool) {
	// Leading C0 control or space.
	i := 0
	for i < len(u) && u[i] <= ' ' {
		i++
	}
	s := u[i:]
	if hasUnsafe(s) {
		t := make([]byte, 0, len(s))
		for _, c := range s {
			if c != '\t' && c != '\r' && c != '\n' {
				t = append(t, c)
			}
		}
		s = t
	}
	if k := indexByte(s, ':'); k > 0 && isAlpha(s[0]) {
		ok := true
		for _, c := range s[:k] {
			if !isAlpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.' {
				ok = false
				break
			}
		}
		if ok {
			s = s[k+1:]
		}
	}
	if len(s) < 2 || s[0] != '/' || s[1] != '/' {
		return dst, false
	}
	s = s[2:]
	end := len(s)
	for j, c := range s {
		if c == '/' || c == '?' || c == '#' {
			end = j
			break
		}
	}
	netloc := s[:end]
	if k := lastIndexByte(netloc, '@'); k >= 0 {
		netloc = netloc[k+1:]
	}
	var host []byte
	if k := indexByte(netloc, '['); k >= 0 {
		rest := netloc[k+1:]
		if e := indexByte(rest, ']'); e >= 0 {
			host = rest[:e]
		} else {
			host = rest
		}
	} else if k := indexByte(netloc, ':'); k >= 0 {
		host = netloc[:k]
	} else {
		host = netloc
	}
	if len(host) == 0 {
		return dst, false
	}
	// A scoped IPv6 address keeps its zone's case.
	if k := indexByte(host, '%'); k >= 0 {
		return append(appendPyLower(dst, host[:k]), host[k:]...), true
	}
	return appendPyLower(dst, host), true
}

func hasUnsafe(s []byte) bool {
	for _, c := range s {
		if c == '\t' || c == '\r' || c == '\n' {
			return true
		}
	}
	return false
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func indexByte(s []byte, c byte) int {
	for i, x := range s {
		if x == c {
			return i
		}
	}
	return -1
}

func lastIndexByte(s []byte, c byte) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == c {
			return i
		}
	}
	return -1
}
