package analysis

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Defaults of [PlotOptions]; a zero field selects its default.
const (
	// DefaultWidthIn and DefaultHeightIn are the figure size in inches.
	DefaultWidthIn  = 8.0
	DefaultHeightIn = 5.0
	// DefaultDPI is the resolution of PNG figures (8×5 in → 1200×750 px).
	DefaultDPI = 150
	// DefaultMaxNeurons is the most neurons a raster shows.
	DefaultMaxNeurons = 500
	// DefaultMaxPoints is the most spikes a raster draws.
	DefaultMaxPoints = 200_000
)

// PlotOptions tunes [Raster] and [RatesWith]. The zero value selects every
// default.
type PlotOptions struct {
	// WidthIn and HeightIn are the figure size in inches (default 8 × 5).
	WidthIn, HeightIn float64
	// DPI is the PNG resolution in dots per inch (default 150).
	DPI int
	// MaxNeurons is the most neurons a raster shows (default 500), shared
	// among the populations in proportion to their size, at least one each.
	MaxNeurons int
	// MaxPoints is the most spikes a raster draws, and the most points of
	// all the lines of a rates figure together (default 200 000).
	MaxPoints int
	// Title replaces the default title.
	Title string
}

func (o PlotOptions) withDefaults() PlotOptions {
	if o.WidthIn == 0 {
		o.WidthIn = DefaultWidthIn
	}
	if o.HeightIn == 0 {
		o.HeightIn = DefaultHeightIn
	}
	if o.DPI == 0 {
		o.DPI = DefaultDPI
	}
	if o.MaxNeurons == 0 {
		o.MaxNeurons = DefaultMaxNeurons
	}
	if o.MaxPoints == 0 {
		o.MaxPoints = DefaultMaxPoints
	}
	return o
}

func (o PlotOptions) validate() error {
	if !(o.WidthIn > 0 && o.WidthIn <= 100) || !(o.HeightIn > 0 && o.HeightIn <= 100) {
		return fmt.Errorf("figure size %g × %g in, want each in (0, 100]", o.WidthIn, o.HeightIn)
	}
	if o.DPI < 1 || o.DPI > 1200 {
		return fmt.Errorf("DPI %d, want 1 to 1200", o.DPI)
	}
	if o.MaxNeurons < 1 || o.MaxPoints < 1 {
		return fmt.Errorf("MaxNeurons %d and MaxPoints %d, want both >= 1", o.MaxNeurons, o.MaxPoints)
	}
	return nil
}

// popColor returns the colour of population i (the Tableau 10 palette).
func popColor(i int) color.Color {
	rgb := [...]uint32{
		0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
		0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf,
	}
	c := rgb[i%len(rgb)]
	return color.RGBA{R: uint8(c >> 16), G: uint8(c >> 8), B: uint8(c), A: 255}
}

// Raster draws a spike raster of the run to path: time (ms) on the x axis,
// neuron on the y axis (populations stacked in order, neuron index counted
// across populations), one colour per population, and a legend at the
// right. When the run is large, evenly spaced neurons of each population are
// shown, at most opts.MaxNeurons in all, and fewer if their spikes would
// exceed opts.MaxPoints; the title says how many are shown. The format
// follows the file extension: .png (or none) at opts.DPI, or .svg, .pdf,
// .eps, .jpg, .tif.
func Raster(run Run, path string, opts PlotOptions) error {
	if err := raster(run, path, opts); err != nil {
		return fmt.Errorf("raster %s: %w", path, err)
	}
	return nil
}

