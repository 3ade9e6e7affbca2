package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/analysis"
	"github.com/myelin-sim/myelin/engine/stream"
	"github.com/myelin-sim/myelin/internal/memtest"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// popsStream writes a stream of n one-neuron populations (P0, P1, …) with
// dt 0.1 ms whose header claims totalSteps steps and whose trailer says it
// completed them; population i fires once, at step 10·i, for i < firing.
func popsStream(t *testing.T, path string, n, firing int, totalSteps uint64) {
	t.Helper()
	h := &myelinpb.Header{FormatVersion: stream.FormatVersion, DtMs: 0.1, TotalSteps: totalSteps, Seed: 1}
	for i := range n {
		h.Populations = append(h.Populations, &myelinpb.PopulationRange{Name: fmt.Sprintf("P%d", i), FirstId: uint32(i), Size: 1, Model: "iaf_psc_delta", Recorded: true})
	}
	recs := []*myelinpb.Record{{Kind: &myelinpb.Record_Header{Header: h}}}
	for i := range firing {
		recs = append(recs, spikeRec(uint64(10*i), []uint32{1}, []uint32{uint32(i)}))
	}
	recs = append(recs, &myelinpb.Record{Kind: &myelinpb.Record_Trailer{Trailer: &myelinpb.Trailer{Status: myelinpb.Trailer_COMPLETE, StepsDone: totalSteps, TotalSpikes: uint64(firing)}}})
	writeStreamFile(t, path, recs...)
}

// A 3 KB stream of 100 one-neuron populations with one spike each, whose
// header and trailer claim 2^40 steps: the work of analyze is bounded by the
// spikes and a fixed cap, not by the claim. The spectra of the populations
// that fired share analysis.MaxRunBins bins, silent populations cost none.
// Before, every population took a spectrum of 2^22 bins (15.5 s of CPU and
// about 30 MB of bins each; 10,000 populations would have taken 26 min).
func TestAnalyzeClaimedSpanBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "claims.myelin")
	popsStream(t, path, 120, 100, 1<<40)
	if fi, err := os.Stat(path); err != nil || fi.Size() > 8<<10 {
		t.Fatalf("stream: %v, %d bytes; want a small file", err, fi.Size())
	}

	// The bins the statistics take, counted.
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := stream.ReadAll(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	run, steps := analysisRun(res)
	if steps != 1<<40 || len(run.Pops) != 120 {
		t.Fatalf("run of %d steps and %d populations, want 2^40 and 120", steps, len(run.Pops))
	}
	stats, err := analysis.Analyze(run, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	bins := 0.0
	for i, s := range stats {
		if len(run.Pops[i].TimesMs) > 0 {
			bins += float64(int64(run.DurationMs / s.Spectrum.BinMs))
		} else if len(s.Spectrum.Power) != 0 {
			t.Errorf("silent population %s: a spectrum of %d frequencies, want none", s.Name, len(s.Spectrum.Power))
		}
	}
	if bins > analysis.MaxRunBins {
		t.Errorf("the spectra of 100 populations take %.0f bins (%.1f× the cap), want at most %d", bins, bins/analysis.MaxRunBins, analysis.MaxRunBins)
	}

	// The whole command, measured by what it allocates.
	var code int
	var out, errOut string
	n := memtest.Allocated(func() { code, out, errOut = cli(context.Background(), "analyze", path) })
	if code != 0 || !strings.Contains(out, "(1099511627776 steps), 100 spikes") || !strings.Contains(out, "P99 ") {
		t.Errorf("analyze: exit %d\n%s\n%s", code, out, errOut)
	}
	if n > 256<<20 {
		t.Errorf("analyze of 100 spikes allocated %d MiB, want < 256 MiB", n>>20)
	}
}

// A --bin or --bump-bin narrower than the stream's dt is refused naming the
// flag and the dt, with exit status 2 and before any analysis is printed;
// a figure of many bins draws a bounded number of points. Before,
// `--bin 0.00005` on a 200 ms microcircuit stream (dt 0.1 ms) drew 4·10^6
// points a line and took 8.5 GB; later it was refused (exit 1) only after
// the whole stream was read and every table printed.
func TestAnalyzeBinBelowDt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "short.myelin")
	popsStream(t, path, 2, 2, 200) // 20 ms
	for _, c := range []struct{ flag, fig, want string }{
		{"--bin", "--rates", "--bin 5e-05 ms is narrower than the stream's dt 0.1 ms; use --bin 0.1 or more"},
		{"--bump-bin", "--bump", "--bump-bin 5e-05 ms is narrower than the stream's dt 0.1 ms; use --bump-bin 0.1 or more"},
	} {
		png := filepath.Join(dir, strings.TrimPrefix(c.fig, "--")+".png")
		var code int
		var errOut string
		var out string
		n := memtest.Allocated(func() { code, out, errOut = cli(context.Background(), "analyze", path, c.fig, png, c.flag, "0.00005") })
		if code != 2 || !strings.Contains(errOut, c.want) || out != "" {
			t.Errorf("%s 0.00005: exit %d, stdout %q, stderr %q; want exit 2, no analysis and %q", c.flag, code, out, errOut, c.want)
		}
		if _, err := os.Stat(png); err == nil {
			t.Errorf("%s 0.00005: %s was drawn", c.flag, png)
		}
		if n > 64<<20 {
			t.Errorf("%s 0.00005: allocated %d MiB, want < 64 MiB", c.flag, n>>20)
		}
	}
	// At dt, the bins are accepted.
	if code, out, errOut := cli(context.Background(), "analyze", path, "--rates", filepath.Join(dir, "ok.png"), "--bin", "0.1"); code != 0 || !strings.Contains(out, "wrote ") {
		t.Errorf("--bin 0.1: exit %d, %s %s", code, out, errOut)
	}
}

