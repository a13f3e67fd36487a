package engine

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"

	"github.com/cespare/xxhash/v2"

	"github.com/laiondb/laiondb/query"
	"github.com/laiondb/laiondb/table"
)

// A list file (col in file('path')) holds one value a line; a trailing CR
// is dropped and empty lines are skipped. Strings are held in the file's
// own bytes (URLs normalised in place) with 8 bytes of bounds a value and
// a hash table of 4-byte slots at most half full; numbers as a sorted
// array. Membership is exact: a hash hit is confirmed by comparing
// the bytes.

// stringSet is a set of byte strings, held in the list file's own bytes.
type stringSet struct {
	arena []byte   // the file, URLs normalised in place
	start []uint32 // entry i is arena[start[i]:end[i]]
	end   []uint32
	slots []uint32 // open addressing: entry index + 1, 0 empty
	mask  uint64
	url   bool // values are normalised as URLs before lookup
}

func (s *stringSet) entry(i int) []byte { return s.arena[s.start[i]:s.end[i]] }

// find returns the slot of v, and whether v is there (else the slot is the
// empty one where it would go).
func (s *stringSet) find(v []byte) (uint64, bool) {
	for j := xxhash.Sum64(v) & s.mask; ; j = (j + 1) & s.mask {
		e := s.slots[j]
		if e == 0 {
			return j, false
		}
		if bytes.Equal(s.entry(int(e-1)), v) {
			return j, true
		}
	}
}

func (s *stringSet) has(v []byte) bool {
	_, ok := s.find(v)
	return ok
}

// add inserts arena[lo:hi] unless present.
func (s *stringSet) add(lo, hi int) {
	j, ok := s.find(s.arena[lo:hi])
	if ok {
		return
	}
	s.start = append(s.start, uint32(lo))
	s.end = append(s.end, uint32(hi))
	s.slots[j] = uint32(len(s.start))
	if len(s.start)*2 > len(s.slots) {
		s.resize(len(s.slots) * 2)
	}
}

// resize rebuilds the hash table with at least n slots (a power of two).
func (s *stringSet) resize(n int) {
	size := 16
	for size < n {
		size <<= 1
	}
	s.slots = make([]uint32, size)
	s.mask = uint64(size - 1)
	for i := range s.start {
		j := xxhash.Sum64(s.entry(i)) & s.mask
		for s.slots[j] != 0 {
			j = (j + 1) & s.mask
		}
		s.slots[j] = uint32(i + 1)
	}
}

// lines calls fn with the bounds of each line of b (a trailing CR dropped,
// empty lines skipped) and its number.
func lines(b []byte, fn func(lo, hi, n int) error) error {
	for pos, n := 0, 1; pos < len(b); n++ {
		hi := len(b)
		if i := bytes.IndexByte(b[pos:], '\n'); i >= 0 {
			hi = pos + i
		}
		lo, next := pos, hi+1
		if hi > lo && b[hi-1] == '\r' {
			hi--
		}
		pos = next
		if hi == lo {
			continue
		}
		if err := fn(lo, hi, n); err != nil {
			return err
		}
	}
	return nil
}

// newStringSet reads a list of strings.
func newStringSet(path string, url bool) (*stringSet, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) >= math.MaxUint32 {
		return nil, fmt.Errorf("%s: %d bytes; lists up to 4 GiB are supported", path, len(b))
	}
	s := &stringSet{url: url, arena: b}
	s.resize(max(16, len(b)/40*2))
	err = lines(b, func(lo, hi, _ int) error {
		if url {
			hi = lo + len(normalizeURL(b[lo:lo], b[lo:hi]))
		}
		s.add(lo, hi)
		return nil
	})
	return s, err
}

// normalizeURL appends u to dst with its scheme and host in lower case and
// one trailing slash dropped: "HTTP://Img.Example.com/a/" becomes
// "http://img.example.com/a". A value without "scheme://" only loses its
// trailing slash.
func normalizeURL(dst, u []byte) []byte {
	start := len(dst)
	dst = append(dst, u...)
	v := dst[start:]
	if k := bytes.Index(v, []byte("://")); k > 0 {
		end := len(v)
		if e := bytes.IndexAny(v[k+3:], "/?#"); e >= 0 {
			end = k + 3 + e
		}
		for i := 0; i < end; i++ {
			if c := v[i]; 'A' <= c && c <= 'Z' {
				v[i] = c + 'a' - 'A'
			}
		}
	}
	if len(v) > 1 && v[len(v)-1] == '/' {
		dst = dst[:len(dst)-1]
	}
	return dst
}

// numberSet is a sorted set of numbers read from a list.
type numberSet[T int64 | float64] []T

func (s numberSet[T]) has(x T) bool {
	_, ok := slices.BinarySearch(s, x)
	return ok
}

// newNumberSet reads a list of numbers with parse; a line that is not a
// number is an error naming the file and line.
func newNumberSet[T int64 | float64](path string, what string, parse func(string) (T, error)) (numberSet[T], error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out numberSet[T]
	err = lines(b, func(lo, hi, n int) error {
		line := b[lo:hi]
		x, err := parse(string(bytes.TrimSpace(line)))
		if err != nil {
			return fmt.Errorf("%s, line %d: %q is not %s", path, n, line, what)
		}
		out = append(out, x)
		return nil
	})
	slices.Sort(out)
	return slices.Compact(out), err
}

// listMatch compiles "col in file(...)" for a column of type t, and
// returns how many distinct values the list holds.
func listMatch(t table.Type, lf *query.ListFile) (func(ec *evalCtx, c *table.Column, m []uint64), int, error) {
	switch t {
	case table.TypeString:
		s, err := newStringSet(lf.Path, lf.Mode == "url")
		if err != nil {
			return nil, 0, err
		}
		return func(ec *evalCtx, c *table.Column, m []uint64) {
			if c.Type != table.TypeString {
				return
			}
			var buf []byte
			for i := 0; i < ec.n; i++ {
				v := c.Str.At(i)
				if s.url {
					buf = normalizeURL(buf[:0], v)
					v = buf
				}
				if s.has(v) {
					setBit(m, i)
				}
			}
		}, len(s.start), nil
	case table.TypeInt:
		s, err := newNumberSet(lf.Path, "an integer", func(v string) (int64, error) { return strconv.ParseInt(v, 10, 64) })
		if err != nil {
			return nil, 0, err
		}
		return func(ec *evalCtx, c *table.Column, m []uint64) {
			for i := 0; i < ec.n; i++ {
				if s.has(c.Int[i]) {
					setBit(m, i)
				}
			}
		}, len(s), nil
	case table.TypeFloat:
		s, err := newNumberSet(lf.Path, "a number", func(v string) (float64, error) {
			x, err := strconv.ParseFloat(v, 64)
			if err == nil && math.IsNaN(x) {
				err = fmt.Errorf("NaN")
			}
			return x, err
		})
		if err != nil {
			return nil, 0, err
		}
		return func(ec *evalCtx, c *table.Column, m []uint64) {
			for i := 0; i < ec.n; i++ {
				if s.has(c.Float[i]) {
					setBit(m, i)
				}
			}
		}, len(s), nil
	}
	return nil, 0, fmt.Errorf("a list cannot hold %s values", t)
}
