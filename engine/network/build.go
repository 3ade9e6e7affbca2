package network

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"time"

	"github.com/myelin-sim/myelin/engine/neuron"
	"github.com/myelin-sim/myelin/engine/rng"
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// Options tune a build; they never change its result.
type Options struct {
	// Threads used to generate connectivity (0: all cores).
	Threads int
	// StoreWeights keeps a weight per synapse for every population, compact
	// or not (for tests that compare the two layouts; the simulation is the
	// same).
	StoreWeights bool
	// Progress, when set, is called every ProgressEvery (default 1 s) from
	// a goroutine of its own while the build runs, and not after Build
	// returns; it must return quickly.
	Progress      func(BuildProgress)
	ProgressEvery time.Duration
	// KeepOnDevice (BuildOn only) leaves the synapse arrays in the
	// device's memory (Synapses.Resident) instead of copying them back.
	KeepOnDevice bool
	// InputBounds, when set, receives at the end of the build every
	// neuron's bound on the summed |weight| that can reach it in one step,
	// from which the fixed-point scales come (for tests that compare two
	// ways of building).
	InputBounds func([]float64)
}

// Build turns a defaulted, validated spec into a Network.
func Build(spec *myelinpb.Network, opt Options) (*Network, error) {
	return BuildContext(context.Background(), spec, opt)
}

// BuildContext is Build that gives up, returning ctx's error, soon after ctx
// is cancelled (large networks take minutes to connect).
func BuildContext(ctx context.Context, spec *myelinpb.Network, opt Options) (*Network, error) {
	return buildWith(ctx, spec, opt, defaultFill(), nil)
}

// buildWith is BuildContext with pass 2's sizes, and the synapses made by
// dev where it is not nil (BuildOn).
func buildWith(ctx context.Context, spec *myelinpb.Network, opt Options, fill fillSizes, dev SynapseDevice) (_ *Network, err error) {
	start := time.Now()
	threads := opt.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	// No more threads than neurons: the network is the same for any count,
	// and what the build keeps per thread stays bounded by the network.
	var neurons uint64
	for _, p := range spec.GetPopulations() {
		neurons += uint64(p.GetSize())
	}
	threads = int(min(uint64(threads), max(neurons, 1)))
	dt := spec.GetDtMs()
	if !(dt > 0) {
		return nil, fmt.Errorf("dt_ms = %v: must be > 0", dt)
	}
	net := &Network{
		Spec:       spec,
		Dt:         dt,
		Steps:      uint64(math.Round(spec.GetDurationMs() / dt)),
		Seed:       spec.GetSeed(),
		BlockSteps: spec.GetRecording().GetBlockSteps(),
	}
	if net.BlockSteps == 0 {
		net.BlockSteps = 100
	}
	defer func() {
		// Arrays left on a device by a build that fails later are freed.
		if r := net.Syn.Resident; err != nil && r != nil {
			r.Arrays.Release()
			net.Syn.Resident = nil
		}
	}()
	b := &builder{ctx: ctx, net: net, byName: map[string]int{}, threads: threads, storeWeights: opt.StoreWeights, fill: fill, dev: dev, keepOnDevice: opt.KeepOnDevice}
	b.prog.setPhase("populations and inputs")
	if opt.Progress != nil {
		every := opt.ProgressEvery
		if every <= 0 {
			every = time.Second
		}
		defer b.prog.report(opt.Progress, every, start)()
	}
	if err := b.populations(); err != nil {
		return nil, err
	}
	b.absSum = make([]float64, net.N)
	b.popBound = make([]float64, len(net.Pops))
	for _, step := range []func() error{b.inputs, b.synapses, b.quantizeInputs, b.rateProjections, b.plasticity, b.stdp, b.probes} {
		if b.prog.total.Load() > 0 {
			b.prog.setPhase("inputs, rate projections, plasticity, probes")
		}
		if err := step(); err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("build cancelled: %w", err)
		}
	}
	net.BuildSeconds = time.Since(start).Seconds()
	if opt.InputBounds != nil {
		opt.InputBounds(b.absSum)
	}
	return net, nil
}

