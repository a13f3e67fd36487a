package vector

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
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

func TestSQ8(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, dim := range []int{1, 7, 8, 31, 32, 33, 512} {
		n := 50
		f := make([]float32, n*dim)
		for i := range f {
			f[i] = float32(r.NormFloat64()) * 0.1
		}
		m := Matrix{Dim: dim, F32: f}
		lo, step := TrainSQ8(m, 1)
		s := &SQ8{Dim: dim, Lo: lo, Step: step, Codes: make([]uint8, n*dim)}
		s.Encode(m, 0, n)
		q := make([]float32, dim)
		for j := range q {
			q[j] = float32(r.NormFloat64())
		}
		var p SQ8Query
		s.Prepare(q, &p)
		var qmax int
		for _, x := range p.q {
			qmax = max(qmax, int(x), -int(x))
		}
		if want := min(32767, math.MaxInt32/(255*dim)); qmax != want {
			t.Fatalf("dim %d: largest query value %d, want %d", dim, qmax, want)
		}
		for i := 0; i < n; i++ {
			// The kernel against the generic loop, and the approximation
			// against the exact product: each component is off by at most
			// half a step, plus the query's rounding.
			c := s.Codes[i*dim : (i+1)*dim]
			if a, g := dotQ16AVX2(p.q, c), dotQ16Generic(p.q, c); a != g {
				t.Fatalf("dim %d row %d: kernel %v, generic %v", dim, i, a, g)
			}
			var bound float64
			for j := range q {
				bound += math.Abs(float64(q[j])) * float64(step[j]) / 2
			}
			exact := Dot(q, f[i*dim:(i+1)*dim])
			if got := s.Dot(&p, i); math.Abs(float64(got-exact)) > bound*1.01+p.bound()+1e-5 {
				t.Fatalf("dim %d row %d: approx %v, exact %v, bound %v + %v", dim, i, got, exact, bound, p.bound())
			}
		}
		// A zero query scores every row 0.
		s.Prepare(make([]float32, dim), &p)
		if got := s.Dot(&p, 0); got != 0 {
			t.Fatalf("dim %d: zero query scores %v", dim, got)
		}
	}
	// Out-of-range values clamp; a constant component has step 0.
	m := Matrix{Dim: 2, F32: []float32{0, 1, 1, 1}}
	lo, step := TrainSQ8(m, 1)
	s := &SQ8{Dim: 2, Lo: lo, Step: step, Codes: make([]uint8, 6)}
	s.Encode(Matrix{Dim: 2, F32: []float32{0, 1, 1, 1, -5, 7}}, 0, 3)
	if step[1] != 0 || string(s.Codes) != "\x00\x00\xff\x00\x00\x00" {
		t.Errorf("step %v codes %q", step, s.Codes)
	}
}

func TestBitsetFillClearClone(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 65, 130} {
		b := NewBitset(n)
		b.Fill()
		if b.Count() != n {
			t.Fatalf("n=%d: Fill holds %d rows", n, b.Count())
		}
		c := b.Clone()
		if n > 0 {
			b.Clear(uint32(n - 1))
			if b.Contains(uint32(n-1)) || b.Count() != n-1 || c.Count() != n {
				t.Fatalf("n=%d: after Clear %d (clone %d)", n, b.Count(), c.Count())
			}
		}
	}
}

