// Package npy reads and writes the NumPy .npy files that CLIP embedding
// folders are released as: two-dimensional float16 or float32 arrays in C
// order.
//
// Format (NumPy's format.py, versions 1.0 to 3.0): the magic "\x93NUMPY",
// a major and minor version byte, the header length (uint16 little-endian for
// version 1, uint32 for 2 and 3), then an ASCII (UTF-8 for 3) Python dict
// literal with the keys 'descr', 'fortran_order' and 'shape', padded with
// spaces and a newline so that the data starts on a 16- or 64-byte boundary.
// The data follows, row after row.
package npy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"github.com/laiondb/laiondb/internal/atomicfile"
)

// DType is an element type this package handles.
type DType uint8

// Element types. Embedding files (Open) are Float16 or Float32; Read
// also takes the others, for ids and ground truth.
const (
	Float16 DType = iota + 1
	Float32
	Float64
	Int32
	Int64
)

// Size returns the element size in bytes.
func (d DType) Size() int {
	switch d {
	case Float16:
		return 2
	case Float64, Int64:
		return 8
	}
	return 4
}

// String returns the numpy name of the type.
func (d DType) String() string {
	switch d {
	case Float16:
		return "float16"
	case Float32:
		return "float32"
	case Float64:
		return "float64"
	case Int32:
		return "int32"
	case Int64:
		return "int64"
	}
	return "unknown"
}

// descr is the numpy dtype string of d.
func (d DType) descr() string {
	return map[DType]string{Float16: "<f2", Float32: "<f4", Float64: "<f8", Int32: "<i4", Int64: "<i8"}[d]
}

// ErrFormat is wrapped by every error about a malformed or unsupported file.
var ErrFormat = errors.New("npy: bad file")

// Header is the parsed header of a two-dimensional .npy file.
type Header struct {
	DType DType
	Rows  int
	Cols  int
	// DataOffset is where the array data starts in the file.
	DataOffset int64
}

// maxHeader bounds the header length a reader accepts.
const maxHeader = 1 << 20

// MaxCols bounds the number of columns (the embedding dimension) a reader
// accepts; CLIP models have 512 to 1280. It keeps rows×cols×size far from
// overflowing int64 and a row's buffer a sane size.
const MaxCols = 1 << 16

// ReadHeader parses the header at the start of r. It accepts only
// two-dimensional little-endian float16 or float32 arrays in C order: an
// embedding file.
func ReadHeader(r io.Reader) (Header, error) { return readHeader(r, false) }

// readHeader is ReadHeader; any also accepts float64, int32 and int64 and
// one-dimensional arrays (read as n×1).
func readHeader(r io.Reader, any bool) (Header, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return Header{}, fmt.Errorf("%w: reading magic: %v", ErrFormat, err)
	}
	if string(pre[:6]) != "\x93NUMPY" {
		return Header{}, fmt.Errorf("%w: not an .npy file (no \\x93NUMPY magic)", ErrFormat)
	}
	var hlen int
	off := int64(8)
	switch pre[6] {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return Header{}, fmt.Errorf("%w: reading header length: %v", ErrFormat, err)
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
		off += 2
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return Header{}, fmt.Errorf("%w: reading header length: %v", ErrFormat, err)
		}
		n := binary.LittleEndian.Uint32(b[:])
		if n > maxHeader {
			return Header{}, fmt.Errorf("%w: header length %d too large", ErrFormat, n)
		}
		hlen = int(n)
		off += 4
	default:
		return Header{}, fmt.Errorf("%w: unsupported format version %d.%d", ErrFormat, pre[6], pre[7])
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(r, hb); err != nil {
		return Header{}, fmt.Errorf("%w: header truncated: %v", ErrFormat, err)
	}
	h, err := parseDict(string(hb), any)
	if err != nil {
		return Header{}, err
	}
	h.DataOffset = off + int64(hlen)
	return h, nil
}

