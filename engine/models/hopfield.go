package models

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"

	"github.com/myelin-sim/myelin/engine/rng"
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

func hopfield() *Model {
	return &Model{
		Name:  "hopfield",
		Short: "Hebbian autoassociative memory (Hopfield 1982; clipped Hebbian rule of Willshaw et al. 1969): a 30 % cue recalls its whole stored pattern",
		Params: []Param{
			{"n", "1000", "excitatory neurons"},
			{"patterns", "20", "stored random patterns P"},
			{"sparseness", "0.1", "fraction a of the neurons active in a pattern, in (0, 1)"},
			{"cue_pattern", "0", "the pattern whose neurons the cue drives (0 … P-1)"},
			{"cue_fraction", "0.3", "fraction of the cued pattern's neurons that the cue drives, in (0, 1]"},
			{"cue_ms", "100", "cue on during [100, 100 + cue_ms) ms; 0 for no cue"},
			{"j_ee", "", "weight of a Hebbian E→E synapse (pA; default 400/K for K = round(a·n) neurons per pattern)"},
			{"inhibition", "0.6", "global inhibition, as the fraction of a whole pattern's excitation that it cancels, in [0, 1)"},
			{"learning", "clipped", "how the E→E weights come about: clipped (the clipped Hebbian rule, at build time) or stdp (learnt online by STDP from presentations of the patterns, then the cue)"},
			{"presentations", "3", "stdp: times each pattern is shown (200 ms each, round robin)"},
			{"lambda", "0.08", "stdp: learning rate λ (additive rule, α = 0.5)"},
			{"duration_ms", "", "biological time to simulate (ms; default 1000 for clipped, the learning phase + 1000 for stdp)"},
			{"seed", "12345", "seed of the patterns, the cue, connectivity, initial values and inputs (run --seed changes all but the patterns and the cue)"},
		},
		build: buildHopfield,
	}
}

// Hopfield-model constants that are not parameters.
const (
	hopfieldCueStartMs = 100.0 // the cue starts here
	hopfieldCueHz      = 200.0 // rate of the cue's spike train per cued neuron
	hopfieldTauEx      = 20.0  // ms: slow recurrent excitation (NMDA-like) that lets activity persist
	hopfieldTauIn      = 5.0   // ms: fast inhibition, so that it keeps up with the excitation
	hopfieldBgHz       = 1000.0
	hopfieldBgPA       = 300.0 // mean background current (pA): V ≈ -58 mV, 3 mV below threshold
	hopfieldCuePA      = 800.0 // mean current of the cue onto a cued neuron (pA)
	hopfieldMaxN       = 20000 // the Hebbian bit set grows as n²: 50 MB at most
	hopfieldMaxP       = 10000
	hopfieldMaxCueMs   = 10000.0 // bounds the cue's spike array (a spike per neuron every 5 ms)
	hopfieldMaxIDs     = 1 << 24 // most P·K: the patterns' ids stay within 64 MB
	hopfieldNamePrefix = "hopfield ("
	hopfieldSTDPSuffix = ", stdp" // ends the name of a run of the stdp variant
	hopfieldMaxDurMs   = 1000000.0
	hopfieldSTDPGain   = 1.25 // the stdp variant's w_max relative to j_ee
	hopfieldSTDPW0     = 0.03 // its E→E weights start at hopfieldSTDPW0·w_max
	// purposePatterns keys the draws of the stored patterns and of the cued
	// subset: a purpose kind of its own (0x48, "H"), apart from every kind
	// the network builder uses, so that patterns never share draws with
	// connectivity, initial values or inputs.
	purposePatterns = 0x48
)

