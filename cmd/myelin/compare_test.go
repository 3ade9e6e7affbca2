package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
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

// quietRun writes a stream of 10 neurons and 10,000 steps whose only spike
// is neuron id at step 5, in spike blocks up to step `steps`, ended by
// trailer (nil: none, a stream cut off after its last block).
func quietRun(t *testing.T, path string, id uint32, steps uint64, trailer *myelinpb.Trailer) {
	t.Helper()
	recs := []*myelinpb.Record{hostileHeader(10, 10000)}
	for first := uint64(0); first < steps; first += 1000 {
		counts := make([]uint32, min(1000, steps-first))
		var ids []uint32
		if first == 0 {
			counts[5], ids = 1, []uint32{id}
		}
		recs = append(recs, spikeRec(first, counts, ids))
	}
	if trailer != nil {
		recs = append(recs, &myelinpb.Record{Kind: &myelinpb.Record_Trailer{Trailer: trailer}})
	}
	writeStreamFile(t, path, recs...)
}

// TestCompareRunEnds: a run compared with the same run interrupted (trailer
// INTERRUPTED) or cut off (no trailer) differs, and compare names how each
// ended; what it compares over the steps both cover it says so. Two runs
// that end alike are the same. Before, the trailer was not looked at: all
// of these were "same spikes (1)", exit 0.
func TestCompareRunEnds(t *testing.T) {
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	complete := func(n uint64) *myelinpb.Trailer {
		return &myelinpb.Trailer{Status: myelinpb.Trailer_COMPLETE, StepsDone: 10000, TotalSpikes: n}
	}
	interrupted := &myelinpb.Trailer{Status: myelinpb.Trailer_INTERRUPTED, StepsDone: 4800, TotalSpikes: 1, Message: "simulation interrupted"}
	quietRun(t, path("full.myelin"), 3, 10000, complete(1))
	quietRun(t, path("full2.myelin"), 3, 10000, complete(1))
	quietRun(t, path("int.myelin"), 3, 4800, interrupted)
	quietRun(t, path("int2.myelin"), 3, 4800, interrupted)
	quietRun(t, path("cut.myelin"), 3, 11, nil)
	quietRun(t, path("other.myelin"), 4, 4800, interrupted)
	quietRun(t, path("failed.myelin"), 3, 10000, &myelinpb.Trailer{Status: myelinpb.Trailer_FAILED, StepsDone: 10000, TotalSpikes: 1, Message: "device lost"})

	for _, c := range []struct {
		a, b string
		code int
		want []string
	}{
		{"full.myelin", "full2.myelin", 0, []string{"same spikes (1), same header (spec, seed, dt) and same state (0 samples), both complete (10000 of 10000 steps): "}},
		{"int.myelin", "int2.myelin", 0, []string{"same spikes (1)", "both interrupted after 4800 of 10000 steps"}},
		{"full.myelin", "int.myelin", 1, []string{
			"run end: " + path("full.myelin") + ": complete (10000 of 10000 steps); " + path("int.myelin") + `: interrupted after 4800 of 10000 steps (trailer INTERRUPTED: "simulation interrupted")`,
			"note: spikes and state are compared only over the first 4800 steps (480 ms), which both streams cover: the same 1 spikes there",
		}},
		{"cut.myelin", "full.myelin", 1, []string{
			"run end: " + path("cut.myelin") + ": cut off without a trailer after 11 of 10000 steps",
			"compared only over the first 11 steps (1.1 ms)",
		}},
		{"full.myelin", "failed.myelin", 1, []string{`failed.myelin: failed after 10000 of 10000 steps (trailer FAILED: "device lost")`}},
		// A difference inside the steps both cover is a difference of spikes
		// too.
		{"full.myelin", "other.myelin", 1, []string{"run end: ", "spikes: first difference at step 5 (0.5 ms): spike 0 is neuron 3 at step 5 in " + path("full.myelin") + " but neuron 4 at step 5 in " + path("other.myelin")}},
	} {
		code, out, errOut := cli(context.Background(), "compare", path(c.a), path(c.b))
		if code != c.code {
			t.Errorf("compare %s %s: exit %d, want %d:\n%s%s", c.a, c.b, code, c.code, out, errOut)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("compare %s %s: output lacks %q:\n%s", c.a, c.b, w, out)
			}
		}
		if c.code != 0 && strings.Contains(out, "same spikes") {
			t.Errorf("compare %s %s: reported as the same:\n%s", c.a, c.b, out)
		}
	}
}

// blockStream writes a stream of 1,000 neurons in which 30 neurons fire at
// every step of steps steps, in spike blocks of `block` steps; change, when
// set, moves one spike of that step to another neuron.
func blockStream(t testing.TB, path string, steps, block int, change int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	h := hostileHeader(1000, uint64(steps)).GetHeader()
	w, err := stream.NewWriter(bw, h)
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]uint32, 0, block)
	ids := make([]uint32, 0, block*30)
	for first := 0; first < steps; first += block {
		counts, ids = counts[:0], ids[:0]
		for s := first; s < min(first+block, steps); s++ {
			counts = append(counts, 30)
			for j := range 30 {
				id := uint32(j*33 + s%33)
				if s == change && j == 29 {
					id = 999
				}
				ids = append(ids, id)
			}
		}
		if err := w.WriteSpikes(uint64(first), counts, ids); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(&myelinpb.Trailer{Status: myelinpb.Trailer_COMPLETE, StepsDone: uint64(steps), TotalSpikes: uint64(steps) * 30}); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
}

