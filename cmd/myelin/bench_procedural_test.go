package main

import (
	"strings"
	"testing"
)

// A procedural bench row counts the regenerated synapses and their events
// (brunel n=1000: 100,000 synapses, none stored).
func TestBenchProceduralRow(t *testing.T) {
	code, out, errOut := myelin(t, "bench", "brunel:n=1000,procedural=1", "--set", "duration_ms=50", "--markdown")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[2], "| brunel:n=1000,procedural=1 | 1000 | 100000 |") {
		t.Fatalf("bench table:\n%s", out)
	}
	// Columns: model, neurons, synapses, build, load, simulation, bio,
	// real-time factor, spikes/s, events/s.
	cols := strings.Split(lines[2], "|")
	if ev := strings.TrimSpace(cols[10]); ev == "0" || ev == "-" {
		t.Errorf("synaptic events/s %q: want the procedural rows' events counted", ev)
	}
}
