package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/myelin-sim/myelin/engine/analysis"
	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/stream"
)

// stpWMEpoch is a stretch of an stp_wm trial.
type stpWMEpoch struct {
	label    string
	from, to float64
}

// stpWMEpochs returns the stretches of trial s within a run of durMs: before
// the cue, the cue, the delay, the readout's response window and the rest,
// leaving out the empty ones.
func stpWMEpochs(s *models.StpWM, durMs float64) []stpWMEpoch {
	var bounds []stpWMEpoch
	at := 0.0
	add := func(label string, to float64) {
		to = min(to, durMs)
		if to > at {
			bounds = append(bounds, stpWMEpoch{label, at, to})
			at = to
		}
	}
	if s.Cued >= 0 {
		add("before cue", s.CueStartMs)
		add("cue", s.CueStopMs)
	}
	if s.HasReadout() {
		from, to := s.ResponseWindow()
		if s.Cued >= 0 {
			add("delay", from)
		} else {
			add("before readout", from)
		}
		add("readout", to)
	}
	add("after", durMs)
	return bounds
}

// printStpWM reports, for a run of the stp_wm model, each population's
// rate in every stretch of the trial and the clusters' response to the
// readout (spikes per neuron in its window). run must not be shifted
// (--after). Other runs print nothing; a spec that claims to be an stp_wm
// run but is not the model's gets a note.
func printStpWM(w io.Writer, res *stream.Result, run analysis.Run) {
	s, err := models.StpWMOf(res.Header.GetSpec())
	if err != nil {
		fmt.Fprintf(w, "note: no stp_wm trial: %v\n", err)
		return
	}
	if s == nil || len(run.Pops) == 0 {
		return
	}
	cue := "no cue"
	if s.Cued >= 0 {
		cue = fmt.Sprintf("cue on %s during %g-%g ms", s.Clusters[s.Cued], s.CueStartMs, s.CueStopMs)
	}
	read := "no readout"
	if s.HasReadout() {
		from, to := s.ResponseWindow()
		read = fmt.Sprintf("readout during %g-%g ms (response counted over %g-%g ms)", s.ReadoutStartMs, s.ReadoutStopMs, from, to)
	}
	epochs := stpWMEpochs(s, run.DurationMs)
	fmt.Fprintf(w, "stp_wm trial: %d clusters, %s, %s; rates (Hz):\n", len(s.Clusters), cue, read)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "population\t")
	for _, e := range epochs {
		fmt.Fprintf(tw, "%s %.0f-%.0f\t", e.label, e.from, e.to)
	}
	fmt.Fprintln(tw)
	perNeuron := map[string]float64{} // spikes per neuron in the response window
	for _, p := range run.Pops {
		fmt.Fprintf(tw, "%s\t", p.Name)
		for _, e := range epochs {
			n := 0
			for _, t := range p.TimesMs {
				if t >= e.from && t < e.to {
					n++
				}
			}
			perNeuron[p.Name+"/"+e.label] = float64(n) / float64(max(p.Size, 1))
			fmt.Fprintf(tw, "%.2f\t", perNeuron[p.Name+"/"+e.label]*1000/(e.to-e.from))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	if s.Cued < 0 || !s.HasReadout() {
		return
	}
	resp := func(name string) (float64, bool) {
		x, ok := perNeuron[name+"/readout"]
		return x, ok
	}
	cued, ok := resp(s.Clusters[s.Cued])
	if !ok {
		return
	}
	other, otherName := -1.0, ""
	for i, c := range s.Clusters {
		if x, ok := resp(c); ok && i != s.Cued && x > other {
			other, otherName = x, c
		}
	}
	if otherName == "" {
		return
	}
	fmt.Fprintf(w, "readout response: %s %.3f spikes per neuron, the most of the other clusters %.3f (%s): %.1f×\n",
		s.Clusters[s.Cued], cued, other, otherName, cued/max(other, 1e-9))
}
