package live_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/live"
)

// TestEndStall: once the stream has ended, a subscriber that takes
// nothing of the rest for its StallTimeout is cut off; Close does not wait
// the CloseTimeout (30 s) for it. A healthy subscriber still gets the
// whole stream. Before, Close waited the full 30 s for an idle subscriber
// whose records were all queued.
func TestEndStall(t *testing.T) {
	ts := makeStream(t, 21, 100, 0.05) // about 1 MB: more than the socket buffers hold
	var log logRecorder
	srv := live.New(live.Options{Logf: log.logf})
	path := filepath.Join(shortDir(t), "es.sock")
	// The queue holds the whole stream, so the run never waits for the
	// idle subscriber: only the end of the stream can.
	_, good := listenIdleAndGood(t, srv, path, live.ListenOptions{Queue: 1000, SendBuffer: 4096, StallTimeout: 300 * time.Millisecond})
	if _, err := srv.Write(ts.data); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	start := time.Now()
	go func() { closed <- srv.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		srv.Abort()
		t.Fatal("Close waited more than 15 s for a subscriber that takes nothing (stall timeout 300 ms)")
	}
	t.Logf("Close returned after %v", time.Since(start))
	res := readAll(t, good.wait(t))
	if res.Trailer == nil || len(res.IDs) != len(ts.res.IDs) {
		t.Errorf("healthy subscriber got %d of %d spikes (trailer %v)", len(res.IDs), len(ts.res.IDs), res.Trailer != nil)
	}
	if !log.has("after the stream ended") {
		t.Errorf("no log line says why the idle subscriber was cut off: %q", log.lines)
	}
}

// TestEndAbort: Abort ends a Close that waits for a subscriber at once.
func TestEndAbort(t *testing.T) {
	ts := makeStream(t, 22, 100, 0.05)
	srv := live.New(live.Options{})
	path := filepath.Join(shortDir(t), "ea.sock")
	if _, err := srv.Listen("unix:"+path, live.ListenOptions{Queue: 1000, SendBuffer: 4096, StallTimeout: time.Hour}); err != nil {
		t.Fatal(err)
	}
	idle := dialUnixConn(t, path)
	defer idle.Close()
	if err := srv.WaitSubscribers(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Write(ts.data); err != nil {
		t.Fatal(err)
	}
	if err := srv.End(); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- srv.Close() }()
	select {
	case <-closed:
		t.Fatal("Close returned while an idle subscriber had an hour to take the rest")
	case <-time.After(100 * time.Millisecond):
	}
	srv.Abort()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Abort did not end Close's wait")
	}
}

// TestStallsTogether: subscribers that stall together are cut off
// together: the run waits about one StallTimeout, not one per subscriber.
// Before, ten idle subscribers held the writer up ten times 1 s, one after
// another.
func TestStallsTogether(t *testing.T) {
	const idleSubs, stall = 10, time.Second
	ts := makeStream(t, 23, 100, 0.05)
	var log logRecorder
	srv := live.New(live.Options{Logf: log.logf})
	path := filepath.Join(shortDir(t), "st.sock")
	addr, err := srv.Listen("unix:"+path, live.ListenOptions{OnSlow: live.Block, Queue: 1, SendBuffer: 4096, StallTimeout: stall})
	if err != nil {
		t.Fatal(err)
	}
	for range idleSubs {
		c := dialUnixConn(t, path) // never reads
		defer c.Close()
	}
	good := subscribe(t, addr)
	if err := srv.WaitSubscribers(context.Background(), idleSubs+1); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	written := make(chan error, 1)
	go func() {
		_, err := srv.Write(ts.data)
		written <- err
	}()
	// One stall is 1 s; the old sequential waits took at least 10 s.
	select {
	case err := <-written:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * stall):
		srv.Abort()
		t.Fatalf("%d idle subscribers held the writer up for more than %v (stall timeout %v): their stall timeouts did not run together", idleSubs, 5*stall, stall)
	}
	took := time.Since(start)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	res := readAll(t, good.wait(t))
	if len(res.IDs) != len(ts.res.IDs) || res.Trailer == nil {
		t.Errorf("healthy subscriber got %d of %d spikes", len(res.IDs), len(ts.res.IDs))
	}
	if st := srv.Stats(); st.Subscribers != 0 {
		t.Errorf("%d subscribers still connected after Close", st.Subscribers)
	}
	t.Logf("written past %d idle subscribers in %v", idleSubs, took)
}

