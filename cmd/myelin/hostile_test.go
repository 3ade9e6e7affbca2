package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/stream"
	"github.com/myelin-sim/myelin/internal/memtest"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// hostileHeader is a small header whose population E claims size neurons.
func hostileHeader(size uint32, totalSteps uint64) *myelinpb.Record {
	return &myelinpb.Record{Kind: &myelinpb.Record_Header{Header: &myelinpb.Header{
		FormatVersion: stream.FormatVersion, DtMs: 0.1, TotalSteps: totalSteps, Seed: 1,
		Populations: []*myelinpb.PopulationRange{{Name: "E", FirstId: 0, Size: size, Model: "iaf_psc_delta", Recorded: true}},
	}}}
}

func spikeRec(first uint64, counts, ids []uint32) *myelinpb.Record {
	return &myelinpb.Record{Kind: &myelinpb.Record_Spikes{Spikes: &myelinpb.SpikeBlock{FirstStep: first, Counts: counts, Ids: ids}}}
}

// TestAnalyzeHostileStreams: each defect of issue 13 in the readers, as
// `myelin analyze` meets it: a small stream that claims 2e9 neurons, one
// that claims 2^32-1, a spike block at an absurd step, and `--bin 1e-9`.
// Before, the first grew the process to 24 GB, the second died of "out of
// memory", the third panicked (makeslice) and the fourth died of memory.
func TestAnalyzeHostileStreams(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.myelin")
	writeStreamFile(t, big, hostileHeader(2_000_000_000, 10000), spikeRec(0, []uint32{2, 1}, []uint32{5, 1_000_000_000, 7}),
		&myelinpb.Record{Kind: &myelinpb.Record_Trailer{Trailer: &myelinpb.Trailer{Status: myelinpb.Trailer_COMPLETE, StepsDone: 10000, TotalSpikes: 3}}})
	wrap := filepath.Join(dir, "wrap.myelin")
	writeStreamFile(t, wrap, hostileHeader(1<<32-1, 10000))
	absurd := filepath.Join(dir, "absurd.myelin")
	writeStreamFile(t, absurd, hostileHeader(100, 10000), spikeRec(1<<62, []uint32{1}, []uint32{3}))
	unbounded := filepath.Join(dir, "unbounded.myelin") // no total_steps: the run's length is not known
	writeStreamFile(t, unbounded, hostileHeader(100, 0), spikeRec(1<<50, []uint32{1}, []uint32{3}))

	var code int
	var out, errOut string
	d := memtest.Allocated(func() {
		code, out, errOut = cli(context.Background(), "analyze", big, "--raster", filepath.Join(dir, "r.png"), "--rates", filepath.Join(dir, "rates.png"))
	})
	if code != 0 || !strings.Contains(out, "2000000000 neurons") {
		t.Errorf("2e9 neurons: exit %d, %s %s", code, out, errOut)
	}
	if d > 256<<20 {
		t.Errorf("2e9 neurons: analyze allocated %d MiB for 3 spikes, want < 256 MiB", d>>20)
	}

	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"2^32-1 neurons", []string{"analyze", wrap}, 1, "more than the 2147483648 a stream may describe"},
		{"absurd step", []string{"analyze", absurd}, 1, "passes the end of the run (header.total_steps 10000)"},
		{"--bin 1e-9", []string{"analyze", big, "--rates", filepath.Join(dir, "x.png"), "--bin", "1e-9"}, 2, "--bin 1e-09 ms is narrower than the stream's dt 0.1 ms"},
		{"--bin inf", []string{"analyze", big, "--bin", "inf"}, 2, "must be finite"},
	} {
		code, _, errOut := cli(context.Background(), c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and %q", c.name, code, errOut, c.code, c.want)
		}
	}
	// A spike at step 2^50 of a run of unknown length: bounded work.
	start := time.Now()
	code, out, errOut = cli(context.Background(), "analyze", unbounded, "--rates", filepath.Join(dir, "u.png"), "--bump-every", "1e-12")
	if code != 1 || !strings.Contains(errOut, "bins") || time.Since(start) > 20*time.Second {
		t.Errorf("spike at step 2^50: exit %d in %v, %s %s", code, time.Since(start), out, errOut)
	}
}

// TestAnalyzeStopsOnSignal: a live source that sends a header and then
// nothing; cancelling the context (what SIGTERM and Ctrl-C do) stops
// analyze within a second with exit 130.
func TestAnalyzeStopsOnSignal(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	hdr, err := stream.AppendRecord(nil, hostileHeader(10, 0), stream.FormatVersion)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write(hdr)
		time.Sleep(10 * time.Second)
	}()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	code, _, errOut := cli(ctx, "analyze", ln.Addr().String())
	if code != 130 || time.Since(start) > 2*time.Second {
		t.Errorf("exit %d after %v (%s), want 130 within 2 s", code, time.Since(start), errOut)
	}
}

// TestVersion1Note: a version-1 stream still reads, with a note that it
// carries no checksums.
func TestVersion1Note(t *testing.T) {
	golden := filepath.Join("..", "..", "engine", "stream", "testdata", "golden-v1.myelin")
	if _, err := os.Stat(golden); err != nil {
		t.Skip(err)
	}
	code, out, errOut := cli(context.Background(), "analyze", golden)
	if code != 0 || !strings.Contains(out, "539 spikes") || !strings.Contains(out, "format version 1 stream: its records carry no checksums") {
		t.Errorf("golden v1: exit %d\n%s\n%s", code, out, errOut)
	}
}
