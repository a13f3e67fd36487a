package bench

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/laiondb/laiondb/internal/npy"
	"github.com/laiondb/laiondb/vector"
)

// The harness reads and writes .npy files through package internal/npy
// (which the store's ingest uses too); this file adds the .fvecs format of
// the SIFT/GIST/Deep1B sets and a matrix view of a float array.

// npyMatrix returns a float array as a vector.Matrix sharing its storage.
func npyMatrix(a *npy.Array) (vector.Matrix, error) {
	switch {
	case a.F16 != nil:
		return vector.Matrix{Dim: a.Cols, F16: a.F16}, nil
	case a.F32 != nil:
		return vector.Matrix{Dim: a.Cols, F32: a.F32}, nil
	}
	return vector.Matrix{}, fmt.Errorf("bench: %s array is not float", a.DType)
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
	a, err := npy.Read(path)
	if err != nil {
		return nil, 0, fmt.Errorf("bench: %w", err)
	}
	switch {
	case a.F32 != nil:
		return a.F32, a.Cols, nil
	case a.F16 != nil:
		out := make([]float32, len(a.F16))
		vector.F16ToF32(out, a.F16)
		return out, a.Cols, nil
	}
	return nil, 0, fmt.Errorf("bench: %s: %s is not a float array", path, a.DType)
}
