package analysis

import (
	"fmt"
	"math"
	"math/cmplx"

	"gonum.org/v1/gonum/dsp/fourier"
	"gonum.org/v1/gonum/stat/distuv"
)

// Spectrum is the power spectral density of a population rate.
type Spectrum struct {
	// FreqHz are the frequencies, from 0 to the Nyquist frequency.
	FreqHz []float64
	// Power is the one-sided power spectral density of the population rate
	// in Hz²/Hz (the rate is in spikes per neuron per second).
	Power []float64
	// PeakHz is the frequency of the largest Power at or above the minimum
	// peak frequency, refined by parabolic interpolation over the neighbouring
	// bins; NaN when no bin qualifies or the rate is constant.
	PeakHz float64
	// PeakPower is the Power of the bin nearest PeakHz.
	PeakPower float64
	// BinMs is the bin width of the population rate.
	BinMs float64
	// Segments is the number of averaged Welch segments.
	Segments int
	// MinPeakHz is the lowest frequency the peak was searched from.
	MinPeakHz float64
}

// peakFloor is the lowest frequency s's peak was searched from:
// s.MinPeakHz, or DefaultMinPeakHz for a Spectrum made without it.
func (s Spectrum) peakFloor() float64 {
	if s.MinPeakHz > 0 {
		return s.MinPeakHz
	}
	return DefaultMinPeakHz
}

// NoiseP is the chance level of [PeakAboveNoise]: the largest searched bin
// of a flat (white) spectrum's Welch estimate passes it with this
// probability.
const NoiseP = 0.01

// hannOverlapCorr is the correlation between the periodograms of two
// Hann-windowed segments that overlap by half (Harris 1978, table 1:
// 0.167), which lowers the degrees of freedom of Welch's average.
const hannOverlapCorr = 0.167

// NoisePeakRatio returns the ratio of the largest to the median of the bins
// at or above minHz (DC excluded; [PeakToMedian]) that a flat spectrum's
// Welch estimate s exceeds with probability p: as if the population rate
// were white noise, each bin its power times a χ² variable of ν degrees of
// freedom over ν, independently, with ν = 2K / (1 + 2ρ²(K-1)/K) for K
// segments overlapping by half (ρ = hannOverlapCorr). NaN when s has no
// segment or no such bin.
func NoisePeakRatio(s Spectrum, minHz, p float64) float64 {
	n := len(s.searched(minHz))
	k := float64(s.Segments)
	if n == 0 || k < 1 || !(p > 0 && p < 1) {
		return math.NaN()
	}
	nu := 2 * k / (1 + 2*hannOverlapCorr*hannOverlapCorr*(k-1)/k)
	g := distuv.Gamma{Alpha: nu / 2, Beta: nu / 2}
	return g.Quantile(math.Pow(1-p, 1/float64(n))) / g.Quantile(0.5)
}

// searched returns the powers of the bins at or above minHz, DC excluded:
// those the peak is searched in, and PeakToMedian's median taken over.
func (s Spectrum) searched(minHz float64) []float64 {
	var ps []float64
	for k, f := range s.FreqHz {
		if k > 0 && f >= minHz && k < len(s.Power) {
			ps = append(ps, s.Power[k])
		}
	}
	return ps
}

// PeakAboveNoise reports whether the spectral peak of s (at or above minHz)
// stands out of a flat spectrum: its peak/median ratio is above
// NoisePeakRatio at NoiseP. A population firing irregularly and
// independently has a flat spectrum, and the largest of its bins, at
// whatever frequency it falls, is not a rhythm.
func PeakAboveNoise(s Spectrum, minHz float64) bool {
	return PeakToMedian(s, minHz) > NoisePeakRatio(s, minHz, NoiseP)
}

