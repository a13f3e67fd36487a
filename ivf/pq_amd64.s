#include "textflag.h"

// func estimatesAsm(table *float32, codes *byte, n, sub int, dst *float32)
//
// For each of n codes: four partial sums a, b, c, d take the table entries
// of pieces 8i, 8i+1, 8i+2, 8i+3 and then 8i+4 … 8i+7, in that order, and
// the estimate is (a+b)+(c+d): the order of estimatesGo, so both give the
// same bits. Each piece's 256 entries are 1,024 bytes of the table.
TEXT ·estimatesAsm(SB), NOSPLIT, $0-40
	MOVQ table+0(FP), DI
	MOVQ codes+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ sub+24(FP), R8
	MOVQ dst+32(FP), DX
	TESTQ CX, CX
	JEQ  done

code:
	XORPS X0, X0
	XORPS X1, X1
	XORPS X2, X2
	XORPS X3, X3
	MOVQ  DI, R9
	MOVQ  R8, R10

piece:
	MOVBLZX 0(SI), AX
	MOVBLZX 1(SI), BX
	MOVBLZX 2(SI), R11
	MOVBLZX 3(SI), R12
	ADDSS   0(R9)(AX*4), X0
	ADDSS   1024(R9)(BX*4), X1
	ADDSS   2048(R9)(R11*4), X2
	ADDSS   3072(R9)(R12*4), X3
	MOVBLZX 4(SI), AX
	MOVBLZX 5(SI), BX
	MOVBLZX 6(SI), R11
	MOVBLZX 7(SI), R12
	ADDSS   4096(R9)(AX*4), X0
	ADDSS   5120(R9)(BX*4), X1
	ADDSS   6144(R9)(R11*4), X2
	ADDSS   7168(R9)(R12*4), X3
	ADDQ    $8, SI
	ADDQ    $8192, R9
	SUBQ    $8, R10
	JNE     piece

	ADDSS X1, X0
	ADDSS X3, X2
	ADDSS X2, X0
	MOVSS X0, 0(DX)
	ADDQ  $4, DX
	DECQ  CX
	JNE   code

done:
	RET
