package parity

import (
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// STP is a network with short-term plasticity on every weight layout:
// facilitating E→E with a constant (compact) weight, depressing E→I with
// distributed (stored) weights and delays, a second, strongly depressing
// set from E onto D (two sets on one presynaptic population), and static
// projections beside them (I→E, I→I, D→E), so that delivery has to tell
// plastic from static synapses inside one row.
func STP() (*myelinpb.Network, error) {
	return spec.New("parity-stp").Seed(11).Duration(300).
		Population("E", 400, spec.IafPscExp(nil), spec.Initial(spec.UniformDist(-70, -55))).
		Population("I", 100, spec.IafPscExp(nil), spec.Initial(spec.UniformDist(-70, -55))).
		Population("D", 60, spec.IafPscDelta(nil), spec.Initial(spec.UniformDist(-70, -55))).
		Project("E", "E", spec.FixedIn(30), spec.Weight(spec.Const(25)), spec.Delay(spec.Const(1.5)), spec.STP(0.2, 200, 1500)).
		Project("E", "I", spec.Bernoulli(0.1), spec.Weight(spec.UniformDist(20, 60)), spec.Delay(spec.UniformDist(0.5, 2)), spec.STP(0.5, 100, 0)).
		Project("E", "D", spec.FixedIn(20), spec.Weight(spec.Const(1.5)), spec.STP(0.8, 50, 0)).
		Project("I", "E", spec.FixedIn(10), spec.Weight(spec.Const(-60)), spec.Via(myelinpb.Receptor_INHIBITORY)).
		Project("I", "I", spec.FixedIn(10), spec.Weight(spec.NormalDist(-50, 10))).
		Project("D", "E", spec.FixedIn(5), spec.Weight(spec.Const(-30))).
		Poisson("E", 9000, 30).
		Poisson("I", 6000, 30).
		Poisson("D", 2000, 1.2).
		Probe("E", 0, 6, 2).Probe("D", 10, 4, 1).
		Build()
}
