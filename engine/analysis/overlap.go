package analysis

import (
	"fmt"
	"math"
	"slices"
)

// Pattern overlaps for autoassociative (Hopfield-type) memories.
//
// A stored pattern ξ of a population of N neurons is the set of its active
// neurons (ξ_i = 1 for i in the set, 0 otherwise), given as ascending local
// ids. Activity in a time window is binarised: s_i = 1 when neuron i fires
// at a rate of at least minHz in the window (and at least once), else 0.
// The overlap of the activity with a pattern is the Pearson correlation of
// the two binary vectors over the N neurons,
//
//	m = (N·|s∧ξ| - |s|·|ξ|) / sqrt(|s|(N-|s|) · |ξ|(N-|ξ|)),
//
// the sparse-coding overlap of Tsodyks & Feigel'man (1988) with the
// activity's own mean in place of the pattern sparseness: m = 1 when exactly
// the pattern's neurons are active, m ≈ 0 (within about 1/√N) for activity
// unrelated to the pattern, and m = sqrt(f(1-a)/(1-f·a)) when only a
// fraction f of a pattern of sparseness a is active (≈ 0.52 for f = 0.3,
// a = 0.1), so a cue that is not completed does not count as recall. When no
// neuron (or every neuron) is active, or the pattern is empty or whole, the
// correlation is undefined and m is 0: nothing is recalled.

// PatternOverlap returns the overlap m (see above) of the active neurons
// with a pattern, both ascending local ids below n without repeats.
func PatternOverlap(n int, active, pattern []uint32) (float64, error) {
	if n <= 0 {
		return 0, fmt.Errorf("pattern overlap: %d neurons, want > 0", n)
	}
	if err := checkIDs(n, active); err != nil {
		return 0, fmt.Errorf("pattern overlap: active neurons: %w", err)
	}
	if err := checkIDs(n, pattern); err != nil {
		return 0, fmt.Errorf("pattern overlap: pattern: %w", err)
	}
	return overlap(n, active, pattern), nil
}

// overlap is PatternOverlap on checked input.
func overlap(n int, active, pattern []uint32) float64 {
	both := 0
	for i, j := 0, 0; i < len(active) && j < len(pattern); {
		switch {
		case active[i] < pattern[j]:
			i++
		case active[i] > pattern[j]:
			j++
		default:
			both, i, j = both+1, i+1, j+1
		}
	}
	N, s, k := float64(n), float64(len(active)), float64(len(pattern))
	den := math.Sqrt(s * (N - s) * k * (N - k))
	if !(den > 0) {
		return 0
	}
	return (N*float64(both) - s*k) / den
}

// checkIDs checks that ids ascend strictly and stay below n.
func checkIDs(n int, ids []uint32) error {
	for i, id := range ids {
		if int64(id) >= int64(n) {
			return fmt.Errorf("id %d at position %d: must be < %d", id, i, n)
		}
		if i > 0 && id <= ids[i-1] {
			return fmt.Errorf("id %d at position %d: ids must ascend without repeats (previous %d)", id, i, ids[i-1])
		}
	}
	return nil
}

// ActiveNeurons returns, ascending, the local ids of the neurons of p that
// fire at a rate of at least minHz (and at least once) in [fromMs, toMs).
// Its memory grows with the spikes in the window, not with p.Size.
func ActiveNeurons(p Population, fromMs, toMs, minHz float64) ([]uint32, error) {
	if !(toMs > fromMs) || math.IsInf(toMs, 0) || math.IsInf(fromMs, 0) {
		return nil, fmt.Errorf("active neurons of %q: window [%g, %g) ms: want finite bounds, from < to", p.Name, fromMs, toMs)
	}
	if !(minHz >= 0) || math.IsInf(minHz, 0) {
		return nil, fmt.Errorf("active neurons of %q: threshold %g Hz: want a finite rate >= 0", p.Name, minHz)
	}
	need := max(1, int(math.Ceil(minHz*(toMs-fromMs)/1000-1e-9)))
	counts := map[uint32]int{}
	for k := range min(len(p.TimesMs), len(p.IDs)) {
		if t := p.TimesMs[k]; t >= fromMs && t < toMs && int64(p.IDs[k]) < int64(p.Size) {
			counts[p.IDs[k]]++
		}
	}
	var out []uint32
	for id, c := range counts {
		if c >= need {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out, nil
}

// OverlapSeries is the overlap of a population's activity with each stored
// pattern in consecutive windows.
type OverlapSeries struct {
	// StartMs[w] is the start of window w; windows are BinMs wide.
	StartMs []float64
	// BinMs is the window width in ms.
	BinMs float64
	// M[w][μ] is the overlap in window w with pattern μ.
	M [][]float64
	// Active[w] is the number of active neurons in window w.
	Active []int
}

// PatternOverlaps returns the overlap of p's activity with every pattern
// in windows [k·binMs, (k+1)·binMs) covering [0, durationMs) (a trailing
// partial window is dropped), activity binarised at minHz. Patterns are
// ascending local ids below p.Size.
func PatternOverlaps(p Population, durationMs float64, patterns [][]uint32, binMs, minHz float64) (*OverlapSeries, error) {
	if p.Size <= 0 {
		return nil, fmt.Errorf("pattern overlaps of %q: %d neurons, want > 0", p.Name, p.Size)
	}
	if !(binMs > 0) || math.IsInf(binMs, 0) {
		return nil, fmt.Errorf("pattern overlaps of %q: window %g ms, want a finite width > 0", p.Name, binMs)
	}
	if !(minHz >= 0) || math.IsInf(minHz, 0) {
		return nil, fmt.Errorf("pattern overlaps of %q: threshold %g Hz: want a finite rate >= 0", p.Name, minHz)
	}
	for mu, pat := range patterns {
		if err := checkIDs(p.Size, pat); err != nil {
			return nil, fmt.Errorf("pattern overlaps of %q: pattern %d: %w", p.Name, mu, err)
		}
	}
	nb := numBins(durationMs, binMs)
	if nb > MaxBins || int64(nb)*int64(len(patterns)) > MaxBins {
		return nil, fmt.Errorf("pattern overlaps of %q: %d windows of %g ms × %d patterns is more than %d values; use wider windows", p.Name, nb, binMs, len(patterns), MaxBins)
	}
	// Spike counts per (window, neuron), sparse: memory grows with spikes.
	counts := make([]map[uint32]int, nb)
	for k := range min(len(p.TimesMs), len(p.IDs)) {
		b := binIndex(p.TimesMs[k], binMs, nb)
		if b < 0 || int64(p.IDs[k]) >= int64(p.Size) {
			continue
		}
		if counts[b] == nil {
			counts[b] = map[uint32]int{}
		}
		counts[b][p.IDs[k]]++
	}
	need := max(1, int(math.Ceil(minHz*binMs/1000-1e-9)))
	out := &OverlapSeries{BinMs: binMs, StartMs: make([]float64, nb), M: make([][]float64, nb), Active: make([]int, nb)}
	for b := range nb {
		var act []uint32
		for id, c := range counts[b] {
			if c >= need {
				act = append(act, id)
			}
		}
		slices.Sort(act)
		out.StartMs[b] = float64(b) * binMs
		out.Active[b] = len(act)
		out.M[b] = make([]float64, len(patterns))
		for mu, pat := range patterns {
			out.M[b][mu] = overlap(p.Size, act, pat)
		}
	}
	return out, nil
}