// peakHeapDuring returns the most heap, over what was in use before, that
// f's live and not yet collected objects took at any time (sampled every
// millisecond).
func peakHeapDuring(f func()) uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	base := s[0].Value.Uint64()
	peak := base
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	f()
	close(stop)
	<-done
	return peak - base
}

// TestCompareMemoryBounded: compare holds what one stream has read and the
// other not yet, not the streams: two streams of 3 million spikes each
// (3.3 MB), written in blocks of different sizes, compare as the same
// with a peak heap of a few MB. Before, compare loaded both streams (12
// bytes a spike each, more while the slices grew): 100+ MB here, 735 MB
// for a 26.7 MB stream.
func TestCompareMemoryBounded(t *testing.T) {
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a.myelin"), filepath.Join(dir, "b.myelin"), filepath.Join(dir, "c.myelin")
	const steps = 100_000
	blockStream(t, a, steps, 100, -1)
	blockStream(t, b, steps, 1000, -1)
	blockStream(t, c, steps, 700, 77_777)
	var code int
	var out, errOut string
	peak := peakHeapDuring(func() { code, out, errOut = cli(context.Background(), "compare", a, b) })
	if code != 0 || !strings.Contains(out, "same spikes (3000000)") {
		t.Fatalf("compare a b: exit %d:\n%s%s", code, out, errOut)
	}
	if peak > 24<<20 {
		t.Errorf("compare of two streams of 3e6 spikes took a peak heap of %.1f MB, want under 24 MB", float64(peak)/(1<<20))
	}
	t.Logf("peak heap %.1f MB", float64(peak)/(1<<20))
	// The first difference, across blocks of other sizes, by spike index.
	code, out, _ = cli(context.Background(), "compare", b, c)
	want := fmt.Sprintf("spikes: first difference at step 77777 (7778 ms): spike %d is neuron %d at step 77777 in %s but neuron 999 at step 77777 in %s",
		77_777*30+29, 29*33+77_777%33, b, c)
	if code != 1 || !strings.Contains(out, want) {
		t.Errorf("compare b c: exit %d, want 1 and %q:\n%s", code, want, out)
	}
}

// TestCompareStopsOnSignal: cancelling the context (what Ctrl-C and
// SIGTERM do) stops compare at once with exit status 130, while it waits
// for a FIFO's writer and while it waits for a slow writer's next record.
// Before, compare ignored its context: it waited for the writer, then read
// to the end of the input.
func TestCompareStopsOnSignal(t *testing.T) {
	dir := t.TempDir()
	good, data := quietComplete(t, dir)
	for _, c := range []struct {
		name  string
		write []byte // nil: no writer
		fifoA bool
	}{
		{"no writer, A", nil, true},
		{"no writer, B", nil, false},
		{"slow writer", data[:len(data)/2], true},
	} {
		fifo := stalledFIFO(t, c.write)
		args := []string{"compare", fifo, good}
		if !c.fifoA {
			args = []string{"compare", good, fifo}
		}
		code, errOut, took, ok := interruptCLI(args...)
		switch {
		case !ok:
			t.Errorf("%s: still running %v after the interrupt", c.name, took)
		case code != 130 || took > 2*time.Second || !strings.Contains(errOut, "interrupted while comparing"):
			t.Errorf("%s: exit %d %v after the interrupt, want 130 within 2 s: %s", c.name, code, took, errOut)
		}
	}
}

// TestCompareSaysSameSpikes: where header or state differ but the spikes
// do not, compare says so (a run with a probe against one without); where
// the spikes differ too (another seed), it does not.
func TestCompareSaysSameSpikes(t *testing.T) {
	dir := t.TempDir()
	run := func(name string, extra ...string) string {
		path := filepath.Join(dir, name)
		args := append([]string{"run", "cuba", "--set", "n=400", "--duration", "50", "--backend", "cpu", "-q", "-o", path}, extra...)
		if code, _, errOut := cli(context.Background(), args...); code != 0 {
			t.Fatalf("run %s: exit %d: %s", name, code, errOut)
		}
		return path
	}
	a := run("a.myelin")
	b := run("b.myelin", "--sample", "E@0:5/10")
	c := run("c.myelin", "--sample", "E@0:5/10", "--seed", "3")
	res, err := stream.ReadAll(mustOpen(t, a))
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ := cli(context.Background(), "compare", a, b)
	if want := fmt.Sprintf("note: the spikes are the same (%d)", len(res.IDs)); code != 1 || !strings.Contains(out, want) || len(res.IDs) == 0 {
		t.Errorf("probe against none: exit %d, want 1 and %q:\n%s", code, want, out)
	}
	if code, out, _ := cli(context.Background(), "compare", a, c); code != 1 || strings.Contains(out, "the spikes are the same") {
		t.Errorf("another seed: exit %d:\n%s", code, out)
	}
}

// mustOpen opens path for the test, closing it when the test ends.
func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
