package parity

import (
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// Procedural is a network with a procedural projection (regenerated at
// each spike, none stored) of every rule and generation path that the
// kernels have: fixed out-degree by Floyd's sampler and with multapses,
// with constant weights and delays and with drawn ones (uniform, normal,
// clipped normal, lognormal; delays tabulated, in ms beyond the step
// table's range, and by the ziggurat with redraws where a clipped normal
// leaves too little mass for a table), onto the
// excitatory, inhibitory and slow ports, with and without autapses;
// one-to-one with drawn weights (deferred by the stored mode) and delays
// (uniform, lognormal); pairwise Bernoulli by source (constant onto the
// slow port, drawn without autapses, and p = 1);
// all-to-all. Stored projections, with short-term plasticity and STDP,
// start from the same populations.
func Procedural() (*myelinpb.Network, error) {
	on := spec.Procedural(true)
	return spec.New("parity-procedural").Seed(21).Duration(150).
		Population("A", 300, spec.IafPscExp(nil), spec.Initial(spec.UniformDist(-70, -54))).
		Population("B", 200, spec.IafPscExp(nil), spec.Initial(spec.UniformDist(-70, -54))).
		Population("C", 40, spec.IafPscDelta(nil), spec.Initial(spec.UniformDist(-70, -54))).
		Population("D", 200, spec.IafPscDelta(nil), spec.Initial(spec.UniformDist(-70, -54))).
		Population("E", 100, spec.IafPscExp(nil), spec.Initial(spec.UniformDist(-70, -54))).
		Project("E", "A", spec.FixedOut(20), spec.Weight(spec.Const(25)), spec.Delay(spec.UniformDist(0.1, 2)), spec.Name("out-const"), on).
		Project("E", "B", spec.FixedOut(5), spec.Weight(spec.Const(30)), spec.Via(myelinpb.Receptor_SLOW_EXCITATORY), spec.Name("out-slow"), on).
		Project("A", "A", spec.FixedOut(30), spec.Weight(spec.UniformDist(5, 35)), spec.Delay(spec.UniformDist(0.2, 2.5)), spec.Autapses(false), spec.Multapses(false), spec.Name("out-drawn"), on).
		Project("A", "B", spec.FixedOut(10), spec.Weight(spec.UniformDist(1, 5)), spec.Via(myelinpb.Receptor_INHIBITORY), spec.Name("out-inh"), on).
		Project("A", "D", spec.FixedOut(15), spec.Weight(spec.Const(0.3)), spec.Delay(spec.Const(1)), spec.Multapses(false), spec.Name("out-set"), on).
		Project("D", "D", spec.FixedOut(10), spec.Weight(spec.Const(0.2)), spec.Autapses(false), spec.Multapses(false), spec.Name("out-set-self"), on).
		Project("D", "B", spec.FixedOut(8), spec.Weight(spec.Const(0.5)), spec.Name("out-multi"), on).
		Project("E", "D", spec.FixedOut(4), spec.Weight(spec.UniformDist(0.1, 0.4)), spec.Delay(spec.UniformDist(0.5, 420)), spec.Name("out-long"), on).
		Project("B", "B", spec.FixedOut(10), spec.Weight(spec.ClippedNormalDist(15, 6, 0, 30)), spec.Delay(spec.NormalDist(2, 0.5)), spec.Multapses(false), spec.Name("out-normal"), on).
		Project("E", "A", spec.FixedOut(6), spec.Weight(spec.NormalDist(10, 3)), spec.Delay(spec.ClippedNormalDist(1, 0.5, 1.8, 5)), spec.Name("out-normal-redraw"), on).
		Project("A", "B", spec.FixedOut(8), spec.Weight(spec.LognormalDist(1, 0.5, false)), spec.Via(myelinpb.Receptor_INHIBITORY), spec.Name("out-lognormal"), on).
		Project("D", "B", spec.OneToOne(), spec.Weight(spec.NormalDist(3, 1.5)), spec.Delay(spec.LognormalDist(0, 0.3, false)), spec.Name("one-normal"), on).
		Project("B", "D", spec.OneToOne(), spec.Weight(spec.UniformDist(0, 8)), spec.Delay(spec.UniformDist(0.1, 1.5)), spec.Name("one-drawn"), on).
		Project("D", "D", spec.OneToOne(), spec.Weight(spec.Const(-1)), spec.Autapses(false), spec.Name("one-none"), on).
		Project("E", "B", spec.BernoulliBySource(0.05), spec.Weight(spec.Const(6)), spec.Via(myelinpb.Receptor_SLOW_EXCITATORY), spec.Name("bern-const"), on).
		Project("D", "D", spec.BernoulliBySource(0.04), spec.Weight(spec.UniformDist(0.05, 0.3)), spec.Delay(spec.NormalDist(1.5, 0.5)), spec.Autapses(false), spec.Name("bern-drawn"), on).
		Project("B", "A", spec.BernoulliBySource(1), spec.Weight(spec.Const(-0.2)), spec.Delay(spec.Const(0.6)), spec.Name("bern-all"), on).
		Project("C", "A", spec.AllToAll(), spec.Weight(spec.Const(-3)), spec.Delay(spec.Const(1.2)), spec.Name("all-inh"), on).
		Project("C", "C", spec.AllToAll(), spec.Weight(spec.Const(0.5)), spec.Autapses(false), spec.Name("all-self"), on).
		Project("B", "A", spec.FixedIn(20), spec.Weight(spec.NormalDist(-40, 10)), spec.Delay(spec.Const(0.3)), spec.Name("in-stored")).
		Project("A", "C", spec.FixedIn(25), spec.Weight(spec.UniformDist(0.5, 1.5)), spec.Name("in-c")).
		Project("B", "C", spec.FixedIn(10), spec.Weight(spec.Const(0.5)), spec.STP(0.5, 200, 0), spec.Name("stp")).
		Project("E", "E", spec.FixedIn(5), spec.Weight(spec.Const(20)), spec.STDP(nil), spec.Name("stdp")).
		Poisson("A", 10000, 26).Poisson("B", 10000, 22).Poisson("C", 7000, 0.25).Poisson("D", 7000, 0.22).Poisson("E", 10000, 22).
		Build()
}

// ProceduralFused is a network of procedural projections with drawn
// weights and delays (Floyd's sampler, multapses, Bernoulli by source,
// one-to-one), every delay at least 0.2 ms (two steps) and no plasticity,
// so that the kernels run fused: each procedural row is generated after
// the next step's fused update and must reach slots two steps ahead.
func ProceduralFused() (*myelinpb.Network, error) {
	on := spec.Procedural(true)
	return spec.New("parity-procedural-fused").Seed(33).Duration(150).
		Population("A", 300, spec.IafPscExp(nil), spec.Initial(spec.UniformDist(-70, -54))).
		Population("B", 200, spec.IafPscExp(nil), spec.Initial(spec.UniformDist(-70, -54))).
		Population("D", 200, spec.IafPscDelta(nil), spec.Initial(spec.UniformDist(-70, -54))).
		Project("A", "A", spec.FixedOut(30), spec.Weight(spec.UniformDist(5, 35)), spec.Delay(spec.UniformDist(0.2, 2.5)), spec.Autapses(false), spec.Multapses(false), spec.Name("out-drawn"), on).
		Project("A", "B", spec.FixedOut(12), spec.Weight(spec.NormalDist(12, 4)), spec.Delay(spec.ClippedNormalDist(1.5, 0.6, 0.2, 4)), spec.Name("out-multi"), on).
		Project("B", "A", spec.BernoulliBySource(0.08), spec.Weight(spec.LognormalDist(1, 0.5, false)), spec.Delay(spec.UniformDist(0.2, 1.5)), spec.Via(myelinpb.Receptor_INHIBITORY), spec.Name("bern-inh"), on).
		Project("B", "D", spec.OneToOne(), spec.Weight(spec.UniformDist(0, 8)), spec.Delay(spec.UniformDist(0.2, 1.5)), spec.Name("one-drawn"), on).
		Project("D", "B", spec.BernoulliBySource(0.05), spec.Weight(spec.UniformDist(0.5, 6)), spec.Delay(spec.Const(0.4)), spec.Via(myelinpb.Receptor_SLOW_EXCITATORY), spec.Name("bern-slow"), on).
		Poisson("A", 10000, 26).Poisson("B", 10000, 22).Poisson("D", 7000, 0.22).
		Build()
}
