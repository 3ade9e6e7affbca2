package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// analyze reports the rhythm of every population: ping with theta-modulated
// drive has E coupled (MI above the surrogates' percentile), with its
// spectral peak and peak/median ratio; a run too short for the modulation
// index says so. The printed spec of ping runs, with the same spikes.
func TestAnalyzePingRhythm(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ping.myelin")
	if code, _, errOut := myelin(t, "run", "ping", "--set", "theta_depth=0.5,duration_ms=3200", "--backend", "cpu", "-q", "-o", path); code != 0 {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	code, out, errOut := myelin(t, "analyze", path, "--after", "200")
	if code != 0 {
		t.Fatalf("analyze: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"theta–gamma modulation index (Tort et al. 2010: 4–12 Hz phase, 30–80 Hz amplitude) against 200 shuffled surrogates", "peak/median", "surrogate p99"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	row := regexp.MustCompile(`(?m)^E +(\S+) +(\S+) +(\S+) +(\S+) +(\S+) +yes, at -?\d+°$`).FindStringSubmatch(out)
	if row == nil {
		t.Fatalf("no coupled E row:\n%s", out)
	}
	mi, _ := strconv.ParseFloat(row[4], 64)
	p99, _ := strconv.ParseFloat(row[5], 64)
	ratio, _ := strconv.ParseFloat(row[2], 64)
	noise, _ := strconv.ParseFloat(row[3], 64)
	if !(mi > p99) || !(ratio >= 5) || !(ratio > noise) {
		t.Errorf("E: MI %s, p99 %s, peak/median %s, noise p99 %s: want MI above p99 and a peak >= 5× the median, above noise:\n%s", row[4], row[5], row[2], row[3], out)
	}

	short := filepath.Join(dir, "short.myelin")
	if code, _, errOut := myelin(t, "run", "ping", "--set", "duration_ms=500", "-q", "-o", short); code != 0 {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	code, out, errOut = myelin(t, "analyze", short)
	if code != 0 || !strings.Contains(out, "no modulation index for E, I: the run is 500 ms, shorter than the 2500 ms (10 cycles of 4 Hz) the modulation index needs") {
		t.Errorf("short run: exit %d, %s\n%s", code, errOut, out)
	}
	if !regexp.MustCompile(`(?m)^E +\d+\.\d +\d+\.\d +\d+\.\d +- +- +-$`).MatchString(out) {
		t.Errorf("short run: want peak and ratio but no MI in the E row:\n%s", out)
	}

	code, specText, errOut := myelin(t, "spec", "ping", "--set", "theta_depth=0.3,n=200,duration_ms=100")
	if code != 0 || !strings.Contains(specText, "sinusoidal") {
		t.Fatalf("spec ping: exit %d: %s\n%s", code, errOut, specText)
	}
	specPath := filepath.Join(dir, "ping.textproto")
	if err := os.WriteFile(specPath, []byte(specText), 0o644); err != nil {
		t.Fatal(err)
	}
	a, b := filepath.Join(dir, "a.myelin"), filepath.Join(dir, "b.myelin")
	if code, _, errOut := myelin(t, "run", specPath, "-q", "-o", a); code != 0 {
		t.Fatalf("run the printed spec: exit %d: %s", code, errOut)
	}
	if code, _, errOut := myelin(t, "run", "ping", "--set", "theta_depth=0.3,n=200,duration_ms=100", "-q", "-o", b); code != 0 {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	if code, out, _ := myelin(t, "compare", a, b); code != 0 || !strings.Contains(out, "same spikes") {
		t.Errorf("the printed spec and the model differ: exit %d, %s", code, out)
	}
}
