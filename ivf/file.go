package ivf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sync/atomic"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"github.com/edsrzf/mmap-go"

	"github.com/laiondb/laiondb/internal/atomicfile"
	"github.com/laiondb/laiondb/internal/readahead"
	"github.com/laiondb/laiondb/vector"
)

// Index File
//
// An index file is little-endian: a 64-byte header, a head of the small
// sections and each list's checksum, then every row's number and code.
//
//	off  size  field
//	  0     8  magic "LDBIVF1\n"
//	  8     4  format version (3)
//	 12     4  dim
//	 16     4  lists (L)
//	 20     4  sub: bytes of a code (S); dim is a multiple
//	 24     8  rows indexed (N)
//	 32     4  groups of centres (G; 0 when the centres are in one level)
//	 36     4  rows of the matrix the index covers (C: Add's m.Len())
//	 40     8  vector.Fingerprint of those C rows
//	 48     4  one past the last row indexed (E ≤ C)
//	 52     4  zero
//	 56     8  xxhash64 of bytes [0, 56)
//
//	head:
//	centres [L·dim]float32   unit centres
//	gcent   [G·dim]float32   unit centres of the groups
//	group   [L or 0]uint32   the group of each centre (none when G is 0)
//	books   [dim·256]float32 each piece's codewords, transposed
//	half    [S·256]float32   ½‖codeword‖²
//	counts  [L]uint32        rows in each list; they sum to N
//	sums    [L]uint64        xxhash64 of each list's ids, then its codes
//	        8                xxhash64 of the head
//	ids     [N]uint32        each list's rows, list by list, increasing within a list
//	codes   [N·S]uint8       their codes, in the same order
//
// Open maps the file and checks the header and the head: an index of
// hundreds of millions of rows opens in the time it takes to read its
// centres, not its codes. The rows and codes are used in place; each list
// is checked (its checksum, rows increasing and below E) the first time a
// search, an Add or a Write reads it, so a flipped bit is ErrCorrupt
// before it can change an answer. Verify checks every list. Other vectors
// than those the file covers are ErrStale. Write replaces a file
// atomically (internal/atomicfile). Versions 1 and 2 are not read:
// rebuild their indexes.

const (
	fileMagic   = "LDBIVF1\n"
	fileVersion = 3
	headerSize  = 64
)

// ErrCorrupt is returned when an index file fails its checks.
var ErrCorrupt = errors.New("ivf: index file corrupt")

// ErrStale is returned by Open when the matrix is not the one the index
// was built over.
var ErrStale = errors.New("ivf: index built over other vectors")

// Write saves the index to path atomically.
// It records the fingerprint of the rows of the matrix the index covers.
// Lists not checked since Open are checked first: a corrupt list is
// ErrCorrupt, never written under a new checksum.
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
	lists := ix.Lists()
	sums := make([]uint64, lists)
	for j := range sums {
		if err := ix.checkList(j); err != nil {
			return err
		}
		sums[j] = listSum(ix.ids[j], ix.codes[j])
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		h := make([]byte, headerSize)
		copy(h, fileMagic)
		binary.LittleEndian.PutUint32(h[8:], fileVersion)
		binary.LittleEndian.PutUint32(h[12:], uint32(ix.dim))
		binary.LittleEndian.PutUint32(h[16:], uint32(lists))
		binary.LittleEndian.PutUint32(h[20:], uint32(ix.pq.sub))
		binary.LittleEndian.PutUint64(h[24:], uint64(ix.n))
		var group []uint32
		var gcent []float32
		if ix.groups != nil {
			gcent = ix.groups.cent
			group = make([]uint32, lists)
			for g, ms := range ix.groups.members {
				for _, j := range ms {
					group[j] = uint32(g)
				}
			}
			binary.LittleEndian.PutUint32(h[32:], uint32(len(ix.groups.members)))
		}
		binary.LittleEndian.PutUint32(h[36:], uint32(covered))
		binary.LittleEndian.PutUint64(h[40:], fp)
		binary.LittleEndian.PutUint32(h[48:], uint32(ix.end))
		binary.LittleEndian.PutUint64(h[56:], xxhash.Sum64(h[:56]))
		if _, err := w.Write(h); err != nil {
			return err
		}
		head := xxhash.New()
		out := io.MultiWriter(w, head)
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
		counts := make([]uint32, lists)
		for j, ids := range ix.ids {
			counts[j] = uint32(len(ids))
		}
		for _, err := range []error{f32(ix.cent), f32(gcent), u32(group), f32(ix.pq.books), f32(ix.pq.half), u32(counts)} {
			if err != nil {
				return err
			}
		}
		buf = buf[:0]
		for _, s := range sums {
			buf = binary.LittleEndian.AppendUint64(buf, s)
		}
		if err := put(buf); err != nil {
			return err
		}
		if _, err := w.Write(binary.LittleEndian.AppendUint64(nil, head.Sum64())); err != nil {
			return err
		}
		for _, ids := range ix.ids {
			if _, err := w.Write(u32Bytes(ids)); err != nil {
				return err
			}
		}
		for _, c := range ix.codes {
			if _, err := w.Write(c); err != nil {
				return err
			}
		}
		return nil
	})
}

