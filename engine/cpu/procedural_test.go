package cpu_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/cpu"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/plan"
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// procMix has a projection of every procedural rule, with constant and
// drawn weights and delays, beside stored projections (with STP and STDP
// from populations that have procedural projections too): on is the set of
// projection names that are procedural.
func procMix(on map[string]bool) *spec.Builder {
	p := func(name string) spec.Option { return spec.Procedural(on[name]) }
	return spec.New("procmix").Seed(21).Duration(150).
		Population("A", 300, spec.IafPscExp(nil), spec.Initial(spec.UniformDist(-70, -54))).
		Population("B", 200, spec.IafPscExp(nil), spec.Initial(spec.UniformDist(-70, -54))).
		Population("C", 40, spec.IafPscDelta(nil), spec.Initial(spec.UniformDist(-70, -54))).
		Population("D", 200, spec.IafPscDelta(nil), spec.Initial(spec.UniformDist(-70, -54))).
		Population("E", 100, spec.IafPscExp(nil), spec.Initial(spec.UniformDist(-70, -54))).
		// Fixed out-degree: constant weight, drawn delays (E is compact).
		Project("E", "A", spec.FixedOut(20), spec.Weight(spec.Const(25)), spec.Delay(spec.UniformDist(0.1, 2)), spec.Name("out-const"), p("out-const")).
		Project("E", "B", spec.FixedOut(5), spec.Weight(spec.Const(30)), spec.Via(myelinpb.Receptor_SLOW_EXCITATORY), spec.Name("out-slow"), p("out-slow")).
		// Fixed out-degree: drawn weights and delays, inhibitory, no autapses or multapses.
		Project("A", "A", spec.FixedOut(30), spec.Weight(spec.ClippedNormalDist(20, 8, 0, 40)), spec.Delay(spec.ClippedNormalDist(1, 0.4, 0.1, 3)), spec.Autapses(false), spec.Multapses(false), spec.Name("out-drawn"), p("out-drawn")).
		Project("A", "B", spec.FixedOut(10), spec.Weight(spec.LognormalDist(1, 0.5, false)), spec.Via(myelinpb.Receptor_INHIBITORY), spec.Name("out-inh"), p("out-inh")).
		// Fixed out-degree, constant, without multapses (read from the sampler's bitset).
		Project("A", "D", spec.FixedOut(15), spec.Weight(spec.Const(0.3)), spec.Delay(spec.Const(1)), spec.Multapses(false), spec.Name("out-set"), p("out-set")).
		Project("D", "D", spec.FixedOut(10), spec.Weight(spec.Const(0.2)), spec.Autapses(false), spec.Multapses(false), spec.Name("out-set-self"), p("out-set-self")).
		// One-to-one: drawn weights (deferred in the stored mode) and delays.
		Project("B", "D", spec.OneToOne(), spec.Weight(spec.NormalDist(4, 2)), spec.Delay(spec.UniformDist(0.1, 1.5)), spec.Name("one-drawn"), p("one-drawn")).
		Project("D", "D", spec.OneToOne(), spec.Weight(spec.Const(-1)), spec.Autapses(false), spec.Name("one-none"), p("one-none")).
		// Bernoulli by source: constant weight onto the slow port, and drawn
		// weights and delays without autapses.
		Project("E", "B", spec.BernoulliBySource(0.05), spec.Weight(spec.Const(6)), spec.Via(myelinpb.Receptor_SLOW_EXCITATORY), spec.Name("bern-const"), p("bern-const")).
		Project("D", "D", spec.BernoulliBySource(0.04), spec.Weight(spec.UniformDist(0.05, 0.3)), spec.Delay(spec.UniformDist(0.1, 2)), spec.Autapses(false), spec.Name("bern-drawn"), p("bern-drawn")).
		// All-to-all: constant weight and delay, with and without autapses.
		Project("C", "A", spec.AllToAll(), spec.Weight(spec.Const(-3)), spec.Delay(spec.Const(1.2)), spec.Name("all-inh"), p("all-inh")).
		Project("C", "C", spec.AllToAll(), spec.Weight(spec.Const(0.5)), spec.Autapses(false), spec.Name("all-self"), p("all-self")).
		// Stored only (by-post rules).
		Project("B", "A", spec.FixedIn(20), spec.Weight(spec.NormalDist(-40, 10)), spec.Delay(spec.Const(0.3)), spec.Name("in-stored")).
		Project("A", "C", spec.FixedIn(25), spec.Weight(spec.UniformDist(0.5, 1.5)), spec.Name("in-c")).
		// Plastic stored projections from populations with procedural ones.
		Project("B", "C", spec.FixedIn(10), spec.Weight(spec.Const(0.5)), spec.STP(0.5, 200, 0), spec.Name("stp")).
		Project("E", "E", spec.FixedIn(5), spec.Weight(spec.Const(20)), spec.STDP(nil), spec.Name("stdp")).
		Poisson("A", 10000, 22).Poisson("B", 10000, 22).Poisson("C", 7000, 0.25).Poisson("D", 7000, 0.22).Poisson("E", 10000, 22)
}

