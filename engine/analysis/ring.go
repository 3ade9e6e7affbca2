package analysis

import (
	"fmt"
	"math"
)

// ringBasis returns cos θ_i and sin θ_i for θ_i = 2π i / n.
func ringBasis(n int) (cos, sin []float64) {
	cos, sin = make([]float64, n), make([]float64, n)
	for i := range n {
		sin[i], cos[i] = math.Sincos(2 * math.Pi * float64(i) / float64(n))
	}
	return cos, sin
}

// popVector returns the population vector angle in degrees [0, 360) and the
// resultant length sum r_i e^{iθ_i}; the angle is NaN when the length is 0.
func popVector(n int, r func(i int) float64, cos, sin []float64) (deg, length float64) {
	var x, y float64
	for i := range n {
		v := r(i)
		x += v * cos[i]
		y += v * sin[i]
	}
	length = math.Hypot(x, y)
	if !(length > 0) {
		return math.NaN(), 0
	}
	return wrapDeg(math.Atan2(y, x) * 180 / math.Pi), length
}

// wrapDeg maps an angle in degrees into [0, 360).
func wrapDeg(d float64) float64 {
	d = math.Mod(d, 360)
	if d < 0 {
		d += 360
	}
	if d >= 360 {
		d = 0
	}
	return d
}

// DecodeBump decodes the bump position on a ring in every time bin by
// population-vector decoding. activity[t][i] is the rate or spike count of
// neuron i in bin t; neuron i of N sits at θ_i = 2π i / N, and the decoded
// angle is atan2(Σ r_i sin θ_i, Σ r_i cos θ_i) in degrees [0, 360). A bin
// whose population vector is zero (e.g. no spikes) decodes to NaN. Every bin
// must hold the same number of neurons as the first.
func DecodeBump(activity [][]float64) ([]float64, error) {
	if len(activity) == 0 {
		return nil, nil
	}
	n := len(activity[0])
	cos, sin := ringBasis(n)
	out := make([]float64, len(activity))
	for t, row := range activity {
		if len(row) != n {
			return nil, fmt.Errorf("decode bump: bin %d has %d neurons, want %d", t, len(row), n)
		}
		out[t], _ = popVector(n, func(i int) float64 { return row[i] }, cos, sin)
	}
	return out, nil
}

// BumpPosition decodes one sample of rates r on a ring (neuron i at
// 2π i / N): deg is the population-vector angle in [0, 360) and amplitude
// the magnitude of the first circular harmonic, (2/N)·|Σ r_i e^{iθ_i}|, so
// that r_i = a + b·cos(θ_i - θ0) gives amplitude b. A flat or all-zero
// profile gives NaN and 0.
func BumpPosition(r []float32) (deg, amplitude float64) {
	n := len(r)
	if n == 0 {
		return math.NaN(), 0
	}
	cos, sin := ringBasis(n)
	deg, length := popVector(n, func(i int) float64 { return float64(r[i]) }, cos, sin)
	if math.IsNaN(deg) || length <= 1e-12*l1(r) {
		return math.NaN(), 0
	}
	return deg, 2 * length / float64(n)
}

// l1 returns the sum of |r_i|.
func l1(r []float32) float64 {
	s := 0.0
	for _, v := range r {
		s += math.Abs(float64(v))
	}
	return s
}

// BinnedCounts returns the spike counts of a population in the whole bins of
// width binMs of a run of durationMs: counts[k][i] is the number of spikes of
// neuron i in bin k. Spikes with an id outside [0, Size) are an error.
func BinnedCounts(p Population, durationMs, binMs float64) ([][]float64, error) {
	nb := numBins(durationMs, binMs)
	if nb < 1 {
		return nil, fmt.Errorf("binned counts: population %q: no whole bin of %g ms in %g ms", p.Name, binMs, durationMs)
	}
	if len(p.IDs) != len(p.TimesMs) {
		return nil, fmt.Errorf("binned counts: population %q: %d spike times but %d ids", p.Name, len(p.TimesMs), len(p.IDs))
	}
	if p.Size < 0 || int64(nb)*int64(p.Size) > MaxBins*64 {
		return nil, fmt.Errorf("binned counts: population %q: %d bins of %d neurons is more than the %d counts allowed; use wider bins", p.Name, nb, p.Size, MaxBins*64)
	}
	flat := make([]float64, nb*p.Size)
	out := make([][]float64, nb)
	for k := range out {
		out[k] = flat[k*p.Size : (k+1)*p.Size : (k+1)*p.Size]
	}
	for s, id := range p.IDs {
		if int64(id) >= int64(p.Size) {
			return nil, fmt.Errorf("binned counts: population %q: spike %d has id %d, want id < size %d", p.Name, s, id, p.Size)
		}
		if k := binIndex(p.TimesMs[s], binMs, nb); k >= 0 {
			out[k][id]++
		}
	}
	return out, nil
}

// DecodeRingSpikes decodes the bump position of a spiking ring population
// (neuron i at 2π i / Size) from its spike counts in bins of binMs. It
// returns the bin centres in ms and the decoded angles in degrees [0, 360),
// NaN for bins without spikes. It sums each bin's population vector spike
// by spike, so its work and memory grow with the spikes and the bins (at
// most MaxBins), not with Size.
func DecodeRingSpikes(p Population, durationMs, binMs float64) (centersMs, deg []float64, err error) {
	nb := numBins(durationMs, binMs)
	switch {
	case nb < 1:
		return nil, nil, fmt.Errorf("decode ring spikes: population %q: no whole bin of %g ms in %g ms", p.Name, binMs, durationMs)
	case nb > MaxBins:
		return nil, nil, fmt.Errorf("decode ring spikes: population %q: bins of %g ms make more than %d bins of the %g ms run; use bins of at least %.3g ms", p.Name, binMs, MaxBins, durationMs, durationMs/MaxBins)
	case len(p.IDs) != len(p.TimesMs):
		return nil, nil, fmt.Errorf("decode ring spikes: population %q: %d spike times but %d ids", p.Name, len(p.TimesMs), len(p.IDs))
	case p.Size < 0:
		return nil, nil, fmt.Errorf("decode ring spikes: population %q: size %d is negative", p.Name, p.Size)
	}
	x, y := make([]float64, nb), make([]float64, nb)
	for s, id := range p.IDs {
		if int64(id) >= int64(p.Size) {
			return nil, nil, fmt.Errorf("decode ring spikes: population %q: spike %d has id %d, want id < size %d", p.Name, s, id, p.Size)
		}
		if k := binIndex(p.TimesMs[s], binMs, nb); k >= 0 {
			sin, cos := math.Sincos(2 * math.Pi * float64(id) / float64(p.Size))
			x[k] += cos
			y[k] += sin
		}
	}
	centersMs, deg = make([]float64, nb), x // the angles replace x
	for k := range centersMs {
		centersMs[k] = (float64(k) + 0.5) * binMs
		if math.Hypot(x[k], y[k]) > 0 {
			deg[k] = wrapDeg(math.Atan2(y[k], x[k]) * 180 / math.Pi)
		} else {
			deg[k] = math.NaN()
		}
	}
	return centersMs, deg, nil
}
