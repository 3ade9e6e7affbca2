package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// ringRun runs the ring model for 150 ms with the cue at cueDeg, sampling
// the rates of neurons 0..9 every 10 steps.
func ringRun(t *testing.T, dir, name, cueDeg string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	code, _, errOut := cli(context.Background(), "run", "ring_rate", "--set", "n=60,cue_ms=20,cue_deg="+cueDeg, "--duration", "150",
		"--sample", "ring@0:10/10", "--backend", "cpu", "--threads", "1", "-q", "-o", path)
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	return path
}

// TestCompareHeadersAndState: compare says "same" only when header, spikes
// and state agree; a ring cued at 90° against one cued at 270° (no spikes
// at all: a rate network) differs in spec and state, and compare names the
// spec field and the first sample. Before, it reported "same spikes".
func TestCompareHeadersAndState(t *testing.T) {
	dir := t.TempDir()
	a := ringRun(t, dir, "a.myelin", "90")
	a2 := ringRun(t, dir, "a2.myelin", "90")
	b := ringRun(t, dir, "b.myelin", "270")

	code, out, errOut := cli(context.Background(), "compare", a, a2)
	if code != 0 || !strings.Contains(out, "same spikes (0), same header (spec, seed, dt) and same state (") {
		t.Errorf("same run twice: exit %d, %s %s", code, out, errOut)
	}
	code, out, errOut = cli(context.Background(), "compare", a, b)
	if code != 1 {
		t.Fatalf("90° vs 270°: exit %d, want 1: %s %s", code, out, errOut)
	}
	for _, want := range []string{"header: different specs: spec.", "spec.inputs[0].dc.first: 11 vs 41", "state: series 0 (ring r): first difference at step"} {
		if !strings.Contains(out, want) {
			t.Errorf("90° vs 270°: output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "same spikes") {
		t.Errorf("90° vs 270° reported as the same:\n%s", out)
	}
	// Another seed: the header says so.
	c := filepath.Join(dir, "c.myelin")
	if code, _, errOut := cli(context.Background(), "run", "ring_rate", "--set", "n=60,cue_ms=20", "--duration", "150", "--seed", "7",
		"--sample", "ring@0:10/10", "--backend", "cpu", "-q", "-o", c); code != 0 {
		t.Fatal(errOut)
	}
	if code, out, _ := cli(context.Background(), "compare", a, c); code != 1 || !strings.Contains(out, "header: seed") {
		t.Errorf("other seed: exit %d:\n%s", code, out)
	}
}
