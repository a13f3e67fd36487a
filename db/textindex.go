package db

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/cespare/xxhash/v2"

	"github.com/laiondb/laiondb/engine"
	"github.com/laiondb/laiondb/internal/atomicfile"
	"github.com/laiondb/laiondb/table"
	"github.com/laiondb/laiondb/vector"
)

// The text index: for each segment and each indexed column, a file
// textidx/s<segment>.c<column id>.tri listing, for every trigram of the
// column's folded text (engine.AppendFoldedText: Python's str() lowered by
// str.lower(), in UTF-8), the segment's rows whose folded value holds it,
// as a Roaring bitmap of row numbers within the segment. The engine uses
// it to narrow contains, has word, matches and lexicon predicates to
// candidate rows, and evaluates the predicates exactly on them
// (engine.TextIndexer), so answers never depend on it.
//
// The index follows segments, not metadata databases: merging databases
// (meta.go) moves no row between segments, so a segment's file stays
// valid through merges and is never rewritten. The manifest lists the
// indexed columns (Manifest.Trigrams) and each segment's files with their
// size and xxhash64 (Segment.Trigrams); a segment without a file for an
// indexed column (an ingest with NoIndex, an interrupted build) has all
// its rows as candidates until BuildTextIndex indexes it. A file whose size,
// header or directory is wrong, or one of whose postings fails its CRC, is
// not used from then on (a warning says so; its segment is scanned); Check
// compares every file with the manifest's digest.
//
// File format 3, little-endian:
//
//	magic    "LDBTRI3\n"
//	rows     uint32   rows of the segment
//	shift    uint32   a unit is 1<<shift consecutive rows of the segment
//	n        uint32   number of trigrams
//	dircrc   uint32   CRC-32C of dir
//	dir      n × { trigram uint32 (b0<<16 | b1<<8 | b2), end uint64, crc uint32 }
//	         sorted by trigram; end is where its posting ends in data, crc
//	         the CRC-32C of its bytes
//	data     the postings (posting.go): each the units holding the trigram
//
// A posting lists units of 1<<shift rows; files written now have units of
// one row (textUnitShift). A trigram in more than 1/20 of the units of a
// segment of 4,096 units or more is not listed: its posting says "every
// unit" (posting.go, frequentTrigram).
//
// Opening a file checks its size, header and directory; each posting is
// checked against its CRC when a query reads it, so a query reads only the
// postings it needs (a whole-file digest at every open read the 7.6 GB
// index of a 100M-row store in 17 s before a query could start). Check
// verifies the whole file against the manifest's digest. Formats 1
// ("LDBTRI1\n") and 2 ("LDBTRI2\n"), written before, are still read: they
// have no shift (a unit is a row) and hold Roaring bitmaps in Roaring's
// portable serialization, format 2 with a CRC per bitmap as format 3,
// format 1 with a directory of { trigram, end } without CRCs, whose digest
// is verified when it is opened.

// trigramMagic starts every text index file written now; trigramMagic2
// and trigramMagic1 the files of formats 2 and 1.
const (
	trigramMagic  = "LDBTRI3\n"
	trigramMagic2 = "LDBTRI2\n"
	trigramMagic1 = "LDBTRI1\n"
)

// textUnitShift is the unit of the postings written: 1<<0, one row. On
// LAION-like captions (bench.GenerateLAIONRows, 1M rows), units of 1, 2, 4
// and 8 rows made indexes (Elias–Fano, every trigram listed) of 0.80,
// 0.68, 0.54 and 0.41 times the captions' bytes; but a unit of 4 rows
// makes 4 times the candidates, each verified by reading its row: a needle
// in 0.05% of the rows cost 3.6 ms of CPU instead of 1.6 ms through a store
// of 1M rows. Leaving out the frequent trigrams (frequentTrigram) keeps
// units of one row under 0.6 times the column's bytes.
const textUnitShift = 0

// trigramDir is the text index's subdirectory of the store.
const trigramDir = "textidx"

// TrigramInfo describes the text index in the manifest.
type TrigramInfo struct {
	// Columns are the indexed columns; ingests index them in new segments.
	Columns []string `json:"columns"`
}

// TrigramFile is one segment's text index file of one column.
type TrigramFile struct {
	Column string `json:"column"`
	// File is the path relative to the store (textidx/s00000003.c0002.tri).
	File string `json:"file"`
	Size int64  `json:"size"`
	// Sum is the xxhash64 of the file's bytes.
	Sum string `json:"sum"`
}