// parseDict parses the header dict literal, e.g.
// {'descr': '<f2', 'fortran_order': False, 'shape': (10, 512), }
func parseDict(s string, any bool) (Header, error) {
	var h Header
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return h, fmt.Errorf("%w: header is not a dict: %.80q", ErrFormat, s)
	}
	body := s[1 : len(s)-1]
	var descr, fortran, shape string
	var haveDescr, haveFortran, haveShape bool
	for len(strings.TrimSpace(body)) > 0 {
		body = strings.TrimSpace(body)
		key, rest, ok := quoted(body)
		if !ok {
			return h, fmt.Errorf("%w: bad header key in %.80q", ErrFormat, s)
		}
		rest = strings.TrimSpace(rest)
		if !strings.HasPrefix(rest, ":") {
			return h, fmt.Errorf("%w: expected ':' after %q in header", ErrFormat, key)
		}
		rest = strings.TrimSpace(rest[1:])
		var val string
		switch {
		case strings.HasPrefix(rest, "'") || strings.HasPrefix(rest, `"`):
			v, r2, ok := quoted(rest)
			if !ok {
				return h, fmt.Errorf("%w: bad value for %q in header", ErrFormat, key)
			}
			val, rest = v, r2
		case strings.HasPrefix(rest, "("):
			i := strings.IndexByte(rest, ')')
			if i < 0 {
				return h, fmt.Errorf("%w: unterminated shape in header", ErrFormat)
			}
			val, rest = rest[:i+1], rest[i+1:]
		default:
			i := strings.IndexAny(rest, ",}")
			if i < 0 {
				i = len(rest)
			}
			val, rest = strings.TrimSpace(rest[:i]), rest[i:]
		}
		switch key {
		case "descr":
			descr, haveDescr = val, true
		case "fortran_order":
			fortran, haveFortran = val, true
		case "shape":
			shape, haveShape = val, true
		default:
			return h, fmt.Errorf("%w: unexpected header key %q", ErrFormat, key)
		}
		rest = strings.TrimSpace(rest)
		rest = strings.TrimPrefix(rest, ",")
		body = rest
	}
	if !haveDescr || !haveFortran || !haveShape {
		return h, fmt.Errorf("%w: header lacks descr, fortran_order or shape: %.80q", ErrFormat, s)
	}
	switch descr {
	case "<f2", "|f2":
		h.DType = Float16
	case "<f4", "|f4":
		h.DType = Float32
	case "<f8":
		h.DType = Float64
	case "<i4":
		h.DType = Int32
	case "<i8":
		h.DType = Int64
	}
	if h.DType == 0 || (!any && h.DType != Float16 && h.DType != Float32) {
		return h, fmt.Errorf("%w: unsupported dtype %q (want little-endian float16 '<f2' or float32 '<f4')", ErrFormat, descr)
	}
	switch fortran {
	case "False":
	case "True":
		return h, fmt.Errorf("%w: fortran_order arrays are not supported (save with np.ascontiguousarray)", ErrFormat)
	default:
		return h, fmt.Errorf("%w: bad fortran_order %q", ErrFormat, fortran)
	}
	dims := strings.Split(strings.Trim(shape, "()"), ",")
	var nums []int
	for _, d := range dims {
		d = strings.TrimSpace(d)
		if d == "" {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(d, "L"), 10, 64)
		if err != nil || n < 0 || n > 1<<40 {
			return h, fmt.Errorf("%w: bad shape %s", ErrFormat, shape)
		}
		nums = append(nums, int(n))
	}
	if any && len(nums) == 1 {
		nums = append(nums, 1)
	}
	if len(nums) != 2 {
		return h, fmt.Errorf("%w: shape %s is not two-dimensional (rows, dim)", ErrFormat, shape)
	}
	if nums[1] > MaxCols {
		return h, fmt.Errorf("%w: shape %s has more than %d columns", ErrFormat, shape, MaxCols)
	}
	if nums[1] == 0 && nums[0] > 0 {
		return h, fmt.Errorf("%w: shape %s has zero columns", ErrFormat, shape)
	}
	h.Rows, h.Cols = nums[0], nums[1]
	return h, nil
}

// quoted reads a Python string literal at the start of s.
func quoted(s string) (val, rest string, ok bool) {
	if s == "" || (s[0] != '\'' && s[0] != '"') {
		return "", s, false
	}
	i := strings.IndexByte(s[1:], s[0])
	if i < 0 {
		return "", s, false
	}
	return s[1 : 1+i], s[2+i:], true
}

// File is an open .npy file whose header has been checked against its size.
type File struct {
	Header
	Path string
	f    *os.File
	r    *bufio.Reader
	next int // next row to read
}

// Open opens path and checks that its size matches the header's shape.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	h, err := ReadHeader(bufio.NewReader(io.LimitReader(f, maxHeader+16)))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	want := h.DataOffset + int64(h.Rows)*int64(h.Cols)*int64(h.DType.Size())
	if fi.Size() != want {
		f.Close()
		return nil, fmt.Errorf("%s: %w: header says shape (%d, %d) %s, which needs %d bytes, but the file has %d",
			path, ErrFormat, h.Rows, h.Cols, h.DType, want, fi.Size())
	}
	if _, err := f.Seek(h.DataOffset, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return &File{Header: h, Path: path, f: f, r: bufio.NewReaderSize(f, 1<<20)}, nil
}

