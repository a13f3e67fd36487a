#include "textflag.h"

// The kernels keep four 8-lane accumulators (32 elements per iteration),
// then 8 at a time, then a scalar tail. Lengths are taken from the first
// slice; the Go wrappers reslice the second one to match.

// func dotAVX2(a, b []float32) float32
TEXT ·dotAVX2(SB), NOSPLIT, $0-52
	MOVQ a_base+0(FP), SI
	MOVQ a_len+8(FP), CX
	MOVQ b_base+24(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

d32:
	CMPQ CX, $32
	JL   d8
	VMOVUPS (SI), Y4
	VMOVUPS 32(SI), Y5
	VMOVUPS 64(SI), Y6
	VMOVUPS 96(SI), Y7
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JMP  d32

d8:
	CMPQ CX, $8
	JL   dsum
	VMOVUPS (SI), Y4
	VFMADD231PS (DI), Y4, Y0
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  d8

dsum:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0

d1:
	TESTQ CX, CX
	JE    ddone
	VMOVSS (SI), X4
	VFMADD231SS (DI), X4, X0
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ CX
	JMP  d1

ddone:
	VZEROUPPER
	MOVSS X0, ret+48(FP)
	RET

// func dotF16AVX2(q []float32, h []uint16) float32
TEXT ·dotF16AVX2(SB), NOSPLIT, $0-52
	MOVQ q_base+0(FP), SI
	MOVQ q_len+8(FP), CX
	MOVQ h_base+24(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

h32:
	CMPQ CX, $32
	JL   h8
	VCVTPH2PS (DI), Y4
	VCVTPH2PS 16(DI), Y5
	VCVTPH2PS 32(DI), Y6
	VCVTPH2PS 48(DI), Y7
	VFMADD231PS (SI), Y4, Y0
	VFMADD231PS 32(SI), Y5, Y1
	VFMADD231PS 64(SI), Y6, Y2
	VFMADD231PS 96(SI), Y7, Y3
	ADDQ $128, SI
	ADDQ $64, DI
	SUBQ $32, CX
	JMP  h32

h8:
	CMPQ CX, $8
	JL   hsum
	VCVTPH2PS (DI), Y4
	VFMADD231PS (SI), Y4, Y0
	ADDQ $32, SI
	ADDQ $16, DI
	SUBQ $8, CX
	JMP  h8

hsum:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0

h1:
	TESTQ CX, CX
	JE    hdone
	VPXOR X4, X4, X4
	VPINSRW $0, (DI), X4, X4
	VCVTPH2PS X4, X4
	VFMADD231SS (SI), X4, X0
	ADDQ $4, SI
	ADDQ $2, DI
	DECQ CX
	JMP  h1

hdone:
	VZEROUPPER
	MOVSS X0, ret+48(FP)
	RET

// func f16ToF32AVX2(dst []float32, src []uint16)
// len(dst) must be >= len(src); the length is len(src).
TEXT ·f16ToF32AVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX

c8:
	CMPQ CX, $8
	JL   c1
	VCVTPH2PS (SI), Y0
	VMOVUPS Y0, (DI)
	ADDQ $16, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  c8

c1:
	TESTQ CX, CX
	JE    cdone
	VPXOR X0, X0, X0
	VPINSRW $0, (SI), X0, X0
	VCVTPH2PS X0, X0
	VMOVSS X0, (DI)
	ADDQ $2, SI
	ADDQ $4, DI
	DECQ CX
	JMP  c1

cdone:
	VZEROUPPER
	RET

// func prefetchAVX2(p []uint16)
// Touches every 64-byte line of p with PREFETCHT0.
TEXT ·prefetchAVX2(SB), NOSPLIT, $0-24
	MOVQ p_base+0(FP), AX
	MOVQ p_len+8(FP), CX
	SHLQ $1, CX

pf:
	CMPQ CX, $0
	JLE  pdone
	PREFETCHT0 (AX)
	ADDQ $64, AX
	SUBQ $64, CX
	JMP  pf

pdone:
	RET

// func prefetchL2AVX2(p []uint16)
// Touches every 64-byte line of p with PREFETCHT1: into the L2 cache, not
// L1, so the requests wait in L2's miss queue, which holds more of them
// than L1's (see Matrix.dots).
TEXT ·prefetchL2AVX2(SB), NOSPLIT, $0-24
	MOVQ p_base+0(FP), AX
	MOVQ p_len+8(FP), CX
	SHLQ $1, CX

pf2:
	CMPQ CX, $0
	JLE  pdone2
	PREFETCHT1 (AX)
	ADDQ $64, AX
	SUBQ $64, CX
	JMP  pf2

pdone2:
	RET

// func dotQ16AVX2(q []int16, c []uint8) int32
//
// Σ q[j]·c[j] in int32: 16 codes widened to int16 (VPMOVZXBW), multiplied
// by the query and summed in pairs (VPMADDWD), 64 a step over four
// accumulators. The caller bounds q so that no sum overflows (SQ8.Prepare).
TEXT ·dotQ16AVX2(SB), NOSPLIT, $0-52
	MOVQ q_base+0(FP), SI
	MOVQ q_len+8(FP), CX
	MOVQ c_base+24(FP), DI
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3

w64:
	CMPQ CX, $64
	JL   w16
	VPMOVZXBW (DI), Y4
	VPMOVZXBW 16(DI), Y5
	VPMOVZXBW 32(DI), Y6
	VPMOVZXBW 48(DI), Y7
	VPMADDWD  (SI), Y4, Y4
	VPMADDWD  32(SI), Y5, Y5
	VPMADDWD  64(SI), Y6, Y6
	VPMADDWD  96(SI), Y7, Y7
	VPADDD    Y4, Y0, Y0
	VPADDD    Y5, Y1, Y1
	VPADDD    Y6, Y2, Y2
	VPADDD    Y7, Y3, Y3
	ADDQ      $128, SI
	ADDQ      $64, DI
	SUBQ      $64, CX
	JMP       w64

w16:
	CMPQ CX, $16
	JL   wsum
	VPMOVZXBW (DI), Y4
	VPMADDWD  (SI), Y4, Y4
	VPADDD    Y4, Y0, Y0
	ADDQ      $32, SI
	ADDQ      $16, DI
	SUBQ      $16, CX
	JMP       w16

wsum:
	VPADDD       Y1, Y0, Y0
	VPADDD       Y3, Y2, Y2
	VPADDD       Y2, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0x4e, X0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0xb1, X0, X1
	VPADDD       X1, X0, X0
	VMOVD        X0, AX

w1:
	TESTQ   CX, CX
	JE      wdone
	MOVWLSX (SI), BX
	MOVBLZX (DI), DX
	IMULL   DX, BX
	ADDL    BX, AX
	ADDQ    $2, SI
	INCQ    DI
	DECQ    CX
	JMP     w1

wdone:
	VZEROUPPER
	MOVL AX, ret+48(FP)
	RET

// func dot3AVX2(row, q0, q1, q2 []float32) (s0, s1, s2 float32)
//
// Three dotAVX2(qi, row) at once: for each query the same accumulators,
// the same order of additions and the same reduction as dotAVX2, so each
// result equals dotAVX2's to the bit; the row is loaded once for the three,
// and twelve independent sums keep the FMA units busy where one query's
// four chains wait on FMA latency.
TEXT ·dot3AVX2(SB), NOSPLIT, $0-108
	MOVQ row_base+0(FP), DI
	MOVQ row_len+8(FP), CX
	MOVQ q0_base+24(FP), SI
	MOVQ q1_base+48(FP), R8
	MOVQ q2_base+72(FP), R9
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

t32:
	CMPQ CX, $32
	JL   t8
	VMOVUPS (DI), Y12
	VMOVUPS 32(DI), Y13
	VMOVUPS 64(DI), Y14
	VMOVUPS 96(DI), Y15
	VFMADD231PS (SI), Y12, Y0
	VFMADD231PS 32(SI), Y13, Y1
	VFMADD231PS 64(SI), Y14, Y2
	VFMADD231PS 96(SI), Y15, Y3
	VFMADD231PS (R8), Y12, Y4
	VFMADD231PS 32(R8), Y13, Y5
	VFMADD231PS 64(R8), Y14, Y6
	VFMADD231PS 96(R8), Y15, Y7
	VFMADD231PS (R9), Y12, Y8
	VFMADD231PS 32(R9), Y13, Y9
	VFMADD231PS 64(R9), Y14, Y10
	VFMADD231PS 96(R9), Y15, Y11
	ADDQ $128, DI
	ADDQ $128, SI
	ADDQ $128, R8
	ADDQ $128, R9
	SUBQ $32, CX
	JMP  t32

t8:
	CMPQ CX, $8
	JL   tsum
	VMOVUPS (DI), Y12
	VFMADD231PS (SI), Y12, Y0
	VFMADD231PS (R8), Y12, Y4
	VFMADD231PS (R9), Y12, Y8
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, R8
	ADDQ $32, R9
	SUBQ $8, CX
	JMP  t8

tsum:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VADDPS Y5, Y4, Y4
	VADDPS Y7, Y6, Y6
	VADDPS Y6, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VADDPS X5, X4, X4
	VHADDPS X4, X4, X4
	VHADDPS X4, X4, X4
	VADDPS Y9, Y8, Y8
	VADDPS Y11, Y10, Y10
	VADDPS Y10, Y8, Y8
	VEXTRACTF128 $1, Y8, X9
	VADDPS X9, X8, X8
	VHADDPS X8, X8, X8
	VHADDPS X8, X8, X8

t1:
	TESTQ CX, CX
	JE    tdone
	VMOVSS (DI), X12
	VFMADD231SS (SI), X12, X0
	VFMADD231SS (R8), X12, X4
	VFMADD231SS (R9), X12, X8
	ADDQ $4, DI
	ADDQ $4, SI
	ADDQ $4, R8
	ADDQ $4, R9
	DECQ CX
	JMP  t1

tdone:
	VZEROUPPER
	MOVSS X0, s0+96(FP)
	MOVSS X4, s1+100(FP)
	MOVSS X8, s2+104(FP)
	RET

// The AVX-512 kernels of a batch scan score one row against four, eight
// or twelve queries, for a length that is a multiple of 32 (the wrappers check).
// dotAVX2's four 8-lane accumulators of a query sit in two 16-lane
// registers: lanes 0–7 of the first are its first accumulator (elements
// 32t..32t+7), lanes 8–15 its second, and the second register holds the
// third and fourth. Each lane sums the same products in the same order,
// and SUM16 reduces them as dotAVX2 does, so every score equals dotAVX2's
// (and DotF16's) to the bit. The row goes to Z16 and Z17 once a
// 32-element step for all the queries; they are zeroed before VZEROUPPER,
// which clears only registers 0–15.

// ROW16F32 loads 32 float32 elements of the row into Z16 and Z17.
#define ROW16F32(lo, hi) \
	VMOVUPS lo, Z16; \
	VMOVUPS hi, Z17

// ROW16F16 loads 32 float16 elements of the row, widened (exactly), into
// Z16 and Z17.
#define ROW16F16(lo, hi) \
	VCVTPH2PS lo, Z16; \
	VCVTPH2PS hi, Z17

// FMA16 adds the step's products with the query at Q to its accumulators.
#define FMA16(Q, ZA, ZB) \
	VFMADD231PS (Q), Z16, ZA; \
	VFMADD231PS 64(Q), Z17, ZB

// SUM16 reduces a query's accumulators ZA and ZB (YA, YB, XA: the same
// registers' lower parts) into lane 0 of XA, as dotAVX2's dsum does;
// Y16, Y17 and X16 are scratch.
#define SUM16(ZA, ZB, YA, YB, XA) \
	VEXTRACTF64X4 $1, ZA, Y16; \
	VEXTRACTF64X4 $1, ZB, Y17; \
	VADDPS Y16, YA, YA; \
	VADDPS Y17, YB, YB; \
	VADDPS YB, YA, YA; \
	VEXTRACTF32X4 $1, YA, X16; \
	VADDPS X16, XA, XA; \
	VHADDPS XA, XA, XA; \
	VHADDPS XA, XA, XA

// func dot4AVX512(row, q0, q1, q2, q3 []float32) (s0, s1, s2, s3 float32)
//
// Four dotAVX2(qi, row) at once.
TEXT ·dot4AVX512(SB), NOSPLIT, $0-136
	MOVQ row_base+0(FP), DI
	MOVQ row_len+8(FP), CX
	MOVQ q0_base+24(FP), SI
	MOVQ q1_base+48(FP), R8
	MOVQ q2_base+72(FP), R9
	MOVQ q3_base+96(FP), R10
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7

dot432:
	CMPQ CX, $32
	JL   dot4sum
	ROW16F32(0(DI), 64(DI))
	FMA16(SI, Z0, Z1)
	FMA16(R8, Z2, Z3)
	FMA16(R9, Z4, Z5)
	FMA16(R10, Z6, Z7)
	ADDQ $128, DI
	ADDQ $128, SI
	ADDQ $128, R8
	ADDQ $128, R9
	ADDQ $128, R10
	SUBQ $32, CX
	JMP  dot432

dot4sum:
	SUM16(Z0, Z1, Y0, Y1, X0)
	VMOVSS X0, s0+120(FP)
	SUM16(Z2, Z3, Y2, Y3, X2)
	VMOVSS X2, s1+124(FP)
	SUM16(Z4, Z5, Y4, Y5, X4)
	VMOVSS X4, s2+128(FP)
	SUM16(Z6, Z7, Y6, Y7, X6)
	VMOVSS X6, s3+132(FP)
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VZEROUPPER
	RET

// func dot4F16AVX512(row []uint16, q0, q1, q2, q3 []float32) (s0, s1, s2, s3 float32)
//
// Four DotF16(qi, row) at once.
TEXT ·dot4F16AVX512(SB), NOSPLIT, $0-136
	MOVQ row_base+0(FP), DI
	MOVQ row_len+8(FP), CX
	MOVQ q0_base+24(FP), SI
	MOVQ q1_base+48(FP), R8
	MOVQ q2_base+72(FP), R9
	MOVQ q3_base+96(FP), R10
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7

dot4f1632:
	CMPQ CX, $32
	JL   dot4f16sum
	ROW16F16(0(DI), 32(DI))
	FMA16(SI, Z0, Z1)
	FMA16(R8, Z2, Z3)
	FMA16(R9, Z4, Z5)
	FMA16(R10, Z6, Z7)
	ADDQ $64, DI
	ADDQ $128, SI
	ADDQ $128, R8
	ADDQ $128, R9
	ADDQ $128, R10
	SUBQ $32, CX
	JMP  dot4f1632

dot4f16sum:
	SUM16(Z0, Z1, Y0, Y1, X0)
	VMOVSS X0, s0+120(FP)
	SUM16(Z2, Z3, Y2, Y3, X2)
	VMOVSS X2, s1+124(FP)
	SUM16(Z4, Z5, Y4, Y5, X4)
	VMOVSS X4, s2+128(FP)
	SUM16(Z6, Z7, Y6, Y7, X6)
	VMOVSS X6, s3+132(FP)
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VZEROUPPER
	RET

// func dot8F16AVX512(row []uint16, q0, q1, q2, q3, q4, q5, q6, q7 []float32) (s0, s1, s2, s3, s4, s5, s6, s7 float32)
//
// Eight DotF16(qi, row) at once.
TEXT ·dot8F16AVX512(SB), NOSPLIT, $0-248
	MOVQ row_base+0(FP), DI
	MOVQ row_len+8(FP), CX
	MOVQ q0_base+24(FP), SI
	MOVQ q1_base+48(FP), R8
	MOVQ q2_base+72(FP), R9
	MOVQ q3_base+96(FP), R10
	MOVQ q4_base+120(FP), R11
	MOVQ q5_base+144(FP), R12
	MOVQ q6_base+168(FP), R13
	MOVQ q7_base+192(FP), AX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15

dot8f1632:
	CMPQ CX, $32
	JL   dot8f16sum
	ROW16F16(0(DI), 32(DI))
	FMA16(SI, Z0, Z1)
	FMA16(R8, Z2, Z3)
	FMA16(R9, Z4, Z5)
	FMA16(R10, Z6, Z7)
	FMA16(R11, Z8, Z9)
	FMA16(R12, Z10, Z11)
	FMA16(R13, Z12, Z13)
	FMA16(AX, Z14, Z15)
	ADDQ $64, DI
	ADDQ $128, SI
	ADDQ $128, R8
	ADDQ $128, R9
	ADDQ $128, R10
	ADDQ $128, R11
	ADDQ $128, R12
	ADDQ $128, R13
	ADDQ $128, AX
	SUBQ $32, CX
	JMP  dot8f1632

dot8f16sum:
	SUM16(Z0, Z1, Y0, Y1, X0)
	VMOVSS X0, s0+216(FP)
	SUM16(Z2, Z3, Y2, Y3, X2)
	VMOVSS X2, s1+220(FP)
	SUM16(Z4, Z5, Y4, Y5, X4)
	VMOVSS X4, s2+224(FP)
	SUM16(Z6, Z7, Y6, Y7, X6)
	VMOVSS X6, s3+228(FP)
	SUM16(Z8, Z9, Y8, Y9, X8)
	VMOVSS X8, s4+232(FP)
	SUM16(Z10, Z11, Y10, Y11, X10)
	VMOVSS X10, s5+236(FP)
	SUM16(Z12, Z13, Y12, Y13, X12)
	VMOVSS X12, s6+240(FP)
	SUM16(Z14, Z15, Y14, Y15, X14)
	VMOVSS X14, s7+244(FP)
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VZEROUPPER
	RET

// SUM16H is SUM16 with Y24, Y25 and X24 as scratch, for the kernels whose
// accumulators include Z16 and Z17.
#define SUM16H(ZA, ZB, YA, YB, XA) \
	VEXTRACTF64X4 $1, ZA, Y24; \
	VEXTRACTF64X4 $1, ZB, Y25; \
	VADDPS Y24, YA, YA; \
	VADDPS Y25, YB, YB; \
	VADDPS YB, YA, YA; \
	VEXTRACTF32X4 $1, YA, X24; \
	VADDPS X24, XA, XA; \
	VHADDPS XA, XA, XA; \
	VHADDPS XA, XA, XA

// FMAP adds the products of the row in Z24 and Z25 with the packed query
// at off(SI) to its accumulators.
#define FMAP(off, ZA, ZB) \
	VFMADD231PS off(SI), Z24, ZA; \
	VFMADD231PS off+64(SI), Z25, ZB

// func dot12F16AVX512(row []uint16, qp []float32, s []float32)
//
// Twelve DotF16(qi, row) at once, the queries packed by pack12: for each
// 32-element step t, the step's 32 elements of q0, then of q1, ..., q11,
// so one pointer walks them all. Scores go to s[0:12].
TEXT ·dot12F16AVX512(SB), NOSPLIT, $0-72
	MOVQ row_base+0(FP), DI
	MOVQ row_len+8(FP), CX
	MOVQ qp_base+24(FP), SI
	MOVQ s_base+48(FP), DX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23

dot12f1632:
	CMPQ CX, $32
	JL   dot12f16sum
	VCVTPH2PS 0(DI), Z24
	VCVTPH2PS 32(DI), Z25
	FMAP(0, Z0, Z1)
	FMAP(128, Z2, Z3)
	FMAP(256, Z4, Z5)
	FMAP(384, Z6, Z7)
	FMAP(512, Z8, Z9)
	FMAP(640, Z10, Z11)
	FMAP(768, Z12, Z13)
	FMAP(896, Z14, Z15)
	FMAP(1024, Z16, Z17)
	FMAP(1152, Z18, Z19)
	FMAP(1280, Z20, Z21)
	FMAP(1408, Z22, Z23)
	ADDQ $64, DI
	ADDQ $1536, SI
	SUBQ $32, CX
	JMP  dot12f1632

dot12f16sum:
	SUM16H(Z0, Z1, Y0, Y1, X0)
	VMOVSS X0, 0(DX)
	SUM16H(Z2, Z3, Y2, Y3, X2)
	VMOVSS X2, 4(DX)
	SUM16H(Z4, Z5, Y4, Y5, X4)
	VMOVSS X4, 8(DX)
	SUM16H(Z6, Z7, Y6, Y7, X6)
	VMOVSS X6, 12(DX)
	SUM16H(Z8, Z9, Y8, Y9, X8)
	VMOVSS X8, 16(DX)
	SUM16H(Z10, Z11, Y10, Y11, X10)
	VMOVSS X10, 20(DX)
	SUM16H(Z12, Z13, Y12, Y13, X12)
	VMOVSS X12, 24(DX)
	SUM16H(Z14, Z15, Y14, Y15, X14)
	VMOVSS X14, 28(DX)
	VMOVAPS Z16, Z0
	VMOVAPS Z17, Z1
	VMOVAPS Z18, Z2
	VMOVAPS Z19, Z3
	VMOVAPS Z20, Z4
	VMOVAPS Z21, Z5
	VMOVAPS Z22, Z6
	VMOVAPS Z23, Z7
	SUM16H(Z0, Z1, Y0, Y1, X0)
	VMOVSS X0, 32(DX)
	SUM16H(Z2, Z3, Y2, Y3, X2)
	VMOVSS X2, 36(DX)
	SUM16H(Z4, Z5, Y4, Y5, X4)
	VMOVSS X4, 40(DX)
	SUM16H(Z6, Z7, Y6, Y7, X6)
	VMOVSS X6, 44(DX)
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
	VPXORD Z24, Z24, Z24
	VPXORD Z25, Z25, Z25
	VZEROUPPER
	RET

// func axpyAVX2(a float32, x, y []float32)
// y[i] += a·x[i] for i < len(y), 32 then 8 lanes at a time, then a scalar
// tail; x is at least as long as y (the Go wrapper reslices it).
TEXT ·axpyAVX2(SB), NOSPLIT, $0-56
	VBROADCASTSS a+0(FP), Y0
	MOVQ x_base+8(FP), SI
	MOVQ y_base+32(FP), DI
	MOVQ y_len+40(FP), CX

a32:
	CMPQ CX, $32
	JL   a8
	VMOVUPS (DI), Y1
	VMOVUPS 32(DI), Y2
	VMOVUPS 64(DI), Y3
	VMOVUPS 96(DI), Y4
	VFMADD231PS (SI), Y0, Y1
	VFMADD231PS 32(SI), Y0, Y2
	VFMADD231PS 64(SI), Y0, Y3
	VFMADD231PS 96(SI), Y0, Y4
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	VMOVUPS Y3, 64(DI)
	VMOVUPS Y4, 96(DI)
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JMP  a32

a8:
	CMPQ CX, $8
	JL   a1
	VMOVUPS (DI), Y1
	VFMADD231PS (SI), Y0, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  a8

a1:
	TESTQ CX, CX
	JE    adone
	VMOVSS (DI), X1
	VFMADD231SS (SI), X0, X1
	VMOVSS X1, (DI)
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ CX
	JMP  a1

adone:
	VZEROUPPER
	RET
