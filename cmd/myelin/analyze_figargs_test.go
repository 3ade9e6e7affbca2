package main

import (
	"bytes"
	"context"
	"image/png"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// figureFlags are analyze's flags that name a figure file.
var figureFlags = []string{"--raster", "--rates", "--spectrum", "--bump", "--overlaps"}

// TestAnalyzeFigureFormatsFirst: a figure file whose extension is not one
// analyze writes (.png, .svg, .pdf, in any case) is refused with exit
// status 2, naming the flag and the formats, before the source is opened:
// a missing stream is not even looked at, and a real one prints no table.
// --help lists the same formats for every figure flag. Before, the stream
// was read and analysed first, every table printed, then the figure failed
// with `unsupported format: "txt"` (exit 1); .jpg, .tif and .eps were
// written though --help did not list them, and a name without an extension
// was written as PNG.
func TestAnalyzeFigureFormatsFirst(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.myelin")
	for _, flag := range figureFlags {
		for _, name := range []string{"fig.txt", "fig.jpg", "fig.jpeg", "fig.tif", "fig.eps", "fig"} {
			fig := filepath.Join(dir, name)
			code, out, errOut := cli(context.Background(), "analyze", missing, flag, fig)
			if code != 2 || out != "" || !strings.Contains(errOut, flag+" "+fig+": ") || !strings.Contains(errOut, "want .png, .svg or .pdf") || strings.Contains(errOut, "missing.myelin") {
				t.Errorf("analyze %s %s: exit %d, stdout %q, stderr %q; want exit 2 naming %s and the formats, before opening the stream", flag, name, code, out, errOut, flag)
			}
			if _, err := os.Stat(fig); err == nil {
				t.Errorf("analyze %s %s: the figure was written", flag, name)
			}
		}
	}
	path := filepath.Join(dir, "short.myelin")
	popsStream(t, path, 2, 2, 2000) // 200 ms
	if code, out, errOut := cli(context.Background(), "analyze", path, "--raster", filepath.Join(dir, "r.txt")); code != 2 || out != "" {
		t.Errorf("--raster r.txt on a stream: exit %d, stdout %q, stderr %q; want exit 2 and no analysis", code, out, errOut)
	}

	// The formats accepted are written, in their format.
	for _, c := range []struct{ name, magic string }{{"r.svg", "<?xml"}, {"r.pdf", "%PDF"}, {"r.PNG", "\x89PNG"}} {
		fig := filepath.Join(dir, c.name)
		code, out, errOut := cli(context.Background(), "analyze", path, "--raster", fig)
		if code != 0 || !strings.Contains(out, "wrote "+fig) {
			t.Errorf("--raster %s: exit %d, %s %s", c.name, code, out, errOut)
			continue
		}
		if data, err := os.ReadFile(fig); err != nil || !bytes.HasPrefix(data, []byte(c.magic)) {
			t.Errorf("--raster %s: %d bytes (%v), want a file starting %q", c.name, len(data), err, c.magic)
		}
	}
	if f, err := os.Open(filepath.Join(dir, "r.PNG")); err == nil {
		if _, err := png.Decode(f); err != nil {
			t.Errorf("r.PNG: %v", err)
		}
		f.Close()
	}

	_, out, errOut := cli(context.Background(), "analyze", "--help")
	help := out + errOut
	for _, flag := range figureFlags {
		found := false
		for _, line := range strings.Split(help, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), flag+" ") {
				found = true
				if !strings.Contains(line, ".png, .svg or .pdf") {
					t.Errorf("--help for %s does not list the figure formats: %q", flag, line)
				}
			}
		}
		if !found {
			t.Errorf("--help has no line for %s:\n%s", flag, help)
		}
	}
}

// TestAnalyzeLiveBinAtHeader: against a live source, a --bin narrower than
// the stream's dt is refused (exit 2, naming --bin, the value and dt) as
// soon as the header arrives: analyze hangs up without waiting for the
// rest of the run and prints no analysis. Before, it read the stream to
// its end (here: until the server gave up after 10 s) and printed every
// table before it failed with exit 1.
func TestAnalyzeLiveBinAtHeader(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	h := &myelinpb.Header{FormatVersion: stream.FormatVersion, DtMs: 0.1, TotalSteps: 100_000, Seed: 1,
		Populations: []*myelinpb.PopulationRange{{Name: "E", FirstId: 0, Size: 10, Model: "iaf_psc_delta", Recorded: true}}}
	hdr, err := stream.AppendRecord(nil, &myelinpb.Record{Kind: &myelinpb.Record_Header{Header: h}}, stream.FormatVersion)
	if err != nil {
		t.Fatal(err)
	}
	hungUp := make(chan bool, 1) // whether the client closed before the server gave up
	go func() {
		c, err := ln.Accept()
		if err != nil {
			hungUp <- false
			return
		}
		defer c.Close()
		c.Write(hdr)
		// The rest of the run never comes; wait for the client to hang
		// up, for at most 10 s (a guard against a hang, not a measure).
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err = io.Copy(io.Discard, c)
		hungUp <- err == nil
	}()
	code, out, errOut := cli(context.Background(), "analyze", ln.Addr().String(), "--rates", filepath.Join(t.TempDir(), "x.png"), "--bin", "0.00005")
	want := "--bin 5e-05 ms is narrower than the stream's dt 0.1 ms; use --bin 0.1 or more"
	if code != 2 || out != "" || !strings.Contains(errOut, want) {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 2, no analysis and %q", code, out, errOut, want)
	}
	if !<-hungUp {
		t.Errorf("analyze did not hang up after the header")
	}
}
