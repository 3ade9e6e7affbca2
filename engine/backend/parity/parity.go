// Package parity is the backend conformance harness: it checks decision 1
// of the design ("same spikes on every backend") by running built-in models
// and a mixed network through engine/sim on the CPU backend and on another
// backend (the host emulation of the kernels, the CUDA backend on a GPU, or
// any future backend's tests) and requiring byte-identical streams up to the trailer:
// the header, every spike block and every state block. Only the trailer,
// which describes the environment (backend, threads, wall times), may
// differ.
package parity

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/cpu"
	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/sim"
	"github.com/myelin-sim/myelin/engine/spec"
	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// Case is one network to compare: a built-in model, its parameters and
// extra state probes.
type Case struct {
	Name  string
	Model string
	Set   map[string]string
	// Spec, when set, builds the network instead of Model and Set.
	Spec func() (*myelinpb.Network, error)
	// Probes are added to the model's recording.
	Probes []*myelinpb.StateProbe
	// MinSpikes is the fewest spikes the run must produce for the
	// comparison to mean something (0 for rate networks).
	MinSpikes uint64
	// MinSamples is the fewest state values the run must record.
	MinSamples uint64
	// MinPopSpikes is, by population name, the fewest spikes that
	// population must produce (so that each model of a mixed network is
	// really compared).
	MinPopSpikes map[string]uint64
}

