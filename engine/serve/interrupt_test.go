package serve_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/serve"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/proto"
)

// longMs is a run that would take hours: only an interrupt ends it.
const longMs = 1e7

// cancelAfter cancels the returned context after d and records when.
func cancelAfter(d time.Duration) (context.Context, *atomic.Int64) {
	ctx, cancel := context.WithCancel(context.Background())
	return ctx, cancelIn(cancel, d)
}

// cancelIn calls cancel after d, recording when in the returned value.
func cancelIn(cancel context.CancelFunc, d time.Duration) *atomic.Int64 {
	var at atomic.Int64
	time.AfterFunc(d, func() {
		at.Store(time.Now().UnixNano())
		cancel()
	})
	return &at
}

// sinceCancel is the time from the cancellation recorded in at to now.
func sinceCancel(t *testing.T, at *atomic.Int64) time.Duration {
	t.Helper()
	if at.Load() == 0 {
		t.Fatal("returned before the cancellation")
	}
	return time.Since(time.Unix(0, at.Load()))
}

// A run cancelled midway stops promptly, says it was interrupted, keeps
// what it simulated (readable, and spike for spike that of one run) and
// leaves the network loaded to go on from there.
func TestRunContextInterrupted(t *testing.T) {
	e := serve.New(nil)
	defer e.Close()
	mustLoad(t, e, recurrent(t, 12345), 1)
	ctx, at := cancelAfter(300 * time.Millisecond)
	ran, err := e.RunContext(ctx, longMs)
	if d := sinceCancel(t, at); d > 2*time.Second {
		t.Errorf("run returned %v after the cancellation, want < 2 s", d)
	}
	if !errors.Is(err, serve.ErrInterrupted) || !strings.Contains(err.Error(), "interrupted at step") {
		t.Fatalf("error %v, want one wrapping ErrInterrupted", err)
	}
	if ran == nil {
		t.Fatal("no state reported for the interrupted run")
	}
	stop := ran.GetStep()
	if stop == 0 || stop >= uint64(longMs/0.1) || e.Step() != stop || ran.GetTimeMs() != float64(stop)*0.1 {
		t.Fatalf("interrupted run reports step %d, time %v ms; engine at step %d", stop, ran.GetTimeMs(), e.Step())
	}
	var got served
	d := mustRead(t, e)
	if d.GetEndStep() != stop {
		t.Errorf("read after the interrupt ends at step %d, want %d", d.GetEndStep(), stop)
	}
	got.add(t, d)
	// Go on to a whole number of ms past the stop (and past the spike
	// times of the spec), then compare with one uninterrupted run.
	total := max(stop/10+50, 200)
	if _, err := e.Run(float64(total) - float64(stop)*0.1); err != nil {
		t.Fatalf("run after the interrupt: %v", err)
	}
	got.add(t, mustRead(t, e))
	if e.Step() != total*10 {
		t.Fatalf("step %d, want %d", e.Step(), total*10)
	}
	want := runOnce(t, recurrent(t, float64(total)))
	if len(want.IDs) == 0 || !slices.Equal(got.steps, want.Steps) || !slices.Equal(got.ids, want.IDs) {
		t.Errorf("interrupted and continued: %d spikes, one run of %d ms: %d; they differ", len(got.ids), total, len(want.IDs))
	}
}

