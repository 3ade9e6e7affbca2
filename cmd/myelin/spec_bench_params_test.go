package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/spec"
)

// TestEmptyParameterRefused: an empty parameter value is an error naming
// the parameter in every command that takes model parameters. Before,
// ring_rate with n = "" panicked (integer divide by zero) in plan, run,
// spec and bench.
func TestEmptyParameterRefused(t *testing.T) {
	for _, args := range [][]string{
		{"spec", "ring_rate", "--set", "n="},
		{"plan", "ring_rate", "--set", "n="},
		{"run", "ring_rate", "--set", "n=", "--backend", "cpu", "-q"},
		{"bench", "ring_rate:n="},
		{"run", "brunel", "--set", "n=", "--backend", "cpu", "-q"},
		{"spec", "brunel", "--set", "g="},
	} {
		code, out, errOut := myelin(t, args...)
		if code == 0 || !strings.Contains(errOut, `parameter `) || !strings.Contains(errOut, ` = "": want a value`) || out != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want a refusal naming the empty parameter", args, code, out, errOut)
		}
	}
}

// TestSpecValidatesAsRun: spec refuses what run refuses, with run's
// error. Before, spec printed these specs and exited 0.
func TestSpecValidatesAsRun(t *testing.T) {
	for _, set := range []string{"n=4000000000", "duration_ms=0", "duration_ms=1e300"} {
		code, out, errOut := myelin(t, "spec", "brunel", "--set", set)
		rcode, _, rerr := myelin(t, "run", "brunel", "--set", set, "--backend", "cpu", "-q")
		want := strings.TrimPrefix(rerr, "myelin run: ")
		if code != 1 || rcode != 1 || out != "" || want == rerr || strings.TrimPrefix(errOut, "myelin spec: ") != want {
			t.Errorf("--set %s: spec exit %d, stdout %d bytes, stderr %q; run exit %d, stderr %q: want both refused with the same error", set, code, len(out), errOut, rcode, rerr)
		}
	}
}

// TestSpecOutput: spec writes the header and spec.Format's text (or
// spec.FormatJSON's JSON) of the model's defaulted spec, byte for byte.
func TestSpecOutput(t *testing.T) {
	set := map[string]string{"n": "64"}
	n, err := models.Spec("ring_spiking", set)
	if err != nil {
		t.Fatal(err)
	}
	text, err := spec.Format(n)
	if err != nil {
		t.Fatal(err)
	}
	js, err := spec.FormatJSON(n)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := models.Lookup("ring_spiking")
	header := "# " + m.Short + "\n# myelin run FILE.textproto runs this spec; every field is documented in proto/myelin.proto.\n"
	if code, out, errOut := myelin(t, "spec", "ring_spiking", "--set", "n=64"); code != 0 || out != header+string(text) {
		t.Errorf("spec: exit %d, %s; output differs from the header and spec.Format's text", code, errOut)
	}
	if code, out, errOut := myelin(t, "spec", "ring_spiking", "--set", "n=64", "--json"); code != 0 || out != string(js) {
		t.Errorf("spec --json: exit %d, %s; output differs from spec.FormatJSON's", code, errOut)
	}
}

// TestSpecSizeEstimate: specSize, on which spec refuses a spec larger
// than a file may hold before formatting it, is within 1 % of the
// formatted size of every built-in model, as text and as JSON.
func TestSpecSizeEstimate(t *testing.T) {
	for _, m := range models.All() {
		set := map[string]string{}
		if m.Name == "ring_spiking" {
			set["n"] = "1024" // lists long enough to be sampled
		}
		n, err := models.Spec(m.Name, set)
		if err != nil {
			t.Fatal(err)
		}
		text, _ := spec.Format(n)
		js, _ := spec.FormatJSON(n)
		for _, c := range []struct {
			json bool
			got  int
		}{{false, len(text)}, {true, len(js)}} {
			est := float64(specSize(n, c.json))
			if d := est/float64(c.got) - 1; d < -0.01 || d > 0.02 {
				t.Errorf("%s (json %v): estimated %g bytes, formatted %d (%+.2f %%)", m.Name, c.json, est, c.got, 100*d)
			}
		}
	}
}

// TestSpecRefusesMoreThanAFileHolds: a spec whose text would be larger
// than a spec file may hold (spec.MaxFileBytes) is refused from its
// estimated size, before it is formatted, naming the cap and the built-in
// model's name to run instead. Before, spec hopfield n = 20000 (3 GB of
// text) died out of memory.
func TestSpecRefusesMoreThanAFileHolds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 600 MB spec")
	}
	for _, f := range []string{"", "--json"} {
		args := []string{"spec", "hopfield", "--set", "n=20000"}
		if f != "" {
			args = append(args, f)
		}
		code, out, errOut := myelin(t, args...)
		for _, want := range []string{"the spec would be about", "more than the 1.0 GiB a spec file may hold (spec.MaxFileBytes)", "myelin run hopfield --set n=20000"} {
			if code != 1 || out != "" || !strings.Contains(errOut, want) {
				t.Errorf("%v: exit %d, %d bytes out, stderr %q; want a refusal with %q", args, code, len(out), errOut, want)
			}
		}
	}
}

