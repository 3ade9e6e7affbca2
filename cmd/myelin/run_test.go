package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// tracked counts the backends a command opens and closes.
type tracked struct {
	mu                     sync.Mutex
	opened, closed, maxNow int
}

type trackedBackend struct {
	backend.Backend
	t    *tracked
	done bool
}

func (b *trackedBackend) Close() error {
	b.t.mu.Lock()
	defer b.t.mu.Unlock()
	if !b.done {
		b.done = true
		b.t.closed++
	}
	return b.Backend.Close()
}

func (tr *tracked) hook(be backend.Backend) backend.Backend {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.opened++
	tr.maxNow = max(tr.maxNow, tr.opened-tr.closed)
	return &trackedBackend{Backend: be, t: tr}
}

// myelinEnv runs the CLI in-process with a prepared env and context.
func myelinEnv(ctx context.Context, e *env, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	e.stdout, e.stderr, e.stdin = &out, &errOut, strings.NewReader("")
	code := dispatch(ctx, e, args)
	return code, out.String(), errOut.String()
}

func TestBackendClosedAfterEachRun(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		opened int
	}{
		{"bench --repeat 3", []string{"bench", "brunel:n=1000", "--set", "duration_ms=20", "--repeat", "3"}, 0, 3},
		{"bench two models", []string{"bench", "brunel:n=1000", "ring_rate", "--set", "duration_ms=20", "--repeat", "2"}, 0, 4},
		{"run", []string{"run", "brunel", "--set", "n=1000", "--duration", "20", "--backend", "cpu", "-q"}, 0, 1},
		{"run refused at --listen", []string{"run", "brunel", "--set", "n=1000", "--duration", "20", "--backend", "cpu", "--listen", "unix:" + filepath.Join(t.TempDir(), "no", "such", "dir", "s")}, 1, 1},
		{"run with a bad spec", []string{"run", "brunel", "--set", "g=-5", "--backend", "cpu"}, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &tracked{}
			code, _, errOut := myelinEnv(context.Background(), &env{backendHook: tr.hook}, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, errOut)
			}
			if tr.opened != tc.opened || tr.closed != tr.opened || tr.maxNow != 1 {
				t.Errorf("backends opened %d (want %d), closed %d, at most %d open at once (want 1)", tr.opened, tc.opened, tr.closed, tr.maxNow)
			}
		})
	}
}

// fakeCUDA writes a stand-in for myelin-cuda: a shell script that answers
// the probe as given and records the commands handed to it.
func fakeCUDA(t *testing.T, probe string) (path, log string) {
	t.Helper()
	dir := t.TempDir()
	path, log = filepath.Join(dir, "myelin-cuda"), filepath.Join(dir, "calls")
	script := "#!/bin/sh\nif [ \"$1\" = gpu-probe ]; then\necho probe >>" + log + ".probes\n" + probe + "\nfi\necho \"$@\" >>" + log + "\nexit 7\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, log
}

