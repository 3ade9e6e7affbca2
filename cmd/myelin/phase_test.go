package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/stream"
)

// stdpSpec is a small network with STDP on E→E, as a spec file.
const stdpSpec = `name: "stdp-cli" duration_ms: 100 seed: 2
populations { name: "E" size: 200 iaf_psc_delta { e_l: 0 v_th: 20 v_reset: 10 tau_m: 20 } }
projections { pre: "E" post: "E" fixed_in_degree { indegree: 20 } weight { uniform { low: 0.1 high: 0.5 } } stdp { w_max: 1 lambda: 0.05 } }
inputs { target: "E" poisson { rate_hz: 20000 weight: 0.1 } }
`

// TestPhaseFlag: --phase puts the phases into the spec (and so the
// header); a run with them ends with a weights record; a learning rate of
// 0 throughout keeps every built weight; bad phases fail with the flag or
// the field named.
func TestPhaseFlag(t *testing.T) {
	dir := t.TempDir()
	specFile := filepath.Join(dir, "stdp.textproto")
	if err := os.WriteFile(specFile, []byte(stdpSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	read := func(path string) *stream.Result {
		t.Helper()
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		res, err := stream.ReadAll(f)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	learn, frozen, plain := filepath.Join(dir, "learn.myelin"), filepath.Join(dir, "frozen.myelin"), filepath.Join(dir, "plain.myelin")
	if code, _, errOut := myelin(t, "run", specFile, "--backend", "cpu", "-q", "-o", learn, "--phase", "learn:0-50,recall:50ms-0.1s:0"); code != 0 {
		t.Fatalf("run with phases: exit %d: %s", code, errOut)
	}
	res := read(learn)
	ph := res.Header.GetSpec().GetPhases()
	if len(ph) != 2 || ph[0].GetName() != "learn" || ph[0].GetLearningRate() != 1 || ph[1].GetName() != "recall" || ph[1].GetStartMs() != 50 || ph[1].GetStopMs() != 100 || ph[1].GetLearningRate() != 0 {
		t.Errorf("header phases %v", ph)
	}
	sets := res.WeightSets()
	if len(sets) != 1 || len(sets[0].Fixed) != 200*20 {
		t.Fatalf("weights records: %d sets", len(sets))
	}
	if code, out, errOut := myelin(t, "analyze", learn); code != 0 || !strings.Contains(out, "final weights (STDP)") || !regexp.MustCompile(`E -> E +4000 +0\.\d+`).MatchString(out) {
		t.Errorf("analyze: exit %d, %s%s", code, out, errOut)
	}
	if code, _, errOut := myelin(t, "run", specFile, "--backend", "cpu", "-q", "-o", frozen, "--phase", "still:0-100:0"); code != 0 {
		t.Fatalf("frozen run: exit %d: %s", code, errOut)
	}
	if code, _, errOut := myelin(t, "run", specFile, "--backend", "cpu", "-q", "-o", plain); code != 0 {
		t.Fatalf("plain run: exit %d: %s", code, errOut)
	}
	fr, pl := read(frozen).WeightSets()[0], read(plain).WeightSets()[0]
	lw := sets[0]
	var learned, diffPlain int
	for k, w := range fr.Fixed {
		x := fr.Weight(k)
		if x < 0.1 || x > 0.5+1e-6 {
			t.Fatalf("rate 0: weight %d is %v, outside the built [0.1, 0.5]", k, x)
		}
		if lw.Fixed[k] != w {
			learned++
		}
		if pl.Fixed[k] != lw.Fixed[k] {
			diffPlain++
		}
	}
	if learned == 0 || diffPlain == 0 {
		t.Errorf("%d weights learned in [0, 50) ms, %d differ between 100 ms of learning and learn-then-recall: want both > 0", learned, diffPlain)
	}
	for _, tc := range []struct {
		phase, want string
	}{
		{"learn", `--phase "learn": want two or three fields`},
		{":0-10", "NAME is empty"},
		{"a:10", "has no '-'"},
		{"a:x-10", `START: "x": want a time`},
		{"a:0-10:-1", `RATE "-1": want a finite number >= 0`},
		{"a:0-60,b:50-100", `phase "b" (phases[1]): start_ms = 50: overlaps phase "a" (phases[0])`},
		{"a:0-200", `phase "a" (phases[0]): stop_ms = 200: must be <= duration_ms (100)`},
	} {
		code, _, errOut := myelin(t, "run", specFile, "--backend", "cpu", "-q", "--phase", tc.phase)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("--phase %s: exit %d, stderr %q; want an error with %q", tc.phase, code, errOut, tc.want)
		}
	}
}

// TestCompareWeights: compare reports the same final weights of two runs
// of one STDP spec on 1 and 2 threads, and the first differing synapse
// (beside the spikes) of a run at half the learning rate.
func TestCompareWeights(t *testing.T) {
	dir := t.TempDir()
	specFile := filepath.Join(dir, "stdp.textproto")
	if err := os.WriteFile(specFile, []byte(stdpSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	a, b, c := filepath.Join(dir, "a.myelin"), filepath.Join(dir, "b.myelin"), filepath.Join(dir, "c.myelin")
	for _, run := range [][]string{
		{"run", specFile, "--backend", "cpu", "--threads", "1", "-q", "-o", a},
		{"run", specFile, "--backend", "cpu", "--threads", "2", "-q", "-o", b},
		{"run", specFile, "--backend", "cpu", "-q", "-o", c, "--phase", "half:0-100:0.5"},
	} {
		if code, _, errOut := myelin(t, run...); code != 0 {
			t.Fatalf("%v: exit %d: %s", run, code, errOut)
		}
	}
	if code, out, _ := myelin(t, "compare", a, b); code != 0 || !strings.Contains(out, "same final weights (4000 synapses)") {
		t.Errorf("compare 1 and 2 threads: exit %d, %q", code, out)
	}
	if code, out, _ := myelin(t, "compare", a, c); code != 1 || !strings.Contains(out, "weights E -> E: first difference at synapse") {
		t.Errorf("compare different learning rates: exit %d, %q", code, out)
	}
}

// TestDurationClipsPhases: --duration shorter than a model's phases keeps
// the part of them that the run reaches (consolidation's rest phase ends
// at 8 s; a 300 ms run keeps [0, 300) of it and drops its test phase),
// while a --phase past the end is still an error naming the field.
func TestDurationClipsPhases(t *testing.T) {
	out := filepath.Join(t.TempDir(), "c.myelin")
	if code, _, errOut := myelin(t, "run", "consolidation", "--set", "n=100", "--duration", "300", "--backend", "cpu", "-q", "-o", out); code != 0 {
		t.Fatalf("consolidation --duration 300: exit %d: %s", code, errOut)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := stream.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	ph := res.Header.GetSpec().GetPhases()
	if len(ph) != 1 || ph[0].GetName() != "replay" || ph[0].GetStartMs() != 0 || ph[0].GetStopMs() != 300 {
		t.Errorf("phases of the 300 ms run: %v, want replay [0, 300) alone", ph)
	}
	if code, _, errOut := myelin(t, "run", "consolidation", "--set", "n=100", "--duration", "300", "--phase", "late:200-400", "--backend", "cpu", "-q", "-o", out); code == 0 || !strings.Contains(errOut, "stop_ms") {
		t.Errorf("--phase past --duration: exit %d, %s: want an error naming stop_ms", code, errOut)
	}
}