// Bounds of the clipped Hebbian list, which the hopfield and consolidation
// models build from their parameters.
const (
	// hopfieldMaxSynapses bounds the list (8 bytes a synapse, 640 MB at
	// most): the default patterns at n = 20000 make 73 million; dense ones
	// (n = 20000, a = 0.5, P = 10: 380 million, 3 GB) ran out of memory
	// before the bound.
	hopfieldMaxSynapses = 80_000_000
	// hopfieldMaxPairWork bounds Σ K² over the patterns, the pairs the
	// Hebbian rule visits (about a second per 10⁹).
	hopfieldMaxPairWork = 2_000_000_000
)

// Hebbian autoassociative memory after Hopfield (1982), PNAS 79:2554, with
// sparse patterns and the clipped Hebbian ("Willshaw") rule of Willshaw,
// Buneman & Longuet-Higgins (1969), Nature 222:960, in spiking form.
//
// Patterns: P random sets of exactly K = round(a·n) of the n E neurons
// (sparseness a), drawn from the seed parameter (see [HopfieldPatterns]);
// `myelin run --seed` later replaces the spec's seed, which gives another
// trial (initial values, background) of the same stored patterns.
// Weights: neuron j excites neuron i ≠ j with j_ee if some pattern holds
// both, else not at all: c_ij = min(1, Σ_μ ξ_i^μ ξ_j^μ), the Hebbian sum
// clipped at one synapse. Inhibition is global: every E neuron inhibits
// every other with one weight, chosen so that a whole pattern's inhibition
// cancels the fraction `inhibition` of its excitation onto its own neurons
// (g·τ_in = inhibition·j_ee·τ_ex); it stands in for a fast, linear
// interneuron pool (the activity-dependent threshold of sparse-coding
// attractor networks; the projection breaks Dale's law for brevity) and
// makes a neuron fire only when more than that fraction of the active
// neurons are its Hebbian partners. Excitation is
// slow (τ_ex = 20 ms, NMDA-like) and inhibition fast (τ_in = 5 ms).
// Neurons are NEST's iaf_psc_exp with its defaults otherwise; Poisson
// background (1 kHz) holds them 3 mV below threshold.
//
// Cue: during [100, 100 + cue_ms) ms a regular 200 Hz spike train (random
// phase per neuron) drives a random cue_fraction of the cued pattern's
// neurons; then the cue is off and recurrent excitation completes and holds
// the pattern. Recall is measured by the overlap of package analysis
// ([analysis.PatternOverlap]): the Pearson correlation of the binarised
// activity (rate >= 10 Hz in a window) with each pattern.
//
// Capacity at n = 1000 (defaults otherwise: cue 30 %, inhibition 0.6),
// measured by TestHopfieldCapacitySweep: recall means overlap >= 0.9 with
// the cued pattern and <= 0.2 with every other over 500–1000 ms; five
// seeds per P, cued pattern (7·seed) mod P; the smallest m(cued) and the
// largest m(other) over the seeds.
//
//	a = 0.1 (K = 100)                a = 0.05 (K = 50)        a = 0.2 (K = 200)
//	 P  recalled  m(cued)  m(other)   P  recalled  m(cued)    P  recalled  m(cued)
//	 5    5/5      1.000    0.089     40   5/5      1.000     2    5/5      1.000
//	20    5/5      1.000    0.089     80   5/5      1.000     4    5/5      1.000
//	30    5/5      0.994    0.087    120   5/5      0.990     6    5/5      1.000
//	35    5/5      0.973    0.097    160   5/5      0.951     8    5/5      0.982
//	40    5/5      0.939    0.114    180   5/5      0.933    10    4/5      0.900
//	45    4/5      0.870    0.132    200   3/5      0.892    12    2/5      0.415
//	50    1/5      0.491    0.227    220   0/5      0.659    14    0/5      0.207
//	60    0/5      0.059    0.220    240   0/5     -0.023    16    0/5      0.193
//
// Denser patterns, the same way: a = 0.3 recalls up to P = 4 (P = 5: 4/5,
// P = 6: 0/5), a = 0.5 up to P = 2 (P = 3: 0/5).
//
// So the capacity is P = 40 at a = 0.1 (α = P/n = 0.04), 180 at a = 0.05
// and 8 at a = 0.2: P·a² ≈ 0.3–0.5 (0.36 at a = 0.3, 0.5 at a = 0.5), the 1/a² scaling of the clipped rule,
// reached when about a third of the possible synapses are set (the
// fraction 1-(1-a²)^P is 0.33, 0.36 and 0.28). Past it, non-pattern
// neurons with many Hebbian partners among the active ones join in and the
// activity spreads (at a = 0.1, P = 70: m(cued) 0.07, E at 44 Hz).
//
// learning=stdp: the same network learns its weights online instead.
// Every E→E pair has a synapse, starting at 0.03·w_max (w_max = 1.25·j_ee),
// that learns by additive STDP (λ = lambda, α = 0.5, τ± = 20 ms); global
// inhibition of the same strength relative to w_max is relayed by a
// population E_I (one iaf_psc_delta partner per E neuron, which fires
// once for each of its spikes: a plastic and a static projection cannot
// share a pair of populations). Each pattern is shown `presentations`
// times, round robin, from 100 ms on, every 250 ms: a 200 ms, 200 Hz
// train onto all its neurons, after a 40 ms down state (inhibitory drive
// onto all E) that ends the previous pattern's activity. Then learning
// stops (phases "learn" and "recall", learning rate 0), E is held down for
// 50 ms, and the cue comes 100 ms after the learning phase ends. Measured
// by TestHopfieldSTDP at n = 500 (3 presentations, λ = 0.08): P = 5, 15
// and 20 recall at overlap 0.989 (others <= 0.11), with mean learnt
// weights 9.2 pA within patterns and 0.5, 1.3 and 1.7 pA across (w_max
// 10 pA); with λ = 0 nothing is recalled. Not every seed recalls: P = 10
// with seed 2, cue 7 reached 0.84 (0.92 with 5 presentations), and P = 8
// with seed 3 needed 3 presentations rather than 5 (0.82 with 5): the
// weights across patterns grow whenever a pattern's neurons fire while
// others fire at background rates, and that limits this variant before
// the clipped rule's capacity.
//
// The spec's name records n, P, a, the patterns' seed and the cued pattern
// so that a stream's
// header says which patterns it holds ([HopfieldOf] recomputes them and
// checks them against the Hebbian synapses); the stdp variant's name ends
// in ", stdp".
func buildHopfield(v Values) (*myelinpb.Network, error) {
	r := reader{v: v}
	n := r.count("n", 0, 0)
	p := r.count("patterns", 0, 0)
	a := r.float("sparseness", 0)
	cue := r.count("cue_pattern", 0, 0)
	cueFrac := r.float("cue_fraction", 0)
	cueMs := r.float("cue_ms", 0)
	inh := r.float("inhibition", 0)
	dur, seed := r.common()
	if r.err != nil {
		return nil, r.err
	}
	if !(a > 0 && a < 1) {
		return nil, fmt.Errorf("parameter sparseness = %g: must be in (0, 1)", a)
	}
	if p < 1 || p > hopfieldMaxP {
		return nil, fmt.Errorf("parameter patterns = %d: must be in [1, %d]", p, hopfieldMaxP)
	}
	if n > hopfieldMaxN {
		return nil, fmt.Errorf("parameter n = %d: must be <= %d (the Hebbian synapse list grows as n²)", n, hopfieldMaxN)
	}
	k := hopfieldK(n, a)
	if k < 5 || k >= n {
		return nil, fmt.Errorf("parameter n = %d: too small for sparseness %g: a pattern would have K = round(a·n) = %d neurons, want 5 <= K < n", n, a, k)
	}
	if uint64(p)*uint64(k) > hopfieldMaxIDs {
		return nil, fmt.Errorf("parameter patterns = %d: P·K = %d·%d is more than %d stored ids", p, p, k, hopfieldMaxIDs)
	}
	if learning := v["learning"]; learning != "stdp" && uint64(p)*uint64(k)*uint64(k) > hopfieldMaxPairWork {
		return nil, fmt.Errorf("parameter patterns = %d: P·K² = %d·%d² pairs of pattern neurons is more than %d to sum in the Hebbian rule: want fewer or sparser patterns, or a smaller n", p, p, k, uint64(hopfieldMaxPairWork))
	}
	if cue >= p {
		return nil, fmt.Errorf("parameter cue_pattern = %d: must be < patterns (%d)", cue, p)
	}
	if !(cueFrac > 0 && cueFrac <= 1) {
		return nil, fmt.Errorf("parameter cue_fraction = %g: must be in (0, 1]", cueFrac)
	}
	if !(cueMs >= 0 && cueMs <= hopfieldMaxCueMs) {
		r.fail(fmt.Errorf("parameter cue_ms = %g: must be in [0, %g] (0 for no cue)", cueMs, hopfieldMaxCueMs))
	} else if cued, spikes := max(1, math.Round(cueFrac*float64(k))), math.Ceil(cueMs*hopfieldCueHz/1000); cued*spikes > hopfieldMaxIDs {
		r.fail(fmt.Errorf("parameter cue_ms = %g: the cue would be %g spikes (%g neurons at %g Hz), more than %d: want a shorter cue or a smaller cue_fraction", cueMs, cued*spikes, cued, hopfieldCueHz, hopfieldMaxIDs))
	}
	learning := v["learning"]
	var pres uint32
	var lambda float64
	switch learning {
	case "clipped":
	case "stdp":
		pres = r.count("presentations", 1, 0)
		lambda = r.float("lambda", 0)
		if !(lambda >= 0 && lambda <= 1) {
			r.fail(fmt.Errorf("parameter lambda = %g: must be in [0, 1]", lambda))
		}
		if uint64(p)*uint64(pres)*uint64(k)*uint64(presentMs*presentHz/1000) > hopfieldMaxIDs {
			r.fail(fmt.Errorf("parameter presentations = %d: P·presentations·K·%g spikes is more than %d", pres, presentMs*presentHz/1000, hopfieldMaxIDs))
		}
	default:
		r.fail(fmt.Errorf("parameter learning = %q: want clipped or stdp", learning))
	}
	// The stdp variant learns during [0, learnEnd); the cue comes after it.
	learnEnd, cueStart := 0.0, hopfieldCueStartMs
	if learning == "stdp" {
		learnEnd = 100 + float64(p)*float64(pres)*presentStep
		cueStart = learnEnd + hopfieldCueStartMs
	}
	if v["duration_ms"] == "" {
		dur = learnEnd + 1000
	}
	if !(dur > 0 && dur <= hopfieldMaxDurMs) {
		r.fail(fmt.Errorf("parameter duration_ms = %g: must be in (0, %g]", dur, hopfieldMaxDurMs))
	}
	jee := r.float("j_ee", 400/float64(k))
	r.atLeast("j_ee", jee, 0, "Hebbian excitation; a negative one would make it inhibition")
	if !(inh >= 0 && inh < 1) {
		r.fail(fmt.Errorf("parameter inhibition = %g: must be in [0, 1)", inh))
	}
	if r.err != nil {
		return nil, r.err
	}

	pats := HopfieldPatterns(seed, n, k, p)
	g := inh * jee * hopfieldTauEx / hopfieldTauIn
	cueName := "no cue"
	if cueMs > 0 && dur <= cueStart {
		cueMs = 0 // the run ends before the cue would start
	}
	if cueMs > 0 {
		cueName = "cue pattern " + strconv.FormatUint(uint64(cue), 10)
	}
	if learning == "stdp" {
		cueName += hopfieldSTDPSuffix
	}
	name := fmt.Sprintf("%sN=%d, P=%d, a=%s, pattern_seed=%d, %s)", hopfieldNamePrefix, n, p, strconv.FormatFloat(a, 'g', -1, 64), seed, cueName)
	b := spec.New(name).Dt(0.1).Duration(dur).Seed(seed).BlockSteps(100).
		Population("E", n, spec.IafPscExp(&myelinpb.IafPscExp{TauSynEx: f64(hopfieldTauEx), TauSynIn: f64(hopfieldTauIn)}), spec.Initial(spec.UniformDist(-70, -58)))
	if learning == "stdp" {
		stdpArea(b, "E", "E_I", "stdp", n, hopfieldSTDPW0, hopfieldSTDPGain*jee, lambda, inh)
		b.Record("E")
		// Presentations, round robin: pattern μ of round r at
		// 100 + (r·P + μ)·250 ms for 200 ms, each after a down state.
		var ids []uint32
		var times, onsets []float64
		for rep := range pres {
			for mu := range p {
				t0 := 100 + float64(rep*p+mu)*presentStep
				i, t := hopfieldTrain(seed, 1+rep*p+mu, pats[mu], 1, t0, min(t0+presentMs, dur))
				ids, times, onsets = append(ids, i...), append(times, t...), append(onsets, t0)
			}
		}
		if len(ids) > 0 {
			b.SpikeTimes("E", ids, times, hopfieldCuePA/(hopfieldCueHz*hopfieldTauEx/1000), spec.Name("present"))
		}
		downStates(b, "E", "down_states", onsets, min(learnEnd, dur))
		if learnEnd < dur {
			b.DC("E", silencePA, spec.Window(learnEnd, min(learnEnd+resetMs, dur)), spec.Name("reset"))
		}
		b.Phase("learn", 0, min(learnEnd, dur), 1)
		if learnEnd < dur {
			b.Phase("recall", learnEnd, dur, 0)
		}
	} else {
		hebb, err := hopfieldSynapses(n, pats)
		if err != nil {
			return nil, fmt.Errorf("parameters n = %d, patterns = %d, sparseness = %g: %w", n, p, a, err)
		}
		b.Project("E", "E", spec.Explicit(hebb), spec.Weight(spec.Const(jee)), spec.Delay(spec.Const(1)), spec.Name("hebb")).
			Project("E", "E", spec.AllToAll(), spec.Autapses(false), spec.Weight(spec.Const(-g)), spec.Delay(spec.Const(1)), spec.Via(myelinpb.Receptor_INHIBITORY), spec.Name("inhibition"))
	}
	b.Poisson("E", hopfieldBgHz, hopfieldBgPA/(hopfieldBgHz*hopfieldTauEx/1000), spec.Name("bg"))
	if cueMs > 0 {
		ids, times := hopfieldCue(seed, pats[cue], cueFrac, cueStart, min(cueStart+cueMs, dur))
		b.SpikeTimes("E", ids, times, hopfieldCuePA/(hopfieldCueHz*hopfieldTauEx/1000), spec.Name("cue"))
	}
	return b.Build()
}