func raster(run Run, path string, opts PlotOptions) error {
	o := opts.withDefaults()
	if err := o.validate(); err != nil {
		return err
	}
	if err := run.Validate(); err != nil {
		return err
	}
	total := 0
	for _, p := range run.Pops {
		total += p.Size
	}
	if total == 0 {
		return fmt.Errorf("run has no neurons")
	}
	sel, shown, points := selectNeurons(run, o.MaxNeurons, o.MaxPoints)
	stride := 1 // last resort when even one neuron per population is too many points
	if points > o.MaxPoints {
		stride = (points + o.MaxPoints - 1) / o.MaxPoints
	}

	p := plot.New()
	p.Title.Text = o.Title
	if p.Title.Text == "" {
		p.Title.Text = fmt.Sprintf("spike raster: %d of %d neurons shown", shown, total)
		if stride > 1 {
			p.Title.Text += fmt.Sprintf(", every %d-th spike", stride)
		}
	}
	p.X.Label.Text = "time (ms)"
	p.Y.Label.Text = "neuron"
	p.X.Min, p.X.Max = run.StartMs, run.StartMs+run.DurationMs
	p.Y.Min, p.Y.Max = -0.5, float64(total)-0.5

	// Mark size: about half the vertical spacing of the shown rows.
	rowPt := o.HeightIn * 72 * 0.75 / float64(max(shown, 1))
	radius := vg.Points(max(0.5, min(2, 0.4*rowPt)))
	leg := plot.NewLegend()
	offset, k := 0, 0
	for i, pop := range run.Pops {
		var xy plotter.XYs
		for s, id := range pop.IDs {
			if !sel[i].has(id) {
				continue
			}
			if k%stride == 0 {
				xy = append(xy, plotter.XY{X: run.StartMs + pop.TimesMs[s], Y: float64(offset) + float64(id)})
			}
			k++
		}
		offset += pop.Size
		sc, err := plotter.NewScatter(xy)
		if err != nil {
			return fmt.Errorf("population %q: %w", pop.Name, err)
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: popColor(i), Radius: radius, Shape: draw.BoxGlyph{}}
		p.Add(sc)
		thumb := *sc
		thumb.GlyphStyle.Radius = vg.Points(3)
		leg.Add(legendName(pop, i), &thumb)
	}
	return render(p, &leg, path, o)
}

// legendName labels population i in a legend.
func legendName(p Population, i int) string {
	if p.Name == "" {
		return fmt.Sprintf("pop %d", i)
	}
	return p.Name
}

// spaced picks a evenly spaced neurons of a population of size: the
// neurons floor(j·size/a) for j < a. It stores nothing per neuron.
type spaced struct{ size, a int64 }

// has reports whether neuron id is picked.
func (sp spaced) has(id uint32) bool {
	if sp.a <= 0 || sp.size <= 0 || int64(id) >= sp.size {
		return false
	}
	// The first j with floor(j·size/a) >= id, then whether it hits id.
	j := (int64(id)*sp.a + sp.size - 1) / sp.size
	return j < sp.a && j*sp.size/sp.a == int64(id)
}

// selectNeurons chooses evenly spaced neurons of every population, about
// maxNeurons in all in proportion to size and at least one per non-empty
// population, shrinking the choice until their spikes fit in maxPoints (or
// one neuron per population is left). It returns the selection, the number
// of neurons shown and the number of their spikes. Its memory grows with
// the spikes, not with the population sizes.
func selectNeurons(run Run, maxNeurons, maxPoints int) (sel []spaced, shown, points int) {
	total := 0
	for _, p := range run.Pops {
		total += p.Size
	}
	// Spikes per firing neuron (sorted ids and their counts), to count the
	// points of a selection.
	type fired struct {
		ids    []uint32
		counts []int
	}
	active := make([]fired, len(run.Pops))
	for i, p := range run.Pops {
		ids := slices.Clone(p.IDs)
		slices.Sort(ids)
		var f fired
		for k, id := range ids {
			if k > 0 && id == ids[k-1] {
				f.counts[len(f.counts)-1]++
				continue
			}
			f.ids = append(f.ids, id)
			f.counts = append(f.counts, 1)
		}
		active[i] = f
	}
	sel = make([]spaced, len(run.Pops))
	budget := float64(min(maxNeurons, total))
	for range 30 {
		shown, points = 0, 0
		minimal := true
		for i, p := range run.Pops {
			sel[i] = spaced{size: int64(p.Size)}
			if p.Size == 0 {
				continue
			}
			a := min(p.Size, max(1, int(budget*float64(p.Size)/float64(total))))
			if a > 1 {
				minimal = false
			}
			sel[i].a = int64(a)
			for k, id := range active[i].ids {
				if sel[i].has(id) {
					points += active[i].counts[k]
				}
			}
			shown += a
		}
		if points <= maxPoints || minimal {
			break
		}
		budget = math.Max(1, math.Min(budget*0.95*float64(maxPoints)/float64(points), budget-1))
	}
	return sel, shown, points
}

// Rates draws the population rates of the run over time to path as lines,
// one per population, in bins of binMs, with the default [PlotOptions].
func Rates(run Run, path string, binMs float64) error {
	return RatesWith(run, path, binMs, PlotOptions{})
}

