#include "textflag.h"

// func hasAVX2() bool
TEXT ·hasAVX2(SB), NOSPLIT, $0-1
	XORL CX, CX
	MOVL $0, AX
	CPUID
	CMPL AX, $7
	JLT  no
	MOVL $1, AX
	XORL CX, CX
	CPUID
	// OSXSAVE (bit 27) and AVX (bit 28)
	ANDL $0x18000000, CX
	CMPL CX, $0x18000000
	JNE  no
	// The OS saves the XMM and YMM state.
	XORL CX, CX
	XGETBV
	ANDL $6, AX
	CMPL AX, $6
	JNE  no
	MOVL $7, AX
	XORL CX, CX
	CPUID
	BTL  $5, BX
	JCC  no
	MOVB $1, ret+0(FP)
	RET
no:
	MOVB $0, ret+0(FP)
	RET

// func pscExpAVX2(c *pscExpCoef, v, ie, ii *float32, ref, exR, inR *int32, n int, mask *uint8)
//
// Eight neurons at a time, the operations of neuron.IafPscExp.Step in its
// order (no fused multiply-add): see pscExpCoef.
TEXT ·pscExpAVX2(SB), NOSPLIT, $0-72
	MOVQ c+0(FP), AX
	MOVQ v+8(FP), SI
	MOVQ ie+16(FP), DI
	MOVQ ii+24(FP), R9
	MOVQ ref+32(FP), R10
	MOVQ exR+40(FP), R11
	MOVQ inR+48(FP), R12
	MOVQ n+56(FP), CX
	MOVQ mask+64(FP), R13
	VBROADCASTSS 0(AX), Y8   // P22
	VBROADCASTSS 4(AX), Y9   // P21Ex
	VBROADCASTSS 8(AX), Y10  // P21In
	VBROADCASTSS 12(AX), Y11 // P20·(IE + 0)
	VBROADCASTSS 16(AX), Y12 // P11Ex
	VBROADCASTSS 20(AX), Y13 // P11In
	VBROADCASTSS 24(AX), Y14 // 2^-Shift
	VBROADCASTSS 28(AX), Y15 // VTh
	VPCMPEQD     Y7, Y7, Y7  // all ones
	XORQ R8, R8
	XORQ R14, R14

loop:
	CMPQ R8, CX
	JGE  done
	VMOVUPS (SI)(R8*4), Y0   // v
	VMOVUPS (DI)(R8*4), Y1   // I_ex
	VMOVUPS (R9)(R8*4), Y2   // I_in
	VMOVDQU (R10)(R8*4), Y3  // ref

	// v' = ((P22 v + P21Ex I_ex) + P21In I_in) + P20 (IE + 0)
	VMULPS Y8, Y0, Y4
	VMULPS Y9, Y1, Y5
	VADDPS Y5, Y4, Y4
	VMULPS Y10, Y2, Y5
	VADDPS Y5, Y4, Y4
	VADDPS Y11, Y4, Y4

	// ref == 0: v = v'; else ref--.
	VPXOR     Y6, Y6, Y6
	VPCMPEQD  Y6, Y3, Y6
	VBLENDVPS Y6, Y4, Y0, Y0
	VPXOR     Y7, Y6, Y6
	VPADDD    Y6, Y3, Y3

	// I_ex = P11Ex I_ex + float32(ex) 2^-Shift; the same for I_in. The ring
	// words are cleared for their next turn.
	VCVTDQ2PS (R11)(R8*4), Y4
	VMULPS    Y14, Y4, Y4
	VMULPS    Y12, Y1, Y1
	VADDPS    Y4, Y1, Y1
	VCVTDQ2PS (R12)(R8*4), Y4
	VMULPS    Y14, Y4, Y4
	VMULPS    Y13, Y2, Y2
	VADDPS    Y4, Y2, Y2
	VPXOR     Y6, Y6, Y6
	VMOVDQU   Y6, (R11)(R8*4)
	VMOVDQU   Y6, (R12)(R8*4)

	// v >= VTh (ordered: NaN does not fire): v = VReset, ref = RefStep.
	VCMPPS       $0x1D, Y15, Y0, Y5
	VBROADCASTSS 32(AX), Y4
	VBLENDVPS    Y5, Y4, Y0, Y0
	VBROADCASTSS 36(AX), Y4
	VBLENDVPS    Y5, Y4, Y3, Y3
	VMOVMSKPS    Y5, BX
	MOVB         BX, (R13)(R14*1)

	VMOVUPS Y0, (SI)(R8*4)
	VMOVUPS Y1, (DI)(R8*4)
	VMOVUPS Y2, (R9)(R8*4)
	VMOVDQU Y3, (R10)(R8*4)
	ADDQ    $8, R8
	INCQ    R14
	JMP     loop

done:
	VZEROUPPER
	RET

