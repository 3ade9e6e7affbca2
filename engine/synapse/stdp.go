package synapse

import (
	"fmt"
	"math"

	"github.com/myelin-sim/myelin/engine/neuron"
)

// STDPParams are the parameters of pair-based spike-timing-dependent
// plasticity in the form of NEST's stdp_synapse (Gütig et al. 2003), in
// the spec's units: ms and the projection's weight units. WMax is signed
// by channel (negative for inhibitory synapses); the weights lie between 0
// and WMax.
type STDPParams struct {
	TauPlus, TauMinus float64 // ms
	Lambda, Alpha     float64
	MuPlus, MuMinus   float64 // 0 (additive) or 1 (multiplicative)
	WMax              float64
}

// Check returns an error naming the first bad parameter.
func (p STDPParams) Check() error {
	switch {
	case !(p.TauPlus > 0) || math.IsInf(p.TauPlus, 0):
		return fmt.Errorf("stdp: tau_plus_ms = %v: must be finite and > 0", p.TauPlus)
	case !(p.TauMinus > 0) || math.IsInf(p.TauMinus, 0):
		return fmt.Errorf("stdp: tau_minus_ms = %v: must be finite and > 0", p.TauMinus)
	case !(p.Lambda >= 0) || math.IsInf(p.Lambda, 0):
		return fmt.Errorf("stdp: lambda = %v: must be finite and >= 0", p.Lambda)
	case !(p.Alpha >= 0) || math.IsInf(p.Alpha, 0):
		return fmt.Errorf("stdp: alpha = %v: must be finite and >= 0", p.Alpha)
	case p.MuPlus != 0 && p.MuPlus != 1:
		return fmt.Errorf("stdp: mu_plus = %v: must be 0 (additive) or 1 (multiplicative)", p.MuPlus)
	case p.MuMinus != 0 && p.MuMinus != 1:
		return fmt.Errorf("stdp: mu_minus = %v: must be 0 (additive) or 1 (multiplicative)", p.MuMinus)
	case p.WMax == 0 || math.IsNaN(p.WMax) || math.IsInf(p.WMax, 0):
		return fmt.Errorf("stdp: w_max = %v: must be finite and non-zero", p.WMax)
	}
	return nil
}

// STDP holds the float32 coefficients of one STDP parameter set for one
// step dt, a target population's fixed-point scale and a learning rate.
// The struct has the fields of kernels/stdp.cuh's in the same order; the
// host uploads it with encoding/binary.
//
// Weights are the target population's fixed-point int32 words (weight ×
// 2^shift). A change is computed in float32 in fixed-point units, rounded
// to the nearest unit and added to the word, which is then clipped to
// [0, WMax]: the resolution of a plastic weight is the target's 2^-shift,
// and a change below half a unit is lost.
//
// Traces are kept per neuron as one uint64 record (see TraceAt): the
// float32 trace just before the neuron's last spike and that spike's step.
type STDP struct {
	PlusRate   float32 // dt / tau_plus: the presynaptic trace decays by Expf(-h·PlusRate) over h steps
	MinusRate  float32 // dt / tau_minus: the postsynaptic trace
	Potentiate float32 // λ·rate·WMax in fixed-point units: a potentiation adds Potentiate·(1−x)^mu_plus·K+
	Depress    float32 // α·λ·rate·WMax in fixed-point units: a depression subtracts Depress·x^mu_minus·K−
	InvWMax    float32 // 1 / WMax (fixed point): x = |w|·InvWMax
	WMax       int32   // |w_max| in fixed point
	Sign       int32   // 1, or −1 for inhibitory (negative) weights
	MuPlus     int32   // 0 additive, 1 multiplicative
	MuMinus    int32   // 0 additive, 1 multiplicative
}

// MaxSTDPSteps bounds the steps of a run with STDP: a trace record keeps
// the step of the last spike, plus one, in 32 bits.
const MaxSTDPSteps = 1<<32 - 2

// NewSTDP returns the coefficients of p for steps of dt ms, weights in
// fixed point with the given shift (weight × 2^shift) and learning rate
// rate (a factor on every change). It checks p, and that |w_max| in fixed
// point is at least 1 and at most 2^31-1.
func NewSTDP(p STDPParams, dt float64, shift int32, rate float64) (STDP, error) {
	if err := p.Check(); err != nil {
		return STDP{}, err
	}
	switch {
	case !(dt > 0):
		return STDP{}, fmt.Errorf("stdp: dt = %v ms: must be > 0", dt)
	case !(rate >= 0) || math.IsInf(rate, 0):
		return STDP{}, fmt.Errorf("stdp: learning rate %v: must be finite and >= 0", rate)
	case p.TauPlus < dt*MinTauSteps:
		return STDP{}, fmt.Errorf("stdp: tau_plus_ms = %v: must be at least %g ms (%g steps of dt)", p.TauPlus, dt*MinTauSteps, MinTauSteps)
	case p.TauMinus < dt*MinTauSteps:
		return STDP{}, fmt.Errorf("stdp: tau_minus_ms = %v: must be at least %g ms (%g steps of dt)", p.TauMinus, dt*MinTauSteps, MinTauSteps)
	}
	wm := math.Round(math.Ldexp(math.Abs(p.WMax), int(shift)))
	if !(wm >= 1) || wm > math.MaxInt32 {
		return STDP{}, fmt.Errorf("stdp: w_max = %v is %v units of the target's fixed point (2^%d): must be 1 to 2^31-1", p.WMax, wm, -shift)
	}
	c := STDP{
		PlusRate:   float32(dt / p.TauPlus),
		MinusRate:  float32(dt / p.TauMinus),
		Potentiate: float32(p.Lambda * rate * wm),
		Depress:    float32(p.Alpha * p.Lambda * rate * wm),
		InvWMax:    float32(1 / wm),
		WMax:       int32(wm),
		Sign:       1,
		MuPlus:     int32(p.MuPlus),
		MuMinus:    int32(p.MuMinus),
	}
	if p.WMax < 0 {
		c.Sign = -1
	}
	// A change of more than float32 holds would turn the rule's products
	// into Inf and NaN (0·Inf), which round to nothing sensible.
	if math.IsInf(float64(c.Potentiate), 0) {
		return STDP{}, fmt.Errorf("stdp: lambda = %v × learning rate %v × w_max (%v fixed-point units) = %v: must be below %g (float32); lower lambda or the learning rate", p.Lambda, rate, wm, p.Lambda*rate*wm, math.MaxFloat32)
	}
	if math.IsInf(float64(c.Depress), 0) {
		return STDP{}, fmt.Errorf("stdp: alpha = %v × lambda %v × learning rate %v × w_max (%v fixed-point units) = %v: must be below %g (float32); lower alpha, lambda or the learning rate", p.Alpha, p.Lambda, rate, wm, p.Alpha*p.Lambda*rate*wm, math.MaxFloat32)
	}
	return c, nil
}

