package db

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"unsafe"

	"github.com/laiondb/laiondb/vector"
)

// Vector files. The image embeddings of all rows live in one file,
// vectors/img.f16 (or .f32), row r at byte r×dim×size; text embeddings in
// vectors/txt.f16 likewise. Rows without vectors (metadata-only files) are
// holes: the file is extended with ftruncate, costing no disk. The manifest
// says which segments have vectors. Bytes beyond the committed rows are
// debris of an interrupted ingest and are cut off on open.
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
	return nil
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
	v.inv = v.invNorms(rows)
	return v, nil
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
	errs = append(errs, v.f.Close())
	return errors.Join(errs...)
}
