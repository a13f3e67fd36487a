package bench

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/laiondb/laiondb/internal/npy"
	"github.com/laiondb/laiondb/vector"
)

func TestNpyRoundTrip(t *testing.T) {
	dir := t.TempDir()
	f32 := []float32{1.5, -2, 6e-8, 1e-5, 65504, 0}
	p := filepath.Join(dir, "a.npy")
	if err := npy.WriteFloat32(p, f32, 3); err != nil {
		t.Fatal(err)
	}
	a, err := npy.Read(p)
	if err != nil {
		t.Fatal(err)
	}
	if a.Rows != 2 || a.Cols != 3 || !slices.Equal(a.F32, f32) {
		t.Fatalf("got %d×%d %v", a.Rows, a.Cols, a.F32)
	}
	// float16 bit patterns as numpy writes them, including subnormals
	// (0x0001 = 2^-24, 0x00a8 = 1.0014e-05) and -0.
	f16 := []uint16{15872, 49152, 1, 168, 31743, 32768}
	if err := npy.WriteFloat16(p, f16, 2); err != nil {
		t.Fatal(err)
	}
	v, d, err := ReadVectors(p)
	if err != nil || d != 2 {
		t.Fatal(err, d)
	}
	want := []float32{1.5, -2, float32(math.Ldexp(1, -24)), float32(168 * math.Ldexp(1, -24)), 65504, float32(math.Copysign(0, -1))}
	for i := range want {
		if v[i] != want[i] || math.Signbit(float64(v[i])) != math.Signbit(float64(want[i])) {
			t.Errorf("f16 %d: got %g want %g", i, v[i], want[i])
		}
	}
	i32 := []int32{7, -1, 3, 4}
	if err := npy.WriteInt32(p, i32, 2); err != nil {
		t.Fatal(err)
	}
	if a, err = npy.Read(p); err != nil || !slices.Equal(a.I64, []int64{7, -1, 3, 4}) {
		t.Fatal(err, a.I64)
	}
	// A header that lies about the shape is an error naming the file.
	b, _ := os.ReadFile(p)
	if err := os.WriteFile(p, b[:len(b)-4], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := npy.Read(p); err == nil || !strings.Contains(err.Error(), "a.npy") {
		t.Fatalf("truncated npy: err = %v", err)
	}
}

func TestFvecs(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.fvecs")
	var b []byte
	for _, row := range [][]float32{{1, 2, 3}, {4, 5, 6}} {
		b = append(b, 3, 0, 0, 0)
		for _, x := range row {
			u := math.Float32bits(x)
			b = append(b, byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
		}
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	v, d, err := ReadVectors(p)
	if err != nil || d != 3 || !slices.Equal(v, []float32{1, 2, 3, 4, 5, 6}) {
		t.Fatal(v, d, err)
	}
	_ = vector.Norm
}