// builder holds the scratch state of one Build.
type builder struct {
	ctx     context.Context
	net     *Network
	byName  map[string]int
	threads int
	// storeWeights: no population is compact (Options.StoreWeights).
	storeWeights bool
	fill         fillSizes
	// dev makes the synapse arrays (BuildOn), or nil; keepOnDevice leaves
	// them there (Options.KeepOnDevice).
	dev          SynapseDevice
	keepOnDevice bool
	// absSum bounds, per target neuron, the summed |weight| that can arrive
	// in one step through the ring buffer; popBound bounds single weights
	// (Poisson) per population. Together they fix each population's scale.
	absSum   []float64
	popBound []float64
	// prog is the build's progress, for Options.Progress.
	prog progress
	// Float weights of Poisson inputs and spike events, quantized once the
	// scales are known.
	poissonW []float64
	eventW   []float64
	// rowsSorted[p]: drawRowWeights has sorted the rows of population p
	// (nil: none).
	rowsSorted []bool
}

func (b *builder) populations() error {
	net, byName := b.net, b.byName
	recorded := map[string]bool{}
	for _, s := range net.Spec.GetRecording().GetSpikes() {
		recorded[s] = true
	}
	slow := slowTargets(net.Spec)
	var first uint64
	for i, p := range net.Spec.GetPopulations() {
		if _, dup := byName[p.GetName()]; dup {
			return fmt.Errorf("population %q (populations[%d]): duplicate name", p.GetName(), i)
		}
		byName[p.GetName()] = i
		pop := Population{Name: p.GetName(), First: uint32(first), Size: p.GetSize()}
		model, params, ok := neuron.Of(p)
		if !ok || params == nil {
			return fmt.Errorf("population %q (populations[%d]): no neuron model (one of %v)", p.GetName(), i, neuron.Names())
		}
		pop.Model, pop.EL = model, float32(model.Offset(params))
		if slow[p.GetName()] {
			if !model.HasSlowPort() {
				return fmt.Errorf("population %q (populations[%d]): reached through receptor SLOW_EXCITATORY, but %s has no slow excitatory port", p.GetName(), i, model)
			}
			pop.Coef, pop.Slow = model.NewSlow(params, net.Dt), true
		} else {
			pop.Coef = model.New(params, net.Dt)
		}
		if name, x, bad := nonFinite(pop.Coef); bad {
			return fmt.Errorf("population %q (populations[%d]): %s at dt_ms = %g: coefficient %s is %v: its parameters overflow float32 arithmetic (a value beyond ±3.4e38, or a time constant far below dt_ms)", p.GetName(), i, pop.Model, net.Dt, name, x)
		}
		pop.Recorded = pop.Spiking() && (len(recorded) == 0 || recorded[p.GetName()])
		// Initial values.
		pop.Init = make([]float32, pop.Size)
		def := model.Rest(params)
		if def == model.Offset(params) {
			def = float64(pop.EL) // exactly 0 relative to the float32 E_L
		}
		q := rng.NewStream(net.Seed, rng.Purpose(rng.KindInit, uint32(i))).Seq(0)
		for j := range pop.Init {
			x := def
			if d := p.GetInitial(); d != nil && d.GetKind() != nil {
				q.Reset(uint32(j))
				x = draw(d, q)
			}
			pop.Init[j] = float32(x - float64(pop.EL))
			if v := float64(pop.Init[j]); math.IsInf(v, 0) || math.IsNaN(v) {
				return fmt.Errorf("population %q (populations[%d]): initial: value %g of neuron %d is beyond the float32 range (±3.4e38)", p.GetName(), i, x, j)
			}
		}
		first += uint64(pop.Size)
		if first >= 1<<31 {
			return fmt.Errorf("population %q (populations[%d]): total neurons %d exceed 2^31-1", p.GetName(), i, first)
		}
		net.Pops = append(net.Pops, pop)
	}
	net.N = uint32(first)
	return nil
}

// stepRange converts an optional [start, stop) window in ms to steps.
func (n *Network) stepRange(start, stop *float64) (uint64, uint64) {
	a, b := uint64(0), n.Steps
	if start != nil {
		a = n.toStep(*start)
	}
	if stop != nil {
		b = n.toStep(*stop)
	}
	return a, b
}

// toStep rounds a time in ms to the nearest step, clamped to [0, Steps]
// before converting (a float beyond the uint64 range has no defined
// conversion).
func (n *Network) toStep(ms float64) uint64 {
	s := math.Round(ms / n.Dt)
	switch {
	case !(s > 0):
		return 0
	case s >= float64(n.Steps):
		return n.Steps
	}
	return uint64(s)
}

