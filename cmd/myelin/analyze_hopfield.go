package main

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
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

// patternRun is one population of a run that holds stored patterns: the
// hopfield model's E, the consolidation model's HPC and CTX.
type patternRun struct {
	model      string
	population string
	patterns   [][]uint32
	cued       int     // the cued pattern, or -1
	cueText    string  // how the run cued it
	fromMs     float64 // the whole-window overlaps start here (-1: none)
}

// patternRuns recognises a run of the hopfield or the consolidation model
// and returns its populations with patterns (nil for other runs).
func patternRuns(res *stream.Result) ([]patternRun, error) {
	spec := res.Header.GetSpec()
	h, err := models.HopfieldOf(spec)
	if err != nil {
		return nil, err
	}
	if h != nil {
		r := patternRun{model: "hopfield", population: h.Population, patterns: h.Patterns, cued: h.Cued, cueText: "no cue"}
		if h.Cued >= 0 {
			r.cueText = fmt.Sprintf("cue on pattern %d, last cue spike at %.1f ms", h.Cued, h.LastCueMs)
			r.fromMs = math.Ceil(h.LastCueMs + 100) // after the cue and its first 100 ms of settling
		}
		return []patternRun{r}, nil
	}
	c, err := models.ConsolidationOf(spec)
	if err != nil || c == nil {
		return nil, err
	}
	return []patternRun{
		{model: "consolidation", population: "HPC", patterns: c.Patterns, cued: -1, fromMs: -1,
			cueText: fmt.Sprintf("replay (rest phase) until %g ms, silenced after", c.ReplayMs)},
		{model: "consolidation", population: "CTX", patterns: c.Patterns, cued: c.Cued, fromMs: c.ReplayMs + 500,
			cueText: fmt.Sprintf("learns from HPC's replay until %g ms; recall test after it, cue on pattern %d", c.ReplayMs, c.Cued)},
	}, nil
}

// printHopfield reports, for a run of the hopfield or the consolidation
// model, the overlap of each patterned population's activity with every
// stored pattern: over time in windows of o.binMs, and over the recall
// window. run must not be shifted (--after). Other runs print nothing; a
// spec that claims to be such a run but whose patterns cannot be recovered
// gets a note (an error only when o.plotPath asks for the figure). With
// several populations the figure of each goes to o.plotPath with
// "-POPULATION" before its extension.
func printHopfield(w io.Writer, res *stream.Result, run analysis.Run, o hopfieldOpts) error {
	prs, err := patternRuns(res)
	if err != nil {
		if o.plotPath != "" {
			return fmt.Errorf("--overlaps: %w", err)
		}
		fmt.Fprintf(w, "note: no pattern overlaps: %v\n", err)
		return nil
	}
	if prs == nil {
		if o.plotPath != "" {
			return fmt.Errorf("--overlaps: not a run of the hopfield or the consolidation model")
		}
		return nil
	}
	for _, pr := range prs {
		path := o.plotPath
		if path != "" && len(prs) > 1 {
			ext := filepath.Ext(path)
			path = strings.TrimSuffix(path, ext) + "-" + pr.population + ext
		}
		if err := printPatternRun(w, run, pr, o.binMs, path); err != nil {
			return err
		}
	}
	return nil
}

// printPatternRun reports the overlaps of one population (see
// printHopfield) and draws them to plotPath unless it is "".
func printPatternRun(w io.Writer, run analysis.Run, h patternRun, binMs float64, plotPath string) error {
	var pop *analysis.Population
	for i := range run.Pops {
		if run.Pops[i].Name == h.population {
			pop = &run.Pops[i]
		}
	}
	if pop == nil {
		return fmt.Errorf("%s overlaps: population %q was not recorded", h.model, h.population)
	}
	s, err := analysis.PatternOverlaps(*pop, run.DurationMs, h.patterns, binMs, hopfieldMinHz)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s recall: %d patterns in %q, %s; overlap m = correlation of the activity (neurons at >= %d Hz in a window) with each pattern:\n",
		h.model, len(h.patterns), h.population, h.cueText, hopfieldMinHz)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	if h.cued >= 0 {
		fmt.Fprintln(tw, "time (ms)\tm(cued)\tclosest other\tm(other)\tactive\t")
	} else {
		fmt.Fprintln(tw, "time (ms)\tclosest\tm\tactive\t")
	}
	for k, m := range s.M {
		best := bestPattern(m, h.cued)
		bestText, mText := "-", "-"
		if best >= 0 {
			bestText, mText = fmt.Sprint(best), fmt.Sprintf("%.3f", m[best])
		}
		if h.cued >= 0 {
			fmt.Fprintf(tw, "%.0f-%.0f\t%.3f\t%s\t%s\t%d\t\n", s.StartMs[k], s.StartMs[k]+s.BinMs, m[h.cued], bestText, mText, s.Active[k])
		} else {
			fmt.Fprintf(tw, "%.0f-%.0f\t%s\t%s\t%d\t\n", s.StartMs[k], s.StartMs[k]+s.BinMs, bestText, mText, s.Active[k])
		}
	}
	tw.Flush()
	if from := h.fromMs; from >= 0 && run.DurationMs > from {
		act, err := analysis.ActiveNeurons(*pop, from, run.DurationMs, hopfieldMinHz)
		if err != nil {
			return err
		}
		var sb strings.Builder
		for mu, pat := range h.patterns {
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
	if plotPath != "" {
		if err := analysis.OverlapsPlot(s, h.cued, plotPath); err != nil {
			return err
		}
		fmt.Fprintf(w, "wrote %s\n", plotPath)
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
