package models_test

import (
	"context"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/analysis"
	"github.com/myelin-sim/myelin/engine/cpu"
	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/sim"
	"github.com/myelin-sim/myelin/engine/spec"
	"github.com/myelin-sim/myelin/engine/stream"
)

type recorder struct{ buf []byte }

func (r *recorder) Write(p []byte) (int, error) { r.buf = append(r.buf, p...); return len(p), nil }

// run builds a built-in model and simulates it on the CPU, returning the
// per-population spike counts and the decoded stream.
func run(t *testing.T, name string, set map[string]string) (*network.Network, *sim.Result, *stream.Result) {
	t.Helper()
	s, err := models.Spec(name, set)
	if err != nil {
		t.Fatalf("built-in %s: %v", name, err)
	}
	net, err := network.Build(s, network.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out recorder
	res, err := sim.Run(context.Background(), net, sim.Options{Backend: cpu.New(0), Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	r, err := stream.ReadAll(strings.NewReader(string(out.buf)))
	if err != nil {
		t.Fatal(err)
	}
	return net, res, r
}

func rate(net *network.Network, res *sim.Result, i int) float64 {
	return float64(res.PopSpikes[i]) / float64(net.Pops[i].Size) / (float64(res.Steps) * net.Dt / 1000)
}

// Brunel (2000) model A at N = 12,500: NEST 3.9 and Brian2 2.5 give
// 37.0–37.5 Hz for E and I over 1 s.
func TestBrunelModelARates(t *testing.T) {
	if testing.Short() {
		t.Skip("full-size Brunel network in -short mode")
	}
	net, res, _ := run(t, "brunel", nil)
	if net.SynapseCount() != 15_625_000 {
		t.Errorf("%d synapses, want 15,625,000 (C_E = 1000, C_I = 250 per neuron)", net.SynapseCount())
	}
	for i, p := range net.Pops {
		r := rate(net, res, i)
		t.Logf("%s: %.2f Hz", p.Name, r)
		if r < 34 || r > 41 {
			t.Errorf("population %s: mean rate %.2f Hz, want 34–41 Hz", p.Name, r)
		}
	}
}

// The ring attractor keeps its bump where the cue put it, for at least 2 s
// after the cue is switched off; without a cue no bump forms.
func TestRingRateBumpPersists(t *testing.T) {
	for _, cue := range []float64{90, 17, 250} {
		set := map[string]string{"cue_deg": formatF(cue), "cue_ms": "300", "duration_ms": "2600"}
		_, _, r := run(t, "ring_rate", set)
		sd := r.State[0]
		off := 400.0 // cue during [100, 400) ms
		checked := 0
		for i, step := range sd.Steps {
			tms := float64(step) * r.Header.GetDtMs()
			if tms < off+50 {
				continue
			}
			deg, amp := analysis.BumpPosition(sd.Row(i))
			if d := angleDiff(deg, cue); d > 5 || amp < 0.1 {
				t.Fatalf("cue %g°: at %.0f ms the bump is at %.1f° (amplitude %.3f), want within 5° of the cue", cue, tms, deg, amp)
			}
			checked++
		}
		last := float64(sd.Steps[len(sd.Steps)-1]) * r.Header.GetDtMs()
		if last-off < 2000 || checked == 0 {
			t.Errorf("cue %g°: checked only until %.0f ms, %g ms after the cue", cue, last, last-off)
		}
	}
	_, _, r := run(t, "ring_rate", map[string]string{"cue_ms": "0", "duration_ms": "1000"})
	sd := r.State[0]
	if _, amp := analysis.BumpPosition(sd.Row(len(sd.Steps) - 1)); amp > 0.01 {
		t.Errorf("without a cue a bump of amplitude %.3f formed", amp)
	}
}

func angleDiff(a, b float64) float64 {
	d := math.Mod(math.Abs(a-b), 360)
	return math.Min(d, 360-d)
}

func formatF(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// Both Vogels–Abbott benchmarks sustain activity without external input
// (coba after its kick-start).
func TestVogelsAbbottSelfSustained(t *testing.T) {
	for _, name := range []string{"cuba", "coba"} {
		net, res, r := run(t, name, map[string]string{"duration_ms": "300"})
		// Activity in the last 100 ms, long after coba's kick-start ended.
		late := 0
		for _, st := range r.Steps {
			if float64(st)*net.Dt >= 200 {
				late++
			}
		}
		for i, p := range net.Pops {
			if r := rate(net, res, i); r < 1 || r > 100 {
				t.Errorf("%s %s: %.2f Hz, want a sustained 1–100 Hz", name, p.Name, r)
			}
		}
		if late == 0 {
			t.Errorf("%s: no spikes in [200, 300) ms: activity died out", name)
		}
	}
}

func TestModelParameterErrors(t *testing.T) {
	for _, tc := range []struct {
		model string
		set   map[string]string
		want  string
	}{
		{"brunel", map[string]string{"n": "abc"}, "parameter n"},
		{"brunel", map[string]string{"regime": "chaos"}, "parameter regime"},
		{"brunel", map[string]string{"nn": "1"}, `no parameter "nn"`},
		{"brunel", map[string]string{"indegree": "999999"}, "parameter indegree"},
		{"cuba", map[string]string{"n": "5"}, "parameter n = 5"},
		{"ring_rate", map[string]string{"cue_deg": "x"}, "parameter cue_deg"},
		{"brunel", map[string]string{"g": "-5"}, "parameter g = -5: must be >= 0"},
		{"brunel", map[string]string{"eta": "-0.5"}, "parameter eta = -0.5: must be >= 0"},
		{"ring_rate", map[string]string{"cue_ms": "-100"}, "parameter cue_ms = -100: must be >= 0"},
		{"ring_rate", map[string]string{"j_inh": "-1"}, "parameter j_inh = -1: must be >= 0"},
		{"ring_rate", map[string]string{"j_exc": "-2"}, "parameter j_exc = -2: must be >= 0"},
	} {
		m, _ := models.Lookup(tc.model)
		_, err := m.Build(tc.set)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: error %v, want it to mention %q", tc.model, tc.set, err, tc.want)
		}
	}
	// The edges of the ranges are accepted: no inhibition, no cue.
	for _, tc := range []struct {
		model string
		set   map[string]string
	}{
		{"brunel", map[string]string{"g": "0", "eta": "0", "n": "100"}},
		{"ring_rate", map[string]string{"cue_ms": "0", "j_inh": "0"}},
	} {
		if _, err := models.Spec(tc.model, tc.set); err != nil {
			t.Errorf("%s %v: %v", tc.model, tc.set, err)
		}
	}
	if _, err := models.Lookup("nope"); err == nil || !strings.Contains(err.Error(), "brunel") {
		t.Errorf("Lookup(nope) = %v, want an error listing the models", err)
	}
}

// Every regime of Brunel's phase diagram builds and validates.
func TestBrunelRegimesValidate(t *testing.T) {
	m, _ := models.Lookup("brunel")
	for _, reg := range models.BrunelRegimes {
		s, err := m.Build(map[string]string{"regime": reg.Name, "n": "1000"})
		if err != nil {
			t.Fatal(err)
		}
		spec.ApplyDefaults(s)
		if err := spec.Validate(s); err != nil {
			t.Errorf("regime %s: %v", reg.Name, err)
		}
		w := s.GetProjections()[2].GetWeight().GetConstant()
		if math.Abs(w+reg.G*0.1) > 1e-12 {
			t.Errorf("regime %s: inhibitory weight %g, want -g J = %g", reg.Name, w, -reg.G*0.1)
		}
	}
}