// neuronRange resolves [first, first+count) (count 0: to the end) to global ids.
func neuronRange(pop *Population, first, count uint32) (uint32, uint32, error) {
	if count == 0 {
		if first >= pop.Size {
			return 0, 0, fmt.Errorf("first = %d: must be < %d", first, pop.Size)
		}
		count = pop.Size - first
	}
	if uint64(first)+uint64(count) > uint64(pop.Size) {
		return 0, 0, fmt.Errorf("neurons [%d, %d): beyond the population's %d", first, uint64(first)+uint64(count), pop.Size)
	}
	return pop.First + first, count, nil
}

// slowTargets returns the names of the populations that some spiking
// projection or Poisson input of spec reaches through the slow excitatory
// port (receptor SLOW_EXCITATORY).
func slowTargets(spec *myelinpb.Network) map[string]bool {
	out := map[string]bool{}
	for _, p := range spec.GetProjections() {
		if p.GetReceptor() == myelinpb.Receptor_SLOW_EXCITATORY {
			out[p.GetPost()] = true
		}
	}
	for _, in := range spec.GetInputs() {
		if in.GetPoisson().GetReceptor() == myelinpb.Receptor_SLOW_EXCITATORY {
			out[in.GetTarget()] = true
		}
	}
	return out
}

// signedWeight returns w with the sign of receptor r's channel (unchanged
// for RECEPTOR_AUTO).
func signedWeight(w float64, r myelinpb.Receptor) float64 {
	switch r {
	case myelinpb.Receptor_EXCITATORY, myelinpb.Receptor_SLOW_EXCITATORY:
		return math.Abs(w)
	case myelinpb.Receptor_INHIBITORY:
		return -math.Abs(w)
	}
	return w
}

// poissonTable appends the thresholds of the Poisson(lambda) inverse CDF.
func poissonTable(lambda float64) (base uint32, thr []uint32) {
	lo := math.Max(0, math.Floor(lambda-12*math.Sqrt(lambda)-10))
	hi := math.Ceil(lambda + 12*math.Sqrt(lambda) + 12)
	cdf := 0.0
	for k := lo; k <= hi; k++ {
		lg, _ := math.Lgamma(k + 1)
		cdf += math.Exp(-lambda + k*math.Log(lambda) - lg)
		if lambda == 0 {
			cdf = 1
		}
		t := math.Floor(cdf * (1 << 32))
		if t >= math.MaxUint32 || k == hi {
			thr = append(thr, math.MaxUint32)
			break
		}
		thr = append(thr, uint32(t))
	}
	return uint32(lo), thr
}