// procNames are the projections of procMix that may be procedural.
var procNames = []string{"out-const", "out-slow", "out-set", "out-set-self", "out-drawn", "out-inh", "one-drawn", "one-none", "bern-const", "bern-drawn", "all-inh", "all-self"}

// spikeIDs runs net on be and returns its spike ids with step boundaries.
func spikeIDs(t *testing.T, be *cpu.Backend, net *network.Network) []uint32 {
	t.Helper()
	if err := be.Load(net); err != nil {
		t.Fatal(err)
	}
	var ids []uint32
	blk := &backend.Block{}
	for st := uint64(0); st < net.Steps; st += 100 {
		blk.Reset(st, 0)
		if err := be.Advance(int(min(100, net.Steps-st)), blk); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, blk.IDs...)
		for _, c := range blk.Counts {
			ids = append(ids, ^c) // step boundaries
		}
	}
	return ids
}

// Procedural projections deliver exactly what their stored synapses do, for
// every rule and any thread count, store no synapse, and leave every
// population's fixed-point scale as it was.
func TestProceduralSpikesEqualStored(t *testing.T) {
	all := map[string]bool{}
	for _, n := range procNames {
		all[n] = true
	}
	variants := []map[string]bool{nil, all}
	for _, n := range procNames {
		variants = append(variants, map[string]bool{n: true})
	}
	var ref []uint32
	var refNet *network.Network
	for vi, on := range variants {
		s, err := procMix(on).Build()
		if err != nil {
			t.Fatal(err)
		}
		for _, th := range []int{1, 2, 3} {
			if vi > 2 && th != 2 {
				continue // single-projection variants: two threads are enough
			}
			net, err := network.Build(s, network.Options{Threads: th})
			if err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("procedural %v, %d threads", keys(on), th)
			if refNet == nil {
				refNet = net
			} else {
				var proc uint64
				for _, p := range net.Procedural {
					proc += p.Synapses
				}
				if len(net.Procedural) != len(on) {
					t.Fatalf("%s: %d procedural projections, want %d", name, len(net.Procedural), len(on))
				}
				if got, want := net.SynapseCount()+proc, refNet.SynapseCount(); got != want || (len(on) > 0 && proc == 0 && !on["one-none"]) {
					t.Errorf("%s: %d stored + %d procedural synapses, want %d in all", name, net.SynapseCount(), proc, want)
				}
				for i := range net.Pops {
					if net.Pops[i].Shift != refNet.Pops[i].Shift || net.Pops[i].Synapses != refNet.Pops[i].Synapses {
						t.Errorf("%s: population %s: shift %d, %d synapses; stored: %d, %d", name, net.Pops[i].Name, net.Pops[i].Shift, net.Pops[i].Synapses, refNet.Pops[i].Shift, refNet.Pops[i].Synapses)
					}
				}
				if net.RingSlots != refNet.RingSlots {
					t.Errorf("%s: %d ring slots, stored %d", name, net.RingSlots, refNet.RingSlots)
				}
			}
			ids := spikeIDs(t, cpu.NewSplit(th), net)
			if len(ids) < 3000 {
				t.Fatalf("%s: only %d spikes: the test needs activity", name, len(ids))
			}
			if ref == nil {
				ref = ids
			} else if !slices.Equal(ids, ref) {
				t.Errorf("%s: spikes differ from the stored 1-thread run", name)
			}
			if vi == 1 && th > 1 {
				// With the default budget every spike's rows are generated
				// once and shared.
				be := cpu.NewSplit(th)
				spikeIDs(t, be, net)
				if shared, regen := be.ProcSharing(); shared == 0 || regen != 0 {
					t.Errorf("%s: %d spikes' rows shared, %d regenerated per thread: want all shared", name, shared, regen)
				}
				// myelin plan bounds the buffers the run kept.
				var planned uint64
				for _, part := range plan.Estimate(s, th).Parts {
					if part.Name == "procedural rows" {
						planned = part.CPU
					}
				}
				if held := be.ProcBufBytes(); held == 0 || held > planned {
					t.Errorf("%s: the shared row buffers hold %d B, the plan counts %d", name, held, planned)
				}
				// Rows generated once by the spiking neuron's thread up to
				// a budget of 50 targets a step, the rest by every thread
				// for its range: both paths.
				be = cpu.NewProceduralBudget(th, 50)
				if ids := spikeIDs(t, be, net); !slices.Equal(ids, ref) {
					t.Errorf("%s, rows shared up to 50 targets: spikes differ from the stored 1-thread run", name)
				}
				if shared, regen := be.ProcSharing(); shared == 0 || regen == 0 {
					t.Errorf("%s, budget of 50 targets: %d spikes' rows shared, %d regenerated per thread: want both paths", name, shared, regen)
				}
			}
		}
	}
}

// keys returns the names set in m, sorted.
func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
