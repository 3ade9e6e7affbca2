package parity

import (
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// Receptors is a network with every synaptic port in use: iaf_psc_exp (E)
// and iaf_cond_exp (C) populations receive fast excitatory (AMPA-like),
// inhibitory (GABA_A-like) and slow excitatory (SLOW_EXCITATORY,
// NMDA-like) input, through compact weights (E→E), stored distributed
// weights with short-term plasticity (E→C, slow and fast through one
// set), Poisson inputs onto the slow port (part of E, a window of C) and
// onto the fast channels; an iaf_psc_delta population (I), which has no
// slow port, runs beside them. Its shortest delay is one step, so the
// kernels deliver and update in separate launches; ReceptorsFused is the
// same network with every delay at least two steps.
func Receptors() (*myelinpb.Network, error) { return receptors(0.1) }

// ReceptorsFused is Receptors with every delay at least 0.2 ms (two
// steps), so that the CUDA backend fuses each step's update with the
// previous step's delivery (kernels/update.cu, myelin_step).
func ReceptorsFused() (*myelinpb.Network, error) { return receptors(0.2) }

func receptors(minDelay float64) (*myelinpb.Network, error) {
	f := proto.Float64
	slow := spec.Via(myelinpb.Receptor_SLOW_EXCITATORY)
	return spec.New("parity-receptors").Seed(17).Duration(250).
		Population("E", 400, spec.IafPscExp(&myelinpb.IafPscExp{TauSynSlow: f(50)}), spec.Initial(spec.UniformDist(-70, -55))).
		Population("I", 100, spec.IafPscDelta(nil), spec.Initial(spec.UniformDist(-70, -55))).
		Population("C", 300, spec.IafCondExp(&myelinpb.IafCondExp{TauSynSlow: f(80), ESlow: f(-5)}), spec.Initial(spec.UniformDist(-70, -55))).
		Project("E", "E", spec.FixedIn(20), spec.Weight(spec.Const(20)), spec.Delay(spec.UniformDist(minDelay, 2))).
		Project("E", "E", spec.FixedIn(10), spec.Weight(spec.Const(1)), spec.Delay(spec.Const(minDelay)), slow).
		Project("E", "I", spec.FixedIn(20), spec.Weight(spec.Const(0.5)), spec.Delay(spec.Const(1))).
		Project("E", "C", spec.Bernoulli(0.05), spec.Weight(spec.UniformDist(0.05, 0.2)), spec.Delay(spec.UniformDist(minDelay, 3)), spec.STP(0.3, 100, 300), slow).
		Project("E", "C", spec.FixedIn(10), spec.Weight(spec.Const(1)), spec.Delay(spec.Const(0.5)), spec.STP(0.3, 100, 300)).
		Project("I", "E", spec.FixedIn(10), spec.Weight(spec.Const(-60)), spec.Delay(spec.Const(minDelay)), spec.Via(myelinpb.Receptor_INHIBITORY)).
		Project("I", "C", spec.FixedIn(10), spec.Weight(spec.NormalDist(-3, 1)), spec.Delay(spec.Const(minDelay))).
		Project("C", "E", spec.FixedIn(5), spec.Weight(spec.Const(2)), spec.Delay(spec.Const(1)), slow).
		Poisson("E", 9000, 18).
		Poisson("E", 2000, 3, spec.Neurons(0, 200), slow).
		Poisson("I", 2000, 1.2).
		Poisson("C", 6000, 1).
		Poisson("C", 1000, 0.2, spec.Window(50, 150), slow).
		Probe("E", 0, 6, 2).Probe("C", 10, 6, 1).
		Build()
}
