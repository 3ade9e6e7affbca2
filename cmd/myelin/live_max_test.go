package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/stream"
)

// TestRunListenMax: `run --listen-max 1` serves one subscriber; a second
// connection is closed at once without a byte, and the run says why on
// stderr, naming the flag. Before, every connection became a subscriber,
// with a 64 KiB buffer each, up to the open-file limit.
func TestRunListenMax(t *testing.T) {
	sock := filepath.Join(socketDir(t), "max.sock")
	var runErr syncBuffer
	runDone := make(chan int, 1)
	go func() {
		runDone <- dispatch(context.Background(), &env{stdout: &syncBuffer{}, stderr: &runErr, stdin: strings.NewReader("")},
			[]string{"run", "brunel", "--set", "n=1000", "--duration", "5000", "--backend", "cpu",
				"--listen", "unix:" + sock, "--wait", "1", "--listen-max", "1", "--listen-stall", "5s", "--queue", "1"})
	}()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(runErr.String(), "waiting for 1 subscriber"); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the run did not wait for its subscriber:\n%s", runErr.String())
		}
	}
	// The server accepts the two in order: the first is served, the
	// second refused. The run cannot end meanwhile: its stream (about
	// 600 KB) is more than the first's socket and queue (--queue 1) hold
	// until it reads, after the second is refused.
	first, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	second, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	second.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, err := io.ReadAll(second); err != nil || len(b) != 0 {
		t.Errorf("the connection beyond --listen-max 1: read %d bytes (%v), want none and the connection closed", len(b), err)
	}
	data, err := io.ReadAll(first)
	if err != nil {
		t.Fatal(err)
	}
	res, err := stream.ReadAll(bytes.NewReader(data))
	if err != nil || res.Trailer == nil {
		t.Fatalf("the subscriber's stream (%d bytes): %v", len(data), err)
	}
	select {
	case code := <-runDone:
		if code != 0 {
			t.Fatalf("run: exit %d\n%s", code, runErr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the run did not end")
	}
	if !strings.Contains(runErr.String(), "every subscriber place is taken (--listen-max 1); raise --listen-max to serve more") {
		t.Errorf("stderr does not say why the second connection was refused:\n%s", runErr.String())
	}
}
