package analysis

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Population holds the spikes of one neuron population.
//
// Spike k happened at TimesMs[k] (ms since the start of the run) in neuron
// IDs[k], a local id in [0, Size). The spikes need not be sorted.
type Population struct {
	// Name labels the population in tables and figures.
	Name string
	// Size is the number of neurons, silent ones included.
	Size int
	// TimesMs are the spike times in milliseconds.
	TimesMs []float64
	// IDs are the local neuron ids of the spikes, parallel to TimesMs.
	IDs []uint32
}

// Run is the spiking activity of a whole simulation.
type Run struct {
	// DtMs is the simulation step in ms; 0 means unknown.
	DtMs float64
	// DurationMs is the simulated time in ms; spikes lie in [0, DurationMs].
	DurationMs float64
	// StartMs is the time, in the simulation, of this run's 0 (After sets
	// it; 0 for a whole run). Statistics ignore it; figures label their
	// time axis with it, so that an event is drawn at the time it
	// happened.
	StartMs float64
	// Pops are the populations, in the order they are reported and drawn.
	Pops []Population
}

// After returns the run after ms: the spikes at ms and earlier dropped,
// times shifted so that ms becomes 0 (StartMs says where that was), the
// duration shortened (to 0 if ms is past the end). Statistics of the
// result leave out an initial transient. A spike is stamped at the end of
// the step that made it, so one stamped at ms belongs to the time left
// out; times within a millionth of a step of ms count as ms (a stamp is
// (step+1)·dt in floating point: 3·0.1 is 0.30000000000000004).
func (r Run) After(ms float64) Run {
	if !(ms > 0) {
		return r
	}
	out := Run{DtMs: r.DtMs, DurationMs: max(0, r.DurationMs-ms), StartMs: r.StartMs + ms}
	cut := ms + 1e-6*r.DtMs
	for _, p := range r.Pops {
		q := Population{Name: p.Name, Size: p.Size}
		for i, t := range p.TimesMs {
			if t > cut {
				q.TimesMs = append(q.TimesMs, t-ms)
				q.IDs = append(q.IDs, p.IDs[i])
			}
		}
		out.Pops = append(out.Pops, q)
	}
	return out
}

// Spikes returns the number of spikes in the population.
func (p *Population) Spikes() int { return len(p.TimesMs) }

// Validate checks that the population is well formed for a run of
// durationMs: parallel slices of equal length, ids below Size, and finite
// spike times in [0, durationMs].
func (p *Population) Validate(durationMs float64) error {
	if p.Size < 0 {
		return fmt.Errorf("population %q: size %d is negative", p.Name, p.Size)
	}
	if len(p.TimesMs) != len(p.IDs) {
		return fmt.Errorf("population %q: %d spike times but %d ids", p.Name, len(p.TimesMs), len(p.IDs))
	}
	for k, id := range p.IDs {
		if int64(id) >= int64(p.Size) {
			return fmt.Errorf("population %q: spike %d has id %d, want id < size %d", p.Name, k, id, p.Size)
		}
		t := p.TimesMs[k]
		if math.IsNaN(t) || t < 0 || t > durationMs {
			return fmt.Errorf("population %q: spike %d at %g ms, want time in [0, %g]", p.Name, k, t, durationMs)
		}
	}
	return nil
}

// Validate checks the run: a positive finite duration, a non-negative step,
// and well-formed populations (see [Population.Validate]).
func (r *Run) Validate() error {
	if !(r.DurationMs > 0) || math.IsInf(r.DurationMs, 0) {
		return fmt.Errorf("run: duration %g ms, want a finite value > 0", r.DurationMs)
	}
	if !(r.DtMs >= 0) || math.IsInf(r.DtMs, 0) {
		return fmt.Errorf("run: dt %g ms, want a finite value >= 0", r.DtMs)
	}
	for i := range r.Pops {
		if err := r.Pops[i].Validate(r.DurationMs); err != nil {
			return fmt.Errorf("run: %w", err)
		}
	}
	return nil
}

// SpikeTrains groups the population's spikes by neuron: element i holds the
// spike times of neuron i in ascending order (nil for a silent neuron).
// Spikes whose id is not below Size are ignored. All trains share one backing
// array. It allocates per neuron (Size entries); the statistics of this
// package use [ActiveTrains] instead, whose memory grows with the spikes.
func SpikeTrains(p Population) [][]float64 {
	if p.Size <= 0 {
		return nil
	}
	counts := make([]int, p.Size+1)
	n := min(len(p.IDs), len(p.TimesMs))
	for k := 0; k < n; k++ {
		if id := int64(p.IDs[k]); id < int64(p.Size) {
			counts[id+1]++
		}
	}
	for i := 1; i <= p.Size; i++ {
		counts[i] += counts[i-1]
	}
	all := make([]float64, counts[p.Size])
	fill := slices.Clone(counts[:p.Size])
	for k := 0; k < n; k++ {
		if id := int64(p.IDs[k]); id < int64(p.Size) {
			all[fill[id]] = p.TimesMs[k]
			fill[id]++
		}
	}
	trains := make([][]float64, p.Size)
	for i := range trains {
		lo, hi := counts[i], counts[i+1]
		if hi > lo {
			tr := all[lo:hi:hi]
			slices.Sort(tr)
			trains[i] = tr
		}
	}
	return trains
}

