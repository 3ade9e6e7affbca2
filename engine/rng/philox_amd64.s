#include "textflag.h"

// Philox4x32-10 on eight blocks at once: Y0..Y3 hold words 0..3 of the
// eight counters, Y4/Y5 the round keys, Y6/Y7 the multipliers, Y8/Y9 the
// Weyl increments. VPMULUDQ multiplies the even 32-bit lanes into 64-bit
// products; the odd lanes are shifted down, multiplied, and the high and
// low halves of both are blended back into place.

#define ROUND \
	VPMULUDQ Y6, Y0, Y10; \
	VPSRLQ $32, Y0, Y11; \
	VPMULUDQ Y6, Y11, Y11; \
	VPSRLQ $32, Y10, Y12; \
	VPBLENDD $0xAA, Y11, Y12, Y12; \
	VPSLLQ $32, Y11, Y11; \
	VPBLENDD $0xAA, Y11, Y10, Y13; \
	VPMULUDQ Y7, Y2, Y10; \
	VPSRLQ $32, Y2, Y11; \
	VPMULUDQ Y7, Y11, Y11; \
	VPSRLQ $32, Y10, Y14; \
	VPBLENDD $0xAA, Y11, Y14, Y14; \
	VPSLLQ $32, Y11, Y11; \
	VPBLENDD $0xAA, Y11, Y10, Y15; \
	VPXOR Y14, Y1, Y0; \
	VPXOR Y4, Y0, Y0; \
	VPXOR Y12, Y3, Y2; \
	VPXOR Y5, Y2, Y2; \
	VMOVDQU Y15, Y1; \
	VMOVDQU Y13, Y3

#define BUMP \
	VPADDD Y8, Y4, Y4; \
	VPADDD Y9, Y5, Y5

// func philox8AVX2(buf *[32]uint32, k0, k1 uint32)
TEXT ·philox8AVX2(SB), NOSPLIT, $0-16
	MOVQ buf+0(FP), AX
	MOVL k0+8(FP), R8
	VMOVD R8, X4
	VPBROADCASTD X4, Y4
	MOVL k1+12(FP), R8
	VMOVD R8, X5
	VPBROADCASTD X5, Y5
	MOVL $0xD2511F53, R8
	VMOVD R8, X6
	VPBROADCASTD X6, Y6
	MOVL $0xCD9E8D57, R8
	VMOVD R8, X7
	VPBROADCASTD X7, Y7
	MOVL $0x9E3779B9, R8
	VMOVD R8, X8
	VPBROADCASTD X8, Y8
	MOVL $0xBB67AE85, R8
	VMOVD R8, X9
	VPBROADCASTD X9, Y9
	VMOVDQU 0(AX), Y0
	VMOVDQU 32(AX), Y1
	VMOVDQU 64(AX), Y2
	VMOVDQU 96(AX), Y3
	ROUND
	BUMP
	ROUND
	BUMP
	ROUND
	BUMP
	ROUND
	BUMP
	ROUND
	BUMP
	ROUND
	BUMP
	ROUND
	BUMP
	ROUND
	BUMP
	ROUND
	BUMP
	ROUND
	VMOVDQU Y0, 0(AX)
	VMOVDQU Y1, 32(AX)
	VMOVDQU Y2, 64(AX)
	VMOVDQU Y3, 96(AX)
	VZEROUPPER
	RET