// TraceAt returns the trace of a neuron at step t from its spikes of steps
// before t: rec holds, in its low 32 bits, the float32 bits of the trace
// just before the neuron's last spike, and in its high 32 bits that
// spike's step plus one (0: no spike yet). Each spike adds 1 to the trace,
// which decays by Expf(-h·rate) over h steps. A spike of step t itself is
// not counted, so the answer is the same whether or not the record already
// holds it.
func TraceAt(rec, t uint64, rate float32) float32 {
	k, h := traceSince(rec, t)
	if h == 0 {
		return k
	}
	return float32((k + 1) * neuron.Expf(-float32(float32(h)*rate)))
}

// traceSince splits a trace record at step t: the trace just before the
// last spike and the steps h since it; h is 0 where no decay applies (no
// spike yet: k is 0; the last spike is of step t itself: k is the answer).
func traceSince(rec, t uint64) (k float32, h uint64) {
	n := rec >> 32
	if n == 0 {
		return 0, 0
	}
	return math.Float32frombits(uint32(rec)), t - (n - 1)
}

// TraceSpike returns the record rec after a spike of step t (t below
// MaxSTDPSteps, and not before the record's last spike).
func TraceSpike(rec, t uint64, rate float32) uint64 {
	return (t+1)<<32 | uint64(math.Float32bits(TraceAt(rec, t, rate)))
}

// round returns d rounded to the nearest integer, halves up (d in
// [0, 2^31)).
func round(d float32) int64 { return int64(math.Floor(float64(d + 0.5))) }

// Facilitate returns the fixed-point weight w after a potentiation by a
// presynaptic trace k: |w| grows by Potentiate·(1 − x)^mu_plus·k units
// (x = |w|/WMax), rounded, and is clipped at WMax.
func (c *STDP) Facilitate(w int32, k float32) int32 {
	m := w * c.Sign
	f := float32(1)
	if c.MuPlus != 0 {
		f = 1 - float32(float32(m)*c.InvWMax)
		if f < 0 {
			f = 0
		}
	}
	d := float32(float32(c.Potentiate*f) * k)
	if d >= float32(c.WMax) {
		return c.WMax * c.Sign
	}
	return c.clip(int64(m)+round(d)) * c.Sign
}

// Depression returns the fixed-point weight w after a depression by a
// postsynaptic trace k: |w| shrinks by Depress·x^mu_minus·k units,
// rounded, and is clipped at 0.
func (c *STDP) Depression(w int32, k float32) int32 {
	m := w * c.Sign
	g := float32(1)
	if c.MuMinus != 0 {
		g = float32(float32(m) * c.InvWMax)
	}
	d := float32(float32(c.Depress*g) * k)
	if d >= float32(c.WMax) {
		return 0
	}
	return c.clip(int64(m)-round(d)) * c.Sign
}

// clip returns the magnitude n clipped to [0, WMax].
func (c *STDP) clip(n int64) int32 {
	if n < 0 {
		return 0
	}
	if n > int64(c.WMax) {
		return c.WMax
	}
	return int32(n)
}

// Decay caches Expf(-h·rate) for h below its length, so that TraceAt's
// decay is a table lookup on the CPU: the entries are computed by the same
// expression, so the traces keep the bits of TraceAt (and of the CUDA
// twin, which computes the exponential each time).
type Decay struct {
	rate float32
	d    []float32
}

// NewDecay returns the table of rate for h in [0, n).
func NewDecay(rate float32, n int) Decay {
	d := Decay{rate: rate, d: make([]float32, n)}
	for h := range d.d {
		d.d[h] = neuron.Expf(-float32(float32(h) * rate))
	}
	return d
}

// TraceAt is TraceAt(rec, t, rate) with the table's rate.
func (d *Decay) TraceAt(rec, t uint64) float32 {
	k, h := traceSince(rec, t)
	if h == 0 {
		return k
	}
	if h < uint64(len(d.d)) {
		return float32((k + 1) * d.d[h])
	}
	return float32((k + 1) * neuron.Expf(-float32(float32(h)*d.rate)))
}

// TraceSpike is TraceSpike(rec, t, rate) with the table's rate.
func (d *Decay) TraceSpike(rec, t uint64) uint64 {
	return (t+1)<<32 | uint64(math.Float32bits(d.TraceAt(rec, t)))
}
