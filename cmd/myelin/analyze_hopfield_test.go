package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// analyze reports the overlaps of a hopfield run: the cued pattern near 1
// in every window after the cue, the others low, and draws them.
func TestAnalyzeHopfield(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "h.myelin")
	// --seed: another trial of the same patterns.
	if code, _, errOut := cli(context.Background(), "run", "hopfield", "--set", "n=400,patterns=5,cue_pattern=3", "--seed", "77", "--duration", "600", "--backend", "cpu", "-q", "-o", path); code != 0 {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	png := filepath.Join(dir, "ov.png")
	code, out, errOut := cli(context.Background(), "analyze", path, "--overlaps", png, "--after", "300")
	if code != 0 {
		t.Fatalf("analyze: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"hopfield recall: 5 patterns in \"E\", cue on pattern 3, last cue spike at", "m(cued)", "wrote " + png, "overlap with each pattern over 300-600 ms"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Windows from 300 ms on (a 100 ms settling after the cue; --after
	// does not shift them): m(cued) >= 0.9 and the closest other <= 0.2.
	rows := regexp.MustCompile(`(?m)^\s+(\d+)-(\d+)\s+(-?[\d.]+)\s+(\d+)\s+(-?[\d.]+)\s+(\d+)$`).FindAllStringSubmatch(out, -1)
	if len(rows) != 6 {
		t.Fatalf("%d overlap windows, want 6 of 100 ms over the 600 ms run:\n%s", len(rows), out)
	}
	for _, r := range rows[3:] {
		cued, _ := strconv.ParseFloat(r[3], 64)
		other, _ := strconv.ParseFloat(r[5], 64)
		if cued < 0.9 || other > 0.2 {
			t.Errorf("window %s-%s ms: m(cued) %g, closest other %g: want >= 0.9 and <= 0.2", r[1], r[2], cued, other)
		}
	}
	checkPNG(t, png, 1200, 750)

	// An edited hopfield spec whose synapses are not its name's patterns:
	// a note, and --overlaps is an error.
	code, txt, errOut := cli(context.Background(), "spec", "hopfield", "--set", "n=200,patterns=3,duration_ms=300")
	if code != 0 {
		t.Fatalf("spec: exit %d: %s", code, errOut)
	}
	edited := filepath.Join(dir, "edited.textproto")
	if err := os.WriteFile(edited, []byte(strings.Replace(txt, "pattern_seed=12345", "pattern_seed=1", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	ep := filepath.Join(dir, "edited.myelin")
	if code, _, errOut := cli(context.Background(), "run", edited, "--backend", "cpu", "-q", "-o", ep); code != 0 {
		t.Fatalf("run edited: exit %d: %s", code, errOut)
	}
	if code, out, errOut := cli(context.Background(), "analyze", ep); code != 0 || !strings.Contains(out, "note: no pattern overlaps") || !strings.Contains(out, "not those of the patterns") {
		t.Errorf("analyze edited: exit %d, %s %s", code, out, errOut)
	}
	if code, _, errOut := cli(context.Background(), "analyze", ep, "--overlaps", png); code == 0 || !strings.Contains(errOut, "--overlaps") {
		t.Errorf("analyze edited --overlaps: exit %d, %s", code, errOut)
	}

	// Not a hopfield run: no overlaps, and --overlaps is an error.
	bp, _ := brunelStream(t, dir, "50")
	code, out, errOut = cli(context.Background(), "analyze", bp)
	if code != 0 || strings.Contains(out, "hopfield") {
		t.Errorf("analyze brunel: exit %d, output %s %s", code, out, errOut)
	}
	if code, _, errOut = cli(context.Background(), "analyze", bp, "--overlaps", png); code == 0 || !strings.Contains(errOut, "not a run of the hopfield or the consolidation model") {
		t.Errorf("analyze brunel --overlaps: exit %d, %s", code, errOut)
	}
	if code, _, errOut = cli(context.Background(), "analyze", path, "--overlap-bin", "0"); code != 2 || !strings.Contains(errOut, "--overlap-bin") {
		t.Errorf("--overlap-bin 0: exit %d, %s", code, errOut)
	}
}
