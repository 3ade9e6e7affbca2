package models

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

func consolidation() *Model {
	return &Model{
		Name:  "consolidation",
		Short: "systems consolidation (after Spens & Burgess 2024, in spiking form): a one-shot hippocampal store replays its patterns spontaneously and a neocortical network learns them by STDP, so that recall survives silencing the hippocampus",
		Params: []Param{
			{"n", "500", "excitatory neurons in each of HPC and CTX"},
			{"patterns", "5", "stored random patterns P (the same neurons in HPC and CTX)"},
			{"sparseness", "0.1", "fraction a of the neurons active in a pattern, in (0, 1)"},
			{"replay_ms", "8000", "length of the consolidation (rest) phase in which HPC replays and CTX learns (ms); 0 tests recall before any replay"},
			{"test_ms", "1000", "length of the recall test after it, with HPC silenced (ms)"},
			{"cue_pattern", "0", "the pattern the test cues in CTX (0 … P-1)"},
			{"cue_fraction", "0.3", "fraction of the cued pattern's CTX neurons that the cue drives, in (0, 1]"},
			{"lambda", "0.08", "STDP learning rate λ of the CTX→CTX synapses (additive rule, α = 0.5)"},
			{"ripple_every_ms", "250", "interval between the rest phase's sharp-wave-like excitation pulses onto HPC (ms)"},
			{"teach_pa", "150", "weight of the one-to-one HPC→CTX synapses (pA)"},
			{"duration_ms", "", "biological time to simulate (ms; default replay_ms + test_ms: the test phase runs from replay_ms to the end)"},
			{"seed", "12345", "seed of the patterns, the cue, connectivity, initial values and inputs (run --seed changes all but the patterns and the cue)"},
		},
		build: buildConsolidation,
	}
}

// Constants of the consolidation model that are not parameters.
const (
	consHPCGain     = 6.0    // HPC's Hebbian weight relative to the hopfield model's default
	consHPCU        = 0.2    // utilisation U of HPC's depressing synapses
	consHPCTauRecMs = 1500.0 // their recovery time constant (ms): a replay fatigues its pattern for seconds
	consInhibition  = 0.6    // global inhibition, as in the hopfield model
	consRippleMs    = 20.0   // length of a pulse
	consRippleHz    = 2000.0 // rate of a pulse's Poisson drive per HPC neuron
	consRipplePA    = 480.0  // mean current of a pulse (pA)
	consMaxMs       = 600000.0
	consNamePrefix  = "consolidation ("
	consMinRippleMs = 50.0
	consCTXGain     = 1.25 // CTX's w_max relative to the hopfield model's Hebbian weight
	consW0          = 0.1  // CTX→CTX weights start at consW0·w_max
)