// PowerSpectrum returns the power spectrum of the population rate.
//
// The population rate r[k] = (spikes in bin k) / (Size · binMs) is formed in
// the whole bins of width binMs of the run and its spectrum estimated with
// Welch's method: segments of segmentMs (the whole run when it is shorter)
// overlapping by half, each with its own mean removed and multiplied by a
// periodic Hann window; their periodograms are averaged and scaled to a
// one-sided density (Hz²/Hz, so Power summed times the frequency step is the
// rate variance). The peak is searched at frequencies >= minPeakHz, DC
// excluded.
func PowerSpectrum(p Population, durationMs, binMs, segmentMs, minPeakHz float64) (Spectrum, error) {
	if !(binMs > 0) || !(segmentMs > 0) {
		return Spectrum{}, fmt.Errorf("power spectrum: bin %g ms and segment %g ms, want both > 0", binMs, segmentMs)
	}
	nb := numBins(durationMs, binMs)
	if nb < 4 {
		return Spectrum{}, fmt.Errorf("power spectrum: %d bins of %g ms in %g ms, want at least 4", nb, binMs, durationMs)
	}
	if nb > MaxBins {
		return Spectrum{}, fmt.Errorf("power spectrum: %g ms in bins of %g ms makes more than %d bins; use bins of at least %g ms", durationMs, binMs, MaxBins, durationMs/MaxBins)
	}
	if p.Size <= 0 {
		return Spectrum{}, fmt.Errorf("power spectrum: population %q has no neurons", p.Name)
	}
	rate := make([]float64, nb)
	scale := 1 / (float64(p.Size) * binMs * 1e-3)
	for _, t := range p.TimesMs {
		if k := binIndex(t, binMs, nb); k >= 0 {
			rate[k] += scale
		}
	}
	return welch(rate, binMs, segmentMs, minPeakHz), nil
}

// welch estimates the one-sided PSD of x sampled every binMs.
func welch(x []float64, binMs, segmentMs, minPeakHz float64) Spectrum {
	dt := binMs * 1e-3
	l := min(max(int(math.Round(segmentMs/binMs)), 4), len(x))
	step := max(l/2, 1)
	win := make([]float64, l)
	wss := 0.0
	for j := range win {
		win[j] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(j)/float64(l))
		wss += win[j] * win[j]
	}
	fft := fourier.NewFFT(l)
	nf := l/2 + 1
	acc := make([]float64, nf)
	seg := make([]float64, l)
	coef := make([]complex128, nf)
	segments := 0
	for start := 0; start+l <= len(x); start += step {
		mean := 0.0
		for _, v := range x[start : start+l] {
			mean += v
		}
		mean /= float64(l)
		for j := range seg {
			seg[j] = (x[start+j] - mean) * win[j]
		}
		coef = fft.Coefficients(coef, seg)
		for k, c := range coef {
			a := cmplx.Abs(c)
			acc[k] += a * a
		}
		segments++
	}
	s := Spectrum{
		FreqHz:    make([]float64, nf),
		Power:     make([]float64, nf),
		BinMs:     binMs,
		Segments:  segments,
		PeakHz:    math.NaN(),
		MinPeakHz: minPeakHz,
	}
	norm := dt / (wss * float64(segments))
	df := 1 / (float64(l) * dt)
	for k := range acc {
		s.FreqHz[k] = float64(k) * df
		pw := acc[k] * norm
		if k > 0 && !(l%2 == 0 && k == l/2) {
			pw *= 2 // fold negative frequencies
		}
		s.Power[k] = pw
	}
	best := -1
	for k := 1; k < nf; k++ {
		if s.FreqHz[k] >= minPeakHz && (best < 0 || s.Power[k] > s.Power[best]) {
			best = k
		}
	}
	if best < 0 || !(s.Power[best] > 0) {
		return s // no frequency to search, or a constant rate
	}
	s.PeakPower = s.Power[best]
	delta := 0.0
	if best > 1 && best+1 < nf {
		a, b, c := s.Power[best-1], s.Power[best], s.Power[best+1]
		if den := a - 2*b + c; den < 0 {
			delta = max(-0.5, min(0.5, 0.5*(a-c)/den))
		}
	}
	s.PeakHz = (float64(best) + delta) * df
	return s
}
