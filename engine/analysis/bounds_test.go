package analysis

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/internal/memtest"
)

// claimRun is a run of firing populations with one spike each and silent
// ones, all of one neuron, over durationMs at dt 0.1 ms.
func claimRun(firing, silent int, durationMs float64) Run {
	run := Run{DtMs: 0.1, DurationMs: durationMs}
	for i := range firing + silent {
		p := Population{Name: fmt.Sprintf("P%d", i), Size: 1}
		if i < firing {
			p.TimesMs, p.IDs = []float64{float64(i) + 0.1}, []uint32{0}
		}
		run.Pops = append(run.Pops, p)
	}
	return run
}

// The spectra of a run share MaxRunBins bins among the populations that
// fired, and silent populations take none: a run that claims 2^40 steps
// costs the same whatever its population count. Before, each population
// took a spectrum of MaxBins bins (0.15 s and ~30 MB each).
func TestSpectraShareTheBinBudget(t *testing.T) {
	run := claimRun(20, 20, float64(1<<40)*0.1)
	var stats []PopStats
	n := memtest.Allocated(func() {
		var err error
		if stats, err = Analyze(run, Options{}); err != nil {
			t.Fatal(err)
		}
	})
	bins := 0.0
	for i, s := range stats {
		if i < 20 {
			bins += math.Floor(run.DurationMs / s.Spectrum.BinMs)
		} else if len(s.Spectrum.Power) != 0 || !math.IsNaN(s.Spectrum.PeakHz) {
			t.Errorf("silent %s: spectrum of %d frequencies, peak %g; want none, NaN", s.Name, len(s.Spectrum.Power), s.Spectrum.PeakHz)
		}
	}
	if bins > MaxRunBins {
		t.Errorf("20 populations' spectra take %.0f bins (%.1f× MaxRunBins), want at most %d", bins, bins/MaxRunBins, MaxRunBins)
	}
	if n > 128<<20 {
		t.Errorf("Analyze of 20 spikes allocated %d MiB, want < 128 MiB", n>>20)
	}

	// The spectrum figure widens its bins the same way: 20 populations of
	// a 4194 s run (MaxBins bins of 1 ms) get 20 ms bins, not 1 ms.
	long := claimRun(20, 0, MaxBins)
	path := filepath.Join(t.TempDir(), "s.png")
	n = memtest.Allocated(func() {
		if err := SpectrumPlot(long, path); err != nil && !strings.Contains(err.Error(), "no population has enough spikes") {
			t.Fatal(err)
		}
	})
	if n > 192<<20 {
		t.Errorf("SpectrumPlot of 20 populations allocated %d MiB, want < 192 MiB (one population's MaxBins bins and change)", n>>20)
	}
	if b := spectrumBinFor(DefaultSpectrumBinMs, long.DtMs, long.DurationMs, fired(long)); math.Abs(b-20) > 1e-6 {
		t.Errorf("spectrum bin of 20 populations of %g ms: %g ms, want 20", long.DurationMs, b)
	}
}

// A rates figure of many bins draws at most MaxLinePoints points a line,
// through the lowest and highest rate of each group of bins, so that a
// one-bin burst stays drawn at its full height. Before, every bin was a
// point: 2 populations of 200,000 bins allocated about 700 MB.
func TestRatesManyBinsBounded(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 5))
	run := Run{DtMs: 0.1, DurationMs: 20000}
	for i := range 2 {
		p := Population{Name: fmt.Sprintf("P%d", i), Size: 10}
		for range 100 {
			p.TimesMs = append(p.TimesMs, math.Floor(rng.Float64()*199990)/10+0.1)
			p.IDs = append(p.IDs, uint32(rng.IntN(10)))
		}
		run.Pops = append(run.Pops, p)
	}
	// A burst: 20 spikes in the bin [12345.0, 12345.1) of P0.
	for k := range 20 {
		run.Pops[0].TimesMs = append(run.Pops[0].TimesMs, 12345.05)
		run.Pops[0].IDs = append(run.Pops[0].IDs, uint32(k%10))
	}
	path := filepath.Join(t.TempDir(), "rates.png")
	n := memtest.Allocated(func() {
		if err := Rates(run, path, 0.1); err != nil {
			t.Fatal(err)
		}
	})
	if n > 48<<20 {
		t.Errorf("a rates figure of 2 × 200,000 bins allocated %d MiB, want < 48 MiB", n>>20)
	}
	nb := numBins(run.DurationMs, 0.1)
	group := (nb + MaxLinePoints/2 - 1) / (MaxLinePoints / 2)
	xy := rateLine(run.Pops[0], 0.1, nb, group)
	if len(xy) > MaxLinePoints || group != 100 {
		t.Errorf("%d bins in groups of %d: %d points, want at most %d in groups of 100", nb, group, len(xy), MaxLinePoints)
	}
	top, low := 0.0, math.Inf(1)
	for _, p := range xy {
		top, low = max(top, p.Y), min(low, p.Y)
	}
	// 20 spikes of 10 neurons in 0.1 ms: 20 / (10 · 1e-4 s) = 20,000 Hz.
	if math.Abs(top-20000) > 1e-6 || low != 0 {
		t.Errorf("drawn rates in [%g, %g] Hz, want the burst's 20000 Hz at the top and 0 at the bottom", low, top)
	}
}

