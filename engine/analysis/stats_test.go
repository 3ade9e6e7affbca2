package analysis

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestPoissonPopulation(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const rate, dur = 20.0, 50_000.0
	run := Run{DtMs: 0.1, DurationMs: dur, Pops: []Population{poissonPop(rng, "E", 200, rate, dur)}}
	st, err := Analyze(run, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := st[0]
	t.Logf("rate %.3f Hz, CV %.4f (%d), Fano %.4f (%d), corr %.5f (%d pairs), peak %.1f Hz",
		s.RateHz, s.CV, s.CVNeurons, s.Fano, s.FanoNeurons, s.Corr, s.CorrPairs, s.Spectrum.PeakHz)
	if math.Abs(s.RateHz-rate)/rate > 0.02 {
		t.Errorf("rate %g Hz, want %g within 2%%", s.RateHz, rate)
	}
	if math.Abs(s.CV-1) > 0.05 || s.CVNeurons != 200 {
		t.Errorf("CV %g over %d neurons, want 1 ± 0.05 over 200", s.CV, s.CVNeurons)
	}
	if math.Abs(s.Fano-1) > 0.1 || s.FanoNeurons != 200 {
		t.Errorf("Fano %g over %d neurons, want 1 ± 0.1 over 200", s.Fano, s.FanoNeurons)
	}
	if math.Abs(s.Corr) > 0.05 || s.CorrPairs != DefaultCorrPairs {
		t.Errorf("corr %g over %d pairs, want 0 ± 0.05 over %d", s.Corr, s.CorrPairs, DefaultCorrPairs)
	}
	// A flat spectrum: the one-sided PSD of the rate of N Poisson neurons
	// is 2·rate/N.
	sp := s.Spectrum
	if sp.Segments != 99 || len(sp.FreqHz) != 501 || sp.FreqHz[1] != 1 || sp.FreqHz[500] != 500 {
		t.Errorf("spectrum: %d segments, %d frequencies, df %g, max %g; want 99, 501, 1, 500",
			sp.Segments, len(sp.FreqHz), sp.FreqHz[1], sp.FreqHz[len(sp.FreqHz)-1])
	}
	mean := 0.0
	for _, p := range sp.Power[10:400] {
		mean += p
	}
	mean /= 390
	if want := 2 * rate / 200; math.Abs(mean-want)/want > 0.05 {
		t.Errorf("mean PSD %g Hz²/Hz, want %g (2·rate/N) within 5%%", mean, want)
	}

	// Same seed, same sample; another seed, another sample.
	c1, n1 := Correlation(run.Pops[0], dur, 5, 200, 7)
	c2, _ := Correlation(run.Pops[0], dur, 5, 200, 7)
	c3, _ := Correlation(run.Pops[0], dur, 5, 200, 8)
	if c1 != c2 || c1 == c3 || n1 != 200 {
		t.Errorf("correlation sampling: seed 7 gives %g and %g, seed 8 gives %g (%d pairs)", c1, c2, c3, n1)
	}
}

func TestRegularTrain(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const dur = 10_000.0
	p := regularPop(rng, 50, 50, dur) // 20 Hz
	cv, n := CVISI(p)
	if !(cv < 0.01) || n != 50 {
		t.Errorf("CV %g over %d neurons, want < 0.01 over 50", cv, n)
	}
	f, n := Fano(p, dur, 100)
	if !(f < 0.01) || n != 50 {
		t.Errorf("Fano %g over %d neurons, want ≈ 0 over 50", f, n)
	}
	if r := MeanRate(p, dur); math.Abs(r-20) > 0.1 {
		t.Errorf("rate %g Hz, want 20", r)
	}
}

func TestSilentAndSparse(t *testing.T) {
	// Silent neurons count in the rate; neurons with < 3 spikes are not in CV.
	p := Population{Name: "sparse", Size: 10,
		TimesMs: []float64{10, 20, 40, 5, 15},
		IDs:     []uint32{0, 0, 0, 1, 1}}
	if r := MeanRate(p, 1000); math.Abs(r-0.5) > 1e-12 {
		t.Errorf("rate %g, want 0.5 Hz", r)
	}
	cv, n := CVISI(p)
	// ISIs 10 and 20: std 5, mean 15.
	if n != 1 || math.Abs(cv-1.0/3) > 1e-12 {
		t.Errorf("CV %g over %d, want 1/3 over 1", cv, n)
	}
	st, err := Analyze(Run{DurationMs: 1000, Pops: []Population{p, {Name: "empty"}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if e := st[1]; !math.IsNaN(e.RateHz) || !math.IsNaN(e.CV) || !math.IsNaN(e.Corr) || !math.IsNaN(e.Spectrum.PeakHz) {
		t.Errorf("empty population: %+v, want NaN statistics", e)
	}
}

func TestSharedInputCorrelation(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const dur = 20_000.0
	// Own 15 Hz + shared 5 Hz: corr = var(shared)/var(total) = 5/20.
	p := sharedPop(rng, 40, 15, 5, dur)
	c, n := Correlation(p, dur, 5, 200, 1)
	if math.Abs(c-0.25) > 0.03 || n != 200 {
		t.Errorf("corr %g over %d pairs, want 0.25 ± 0.03 over 200", c, n)
	}
	// Fewer eligible pairs than requested: all of them are used.
	if _, n := Correlation(p, dur, 5, 1000, 1); n != 40*39/2 {
		t.Errorf("%d pairs, want all %d", n, 40*39/2)
	}
}

func TestSpectralPeak(t *testing.T) {
	for _, f := range []float64{10, 37} {
		rng := rand.New(rand.NewPCG(uint64(f), 9))
		const dur = 10_000.0
		p := modulatedPop(rng, 200, 20, 0.5, f, dur)
		sp, err := PowerSpectrum(p, dur, 1, 1000, 1)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(sp.PeakHz-f) > 0.5 {
			t.Errorf("%g Hz modulation: peak at %g Hz, want %g ± 0.5", f, sp.PeakHz, f)
		}
		// Through Analyze with the defaults (bin max(dt, 1 ms)).
		st, err := AnalyzePopulation(p, dur, 0.1, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Spectrum.PeakHz; math.Abs(got-f) > 0.5 || st.Spectrum.BinMs != 1 {
			t.Errorf("%g Hz modulation via Analyze: peak %g Hz at bin %g ms", f, got, st.Spectrum.BinMs)
		}
		t.Logf("%g Hz: peak %.3f Hz, power %.3g", f, sp.PeakHz, sp.PeakPower)
	}
}

func TestGridTimesBinning(t *testing.T) {
	// Spikes on the 0.1 ms grid: step 10 (1.0 ms) and step 30 (3.0 ms) must
	// land in bins 1 and 3 of 1 ms, whatever the rounding of k·0.1.
	var p Population
	p.Size = 1
	for _, k := range []int{10, 30, 70} {
		p.TimesMs = append(p.TimesMs, float64(k)*0.1)
		p.IDs = append(p.IDs, 0)
	}
	c, err := BinnedCounts(p, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []int{1, 3, 7} {
		if c[b][0] != 1 {
			t.Errorf("bin %d holds %g spikes, want 1", b, c[b][0])
		}
	}
}

func TestValidate(t *testing.T) {
	bad := []Run{
		{DurationMs: 0},
		{DurationMs: 10, DtMs: -1},
		{DurationMs: 10, Pops: []Population{{Name: "a", Size: 2, TimesMs: []float64{1}, IDs: []uint32{2}}}},
		{DurationMs: 10, Pops: []Population{{Name: "a", Size: 2, TimesMs: []float64{11}, IDs: []uint32{0}}}},
		{DurationMs: 10, Pops: []Population{{Name: "a", Size: 2, TimesMs: []float64{1, 2}, IDs: []uint32{0}}}},
	}
	for i, r := range bad {
		if _, err := Analyze(r, Options{}); err == nil {
			t.Errorf("run %d: no error", i)
		} else {
			t.Logf("run %d: %v", i, err)
		}
	}
	if _, err := Analyze(Run{DurationMs: 10}, Options{FanoBinMs: -1}); err != nil {
		t.Errorf("no populations: %v", err)
	}
	if _, err := AnalyzePopulation(Population{Size: 1}, 10, 0, Options{FanoBinMs: -1}); err == nil || !strings.Contains(err.Error(), "FanoBinMs") {
		t.Errorf("negative FanoBinMs: error %v", err)
	}
}

func TestSummary(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	run := Run{DtMs: 0.1, DurationMs: 2000, Pops: []Population{
		poissonPop(rng, "excitatory", 100, 10, 2000),
		{Name: "I", Size: 5},
	}}
	st, err := Analyze(run, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := Summary(st)
	t.Logf("\n%s", out)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3", len(lines))
	}
	for _, w := range []string{"population", "neurons", "spikes", "rate Hz", "CV ISI", "Fano", "corr", "peak Hz"} {
		if !strings.Contains(lines[0], w) {
			t.Errorf("header %q lacks %q", lines[0], w)
		}
	}
	if !strings.HasPrefix(lines[1], "excitatory") || !strings.HasPrefix(lines[2], "I ") || !strings.HasSuffix(lines[2], "-") {
		t.Errorf("rows:\n%s\n%s", lines[1], lines[2])
	}
}

// After drops the transient and shifts the rest: a population firing 10
// spikes in its first 100 ms and 5 in the next 400 ms has a rate of
// 5/(0.4 s × size) after 100 ms. A spike stamped at 100 ms (the end of the
// step that made it) belongs to the first 100 ms.
func TestRunAfter(t *testing.T) {
	var times []float64
	var ids []uint32
	for i := range 10 {
		times, ids = append(times, float64(i+1)*10), append(ids, 0) // the last at 100
	}
	for i := range 5 {
		times, ids = append(times, 100.1+float64(i)*80), append(ids, 1)
	}
	run := Run{DtMs: 0.1, DurationMs: 500, Pops: []Population{{Name: "p", Size: 2, TimesMs: times, IDs: ids}}}
	late := run.After(100)
	if late.DurationMs != 400 || late.StartMs != 100 || len(late.Pops[0].TimesMs) != 5 ||
		math.Abs(late.Pops[0].TimesMs[0]-0.1) > 1e-9 || late.Pops[0].IDs[0] != 1 {
		t.Fatalf("After(100) = %+v", late)
	}
	if again := late.After(50); again.StartMs != 150 {
		t.Errorf("After(100).After(50) starts at %g ms, want 150", again.StartMs)
	}
	// Stamps are (step+1)·dt in floating point: 3·0.1 is
	// 0.30000000000000004, still the end of the third step.
	steps := Run{DtMs: 0.1, DurationMs: 1, Pops: []Population{{Name: "q", Size: 1}}}
	for k := 1; k <= 10; k++ {
		steps.Pops[0].TimesMs = append(steps.Pops[0].TimesMs, float64(k)*0.1)
		steps.Pops[0].IDs = append(steps.Pops[0].IDs, 0)
	}
	if n := len(steps.After(0.3).Pops[0].TimesMs); n != 7 {
		t.Errorf("After(0.3) of one spike a step for 10 steps keeps %d, want 7", n)
	}
	stats, err := Analyze(late, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := stats[0].RateHz; math.Abs(got-5/(0.4*2)) > 1e-9 {
		t.Errorf("rate after the transient %g Hz, want %g", got, 5/(0.4*2))
	}
	if past := run.After(600); past.DurationMs != 0 || len(past.Pops[0].TimesMs) != 0 {
		t.Errorf("After past the end: %+v", past)
	}
}