// trigramFile returns the segment's file for column col, or nil.
func (s *Segment) trigramFile(col string) *TrigramFile {
	for i := range s.Trigrams {
		if s.Trigrams[i].Column == col {
			return &s.Trigrams[i]
		}
	}
	return nil
}

// trigramKey packs a trigram into the file's key.
func trigramKey(g engine.Trigram) uint32 {
	return uint32(g[0])<<16 | uint32(g[1])<<8 | uint32(g[2])
}

// TextIndexOptions are the parameters of BuildTextIndex.
type TextIndexOptions struct {
	// Columns are the columns to index, added to those indexed already;
	// none means just those (to index the segments they lack).
	Columns []string
	// Progress, when set, is called with the rows indexed so far (each
	// row once per column).
	Progress func(done, total int64)
}

// BuildTextIndex indexes the trigrams of the given columns (and those
// indexed already) in every segment that lacks their file. Each segment's
// file is committed to the manifest as soon as it is written, so an
// interrupted build resumes where it stopped. It stops when ctx is
// cancelled.
func (d *DB) BuildTextIndex(ctx context.Context, o *TextIndexOptions) error {
	if d.opts.ReadOnly {
		return ErrReadOnly
	}
	var opts TextIndexOptions
	if o != nil {
		opts = *o
	}
	d.ingestMu.Lock()
	defer d.ingestMu.Unlock()
	return d.buildTextIndex(ctx, opts)
}

// buildTextIndex is BuildTextIndex with ingestMu held.
func (d *DB) buildTextIndex(ctx context.Context, o TextIndexOptions) error {
	m, err := d.snapshot()
	if err != nil {
		return err
	}
	var cols []string
	if m.Trigrams != nil {
		cols = slices.Clone(m.Trigrams.Columns)
	}
	for _, c := range o.Columns {
		name := strings.ToLower(c)
		if m.column(name) == nil {
			var have []string
			for _, mc := range m.Columns {
				have = append(have, mc.Name)
			}
			return fmt.Errorf("db: text index: no column %q (the store has: %s)", c, strings.Join(have, ", "))
		}
		if !slices.Contains(cols, name) {
			cols = append(cols, name)
		}
	}
	if len(cols) == 0 {
		return nil
	}
	if m.Trigrams == nil || !slices.Equal(m.Trigrams.Columns, cols) {
		next := m.clone()
		next.Trigrams = &TrigramInfo{Columns: cols}
		if err := d.commit(next); err != nil {
			return fmt.Errorf("db: recording the text index: %w", err)
		}
		m = next
	}
	var total, done int64
	for i := range m.Segments {
		for _, c := range cols {
			if m.Segments[i].trigramFile(c) == nil {
				total += m.Segments[i].Rows
			}
		}
	}
	if err := os.MkdirAll(filepath.Join(d.dir, trigramDir), 0o755); err != nil {
		return fmt.Errorf("db: text index: %w", err)
	}
	for i := range m.Segments {
		for _, c := range cols {
			s := &m.Segments[i]
			if s.trigramFile(c) != nil {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			tf, err := d.writeTrigramFile(ctx, m, s, c)
			if err != nil {
				return fmt.Errorf("db: text index of %s, column %s: %w", s.Name, c, err)
			}
			next := m.clone()
			ns := &next.Segments[i]
			ns.Trigrams = append(slices.Clone(ns.Trigrams), *tf)
			if err := d.commit(next); err != nil {
				return fmt.Errorf("db: recording the text index of %s: %w", s.Name, err)
			}
			m = next
			done += s.Rows
			if o.Progress != nil {
				o.Progress(done, total)
			}
		}
	}
	return nil
}

// commit writes the manifest next and makes it the store's.
func (d *DB) commit(next *Manifest) error {
	if err := writeManifest(d.dir, next); err != nil {
		return err
	}
	d.mu.Lock()
	d.man = next
	d.mu.Unlock()
	return nil
}

// writeTrigramFile builds segment s's index of column col and writes it.
// The postings are encoded in two halves of the trigrams at once.
func (d *DB) writeTrigramFile(ctx context.Context, m *Manifest, s *Segment, col string) (*TrigramFile, error) {
	sp, err := d.segmentTrigrams(ctx, m, s, col, textUnitShift)
	if err != nil {
		return nil, err
	}
	mc := m.column(col)
	tf := &TrigramFile{Column: col, File: fmt.Sprintf("%s/s%08d.c%04d.tri", trigramDir, s.ID, mc.ID)}
	universe := int((s.Rows + 1<<textUnitShift - 1) >> textUnitShift)
	dir := make([]byte, 16*len(sp.keys))
	var data [2][]byte
	var wg sync.WaitGroup
	for half := range 2 {
		lo, hi := half*len(sp.keys)/2, (half+1)*len(sp.keys)/2
		wg.Go(func() {
			i := lo
			sp.gather(lo, hi, func(k uint32, units []uint32) {
				start := len(data[half])
				data[half] = appendPosting(data[half], units, universe)
				binary.LittleEndian.PutUint32(dir[i*16:], k)
				binary.LittleEndian.PutUint64(dir[i*16+4:], uint64(len(data[half])))
				binary.LittleEndian.PutUint32(dir[i*16+12:], crc32.Checksum(data[half][start:], castagnoli))
				i++
			})
		})
	}
	wg.Wait()
	for i := len(sp.keys) / 2; i < len(sp.keys); i++ {
		end := binary.LittleEndian.Uint64(dir[i*16+4:])
		binary.LittleEndian.PutUint64(dir[i*16+4:], end+uint64(len(data[0])))
	}
	hdr := binary.LittleEndian.AppendUint32([]byte(trigramMagic), uint32(s.Rows))
	hdr = binary.LittleEndian.AppendUint32(hdr, textUnitShift)
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(len(sp.keys)))
	hdr = binary.LittleEndian.AppendUint32(hdr, crc32.Checksum(dir, castagnoli))
	h := xxhash.New()
	err = atomicfile.Write(filepath.Join(d.dir, filepath.FromSlash(tf.File)), func(w io.Writer) error {
		bw := bufio.NewWriterSize(io.MultiWriter(w, h), 1<<20)
		bw.Write(hdr)
		bw.Write(dir)
		bw.Write(data[0])
		bw.Write(data[1])
		return bw.Flush()
	})
	if err != nil {
		return nil, err
	}
	tf.Size = int64(len(hdr) + len(dir) + len(data[0]) + len(data[1]))
	tf.Sum = fmt.Sprintf("%016x", h.Sum64())
	return tf, nil
}

