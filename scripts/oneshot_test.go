package scripts

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// oneshot runs gpu-oneshot.sh with extra environment and returns its exit
// code, stdout, stderr and wall time.
func oneshot(t *testing.T, env ...string) (int, string, string, time.Duration) {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	cmd := exec.Command("bash", "gpu-oneshot.sh")
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	t0 := time.Now()
	err := cmd.Run()
	wall := time.Since(t0)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errOut.String(), wall
}

func TestScriptsSyntax(t *testing.T) {
	files, err := filepath.Glob("*.sh")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, f := range files {
		if out, err := exec.Command("bash", "-n", f).CombinedOutput(); err != nil {
			t.Errorf("bash -n %s: %v\n%s", f, err, out)
		}
	}
}

var stepLine = regexp.MustCompile(`^step (\d) (\S+) +limit (\d+) s(, keeping (\d+) s for step 8)? +-> (\S+)$`)

func TestOneshotDryRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr, _ := oneshot(t, "DRY_RUN=1", "OUT="+out, "BUDGET=")
	if code != 0 {
		t.Fatalf("dry run: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the dry run created %s", out)
	}
	lines := strings.Split(stdout, "\n")
	m := regexp.MustCompile(`budget (\d+) s, output \S+ \(at most 8 files: ([^)]*)\)`).FindStringSubmatch(lines[0])
	if m == nil {
		t.Fatalf("first line: %q", lines[0])
	}
	budget, _ := strconv.Atoi(m[1])
	if budget != 540 {
		t.Errorf("default budget %d s, want 540", budget)
	}
	files := strings.Fields(m[2])
	if len(files) > 8 || files[0] != "summary.txt" {
		t.Errorf("output files %v: want at most 8, summary.txt first", files)
	}
	var steps []string
	sum := 0
	for _, l := range lines {
		if !strings.HasPrefix(l, "step ") {
			continue
		}
		steps = append(steps, l)
		if s := stepLine.FindStringSubmatch(strings.TrimSpace(l)); s != nil {
			if n, _ := strconv.Atoi(s[1]); n != len(steps) {
				t.Errorf("step %d listed as number %d", len(steps), n)
			}
			lim, _ := strconv.Atoi(s[3])
			if lim <= 0 || lim > budget {
				t.Errorf("%s: limit %d s outside (0, %d]", s[2], lim, budget)
			}
			if s[4] == "" {
				sum += lim
			} else if keep, _ := strconv.Atoi(s[5]); s[1] != "7" || keep != 150 {
				t.Errorf("%s keeps %d s for step 8: want step 7 alone to keep the 150 s of step 8's minimum", s[2], keep)
			}
			if !strings.Contains(m[2], s[6]) {
				t.Errorf("%s logs to %s, not among the output files %v", s[2], s[6], files)
			}
		} else if !strings.Contains(l, "the rest of the budget, only if >= 150 s remain") {
			t.Errorf("step line %q has neither a limit nor the rest of the budget", l)
		}
	}
	if len(steps) != 8 {
		t.Fatalf("%d steps, want 8:\n%s", len(steps), stdout)
	}
	if sum > budget {
		t.Errorf("the limits of steps 1-6 add up to %d s, more than the budget of %d s", sum, budget)
	}
	if code, _, stderr, _ := oneshot(t, "DRY_RUN=1", "BUDGET=900"); code != 64 || !strings.Contains(stderr, "BUDGET=900") {
		t.Errorf("BUDGET=900: exit %d, %q", code, stderr)
	}
}

