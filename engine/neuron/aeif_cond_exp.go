package neuron

import (
	"math"
	"strconv"

	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// AeifCondExpModel is NEST's aeif_cond_exp: the adaptive exponential
// integrate-and-fire neuron of Brette & Gerstner (2005) with exponentially
// decaying conductances (weights in nS) and an adaptation current w.
var AeifCondExpModel = register(&Model{
	Name:     "aeif_cond_exp",
	Code:     5,
	Summary:  "adaptive exponential integrate-and-fire (Brette & Gerstner 2005), exponential conductances (weights in nS)",
	Kind:     Spiking,
	Channels: 2,
	State:    []string{"V_m", "g_ex", "g_in", "w"},
	Defaults: func() proto.Message {
		// NEST's defaults.
		return &myelinpb.AeifCondExp{
			CM: proto.Float64(281), GL: proto.Float64(30), TRef: proto.Float64(0),
			EL: proto.Float64(-70.6), VReset: proto.Float64(-60), VTh: proto.Float64(-50.4),
			IE: proto.Float64(0), EEx: proto.Float64(0), EIn: proto.Float64(-85),
			TauSynEx: proto.Float64(0.2), TauSynIn: proto.Float64(2),
			DeltaT: proto.Float64(2), TauW: proto.Float64(144), A: proto.Float64(4),
			B: proto.Float64(80.5), VPeak: proto.Float64(0),
		}
	},
	Check: func(m proto.Message, c Checker) {
		p := m.(*myelinpb.AeifCondExp)
		c.Positive("c_m", p.CM)
		c.Positive("g_l", p.GL)
		c.Refractory("t_ref", p.TRef)
		c.Finite("e_l", p.EL)
		c.Finite("i_e", p.IE)
		c.Finite("e_ex", p.EEx)
		c.Finite("e_in", p.EIn)
		c.Positive("tau_syn_ex", p.TauSynEx)
		c.Positive("tau_syn_in", p.TauSynIn)
		c.Positive("tau_w", p.TauW)
		c.Finite("a", p.A)
		c.Finite("b", p.B)
		c.NonNegative("delta_t", p.DeltaT)
		c.Finite("v_th", p.VTh)
		// As NEST: V_reset < V_peak (V_reset may lie above V_th, as in
		// bursting parameter sets), V_peak >= V_th, and no overflow of the
		// exponential at V_peak.
		c.Below("v_reset", p.VReset, "v_peak", p.VPeak)
		if allFinite(p.VPeak, p.VTh, p.DeltaT) {
			if *p.VPeak < *p.VTh {
				c.Fail("v_peak", fnum(*p.VPeak), "must be >= v_th ("+fnum(*p.VTh)+")")
			} else if *p.DeltaT > 0 && (*p.VPeak-*p.VTh)/(*p.DeltaT) >= aeifMaxPeakArg {
				c.Fail("delta_t", fnum(*p.DeltaT), "too small for v_peak - v_th = "+fnum(*p.VPeak-*p.VTh)+": the exponential would overflow at the spike ((v_peak - v_th)/delta_t must be < "+fnum(aeifMaxPeakArg)+", as in NEST)")
			}
		}
	},
	Rest:         func(m proto.Message) float64 { return m.(*myelinpb.AeifCondExp).GetEL() },
	Offset:       func(proto.Message) float64 { return 0 }, // V is absolute
	RefractoryMs: func(m proto.Message) float64 { return m.(*myelinpb.AeifCondExp).GetTRef() },
	New: func(m proto.Message, dt float64) Coefficients {
		c := NewAeifCondExp(m.(*myelinpb.AeifCondExp), dt)
		return &c
	},
})

// aeifMaxPeakArg is NEST's bound on (V_peak - V_th)/Delta_T:
// log(DBL_MAX / 1e20).
const aeifMaxPeakArg = 663.7310110335031

// AeifSubstepMs is the longest substep of aeif_cond_exp's integrator (ms).
// A step dt is split into ceil(dt / hmax) equal substeps, hmax the least of
// AeifSubstepMs and half of each synaptic time constant.
const AeifSubstepMs = 0.025

// AeifMicrosteps is the number of microsteps into which a substep in which
// V reaches the spike threshold is redone, so that the reset, and V's
// course after it, fall on a grid AeifMicrosteps times finer.
const AeifMicrosteps = 16

// AeifMaxExpArg bounds the argument of the exponential term,
// (min(V, V_peak) - V_th)/Delta_T, in float32. NEST bounds V by V_peak so
// that the term cannot overflow a double; in float32 e^x overflows at
// x = 88.7, so the argument is also capped here. The cap acts only where
// the upswing is already so fast (dV/dt > g_L Delta_T e^50 / C_m) that V
// passes V_peak within the substep, and it maps a NaN argument to the cap.
const AeifMaxExpArg = 50

// AeifRK is one fixed step of aeif_cond_exp's integrator: its length and
// the decay of the conductances and of w over it.
type AeifRK struct {
	H       float32 // step, ms
	PEx     float32 // exp(-H/tau_syn_ex)
	PExHalf float32 // exp(-H/(2 tau_syn_ex))
	PIn     float32 // exp(-H/tau_syn_in)
	PInHalf float32 // exp(-H/(2 tau_syn_in))
	PW      float32 // exp(-H/tau_w)
}

func newAeifRK(p *myelinpb.AeifCondExp, h float64) AeifRK {
	te, ti := p.GetTauSynEx(), p.GetTauSynIn()
	return AeifRK{
		H:       float32(h),
		PEx:     float32(math.Exp(-h / te)),
		PExHalf: float32(math.Exp(-h / (2 * te))),
		PIn:     float32(math.Exp(-h / ti)),
		PInHalf: float32(math.Exp(-h / (2 * ti))),
		PW:      float32(math.Exp(-h / p.GetTauW())),
	}
}

// AeifCondExp holds the float32 coefficients of NEST's aeif_cond_exp for
// one step h. Field order matches struct AeifCondExp in
// kernels/aeif_cond_exp.cuh. The membrane potential is absolute (mV).
//
// Integrator. NEST integrates this model with GSL's adaptive RKF45 (error
// tolerance 1e-6); an adaptive step size would make the amount of work, and
// in float32 the result, depend on the path, so Myelin takes NSub fixed
// substeps per step (see AeifSubstepMs: 4 at h = 0.1 ms) of the classic
// fourth-order Runge-Kutta method on (V, w), with the conductances, which
// decay linearly, taken exactly at the stage times (g e^{-s/tau} at
// s = 0, hs/2, hs). After each substep, as NEST does after each of its
// steps, V >= V_peak is a spike: V <- V_reset, w <- w + b and, with
// t_ref > 0, the neuron is refractory for the rest of the step and t_ref
// after it. Near the spike the exponential term explodes and NEST's
// adaptive solver shrinks its step; here a substep whose end reaches V_peak
// is redone from its start in AeifMicrosteps microsteps, so that the spike
// is detected, and V restarts from V_reset, within hs/AeifMicrosteps of
// where the finer grid puts it (the reset time is most of the error of a
// fixed step: V restarts late by up to the step). A refractory neuron keeps
// V = V_reset while w relaxes exactly towards a (V_reset - E_L). Arriving
// conductance jumps take effect from the next step on, as in NEST. With
// t_ref = 0 (the default) a neuron may in principle cross V_peak twice
// within one step; each crossing resets V and adds b, but the step reports
// one spike.
//
// Cost: four evaluations of the right-hand side, each with one Expf, per
// substep, 16 at h = 0.1 ms, and 64 more in a step with a spike:
// BenchmarkSpikingModels gives 445 ns per neuron and step on one core of
// the shared 2-core development VM (best of five), against 10 ns for
// iaf_cond_exp; Expf alone is 15 ns there. Error
// (TestAeifCondExpReference, against a float64 RK4 integration at 1/100
// of the step, six regimes of irregular input over 1 s): every spike
// within one step of the reference; V between spikes within 0.02 mV with
// t_ref = 0 and within 0.18 mV with t_ref = 2 ms, where a spike one step
// apart ends its refractory period one step apart. A fixed 0.01 ms
// substep without the refinement (40 exponentials a step) was less
// accurate: 0.035 and 0.135 mV.
type AeifCondExp struct {
	NSub    int32   // substeps per step
	NMicro  int32   // microsteps of a substep that reaches V_peak
	Sub     AeifRK  // a substep: hs = h/NSub
	Micro   AeifRK  // a microstep: hs/NMicro
	InvC    float32 // 1/C_m
	GL      float32 // g_L, nS
	EL      float32 // E_L, mV
	EEx     float32 // E_ex, mV
	EIn     float32 // E_in, mV
	GLDT    float32 // g_L Delta_T, pA (0 when Delta_T = 0)
	InvDT   float32 // 1/Delta_T (0 when Delta_T = 0)
	VTh     float32 // V_th, mV
	VBound  float32 // V_peak: V in the dynamics is min(V, V_peak)
	VSpike  float32 // V_peak, or V_th when Delta_T = 0 (NEST)
	VReset  float32 // V_reset, mV
	A       float32 // a, nS
	B       float32 // b, pA
	InvTauW float32 // 1/tau_w
	IE      float32 // I_e, pA
	RefStep int32   // t_ref in steps
}

// NewAeifCondExp computes the coefficients of p for step dt (ms).
func NewAeifCondExp(p *myelinpb.AeifCondExp, dt float64) AeifCondExp {
	hmax := min(AeifSubstepMs, p.GetTauSynEx()/2, p.GetTauSynIn()/2)
	return newAeifCondExp(p, dt, max(1, int(math.Ceil(dt/hmax-1e-9))), AeifMicrosteps)
}

// newAeifCondExp computes the coefficients of p for step dt with n
// substeps and m microsteps.
func newAeifCondExp(p *myelinpb.AeifCondExp, dt float64, n, m int) AeifCondExp {
	hs := dt / float64(n)
	c := AeifCondExp{
		NSub:    int32(n),
		NMicro:  int32(m),
		Sub:     newAeifRK(p, hs),
		Micro:   newAeifRK(p, hs/float64(m)),
		InvC:    float32(1 / p.GetCM()),
		GL:      float32(p.GetGL()),
		EL:      float32(p.GetEL()),
		EEx:     float32(p.GetEEx()),
		EIn:     float32(p.GetEIn()),
		VTh:     float32(p.GetVTh()),
		VBound:  float32(p.GetVPeak()),
		VSpike:  float32(p.GetVPeak()),
		VReset:  float32(p.GetVReset()),
		A:       float32(p.GetA()),
		B:       float32(p.GetB()),
		InvTauW: float32(1 / p.GetTauW()),
		IE:      float32(p.GetIE()),
		RefStep: RefractorySteps(p.GetTRef(), dt),
	}
	if p.GetDeltaT() > 0 {
		c.GLDT = float32(p.GetGL() * p.GetDeltaT())
		c.InvDT = float32(1 / p.GetDeltaT())
	} else {
		c.VSpike = c.VTh // NEST: IAF dynamics, spike at V_th
	}
	return c
}

// deriv is the right-hand side of (V, w) for conductances ge and gi and the
// current i = I_e + I_ext (pA), with V bounded by V_peak as in NEST.
func (c *AeifCondExp) deriv(v, w, ge, gi, i float32) (float32, float32) {
	if v > c.VBound {
		v = c.VBound
	}
	x := float32((v - c.VTh) * c.InvDT)
	if !(x < AeifMaxExpArg) {
		x = AeifMaxExpArg
	}
	ispike := float32(c.GLDT * Expf(x))
	dv := float32((ispike - float32(c.GL*(v-c.EL)) - float32(ge*(v-c.EEx)) - float32(gi*(v-c.EIn)) - w + i) * c.InvC)
	dw := float32((float32(c.A*(v-c.EL)) - w) * c.InvTauW)
	return dv, dw
}

// rk4 advances (v, w) by one step of r from conductances ge and gi at its
// start.
func (c *AeifCondExp) rk4(r *AeifRK, v, w, ge, gi, i float32) (float32, float32) {
	half := float32(r.H * 0.5)
	sixth := r.H / 6
	geM, giM := float32(ge*r.PExHalf), float32(gi*r.PInHalf)
	geE, giE := float32(ge*r.PEx), float32(gi*r.PIn)
	k1v, k1w := c.deriv(v, w, ge, gi, i)
	k2v, k2w := c.deriv(v+float32(half*k1v), w+float32(half*k1w), geM, giM, i)
	k3v, k3w := c.deriv(v+float32(half*k2v), w+float32(half*k2w), geM, giM, i)
	k4v, k4w := c.deriv(v+float32(r.H*k3v), w+float32(r.H*k3w), geE, giE, i)
	v = v + float32(sixth*(k1v+float32(2*k2v)+float32(2*k3v)+k4v))
	w = w + float32(sixth*(k1w+float32(2*k2w)+float32(2*k3w)+k4w))
	return v, w
}

// Step advances one neuron by one step: v the membrane potential (mV), gex
// and gin the conductances (nS), w the adaptation current (pA), ref the
// remaining refractory steps, inEx and inIn the weights arriving now (nS;
// inIn is negative and adds |inIn| to gin), iext the external current (pA).
func (c *AeifCondExp) Step(v, gex, gin, w float32, ref int32, inEx, inIn, iext float32) (float32, float32, float32, float32, int32, bool) {
	spiked := false
	i := c.IE + iext
	wref := float32(c.A * (c.VReset - c.EL)) // w's fixed point while refractory
	clamp := ref > 0
	if clamp {
		ref--
	}
	for k := int32(0); k < c.NSub; k++ {
		geE, giE := float32(gex*c.Sub.PEx), float32(gin*c.Sub.PIn)
		if clamp {
			v = c.VReset
			w = wref + float32((w-wref)*c.Sub.PW)
			gex, gin = geE, giE
			continue
		}
		v1, w1 := c.rk4(&c.Sub, v, w, gex, gin, i)
		if v1 < c.VSpike {
			v, w, gex, gin = v1, w1, geE, giE
			continue
		}
		// V reaches V_peak within this substep: redo it in microsteps.
		for j := int32(0); j < c.NMicro; j++ {
			if clamp {
				v = c.VReset
				w = wref + float32((w-wref)*c.Micro.PW)
			} else {
				v, w = c.rk4(&c.Micro, v, w, gex, gin, i)
				if v >= c.VSpike {
					v = c.VReset
					w = w + c.B
					spiked = true
					if c.RefStep > 0 {
						clamp, ref = true, c.RefStep
					}
				}
			}
			gex, gin = float32(gex*c.Micro.PEx), float32(gin*c.Micro.PIn)
		}
		gex, gin = geE, giE
	}
	gex = gex + inEx
	gin = gin - inIn
	return v, gex, gin, w, ref, spiked
}

// Update implements SpikingModel: Step for neurons [lo, hi).
func (c *AeifCondExp) Update(s *State, lo, hi uint32, in *Input, fired []uint32) []uint32 {
	v, gex, gin, w, ref := s.V[lo:hi], s.A[lo:hi], s.B[lo:hi], s.C[lo:hi], s.Ref[lo:hi]
	ex, inh, ext := in.Ex[:len(v)], in.In[:len(v)], in.Ext[:len(v)]
	for k := range v {
		var f bool
		v[k], gex[k], gin[k], w[k], ref[k], f = c.Step(v[k], gex[k], gin[k], w[k], ref[k], ex[k], inh[k], ext[k])
		if f {
			fired = append(fired, lo+uint32(k))
		}
	}
	return fired
}

// fnum formats x for a validation message.
func fnum(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// allFinite reports whether every x is set and finite (the Checker reports
// those that are not).
func allFinite(xs ...*float64) bool {
	for _, x := range xs {
		if x == nil || math.IsNaN(*x) || math.IsInf(*x, 0) {
			return false
		}
	}
	return true
}