// hopfieldK is the number of active neurons per pattern, round(a·n).
func hopfieldK(n uint32, a float64) uint32 { return uint32(math.Round(a * float64(n))) }

// HopfieldPatterns returns the p stored patterns of the hopfield model with
// n neurons, k active per pattern, for seed: pattern μ is k distinct
// neurons in ascending order, drawn by a partial Fisher–Yates shuffle from
// the counter-based generator keyed by (seed, patterns purpose, μ), so it
// is the same on every machine and independent of the other patterns.
func HopfieldPatterns(seed uint64, n, k, p uint32) [][]uint32 {
	st := rng.NewStream(seed, rng.Purpose(purposePatterns, 0))
	perm := make([]uint32, n)
	out := make([][]uint32, p)
	for mu := range p {
		for i := range perm {
			perm[i] = uint32(i)
		}
		q := st.Seq(mu)
		for i := range k {
			j := i + q.Intn(n-i)
			perm[i], perm[j] = perm[j], perm[i]
		}
		pat := slices.Clone(perm[:k])
		slices.Sort(pat)
		out[mu] = pat
	}
	return out
}

// hopfieldSynapses returns the clipped Hebbian synapses: j → i (i ≠ j)
// wherever some pattern holds both, each pair once, sorted by (post, pre).
// It refuses patterns whose pairs (Σ K² over the patterns) are more than
// hopfieldMaxPairWork to visit, or whose list would hold more than
// hopfieldMaxSynapses synapses, before allocating the list.
func hopfieldSynapses(n uint32, pats [][]uint32) (*myelinpb.ExplicitList, error) {
	var work uint64
	for _, pat := range pats {
		work += uint64(len(pat)) * uint64(len(pat))
	}
	if work > hopfieldMaxPairWork {
		return nil, fmt.Errorf("the %d patterns hold %d pairs of neurons (P·K²), more than %d to sum in the Hebbian rule: want fewer or sparser patterns, or a smaller n", len(pats), work, uint64(hopfieldMaxPairWork))
	}
	// One bit per ordered pair: n ≤ hopfieldMaxN keeps this ≤ 50 MB.
	words := (uint64(n)*uint64(n) + 63) / 64
	set := make([]uint64, words)
	for _, pat := range pats {
		for _, i := range pat {
			row := uint64(i) * uint64(n)
			for _, j := range pat {
				if i != j {
					b := row + uint64(j)
					set[b/64] |= 1 << (b % 64)
				}
			}
		}
	}
	var count uint64
	for _, word := range set {
		count += uint64(bits.OnesCount64(word))
	}
	if count > hopfieldMaxSynapses {
		return nil, fmt.Errorf("the clipped Hebbian list of %d patterns on %d neurons would hold %d synapses, more than %d (8 bytes each): want fewer or sparser patterns, or a smaller n", len(pats), n, count, uint64(hopfieldMaxSynapses))
	}
	l := &myelinpb.ExplicitList{PreIndex: make([]uint32, 0, count), PostIndex: make([]uint32, 0, count)}
	for w, word := range set {
		for word != 0 {
			b := uint64(w)*64 + uint64(bits.TrailingZeros64(word))
			word &= word - 1
			l.PreIndex = append(l.PreIndex, uint32(b%uint64(n)))
			l.PostIndex = append(l.PostIndex, uint32(b/uint64(n)))
		}
	}
	return l, nil
}