// trigramRuns are the postings of one batch of a segment's rows: keys
// sorted, the units of keys[i] units[ends[i-1]:ends[i]], in order.
type trigramRuns struct {
	start      uint32 // the batch's first row in the segment
	keys, ends []uint32
	units      []uint32
}

// segmentPostings are the postings of a segment, by batch.
type segmentPostings struct {
	runs []*trigramRuns // in row order
	keys []uint32       // every key of runs, sorted
}

// gather calls fn with keys[lo:hi] in order, each with its units (valid
// during the call).
func (sp *segmentPostings) gather(lo, hi int, fn func(key uint32, units []uint32)) {
	if lo >= hi {
		return
	}
	cur := make([]int, len(sp.runs)) // each batch's first key not gathered
	for b, r := range sp.runs {
		cur[b], _ = slices.BinarySearch(r.keys, sp.keys[lo])
	}
	var units []uint32
	for _, k := range sp.keys[lo:hi] {
		units = units[:0]
		for b, r := range sp.runs {
			i := cur[b]
			if i == len(r.keys) || r.keys[i] != k {
				continue
			}
			from := uint32(0)
			if i > 0 {
				from = r.ends[i-1]
			}
			for _, u := range r.units[from:r.ends[i]] {
				// A unit split between two batches comes twice.
				if len(units) == 0 || units[len(units)-1] != u {
					units = append(units, u)
				}
			}
			cur[b] = i + 1
		}
		fn(k, units)
	}
}

