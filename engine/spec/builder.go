package spec

import (
	"errors"
	"fmt"

	"github.com/myelin-sim/myelin/engine/neuron"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// Builder assembles a *myelinpb.Network in Go:
//
//	b := spec.New("brunel").Dt(0.1).Duration(1000).Seed(42)
//	b.Population("E", 10000, spec.IafPscDelta(&myelinpb.IafPscDelta{TauM: proto.Float64(20)}),
//		spec.Initial(spec.UniformDist(0, 20)))
//	b.Project("E", "I", spec.FixedIn(1000), spec.Weight(spec.Const(0.1)), spec.Delay(spec.Const(1.5)))
//	b.Poisson("E", 8000, 0.1)
//	net, err := b.Build()
//
// Methods append to the network in call order and return the builder so
// calls can be chained. Mistakes are collected and reported by Build. A
// Builder is not safe for concurrent use.
type Builder struct {
	net  *myelinpb.Network
	errs []error
}

// New starts a network called name.
func New(name string) *Builder {
	return &Builder{net: &myelinpb.Network{Name: name}}
}

// Dt sets the integration step in ms.
func (b *Builder) Dt(ms float64) *Builder { b.net.DtMs = proto.Float64(ms); return b }

// Duration sets the simulated time in ms.
func (b *Builder) Duration(ms float64) *Builder { b.net.DurationMs = proto.Float64(ms); return b }

// Seed sets the seed of every random draw.
func (b *Builder) Seed(seed uint64) *Builder { b.net.Seed = seed; return b }

// Model is a neuron model with its parameters, for Builder.Population.
type Model func(*myelinpb.Population)

// IafPscDelta is NEST's iaf_psc_delta with the given parameters (nil: all
// defaults; unset fields take defaults). The message is used, not copied.
func IafPscDelta(p *myelinpb.IafPscDelta) Model {
	if p == nil {
		p = &myelinpb.IafPscDelta{}
	}
	return Neuron(p)
}

// IafPscExp is NEST's iaf_psc_exp with the given parameters (nil: defaults).
func IafPscExp(p *myelinpb.IafPscExp) Model {
	if p == nil {
		p = &myelinpb.IafPscExp{}
	}
	return Neuron(p)
}

// IafCondExp is NEST's iaf_cond_exp with the given parameters (nil: defaults).
func IafCondExp(p *myelinpb.IafCondExp) Model {
	if p == nil {
		p = &myelinpb.IafCondExp{}
	}
	return Neuron(p)
}

// Rate is the rate neuron with the given parameters (nil: defaults).
func Rate(p *myelinpb.RateNeuron) Model {
	if p == nil {
		p = &myelinpb.RateNeuron{}
	}
	return Neuron(p)
}

// Neuron is the neuron model whose parameter message params is (for
// example a *myelinpb.IafPscExp; unset fields take defaults). It serves
// every registered model, including those without a helper of their own.
// A message of no registered model leaves the population without a model,
// which Validate reports.
func Neuron(params proto.Message) Model {
	return func(pop *myelinpb.Population) {
		if m, ok := neuron.ForParams(params); ok {
			_ = neuron.Set(pop, m.Name, params) // cannot fail: the type matches
		}
	}
}

// Const is the constant distribution x.
func Const(x float64) *myelinpb.Distribution {
	return &myelinpb.Distribution{Kind: &myelinpb.Distribution_Constant{Constant: x}}
}

// UniformDist is U(low, high).
func UniformDist(low, high float64) *myelinpb.Distribution {
	return &myelinpb.Distribution{Kind: &myelinpb.Distribution_Uniform{Uniform: &myelinpb.Uniform{Low: low, High: high}}}
}

// NormalDist is N(mean, std²) without bounds.
func NormalDist(mean, std float64) *myelinpb.Distribution {
	return &myelinpb.Distribution{Kind: &myelinpb.Distribution_Normal{Normal: &myelinpb.Normal{Mean: mean, Std: std}}}
}

// ClippedNormalDist is N(mean, std²) redrawn outside [lo, hi].
func ClippedNormalDist(mean, std, lo, hi float64) *myelinpb.Distribution {
	return &myelinpb.Distribution{Kind: &myelinpb.Distribution_Normal{Normal: &myelinpb.Normal{
		Mean: mean, Std: std, Min: proto.Float64(lo), Max: proto.Float64(hi)}}}
}

// LognormalDist is exp(N(mu, sigma²)), negated when negative is true.
func LognormalDist(mu, sigma float64, negative bool) *myelinpb.Distribution {
	return &myelinpb.Distribution{Kind: &myelinpb.Distribution_Lognormal{Lognormal: &myelinpb.Lognormal{
		Mu: mu, Sigma: sigma, Negative: negative}}}
}

// Rule is a connection rule, for Builder.Project.
type Rule func(*myelinpb.Projection)

// FixedIn gives each post neuron exactly k inputs.
func FixedIn(k uint32) Rule {
	return func(p *myelinpb.Projection) {
		p.Rule = &myelinpb.Projection_FixedInDegree{FixedInDegree: &myelinpb.FixedInDegree{Indegree: k}}
	}
}

// FixedOut gives each pre neuron exactly k targets.
func FixedOut(k uint32) Rule {
	return func(p *myelinpb.Projection) {
		p.Rule = &myelinpb.Projection_FixedOutDegree{FixedOutDegree: &myelinpb.FixedOutDegree{Outdegree: k}}
	}
}

// Bernoulli connects each pair independently with probability prob
// (NEST's pairwise_bernoulli).
func Bernoulli(prob float64) Rule {
	return func(p *myelinpb.Projection) {
		p.Rule = &myelinpb.Projection_PairwiseBernoulli{PairwiseBernoulli: &myelinpb.PairwiseBernoulli{P: prob}}
	}
}

// BernoulliBySource is Bernoulli with the targets of each presynaptic
// neuron drawn in turn (PairwiseBernoulli.by_source): the rule that a
// procedural projection can regenerate row by row.
func BernoulliBySource(prob float64) Rule {
	return func(p *myelinpb.Projection) {
		p.Rule = &myelinpb.Projection_PairwiseBernoulli{PairwiseBernoulli: &myelinpb.PairwiseBernoulli{P: prob, BySource: true}}
	}
}

// OneToOne connects neuron i to neuron i.
func OneToOne() Rule {
	return func(p *myelinpb.Projection) {
		p.Rule = &myelinpb.Projection_OneToOne{OneToOne: &myelinpb.OneToOne{}}
	}
}

// AllToAll connects every pair.
func AllToAll() Rule {
	return func(p *myelinpb.Projection) {
		p.Rule = &myelinpb.Projection_AllToAll{AllToAll: &myelinpb.AllToAll{}}
	}
}

// Ring connects rate populations on a ring with
// w(d) = jExc exp(-d²/2σ²) - jInh, d in degrees; no weight option needed.
func Ring(jExc, jInh, sigmaDeg float64) Rule {
	return func(p *myelinpb.Projection) {
		p.Rule = &myelinpb.Projection_Ring{Ring: &myelinpb.RingRule{JExc: jExc, JInh: jInh, SigmaDeg: sigmaDeg}}
	}
}

// Explicit connects the listed pairs (pre[k] -> post[k]). Per-synapse
// weights and delays go in list.WeightValues and list.DelayMs when wanted.
func Explicit(list *myelinpb.ExplicitList) Rule {
	return func(p *myelinpb.Projection) {
		l := list
		if l == nil {
			l = &myelinpb.ExplicitList{}
		}
		p.Rule = &myelinpb.Projection_Explicit{Explicit: l}
	}
}

// Option adjusts a population, projection or input added by a Builder.
// Using an option where it does not apply (Weight on an input, say) is an
// error reported by Build.
type Option struct {
	name  string
	pop   func(*myelinpb.Population)
	proj  func(*myelinpb.Projection)
	input func(*myelinpb.Input) bool // false: does not apply to this input kind
}

// Initial sets a population's initial membrane potential (or rate).
func Initial(d *myelinpb.Distribution) Option {
	return Option{name: "Initial", pop: func(p *myelinpb.Population) { p.Initial = d }}
}

// Weight sets a projection's weight distribution.
func Weight(d *myelinpb.Distribution) Option {
	return Option{name: "Weight", proj: func(p *myelinpb.Projection) { p.Weight = d }}
}

// Delay sets a projection's delay distribution in ms.
func Delay(d *myelinpb.Distribution) Option {
	return Option{name: "Delay", proj: func(p *myelinpb.Projection) { p.Delay = d }}
}

// STP makes a projection's synapses short-term plastic (Tsodyks–Markram,
// NEST's tsodyks2_synapse): utilisation u, recovery and facilitation time
// constants in ms (tauFac 0: depression only).
func STP(u, tauRec, tauFac float64) Option {
	return Option{name: "STP", proj: func(p *myelinpb.Projection) {
		p.Stp = &myelinpb.TsodyksMarkram{U: proto.Float64(u), TauRecMs: proto.Float64(tauRec), TauFacMs: proto.Float64(tauFac)}
	}}
}

// STDP makes a projection's synapses plastic under pair-based STDP (NEST's
// stdp_synapse) with NEST's defaults, then applies the given changes to the
// message (nil: none), e.g. func(s *myelinpb.STDP) { s.WMax =
// proto.Float64(0.5) }.
func STDP(set func(*myelinpb.STDP)) Option {
	return Option{name: "STDP", proj: func(p *myelinpb.Projection) {
		p.Stdp = &myelinpb.STDP{}
		defaultSTDP(p.Stdp)
		if set != nil {
			set(p.Stdp)
		}
	}}
}

// Autapses sets whether a projection may connect a neuron to itself.
func Autapses(allow bool) Option {
	return Option{name: "Autapses", proj: func(p *myelinpb.Projection) { p.AllowAutapses = proto.Bool(allow) }}
}

// Procedural sets whether a projection regenerates its rows when a neuron
// spikes instead of storing its synapses (procedural connectivity).
func Procedural(on bool) Option {
	return Option{name: "Procedural", proj: func(p *myelinpb.Projection) { p.Procedural = proto.Bool(on) }}
}

// Multapses sets whether a projection may connect a pair more than once.
func Multapses(allow bool) Option {
	return Option{name: "Multapses", proj: func(p *myelinpb.Projection) { p.AllowMultapses = proto.Bool(allow) }}
}

// Name names a projection or an input (default "pre->post", "input<i>").
func Name(name string) Option {
	return Option{name: "Name",
		proj:  func(p *myelinpb.Projection) { p.Name = name },
		input: func(in *myelinpb.Input) bool { in.Name = name; return true },
	}
}

// Via chooses the synaptic channel of a projection, Poisson input or
// spike-time input.
func Via(r myelinpb.Receptor) Option {
	return Option{name: "Via",
		proj: func(p *myelinpb.Projection) { p.Receptor = r },
		input: func(in *myelinpb.Input) bool {
			switch k := in.Kind.(type) {
			case *myelinpb.Input_Poisson:
				k.Poisson.Receptor = r
			case *myelinpb.Input_SpikeTimes:
				k.SpikeTimes.Receptor = r
			default:
				return false
			}
			return true
		},
	}
}

// Window limits a Poisson or DC input to [startMs, stopMs).
func Window(startMs, stopMs float64) Option {
	return Option{name: "Window", input: func(in *myelinpb.Input) bool {
		switch k := in.Kind.(type) {
		case *myelinpb.Input_Poisson:
			k.Poisson.StartMs, k.Poisson.StopMs = proto.Float64(startMs), proto.Float64(stopMs)
		case *myelinpb.Input_Dc:
			k.Dc.StartMs, k.Dc.StopMs = proto.Float64(startMs), proto.Float64(stopMs)
		default:
			return false
		}
		return true
	}}
}

// Neurons limits a Poisson or DC input to neurons [first, first+count) of
// its target (count 0: to the end).
func Neurons(first, count uint32) Option {
	return Option{name: "Neurons", input: func(in *myelinpb.Input) bool {
		switch k := in.Kind.(type) {
		case *myelinpb.Input_Poisson:
			k.Poisson.First, k.Poisson.Count = first, count
		case *myelinpb.Input_Dc:
			k.Dc.First, k.Dc.Count = first, count
		default:
			return false
		}
		return true
	}}
}

// Piecewise gives a Poisson input a piecewise-constant rate: ratesHz[j]
// from timesMs[j] until timesMs[j+1] (the last until the input's stop). It
// sets rate_hz to 0: pass 0 as the rate of Poisson.
func Piecewise(timesMs, ratesHz []float64) Option {
	return schedule("Piecewise", &myelinpb.RateSchedule{Kind: &myelinpb.RateSchedule_Piecewise{
		Piecewise: &myelinpb.PiecewiseRate{TimeMs: timesMs, RateHz: ratesHz}}})
}

// Sinusoidal gives a Poisson input the rate meanHz·(1 + depth·sin(2π
// freqHz t + phaseDeg)), quantised every stepMs (0: 1 ms); theta
// modulation is a frequency of 4-12 Hz. It sets rate_hz to 0: pass 0 as
// the rate of Poisson.
func Sinusoidal(meanHz, depth, freqHz, phaseDeg, stepMs float64) Option {
	return schedule("Sinusoidal", &myelinpb.RateSchedule{Kind: &myelinpb.RateSchedule_Sinusoidal{
		Sinusoidal: &myelinpb.SinusoidalRate{MeanHz: meanHz, Depth: depth, FrequencyHz: freqHz, PhaseDeg: phaseDeg, StepMs: stepMs}}})
}

func schedule(name string, sc *myelinpb.RateSchedule) Option {
	return Option{name: name, input: func(in *myelinpb.Input) bool {
		k, ok := in.Kind.(*myelinpb.Input_Poisson)
		if !ok {
			return false
		}
		k.Poisson.Schedule, k.Poisson.RateHz = sc, 0
		return true
	}}
}

// Population adds a population of size neurons of the given model.
// Applicable option: Initial.
func (b *Builder) Population(name string, size uint32, model Model, opts ...Option) *Builder {
	p := &myelinpb.Population{Name: name, Size: size}
	if model == nil {
		b.errs = append(b.errs, fmt.Errorf("population %q: model is nil", name))
	} else {
		model(p)
	}
	for _, o := range opts {
		if o.pop == nil {
			b.misuse(o, fmt.Sprintf("population %q", name))
			continue
		}
		o.pop(p)
	}
	b.net.Populations = append(b.net.Populations, p)
	return b
}

// Project adds a projection from pre to post with the given rule.
// Applicable options: Weight, Delay, Via, Autapses, Multapses, Name.
func (b *Builder) Project(pre, post string, rule Rule, opts ...Option) *Builder {
	p := &myelinpb.Projection{Pre: pre, Post: post}
	if rule == nil {
		b.errs = append(b.errs, fmt.Errorf("projection %s->%s: rule is nil", pre, post))
	} else {
		rule(p)
	}
	for _, o := range opts {
		if o.proj == nil {
			b.misuse(o, fmt.Sprintf("projection %s->%s", pre, post))
			continue
		}
		o.proj(p)
	}
	b.net.Projections = append(b.net.Projections, p)
	return b
}

// Poisson gives every neuron of target its own Poisson train of rateHz,
// each spike of the given weight. Applicable options: Via, Window, Neurons,
// Name.
//
// Rate schedules: Piecewise, Sinusoidal.
func (b *Builder) Poisson(target string, rateHz, weight float64, opts ...Option) *Builder {
	return b.addInput(&myelinpb.Input{Target: target, Kind: &myelinpb.Input_Poisson{
		Poisson: &myelinpb.PoissonInput{RateHz: rateHz, Weight: weight}}}, opts)
}

// DC adds a constant current amplitude (pA; input I for rate neurons) to
// the neurons of target. Applicable options: Window, Neurons, Name.
func (b *Builder) DC(target string, amplitude float64, opts ...Option) *Builder {
	return b.addInput(&myelinpb.Input{Target: target, Kind: &myelinpb.Input_Dc{
		Dc: &myelinpb.DCInput{Amplitude: amplitude}}}, opts)
}

// SpikeTimes injects spikes of the given weight into neuron[k] of target at
// timeMs[k]. Applicable options: Via, Name.
func (b *Builder) SpikeTimes(target string, neuron []uint32, timeMs []float64, weight float64, opts ...Option) *Builder {
	return b.addInput(&myelinpb.Input{Target: target, Kind: &myelinpb.Input_SpikeTimes{
		SpikeTimes: &myelinpb.SpikeSourceArray{Neuron: neuron, TimeMs: timeMs, Weight: weight}}}, opts)
}

func (b *Builder) addInput(in *myelinpb.Input, opts []Option) *Builder {
	for _, o := range opts {
		if o.input == nil || !o.input(in) {
			b.misuse(o, fmt.Sprintf("input %d (%s on %q)", len(b.net.Inputs), inputKind(in), in.Target))
		}
	}
	b.net.Inputs = append(b.net.Inputs, in)
	return b
}

func inputKind(in *myelinpb.Input) string {
	switch in.Kind.(type) {
	case *myelinpb.Input_Poisson:
		return "poisson"
	case *myelinpb.Input_Dc:
		return "dc"
	case *myelinpb.Input_SpikeTimes:
		return "spike_times"
	}
	return "unknown"
}

func (b *Builder) misuse(o Option, where string) {
	name := o.name
	if name == "" {
		name = "zero Option"
	}
	b.errs = append(b.errs, fmt.Errorf("%s: option %s does not apply here", where, name))
}

func (b *Builder) rec() *myelinpb.Recording {
	if b.net.Recording == nil {
		b.net.Recording = &myelinpb.Recording{}
	}
	return b.net.Recording
}

// Record records the spikes of the named populations (with no call to
// Record, every spiking population is recorded).
func (b *Builder) Record(populations ...string) *Builder {
	r := b.rec()
	r.Spikes = append(r.Spikes, populations...)
	return b
}

// Probe samples the state (V_m or r) of neurons [first, first+count) of a
// population every `every` steps.
func (b *Builder) Probe(population string, first, count, every uint32) *Builder {
	r := b.rec()
	r.State = append(r.State, &myelinpb.StateProbe{Population: population, First: first, Count: count, Every: every})
	return b
}

// Phase adds a phase of the run, [startMs, stopMs), in which every STDP
// weight change is multiplied by learningRate.
func (b *Builder) Phase(name string, startMs, stopMs, learningRate float64) *Builder {
	b.net.Phases = append(b.net.Phases, &myelinpb.Phase{Name: name, StartMs: startMs, StopMs: stopMs, LearningRate: proto.Float64(learningRate)})
	return b
}

// BlockSteps sets the number of steps per recorded spike block.
func (b *Builder) BlockSteps(n uint32) *Builder { b.rec().BlockSteps = n; return b }

// shareLists returns a copy of the network as built so far whose explicit
// lists and spike arrays share their slices with the builder's.
func (b *Builder) shareLists() *myelinpb.Network {
	// The builder's lists, each once (one list may serve two projections),
	// with their slices set aside while the rest is copied.
	explicit := map[*myelinpb.ExplicitList]*myelinpb.ExplicitList{}
	spikes := map[*myelinpb.SpikeSourceArray]*myelinpb.SpikeSourceArray{}
	for _, pr := range b.net.GetProjections() {
		if x := pr.GetExplicit(); x != nil {
			if _, seen := explicit[x]; !seen {
				explicit[x] = &myelinpb.ExplicitList{PreIndex: x.PreIndex, PostIndex: x.PostIndex, WeightValues: x.WeightValues, DelayMs: x.DelayMs}
				x.PreIndex, x.PostIndex, x.WeightValues, x.DelayMs = nil, nil, nil, nil
			}
		}
	}
	for _, in := range b.net.GetInputs() {
		if a := in.GetSpikeTimes(); a != nil {
			if _, seen := spikes[a]; !seen {
				spikes[a] = &myelinpb.SpikeSourceArray{Neuron: a.Neuron, TimeMs: a.TimeMs}
				a.Neuron, a.TimeMs = nil, nil
			}
		}
	}
	n := b.Network()
	for i, pr := range b.net.GetProjections() {
		if x := pr.GetExplicit(); x != nil {
			l := explicit[x]
			c := n.Projections[i].GetExplicit()
			c.PreIndex, c.PostIndex, c.WeightValues, c.DelayMs = l.PreIndex, l.PostIndex, l.WeightValues, l.DelayMs
		}
	}
	for i, in := range b.net.GetInputs() {
		if a := in.GetSpikeTimes(); a != nil {
			l := spikes[a]
			c := n.Inputs[i].GetSpikeTimes()
			c.Neuron, c.TimeMs = l.Neuron, l.TimeMs
		}
	}
	for x, l := range explicit {
		x.PreIndex, x.PostIndex, x.WeightValues, x.DelayMs = l.PreIndex, l.PostIndex, l.WeightValues, l.DelayMs
	}
	for a, l := range spikes {
		a.Neuron, a.TimeMs = l.Neuron, l.TimeMs
	}
	return n
}

// Network returns a copy of the network as built so far, without defaults
// and unvalidated.
func (b *Builder) Network() *myelinpb.Network {
	return proto.Clone(b.net).(*myelinpb.Network)
}

// Build returns a copy of the network with defaults applied, or the
// builder's mistakes and Validate's problems joined in one error. The
// builder stays usable. The copy shares the long lists (explicit synapses,
// spike-time arrays) with the builder, as the builder shares them with
// the caller that gave them (Explicit, SpikeTimes): copying them would
// double the memory of a spec of millions of synapses while it is built.
func (b *Builder) Build() (*myelinpb.Network, error) {
	n := b.shareLists()
	ApplyDefaults(n)
	err := Validate(n)
	if len(b.errs) > 0 || err != nil {
		return nil, fmt.Errorf("building network %q: %w", b.net.Name, errors.Join(append(append([]error{}, b.errs...), err)...))
	}
	return n, nil
}
