#include "textflag.h"

DATA iota8<>+0(SB)/4, $0
DATA iota8<>+4(SB)/4, $1
DATA iota8<>+8(SB)/4, $2
DATA iota8<>+12(SB)/4, $3
DATA iota8<>+16(SB)/4, $4
DATA iota8<>+20(SB)/4, $5
DATA iota8<>+24(SB)/4, $6
DATA iota8<>+28(SB)/4, $7
GLOBL iota8<>(SB), RODATA|NOPTR, $32

DATA philoxConst<>+0(SB)/4, $0xD2511F53
DATA philoxConst<>+4(SB)/4, $0xCD9E8D57
DATA philoxConst<>+8(SB)/4, $0x9E3779B9
DATA philoxConst<>+12(SB)/4, $0xBB67AE85
DATA philoxConst<>+16(SB)/4, $8
GLOBL philoxConst<>(SB), RODATA|NOPTR, $20

// func philox8AVX2(first, c1, c2, c3, k0, k1 uint32, l0, l1, l2, l3 *uint32, n int)
//
// The Philox4x32-10 blocks of counters (first+i, c1, c2, c3) for i in [0, n),
// n a multiple of 8, eight at a time: word j of block i goes to lj[i]. Each
// 32×32→64-bit product of a round is split into its high and low words as
// the scalar rounds split it.
TEXT ·philox8AVX2(SB), NOSPLIT, $0-64
	MOVQ         l0+24(FP), SI
	MOVQ         l1+32(FP), DI
	MOVQ         l2+40(FP), R9
	MOVQ         l3+48(FP), R10
	MOVQ         n+56(FP), CX
	VPBROADCASTD philoxConst<>+0(SB), Y5
	VPBROADCASTD philoxConst<>+4(SB), Y6
	VPBROADCASTD philoxConst<>+8(SB), Y9
	VPBROADCASTD philoxConst<>+12(SB), Y10
	MOVL         first+0(FP), AX
	VMOVD        AX, X4
	VPBROADCASTD X4, Y4
	VPADDD       iota8<>(SB), Y4, Y4 // word 0 of the next eight counters
	MOVL         c1+4(FP), BX
	MOVL         c2+8(FP), R11
	MOVL         c3+12(FP), R12
	MOVL         k0+16(FP), R13
	MOVL         k1+20(FP), AX
	XORQ         R8, R8

ploop:
	CMPQ         R8, CX
	JGE          pdone
	VMOVDQA      Y4, Y0
	VMOVD        BX, X1
	VPBROADCASTD X1, Y1
	VMOVD        R11, X2
	VPBROADCASTD X2, Y2
	VMOVD        R12, X3
	VPBROADCASTD X3, Y3
	VMOVD        R13, X7
	VPBROADCASTD X7, Y7
	VMOVD        AX, X8
	VPBROADCASTD X8, Y8
	MOVQ         $10, DX

round:
	// p0 = M0·c0: high words in Y13, low words in Y14.
	VPMULUDQ Y5, Y0, Y11
	VPSRLQ   $32, Y0, Y12
	VPMULUDQ Y5, Y12, Y12
	VPSRLQ   $32, Y11, Y13
	VPBLENDD $0xAA, Y12, Y13, Y13
	VPSLLQ   $32, Y12, Y14
	VPBLENDD $0xAA, Y14, Y11, Y14

	// p1 = M1·c2: high words in Y15, low words in Y11.
	VPMULUDQ Y6, Y2, Y11
	VPSRLQ   $32, Y2, Y12
	VPMULUDQ Y6, Y12, Y12
	VPSRLQ   $32, Y11, Y15
	VPBLENDD $0xAA, Y12, Y15, Y15
	VPSLLQ   $32, Y12, Y12
	VPBLENDD $0xAA, Y12, Y11, Y11

	// c0, c1, c2, c3 = hi(p1)^c1^k0, lo(p1), hi(p0)^c3^k1, lo(p0)
	VPXOR   Y1, Y15, Y0
	VPXOR   Y7, Y0, Y0
	VMOVDQA Y11, Y1
	VPXOR   Y3, Y13, Y2
	VPXOR   Y8, Y2, Y2
	VMOVDQA Y14, Y3
	VPADDD  Y9, Y7, Y7
	VPADDD  Y10, Y8, Y8
	DECQ    DX
	JNZ     round

	VMOVDQU Y0, (SI)(R8*4)
	VMOVDQU Y1, (DI)(R8*4)
	VMOVDQU Y2, (R9)(R8*4)
	VMOVDQU Y3, (R10)(R8*4)
	VPBROADCASTD philoxConst<>+16(SB), Y11 // 8
	VPADDD       Y11, Y4, Y4
	ADDQ     $8, R8
	JMP      ploop

pdone:
	VZEROUPPER
	RET

