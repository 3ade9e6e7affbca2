package plan_test

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/backend/parity"
	"github.com/myelin-sim/myelin/engine/cpu"
	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/plan"
	"github.com/myelin-sim/myelin/engine/sim"
	"github.com/myelin-sim/myelin/engine/spec"
	"github.com/myelin-sim/myelin/kernels/launch"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// The plan's figures match what the builder then allocates.
func TestPlanMatchesBuiltNetwork(t *testing.T) {
	for _, tc := range []struct {
		model      string
		set        map[string]string
		exact      bool // synapse count exact (fixed degrees) or expected (Bernoulli)
		wantStored bool // weights stored per synapse (distributed weights)
	}{
		{"brunel", map[string]string{"n": "5000"}, true, false},
		{"cuba", nil, false, false},
		{"coba", nil, false, false},
		{"ring_rate", nil, true, false},
		{"microcircuit", map[string]string{"scale": "0.02", "k_scale": "0.05"}, true, true},
	} {
		m, _ := models.Lookup(tc.model)
		s, err := m.Build(tc.set)
		if err != nil {
			t.Fatal(err)
		}
		spec.ApplyDefaults(s)
		p := plan.Estimate(s, 2)
		net, err := network.Build(s, network.Options{Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		got := net.SynapseCount()
		if tc.exact && p.Synapses != got {
			t.Errorf("%s: plan says %d synapses, the build made %d", tc.model, p.Synapses, got)
		}
		if !tc.exact {
			// Bernoulli: the count is binomial; 5 standard deviations.
			sd := math.Sqrt(float64(p.Synapses))
			if d := math.Abs(float64(p.Synapses) - float64(got)); d > 5*sd {
				t.Errorf("%s: plan expects %d synapses, the build made %d (%.1f sd off)", tc.model, p.Synapses, got, d/sd)
			}
		}
		// Distributed delays (microcircuit): the plan bounds the drawn ones.
		if net.RingSlots > 0 && (p.RingSlots < uint64(net.RingSlots) || (!tc.wantStored && p.RingSlots != uint64(net.RingSlots))) {
			t.Errorf("%s: plan says %d ring slots, the build has %d", tc.model, p.RingSlots, net.RingSlots)
		}
		// Constant-weight models store 4 B per synapse, others 8 B; the
		// plan's figure is within 10 % of what the build allocated.
		stored := uint64(len(net.Syn.Packed))*4 + uint64(len(net.Syn.Weight))*4
		per := uint64(plan.BytesPerCompactSynapse)
		if tc.wantStored {
			per = plan.BytesPerSynapse
		}
		if tc.exact && stored != got*per {
			t.Errorf("%s: %d bytes of synapses stored, want %d B per synapse", tc.model, stored, per)
		}
		if want := float64(net.SynapseBytes()); math.Abs(float64(p.Parts[0].CPU)-want) > 0.1*want {
			t.Errorf("%s: plan says %d B of synapses, the build holds %.0f B", tc.model, p.Parts[0].CPU, want)
		}
		var sb strings.Builder
		if err := p.Write(&sb); err != nil || !strings.Contains(sb.String(), "delay ring buffers") {
			t.Errorf("%s: plan table %q, %v", tc.model, sb.String(), err)
		}
	}
}

func TestBytes(t *testing.T) {
	for in, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 3 << 30: "3.0 GiB"} {
		if got := plan.Bytes(in); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", in, got, want)
		}
	}
}

// Unbounded delay distributions do not wrap the estimate around.
func TestPlanHugeDelayDoesNotWrap(t *testing.T) {
	s, err := spec.New("t").Population("A", 1000, spec.IafPscDelta(nil)).
		Project("A", "A", spec.FixedIn(10), spec.Weight(spec.Const(1)), spec.Delay(spec.LognormalDist(700, 1, false))).Build()
	if err != nil {
		t.Fatal(err)
	}
	p := plan.Estimate(s, 1)
	if p.RingSlots != spec.MaxDelaySteps+1 || p.CPU() < p.RingSlots*1000*8 {
		t.Errorf("ring slots %d, CPU %d B: want the delay bound clamped at %d steps and no wrap-around", p.RingSlots, p.CPU(), uint64(spec.MaxDelaySteps))
	}
}

