package bench

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"

	"github.com/laiondb/laiondb/vector"
)

// Array is a two-dimensional .npy array (C order) as read by ReadNpy.
// Exactly one of F16, F32 and I64 is set: float16 stays as bit patterns,
// float64 is narrowed to F32, int32 widened to I64.
type Array struct {
	Rows, Cols int
	Descr      string // the numpy dtype descr as stored, e.g. "<f2"
	F16        []uint16
	F32        []float32
	I64        []int64
}

// Matrix returns a float array as a vector.Matrix sharing its storage.
func (a *Array) Matrix() (vector.Matrix, error) {
	switch {
	case a.F16 != nil:
		return vector.Matrix{Dim: a.Cols, F16: a.F16}, nil
	case a.F32 != nil:
		return vector.Matrix{Dim: a.Cols, F32: a.F32}, nil
	}
	return vector.Matrix{}, fmt.Errorf("bench: %s array is not float", a.Descr)
}

var errNpy = errors.New("bench: bad .npy file")

// ReadNpy reads a little-endian, C-order .npy file holding a 1-d or 2-d
// array of float16, float32, float64, int32 or int64 (a 1-d array reads as
// n×1). A header that disagrees with the file's length is an error.
func ReadNpy(path string) (*Array, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bench: read npy: %w", err)
	}
	a, err := parseNpy(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// parseNpyHeader parses the header in b (which may hold nothing else) and
// returns the array's dtype and shape, without data.
func parseNpyHeader(b []byte) (*Array, error) { return parseNpyOpt(b, false) }

func parseNpy(b []byte) (*Array, error) { return parseNpyOpt(b, true) }

func parseNpyOpt(b []byte, withData bool) (*Array, error) {
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		return nil, fmt.Errorf("%w: no NUMPY magic", errNpy)
	}
	var hlen, off int
	switch b[6] {
	case 1:
		hlen, off = int(binary.LittleEndian.Uint16(b[8:10])), 10
	case 2, 3:
		if len(b) < 12 {
			return nil, fmt.Errorf("%w: truncated header", errNpy)
		}
		hlen, off = int(binary.LittleEndian.Uint32(b[8:12])), 12
	default:
		return nil, fmt.Errorf("%w: version %d", errNpy, b[6])
	}
	if off+hlen > len(b) {
		return nil, fmt.Errorf("%w: truncated header", errNpy)
	}
	h := string(b[off : off+hlen])
	data := b[off+hlen:]
	descr, err := dictString(h, "descr")
	if err != nil {
		return nil, err
	}
	if strings.Contains(h, "'fortran_order': True") {
		return nil, fmt.Errorf("%w: fortran_order arrays are not supported", errNpy)
	}
	shape, err := dictShape(h)
	if err != nil {
		return nil, err
	}
	a := &Array{Descr: descr}
	switch len(shape) {
	case 1:
		a.Rows, a.Cols = shape[0], 1
	case 2:
		a.Rows, a.Cols = shape[0], shape[1]
	default:
		return nil, fmt.Errorf("%w: shape %v is not 1-d or 2-d", errNpy, shape)
	}
	n := a.Rows * a.Cols
	d := descr
	if len(d) == 3 && d[0] == '=' || len(d) == 3 && d[0] == '|' {
		d = "<" + d[1:]
	}
	size := map[string]int{"<f2": 2, "<f4": 4, "<f8": 8, "<i4": 4, "<i8": 8}[d]
	if size == 0 {
		return nil, fmt.Errorf("%w: dtype %q not supported (want little-endian f2, f4, f8, i4 or i8)", errNpy, descr)
	}
	if !withData {
		return a, nil
	}
	if len(data) != n*size {
		return nil, fmt.Errorf("%w: header says %v %s (%d bytes) but %d data bytes follow", errNpy, shape, descr, n*size, len(data))
	}
	switch d {
	case "<f2":
		a.F16 = make([]uint16, n)
		for i := range a.F16 {
			a.F16[i] = binary.LittleEndian.Uint16(data[2*i:])
		}
	case "<f4":
		a.F32 = make([]float32, n)
		if n > 0 {
			copy(unsafe.Slice((*byte)(unsafe.Pointer(&a.F32[0])), 4*n), data)
		}
	case "<f8":
		a.F32 = make([]float32, n)
		for i := range a.F32 {
			a.F32[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:])))
		}
	case "<i4":
		a.I64 = make([]int64, n)
		for i := range a.I64 {
			a.I64[i] = int64(int32(binary.LittleEndian.Uint32(data[4*i:])))
		}
	case "<i8":
		a.I64 = make([]int64, n)
		for i := range a.I64 {
			a.I64[i] = int64(binary.LittleEndian.Uint64(data[8*i:]))
		}
	}
	return a, nil
}

func dictString(h, key string) (string, error) {
	i := strings.Index(h, "'"+key+"'")
	if i < 0 {
		return "", fmt.Errorf("%w: header has no %s", errNpy, key)
	}
	rest := h[i+len(key)+2:]
	q := strings.IndexByte(rest, '\'')
	if q < 0 {
		return "", fmt.Errorf("%w: bad %s", errNpy, key)
	}
	rest = rest[q+1:]
	e := strings.IndexByte(rest, '\'')
	if e < 0 {
		return "", fmt.Errorf("%w: bad %s", errNpy, key)
	}
	return rest[:e], nil
}

