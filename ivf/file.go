package ivf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/cespare/xxhash/v2"

	"github.com/laiondb/laiondb/internal/atomicfile"
	"github.com/laiondb/laiondb/vector"
)

// Index File
//
// An index file is little-endian: a 64-byte header, six sections one
// after the other, and an 8-byte trailer.
//
//	off  size  field
//	  0     8  magic "LDBIVF1\n"
//	  8     4  format version (2)
//	 12     4  dim
//	 16     4  lists (L)
//	 20     4  sub: bytes of a code (S); dim is a multiple
//	 24     8  rows indexed (N)
//	 32     4  groups of centres (G; 0 when the centres are in one level)
//	 36     4  rows of the matrix the index covers (C: Add's m.Len())
//	 40     8  vector.Fingerprint of those C rows
//	 48     8  zero
//	 56     8  xxhash64 of bytes [0, 56)
//
//	centres [L·dim]float32   unit centres
//	gcent   [G·dim]float32   unit centres of the groups
//	group   [L or 0]uint32   the group of each centre (none when G is 0)
//	books   [dim·256]float32 each piece's codewords, transposed
//	half    [S·256]float32   ½‖codeword‖²
//	counts  [L]uint32        rows in each list; they sum to N
//	ids     [N]uint32        each list's rows, list by list, increasing within a list
//	codes   [N·S]uint8       their codes, in the same order
//
// The trailer is the xxhash64 of the sections. Open reads the whole file
// and checks both hashes and the structure (counts summing to N, rows
// increasing within a list and below C), so a flipped bit or a truncated
// file is ErrCorrupt, and compares the fingerprint with the matrix it is
// given: other vectors are ErrStale. Write replaces a file atomically
// (internal/atomicfile). Version 1 (no C, no fingerprint) is not read.

const (
	fileMagic   = "LDBIVF1\n"
	fileVersion = 2
	headerSize  = 64
)

// ErrCorrupt is returned when an index file fails its checks.
var ErrCorrupt = errors.New("ivf: index file corrupt")

// ErrStale is returned by Open when the matrix is not the one the index
// was built over.
var ErrStale = errors.New("ivf: index built over other vectors")

// Write saves the index to path atomically.
// It records the fingerprint of the rows of the matrix the index covers.
func (ix *Index) Write(path string) error {
	ix.mu.RLock()
	covered, fp := ix.covered, ix.fingerprint
	if covered > 0 {
		fp = vector.Fingerprint(ix.m.Slice(0, covered))
	}
	err := ix.write(path, covered, fp)
	ix.mu.RUnlock()
	if err == nil {
		ix.mu.Lock()
		if ix.covered == covered {
			ix.fingerprint = fp
		}
		ix.mu.Unlock()
	}
	return err
}

// write is Write with the read lock held.
func (ix *Index) write(path string, covered int, fp uint64) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		h := make([]byte, headerSize)
		copy(h, fileMagic)
		binary.LittleEndian.PutUint32(h[8:], fileVersion)
		binary.LittleEndian.PutUint32(h[12:], uint32(ix.dim))
		binary.LittleEndian.PutUint32(h[16:], uint32(ix.Lists()))
		binary.LittleEndian.PutUint32(h[20:], uint32(ix.pq.sub))
		binary.LittleEndian.PutUint64(h[24:], uint64(ix.n))
		var group []uint32
		var gcent []float32
		if ix.groups != nil {
			gcent = ix.groups.cent
			group = make([]uint32, ix.Lists())
			for g, ms := range ix.groups.members {
				for _, j := range ms {
					group[j] = uint32(g)
				}
			}
			binary.LittleEndian.PutUint32(h[32:], uint32(len(ix.groups.members)))
		}
		binary.LittleEndian.PutUint32(h[36:], uint32(covered))
		binary.LittleEndian.PutUint64(h[40:], fp)
		binary.LittleEndian.PutUint64(h[56:], xxhash.Sum64(h[:56]))
		if _, err := w.Write(h); err != nil {
			return err
		}
		sum := xxhash.New()
		out := io.MultiWriter(w, sum)
		var buf []byte
		put := func(b []byte) error { _, err := out.Write(b); return err }
		f32 := func(xs []float32) error {
			buf = buf[:0]
			for _, x := range xs {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
			}
			return put(buf)
		}
		u32 := func(xs []uint32) error {
			buf = buf[:0]
			for _, x := range xs {
				buf = binary.LittleEndian.AppendUint32(buf, x)
			}
			return put(buf)
		}
		if err := f32(ix.cent); err != nil {
			return err
		}
		if err := f32(gcent); err != nil {
			return err
		}
		if err := u32(group); err != nil {
			return err
		}
		if err := f32(ix.pq.books); err != nil {
			return err
		}
		if err := f32(ix.pq.half); err != nil {
			return err
		}
		counts := make([]uint32, len(ix.ids))
		for j, ids := range ix.ids {
			counts[j] = uint32(len(ids))
		}
		if err := u32(counts); err != nil {
			return err
		}
		for _, ids := range ix.ids {
			if err := u32(ids); err != nil {
				return err
			}
		}
		for _, c := range ix.codes {
			if err := put(c); err != nil {
				return err
			}
		}
		_, err := w.Write(binary.LittleEndian.AppendUint64(nil, sum.Sum64()))
		return err
	})
}

