#include "textflag.h"

// PSCEXP_CONSTANTS broadcasts pscExpCoef's first eight slots (AX) into
// Y8-Y15.
#define PSCEXP_CONSTANTS \
	VBROADCASTSS 0(AX), Y8;  /* P22 */ \
	VBROADCASTSS 4(AX), Y9;  /* P21Ex */ \
	VBROADCASTSS 8(AX), Y10; /* P21In */ \
	VBROADCASTSS 12(AX), Y11; /* P20·(IE + 0) */ \
	VBROADCASTSS 16(AX), Y12; /* P11Ex */ \
	VBROADCASTSS 20(AX), Y13; /* P11In */ \
	VBROADCASTSS 24(AX), Y14; /* 2^-Shift */ \
	VBROADCASTSS 28(AX), Y15  /* VTh */

// PSCEXP_STEP is neuron.IafPscExp.Step for the eight neurons at R8 (state
// at SI, DI, R9, R10; spike byte R14 at R13) with the inputs in Y6 (fast
// excitatory) and Y7 (inhibitory), in Step's order (no fused
// multiply-add):
//   v' = ((P22 v + P21Ex I_ex) + P21In I_in) + P20 (IE + 0);
//   ref == 0: v = v', else ref--;
//   I_ex = P11Ex I_ex + in_ex; I_in = P11In I_in + in_in;
//   v >= VTh (ordered: NaN does not fire): v = VReset, ref = RefStep.
#define PSCEXP_STEP \
	VMOVUPS      (SI)(R8*4), Y0; \
	VMOVUPS      (DI)(R8*4), Y1; \
	VMOVUPS      (R9)(R8*4), Y2; \
	VMOVDQU      (R10)(R8*4), Y3; \
	VMULPS       Y8, Y0, Y4; \
	VMULPS       Y9, Y1, Y5; \
	VADDPS       Y5, Y4, Y4; \
	VMULPS       Y10, Y2, Y5; \
	VADDPS       Y5, Y4, Y4; \
	VADDPS       Y11, Y4, Y4; \
	VPXOR        Y5, Y5, Y5; \
	VPCMPEQD     Y5, Y3, Y5; \
	VBLENDVPS    Y5, Y4, Y0, Y0; \
	VPCMPEQD     Y4, Y4, Y4; \
	VPXOR        Y4, Y5, Y5; \
	VPADDD       Y5, Y3, Y3; \
	VMULPS       Y12, Y1, Y1; \
	VADDPS       Y6, Y1, Y1; \
	VMULPS       Y13, Y2, Y2; \
	VADDPS       Y7, Y2, Y2; \
	VCMPPS       $0x1D, Y15, Y0, Y5; \
	VBROADCASTSS 32(AX), Y4; \
	VBLENDVPS    Y5, Y4, Y0, Y0; \
	VBROADCASTSS 36(AX), Y4; \
	VBLENDVPS    Y5, Y4, Y3, Y3; \
	VMOVMSKPS    Y5, BX; \
	MOVB         BX, (R13)(R14*1); \
	VMOVUPS      Y0, (SI)(R8*4); \
	VMOVUPS      Y1, (DI)(R8*4); \
	VMOVUPS      Y2, (R9)(R8*4); \
	VMOVDQU      Y3, (R10)(R8*4)

// PSCEXP_POISSON_INPUT sets Y(dst) to float32(float64(ring word) +
// cnt·w) 2^-Shift for the eight neurons at R8 of the ring words at reg, the
// counts in float64 in Y2 (lanes 0-3) and Y3 (4-7), w the float64 at
// off(AX).
#define PSCEXP_POISSON_INPUT(reg, off, dst) \
	VCVTDQ2PD    (reg)(R8*4), Y0; \
	VCVTDQ2PD    16(reg)(R8*4), Y1; \
	VBROADCASTSD off(AX), Y4; \
	VMULPD       Y4, Y2, Y5; \
	VADDPD       Y5, Y0, Y0; \
	VMULPD       Y4, Y3, Y5; \
	VADDPD       Y5, Y1, Y1; \
	VCVTPD2PSY   Y0, X0; \
	VCVTPD2PSY   Y1, X1; \
	VINSERTF128  $1, X1, Y0, Y0; \
	VMULPS       Y14, Y0, dst