// ActiveTrains returns the spike trains of the neurons that fired, in
// ascending id order, each sorted by time; silent neurons and spikes whose
// id is not below Size are left out. Its memory grows with the number of
// spikes, not with Size, so a population that claims billions of neurons
// costs nothing more than its spikes.
func ActiveTrains(p Population) [][]float64 {
	n := min(len(p.IDs), len(p.TimesMs))
	order := make([]int, 0, n)
	for k := 0; k < n; k++ {
		if int64(p.IDs[k]) < int64(p.Size) {
			order = append(order, k)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if p.IDs[a] != p.IDs[b] {
			return cmp.Compare(p.IDs[a], p.IDs[b])
		}
		return cmp.Compare(p.TimesMs[a], p.TimesMs[b])
	})
	all := make([]float64, len(order))
	for i, k := range order {
		all[i] = p.TimesMs[k]
	}
	var trains [][]float64
	for lo := 0; lo < len(order); {
		hi := lo + 1
		for hi < len(order) && p.IDs[order[hi]] == p.IDs[order[lo]] {
			hi++
		}
		trains = append(trains, all[lo:hi:hi])
		lo = hi
	}
	return trains
}

// MaxBins is the most bins a binned figure or series may have: a rate
// figure with more is refused, and the spectrum widens its bins to stay
// within it, so that no run duration or bin width can claim unbounded
// memory.
const MaxBins = 1 << 22

// MaxRunBins bounds the bins of the population rates whose spectra (and
// modulation indices) [Analyze] and [SpectrumPlot] take, summed over the
// populations that fired: with many populations, or a long run, the
// spectrum bins widen (beyond the default max(1 ms, dt)) so that the
// population count times the bins stays within it. The work of an analysis
// is so bounded by the spikes and a fixed cap, whatever duration and
// population count a stream claims.
const MaxRunBins = MaxBins

// spectrumBinFor returns the spectrum bin of a run of durationMs and step
// dtMs (0 if unknown) with active populations that fired: at least base,
// wide enough that active populations of whole bins make at most
// MaxRunBins bins together and each at most MaxBins, and a whole number of
// steps. Spikes lie on the step grid: bins of unequal step counts (2, 3,
// 2, 3 steps of 0.4 ms in 1 ms bins) would put a line into every spectrum
// at the frequency of their pattern.
func spectrumBinFor(base, dtMs, durationMs float64, active int) float64 {
	n := float64(max(active, 1))
	bin := max(base, durationMs/MaxBins*(1+1e-9), durationMs*n/MaxRunBins*(1+1e-9))
	if !(dtMs > 0) || math.IsInf(bin, 0) || math.IsNaN(bin) {
		return bin
	}
	// Whole steps: the nearest count where the bins still fit (20 ms at
	// 0.1 ms is 200 steps, whatever the last digit), else the next one up.
	steps := math.Ceil(bin / dtMs)
	if r := math.Round(bin / dtMs); r >= 1 && r < steps && r*dtMs >= base {
		if nb := float64(numBins(durationMs, r*dtMs)); nb <= MaxBins && nb*n <= MaxRunBins {
			steps = r
		}
	}
	return steps * dtMs
}

// fired counts the populations of the run with at least one spike.
func fired(run Run) int {
	n := 0
	for _, p := range run.Pops {
		if len(p.TimesMs) > 0 && p.Size > 0 {
			n++
		}
	}
	return n
}

// maxCountBins bounds the bin indices of the sparse per-neuron counts
// (Fano, correlation), which store only occupied bins.
const maxCountBins = 1 << 40

// binEps is the fraction of a bin below a boundary within which a time is
// counted in the later bin (see the package documentation).
const binEps = 1e-9

// numBins returns how many whole bins of width binMs fit in durationMs.
func numBins(durationMs, binMs float64) int {
	if !(binMs > 0) || !(durationMs > 0) {
		return 0
	}
	f := math.Floor(durationMs/binMs + binEps)
	if !(f < maxCountBins) {
		return maxCountBins
	}
	return int(f)
}

// binIndex returns the bin of time t for bins of width binMs, or -1 when t
// is outside bins [0, nb).
func binIndex(t, binMs float64, nb int) int {
	f := math.Floor(t/binMs + binEps)
	if f < 0 || f >= float64(nb) {
		return -1
	}
	return int(f)
}
