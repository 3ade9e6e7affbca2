package neuron

import (
	"math"

	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// IzhikevichInitialV is the initial membrane potential of NEST's
// izhikevich (mV); U starts at 0, as in NEST.
const IzhikevichInitialV = -65

// IzhikevichModel is NEST's izhikevich: the simple model of Izhikevich
// (2003) with delta synapses (a weight is a jump of V in mV).
var IzhikevichModel = register(&Model{
	Name:     "izhikevich",
	Code:     6,
	Summary:  "Izhikevich (2003) simple model, delta synapses (weights in mV)",
	Kind:     Spiking,
	Channels: 1,
	State:    []string{"V_m", "U_m"},
	Defaults: func() proto.Message {
		// NEST's defaults; V_min is unset, which means no lower bound
		// (NEST's -DBL_MAX).
		return &myelinpb.Izhikevich{
			A: proto.Float64(0.02), B: proto.Float64(0.2), C: proto.Float64(-65), D: proto.Float64(8),
			IE: proto.Float64(0), VTh: proto.Float64(30), ConsistentIntegration: proto.Bool(true),
		}
	},
	Check: func(m proto.Message, c Checker) {
		p := m.(*myelinpb.Izhikevich)
		c.Finite("a", p.A)
		c.Finite("b", p.B)
		c.Finite("d", p.D)
		c.Finite("i_e", p.IE)
		// A reset at or above the threshold would fire on every step.
		c.Below("c", p.C, "v_th", p.VTh)
		if p.VMin != nil {
			c.Below("v_min", p.VMin, "v_th", p.VTh)
		}
	},
	Rest:         func(proto.Message) float64 { return IzhikevichInitialV },
	Offset:       func(proto.Message) float64 { return 0 }, // V is absolute
	RefractoryMs: func(proto.Message) float64 { return 0 }, // never refractory
	New: func(m proto.Message, dt float64) Coefficients {
		c := NewIzhikevich(m.(*myelinpb.Izhikevich), dt)
		return &c
	},
})

// Izhikevich holds the float32 coefficients of NEST's izhikevich for one
// step h. Field order matches struct Izhikevich in kernels/izhikevich.cuh.
// V (mV) is absolute; U is kept in State.A.
//
// NEST's update is used as it is, with no substeps: with
// consistent_integration (the default) one forward-Euler step of h on V and
// U from the values at the start of the step, the weights arriving now
// added to V; without it the numerics published by Izhikevich (2003): two
// half steps of V with the arriving weights inside the derivative, then U
// from the new V. Then V is bounded below by V_min, and V >= V_th is a
// spike: V <- c, U <- U + d. I_e and the external current enter dV/dt
// as they are (pA read as mV/ms), as in NEST.
type Izhikevich struct {
	H          float32 // h, ms
	HalfH      float32 // h/2
	HA         float32 // h a
	B          float32 // b
	C          float32 // c, mV
	D          float32 // d
	IE         float32 // I_e
	VTh        float32 // V_th, mV
	VMin       float32 // V_min, mV (-MaxFloat32: no bound)
	Consistent int32   // 1: consistent_integration
}

// NewIzhikevich computes the coefficients of p for step dt (ms).
func NewIzhikevich(p *myelinpb.Izhikevich, dt float64) Izhikevich {
	c := Izhikevich{
		H:     float32(dt),
		HalfH: float32(dt / 2),
		HA:    float32(dt * p.GetA()),
		B:     float32(p.GetB()),
		C:     float32(p.GetC()),
		D:     float32(p.GetD()),
		IE:    float32(p.GetIE()),
		VTh:   float32(p.GetVTh()),
		VMin:  -math.MaxFloat32, // no bound; finite, as every coefficient must be
	}
	if p.VMin != nil {
		c.VMin = float32(p.GetVMin())
	}
	if p.ConsistentIntegration == nil || p.GetConsistentIntegration() {
		c.Consistent = 1
	}
	return c
}

// Step advances one neuron by one step: v the membrane potential (mV), u
// the recovery variable, in the weights arriving now (mV), iext the
// external current.
func (c *Izhikevich) Step(v, u, in, iext float32) (float32, float32, bool) {
	i := iext + c.IE
	if c.Consistent != 0 {
		dv := float32(float32(0.04*v)*v) + float32(5*v) + 140 - u + i
		du := float32(c.B*v) - u
		v = v + float32(c.H*dv) + in
		u = u + float32(c.HA*du)
	} else {
		dv := float32(float32(0.04*v)*v) + float32(5*v) + 140 - u + i + in
		v = v + float32(c.HalfH*dv)
		dv = float32(float32(0.04*v)*v) + float32(5*v) + 140 - u + i + in
		v = v + float32(c.HalfH*dv)
		u = u + float32(c.HA*(float32(c.B*v)-u))
	}
	if v < c.VMin {
		v = c.VMin
	}
	if v >= c.VTh {
		return c.C, u + c.D, true
	}
	return v, u, false
}

// Update implements SpikingModel: Step for neurons [lo, hi).
func (c *Izhikevich) Update(s *State, lo, hi uint32, in *Input, fired []uint32) []uint32 {
	v, u := s.V[lo:hi], s.A[lo:hi]
	ex, ext := in.Ex[:len(v)], in.Ext[:len(v)]
	for k := range v {
		var f bool
		v[k], u[k], f = c.Step(v[k], u[k], ex[k], ext[k])
		if f {
			fired = append(fired, lo+uint32(k))
		}
	}
	return fired
}
