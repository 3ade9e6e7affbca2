package parity

import (
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// Drive is a network with time-varying Poisson drive: a piecewise rate
// whose edges fall inside 4-step Philox blocks, a theta-modulated rate
// quantised every 0.2 ms (two steps, so two segments share a block) on
// part of a population that a constant Poisson input also drives, and a
// fast sinusoid on an iaf_psc_delta population, all coupled recurrently.
func Drive() (*myelinpb.Network, error) {
	return spec.New("parity-drive").Seed(5).Duration(200).
		Population("E", 400, spec.IafPscExp(nil), spec.Initial(spec.UniformDist(-70, -55))).
		Population("D", 200, spec.IafPscDelta(nil), spec.Initial(spec.UniformDist(-70, -55))).
		Project("E", "E", spec.FixedIn(20), spec.Weight(spec.Const(20)), spec.Delay(spec.Const(1.5))).
		Project("E", "D", spec.FixedIn(10), spec.Weight(spec.Const(0.5))).
		Project("D", "E", spec.FixedIn(10), spec.Weight(spec.Const(-40)), spec.Via(myelinpb.Receptor_INHIBITORY)).
		Poisson("E", 0, 30, spec.Piecewise([]float64{10.1, 50.3, 90.7, 150.2}, []float64{6000, 12000, 0, 9000})).
		Poisson("E", 0, 30, spec.Sinusoidal(8000, 0.9, 8, 45, 0.2), spec.Neurons(100, 200), spec.Window(20.3, 180.1)).
		Poisson("E", 3000, 30, spec.Neurons(150, 0)).
		Poisson("D", 0, 1.1, spec.Sinusoidal(15000, 1, 40, 0, 0)).
		Build()
}
