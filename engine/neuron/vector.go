package neuron

import (
	"encoding/binary"
	"math"
	"math/bits"
	"unsafe"
)

// The AVX2 kernels of iaf_psc_exp (with and without a Poisson input),
// iaf_psc_delta and iaf_cond_exp (vector_amd64.s) run their model's Step
// eight neurons at a time for UpdateRing on the CPU backend: the same
// operations in the same order, no fused multiply-add, so the same bits
// (TestPscExpVectorMatchesStep, TestPscExpPoissonVectorMatchesStep,
// TestPscDeltaVectorMatchesStep and TestCondExpVectorMatchesStep check them
// against Step on states that cross every branch). A change to a model's Step must be made in its
// kernel too, or those tests fail. They run only when the caller says so
// (RingInput.Vector, which needs HasVector); other machines, and ranges the
// kernels do not take, run the Go loops.

// Vectorised is implemented by the coefficients of models whose UpdateRing
// has an AVX2 kernel, so that the CPU backend can estimate a step's work.
type Vectorised interface {
	VectorKernel() bool
}

// VectorKernel implements Vectorised.
func (c *IafPscExp) VectorKernel() bool { return true }

// VectorKernel implements Vectorised.
func (c *IafPscDelta) VectorKernel() bool { return true }

// HasVector reports whether this processor has AVX2, so that the models' AVX2
// kernels (and the CPU backend's eight-wide Philox) can run; the
// CPU backend sets RingInput.Vector from it.
func HasVector() bool { return hasAVX2() }

// pscExpCoef is what the vector kernel of iaf_psc_exp reads, in the
// kernel's order: the model's propagators, with its constant current term
// P20·(IE + 0) computed once as Step computes it for an external current
// of 0.
type pscExpCoef struct {
	p22, p21Ex, p21In, p20IE, p11Ex, p11In, scale, vTh, vReset float32
	refStep                                                    int32
}

func newPscExpCoef(m *IafPscExp, scale, ext float32) pscExpCoef {
	return pscExpCoef{
		p22: m.P22, p21Ex: m.P21Ex, p21In: m.P21In, p20IE: m.P20 * (m.IE + ext),
		p11Ex: m.P11Ex, p11In: m.P11In, scale: scale, vTh: m.VTh, vReset: m.VReset, refStep: m.RefStep,
	}
}

// pscExpVector runs the vector kernel on the first len(v) &^ 7 neurons of
// an iaf_psc_exp range without Poisson input starting at global id a,
// clearing their ring words, appends those that fired to out, and returns
// how many neurons it did.
func pscExpVector(m *IafPscExp, a uint32, v, ie, ii []float32, ref, exR, inR []int32, si float32, mask []uint8, out []uint32) ([]uint32, int) {
	n8 := len(v) &^ 7
	if n8 == 0 {
		return out, 0
	}
	_, _, _, _, _ = ie[n8-1], ii[n8-1], ref[n8-1], exR[n8-1], inR[n8-1]
	mask = mask[:n8/8]
	c := newPscExpCoef(m, si, 0)
	pscExpAVX2(&c, &v[0], &ie[0], &ii[0], &ref[0], &exR[0], &inR[0], n8, &mask[0])
	return appendMask(out, a, mask), n8
}

// pscExpPoissonCoef is pscExpCoef followed by the weights of the Poisson
// counts on each channel (one of them 0), as pscExpPoissonAVX2 reads them.
type pscExpPoissonCoef struct {
	pscExpCoef         // 0 … 36
	wEx, wIn   float64 // 40, 48
}

