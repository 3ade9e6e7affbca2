package analysis

import (
	"math"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// coupledPop draws spikes of size neurons over durMs from a rate of 20 Hz
// with a 6 Hz part of amplitude theta (Hz) and a 40 Hz part of amplitude
// 16·m·(1 + cos θ)/2 Hz, θ the 6 Hz phase (m = 0: no 40 Hz part).
func coupledPop(rng *rand.Rand, name string, size int, durMs, theta, m float64) Population {
	p := Population{Name: name, Size: size}
	for k := 0; k < int(durMs); k++ {
		t := float64(k) / 1000
		th := 2 * math.Pi * 6 * t
		r := 20 + theta*math.Cos(th) + 16*m*(1+math.Cos(th))/2*math.Cos(2*math.Pi*40*t)
		for i := 0; i < size; i++ {
			if rng.Float64() < r/1000 {
				p.TimesMs = append(p.TimesMs, float64(k)+0.5)
				p.IDs = append(p.IDs, uint32(i))
			}
		}
	}
	return p
}

// The rhythm table: a coupled population says yes at its preferred phase,
// an uncoupled one (Poisson spikes at a constant rate) no, a silent one has no MI and a line saying why; the
// spectral peak and its ratio come from the statistics.
func TestRhythmSummary(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	run := Run{DtMs: 0.1, DurationMs: 5000, Pops: []Population{
		coupledPop(rng, "A", 200, 5000, 10, 1), coupledPop(rng, "B", 200, 5000, 0, 0), {Name: "S", Size: 10},
	}}
	stats, err := Analyze(run, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rh := Rhythms(run, stats, PACOptions{})
	out := RhythmSummary(rh, PACOptions{})
	t.Logf("\n%s", out)
	if len(rh) != 3 || rh[0].PACErr != nil || rh[1].PACErr != nil || rh[2].PACErr == nil {
		t.Fatalf("rhythms %+v: want A and B with an MI, S without", rh)
	}
	if !rh[0].PAC.Significant() || rh[1].PAC.Significant() {
		t.Errorf("A coupled %v (MI %g, p99 %g), B coupled %v (MI %g, p99 %g): want A only", rh[0].PAC.Significant(), rh[0].PAC.MI, rh[0].PAC.SurrogateP99,
			rh[1].PAC.Significant(), rh[1].PAC.MI, rh[1].PAC.SurrogateP99)
	}
	if math.Abs(rh[0].PeakHz-stats[0].Spectrum.PeakHz) > 0 || !(rh[0].PeakToMedian > 5) {
		t.Errorf("A: peak %g Hz (stats %g), ratio %g: want the statistics' peak, > 5× the median", rh[0].PeakHz, stats[0].Spectrum.PeakHz, rh[0].PeakToMedian)
	}
	for _, re := range []string{
		`(?m)^A +\d+\.\d +\d+\.\d +\d+\.\d +0\.\d{5} +0\.\d{5} +yes, at -?\d+°$`,
		`(?m)^B +\d+\.\d +\d+\.\d +\d+\.\d +0\.\d{5} +0\.\d{5} +no$`,
		`(?m)^S +- +- +- +- +- +-$`,
		`(?m)^no modulation index for S: population "S": modulation index: the signal is constant \(0\)$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("output does not match %s:\n%s", re, out)
		}
	}

	// Too short a run: one line for all populations.
	short := Run{DtMs: 0.1, DurationMs: 2000, Pops: run.Pops[:2]}
	for i := range short.Pops {
		short.Pops[i] = short.After(0).Pops[i]
	}
	short.Pops[0].TimesMs, short.Pops[0].IDs = nil, nil
	short.Pops[1].TimesMs, short.Pops[1].IDs = []float64{1}, []uint32{0}
	stats, err = Analyze(short, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out = RhythmSummary(Rhythms(short, stats, PACOptions{}), PACOptions{})
	if want := "no modulation index for A, B: the run is 2000 ms, shorter than the 2500 ms (10 cycles of 4 Hz) the modulation index needs\n"; !strings.HasSuffix(out, want) {
		t.Errorf("short run: want the note %q:\n%s", want, out)
	}

	// Bins too wide for the gamma band: said, not computed.
	rh = Rhythms(run, []PopStats{{Name: "A", Spectrum: Spectrum{BinMs: 10, PeakHz: math.NaN()}}}, PACOptions{})
	if rh[0].PACErr == nil || !strings.Contains(rh[0].PACErr.Error(), "bins of 10 ms: amplitude band 30–80 Hz") {
		t.Errorf("10 ms bins: %v, want an error naming the bins and the band", rh[0].PACErr)
	}
}

// TestPeakAboveNoise: populations of independent Poisson neurons (a flat
// spectrum) rarely have a peak above noise, at the nominal 1 % level
// (allowing for the approximation: at most 4 % of 200 runs, for runs of
// one Welch segment and of nine); a population whose rate is modulated at
// 40 Hz always has, at 40 Hz; and the summary table shows a peak only
// where it stands out.
func TestPeakAboveNoise(t *testing.T) {
	for _, dur := range []float64{1000, 5000} {
		hits := 0
		for seed := range uint64(200) {
			rng := rand.New(rand.NewPCG(seed, 77))
			stats, err := Analyze(Run{DtMs: 0.1, DurationMs: dur, Pops: []Population{poissonPop(rng, "P", 200, 5, dur)}}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if PeakAboveNoise(stats[0].Spectrum, DefaultMinPeakHz) {
				hits++
			}
		}
		if hits > 8 {
			t.Errorf("%g ms of Poisson neurons: a peak above noise in %d of 200 runs, want about 2 (at most 8)", dur, hits)
		}
		t.Logf("%g ms: %d of 200 Poisson runs above noise", dur, hits)
	}
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 78))
		run := Run{DtMs: 0.1, DurationMs: 1000, Pops: []Population{modulatedPop(rng, 200, 5, 0.5, 40, 1000), poissonPop(rng, "flat", 200, 5, 1000)}}
		stats, err := Analyze(run, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if s := stats[0].Spectrum; !PeakAboveNoise(s, DefaultMinPeakHz) || math.Abs(s.PeakHz-40) > 1.5 {
			t.Errorf("seed %d: 40 Hz modulation: peak %g Hz, above noise %v", seed, s.PeakHz, PeakAboveNoise(s, DefaultMinPeakHz))
		}
		if seed == 0 {
			tab := Summary(stats)
			if !regexp.MustCompile(`(?m)^modulated .* (39|40|41)\.\d$`).MatchString(tab) {
				t.Errorf("summary does not show the 40 Hz peak:\n%s", tab)
			}
			if above := PeakAboveNoise(stats[1].Spectrum, DefaultMinPeakHz); !above && !regexp.MustCompile(`(?m)^flat .* -$`).MatchString(tab) {
				t.Errorf("summary shows a peak for the flat population:\n%s", tab)
			}
		}
	}
}

// TestSpectrumBinsWholeSteps: spectrum bins are whole numbers of steps, so
// Poisson spikes on a 0.4 ms or 0.3 ms grid (1 ms bins would hold 2 and 3
// steps by turns) show no line at the pattern's frequency; before, 20 of
// 20 such runs had a peak "above noise" at 500 or 333 Hz.
func TestSpectrumBinsWholeSteps(t *testing.T) {
	for _, dt := range []float64{0.4, 0.3, 0.7} {
		hits := 0
		for seed := range uint64(20) {
			rng := rand.New(rand.NewPCG(seed, 79))
			p := poissonPop(rng, "P", 300, 8, 3000)
			for k, tm := range p.TimesMs {
				p.TimesMs[k] = min(math.Ceil(tm/dt), math.Floor(3000/dt)) * dt // stamped at the end of their step
			}
			stats, err := Analyze(Run{DtMs: dt, DurationMs: 3000, Pops: []Population{p}}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if b := stats[0].Spectrum.BinMs; math.Abs(b/dt-math.Round(b/dt)) > 1e-9 {
				t.Fatalf("dt %g: a bin of %g ms", dt, b)
			}
			if PeakAboveNoise(stats[0].Spectrum, DefaultMinPeakHz) {
				hits++
			}
		}
		if hits > 2 {
			t.Errorf("dt %g ms: %d of 20 Poisson runs with a peak above noise", dt, hits)
		}
	}
}
