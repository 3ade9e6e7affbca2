#include "textflag.h"

// Philox4x32-10 on eight or sixteen blocks at once, for Seq: the counters
// of block b are (i, j+b, jhi, purpose) (the caller rules out a carry from
// j+b), and the blocks are written out in draw order (block b's four words
// at dst[4b:4b+4]).
//
// One set of eight blocks holds words 0..3 of the eight counters in four
// registers. VPMULUDQ multiplies the even 32-bit lanes into 64-bit
// products; the odd lanes are shifted down, multiplied, and the high and
// low halves of both are blended back into place. Sixteen blocks are two
// independent sets whose rounds interleave, so that each set's chain of
// dependent instructions fills the other's wait; the multipliers and
// Weyl increments come from memory to leave registers for both sets.

DATA philoxM0<>+0(SB)/8, $0x000000D2511F53
DATA philoxM0<>+8(SB)/8, $0x000000D2511F53
DATA philoxM0<>+16(SB)/8, $0x000000D2511F53
DATA philoxM0<>+24(SB)/8, $0x000000D2511F53
GLOBL philoxM0<>(SB), RODATA|NOPTR, $32

DATA philoxM1<>+0(SB)/8, $0x000000CD9E8D57
DATA philoxM1<>+8(SB)/8, $0x000000CD9E8D57
DATA philoxM1<>+16(SB)/8, $0x000000CD9E8D57
DATA philoxM1<>+24(SB)/8, $0x000000CD9E8D57
GLOBL philoxM1<>(SB), RODATA|NOPTR, $32

DATA philoxW0<>+0(SB)/8, $0x9E3779B99E3779B9
DATA philoxW0<>+8(SB)/8, $0x9E3779B99E3779B9
DATA philoxW0<>+16(SB)/8, $0x9E3779B99E3779B9
DATA philoxW0<>+24(SB)/8, $0x9E3779B99E3779B9
GLOBL philoxW0<>(SB), RODATA|NOPTR, $32

DATA philoxW1<>+0(SB)/8, $0xBB67AE85BB67AE85
DATA philoxW1<>+8(SB)/8, $0xBB67AE85BB67AE85
DATA philoxW1<>+16(SB)/8, $0xBB67AE85BB67AE85
DATA philoxW1<>+24(SB)/8, $0xBB67AE85BB67AE85
GLOBL philoxW1<>(SB), RODATA|NOPTR, $32

DATA philoxLanes<>+0(SB)/4, $0
DATA philoxLanes<>+4(SB)/4, $1
DATA philoxLanes<>+8(SB)/4, $2
DATA philoxLanes<>+12(SB)/4, $3
DATA philoxLanes<>+16(SB)/4, $4
DATA philoxLanes<>+20(SB)/4, $5
DATA philoxLanes<>+24(SB)/4, $6
DATA philoxLanes<>+28(SB)/4, $7
DATA philoxLanes<>+32(SB)/4, $8
DATA philoxLanes<>+36(SB)/4, $8
DATA philoxLanes<>+40(SB)/4, $8
DATA philoxLanes<>+44(SB)/4, $8
DATA philoxLanes<>+48(SB)/4, $8
DATA philoxLanes<>+52(SB)/4, $8
DATA philoxLanes<>+56(SB)/4, $8
DATA philoxLanes<>+60(SB)/4, $8
GLOBL philoxLanes<>(SB), RODATA|NOPTR, $64

// One round of a set (s0..s3) with round keys k0, k1 and temporaries ta,
// tb, tc:
//   (c0, c1, c2, c3) <- (hi(M1·c2) ^ c1 ^ k0, lo(M1·c2), hi(M0·c0) ^ c3 ^ k1, lo(M0·c0)).
#define ROUND(s0, s1, s2, s3, k0, k1, ta, tb, tc) \
	VPMULUDQ philoxM0<>(SB), s0, ta; \
	VPSRLQ $32, s0, tb; \
	VPMULUDQ philoxM0<>(SB), tb, tb; \
	VPSRLQ $32, ta, tc; \
	VPBLENDD $0xAA, tb, tc, tc; \
	VPSLLQ $32, tb, tb; \
	VPBLENDD $0xAA, tb, ta, ta; \
	VPXOR s3, tc, tc; \
	VPXOR k1, tc, tc; \
	VMOVDQU ta, s3; \
	VPMULUDQ philoxM1<>(SB), s2, ta; \
	VPSRLQ $32, s2, tb; \
	VPMULUDQ philoxM1<>(SB), tb, tb; \
	VPSRLQ $32, ta, s2; \
	VPBLENDD $0xAA, tb, s2, s2; \
	VPSLLQ $32, tb, tb; \
	VPBLENDD $0xAA, tb, ta, ta; \
	VPXOR s1, s2, s2; \
	VPXOR k0, s2, s2; \
	VMOVDQU ta, s1; \
	VMOVDQU s2, s0; \
	VMOVDQU tc, s2

#define BUMP(k0, k1) \
	VPADDD philoxW0<>(SB), k0, k0; \
	VPADDD philoxW1<>(SB), k1, k1