func TestAutoBackendWhenTheGPUCannotBeUsed(t *testing.T) {
	// What myelin-cuda prints when cuInit fails at start-up (here the
	// driver's stub library: CUDA_ERROR_STUB_LIBRARY).
	const initErr = `Error in initialization, please refer to "https://docs.nvidia.com/cuda/cuda-driver-api/group__CUDA__INITIALIZE.html" for details on: UnknownErrorCode:34`
	sib, calls := fakeCUDA(t, "echo '"+initErr+"'; exit 1")
	args := []string{"run", "brunel", "--set", "n=1000", "--duration", "20"}
	code, out, errOut := myelinEnv(context.Background(), &env{sibling: sib}, args...)
	if code != 0 {
		t.Fatalf("auto with an unusable GPU: exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "backend auto: chose cpu (") || !strings.Contains(errOut, "UnknownErrorCode:34") {
		t.Errorf("auto does not say why it chose the CPU: %q", errOut)
	}
	if !regexp.MustCompile(`on cpu, \d+ threads?`).MatchString(out) {
		t.Errorf("summary does not show the CPU: %s", out)
	}
	if _, err := os.Stat(calls); !os.IsNotExist(err) {
		t.Errorf("a command was handed to myelin-cuda although its probe failed")
	}
	code, _, errOut = myelinEnv(context.Background(), &env{sibling: sib}, append(args, "--backend", "cuda")...)
	if code != 1 || !strings.Contains(errOut, "--backend cuda: ") || !strings.Contains(errOut, "UnknownErrorCode:34") {
		t.Errorf("--backend cuda with an unusable GPU: exit %d, %q", code, errOut)
	}

	// bench probes once, says once why it chose the CPU, and runs there.
	os.Remove(calls + ".probes")
	code, out, errOut = myelinEnv(context.Background(), &env{sibling: sib}, "bench", "brunel:n=1000", "ring_rate", "--set", "duration_ms=10", "--backend", "auto", "--repeat", "3")
	probes, _ := os.ReadFile(calls + ".probes")
	if code != 0 || strings.Count(errOut, "backend auto: chose cpu (") != 1 || strings.Count(string(probes), "probe") != 1 || strings.Count(out, "cpu, ") != 2 {
		t.Errorf("bench auto with an unusable GPU: exit %d, %d probes, stderr %q, table:\n%s", code, strings.Count(string(probes), "probe"), errOut, out)
	}

	// A probe that hangs is given up on.
	hang, _ := fakeCUDA(t, "exec sleep 30")
	t0 := time.Now()
	_, err := probe(context.Background(), hang, 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "did not answer within 300ms") || time.Since(t0) > 5*time.Second {
		t.Errorf("hanging probe: %v after %v", err, time.Since(t0))
	}
}

// A myelin-cuda of another build is still handed the command, with a
// warning naming both builds, and so is one that names no build (it is
// older than the build line); one of the same build gets no warning. A
// probe that dies after its build line is reported by its failure, not by
// that line.
func TestHandOverWarnsOfAnotherBuild(t *testing.T) {
	args := []string{"run", "brunel", "--duration", "1s"}
	for _, tc := range []struct {
		name, build, want string
	}{
		{"another build", "echo 'build 0.0.9 0123abcd'", "warning: %s is build 0.0.9 0123abcd, but this myelin is build " + buildID()},
		{"this build", "echo 'build " + buildID() + "'", ""},
		{"no build line", "true", "warning: %s does not name its build, so it is older than this myelin (build " + buildID() + ")"},
	} {
		sib, _ := fakeCUDA(t, tc.build+"; echo 'cuda: Fake GPU'; exit 0")
		code, _, errOut := myelinEnv(context.Background(), &env{sibling: sib}, args...)
		if code != 7 {
			t.Errorf("%s: exit %d, want myelin-cuda's 7: %s", tc.name, code, errOut)
		}
		warned := strings.Contains(errOut, "warning: "+sib)
		if tc.want == "" && warned || tc.want != "" && !strings.Contains(errOut, fmt.Sprintf(tc.want, sib)) {
			t.Errorf("%s: stderr %q; want %q", tc.name, errOut, tc.want)
		}
	}
	dies, _ := fakeCUDA(t, "echo 'build "+buildID()+"'; kill -SEGV $$")
	_, err := probe(context.Background(), dies, 10*time.Second)
	if err == nil || strings.Contains(err.Error(), "build ") || !strings.Contains(err.Error(), "signal") {
		t.Errorf("a probe that dies after its build line: %v, want its signal", err)
	}
}

func TestHandOverPassesTheCommand(t *testing.T) {
	sib, calls := fakeCUDA(t, "echo 'cuda: Fake GPU'; exit 0")
	for _, args := range [][]string{
		{"run", "brunel", "--duration", "1s"},
		{"bench", "brunel:n=1000", "--backend", "auto", "--repeat", "3"},
	} {
		os.Remove(calls)
		code, _, errOut := myelinEnv(context.Background(), &env{sibling: sib}, args...)
		if code != 7 || !strings.Contains(errOut, "handing over to "+sib) {
			t.Errorf("%v: exit %d (want myelin-cuda's 7), %q", args, code, errOut)
		}
		got, err := os.ReadFile(calls)
		if err != nil || strings.TrimSpace(string(got)) != strings.Join(args, " ") {
			t.Errorf("%v: myelin-cuda was called with %q (%v)", args, got, err)
		}
	}
}

// A run that is refused before it simulates leaves an existing --out file
// as it was; one that simulates replaces it through FILE.*.partial.
func TestRunNeverDestroysOutput(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "keep.myelin")
	const precious = "an earlier run's stream"
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		args []string
		want string
	}{
		{"memory check", context.Background(), []string{"--set", "n=2000000,indegree=100000"}, "memory is available"},
		{"bad --listen", context.Background(), []string{"--listen", "unix:" + filepath.Join(dir, "no", "such", "s")}, "--listen"},
		{"interrupted load", cancelled, nil, "interrupted while loading"},
		{"invalid spec", context.Background(), []string{"--set", "g=-5"}, "parameter g"},
		{"--out is a folder", context.Background(), []string{"-o", dir}, "is a folder"},
		{"--out in no folder", context.Background(), []string{"-o", filepath.Join(dir, "no", "x.myelin")}, "folder " + filepath.Join(dir, "no") + " does not exist"},
		{"--out under a file", context.Background(), []string{"-o", filepath.Join(file, "x.myelin")}, file + " is not a folder"},
		{"--out deeper under a file", context.Background(), []string{"-o", filepath.Join(file, "sub", "x.myelin")}, filepath.Join(file, "sub") + " is not a folder (a part of it is a file)"},
		{"--device-build on the cpu", context.Background(), []string{"--device-build"}, "--device-build: needs the cuda backend"},
		{"--delivery tiled on the cpu", context.Background(), []string{"--delivery", "tiled"}, "--delivery tiled: needs the cuda backend"},
		{"unknown --delivery", context.Background(), []string{"--delivery", "sorted"}, `--delivery "sorted": want auto, global, per-spike or tiled`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(file, []byte(precious), 0o644); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"run", "brunel", "--set", "n=1000", "--duration", "20", "--backend", "cpu", "-o", file}, tc.args...)
			code, _, errOut := myelinEnv(tc.ctx, &env{}, args...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q: want a failure mentioning %q", code, errOut, tc.want)
			}
			if got, err := os.ReadFile(file); err != nil || string(got) != precious {
				t.Errorf("--out file after a refused run: %q, %v; want it untouched", got, err)
			}
			if left, _ := filepath.Glob(file + ".*" + partialSuffix); len(left) > 0 {
				t.Errorf("%v left behind", left)
			}
		})
	}
	// A run that completes replaces the file; no .partial is left.
	if code, _, errOut := myelinEnv(context.Background(), &env{}, "run", "brunel", "--set", "n=1000", "--duration", "20", "--backend", "cpu", "-q", "-o", file); code != 0 {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	r := readOutStream(t, file)
	if r.Trailer.GetStatus() != myelinpb.Trailer_COMPLETE || r.Trailer.GetStepsDone() != 200 {
		t.Errorf("trailer %v, want COMPLETE after 200 steps", r.Trailer)
	}
	if left, _ := filepath.Glob(file + ".*" + partialSuffix); len(left) > 0 {
		t.Errorf("%v left after a complete run", left)
	}
	// An interrupted run also replaces it, with a trailer marked interrupted.
	ctx, stop := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer stop()
	code, _, errOut := myelinEnv(ctx, &env{}, "run", "brunel", "--set", "n=1000", "--duration", "1e7", "--backend", "cpu", "-q", "-o", file)
	if code != 130 {
		t.Fatalf("interrupted run: exit %d: %s", code, errOut)
	}
	r = readOutStream(t, file)
	if r.Trailer.GetStatus() != myelinpb.Trailer_INTERRUPTED || r.Trailer.GetStepsDone() == 0 {
		t.Errorf("trailer %v, want INTERRUPTED after some steps", r.Trailer)
	}
	if left, _ := filepath.Glob(file + ".*" + partialSuffix); len(left) > 0 {
		t.Errorf("%v left after an interrupted run", left)
	}
}