// Systems consolidation in the spirit of Spens & Burgess (2024), Nature
// Human Behaviour 8:526, in which hippocampal replay trains neocortical
// networks ("teacher–student" learning), here in spiking form.
//
// HPC is the hopfield model's network (see there): n iaf_psc_exp neurons
// holding P sparse patterns in clipped Hebbian synapses, stored at once —
// as one exposure with fast, saturating plasticity would leave them —
// with global inhibition. Its synapses depress (Tsodyks–Markram, U = 0.2,
// τ_rec = 1.5 s), so an active pattern fatigues and stops after 100–200 ms
// and stays weak for seconds. During the rest phase [0, replay_ms), brief
// non-specific pulses (20 ms of Poisson drive, one every ripple_every_ms,
// standing in for sharp-wave ripples) ignite whichever pattern the noise
// and the recovery state favour: HPC replays its patterns spontaneously,
// one per event, in an order nobody chose.
//
// CTX is a second network of n neurons with the same patterns on the same
// indices, driven one to one by HPC (teach_pa). Its recurrent E→E synapses
// start weak (0.1·w_max everywhere, w_max = the hopfield model's Hebbian
// weight) and learn by additive STDP (λ = lambda, α = 0.5, τ± = 20 ms)
// during the rest phase only (phase "replay"; the test phase has learning
// rate 0). Each pulse is preceded by a 40 ms CTX down state (inhibitory
// Poisson drive, as cortical slow-oscillation down states precede ripples
// in sleep), which ends the previous pattern's activity in CTX so that
// consecutive replays do not pair one pattern's neurons with the next's. Its global inhibition is relayed by a population CTX_I that
// fires one spike for each CTX spike (iaf_psc_delta driven one to one by
// 30 mV), because a plastic projection and a static one cannot share a
// pair of populations.
//
// Test [replay_ms, replay_ms + test_ms): HPC is silenced (−1 nA), CTX is
// reset (−1 nA for its first 50 ms) and then gets
// the hopfield cue (a 200 Hz train onto cue_fraction of the cued
// pattern's neurons during 100–200 ms into the phase). Recall is the
// overlap of CTX's activity with the patterns from 500 ms into the phase:
// with replay_ms = 0 CTX has learnt nothing and the cue dies away; after
// replay CTX completes and holds the pattern on its own.
//
// Measured by TestConsolidation (defaults, seeds 12345 and 3): overlap of
// CTX with the cued pattern 0.000 before replay and 0.978 / 0.989 after
// 8 s of rest (others <= 0.05); HPC at 0 Hz in the test; 13–25 of the
// rest phase's 50 ms windows show each pattern in HPC; CTX weights within
// patterns 0.87–0.90 of w_max, across 0.11 (they start at 0.1). Seeds 1–6
// with other cued patterns recalled too (0.92–0.99); with lambda 0.05
// learning was slower and 2 of 7 seeds failed, with lambda 0.1 and no down
// states the across weights grew to 0.13–0.15 of w_max and recall mixed
// patterns.
func buildConsolidation(v Values) (*myelinpb.Network, error) {
	r := reader{v: v}
	n := r.count("n", 0, 0)
	p := r.count("patterns", 0, 0)
	a := r.float("sparseness", 0)
	replay := r.float("replay_ms", 0)
	test := r.float("test_ms", 0)
	cue := r.count("cue_pattern", 0, 0)
	cueFrac := r.float("cue_fraction", 0)
	lambda := r.float("lambda", 0)
	every := r.float("ripple_every_ms", 0)
	teach := r.float("teach_pa", 0)
	seed, err := strconv.ParseUint(v["seed"], 10, 64)
	if err != nil {
		r.fail(fmt.Errorf("parameter seed = %q: not a whole number >= 0", v["seed"]))
	}
	if r.err != nil {
		return nil, r.err
	}
	switch {
	case !(a > 0 && a < 1):
		return nil, fmt.Errorf("parameter sparseness = %g: must be in (0, 1)", a)
	case p < 1 || p > hopfieldMaxP:
		return nil, fmt.Errorf("parameter patterns = %d: must be in [1, %d]", p, hopfieldMaxP)
	case n > hopfieldMaxN:
		return nil, fmt.Errorf("parameter n = %d: must be <= %d (the synapse lists grow as n²)", n, hopfieldMaxN)
	case !(replay >= 0 && replay <= consMaxMs):
		return nil, fmt.Errorf("parameter replay_ms = %g: must be in [0, %g]", replay, consMaxMs)
	case !(test >= 500 && test <= consMaxMs):
		return nil, fmt.Errorf("parameter test_ms = %g: must be in [500, %g] (recall is measured from 500 ms into the test)", test, consMaxMs)
	case cue >= p:
		return nil, fmt.Errorf("parameter cue_pattern = %d: must be < patterns (%d)", cue, p)
	case !(cueFrac > 0 && cueFrac <= 1):
		return nil, fmt.Errorf("parameter cue_fraction = %g: must be in (0, 1]", cueFrac)
	case !(lambda >= 0 && lambda <= 1):
		return nil, fmt.Errorf("parameter lambda = %g: must be in [0, 1]", lambda)
	case !(every >= consMinRippleMs):
		return nil, fmt.Errorf("parameter ripple_every_ms = %g: must be >= %g", every, consMinRippleMs)
	case !(teach >= 0):
		return nil, fmt.Errorf("parameter teach_pa = %g: must be >= 0", teach)
	}
	k := hopfieldK(n, a)
	if k < 5 || k >= n {
		return nil, fmt.Errorf("parameter n = %d: too small for sparseness %g: a pattern would have K = round(a·n) = %d neurons, want 5 <= K < n", n, a, k)
	}
	if uint64(p)*uint64(k) > hopfieldMaxIDs {
		return nil, fmt.Errorf("parameter patterns = %d: P·K = %d·%d is more than %d stored ids", p, p, k, hopfieldMaxIDs)
	}
	if uint64(p)*uint64(k)*uint64(k) > hopfieldMaxPairWork {
		return nil, fmt.Errorf("parameter patterns = %d: P·K² = %d·%d² pairs of pattern neurons is more than %d to sum in the Hebbian rule: want fewer or sparser patterns, or a smaller n", p, p, k, uint64(hopfieldMaxPairWork))
	}
	pats := HopfieldPatterns(seed, n, k, p)
	hebb, err := hopfieldSynapses(n, pats)
	if err != nil {
		return nil, fmt.Errorf("parameters n = %d, patterns = %d, sparseness = %g: %w", n, p, a, err)
	}
	jee := 400 / float64(k) // the hopfield model's Hebbian weight (pA)
	jh := consHPCGain * jee / consHPCU
	gh := consInhibition * jh * hopfieldTauEx / hopfieldTauIn
	wmax := consCTXGain * jee
	dur := r.float("duration_ms", replay+test)
	if r.err != nil {
		return nil, r.err
	}
	if !(dur > replay && dur <= 2*consMaxMs) {
		return nil, fmt.Errorf("parameter duration_ms = %g: must be > replay_ms (%g) and <= %g", dur, replay, 2*consMaxMs)
	}
	bgW := hopfieldBgPA / (hopfieldBgHz * hopfieldTauEx / 1000)
	lif := func() spec.Model {
		return spec.IafPscExp(&myelinpb.IafPscExp{TauSynEx: f64(hopfieldTauEx), TauSynIn: f64(hopfieldTauIn)})
	}
	name := fmt.Sprintf("%sN=%d, P=%d, a=%s, pattern_seed=%d, replay_ms=%s, cue pattern %d)", consNamePrefix, n, p,
		strconv.FormatFloat(a, 'g', -1, 64), seed, strconv.FormatFloat(replay, 'g', -1, 64), cue)
	stp := spec.STP(consHPCU, consHPCTauRecMs, 0)
	b := spec.New(name).Dt(0.1).Duration(dur).Seed(seed).BlockSteps(100).
		Population("HPC", n, lif(), spec.Initial(spec.UniformDist(-70, -58))).
		Population("CTX", n, lif(), spec.Initial(spec.UniformDist(-70, -58))).
		Project("HPC", "HPC", spec.Explicit(hebb), spec.Weight(spec.Const(jh)), spec.Delay(spec.Const(1)), spec.Name("hpc_hebb"), stp).
		Project("HPC", "HPC", spec.AllToAll(), spec.Autapses(false), spec.Weight(spec.Const(-gh)), spec.Delay(spec.Const(1)),
			spec.Via(myelinpb.Receptor_INHIBITORY), spec.Name("hpc_inhibition"), stp).
		Project("HPC", "CTX", spec.OneToOne(), spec.Weight(spec.Const(teach)), spec.Delay(spec.Const(1)), spec.Name("teach"))
	stdpArea(b, "CTX", "CTX_I", "ctx_stdp", n, consW0, wmax, lambda, consInhibition)
	b.Poisson("HPC", hopfieldBgHz, bgW, spec.Name("hpc_bg")).
		Poisson("CTX", hopfieldBgHz, bgW, spec.Name("ctx_bg")).
		Record("HPC", "CTX")
	if replay > 0 {
		var times, rates, onsets []float64
		for t0 := 100.0; t0+consRippleMs <= replay; t0 += every {
			times, rates = append(times, t0, t0+consRippleMs), append(rates, consRippleHz, 0)
			onsets = append(onsets, t0)
		}
		if len(times) > 0 {
			b.Poisson("HPC", 0, consRipplePA/(consRippleHz*hopfieldTauEx/1000), spec.Piecewise(times, rates), spec.Window(0, replay), spec.Name("ripples"))
			downStates(b, "CTX", "down_states", onsets, replay)
		}
	}
	b.DC("HPC", silencePA, spec.Window(replay, dur), spec.Name("silence_hpc"))
	b.DC("CTX", silencePA, spec.Window(replay, replay+resetMs), spec.Name("reset_ctx"))
	ids, times := hopfieldCue(seed, pats[cue], cueFrac, replay+100, replay+200)
	b.SpikeTimes("CTX", ids, times, hopfieldCuePA/(hopfieldCueHz*hopfieldTauEx/1000), spec.Name("cue"))
	if replay > 0 {
		b.Phase("replay", 0, replay, 1)
	}
	b.Phase("test", replay, dur, 0)
	return b.Build()
}

