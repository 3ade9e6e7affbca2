package analysis

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Default parameters of [Options]; a zero field selects its default.
const (
	// DefaultFanoBinMs is the bin width of the Fano factor.
	DefaultFanoBinMs = 100.0
	// DefaultCorrBinMs is the bin width of the pairwise correlation.
	DefaultCorrBinMs = 5.0
	// DefaultCorrPairs is the largest number of sampled neuron pairs.
	DefaultCorrPairs = 200
	// DefaultSpectrumBinMs is the smallest bin width of the population rate
	// whose spectrum is taken; the run's dt is used when it is larger.
	DefaultSpectrumBinMs = 1.0
	// DefaultSegmentMs is the Welch segment length (1 Hz resolution).
	DefaultSegmentMs = 1000.0
	// DefaultMinPeakHz is the lowest frequency considered for the peak.
	DefaultMinPeakHz = 1.0
)

// Options tunes [Analyze]. The zero value selects every default.
type Options struct {
	// FanoBinMs is the count window of the Fano factor (default 100 ms).
	FanoBinMs float64
	// CorrBinMs is the count window of the pairwise correlation (default 5 ms).
	CorrBinMs float64
	// CorrPairs is the largest number of neuron pairs sampled for the
	// correlation (default 200). All pairs are used when there are fewer.
	CorrPairs int
	// Seed seeds the pair sampling; equal seeds give equal samples.
	Seed uint64
	// SpectrumBinMs is the bin width of the population rate whose spectrum
	// is taken (default max(dt, 1 ms)).
	SpectrumBinMs float64
	// SegmentMs is the Welch segment length (default 1000 ms, i.e. 1 Hz
	// frequency resolution); a shorter run uses one segment of its length.
	SegmentMs float64
	// MinPeakHz is the lowest frequency searched for the spectral peak
	// (default 1 Hz); DC is always excluded.
	MinPeakHz float64
}

// withDefaults fills zero fields for a run with step dtMs.
func (o Options) withDefaults(dtMs float64) Options {
	if o.FanoBinMs == 0 {
		o.FanoBinMs = DefaultFanoBinMs
	}
	if o.CorrBinMs == 0 {
		o.CorrBinMs = DefaultCorrBinMs
	}
	if o.CorrPairs == 0 {
		o.CorrPairs = DefaultCorrPairs
	}
	if o.SpectrumBinMs == 0 {
		o.SpectrumBinMs = max(DefaultSpectrumBinMs, dtMs)
	}
	if o.SegmentMs == 0 {
		o.SegmentMs = DefaultSegmentMs
	}
	if o.MinPeakHz == 0 {
		o.MinPeakHz = DefaultMinPeakHz
	}
	return o
}

// validate checks options after defaults were applied.
func (o Options) validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"FanoBinMs", o.FanoBinMs}, {"CorrBinMs", o.CorrBinMs},
		{"SpectrumBinMs", o.SpectrumBinMs}, {"SegmentMs", o.SegmentMs},
	} {
		if !(f.v > 0) || math.IsInf(f.v, 0) {
			return fmt.Errorf("options: %s = %g, want a finite value > 0", f.name, f.v)
		}
	}
	if o.CorrPairs < 0 {
		return fmt.Errorf("options: CorrPairs = %d, want >= 0", o.CorrPairs)
	}
	if !(o.MinPeakHz >= 0) {
		return fmt.Errorf("options: MinPeakHz = %g, want >= 0", o.MinPeakHz)
	}
	return nil
}

// PopStats are the statistics of one population. Undefined values are NaN.
type PopStats struct {
	// Name and Size repeat the population's.
	Name string
	Size int
	// Spikes is the number of spikes.
	Spikes int
	// RateHz is the mean firing rate over all Size neurons.
	RateHz float64
	// CV is the mean CV of ISIs over the CVNeurons neurons with >= 3 spikes.
	CV        float64
	CVNeurons int
	// Fano is the mean Fano factor over the FanoNeurons neurons with a
	// nonzero mean count.
	Fano        float64
	FanoNeurons int
	// Corr is the mean Pearson correlation over CorrPairs sampled pairs.
	Corr      float64
	CorrPairs int
	// Spectrum is the population-rate power spectrum and its peak.
	Spectrum Spectrum
}

