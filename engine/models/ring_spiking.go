package models

import (
	"fmt"
	"math"

	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// ringSpikingMaxSynapses bounds the ring_spiking model's explicit E→E
// list (n·2·reach entries, reach = ⌈3σ/360·n⌉ at most (n-1)/2; 24 bytes
// each with both ports, 121 MB at most, built in a quarter of a second):
// n <= 4096 at the default σ = 18° (twice Compte et al.'s 2048), n <= 2245
// at σ = 120°. At the bound a run takes about a GB, and the model's spec
// as protobuf text (myelin spec, about 160 bytes a synapse) stays under
// the 1 GiB that a spec file may hold (spec.MaxFileBytes). Before the
// bound, n = 20000 took 21 s and 8.5 GB to build and n = 100000 ran out of
// memory.
const ringSpikingMaxSynapses = 4096 * 2 * 615

// ringSpikingReach is how many neighbours on each side an E neuron of a
// ring of n excites: those within 3σ, at most (n-1)/2.
func ringSpikingReach(n uint32, sigma float64) int {
	reach := int(math.Ceil(3 * sigma / 360 * float64(n)))
	if 2*reach+1 > int(n) {
		reach = (int(n) - 1) / 2
	}
	return reach
}

// ringSpikingSynapses is the length of the E→E list for n and sigma.
func ringSpikingSynapses(n uint32, sigma float64) uint64 {
	return uint64(n) * 2 * uint64(ringSpikingReach(n, sigma))
}

// ringSpikingMaxN is the largest n whose E→E list at sigma stays within
// ringSpikingMaxSynapses.
func ringSpikingMaxN(sigma float64) uint32 {
	lo, hi := uint32(1), uint32(1<<31) // the list length grows with n
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		if ringSpikingSynapses(mid, sigma) <= ringSpikingMaxSynapses {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

func ringSpiking() *Model {
	return &Model{
		Name:  "ring_spiking",
		Short: "spiking ring attractor for spatial working memory (Compte et al. 2000): a cued bump of E activity persists through the delay",
		Params: []Param{
			{"n", "512", fmt.Sprintf("excitatory neurons on the ring (inhibitory: n/4); at most %d at sigma_deg = 18, as the explicit E→E list (n·2·⌈3σ/360·n⌉ synapses) is limited to %d", ringSpikingMaxN(18), ringSpikingMaxSynapses)},
			{"cue_deg", "90", "cue position (degrees)"},
			{"cue_ms", "250", "cue on during [200, 200 + cue_ms) ms; 0 for no cue"},
			{"cue_width_deg", "18", "the cue drives E neurons within ± this of cue_deg"},
			{"sigma_deg", "18", "width σ of the E→E excitation (degrees)"},
			{"j_ee", "", "peak E→E weight (pA; default 1.0·512/n)"},
			{"j_ei", "12", "E→I weight (pA, for n = 512; scaled by 512/n)"},
			{"j_ie", "30", "I→E weight magnitude (pA, for n/4 = 128 I neurons; scaled by 128/(n/4))"},
			{"tau_nmda", "100", "time constant of E's slow excitatory (NMDA-like) port, which the recurrent E→E synapses reach (ms)"},
			{"ampa_frac", "0.2", "fraction of the E→E weight carried by fast (AMPA-like) synapses; the rest is slow (NMDA-like)"},
			{"tau_ampa", "2", "time constant of E's fast excitatory (AMPA-like) port, which background and cue reach (ms)"},
			{"duration_ms", "3500", "biological time to simulate (ms)"},
			seedParam,
		},
		build: buildRingSpiking,
	}
}

// Spiking ring attractor after Compte, Brunel, Goldman-Rakic & Wang (2000),
// Cereb. Cortex 10:910, simplified: n E and n/4 I iaf_psc_exp neurons. E→E
// synapses depend on ring distance, w = j_ee·exp(-d²/2σ²) for d <= 3σ (an
// explicit list), and reach E's slow excitatory port (SLOW_EXCITATORY,
// tau_nmda: NMDA-like, which is what lets a bump outlast its cue), while
// the background and the cue reach E's fast excitatory port (tau_ampa:
// AMPA-like), as external input does in Compte et al.; E→I and I→E are
// unstructured (fixed in-degree), so feedback inhibition is global. Poisson
// background keeps E just below threshold; a Poisson cue onto the E neurons
// around cue_deg starts a bump that recurrent excitation sustains.
func buildRingSpiking(v Values) (*myelinpb.Network, error) {
	r := reader{v: v}
	n := r.count("n", 16, 0)
	cue, cueMs, cueW := r.float("cue_deg", 0), r.float("cue_ms", 0), r.float("cue_width_deg", 0)
	sigma := r.float("sigma_deg", 0)
	jee := r.float("j_ee", 512/float64(max(n, 1)))
	tauN := r.float("tau_nmda", 0)
	tauA := r.float("tau_ampa", 0)
	frac := r.float("ampa_frac", 0)
	jei, jie := r.float("j_ei", 0), r.float("j_ie", 0)
	r.atLeast("j_ei", jei, 0, "E→I excitation")
	r.atLeast("j_ie", jie, 0, "I→E inhibition magnitude")
	r.atLeast("cue_ms", cueMs, 0, "how long the cue is on; 0 for no cue")
	r.atLeast("cue_width_deg", cueW, 0, "half width of the cued arc")
	r.atLeast("j_ee", jee, 0, "peak excitation; a negative one would make it inhibition")
	if !(sigma > 0 && sigma <= 120) {
		r.fail(fmt.Errorf("parameter sigma_deg = %g: must be in (0, 120]", sigma))
	}
	if !(tauN > 0) {
		r.fail(fmt.Errorf("parameter tau_nmda = %g: must be > 0", tauN))
	}
	if !(frac >= 0 && frac <= 1) {
		r.fail(fmt.Errorf("parameter ampa_frac = %g: must be in [0, 1]", frac))
	}
	if !(tauA > 0) {
		r.fail(fmt.Errorf("parameter tau_ampa = %g: must be > 0", tauA))
	}
	dur, seed := r.common()
	if r.err != nil {
		return nil, r.err
	}
	if m := ringSpikingSynapses(n, sigma); m > ringSpikingMaxSynapses {
		return nil, fmt.Errorf("parameter n = %d: must be <= %d at sigma_deg = %g (the explicit E→E synapse list, n·2·⌈3σ/360·n⌉ = %d synapses, grows as n² and is limited to %d)",
			n, ringSpikingMaxN(sigma), sigma, m, ringSpikingMaxSynapses)
	}
	ni := max(n/4, 1)
	// E→E: every pair within 3σ on the ring, through both ports. The
	// weights depend on the offset only: compute them once per offset.
	reach := ringSpikingReach(n, sigma)
	var wSlow, wFast []float64
	for k := -reach; k <= reach; k++ {
		if k == 0 {
			continue
		}
		d := 360 * float64(k) / float64(n)
		ex := math.Exp(-d * d / (2 * sigma * sigma))
		w := (1 - frac) * jee * ex
		wa := jee * ex // frac = 1: all of the weight is fast
		if frac < 1 {
			wa = w / (1 - frac) * frac
		}
		wSlow, wFast = append(wSlow, w), append(wFast, wa)
	}
	// The lists are allocated at their final length, and the fast list
	// shares the indices of the slow one.
	m := int(n) * len(wSlow)
	ee := &myelinpb.ExplicitList{PreIndex: make([]uint32, 0, m), PostIndex: make([]uint32, 0, m), WeightValues: make([]float64, 0, m)}
	for post := 0; post < int(n); post++ {
		for k := -reach; k <= reach; k++ {
			if k != 0 {
				ee.PreIndex = append(ee.PreIndex, uint32((post+k+int(n))%int(n)))
				ee.PostIndex = append(ee.PostIndex, uint32(post))
			}
		}
		ee.WeightValues = append(ee.WeightValues, wSlow...)
	}
	ea := &myelinpb.ExplicitList{}
	if frac > 0 {
		ea.PreIndex, ea.PostIndex = ee.PreIndex, ee.PostIndex
		ea.WeightValues = make([]float64, 0, m)
		for range n {
			ea.WeightValues = append(ea.WeightValues, wFast...)
		}
	}
	// Background: E at a mean of 320 pA (V ≈ -57 mV, threshold -55)
	// through AMPA, from many sources (20 kHz of small inputs) so that its
	// fluctuations stay small; I near threshold.
	bgE := 320 / (20 * tauA) // pA per spike at 20 kHz
	b := spec.New(fmt.Sprintf("ring_spiking (N_E=%d, cue %g°)", n, cue)).Dt(0.1).Duration(dur).Seed(seed).BlockSteps(100).
		Population("E", n, spec.IafPscExp(&myelinpb.IafPscExp{TauSynEx: f64(tauA), TauSynIn: f64(10), TauSynSlow: f64(tauN)}), spec.Initial(spec.UniformDist(-70, -58))).
		Population("I", ni, spec.IafPscExp(&myelinpb.IafPscExp{TauSynEx: f64(5), TauSynIn: f64(5)}), spec.Initial(spec.UniformDist(-70, -58))).
		Project("E", "E", spec.Explicit(ee), spec.Delay(spec.Const(1)), spec.Via(myelinpb.Receptor_SLOW_EXCITATORY), spec.Name("E->E nmda")).
		Project("E", "I", spec.FixedIn(max(n/4, 1)), spec.Weight(spec.Const(jei*512/float64(n))), spec.Delay(spec.Const(1))).
		Project("I", "E", spec.FixedIn(ni), spec.Weight(spec.Const(-jie*128/float64(ni))), spec.Delay(spec.Const(1)), spec.Via(myelinpb.Receptor_INHIBITORY)).
		Project("I", "I", spec.FixedIn(ni), spec.Weight(spec.Const(-2*128/float64(ni))), spec.Delay(spec.Const(1)), spec.Via(myelinpb.Receptor_INHIBITORY)).
		Poisson("E", 20000, bgE, spec.Name("bg_E")).
		Poisson("I", 2000, 25, spec.Name("bg_I"))
	if frac > 0 {
		b.Project("E", "E", spec.Explicit(ea), spec.Delay(spec.Const(1)), spec.Name("E->E ampa"))
	}
	if cueMs > 0 {
		for i, arc := range spec.RingArc(n, math.Mod(math.Mod(cue, 360)+360, 360), cueW) {
			b.Poisson("E", 1000, 400/(1*tauA), spec.Name(fmt.Sprintf("cue%d", i)), spec.Neurons(arc[0], arc[1]), spec.Window(200, 200+cueMs))
		}
	}
	return b.Build()
}
