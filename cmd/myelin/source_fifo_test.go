package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	myelinpb "github.com/myelin-sim/myelin/proto"
)

// stalledFIFO makes a FIFO that never ends: with data nil nobody opens it
// for writing; otherwise the test holds it open for writing (O_RDWR, which
// does not wait for a reader on Linux) with data (under 64 KB) in it and
// writes nothing more until the test ends.
func stalledFIFO(t *testing.T, data []byte) string {
	t.Helper()
	fifo := filepath.Join(t.TempDir(), "stream.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	if data == nil {
		return fifo
	}
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Skip("cannot hold a FIFO open for writing:", err)
	}
	t.Cleanup(func() { w.Close() })
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	return fifo
}

// interruptCLI runs the CLI in-process with args, cancels its context
// (what Ctrl-C and SIGTERM do) after 300 ms and waits at most 5 s more. It
// returns the exit code, stderr and how long the command took after the
// cancel, or ok false when it was still running 5 s after (it is then left
// blocked: a command that ignores its context cannot be stopped).
func interruptCLI(args ...string) (code int, errOut string, took time.Duration, ok bool) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		code   int
		errOut string
	}
	done := make(chan result, 1)
	go func() {
		code, _, errOut := cli(ctx, args...)
		done <- result{code, errOut}
	}()
	time.Sleep(300 * time.Millisecond)
	cancel()
	start := time.Now()
	select {
	case r := <-done:
		return r.code, r.errOut, time.Since(start), true
	case <-time.After(5 * time.Second):
		return 0, "", time.Since(start), false
	}
}

// TestSourceFIFOStopsOnSignal: analyze and export of a FIFO stop at once
// with exit status 130 when the context is cancelled (Ctrl-C, SIGTERM),
// both while the FIFO waits for its writer (openSource) and while a slow
// writer sends nothing more. Before, opening the FIFO ignored the context
// (and so did export's wait for the next record): SIGINT did nothing until
// a writer came and the input ended.
func TestSourceFIFOStopsOnSignal(t *testing.T) {
	dir := t.TempDir()
	_, data := quietComplete(t, dir)
	for _, cmd := range []string{"analyze", "export"} {
		for _, c := range []struct {
			name  string
			write []byte
		}{{"no writer", nil}, {"slow writer", data[:len(data)/2]}} {
			code, errOut, took, ok := interruptCLI(cmd, stalledFIFO(t, c.write))
			switch {
			case !ok:
				t.Errorf("%s, %s: still running %v after the interrupt", cmd, c.name, took)
			case code != 130 || took > 2*time.Second || !strings.Contains(errOut, "interrupted"):
				t.Errorf("%s, %s: exit %d %v after the interrupt, want 130 within 2 s: %s", cmd, c.name, code, took, errOut)
			}
		}
	}
}

// quietComplete writes a complete stream of 10,000 quiet steps (one spike)
// into dir and returns its path and bytes: the input of the signal tests,
// fed to a FIFO by a writer that stalls.
func quietComplete(t *testing.T, dir string) (string, []byte) {
	t.Helper()
	good := filepath.Join(dir, "good.myelin")
	quietRun(t, good, 3, 10000, &myelinpb.Trailer{Status: myelinpb.Trailer_COMPLETE, StepsDone: 10000, TotalSpikes: 1})
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	return good, data
}