// hopfieldCue returns the cue's spike array: a regular train at
// hopfieldCueHz with a random phase onto each of round(frac·K) neurons of
// the pattern chosen at random (at least one), during [start, stop) ms.
func hopfieldCue(seed uint64, pat []uint32, frac, start, stop float64) (ids []uint32, times []float64) {
	return hopfieldTrain(seed, 0, pat, frac, start, stop)
}

// hopfieldTrain is hopfieldCue with the draws of sequence seq (0 for the
// cue; the stdp variant's presentations take 1, 2, ...).
func hopfieldTrain(seed uint64, seq uint32, pat []uint32, frac, start, stop float64) (ids []uint32, times []float64) {
	q := rng.NewStream(seed, rng.Purpose(purposePatterns, 1)).Seq(seq)
	sub := slices.Clone(pat)
	m := max(1, int(math.Round(frac*float64(len(pat)))))
	for i := range m {
		j := i + int(q.Intn(uint32(len(sub)-i)))
		sub[i], sub[j] = sub[j], sub[i]
	}
	sub = sub[:m]
	slices.Sort(sub)
	period := 1000 / hopfieldCueHz
	for _, id := range sub {
		// A phase on the 0.1 ms grid so that spike times are exact steps.
		phase := float64(q.Intn(uint32(period*10))) / 10
		for t := start + phase; t < stop; t += period {
			ids, times = append(ids, id), append(times, math.Round(t*10)/10)
		}
	}
	return ids, times
}

