package synapse

import (
	"fmt"
	"math"

	"github.com/myelin-sim/myelin/engine/neuron"
)

// TsodyksMarkram holds the float32 coefficients of short-term plasticity
// after Tsodyks & Markram (1997) in the form of NEST's tsodyks2_synapse, for
// one step dt. Its state lives per presynaptic neuron (every synapse of a
// neuron onto one population sees the same spike train, so all share u and
// x): u, x and the step of the last spike. The struct has the fields of
// kernels/tsodyks_markram.cuh's in the same order; the host uploads it with
// encoding/binary.
type TsodyksMarkram struct {
	U         float32 // utilisation increment U; also u before the first spike
	OneMinusU float32 // 1 - U
	RecRate   float32 // dt / tau_rec: x recovers by exp(-h·RecRate) over h steps
	FacRate   float32 // dt / tau_fac: u relaxes by exp(-h·FacRate) (0 if Fac is 0)
	Fac       int32   // 1 when tau_fac > 0; 0: no facilitation, u stays U
}

// NoFacilitationMs is the tau_fac below which there is no facilitation, as in NEST's
// tsodyks2_synapse (1e-10 ms).
const NoFacilitationMs = 1e-10

// MinTauSteps bounds the time constants from below, in steps of dt: a
// smaller one decays fully within a step anyway, and keeps dt/tau finite
// in float32.
const MinTauSteps = 1e-6

// NewTsodyksMarkram returns the coefficients of U, tau_rec and tau_fac
// (ms; tauFac 0: no facilitation) for steps of dt ms. The parameters are
// checked: U in (0, 1], tau_rec > 0, tau_fac >= 0, all finite.
func NewTsodyksMarkram(u, tauRec, tauFac, dt float64) (TsodyksMarkram, error) {
	switch {
	case !(u > 0 && u <= 1):
		return TsodyksMarkram{}, fmt.Errorf("tsodyks_markram: U = %v: must be in (0, 1]", u)
	case !(tauRec > 0) || math.IsInf(tauRec, 0):
		return TsodyksMarkram{}, fmt.Errorf("tsodyks_markram: tau_rec = %v ms: must be finite and > 0", tauRec)
	case !(tauFac >= 0) || math.IsInf(tauFac, 0):
		return TsodyksMarkram{}, fmt.Errorf("tsodyks_markram: tau_fac = %v ms: must be finite and >= 0", tauFac)
	case !(dt > 0):
		return TsodyksMarkram{}, fmt.Errorf("tsodyks_markram: dt = %v ms: must be > 0", dt)
	case tauRec < dt*MinTauSteps:
		return TsodyksMarkram{}, fmt.Errorf("tsodyks_markram: tau_rec = %v ms: must be at least %g ms (%g steps of dt)", tauRec, dt*MinTauSteps, MinTauSteps)
	case tauFac >= NoFacilitationMs && tauFac < dt*MinTauSteps:
		return TsodyksMarkram{}, fmt.Errorf("tsodyks_markram: tau_fac = %v ms: must be 0 or at least %g ms (%g steps of dt)", tauFac, dt*MinTauSteps, MinTauSteps)
	}
	c := TsodyksMarkram{U: float32(u), RecRate: float32(dt / tauRec)}
	c.OneMinusU = 1 - c.U
	if tauFac >= NoFacilitationMs { // below: none, as NEST
		c.Fac, c.FacRate = 1, float32(dt/tauFac)
	}
	return c, nil
}

// Init returns the state before the first spike: u = U, x = 1, and the
// previous spike at time 0 (NEST's t_lastspike = 0).
func (c *TsodyksMarkram) Init() (u, x float32, last uint64) { return c.U, 1, 0 }

// Spike advances the state (*u, *x, *last) of a presynaptic neuron to its
// spike in step t and returns the factor u·x that scales the spike's
// weights. The spike is stamped at the step's end, (t+1)·dt, as NEST stamps
// it, and *last keeps that stamp in steps (0 before the first spike). With
// h = t + 1 - *last steps: x ← 1 + (x − x·u − 1)·exp(−h·RecRate),
// then u ← U + u·(1 − U)·exp(−h·FacRate) (u ← U without facilitation), as
// tsodyks2_synapse::send. Every product is rounded on its own (float32
// conversions), as in the CUDA twin compiled without contraction.
func (c *TsodyksMarkram) Spike(u, x *float32, last *uint64, t uint64) float32 {
	h := float32(t + 1 - *last)
	xd := neuron.Expf(-float32(h * c.RecRate))
	var ud float32
	if c.Fac != 0 {
		ud = neuron.Expf(-float32(h * c.FacRate))
	}
	xu := float32(*x * *u)
	nx := 1 + float32((*x-xu-1)*xd)
	nu := c.U + float32(float32(*u*c.OneMinusU)*ud)
	*x, *u, *last = nx, nu, t+1
	return float32(nu * nx)
}

// Scale returns the fixed-point weight w scaled by factor f, truncated
// toward zero (f is in [0, 1], so the result keeps w's sign and channel).
func Scale(w int32, f float32) int32 { return int32(float32(float32(w) * f)) }
