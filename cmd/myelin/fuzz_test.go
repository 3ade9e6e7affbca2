package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/analysis"
	"github.com/myelin-sim/myelin/engine/stream"
	"github.com/myelin-sim/myelin/internal/memtest"
)

// fuzzMemCeiling is the most a fuzz input may make the analysis path
// allocate: a fixed allowance plus 64 bytes per input byte. A stream that
// claims huge sizes must not get past it.
func fuzzMemCeiling(input int) uint64 { return 256<<20 + 64*uint64(input) }

// addStreamSeeds adds the golden stream and the shared corrupt-stream table
// to a fuzz corpus.
func addStreamSeeds(f *testing.F) {
	dir := filepath.Join("..", "..", "engine", "stream", "testdata")
	paths, _ := filepath.Glob(filepath.Join(dir, "corrupt", "*.myelin"))
	paths = append(paths, filepath.Join(dir, "golden-v1.myelin"))
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte{})
}

// analyzeBytes runs the analysis path of `myelin analyze` on a stream:
// decode, statistics, and (for small runs) both figures.
func analyzeBytes(t *testing.T, src io.Reader, dir string) {
	res, _ := stream.ReadAll(src)
	if res.Header == nil {
		return
	}
	run, _ := analysisRun(res)
	if len(run.Pops) == 0 || !(run.DurationMs > 0) {
		return
	}
	if _, err := analysis.Analyze(run, analysis.Options{CorrPairs: 20}); err != nil {
		t.Fatalf("a stream the reader accepted cannot be analysed: %v", err)
	}
	opts := analysis.PlotOptions{DPI: 10, WidthIn: 2, HeightIn: 2, MaxNeurons: 50, MaxPoints: 2000}
	_ = analysis.Raster(run, filepath.Join(dir, "r.png"), opts)
	_ = analysis.RatesWith(run, filepath.Join(dir, "rates.png"), 5, opts)
	printBumps(io.Discard, res, 100)
}

// measure runs f and fails when it allocates more than the ceiling.
func measure(t *testing.T, input int, f func()) {
	if d := memtest.Allocated(f); d > fuzzMemCeiling(input) {
		t.Fatalf("a %d-byte input allocated %d MiB, over the %d MiB ceiling", input, d>>20, fuzzMemCeiling(input)>>20)
	}
}

// FuzzAnalyzePath feeds arbitrary bytes through decode → analyze → plot:
// no panic, no hang, and no allocation past fuzzMemCeiling.
func FuzzAnalyzePath(f *testing.F) {
	addStreamSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		measure(t, len(data), func() { analyzeBytes(t, bytes.NewReader(data), dir) })
	})
}

// FuzzLiveClient plays a hostile live server: it serves arbitrary bytes on
// a loopback socket and hangs up, and the client (openSource with a live
// address, then the analysis path) must neither panic, hang nor allocate
// past fuzzMemCeiling.
func FuzzLiveClient(f *testing.F) {
	addStreamSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Skip(err)
		}
		defer ln.Close()
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			c.Write(data)
			c.Close()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		src, err := openSource(ctx, ln.Addr().String(), "")
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		dir := t.TempDir()
		measure(t, len(data), func() { analyzeBytes(t, src, dir) })
	})
}
