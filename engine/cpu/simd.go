package cpu

import (
	"encoding/binary"
	"math"
	"math/bits"
	"unsafe"

	"github.com/myelin-sim/myelin/engine/neuron"
)

// vectorModel reports whether m has a vector kernel.
func vectorModel(m neuron.SpikingModel) bool {
	switch m.(type) {
	case *neuron.IafPscExp, *neuron.IafCondExp, *neuron.IafPscDelta:
		return true
	}
	return false
}

// pscExpCoef is what the vector kernel of iaf_psc_exp reads, in the
// kernel's order (simd_amd64.s): the model's propagators, with its constant
// current term P20·(IE + 0) computed once as Step computes it for an
// external current of 0.
type pscExpCoef struct {
	p22, p21Ex, p21In, p20IE, p11Ex, p11In, scale, vTh, vReset float32
	refStep                                                    int32
}

func newPscExpCoef(m *neuron.IafPscExp, scale, ext float32) pscExpCoef {
	return pscExpCoef{
		p22: m.P22, p21Ex: m.P21Ex, p21In: m.P21In, p20IE: m.P20 * (m.IE + ext),
		p11Ex: m.P11Ex, p11In: m.P11In, scale: scale, vTh: m.VTh, vReset: m.VReset, refStep: m.RefStep,
	}
}

// pscExpVector runs the vector kernel on the first len(v) &^ 7 neurons of a
// fused iaf_psc_exp range starting at global id a, appends those that fired
// to out, and returns how many neurons it did.
func pscExpVector(m *neuron.IafPscExp, a uint32, v, ie, ii []float32, ref, exR, inR []int32, si float32, mask []uint8, out []uint32) ([]uint32, int) {
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

// condExpCoef is what the vector kernel of iaf_cond_exp reads, in the
// kernel's order (simd_amd64.s, byte offsets in the comments): the model's
// coefficients, then the constants of neuron.Expf, written here as Expf
// writes them (TestCondExpVectorMatchesStep checks the kernel against Step,
// so a change to Expf that is not made here fails it).
type condExpCoef struct {
	aEx, aIn, gl, glEl, eEx, eIn, ie, negHC, vTh, vReset float32 // 0 … 36
	refStep                                              int32   // 40
	pEx, pIn, scale, ext                                 float32 // 44 … 56
	// Expf: range limits, log2 e, 0.5, ln 2 in two parts, the Taylor
	// coefficients from degree 7 down, the exponent bias, +Inf.
	hi, lo, log2e, half, ln2Hi, ln2Lo float32    // 60 … 80
	poly                              [8]float32 // 84 … 112
	bias                              int32      // 116
	inf                               float32    // 120
}

func newCondExpCoef(m *neuron.IafCondExp, scale, ext float32) condExpCoef {
	return condExpCoef{
		aEx: m.AEx, aIn: m.AIn, gl: m.GL, glEl: m.GLEL, eEx: m.EEx, eIn: m.EIn, ie: m.IE, negHC: m.NegHC,
		vTh: m.VTh, vReset: m.VReset, refStep: m.RefStep, pEx: m.PEx, pIn: m.PIn, scale: scale, ext: ext,
		hi: 88.72, lo: -87.33, log2e: 1.44269504, half: 0.5, ln2Hi: 0.693359375, ln2Lo: -2.12194440e-4,
		poly: [8]float32{1.98412698e-4, 1.38888889e-3, 8.33333333e-3, 4.16666667e-2, 1.66666667e-1, 0.5, 1, 1},
		bias: 127, inf: float32(math.Inf(1)),
	}
}

// condExpLanes is a condExpCoef with each 4-byte word repeated eight
// times, for the kernel's 256-bit memory operands.
type condExpLanes [unsafe.Sizeof(condExpCoef{}) / 4][8]uint32

func (l *condExpLanes) set(c *condExpCoef) {
	words := (*[len(condExpLanes{})]uint32)(unsafe.Pointer(c))
	for i, w := range words {
		for j := range l[i] {
			l[i][j] = w
		}
	}
}

// newCondExpLanes returns the kernel's coefficients of m for a population
// whose ring words scale by scale, with no external current.
func newCondExpLanes(m *neuron.IafCondExp, scale float32) *condExpLanes {
	c := newCondExpCoef(m, scale, 0)
	l := new(condExpLanes)
	l.set(&c)
	return l
}

// condExpVector is pscExpVector for iaf_cond_exp, with the coefficients of
// newCondExpLanes.
func condExpVector(l *condExpLanes, a uint32, v, ge, gi []float32, ref, exR, inR []int32, mask []uint8, out []uint32) ([]uint32, int) {
	n8 := len(v) &^ 7
	if n8 == 0 {
		return out, 0
	}
	_, _, _, _, _ = ge[n8-1], gi[n8-1], ref[n8-1], exR[n8-1], inR[n8-1]
	mask = mask[:n8/8]
	condExpAVX2(l, &v[0], &ge[0], &gi[0], &ref[0], &exR[0], &inR[0], n8, &mask[0])
	return appendMask(out, a, mask), n8
}

// appendMask appends, in ascending order, a + the index of every set bit
// of mask (bit j of byte g is neuron 8g + j), skipping eight zero bytes at
// a time.
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
// kernel's order: the propagators, the constant current term
// P30·(IE + 0), and the weight of the Poisson counts.
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
// a fused iaf_psc_delta range, with their Poisson input if pois is not nil
// (cnt: room for the counts); it does nothing when a count is too large for
// exact float64 sums.
func pscDeltaVector(m *neuron.IafPscDelta, a uint32, v []float32, ref, exR, inR []int32, si float32, pois *poissonLane, cnt []int32, mask []uint8, out []uint32) ([]uint32, int) {
	n8 := len(v) &^ 7
	if n8 == 0 {
		return out, 0
	}
	_, _, _ = ref[n8-1], exR[n8-1], inR[n8-1]
	cnt = cnt[:n8]
	var w int64
	if pois != nil {
		u := pois.u[:n8]
		for k := range cnt {
			c := pois.ix.count(u[k])
			if c >= maxVectorCount {
				return out, 0
			}
			cnt[k] = int32(c)
		}
		w = pois.w
	} else {
		clear(cnt)
	}
	mask = mask[:n8/8]
	var zero float32
	c := pscDeltaCoef{p33: m.P33, p30IE: m.P30 * (m.IE + zero), vTh: m.VTh, vReset: m.VReset, refStep: m.RefStep, scale: si, w: float64(w)}
	pscDeltaAVX2(&c, &v[0], &ref[0], &exR[0], &inR[0], &cnt[0], n8, &mask[0])
	return appendMask(out, a, mask), n8
}
