package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/myelin-sim/myelin/engine/analysis"
	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/stream"
)

// hopfieldMinHz is the rate at which a neuron counts as active in the
// overlaps analyze reports (the hopfield model's doc and tests use it too).
const hopfieldMinHz = 10

// hopfieldOpts are analyze's options for hopfield runs.
type hopfieldOpts struct {
	binMs    float64 // window of the overlaps over time
	plotPath string  // where to draw them ("" for no figure)
}

// printHopfield reports, for a run of the hopfield model, the overlap of
// the activity with every stored pattern: over time in windows of
// o.binMs, and over the whole run after the cue. run must not be shifted
// (--after). Other runs print nothing; a spec that claims to be a hopfield
// run but whose patterns cannot be recovered gets a note (an error only
// when o.plotPath asks for the figure).
func printHopfield(w io.Writer, res *stream.Result, run analysis.Run, o hopfieldOpts) error {
	h, err := models.HopfieldOf(res.Header.GetSpec())
	if err != nil {
		if o.plotPath != "" {
			return fmt.Errorf("--overlaps: %w", err)
		}
		fmt.Fprintf(w, "note: no pattern overlaps: %v\n", err)
		return nil
	}
	if h == nil {
		if o.plotPath != "" {
			return fmt.Errorf("--overlaps: not a run of the hopfield model")
		}
		return nil
	}
	var pop *analysis.Population
	for i := range run.Pops {
		if run.Pops[i].Name == h.Population {
			pop = &run.Pops[i]
		}
	}
	if pop == nil {
		return fmt.Errorf("hopfield overlaps: population %q was not recorded", h.Population)
	}
	s, err := analysis.PatternOverlaps(*pop, run.DurationMs, h.Patterns, o.binMs, hopfieldMinHz)
	if err != nil {
		return err
	}
	cue := "no cue"
	if h.Cued >= 0 {
		cue = fmt.Sprintf("cue on pattern %d, last cue spike at %.1f ms", h.Cued, h.LastCueMs)
	}
	fmt.Fprintf(w, "hopfield recall: %d patterns in %q, %s; overlap m = correlation of the activity (neurons at >= %d Hz in a window) with each pattern:\n", len(h.Patterns), h.Population, cue, hopfieldMinHz)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	if h.Cued >= 0 {
		fmt.Fprintln(tw, "time (ms)\tm(cued)\tclosest other\tm(other)\tactive\t")
	} else {
		fmt.Fprintln(tw, "time (ms)\tclosest\tm\tactive\t")
	}
	for k, m := range s.M {
		best := bestPattern(m, h.Cued)
		bestText, mText := "-", "-"
		if best >= 0 {
			bestText, mText = fmt.Sprint(best), fmt.Sprintf("%.3f", m[best])
		}
		if h.Cued >= 0 {
			fmt.Fprintf(tw, "%.0f-%.0f\t%.3f\t%s\t%s\t%d\t\n", s.StartMs[k], s.StartMs[k]+s.BinMs, m[h.Cued], bestText, mText, s.Active[k])
		} else {
			fmt.Fprintf(tw, "%.0f-%.0f\t%s\t%s\t%d\t\n", s.StartMs[k], s.StartMs[k]+s.BinMs, bestText, mText, s.Active[k])
		}
	}
	tw.Flush()
	// The whole run after the cue (and its first 100 ms of settling).
	from := 0.0
	if h.Cued >= 0 {
		from = math.Ceil(h.LastCueMs + 100)
	}
	if run.DurationMs > from {
		act, err := analysis.ActiveNeurons(*pop, from, run.DurationMs, hopfieldMinHz)
		if err != nil {
			return err
		}
		var sb strings.Builder
		for mu, pat := range h.Patterns {
			m, err := analysis.PatternOverlap(pop.Size, act, pat)
			if err != nil {
				return err
			}
			sep := " "
			if mu%10 == 0 {
				sep = "\n "
			}
			fmt.Fprintf(&sb, "%s%d:%.3f", sep, mu, m)
		}
		fmt.Fprintf(w, "overlap with each pattern over %.0f-%.0f ms (%d active):%s\n", from, run.DurationMs, len(act), sb.String())
	}
	if o.plotPath != "" {
		if err := analysis.OverlapsPlot(s, h.Cued, o.plotPath); err != nil {
			return err
		}
		fmt.Fprintf(w, "wrote %s\n", o.plotPath)
	}
	return nil
}

// bestPattern returns the pattern other than skip with the largest
// overlap, or -1 when there is none.
func bestPattern(m []float64, skip int) int {
	best := -1
	for mu, x := range m {
		if mu != skip && (best < 0 || x > m[best]) {
			best = mu
		}
	}
	return best
}
