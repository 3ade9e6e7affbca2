package cpu

import (
	"math/bits"

	"github.com/myelin-sim/myelin/engine/neuron"
)

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
	for g, b := range mask {
		for b != 0 {
			out = append(out, a+uint32(8*g+bits.TrailingZeros8(b)))
			b &= b - 1
		}
	}
	return out, n8
}
