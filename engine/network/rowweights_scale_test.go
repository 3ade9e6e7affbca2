package network_test

import (
	"math"
	"testing"

	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/spec"
)

// Rows of a population whose stored weights are all drawn row by row are
// sorted by word before the weights are quantized, mixing the parts of
// its projections: each weight must still take its own target's scale.
// Here the projection onto C comes first in the spec but its targets
// after B's, and B's scale is 2^10 finer than C's: every synapse's weight,
// read back in its target's scale, must lie in its projection's range.
func TestRowWeightsQuantizedInTheirTargetsScale(t *testing.T) {
	s, err := spec.New("mixed").Seed(3).
		Population("A", 150, spec.IafPscExp(nil)).
		Population("B", 120, spec.IafPscExp(nil)).
		Population("C", 130, spec.IafPscExp(nil)).
		Project("A", "C", spec.FixedIn(40), spec.Weight(spec.ClippedNormalDist(10, 1, 8, 12))).
		Project("A", "B", spec.FixedIn(30), spec.Weight(spec.ClippedNormalDist(0.01, 0.001, 0.008, 0.012))).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	for _, th := range []int{1, 2} {
		net, err := network.Build(s, network.Options{Threads: th})
		if err != nil {
			t.Fatal(err)
		}
		if d := net.Pops[1].Shift - net.Pops[2].Shift; d < 8 {
			t.Fatalf("shifts B %d, C %d: want B's finer by 8 bits or more", net.Pops[1].Shift, net.Pops[2].Shift)
		}
		syn := &net.Syn
		a := &net.Pops[0]
		checked := 0
		for k := syn.RowPtr[a.First]; k < syn.RowPtr[a.First+a.Size]; k++ {
			tp := net.PopOf(syn.Packed[k] >> syn.DelayBits)
			w := math.Ldexp(float64(syn.Weight[syn.WeightBase[0]+k-syn.RowPtr[a.First]]), -int(net.Pops[tp].Shift))
			lo, hi := 8.0, 12.0
			if tp == 1 {
				lo, hi = 0.008, 0.012
			}
			if !(w >= lo*0.999 && w <= hi*1.001) {
				t.Fatalf("threads %d: synapse %d onto %s: weight %g, want it in [%g, %g]", th, k, net.Pops[tp].Name, w, lo, hi)
			}
			checked++
		}
		if checked != 40*130+30*120 {
			t.Fatalf("checked %d synapses, want %d", checked, 40*130+30*120)
		}
	}
}