// Analyze computes the statistics of every population of the run. The
// spectra share MaxRunBins bins among the populations that fired (see
// [MaxRunBins]): their bins are widened where the run is too long for
// that.
func Analyze(run Run, opts Options) ([]PopStats, error) {
	if err := run.Validate(); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	o := opts
	if base := opts.withDefaults(run.DtMs).SpectrumBinMs; base > 0 && !math.IsInf(base, 0) {
		o.SpectrumBinMs = spectrumBinFor(base, run.DtMs, run.DurationMs, fired(run))
	}
	out := make([]PopStats, len(run.Pops))
	for i, p := range run.Pops {
		s, err := AnalyzePopulation(p, run.DurationMs, run.DtMs, o)
		if err != nil {
			return nil, fmt.Errorf("analyze: %w", err)
		}
		out[i] = s
	}
	return out, nil
}

// AnalyzePopulation computes the statistics of one population recorded for
// durationMs with simulation step dtMs (0 if unknown). A population without
// spikes gets no spectrum (NaN peak), at no cost.
func AnalyzePopulation(p Population, durationMs, dtMs float64, opts Options) (PopStats, error) {
	o := opts.withDefaults(dtMs)
	if err := o.validate(); err != nil {
		return PopStats{}, fmt.Errorf("population %q: %w", p.Name, err)
	}
	if !(durationMs > 0) || math.IsInf(durationMs, 0) {
		return PopStats{}, fmt.Errorf("population %q: duration %g ms, want a finite value > 0", p.Name, durationMs)
	}
	if err := p.Validate(durationMs); err != nil {
		return PopStats{}, err
	}
	trains := ActiveTrains(p)
	s := PopStats{Name: p.Name, Size: p.Size, Spikes: len(p.TimesMs)}
	s.RateHz = MeanRate(p, durationMs)
	s.CV, s.CVNeurons = cvISI(trains)
	s.Fano, s.FanoNeurons = fano(trains, durationMs, o.FanoBinMs)
	s.Corr, s.CorrPairs = correlation(trains, durationMs, o.CorrBinMs, o.CorrPairs, o.Seed)
	// A run too long for MaxBins bins of the requested width gets wider
	// bins; a population without spikes has no spectrum to take.
	specBin := spectrumBinFor(o.SpectrumBinMs, dtMs, durationMs, 1)
	spec, err := Spectrum{}, fmt.Errorf("no spikes")
	if len(p.TimesMs) > 0 {
		spec, err = PowerSpectrum(p, durationMs, specBin, o.SegmentMs, o.MinPeakHz)
	}
	if err != nil {
		// Too short a run or an empty population: the spectrum is undefined,
		// which is reported as NaN like the other statistics.
		spec = Spectrum{PeakHz: math.NaN(), PeakPower: math.NaN(), BinMs: specBin}
	}
	s.Spectrum = spec
	return s, nil
}

// MeanRate returns the mean firing rate in Hz of the population over
// durationMs: spikes / (Size · duration), silent neurons included. It is NaN
// for an empty population or a non-positive duration.
func MeanRate(p Population, durationMs float64) float64 {
	if p.Size <= 0 || !(durationMs > 0) {
		return math.NaN()
	}
	return float64(len(p.TimesMs)) / (float64(p.Size) * durationMs * 1e-3)
}

// CVISI returns the coefficient of variation of inter-spike intervals: for
// each neuron with at least 3 spikes (2 intervals), the standard deviation
// (1/n) of its ISIs divided by their mean; these are averaged over the
// neurons, whose number is returned too. A Poisson train has CV 1, a regular
// one 0.
func CVISI(p Population) (cv float64, neurons int) {
	return cvISI(ActiveTrains(p))
}

func cvISI(trains [][]float64) (float64, int) {
	sum, n := 0.0, 0
	for _, tr := range trains {
		if len(tr) < 3 {
			continue
		}
		m := float64(len(tr) - 1)
		mean := (tr[len(tr)-1] - tr[0]) / m
		if !(mean > 0) {
			continue // all spikes at one time: ISIs undefined
		}
		ss := 0.0
		for k := 1; k < len(tr); k++ {
			d := tr[k] - tr[k-1] - mean
			ss += d * d
		}
		sum += math.Sqrt(ss/m) / mean
		n++
	}
	if n == 0 {
		return math.NaN(), 0
	}
	return sum / float64(n), n
}

// Fano returns the Fano factor of spike counts in bins of binMs: for each
// neuron, the variance (1/n) of its counts over the whole bins of the run
// divided by their mean; these are averaged over the neurons with a nonzero
// mean, whose number is returned too. A Poisson train has Fano factor 1, a
// regular one close to 0. NaN when fewer than 2 bins fit in the run.
func Fano(p Population, durationMs, binMs float64) (factor float64, neurons int) {
	return fano(ActiveTrains(p), durationMs, binMs)
}

