package network_test

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// procSpec has a projection of each procedural rule (procedural as on
// says), with drawn weights where the rule allows, onto the slow port too,
// beside stored projections onto the same populations.
func procSpec(on bool) *spec.Builder {
	p := spec.Procedural(on)
	return spec.New("rows").Seed(5).Duration(10).
		Population("A", 120, spec.IafPscExp(nil)).
		Population("B", 90, spec.IafPscExp(nil)).
		Population("C", 90, spec.IafPscDelta(nil)).
		Project("A", "B", spec.FixedOut(12), spec.Weight(spec.LognormalDist(0, 1, false)), spec.Delay(spec.ClippedNormalDist(1, 0.5, 0.1, 4)), p).
		Project("A", "A", spec.FixedOut(7), spec.Weight(spec.UniformDist(-3, 2)), spec.Autapses(false), spec.Multapses(false), p).
		Project("A", "B", spec.FixedOut(3), spec.Weight(spec.Const(4)), spec.Via(myelinpb.Receptor_SLOW_EXCITATORY), spec.Delay(spec.UniformDist(0.1, 2)), p).
		Project("A", "C", spec.FixedOut(5), spec.Weight(spec.Const(2)), spec.Delay(spec.Const(0.8)), p).
		Project("C", "C", spec.FixedOut(40), spec.Weight(spec.Const(0.2)), spec.Autapses(false), spec.Multapses(false), p).
		Project("B", "A", spec.FixedOut(100), spec.Weight(spec.Const(0.1)), spec.Multapses(false), p).
		Project("B", "C", spec.OneToOne(), spec.Weight(spec.NormalDist(1.3, 0.7)), spec.Delay(spec.UniformDist(0.1, 3)), p).
		Project("C", "B", spec.BernoulliBySource(0.1), spec.Weight(spec.Const(0.6)), spec.Delay(spec.Const(0.7)), p).
		Project("B", "B", spec.BernoulliBySource(0.08), spec.Weight(spec.NormalDist(1, 0.3)), spec.Delay(spec.UniformDist(0.1, 2)), spec.Autapses(false), p).
		Project("C", "C", spec.AllToAll(), spec.Weight(spec.Const(-0.3)), spec.Delay(spec.Const(0.4)), spec.Autapses(false), p).
		Project("B", "A", spec.AllToAll(), spec.Weight(spec.Const(0.7)), spec.Via(myelinpb.Receptor_INHIBITORY), p).
		Project("C", "B", spec.FixedIn(9), spec.Weight(spec.NormalDist(2, 1))).
		Project("A", "C", spec.FixedIn(4), spec.Weight(spec.Const(1)))
}

// synKey is one synapse as delivery sees it: target, delay field (port
// bit included) and fixed-point weight.
type synKey struct {
	tgt, dly uint32
	w        int32
}

// appendKeys appends the synapses of a generated row (targets, and delay
// fields and weights, or the constant ones) to keys.
func appendKeys(keys []synKey, tgt, dly []uint32, w []int32, constant bool, cd uint32, cw int32) []synKey {
	for k := range tgt {
		if constant {
			keys = append(keys, synKey{tgt[k], cd, cw})
		} else {
			keys = append(keys, synKey{tgt[k], dly[k], w[k]})
		}
	}
	return keys
}

// storedRow returns the synapses of row pre of net, sorted.
func storedRow(net *network.Network, pre uint32) []synKey {
	var out []synKey
	syn := &net.Syn
	for k := syn.RowPtr[pre]; k < syn.RowPtr[pre+1]; k++ {
		p := syn.Packed[k]
		out = append(out, synKey{p >> syn.DelayBits, p & syn.DelayMask(), net.SynapseWeight(pre, k)})
	}
	return out
}

func sortKeys(s []synKey) {
	slices.SortFunc(s, func(a, b synKey) int {
		switch {
		case a.tgt != b.tgt:
			return int(int64(a.tgt) - int64(b.tgt))
		case a.dly != b.dly:
			return int(int64(a.dly) - int64(b.dly))
		}
		return int(int64(a.w) - int64(b.w))
	})
}