// --after at or past the end of the run is a bad flag value: exit 2 with
// the run's length. Before, analyze exited 0 printing a heading and no
// table.
func TestAnalyzeAfterPastEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "short.myelin")
	popsStream(t, path, 2, 2, 2000) // 200 ms
	for _, after := range []string{"1e300", "200", "250"} {
		code, out, errOut := cli(context.Background(), "analyze", path, "--after", after)
		want := fmt.Sprintf("--after %s ms is past the end of the run: %s covers 200 ms (2000 steps of 0.1 ms)", strings.Replace(after, "1e300", "1e+300", 1), path)
		if code != 2 || !strings.Contains(errOut, want) || strings.Contains(out, "statistics from") {
			t.Errorf("--after %s: exit %d, stdout %q, stderr %q; want exit 2 and %q", after, code, out, errOut, want)
		}
	}
	code, out, errOut := cli(context.Background(), "analyze", path, "--after", "199.9")
	if code != 0 || !strings.Contains(out, "statistics from 199.9 ms on") || !strings.Contains(out, "population  neurons") {
		t.Errorf("--after 199.9: exit %d\n%s\n%s", code, out, errOut)
	}
}

// A stream whose dt (6 ms) is wider than the default --bin (5 ms) draws
// its rates at dt: only a bin the user gives is refused.
func TestAnalyzeDefaultBinWidensToDt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "coarse.myelin")
	if code, _, errOut := cli(context.Background(), "run", "brunel", "--set", "n=1000", "--dt", "6", "--duration", "600", "--backend", "cpu", "-q", "-o", path); code != 0 {
		t.Fatalf("run --dt 6: exit %d, %s", code, errOut)
	}
	png := filepath.Join(dir, "rates.png")
	if code, out, errOut := cli(context.Background(), "analyze", path, "--rates", png); code != 0 || !strings.Contains(out, "wrote "+png) {
		t.Errorf("default --bin at dt 6 ms: exit %d, %s %s", code, out, errOut)
	}
	if code, _, errOut := cli(context.Background(), "analyze", path, "--rates", png, "--bin", "5"); code != 2 || !strings.Contains(errOut, "--bin 5 ms is narrower than the stream's dt 6 ms") {
		t.Errorf("--bin 5 at dt 6 ms: exit %d, %s; want it refused", code, errOut)
	}
}
