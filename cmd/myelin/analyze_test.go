package main

import (
	"context"
	"fmt"
	"image/png"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/analysis"
	"github.com/myelin-sim/myelin/engine/stream"
)

// checkPNG checks that path is a PNG of w × h pixels with a drawing on it
// (more than a couple of colours).
func checkPNG(t *testing.T, path string, w, h int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := img.Bounds()
	if b.Dx() != w || b.Dy() != h {
		t.Errorf("%s: %d×%d px, want %d×%d", path, b.Dx(), b.Dy(), w, h)
	}
	seen := map[[4]uint32]bool{}
	for y := b.Min.Y; y < b.Max.Y && len(seen) < 10; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
		}
	}
	if len(seen) < 4 {
		t.Errorf("%s: %d colours; want a drawn figure", path, len(seen))
	}
}

// TestAnalyzeBrunel: statistics of a Brunel run and the two figures at the
// default size (8 × 5 in at 150 dpi).
func TestAnalyzeBrunel(t *testing.T) {
	dir := t.TempDir()
	path, res := brunelStream(t, dir, "300")
	raster, rates := filepath.Join(dir, "raster.png"), filepath.Join(dir, "rates.png")
	code, out, errOut := cli(context.Background(), "analyze", path, "--raster", raster, "--rates", rates, "--bin", "2")
	if code != 0 {
		t.Fatalf("analyze: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"300.0 ms (3000 steps)", "COMPLETE on cpu", "population", "rate Hz", "CV ISI", "Fano", "corr", "peak Hz", "wrote " + raster, "wrote " + rates} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The E row: 800 neurons and the stream's spike count.
	e := regexp.MustCompile(`(?m)^E +800 +(\d+) +`).FindStringSubmatch(out)
	if e == nil || e[1] != itoa(res.Trailer.GetPopulationSpikes()[0]) {
		t.Errorf("E row %v; want %d spikes:\n%s", e, res.Trailer.GetPopulationSpikes()[0], out)
	}
	w, h := int(analysis.DefaultWidthIn*analysis.DefaultDPI), int(analysis.DefaultHeightIn*analysis.DefaultDPI)
	checkPNG(t, raster, w, h)
	checkPNG(t, rates, w, h)
}

// itoa formats a count.
func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// TestAnalyzeRing: a ring attractor's bump, decoded from its sampled rates,
// sits at the cue.
func TestAnalyzeRing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ring.myelin")
	if code, _, errOut := cli(context.Background(), "run", "ring_rate", "--set", "cue_deg=120,cue_ms=200", "--duration", "600", "--backend", "cpu", "-q", "-o", path); code != 0 {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	code, out, errOut := cli(context.Background(), "analyze", path)
	if code != 0 {
		t.Fatalf("analyze: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, `bump position on the ring "ring"`) {
		t.Fatalf("no bump table:\n%s", out)
	}
	rows := regexp.MustCompile(`(?m)^ +(\d+\.\d) +(\S+) +(\S+) *$`).FindAllStringSubmatch(out, -1)
	if len(rows) < 6 {
		t.Fatalf("bump table has %d rows:\n%s", len(rows), out)
	}
	last := rows[len(rows)-1]
	if last[2] != "120.0" {
		t.Errorf("bump at %s ms is at %s°, want the cue's 120.0°:\n%s", last[1], last[2], out)
	}
	if !strings.Contains(out, "      100.0  ") || !strings.Contains(out, "      500.0  ") {
		t.Errorf("want a row every 100 ms:\n%s", out)
	}
	// No spiking population: asking for a raster is an error, the table
	// still prints.
	code, out, errOut = cli(context.Background(), "analyze", path, "--raster", filepath.Join(dir, "r.png"))
	if code != 1 || !strings.Contains(errOut, "no spikes of a recorded spiking population to draw") || !strings.Contains(out, "bump position") {
		t.Errorf("ring raster: exit %d, %q", code, errOut)
	}
}

// TestAnalyzeBadInput: a non-stream file, a truncated stream (partial
// results printed), a wrong version and a refused socket each give a clear
// message and a non-zero exit.
func TestAnalyzeBadInput(t *testing.T) {
	dir := t.TempDir()
	path, _ := brunelStream(t, dir, "300")
	notStream, truncated, version, kept := badStreams(t, dir, path)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	ln.Close()
	for _, tc := range []struct {
		args     []string
		want     []string
		wantOut  []string
		exitCode int
	}{
		{[]string{"analyze", notStream}, []string{notStream, "not a Myelin stream"}, nil, 1},
		{[]string{"analyze", version}, []string{fmt.Sprintf("unsupported format version: stream has format version %d, this reader reads versions 1 to %d", stream.NewestFormatVersion+1, stream.NewestFormatVersion)}, nil, 1},
		{[]string{"analyze", truncated, "--raster", filepath.Join(dir, "partial.png")},
			[]string{truncated, "truncated", "the results above cover the " + itoa(uint64(kept)) + " spikes"},
			[]string{"cut short by an error", "population", "E  ", "wrote " + filepath.Join(dir, "partial.png")}, 1},
		{[]string{"analyze", refused}, []string{"connect to " + refused, "connection refused", "nothing is serving there"}, nil, 1},
		{[]string{"analyze", "tcp://" + refused}, []string{"connection refused"}, nil, 1},
		{[]string{"analyze", filepath.Join(dir, "missing.myelin")}, []string{"no such file"}, nil, 1},
		{[]string{"analyze", path, "--bin", "0"}, []string{"must be finite and > 0"}, nil, 2},
	} {
		code, out, errOut := cli(context.Background(), tc.args...)
		if code != tc.exitCode {
			t.Errorf("%v: exit %d, want %d; stderr %q", tc.args, code, tc.exitCode, errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: stderr %q lacks %q", tc.args, errOut, w)
			}
		}
		for _, w := range tc.wantOut {
			if !strings.Contains(out, w) {
				t.Errorf("%v: stdout lacks %q:\n%s", tc.args, w, out)
			}
		}
	}
	checkPNG(t, filepath.Join(dir, "partial.png"), int(analysis.DefaultWidthIn*analysis.DefaultDPI), int(analysis.DefaultHeightIn*analysis.DefaultDPI))
}
