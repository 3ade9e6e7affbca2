package network_test

import (
	"testing"

	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// checkDelays verifies PopDelay and RowDelay against the stored words:
// where a pair (or a population's rows) has a delay field, every synapse
// concerned has it; it returns the pairs and rows that have one.
func checkDelays(t *testing.T, n *network.Network) (pairs map[[2]int]uint32, rows map[int]uint32) {
	t.Helper()
	np := len(n.Pops)
	if len(n.Syn.PopDelay) != np*np || len(n.Syn.RowDelay) != np {
		t.Fatalf("PopDelay has %d entries, RowDelay %d: want %d and %d", len(n.Syn.PopDelay), len(n.Syn.RowDelay), np*np, np)
	}
	pairs, rows = map[[2]int]uint32{}, map[int]uint32{}
	counted := map[[2]int]int{}
	for pre := uint32(0); pre < n.N; pre++ {
		p := n.PopOf(pre)
		for k := n.Syn.RowPtr[pre]; k < n.Syn.RowPtr[pre+1]; k++ {
			w := n.Syn.Packed[k]
			q := n.PopOf(w >> n.Syn.DelayBits)
			field := w & n.Syn.DelayMask()
			if d, ok := n.Syn.PairDelay(p, q, np); ok && d != field {
				t.Fatalf("synapse %d → %d has delay field %d, but PopDelay[%d→%d] says %d", pre, w>>n.Syn.DelayBits, field, p, q, d)
			}
			if d := n.Syn.RowDelay[p]; d != network.NoPopDelay && d != field {
				t.Fatalf("synapse %d → %d has delay field %d, but RowDelay[%d] says %d", pre, w>>n.Syn.DelayBits, field, p, d)
			}
			counted[[2]int{p, q}]++
		}
	}
	for k := range counted {
		if d, ok := n.Syn.PairDelay(k[0], k[1], np); ok {
			pairs[k] = d
		}
	}
	for p, d := range n.Syn.RowDelay {
		if d != network.NoPopDelay {
			rows[p] = d
		}
	}
	return pairs, rows
}

// PopDelay and RowDelay name the one delay field that the stored synapses
// of a pair of populations (and all the rows of a population) share, and
// only where every projection concerned has one constant delay and the
// same port.
func TestDelayLayout(t *testing.T) {
	b := spec.New("delays").Seed(7).Dt(0.1).
		Population("A", 300, spec.IafPscExp(nil)).
		Population("B", 200, spec.IafPscExp(nil)).
		Population("C", 100, spec.IafPscExp(nil)).
		Population("D", 100, spec.IafPscExp(nil)).
		// A: constant 1.5 ms onto B twice (two projections, same delay),
		// then onto C with the slow port: pairs A→B and A→C have one field
		// each, A's rows two (the port bit differs).
		Project("A", "B", spec.FixedIn(20), spec.Weight(spec.Const(0.5)), spec.Delay(spec.Const(1.5))).
		Project("A", "B", spec.FixedIn(5), spec.Weight(spec.Const(-0.5)), spec.Delay(spec.Const(1.5)), spec.Via(myelinpb.Receptor_INHIBITORY)).
		Project("A", "C", spec.FixedIn(10), spec.Weight(spec.Const(0.5)), spec.Delay(spec.Const(1.5)), spec.Via(myelinpb.Receptor_SLOW_EXCITATORY)).
		// B: onto C with two different constant delays (mixed pair), onto D
		// with drawn delays (mixed pair).
		Project("B", "C", spec.FixedIn(10), spec.Weight(spec.Const(0.5)), spec.Delay(spec.Const(1))).
		Project("B", "C", spec.FixedIn(10), spec.Weight(spec.Const(0.5)), spec.Delay(spec.Const(2))).
		Project("B", "D", spec.FixedIn(10), spec.Weight(spec.Const(0.5)), spec.Delay(spec.UniformDist(0.5, 3))).
		// C: drawn weights, one constant delay onto D and onto A.
		Project("C", "D", spec.FixedIn(10), spec.Weight(spec.UniformDist(0.1, 0.5)), spec.Delay(spec.Const(0.8))).
		Project("C", "A", spec.FixedOut(10), spec.Weight(spec.UniformDist(0.1, 0.5)), spec.Delay(spec.Const(0.8))).
		// D: an explicit list with its own delays onto A (mixed, though
		// the projection's delay is constant), a constant one onto B.
		Project("D", "A", spec.Explicit(&myelinpb.ExplicitList{PreIndex: []uint32{0, 1, 2}, PostIndex: []uint32{5, 6, 7}, DelayMs: []float64{1, 1, 2}}), spec.Weight(spec.Const(0.5)), spec.Delay(spec.Const(1))).
		Project("D", "B", spec.Explicit(&myelinpb.ExplicitList{PreIndex: []uint32{0, 1}, PostIndex: []uint32{5, 6}}), spec.Weight(spec.Const(0.5)), spec.Delay(spec.Const(1)))
	for _, threads := range []int{1, 3} {
		n := build(t, b, threads)
		pairs, rows := checkDelays(t, n)
		pb := n.Syn.PortBit
		if pb == 0 {
			t.Fatal("no port bit: the slow projection is missing")
		}
		want := map[[2]int]uint32{{0, 1}: 15, {0, 2}: 15 | pb, {2, 3}: 8, {2, 0}: 8, {3, 1}: 10}
		if len(pairs) != len(want) {
			t.Errorf("%d threads: pairs with one delay field %v, want %v", threads, pairs, want)
		}
		for k, d := range want {
			if pairs[k] != d {
				t.Errorf("%d threads: pair %v: delay field %d, want %d", threads, k, pairs[k], d)
			}
		}
		if len(rows) != 1 || rows[2] != 8 {
			t.Errorf("%d threads: rows with one delay field %v, want only C's (8)", threads, rows)
		}
	}
}

// Built-in networks: brunel's rows share one delay (1.5 ms), the
// microcircuit's drawn delays share none.
func TestDelayLayoutModels(t *testing.T) {
	n := build(t, spec.New("brunel-like").Seed(3).Dt(0.1).
		Population("E", 400, spec.IafPscDelta(nil)).
		Population("I", 100, spec.IafPscDelta(nil)).
		Project("E", "E", spec.FixedIn(40), spec.Weight(spec.Const(0.1)), spec.Delay(spec.Const(1.5))).
		Project("E", "I", spec.FixedIn(40), spec.Weight(spec.Const(0.1)), spec.Delay(spec.Const(1.5))).
		Project("I", "E", spec.FixedIn(10), spec.Weight(spec.Const(-0.5)), spec.Delay(spec.Const(1.5)), spec.Via(myelinpb.Receptor_INHIBITORY)).
		Project("I", "I", spec.FixedIn(10), spec.Weight(spec.Const(-0.5)), spec.Delay(spec.Const(1.5)), spec.Via(myelinpb.Receptor_INHIBITORY)), 2)
	pairs, rows := checkDelays(t, n)
	if len(pairs) != 4 || len(rows) != 2 || rows[0] != 15 || rows[1] != 15 {
		t.Errorf("brunel-like: pairs %v rows %v, want 4 pairs and both rows at 15", pairs, rows)
	}
	n = build(t, spec.New("drawn").Seed(3).Dt(0.1).
		Population("E", 400, spec.IafPscDelta(nil)).
		Project("E", "E", spec.FixedIn(40), spec.Weight(spec.Const(0.1)), spec.Delay(spec.NormalDist(1.5, 0.75))), 2)
	if pairs, rows := checkDelays(t, n); len(pairs) != 0 || len(rows) != 0 {
		t.Errorf("drawn delays: pairs %v rows %v, want none", pairs, rows)
	}
}
