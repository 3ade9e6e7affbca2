package cpu_test

import (
	"testing"

	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/spec"

	"github.com/myelin-sim/myelin/engine/backend/parity"
	"github.com/myelin-sim/myelin/engine/cpu"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// Delivery that finds the ring slot once for a run of synapses sharing one
// delay field (compact segments, rows of one delay) gives the stream of the
// per-synapse lookup for every parity case: constant and drawn delays,
// compact and stored weights, the slow port, STP and STDP.
func TestSharedDelayDeliverySameStream(t *testing.T) {
	// Beside the parity cases: rows of stored (drawn) weights and one
	// delay, onto both channels and the slow port.
	stored := parity.Case{Name: "stored-one-delay", MinSpikes: 1000, Spec: func() (*myelinpb.Network, error) {
		return spec.New("stored-one-delay").Seed(9).Dt(0.1).Duration(200).
			Population("E", 400, spec.IafPscExp(nil), spec.Initial(spec.UniformDist(-70, -54))).
			Population("I", 100, spec.IafPscExp(nil), spec.Initial(spec.UniformDist(-70, -54))).
			Project("E", "E", spec.FixedIn(40), spec.Weight(spec.UniformDist(5, 30)), spec.Delay(spec.Const(1.5))).
			Project("E", "I", spec.FixedIn(40), spec.Weight(spec.UniformDist(5, 30)), spec.Delay(spec.Const(1.5))).
			Project("I", "E", spec.FixedIn(10), spec.Weight(spec.UniformDist(-60, -20)), spec.Delay(spec.Const(0.8)), spec.Via(myelinpb.Receptor_INHIBITORY)).
			Project("I", "I", spec.FixedIn(10), spec.Weight(spec.UniformDist(-60, -20)), spec.Delay(spec.Const(0.8)), spec.Via(myelinpb.Receptor_INHIBITORY)).
			Poisson("E", 9000, 22).Poisson("I", 9000, 22).Build()
	}}
	shared := 0 // cases with a non-plastic population of stored weights whose rows share one delay
	for _, c := range append(parity.Cases(), stored) {
		net, err := parity.Build(c)
		if err != nil {
			t.Fatal(err)
		}
		for p, d := range net.Syn.RowDelay {
			pop := &net.Pops[p]
			if d != ^uint32(0) && net.Syn.WeightBase[p] != network.Compact && net.Syn.RowPtr[pop.First+pop.Size] > net.Syn.RowPtr[pop.First] && len(net.STDP) == 0 && len(net.STP) == 0 {
				shared++
				break
			}
		}
		for _, threads := range []int{1, 2} {
			if _, err := parity.Compare(c, threads, cpu.NewPerSynapseDelay(threads)); err != nil {
				t.Errorf("%s, %d threads: %v", c.Name, threads, err)
			}
		}
	}
	if shared < 2 {
		t.Errorf("only %d cases have a population of stored weights whose rows share one delay: that path is hardly tested", shared)
	}
}

// Delivery that holds the events of rows with varying delays in buckets by
// ring slot (flushBuckets, on for large rings), adding a slot's events at
// the end of the step before the one that reads it, all of them whenever
// the buckets are full and at the end of every call, gives the stream of
// direct delivery for every parity case.
func TestBucketedDeliverySameStream(t *testing.T) {
	varying := 0
	for _, c := range parity.Cases() {
		net, err := parity.Build(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range net.Syn.RowDelay {
			if d == ^uint32(0) {
				varying++
				break
			}
		}
		// Buckets flushed slot by slot, and all of them after every few
		// rows.
		for _, tc := range []struct{ threads, cap int }{{1, 1 << 30}, {2, 1 << 30}, {2, 37}} {
			if _, err := parity.Compare(c, tc.threads, cpu.NewBucketed(tc.threads, tc.cap)); err != nil {
				t.Errorf("%s, %d threads, flushed past %d events: %v", c.Name, tc.threads, tc.cap, err)
			}
		}
	}
	if varying < 4 {
		t.Errorf("only %d parity cases have a population whose rows have varying delays: bucketing is hardly tested", varying)
	}
}

// A volley (every neuron fires in the same step, each with 400 synapses
// of drawn delays: 800,000 events) is delivered through buckets that hold
// at most the budget between flushes, and keep no more chunks afterwards
// than the budget and a partly filled chunk per bucket take: the memory
// does not grow with the volley. Every chunk allocated is still held (in a
// bucket or on the free list): flushed chunks are reused, not dropped.
func TestBucketsStayWithinBudget(t *testing.T) {
	const capEvents = 5000
	volley, at := make([]uint32, 2000), make([]float64, 2000)
	for i := range volley {
		volley[i], at[i] = uint32(i), 1
	}
	s, err := spec.New("volley").Seed(4).Dt(0.1).Duration(20).
		Population("A", 2000, spec.IafPscDelta(nil)).
		Project("A", "A", spec.FixedOut(400), spec.Weight(spec.UniformDist(0.01, 0.02)), spec.Delay(spec.UniformDist(0.2, 5))).
		SpikeTimes("A", volley, at, 50).Build()
	if err != nil {
		t.Fatal(err)
	}
	net, err := network.Build(s, network.Options{})
	if err != nil {
		t.Fatal(err)
	}
	be := cpu.NewBucketed(1, capEvents)
	ids := spikeIDs(t, be, net)
	if len(ids) < 2000 {
		t.Fatalf("%d spikes: no volley", len(ids))
	}
	events, buckets, peak, made := be.BucketCapacity()
	if made != events {
		t.Errorf("chunks of %d events allocated, %d still held: flushed chunks are dropped, not reused", made, events)
	}
	if limit := capEvents + 400 + (buckets+1)*be.BucketChunk(); events > limit || buckets == 0 || limit >= 800000/2 {
		t.Errorf("buckets keep room for %d events in %d buckets after a volley of %d spikes, want at most %d", events, buckets, len(ids), limit)
	}
	// A flush comes after the row that reaches the budget: at most a row
	// (400 synapses) beyond it.
	if peak < capEvents || peak > capEvents+400 {
		t.Errorf("the buckets held at most %d events at a flush, want the budget %d to %d", peak, capEvents, capEvents+400)
	}
}