// Cases returns the standard parity suite: the four built-in models, each
// for 200 ms of biological time, scaled down (Brunel to 2,000 neurons) so
// that the CPU backend and the host emulation run them in seconds, Mixed,
// which covers what they leave out, Compact (every synapse-weight layout),
// Many (20 populations: more than the kernels' parameter space holds),
// ring_spiking at 256 E neurons for 600 ms (explicit distance-dependent
// weights, a cue on an arc), Drive (rate schedules), hopfield at 300 neurons
// for 400 ms (an explicit Hebbian list, all-to-all inhibition, a spike-array
// cue), consolidation at 200 neurons per area for 1.2 s (replay with
// depressing synapses, STDP learning then frozen in a test phase), hopfield
// learning its patterns by STDP at 200 neurons for 1.3 s, STP (short-term plasticity on every weight layout), STDP
// (spike-timing-dependent plasticity with phases; the final weights are
// compared too), ping at 500 neurons for 300 ms with theta-modulated drive,
// stp_wm at 1,000 neurons for 400 ms (facilitating E→E projections between
// clusters, a cue and a readout; stronger drive than the model's defaults,
// for more spikes), a 2 % microcircuit (distributed weights and
// delays), and Receptors and ReceptorsFused (every synaptic port, with
// one-step and with fused delivery), Procedural (every procedural rule,
// regenerated at each spike), ProceduralFused (drawn procedural rows
// through the fused launches) and brunel with procedural=1. Every spiking
// model also
// samples V of a few neurons.
func Cases() []Case {
	probe := func(pop string, count, every uint32) []*myelinpb.StateProbe {
		return []*myelinpb.StateProbe{{Population: pop, First: 3, Count: count, Every: every}}
	}
	return []Case{
		{Name: "brunel", Model: "brunel", Set: map[string]string{"n": "2000", "duration_ms": "200"},
			Probes: probe("E", 12, 7), MinSpikes: 1000, MinSamples: 1000},
		{Name: "cuba", Model: "cuba", Set: map[string]string{"n": "2000", "duration_ms": "200"},
			Probes: probe("I", 10, 1), MinSpikes: 1000, MinSamples: 1000},
		{Name: "coba", Model: "coba", Set: map[string]string{"n": "2000", "duration_ms": "200"},
			Probes: probe("E", 10, 3), MinSpikes: 100, MinSamples: 1000},
		{Name: "ring_rate", Model: "ring_rate", Set: map[string]string{"duration_ms": "200"},
			MinSamples: 1000},
		{Name: "mixed", Spec: Mixed, MinSpikes: 1000, MinSamples: 1000,
			MinPopSpikes: map[string]uint64{"D": 1000, "X": 100, "C": 100, "A": 50, "Z": 100, "Y": 30}},
		{Name: "compact", Spec: Compact, MinSpikes: 1000},
		{Name: "many", Spec: Many, MinSpikes: 1000, MinSamples: 1000, MinPopSpikes: map[string]uint64{"P00": 100, "P16": 100, "P17": 100, "P19": 100}},
		{Name: "ring_spiking", Model: "ring_spiking", Set: map[string]string{"n": "256", "duration_ms": "600"},
			Probes: probe("E", 8, 5), MinSpikes: 500, MinSamples: 1000},
		{Name: "stp", Spec: STP, MinSpikes: 1000, MinSamples: 1000, MinPopSpikes: map[string]uint64{"E": 500, "I": 200, "D": 100}},
		{Name: "stdp", Spec: STDP, MinSpikes: 1000, MinSamples: 1000, MinPopSpikes: map[string]uint64{"E": 1000, "I": 300, "D": 100}},
		{Name: "drive", Spec: Drive, MinSpikes: 1000, MinPopSpikes: map[string]uint64{"E": 1000, "D": 300}},
		{Name: "hopfield", Model: "hopfield", Set: map[string]string{"n": "300", "patterns": "5", "duration_ms": "400"},
			Probes: probe("E", 6, 4), MinSpikes: 500, MinSamples: 1000},
		{Name: "microcircuit", Model: "microcircuit", Set: map[string]string{"scale": "0.02", "k_scale": "0.1", "duration_ms": "200"},
			MinSpikes: 500},
		{Name: "consolidation", Model: "consolidation", Set: map[string]string{"n": "200", "patterns": "3", "replay_ms": "700", "test_ms": "500", "duration_ms": "1200"},
			MinSpikes: 1200, MinPopSpikes: map[string]uint64{"HPC": 400, "CTX": 400}},
		{Name: "hopfield_stdp", Model: "hopfield", Set: map[string]string{"n": "200", "patterns": "3", "learning": "stdp", "presentations": "1", "duration_ms": "1300"},
			MinSpikes: 1000},
		{Name: "ping", Model: "ping", Set: map[string]string{"n": "500", "duration_ms": "300", "theta_depth": "0.5"}, MinSpikes: 1000, MinPopSpikes: map[string]uint64{"E": 500, "I": 500}},
		{Name: "stp_wm", Model: "stp_wm", Set: map[string]string{"n": "1000", "c": "0.4", "cue_start_ms": "50", "cue_ms": "150", "delay_ms": "100", "readout_ms": "50",
			"readout_gain": "1.4", "ext_e": "26", "ext_i": "17", "duration_ms": "400"},
			Probes: probe("S1", 6, 3), MinSpikes: 2000, MinSamples: 1000, MinPopSpikes: map[string]uint64{"S1": 400, "S2": 30, "Ens": 100, "I": 800}},
		{Name: "receptors", Spec: Receptors, MinSpikes: 1000, MinSamples: 1000, MinPopSpikes: map[string]uint64{"E": 1000, "I": 500, "C": 1000}},
		{Name: "receptors_fused", Spec: ReceptorsFused, MinSpikes: 1000, MinSamples: 1000, MinPopSpikes: map[string]uint64{"E": 1000, "I": 500, "C": 1000}},
		// V of the procedural targets every step: a weight off by one
		// fixed-point unit shows there before it moves a spike.
		{Name: "procedural", Spec: Procedural, MinSpikes: 5000, MinSamples: 100_000, MinPopSpikes: map[string]uint64{"A": 1000, "B": 1000, "C": 400, "D": 1000, "E": 400},
			Probes: []*myelinpb.StateProbe{{Population: "A", Count: 300, Every: 1}, {Population: "B", Count: 200, Every: 1}, {Population: "D", Count: 200, Every: 1}}},
		{Name: "procedural_fused", Spec: ProceduralFused, MinSpikes: 3000, MinSamples: 100_000, MinPopSpikes: map[string]uint64{"A": 1000, "B": 1000, "D": 500},
			Probes: []*myelinpb.StateProbe{{Population: "A", Count: 300, Every: 1}, {Population: "B", Count: 200, Every: 1}, {Population: "D", Count: 200, Every: 1}}},
		{Name: "brunel_procedural", Model: "brunel", Set: map[string]string{"n": "2000", "duration_ms": "200", "procedural": "1"},
			Probes: probe("E", 12, 7), MinSpikes: 1000, MinSamples: 1000},
	}
}

