package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// gpuPresent reports whether the NVIDIA driver shows a device.
func gpuPresent() bool {
	_, err := os.Stat("/dev/nvidia0")
	return err == nil
}

// cudaSibling finds an executable myelin-cuda beside this binary, when a GPU
// is present.
func cudaSibling() (string, bool) {
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
		return "no NVIDIA GPU found (/dev/nvidia0 is missing)"
	}
	return "this myelin binary was built without CUDA and no myelin-cuda is installed beside it; build it with 'make cuda'"
}

// handOver runs the same command with myelin-cuda, passing the terminal
// through, and returns its failure as this process's.
func handOver(path string, args []string) error {
	fmt.Fprintf(os.Stderr, "backend: handing over to %s\n", path)
	cmd := exec.Command(path, append([]string{"run"}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return &exitError{ee.ExitCode(), fmt.Errorf("%s exited with status %d", path, ee.ExitCode())}
	}
	return err
}
