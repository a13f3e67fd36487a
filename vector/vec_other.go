//go:build !amd64

package vector

const useAsm = false

func dotAVX2(a, b []float32) float32             { return dotGeneric(a, b) }
func dotF16AVX2(q []float32, h []uint16) float32 { return dotF16Generic(q, h) }

func dot3AVX2(row, q0, q1, q2 []float32) (s0, s1, s2 float32) {
	return dotGeneric(q0, row), dotGeneric(q1, row), dotGeneric(q2, row)
}
func f16ToF32AVX2(dst []float32, src []uint16) { f16ToF32Generic(dst, src) }

func dotQ8AVX2(q []float32, c []uint8) float32 { return dotQ8Generic(q, c) }

func prefetchAVX2(p []uint16) {}
