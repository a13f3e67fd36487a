package vec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func randF32(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func randF16(r *rand.Rand, n int) []uint16 {
	h := make([]uint16, n)
	F32ToF16(h, randF32(r, n))
	return h
}

// close reports whether the kernels agree up to float32 summation order.
func close(got, want float32, n int) bool {
	tol := 1e-5 * float64(n+1) * 4
	return math.Abs(float64(got-want)) <= tol
}

func TestKernelsMatchGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for n := 0; n <= 1100; n++ {
		if n > 80 && n%7 != 0 && n != 512 && n != 768 {
			continue
		}
		a, b := randF32(r, n), randF32(r, n)
		h := randF16(r, n)
		if got, want := Dot(a, b), dotGeneric(a, b); !close(got, want, n) {
			t.Errorf("Dot n=%d: %v, generic %v", n, got, want)
		}
		if got, want := DotF16(a, h), dotF16Generic(a, h); !close(got, want, n) {
			t.Errorf("DotF16 n=%d: %v, generic %v", n, got, want)
		}
		got := make([]float32, n+3)
		want := make([]float32, n+3)
		got[n], want[n] = 42, 42
		F16ToF32(got, h)
		f16ToF32Generic(want, h)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("F16ToF32 n=%d: [%d] = %v, generic %v", n, i, got[i], want[i])
			}
		}
	}
}

func TestF16Special(t *testing.T) {
	// Every float16 bit pattern converts exactly like the table (NaNs stay NaN).
	src := make([]uint16, 1<<16)
	for i := range src {
		src[i] = uint16(i)
	}
	got := make([]float32, len(src))
	F16ToF32(got, src)
	for i, f := range got {
		w := f16table[i]
		if f != w && !(f != f && w != w) {
			t.Fatalf("F16ToF32(%#04x) = %v, want %v", i, f, w)
		}
	}
}

func TestMatrix(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 3))
	f := randF32(r, 5*7)
	h := make([]uint16, len(f))
	F32ToF16(h, f)
	m16 := Matrix{Dim: 7, F16: h}
	m32 := Matrix{Dim: 7, F32: f}
	if m16.Len() != 5 || m32.Len() != 5 || (Matrix{}).Len() != 0 {
		t.Fatal("Len")
	}
	q := randF32(r, 7)
	for i := 0; i < 5; i++ {
		if !close(m16.Dot(q, i), DotF16(q, h[i*7:]), 7) || !close(m32.Dot(q, i), dotGeneric(q, f[i*7:i*7+7]), 7) {
			t.Fatal("Dot")
		}
	}
	if s := m16.Slice(1, 3); s.Len() != 2 || s.F16[0] != h[7] {
		t.Fatal("Slice")
	}
	v := []float32{3, 4}
	if n := Normalize(v); n != 5 || v[0] != 0.6 {
		t.Fatal("Normalize")
	}
}

func BenchmarkDot(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, dim := range []int{512, 768} {
		x, y := randF32(r, dim), randF32(r, dim)
		h := randF16(r, dim)
		dst := make([]float32, dim)
		for _, k := range []struct {
			name string
			fn   func()
		}{
			{"f32", func() { Dot(x, y) }},
			{"f32-generic", func() { dotGeneric(x, y) }},
			{"f16", func() { DotF16(x, h) }},
			{"f16-generic", func() { dotF16Generic(x, h) }},
			{"f16tof32", func() { F16ToF32(dst, h) }},
			{"f16tof32-generic", func() { f16ToF32Generic(dst, h) }},
		} {
			b.Run(fmt.Sprintf("kernel=%s/dim=%d", k.name, dim), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					k.fn()
				}
			})
		}
	}
}
