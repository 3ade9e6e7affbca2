package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"
)

// probeCommand is the hidden command with which the plain binary asks
// myelin-cuda whether it can use the GPU before handing a command over.
const probeCommand = "gpu-probe"

// probeTimeout bounds the probe: creating a context takes a second or two.
const probeTimeout = 30 * time.Second

// gpuDevices matches the device nodes that the NVIDIA driver creates, one
// per GPU.
const gpuDevices = "/dev/nvidia[0-9]*"

// gpuPresent reports whether the NVIDIA driver shows a device. It need not
// be usable: the probe of myelin-cuda tells.
func gpuPresent() bool {
	m, _ := filepath.Glob(gpuDevices)
	return len(m) > 0
}

// cudaSibling finds an executable myelin-cuda beside this binary, when a GPU
// is present; e.sibling, when set (tests), stands for it.
func (e *env) cudaSibling() (string, bool) {
	if e.sibling != "" {
		return e.sibling, true
	}
	if !gpuPresent() {
		return "", false
	}
	self, err := os.Executable()
	if err != nil {
		return "", false
	}
	p := filepath.Join(filepath.Dir(self), "myelin-cuda")
	if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 && p != self {
		return p, true
	}
	return "", false
}

func noCUDAReason() string {
	if !gpuPresent() {
		return "no NVIDIA GPU found (no " + gpuDevices + ")"
	}
	return "this myelin binary was built without CUDA and no myelin-cuda is installed beside it; build it with 'make cuda'"
}

// buildPrefix starts the line of the probe's answer that names the build
// of the binary that answers.
const buildPrefix = "build "

// buildID names this binary's build: its version and, where Go recorded
// them, the commit it was built from and whether the tree had changes.
func buildID() string {
	id := Version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision":
				id += " " + s.Value
			case s.Key == "vcs.modified" && s.Value == "true":
				id += " (modified)"
			}
		}
	}
	return id
}

// cmdProbe opens the GPU and says which it is, or why it cannot be used
// (exit 1), after a line naming its build. In a binary built without CUDA
// it always fails.
func cmdProbe(_ context.Context, e *env, _ []string) error {
	fmt.Fprintln(e.stdout, buildPrefix+buildID())
	be, err := openCUDA()
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, be.Describe())
	return be.Close()
}

// buildWarning returns the warning for a myelin-cuda at path whose probe
// answered out, "" when it names this binary's build. One that names no
// build predates the build line, so it is older than this binary.
func buildWarning(path, out string) string {
	for _, l := range strings.Split(out, "\n") {
		if b, ok := strings.CutPrefix(strings.TrimSpace(l), buildPrefix); ok {
			if b == buildID() {
				return ""
			}
			return fmt.Sprintf("warning: %s is build %s, but this myelin is build %s: rebuild both (make build cuda), or a GPU run may lack what this one has", path, b, buildID())
		}
	}
	return fmt.Sprintf("warning: %s does not name its build, so it is older than this myelin (build %s): rebuild both (make build cuda), or a GPU run may lack what this one has", path, buildID())
}

// probe runs "path gpu-probe" and returns what it printed and nil if
// myelin-cuda can use the GPU, else an error with what it said. A driver that is present but
// unusable makes myelin-cuda exit at start-up (the CUDA library it links
// calls cuInit when the process starts and exits on failure), or not start
// at all when libcuda.so.1 is missing; the probe catches both before a
// command is handed over.
func probe(ctx context.Context, path string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, path, probeCommand)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err == nil {
		return out.String(), nil
	}
	if ctx.Err() == context.DeadlineExceeded {
		return "", fmt.Errorf("%s %s did not answer within %v", path, probeCommand, timeout)
	}
	msg := lastLine(out.String())
	if msg == "" {
		msg = err.Error()
	}
	return "", fmt.Errorf("%s cannot use the GPU: %s", path, msg)
}

// lastLine returns the last non-empty line of s that is not the probe's
// build line, without a "myelin gpu-probe: " prefix; "" if there is none.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l != "" && !strings.HasPrefix(l, buildPrefix) {
			return strings.TrimPrefix(l, "myelin "+probeCommand+": ")
		}
	}
	return ""
}

// handOver runs the same command with myelin-cuda, passing the terminal
// through, and returns its failure as this process's.
func (e *env) handOver(cmdName, path string, args []string) error {
	fmt.Fprintf(e.stderr, "backend: handing over to %s\n", path)
	cmd := exec.Command(path, append([]string{cmdName}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = e.stdin, e.stdout, e.stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return &exitError{ee.ExitCode(), fmt.Errorf("%s exited with status %d", path, ee.ExitCode())}
	}
	return err
}
