package analysis

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// SpectrumMaxHz is the highest frequency the spectrum figure shows.
const SpectrumMaxHz = 200.0

// SpectrumPlot draws the power spectrum of each population's rate to path
// (format by extension, as [Raster]): [PowerSpectrum] with bins of
// max(DefaultSpectrumBinMs, dt), widened as [Analyze] widens them to keep
// within MaxRunBins, and Welch segments of DefaultSegmentMs, from
// DC excluded up to SpectrumMaxHz (or the Nyquist frequency), on a
// logarithmic power axis; the legend gives each population's peak at or
// above DefaultMinPeakHz.
func SpectrumPlot(run Run, path string) error {
	if err := spectrumPlot(run, path); err != nil {
		return fmt.Errorf("spectrum %s: %w", path, err)
	}
	return nil
}

func spectrumPlot(run Run, path string) error {
	if err := run.Validate(); err != nil {
		return err
	}
	o := PlotOptions{}.withDefaults()
	bin := spectrumBinFor(max(DefaultSpectrumBinMs, run.DtMs), run.DtMs, run.DurationMs, fired(run))
	p := plot.New()
	p.Title.Text = fmt.Sprintf("population rate spectra (%g ms bins, %g ms Welch segments)", bin, DefaultSegmentMs)
	p.X.Label.Text = "frequency (Hz)"
	p.Y.Label.Text = "power (Hz²/Hz)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	leg := plot.NewLegend()
	drawn := 0
	for i, pop := range run.Pops {
		if pop.Size == 0 || len(pop.TimesMs) == 0 {
			continue
		}
		s, err := PowerSpectrum(pop, run.DurationMs, bin, DefaultSegmentMs, DefaultMinPeakHz)
		if err != nil {
			return fmt.Errorf("population %q: %w", pop.Name, err)
		}
		var xy plotter.XYs
		for k, f := range s.FreqHz {
			// DC is the mean removed per segment; zero power has no place
			// on a log axis.
			if f > 0 && f <= SpectrumMaxHz && s.Power[k] > 0 && !math.IsInf(s.Power[k], 0) {
				xy = append(xy, plotter.XY{X: f, Y: s.Power[k]})
			}
		}
		if len(xy) < 2 {
			continue
		}
		ln, err := plotter.NewLine(xy)
		if err != nil {
			return fmt.Errorf("population %q: %w", pop.Name, err)
		}
		ln.LineStyle.Color = popColor(i)
		ln.LineStyle.Width = vg.Points(1)
		p.Add(ln)
		name := legendName(pop, i)
		if !math.IsNaN(s.PeakHz) {
			name = fmt.Sprintf("%s (peak %.1f Hz)", name, s.PeakHz)
		}
		leg.Add(name, ln)
		drawn++
	}
	if drawn == 0 {
		return fmt.Errorf("no population has enough spikes for a spectrum")
	}
	return render(p, &leg, path, o)
}

// BumpPlot draws, for each population, the position of its activity bump
// over time to path (format by extension, as [Raster]): the angle decoded
// from the spike counts in bins of binMs by [DecodeRingSpikes], which puts
// neuron i of a population of n at 360°·i/n, so the figure means something
// for ring populations (ring_spiking's E, say); bins without spikes are left
// out. binMs must be at least the run's step DtMs (when known), and the
// populations that fired may have at most MaxRunBins bins together. At most
// DefaultMaxPoints points are drawn: beyond, every k-th decoded bin, and the
// title says so.
func BumpPlot(run Run, path string, binMs float64) error {
	if err := bumpPlot(run, path, binMs); err != nil {
		return fmt.Errorf("bump %s: %w", path, err)
	}
	return nil
}

func bumpPlot(run Run, path string, binMs float64) error {
	if err := run.Validate(); err != nil {
		return err
	}
	if !(binMs > 0) || math.IsInf(binMs, 0) {
		return fmt.Errorf("bin %g ms, want a finite width > 0", binMs)
	}
	if binMs < run.DtMs {
		return fmt.Errorf("bin %g ms is narrower than the run's step dt %g ms; use a bin of at least %g ms", binMs, run.DtMs, run.DtMs)
	}
	if nb, active := numBins(run.DurationMs, binMs), fired(run); int64(nb)*int64(active) > MaxRunBins {
		return fmt.Errorf("bins of %g ms make %d bins for each of the %d populations that fired, more than the %d a figure decodes; use a bin of at least %.3g ms",
			binMs, nb, active, MaxRunBins, run.DurationMs*float64(active)/MaxRunBins)
	}
	o := PlotOptions{}.withDefaults()
	type line struct {
		i   int
		xy  plotter.XYs
		pop Population
	}
	var lines []line
	points := 0
	for i, pop := range run.Pops {
		if pop.Size == 0 || len(pop.TimesMs) == 0 {
			continue
		}
		centers, deg, err := DecodeRingSpikes(pop, run.DurationMs, binMs)
		if err != nil {
			return fmt.Errorf("population %q: %w", pop.Name, err)
		}
		var xy plotter.XYs
		for k, d := range deg {
			if !math.IsNaN(d) {
				xy = append(xy, plotter.XY{X: run.StartMs + centers[k], Y: d})
			}
		}
		if len(xy) > 0 {
			lines = append(lines, line{i, xy, pop})
			points += len(xy)
		}
	}
	if len(lines) == 0 {
		return fmt.Errorf("no population fired")
	}
	stride := max(1, (points+o.MaxPoints-1)/o.MaxPoints)
	p := plot.New()
	p.Title.Text = fmt.Sprintf("decoded bump position (%g ms bins; neuron i of n at 360°·i/n)", binMs)
	if stride > 1 {
		p.Title.Text = fmt.Sprintf("decoded bump position (%g ms bins, every %d-th drawn; neuron i of n at 360°·i/n)", binMs, stride)
	}
	p.X.Label.Text = "time (ms)"
	p.Y.Label.Text = "position (degrees)"
	p.X.Min, p.X.Max = run.StartMs, run.StartMs+run.DurationMs
	p.Y.Min, p.Y.Max = 0, 360
	leg := plot.NewLegend()
	for _, l := range lines {
		xy := l.xy
		if stride > 1 {
			thin := make(plotter.XYs, 0, (len(xy)+stride-1)/stride)
			for k := 0; k < len(xy); k += stride {
				thin = append(thin, xy[k])
			}
			xy = thin
		}
		sc, err := plotter.NewScatter(xy)
		if err != nil {
			return fmt.Errorf("population %q: %w", l.pop.Name, err)
		}
		sc.GlyphStyle.Color = popColor(l.i)
		sc.GlyphStyle.Radius = vg.Points(1.5)
		sc.GlyphStyle.Shape = draw.CircleGlyph{}
		p.Add(sc)
		leg.Add(legendName(l.pop, l.i), sc)
	}
	return render(p, &leg, path, o)
}