// func pscExpAVX2(c *pscExpCoef, v, ie, ii *float32, ref, exR, inR *int32, n int, mask *uint8)
//
// Eight neurons at a time, the operations of neuron.IafPscExp.Step in its
// order (no fused multiply-add): see pscExpCoef. The inputs are
// float32(ex) 2^-Shift and float32(in) 2^-Shift; the ring words are
// cleared for their next turn.
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
	PSCEXP_CONSTANTS
	XORQ R8, R8
	XORQ R14, R14

loop:
	CMPQ      R8, CX
	JGE       done
	VCVTDQ2PS (R11)(R8*4), Y6
	VMULPS    Y14, Y6, Y6
	VCVTDQ2PS (R12)(R8*4), Y7
	VMULPS    Y14, Y7, Y7
	VPXOR     Y0, Y0, Y0
	VMOVDQU   Y0, (R11)(R8*4)
	VMOVDQU   Y0, (R12)(R8*4)
	PSCEXP_STEP
	ADDQ      $8, R8
	INCQ      R14
	JMP       loop

done:
	VZEROUPPER
	RET

// func pscExpPoissonAVX2(c *pscExpPoissonCoef, v, ie, ii *float32, ref, exR, inR, cnt *int32, n int, mask *uint8)
//
// pscExpAVX2 with a Poisson input: the inputs are float32(ex + cnt·wEx)
// 2^-Shift and float32(in + cnt·wIn) 2^-Shift, the sums taken in float64
// (exact for the counts pscExpPoissonVector admits, so that each one
// rounding to float32 is that of RingInput.Two's int64 sum); one of wEx and
// wIn is 0, as the count joins the channel of its weight's sign.
TEXT ·pscExpPoissonAVX2(SB), NOSPLIT, $0-80
	MOVQ c+0(FP), AX
	MOVQ v+8(FP), SI
	MOVQ ie+16(FP), DI
	MOVQ ii+24(FP), R9
	MOVQ ref+32(FP), R10
	MOVQ exR+40(FP), R11
	MOVQ inR+48(FP), R12
	MOVQ cnt+56(FP), R15
	MOVQ n+64(FP), CX
	MOVQ mask+72(FP), R13
	PSCEXP_CONSTANTS
	XORQ R8, R8
	XORQ R14, R14

ploop:
	CMPQ      R8, CX
	JGE       pdone
	VCVTDQ2PD (R15)(R8*4), Y2
	VCVTDQ2PD 16(R15)(R8*4), Y3
	PSCEXP_POISSON_INPUT(R11, 40, Y6)
	PSCEXP_POISSON_INPUT(R12, 48, Y7)
	VPXOR     Y0, Y0, Y0
	VMOVDQU   Y0, (R11)(R8*4)
	VMOVDQU   Y0, (R12)(R8*4)
	PSCEXP_STEP
	ADDQ      $8, R8
	INCQ      R14
	JMP       ploop

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

// condExpCoef's slots (vector.go): one constant in eight lanes per 32 bytes.
#define C_PEX 0(AX)
#define C_PIN 32(AX)
#define C_PEXH 64(AX)
#define C_PINH 96(AX)
#define C_GL 128(AX)
#define C_NEGHSC 160(AX)
#define C_NEGSTIFF 192(AX)
#define C_EEX 224(AX)
#define C_EIN 256(AX)
#define C_IL 288(AX)
#define C_INVC 320(AX)
#define C_HALFHS 352(AX)
#define C_HS 384(AX)
#define C_SIXTHHS 416(AX)
#define C_AEX 448(AX)
#define C_AIN 480(AX)
#define C_VTH 512(AX)
#define C_VRESET 544(AX)
#define C_REFSTEP 576(AX)
#define C_SCALE 608(AX)
#define C_LOG2E 640(AX)
#define C_LN2HI 672(AX)
#define C_LN2LO 704(AX)
#define C_EXPHI 736(AX)
#define C_EXPLO 768(AX)
#define C_INF 800(AX)
#define C_P7 832(AX)
#define C_P6 864(AX)
#define C_P5 896(AX)
#define C_P4 928(AX)
#define C_P3 960(AX)
#define C_P2 992(AX)
#define C_P1 1024(AX)
#define C_BIAS 1056(AX)
#define C_HALF 1088(AX)
#define C_NSUB 1120(AX)

