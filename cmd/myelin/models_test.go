package main

import (
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/neuron"
)

// TestModelsListsNeuronModels checks that `myelin models` lists every
// registered neuron model with its NEST defaults.
func TestModelsListsNeuronModels(t *testing.T) {
	code, out, _ := myelin(t, "models")
	if code != 0 {
		t.Fatalf("models: exit %d", code)
	}
	for _, m := range neuron.Models() {
		line := strings.Join(defaultParams(m.Defaults()), " ")
		if !strings.Contains(out, "\n"+m.Name+" ") || !strings.Contains(out, line) {
			t.Errorf("models does not list %s with its defaults %q", m.Name, line)
		}
		if m.HasSlowPort() {
			slow := "slow excitatory port (receptor SLOW_EXCITATORY): " + strings.Join(defaultParams(m.SlowDefaults()), " ")
			if !strings.Contains(out, slow) {
				t.Errorf("models does not list the slow port of %s: %q", m.Name, slow)
			}
		}
	}
}
