package main

import (
	"strings"
	"testing"
)

func TestBenchCommand(t *testing.T) {
	// brunel n=1000: C_E = 80, C_I = 20 inputs per neuron, 100,000 synapses.
	code, out, errOut := myelin(t, "bench", "brunel:n=1000", "cuba", "--set", "duration_ms=50", "--markdown")
	if code != 0 {
		t.Fatalf("bench: exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[2], "| brunel:n=1000 | 1000 | 100000 |") || !strings.HasPrefix(lines[3], "| cuba | 4000 |") {
		t.Errorf("markdown table:\n%s", out)
	}
	if code, _, errOut = myelin(t, "bench", "brunel:n"); code != 2 || !strings.Contains(errOut, "want k=v") {
		t.Errorf("bad model argument: exit %d, %q", code, errOut)
	}
}