// failsAtOnce checks a preflight failure: exit 2 within seconds, nothing
// on stdout, one line on stderr containing want, and a summary that says
// the same.
func failsAtOnce(t *testing.T, out, want string, env ...string) {
	t.Helper()
	code, stdout, stderr, wall := oneshot(t, append(env, "OUT="+out)...)
	if code != 2 {
		t.Errorf("exit %d, want 2; stderr %q", code, stderr)
	}
	if wall > 10*time.Second {
		t.Errorf("took %v to fail", wall)
	}
	if stdout != "" {
		t.Errorf("stdout %q, want nothing", stdout)
	}
	errLines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(errLines) != 1 || !strings.HasPrefix(errLines[0], "gpu-oneshot: FAIL 1 preflight: ") || !strings.Contains(errLines[0], want) {
		t.Errorf("stderr %q: want one FAIL line containing %q", stderr, want)
	}
	summary, err := os.ReadFile(filepath.Join(out, "summary.txt"))
	if err != nil || !strings.Contains(string(summary), "FAIL  1 preflight: ") || !strings.Contains(string(summary), want) {
		t.Errorf("summary.txt (%v):\n%s", err, summary)
	}
	if ents, _ := os.ReadDir(out); len(ents) > 2 {
		t.Errorf("%d files in the output folder after a preflight failure", len(ents))
	}
}

func TestOneshotMissingBinaries(t *testing.T) {
	dir := t.TempDir()
	failsAtOnce(t, filepath.Join(dir, "out"), "make cuda-toolchain gpu-bins", "BIN="+filepath.Join(dir, "empty"))
}

func TestOneshotNoGPU(t *testing.T) {
	if _, err := exec.LookPath("nvidia-smi"); err == nil {
		t.Skip("nvidia-smi is installed here")
	}
	if _, err := os.Stat("/dev/nvidia0"); err == nil {
		t.Skip("this machine has an NVIDIA device")
	}
	dir := t.TempDir()
	bin := fakeBin(t, dir, map[string]string{"cuda.test": "exit 0", "myelin": "exit 0", "myelin-cuda": "exit 0"})
	failsAtOnce(t, filepath.Join(dir, "out"), "no NVIDIA GPU", "BIN="+bin)
}

// fakeBin writes executable shell scripts into dir/bin.
func fakeBin(t *testing.T, dir string, scripts map[string]string) string {
	t.Helper()
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return bin
}