// segmentTrigrams returns the postings of column col in segment s: for
// each trigram key, the units of 1<<shift rows (within the segment) whose
// folded values hold it. The segment's batches are read and sorted in
// parallel.
func (d *DB) segmentTrigrams(ctx context.Context, m *Manifest, s *Segment, col string, shift uint) (*segmentPostings, error) {
	v, err := d.view()
	if err != nil {
		return nil, err
	}
	one := *m
	one.Segments = []Segment{*s}
	v.m = &one
	var mu sync.Mutex
	sp := &segmentPostings{}
	rows := 0
	err = v.Scan(ctx, []string{col}, func(b *table.Batch) error {
		r := &trigramRuns{start: b.Start - uint32(s.Base)}
		if c := b.Cols[col]; c != nil {
			bufs, _ := pairPool.Get().(*[2][]uint64)
			if bufs == nil {
				bufs = new([2][]uint64)
			}
			defer pairPool.Put(bufs)
			pairs := blockTrigrams(c, b.Len, r.start, shift, bufs)
			r.units = make([]uint32, len(pairs))
			for i, x := range pairs {
				r.units[i] = uint32(x)
				if k := uint32(x >> 32); i+1 == len(pairs) || uint32(pairs[i+1]>>32) != k {
					r.keys = append(r.keys, k)
					r.ends = append(r.ends, uint32(i+1))
				}
			}
		}
		mu.Lock()
		defer mu.Unlock()
		sp.runs = append(sp.runs, r)
		rows += b.Len
		return nil
	})
	if err != nil {
		return nil, err
	}
	if int64(rows) != s.Rows {
		return nil, fmt.Errorf("db: text index of %s: %d rows read of %d", s.Name, rows, s.Rows)
	}
	slices.SortFunc(sp.runs, func(a, b *trigramRuns) int { return cmp.Compare(a.start, b.start) })
	for _, r := range sp.runs {
		sp.keys = append(sp.keys, r.keys...)
	}
	slices.Sort(sp.keys)
	sp.keys = slices.Compact(sp.keys)
	return sp, nil
}

// pairPool holds the buffers blockTrigrams sorts in.
var pairPool sync.Pool

// blockTrigrams returns the (trigram key, unit) pairs of the n values of
// c, the rows from lo of a segment, as key<<32 | unit, sorted and
// distinct, in one of the two buffers of bufs (kept for the next call).
func blockTrigrams(c *table.Column, n int, lo uint32, shift uint, bufs *[2][]uint64) []uint64 {
	var buf []byte
	pairs := bufs[0][:0]
	for i := 0; i < n; i++ {
		buf = engine.AppendFoldedText(buf[:0], c, i)
		u := uint64((lo + uint32(i)) >> shift)
		prev := uint64(1) << 63
		for j := 0; j+3 <= len(buf); j++ {
			x := (uint64(buf[j])<<16|uint64(buf[j+1])<<8|uint64(buf[j+2]))<<32 | u
			if x != prev {
				pairs = append(pairs, x)
				prev = x
			}
		}
	}
	// An LSD radix sort on the key's 24 bits, two digits of 12: stable,
	// so each key's units stay in row order.
	tmp := slices.Grow(bufs[1][:0], len(pairs))[:len(pairs)]
	a := pairs
	for pass := range 2 {
		sh := 32 + 12*uint(pass)
		var count [1<<12 + 1]int
		for _, x := range a {
			count[(x>>sh)&0xfff+1]++
		}
		for i := 1; i < len(count); i++ {
			count[i] += count[i-1]
		}
		for _, x := range a {
			dg := (x >> sh) & 0xfff
			tmp[count[dg]] = x
			count[dg]++
		}
		a, tmp = tmp, a
	}
	bufs[0], bufs[1] = a, tmp
	return slices.Compact(a)
}

// triFile is a text index file, memory-mapped and verified.
type triFile struct {
	data    []byte // the mapping
	rows    uint32
	version int    // 1, 2 or 3
	shift   uint   // a unit is 1<<shift rows (0 before format 3)
	units   int    // the segment's units
	keys    []byte // the directory: n entries of entry bytes
	entry   int    // 16 (formats 2 and 3: with a CRC per posting) or 12 (format 1)
	body    []byte // the postings
}

