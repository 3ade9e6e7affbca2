package parity

import (
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// Compact is a network with every synapse-weight layout of
// engine/network in one run: A is compact (no per-synapse weights) onto
// three populations with different weights, one of them through two
// projections with one weight; B stores its weights (distributed); C stores
// them because its two projections onto A disagree; D projects nowhere.
func Compact() (*myelinpb.Network, error) {
	return spec.New("parity-compact").Seed(11).Duration(200).
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
		Poisson("A", 9000, 20).Poisson("B", 8000, 20).Poisson("C", 6000, 1.2).
		Build()
}
