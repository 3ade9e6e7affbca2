package spec

import (
	"strconv"

	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Network-level defaults and limits.
const (
	// DefaultDtMs is the integration step when dt_ms is unset.
	DefaultDtMs = 0.1
	// DefaultDurationMs is the simulated time when duration_ms is unset.
	DefaultDurationMs = 1000.0
	// DefaultBlockSteps is recording.block_steps when unset (zero).
	DefaultBlockSteps = 100
	// DefaultProbeEvery is a state probe's sampling interval (in steps) when
	// unset (zero).
	DefaultProbeEvery = 1

	// MaxDtMs is the largest integration step Validate accepts.
	MaxDtMs = 10.0
	// MaxSteps is the largest number of steps (duration_ms / dt_ms) Validate
	// accepts.
	MaxSteps = 1 << 40
	// MaxNeurons bounds the total number of neurons: the sum of population
	// sizes must be below it, so global neuron ids fit in an int32.
	MaxNeurons = 1 << 31
	// MaxDelaySteps bounds any delay Validate can see (constants, explicit
	// values, uniform highs, normal means and maxima), in steps of dt_ms.
	// It is a sanity limit against ring buffers of absurd length.
	MaxDelaySteps = 1 << 20
	// MaxRefractorySteps bounds t_ref of every spiking model, in steps of
	// dt_ms: backends count refractory steps in an int32.
	MaxRefractorySteps = 1<<31 - 1
	// MaxPoissonMean bounds the expected number of spikes per neuron and
	// step of a Poisson input (rate_hz × dt_ms / 1000). Its inverse-CDF
	// table has about 24·sqrt(mean) entries, and counts must fit in a uint32.
	MaxPoissonMean = 1e6
	// MinNormalMass is the least probability that a normal distribution
	// with bounds gives to [min, max]. Values outside are redrawn, up to
	// 1000 times and then clamped: a thinner window makes building slow
	// and piles values up at the bounds.
	MinNormalMass = 0.01
)

// DefaultIafPscDelta returns NEST's iaf_psc_delta defaults with every
// optional field set: C_m 250 pF, tau_m 10 ms, t_ref 2 ms, E_L -70 mV,
// V_reset -70 mV, V_th -55 mV, I_e 0 pA.
func DefaultIafPscDelta() *myelinpb.IafPscDelta {
	return &myelinpb.IafPscDelta{
		CM: proto.Float64(250), TauM: proto.Float64(10), TRef: proto.Float64(2),
		EL: proto.Float64(-70), VReset: proto.Float64(-70), VTh: proto.Float64(-55),
		IE: proto.Float64(0),
	}
}

// DefaultIafPscExp returns NEST's iaf_psc_exp defaults: those of
// iaf_psc_delta plus tau_syn_ex 2 ms and tau_syn_in 2 ms.
func DefaultIafPscExp() *myelinpb.IafPscExp {
	return &myelinpb.IafPscExp{
		CM: proto.Float64(250), TauM: proto.Float64(10), TRef: proto.Float64(2),
		EL: proto.Float64(-70), VReset: proto.Float64(-70), VTh: proto.Float64(-55),
		IE: proto.Float64(0), TauSynEx: proto.Float64(2), TauSynIn: proto.Float64(2),
	}
}

// DefaultIafCondExp returns NEST's iaf_cond_exp defaults: C_m 250 pF,
// g_L 16.6667 nS, t_ref 2 ms, E_L -70 mV, V_reset -60 mV, V_th -55 mV,
// I_e 0 pA, E_ex 0 mV, E_in -85 mV, tau_syn_ex 0.2 ms, tau_syn_in 2 ms.
func DefaultIafCondExp() *myelinpb.IafCondExp {
	return &myelinpb.IafCondExp{
		CM: proto.Float64(250), GL: proto.Float64(16.6667), TRef: proto.Float64(2),
		EL: proto.Float64(-70), VReset: proto.Float64(-60), VTh: proto.Float64(-55),
		IE: proto.Float64(0), EEx: proto.Float64(0), EIn: proto.Float64(-85),
		TauSynEx: proto.Float64(0.2), TauSynIn: proto.Float64(2),
	}
}

// DefaultRateNeuron returns the rate neuron defaults: tau 10 ms, LINEAR
// transfer, gain 1, theta 0, r_max 1, i_e 0.
func DefaultRateNeuron() *myelinpb.RateNeuron {
	return &myelinpb.RateNeuron{
		Tau: proto.Float64(10), Transfer: myelinpb.RateNeuron_LINEAR,
		Gain: proto.Float64(1), Theta: proto.Float64(0), RMax: proto.Float64(1),
		IE: proto.Float64(0),
	}
}

// DefaultProjectionName is the name a projection gets when it has none:
// "pre->post".
func DefaultProjectionName(pre, post string) string { return pre + "->" + post }

// DefaultInputName is the name inputs[i] gets when it has none: "input<i>".
func DefaultInputName(i int) string { return "input" + strconv.Itoa(i) }

// ApplyDefaults fills, in place, every unset field of n that has a default:
//
//   - dt_ms DefaultDtMs, duration_ms DefaultDurationMs;
//   - every unset model parameter from NEST's defaults (DefaultIafPscDelta,
//     DefaultIafPscExp, DefaultIafCondExp, DefaultRateNeuron); a rate
//     neuron's TRANSFER_UNSPECIFIED becomes LINEAR;
//   - a population's initial value: constant E_L for spiking models,
//     constant 0 for rate neurons;
//   - projection name "pre->post", delay constant dt_ms, allow_autapses and
//     allow_multapses true;
//   - input name "input<i>";
//   - recording (created if absent) block_steps DefaultBlockSteps, and each
//     state probe's every DefaultProbeEvery.
//
// Set fields, including invalid ones, are left alone for Validate to judge.
// ApplyDefaults is idempotent and ignores nil messages; it never allocates a
// population model that is unset (Validate reports that).
func ApplyDefaults(n *myelinpb.Network) {
	if n == nil {
		return
	}
	if n.DtMs == nil {
		n.DtMs = proto.Float64(DefaultDtMs)
	}
	if n.DurationMs == nil {
		n.DurationMs = proto.Float64(DefaultDurationMs)
	}
	for _, p := range n.Populations {
		defaultPopulation(p)
	}
	for _, pr := range n.Projections {
		if pr == nil {
			continue
		}
		if pr.Name == "" {
			pr.Name = DefaultProjectionName(pr.Pre, pr.Post)
		}
		if pr.Delay == nil {
			pr.Delay = Const(n.GetDtMs())
		}
		if pr.AllowAutapses == nil {
			pr.AllowAutapses = proto.Bool(true)
		}
		if pr.AllowMultapses == nil {
			pr.AllowMultapses = proto.Bool(true)
		}
	}
	for i, in := range n.Inputs {
		if in != nil && in.Name == "" {
			in.Name = DefaultInputName(i)
		}
	}
	if n.Recording == nil {
		n.Recording = &myelinpb.Recording{}
	}
	if n.Recording.BlockSteps == 0 {
		n.Recording.BlockSteps = DefaultBlockSteps
	}
	for _, sp := range n.Recording.State {
		if sp != nil && sp.Every == 0 {
			sp.Every = DefaultProbeEvery
		}
	}
}

// defaultPopulation fills the model parameters and initial value of p.
func defaultPopulation(p *myelinpb.Population) {
	if p == nil {
		return
	}
	var initial float64
	switch m := p.Model.(type) {
	case *myelinpb.Population_IafPscDelta:
		if m.IafPscDelta == nil {
			m.IafPscDelta = &myelinpb.IafPscDelta{}
		}
		fillUnset(m.IafPscDelta, DefaultIafPscDelta())
		initial = m.IafPscDelta.GetEL()
	case *myelinpb.Population_IafPscExp:
		if m.IafPscExp == nil {
			m.IafPscExp = &myelinpb.IafPscExp{}
		}
		fillUnset(m.IafPscExp, DefaultIafPscExp())
		initial = m.IafPscExp.GetEL()
	case *myelinpb.Population_IafCondExp:
		if m.IafCondExp == nil {
			m.IafCondExp = &myelinpb.IafCondExp{}
		}
		fillUnset(m.IafCondExp, DefaultIafCondExp())
		initial = m.IafCondExp.GetEL()
	case *myelinpb.Population_Rate:
		if m.Rate == nil {
			m.Rate = &myelinpb.RateNeuron{}
		}
		// Also turns TRANSFER_UNSPECIFIED (unset) into the default LINEAR.
		fillUnset(m.Rate, DefaultRateNeuron())
		initial = 0
	default:
		return
	}
	if p.Initial == nil {
		p.Initial = Const(initial)
	}
}

// fillUnset copies into dst every field that def sets and dst does not:
// the NEST defaults of a model message, whatever its fields.
func fillUnset(dst, def proto.Message) {
	d, t := def.ProtoReflect(), dst.ProtoReflect()
	d.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if !t.Has(fd) {
			t.Set(fd, v)
		}
		return true
	})
}