// MaxLinePoints is the most points one line of the rates figure draws,
// about three per pixel column of the default 1200-pixel-wide figure.
const MaxLinePoints = 4000

// RatesWith is [Rates] with figure options; MaxNeurons is not used. The
// rate of a bin is its spikes / (Size · binMs), in Hz, drawn at the bin
// centre over the whole bins of the run. binMs must be at least the run's
// step DtMs (when known) and make at most MaxBins bins.
//
// A line draws at most MaxLinePoints points, and all lines together at
// most opts.MaxPoints (at least 4 a line): with more bins than that, the
// bins are taken in groups of equal size and the line goes through the
// lowest and the highest rate of each group, at their bins, so that every
// peak and trough of the rate stays drawn (the title says so). Work and
// memory grow with the spikes and the points drawn, not with the bins.
func RatesWith(run Run, path string, binMs float64, opts PlotOptions) error {
	if err := rates(run, path, binMs, opts); err != nil {
		return fmt.Errorf("rates %s: %w", path, err)
	}
	return nil
}

func rates(run Run, path string, binMs float64, opts PlotOptions) error {
	o := opts.withDefaults()
	if err := o.validate(); err != nil {
		return err
	}
	if err := run.Validate(); err != nil {
		return err
	}
	nb := numBins(run.DurationMs, binMs)
	if nb < 1 {
		return fmt.Errorf("bin %g ms, want a width > 0 and at most the duration %g ms", binMs, run.DurationMs)
	}
	if nb > MaxBins {
		return fmt.Errorf("bin %g ms makes more than %d bins of the %g ms run; use a bin of at least %.3g ms", binMs, MaxBins, run.DurationMs, run.DurationMs/MaxBins)
	}
	if binMs < run.DtMs {
		return fmt.Errorf("bin %g ms is narrower than the run's step dt %g ms; use a bin of at least %g ms", binMs, run.DtMs, run.DtMs)
	}
	lines := 0
	for _, pop := range run.Pops {
		if pop.Size > 0 {
			lines++
		}
	}
	perLine := max(4, min(MaxLinePoints, o.MaxPoints/max(lines, 1)))
	group := 1 // bins per drawn group
	if nb > perLine {
		group = (nb + perLine/2 - 1) / (perLine / 2)
	}
	p := plot.New()
	p.Title.Text = o.Title
	if p.Title.Text == "" {
		p.Title.Text = fmt.Sprintf("population rates (%g ms bins)", binMs)
		if group > 1 {
			p.Title.Text = fmt.Sprintf("population rates (%g ms bins; lowest and highest of every %d bins drawn)", binMs, group)
		}
	}
	p.X.Label.Text = "time (ms)"
	p.Y.Label.Text = "rate (Hz)"
	p.X.Min, p.X.Max = run.StartMs, run.StartMs+float64(nb)*binMs
	p.Y.Min = 0
	leg := plot.NewLegend()
	for i, pop := range run.Pops {
		if pop.Size == 0 {
			continue
		}
		xy := rateLine(pop, binMs, nb, group)
		for k := range xy {
			xy[k].X += run.StartMs
		}
		ln, err := plotter.NewLine(xy)
		if err != nil {
			return fmt.Errorf("population %q: %w", pop.Name, err)
		}
		ln.LineStyle.Color = popColor(i)
		ln.LineStyle.Width = vg.Points(1)
		p.Add(piecewiseLine{ln})
		leg.Add(legendName(pop, i), ln)
	}
	return render(p, &leg, path, o)
}

// piecewiseLine draws a line as a series of short strokes of
// strokePoints points each. The rasterizer of PNG figures slows with the
// square of the edges that one stroked path makes in a pixel row, so a
// line that goes up and down thousands of times (a rate in many bins)
// would take minutes as one path and takes a fraction of a second in
// pieces; at the line widths drawn, the seams do not show.
type piecewiseLine struct{ *plotter.Line }

// strokePoints is the number of points of each piece of a piecewiseLine.
const strokePoints = 32