// ReadRaw reads up to len(dst)/(Cols*size) whole rows of raw little-endian
// element bytes into dst and returns the number of rows read; 0 and io.EOF
// at the end.
func (f *File) ReadRaw(dst []byte) (int, error) {
	rowBytes := f.Cols * f.DType.Size()
	n := len(dst) / rowBytes
	if n > f.Rows-f.next {
		n = f.Rows - f.next
	}
	if n == 0 {
		return 0, io.EOF
	}
	if _, err := io.ReadFull(f.r, dst[:n*rowBytes]); err != nil {
		return 0, fmt.Errorf("%s: reading row %d: %w", f.Path, f.next, err)
	}
	f.next += n
	return n, nil
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// WriteHeader writes a version 1.0 header for a C-order (rows, cols) array.
func WriteHeader(w io.Writer, dt DType, rows, cols int) error {
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%d, %d), }", dt.descr(), rows, cols)
	total := 10 + len(dict) + 1
	pad := (64 - total%64) % 64
	dict += strings.Repeat(" ", pad) + "\n"
	var pre [10]byte
	copy(pre[:], "\x93NUMPY\x01\x00")
	binary.LittleEndian.PutUint16(pre[8:], uint16(len(dict)))
	if _, err := w.Write(pre[:]); err != nil {
		return err
	}
	_, err := io.WriteString(w, dict)
	return err
}

// WriteFloat32 writes a (rows, cols) float32 array to path.
func WriteFloat32(path string, data []float32, cols int) error {
	b := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return write(path, Float32, len(data)/cols, cols, b)
}

// WriteFloat16 writes a (rows, cols) float16 array (raw binary16 bits) to path.
func WriteFloat16(path string, data []uint16, cols int) error {
	b := make([]byte, 2*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint16(b[2*i:], v)
	}
	return write(path, Float16, len(data)/cols, cols, b)
}

// WriteInt32 writes a (rows, cols) int32 array to path.
func WriteInt32(path string, data []int32, cols int) error {
	b := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
	}
	return write(path, Int32, len(data)/cols, cols, b)
}

// write replaces path atomically with the array.
func write(path string, dt DType, rows, cols int, data []byte) error {
	if rows*cols*dt.Size() != len(data) {
		return fmt.Errorf("npy: write %s: %d bytes for shape (%d, %d) %s", path, len(data), rows, cols, dt)
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		if err := WriteHeader(w, dt, rows, cols); err != nil {
			return err
		}
		_, err := w.Write(data)
		return err
	})
}

// Array is a whole .npy file in memory. Exactly one of F16, F32 and I64 is
// set: float16 stays as bit patterns, float64 is narrowed to F32, int32
// widened to I64.
type Array struct {
	Rows, Cols int
	DType      DType // as stored
	F16        []uint16
	F32        []float32
	I64        []int64
}

// Read reads a little-endian, C-order .npy file holding a one- or
// two-dimensional array of float16, float32, float64, int32 or int64 (a
// one-dimensional array reads as n×1). A header that disagrees with the
// file's length is an error.
func Read(path string) (*Array, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	h, err := readHeader(bytes.NewReader(b), true)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	n := h.Rows * h.Cols
	data := b[h.DataOffset:]
	if len(data) != n*h.DType.Size() {
		return nil, fmt.Errorf("%s: %w: header says shape (%d, %d) %s, which needs %d bytes of data, but the file has %d",
			path, ErrFormat, h.Rows, h.Cols, h.DType, n*h.DType.Size(), len(data))
	}
	a := &Array{Rows: h.Rows, Cols: h.Cols, DType: h.DType}
	le := binary.LittleEndian
	switch h.DType {
	case Float16:
		a.F16 = make([]uint16, n)
		for i := range a.F16 {
			a.F16[i] = le.Uint16(data[2*i:])
		}
	case Float32:
		a.F32 = make([]float32, n)
		for i := range a.F32 {
			a.F32[i] = math.Float32frombits(le.Uint32(data[4*i:]))
		}
	case Float64:
		a.F32 = make([]float32, n)
		for i := range a.F32 {
			a.F32[i] = float32(math.Float64frombits(le.Uint64(data[8*i:])))
		}
	case Int32:
		a.I64 = make([]int64, n)
		for i := range a.I64 {
			a.I64[i] = int64(int32(le.Uint32(data[4*i:])))
		}
	case Int64:
		a.I64 = make([]int64, n)
		for i := range a.I64 {
			a.I64[i] = int64(le.Uint64(data[8*i:]))
		}
	}
	return a, nil
}

// MmapFloat16 memory-maps a two-dimensional float16 .npy file read-only and
// returns its values (aliasing the mapping, which stays until the process
// ends) and its column count.
func MmapFloat16(path string) ([]uint16, int, error) {
	f, err := Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	if f.DType != Float16 {
		return nil, 0, fmt.Errorf("%s: %w: dtype %s, want float16", path, ErrFormat, f.DType)
	}
	n := f.Rows * f.Cols
	if n == 0 {
		return nil, f.Cols, nil
	}
	b, err := syscall.Mmap(int(f.f.Fd()), 0, int(f.DataOffset)+2*n, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: mmap: %w", path, err)
	}
	return unsafe.Slice((*uint16)(unsafe.Pointer(&b[f.DataOffset])), n), f.Cols, nil
}
