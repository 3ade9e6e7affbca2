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

// TestBenchKeepsFinishedRows checks that a bench that fails part way (here
// on an unknown model; an interrupt or a time limit takes the same path)
// still prints the rows it measured before the failure.
func TestBenchKeepsFinishedRows(t *testing.T) {
	code, out, errOut := myelin(t, "bench", "brunel:n=500", "no_such_model", "--set", "duration_ms=20", "--markdown")
	if code == 0 || !strings.Contains(errOut, "no_such_model") {
		t.Fatalf("bench with an unknown model: exit %d, stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[2], "| brunel:n=500 | 500 |") {
		t.Errorf("rows measured before the failure not printed:\n%s", out)
	}
}