// Fakes of the GPU machine's programs, with figures that the summary must
// carry through (the ratios 20.0x and 40.0x come from 5/0.25 and 20/0.5).
const (
	fakeCudaTest = `case "$*" in
*TestDevice*) echo "    cuda_test.go:54: {Ordinal:0 Name:Fake GPU SMs:132}"; echo "--- PASS: TestDevice (0.00s)"; echo "--- PASS: TestLaunchAndCopy (0.00s)" ;;
*TestBackendParityLarge*) [ -n "$FAKE_HANG" ] && exec sleep 1000
	echo "    backend_test.go:92: brunel: 12500 neurons, 15625000 synapses, 3000 steps, 137000 spikes, 0 samples: 40 records, 900 bytes identical (cpu 1.00s, other 0.10s)"
	echo "--- PASS: TestBackendParityLarge ($MYELIN_PARITY_MS ms) (1.10s)" ;;
*'^TestBackendAdvanceSizes$'*) echo "--- PASS: TestBackendAdvanceSizes (0.50s)" ;;
*-test.bench*) echo "BenchmarkPersistent/brunel-1000/persistent=1x1024         	       1	   2900 ns/op	         2.900 µs/step"; echo PASS ;;
*) echo "--- PASS: TestBackendParity (0.20s)"; echo "--- FAIL: TestBackendClose (0.10s)"; echo "    backend_test.go:230: free memory 7 before Load, 3 after Close"; exit 1 ;;
esac`
	fakeSanitizer = `tool=$2; shift 2
while [ "${1#--}" != "$1" ]; do case $1 in --leak-check|--error-exitcode) shift 2 ;; *) shift ;; esac; done
if [ "$tool" = memcheck ]; then "$@"; echo "========= ERROR SUMMARY: 0 errors"; else echo "========= Error: Device not supported"; exit 1; fi`
	fakeRunOut     = `o=""; while [ $# -gt 0 ]; do [ "$1" = --out ] && o=$2; shift; done; [ -n "$o" ] && : >"$o"`
	fakeMyelinCUDA = `case $1 in
bench) printf '| model | neurons | synapses | build (s) | load (s) | simulation (s) | µs/step |\n| --- | ---: |\n| brunel:n=1000 | 1000 | 1 | 0.0 | 0.0 | 0.042 | 4.2 |\n| brunel | 12500 | 1 | 0.1 | 0.0 | 0.250 | 25 |\n| microcircuit | 77169 | 1 | 1.5 | 0.4 | 0.160 | 16 |\n| brunel:n=100000,indegree=1000 | 100000 | 1 | 1.0 | 0.1 | 0.500 | 50 |\n' ;;
run) case "$*" in *"--delivery tiled"*) tiles="; delivery by 264 target tiles of 3788 (blocks of 1024 threads)" ;; *) tiles="" ;; esac
	echo "brunel: 1000000 neurons, 1250000000 synapses, 100 ms in 1000 steps of 0.1 ms on cuda: Fake GPU$tiles"
	echo "build 31s, load 2.5s, simulation 400ms (real-time factor 4, 9e6 spikes/s), status COMPLETE"
	` + fakeRunOut + ` ;;
version) echo "myelin 0 (fake)" ;;
esac`
	fakeMyelin = `case $1 in
bench) printf '| model | neurons | synapses | build (s) | simulation (s) |\n| --- | ---: |\n| brunel | 12500 | 1 | 0.1 | 5.000 |\n| brunel:n=100000,indegree=1000 | 100000 | 1 | 1.0 | 20.000 |\n' ;;
run) case "$*" in *--backend*) ;; *) echo "backend: handing over to bin/myelin-cuda"; echo "x: 1 neurons on cuda: Fake GPU"; echo "build 1ms, load 1ms, simulation 1ms, status COMPLETE" ;; esac
	` + fakeRunOut + ` ;;
compare) echo "same spikes" ;;
esac`
)

// fakeMachine makes the binaries, nvidia-smi, compute-sanitizer and a
// libcuda.so.1 of a pretend GPU machine and returns the environment that
// points the script at them.
func fakeMachine(t *testing.T, dir string) []string {
	t.Helper()
	bin := fakeBin(t, dir, map[string]string{
		"cuda.test": fakeCudaTest, "myelin-cuda": fakeMyelinCUDA, "myelin": fakeMyelin,
		"nvidia-smi":        `echo "Fake GPU, 580.159.04, 81559 MiB, 0 MiB"`,
		"compute-sanitizer": fakeSanitizer,
	})
	lib := filepath.Join(dir, "lib")
	os.MkdirAll(lib, 0o755)
	os.WriteFile(filepath.Join(lib, "libcuda.so.1"), nil, 0o644)
	return []string{"BIN=" + bin, "PATH=" + bin + ":" + os.Getenv("PATH"), "LD_LIBRARY_PATH=" + lib, "SANITIZER=" + filepath.Join(bin, "compute-sanitizer")}
}

