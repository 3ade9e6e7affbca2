package parity

import "testing"

// TestScaledKeepsLongerDurations checks that Scaled raises short cases to the
// requested duration, keeps the ones that need longer (ring_spiking: 600 ms)
// and sets the neuron count only on sized models.
func TestScaledKeepsLongerDurations(t *testing.T) {
	got := map[string]map[string]string{}
	for _, c := range Scaled(Cases(), 5000, 300) {
		got[c.Name] = c.Set
	}
	for name, want := range map[string]string{"brunel": "300", "cuba": "300", "ring_rate": "300", "ring_spiking": "600", "microcircuit": "300"} {
		if d := got[name]["duration_ms"]; d != want {
			t.Errorf("%s: duration_ms %q, want %q", name, d, want)
		}
	}
	if got["brunel"]["n"] != "5000" || got["ring_spiking"]["n"] != "5000" {
		t.Errorf("n not applied: brunel %q, ring_spiking %q", got["brunel"]["n"], got["ring_spiking"]["n"])
	}
	if _, ok := got["ring_rate"]["n"]; ok {
		t.Errorf("ring_rate given n %q: it has a fixed size", got["ring_rate"]["n"])
	}
	for _, c := range Scaled(Cases(), 0, 0) {
		for _, o := range Cases() {
			if o.Name == c.Name && o.Set["duration_ms"] != c.Set["duration_ms"] {
				t.Errorf("%s: 0 changed duration_ms from %q to %q", c.Name, o.Set["duration_ms"], c.Set["duration_ms"])
			}
		}
	}
}
