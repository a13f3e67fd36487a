#include "textflag.h"

// func dotsI8Asm(q *int16, v *int8, dim, n int, dst *int32)
//
// For each of n rows: 32 values a step, the row's int8 values widened to
// int16 (VPMOVSXBW), multiplied by q's and added in pairs (VPMADDWD) into
// two accumulators of eight int32 lanes, which are summed at the end.
// Integer sums: the order does not change the result.
TEXT ·dotsI8Asm(SB), NOSPLIT, $0-40
	MOVQ q+0(FP), DI
	MOVQ v+8(FP), SI
	MOVQ dim+16(FP), R8
	MOVQ n+24(FP), CX
	MOVQ dst+32(FP), DX
	TESTQ CX, CX
	JEQ  done

row:
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	MOVQ  DI, R9
	MOVQ  R8, R10

step:
	VPMOVSXBW (SI), Y2
	VPMOVSXBW 16(SI), Y3
	VPMADDWD  (R9), Y2, Y2
	VPMADDWD  32(R9), Y3, Y3
	VPADDD    Y2, Y0, Y0
	VPADDD    Y3, Y1, Y1
	ADDQ      $32, SI
	ADDQ      $64, R9
	SUBQ      $32, R10
	JNE       step

	VPADDD       Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0x4e, X0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0xb1, X0, X1
	VPADDD       X1, X0, X0
	VMOVD        X0, (DX)
	ADDQ         $4, DX
	DECQ         CX
	JNE          row

	VZEROUPPER

done:
	RET