func readOutStream(t *testing.T, path string) *stream.Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := stream.ReadAll(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return r
}

func TestTimeAndThreadFlags(t *testing.T) {
	steps := regexp.MustCompile(`(\d+) ms in (\d+) steps of ([0-9.]+) ms on cpu, (\d+ threads?)[ ,]`)
	for _, tc := range []struct {
		flags               []string
		ms, steps, dt, thrd string
	}{
		{[]string{"--duration", "1s"}, "1000", "10000", "0.1", "1 thread"},
		{[]string{"--duration", "250ms"}, "250", "2500", "0.1", "1 thread"},
		{[]string{"--duration", "250"}, "250", "2500", "0.1", "1 thread"},
		{[]string{"--duration", "0.05s", "--dt", "500us"}, "50", "100", "0.5", "1 thread"},
		{[]string{"--duration", "20", "--threads", "2"}, "20", "200", "0.1", "2 threads"},
	} {
		args := append([]string{"run", "brunel", "--set", "n=1000", "--backend", "cpu", "--threads", "1"}, tc.flags...)
		code, out, errOut := myelin(t, args...)
		m := steps.FindStringSubmatch(out)
		if code != 0 || m == nil || m[1] != tc.ms || m[2] != tc.steps || m[3] != tc.dt || m[4] != tc.thrd {
			t.Errorf("%v: exit %d, %v (want %s ms, %s steps of %s ms, %s): %s", tc.flags, code, m, tc.ms, tc.steps, tc.dt, tc.thrd, errOut)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "brunel", "--duration", "1x"}, `invalid argument "1x" for "--duration"`},
		{[]string{"run", "brunel", "--duration", "-5"}, "want a time > 0"},
		{[]string{"run", "brunel", "--duration", "NaN"}, "want a time > 0"},
		{[]string{"run", "brunel", "--dt", "0"}, "want a time > 0"},
		{[]string{"run", "brunel", "--threads", "-1"}, "--threads -1: want 0 (all cores) or a count from 1 to 65536"},
		{[]string{"bench", "brunel", "--threads", "-2"}, "--threads -2"},
		{[]string{"plan", "brunel", "--threads", "-3"}, "--threads -3"},
		{[]string{"bench", "brunel", "--repeat", "0"}, "--repeat 0"},
	} {
		if code, _, errOut := myelin(t, tc.args...); code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q; want exit 2 mentioning %q", tc.args, code, errOut, tc.want)
		}
	}
}