// func condExpAVX2(c *condExpCoef, v, gex, gin *float32, ref, exR, inR *int32, n int, mask *uint8)
//
// Eight neurons at a time, the operations of neuron.IafCondExp.Step in its
// order (no fused multiply-add) with an external current of 0. Every lane
// takes the Runge-Kutta substep; when a free lane's substep is stiff, the
// exponential-Euler substep (with Expf) is computed for all eight and
// blended into those lanes. Refractory lanes compute V too, which is then
// replaced by V_reset: their conductances decay as Step decays them.
TEXT ·condExpAVX2(SB), NOSPLIT, $0-72
	MOVQ c+0(FP), AX
	MOVQ v+8(FP), SI
	MOVQ gex+16(FP), DI
	MOVQ gin+24(FP), R9
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
	VPXOR    Y4, Y4, Y4
	VPCMPGTD Y4, Y3, Y4     // refractory: ref > 0
	XORQ     DX, DX

csub:
	CMPQ DX, C_NSUB
	JGE  csubdone

	// geE, giE = g_ex PEx, g_in PIn; g0 = (GL + g_ex) + g_in; stiff (free
	// lanes only): g0 NegHSC < -IafCondStiff.
	VMULPS  C_PEX, Y1, Y5
	VMULPS  C_PIN, Y2, Y6
	VADDPS  C_GL, Y1, Y7
	VADDPS  Y2, Y7, Y7
	VMULPS  C_NEGHSC, Y7, Y8
	VCMPPS  $0x11, C_NEGSTIFF, Y8, Y8
	VPANDN  Y8, Y4, Y8

	// k1 = (i0 - g0 v) InvC, i0 = (il + g_ex EEx) + g_in EIn. Y9 then
	// accumulates ((k1 + 2 k2) + 2 k3) + k4.
	VMULPS C_EEX, Y1, Y9
	VADDPS C_IL, Y9, Y9
	VMULPS C_EIN, Y2, Y10
	VADDPS Y10, Y9, Y9
	VMULPS Y0, Y7, Y10
	VSUBPS Y10, Y9, Y9
	VMULPS C_INVC, Y9, Y9

	// The midpoint: geM, giM = g_ex PExHalf, g_in PInHalf, gM (Y12), iM (Y10).
	VMULPS C_PEXH, Y1, Y10
	VMULPS C_PINH, Y2, Y11
	VADDPS C_GL, Y10, Y12
	VADDPS Y11, Y12, Y12
	VMULPS C_EEX, Y10, Y10
	VADDPS C_IL, Y10, Y10
	VMULPS C_EIN, Y11, Y11
	VADDPS Y11, Y10, Y10

	// k2 = (iM - gM (v + HalfHS k1)) InvC (Y11)
	VMULPS  C_HALFHS, Y9, Y11
	VADDPS  Y11, Y0, Y11
	VMULPS  Y11, Y12, Y11
	VSUBPS  Y11, Y10, Y11
	VMULPS  C_INVC, Y11, Y11
	VADDPS  Y11, Y11, Y13
	VADDPS  Y13, Y9, Y9

	// k3 = (iM - gM (v + HalfHS k2)) InvC (Y13)
	VMULPS C_HALFHS, Y11, Y13
	VADDPS Y13, Y0, Y13
	VMULPS Y13, Y12, Y13
	VSUBPS Y13, Y10, Y13
	VMULPS C_INVC, Y13, Y13
	VADDPS Y13, Y13, Y11
	VADDPS Y11, Y9, Y9

	// The end: gE (Y10), iE (Y11); k4 = (iE - gE (v + HS k3)) InvC.
	VADDPS C_GL, Y5, Y10
	VADDPS Y6, Y10, Y10
	VMULPS C_EEX, Y5, Y11
	VADDPS C_IL, Y11, Y11
	VMULPS C_EIN, Y6, Y12
	VADDPS Y12, Y11, Y11
	VMULPS C_HS, Y13, Y12
	VADDPS Y12, Y0, Y12
	VMULPS Y12, Y10, Y12
	VSUBPS Y12, Y11, Y12
	VMULPS C_INVC, Y12, Y12
	VADDPS Y12, Y9, Y9

	// v + SixthHS (…)
	VMULPS C_SIXTHHS, Y9, Y9
	VADDPS Y9, Y0, Y9

	VMOVMSKPS Y8, BX
	TESTL     BX, BX
	JZ        cnext

	// Exponential Euler for the stiff lanes: ge, gi = AEx g_ex, AIn g_in;
	// gtot = (GL + ge) + gi; vinf = ((il + ge EEx) + gi EIn) / gtot;
	// v = vinf + (v - vinf) Expf(NegHSC gtot).
	VMULPS C_AEX, Y1, Y10
	VMULPS C_AIN, Y2, Y11
	VADDPS C_GL, Y10, Y12
	VADDPS Y11, Y12, Y12
	VMULPS C_EEX, Y10, Y10
	VADDPS C_IL, Y10, Y10
	VMULPS C_EIN, Y11, Y11
	VADDPS Y11, Y10, Y10
	VDIVPS Y12, Y10, Y10
	VMULPS C_NEGHSC, Y12, Y12

	// Expf(x), x in Y12, into Y13: n = floor(float64(x log2e) + 0.5), in
	// float64 as Expf takes it (exact), as int32 in Y14.
	VMULPS       C_LOG2E, Y12, Y13
	VCVTPS2PD    X13, Y14
	VEXTRACTF128 $1, Y13, X15
	VCVTPS2PD    X15, Y15
	VADDPD       C_HALF, Y14, Y14
	VADDPD       C_HALF, Y15, Y15
	VROUNDPD     $1, Y14, Y14
	VROUNDPD     $1, Y15, Y15
	VCVTPD2DQY   Y14, X14
	VCVTPD2DQY   Y15, X15
	VINSERTI128  $1, X15, Y14, Y14
	VCVTDQ2PS    Y14, Y13

	// r = (x - n ln2hi) - n ln2lo (Y15)
	VMULPS C_LN2HI, Y13, Y15
	VSUBPS Y15, Y12, Y15
	VMULPS C_LN2LO, Y13, Y13
	VSUBPS Y13, Y15, Y15

	// Horner, then times 2^n.
	VMULPS C_P7, Y15, Y13
	VADDPS C_P6, Y13, Y13
	VMULPS Y15, Y13, Y13
	VADDPS C_P5, Y13, Y13
	VMULPS Y15, Y13, Y13
	VADDPS C_P4, Y13, Y13
	VMULPS Y15, Y13, Y13
	VADDPS C_P3, Y13, Y13
	VMULPS Y15, Y13, Y13
	VADDPS C_P2, Y13, Y13
	VMULPS Y15, Y13, Y13
	VADDPS C_P1, Y13, Y13
	VMULPS Y15, Y13, Y13
	VADDPS C_P1, Y13, Y13
	VPADDD C_BIAS, Y14, Y14
	VPSLLD $23, Y14, Y14
	VMULPS Y14, Y13, Y13

	// Expf's limits: x > 88.72 gives +Inf, x < -87.33 gives 0, NaN itself.
	VCMPPS    $0x1E, C_EXPHI, Y12, Y15
	VBLENDVPS Y15, C_INF, Y13, Y13
	VCMPPS    $0x11, C_EXPLO, Y12, Y15
	VANDNPS   Y13, Y15, Y13
	VCMPPS    $0x03, Y12, Y12, Y15
	VBLENDVPS Y15, Y12, Y13, Y13

	VSUBPS    Y10, Y0, Y7
	VMULPS    Y13, Y7, Y7
	VADDPS    Y7, Y10, Y7
	VBLENDVPS Y8, Y7, Y9, Y9

