package neuron

import (
	"math"

	myelinpb "github.com/myelin-sim/myelin/proto"
)

// IafPscDelta holds the float32 propagators of NEST's iaf_psc_delta for one
// step h. Field order matches struct IafPscDelta in kernels/iaf_psc_delta.cuh.
// The membrane potential is kept relative to E_L.
type IafPscDelta struct {
	P33     float32 // exp(-h/tau_m): decay of V over one step
	P30     float32 // tau_m/C_m (1 - exp(-h/tau_m)): effect of a constant current
	IE      float32 // I_e, pA
	VTh     float32 // V_th - E_L
	VReset  float32 // V_reset - E_L
	RefStep int32   // t_ref in steps
}

// NewIafPscDelta computes the propagators of p for step dt (ms).
func NewIafPscDelta(p *myelinpb.IafPscDelta, dt float64) IafPscDelta {
	tau, c := p.GetTauM(), p.GetCM()
	return IafPscDelta{
		P33:     float32(math.Exp(-dt / tau)),
		P30:     float32(-math.Expm1(-dt/tau) * tau / c),
		IE:      float32(p.GetIE()),
		VTh:     float32(p.GetVTh() - p.GetEL()),
		VReset:  float32(p.GetVReset() - p.GetEL()),
		RefStep: RefractorySteps(p.GetTRef(), dt),
	}
}

// Step advances one neuron by one step, as NEST's iaf_psc_delta::update:
// v is V_m - E_L, ref the remaining refractory steps, in the sum of the
// synaptic jumps arriving now (mV), iext the external current (pA).
// Input arriving while refractory is discarded. It returns the new state and
// whether the neuron fired.
func (c *IafPscDelta) Step(v float32, ref int32, in, iext float32) (float32, int32, bool) {
	if ref == 0 {
		v = float32(c.P30*float32(c.IE+iext)) + float32(c.P33*v) + in
	} else {
		ref--
	}
	if v >= c.VTh {
		return c.VReset, c.RefStep, true
	}
	return v, ref, false
}

// RefractorySteps converts t_ref (ms) to whole steps of dt, rounding to the
// nearest step as NEST does.
func RefractorySteps(tRef, dt float64) int32 {
	return int32(math.Round(tRef / dt))
}