// run's summary and bench's table give the same figures, and the same
// values for the same network.
func TestRunAndBenchSummariesAgree(t *testing.T) {
	code, out, errOut := myelin(t, "run", "brunel", "--set", "n=1000", "--duration", "500", "--backend", "cpu", "--threads", "1")
	if code != 0 {
		t.Fatalf("run: %s", errOut)
	}
	last := regexp.MustCompile(`build (\S+), load (\S+), simulation (\S+) \(real-time factor (\S+), (\S+) spikes/s, (\S+) synaptic events/s, (\S+) µs/step\), status (\w+)`).FindStringSubmatch(out)
	if last == nil {
		t.Fatalf("run summary lacks the figures:\n%s", out)
	}
	code, table, errOut := myelin(t, "bench", "brunel:n=1000", "--set", "duration_ms=500", "--threads", "1", "--markdown")
	if code != 0 {
		t.Fatalf("bench: %s", errOut)
	}
	lines := strings.Split(strings.TrimSpace(table), "\n")
	head := strings.Split(lines[0], "|")
	row := strings.Split(lines[2], "|")
	col := map[string]string{}
	for i := range head {
		col[strings.TrimSpace(head[i])] = strings.TrimSpace(row[i])
	}
	for _, h := range []string{"build (s)", "load (s)", "simulation (s)", "real-time factor", "spikes/s", "synaptic events/s", "µs/step", "status", "neurons", "synapses"} {
		if _, ok := col[h]; !ok {
			t.Errorf("bench table lacks %q: %s", h, lines[0])
		}
	}
	if col["status"] != last[8] || col["neurons"] != "1000" || col["synapses"] != "100000" || !strings.Contains(out, "1000 neurons, 100000 synapses") {
		t.Errorf("run: %v; bench: %v", last, col)
	}
	// The same seed gives the same spikes, so the spike rates differ only
	// by the simulation time: spikes/s × simulation is the spike count.
	// Both are printed rounded (simulation to the ms), so the run is long
	// enough (500 ms) for the rounding to stay within a few per cent.
	runSpikes := mustFloat(t, last[5]) * durSeconds(t, last[3])
	benchSpikes := mustFloat(t, col["spikes/s"]) * mustFloat(t, col["simulation (s)"])
	if runSpikes <= 0 || benchSpikes/runSpikes < 0.9 || benchSpikes/runSpikes > 1.1 {
		t.Errorf("spikes: run %.0f, bench %.0f", runSpikes, benchSpikes)
	}
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return f
}

