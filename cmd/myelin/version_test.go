package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/stream"
)

// headerVersion returns the format version in the header of the stream at
// path.
func headerVersion(t *testing.T, path string) uint32 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec, err := stream.NewReader(f).Next()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rec.GetHeader().GetFormatVersion()
}

// TestVersionSaysWhatRunsWrite: `myelin version` names the format version
// a plain run writes and the one an STDP run writes (with its weights
// records), each as a run here writes it. Before, it said "stream format
// version 2" only, while STDP runs wrote version 3.
func TestVersionSaysWhatRunsWrite(t *testing.T) {
	dir := t.TempDir()
	plain, stdp := filepath.Join(dir, "plain.myelin"), filepath.Join(dir, "stdp.myelin")
	if code, _, errOut := myelin(t, "run", "brunel", "--set", "n=100", "--duration", "10", "--backend", "cpu", "-q", "-o", plain); code != 0 {
		t.Fatalf("run brunel: exit %d: %s", code, errOut)
	}
	if code, _, errOut := myelin(t, "run", "consolidation", "--set", "n=100", "--duration", "50", "--backend", "cpu", "-q", "-o", stdp); code != 0 {
		t.Fatalf("run consolidation: exit %d: %s", code, errOut)
	}
	vp, vs := headerVersion(t, plain), headerVersion(t, stdp)
	if vp == vs {
		t.Fatalf("a plain and an STDP run both write format version %d", vp)
	}
	code, out, _ := myelin(t, "version")
	want := fmt.Sprintf("stream format version %d (%d with STDP weights records); reads versions %d to %d\n", vp, vs, stream.OldestFormatVersion, stream.NewestFormatVersion)
	if code != 0 || !strings.Contains(out, want) {
		t.Errorf("version: exit %d, %q; want a line %q", code, out, want)
	}
}