// Mixed is a network made to reach every code path that the built-in
// models leave out: every neuron model in interleaved populations,
// spike-array events (several onto one neuron in one step), excitatory and
// inhibitory receptors, distributed weights and delays, windowed Poisson and
// DC inputs, rate populations with tanh, threshold-linear and ReLU transfer
// coupled by a ring table and by CSC projections with delays of 1 and 3
// steps, and probes on every population.
func Mixed() (*myelinpb.Network, error) {
	f := proto.Float64
	b := spec.New("parity-mixed").Dt(0.1).Duration(200).Seed(20240611).BlockSteps(64)
	b.Population("D", 300, spec.IafPscDelta(&myelinpb.IafPscDelta{EL: f(-65), VTh: f(-50), VReset: f(-65), TRef: f(2)}),
		spec.Initial(spec.UniformDist(-65, -50)))
	b.Population("R1", 48, spec.Rate(&myelinpb.RateNeuron{Transfer: myelinpb.RateNeuron_TANH, Gain: f(1.5), Theta: f(0.2)}),
		spec.Initial(spec.UniformDist(0, 0.5)))
	b.Population("X", 200, spec.IafPscExp(nil), spec.Initial(spec.ClippedNormalDist(-60, 4, -75, -55)))
	b.Population("R2", 30, spec.Rate(&myelinpb.RateNeuron{Transfer: myelinpb.RateNeuron_THRESHOLD_LINEAR, Theta: f(0.05), Tau: f(5)}))
	b.Population("C", 150, spec.IafCondExp(nil), spec.Initial(spec.NormalDist(-60, 3)))
	b.Population("R3", 20, spec.Rate(&myelinpb.RateNeuron{Transfer: myelinpb.RateNeuron_RELU, Gain: f(0.8), IE: f(0.1)}))
	b.Population("A", 120, spec.Neuron(&myelinpb.AeifCondExp{TRef: f(1)}), spec.Initial(spec.UniformDist(-70, -52)))
	b.Population("Z", 150, spec.Neuron(&myelinpb.Izhikevich{}), spec.Initial(spec.UniformDist(-70, -60)))
	b.Population("Y", 60, spec.Neuron(&myelinpb.Izhikevich{C: f(-55), D: f(4), VMin: f(-72), ConsistentIntegration: proto.Bool(false)}))

	b.Project("D", "D", spec.FixedIn(20), spec.Weight(spec.UniformDist(0.5, 1.5)), spec.Delay(spec.UniformDist(0.1, 3)))
	b.Project("D", "X", spec.Bernoulli(0.1), spec.Weight(spec.LognormalDist(3, 0.5, false)), spec.Delay(spec.Const(0.5)))
	b.Project("X", "C", spec.FixedOut(10), spec.Weight(spec.Const(2)), spec.Delay(spec.UniformDist(0.1, 1)))
	b.Project("C", "D", spec.FixedIn(5), spec.Weight(spec.Const(2)), spec.Delay(spec.Const(1)), spec.Via(myelinpb.Receptor_INHIBITORY))
	b.Project("C", "X", spec.Bernoulli(0.05), spec.Weight(spec.NormalDist(-40, 10)), spec.Delay(spec.Const(0.2)))
	b.Project("X", "X", spec.FixedIn(8), spec.Weight(spec.UniformDist(-30, 60)), spec.Delay(spec.UniformDist(0.1, 2)))
	b.Project("X", "A", spec.FixedIn(10), spec.Weight(spec.UniformDist(1, 6)), spec.Delay(spec.UniformDist(0.1, 2)))
	b.Project("C", "A", spec.Bernoulli(0.05), spec.Weight(spec.Const(-4)), spec.Delay(spec.Const(0.4)))
	b.Project("A", "Z", spec.FixedIn(6), spec.Weight(spec.UniformDist(-4, 8)), spec.Delay(spec.UniformDist(0.1, 1.5)))
	b.Project("Z", "Z", spec.FixedIn(10), spec.Weight(spec.NormalDist(1, 2)), spec.Delay(spec.Const(1)))
	b.Project("Z", "D", spec.FixedIn(3), spec.Weight(spec.Const(0.5)), spec.Delay(spec.Const(0.7)))
	b.Project("Z", "Y", spec.FixedIn(8), spec.Weight(spec.UniformDist(-6, 3)), spec.Delay(spec.Const(0.3)))
	b.Project("R1", "R1", spec.Ring(1.2, 0.3, 25))
	b.Project("R1", "R2", spec.Bernoulli(0.3), spec.Weight(spec.NormalDist(0.2, 0.1)), spec.Delay(spec.Const(0.3)))
	b.Project("R2", "R1", spec.AllToAll(), spec.Weight(spec.Const(-0.02)))
	b.Project("R2", "R3", spec.FixedIn(6), spec.Weight(spec.UniformDist(-0.5, 1)), spec.Delay(spec.Const(0.2)))

	b.Poisson("D", 2000, 1.5)
	b.Poisson("X", 8000, 30, spec.Window(20, 150), spec.Neurons(10, 150))
	b.Poisson("X", 3000, 20, spec.Via(myelinpb.Receptor_INHIBITORY))
	b.Poisson("C", 4000, 4, spec.Window(0.5, 180.3))
	b.DC("X", 120, spec.Window(50, 120), spec.Neurons(0, 100))
	b.DC("X", -40, spec.Window(80, 200))
	b.DC("C", 150, spec.Neurons(20, 40))
	b.Poisson("A", 6000, 3, spec.Window(5, 190))
	b.DC("A", 500, spec.Neurons(0, 60))
	b.DC("Z", 10, spec.Window(0, 150))
	b.Poisson("Z", 1000, -2, spec.Neurons(50, 100))
	b.DC("Y", 8, spec.Window(20, 200))
	b.DC("R1", 0.8, spec.Window(10, 60), spec.Neurons(5, 10))
	b.DC("R2", 0.3)
	var nD, nC []uint32
	var tD, tC []float64
	for k := 0; k < 400; k++ {
		nD = append(nD, uint32(k*7%300))
		tD = append(tD, float64(k%50)*3.3+0.05)
		nC = append(nC, uint32(k%3)) // three neurons, several events a step
		tC = append(tC, float64(k/8)*2+1)
	}
	b.SpikeTimes("D", nD, tD, 4)
	b.SpikeTimes("C", nC, tC, 3, spec.Via(myelinpb.Receptor_EXCITATORY))
	b.SpikeTimes("C", nC[:100], tC[:100], 5, spec.Via(myelinpb.Receptor_INHIBITORY))
	b.Probe("D", 0, 5, 3).Probe("R1", 0, 48, 5).Probe("X", 100, 7, 1).Probe("R2", 3, 4, 2).Probe("C", 0, 3, 4).Probe("R3", 0, 20, 1).Probe("A", 50, 6, 2).Probe("Z", 0, 8, 3).Probe("Y", 10, 4, 1)
	return b.Build()
}

