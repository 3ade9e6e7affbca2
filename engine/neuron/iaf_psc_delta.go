package neuron

import (
	"math"

	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// IafPscDeltaModel is NEST's iaf_psc_delta: leaky integrate-and-fire with
// delta-shaped synaptic input (a weight is a jump of V in mV).
var IafPscDeltaModel = register(&Model{
	Name:     "iaf_psc_delta",
	Code:     1,
	Summary:  "leaky integrate-and-fire, delta synapses (weights in mV)",
	Kind:     Spiking,
	Channels: 1,
	State:    []string{"V_m"},
	Defaults: func() proto.Message {
		// NEST's defaults.
		return &myelinpb.IafPscDelta{
			CM: proto.Float64(250), TauM: proto.Float64(10), TRef: proto.Float64(2),
			EL: proto.Float64(-70), VReset: proto.Float64(-70), VTh: proto.Float64(-55),
			IE: proto.Float64(0),
		}
	},
	Check: func(m proto.Message, c Checker) {
		p := m.(*myelinpb.IafPscDelta)
		CheckLIF(c, p.CM, p.TRef, p.EL, p.IE, p.VReset, p.VTh)
		c.Positive("tau_m", p.TauM)
	},
	Rest:         func(m proto.Message) float64 { return m.(*myelinpb.IafPscDelta).GetEL() },
	Offset:       func(m proto.Message) float64 { return m.(*myelinpb.IafPscDelta).GetEL() },
	RefractoryMs: func(m proto.Message) float64 { return m.(*myelinpb.IafPscDelta).GetTRef() },
	New: func(m proto.Message, dt float64) Coefficients {
		c := NewIafPscDelta(m.(*myelinpb.IafPscDelta), dt)
		return &c
	},
})

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

// Update implements SpikingModel: Step for neurons [lo, hi).
func (c *IafPscDelta) Update(s *State, lo, hi uint32, in *Input, fired []uint32) []uint32 {
	v, ref := s.V[lo:hi], s.Ref[lo:hi]
	ex, ext := in.Ex[:len(v)], in.Ext[:len(v)]
	for k := range v {
		var f bool
		v[k], ref[k], f = c.Step(v[k], ref[k], ex[k], ext[k])
		if f {
			fired = append(fired, lo+uint32(k))
		}
	}
	return fired
}

// UpdateRing implements RingModel: Update on the raw input r, without
// external current.
func (c *IafPscDelta) UpdateRing(s *State, lo, hi uint32, r *RingInput, fired []uint32) []uint32 {
	v, ref := s.V[lo:hi], s.Ref[lo:hi]
	k0 := 0
	if r.Vector {
		// The AVX2 twin of the loop below (vector.go), eight neurons at a time.
		fired, k0 = pscDeltaVector(c, lo, v, ref, r.Ex, r.In, r.Scale, r.Counts, r.PoissonW, r.Zero, r.Mask, fired)
	}
	for k := k0; k < len(v); k++ {
		var f bool
		v[k], ref[k], f = c.Step(v[k], ref[k], r.One(k), 0)
		if f {
			fired = append(fired, lo+uint32(k))
		}
	}
	return fired
}