// Hopfield describes a run of the hopfield model, recovered from its spec.
type Hopfield struct {
	// Population is the name of the population that holds the patterns.
	Population string
	// Patterns are the stored patterns, ascending local neuron ids.
	Patterns [][]uint32
	// Cued is the cued pattern, or -1 when the run has no cue (no input
	// "cue" with spikes).
	Cued int
	// Learning is how the weights came about: "clipped" (the Hebbian
	// rule, at build time) or "stdp" (learnt online before the cue).
	Learning string
	// LastCueMs is the time of the cue's last spike (0 without a cue);
	// the cue is off from at most one cue period (5 ms) later.
	LastCueMs float64
}

// HopfieldOf recognises a spec made by the hopfield model (its name) and
// returns its patterns, recomputed from the n, P, a and pattern seed its
// name records. It returns nil, nil for a spec of another model, and an
// error when the spec claims to be a hopfield run but its Hebbian synapses
// are not those of the recomputed patterns (an edited spec).
func HopfieldOf(net *myelinpb.Network) (*Hopfield, error) {
	rest, ok := strings.CutPrefix(net.GetName(), hopfieldNamePrefix)
	if !ok {
		return nil, nil
	}
	fields := strings.SplitN(strings.TrimSuffix(rest, ")"), ", ", 5)
	if len(fields) != 5 {
		return nil, fmt.Errorf("hopfield spec %q: name does not read \"hopfield (N=…, P=…, a=…, pattern_seed=…, cue …)\"", net.GetName())
	}
	pn, err := parsePatternName(fields[:4])
	if err != nil {
		return nil, fmt.Errorf("hopfield spec %q: %w", net.GetName(), err)
	}
	n, p, a, seed := pn.n, pn.p, pn.a, pn.seed
	cueText, stdp := strings.CutSuffix(fields[4], hopfieldSTDPSuffix)
	h := &Hopfield{Population: "E", Cued: -1, Learning: "clipped"}
	if stdp {
		h.Learning = "stdp"
	}
	if c, ok := strings.CutPrefix(cueText, "cue pattern "); ok {
		x, err := strconv.ParseUint(c, 10, 32)
		if err != nil || uint32(x) >= p {
			return nil, fmt.Errorf("hopfield spec %q: cued pattern %q: want a whole number below P = %d", net.GetName(), c, p)
		}
		h.Cued = int(x)
	} else if cueText != "no cue" {
		return nil, fmt.Errorf("hopfield spec %q: %q: want \"cue pattern M\" or \"no cue\"", net.GetName(), cueText)
	}
	var pop *myelinpb.Population
	for _, q := range net.GetPopulations() {
		if q.GetName() == h.Population {
			pop = q
		}
	}
	if pop == nil || pop.GetSize() != n {
		return nil, fmt.Errorf("hopfield spec %q: no population %q of %d neurons", net.GetName(), h.Population, n)
	}
	k := hopfieldK(n, a)
	if stdp {
		// The weights are learnt: check that they are, onto E from E.
		ok := false
		for _, pr := range net.GetProjections() {
			ok = ok || pr.GetName() == "stdp" && pr.GetStdp() != nil && pr.GetPre() == h.Population && pr.GetPost() == h.Population
		}
		if !ok || k < 1 || k >= n || uint64(p)*uint64(k) > hopfieldMaxIDs {
			return nil, fmt.Errorf("hopfield spec %q: no plastic projection \"stdp\" from E onto E (or K = %d out of range)", net.GetName(), k)
		}
		h.Patterns = HopfieldPatterns(seed, n, k, p)
		h.readCue(net)
		return h, nil
	}
	if h.Patterns, err = pn.hebbianPatterns(net, "hebb"); err != nil {
		return nil, fmt.Errorf("hopfield spec %q: %w", net.GetName(), err)
	}
	h.readCue(net)
	return h, nil
}

