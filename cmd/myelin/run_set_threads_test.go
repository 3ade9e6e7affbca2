package main

import (
	"strings"
	"testing"
)

// TestRunSetKeyTwice: run and plan refuse a parameter given twice in
// one --set, naming it. Before, the last value silently won.
func TestRunSetKeyTwice(t *testing.T) {
	for _, args := range [][]string{
		{"run", "brunel", "--set", "n=500,n=700", "--backend", "cpu", "-q"},
		{"plan", "brunel", "--set", "n=500,seed=1,n=700"},
	} {
		code, out, errOut := myelin(t, args...)
		if code != 2 || out != "" || !strings.Contains(errOut, "parameter n given twice (n=500 and n=700)") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and the repeated key named", args, code, out, errOut)
		}
	}
}

// TestRunThreads: --threads is bounded, with an error naming it, and a
// run with more threads than neurons (planned for one per neuron, what
// the CPU backend uses: see TestPlanCapsThreads) runs. Before, any count
// was taken, and run brunel n = 100 with --threads 2500000 was refused as
// needing 25.5 GiB, blaming the synapses.
func TestRunThreads(t *testing.T) {
	for _, cmd := range []string{"run", "plan", "bench"} {
		code, _, errOut := myelin(t, cmd, "brunel", "--threads", "65537")
		if code != 2 || !strings.Contains(errOut, "--threads 65537: want 0 (all cores) or a count from 1 to 65536") {
			t.Errorf("%s --threads 65537: exit %d, stderr %q", cmd, code, errOut)
		}
	}
	code, _, errOut := myelin(t, "run", "brunel", "--set", "n=100", "--duration", "10", "--threads", "65536", "--backend", "cpu", "-q")
	if code != 0 {
		t.Errorf("run with more threads than neurons: exit %d, %s", code, errOut)
	}
}
