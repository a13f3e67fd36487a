package vector

import "golang.org/x/sys/cpu"

// useAsm selects the AVX2+FMA+F16C kernels in vec_amd64.s. The OS must
// also save YMM state, which cpu.X86.HasAVX2 already implies.
var useAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C

// useAVX512 adds the 16-lane kernels of a batch scan (dot4AVX512,
// dot4F16AVX512, dot8F16AVX512, dot12F16AVX512); cpu.X86.HasAVX512F
// already checks that the OS saves the ZMM state.
var useAVX512 = useAsm && cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL

//go:noescape
func dotAVX2(a, b []float32) float32

//go:noescape
func dotF16AVX2(q []float32, h []uint16) float32

//go:noescape
func dot3AVX2(row, q0, q1, q2 []float32) (s0, s1, s2 float32)

//go:noescape
func dot4AVX512(row, q0, q1, q2, q3 []float32) (s0, s1, s2, s3 float32)

//go:noescape
func dot4F16AVX512(row []uint16, q0, q1, q2, q3 []float32) (s0, s1, s2, s3 float32)

//go:noescape
func dot8F16AVX512(row []uint16, q0, q1, q2, q3, q4, q5, q6, q7 []float32) (s0, s1, s2, s3, s4, s5, s6, s7 float32)

//go:noescape
func dot12F16AVX512(row []uint16, qp []float32, s []float32)

//go:noescape
func f16ToF32AVX2(dst []float32, src []uint16)

//go:noescape
func prefetchAVX2(p []uint16)

//go:noescape
func prefetchL2AVX2(p []uint16)

//go:noescape
func dotQ16AVX2(q []int16, c []uint8) int32

//go:noescape
func axpyAVX2(a float32, x, y []float32)
