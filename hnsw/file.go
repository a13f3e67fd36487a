package hnsw

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"github.com/edsrzf/mmap-go"

	"github.com/laiondb/laiondb/internal/atomicfile"
	"github.com/laiondb/laiondb/internal/hugemem"
	"github.com/laiondb/laiondb/vector"
)

// Index Format
//
// An index file is little-endian. It starts with a 128-byte header:
//
//	off  size  field
//	  0     8  magic "LDBHNSW\n"
//	  8     4  format version (2; version 1 files, without the sq8 section, still open)
//	 12     4  dim: vector dimension
//	 16     4  M: links per node on layers >= 1 (layer 0 has 2M slots)
//	 20     4  efConstruction
//	 24     4  efSearch (the default of Search)
//	 28     4  flags: bit 0 set if the sq8 section is present (version 2)
//	 32     8  entry point: (top level+1)<<32 | row, or 0 for an empty graph
//	 40     8  seed of the level generator
//	 48     8  rows: store rows the graph covers (R)
//	 56     8  count: rows linked into the graph
//	 64     8  U: number of upper-layer slots
//	 72     8  fingerprint of the vectors the graph was built over (see Fingerprint)
//	 80    32  xxhash64 of each of the first four sections below, in order
//	112     8  xxhash64 of the sq8 section (version 2; zero in version 1)
//	120     8  xxhash64 of header bytes [0, 120)
//
// Then five sections (four in version 1), each starting at a multiple of
// 64 bytes (zero padding in between), and nothing after the last:
//
//	levels    [R]uint8       top layer of each row, 0xFF if the row is not in the graph
//	links0    [R*2M]uint32   layer-0 neighbours of each row; unused slots are 0xFFFFFFFF
//	                         and follow the used ones
//	upperOff  [R]uint32      for rows with level L > 0: offset in upper of their L*M
//	                         slots (layer 1 first); otherwise unused
//	upper     [U]uint32      upper-layer neighbours, same slot convention as links0
//	sq8       [dim]float32 lo, [dim]float32 step, [R*dim]uint8 codes: the SQ8
//	                         codes searches traverse the graph with (see vector.SQ8);
//	                         empty when flag bit 0 is clear
//
// Open maps the file and uses the sections in place: nothing is parsed or
// copied. It checks the header checksum and the section checksums (a
// sequential hash of the mapped bytes), so a flipped bit or a truncated
// file is ErrCorrupt. Write replaces a file atomically: it writes a
// temporary file in the same directory, fsyncs it, renames it over the
// old one and fsyncs the directory, so a crash leaves either the old file
// or the new one.

const (
	fileMagic   = "LDBHNSW\n"
	fileVersion = 2
	flagSQ8     = 1
	headerSize  = 128
	sectAlign   = 64
)

// ErrCorrupt is returned when an index file fails its checks.
var ErrCorrupt = errors.New("hnsw: index file corrupt")

// ErrStale is returned by Open when the vectors do not match the ones the
// index was built over; rebuild the index.
var ErrStale = errors.New("hnsw: index does not match the vectors")

var littleEndian = func() bool { x := uint16(1); return *(*byte)(unsafe.Pointer(&x)) == 1 }()

// mapping is a memory-mapped index file, and the anonymous memory
// (hugemem.Alloc) holding copies of the sections that searches read most.
type mapping struct {
	m    mmap.MMap
	huge []byte
}

func (mp *mapping) close() error {
	if mp == nil || mp.m == nil {
		return nil
	}
	err := mp.m.Unmap()
	if herr := hugemem.Free(mp.huge); err == nil {
		err = herr
	}
	mp.m, mp.huge = nil, nil
	return err
}

// minHuge is the size of the layer-0 links and SQ8 codes from which
// OpenOptions.HugePages copies them: below it they are few pages anyway.
var minHuge = 16 << 20