func durSeconds(t *testing.T, s string) float64 {
	t.Helper()
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return d.Seconds()
}

// Ctrl-C while the network is being built (after the spec is loaded)
// stops the build and leaves an existing --out file as it was.
func TestRunInterruptedBuild(t *testing.T) {
	file := filepath.Join(t.TempDir(), "keep.myelin")
	const precious = "an earlier run's stream"
	if err := os.WriteFile(file, []byte(precious), 0o644); err != nil {
		t.Fatal(err)
	}
	// Loading brunel takes about a millisecond, building 200,000 neurons
	// with in-degree 1,000 several seconds on 2 cores.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	code, _, errOut := myelinEnv(ctx, &env{}, "run", "brunel", "--set", "n=200000,indegree=1000", "--duration", "10", "--backend", "cpu", "--threads", "2", "-o", file)
	if code != 130 || !strings.Contains(errOut, "interrupted while building") {
		t.Errorf("exit %d, stderr %q: want 130 and an interrupted build", code, errOut)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the interrupted build took %v to stop", d)
	}
	if got, err := os.ReadFile(file); err != nil || string(got) != precious {
		t.Errorf("--out file after an interrupted build: %q, %v; want it untouched", got, err)
	}
}

// A run whose --out is its own spec file (under any name) is refused: it
// would replace the spec with the stream.
func TestRunRefusesOutOverSpec(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("..", "..", "engine", "spec", "testdata", "brunel.textproto"))
	if err != nil {
		t.Fatal(err)
	}
	spec, link := filepath.Join(dir, "net.textproto"), filepath.Join(dir, "out.myelin")
	if err := os.WriteFile(spec, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(spec, link); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{spec, link} {
		code, _, errOut := myelinEnv(context.Background(), &env{}, "run", spec, "--duration", "10", "-q", "-o", out)
		if code != 2 || !strings.Contains(errOut, "is the spec") {
			t.Errorf("-o %s: exit %d, %q; want 2 and the spec named", out, code, errOut)
		}
		if got, _ := os.ReadFile(spec); !bytes.Equal(got, src) {
			t.Errorf("-o %s: the spec file changed", out)
		}
	}
}

// A duration that is not a whole number of steps is noted: the run
// simulates the nearest whole number of steps, and the summary gives the
// time simulated, not the duration asked.
func TestRunDurationNotWholeSteps(t *testing.T) {
	code, out, errOut := myelinEnv(context.Background(), &env{}, "run", "brunel", "--set", "n=100", "--duration", "1", "--dt", "0.3", "--backend", "cpu")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "the duration 1 ms is not a whole number of steps of 0.3 ms: the run simulates 3 steps (0.9 ms)") {
		t.Errorf("stderr %q: want the note", errOut)
	}
	if !strings.Contains(out, "0.9 ms in 3 steps of 0.3 ms") {
		t.Errorf("summary %q: want 0.9 ms in 3 steps", out)
	}
	_, _, errOut = myelinEnv(context.Background(), &env{}, "run", "brunel", "--set", "n=100", "--duration", "1.2", "--dt", "0.3", "--backend", "cpu")
	if strings.Contains(errOut, "whole number") {
		t.Errorf("1.2 ms of 0.3 ms steps noted: %q", errOut)
	}
}

// A run without --out says that its stream was not kept; one with it does
// not.
func TestRunSaysTheStreamWasNotKept(t *testing.T) {
	const note = "the stream was not kept"
	args := []string{"run", "brunel", "--set", "n=200", "--duration", "5", "--backend", "cpu"}
	code, out, errOut := myelinEnv(context.Background(), &env{}, args...)
	if code != 0 || !strings.Contains(out, note) {
		t.Errorf("without --out: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, _ = myelinEnv(context.Background(), &env{}, append(args, "-o", filepath.Join(t.TempDir(), "b.myelin"))...)
	if code != 0 || strings.Contains(out, note) {
		t.Errorf("with --out: exit %d, stdout %q", code, out)
	}
}
