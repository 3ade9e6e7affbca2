package models_test

import (
	"math"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/models"
)

// Reference figures of Potjans & Diesmann (2014) and its NEST
// implementation (INM-6/microcircuit-PD14-model): full-scale mean rates
// (Hz, network_params.py full_mean_rates), in the order of
// models.MicrocircuitPops.
var microRef = []float64{0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829}

// The published numbers that the model derives from its formulas: the PSC
// of a 0.15 mV PSP, the synapse totals, in-degrees and DC amplitudes.
func TestMicrocircuitDerivedNumbers(t *testing.T) {
	if w := 0.15 * models.PSCPerPSP(10, 0.5, 250); math.Abs(w-87.81) > 0.01 {
		t.Errorf("w_E = %.4f pA, want 87.81 pA", w)
	}
	var total float64
	for y := range 8 {
		for x := range 8 {
			total += math.Round(models.MicrocircuitSynapses(y, x))
		}
	}
	if math.Abs(total-298_880_968) > 50 {
		t.Errorf("full-scale recurrent synapses %.0f, want 298,880,968", total)
	}
	if k := models.MicrocircuitSynapses(0, 0) / 20683; math.Abs(k-2199.9) > 0.1 {
		t.Errorf("in-degree L23E <- L23E %.2f, want 2199.9", k)
	}
	m, _ := models.Lookup("microcircuit")
	s, err := m.Build(map[string]string{"background": "dc"})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.GetInputs()) != 0 {
		t.Errorf("dc background: %d inputs, want none", len(s.GetInputs()))
	}
	wantDC := []float64{561.97, 526.85, 737.59, 667.34, 702.47, 667.34, 1018.58, 737.59}
	var n uint32
	for i, p := range s.GetPopulations() {
		n += p.GetSize()
		if ie := p.GetIafPscExp().GetIE(); math.Abs(ie-wantDC[i]) > 0.01 {
			t.Errorf("%s: DC %.2f pA, want %.2f pA", p.GetName(), ie, wantDC[i])
		}
	}
	if n != 77169 {
		t.Errorf("full scale: %d neurons, want 77,169", n)
	}
	// k_scale 0.1 in dc mode: the compensated DC of L23E is ~207 pA and
	// only L6I stays above rheobase (375 pA) at ~387 pA.
	s, err = m.Build(map[string]string{"background": "dc", "k_scale": "0.1"})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range map[int]float64{0: 207, 7: 387} {
		if ie := s.GetPopulations()[i].GetIafPscExp().GetIE(); math.Abs(ie-want) > 1.5 {
			t.Errorf("%s at k_scale 0.1: DC %.1f pA, want about %.0f pA", s.GetPopulations()[i].GetName(), ie, want)
		}
	}
	// The doubled L4E -> L23E weight and the inhibitory weights.
	for _, p := range s.GetProjections() {
		w := p.GetWeight().GetNormal().GetMean() * math.Sqrt(0.1)
		want := 87.81
		switch {
		case p.GetName() == "L4E->L23E":
			want = 175.62
		case strings.HasPrefix(p.GetName(), "L") && p.GetName()[strings.Index(p.GetName(), "-")-1] == 'I':
			want = -351.23
		}
		if math.Abs(w-want) > 0.02 {
			t.Errorf("%s: mean weight × sqrt(k_scale) %.3f pA, want %.2f pA", p.GetName(), w, want)
		}
	}
}

// A 10 % network with 10 % in-degrees (and the published DC compensation)
// stays in the asynchronous low-rate regime of the full model: after a
// 300 ms transient no population is silent or above 30 Hz, inhibitory
// populations fire faster than the excitatory one of their layer, and every
// rate lies within a factor 3 of the full-scale reference.
func TestMicrocircuitReducedScaleRates(t *testing.T) {
	net, _, r := run(t, "microcircuit", map[string]string{"scale": "0.1", "k_scale": "0.1", "duration_ms": "1000"})
	const after = 300.0
	counts := make([]float64, len(net.Pops))
	for i, st := range r.Steps {
		if float64(st)*net.Dt >= after {
			counts[net.PopOf(r.IDs[i])]++
		}
	}
	rates := make([]float64, len(net.Pops))
	for i, p := range net.Pops {
		rates[i] = counts[i] / float64(p.Size) / ((1000 - after) / 1000)
		t.Logf("%s: %.2f Hz (full-scale reference %.2f Hz)", p.Name, rates[i], microRef[i])
		if rates[i] < 0.05 || rates[i] > 30 {
			t.Errorf("%s: %.2f Hz, want 0.05–30 Hz", p.Name, rates[i])
		}
		if rates[i] < microRef[i]/3 || rates[i] > microRef[i]*3 {
			t.Errorf("%s: %.2f Hz, want within a factor 3 of the reference %.2f Hz", p.Name, rates[i], microRef[i])
		}
	}
	for l := 0; l < 8; l += 2 {
		if rates[l+1] <= rates[l] {
			t.Errorf("layer %s: inhibitory rate %.2f Hz <= excitatory %.2f Hz", net.Pops[l].Name, rates[l+1], rates[l])
		}
	}
}

func TestMicrocircuitParameterErrors(t *testing.T) {
	m, _ := models.Lookup("microcircuit")
	for set, want := range map[string]string{
		"scale=0":          "parameter scale",
		"scale=2":          "parameter scale",
		"scale=0.00001":    "no neurons",
		"k_scale=-1":       "parameter k_scale",
		"background=noise": "parameter background",
		"v0=random":        "parameter v0",
	} {
		kv := strings.SplitN(set, "=", 2)
		_, err := m.Build(map[string]string{kv[0]: kv[1]})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to mention %q", set, err, want)
		}
	}
	s, err := models.Spec("microcircuit", map[string]string{"scale": "0.01", "v0": "original"})
	if err != nil {
		t.Fatal(err)
	}
	if d := s.GetPopulations()[0].GetInitial().GetNormal(); d.GetMean() != -58 || d.GetStd() != 10 {
		t.Errorf("v0=original: initial %v, want N(-58, 10²)", d)
	}
}