// hugeSections copies the layer-0 links and the SQ8 codes into huge pages
// (OpenOptions.HugePages) when they are large enough and the kernel
// offers them; otherwise they stay in the file mapping.
func (ix *Index) hugeSections(mp *mapping) {
	if ix.q8 == nil || len(ix.links0)*4+len(ix.q8.Codes) < minHuge {
		return
	}
	nl := len(ix.links0) * 4
	b, m := hugemem.Alloc(nl + len(ix.q8.Codes))
	if b == nil {
		return
	}
	links := unsafe.Slice((*uint32)(unsafe.Pointer(&b[0])), len(ix.links0))
	copy(links, ix.links0)
	copy(b[nl:], ix.q8.Codes)
	ix.links0 = links
	ix.q8.Codes = b[nl:len(b):len(b)]
	mp.huge = m
}

// makeWritable moves memory-mapped arrays to the heap so Add can modify
// them; the SQ8 codes get room for rows rows, so that extendSQ8 need not
// copy them again. The caller holds ix.mu for writing.
func (ix *Index) makeWritable(rows int) {
	if ix.mapped == nil {
		return
	}
	ix.levels = append([]uint8(nil), ix.levels...)
	ix.links0 = append([]uint32(nil), ix.links0...)
	ix.upperOff = append([]uint32(nil), ix.upperOff...)
	ix.upper = append([]uint32(nil), ix.upper...)
	if ix.q8 != nil {
		codes := make([]uint8, len(ix.q8.Codes), max(len(ix.q8.Codes), rows*ix.dim))
		copy(codes, ix.q8.Codes)
		ix.q8 = &vector.SQ8{Dim: ix.q8.Dim, Lo: append([]float32(nil), ix.q8.Lo...),
			Step: append([]float32(nil), ix.q8.Step...), Codes: codes}
	}
	ix.mapped.close()
	ix.mapped = nil
}

// Fingerprint returns a cheap fingerprint of m (vector.Fingerprint). An
// index records the fingerprint of the vectors it was built over, so that
// Open can tell a stale index.
func Fingerprint(m vector.Matrix) uint64 { return vector.Fingerprint(m) }

func u32Bytes(s []uint32) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), 4*len(s))
}

func f32Bits(s []float32) []uint32 {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*uint32)(unsafe.Pointer(&s[0])), len(s))
}

func alignUp(x int) int { return (x + sectAlign - 1) &^ (sectAlign - 1) }

// sectionLens returns the byte lengths of the five sections (the last is
// 0 without SQ8 codes).
func sectionLens(rows, m0, upper, dim int, sq8 bool) [5]int {
	l := [5]int{rows, 4 * rows * m0, 4 * rows, 4 * upper, 0}
	if sq8 {
		l[4] = 8*dim + rows*dim
	}
	return l
}

// layout returns the offsets of the sections and the file size; version 1
// files have the first four only.
func layout(lens [5]int, version int) (off [5]int, size int) {
	last := 4
	if version == 1 {
		last = 3
	}
	p := headerSize
	for i := 0; i <= last; i++ {
		off[i] = p
		p = alignUp(p + lens[i])
		if i == last {
			p = off[i] + lens[i]
		}
	}
	return off, p
}

// Fingerprint returns the fingerprint of the vectors the graph was last
// written or opened with (0 if it has not been written since the last Add).
func (ix *Index) Fingerprint() uint64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.fingerprint
}