// Scaled returns the cases with every model's neuron count replaced and
// their duration raised to durationMs (0 keeps the case's), for larger runs
// on a GPU. A case whose own duration is longer keeps it: a case's duration
// is what its comparison needs to be non-trivial (ring_spiking's cue comes
// after a quiet start), so a shorter run would fail its MinSpikes.
func Scaled(cases []Case, n uint32, durationMs float64) []Case {
	out := make([]Case, len(cases))
	for i, c := range cases {
		set := map[string]string{}
		for k, v := range c.Set {
			set[k] = v
		}
		if n > 0 && c.Model != "ring_rate" && c.Spec == nil {
			set["n"] = fmt.Sprint(n)
		}
		if durationMs > 0 {
			own, err := strconv.ParseFloat(set["duration_ms"], 64)
			if err != nil || own < durationMs {
				set["duration_ms"] = fmt.Sprint(durationMs)
			}
		}
		c.Set = set
		out[i] = c
	}
	return out
}

// Build builds the case's network as "myelin run" does: model, defaults,
// validation, build.
func Build(c Case) (*network.Network, error) {
	var s *myelinpb.Network
	if c.Spec != nil {
		var err error
		if s, err = c.Spec(); err != nil {
			return nil, fmt.Errorf("parity %s: %w", c.Name, err)
		}
	} else {
		m, err := models.Lookup(c.Model)
		if err != nil {
			return nil, fmt.Errorf("parity %s: %w", c.Name, err)
		}
		if s, err = m.Build(c.Set); err != nil {
			return nil, fmt.Errorf("parity %s: %w", c.Name, err)
		}
	}
	if s.Recording == nil {
		s.Recording = &myelinpb.Recording{}
	}
	for _, p := range c.Probes {
		s.Recording.State = append(s.Recording.State, proto.Clone(p).(*myelinpb.StateProbe))
	}
	spec.ApplyDefaults(s)
	if err := spec.Validate(s); err != nil {
		return nil, fmt.Errorf("parity %s: %w", c.Name, err)
	}
	net, err := network.Build(s, network.Options{})
	if err != nil {
		return nil, fmt.Errorf("parity %s: build: %w", c.Name, err)
	}
	return net, nil
}

