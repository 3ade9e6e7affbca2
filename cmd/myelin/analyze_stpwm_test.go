package main

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// analyze reports an stp_wm trial: each population's rate before, during
// and after the cue and in the readout's window, and the clusters'
// response to the readout; the cued cluster's is the largest.
func TestAnalyzeStpWM(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.myelin")
	set := "n=5000,c=0.4,cue_cluster=2,cue_start_ms=200,cue_ms=350,delay_ms=800,readout_ms=50"
	if code, _, errOut := cli(context.Background(), "run", "stp_wm", "--set", set, "--seed", "3", "--backend", "cpu", "-q", "-o", path); code != 0 {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	code, out, errOut := cli(context.Background(), "analyze", path, "--after", "500")
	if code != 0 {
		t.Fatalf("analyze: exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"stp_wm trial: 5 clusters, cue on S2 during 200-550 ms, readout during 1350-1400 ms (response counted over 1350-1450 ms); rates (Hz):",
		"before cue 0-200", "cue 200-550", "delay 550-1350", "readout 1350-1450", "after 1450-1650",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Rows: population, then the five epochs' rates.
	rates := map[string][]float64{}
	for _, m := range regexp.MustCompile(`(?m)^\s*(S\d|Ens|I)((?:\s+[\d.]+){5})$`).FindAllStringSubmatch(out, -1) {
		for _, f := range strings.Fields(m[2]) {
			x, _ := strconv.ParseFloat(f, 64)
			rates[m[1]] = append(rates[m[1]], x)
		}
	}
	if len(rates) != 7 {
		t.Fatalf("%d rows of rates, want 7 (S1-S5, Ens, I):\n%s", len(rates), out)
	}
	for name, r := range rates {
		if name != "I" && !(r[2] < 2) {
			t.Errorf("%s fires at %.2f Hz during the delay: want < 2 Hz", name, r[2])
		}
		if name != "S2" && name != "I" && !(r[3] < rates["S2"][3]/3) {
			t.Errorf("%s at %.2f Hz in the readout window, the cued S2 at %.2f Hz: want < 1/3 of it", name, r[3], rates["S2"][3])
		}
	}
	m := regexp.MustCompile(`readout response: S2 ([\d.]+) spikes per neuron, the most of the other clusters ([\d.]+) \(S[1345]\): ([\d.]+)×`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no readout response line:\n%s", out)
	}
	cued, _ := strconv.ParseFloat(m[1], 64)
	other, _ := strconv.ParseFloat(m[2], 64)
	if !(cued >= 1) || !(cued >= 3*other) || math.Abs(cued-rates["S2"][3]*0.1) > 0.01 {
		t.Errorf("response: S2 %g spikes per neuron (%g Hz over 100 ms), the others at most %g: want >= 1, >= 3× the others", cued, rates["S2"][3], other)
	}

	// No cue: the table, without a response line.
	nc := filepath.Join(dir, "nc.myelin")
	if code, _, errOut := cli(context.Background(), "run", "stp_wm", "--set", "n=500,cue_ms=0,delay_ms=100,cue_start_ms=0", "--backend", "cpu", "-q", "-o", nc); code != 0 {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	code, out, errOut = cli(context.Background(), "analyze", nc)
	if code != 0 || !strings.Contains(out, "stp_wm trial: 5 clusters, no cue, readout during 100-150 ms") || !strings.Contains(out, "before readout 0-100") || strings.Contains(out, "readout response") {
		t.Errorf("analyze without a cue: exit %d:\n%s%s", code, out, errOut)
	}

	// An edited spec whose cue is not on a cluster: a note.
	code, txt, errOut := cli(context.Background(), "spec", "stp_wm", "--set", "n=500,duration_ms=100")
	if code != 0 {
		t.Fatalf("spec: exit %d: %s", code, errOut)
	}
	edited := filepath.Join(dir, "edited.textproto")
	cueOnS1 := regexp.MustCompile(`(name:\s*"cue"\s*target:\s*)"S1"`)
	if !cueOnS1.MatchString(txt) {
		t.Fatalf("spec has no cue input on S1:\n%s", txt)
	}
	if err := os.WriteFile(edited, []byte(cueOnS1.ReplaceAllString(txt, `${1}"Ens"`)), 0o644); err != nil {
		t.Fatal(err)
	}
	ep := filepath.Join(dir, "edited.myelin")
	if code, _, errOut := cli(context.Background(), "run", edited, "--backend", "cpu", "-q", "-o", ep); code != 0 {
		t.Fatalf("run edited: exit %d: %s", code, errOut)
	}
	if code, out, errOut := cli(context.Background(), "analyze", ep); code != 0 || !strings.Contains(out, "note: no stp_wm trial") || !strings.Contains(out, `want one cue, on a cluster (target "Ens")`) {
		t.Errorf("analyze edited: exit %d, %s %s", code, out, errOut)
	}
}
