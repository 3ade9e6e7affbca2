// Package pytest lets Go tests run the Python reader's check scripts: it
// finds a Python 3 that has numpy and protobuf, and the python/ directory of
// the repository.
package pytest

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Python returns the first Python 3 that can import numpy and
// google.protobuf, or skips the test saying how to install them.
func Python(t testing.TB) string {
	t.Helper()
	candidates := []string{"/usr/bin/python3"}
	for _, name := range []string{"python3", "python"} {
		if p, err := exec.LookPath(name); err == nil {
			candidates = append(candidates, p)
		}
	}
	for _, py := range candidates {
		if exec.Command(py, "-c", "import sys, numpy, google.protobuf; sys.exit(sys.version_info[0] != 3)").Run() == nil {
			return py
		}
	}
	t.Skip("no python3 with numpy and protobuf found; run `make python-deps` to test the Python reader")
	return ""
}

// Dir returns the repository's python/ directory.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "python")
}