// rateLine's points are, group by group, the lowest and highest rate of
// the group at their bins (one point when they coincide), as brute force
// finds them; with groups of one bin, every bin at its centre.
func TestRateLineMinMax(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 7))
	const nb, binMs = 1000, 1.0
	for _, density := range []float64{0.01, 0.5, 5} {
		p := Population{Name: "P", Size: 4}
		counts := make([]int, nb)
		for range int(density * nb) {
			k := rng.IntN(nb)
			counts[k]++
			p.TimesMs = append(p.TimesMs, float64(k)+0.5)
			p.IDs = append(p.IDs, 0)
		}
		scale := 1 / (4 * binMs * 1e-3)
		for _, group := range []int{1, 3, 7, 999, 1000, 1001} {
			xy := rateLine(p, binMs, nb, group)
			at := 0
			for lo := 0; lo < nb; lo += group {
				hi := min(lo+group, nb)
				minK, maxK := lo, lo
				for k := lo; k < hi; k++ {
					if counts[k] < counts[minK] {
						minK = k
					}
					if counts[k] > counts[maxK] {
						maxK = k
					}
				}
				want := []int{minK, maxK}
				if maxK < minK {
					want = []int{maxK, minK}
				}
				if counts[minK] == counts[maxK] {
					want = want[:1]
				}
				for _, k := range want {
					if at >= len(xy) {
						t.Fatalf("density %g, groups of %d: %d points, too few", density, group, len(xy))
					}
					got := xy[at]
					at++
					// A bin of the same count is as good as brute force's.
					kg := int(got.X / binMs)
					if kg < lo || kg >= hi || got.X != (float64(kg)+0.5)*binMs || counts[kg] != counts[k] || got.Y != float64(counts[k])*scale {
						t.Fatalf("density %g, groups of %d, bins [%d, %d): point (%g, %g), want bin %d's count %d at %g Hz",
							density, group, lo, hi, got.X, got.Y, k, counts[k], float64(counts[k])*scale)
					}
				}
			}
			if at != len(xy) {
				t.Errorf("density %g, groups of %d: %d points, want %d", density, group, len(xy), at)
			}
		}
	}
}

// A bin narrower than the run's step is refused by the rates and bump
// figures, naming the step.
func TestFigureBinBelowDt(t *testing.T) {
	run := claimRun(2, 0, 20)
	dir := t.TempDir()
	for name, draw := range map[string]func() error{
		"rates": func() error { return Rates(run, filepath.Join(dir, "r.png"), 0.00005) },
		"bump":  func() error { return BumpPlot(run, filepath.Join(dir, "b.png"), 0.00005) },
	} {
		if err := draw(); err == nil || !strings.Contains(err.Error(), "bin 5e-05 ms is narrower than the run's step dt 0.1 ms; use a bin of at least 0.1 ms") {
			t.Errorf("%s with 5e-05 ms bins: %v, want a refusal naming dt 0.1 ms", name, err)
		}
	}
}

// DecodeRingSpikes sums each bin's population vector spike by spike: a ring
// of 20,000 neurons in 1000 bins costs the bins, not 2·10^7 counts (160 MB
// before), and decodes the same angles.
func TestDecodeRingSpikesSparse(t *testing.T) {
	p := Population{Name: "ring", Size: 20000}
	for b := range 1000 {
		id := uint32(5000) // at 90°
		if b%2 == 1 {
			id = 15000 // at 270°
		}
		if b%10 == 9 {
			continue // a silent bin
		}
		p.TimesMs = append(p.TimesMs, float64(b)+0.5, float64(b)+0.6)
		p.IDs = append(p.IDs, id, id+1)
	}
	var centres, deg []float64
	n := memtest.Allocated(func() {
		var err error
		if centres, deg, err = DecodeRingSpikes(p, 1000, 1); err != nil {
			t.Fatal(err)
		}
	})
	if n > 1<<20 {
		t.Errorf("decoding 1000 bins of a 20,000-neuron ring allocated %d KiB, want < 1 MiB", n>>10)
	}
	for b, d := range deg {
		want := 90 + 360*0.5/20000 // halfway between neurons 5000 and 5001
		if b%2 == 1 {
			want += 180
		}
		if b%10 == 9 {
			want = math.NaN()
		}
		if centres[b] != float64(b)+0.5 || !(math.Abs(d-want) < 1e-9 || math.IsNaN(d) && math.IsNaN(want)) {
			t.Fatalf("bin %d at %g ms: %g°, want %g°", b, centres[b], d, want)
		}
	}
}