// A context cancelled before the run: nothing runs, nothing is lost, and
// a pending replay stays pending.
func TestRunContextCancelledBefore(t *testing.T) {
	e := serve.New(nil)
	defer e.Close()
	mustLoad(t, e, recurrent(t, 12345), 1)
	mustRun(t, e, 20)
	rate := 9000.0
	if err := e.SetInput("drive", &rate, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if ran, err := e.RunContext(ctx, 10); !errors.Is(err, serve.ErrInterrupted) || ran != nil {
		t.Fatalf("cancelled run: %v, %v; want ErrInterrupted and no state", ran, err)
	}
	if !e.Loaded() || e.Step() != 200 {
		t.Fatalf("after a cancelled run: loaded %v, step %d; want the network at step 200", e.Loaded(), e.Step())
	}
	if r := mustRun(t, e, 10); r.GetStep() != 300 || r.GetReplaySeconds() == 0 {
		t.Errorf("run after: step %d, replay %v s; want step 300 after a replay", r.GetStep(), r.GetReplaySeconds())
	}
}

// Over the protocol, cancelling Serve's context (Ctrl-C in `myelin
// serve`) cuts a run short: its reply holds the state reached and the data
// asked for, with an error saying it was interrupted, and Serve ends.
func TestServeInterruptsRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cr, cw := io.Pipe()
	rr, rw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := serve.Serve(ctx, cr, rw, nil)
		rw.Close()
		done <- err
	}()
	c := &client{t: t, in: cw, rr: rr, out: bufio.NewReader(rr), done: done}
	spec, err := proto.Marshal(recurrent(t, 12345))
	if err != nil {
		t.Fatal(err)
	}
	if rep := c.call(&myelinpb.Command{Kind: &myelinpb.Command_Load{Load: &myelinpb.LoadCommand{Spec: spec, Threads: 1}}}); rep.GetError() != "" {
		t.Fatal(rep.GetError())
	}
	at := cancelIn(cancel, 300*time.Millisecond) // once loaded, however long that took
	rep := c.call(&myelinpb.Command{Kind: &myelinpb.Command_Run{Run: &myelinpb.RunCommand{DurationMs: longMs, Read: true}}})
	if d := sinceCancel(t, at); d > 2*time.Second {
		t.Errorf("reply came %v after the interrupt, want < 2 s", d)
	}
	if !strings.HasPrefix(rep.GetError(), "run: interrupted at step") {
		t.Errorf("reply error %q, want \"run: interrupted at step ...\"", rep.GetError())
	}
	ran := rep.GetRan()
	if !ran.GetInterrupted() {
		t.Error("the interrupted run's Ran does not say interrupted")
	}
	if ran.GetStep() == 0 || ran.GetData().GetEndStep() != ran.GetStep() || len(ran.GetData().GetSpikeIds()) == 0 {
		t.Errorf("interrupted run reports step %d, data to step %d with %d spikes; want the state and data reached",
			ran.GetStep(), ran.GetData().GetEndStep(), len(ran.GetData().GetSpikeIds()))
	}
	if err := c.wait(); err != nil {
		t.Errorf("serve after the interrupt: %v", err)
	}
}

// An interrupt does not wait on a client that does not read its reply.
func TestServeInterruptUnreadReply(t *testing.T) {
	spec, err := proto.Marshal(recurrent(t, 12345))
	if err != nil {
		t.Fatal(err)
	}
	ctx, at := cancelAfter(300 * time.Millisecond)
	cr, cw := io.Pipe()
	rr, rw := io.Pipe() // nobody reads: the reply to load blocks
	defer rr.Close()
	done := make(chan error, 1)
	go func() { done <- serve.Serve(ctx, cr, rw, nil) }()
	go protodelim.MarshalTo(cw, &myelinpb.Command{Kind: &myelinpb.Command_Load{Load: &myelinpb.LoadCommand{Spec: spec, Threads: 1}}})
	bound := serve.InterruptGrace + 2*time.Second
	select {
	case <-done:
		if d := sinceCancel(t, at); d > bound {
			t.Errorf("serve ended %v after the interrupt, want within %v", d, bound)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not end on the interrupt while its client did not read")
	}
}

// A replay cut short by an interrupt leaves the engine where it was: the
// next run replays again and goes on, and the spikes are those the replay
// must reproduce.
func TestReplayInterrupted(t *testing.T) {
	e := serve.New(nil)
	defer e.Close()
	mustLoad(t, e, recurrent(t, 12345), 1)
	ctx, _ := cancelAfter(time.Second)
	ran, err := e.RunContext(ctx, longMs)
	if !errors.Is(err, serve.ErrInterrupted) {
		t.Fatalf("long run: %v, want interrupted", err)
	}
	stop := ran.GetStep()
	rate := 9000.0
	if err := e.SetInput("drive", &rate, nil); err != nil {
		t.Fatal(err)
	}
	// The replay to stop takes about as long as the run to it did.
	ctx, _ = cancelAfter(100 * time.Millisecond)
	ran, err = e.RunContext(ctx, 10)
	if !errors.Is(err, serve.ErrInterrupted) || !strings.Contains(err.Error(), "while replaying") || ran != nil {
		t.Fatalf("run cancelled during its replay: %v, %v; want an interrupted replay and no state", ran, err)
	}
	if !e.Loaded() || e.Step() != stop {
		t.Fatalf("after the interrupted replay: loaded %v, step %d; want the network at step %d", e.Loaded(), e.Step(), stop)
	}
	r, err := e.Run(10)
	if err != nil {
		t.Fatalf("run after the interrupted replay: %v", err)
	}
	if r.GetStep() != stop+100 || r.GetReplaySeconds() == 0 {
		t.Errorf("run after: step %d, replay %v s; want step %d after a replay", r.GetStep(), r.GetReplaySeconds(), stop+100)
	}
}