func dictShape(h string) ([]int, error) {
	i := strings.Index(h, "'shape'")
	if i < 0 {
		return nil, fmt.Errorf("%w: header has no shape", errNpy)
	}
	rest := h[i:]
	lo, hi := strings.IndexByte(rest, '('), strings.IndexByte(rest, ')')
	if lo < 0 || hi < lo {
		return nil, fmt.Errorf("%w: bad shape", errNpy)
	}
	var shape []int
	for _, f := range strings.Split(rest[lo+1:hi], ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("%w: bad shape %q", errNpy, rest[lo:hi+1])
		}
		shape = append(shape, v)
	}
	return shape, nil
}

// WriteNpyF32 writes rows×cols float32 values as a .npy file, atomically
// (a temporary file renamed into place).
func WriteNpyF32(path string, data []float32, rows, cols int) error {
	return writeNpy(path, "<f4", rows, cols, len(data), func(w io.Writer) error {
		return binary.Write(w, binary.LittleEndian, data)
	})
}

// WriteNpyF16 writes rows×cols float16 bit patterns as a .npy file.
func WriteNpyF16(path string, data []uint16, rows, cols int) error {
	return writeNpy(path, "<f2", rows, cols, len(data), func(w io.Writer) error {
		return binary.Write(w, binary.LittleEndian, data)
	})
}

// WriteNpyI32 writes rows×cols int32 values as a .npy file.
func WriteNpyI32(path string, data []int32, rows, cols int) error {
	return writeNpy(path, "<i4", rows, cols, len(data), func(w io.Writer) error {
		return binary.Write(w, binary.LittleEndian, data)
	})
}

func writeNpy(path, descr string, rows, cols, n int, body func(io.Writer) error) error {
	if rows*cols != n {
		return fmt.Errorf("bench: write %s: %d values for shape (%d, %d)", path, n, rows, cols)
	}
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%d, %d), }", descr, rows, cols)
	// Pad so that magic(6)+version(2)+len(2)+header+'\n' is a multiple of 64.
	pad := 64 - (10+len(h)+1)%64
	if pad == 64 {
		pad = 0
	}
	h += strings.Repeat(" ", pad) + "\n"
	tmp, err := os.CreateTemp(filepath.Dir(path), ".npy-*")
	if err != nil {
		return fmt.Errorf("bench: write npy: %w", err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriterSize(tmp, 1<<20)
	hdr := []byte("\x93NUMPY\x01\x00")
	hdr = binary.LittleEndian.AppendUint16(hdr, uint16(len(h)))
	hdr = append(hdr, h...)
	if _, err := w.Write(hdr); err != nil {
		tmp.Close()
		return fmt.Errorf("bench: write %s: %w", path, err)
	}
	if err := body(w); err != nil {
		tmp.Close()
		return fmt.Errorf("bench: write %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("bench: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("bench: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("bench: write npy: %w", err)
	}
	return nil
}

// ReadFvecs reads a .fvecs file (each vector: int32 dimension d, then d
// float32 values, little-endian), as used by the SIFT/GIST/Deep1B sets.
// .bvecs are not supported.
func ReadFvecs(path string) ([]float32, int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, fmt.Errorf("bench: read fvecs: %w", err)
	}
	if len(b) < 4 {
		return nil, 0, fmt.Errorf("bench: %s: empty fvecs file", path)
	}
	d := int(int32(binary.LittleEndian.Uint32(b)))
	if d <= 0 || len(b)%(4+4*d) != 0 {
		return nil, 0, fmt.Errorf("bench: %s: dimension %d does not divide the file length %d", path, d, len(b))
	}
	n := len(b) / (4 + 4*d)
	out := make([]float32, n*d)
	for i := range n {
		rec := b[i*(4+4*d):]
		if got := int(int32(binary.LittleEndian.Uint32(rec))); got != d {
			return nil, 0, fmt.Errorf("bench: %s: vector %d has dimension %d, want %d", path, i, got, d)
		}
		for j := range d {
			out[i*d+j] = math.Float32frombits(binary.LittleEndian.Uint32(rec[4+4*j:]))
		}
	}
	return out, d, nil
}

// ReadVectors reads base or query vectors from .npy (float16/32/64) or
// .fvecs and returns them as float32 rows with their dimension.
func ReadVectors(path string) ([]float32, int, error) {
	if strings.HasSuffix(path, ".fvecs") {
		return ReadFvecs(path)
	}
	a, err := ReadNpy(path)
	if err != nil {
		return nil, 0, err
	}
	switch {
	case a.F32 != nil:
		return a.F32, a.Cols, nil
	case a.F16 != nil:
		out := make([]float32, len(a.F16))
		vector.F16ToF32(out, a.F16)
		return out, a.Cols, nil
	}
	return nil, 0, fmt.Errorf("bench: %s: %s is not a float array", path, a.Descr)
}
