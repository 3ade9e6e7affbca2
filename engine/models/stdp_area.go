package models

import (
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// Constants of the networks that learn their patterns by STDP (the
// consolidation model's CTX, the hopfield model with learning=stdp).
const (
	stdpAlpha   = 0.5    // depression/potentiation ratio of the additive rule
	relayMV     = 30.0   // a relay neuron's input per spike: over threshold at once
	downMs      = 40.0   // a down state precedes each pulse or presentation this long
	downHz      = 2000.0 // rate of a down state's inhibitory Poisson drive
	downPA      = -1000.0
	resetMs     = 50.0 // a recall test starts with this much strong inhibition
	silencePA   = -1000.0
	presentHz   = hopfieldCueHz
	presentStep = 250.0 // a presentation every 250 ms ...
	presentMs   = 200.0 // ... lasting 200 ms
)

// stdpArea adds population pop's learning recurrent excitation to b:
// all-to-all E→E synapses (no autapses, 1 ms) named proj that start at
// w0·wmax and learn by additive STDP (λ = lambda, α = 0.5, τ± =
// 20 ms, weights in [0, wmax]), and its global inhibition, which cancels
// the fraction inh of a learnt pattern's excitation onto its own neurons
// (g·τ_in = inh·wmax·τ_ex, as in the hopfield model). The inhibition is
// relayed by population relay, n iaf_psc_delta neurons each of which fires
// one spike for each spike of its partner in pop (30 mV, one step later),
// because a plastic projection and a static one cannot share a pair of
// populations; relay → pop takes the remaining 0.9 ms.
func stdpArea(b *spec.Builder, pop, relay, proj string, n uint32, w0, wmax, lambda, inh float64) {
	g := inh * wmax * hopfieldTauEx / hopfieldTauIn
	b.Population(relay, n, spec.IafPscDelta(nil)).
		Project(pop, pop, spec.AllToAll(), spec.Autapses(false), spec.Weight(spec.Const(w0*wmax)), spec.Delay(spec.Const(1)), spec.Name(proj),
			spec.STDP(func(s *myelinpb.STDP) {
				s.Lambda, s.Alpha, s.MuPlus, s.MuMinus, s.WMax = proto.Float64(lambda), proto.Float64(stdpAlpha), proto.Float64(0), proto.Float64(0), proto.Float64(wmax)
			})).
		Project(pop, relay, spec.OneToOne(), spec.Weight(spec.Const(relayMV)), spec.Delay(spec.Const(0.1)), spec.Name(pop+"_relay")).
		Project(relay, pop, spec.AllToAll(), spec.Weight(spec.Const(-g)), spec.Delay(spec.Const(0.9)),
			spec.Via(myelinpb.Receptor_INHIBITORY), spec.Name(pop+"_inhibition"))
}

// downStates adds to b an inhibitory Poisson input onto pop, named name,
// that holds it down (−1 nA on average) for downMs before each onset:
// as slow-oscillation down states precede sharp-wave ripples in sleep, it
// ends the previous pattern's activity so that STDP does not pair one
// pattern's neurons with the next one's.
func downStates(b *spec.Builder, pop, name string, onsets []float64, until float64) {
	if len(onsets) == 0 {
		return
	}
	var times, rates []float64
	for _, t0 := range onsets {
		times, rates = append(times, max(0, t0-downMs), t0), append(rates, downHz, 0)
	}
	b.Poisson(pop, 0, downPA/(downHz*hopfieldTauIn/1000), spec.Piecewise(times, rates), spec.Window(0, until),
		spec.Via(myelinpb.Receptor_INHIBITORY), spec.Name(name))
}
