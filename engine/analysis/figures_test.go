package analysis

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
)

// TestSpectrumPlotPNG draws the spectra of testRun (a Poisson population and
// one modulated at 10 Hz) and checks the errors: no spikes at all, and an
// unwritable path.
func TestSpectrumPlotPNG(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "spectrum.png")
	if err := SpectrumPlot(testRun(3), path); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 1200, 750)
	silent := Run{DtMs: 0.1, DurationMs: 1000, Pops: []Population{{Name: "E", Size: 10}}}
	if err := SpectrumPlot(silent, filepath.Join(dir, "x.png")); err == nil || !strings.Contains(err.Error(), "no population") {
		t.Errorf("no spikes: error %v", err)
	}
	if err := SpectrumPlot(testRun(3), filepath.Join(dir, "no", "dir", "s.png")); err == nil || !strings.Contains(err.Error(), "s.png") {
		t.Errorf("unwritable path: error %v, want one naming the path", err)
	}
}

// TestBumpPlotPNG draws a ring population whose spikes come from the
// neurons around a quarter of the ring, and checks that a zero bin and a
// silent run are errors.
func TestBumpPlotPNG(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 1))
	ring := Population{Name: "E", Size: 360}
	for k := 0; k < 3000; k++ {
		ring.IDs = append(ring.IDs, uint32(80+rng.IntN(21)))
		ring.TimesMs = append(ring.TimesMs, rng.Float64()*2000)
	}
	run := Run{DtMs: 0.1, DurationMs: 2000, Pops: []Population{ring}}
	dir := t.TempDir()
	path := filepath.Join(dir, "bump.png")
	if err := BumpPlot(run, path, 50); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 1200, 750)
	if err := BumpPlot(run, filepath.Join(dir, "x.png"), 0); err == nil {
		t.Error("bin 0 accepted")
	}
	silent := Run{DtMs: 0.1, DurationMs: 1000, Pops: []Population{{Name: "E", Size: 10}}}
	if err := BumpPlot(silent, filepath.Join(dir, "y.png"), 50); err == nil || !strings.Contains(err.Error(), "no population fired") {
		t.Errorf("silent run: error %v", err)
	}
}