// openTrigramFile maps f and checks its size and header against the
// segment, and its digest when full is set or the file is of format 1.
func openTrigramFile(dir string, f *TrigramFile, s *Segment, full bool) (*triFile, error) {
	path := filepath.Join(dir, filepath.FromSlash(f.File))
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() != f.Size {
		return nil, fmt.Errorf("%s: size %d, the manifest says %d", f.File, st.Size(), f.Size)
	}
	if f.Size < int64(len(trigramMagic))+8 {
		return nil, fmt.Errorf("%s: too short for a header", f.File)
	}
	data, err := syscall.Mmap(int(fh.Fd()), 0, int(f.Size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mapping %s: %w", f.File, err)
	}
	t, err := parseTrigramFile(data, f, s, full)
	if err != nil {
		syscall.Munmap(data)
		return nil, err
	}
	return t, nil
}

// parseTrigramFile checks a file's header and directory, and its digest
// when full is set or the file is of format 1.
func parseTrigramFile(data []byte, f *TrigramFile, s *Segment, full bool) (*triFile, error) {
	t := &triFile{data: data, entry: 16}
	switch {
	case bytes.HasPrefix(data, []byte(trigramMagic)):
		t.version = 3
	case bytes.HasPrefix(data, []byte(trigramMagic2)):
		t.version = 2
	case bytes.HasPrefix(data, []byte(trigramMagic1)):
		t.version, t.entry = 1, 12
	}
	if full || t.version == 1 {
		if sum := fmt.Sprintf("%016x", xxhash.Sum64(data)); sum != f.Sum {
			return nil, fmt.Errorf("%s: digest %s, the manifest says %s (the file was changed or damaged)", f.File, sum, f.Sum)
		}
	}
	if t.version == 0 {
		return nil, fmt.Errorf("%s: not a text index file", f.File)
	}
	h := data[len(trigramMagic):]
	hdr := map[int]int{1: 8, 2: 12, 3: 16}[t.version]
	if len(h) < hdr {
		return nil, fmt.Errorf("%s: too short for a header", f.File)
	}
	t.rows = binary.LittleEndian.Uint32(h)
	if t.version == 3 {
		sh := binary.LittleEndian.Uint32(h[4:])
		if sh > 16 {
			return nil, fmt.Errorf("%s: units of 2^%d rows", f.File, sh)
		}
		t.shift, h = uint(sh), h[4:]
	}
	n := int(binary.LittleEndian.Uint32(h[4:]))
	var dirCRC uint32
	if t.version == 1 {
		t.body = h[8:]
	} else {
		dirCRC, t.body = binary.LittleEndian.Uint32(h[8:]), h[12:]
	}
	if int64(t.rows) != s.Rows {
		return nil, fmt.Errorf("%s: indexes %d rows, the segment has %d", f.File, t.rows, s.Rows)
	}
	t.units = int((uint64(t.rows) + 1<<t.shift - 1) >> t.shift)
	if n > len(t.body)/t.entry {
		return nil, fmt.Errorf("%s: directory of %d trigrams past the end", f.File, n)
	}
	t.keys, t.body = t.body[:n*t.entry], t.body[n*t.entry:]
	if t.version > 1 && crc32.Checksum(t.keys, castagnoli) != dirCRC {
		return nil, fmt.Errorf("%s: directory checksum mismatch (the file was changed or damaged)", f.File)
	}
	if n > 0 && binary.LittleEndian.Uint64(t.keys[(n-1)*t.entry+4:]) != uint64(len(t.body)) {
		return nil, fmt.Errorf("%s: postings end at %d, the file at %d", f.File, binary.LittleEndian.Uint64(t.keys[(n-1)*t.entry+4:]), len(t.body))
	}
	return t, nil
}

// unitWords is the length of a bitset of the file's units.
func (t *triFile) unitWords() int { return (t.units + 63) / 64 }

// posting sets in dst (unitWords words, zeroed) the units holding trigram
// key, and reports whether any does. A posting of format 2 or 3 is
// checked against its CRC first.
func (t *triFile) posting(key uint32, dst []uint64) (bool, error) {
	e := t.entry
	n := len(t.keys) / e
	i := sort.Search(n, func(i int) bool { return binary.LittleEndian.Uint32(t.keys[i*e:]) >= key })
	if i == n || binary.LittleEndian.Uint32(t.keys[i*e:]) != key {
		return false, nil
	}
	lo := uint64(0)
	if i > 0 {
		lo = binary.LittleEndian.Uint64(t.keys[(i-1)*e+4:])
	}
	hi := binary.LittleEndian.Uint64(t.keys[i*e+4:])
	if lo > hi || hi > uint64(len(t.body)) {
		return false, fmt.Errorf("posting %06x at %d-%d is out of bounds", key, lo, hi)
	}
	b := t.body[lo:hi]
	if e == 16 && crc32.Checksum(b, castagnoli) != binary.LittleEndian.Uint32(t.keys[i*e+12:]) {
		return false, fmt.Errorf("%w: posting %06x: checksum mismatch", ErrCorrupt, key)
	}
	if t.version == 3 {
		if _, err := decodePosting(b, t.units, dst); err != nil {
			return false, fmt.Errorf("posting %06x: %w", key, err)
		}
		return true, nil
	}
	bm := roaring.New()
	if _, err := bm.FromBuffer(b); err != nil {
		return false, fmt.Errorf("bitmap %06x: %w", key, err)
	}
	if bm.IsEmpty() || bm.Maximum() >= t.rows {
		return false, fmt.Errorf("bitmap %06x: rows outside the segment's %d, or none", key, t.rows)
	}
	bm.Iterate(func(r uint32) bool {
		dst[r>>6] |= 1 << (r & 63)
		return true
	})
	return true, nil
}

// check decodes every posting: sorted keys, each a non-empty set of the
// segment's units.
func (t *triFile) check() error {
	n := len(t.keys) / t.entry
	prev := int64(-1)
	dst := make([]uint64, t.unitWords())
	for i := 0; i < n; i++ {
		k := binary.LittleEndian.Uint32(t.keys[i*t.entry:])
		if int64(k) <= prev {
			return fmt.Errorf("trigram %06x after %06x: the directory is not sorted", k, prev)
		}
		prev = int64(k)
		clear(dst)
		if _, err := t.posting(k, dst); err != nil {
			return err
		}
		if !slices.ContainsFunc(dst, func(w uint64) bool { return w != 0 }) {
			return fmt.Errorf("posting %06x: no unit", k)
		}
	}
	return nil
}

// trigramFiles are the open text index files of a DB, by file name.
type trigramFiles struct {
	mu     sync.Mutex
	files  map[string]*triFile
	bad    map[string]error // files that failed to open, warned about once
	broken []*triFile       // files dropped after a bad bitmap, unmapped at close
}

// trigramFile returns the open file f of segment s, opening it on first use; nil
// with the reason when it cannot be used.
func (d *DB) trigramFile(f *TrigramFile, s *Segment) (*triFile, error) {
	d.tri.mu.Lock()
	defer d.tri.mu.Unlock()
	if t := d.tri.files[f.File]; t != nil {
		return t, nil
	}
	if err := d.tri.bad[f.File]; err != nil {
		return nil, err
	}
	t, err := openTrigramFile(d.dir, f, s, false)
	if err != nil {
		d.tri.setBad(d, f, s, err)
		return nil, err
	}
	if d.tri.files == nil {
		d.tri.files = map[string]*triFile{}
	}
	d.tri.files[f.File] = t
	return t, nil
}

// setBad records that file f of segment s cannot be used, and warns once.
// The caller holds tf.mu.
func (tf *trigramFiles) setBad(d *DB, f *TrigramFile, s *Segment, err error) {
	if tf.bad == nil {
		tf.bad = map[string]error{}
	}
	if tf.bad[f.File] != nil {
		return
	}
	tf.bad[f.File] = err
	d.opts.Warn(fmt.Sprintf("the text index file %s cannot be used (%v); text predicates scan segment %s until it is rebuilt with 'laiondb index --text'", f.File, err, s.Name))
}

// dropBroken stops using file f of segment s, one of whose bitmaps failed
// its check: its mapping stays until Close (queries may hold bitmaps that
// point into it), and its segment is scanned from then on.
func (d *DB) dropBroken(f *TrigramFile, s *Segment, err error) {
	d.tri.mu.Lock()
	defer d.tri.mu.Unlock()
	d.tri.setBad(d, f, s, err)
	if t := d.tri.files[f.File]; t != nil {
		d.tri.broken = append(d.tri.broken, t)
		delete(d.tri.files, f.File)
	}
}

// close unmaps every open file.
func (tf *trigramFiles) close() error {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	var errs []error
	for _, t := range tf.files {
		errs = append(errs, syscall.Munmap(t.data))
	}
	for _, t := range tf.broken {
		errs = append(errs, syscall.Munmap(t.data))
	}
	tf.files, tf.broken = nil, nil
	return errors.Join(errs...)
}

// TextIndexed reports whether column col has a text index.
func (v *view) TextIndexed(col string) bool {
	return v.m.Trigrams != nil && slices.Contains(v.m.Trigrams.Columns, col)
}

// TextCandidates returns the rows whose folded value of col may hold every
// trigram of grams: in each segment with a usable file, the intersection
// of the trigrams' rows; every row of a segment without one.
func (v *view) TextCandidates(ctx context.Context, col string, grams []engine.Trigram) (*vector.Bitset, bool, error) {
	if !v.TextIndexed(col) {
		return nil, false, nil
	}
	keys := make([]uint32, len(grams))
	for i, g := range grams {
		keys[i] = trigramKey(g)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	out := vector.NewBitset(int(v.m.Rows))
	if len(keys) == 0 {
		out.Fill()
		return out, true, nil
	}
	scratch, _ := unitPool.Get().(*[2][]uint64)
	if scratch == nil {
		scratch = new([2][]uint64)
	}
	defer unitPool.Put(scratch)
	acc, tmp := scratch[0], scratch[1]
	defer func() { scratch[0], scratch[1] = acc, tmp }()
	for i := range v.m.Segments {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		s := &v.m.Segments[i]
		var t *triFile
		f := s.trigramFile(col)
		if f != nil {
			t, _ = v.d.trigramFile(f, s) // unusable: warned about, and scanned
		}
		if t == nil {
			setRange(out, uint32(s.Base), uint32(s.Base+s.Rows))
			continue
		}
		// acc: the units holding every trigram so far.
		acc = slices.Grow(acc[:0], t.unitWords())[:t.unitWords()]
		tmp = slices.Grow(tmp[:0], t.unitWords())[:t.unitWords()]
		hit := len(keys) > 0
		for j, k := range keys {
			dst := acc
			if j > 0 {
				dst = tmp
			}
			clear(dst)
			found, err := t.posting(k, dst)
			if err != nil {
				v.d.dropBroken(f, s, err)
				t = nil
				break
			}
			if !found {
				hit = false
				break
			}
			if j > 0 {
				hit = false
				for w := range acc {
					acc[w] &= tmp[w]
					hit = hit || acc[w] != 0
				}
				if !hit {
					break
				}
			}
		}
		if t == nil {
			setRange(out, uint32(s.Base), uint32(s.Base+s.Rows))
			continue
		}
		if !hit {
			continue
		}
		base, last := uint32(s.Base), uint32(s.Base+s.Rows)
		for w, x := range acc {
			for ; x != 0; x &= x - 1 {
				u := uint32(w*64 + bits.TrailingZeros64(x))
				lo := base + u<<t.shift
				setRange(out, lo, min(lo+1<<t.shift, last))
			}
		}
	}
	return out, true, nil
}

// unitPool holds TextCandidates' bitsets of a segment's units.
var unitPool sync.Pool

// setRange adds rows [lo, hi) to b.
func setRange(b *vector.Bitset, lo, hi uint32) {
	for r := lo; r < hi; r++ {
		b.Set(r)
	}
}

// removeUnlistedTrigrams deletes the text index files no segment of m
// lists: those of interrupted builds.
func (d *DB) removeUnlistedTrigrams(m *Manifest) error {
	used := map[string]bool{}
	for i := range m.Segments {
		for _, f := range m.Segments[i].Trigrams {
			used[f.File] = true
		}
	}
	ents, err := os.ReadDir(filepath.Join(d.dir, trigramDir))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("db: %w", err)
	}
	for _, e := range ents {
		if name := trigramDir + "/" + e.Name(); !used[name] {
			if err := os.Remove(filepath.Join(d.dir, trigramDir, e.Name())); err != nil {
				return fmt.Errorf("db: removing %s, left by an interrupted text index build: %w", name, err)
			}
		}
	}
	return nil
}

// checkTrigrams verifies each text index file: its size and digest against
// the manifest, its header against the segment, and every bitmap.
func (d *DB) checkTrigrams(ctx context.Context, v *view, add func(string, string, ...any)) {
	for i := range v.m.Segments {
		s := &v.m.Segments[i]
		for j := range s.Trigrams {
			if ctx.Err() != nil {
				return
			}
			f := &s.Trigrams[j]
			t, err := openTrigramFile(d.dir, f, s, true)
			if err == nil {
				err = t.check()
				syscall.Munmap(t.data)
			}
			if err != nil {
				add(f.File, "text index of %s, column %s: %v", s.Name, f.Column, err)
			}
		}
	}
}
