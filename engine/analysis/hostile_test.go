package analysis

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/internal/memtest"
)

// TestHugeClaimedPopulation: a population that claims 2·10⁹ neurons but
// holds a handful of spikes costs memory by its spikes, not by its size
// (before, SpikeTrains and the raster allocated per neuron: 24 GB).
func TestHugeClaimedPopulation(t *testing.T) {
	run := Run{DtMs: 0.1, DurationMs: 1000, Pops: []Population{{
		Name: "E", Size: 2_000_000_000,
		TimesMs: []float64{1, 2, 3, 500, 501, 900},
		IDs:     []uint32{7, 1_999_999_999, 7, 7, 12345, 1_999_999_999},
	}}}
	dir := t.TempDir()
	var stats []PopStats
	n := memtest.Allocated(func() {
		var err error
		if stats, err = Analyze(run, Options{}); err != nil {
			t.Fatal(err)
		}
		if err := Raster(run, filepath.Join(dir, "r.png"), PlotOptions{DPI: 30, WidthIn: 2, HeightIn: 2}); err != nil {
			t.Fatal(err)
		}
		if err := Rates(run, filepath.Join(dir, "rates.png"), 5); err != nil {
			t.Fatal(err)
		}
	})
	if n > 64<<20 {
		t.Errorf("analysing 6 spikes of a 2e9-neuron population allocated %d MiB, want < 64 MiB", n>>20)
	}
	if stats[0].Spikes != 6 || stats[0].CVNeurons != 1 {
		t.Errorf("stats %+v: want 6 spikes and one neuron with >= 3 spikes", stats[0])
	}
}

// TestBinCountBounded: a tiny --bin is refused with the smallest bin that
// works, and a run claiming an absurd duration gets a bounded spectrum
// (before, `analyze --bin 1e-9` died of memory).
func TestBinCountBounded(t *testing.T) {
	run := Run{DtMs: 0.1, DurationMs: 1000, Pops: []Population{{Name: "E", Size: 10, TimesMs: []float64{1, 2}, IDs: []uint32{1, 2}}}}
	err := Rates(run, filepath.Join(t.TempDir(), "r.png"), 1e-9)
	if err == nil || !strings.Contains(err.Error(), "more than 4194304 bins") {
		t.Fatalf("--bin 1e-9: got %v, want a refusal naming the bin limit", err)
	}
	long := Run{DtMs: 0.1, DurationMs: 1e14, Pops: []Population{{Name: "E", Size: 10, TimesMs: []float64{1, 5e13}, IDs: []uint32{1, 2}}}}
	var stats []PopStats
	n := memtest.Allocated(func() {
		if stats, err = Analyze(long, Options{}); err != nil {
			t.Fatal(err)
		}
	})
	if n > 256<<20 {
		t.Errorf("a 1e14 ms run allocated %d MiB, want < 256 MiB", n>>20)
	}
	if b := stats[0].Spectrum.BinMs; numBins(long.DurationMs, b) > MaxBins || !(b >= 1e14/MaxBins*(1-1e-9)) {
		t.Errorf("spectrum bin %g ms (%d bins), want about %g or more so that it has at most %d bins", b, numBins(long.DurationMs, b), 1e14/MaxBins, MaxBins)
	}
}
