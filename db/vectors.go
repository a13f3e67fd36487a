package db

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"unsafe"

	"github.com/laiondb/laiondb/internal/hugemem"
	"github.com/laiondb/laiondb/vector"
)

// Vector files. The image embeddings of all rows live in one file,
// vectors/img.f16 (or .f32), row r at byte r×dim×size; text embeddings in
// vectors/txt.f16 likewise. Rows without vectors (metadata-only files) are
// holes: the file is extended with ftruncate, costing no disk. The manifest
// says which segments have vectors. Bytes beyond the committed rows are
// debris of an interrupted ingest and are cut off on open.
//
// Each vector file has a norms file beside it, vectors/img.inv (txt.inv):
// the inverse Euclidean norm of every committed row, float32
// little-endian, row r at byte 4r. Scores are cosines of the stored
// vectors, so every open needs them; reading them costs 4 bytes a row
// where computing them read every vector (10 GB at 10M rows). An ingest
// writes its rows' norms, and syncs them, before the manifest commits
// the rows. Open checks 65 of them against the vectors (the rows of
// vector.Fingerprint) and computes what is missing or does not match,
// which a writer then stores; bytes past the committed rows are cut off.
//
// Files are memory-mapped read-only with room to grow; when an ingest
// outgrows the mapping a larger one is made, and older mappings stay valid
// for searches still using them until Close.

type vecFile struct {
	path  string
	dtype string
	dim   int
	f     *os.File
	maps  [][]byte
	cur   []byte
	// inv holds the inverse norm of each committed row, computed from the
	// stored values when the file is opened and as ingests commit, so that
	// every score is the cosine of the stored vectors (vector.Matrix.Inv).
	// Rows are never rewritten, so a prefix once computed stays valid;
	// ingest replaces the slice under DB.mu.
	inv []float32
	// huge holds a copy of the first hugeRows rows in memory backed by
	// 2 MiB pages (Options.HugePages; hugemem.Alloc), and hugeMap its
	// mapping; nil when there is none.
	huge, hugeMap []byte
	hugeRows      int64
}

func elemSize(dtype string) int {
	if dtype == "float16" {
		return 2
	}
	return 4
}

func vecPath(dir, name, dtype string) string {
	ext := ".f32"
	if dtype == "float16" {
		ext = ".f16"
	}
	return filepath.Join(dir, "vectors", name+ext)
}

// openVectors opens the vector files the manifest says exist.
func (d *DB) openVectors(m *Manifest) error {
	if m.Dim == 0 {
		return nil
	}
	var hasImg, hasTxt bool
	for _, s := range m.Segments {
		hasImg = hasImg || s.HasImage
		hasTxt = hasTxt || s.HasText
	}
	var err error
	if hasImg {
		if d.img, err = openVecFile(vecPath(d.dir, "img", m.DType), m.DType, m.Dim, m.Rows, d.opts.ReadOnly); err != nil {
			return err
		}
	}
	if hasTxt {
		if d.txt, err = openVecFile(vecPath(d.dir, "txt", m.DType), m.DType, m.Dim, m.Rows, d.opts.ReadOnly); err != nil {
			return err
		}
	}
	if d.opts.HugePages {
		budget := physicalMemory() / 4
		for _, v := range []*vecFile{d.img, d.txt} {
			if v != nil {
				budget -= v.copyToHugePages(m.Rows, budget)
			}
		}
	}
	return nil
}

// minHugeVectors is the size of a vector file from which Options.HugePages
// copies it: below it the rows sit on few enough pages that the TLB holds
// them.
var minHugeVectors int64 = 16 << 20

// copyToHugePages copies the first rows rows into memory backed by 2 MiB
// pages, for Options.HugePages, when they take at least minHugeVectors
// and at most budget bytes and the kernel offers such pages; it returns
// the bytes it took. A scan of scattered rows (a filtered exact k-NN, the
// re-ranking of a graph's candidates) pays a page walk for nearly every
// row of a page cache mapped in 4 KiB pages; from 2 MiB pages it reads at
// the memory's rate (BenchmarkExactAllowed, pages=2M). The page cache
// keeps the file; the copy is read until the store closes, and rows
// committed later are read from the file.
func (v *vecFile) copyToHugePages(rows, budget int64) int64 {
	n := rows * int64(v.dim) * int64(elemSize(v.dtype))
	if n < minHugeVectors || n > budget || int64(len(v.cur)) < n {
		return 0
	}
	b, m := hugemem.Alloc(int(n))
	if b == nil {
		return 0
	}
	copy(b, v.cur[:n])
	v.huge, v.hugeMap, v.hugeRows = b, m, rows
	return n
}

// openVecFile opens (creating when writable) a vector file and sizes it to
// rows: a writer cuts off uncommitted bytes and extends holes; a reader
// requires at least rows.
func openVecFile(path, dtype string, dim int, rows int64, readOnly bool) (*vecFile, error) {
	want := rows * int64(dim) * int64(elemSize(dtype))
	var f *os.File
	var err error
	if readOnly {
		f, err = os.Open(path)
	} else {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	}
	if err != nil {
		return nil, fmt.Errorf("db: opening vectors: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if fi.Size() != want {
		if readOnly && fi.Size() < want {
			f.Close()
			return nil, fmt.Errorf("%w: %s has %d bytes, the manifest needs %d", ErrCorrupt, path, fi.Size(), want)
		}
		if !readOnly {
			if err := f.Truncate(want); err != nil {
				f.Close()
				return nil, fmt.Errorf("db: sizing %s: %w", path, err)
			}
		}
	}
	v := &vecFile{path: path, dtype: dtype, dim: dim, f: f}
	if err := v.mapAtLeast(want); err != nil {
		f.Close()
		return nil, err
	}
	v.inv = v.readNorms(rows)
	stored := len(v.inv)
	v.inv = v.invNorms(rows)
	if !readOnly && (stored < len(v.inv) || normsFileSize(v.normsPath()) != 4*rows) {
		if err := v.saveNorms(v.inv, stored); err != nil {
			f.Close()
			return nil, err
		}
	}
	return v, nil
}

// normsPath is the path of the norms file of v.
func (v *vecFile) normsPath() string {
	return strings.TrimSuffix(v.path, filepath.Ext(v.path)) + ".inv"
}

// normsFileSize is the size of the file at path, -1 if it cannot be read.
func normsFileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return st.Size()
}

