package neuron

import (
	"math"

	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// IafPscExpModel is NEST's iaf_psc_exp: leaky integrate-and-fire with
// exponentially decaying synaptic currents (weights in pA). Its slow
// excitatory port (receptor SLOW_EXCITATORY) adds a third current, I_syn_slow
// in State.C, with time constant tau_syn_slow, as a port of NEST's
// iaf_psc_exp_multisynapse.
var IafPscExpModel = register(&Model{
	Name:     "iaf_psc_exp",
	Code:     2,
	Summary:  "leaky integrate-and-fire, exponential synaptic currents (weights in pA)",
	Kind:     Spiking,
	Channels: 2,
	State:    []string{"V_m", "I_syn_ex", "I_syn_in"},
	Defaults: func() proto.Message {
		// NEST's defaults.
		return &myelinpb.IafPscExp{
			CM: proto.Float64(250), TauM: proto.Float64(10), TRef: proto.Float64(2),
			EL: proto.Float64(-70), VReset: proto.Float64(-70), VTh: proto.Float64(-55),
			IE: proto.Float64(0), TauSynEx: proto.Float64(2), TauSynIn: proto.Float64(2),
		}
	},
	Check: func(m proto.Message, c Checker) {
		p := m.(*myelinpb.IafPscExp)
		CheckLIF(c, p.CM, p.TRef, p.EL, p.IE, p.VReset, p.VTh)
		c.Positive("tau_m", p.TauM)
		c.Positive("tau_syn_ex", p.TauSynEx)
		c.Positive("tau_syn_in", p.TauSynIn)
		if p.TauSynSlow != nil {
			c.Positive("tau_syn_slow", p.TauSynSlow)
		}
	},
	Rest:         func(m proto.Message) float64 { return m.(*myelinpb.IafPscExp).GetEL() },
	Offset:       func(m proto.Message) float64 { return m.(*myelinpb.IafPscExp).GetEL() },
	RefractoryMs: func(m proto.Message) float64 { return m.(*myelinpb.IafPscExp).GetTRef() },
	New: func(m proto.Message, dt float64) Coefficients {
		c := NewIafPscExp(m.(*myelinpb.IafPscExp), dt)
		return &c
	},
	NewSlow: func(m proto.Message, dt float64) Coefficients {
		c := NewIafPscExpSlow(m.(*myelinpb.IafPscExp), dt)
		return &c
	},
	SlowDefaults: func() proto.Message {
		return &myelinpb.IafPscExp{TauSynSlow: proto.Float64(DefaultTauSynSlowMs)}
	},
})

// DefaultTauSynSlowMs is tau_syn_slow (ms) of iaf_psc_exp and iaf_cond_exp
// when unset: an NMDA-like decay. It is applied where the port is used, not
// written into specs, so a spec without slow ports is unchanged by it.
const DefaultTauSynSlowMs = 100.0

// IafPscExp holds the float32 propagators of NEST's iaf_psc_exp for one step
// h. Field order matches struct IafPscExp in kernels/iaf_psc_exp.cuh. The
// membrane potential is kept relative to E_L.
type IafPscExp struct {
	P22     float32 // exp(-h/tau_m)
	P11Ex   float32 // exp(-h/tau_syn_ex)
	P11In   float32 // exp(-h/tau_syn_in)
	P21Ex   float32 // effect of the excitatory current on V over one step
	P21In   float32 // effect of the inhibitory current on V over one step
	P20     float32 // tau_m/C_m (1 - exp(-h/tau_m))
	IE      float32 // I_e, pA
	VTh     float32 // V_th - E_L
	VReset  float32 // V_reset - E_L
	RefStep int32   // t_ref in steps

	// The slow excitatory port, used only when Slow is 1 (NewIafPscExpSlow):
	// its current I_syn_slow is kept in State.C.
	P11Slow float32 // exp(-h/tau_syn_slow)
	P21Slow float32 // effect of the slow current on V over one step
	Slow    int32   // 1: the port is in use (StepSlow), 0: Step
}

// NewIafPscExp computes the propagators of p for step dt (ms).
func NewIafPscExp(p *myelinpb.IafPscExp, dt float64) IafPscExp {
	tau, c := p.GetTauM(), p.GetCM()
	return IafPscExp{
		P22:     float32(math.Exp(-dt / tau)),
		P11Ex:   float32(math.Exp(-dt / p.GetTauSynEx())),
		P11In:   float32(math.Exp(-dt / p.GetTauSynIn())),
		P21Ex:   float32(Propagator32(p.GetTauSynEx(), tau, c, dt)),
		P21In:   float32(Propagator32(p.GetTauSynIn(), tau, c, dt)),
		P20:     float32(-math.Expm1(-dt/tau) * tau / c),
		IE:      float32(p.GetIE()),
		VTh:     float32(p.GetVTh() - p.GetEL()),
		VReset:  float32(p.GetVReset() - p.GetEL()),
		RefStep: RefractorySteps(p.GetTRef(), dt),
	}
}

// NewIafPscExpSlow computes the propagators of p for step dt (ms) with the
// slow excitatory port in use.
func NewIafPscExpSlow(p *myelinpb.IafPscExp, dt float64) IafPscExp {
	c := NewIafPscExp(p, dt)
	ts := slowTau(p.TauSynSlow)
	c.P11Slow = float32(math.Exp(-dt / ts))
	c.P21Slow = float32(Propagator32(ts, p.GetTauM(), p.GetCM(), dt))
	c.Slow = 1
	return c
}

// slowTau returns tau_syn_slow, or DefaultTauSynSlowMs when unset.
func slowTau(x *float64) float64 {
	if x == nil {
		return DefaultTauSynSlowMs
	}
	return *x
}

// Propagator32 is the change of V over a step h caused by a unit synaptic
// current that decays with tauSyn, for a membrane with tau and C (NEST's
// propagator_32): tau·tauSyn/(C(tau-tauSyn)) (e^{-h/tau} - e^{-h/tauSyn}),
// computed with expm1 where the two exponentials nearly cancel, directly
// where they do not (expm1 would overflow when h >> tauSyn), and as its
// limit h/C e^{-h/tau} when tauSyn = tau.
func Propagator32(tauSyn, tau, c, h float64) float64 {
	if math.Abs(tau-tauSyn) < 1e-9*tau {
		return h / c * math.Exp(-h/tau)
	}
	x := h * (1/tauSyn - 1/tau)
	if math.Abs(x) < 1 {
		return -tau / (c * (1 - tau/tauSyn)) * math.Exp(-h/tauSyn) * math.Expm1(x)
	}
	return tau * tauSyn / (c * (tau - tauSyn)) * (math.Exp(-h/tau) - math.Exp(-h/tauSyn))
}

// Step advances one neuron by one step, as NEST's iaf_psc_exp::update: v is
// V_m - E_L, iex and iin the synaptic currents (pA), ref the remaining
// refractory steps, inEx and inIn the weights arriving now on each channel
// (pA; inIn is negative), iext the external current (pA).
func (c *IafPscExp) Step(v, iex, iin float32, ref int32, inEx, inIn, iext float32) (float32, float32, float32, int32, bool) {
	if ref == 0 {
		v = float32(c.P22*v) + float32(c.P21Ex*iex) + float32(c.P21In*iin) + float32(c.P20*float32(c.IE+iext))
	} else {
		ref--
	}
	iex = float32(c.P11Ex*iex) + inEx
	iin = float32(c.P11In*iin) + inIn
	if v >= c.VTh {
		return c.VReset, iex, iin, c.RefStep, true
	}
	return v, iex, iin, ref, false
}

// StepSlow is Step with the slow excitatory port: is is its current (pA),
// inSlow the weight arriving on it now (pA, >= 0). The slow current acts on
// V through its own propagator, after the fast ones.
func (c *IafPscExp) StepSlow(v, iex, iin, is float32, ref int32, inEx, inIn, inSlow, iext float32) (float32, float32, float32, float32, int32, bool) {
	if ref == 0 {
		v = float32(c.P22*v) + float32(c.P21Ex*iex) + float32(c.P21In*iin) + float32(c.P21Slow*is) + float32(c.P20*float32(c.IE+iext))
	} else {
		ref--
	}
	iex = float32(c.P11Ex*iex) + inEx
	iin = float32(c.P11In*iin) + inIn
	is = float32(c.P11Slow*is) + inSlow
	if v >= c.VTh {
		return c.VReset, iex, iin, is, c.RefStep, true
	}
	return v, iex, iin, is, ref, false
}

// Update implements SpikingModel: Step for neurons [lo, hi), or StepSlow
// when the slow port is in use.
func (c *IafPscExp) Update(s *State, lo, hi uint32, in *Input, fired []uint32) []uint32 {
	v, iex, iin, ref := s.V[lo:hi], s.A[lo:hi], s.B[lo:hi], s.Ref[lo:hi]
	if c.Slow != 0 {
		is := s.C[lo:hi]
		ex, inh, sl, ext := in.Ex[:len(v)], in.In[:len(v)], in.Slow[:len(v)], in.Ext[:len(v)]
		for k := range v {
			var f bool
			v[k], iex[k], iin[k], is[k], ref[k], f = c.StepSlow(v[k], iex[k], iin[k], is[k], ref[k], ex[k], inh[k], sl[k], ext[k])
			if f {
				fired = append(fired, lo+uint32(k))
			}
		}
		return fired
	}
	ex, inh, ext := in.Ex[:len(v)], in.In[:len(v)], in.Ext[:len(v)]
	for k := range v {
		var f bool
		v[k], iex[k], iin[k], ref[k], f = c.Step(v[k], iex[k], iin[k], ref[k], ex[k], inh[k], ext[k])
		if f {
			fired = append(fired, lo+uint32(k))
		}
	}
	return fired
}

// UpdateRing implements RingModel: Update on the raw input r, without
// external current. The CPU backend never calls it with the slow port in
// use (such populations take the general input path).
func (c *IafPscExp) UpdateRing(s *State, lo, hi uint32, r *RingInput, fired []uint32) []uint32 {
	v, iex, iin, ref := s.V[lo:hi], s.A[lo:hi], s.B[lo:hi], s.Ref[lo:hi]
	k0 := 0
	switch {
	case r.Vector && r.Counts == nil:
		// The AVX2 twin of the loop below (vector.go), eight neurons at a time.
		fired, k0 = pscExpVector(c, lo, v, iex, iin, ref, r.Ex, r.In, r.Scale, r.Mask, fired)
	case r.Vector:
		fired, k0 = pscExpPoissonVector(c, lo, v, iex, iin, ref, r.Ex, r.In, r.Scale, r.Counts, r.PoissonW, r.Mask, fired)
	}
	for k := k0; k < len(v); k++ {
		ex, in := r.Two(k)
		var f bool
		v[k], iex[k], iin[k], ref[k], f = c.Step(v[k], iex[k], iin[k], ref[k], ex, in, 0)
		if f {
			fired = append(fired, lo+uint32(k))
		}
	}
	return fired
}