// Result describes one successful comparison.
type Result struct {
	Case     string
	Neurons  uint32
	Synapses uint64
	Steps    uint64
	Spikes   uint64 // spikes of the whole network (recorded or not)
	Samples  uint64 // state values in the stream
	Records  int    // records compared (header, spike and state blocks)
	Bytes    int    // bytes compared
	// Wall time of each run (build excluded).
	CPUSeconds, OtherSeconds float64
}

// String summarises the comparison in one line.
func (r Result) String() string {
	return fmt.Sprintf("%s: %d neurons, %d synapses, %d steps, %d spikes, %d samples: %d records, %d bytes identical (cpu %.2fs, other %.2fs)",
		r.Case, r.Neurons, r.Synapses, r.Steps, r.Spikes, r.Samples, r.Records, r.Bytes, r.CPUSeconds, r.OtherSeconds)
}

// Compare runs c on the CPU backend (cpuThreads threads; 0: all cores) and
// on other, which must not be loaded yet and is closed afterwards, and
// returns an error that names the first difference if their streams before
// the trailer differ, or if the run is trivial (fewer spikes or samples
// than the case asks for).
func Compare(c Case, cpuThreads int, other backend.Backend) (Result, error) {
	defer other.Close()
	res := Result{Case: c.Name}
	net, err := Build(c)
	if err != nil {
		return res, err
	}
	res.Neurons, res.Synapses, res.Steps = net.N, net.SynapseCount(), net.Steps
	want, wantRes, err := run(net, cpu.New(cpuThreads))
	if err != nil {
		return res, fmt.Errorf("parity %s: cpu: %w", c.Name, err)
	}
	res.CPUSeconds = wantRes.SimSeconds
	got, gotRes, err := run(net, other)
	if err != nil {
		return res, fmt.Errorf("parity %s: %s: %w", c.Name, other.Name(), err)
	}
	res.OtherSeconds = gotRes.SimSeconds
	for _, s := range wantRes.PopSpikes {
		res.Spikes += s
	}
	wantBody, wantRecs, err := body(want)
	if err != nil {
		return res, fmt.Errorf("parity %s: cpu stream: %w", c.Name, err)
	}
	gotBody, _, err := body(got)
	if err != nil {
		return res, fmt.Errorf("parity %s: %s stream: %w", c.Name, other.Name(), err)
	}
	if !bytes.Equal(wantBody, gotBody) {
		return res, fmt.Errorf("parity %s: streams differ before the trailer (cpu %d bytes, %s %d bytes): %s",
			c.Name, len(wantBody), other.Name(), len(gotBody), firstDifference(wantBody, gotBody))
	}
	res.Records, res.Bytes = wantRecs, len(wantBody)
	r, err := stream.ReadAll(bytes.NewReader(want))
	if err != nil {
		return res, fmt.Errorf("parity %s: reading the cpu stream: %w", c.Name, err)
	}
	for _, st := range r.State {
		res.Samples += uint64(len(st.Values))
	}
	if res.Spikes < c.MinSpikes {
		return res, fmt.Errorf("parity %s: only %d spikes, want at least %d: the comparison is trivial", c.Name, res.Spikes, c.MinSpikes)
	}
	for i, p := range net.Pops {
		if want, ok := c.MinPopSpikes[p.Name]; ok && wantRes.PopSpikes[i] < want {
			return res, fmt.Errorf("parity %s: population %q fired %d times, want at least %d: the comparison is trivial for it", c.Name, p.Name, wantRes.PopSpikes[i], want)
		}
	}
	if res.Samples < c.MinSamples {
		return res, fmt.Errorf("parity %s: only %d state samples, want at least %d", c.Name, res.Samples, c.MinSamples)
	}
	return res, nil
}