// func condExpAVX2(c *condExpLanes, v, ge, gi *float32, ref, exR, inR *int32, n int, mask *uint8)
//
// Eight neurons at a time, the operations of neuron.IafCondExp.Step and of
// neuron.Expf in their order (no fused multiply-add). c holds each word of
// a condExpCoef eight times: field i is the 256-bit operand at 32·i(AX).
TEXT ·condExpAVX2(SB), NOSPLIT, $0-72
	MOVQ c+0(FP), AX
	MOVQ v+8(FP), SI
	MOVQ ge+16(FP), DI
	MOVQ gi+24(FP), R9
	MOVQ ref+32(FP), R10
	MOVQ exR+40(FP), R11
	MOVQ inR+48(FP), R12
	MOVQ n+56(FP), CX
	MOVQ mask+64(FP), R13
	XORQ R8, R8
	XORQ R14, R14

cloop:
	CMPQ R8, CX
	JGE  cdone
	VMOVUPS (SI)(R8*4), Y0  // v
	VMOVUPS (DI)(R8*4), Y1  // g_ex
	VMOVUPS (R9)(R8*4), Y2  // g_in
	VMOVDQU (R10)(R8*4), Y3 // ref

	// ge = AEx g_ex, gi = AIn g_in, gtot = (GL + ge) + gi
	VMULPS 0(AX), Y1, Y4
	VMULPS 32(AX), Y2, Y5
	VADDPS 64(AX), Y4, Y6
	VADDPS Y5, Y6, Y6

	// vinf = ((((GLEL + ge EEx) + gi EIn) + IE) + ext) / gtot
	VMULPS 128(AX), Y4, Y12
	VADDPS 96(AX), Y12, Y7
	VMULPS 160(AX), Y5, Y12
	VADDPS Y12, Y7, Y7
	VADDPS 192(AX), Y7, Y7
	VADDPS 448(AX), Y7, Y7
	VDIVPS Y6, Y7, Y7

	// x = NegHC gtot; Y11 = Expf(x)
	VMULPS   224(AX), Y6, Y8
	VMULPS   544(AX), Y8, Y9
	VADDPS   576(AX), Y9, Y9
	VROUNDPS $1, Y9, Y9 // n = floor(x log2e + 0.5)
	VMULPS   608(AX), Y9, Y12
	VSUBPS   Y12, Y8, Y10 // r = x - n ln2hi
	VMULPS   640(AX), Y9, Y12
	VSUBPS   Y12, Y10, Y10 // r -= n ln2lo
	VMULPS   672(AX), Y10, Y11
	VADDPS   704(AX), Y11, Y11
	VMULPS   Y10, Y11, Y11
	VADDPS   736(AX), Y11, Y11
	VMULPS   Y10, Y11, Y11
	VADDPS   768(AX), Y11, Y11
	VMULPS   Y10, Y11, Y11
	VADDPS   800(AX), Y11, Y11
	VMULPS   Y10, Y11, Y11
	VADDPS   832(AX), Y11, Y11
	VMULPS   Y10, Y11, Y11
	VADDPS   864(AX), Y11, Y11
	VMULPS   Y10, Y11, Y11
	VADDPS   896(AX), Y11, Y11
	VCVTTPS2DQ Y9, Y13
	VPADDD     928(AX), Y13, Y13
	VPSLLD     $23, Y13, Y13
	VMULPS     Y13, Y11, Y11 // p 2^n
	VCMPPS     $0x1E, 480(AX), Y8, Y13 // x > hi: +Inf
	VBLENDVPS  Y13, 960(AX), Y11, Y11
	VCMPPS     $0x11, 512(AX), Y8, Y13 // x < lo: 0
	VXORPS     Y12, Y12, Y12
	VBLENDVPS  Y13, Y12, Y11, Y11
	VCMPPS     $0x03, Y8, Y8, Y13 // NaN: x
	VBLENDVPS  Y13, Y8, Y11, Y11

	// v free = vinf + (v - vinf) Expf(x)
	VSUBPS Y7, Y0, Y12
	VMULPS Y11, Y12, Y12
	VADDPS Y12, Y7, Y7

	// ref > 0: ref--, v = VReset; else v >= VTh fires: v = VReset, ref = RefStep.
	VPXOR     Y13, Y13, Y13
	VPCMPGTD  Y13, Y3, Y13
	VCMPPS    $0x1D, 256(AX), Y7, Y14
	VPANDN    Y14, Y13, Y14
	VPOR      Y13, Y14, Y15
	VBLENDVPS Y15, 288(AX), Y7, Y0
	VPADDD    Y13, Y3, Y3
	VBLENDVPS Y14, 320(AX), Y3, Y3
	VMOVMSKPS Y14, BX
	MOVB      BX, (R13)(R14*1)

	// g_ex = PEx g_ex + float32(ex) 2^-Shift; g_in = PIn g_in - float32(in) 2^-Shift
	VCVTDQ2PS (R11)(R8*4), Y12
	VMULPS    416(AX), Y12, Y12
	VMULPS    352(AX), Y1, Y1
	VADDPS    Y12, Y1, Y1
	VCVTDQ2PS (R12)(R8*4), Y12
	VMULPS    416(AX), Y12, Y12
	VMULPS    384(AX), Y2, Y2
	VSUBPS    Y12, Y2, Y2
	VPXOR     Y12, Y12, Y12 // clear the ring words for their next turn
	VMOVDQU   Y12, (R11)(R8*4)
	VMOVDQU   Y12, (R12)(R8*4)

	VMOVUPS Y0, (SI)(R8*4)
	VMOVUPS Y1, (DI)(R8*4)
	VMOVUPS Y2, (R9)(R8*4)
	VMOVDQU Y3, (R10)(R8*4)
	ADDQ    $8, R8
	INCQ    R14
	JMP     cloop

