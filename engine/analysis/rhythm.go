package analysis

import (
	"fmt"
	"strings"
)

// Rhythm describes the oscillations of one population's rate: how far its
// spectral peak stands out, and the theta–gamma phase–amplitude coupling.
type Rhythm struct {
	// Name is the population's.
	Name string
	// PeakHz is the spectral peak (as in PopStats.Spectrum); NaN if none.
	PeakHz float64
	// PeakToMedian is the peak power over the median power (see
	// [PeakToMedian]); NaN if undefined.
	PeakToMedian float64
	// NoiseP99 is the peak/median ratio that a flat spectrum's largest bin
	// exceeds with probability NoiseP ([NoisePeakRatio]); NaN if undefined.
	NoiseP99 float64
	// PAC is the phase–amplitude coupling of the population rate, valid
	// when PACErr is nil.
	PAC PAC
	// PACErr says why PAC was not computed (a run too short, a silent
	// population, bins too wide for the amplitude band).
	PACErr error
}

// Rhythms returns the rhythm of every population of the run, whose
// statistics stats come from [Analyze] (same order). The coupling is taken
// from the population rate in the spectrum's bins.
func Rhythms(run Run, stats []PopStats, opts PACOptions) []Rhythm {
	o := opts.withDefaults()
	need := MinPACDurationMs(o.PhaseLoHz)
	out := make([]Rhythm, 0, len(stats))
	for i, s := range stats {
		floor := s.Spectrum.peakFloor()
		r := Rhythm{Name: s.Name, PeakHz: s.Spectrum.PeakHz, PeakToMedian: PeakToMedian(s.Spectrum, floor),
			NoiseP99: NoisePeakRatio(s.Spectrum, floor, NoiseP)}
		switch {
		case o.PhaseLoHz > 0 && run.DurationMs < need:
			r.PACErr = fmt.Errorf("the run is %g ms, shorter than the %g ms (%d cycles of %g Hz) the modulation index needs", run.DurationMs, need, MinPACCycles, o.PhaseLoHz)
		case i < len(run.Pops):
			bin := s.Spectrum.BinMs
			if !(bin > 0) {
				bin = max(DefaultSpectrumBinMs, run.DtMs)
			}
			r.PAC, r.PACErr = PopulationPAC(run.Pops[i], run.DurationMs, bin, opts)
		default:
			r.PACErr = fmt.Errorf("population %q: no spikes given", s.Name)
		}
		out = append(out, r)
	}
	return out
}

// MinPACDurationMs is the shortest run for which [Rhythms] computes the
// modulation index with the phase band starting at phaseLoHz:
// MinPACCycles of its period.
func MinPACDurationMs(phaseLoHz float64) float64 {
	return MinPACCycles * 1000 / phaseLoHz
}

// RhythmSummary formats rhythms as a table with the columns population,
// peak Hz, peak/median, noise p99 (the ratio a flat spectrum passes with
// probability NoiseP), MI, surrogate p99 and coupled (whether the MI is
// above the surrogates' 99th percentile), headed by a line that says how the
// coupling was measured (opts as given to Rhythms). Undefined values print
// as "-", and every population without a modulation index gets a line
// saying why.
func RhythmSummary(rhythms []Rhythm, opts PACOptions) string {
	o := opts.withDefaults()
	var b strings.Builder
	fmt.Fprintf(&b, "rhythm: spectral peak over median power, against what a flat spectrum passes 1 %% of the time; theta–gamma modulation index (Tort et al. 2010: %g–%g Hz phase, %g–%g Hz amplitude) against %d shuffled surrogates\n",
		o.PhaseLoHz, o.PhaseHiHz, o.AmpLoHz, o.AmpHiHz, max(o.Surrogates, 0))
	rows := [][]string{{"population", "peak Hz", "peak/median", "noise p99", "MI", "surrogate p99", "coupled"}}
	var notes []string // distinct reasons, each with the populations it applies to
	who := map[string][]string{}
	for _, r := range rhythms {
		mi, p99, coupled := "-", "-", "-"
		if r.PACErr == nil {
			mi, p99 = num(r.PAC.MI, "%.5f"), num(r.PAC.SurrogateP99, "%.5f")
			if r.PAC.Surrogates > 0 {
				coupled = "no"
				if r.PAC.Significant() {
					coupled = fmt.Sprintf("yes, at %.0f°", r.PAC.PreferredPhaseDeg)
				}
			}
		} else {
			why := r.PACErr.Error()
			if who[why] == nil {
				notes = append(notes, why)
			}
			who[why] = append(who[why], r.Name)
		}
		rows = append(rows, []string{r.Name, num(r.PeakHz, "%.1f"), num(r.PeakToMedian, "%.1f"), num(r.NoiseP99, "%.1f"), mi, p99, coupled})
	}
	writeTable(&b, rows)
	for _, why := range notes {
		fmt.Fprintf(&b, "no modulation index for %s: %s\n", strings.Join(who[why], ", "), why)
	}
	return b.String()
}

// writeTable writes rows as aligned columns: the first left-aligned, the
// others right-aligned, two spaces apart.
func writeTable(b *strings.Builder, rows [][]string) {
	var width []int
	for _, r := range rows {
		for j, c := range r {
			if j >= len(width) {
				width = append(width, 0)
			}
			width[j] = max(width[j], len([]rune(c)))
		}
	}
	for _, r := range rows {
		for j, c := range r {
			pad := strings.Repeat(" ", width[j]-len([]rune(c)))
			if j == 0 {
				b.WriteString(c + pad)
			} else {
				b.WriteString("  " + pad + c)
			}
		}
		b.WriteByte('\n')
	}
}