// Every row that a procedural projection regenerates, with the rows that
// stay stored, holds exactly the synapses (target, delay, port and
// fixed-point weight) of the stored build's row, for any thread count; the
// scales, ring slots and port bit are the stored build's.
func TestProceduralRowsEqualStored(t *testing.T) {
	ss, err := procSpec(false).Build()
	if err != nil {
		t.Fatal(err)
	}
	ps, err := procSpec(true).Build()
	if err != nil {
		t.Fatal(err)
	}
	stored, err := network.Build(ss, network.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, th := range []int{1, 2, 3} {
		net, err := network.Build(ps, network.Options{Threads: th})
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, pr := range ps.Projections {
			if pr.GetProcedural() {
				want++
			}
		}
		if len(net.Procedural) != want || want != 11 {
			t.Fatalf("%d procedural projections, want %d (11 in procSpec)", len(net.Procedural), want)
		}
		if got, want := net.SynapseCount(), uint64(9*90+4*90); got != want {
			t.Errorf("%d stored synapses, want %d (the fixed in-degree rules')", got, want)
		}
		if net.RingSlots != stored.RingSlots || net.Syn.PortBit != stored.Syn.PortBit || net.Syn.DelayBits != stored.Syn.DelayBits {
			t.Errorf("ring slots %d, port bit %#x, delay bits %d; stored: %d, %#x, %d", net.RingSlots, net.Syn.PortBit, net.Syn.DelayBits, stored.RingSlots, stored.Syn.PortBit, stored.Syn.DelayBits)
		}
		for i := range net.Pops {
			if net.Pops[i].Shift != stored.Pops[i].Shift || net.Pops[i].Synapses != stored.Pops[i].Synapses {
				t.Errorf("population %s: shift %d, %d synapses; stored %d, %d", net.Pops[i].Name, net.Pops[i].Shift, net.Pops[i].Synapses, stored.Pops[i].Shift, stored.Pops[i].Synapses)
			}
		}
		gens := make([]*network.RowGen, len(net.Procedural))
		for i := range net.Procedural {
			gens[i] = net.Procedural[i].NewRowGen(net)
		}
		var regenerated int
		for pre := uint32(0); pre < net.N; pre++ {
			got := storedRow(net, pre)
			pi := net.PopOf(pre)
			for i, p := range net.Procedural {
				if p.Pre != pi {
					continue
				}
				tgt, dly, w := gens[i].Row(pre - net.Pops[pi].First)
				cd, cw, constant := gens[i].Constant()
				got = appendKeys(got, tgt, dly, w, constant, cd, cw)
				regenerated += len(tgt)
				// RowIn over a split of the ids into 1 to 4 ranges gives
				// the same synapses.
				row := appendKeys(nil, tgt, dly, w, constant, cd, cw)
				// Whole gives them too, in its own order.
				tw, dw, ww := gens[i].Whole(pre - net.Pops[pi].First)
				whole := appendKeys(nil, tw, dw, ww, constant, cd, cw)
				sortKeys(whole)
				sortKeys(row)
				if !slices.Equal(whole, row) {
					t.Fatalf("projection %d, row %d: Whole gives %d synapses, Row %d (or they differ)", i, pre, len(whole), len(row))
				}
				for parts := uint32(1); parts <= 4; parts++ {
					var in []synKey
					for q := uint32(0); q < parts; q++ {
						lo, hi := net.N*q/parts, net.N*(q+1)/parts
						tg, dl, wt := gens[i].RowIn(pre-net.Pops[pi].First, lo, hi)
						for k := range tg {
							if tg[k] < lo || tg[k] >= hi {
								t.Fatalf("RowIn(%d, %d, %d): target %d outside", pre, lo, hi, tg[k])
							}
						}
						in = appendKeys(in, tg, dl, wt, constant, cd, cw)
					}
					sortKeys(in)
					sortKeys(row)
					if !slices.Equal(in, row) {
						t.Fatalf("projection %d, row %d: RowIn over %d ranges gives %d synapses, Row %d (or they differ)", i, pre, parts, len(in), len(row))
					}
				}
			}
			want := storedRow(stored, pre)
			sortKeys(got)
			sortKeys(want)
			if !slices.Equal(got, want) {
				t.Fatalf("%d threads: row %d: %d synapses regenerated and stored, want the stored build's %d (or they differ)", th, pre, len(got), len(want))
			}
		}
		// The fixed rules' counts, then the Bernoulli rules' (C→B at 0.1,
		// B→B at 0.08 without autapses): as many as pass 1 counted, and
		// within five standard deviations of p·pairs.
		fixed := 120*(12+7+3+5) + 90*40 + 90*100 + 90 + 90*89 + 90*120
		var counted int
		for _, p := range net.Procedural {
			counted += int(p.Synapses)
		}
		mean, sd := 90*90*0.1+90*89*0.08, math.Sqrt(90*90*0.1*0.9+90*89*0.08*0.92)
		if bern := regenerated - fixed; regenerated != counted || math.Abs(float64(bern)-mean) > 5*sd {
			t.Errorf("%d synapses regenerated, %d counted by pass 1; want the fixed rules' %d plus %.0f ± %.0f from the Bernoulli rules", regenerated, counted, fixed, mean, 5*sd)
		}
	}
}

// A procedural projection whose rule cannot be regenerated per
// presynaptic neuron, or with plasticity, is refused with the field named.
func TestProceduralValidation(t *testing.T) {
	base := func() *spec.Builder {
		return spec.New("bad").Population("A", 20, spec.IafPscExp(nil)).Population("B", 20, spec.IafPscExp(nil))
	}
	cases := []struct {
		b    *spec.Builder
		want []string
	}{
		{base().Project("A", "B", spec.FixedIn(3), spec.Weight(spec.Const(1)), spec.Procedural(true)), []string{"procedural", "fixed_in_degree", "fixed_out_degree, pairwise_bernoulli with by_source, one_to_one and all_to_all"}},
		{base().Project("A", "B", spec.Bernoulli(0.1), spec.Weight(spec.Const(1)), spec.Procedural(true)), []string{"procedural", "pairwise_bernoulli.by_source", "must be true"}},
		{base().Project("A", "B", spec.AllToAll(), spec.Weight(spec.NormalDist(1, 0.1)), spec.Procedural(true)), []string{"weight", "constant", "procedural"}},
		{base().Project("A", "B", spec.AllToAll(), spec.Weight(spec.Const(1)), spec.Delay(spec.UniformDist(1, 2)), spec.Procedural(true)), []string{"delay", "constant", "procedural"}},
		{base().Project("A", "B", spec.FixedOut(3), spec.Weight(spec.Const(1)), spec.STP(0.5, 800, 0), spec.Procedural(true)), []string{"procedural", "stp"}},
		{base().Project("A", "B", spec.FixedOut(3), spec.Weight(spec.Const(1)), spec.STDP(nil), spec.Procedural(true)), []string{"procedural", "stdp"}},
	}
	for i, c := range cases {
		_, err := c.b.Build()
		if err == nil {
			t.Errorf("case %d: no error", i)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("case %d: error %q does not say %q", i, err, w)
			}
		}
	}
	// Build refuses on its own too (a spec that skipped validation).
	s, err := base().Project("A", "B", spec.FixedIn(3), spec.Weight(spec.Const(1)), spec.Name("col")).Build()
	if err != nil {
		t.Fatal(err)
	}
	s.Projections[0].Procedural = proto.Bool(true)
	if _, err := network.Build(s, network.Options{}); err == nil || !strings.Contains(err.Error(), `projection "col" (projections[0]): procedural`) {
		t.Errorf("Build of a procedural fixed in-degree rule: %v, want a refusal naming the projection", err)
	}
}
