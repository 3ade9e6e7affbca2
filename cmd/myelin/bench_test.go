package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/plan"
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
	// --delivery chooses the CUDA backend's delivery: auto runs anywhere,
	// another mode needs that backend, an unknown one is refused first.
	for _, c := range []struct{ mode, want string }{
		{"per-spike", "--delivery per-spike: needs the cuda backend (this run has cpu"},
		{"tiles", `--delivery "tiles": want auto, global, per-spike or tiled`},
	} {
		if code, out, errOut := myelin(t, "bench", "brunel:n=500", "--set", "duration_ms=10", "--delivery", c.mode); code != 2 || !strings.Contains(errOut, c.want) || out != "" {
			t.Errorf("--delivery %s: exit %d, stdout %q, stderr %q; want 2 and %q", c.mode, code, out, errOut, c.want)
		}
	}
	if code, _, errOut := myelin(t, "bench", "brunel:n=500", "--set", "duration_ms=10", "--delivery", "auto"); code != 0 {
		t.Errorf("--delivery auto on the cpu: exit %d: %s", code, errOut)
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

// A model too large for the machine's memory is refused before anything
// is built, with the plan's figures, not killed by the runtime part way;
// the rows measured before it are printed.
func TestBenchRefusesWhatDoesNotFit(t *testing.T) {
	if _, ok := plan.AvailableMemory(); !ok {
		t.Skip("no /proc/meminfo")
	}
	code, out, errOut := myelin(t, "bench", "brunel:n=500", "brunel:n=2000000,indegree=100000", "--set", "duration_ms=20", "--markdown")
	if code == 0 || !strings.Contains(errOut, "brunel:n=2000000,indegree=100000") || !strings.Contains(errOut, "memory is available") {
		t.Fatalf("bench of a network that cannot fit: exit %d, stderr %q", code, errOut)
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[2], "| brunel:n=500 | 500 |") {
		t.Errorf("rows measured before the refusal not printed:\n%s", out)
	}
}

// TestBenchPeakMemoryPerRow checks the memory columns: the CPU backend has
// no device memory ("-"), and the peak host memory is measured per row (the
// kernel's mark is reset before each model), so a small model after a
// large one reports less.
func TestBenchPeakMemoryPerRow(t *testing.T) {
	if !resetPeakRSS() {
		t.Skip("this kernel cannot reset the peak resident set")
	}
	code, out, errOut := myelin(t, "bench", "brunel:n=10000", "brunel:n=500", "--set", "duration_ms=10", "--markdown")
	if code != 0 {
		t.Fatalf("bench: exit %d: %s", code, errOut)
	}
	var peaks []float64
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "| brunel") {
			continue
		}
		cells := strings.Split(line, "|")
		var mib float64
		if _, err := fmt.Sscan(strings.TrimSpace(cells[12]), &mib); err != nil || strings.TrimSpace(cells[13]) != "-" {
			t.Fatalf("row %q: peak host %q, device %q", line, cells[12], cells[13])
		}
		peaks = append(peaks, mib)
	}
	// n=10000 holds 10^7 synapses (40 MB of packed words alone).
	if len(peaks) != 2 || peaks[0] < 40 || peaks[1] > peaks[0]-20 {
		t.Errorf("peak host MiB per row %v: want the first over 40 and the second at least 20 below it", peaks)
	}
}
