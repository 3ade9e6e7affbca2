package analysis

import (
	"fmt"
	"image/color"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// maxOverlapLines is the most pattern lines an overlap figure draws (the
// cued one always among them); the others are the patterns of largest peak
// overlap.
const maxOverlapLines = 50

// OverlapsPlot draws the overlaps of s over time to path (format by
// extension, as [Raster]): the cued pattern (cued >= 0) as a thick
// coloured line, every other pattern as a thin grey one (at most 50 lines
// in all: those of the largest peak overlap), each at its window's centre.
func OverlapsPlot(s *OverlapSeries, cued int, path string) error {
	if err := overlapsPlot(s, cued, path); err != nil {
		return fmt.Errorf("overlaps %s: %w", path, err)
	}
	return nil
}

func overlapsPlot(s *OverlapSeries, cued int, path string) error {
	if s == nil || len(s.M) == 0 {
		return fmt.Errorf("no whole window of overlaps to draw")
	}
	np := len(s.M[0])
	if cued >= np {
		return fmt.Errorf("cued pattern %d of %d", cued, np)
	}
	o := PlotOptions{}.withDefaults()
	p := plot.New()
	p.Title.Text = fmt.Sprintf("overlap with the stored patterns (%g ms windows)", s.BinMs)
	p.X.Label.Text = "time (ms)"
	p.Y.Label.Text = "overlap m"
	p.X.Min, p.X.Max = s.StartMs[0], s.StartMs[len(s.StartMs)-1]+s.BinMs
	p.Y.Min, p.Y.Max = -0.2, 1.05
	// The others with the largest peaks, up to the line limit.
	peak := make([]float64, np)
	for mu := range peak {
		peak[mu] = -2
		for _, m := range s.M {
			peak[mu] = max(peak[mu], m[mu])
		}
	}
	others := make([]int, 0, np)
	for mu := range np {
		if mu != cued {
			others = append(others, mu)
		}
	}
	sortByDesc(others, peak)
	if len(others) > maxOverlapLines-1 {
		others = others[:maxOverlapLines-1]
	}
	line := func(mu int) (*plotter.Line, error) {
		xy := make(plotter.XYs, len(s.M))
		for k, m := range s.M {
			xy[k].X, xy[k].Y = s.StartMs[k]+s.BinMs/2, m[mu]
		}
		return plotter.NewLine(xy)
	}
	leg := plot.NewLegend()
	for i := len(others) - 1; i >= 0; i-- {
		ln, err := line(others[i])
		if err != nil {
			return fmt.Errorf("pattern %d: %w", others[i], err)
		}
		ln.LineStyle.Color = color.Gray{Y: 160}
		ln.LineStyle.Width = vg.Points(0.75)
		p.Add(ln)
		if i == 0 {
			leg.Add("other patterns", ln)
		}
	}
	if cued >= 0 {
		ln, err := line(cued)
		if err != nil {
			return fmt.Errorf("pattern %d: %w", cued, err)
		}
		ln.LineStyle.Color = popColor(3)
		ln.LineStyle.Width = vg.Points(2)
		p.Add(ln)
		leg.Add(fmt.Sprintf("cued pattern %d", cued), ln)
	}
	return render(p, &leg, path, o)
}

// sortByDesc sorts ids by key[id], largest first, ties by id.
func sortByDesc(ids []int, key []float64) {
	slices.SortStableFunc(ids, func(a, b int) int {
		switch {
		case key[a] > key[b]:
			return -1
		case key[a] < key[b]:
			return 1
		}
		return a - b
	})
}
