package models

import (
	"fmt"
	"math"
	"strings"

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
			{"j_p", "0.45", "potentiated E→E efficacy within a cluster (mV at c·n = 2,000, the paper's; scaled by 2,000/(c·n))"},
			{"j_b", "0.1", "baseline E→E efficacy elsewhere (mV at c·n = 2,000; scaled like j_p)"},
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
// population burst, while the other clusters barely respond (≈ 2–3
// spikes per neuron against < 0.1). The trace fades with τ_F: read out
// 1.5 s after the cue it is still there, after 2.5 s it is gone. Without a
// cue, or with tau_f = 0, the readout selects no cluster.
//
// Simplified from the paper or chosen here: every synapse from a selective
// cluster to the non-selective population is baseline (the paper
// potentiates a fraction γ = 0.1 of them); the cue gain (1.2) is a little
// above the paper's 1.15, since the Poisson drive makes the cued cluster
// fire more weakly (≈ 15–20 Hz); the readout (1.2× for 50 ms) is below
// what ignites an unprimed cluster and above what ignites a primed one, as
// in the paper's Fig. 3. At these defaults the delay is silent (E ≈
// 0.24 Hz) and no cluster reactivates on its own; with stronger
// background (ext_e = 24.5) the cued cluster reactivates by itself every
// ≈ 350 ms, refreshing its trace, the paper's other regime.
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
	nE, nI := splitEI(n)
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
	name := stpwmNamePrefix + fmt.Sprintf("N=%d, %d clusters", n, p)
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

// stpwmNamePrefix starts the name of every spec the stp_wm model makes.
const stpwmNamePrefix = "stp_wm ("

// StpWMResponseTailMs is how long after the readout ends its response is
// still counted: the response window is [readout start, readout end + this).
const StpWMResponseTailMs = 50.0

// StpWM describes a trial of the stp_wm model, as its spec records it.
type StpWM struct {
	// Clusters are the selective populations S1, S2, … in order.
	Clusters []string
	// Cued is the index in Clusters of the cued cluster, or -1 when the
	// run has no cue (no input "cue").
	Cued int
	// CueStartMs and CueStopMs bound the cue (both 0 without one).
	CueStartMs, CueStopMs float64
	// ReadoutStartMs and ReadoutStopMs bound the readout (both 0 without
	// one).
	ReadoutStartMs, ReadoutStopMs float64
}

// HasReadout reports whether the trial has a readout.
func (s *StpWM) HasReadout() bool { return s.ReadoutStopMs > s.ReadoutStartMs }

// ResponseWindow returns the window in which the readout's response is
// counted: from its start to StpWMResponseTailMs after its end.
func (s *StpWM) ResponseWindow() (fromMs, toMs float64) {
	return s.ReadoutStartMs, s.ReadoutStopMs + StpWMResponseTailMs
}

// StpWMOf recognises a spec made by the stp_wm model (its name) and
// returns its clusters, cue and readout. It returns nil, nil for a spec of
// another model, and an error when the spec claims to be an stp_wm run but
// lacks its clusters or has a cue or readout that is not the model's (an
// edited spec).
func StpWMOf(net *myelinpb.Network) (*StpWM, error) {
	if !strings.HasPrefix(net.GetName(), stpwmNamePrefix) {
		return nil, nil
	}
	s := &StpWM{Cued: -1}
	index := map[string]int{}
	for _, p := range net.GetPopulations() {
		if p.GetName() == StpWMCluster(len(s.Clusters)+1) {
			index[p.GetName()] = len(s.Clusters)
			s.Clusters = append(s.Clusters, p.GetName())
		}
	}
	if len(s.Clusters) == 0 {
		return nil, fmt.Errorf("stp_wm spec %q: no cluster population %q", net.GetName(), StpWMCluster(1))
	}
	readouts := 0
	for i, in := range net.GetInputs() {
		p := in.GetPoisson()
		isCue, isReadout := in.GetName() == "cue", strings.HasPrefix(in.GetName(), "readout_")
		if !isCue && !isReadout {
			continue
		}
		if p == nil || p.StartMs == nil || p.StopMs == nil || !(p.GetStopMs() > p.GetStartMs()) {
			return nil, fmt.Errorf("stp_wm spec %q: input %d (%q): want a Poisson input with a window", net.GetName(), i, in.GetName())
		}
		switch {
		case isCue:
			k, ok := index[in.GetTarget()]
			if !ok || s.Cued >= 0 {
				return nil, fmt.Errorf("stp_wm spec %q: input %d (\"cue\"): want one cue, on a cluster (target %q)", net.GetName(), i, in.GetTarget())
			}
			s.Cued, s.CueStartMs, s.CueStopMs = k, p.GetStartMs(), p.GetStopMs()
		case readouts == 0:
			s.ReadoutStartMs, s.ReadoutStopMs = p.GetStartMs(), p.GetStopMs()
			readouts++
		case p.GetStartMs() != s.ReadoutStartMs || p.GetStopMs() != s.ReadoutStopMs:
			return nil, fmt.Errorf("stp_wm spec %q: input %d (%q): readout window %g-%g ms, the first one's %g-%g ms: want one window", net.GetName(), i, in.GetName(), p.GetStartMs(), p.GetStopMs(), s.ReadoutStartMs, s.ReadoutStopMs)
		}
	}
	return s, nil
}