// Transposes a set (words 0..3 of blocks 0..7 in s0..s3) into draw order
// and stores it at off(AX).
#define STORE(s0, s1, s2, s3, t0, t1, t2, t3, off) \
	VPUNPCKLDQ s1, s0, t0; \
	VPUNPCKHDQ s1, s0, t1; \
	VPUNPCKLDQ s3, s2, t2; \
	VPUNPCKHDQ s3, s2, t3; \
	VPUNPCKLQDQ t2, t0, s0; \
	VPUNPCKHQDQ t2, t0, s1; \
	VPUNPCKLQDQ t3, t1, s2; \
	VPUNPCKHQDQ t3, t1, s3; \
	VPERM2I128 $0x20, s1, s0, t0; \
	VPERM2I128 $0x20, s3, s2, t1; \
	VPERM2I128 $0x31, s1, s0, t2; \
	VPERM2I128 $0x31, s3, s2, t3; \
	VMOVDQU t0, off(AX); \
	VMOVDQU t1, off+32(AX); \
	VMOVDQU t2, off+64(AX); \
	VMOVDQU t3, off+96(AX)

// Loads the counters of a set: i, j + lanes, jhi, purpose.
#define COUNTERS(s0, s1, s2, s3, x0, x1, x2, x3) \
	MOVL i+8(FP), R8; \
	VMOVD R8, x0; \
	VPBROADCASTD x0, s0; \
	MOVL j+12(FP), R8; \
	VMOVD R8, x1; \
	VPBROADCASTD x1, s1; \
	VPADDD philoxLanes<>(SB), s1, s1; \
	MOVL jhi+16(FP), R8; \
	VMOVD R8, x2; \
	VPBROADCASTD x2, s2; \
	MOVL purpose+20(FP), R8; \
	VMOVD R8, x3; \
	VPBROADCASTD x3, s3

// Loads the key into ka, kb.
#define KEY(ka, kb, xa, xb) \
	MOVL k0+24(FP), R8; \
	VMOVD R8, xa; \
	VPBROADCASTD xa, ka; \
	MOVL k1+28(FP), R8; \
	VMOVD R8, xb; \
	VPBROADCASTD xb, kb

// func philoxWords8AVX2(dst *[64]uint32, i, j, jhi, purpose, k0, k1 uint32)
TEXT ·philoxWords8AVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), AX
	COUNTERS(Y0, Y1, Y2, Y3, X0, X1, X2, X3)
	KEY(Y8, Y9, X8, X9)
	ROUND(Y0, Y1, Y2, Y3, Y8, Y9, Y10, Y11, Y12)
	BUMP(Y8, Y9)
	ROUND(Y0, Y1, Y2, Y3, Y8, Y9, Y10, Y11, Y12)
	BUMP(Y8, Y9)
	ROUND(Y0, Y1, Y2, Y3, Y8, Y9, Y10, Y11, Y12)
	BUMP(Y8, Y9)
	ROUND(Y0, Y1, Y2, Y3, Y8, Y9, Y10, Y11, Y12)
	BUMP(Y8, Y9)
	ROUND(Y0, Y1, Y2, Y3, Y8, Y9, Y10, Y11, Y12)
	BUMP(Y8, Y9)
	ROUND(Y0, Y1, Y2, Y3, Y8, Y9, Y10, Y11, Y12)
	BUMP(Y8, Y9)
	ROUND(Y0, Y1, Y2, Y3, Y8, Y9, Y10, Y11, Y12)
	BUMP(Y8, Y9)
	ROUND(Y0, Y1, Y2, Y3, Y8, Y9, Y10, Y11, Y12)
	BUMP(Y8, Y9)
	ROUND(Y0, Y1, Y2, Y3, Y8, Y9, Y10, Y11, Y12)
	BUMP(Y8, Y9)
	ROUND(Y0, Y1, Y2, Y3, Y8, Y9, Y10, Y11, Y12)
	STORE(Y0, Y1, Y2, Y3, Y10, Y11, Y12, Y13, 0)
	VZEROUPPER
	RET

#define ROUND2 \
	ROUND(Y0, Y1, Y2, Y3, Y8, Y9, Y10, Y11, Y12); \
	ROUND(Y4, Y5, Y6, Y7, Y8, Y9, Y13, Y14, Y15)

// func philoxWords16AVX2(dst *[64]uint32, i, j, jhi, purpose, k0, k1 uint32)
TEXT ·philoxWords16AVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), AX
	COUNTERS(Y0, Y1, Y2, Y3, X0, X1, X2, X3)
	VMOVDQU Y0, Y4
	VPADDD philoxLanes<>+32(SB), Y1, Y5
	VMOVDQU Y2, Y6
	VMOVDQU Y3, Y7
	KEY(Y8, Y9, X8, X9)
	ROUND2
	BUMP(Y8, Y9)
	ROUND2
	BUMP(Y8, Y9)
	ROUND2
	BUMP(Y8, Y9)
	ROUND2
	BUMP(Y8, Y9)
	ROUND2
	BUMP(Y8, Y9)
	ROUND2
	BUMP(Y8, Y9)
	ROUND2
	BUMP(Y8, Y9)
	ROUND2
	BUMP(Y8, Y9)
	ROUND2
	BUMP(Y8, Y9)
	ROUND2
	STORE(Y0, Y1, Y2, Y3, Y8, Y9, Y10, Y11, 0)
	STORE(Y4, Y5, Y6, Y7, Y12, Y13, Y14, Y15, 128)
	VZEROUPPER
	RET
