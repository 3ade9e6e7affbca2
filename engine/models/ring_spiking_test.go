package models_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/analysis"
	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/stream"
)

// ringWindows returns, per window of winMs, the E rates (Hz) by neuron.
func ringWindows(net *network.Network, r *stream.Result, winMs float64) [][]float32 {
	e := net.Pops[0]
	dt := net.Dt
	nw := int(float64(net.Steps) * dt / winMs)
	out := make([][]float32, nw)
	for k := range out {
		out[k] = make([]float32, e.Size)
	}
	for i, st := range r.Steps {
		id := r.IDs[i]
		if id < e.First || id >= e.First+e.Size {
			continue
		}
		if k := int(float64(st) * dt / winMs); k < nw {
			out[k][id-e.First] += float32(1000 / winMs)
		}
	}
	return out
}

// describe returns, per window, the decoded angle, bump amplitude (Hz) and mean E rate.
func describe(w [][]float32) string {
	var sb strings.Builder
	for k, row := range w {
		deg, amp := analysis.BumpPosition(row)
		var m float64
		for _, x := range row {
			m += float64(x)
		}
		var pk float32
		for i := range row {
			var sm float32
			for j := -5; j <= 5; j++ {
				sm += row[(i+j+len(row))%len(row)] / 11
			}
			pk = max(pk, sm)
		}
		fmt.Fprintf(&sb, "[%d] %.0f° a=%.1f m=%.2f pk=%.0f ", k, deg, amp, m/float64(len(row)), pk)
	}
	return sb.String()
}

// The spiking ring keeps a bump where the cue put it through a 3 s delay
// (cue during [200, 450) ms, run to 3500 ms): in every 500 ms window from
// 500 ms on, the decoded angle is within 15° of the cue and the E neurons
// within 30° of it fire at least 5× the rate of those beyond 90°. Without a
// cue the network stays silent.
func TestRingSpikingBumpPersists(t *testing.T) {
	const cueOff, win = 450.0, 500.0
	for _, c := range []struct {
		deg  float64
		seed string
	}{{90, "12345"}, {17, "1"}, {250, "3"}} {
		net, res, r := run(t, "ring_spiking", map[string]string{"cue_deg": formatF(c.deg), "seed": c.seed})
		ws := ringWindows(net, r, win)
		t.Logf("cue %g°: E %.2f Hz, I %.2f Hz; %s", c.deg, rate(net, res, 0), rate(net, res, 1), describe(ws))
		held := 0.0
		for k, row := range ws {
			end := float64(k+1) * win
			if float64(k)*win < cueOff { // the window holds some of the cue
				continue
			}
			deg, amp := analysis.BumpPosition(row)
			var near, far, nn, nf float64
			for i, x := range row {
				d := angleDiff(360*float64(i)/float64(len(row)), c.deg)
				switch {
				case d <= 30:
					near, nn = near+float64(x), nn+1
				case d > 90:
					far, nf = far+float64(x), nf+1
				}
			}
			near, far = near/nn, far/nf
			if angleDiff(deg, c.deg) > 15 || amp < 5 || near < 5*far || near < 10 {
				t.Errorf("cue %g°: window ending %.0f ms: bump at %.1f° (amplitude %.1f Hz), near %.1f Hz, far %.2f Hz: want within 15° of the cue, near >= 10 Hz and >= 5× far", c.deg, end, deg, amp, near, far)
				break
			}
			held = end - cueOff
		}
		t.Logf("cue %g°: bump held %.0f ms after the cue", c.deg, held)
		if held < 3000 {
			t.Errorf("cue %g°: bump held %.0f ms after the cue, want >= 3000", c.deg, held)
		}
	}
	net, res, r := run(t, "ring_spiking", map[string]string{"cue_ms": "0"})
	e := rate(net, res, 0)
	worst := 0.0
	for _, row := range ringWindows(net, r, win) {
		_, amp := analysis.BumpPosition(row)
		worst = max(worst, amp)
	}
	t.Logf("no cue: E %.3f Hz, largest bump amplitude %.2f Hz", e, worst)
	if e > 0.5 || worst > 1 {
		t.Errorf("without a cue: E at %.3f Hz, a bump of amplitude %.2f Hz: want silence (< 0.5 Hz, amplitude < 1 Hz)", e, worst)
	}
}

func TestRingArcWraps(t *testing.T) {
	s, err := models.Spec("ring_spiking", map[string]string{"n": "360", "cue_deg": "-5", "cue_width_deg": "10"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range s.Inputs {
		if p := in.GetPoisson(); strings.HasPrefix(in.Name, "cue") {
			got = append(got, fmt.Sprintf("%d+%d", p.First, p.Count))
		}
	}
	// 355° ± 10°: neurons 345..359 and 0..5.
	if strings.Join(got, " ") != "0+6 345+15" {
		t.Errorf("cue ranges %v, want [0+6 345+15]", got)
	}
	for _, bad := range []map[string]string{{"sigma_deg": "0"}, {"tau_nmda": "-1"}, {"tau_ampa": "0"}, {"ampa_frac": "1.5"}, {"j_ie": "-1"}, {"cue_ms": "-5"}} {
		if _, err := models.Spec("ring_spiking", bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