// TestBatchKernelsBitExact: the kernels of a batch scan (dot3, dot4,
// dot8F16, dot12F16) give each query exactly Dot's float32, on values of
// mixed magnitude where any change in the order of additions shows.
func TestBatchKernelsBitExact(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	mixed := func(n int) []float32 {
		v := randF32(r, n)
		for i := range v {
			v[i] *= float32(math.Pow(10, float64(r.IntN(9)-4)))
		}
		return v
	}
	ran4 := false
	for _, n := range []int{0, 8, 24, 32, 40, 64, 96, 100, 512, 544, 768, 1024} {
		for range 20 {
			row := mixed(n)
			q := [4][]float32{mixed(n), mixed(n), mixed(n), mixed(n)}
			var want [4]float32
			for i := range q {
				want[i] = Dot(q[i], row)
			}
			s0, s1, s2 := dot3(row, q[0], q[1], q[2])
			if got := [3]float32{s0, s1, s2}; got != [3]float32(want[:3]) {
				t.Fatalf("dot3 n=%d: %v, Dot %v", n, got, want[:3])
			}
			if !has4(n) {
				continue
			}
			ran4 = true
			s0, s1, s2, s3 := dot4(row, q[0], q[1], q[2], q[3])
			if got := [4]float32{s0, s1, s2, s3}; got != want {
				t.Fatalf("dot4 n=%d: %v, Dot %v", n, got, want)
			}
			h := make([]uint16, n)
			F32ToF16(h, row)
			for i := range q {
				want[i] = DotF16(q[i], h)
			}
			s0, s1, s2, s3 = dot4F16(h, q[0], q[1], q[2], q[3])
			if got := [4]float32{s0, s1, s2, s3}; got != want {
				t.Fatalf("dot4F16 n=%d: %v, DotF16 %v", n, got, want)
			}
			q8 := [][]float32{q[3], q[2], q[1], q[0], q[0], q[1], q[2], q[3]}
			got8 := make([]float32, 8)
			dot8F16(h, q8, got8)
			want8 := []float32{want[3], want[2], want[1], want[0], want[0], want[1], want[2], want[3]}
			if !slices.Equal(got8, want8) {
				t.Fatalf("dot8F16 n=%d: %v, DotF16 %v", n, got8, want8)
			}
			q12 := append(q8, q[1], q[3], q[0], q[2])
			got12 := make([]float32, 12)
			dot12F16(h, pack12(q12, n), got12)
			if want12 := append(want8, want[1], want[3], want[0], want[2]); !slices.Equal(got12, want12) {
				t.Fatalf("dot12F16 n=%d: %v, DotF16 %v", n, got12, want12)
			}
		}
	}
	t.Logf("AVX-512 kernels: available %v, checked %v", useAVX512, ran4)
}

// TestPrefetchHead asks for the head of every row, last included, of
// float16 rows shorter and longer than a line, for more lines than a row
// holds: it must stay inside the row and leave the rows as they were.
func TestPrefetchHead(t *testing.T) {
	for _, dim := range []int{8, 40, 512} {
		m := Matrix{Dim: dim, F16: make([]uint16, 3*dim)}
		for i := range m.F16 {
			m.F16[i] = 0x3c00 // 1.0
		}
		q := make([]float32, dim)
		for i := range q {
			q[i] = 1
		}
		for i := 0; i < m.Len(); i++ {
			for _, lines := range []int{1, 4, 100} {
				m.PrefetchHead(i, lines)
			}
			if got := m.Dot(q, i); got != float32(dim) {
				t.Fatalf("dim %d row %d: dot %v after PrefetchHead, want %d", dim, i, got, dim)
			}
		}
		Matrix{Dim: dim, F32: make([]float32, dim)}.PrefetchHead(0, 4)
	}
}

func TestDotQ16(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, dim := range []int{1, 15, 16, 17, 63, 64, 65, 100, 512, 768} {
		q := make([]int16, dim)
		c := make([]uint8, dim)
		for trial := 0; trial < 20; trial++ {
			lim := int(math.MaxInt32 / (255 * dim))
			for j := range q {
				q[j] = int16(r.IntN(2*lim+1) - lim)
				c[j] = uint8(r.IntN(256))
			}
			if trial == 0 { // the extremes: every product at the bound
				for j := range q {
					q[j], c[j] = int16(lim), 255
				}
			}
			var want int64
			for j := range q {
				want += int64(q[j]) * int64(c[j])
			}
			if a, g := dotQ16AVX2(q, c), dotQ16Generic(q, c); int64(a) != want || int64(g) != want {
				t.Fatalf("dim %d trial %d: kernel %d, generic %d, want %d", dim, trial, a, g, want)
			}
		}
	}
}

func BenchmarkDotQ16(b *testing.B) {
	q := make([]int16, 512)
	c := make([]uint8, 512)
	for i := range q {
		q[i], c[i] = int16(i), uint8(i)
	}
	var s int32
	for b.Loop() {
		s += dotQ16AVX2(q, c)
	}
	_ = s
}