func (b *builder) inputs() error {
	net, byName := b.net, b.byName
	type key struct {
		step   uint64
		target uint32
	}
	var evAbs map[key]float64
	for i, in := range net.Spec.GetInputs() {
		where := fmt.Sprintf("input %q (inputs[%d])", in.GetName(), i)
		pi, ok := byName[in.GetTarget()]
		if !ok {
			return fmt.Errorf("%s: target %q: no such population", where, in.GetTarget())
		}
		pop := &net.Pops[pi]
		switch k := in.GetKind().(type) {
		case *myelinpb.Input_Poisson:
			p := k.Poisson
			if !pop.Spiking() {
				return fmt.Errorf("%s: poisson input needs a spiking target, %q is a rate population", where, pop.Name)
			}
			first, count, err := neuronRange(pop, p.GetFirst(), p.GetCount())
			if err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			start, stop := net.stepRange(p.StartMs, p.StopMs)
			segs, err := net.segments(p, start, stop)
			if err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			w := signedWeight(p.GetWeight(), p.GetReceptor())
			// Segments of one input share its random stream (their windows
			// are disjoint) and, per rate, one table.
			tables := map[float64][2]uint32{}
			for _, sg := range segs {
				lambda := sg.rateHz * net.Dt / 1000
				if !(lambda >= 0 && lambda <= spec.MaxPoissonMean) {
					if p.GetSchedule() == nil {
						return fmt.Errorf("%s: poisson.rate_hz = %g: is %g spikes per neuron and step: must be in [0, %g]", where, p.GetRateHz(), lambda, spec.MaxPoissonMean)
					}
					return fmt.Errorf("%s: poisson.schedule: rate %g Hz: is %g spikes per neuron and step: must be in [0, %g]", where, sg.rateHz, lambda, spec.MaxPoissonMean)
				}
				tab, ok := tables[lambda]
				base, thr := poissonTable(lambda)
				if !ok {
					tab = [2]uint32{uint32(len(net.PoissonTable)), uint32(len(thr))}
					tables[lambda] = tab
					net.PoissonTable = append(net.PoissonTable, thr...)
				}
				net.Poisson = append(net.Poisson, Poisson{
					Pop: pi, First: first, Count: count, Start: sg.start, Stop: sg.stop,
					Purpose: rng.Purpose(rng.KindPoisson, uint32(i)), Base: base,
					TableOff: tab[0], TableLen: tab[1], Slow: p.GetReceptor() == myelinpb.Receptor_SLOW_EXCITATORY,
				})
				// Poisson counts are added in int64 at the neuron, not through the
				// ring, so only the single weight must fit the scale.
				b.popBound[pi] = math.Max(b.popBound[pi], math.Abs(w))
				b.poissonW = append(b.poissonW, w)
			}
		case *myelinpb.Input_Dc:
			d := k.Dc
			first, count, err := neuronRange(pop, d.GetFirst(), d.GetCount())
			if err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			start, stop := net.stepRange(d.StartMs, d.StopMs)
			if a := float64(float32(d.GetAmplitude())); math.IsInf(a, 0) || math.IsNaN(a) {
				return fmt.Errorf("%s: dc.amplitude = %g: is beyond the float32 range (±3.4e38)", where, d.GetAmplitude())
			}
			net.DC = append(net.DC, DC{Pop: pi, First: first, Count: count, Amp: float32(d.GetAmplitude()), Start: start, Stop: stop})
		case *myelinpb.Input_SpikeTimes:
			s := k.SpikeTimes
			if !pop.Spiking() {
				return fmt.Errorf("%s: spike_times needs a spiking target, %q is a rate population", where, pop.Name)
			}
			if len(s.GetNeuron()) != len(s.GetTimeMs()) {
				return fmt.Errorf("%s: spike_times: %d neurons but %d times", where, len(s.GetNeuron()), len(s.GetTimeMs()))
			}
			if evAbs == nil {
				evAbs = map[key]float64{}
			}
			w := signedWeight(s.GetWeight(), s.GetReceptor())
			for j, n := range s.GetNeuron() {
				if n >= pop.Size {
					return fmt.Errorf("%s: spike_times.neuron[%d] = %d: must be < %d", where, j, n, pop.Size)
				}
				st := net.toStep(s.GetTimeMs()[j])
				if st >= net.Steps {
					continue
				}
				g := pop.First + n
				net.Events = append(net.Events, SpikeEvent{Step: st, Target: g})
				b.eventW = append(b.eventW, w)
				evAbs[key{st, g}] += math.Abs(w)
			}
		default:
			return fmt.Errorf("%s: no input kind", where)
		}
	}
	evMax := map[uint32]float64{}
	for k, v := range evAbs {
		evMax[k.target] = math.Max(evMax[k.target], v)
	}
	for g, v := range evMax {
		b.absSum[g] += v
	}
	return nil
}

// nonFinite returns the name and value of the first float32 field of the
// struct v (or the struct v points to) that is infinite or NaN.
func nonFinite(v any) (name string, x float32, bad bool) {
	return nonFiniteValue(reflect.Indirect(reflect.ValueOf(v)), "")
}

// nonFiniteValue is nonFinite for a struct value, looking into nested
// structs and arrays (their fields are named a.b, a[i]).
func nonFiniteValue(rv reflect.Value, prefix string) (string, float32, bool) {
	switch rv.Kind() {
	case reflect.Float32:
		if y := rv.Float(); math.IsInf(y, 0) || math.IsNaN(y) {
			return prefix, float32(y), true
		}
	case reflect.Struct:
		for i := range rv.NumField() {
			name := rv.Type().Field(i).Name
			if prefix != "" {
				name = prefix + "." + name
			}
			if n, x, bad := nonFiniteValue(rv.Field(i), name); bad {
				return n, x, true
			}
		}
	case reflect.Array:
		for i := range rv.Len() {
			if n, x, bad := nonFiniteValue(rv.Index(i), fmt.Sprintf("%s[%d]", prefix, i)); bad {
				return n, x, true
			}
		}
	}
	return "", 0, false
}