// listSum is a list's checksum: the xxhash64 of its rows' numbers (as
// little-endian bytes), then of its codes.
func listSum(ids []uint32, codes []byte) uint64 {
	var d xxhash.Digest
	d.Reset()
	d.Write(u32Bytes(ids))
	d.Write(codes)
	return d.Sum64()
}

// checkList checks list j, once, if the index was opened from a file:
// its checksum against the head's, its rows increasing and below the
// end the header records. Lists built in memory need no check.
func (ix *Index) checkList(j int) error {
	if ix.checked == nil || ix.checked[j].Load() {
		return nil
	}
	ids := ix.ids[j]
	if listSum(ids, ix.codes[j]) != ix.sums[j] {
		return fmt.Errorf("%w: %s: list %d: checksum mismatch", ErrCorrupt, ix.name, j)
	}
	for i, r := range ids {
		if i > 0 && r <= ids[i-1] {
			return fmt.Errorf("%w: %s: list %d: row %d after row %d", ErrCorrupt, ix.name, j, r, ids[i-1])
		}
		if int(r) >= ix.fileEnd {
			return fmt.Errorf("%w: %s: list %d: row %d, past the %d rows indexed", ErrCorrupt, ix.name, j, r, ix.fileEnd)
		}
	}
	ix.checked[j].Store(true)
	return nil
}

// Open maps an index file; searches re-rank on m, the rows it indexes.
// m may have more rows than the index covers (rows added since), not
// fewer, and its first rows must be those the index was written over.
// Close releases the mapping.
func Open(path string, m vector.Matrix) (*Index, error) {
	ix, err := load(path)
	if err != nil {
		return nil, err
	}
	if m.Dim != ix.dim {
		ix.Close()
		return nil, fmt.Errorf("ivf: %s indexes rows of %d dimensions, the matrix has %d", path, ix.dim, m.Dim)
	}
	if m.Len() < ix.covered || ix.covered > 0 && vector.Fingerprint(m.Slice(0, ix.covered)) != ix.fingerprint {
		ix.Close()
		return nil, fmt.Errorf("%s: %w (%d rows covered, the matrix has %d)", path, ErrStale, ix.covered, m.Len())
	}
	ix.m = m
	return ix, nil
}

// Verify checks the index file at path: its header, head and every list.
// It is what `laiondb check` runs; it does not need the vectors.
func Verify(path string) error {
	ix, err := load(path)
	if err != nil {
		return err
	}
	defer ix.Close()
	return ix.checkAll()
}

// checkAll checks every list not checked yet.
func (ix *Index) checkAll() error {
	for j := range ix.ids {
		if err := ix.checkList(j); err != nil {
			return err
		}
	}
	return nil
}

// Close releases the file mapping of an opened index; the index must not
// be used after. It does nothing for an index built in memory.
func (ix *Index) Close() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.mapping == nil {
		return nil
	}
	err := ix.mapping.Unmap()
	ix.mapping, ix.ids, ix.codes = nil, nil, nil
	return err
}

// load maps the file at path and decodes it.
func load(path string) (*Index, error) {
	if !littleEndian {
		return nil, fmt.Errorf("ivf: open %s: index files need a little-endian host", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ivf: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("ivf: %w", err)
	}
	if st.Size() < headerSize+8 {
		return nil, fmt.Errorf("%s: %w: not an index file (%d bytes)", path, ErrCorrupt, st.Size())
	}
	mm, err := mmap.Map(f, mmap.RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("ivf: open %s: mmap: %w", path, err)
	}
	// decode reads the header and the head: ask for the head's pages at
	// once rather than a fault's readahead at a time. The lists past it
	// are asked for by the searches that read them.
	readahead.Bytes(mm[:min(len(mm), headerSize+headLen(mm))])
	ix, err := decode(mm, path)
	if err != nil {
		mm.Unmap()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ix.mapping = mm
	return ix, nil
}

var littleEndian = func() bool { x := uint16(1); return *(*byte)(unsafe.Pointer(&x)) == 1 }()

// u32Bytes is the bytes of xs, little-endian on a little-endian host.
func u32Bytes(xs []uint32) []byte {
	if len(xs) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&xs[0])), 4*len(xs))
}