// run simulates net on be into a buffer.
func run(net *network.Network, be backend.Backend) ([]byte, *sim.Result, error) {
	var buf bytes.Buffer
	start := time.Now()
	res, err := sim.Run(context.Background(), net, sim.Options{Backend: be, Out: &buf, Version: "parity"})
	if err != nil {
		return nil, res, err
	}
	if res.Status != myelinpb.Trailer_COMPLETE {
		return nil, res, fmt.Errorf("run ended %v after %v", res.Status, time.Since(start))
	}
	return buf.Bytes(), res, nil
}

// body returns the bytes of a stream before its trailer and the number of
// records in them; the stream must end with a trailer.
func body(b []byte) ([]byte, int, error) {
	r := stream.NewReader(bytes.NewReader(b))
	for n := 0; ; n++ {
		off := r.Offset()
		rec, err := r.Next()
		if err == io.EOF {
			return nil, n, errors.New("no trailer")
		}
		if err != nil {
			return nil, n, err
		}
		if rec.GetTrailer() != nil {
			return b[:off], n, nil
		}
	}
}

// firstDifference describes the first record where two stream bodies
// differ and, for spike blocks, the first step and neuron.
func firstDifference(a, b []byte) string {
	ra, rb := stream.NewReader(bytes.NewReader(a)), stream.NewReader(bytes.NewReader(b))
	for i := 0; ; i++ {
		offA, offB := ra.Offset(), rb.Offset()
		x, errA := ra.Next()
		y, errB := rb.Next()
		if errA != nil || errB != nil {
			return fmt.Sprintf("record %d: cpu: %v, other: %v", i, errA, errB)
		}
		if ra.Offset()-offA == rb.Offset()-offB && bytes.Equal(a[offA:ra.Offset()], b[offB:rb.Offset()]) {
			continue
		}
		if qa, qb := x.GetState(), y.GetState(); qa != nil && qb != nil {
			va, vb := qa.GetValues(), qb.GetValues()
			for k := 0; k < min(len(va), len(vb)); k++ {
				if math.Float32bits(va[k]) != math.Float32bits(vb[k]) {
					return fmt.Sprintf("record %d: state series %d from step %d: value %d is %v on the cpu, %v on the other (%#08x, %#08x)",
						i, qa.GetSeries(), qa.GetFirstStep(), k, va[k], vb[k], math.Float32bits(va[k]), math.Float32bits(vb[k]))
				}
			}
			return fmt.Sprintf("record %d: state series %d from step %d: cpu %d values, other %d", i, qa.GetSeries(), qa.GetFirstStep(), len(va), len(vb))
		}
		sa, sb := x.GetSpikes(), y.GetSpikes()
		if sa == nil || sb == nil {
			return fmt.Sprintf("record %d (at byte %d): cpu %s, other %s", i, offA, kind(x), kind(y))
		}
		stA, idA, err1 := stream.DecodeSpikes(sa)
		stB, idB, err2 := stream.DecodeSpikes(sb)
		if err1 != nil || err2 != nil {
			return fmt.Sprintf("record %d: spike block: %v / %v", i, err1, err2)
		}
		for k := 0; k < min(len(idA), len(idB)); k++ {
			if stA[k] != stB[k] || idA[k] != idB[k] {
				return fmt.Sprintf("record %d: spike %d: cpu has neuron %d at step %d, other neuron %d at step %d", i, k, idA[k], stA[k], idB[k], stB[k])
			}
		}
		return fmt.Sprintf("record %d: cpu has %d spikes, other %d (steps from %d)", i, len(idA), len(idB), sa.GetFirstStep())
	}
}

func kind(r *myelinpb.Record) string {
	switch {
	case r.GetHeader() != nil:
		return "header"
	case r.GetSpikes() != nil:
		return fmt.Sprintf("spike block at step %d", r.GetSpikes().GetFirstStep())
	case r.GetState() != nil:
		return fmt.Sprintf("state block of series %d at step %d", r.GetState().GetSeries(), r.GetState().GetFirstStep())
	case r.GetTrailer() != nil:
		return "trailer"
	}
	return "empty record"
}