// pscExpPoissonVector is pscExpVector for a range with a Poisson input of
// counts cnt × w, which joins the channel of w's sign as RingInput.Two
// adds it; it does nothing when a count is too large for exact float64
// sums.
func pscExpPoissonVector(m *IafPscExp, a uint32, v, ie, ii []float32, ref, exR, inR []int32, si float32, cnt []uint32, w int64, mask []uint8, out []uint32) ([]uint32, int) {
	n8 := len(v) &^ 7
	if n8 == 0 {
		return out, 0
	}
	_, _, _, _, _ = ie[n8-1], ii[n8-1], ref[n8-1], exR[n8-1], inR[n8-1]
	for _, x := range cnt[:n8] {
		if x >= maxVectorCount {
			return out, 0
		}
	}
	mask = mask[:n8/8]
	c := pscExpPoissonCoef{pscExpCoef: newPscExpCoef(m, si, 0)}
	if w < 0 {
		c.wIn = float64(w)
	} else {
		c.wEx = float64(w)
	}
	c32 := unsafeInt32s(cnt[:n8])
	pscExpPoissonAVX2(&c, &v[0], &ie[0], &ii[0], &ref[0], &exR[0], &inR[0], &c32[0], n8, &mask[0])
	return appendMask(out, a, mask), n8
}

// appendMask appends to out global id a + i for every set bit i of mask
// (bit j of byte g is neuron 8g + j), skipping eight zero bytes at a time.
func appendMask(out []uint32, a uint32, mask []uint8) []uint32 {
	g := 0
	for ; g+8 <= len(mask); g += 8 {
		w := binary.LittleEndian.Uint64(mask[g:])
		for w != 0 {
			out = append(out, a+uint32(8*g+bits.TrailingZeros64(w)))
			w &= w - 1
		}
	}
	for ; g < len(mask); g++ {
		for b := mask[g]; b != 0; b &= b - 1 {
			out = append(out, a+uint32(8*g+bits.TrailingZeros8(b)))
		}
	}
	return out
}

// pscDeltaCoef is what the vector kernel of iaf_psc_delta reads, in the
// kernel's order: the propagators, the constant current term P30·(IE + 0),
// and the weight of the Poisson counts.
type pscDeltaCoef struct {
	p33, p30IE, vTh, vReset float32 // 0 … 12
	refStep                 int32   // 16
	scale                   float32 // 20
	w                       float64 // 24
}

// maxVectorCount bounds the Poisson counts that pscDeltaVector takes: with
// |w| < 2^31, |count·w| < 2^52 and the kernel's float64 sums are exact.
const maxVectorCount = 1 << 21

// pscDeltaVector runs the vector kernel on the first len(v) &^ 7 neurons of
// an iaf_psc_delta range, with Poisson counts cnt × w (cnt nil: none;
// zero: room for the kernel's zero counts when cnt is nil),
// clearing their ring words; it does nothing when a count is too large for
// exact float64 sums.
func pscDeltaVector(m *IafPscDelta, a uint32, v []float32, ref, exR, inR []int32, si float32, cnt []uint32, w int64, zero []int32, mask []uint8, out []uint32) ([]uint32, int) {
	n8 := len(v) &^ 7
	if n8 == 0 {
		return out, 0
	}
	_, _, _ = ref[n8-1], exR[n8-1], inR[n8-1]
	var c32 []int32
	if cnt != nil {
		for _, x := range cnt[:n8] {
			if x >= maxVectorCount {
				return out, 0
			}
		}
		c32 = unsafeInt32s(cnt[:n8])
	} else {
		c32 = zero[:n8]
		clear(c32)
		w = 0
	}
	mask = mask[:n8/8]
	var zeroExt float32
	c := pscDeltaCoef{p33: m.P33, p30IE: m.P30 * (m.IE + zeroExt), vTh: m.VTh, vReset: m.VReset, refStep: m.RefStep, scale: si, w: float64(w)}
	pscDeltaAVX2(&c, &v[0], &ref[0], &exR[0], &inR[0], &c32[0], n8, &mask[0])
	return appendMask(out, a, mask), n8
}

// unsafeInt32s views counts below 2^31 as int32s (the same bits).
func unsafeInt32s(u []uint32) []int32 {
	return unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(u))), len(u))
}

// VectorKernel implements Vectorised.
func (c *IafCondExp) VectorKernel() bool { return true }

