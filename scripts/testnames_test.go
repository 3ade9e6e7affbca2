package scripts

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every test that the GPU scripts run on the device exists in the cuda
// package's tests: a renamed or removed test would otherwise make a GPU
// visit run nothing and still pass.
func TestGPUScriptTestNamesExist(t *testing.T) {
	var tests strings.Builder
	files, err := filepath.Glob("../cuda/*_test.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cuda tests found: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		tests.Write(b)
	}
	name := regexp.MustCompile(`\bTest[A-Z][A-Za-z0-9]*`)
	for _, script := range []string{"gpu-oneshot.sh", "gpu-test.sh"} {
		b, err := os.ReadFile(script)
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for _, n := range name.FindAllString(string(b), -1) {
			seen++
			if !strings.Contains(tests.String(), "func "+n+"(") {
				t.Errorf("%s runs %s, which no cuda test defines", script, n)
			}
		}
		if seen < 3 {
			t.Errorf("%s: only %d test names found: the scan is broken", script, seen)
		}
	}
}