cdone:
	VZEROUPPER
	RET

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

// func pscDeltaAVX2(c *pscDeltaCoef, v *float32, ref, exR, inR, cnt *int32, n int, mask *uint8)
//
// Eight neurons at a time, neuron.IafPscDelta.Step with the input
// float32(ex + in + cnt·w) 2^-Shift, the sum taken in float64 (exact for
// the magnitudes pscDeltaVector admits, so that its one rounding to float32
// is that of the int64 sum).
TEXT ·pscDeltaAVX2(SB), NOSPLIT, $0-64
	MOVQ         c+0(FP), AX
	MOVQ         v+8(FP), SI
	MOVQ         ref+16(FP), R10
	MOVQ         exR+24(FP), R11
	MOVQ         inR+32(FP), R12
	MOVQ         cnt+40(FP), DI
	MOVQ         n+48(FP), CX
	MOVQ         mask+56(FP), R13
	VBROADCASTSS 0(AX), Y8   // P33
	VBROADCASTSS 4(AX), Y9   // P30·(IE + 0)
	VBROADCASTSS 8(AX), Y10  // VTh
	VBROADCASTSS 12(AX), Y11 // VReset
	VPBROADCASTD 16(AX), Y12 // RefStep
	VBROADCASTSS 20(AX), Y14 // 2^-Shift
	VBROADCASTSD 24(AX), Y15 // w
	VPCMPEQD     Y7, Y7, Y7
	XORQ         R8, R8
	XORQ         R14, R14

dloop:
	CMPQ R8, CX
	JGE  ddone

	// in = float32(float64(ex) + float64(in) + float64(cnt)·w) 2^-Shift
	VCVTDQ2PD   (R11)(R8*4), Y4
	VCVTDQ2PD   16(R11)(R8*4), Y5
	VCVTDQ2PD   (R12)(R8*4), Y6
	VADDPD      Y6, Y4, Y4
	VCVTDQ2PD   16(R12)(R8*4), Y6
	VADDPD      Y6, Y5, Y5
	VCVTDQ2PD   (DI)(R8*4), Y6
	VMULPD      Y15, Y6, Y6
	VADDPD      Y6, Y4, Y4
	VCVTDQ2PD   16(DI)(R8*4), Y6
	VMULPD      Y15, Y6, Y6
	VADDPD      Y6, Y5, Y5
	VCVTPD2PSY  Y4, X4
	VCVTPD2PSY  Y5, X5
	VINSERTF128 $1, X5, Y4, Y4
	VMULPS      Y14, Y4, Y4
	VPXOR       Y6, Y6, Y6 // clear the ring words for their next turn
	VMOVDQU     Y6, (R11)(R8*4)
	VMOVDQU     Y6, (R12)(R8*4)

	VMOVUPS (SI)(R8*4), Y0
	VMOVDQU (R10)(R8*4), Y3

	// ref == 0: v = (P30 (IE + 0) + P33 v) + in; else ref--.
	VMULPS    Y8, Y0, Y5
	VADDPS    Y5, Y9, Y5
	VADDPS    Y4, Y5, Y5
	VPXOR     Y6, Y6, Y6
	VPCMPEQD  Y6, Y3, Y6
	VBLENDVPS Y6, Y5, Y0, Y0
	VPXOR     Y7, Y6, Y6
	VPADDD    Y6, Y3, Y3

	// v >= VTh: v = VReset, ref = RefStep.
	VCMPPS    $0x1D, Y10, Y0, Y5
	VBLENDVPS Y5, Y11, Y0, Y0
	VBLENDVPS Y5, Y12, Y3, Y3
	VMOVMSKPS Y5, BX
	MOVB      BX, (R13)(R14*1)

	VMOVUPS Y0, (SI)(R8*4)
	VMOVDQU Y3, (R10)(R8*4)
	ADDQ    $8, R8
	INCQ    R14
	JMP     dloop

ddone:
	VZEROUPPER
	RET