// patternName is what the name of a hopfield or consolidation spec
// records about its patterns.
type patternName struct {
	n, p uint32
	a    float64
	seed uint64
}

// parsePatternName reads the fields "N=…", "P=…", "a=…" and
// "pattern_seed=…" of such a name, in that order, and checks the ranges
// the models allow.
func parsePatternName(fields []string) (patternName, error) {
	var pn patternName
	for i, f := range fields {
		key, val, _ := strings.Cut(f, "=")
		var err error
		var x uint64
		switch {
		case i == 0 && key == "N":
			x, err = strconv.ParseUint(val, 10, 32)
			pn.n = uint32(x)
		case i == 1 && key == "P":
			x, err = strconv.ParseUint(val, 10, 32)
			pn.p = uint32(x)
		case i == 2 && key == "a":
			pn.a, err = strconv.ParseFloat(val, 64)
		case i == 3 && key == "pattern_seed":
			pn.seed, err = strconv.ParseUint(val, 10, 64)
		default:
			err = fmt.Errorf("unexpected %q", f)
		}
		if err != nil {
			return pn, fmt.Errorf("name field %d: %w", i+1, err)
		}
	}
	if !(pn.a > 0 && pn.a < 1) || pn.p < 1 || pn.p > hopfieldMaxP || pn.n > hopfieldMaxN {
		return pn, fmt.Errorf("out of range: N, P or a (N <= %d, 1 <= P <= %d, 0 < a < 1)", hopfieldMaxN, hopfieldMaxP)
	}
	return pn, nil
}

