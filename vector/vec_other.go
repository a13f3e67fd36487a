//go:build !amd64

package vector

const (
	useAsm    = false
	useAVX512 = false
)

func dotAVX2(a, b []float32) float32             { return dotGeneric(a, b) }
func dotF16AVX2(q []float32, h []uint16) float32 { return dotF16Generic(q, h) }

func dot3AVX2(row, q0, q1, q2 []float32) (s0, s1, s2 float32) {
	return dotGeneric(q0, row), dotGeneric(q1, row), dotGeneric(q2, row)
}
func dot4AVX512(row, q0, q1, q2, q3 []float32) (s0, s1, s2, s3 float32) {
	return dotGeneric(q0, row), dotGeneric(q1, row), dotGeneric(q2, row), dotGeneric(q3, row)
}

func dot4F16AVX512(row []uint16, q0, q1, q2, q3 []float32) (s0, s1, s2, s3 float32) {
	return dotF16Generic(q0, row), dotF16Generic(q1, row), dotF16Generic(q2, row), dotF16Generic(q3, row)
}

func dot8F16AVX512(row []uint16, q0, q1, q2, q3, q4, q5, q6, q7 []float32) (s0, s1, s2, s3, s4, s5, s6, s7 float32) {
	return dotF16Generic(q0, row), dotF16Generic(q1, row), dotF16Generic(q2, row), dotF16Generic(q3, row),
		dotF16Generic(q4, row), dotF16Generic(q5, row), dotF16Generic(q6, row), dotF16Generic(q7, row)
}

func dot12F16AVX512(row []uint16, qp []float32, s []float32) {
	n := len(row)
	for j := range s[:12] {
		q := make([]float32, 0, n)
		for t := 0; t < n; t += 32 {
			q = append(q, qp[(t/32*12+j)*32:][:32]...)
		}
		s[j] = dotF16Generic(q, row)
	}
}

func f16ToF32AVX2(dst []float32, src []uint16) { f16ToF32Generic(dst, src) }

func dotQ16AVX2(q []int16, c []uint8) int32 { return dotQ16Generic(q, c) }

func prefetchAVX2(p []uint16) {}

func prefetchL2AVX2(p []uint16) {}

func axpyAVX2(a float32, x, y []float32) { axpyGeneric(a, x, y) }
