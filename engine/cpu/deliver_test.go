package cpu_test

import (
	"slices"
	"testing"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/cpu"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// compactMix has populations of every weight layout: A is compact onto
// three populations (different weights, one of them through two
// projections with one weight), B stores its weights (distributed), C
// stores them because two projections onto one population disagree, and D
// projects nowhere.
func compactMix() *spec.Builder {
	return spec.New("compact").Seed(11).Duration(200).
		Population("A", 300, spec.IafPscExp(nil), spec.Initial(spec.UniformDist(-70, -54))).
		Population("B", 200, spec.IafPscExp(nil), spec.Initial(spec.UniformDist(-70, -54))).
		Population("C", 150, spec.IafPscDelta(nil), spec.Initial(spec.UniformDist(-70, -54))).
		Population("D", 150, spec.IafPscDelta(nil)).
		Project("A", "A", spec.FixedIn(30), spec.Weight(spec.Const(30)), spec.Delay(spec.UniformDist(0.1, 2))).
		Project("A", "B", spec.Bernoulli(0.1), spec.Weight(spec.Const(25))).
		Project("A", "B", spec.FixedOut(5), spec.Weight(spec.Const(25)), spec.Delay(spec.Const(0.7))).
		Project("A", "C", spec.FixedIn(10), spec.Weight(spec.Const(-2)), spec.Via(myelinpb.Receptor_INHIBITORY)).
		Project("B", "A", spec.FixedIn(20), spec.Weight(spec.NormalDist(-60, 10)), spec.Delay(spec.Const(0.3))).
		Project("C", "A", spec.FixedIn(5), spec.Weight(spec.Const(40))).
		Project("C", "A", spec.FixedIn(5), spec.Weight(spec.Const(-40))).
		Project("C", "D", spec.OneToOne(), spec.Weight(spec.Const(3))).
		Poisson("A", 9000, 20).Poisson("B", 8000, 20).Poisson("C", 6000, 1.2)
}

// Compact rows deliver exactly what stored weights deliver, for any thread
// count; only the compact population drops its per-synapse weights.
func TestCompactWeightsDeliverAsStored(t *testing.T) {
	s, err := compactMix().Build()
	if err != nil {
		t.Fatal(err)
	}
	var ref []uint32
	for _, store := range []bool{true, false} {
		for _, th := range []int{1, 2, 3} {
			net, err := network.Build(s, network.Options{Threads: th, StoreWeights: store})
			if err != nil {
				t.Fatal(err)
			}
			if !store {
				if net.Syn.WeightBase[0] != network.Compact || net.Syn.WeightBase[1] == network.Compact || net.Syn.WeightBase[2] == network.Compact {
					t.Fatalf("weight bases %v: want A compact, B and C stored", net.Syn.WeightBase)
				}
				a := net.Syn.RowPtr[300] // A's synapses come first
				if got, want := uint64(len(net.Syn.Weight)), net.SynapseCount()-a; got != want {
					t.Errorf("%d weights stored, want %d (all but A's)", got, want)
				}
				for k := uint64(0); k < a; k++ {
					pre := uint32(0)
					for net.Syn.RowPtr[pre+1] <= k {
						pre++
					}
					post := net.Syn.Packed[k] >> net.Syn.DelayBits
					w := float64(net.SynapseWeight(pre, k)) / float64(int64(1)<<net.Pops[net.PopOf(post)].Shift)
					want := map[int]float64{0: 30, 1: 25, 2: -2}[net.PopOf(post)]
					if diff := w - want; diff > 1e-6 || diff < -1e-6 {
						t.Fatalf("synapse %d (%d -> %d): weight %g, want %g", k, pre, post, w, want)
					}
				}
			}
			be := cpu.New(th)
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
			if len(ids) < 2000 {
				t.Fatalf("only %d spikes: the test needs activity", len(ids))
			}
			if ref == nil {
				ref = ids
			} else if !slices.Equal(ids, ref) {
				t.Errorf("store weights %v, %d threads: spikes differ from the stored 1-thread run", store, th)
			}
		}
	}
}