// hebbianPatterns recomputes the patterns that the name records and checks
// that the explicit projection named proj holds exactly their clipped
// Hebbian synapses (an error for an edited spec).
func (pn patternName) hebbianPatterns(net *myelinpb.Network, proj string) ([][]uint32, error) {
	var hebb *myelinpb.ExplicitList
	for _, pr := range net.GetProjections() {
		if pr.GetName() == proj {
			hebb = pr.GetExplicit()
		}
	}
	k := hopfieldK(pn.n, pn.a)
	if hebb == nil || k < 1 || k >= pn.n {
		return nil, fmt.Errorf("no explicit projection %q (or K = %d out of range)", proj, k)
	}
	// Before recomputing P patterns of K neurons, check the sizes that the
	// model itself allows, so that a forged name cannot make this allocate
	// without bound.
	if uint64(len(hebb.GetPreIndex())) < uint64(k)*uint64(k-1) || uint64(pn.p)*uint64(k) > hopfieldMaxIDs {
		return nil, fmt.Errorf("its %q synapses are not those of its patterns (%d synapses for P = %d patterns of K = %d)", proj, len(hebb.GetPreIndex()), pn.p, k)
	}
	pats := HopfieldPatterns(pn.seed, pn.n, k, pn.p)
	want, err := hopfieldSynapses(pn.n, pats)
	if err != nil {
		return nil, fmt.Errorf("its %q synapses cannot be those of its patterns: %w", proj, err)
	}
	if !slices.Equal(want.PreIndex, hebb.GetPreIndex()) || !slices.Equal(want.PostIndex, hebb.GetPostIndex()) {
		return nil, fmt.Errorf("its %q synapses are not those of the patterns that pattern_seed %d gives (an edited spec?)", proj, pn.seed)
	}
	return pats, nil
}

// readCue sets LastCueMs from the spec's input "cue" (and Cued to -1 when
// it has no spikes).
func (h *Hopfield) readCue(net *myelinpb.Network) {
	cueSpikes := 0
	for _, in := range net.GetInputs() {
		if in.GetName() == "cue" {
			for _, t := range in.GetSpikeTimes().GetTimeMs() {
				h.LastCueMs = max(h.LastCueMs, t)
				cueSpikes++
			}
		}
	}
	if cueSpikes == 0 {
		h.Cued = -1
	}
}
