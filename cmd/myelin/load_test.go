package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/spec"
)

// loadChildEnv, when set, makes TestLoadInterrupted the myelin command:
// its value is the arguments, separated by the unit separator U+001F.
const loadChildEnv = "MYELIN_TEST_LOAD_CHILD"

// TestLoadInterrupted: Ctrl-C while run or plan waits on a spec that
// blocks (a FIFO with no writer) stops the command at once with exit
// status 130. Before, the read ignored SIGINT and needed SIGKILL.
func TestLoadInterrupted(t *testing.T) {
	if args := os.Getenv(loadChildEnv); args != "" {
		// The child: what main does.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		os.Stdout.WriteString("ready\n")
		code := dispatch(ctx, &env{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin}, strings.Split(args, "\x1f"))
		stop()
		os.Exit(code)
	}
	fifo := filepath.Join(t.TempDir(), "blocked.textproto")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	for _, args := range [][]string{{"run", fifo, "-q", "--out", filepath.Join(t.TempDir(), "x.myelin")}, {"plan", fifo}} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestLoadInterrupted$")
		cmd.Env = append(os.Environ(), loadChildEnv+"="+strings.Join(args, "\x1f"))
		var stdout, stderr syncBuffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		// Once the child catches signals, interrupt it every 200 ms (the
		// first may come before the load listens) for at most 5 s.
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(stdout.String(), "ready") && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		var err error
		start := time.Now()
	wait:
		for {
			cmd.Process.Signal(syscall.SIGINT)
			select {
			case err = <-exited:
				break wait
			case <-time.After(200 * time.Millisecond):
			}
			if time.Since(start) > 5*time.Second {
				cmd.Process.Kill()
				<-exited
				t.Fatalf("myelin %s: still running 5 s after SIGINT (stdout %q, stderr %q)", args[0], stdout.String(), stderr.String())
			}
		}
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
			t.Errorf("myelin %s: %v after SIGINT, want exit status 130 (stderr %q)", args[0], err, stderr.String())
		}
		if !strings.Contains(stderr.String(), "interrupted while loading "+fifo) {
			t.Errorf("myelin %s: stderr %q does not say the load was interrupted", args[0], stderr.String())
		}
	}
}

// writeModelSpec writes built-in model name as a spec file (.json or
// .textproto by the path), after edit.
func writeModelSpec(t *testing.T, path, name string, edit func(m map[string]any)) {
	t.Helper()
	n, err := models.Spec(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := spec.FormatJSON(n)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRunRefusesBadSpecs: spec files whose run would do no step
// (duration_ms 0 or less than dt_ms, which ran 0 steps and reported
// COMPLETE, while --duration 0 was refused), whose population name holds
// a comma or an ANSI escape (accepted before, the escape printed raw), or
// that are larger than the 1 GiB cap are refused, naming the field or the
// file, and nothing is written.
func TestRunRefusesBadSpecs(t *testing.T) {
	dir := t.TempDir()
	rename := func(to string) func(m map[string]any) {
		return func(m map[string]any) {
			for _, p := range m["populations"].([]any) {
				if p := p.(map[string]any); p["name"] == "E" {
					p["name"] = to
				}
			}
			for _, key := range []string{"projections", "inputs"} {
				list, _ := m[key].([]any)
				for _, x := range list {
					for _, f := range []string{"pre", "post", "target"} {
						if x := x.(map[string]any); x[f] == "E" {
							x[f] = to
						}
					}
				}
			}
		}
	}
	duration := func(d float64) func(m map[string]any) {
		return func(m map[string]any) { m["durationMs"] = d }
	}
	huge := filepath.Join(dir, "huge.textproto")
	if f, err := os.Create(huge); err == nil {
		f.Truncate(spec.MaxFileBytes + 1)
		f.Close()
	}
	for _, c := range []struct {
		file string
		edit func(m map[string]any)
		want string
	}{
		{"zero.json", duration(0), "zero.json: duration_ms = 0: must be at least one step of dt_ms = 0.1"},
		{"short.json", duration(0.01), "short.json: duration_ms = 0.01: must be at least one step of dt_ms = 0.1"},
		{"comma.json", rename("E,x"), `population "E,x" (populations[0]): name = "E,x": must not contain ','`},
		{"escape.json", rename("E\nx\x1b[31m"), `population "E\nx\x1b[31m" (populations[0]): name = "E\nx\x1b[31m": must hold printable characters only`},
		{"huge.textproto", nil, "huge.textproto is 1073741825 bytes, more than the 1 GiB (1073741824 bytes) a spec file may hold"},
	} {
		path := filepath.Join(dir, c.file)
		if c.edit != nil {
			writeModelSpec(t, path, "cuba", c.edit)
		}
		for _, command := range []string{"run", "plan"} {
			out := filepath.Join(dir, c.file+".myelin")
			args := []string{command, path}
			if command == "run" {
				args = append(args, "-q", "--backend", "cpu", "--out", out)
			}
			code, stdout, stderr := cli(context.Background(), args...)
			if code == 0 || !strings.Contains(stderr, c.want) {
				t.Errorf("myelin %s %s: exit %d, stderr %q, want an error with %q", command, c.file, code, stderr, c.want)
			}
			if strings.Contains(stdout+stderr, "\x1b") {
				t.Errorf("myelin %s %s: a raw escape reached the output", command, c.file)
			}
			if _, err := os.Stat(out); err == nil && command == "run" {
				t.Errorf("myelin %s %s: wrote %s", command, c.file, out)
			}
		}
	}
	// The same spec with a duration of one step runs, and --duration
	// below one step is refused like the spec's.
	one := filepath.Join(dir, "one.json")
	writeModelSpec(t, one, "cuba", duration(0.1))
	if code, _, stderr := cli(context.Background(), "run", one, "-q", "--backend", "cpu", "--out", filepath.Join(dir, "one.myelin")); code != 0 {
		t.Errorf("one step: exit %d: %s", code, stderr)
	}
	if code, _, stderr := cli(context.Background(), "run", one, "--duration", "0.05", "-q", "--backend", "cpu", "--out", filepath.Join(dir, "half.myelin")); code == 0 || !strings.Contains(stderr, "duration_ms = 0.05: must be at least one step") {
		t.Errorf("--duration 0.05: exit %d, stderr %q", code, stderr)
	}
}

// --record ” (or an empty name in the list) is refused: an empty list
// would record every population, the opposite of what it seems to ask.
func TestRecordEmptyRefused(t *testing.T) {
	for _, v := range []string{"", "E,", ",I"} {
		code, _, errOut := cli(context.Background(), "plan", "brunel", "--record", v)
		if code != 2 || !strings.Contains(errOut, "--record") {
			t.Errorf("--record %q: exit %d, %q; want 2 naming --record", v, code, errOut)
		}
	}
	if code, _, errOut := cli(context.Background(), "plan", "brunel", "--record", "E"); code != 0 {
		t.Errorf("--record E: exit %d, %s", code, errOut)
	}
}
