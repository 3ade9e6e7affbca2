package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// analyze --after leaves the transient out; a negative or infinite value
// is refused naming the flag.
func TestAnalyzeAfter(t *testing.T) {
	out := filepath.Join(t.TempDir(), "b.myelin")
	if code, _, errOut := myelin(t, "run", "brunel", "--set", "n=1000", "--duration", "200", "--out", out, "-q"); code != 0 {
		t.Fatalf("run: %s", errOut)
	}
	code, text, errOut := myelin(t, "analyze", out, "--after", "100")
	if code != 0 || !strings.Contains(text, "statistics from 100 ms on") {
		t.Errorf("analyze --after 100: exit %d, %q, %q", code, text, errOut)
	}
	for _, bad := range []string{"-1", "inf", "NaN"} {
		if code, _, errOut := myelin(t, "analyze", out, "--after", bad); code != 2 || !strings.Contains(errOut, "--after") {
			t.Errorf("--after %s: exit %d, %q", bad, code, errOut)
		}
	}
}