// TestSetKeyTwice: a parameter given twice in one --set, or in bench's
// MODEL:k=v, is an error naming it; a later --set, and a MODEL:k=v,
// still override. Before, the last value silently won.
func TestSetKeyTwice(t *testing.T) {
	for _, args := range [][]string{
		{"spec", "brunel", "--set", "n=5,n=7"},
		{"bench", "brunel:n=100,n=200"},
		{"bench", "brunel:n=100", "--set", "duration_ms=10,duration_ms=20"},
	} {
		code, out, errOut := myelin(t, args...)
		if code != 2 || out != "" || !strings.Contains(errOut, "given twice") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and the repeated key named", args, code, out, errOut)
		}
	}
	if code, out, errOut := myelin(t, "spec", "brunel", "--set", `n=500,duration_ms=100`, "--set", "g=4,n=1000"); code != 0 || !strings.Contains(out, "g=4, eta=2, N=1000") {
		t.Errorf("spec with two --set: exit %d, %s", code, errOut)
	}
	code, out, errOut := myelin(t, "bench", "brunel:n=500", "--set", "n=100,duration_ms=10", "--markdown")
	if code != 0 || !strings.Contains(out, "| brunel:n=500 | 500 |") {
		t.Errorf("bench MODEL:n over --set n: exit %d, %q, %s", code, out, errOut)
	}
}

// errWriter fails every write.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// TestBenchWriteErrors: bench fails when its table cannot be written, in
// both formats. Before, --markdown to a full device exited 0.
func TestBenchWriteErrors(t *testing.T) {
	for _, format := range [][]string{nil, {"--markdown"}} {
		args := append([]string{"bench", "brunel:n=100", "--set", "duration_ms=10"}, format...)
		var errOut bytes.Buffer
		code := dispatch(context.Background(), &env{stdout: errWriter{}, stderr: &errOut, stdin: strings.NewReader("")}, args)
		if code != 1 || !strings.Contains(errOut.String(), "writing the table: no space left on device") {
			t.Errorf("%v to a failing writer: exit %d, stderr %q", args, code, errOut.String())
		}
	}
}

// cancelBackend cancels the command's context at the first Advance of
// the backend it wraps.
type cancelBackend struct {
	backend.Backend
	cancel func()
}

func (c *cancelBackend) Advance(n int, blk *backend.Block) error {
	c.cancel()
	return c.Backend.Advance(n, blk)
}

// TestBenchInterrupted: an interrupted bench exits 130, as run does, and
// prints what it measured: with --repeat 3 interrupted in the third run,
// the best of the two finished ones, marked; interrupted in its only run,
// that run's figures so far, marked and with its status. Before, it exited
// 1 and dropped the current model's finished runs.
func TestBenchInterrupted(t *testing.T) {
	for _, c := range []struct {
		repeat string
		at     int // the run (backend) that is interrupted
		want   string
	}{
		{"3", 3, "| brunel:n=500 (interrupted: best of 2 of 3 runs) | 500 | 25000 |"},
		{"1", 1, "| brunel:n=500 (interrupted part way) | 500 | 25000 |"},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		opened := 0
		hook := func(be backend.Backend) backend.Backend {
			if opened++; opened == c.at {
				return &cancelBackend{Backend: be, cancel: cancel}
			}
			return be
		}
		code, out, errOut := myelinEnv(ctx, &env{backendHook: hook}, "bench", "brunel:n=500", "--set", "duration_ms=50", "--repeat", c.repeat, "--backend", "cpu", "--markdown")
		cancel()
		if code != 130 || !strings.Contains(errOut, "interrupted") || !strings.Contains(out, c.want) {
			t.Errorf("--repeat %s interrupted in run %d: exit %d, stderr %q, stdout:\n%s\nwant 130 and a row %q", c.repeat, c.at, code, errOut, out, c.want)
		}
		if c.at == 1 && !strings.Contains(out, "| INTERRUPTED |") {
			t.Errorf("the interrupted run's row does not say INTERRUPTED:\n%s", out)
		}
	}
}

// TestPlanCapsThreads: plan counts at most one thread per neuron, as a
// build and a CPU run use, and says so. Before, brunel n = 100 with
// --threads 2500000 was planned at 25.5 GiB (run refused it, blaming the
// synapses); with 60000 threads, at 985 MiB.
func TestPlanCapsThreads(t *testing.T) {
	code, out, errOut := myelin(t, "plan", "brunel", "--set", "n=100", "--threads", "60000")
	if code != 0 || !strings.Contains(out, "threads: 60000 asked, 100 planned") {
		t.Fatalf("plan: exit %d, stderr %q, stdout:\n%s", code, errOut, out)
	}
	// 100 threads: 1.1 MiB in all.
	for _, line := range strings.Split(out, "\n") {
		var mib float64
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "total" {
			if _, err := fmt.Sscan(f[1], &mib); err != nil || f[2] != "MiB" || mib > 2 {
				t.Errorf("planned for more threads than neurons: %q", line)
			}
		}
	}
}
