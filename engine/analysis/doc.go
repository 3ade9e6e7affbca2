// Package analysis computes the standard descriptive statistics of spiking
// network activity and draws the usual figures, independently of how the
// spikes were stored.
//
// The input is a [Run]: the simulation step, the duration and, per
// population, the spike times (ms) and local neuron ids. Readers of the Myelin
// stream (or of any other format) fill a Run; nothing here depends on the
// stream encoding.
//
// Per population, [Analyze] reports
//
//   - the mean firing rate over all neurons, silent ones included;
//   - the coefficient of variation of inter-spike intervals (CV ISI);
//   - the Fano factor of spike counts in bins (default 100 ms);
//   - the mean pairwise Pearson correlation of binned spike counts (default
//     5 ms bins) over a deterministic random sample of neuron pairs;
//   - the power spectrum of the population rate (Welch's method) and its peak.
//
// [Rhythms] adds, per population, how far the spectral peak stands out of
// the median power ([PeakToMedian]) and the theta–gamma phase–amplitude
// coupling of the population rate: the modulation index of Tort et al.
// (2010) against shuffled surrogates ([ModulationIndex]).
//
// For ring (continuous attractor) models, [DecodeBump], [BumpPosition] and
// [DecodeRingSpikes] decode the bump position by population-vector decoding.
// For autoassociative (Hopfield-type) memories, [PatternOverlap],
// [ActiveNeurons], [PatternOverlaps] and [OverlapsPlot] measure and draw the
// overlap of the activity with stored patterns.
// [Raster] and [Rates] draw PNG figures with gonum.org/v1/plot, and
// [Summary] formats the statistics as a text table.
//
// Conventions shared by all binned measures: a run covers [0, DurationMs);
// bins are [k·b, (k+1)·b) for k = 0 … floor(DurationMs/b)-1, so a trailing
// partial bin is dropped, and a spike time lying within 1e-9 bins below a
// boundary is counted in the later bin (spike times that are multiples of the
// step dt are not split by floating-point rounding). Variances and standard
// deviations are population (1/n) moments, as in Elephant. A statistic that is
// undefined (no neuron qualifies) is NaN.
//
// Work and memory are bounded by the spikes and fixed caps, never by the
// duration or population count a run claims: no binned series allocates more
// than [MaxBins] bins (the sparse counts of Fano and correlation only the bins
// that hold spikes), the spectra of all the populations that fired share
// [MaxRunBins] bins (their bins widen to fit), silent populations cost no
// bins, and a rates figure draws at most [MaxLinePoints] points a line.
package analysis