cnext:
	VMOVAPS Y9, Y0
	VMOVAPS Y5, Y1
	VMOVAPS Y6, Y2
	INCQ    DX
	JMP     csub

csubdone:
	// Refractory lanes: v = VReset, ref--. Free lanes with v >= VTh
	// (ordered: NaN does not fire): v = VReset, ref = RefStep.
	VBLENDVPS Y4, C_VRESET, Y0, Y0
	VPADDD    Y4, Y3, Y3
	VCMPPS    $0x1D, C_VTH, Y0, Y5
	VPANDN    Y5, Y4, Y5
	VBLENDVPS Y5, C_VRESET, Y0, Y0
	VBLENDVPS Y5, C_REFSTEP, Y3, Y3
	VMOVMSKPS Y5, BX
	MOVB      BX, (R13)(R14*1)

	// g_ex += float32(ex) 2^-Shift; g_in -= float32(in) 2^-Shift. The ring
	// words are cleared for their next turn.
	VCVTDQ2PS (R11)(R8*4), Y6
	VMULPS    C_SCALE, Y6, Y6
	VADDPS    Y6, Y1, Y1
	VCVTDQ2PS (R12)(R8*4), Y6
	VMULPS    C_SCALE, Y6, Y6
	VSUBPS    Y6, Y2, Y2
	VPXOR     Y6, Y6, Y6
	VMOVDQU   Y6, (R11)(R8*4)
	VMOVDQU   Y6, (R12)(R8*4)

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