// TestQueueBound: a queue longer than MaxQueue is refused up front, not
// allocated when the first subscriber joins (before, a queue of 10^11
// records killed the process for memory).
func TestQueueBound(t *testing.T) {
	srv := live.New(live.Options{})
	defer srv.Close()
	_, err := srv.Listen("127.0.0.1:0", live.ListenOptions{Queue: live.MaxQueue + 1})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("at most %d", live.MaxQueue)) {
		t.Errorf("Listen with a queue of MaxQueue+1: %v, want a refusal naming the bound", err)
	}
	if _, err := srv.Listen("127.0.0.1:0", live.ListenOptions{Queue: 1e11}); err == nil {
		t.Error("Listen with a queue of 1e11 records was accepted")
	}
	if _, err := srv.Listen("127.0.0.1:0", live.ListenOptions{Queue: live.MaxQueue}); err != nil {
		t.Errorf("Listen with a queue of MaxQueue: %v", err)
	}
}

// TestTokenIdleConnections: connections that hold every slot for clients
// presenting a token, and send nothing, cannot keep out a client that has
// the token: the longest-waiting one makes room. The refusals are logged
// at most one line every 2 s, with a count. Before, 40 idle connections
// locked every client out for as long as they were held, and each refused
// connection was a log line.
func TestTokenIdleConnections(t *testing.T) {
	ts := makeStream(t, 24, 5, 0.01)
	var log logRecorder
	srv := live.New(live.Options{Logf: log.logf})
	// A long AuthTimeout: the idle connections keep their slots all test long.
	addr, err := srv.Listen("127.0.0.1:0", live.ListenOptions{Token: "s3cret", AuthTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	const idle = live.MaxPendingAuth + 8
	for range idle {
		c, err := live.Dial(context.Background(), addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	for deadline := time.Now().Add(10 * time.Second); srv.Stats().Refused < idle-live.MaxPendingAuth; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the server took %d refusals for %d idle connections, want %d", srv.Stats().Refused, idle, idle-live.MaxPendingAuth)
		}
	}
	c, err := live.DialToken(context.Background(), addr, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		defer c.Close()
		var b []byte
		buf := make([]byte, 64<<10)
		for {
			n, err := c.Read(buf)
			b = append(b, buf[:n]...)
			if err != nil {
				got <- b
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.WaitSubscribers(ctx, 1); err != nil {
		srv.Abort()
		t.Fatalf("the client with the token was kept out by %d idle connections: %v", idle, err)
	}
	if _, err := srv.Write(ts.data); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	res := readAll(t, <-got)
	if len(res.IDs) != len(ts.res.IDs) || res.Trailer == nil {
		t.Errorf("the client with the token got %d of %d spikes", len(res.IDs), len(ts.res.IDs))
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	var refusedLines []string
	for _, l := range log.lines {
		if strings.Contains(l, "refused") {
			refusedLines = append(refusedLines, l)
		}
	}
	// 9 refusals (8 idle, 1 more to make room) in well under 2 s: one
	// line, and one with the count of the others at Close.
	if len(refusedLines) > 3 || !slices.ContainsFunc(refusedLines, func(l string) bool { return strings.Contains(l, "not logged one by one") }) {
		t.Errorf("%d log lines about refused connections, want at most 3 with a count of the others:\n%s", len(refusedLines), strings.Join(refusedLines, "\n"))
	}
}

// TestWaitCountsConnected: WaitSubscribers counts the subscribers still
// connected: a client that connected and hung up again does not count.
// Before, `--wait 2` started a run with one subscriber after a second
// client had connected and left.
func TestWaitCountsConnected(t *testing.T) {
	for _, network := range []string{"unix", "tcp"} {
		t.Run(network, func(t *testing.T) {
			srv := live.New(live.Options{})
			defer srv.Close()
			where := "127.0.0.1:0"
			if network == "unix" {
				where = "unix:" + filepath.Join(shortDir(t), "w.sock")
			}
			addr, err := srv.Listen(where, live.ListenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			dial := func() net.Conn {
				c, err := live.Dial(context.Background(), addr)
				if err != nil {
					t.Fatal(err)
				}
				return c
			}
			stays := dial()
			defer stays.Close()
			dial().Close() // connects and hangs up at once
			for deadline := time.Now().Add(10 * time.Second); srv.Stats().Joined < 2; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("%d of 2 clients joined", srv.Stats().Joined)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			if err := srv.WaitSubscribers(ctx, 2); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("WaitSubscribers(2) with one client connected and one gone: %v, want it to go on waiting", err)
			}
			second := dial()
			defer second.Close()
			ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.WaitSubscribers(ctx, 2); err != nil {
				t.Fatalf("WaitSubscribers(2) with two clients connected: %v", err)
			}
		})
	}
}

// TestFilterMarked: a filtered stream says so in its header, in a field
// every reader has (the spec's recording.spikes), and keeps its
// populations' sizes and ids; PartialPopulations reads the mark back.
// Before, nothing in a stream served with --listen-filter E@79:1 said it
// was filtered, and analyze reported E's rate as 1/80 of the neuron's.
func TestFilterMarked(t *testing.T) {
	ts := makeStream(t, 25, 5, 0.01)
	for _, tc := range []struct {
		filter, partial string
		spikes          []string
		served          uint32
	}{
		{"E@10:5,E@12:10,I", "E@10:5,E@12:10", []string{"E@10:5", "E@12:10", "I"}, 12},
		{"E@799:1", "E@799:1", []string{"E@799:1"}, 1},
		{"I", "", []string{"I"}, 0},
		{"E@0:800", "", []string{"E@0:800"}, 0}, // the whole of E: not partial
	} {
		srv, r := serveFiltered(t, tc.filter, "127.0.0.1:0")
		if err := replay(srv, ts.data); err != nil {
			t.Fatal(err)
		}
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
		h := readAll(t, r.wait(t)).Header
		if got := h.GetSpec().GetRecording().GetSpikes(); !slices.Equal(got, tc.spikes) {
			t.Errorf("%s: served recording.spikes %q, want %q", tc.filter, got, tc.spikes)
		}
		for i, p := range h.GetPopulations() {
			if want := ts.res.Header.GetPopulations()[i]; p.GetSize() != want.GetSize() || p.GetFirstId() != want.GetFirstId() {
				t.Errorf("%s: served population %s is [%d, +%d), want the run's [%d, +%d)", tc.filter, p.GetName(), p.GetFirstId(), p.GetSize(), want.GetFirstId(), want.GetSize())
			}
		}
		parts := live.PartialPopulations(h)
		switch {
		case tc.partial == "" && parts != nil:
			t.Errorf("%s: partial populations %+v, want none", tc.filter, parts)
		case tc.partial != "" && (len(parts) != 1 || parts[0] != live.PartialPopulation{Name: "E", Served: tc.served, Size: 800, Filter: tc.partial}):
			t.Errorf("%s: partial populations %+v, want E with %d of 800 neurons", tc.filter, parts, tc.served)
		}
	}
	if parts := live.PartialPopulations(ts.res.Header); parts != nil {
		t.Errorf("an unfiltered stream has partial populations %+v", parts)
	}
}
