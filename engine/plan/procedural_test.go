package plan_test

import (
	"math"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/plan"
	"github.com/myelin-sim/myelin/engine/spec"
)

// Procedural projections count in the plan's synapses at 0 B each: the
// synapses part holds only the stored ones, as the build allocates.
func TestPlanProceduralZeroBytes(t *testing.T) {
	build := func(proc bool) (*plan.Plan, *network.Network) {
		s, err := spec.New("proc").Population("E", 800, spec.IafPscDelta(nil)).Population("I", 200, spec.IafPscDelta(nil)).
			Project("E", "E", spec.FixedOut(80), spec.Weight(spec.Const(0.1)), spec.Delay(spec.Const(1.5)), spec.Procedural(proc)).
			Project("E", "I", spec.FixedOut(20), spec.Weight(spec.UniformDist(0.05, 0.15)), spec.Procedural(proc)).
			Project("I", "E", spec.FixedIn(20), spec.Weight(spec.Const(-0.5))).
			Build()
		if err != nil {
			t.Fatal(err)
		}
		net, err := network.Build(s, network.Options{Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		return plan.Estimate(s, 2), net
	}
	ps, stored := build(false)
	pp, net := build(true)
	if pp.Synapses != 20*800 || pp.Procedural != 800*100 || ps.Synapses != 800*100+20*800 || ps.Procedural != 0 {
		t.Errorf("procedural plan: %d stored, %d procedural; stored plan: %d, %d", pp.Synapses, pp.Procedural, ps.Synapses, ps.Procedural)
	}
	if got := net.SynapseCount(); got != pp.Synapses {
		t.Errorf("the build stored %d synapses, the plan says %d", got, pp.Synapses)
	}
	// The stored plan keeps 8 B per synapse of E (distributed weights onto
	// I); the procedural one stores only I's compact rows: 4 B each.
	for _, c := range []struct {
		p   *plan.Plan
		net *network.Network
	}{{ps, stored}, {pp, net}} {
		if want := float64(c.net.SynapseBytes()); math.Abs(float64(c.p.Parts[0].CPU)-want) > 0.1*want {
			t.Errorf("plan says %d B of synapses, the build holds %.0f B", c.p.Parts[0].CPU, want)
		}
	}
	// Stored: E's 96,000 synapses at 8 B, I's 16,000 at 4 B, row pointers;
	// procedural: I's 16,000 and the row pointers only.
	if pp.Parts[0].CPU >= ps.Parts[0].CPU/4 {
		t.Errorf("synapses: %d B procedural against %d B stored: want less than a quarter", pp.Parts[0].CPU, ps.Parts[0].CPU)
	}
	var sb strings.Builder
	if err := pp.Write(&sb); err != nil || !strings.Contains(sb.String(), "80000 procedural: 0 B per synapse") {
		t.Errorf("plan table %q, %v: want the procedural synapses at 0 B", sb.String(), err)
	}
}
