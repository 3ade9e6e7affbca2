package spec

import (
	"strconv"

	"github.com/myelin-sim/myelin/engine/neuron"
	"github.com/myelin-sim/myelin/engine/stream"
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

	// MaxDtMs is the largest integration step Validate accepts: the
	// largest a spike stream's header may carry (stream.MaxDtMs).
	MaxDtMs = stream.MaxDtMs
	// MinDtMs is the smallest integration step Validate accepts, a
	// nanosecond: the smallest a spike stream's header may carry
	// (stream.MinDtMs), so that every valid spec can be recorded.
	MinDtMs = stream.MinDtMs
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

// NEST's tsodyks2_synapse defaults for a projection's stp message (tau_fac
// defaults to 0).
const (
	DefaultSTPU        = 0.5
	DefaultSTPTauRecMs = 800.0
)

// NEST's stdp_synapse defaults for a projection's stdp message (tau_minus
// is a neuron parameter in NEST, 20 ms by default).
const (
	DefaultSTDPTauPlusMs  = 20.0
	DefaultSTDPTauMinusMs = 20.0
	DefaultSTDPLambda     = 0.01
	DefaultSTDPAlpha      = 1.0
	DefaultSTDPMuPlus     = 1.0
	DefaultSTDPMuMinus    = 1.0
	DefaultSTDPWMax       = 100.0
)

// DefaultProjectionName is the name a projection gets when it has none:
// "pre->post".
func DefaultProjectionName(pre, post string) string { return pre + "->" + post }

// DefaultInputName is the name inputs[i] gets when it has none: "input<i>".
func DefaultInputName(i int) string { return "input" + strconv.Itoa(i) }

// ApplyDefaults fills, in place, every unset field of n that has a default:
//
//   - dt_ms DefaultDtMs, duration_ms DefaultDurationMs;
//   - every unset model parameter from the model's defaults (NEST's;
//     neuron.Model.Defaults); a rate neuron's TRANSFER_UNSPECIFIED becomes
//     LINEAR;
//   - a population's initial value: the model's rest value (E_L for
//     spiking models, 0 for rate neurons);
//   - projection name "pre->post", delay constant dt_ms, allow_autapses and
//     allow_multapses true;
//   - a projection's stdp message: NEST's stdp_synapse defaults
//     (DefaultSTDPTauPlusMs and the others);
//   - a phase's learning_rate 1;
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
		if st := pr.Stp; st != nil {
			if st.U == nil {
				st.U = proto.Float64(DefaultSTPU)
			}
			if st.TauRecMs == nil {
				st.TauRecMs = proto.Float64(DefaultSTPTauRecMs)
			}
			if st.TauFacMs == nil {
				st.TauFacMs = proto.Float64(0)
			}
		}
		defaultSTDP(pr.Stdp)
		if pr.AllowAutapses == nil {
			pr.AllowAutapses = proto.Bool(true)
		}
		if pr.AllowMultapses == nil {
			pr.AllowMultapses = proto.Bool(true)
		}
	}
	for _, ph := range n.Phases {
		if ph != nil && ph.LearningRate == nil {
			ph.LearningRate = proto.Float64(1)
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
	m, _, ok := neuron.Of(p)
	if !ok {
		return
	}
	params := neuron.ParamsOrEmpty(p)
	// Also turns a rate neuron's TRANSFER_UNSPECIFIED (unset) into LINEAR.
	fillUnset(params, m.Defaults())
	if p.Initial == nil {
		p.Initial = Const(m.Rest(params))
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

// defaultSTDP fills the unset fields of an stdp message (nil: nothing).
func defaultSTDP(st *myelinpb.STDP) {
	if st == nil {
		return
	}
	for _, f := range []struct {
		p **float64
		v float64
	}{
		{&st.TauPlusMs, DefaultSTDPTauPlusMs}, {&st.TauMinusMs, DefaultSTDPTauMinusMs},
		{&st.Lambda, DefaultSTDPLambda}, {&st.Alpha, DefaultSTDPAlpha},
		{&st.MuPlus, DefaultSTDPMuPlus}, {&st.MuMinus, DefaultSTDPMuMinus}, {&st.WMax, DefaultSTDPWMax},
	} {
		if *f.p == nil {
			*f.p = proto.Float64(f.v)
		}
	}
}