// --sample counts: the plan grows by the sampled values of a block (held
// sampleCopies times on the CPU), and its stream estimate matches the size
// of a stream that a run writes.
func TestPlanCountsSamplingAndStream(t *testing.T) {
	build := func(probes ...*myelinpb.StateProbe) *myelinpb.Network {
		s, err := models.Spec("brunel", map[string]string{"n": "1000", "duration_ms": "100"})
		if err != nil {
			t.Fatal(err)
		}
		s.Recording.State = append(s.Recording.State, probes...)
		if err := spec.Validate(s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	bare := plan.Estimate(build(), 2)
	probes := []*myelinpb.StateProbe{
		{Population: "E", First: 0, Count: 800, Every: 1},
		{Population: "I", First: 10, Count: 50, Every: 7},
	}
	s := build(probes...)
	p := plan.Estimate(s, 2)
	// Blocks of 100 steps: 800 × 100 + 50 × ceil(100/7) = 80,750 values.
	if p.SampleValues != 80750 {
		t.Errorf("SampleValues %d, want 80750", p.SampleValues)
	}
	if d := p.CPU() - bare.CPU(); d < 2*80750*4 || d > 20*80750*4 {
		t.Errorf("sampling adds %d B to the CPU plan, want between 2 and 20 blocks of %d B", d, 80750*4)
	}
	if d := p.GPU() - bare.GPU(); d != 2*80750*4 {
		t.Errorf("sampling adds %d B to the GPU plan, want two record sets of %d B", d, 80750*4)
	}
	// 1,000 steps: 800 × 1000 + 50 × ceil(1000/7) = 807,150 values × 4 B.
	if p.Stream.Samples != 807150*4 || p.Stream.Steps != 1000 || p.Stream.RecordedNeurons != 1000 {
		t.Errorf("stream estimate %+v", p.Stream)
	}
	net, err := network.Build(s, network.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	res, err := sim.Run(context.Background(), net, sim.Options{Backend: cpu.New(2), Out: &buf})
	if err != nil {
		t.Fatal(err)
	}
	var spikes uint64
	for _, n := range res.PopSpikes {
		spikes += n
	}
	rate := float64(spikes) / 1000 / 0.1
	if est, got := float64(p.Stream.Bytes(rate)), float64(buf.Len()); math.Abs(est-got) > 0.05*got {
		t.Errorf("stream estimate at the run's %.1f Hz: %.0f B; the run wrote %.0f B", rate, est, got)
	}
	var sb strings.Builder
	p.Write(&sb)
	if !strings.Contains(sb.String(), "state samples") || !strings.Contains(sb.String(), "stream: ") {
		t.Errorf("plan table lacks samples or stream:\n%s", sb.String())
	}
}

// A model with a fourth state variable (aeif_cond_exp's w) costs 4 B per
// neuron more on both backends.
func TestPlanCountsFourthStateVariable(t *testing.T) {
	state := func(m spec.Model) plan.Part {
		s, err := spec.New("t").Population("A", 1000, m).Build()
		if err != nil {
			t.Fatal(err)
		}
		for _, part := range plan.Estimate(s, 1).Parts {
			if part.Name == "neuron state" {
				return part
			}
		}
		t.Fatal("no neuron state part")
		return plan.Part{}
	}
	lif, aeif := state(spec.IafCondExp(nil)), state(spec.Neuron(&myelinpb.AeifCondExp{}))
	if aeif.CPU-lif.CPU != 4000 || aeif.GPU-lif.GPU != 4000 {
		t.Errorf("aeif_cond_exp state: cpu %d gpu %d B, iaf_cond_exp: cpu %d gpu %d B; want 4000 B more each", aeif.CPU, aeif.GPU, lif.CPU, lif.GPU)
	}
}

// TestSTPState checks the short-term plasticity part against the layout
// network.Build makes: one entry per presynaptic neuron and distinct set.
func TestSTPState(t *testing.T) {
	s, err := spec.New("stp").Duration(10).
		Population("E", 300, spec.IafPscExp(nil)).Population("I", 50, spec.IafPscExp(nil)).
		Project("E", "E", spec.FixedIn(5), spec.Weight(spec.Const(1)), spec.STP(0.2, 200, 1500)).
		Project("E", "I", spec.FixedIn(5), spec.Weight(spec.Const(1)), spec.STP(0.2, 200, 1500)).
		Project("I", "E", spec.FixedIn(5), spec.Weight(spec.Const(-1)), spec.STP(0.5, 100, 0)).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	net, err := network.Build(s, network.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := plan.Estimate(s, 1)
	var got uint64
	for _, part := range p.Parts {
		if part.Name == "short-term plasticity" {
			got = part.CPU
		}
	}
	if want := uint64(net.STPStateSize()) * 20; got != want || len(net.STP) != 2 || want != 350*20 {
		t.Errorf("plan says %d B, the network has %d sets and %d entries (%d B)", got, len(net.STP), net.STPStateSize(), want)
	}
}

// The slow synaptic port costs what the GPU layout allocates for it (the
// slow ring plane and the fourth state array) and nothing in a network
// that does not use it.
func TestPlanCountsSlowPort(t *testing.T) {
	find := func(p *plan.Plan) (plan.Part, bool) {
		for _, part := range p.Parts {
			if part.Name == "slow synaptic port" {
				return part, true
			}
		}
		return plan.Part{}, false
	}
	s, err := parity.Receptors()
	if err != nil {
		t.Fatal(err)
	}
	spec.ApplyDefaults(s)
	net, err := network.Build(s, network.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	lp, err := launch.New(net, launch.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var gpu int64
	for _, b := range lp.Buffers() {
		if b.Buffer == launch.BufRingSlow || b.Buffer == launch.BufC {
			gpu += b.Bytes
		}
	}
	p := plan.Estimate(s, 1)
	part, ok := find(p)
	if !ok {
		t.Fatal("no slow synaptic port part")
	}
	if p.RingSlots != uint64(net.RingSlots) {
		t.Fatalf("plan: %d ring slots, build: %d", p.RingSlots, net.RingSlots)
	}
	if part.GPU != uint64(gpu) || part.CPU != uint64(gpu)+12*uint64(net.N) {
		t.Errorf("slow port: plan cpu %d gpu %d B; the GPU layout allocates %d B (cpu: that + 12 B per neuron)", part.CPU, part.GPU, gpu)
	}
	// Without slow receptors: no such part.
	for _, pr := range s.Projections {
		if pr.GetReceptor() == myelinpb.Receptor_SLOW_EXCITATORY {
			pr.Receptor = myelinpb.Receptor_EXCITATORY
		}
	}
	for _, in := range s.Inputs {
		if ps := in.GetPoisson(); ps != nil && ps.GetReceptor() == myelinpb.Receptor_SLOW_EXCITATORY {
			ps.Receptor = myelinpb.Receptor_EXCITATORY
		}
	}
	if part, ok := find(plan.Estimate(s, 1)); ok {
		t.Errorf("network without slow receptors: part %+v", part)
	}
}

// TestSTDPState checks the STDP part against the layout network.Build
// makes: the by-post index, the traces and (CPU) the copy of the stored
// weights; a population with an STDP projection stores its weights.
func TestSTDPState(t *testing.T) {
	s, err := spec.New("stdp").Duration(10).
		Population("E", 300, spec.IafPscExp(nil)).Population("I", 50, spec.IafPscExp(nil)).
		Project("E", "E", spec.FixedIn(5), spec.Weight(spec.Const(1)), spec.STDP(nil)).
		Project("E", "I", spec.FixedIn(7), spec.Weight(spec.Const(1)), spec.STDP(nil)).
		Project("I", "E", spec.FixedIn(5), spec.Weight(spec.Const(-1))).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	net, err := network.Build(s, network.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := plan.Estimate(s, 1)
	var got plan.Part
	for _, part := range p.Parts {
		if part.Name == "STDP" {
			got = part
		}
	}
	var want, cpuOnly uint64
	for _, set := range net.STDP {
		want += set.Synapses*8 + uint64(len(set.PostPtr))*8 + 8*uint64(net.Pops[set.Pre].Size+net.Pops[set.Post].Size)
		cpuOnly += uint64(net.Pops[set.Post].Size)*plan.STDPHistoryBytes + 16*uint64(net.Pops[set.Pre].Size)
	}
	if got.GPU != want || got.CPU != want+cpuOnly+4*uint64(len(net.Syn.Weight)) || len(net.STDP) != 2 || len(net.Syn.Weight) != 300*5+50*7 {
		t.Errorf("plan says cpu %d gpu %d B; the network has %d sets, index and traces %d B, %d stored weights", got.CPU, got.GPU, len(net.STDP), want, len(net.Syn.Weight))
	}
}