// Plot draws the line on c, in pieces.
func (l piecewiseLine) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	ps := make([]vg.Point, len(l.XYs))
	for i, p := range l.XYs {
		ps[i] = vg.Point{X: trX(p.X), Y: trY(p.Y)}
	}
	var pieces [][]vg.Point
	for _, line := range c.ClipLinesXY(ps) {
		for lo := 0; lo < len(line); lo += strokePoints - 1 {
			if piece := line[lo:min(lo+strokePoints, len(line))]; len(piece) > 1 || lo == 0 {
				pieces = append(pieces, piece)
			}
		}
	}
	c.StrokeLines(l.LineStyle, pieces...)
}

// rateLine returns the points of a population's rate line over nb bins of
// binMs: one per bin (at its centre) when group is 1, else, for each group
// of that many bins, the lowest and the highest rate at their bins, in time
// order (one point when they are the same bin). It counts only the bins
// that hold spikes, so its work grows with the spikes and the groups, not
// with nb.
func rateLine(pop Population, binMs float64, nb, group int) plotter.XYs {
	scale := 1 / (float64(pop.Size) * binMs * 1e-3)
	centre := func(k int) float64 { return (float64(k) + 0.5) * binMs }
	// The occupied bins, ascending, and their spike counts.
	ks := make([]int, 0, len(pop.TimesMs))
	for _, t := range pop.TimesMs {
		if k := binIndex(t, binMs, nb); k >= 0 {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	var bins, counts []int
	for j, k := range ks {
		if j > 0 && k == ks[j-1] {
			counts[len(counts)-1]++
			continue
		}
		bins = append(bins, k)
		counts = append(counts, 1)
	}
	groups := (nb + group - 1) / group
	xy := make(plotter.XYs, 0, min(nb, 2*groups))
	at := 0 // next occupied bin
	for g := range groups {
		lo, hi := g*group, min((g+1)*group, nb)
		// Lowest and highest count of bins [lo, hi) and a bin of each; an
		// empty bin (count 0) is the first one that bins skips.
		minK, minC, maxK, maxC := -1, 0, -1, 0
		empty, next := -1, lo
		for ; at < len(bins) && bins[at] < hi; at++ {
			k, c := bins[at], counts[at]
			if empty < 0 && k > next {
				empty = next
			}
			next = k + 1
			if maxK < 0 || c > maxC {
				maxK, maxC = k, c
			}
			if minK < 0 || c < minC {
				minK, minC = k, c
			}
		}
		if empty < 0 && next < hi {
			empty = next
		}
		if empty >= 0 {
			minK, minC = empty, 0
		}
		if maxK < 0 {
			maxK, maxC = minK, minC
		}
		if minK == maxK {
			xy = append(xy, plotter.XY{X: centre(minK), Y: float64(minC) * scale})
			continue
		}
		a, b := plotter.XY{X: centre(minK), Y: float64(minC) * scale}, plotter.XY{X: centre(maxK), Y: float64(maxC) * scale}
		if maxK < minK {
			a, b = b, a
		}
		xy = append(xy, a, b)
	}
	return xy
}

// plainTicks are plot.DefaultTicks labelled with as few digits as their
// values need (250 and 7.5, not 250.00 and 7.50).
type plainTicks struct{}

// Ticks implements plot.Ticker.
func (plainTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'g', 10, 64)
		}
	}
	return ts
}

// render draws the plot with its legend in a column at the right and writes
// the figure to path in the format of its extension; linear axes get
// plainTicks.
func render(p *plot.Plot, leg *plot.Legend, path string, o PlotOptions) error {
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		if _, ok := a.Tick.Marker.(plot.DefaultTicks); ok {
			a.Tick.Marker = plainTicks{}
		}
	}
	w, h := vg.Length(o.WidthIn)*vg.Inch, vg.Length(o.HeightIn)*vg.Inch
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(path), "."))
	var cv vg.CanvasWriterTo
	switch ext {
	case "", "png":
		cv = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(o.DPI))}
	default:
		var err error
		if cv, err = draw.NewFormattedCanvas(w, h, ext); err != nil {
			return err
		}
	}
	dc := draw.New(cv)
	pad := vg.Points(8)
	leg.Top = true
	lr := leg.Rectangle(dc)
	lw := lr.Max.X - lr.Min.X
	if lw > w/3 {
		lw = w / 3
	}
	p.Draw(draw.Crop(dc, pad/2, -(lw + 2*pad), pad/2, -pad/2))
	leg.Draw(draw.Crop(dc, w-lw-pad, -pad, 0, -3*pad))

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := cv.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	return nil
}