func TestOneshotFakeGPU(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	code, stdout, stderr, _ := oneshot(t, append(fakeMachine(t, dir), "OUT="+out, "BUDGET=108")...)
	if code != 1 {
		t.Errorf("exit %d, want 1 (step 2 fails); stderr %s", code, stderr)
	}
	summary, err := os.ReadFile(filepath.Join(out, "summary.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(stdout, string(summary)) && stdout != string(summary) {
		t.Errorf("stdout is not the summary:\nstdout:\n%s\nsummary:\n%s", stdout, summary)
	}
	for _, want := range []string{
		"gpu: Fake GPU, 580.159.04, 81559 MiB",
		"PASS  1 preflight",
		"{Ordinal:0 Name:Fake GPU SMs:132}",
		"FAIL  2 parity-small",
		"--- FAIL: TestBackendClose",
		"free memory 7 before Load, 3 after Close",
		"PASS  3 parity-large",
		"brunel: 12500 neurons, 15625000 synapses",
		"SKIP  4 sanitizer",
		"memcheck clean (ERROR SUMMARY: 0 error)",
		"initcheck refused the device (Error: Device not supported)",
		"PASS  5 bench",
		"GPU / CPU brunel: cpu 5.000 s / cuda 0.250 s = 20.0x",
		"per step at 1,000 neurons: 4.2 µs (target <= 4 µs)",
		"brunel 12,500 x 1 s: 0.250 s of simulation (target <= 0.08 s)",
		"microcircuit x 1 s: 0.160 s of simulation (target <= 0.10 s)",
		"GPU / CPU brunel:n=100000,indegree=1000: cpu 20.000 s / cuda 0.500 s = 40.0x",
		"PASS  6 cli",
		"PASS  7 gobench",
		"BenchmarkPersistent/brunel-1000/persistent=1x1024",
		"PASS  8 brunel-1m",
		"build 31s, load 2.5s, simulation 400ms",
		"--delivery tiled: simulation = 100 ms delivered by target tiles",
		"global and tiled delivery streams compared equal",
		"Fake GPU; delivery by 264 target tiles of 3788",
		"RESULT: FAIL",
	} {
		if !strings.Contains(string(summary), want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	ents, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) > 8 || len(ents) < 7 {
		t.Errorf("%d files in the output folder, want 7 or 8", len(ents))
	}
	for _, e := range ents {
		if !regexp.MustCompile(`^[a-z0-9-]+\.(txt|log)$`).MatchString(e.Name()) || e.IsDir() {
			t.Errorf("unexpected output %s", e.Name())
		}
	}
}

// TestOneshotTimeBound hangs step 3 and checks that the step is stopped at
// its limit (100 s of 540, here 5 s of 27) and the script goes on.
func TestOneshotTimeBound(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a step's time limit")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	code, _, _, wall := oneshot(t, append(fakeMachine(t, dir), "OUT="+out, "BUDGET=27", "FAKE_HANG=1")...)
	summary, _ := os.ReadFile(filepath.Join(out, "summary.txt"))
	if code != 1 || !strings.Contains(string(summary), "FAIL  3 parity-large: out of time") || !strings.Contains(string(summary), "PASS  5 bench") {
		t.Errorf("exit %d, summary:\n%s", code, summary)
	}
	if wall > 20*time.Second || wall < 4*time.Second {
		t.Errorf("took %v, want about the 5 s limit of the hanging step", wall)
	}
}

// STEPS runs the preflight and the chosen steps only, for a rerun after a
// fix; a bad list is refused before anything runs.
func TestOneshotSteps(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	code, _, stderr, _ := oneshot(t, append(fakeMachine(t, dir), "OUT="+out, "BUDGET=108", "STEPS=3,5")...)
	summary, _ := os.ReadFile(filepath.Join(out, "summary.txt"))
	got := regexp.MustCompile(`(?m)^(PASS|FAIL|SKIP)  (\d) `).FindAllStringSubmatch(string(summary), -1)
	var ran []string
	for _, m := range got {
		ran = append(ran, m[2])
	}
	if code != 0 || strings.Join(ran, " ") != "1 3 5" || !strings.Contains(string(summary), "RESULT: PASS (3 passed, 0 skipped;") {
		t.Errorf("STEPS=3,5: exit %d, steps %v, want 1 3 5 passing; stderr %s\n%s", code, ran, stderr, summary)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 4 {
		t.Errorf("%d files for three steps, want summary and three logs", len(ents))
	}
	for _, bad := range []string{"1", "2 9", "x", "2;rm"} {
		if code, _, stderr, _ := oneshot(t, "DRY_RUN=1", "STEPS="+bad); code != 64 || !strings.Contains(stderr, "STEPS=") {
			t.Errorf("STEPS=%q: exit %d, %q", bad, code, stderr)
		}
	}
}