// Write saves the index to path atomically (see "Index Format"). It waits
// for a running Add to finish and may run concurrently with Search.
func (ix *Index) Write(path string) error {
	if !littleEndian {
		return fmt.Errorf("hnsw: write %s: index files need a little-endian host", path)
	}
	ix.addMu.Lock()
	defer ix.addMu.Unlock()
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return ErrClosed
	}
	rows := len(ix.levels)
	fp := Fingerprint(ix.vecs.Slice(0, rows))
	var sq8 []byte
	var flags uint32
	if ix.q8 != nil && ix.q8.Len() >= rows {
		flags |= flagSQ8
		sq8 = make([]byte, 0, 8*ix.dim+rows*ix.dim)
		sq8 = append(sq8, u32Bytes(f32Bits(ix.q8.Lo))...)
		sq8 = append(sq8, u32Bytes(f32Bits(ix.q8.Step))...)
		sq8 = append(sq8, ix.q8.Codes[:rows*ix.dim]...)
	}
	sects := [5][]byte{ix.levels, u32Bytes(ix.links0), u32Bytes(ix.upperOff), u32Bytes(ix.upper), sq8}
	var hdr [headerSize]byte
	copy(hdr[:], fileMagic)
	le := binary.LittleEndian
	le.PutUint32(hdr[8:], fileVersion)
	le.PutUint32(hdr[12:], uint32(ix.dim))
	le.PutUint32(hdr[16:], uint32(ix.m))
	le.PutUint32(hdr[20:], uint32(ix.opts.EfConstruction))
	le.PutUint32(hdr[24:], uint32(ix.opts.EfSearch))
	le.PutUint32(hdr[28:], flags)
	le.PutUint64(hdr[32:], ix.ep.Load())
	le.PutUint64(hdr[40:], ix.opts.Seed)
	le.PutUint64(hdr[48:], uint64(rows))
	le.PutUint64(hdr[56:], uint64(ix.count))
	le.PutUint64(hdr[64:], uint64(len(ix.upper)))
	le.PutUint64(hdr[72:], fp)
	for i, s := range sects {
		le.PutUint64(hdr[80+8*i:], xxhash.Sum64(s))
	}
	le.PutUint64(hdr[120:], xxhash.Sum64(hdr[:120]))

	off, _ := layout(sectionLens(rows, ix.m0, len(ix.upper), ix.dim, flags&flagSQ8 != 0), fileVersion)
	err := atomicfile.Write(path, func(w io.Writer) error {
		if _, err := w.Write(hdr[:]); err != nil {
			return err
		}
		pos := headerSize
		var pad [sectAlign]byte
		for i, s := range sects {
			if _, err := w.Write(pad[:off[i]-pos]); err != nil {
				return err
			}
			if _, err := w.Write(s); err != nil {
				return err
			}
			pos = off[i] + len(s)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("hnsw: write %s: %w", path, err)
	}
	ix.fingerprint = fp
	return nil
}

// OpenOptions tune OpenWith. The zero value opens as Open does.
type OpenOptions struct {
	// HugePages copies the layer-0 links and the SQ8 codes, which a search
	// reads at random, one node at a time, out of the file mapping into
	// memory backed by 2 MiB pages, where the kernel offers them (package
	// internal/hugemem), from 16 MiB of them up. From the page cache's 4 KiB
	// pages nearly every node visited costs a page walk: on 1M CLIP-like
	// vectors, 3 alternated runs, image queries at ef 32 went from
	// 5,042–5,678 to 5,452–6,574 QPS and text at ef 512 from 518–558 to
	// 608–687 (BENCHMARKS.md, "HNSW seeds from the upper layers"). Open
	// then reads those sections and waits for the kernel to find 2 MiB
	// pages: open and first query took 0.26–2.19 s for the 650 MB of a
	// 1M index with the page cache full of other files, against
	// 0.12–0.88 s without. The process then holds them in anonymous
	// memory. It is for processes that answer many searches (laiondb
	// serve), not for one query.
	HugePages bool
}

// Open memory-maps the index file at path over the vectors m (row i of m is
// graph row i). It verifies the file's checksums (ErrCorrupt) and that m is
// the matrix the index was built over (ErrStale). m may have more rows than
// the index covers (rows ingested since); Add links them. Close releases
// the mapping.
func Open(path string, m vector.Matrix) (*Index, error) { return OpenWith(path, m, nil) }

// OpenWith is Open with options; nil means the zero OpenOptions.
func OpenWith(path string, m vector.Matrix, oo *OpenOptions) (*Index, error) {
	ix, err := open(path)
	if err != nil {
		return nil, err
	}
	if m.Dim != ix.dim {
		ix.Close()
		return nil, fmt.Errorf("hnsw: open %s: %w: vectors have %d dimensions, index %d", path, vector.ErrDimension, m.Dim, ix.dim)
	}
	rows := len(ix.levels)
	if m.Len() < rows || Fingerprint(m.Slice(0, rows)) != ix.fingerprint {
		ix.Close()
		return nil, fmt.Errorf("hnsw: open %s: %w (rebuild it)", path, ErrStale)
	}
	ix.vecs = m
	if oo != nil && oo.HugePages {
		ix.hugeSections(ix.mapped)
	}
	return ix, nil
}

// Verify checks the index file at path: header, checksums, and that every
// link points at a row in the graph. It is what `laiondb check` runs; it
// does not need the vectors.
func Verify(path string) error {
	ix, err := open(path)
	if err != nil {
		return err
	}
	defer ix.Close()
	rows := uint32(len(ix.levels))
	bad := func(format string, args ...any) error {
		return fmt.Errorf("hnsw: verify %s: %w: %s", path, ErrCorrupt, fmt.Sprintf(format, args...))
	}
	count := 0
	for id, lv := range ix.levels {
		if lv == absent {
			for _, v := range ix.slots(uint32(id), 0) {
				if v != none {
					return bad("row %d is not in the graph but has links", id)
				}
			}
			continue
		}
		count++
		for lc := 0; lc <= int(lv); lc++ {
			ended := false
			for _, v := range ix.slots(uint32(id), lc) {
				switch {
				case v == none:
					ended = true
				case ended:
					return bad("row %d layer %d: link after an empty slot", id, lc)
				case v >= rows || ix.levels[v] == absent || int(ix.levels[v]) < lc:
					return bad("row %d layer %d: link to row %d, which is not on that layer", id, lc, v)
				case v == uint32(id):
					return bad("row %d layer %d: self link", id, lc)
				}
			}
		}
	}
	if count != ix.count {
		return bad("header says %d rows in the graph, levels hold %d", ix.count, count)
	}
	return nil
}

// open maps and checks a file, leaving ix.vecs unset.
func open(path string) (_ *Index, err error) {
	if !littleEndian {
		return nil, fmt.Errorf("hnsw: open %s: index files need a little-endian host", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("hnsw: open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("hnsw: open %s: %w", path, err)
	}
	corrupt := func(format string, args ...any) error {
		return fmt.Errorf("hnsw: open %s: %w: %s", path, ErrCorrupt, fmt.Sprintf(format, args...))
	}
	if st.Size() < headerSize {
		return nil, corrupt("%d bytes, shorter than the header", st.Size())
	}
	var hdr [headerSize]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		return nil, fmt.Errorf("hnsw: open %s: %w", path, err)
	}
	le := binary.LittleEndian
	if string(hdr[:8]) != fileMagic {
		return nil, corrupt("not an index file (bad magic)")
	}
	if xxhash.Sum64(hdr[:120]) != le.Uint64(hdr[120:]) {
		return nil, corrupt("header checksum mismatch")
	}
	version := int(le.Uint32(hdr[8:]))
	if version != 1 && version != fileVersion {
		return nil, fmt.Errorf("hnsw: open %s: unsupported format version %d (want 1 or %d)", path, version, fileVersion)
	}
	flags := le.Uint32(hdr[28:])
	if (version == 1 && (flags != 0 || le.Uint64(hdr[112:]) != 0)) || flags&^flagSQ8 != 0 {
		return nil, corrupt("unknown flags %#x", flags)
	}
	o := Options{
		M:              int(le.Uint32(hdr[16:])),
		EfConstruction: int(le.Uint32(hdr[20:])),
		EfSearch:       int(le.Uint32(hdr[24:])),
		Seed:           le.Uint64(hdr[40:]),
	}
	dim := int(le.Uint32(hdr[12:]))
	ix, err := New(dim, &o)
	if err != nil {
		return nil, corrupt("%v", err)
	}
	ep := le.Uint64(hdr[32:])
	rows, count, upper := le.Uint64(hdr[48:]), le.Uint64(hdr[56:]), le.Uint64(hdr[64:])
	if rows >= 1<<32 || count > rows || upper >= 1<<32 {
		return nil, corrupt("impossible sizes: rows %d, count %d, upper %d", rows, count, upper)
	}
	lens := sectionLens(int(rows), ix.m0, int(upper), dim, flags&flagSQ8 != 0)
	off, size := layout(lens, version)
	if int64(size) != st.Size() {
		return nil, corrupt("file is %d bytes, header implies %d (truncated?)", st.Size(), size)
	}
	mm, err := mmap.Map(f, mmap.RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("hnsw: open %s: mmap: %w", path, err)
	}
	mp := &mapping{m: mm}
	defer func() {
		if err != nil {
			mp.close()
		}
	}()
	data := []byte(mm)
	nsect := 5
	if version == 1 {
		nsect = 4
	}
	for i := range nsect {
		if xxhash.Sum64(data[off[i]:off[i]+lens[i]]) != le.Uint64(hdr[80+8*i:]) {
			return nil, corrupt("section %d checksum mismatch", i)
		}
	}
	for i := 0; i < nsect-1; i++ {
		for _, b := range data[off[i]+lens[i] : off[i+1]] {
			if b != 0 {
				return nil, corrupt("non-zero padding after section %d", i)
			}
		}
	}
	u32 := func(b []byte) []uint32 {
		if len(b) == 0 {
			return nil
		}
		return unsafe.Slice((*uint32)(unsafe.Pointer(&b[0])), len(b)/4)
	}
	ix.levels = data[off[0] : off[0]+lens[0] : off[0]+lens[0]]
	ix.links0 = u32(data[off[1] : off[1]+lens[1]])
	ix.upperOff = u32(data[off[2] : off[2]+lens[2]])
	ix.upper = u32(data[off[3] : off[3]+lens[3]])
	if lens[4] > 0 {
		p := data[off[4] : off[4]+lens[4]]
		f32 := func(b []byte) []float32 { return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(b)/4) }
		ix.q8 = &vector.SQ8{Dim: dim, Lo: f32(p[:4*dim]), Step: f32(p[4*dim : 8*dim]), Codes: p[8*dim:]}
	}
	ix.count = int(count)
	ix.fingerprint = le.Uint64(hdr[72:])
	// Structural checks that keep Search from indexing out of range.
	n := 0
	for id, lv := range ix.levels {
		if lv == absent {
			continue
		}
		n++
		if lv >= maxLevel {
			return nil, corrupt("row %d has level %d", id, lv)
		}
		if lv > 0 && uint64(ix.upperOff[id])+uint64(lv)*uint64(ix.m) > upper {
			return nil, corrupt("row %d: upper-layer slots out of range", id)
		}
	}
	if n != int(count) {
		return nil, corrupt("header says %d rows in the graph, levels hold %d", count, n)
	}
	if ep != 0 {
		id, lv := uint32(ep), int(ep>>32)-1
		if uint64(id) >= rows || ix.levels[id] == absent || int(ix.levels[id]) != lv {
			return nil, corrupt("bad entry point %d at level %d", id, lv)
		}
	} else if count > 0 {
		return nil, corrupt("no entry point in a non-empty graph")
	}
	ix.ep.Store(ep)
	ix.mapped = mp
	return ix, nil
}

// Close releases the index's file mapping. Searches after Close return
// ErrClosed. Close waits for running Searches and Adds.
func (ix *Index) Close() error {
	ix.addMu.Lock()
	defer ix.addMu.Unlock()
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.closed {
		return nil
	}
	ix.closed = true
	err := ix.mapped.close()
	ix.mapped = nil
	ix.levels, ix.links0, ix.upperOff, ix.upper, ix.q8 = nil, nil, nil, nil, nil
	ix.ep.Store(0)
	ix.count = 0
	if err != nil {
		return fmt.Errorf("hnsw: close: %w", err)
	}
	return nil
}