// Open reads an index file; searches re-rank on m, the rows it indexes.
// m may have more rows than the index covers (rows added since), not
// fewer, and its first rows must be those the index was written over.
func Open(path string, m vector.Matrix) (*Index, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ivf: %w", err)
	}
	ix, err := decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if m.Dim != ix.dim {
		return nil, fmt.Errorf("ivf: %s indexes rows of %d dimensions, the matrix has %d", path, ix.dim, m.Dim)
	}
	if m.Len() < ix.covered || ix.covered > 0 && vector.Fingerprint(m.Slice(0, ix.covered)) != ix.fingerprint {
		return nil, fmt.Errorf("%s: %w (%d rows covered, the matrix has %d)", path, ErrStale, ix.covered, m.Len())
	}
	ix.m = m
	return ix, nil
}

// Verify checks the index file at path: its checksums and structure. It
// is what `laiondb check` runs; it does not need the vectors.
func Verify(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("ivf: %w", err)
	}
	if _, err := decode(b); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// decode parses and checks an index file's bytes.
func decode(b []byte) (*Index, error) {
	corrupt := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, a...))
	}
	if len(b) < headerSize+8 || string(b[:8]) != fileMagic {
		return nil, corrupt("not an index file (%d bytes)", len(b))
	}
	if xxhash.Sum64(b[:56]) != binary.LittleEndian.Uint64(b[56:]) {
		return nil, corrupt("header checksum mismatch")
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != fileVersion {
		return nil, corrupt("format version %d, this laiondb reads %d", v, fileVersion)
	}
	dim := int(binary.LittleEndian.Uint32(b[12:]))
	lists := int(binary.LittleEndian.Uint32(b[16:]))
	sub := int(binary.LittleEndian.Uint32(b[20:]))
	n64 := binary.LittleEndian.Uint64(b[24:])
	g := int(binary.LittleEndian.Uint32(b[32:]))
	covered := int(binary.LittleEndian.Uint32(b[36:]))
	if dim <= 0 || dim > 1<<16 || sub <= 0 || dim%sub != 0 || lists <= 0 || lists > 1<<24 || n64 > math.MaxUint32 || g > lists {
		return nil, corrupt("dim %d, %d lists in %d groups, codes of %d bytes, %d rows", dim, lists, g, sub, n64)
	}
	n, glists := int(n64), 0
	if g > 0 {
		glists = lists
	}
	sizes := []int{4 * lists * dim, 4 * g * dim, 4 * glists, 4 * dim * 256, 4 * sub * 256, 4 * lists, 4 * n, n * sub}
	want := headerSize + 8
	for _, s := range sizes {
		want += s
	}
	if len(b) != want {
		return nil, corrupt("%d bytes, the header implies %d", len(b), want)
	}
	body := b[headerSize : len(b)-8]
	if xxhash.Sum64(body) != binary.LittleEndian.Uint64(b[len(b)-8:]) {
		return nil, corrupt("checksum mismatch")
	}
	at := 0
	next := func(size int) []byte { s := body[at : at+size]; at += size; return s }
	f32 := func(s []byte) []float32 {
		xs := make([]float32, len(s)/4)
		for i := range xs {
			xs[i] = math.Float32frombits(binary.LittleEndian.Uint32(s[4*i:]))
		}
		return xs
	}
	u32 := func(s []byte) []uint32 {
		xs := make([]uint32, len(s)/4)
		for i := range xs {
			xs[i] = binary.LittleEndian.Uint32(s[4*i:])
		}
		return xs
	}
	ix := &Index{dim: dim, n: n, covered: covered, fingerprint: binary.LittleEndian.Uint64(b[40:])}
	ix.cent = f32(next(sizes[0]))
	if gcent, group := f32(next(sizes[1])), u32(next(sizes[2])); g > 0 {
		ix.groups = &groups{cent: gcent, members: make([][]int32, g)}
		for j, k := range group {
			if int(k) >= g {
				return nil, corrupt("centre %d in group %d of %d", j, k, g)
			}
			ix.groups.members[k] = append(ix.groups.members[k], int32(j))
		}
	}
	ix.pq = &pq{sub: sub, dsub: dim / sub, books: f32(next(sizes[3])), half: f32(next(sizes[4]))}
	counts := u32(next(sizes[5]))
	ids, codes := u32(next(sizes[6])), next(sizes[7])
	ix.ids, ix.codes = make([][]uint32, lists), make([][]byte, lists)
	off := 0
	for j, c := range counts {
		if int(c) > n-off {
			return nil, corrupt("list %d holds %d rows, past the %d in all", j, c, n)
		}
		l := ids[off : off+int(c) : off+int(c)]
		for i := range l {
			if i > 0 && l[i] <= l[i-1] {
				return nil, corrupt("list %d: row %d after row %d", j, l[i], l[i-1])
			}
			if int(l[i]) >= covered {
				return nil, corrupt("list %d: row %d, past the %d rows covered", j, l[i], covered)
			}
		}
		if len(l) > 0 {
			ix.end = max(ix.end, int(l[len(l)-1])+1)
		}
		ix.ids[j] = l
		ix.codes[j] = codes[off*sub : (off+int(c))*sub : (off+int(c))*sub]
		off += int(c)
	}
	if off != n {
		return nil, corrupt("the lists hold %d rows, the header says %d", off, n)
	}
	return ix, nil
}