// condExpCoef is what the vector kernel of iaf_cond_exp reads: every
// constant of IafCondExp.Step (for an external current of 0) and of Expf,
// each repeated in eight lanes so that the kernel takes it as a memory
// operand, at byte 32·i for slot i (see the #defines in vector_amd64.s).
type condExpCoef struct {
	pEx, pIn, pExHalf, pInHalf lanes // 0 … 3
	gl, negHSC, negStiff       lanes // 4 … 6: g_L, -hs/C_m, -IafCondStiff
	eEx, eIn, il, invC         lanes // 7 … 10: il = g_L E_L + (I_e + 0)
	halfHS, hs, sixthHS        lanes // 11 … 13
	aEx, aIn                   lanes // 14, 15
	vTh, vReset                lanes // 16, 17
	refStep                    [8]int32
	scale                      lanes // 19: 2^-Shift
	// Expf's constants.
	log2e, ln2hi, ln2lo, expHi, expLo, inf lanes    // 20 … 25
	poly                                   [7]lanes // 26 … 32: the Horner coefficients, highest first
	bias                                   [8]int32 // 33: 127
	half                                   [4]float64
	nsub                                   int64 // 35: substeps
}

// lanes is one float32 constant in eight lanes.
type lanes [8]float32

func fill(x float32) lanes { return lanes{x, x, x, x, x, x, x, x} }

// newCondExpCoef builds the kernel's constants from m, with Step's own
// float32 arithmetic for the constant current term.
func newCondExpCoef(m *IafCondExp, scale float32) condExpCoef {
	var zeroExt float32
	il := m.GLEL + (m.IE + zeroExt) // Step's i and il for iext = 0
	const (
		log2e = 1.44269504 // Expf's literals, rounded to float32 as there
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
		expHi = 88.72
		expLo = -87.33
	)
	return condExpCoef{
		pEx: fill(m.PEx), pIn: fill(m.PIn), pExHalf: fill(m.PExHalf), pInHalf: fill(m.PInHalf),
		gl: fill(m.GL), negHSC: fill(m.NegHSC), negStiff: fill(-IafCondStiff),
		eEx: fill(m.EEx), eIn: fill(m.EIn), il: fill(il), invC: fill(m.InvC),
		halfHS: fill(m.HalfHS), hs: fill(m.HS), sixthHS: fill(m.SixthHS),
		aEx: fill(m.AEx), aIn: fill(m.AIn), vTh: fill(m.VTh), vReset: fill(m.VReset),
		refStep: [8]int32{m.RefStep, m.RefStep, m.RefStep, m.RefStep, m.RefStep, m.RefStep, m.RefStep, m.RefStep},
		scale:   fill(scale),
		log2e:   fill(log2e), ln2hi: fill(ln2hi), ln2lo: fill(ln2lo), expHi: fill(expHi), expLo: fill(expLo),
		inf: fill(float32(math.Inf(1))),
		poly: [7]lanes{
			fill(1.98412698e-4), fill(1.38888889e-3), fill(8.33333333e-3), fill(4.16666667e-2),
			fill(1.66666667e-1), fill(0.5), fill(1),
		},
		bias: [8]int32{127, 127, 127, 127, 127, 127, 127, 127},
		half: [4]float64{0.5, 0.5, 0.5, 0.5},
		nsub: int64(m.NSub),
	}
}

// condExpVector runs the vector kernel on the first len(v) &^ 7 neurons of
// an iaf_cond_exp range without Poisson input starting at global id a,
// clearing their ring words, appends those that fired to out, and returns
// how many neurons it did.
func condExpVector(m *IafCondExp, a uint32, v, gex, gin []float32, ref, exR, inR []int32, si float32, mask []uint8, out []uint32) ([]uint32, int) {
	n8 := len(v) &^ 7
	if n8 == 0 {
		return out, 0
	}
	_, _, _, _, _ = gex[n8-1], gin[n8-1], ref[n8-1], exR[n8-1], inR[n8-1]
	mask = mask[:n8/8]
	c := newCondExpCoef(m, si)
	condExpAVX2(&c, &v[0], &gex[0], &gin[0], &ref[0], &exR[0], &inR[0], n8, &mask[0])
	return appendMask(out, a, mask), n8
}
