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
