package serve_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/cpu"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/plan"
	"github.com/myelin-sim/myelin/engine/serve"
	"github.com/myelin-sim/myelin/engine/sim"
	"github.com/myelin-sim/myelin/engine/spec"
	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// recurrent is a small E/I network with Poisson and DC drive, a delayed
// recurrent projection, a spike-source array and a state probe: everything
// whose timing could go wrong when a run is split.
func recurrent(t *testing.T, durationMs float64) *myelinpb.Network {
	t.Helper()
	m := &myelinpb.IafPscExp{TauM: proto.Float64(20), VTh: proto.Float64(-55), EL: proto.Float64(-70), VReset: proto.Float64(-70)}
	s, err := spec.New("recurrent").Dt(0.1).Duration(durationMs).Seed(7).BlockSteps(64).
		Population("E", 80, spec.IafPscExp(m), spec.Initial(spec.UniformDist(-70, -56))).
		Population("I", 20, spec.IafPscExp(m)).
		Project("E", "I", spec.FixedIn(10), spec.Weight(spec.Const(40)), spec.Delay(spec.UniformDist(0.5, 3))).
		Project("I", "E", spec.FixedIn(5), spec.Weight(spec.Const(-60)), spec.Delay(spec.Const(1.5))).
		Project("E", "E", spec.Bernoulli(0.1), spec.Weight(spec.Const(20)), spec.Delay(spec.Const(2.3))).
		Poisson("E", 8000, 20, spec.Name("drive")).
		Poisson("I", 5000, 15).
		DC("E", 120, spec.Name("bias"), spec.Window(30, 170)).
		SpikeTimes("I", []uint32{0, 3, 3}, []float64{12.5, 50, 150.2}, 200).
		Probe("E", 5, 3, 7).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runOnce is `myelin run`: one sim.Run of the whole duration.
func runOnce(t *testing.T, s *myelinpb.Network) *stream.Result {
	t.Helper()
	net, err := network.Build(s, network.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := sim.Run(context.Background(), net, sim.Options{Backend: cpu.New(2), Out: &buf}); err != nil {
		t.Fatal(err)
	}
	r, err := stream.ReadAll(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// served collects what a session read.
type served struct {
	steps   []uint64
	ids     []uint32
	samples map[uint32][]float32
	first   map[uint32]uint64
}

func (s *served) add(t *testing.T, d *myelinpb.Data) {
	t.Helper()
	s.steps = append(s.steps, d.GetSpikeSteps()...)
	s.ids = append(s.ids, d.GetSpikeIds()...)
	if s.samples == nil {
		s.samples, s.first = map[uint32][]float32{}, map[uint32]uint64{}
	}
	for _, smp := range d.GetSamples() {
		if _, ok := s.first[smp.GetSeries()]; !ok {
			s.first[smp.GetSeries()] = smp.GetFirstStep()
		}
		s.samples[smp.GetSeries()] = append(s.samples[smp.GetSeries()], smp.GetValues()...)
	}
}

func mustLoad(t *testing.T, e *serve.Engine, s *myelinpb.Network, threads int) {
	t.Helper()
	if _, err := e.Load(s, "cpu", threads); err != nil {
		t.Fatal(err)
	}
}

func mustRun(t *testing.T, e *serve.Engine, ms float64) *myelinpb.Ran {
	t.Helper()
	r, err := e.Run(ms)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustRead(t *testing.T, e *serve.Engine) *myelinpb.Data {
	t.Helper()
	d, err := e.Read()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Runs of odd lengths over serve, read at odd moments, give exactly the
// spikes and samples of one run of the total duration.
func TestServeEqualsOneRun(t *testing.T) {
	const total = 200.0
	want := runOnce(t, recurrent(t, total))
	if len(want.IDs) < 200 {
		t.Fatalf("reference run has only %d spikes; the test needs activity", len(want.IDs))
	}
	e := serve.New(nil)
	defer e.Close()
	mustLoad(t, e, recurrent(t, 12345), 3) // duration_ms is ignored; thread count differs
	var got served
	var popSpikes uint64
	for i, ms := range []float64{0.1, 33.3, 0, 16.6, 50, 0.7, 99.3} {
		r := mustRun(t, e, ms)
		for _, n := range r.GetPopulationSpikes() {
			popSpikes += n
		}
		if i%2 == 1 {
			got.add(t, mustRead(t, e))
		}
	}
	got.add(t, mustRead(t, e))
	if e.Step() != 2000 {
		t.Fatalf("step %d after 200 ms, want 2000", e.Step())
	}
	if !slices.Equal(got.steps, want.Steps) || !slices.Equal(got.ids, want.IDs) {
		t.Fatalf("spikes differ: serve %d, run %d", len(got.ids), len(want.IDs))
	}
	if popSpikes != uint64(len(want.IDs)) {
		t.Errorf("runs counted %d spikes, the stream holds %d", popSpikes, len(want.IDs))
	}
	st := want.State[0]
	if !slices.Equal(got.samples[0], st.Values) || got.first[0] != st.Steps[0] {
		t.Errorf("samples differ: serve %d values from step %d, run %d from step %d", len(got.samples[0]), got.first[0], len(st.Values), st.Steps[0])
	}
}

// Reset returns to time 0: the same runs give the same spikes again.
func TestResetRepeats(t *testing.T) {
	e := serve.New(nil)
	defer e.Close()
	mustLoad(t, e, recurrent(t, 100), 2)
	mustRun(t, e, 60)
	first := mustRead(t, e)
	mustRun(t, e, 10)
	if err := e.Reset(); err != nil {
		t.Fatal(err)
	}
	if d := mustRead(t, e); len(d.GetSpikeIds()) != 0 || d.GetFirstStep() != 0 || d.GetEndStep() != 0 {
		t.Fatalf("after reset read gives steps [%d, %d) with %d spikes, want nothing", d.GetFirstStep(), d.GetEndStep(), len(d.GetSpikeIds()))
	}
	mustRun(t, e, 25)
	mustRun(t, e, 35)
	again := mustRead(t, e)
	if !slices.Equal(first.GetSpikeIds(), again.GetSpikeIds()) || !slices.Equal(first.GetSpikeSteps(), again.GetSpikeSteps()) {
		t.Fatalf("after reset: %d spikes, first time %d", len(again.GetSpikeIds()), len(first.GetSpikeIds()))
	}
}

// countIn counts the spikes of steps [a, b) of ids [lo, hi).
func countIn(d *myelinpb.Data, a, b uint64, lo, hi uint32) int {
	n := 0
	for k, s := range d.GetSpikeSteps() {
		if id := d.GetSpikeIds()[k]; s >= a && s < b && id >= lo && id < hi {
			n++
		}
	}
	return n
}

// A Poisson rate changed mid-run: the past is replayed exactly, the drive
// stops from that step on, and a reset keeps the new rate from time 0.
func TestSetInputDuringRun(t *testing.T) {
	s := recurrent(t, 100)
	s.Projections = nil // E is then driven by its inputs only
	s.Inputs = s.Inputs[:2]
	e := serve.New(nil)
	defer e.Close()
	mustLoad(t, e, s, 2)
	mustRun(t, e, 50)
	before := mustRead(t, e)
	zero := 0.0
	if err := e.SetInput("drive", &zero, nil); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, e, 50)
	after := mustRead(t, e)
	if r.GetReplaySeconds() <= 0 {
		t.Errorf("no replay reported")
	}
	if n := countIn(before, 0, 500, 0, 80); n < 50 {
		t.Fatalf("E fired %d times before the change; the test needs activity", n)
	}
	// A spike needs the membrane to charge; allow the refractory period.
	if n := countIn(after, 520, 1000, 0, 80); n != 0 {
		t.Errorf("E fired %d times after its only drive stopped", n)
	}
	// The unchanged input onto I is unaffected: I fires as in a run without the change.
	ref := serve.New(nil)
	defer ref.Close()
	mustLoad(t, ref, s, 1)
	mustRun(t, ref, 100)
	all := mustRead(t, ref)
	if a, b := countIn(after, 500, 1000, 80, 100), countIn(all, 500, 1000, 80, 100); a != b {
		t.Errorf("I fired %d times after the change, %d without it", a, b)
	}
	if err := e.Reset(); err != nil {
		t.Fatal(err)
	}
	mustRun(t, e, 20)
	if n := countIn(mustRead(t, e), 0, 200, 0, 80); n != 0 {
		t.Errorf("after reset with drive rate 0, E fired %d times", n)
	}
}

// Parameters changed mid-run take effect from that step; the past is kept.
func TestSetParamsDuringRun(t *testing.T) {
	s := recurrent(t, 100)
	s.Projections = nil
	s.Inputs = s.Inputs[:2]
	e := serve.New(nil)
	defer e.Close()
	mustLoad(t, e, s, 2)
	mustRun(t, e, 50)
	before := mustRead(t, e)
	ref := serve.New(nil)
	defer ref.Close()
	mustLoad(t, ref, s, 2)
	mustRun(t, ref, 100)
	all := mustRead(t, ref)
	if countIn(before, 0, 500, 0, 80) != countIn(all, 0, 500, 0, 80) {
		t.Fatal("runs differ before any change")
	}
	if err := e.SetParams("E", map[string]float64{"i_e": 1000, "tau_m": 15}); err != nil {
		t.Fatal(err)
	}
	mustRun(t, e, 50)
	after := mustRead(t, e)
	a, b := countIn(after, 500, 1000, 0, 80), countIn(all, 500, 1000, 0, 80)
	if a < 2*b || a < 100 {
		t.Errorf("with i_e = 1000 pA E fired %d times in the second half, %d without", a, b)
	}
	// A later input change replays the run, parameter change included.
	rate := 9000.0
	if err := e.SetInput("drive", &rate, nil); err != nil {
		t.Fatal(err)
	}
	mustRun(t, e, 10)
	if err := e.SetParams("E", map[string]float64{"e_l": -65}); err == nil || !strings.Contains(err.Error(), "e_l") {
		t.Errorf("changing e_l mid-run: got %v, want an error naming e_l", err)
	}
}

// Bad commands are errors naming the field; the engine keeps working.
func TestErrors(t *testing.T) {
	e := serve.New(nil)
	defer e.Close()
	if _, err := e.Run(10); err == nil {
		t.Error("run before load: no error")
	}
	bad := recurrent(t, 10)
	bad.Populations[0].GetIafPscExp().TauM = proto.Float64(-1)
	if _, err := e.Load(bad, "cpu", 1); err == nil || !strings.Contains(err.Error(), "tau_m") {
		t.Errorf("load with tau_m = -1: %v", err)
	}
	if _, err := e.Load(recurrent(t, 10), "tpu", 1); err == nil || !strings.Contains(err.Error(), "tpu") {
		t.Errorf("load on backend tpu: %v", err)
	}
	// A network far beyond any machine's memory (2 M neurons with
	// 100,000 inputs each: 2 × 10^11 synapses) is refused before the
	// build, and the engine still serves.
	huge := recurrent(t, 10)
	huge.Populations[0].Size = 2_000_000
	huge.Projections[2].Rule = &myelinpb.Projection_FixedInDegree{FixedInDegree: &myelinpb.FixedInDegree{Indegree: 100_000}}
	if _, ok := plan.AvailableMemory(); ok {
		if _, err := e.Load(huge, "cpu", 1); err == nil || !strings.Contains(err.Error(), "memory is available") {
			t.Errorf("load of 2 × 10^11 synapses: %v, want a refusal naming the memory", err)
		}
	}
	mustLoad(t, e, recurrent(t, 10), 1)
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"negative duration", func() error { _, err := e.Run(-1); return err }(), "duration_ms"},
		{"unknown population", e.SetParams("X", map[string]float64{"tau_m": 5}), `"X"`},
		{"unknown parameter", e.SetParams("E", map[string]float64{"tau_q": 5}), "tau_q"},
		{"invalid value", e.SetParams("E", map[string]float64{"tau_m": -5}), "tau_m"},
		{"unknown input", e.SetInput("nope", proto.Float64(1), nil), `"nope"`},
		{"rate on dc", e.SetInput("bias", proto.Float64(1), nil), "rate_hz"},
		{"both values", e.SetInput("drive", proto.Float64(1), proto.Float64(1)), "exactly one"},
	}
	for _, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %s", c.name, c.err, c.want)
		}
	}
	if r := mustRun(t, e, 5); r.GetStep() != 50 {
		t.Errorf("after errors, run went to step %d, want 50", r.GetStep())
	}
}

// loadAndBuild loads s on a serving engine's CPU backend (one thread) and
// builds it apart, for comparing what Load reports with the network.
func loadAndBuild(t *testing.T, s *myelinpb.Network) (*myelinpb.Loaded, *network.Network) {
	t.Helper()
	e := serve.New(nil)
	defer e.Close()
	info, err := e.Load(s, "cpu", 1)
	if err != nil {
		t.Fatal(err)
	}
	net, err := network.Build(s, network.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	return info, net
}

// Load reports each projection's synapses: by rule where the rule fixes
// the number, else counted; projections counted together are marked.
func TestProjectionCounts(t *testing.T) {
	s := recurrent(t, 10)
	// A second E->E projection through the same (excitatory) channel.
	extra := proto.Clone(s.Projections[2]).(*myelinpb.Projection)
	extra.Name = "E->E again"
	s.Projections = append(s.Projections, extra)
	info, net := loadAndBuild(t, s)
	// Every E->E synapse, found by walking all synapses.
	var ee uint64
	for r := uint32(0); r < net.N; r++ {
		for k := net.Syn.RowPtr[r]; k < net.Syn.RowPtr[r+1]; k++ {
			if r < 80 && net.Syn.Packed[k]>>net.Syn.DelayBits < 80 {
				ee++
			}
		}
	}
	c, shared := info.GetProjectionSynapses(), info.GetProjectionShared()
	if len(c) != 4 || c[0] != 200 || c[1] != 400 || c[2] != ee || c[3] != ee {
		t.Errorf("counts %v, want [200 400 %d %d]", c, ee, ee)
	}
	if shared[0] || shared[1] || !shared[2] || !shared[3] {
		t.Errorf("shared %v, want [false false true true]", shared)
	}
	if ee < 1000 || ee > 1600 {
		t.Errorf("two E->E projections with p = 0.1 among 80 neurons have %d synapses, want about 1,280", ee)
	}
}

// A projection through the slow port is counted apart from one through the
// fast excitatory channel between the same populations.
func TestProjectionCountsSlowPort(t *testing.T) {
	s := recurrent(t, 10)
	slow := proto.Clone(s.Projections[2]).(*myelinpb.Projection)
	slow.Name, slow.Receptor = "E->E slow", myelinpb.Receptor_SLOW_EXCITATORY
	slow.Rule = &myelinpb.Projection_PairwiseBernoulli{PairwiseBernoulli: &myelinpb.PairwiseBernoulli{P: 0.3}}
	s.Projections = append(s.Projections, slow)
	info, net := loadAndBuild(t, s)
	var fast, slowN uint64
	for r := uint32(0); r < 80; r++ {
		for k := net.Syn.RowPtr[r]; k < net.Syn.RowPtr[r+1]; k++ {
			if p := net.Syn.Packed[k]; p>>net.Syn.DelayBits < 80 {
				if net.Syn.Slow(p) {
					slowN++
				} else {
					fast++
				}
			}
		}
	}
	c, shared := info.GetProjectionSynapses(), info.GetProjectionShared()
	if len(c) != 4 || c[2] != fast || c[3] != slowN || shared[2] || shared[3] {
		t.Errorf("counts %v shared %v, want E->E %d and E->E slow %d, not shared", c, shared, fast, slowN)
	}
	if fast < 450 || fast > 830 || slowN < 1600 || slowN > 2200 {
		t.Errorf("E->E: %d fast synapses (p = 0.1), %d slow (p = 0.3) among 80 neurons: want about 640 and 1,920", fast, slowN)
	}
}

// Setting the rate of a scheduled Poisson input mid-run replaces the
// schedule from then on (it is not refused as a rate beside a schedule).
func TestSetRateOfScheduledInput(t *testing.T) {
	s, err := spec.New("sched").Dt(0.1).Duration(100).
		Population("E", 50, spec.IafPscExp(nil)).
		Poisson("E", 8000, 0, spec.Name("drive"), spec.Piecewise([]float64{0, 20}, []float64{20, 5})).Build()
	if err != nil {
		t.Fatal(err)
	}
	e := serve.New(nil)
	defer e.Close()
	mustLoad(t, e, s, 1)
	mustRun(t, e, 30)
	if err := e.SetInput("drive", proto.Float64(0), nil); err != nil {
		t.Fatalf("set rate of a scheduled input: %v", err)
	}
	mustRun(t, e, 30)
	if n := countIn(mustRead(t, e), 320, 600, 0, 50); n != 0 {
		t.Errorf("E fired %d times after its scheduled drive was set to 0 Hz", n)
	}
}

// A procedural projection reports the synapses that the build counted
// (none is stored), and is not shared with a stored projection between
// the same populations.
func TestProjectionCountsProcedural(t *testing.T) {
	s := recurrent(t, 10)
	proc := proto.Clone(s.Projections[2]).(*myelinpb.Projection)
	proc.Name, proc.Procedural = "E->E procedural", proto.Bool(true)
	proc.Rule = &myelinpb.Projection_PairwiseBernoulli{PairwiseBernoulli: &myelinpb.PairwiseBernoulli{P: 0.2, BySource: true}}
	s.Projections = append(s.Projections, proc)
	info, net := loadAndBuild(t, s)
	if len(net.Procedural) != 1 {
		t.Fatalf("%d procedural projections, want 1", len(net.Procedural))
	}
	c, shared := info.GetProjectionSynapses(), info.GetProjectionShared()
	last := len(c) - 1
	if c[last] != net.Procedural[0].Synapses || c[last] < 900 || c[last] > 1700 || shared[last] || shared[2] {
		t.Errorf("procedural E->E: %d synapses (shared %v; the stored E->E shared %v), want the build's %d, about 1,280 (p = 0.2 among 80 neurons)", c[last], shared[last], shared[2], net.Procedural[0].Synapses)
	}
}

// Inputs that share a name cannot be changed by it: before, set_input
// changed the last of them only, so that the others went on unchanged
// without a word (pynn_myelin named two Poisson sources of one label
// alike). A network of many populations keeps its errors short.
func TestSetInputSharedName(t *testing.T) {
	s := recurrent(t, 100)
	s.Inputs[1].Name = "drive" // the Poisson inputs onto E and onto I
	e := serve.New(nil)
	defer e.Close()
	mustLoad(t, e, s, 1)
	for _, step := range []float64{0, 10} {
		mustRun(t, e, step)
		err := e.SetInput("drive", proto.Float64(0), nil)
		if err == nil || !strings.Contains(err.Error(), `input "drive": inputs[0], inputs[1] all have this name`) {
			t.Errorf("at %g ms: set_input of a shared name: %v", step, err)
		}
	}
	many := recurrent(t, 10)
	for i := range 1000 {
		many.Populations = append(many.Populations, &myelinpb.Population{Name: fmt.Sprintf("P%d", i), Size: 1, Model: &myelinpb.Population_IafPscDelta{IafPscDelta: &myelinpb.IafPscDelta{}}})
	}
	mustLoad(t, e, many, 1)
	err := e.SetParams("nope", map[string]float64{"tau_m": 5})
	if err == nil || len(err.Error()) > 400 || !strings.Contains(err.Error(), "and 982 more") {
		t.Errorf("unknown population among 1002: %d bytes: %.500v", len(err.Error()), err)
	}
}
