package models

import (
	"fmt"
	"math"

	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

func stpWM() *Model {
	return &Model{
		Name:  "stp_wm",
		Short: "synaptic working memory (Mongillo, Barak & Tsodyks 2008): a cued cluster's facilitating synapses hold the item through a silent delay; a non-specific readout pulse reactivates that cluster only",
		Params: []Param{
			{"n", "10000", "number of neurons (80 % E, 20 % I); the paper's network is 10,000"},
			{"clusters", "5", "selective E clusters p, each 10 % of E; the rest of E is non-selective (p <= 9)"},
			{"c", "0.2", "connection probability (fixed in-degree c·N_pre from each population), in (0, 1]"},
			{"cue_cluster", "1", "the cluster the cue drives (1 … clusters)"},
			{"cue_start_ms", "300", "the cue starts here (ms)"},
			{"cue_ms", "350", "cue duration (ms); 0 for no cue (a control)"},
			{"cue_gain", "1.2", "external drive of the cued cluster during the cue, relative to background (>= 1)"},
			{"delay_ms", "1000", "silent delay from the end of the cue to the readout (ms)"},
			{"readout_ms", "50", "readout duration (ms); 0 for no readout"},
			{"readout_gain", "1.2", "external drive of all E neurons during the readout, relative to background (>= 1)"},
			{"ext_e", "23.1", "mean external input of E (mV: the paper's μ_ext, threshold 20 mV above rest)"},
			{"ext_i", "21", "mean external input of I (mV)"},
			{"j_p", "0.45", "potentiated E→E efficacy within a cluster (mV, at n = 10,000 and c = 0.2)"},
			{"j_b", "0.1", "baseline E→E efficacy elsewhere (mV, at n = 10,000 and c = 0.2)"},
			{"tau_f", "1500", "facilitation time constant of the E→E synapses (ms; 0: no facilitation, a control)"},
			{"tau_d", "200", "depression (recovery) time constant of the E→E synapses (ms)"},
			{"u", "0.2", "utilisation increment U of the E→E synapses, in (0, 1]"},
			{"duration_ms", "", "biological time to simulate (ms; default: until 300 ms after the readout starts)"},
			seedParam,
		},
		build: buildStpWM,
	}
}

// Constants of stp_wm after Mongillo, Barak & Tsodyks (2008), supporting
// online material, that are not parameters.
const (
	stpwmF                = 0.1  // fraction of E in each selective cluster
	stpwmRefK             = 2000 // c·N at the paper's size: weights scale by stpwmRefK/(c·n)
	stpwmJIE, stpwmJEI    = 0.135, 0.25
	stpwmJII              = 0.20
	stpwmTauE, stpwmTauI  = 15.0, 10.0 // membrane time constants (ms)
	stpwmResetE           = 16.0       // mV above rest
	stpwmResetI           = 13.0
	stpwmTheta            = 20.0 // threshold, mV above rest
	stpwmSigmaExt         = 1.0  // s.d. of the external input (mV)
	stpwmMaxClusters      = 9    // p·f must leave some non-selective E
	stpwmDefaultTailMs    = 300.0
	stpwmMinDelayMs       = 0.1 // delays uniform in [0.1, 1] ms
	stpwmMaxDelayMs       = 1.0
	stpwmNonSelectiveName = "Ens"
)

// StpWMCluster returns the name of selective cluster k (1-based) of the
// stp_wm model.
func StpWMCluster(k int) string { return fmt.Sprintf("S%d", k) }

// Synaptic working memory after Mongillo, Barak & Tsodyks (2008), Science
// 319:1543 (parameters from its supporting online material): n·4/5 E and
// n/5 I iaf_psc_delta neurons (rest 0, threshold 20 mV, reset 16 mV for E
// and 13 mV for I, τ_m 15 and 10 ms, 2 ms refractory). E holds `clusters`
// selective clusters S1…Sp of 10 % of E each and a non-selective rest Ens;
// each is its own population, so that the potentiated synapses within a
// cluster (j_p) and the baseline ones elsewhere (j_b) are separate
// projections. Every E→E synapse facilitates and depresses
// (Tsodyks–Markram, U = 0.2, τ_F = 1.5 s, τ_D = 0.2 s); E→I, I→E and I→I
// (0.135, 0.25, 0.20 mV) are static. Connectivity is random with
// probability c, as a fixed in-degree c·N_pre from every population;
// delays are uniform in [0.1, 1] ms. The weights scale by 2000/(c·n), so
// that the mean input stays the paper's at other sizes. The paper's
// Gaussian external current (mean ext_e / ext_i, s.d. 1 mV) is a Poisson
// train per neuron with the same mean and variance.
//
// A cue raises the external drive of one cluster by cue_gain for cue_ms:
// the cluster fires at a high rate and its synapses facilitate (u rises
// toward 1). After the cue the network falls silent, but u decays only
// with τ_F; a non-specific readout (all of E's drive raised by
// readout_gain for readout_ms, delay_ms after the cue) makes the cued
// cluster, whose recurrent synapses are still facilitated, fire a
// population burst, while the other clusters barely respond. Simplified
// from the paper: every synapse from a selective cluster to the
// non-selective population is baseline (the paper potentiates a fraction
// γ = 0.1 of them).
func buildStpWM(v Values) (*myelinpb.Network, error) {
	r := reader{v: v}
	n := r.count("n", 50, 0)
	p := r.count("clusters", 1, 0)
	c := r.float("c", 0)
	cue := r.count("cue_cluster", 1, 0)
	cueStart, cueMs, cueGain := r.float("cue_start_ms", 0), r.float("cue_ms", 0), r.float("cue_gain", 0)
	delay := r.float("delay_ms", 0)
	readMs, readGain := r.float("readout_ms", 0), r.float("readout_gain", 0)
	extE, extI := r.float("ext_e", 0), r.float("ext_i", 0)
	jp, jb := r.float("j_p", 0), r.float("j_b", 0)
	tauF, tauD, u := r.float("tau_f", 0), r.float("tau_d", 0), r.float("u", 0)
	if p > stpwmMaxClusters {
		r.fail(fmt.Errorf("parameter clusters = %d: must be in [1, %d] (each cluster is 10 %% of E)", p, stpwmMaxClusters))
	}
	if !(c > 0 && c <= 1) {
		r.fail(fmt.Errorf("parameter c = %g: must be in (0, 1]", c))
	}
	if cue > p {
		r.fail(fmt.Errorf("parameter cue_cluster = %d: must be in [1, clusters = %d]", cue, p))
	}
	r.atLeast("cue_start_ms", cueStart, 0, "a time")
	r.atLeast("cue_ms", cueMs, 0, "how long the cue is on; 0 for no cue")
	r.atLeast("delay_ms", delay, 0, "a duration")
	r.atLeast("readout_ms", readMs, 0, "how long the readout is on; 0 for no readout")
	r.atLeast("cue_gain", cueGain, 1, "a cue adds drive")
	r.atLeast("readout_gain", readGain, 1, "a readout adds drive")
	r.atLeast("ext_e", extE, 0, "a mean excitatory input")
	r.atLeast("ext_i", extI, 0, "a mean excitatory input")
	r.atLeast("j_p", jp, 0, "an excitatory efficacy")
	r.atLeast("j_b", jb, 0, "an excitatory efficacy")
	r.atLeast("tau_f", tauF, 0, "a time constant; 0 for no facilitation")
	if !(tauD > 0) {
		r.fail(fmt.Errorf("parameter tau_d = %g: must be > 0", tauD))
	}
	if !(u > 0 && u <= 1) {
		r.fail(fmt.Errorf("parameter u = %g: must be in (0, 1]", u))
	}
	dur, seed := r.common()
	if r.err != nil {
		return nil, r.err
	}
	readStart := cueStart + cueMs + delay
	if v["duration_ms"] == "" {
		dur = readStart + stpwmDefaultTailMs
	}
	nE := n * 4 / 5
	nI := n - nE
	size := max(1, uint32(math.Round(stpwmF*float64(nE))))
	ns := int64(nE) - int64(p)*int64(size)
	if ns < 1 {
		return nil, fmt.Errorf("parameter n = %d: too small for %d clusters of %d E neurons and a non-selective rest", n, p, size)
	}
	// Populations: S1…Sp, Ens, I.
	type pop struct {
		name string
		size uint32
	}
	var es []pop
	for k := 1; k <= int(p); k++ {
		es = append(es, pop{StpWMCluster(k), size})
	}
	es = append(es, pop{stpwmNonSelectiveName, uint32(ns)})
	indeg := func(pre uint32) uint32 { return max(1, uint32(math.Round(c*float64(pre)))) }
	// Weights keep the paper's mean input c·N_pre·J: scale by the paper's
	// in-degree over this one (per pre population, so that rounding does
	// not bias small populations).
	scale := func(pre uint32, k uint32) float64 { return float64(pre) * stpwmRefK / float64(n) / float64(k) }

	cell := func(tauM, reset float64) spec.Model {
		return spec.IafPscDelta(&myelinpb.IafPscDelta{CM: f64(1), TauM: f64(tauM), TRef: f64(2), EL: f64(0), VReset: f64(reset), VTh: f64(stpwmTheta), IE: f64(0)})
	}
	name := fmt.Sprintf("stp_wm (N=%d, %d clusters", n, p)
	if cueMs > 0 {
		name += fmt.Sprintf(", cue on %s at %g-%g ms", StpWMCluster(int(cue)), cueStart, cueStart+cueMs)
	} else {
		name += ", no cue"
	}
	if readMs > 0 {
		name += fmt.Sprintf(", readout at %g-%g ms", readStart, readStart+readMs)
	}
	b := spec.New(name + ")").Dt(0.1).Duration(dur).Seed(seed).BlockSteps(100)
	for _, e := range es {
		b.Population(e.name, e.size, cell(stpwmTauE, stpwmResetE), spec.Initial(spec.UniformDist(0, stpwmTheta)))
	}
	b.Population("I", nI, cell(stpwmTauI, stpwmResetI), spec.Initial(spec.UniformDist(0, stpwmTheta)))
	delayOpt := spec.Delay(spec.UniformDist(stpwmMinDelayMs, stpwmMaxDelayMs))
	stp := spec.STP(u, tauD, tauF)
	kI := indeg(nI)
	for _, post := range es {
		for i, pre := range es {
			j := jb
			if pre.name == post.name && i < int(p) {
				j = jp
			}
			k := indeg(pre.size)
			b.Project(pre.name, post.name, spec.FixedIn(k), spec.Weight(spec.Const(j*scale(pre.size, k))), delayOpt, stp)
		}
		b.Project("I", post.name, spec.FixedIn(kI), spec.Weight(spec.Const(-stpwmJEI*scale(nI, kI))), delayOpt)
	}
	for _, pre := range es {
		k := indeg(pre.size)
		b.Project(pre.name, "I", spec.FixedIn(k), spec.Weight(spec.Const(stpwmJIE*scale(pre.size, k))), delayOpt)
	}
	b.Project("I", "I", spec.FixedIn(kI), spec.Weight(spec.Const(-stpwmJII*scale(nI, kI))), delayOpt)

	// External input: Poisson trains whose mean τ·ν·w and variance τ·ν·w²/2
	// are the paper's μ_ext and σ_ext² (w = 2σ²/μ, ν = μ/(τ w)).
	ext := func(mu, tau float64) (hz, w float64) {
		if mu == 0 {
			return 0, 0
		}
		w = 2 * stpwmSigmaExt * stpwmSigmaExt / mu
		return mu / (tau / 1000 * w), w
	}
	hzE, wE := ext(extE, stpwmTauE)
	hzI, wI := ext(extI, stpwmTauI)
	for _, e := range es {
		b.Poisson(e.name, hzE, wE, spec.Name("bg_"+e.name))
	}
	b.Poisson("I", hzI, wI, spec.Name("bg_I"))
	if cueMs > 0 && hzE > 0 {
		b.Poisson(StpWMCluster(int(cue)), (cueGain-1)*hzE, wE, spec.Name("cue"), spec.Window(cueStart, cueStart+cueMs))
	}
	if readMs > 0 && hzE > 0 {
		for _, e := range es {
			b.Poisson(e.name, (readGain-1)*hzE, wE, spec.Name("readout_"+e.name), spec.Window(readStart, readStart+readMs))
		}
	}
	return b.Build()
}