// Consolidation describes a run of the consolidation model, recovered
// from its spec.
type Consolidation struct {
	// Patterns are the stored patterns, ascending local neuron ids, the
	// same in HPC and CTX.
	Patterns [][]uint32
	// ReplayMs is the length of the rest phase; the test starts there.
	ReplayMs float64
	// Cued is the pattern the test cues in CTX.
	Cued int
}

// ConsolidationOf recognises a spec made by the consolidation model (its
// name) and returns its patterns, recomputed from what the name records
// and checked against HPC's Hebbian synapses. It returns nil, nil for a
// spec of another model.
func ConsolidationOf(net *myelinpb.Network) (*Consolidation, error) {
	rest, ok := strings.CutPrefix(net.GetName(), consNamePrefix)
	if !ok {
		return nil, nil
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("consolidation spec %q: %s", net.GetName(), fmt.Sprintf(format, args...))
	}
	fields := strings.Split(strings.TrimSuffix(rest, ")"), ", ")
	if len(fields) != 6 {
		return nil, bad("name does not read \"consolidation (N=…, P=…, a=…, pattern_seed=…, replay_ms=…, cue pattern M)\"")
	}
	pn, err := parsePatternName(fields[:4])
	if err != nil {
		return nil, bad("%v", err)
	}
	replayText, ok := strings.CutPrefix(fields[4], "replay_ms=")
	replay, err := strconv.ParseFloat(replayText, 64)
	if !ok || err != nil || !(replay >= 0 && replay <= consMaxMs) {
		return nil, bad("name field 5 %q: want replay_ms= and a time in [0, %g] ms", fields[4], consMaxMs)
	}
	c := &Consolidation{ReplayMs: replay}
	cueText, ok := strings.CutPrefix(fields[5], "cue pattern ")
	x, err := strconv.ParseUint(cueText, 10, 32)
	if !ok || err != nil || uint32(x) >= pn.p {
		return nil, bad("cued pattern %q: want \"cue pattern M\" with M below P = %d", fields[5], pn.p)
	}
	c.Cued = int(x)
	if c.Patterns, err = pn.hebbianPatterns(net, "hpc_hebb"); err != nil {
		return nil, bad("%v", err)
	}
	return c, nil
}
