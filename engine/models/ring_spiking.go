package models

import (
	"fmt"
	"math"

	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

func ringSpiking() *Model {
	return &Model{
		Name:  "ring_spiking",
		Short: "spiking ring attractor for spatial working memory (Compte et al. 2000): a cued bump of E activity persists through the delay",
		Params: []Param{
			{"n", "512", "excitatory neurons on the ring (inhibitory: n/4)"},
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
	ni := max(n/4, 1)
	// E→E: every pair within 3σ on the ring, through both ports.
	ee, ea := &myelinpb.ExplicitList{}, &myelinpb.ExplicitList{}
	reach := int(math.Ceil(3 * sigma / 360 * float64(n)))
	if 2*reach+1 > int(n) {
		reach = (int(n) - 1) / 2
	}
	for post := 0; post < int(n); post++ {
		for k := -reach; k <= reach; k++ {
			if k == 0 {
				continue
			}
			d := 360 * float64(k) / float64(n)
			ee.PreIndex = append(ee.PreIndex, uint32((post+k+int(n))%int(n)))
			ee.PostIndex = append(ee.PostIndex, uint32(post))
			ee.WeightValues = append(ee.WeightValues, (1-frac)*jee*math.Exp(-d*d/(2*sigma*sigma)))
		}
	}
	if frac > 0 {
		ea.PreIndex, ea.PostIndex = ee.PreIndex, ee.PostIndex
		for _, w := range ee.WeightValues {
			ea.WeightValues = append(ea.WeightValues, w/(1-frac)*frac)
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