func fano(trains [][]float64, durationMs, binMs float64) (float64, int) {
	nb := numBins(durationMs, binMs)
	if nb < 2 {
		return math.NaN(), 0
	}
	sum, n := 0.0, 0
	for _, tr := range trains {
		c := sparseCounts(tr, binMs, nb)
		mean, variance := c.moments(nb)
		if mean > 0 {
			sum += variance / mean
			n++
		}
	}
	if n == 0 {
		return math.NaN(), 0
	}
	return sum / float64(n), n
}

// counts is a neuron's binned spike counts stored sparsely: count n[k] in
// bin b[k], bins ascending, empty bins omitted.
type counts struct {
	b []int
	n []int32
}

// sparseCounts bins a sorted spike train into nb bins of width binMs.
func sparseCounts(train []float64, binMs float64, nb int) counts {
	var c counts
	for _, t := range train {
		k := binIndex(t, binMs, nb)
		if k < 0 {
			continue
		}
		if l := len(c.b); l > 0 && c.b[l-1] == k {
			c.n[l-1]++
			continue
		}
		c.b = append(c.b, k)
		c.n = append(c.n, 1)
	}
	return c
}

// moments returns the mean and variance (1/nb) of the counts over nb bins.
func (c counts) moments(nb int) (mean, variance float64) {
	s, ss := 0.0, 0.0
	for _, n := range c.n {
		x := float64(n)
		s += x
		ss += x * x
	}
	mean = s / float64(nb)
	variance = max(ss/float64(nb)-mean*mean, 0)
	return mean, variance
}

// dot returns sum_k a_k · b_k over bins.
func (c counts) dot(d counts) float64 {
	s := 0.0
	i, j := 0, 0
	for i < len(c.b) && j < len(d.b) {
		switch {
		case c.b[i] < d.b[j]:
			i++
		case c.b[i] > d.b[j]:
			j++
		default:
			s += float64(c.n[i]) * float64(d.n[j])
			i++
			j++
		}
	}
	return s
}

// Correlation returns the mean pairwise Pearson correlation coefficient of
// spike counts in bins of binMs. Neurons whose counts have zero variance
// (silent, or one count in every bin) are skipped; among the rest, all pairs
// are used when there are at most maxPairs of them, otherwise maxPairs
// distinct pairs are drawn uniformly at random with a PCG generator seeded by
// seed. It returns the mean and the number of pairs (NaN, 0 when no pair
// qualifies).
func Correlation(p Population, durationMs, binMs float64, maxPairs int, seed uint64) (corr float64, pairs int) {
	return correlation(ActiveTrains(p), durationMs, binMs, maxPairs, seed)
}

func correlation(trains [][]float64, durationMs, binMs float64, maxPairs int, seed uint64) (float64, int) {
	nb := numBins(durationMs, binMs)
	if nb < 2 || maxPairs <= 0 {
		return math.NaN(), 0
	}
	type neuron struct {
		c        counts
		mean, sd float64
	}
	var eligible []neuron
	for _, tr := range trains {
		if len(tr) == 0 {
			continue
		}
		c := sparseCounts(tr, binMs, nb)
		mean, variance := c.moments(nb)
		if variance > 1e-12*max(mean*mean, 1) {
			eligible = append(eligible, neuron{c, mean, math.Sqrt(variance)})
		}
	}
	e := len(eligible)
	if e < 2 {
		return math.NaN(), 0
	}
	pearson := func(a, b *neuron) float64 {
		cov := a.c.dot(b.c)/float64(nb) - a.mean*b.mean
		return cov / (a.sd * b.sd)
	}
	sum, n := 0.0, 0
	if total := int64(e) * int64(e-1) / 2; total <= int64(maxPairs) {
		for i := 0; i < e; i++ {
			for j := i + 1; j < e; j++ {
				sum += pearson(&eligible[i], &eligible[j])
				n++
			}
		}
		return sum / float64(n), n
	}
	rng := rand.New(rand.NewPCG(seed, 0x6d79656c696e)) // "myelin"
	seen := make(map[[2]int]struct{}, maxPairs)
	for n < maxPairs {
		i, j := rng.IntN(e), rng.IntN(e-1)
		if j >= i {
			j++
		}
		if i > j {
			i, j = j, i
		}
		if _, dup := seen[[2]int{i, j}]; dup {
			continue
		}
		seen[[2]int{i, j}] = struct{}{}
		sum += pearson(&eligible[i], &eligible[j])
		n++
	}
	return sum / float64(n), n
}