// u32View is b read as little-endian uint32s: in place when b is aligned
// (a mapped file's sections are), else a copy.
func u32View(b []byte) []uint32 {
	if len(b) == 0 {
		return nil
	}
	if uintptr(unsafe.Pointer(&b[0]))%4 == 0 {
		return unsafe.Slice((*uint32)(unsafe.Pointer(&b[0])), len(b)/4)
	}
	xs := make([]uint32, len(b)/4)
	for i := range xs {
		xs[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return xs
}

// f32View is b read as little-endian float32s, as u32View.
func f32View(b []byte) []float32 {
	u := u32View(b)
	if len(u) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&u[0])), len(u))
}

// headLen returns the length of the head the header of b describes, or 0
// if the header does not parse (decode then says why).
func headLen(b []byte) int {
	if len(b) < headerSize {
		return 0
	}
	dim := int(binary.LittleEndian.Uint32(b[12:]))
	lists := int(binary.LittleEndian.Uint32(b[16:]))
	sub := int(binary.LittleEndian.Uint32(b[20:]))
	g := int(binary.LittleEndian.Uint32(b[32:]))
	if dim > 1<<16 || lists > 1<<24 || sub > dim || g > lists {
		return 0
	}
	return 4*lists*dim + 4*g*dim + 4*lists + 4*dim*256 + 4*sub*256 + 4*lists + 8*lists + 8
}

// decode parses an index file's bytes and checks its header and head;
// the index uses b in place, and checks each list when it is first read.
// name is the file's name in error messages.
func decode(b []byte, name string) (*Index, error) {
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
		return nil, corrupt("format version %d, this laiondb reads %d: rebuild the index", v, fileVersion)
	}
	dim := int(binary.LittleEndian.Uint32(b[12:]))
	lists := int(binary.LittleEndian.Uint32(b[16:]))
	sub := int(binary.LittleEndian.Uint32(b[20:]))
	n64 := binary.LittleEndian.Uint64(b[24:])
	g := int(binary.LittleEndian.Uint32(b[32:]))
	covered := int(binary.LittleEndian.Uint32(b[36:]))
	end := int(binary.LittleEndian.Uint32(b[48:]))
	if dim <= 0 || dim > 1<<16 || sub <= 0 || dim%sub != 0 || lists <= 0 || lists > 1<<24 || n64 > math.MaxUint32 || g > lists || end > covered {
		return nil, corrupt("dim %d, %d lists in %d groups, codes of %d bytes, %d rows, end %d of %d covered", dim, lists, g, sub, n64, end, covered)
	}
	n, glists := int(n64), 0
	if g > 0 {
		glists = lists
	}
	sizes := []int{4 * lists * dim, 4 * g * dim, 4 * glists, 4 * dim * 256, 4 * sub * 256, 4 * lists, 8 * lists}
	headLen := 0
	for _, s := range sizes {
		headLen += s
	}
	if want := headerSize + headLen + 8 + 4*n + n*sub; len(b) != want {
		return nil, corrupt("%d bytes, the header implies %d", len(b), want)
	}
	head := b[headerSize : headerSize+headLen]
	if xxhash.Sum64(head) != binary.LittleEndian.Uint64(b[headerSize+headLen:]) {
		return nil, corrupt("head checksum mismatch")
	}
	at := 0
	next := func(size int) []byte { s := head[at : at+size : at+size]; at += size; return s }
	ix := &Index{dim: dim, n: n, covered: covered, end: end, fileEnd: end, fingerprint: binary.LittleEndian.Uint64(b[40:]), name: name}
	ix.cent = f32View(next(sizes[0]))
	if gcent, group := f32View(next(sizes[1])), u32View(next(sizes[2])); g > 0 {
		ix.groups = &groups{cent: gcent, members: make([][]int32, g)}
		for j, k := range group {
			if int(k) >= g {
				return nil, corrupt("centre %d in group %d of %d", j, k, g)
			}
			ix.groups.members[k] = append(ix.groups.members[k], int32(j))
		}
	}
	ix.pq = &pq{sub: sub, dsub: dim / sub, books: f32View(next(sizes[3])), half: f32View(next(sizes[4]))}
	counts := u32View(next(sizes[5]))
	sums := next(sizes[6])
	ix.sums = make([]uint64, lists)
	for j := range ix.sums {
		ix.sums[j] = binary.LittleEndian.Uint64(sums[8*j:])
	}
	body := b[headerSize+headLen+8:]
	ids, codes := u32View(body[:4*n]), body[4*n:]
	ix.ids, ix.codes = make([][]uint32, lists), make([][]byte, lists)
	ix.checked = make([]atomic.Bool, lists)
	off := 0
	for j, c := range counts {
		if int(c) > n-off {
			return nil, corrupt("list %d holds %d rows, past the %d in all", j, c, n)
		}
		ix.ids[j] = ids[off : off+int(c) : off+int(c)]
		ix.codes[j] = codes[off*sub : (off+int(c))*sub : (off+int(c))*sub]
		off += int(c)
	}
	if off != n {
		return nil, corrupt("the lists hold %d rows, the header says %d", off, n)
	}
	return ix, nil
}
