package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	myelinpb "github.com/myelin-sim/myelin/proto"
)

// endRun is a `myelin run --listen unix:SOCK --wait 1 -o FILE` with one
// subscriber that connects and never reads. The queue holds the whole
// stream (hundreds of KB, more than the socket takes), so the run never
// waits for the subscriber: only the end of the stream can.
type endRun struct {
	file        string
	out, errOut syncBuffer
	done        chan int
	cancel      context.CancelFunc
	idle        net.Conn
}

func startEndRun(t *testing.T, stall string) *endRun {
	t.Helper()
	dir := socketDir(t)
	r := &endRun{file: filepath.Join(dir, "o1.myelin"), done: make(chan int, 1)}
	sock := filepath.Join(dir, "s")
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	t.Cleanup(cancel)
	go func() {
		r.done <- dispatch(ctx, &env{stdout: &r.out, stderr: &r.errOut, stdin: strings.NewReader("")},
			[]string{"run", "brunel", "--set", "n=5000", "--duration", "1500", "--threads", "1", "--backend", "cpu", "-o", r.file,
				"--listen", "unix:" + sock, "--wait", "1", "--queue", "1000", "--listen-stall", stall})
	}()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the run did not listen:\n%s", r.errOut.String())
		}
	}
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	r.idle = c
	return r
}

// waitFor waits until s appears in buf or the run ends.
func (r *endRun) waitFor(t *testing.T, buf *syncBuffer, s string, within time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(within); !strings.Contains(buf.String(), s); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q within %v:\n%s\n%s", s, within, r.out.String(), r.errOut.String())
		}
	}
}

// TestRunListenEndStall: at the end of a run, a subscriber that takes
// nothing is cut off after --listen-stall (1 s here), not after a fixed
// 30 s. Before, the run ended 30 s after its simulation.
func TestRunListenEndStall(t *testing.T) {
	r := startEndRun(t, "1s")
	r.waitFor(t, &r.out, "status COMPLETE", 60*time.Second) // the simulation is over
	start := time.Now()
	select {
	case code := <-r.done:
		if code != 0 {
			t.Fatalf("run: exit %d\n%s", code, r.errOut.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("the run was still waiting for an idle subscriber 15 s after its simulation (--listen-stall 1s):\n%s", r.errOut.String())
	}
	t.Logf("the run ended %v after its summary", time.Since(start))
	if !strings.Contains(r.errOut.String(), "took nothing for 1s after the stream ended") {
		t.Errorf("stderr does not say why the idle subscriber was cut off:\n%s", r.errOut.String())
	}
}

// TestRunListenEndInterrupt: --out is complete and in place before the run
// waits for its subscribers to take the rest of the stream, and Ctrl-C
// ends that wait at once. Before, only FILE.*.partial existed while the
// run waited (up to 30 s), and Ctrl-C was ignored.
func TestRunListenEndInterrupt(t *testing.T) {
	r := startEndRun(t, "1h")
	// The summary is printed once the file is renamed, before the wait.
	r.waitFor(t, &r.out, "status COMPLETE", 60*time.Second)
	res := readResult(t, r.file)
	if res.Trailer.GetStatus() != myelinpb.Trailer_COMPLETE {
		t.Errorf("%s while the run waits for subscribers: trailer %v, want COMPLETE", r.file, res.Trailer.GetStatus())
	}
	select {
	case code := <-r.done:
		t.Fatalf("the run ended (exit %d) although its idle subscriber had an hour to take the rest", code)
	case <-time.After(200 * time.Millisecond):
	}
	r.cancel() // Ctrl-C
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("Ctrl-C did not end the wait for an idle subscriber:\n%s", r.errOut.String())
	}
	if !strings.Contains(r.errOut.String(), "interrupted while subscribers took the rest of the stream") {
		t.Errorf("stderr does not say the wait was interrupted:\n%s", r.errOut.String())
	}
	if got := readResult(t, r.file); len(got.IDs) != len(res.IDs) {
		t.Errorf("%s changed after the wait: %d spikes, then %d", r.file, len(res.IDs), len(got.IDs))
	}
}

// TestRunListenFilterWarns: analyze of a stream served with
// --listen-filter POP@FIRST:COUNT warns that its population's rates count
// all of the population's neurons. Before, it printed E's rate as 1/80 of
// the one neuron's, without a word.
func TestRunListenFilterWarns(t *testing.T) {
	dir := socketDir(t)
	sock := filepath.Join(dir, "f.sock")
	runDone := make(chan string, 1)
	go func() {
		code, _, errOut := cli(context.Background(), "run", "brunel", "--set", "n=100", "--duration", "200", "--backend", "cpu", "-q",
			"--listen", "unix:"+sock, "--listen-filter", "E@79:1,I", "--wait", "1")
		runDone <- itoa(uint64(code)) + " " + errOut
	}()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatal("the run did not listen")
		}
	}
	code, out, errOut := cli(context.Background(), "analyze", "unix:"+sock)
	if r := <-runDone; !strings.HasPrefix(r, "0 ") {
		t.Fatalf("run: %s", r)
	}
	if code != 0 {
		t.Fatalf("analyze: exit %d: %s", code, errOut)
	}
	want := "is a filtered live stream (--listen-filter E@79:1): it holds the spikes of 1 of E's 80 neurons, but the rates and statistics below count all 80, so E's rates are 80 times too low"
	if !strings.Contains(out, want) {
		t.Errorf("analyze of a filtered stream does not warn %q:\n%s", want, out)
	}
	if strings.Contains(out, "of I's") {
		t.Errorf("analyze warns about I, served whole:\n%s", out)
	}
}