// readNorms returns the stored inverse norms of rows [0, rows), or of as
// many of them as the norms file holds; none if it is missing or one of
// the rows checked against the vectors does not match.
func (v *vecFile) readNorms(rows int64) []float32 {
	b, err := os.ReadFile(v.normsPath())
	if err != nil || rows == 0 {
		return nil
	}
	have := min(int64(len(b)/4), rows)
	inv := make([]float32, have)
	for i := range inv {
		inv[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	if have == 0 {
		return nil
	}
	m := v.matrix(have)
	m.Inv = nil
	var one [1]float32
	for j := int64(0); j <= 64; j++ {
		r := j * have / 64
		if j == 64 {
			r = have - 1
		}
		if math.Float32bits(vector.InvNorms(m, int(r), int(r)+1, one[:0])[0]) != math.Float32bits(inv[r]) {
			return nil
		}
	}
	return inv
}

// saveNorms writes inv, the inverse norms of the rows [0, len(inv)), from
// row from on to the norms file, cuts it there and syncs it.
func (v *vecFile) saveNorms(inv []float32, from int) error {
	path := v.normsPath()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("db: norms: %w", err)
	}
	defer f.Close()
	if normsFileSize(path) < int64(4*from) {
		from = 0 // a shorter file than the norms read: write them all
	}
	b := make([]byte, 0, 4*(len(inv)-from))
	for _, x := range inv[from:] {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	if _, err := f.WriteAt(b, int64(4*from)); err != nil {
		return fmt.Errorf("db: writing %s: %w", path, err)
	}
	if err := f.Truncate(int64(4 * len(inv))); err != nil {
		return fmt.Errorf("db: sizing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("db: syncing %s: %w", path, err)
	}
	return nil
}

// invNorms returns the inverse norms of rows [0, rows): the ones already
// known and those of the rows after them, in a new slice when it grows (so
// that views holding the old one never see it change).
func (v *vecFile) invNorms(rows int64) []float32 {
	have := int64(len(v.inv))
	if rows <= have {
		return v.inv[:rows:rows]
	}
	m := v.matrix(rows)
	m.Inv = nil
	out := make([]float32, have, rows)
	copy(out, v.inv)
	return vector.InvNorms(m, int(have), int(rows), out)
}

// mapAtLeast makes sure the current mapping covers n bytes.
func (v *vecFile) mapAtLeast(n int64) error {
	if int64(len(v.cur)) >= n && len(v.cur) > 0 {
		return nil
	}
	size := int64(1) << 30
	for size < n+n/2 {
		size <<= 1
	}
	b, err := syscall.Mmap(int(v.f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("db: mapping %s: %w", v.path, err)
	}
	v.maps = append(v.maps, b)
	v.cur = b
	return nil
}

// matrix returns the first rows rows as a matrix backed by the mapping,
// with their inverse norms as far as they are known (all committed rows).
func (v *vecFile) matrix(rows int64) vector.Matrix {
	n := int(rows) * v.dim
	if n == 0 {
		return vector.Matrix{Dim: v.dim}
	}
	var inv []float32
	if int64(len(v.inv)) >= rows {
		inv = v.inv[:rows]
	}
	p := unsafe.Pointer(&v.cur[0])
	if v.huge != nil && rows <= v.hugeRows {
		p = unsafe.Pointer(&v.huge[0])
	}
	if v.dtype == "float16" {
		return vector.Matrix{Dim: v.dim, F16: unsafe.Slice((*uint16)(p), n), Inv: inv}
	}
	return vector.Matrix{Dim: v.dim, F32: unsafe.Slice((*float32)(p), n), Inv: inv}
}

// writeRows writes raw element bytes for rows starting at row.
func (v *vecFile) writeRows(row int64, raw []byte) error {
	off := row * int64(v.dim) * int64(elemSize(v.dtype))
	if _, err := v.f.WriteAt(raw, off); err != nil {
		return fmt.Errorf("db: writing %s: %w", v.path, err)
	}
	return nil
}

// commit sizes the file to rows, syncs it and maps it.
func (v *vecFile) commit(rows int64) error {
	want := rows * int64(v.dim) * int64(elemSize(v.dtype))
	if err := v.f.Truncate(want); err != nil {
		return fmt.Errorf("db: sizing %s: %w", v.path, err)
	}
	if err := v.f.Sync(); err != nil {
		return fmt.Errorf("db: syncing %s: %w", v.path, err)
	}
	return v.mapAtLeast(want)
}

// rollback cuts the file back to rows.
func (v *vecFile) rollback(rows int64) error {
	return v.f.Truncate(rows * int64(v.dim) * int64(elemSize(v.dtype)))
}

func (v *vecFile) close() error {
	var errs []error
	for _, b := range v.maps {
		errs = append(errs, syscall.Munmap(b))
	}
	v.maps, v.cur = nil, nil
	errs = append(errs, hugemem.Free(v.hugeMap))
	v.huge, v.hugeMap, v.hugeRows = nil, nil, 0
	errs = append(errs, v.f.Close())
	return errors.Join(errs...)
}
