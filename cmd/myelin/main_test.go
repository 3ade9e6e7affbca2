package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// myelin runs the CLI in-process and returns its exit code and output.
func myelin(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := dispatch(context.Background(), &env{stdout: &out, stderr: &errOut, stdin: strings.NewReader("")}, args)
	return code, out.String(), errOut.String()
}

func TestRunWritesStreamAndSummary(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.myelin"), filepath.Join(dir, "b.myelin")
	code, out, errOut := myelin(t, "run", "brunel", "--set", "n=1000", "--duration", "100", "--backend", "cpu", "--threads", "2", "-o", a)
	if code != 0 {
		t.Fatalf("run: exit %d, stderr %s", code, errOut)
	}
	for _, want := range []string{"population", "rate (Hz)", "E", "I", "real-time factor", "status COMPLETE"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	// The same run from the printed spec, on one thread, gives the same spikes.
	code, specText, _ := myelin(t, "spec", "brunel", "--set", "n=1000,duration_ms=100")
	if code != 0 {
		t.Fatal("spec failed")
	}
	specFile := filepath.Join(dir, "brunel.textproto")
	if err := os.WriteFile(specFile, []byte(specText), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut = myelin(t, "run", specFile, "--backend", "cpu", "--threads", "1", "-o", b, "-q"); code != 0 {
		t.Fatalf("run spec: exit %d: %s", code, errOut)
	}
	if code, out, _ = myelin(t, "compare", a, b); code != 0 || !strings.Contains(out, "same spikes") {
		t.Errorf("compare: exit %d, %s", code, out)
	}
	// A different seed differs, and compare says where.
	if code, _, _ = myelin(t, "run", "brunel", "--set", "n=1000", "--duration", "100", "--seed", "7", "--backend", "cpu", "-o", b, "-q"); code != 0 {
		t.Fatal("run with seed failed")
	}
	if code, out, _ = myelin(t, "compare", a, b); code != 1 || !strings.Contains(out, "first difference at step") {
		t.Errorf("compare of different runs: exit %d, %q", code, out)
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.textproto")
	os.WriteFile(bad, []byte("name: \"x\"\npopulations {\n  name: \"E\"\n  sizee: 10\n}\n"), 0o644)
	invalid := filepath.Join(dir, "invalid.textproto")
	os.WriteFile(invalid, []byte("populations { name: \"E\" size: 10 iaf_psc_delta { tau_m: -5 } }\n"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"run", "nosuchmodel"}, 1, "neither a built-in model nor a readable spec file"},
		{[]string{"run", bad}, 1, "bad.textproto:4:3"},
		{[]string{"run", invalid}, 1, "iaf_psc_delta.tau_m = -5: must be > 0"},
		{[]string{"run", "brunel", "--set", "regime=chaos"}, 1, "parameter regime"},
		{[]string{"run", "brunel", "--backend", "tpu"}, 2, `--backend "tpu"`},
		{[]string{"run", "brunel", "--backend", "cuda"}, 1, "--backend cuda"},
		{[]string{"run", "brunel", "--sample", "E@3"}, 1, "--sample"},
		{[]string{"run"}, 2, "want exactly one"},
		{[]string{"frobnicate"}, 2, "unknown command"},
	} {
		code, _, errOut := myelin(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("myelin %v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

func TestModelsAndVersion(t *testing.T) {
	code, out, _ := myelin(t, "models")
	for _, m := range []string{"brunel", "cuba", "coba", "ring_rate"} {
		if code != 0 || !strings.Contains(out, m) {
			t.Errorf("models lacks %s", m)
		}
	}
	code, out, _ = myelin(t, "version")
	if code != 0 || !strings.Contains(out, Version) || !strings.Contains(out, fmt.Sprintf("stream format version %d", stream.FormatVersion)) {
		t.Errorf("version: %q", out)
	}
}

// Ctrl-C during run --out leaves a readable file that ends with a trailer
// marked interrupted.
func TestInterruptLeavesReadableStream(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "myelin")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	file := filepath.Join(dir, "run.myelin")
	cmd := exec.Command(bin, "run", "brunel", "--set", "n=2000", "--duration", "1000000", "--backend", "cpu", "-o", file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until some spike blocks are on disk (in the run's own
	// FILE.*.partial until the run ends).
	deadline := time.Now().Add(60 * time.Second)
	for {
		if m, _ := filepath.Glob(file + ".*" + partialSuffix); len(m) == 1 {
			if st, err := os.Stat(m[0]); err == nil && st.Size() > 20000 {
				break
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no stream written within 60 s: %s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Errorf("exit after SIGINT: %v, want status 130; stderr %s", err, stderr.String())
	}
	if m, _ := filepath.Glob(file + ".*" + partialSuffix); len(m) > 0 {
		t.Errorf("%v still there after the interrupt", m)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := stream.ReadAll(f)
	if err != nil {
		t.Fatalf("interrupted stream does not read back: %v", err)
	}
	if r.Trailer == nil || r.Trailer.GetStatus() != myelinpb.Trailer_INTERRUPTED {
		t.Fatalf("trailer %v, want status INTERRUPTED", r.Trailer)
	}
	if r.Trailer.GetStepsDone() == 0 || len(r.IDs) == 0 || r.Trailer.GetTotalSpikes() != uint64(len(r.IDs)) {
		t.Errorf("trailer says %d steps, %d spikes; read %d spikes", r.Trailer.GetStepsDone(), r.Trailer.GetTotalSpikes(), len(r.IDs))
	}
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stderr does not say it was interrupted: %s", stderr.String())
	}
}
