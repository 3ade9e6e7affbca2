package parity

import (
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// STDP is a Brunel-like network with spike-timing-dependent plasticity:
// E→E multiplicative with distributed weights and delays, I→E additive on
// negative (inhibitory) weights, E→I with both STDP and short-term
// plasticity, static projections beside them (I→I, E→D, D→E), and three
// phases that change the learning rate (1, then 0.5, then 0), so that
// delivery tells plastic from static synapses inside one row, and the
// backends change the rate between chunks. The stream ends with the
// weights records, which must be byte-identical too.
func STDP() (*myelinpb.Network, error) {
	f := proto.Float64
	s, err := spec.New("parity-stdp").Seed(17).Duration(300).BlockSteps(50).
		Population("E", 800, spec.IafPscDelta(&myelinpb.IafPscDelta{EL: f(0), VTh: f(20), VReset: f(10), TRef: f(2), TauM: f(20)}), spec.Initial(spec.UniformDist(0, 20))).
		Population("I", 200, spec.IafPscExp(nil), spec.Initial(spec.UniformDist(-70, -55))).
		Population("D", 100, spec.IafPscDelta(&myelinpb.IafPscDelta{EL: f(0), VTh: f(20), VReset: f(10), TRef: f(0.1), TauM: f(20)})).
		Project("E", "E", spec.FixedIn(80), spec.Weight(spec.UniformDist(0.05, 0.25)), spec.Delay(spec.UniformDist(0.1, 3)), spec.STDP(func(s *myelinpb.STDP) {
			s.WMax, s.Lambda, s.Alpha, s.TauPlusMs, s.TauMinusMs = f(0.5), f(0.03), f(1.1), f(15), f(25)
		})).
		Project("I", "E", spec.FixedIn(20), spec.Weight(spec.Const(-0.4)), spec.Delay(spec.Const(1)), spec.STDP(func(s *myelinpb.STDP) {
			s.WMax, s.Lambda, s.MuPlus, s.MuMinus = f(-1), f(0.02), f(0), f(0)
		})).
		Project("E", "I", spec.FixedIn(80), spec.Weight(spec.ClippedNormalDist(30, 10, 0, 80)), spec.Delay(spec.Const(0.5)),
			spec.STP(0.3, 100, 200), spec.STDP(func(s *myelinpb.STDP) { s.WMax, s.Lambda, s.MuPlus = f(80), f(0.01), f(0) })).
		Project("I", "I", spec.FixedIn(20), spec.Weight(spec.Const(-40)), spec.Delay(spec.Const(0.5))).
		Project("E", "D", spec.FixedIn(30), spec.Weight(spec.Const(0.3))).
		Project("D", "E", spec.FixedIn(5), spec.Weight(spec.Const(0.2))).
		Poisson("E", 20000, 0.1).Poisson("I", 6000, 30).Poisson("D", 9000, 0.1).
		Probe("E", 0, 5, 3).Probe("I", 0, 3, 2).
		Build()
	if err != nil {
		return nil, err
	}
	s.Phases = []*myelinpb.Phase{
		{Name: "learn", StartMs: 0, StopMs: 120, LearningRate: f(1)},
		{Name: "slow", StartMs: 120.05, StopMs: 210, LearningRate: f(0.5)},
		{Name: "recall", StartMs: 210, StopMs: 300, LearningRate: f(0)},
	}
	return s, nil
}
