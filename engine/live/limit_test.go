package live_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/live"
)

// expectRefused reads from c, which the server must close at once without
// sending anything: it fails the test, and returns false, when c gets a
// byte, or no end of stream within 5 s.
func expectRefused(t *testing.T, c net.Conn, what string) bool {
	t.Helper()
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(c)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		t.Errorf("%s: still open after 5 s, want it closed at once", what)
		return false
	case len(b) > 0:
		t.Errorf("%s: got %d bytes, want none", what, len(b))
		return false
	}
	return true
}

// waitStats polls the server's Stats until ok says yes, for at most 10 s.
func waitStats(t *testing.T, srv *live.Server, what string, ok func(live.Stats) bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(srv.Stats()); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: stats %+v after 10 s", what, srv.Stats())
		}
	}
}

// TestMaxSubscribers: with Options.MaxSubscribers 3, connections beyond
// the third are closed at once, without a byte and without their 64 KiB
// buffers, and counted as refused; the three subscribers are not touched
// by them. One that leaves in the middle of the stream gives its place to
// a newcomer, who gets the rest after a gap, while the others get the
// whole stream byte for byte. Before, every connection became a
// subscriber, with its buffer, queue and goroutine, up to the process's
// open-file limit.
func TestMaxSubscribers(t *testing.T) {
	ts := makeStream(t, 31, 100, 0.02)
	var log logRecorder
	srv := live.New(live.Options{MaxSubscribers: 3, Logf: log.logf})
	defer srv.Abort()
	addr, err := srv.Listen("127.0.0.1:0", live.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := subscribe(t, addr), subscribe(t, addr)
	leaver, err := live.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer leaver.Close()
	go io.Copy(io.Discard, leaver) // reads until it is closed below
	if err := srv.WaitSubscribers(context.Background(), 3); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitSubscribers(context.Background(), 4); err == nil || !strings.Contains(err.Error(), "at most 3") {
		t.Errorf("WaitSubscribers(4) with at most 3 subscribers: %v, want an error at once", err)
	}

	// A flood of connections beyond the limit: each is closed at once,
	// and none gets a write buffer (64 KiB each, 6.4 MB for 100).
	const extra = 100
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range extra {
		c, err := live.Dial(context.Background(), addr)
		if err != nil {
			t.Fatal(err)
		}
		if !expectRefused(t, c, fmt.Sprintf("connection %d beyond the limit", i+1)) {
			t.FailNow()
		}
	}
	waitStats(t, srv, "the flood", func(st live.Stats) bool { return st.Refused == extra })
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > extra*16<<10 {
		t.Errorf("%d refused connections allocated %d bytes (%d each), want well under the 64 KiB buffer a subscriber holds", extra, grew, grew/extra)
	} else {
		t.Logf("%d refused connections allocated %d bytes in all (client side included)", extra, grew)
	}
	if st := srv.Stats(); st.Subscribers != 3 || st.Joined != 3 {
		t.Errorf("stats %+v after the flood; want 3 subscribers, 3 joined", st)
	}
	if !log.has("every subscriber place is taken (--listen-max 3); raise --listen-max to serve more") {
		t.Errorf("no log line names the limit and the flag: %q", log.lines)
	}

	// Half the stream; then one subscriber leaves, and its place is free
	// once a write finds it gone.
	half := ts.offsets[len(ts.offsets)/2]
	if _, err := srv.Write(ts.data[:half]); err != nil {
		t.Fatal(err)
	}
	leaver.Close()
	i := len(ts.offsets) / 2
	for srv.Stats().Subscribers != 2 {
		if i+2 >= len(ts.offsets) {
			t.Fatalf("the subscriber that left still holds its place after every record but the trailer: %+v", srv.Stats())
		}
		if _, err := srv.Write(ts.data[ts.offsets[i]:ts.offsets[i+1]]); err != nil {
			t.Fatal(err)
		}
		i++
		time.Sleep(10 * time.Millisecond)
	}
	late := subscribe(t, addr)
	waitStats(t, srv, "a newcomer in the place of the one that left", func(st live.Stats) bool { return st.Joined == 4 && st.Subscribers == 3 })
	full, err := live.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	expectRefused(t, full, "a connection while 3 are served again")
	if _, err := srv.Write(ts.data[ts.offsets[i]:]); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	expectWhole(t, ts.data, map[string]*reader{"first": a, "second": b})
	res := readAll(t, late.wait(t))
	if res.Trailer == nil || len(res.Gaps) == 0 {
		t.Errorf("the newcomer's stream: trailer %v, %d gaps; want a trailer and a gap for what it missed", res.Trailer != nil, len(res.Gaps))
	}
	checkSubset(t, res, ts.res)
	if st := srv.Stats(); st.Refused != extra+1 || st.Joined != 4 || st.Subscribers != 0 {
		t.Errorf("stats %+v; want %d refused, 4 joined, none left", st, extra+1)
	}
}

// TestMaxSubscribersHungUp: before the stream begins, a client that
// connected and hung up gives its place to a newcomer when all are taken,
// so that clients that connect and hang up cannot keep out those that
// stay; a subscriber that stays is never displaced.
func TestMaxSubscribersHungUp(t *testing.T) {
	ts := makeStream(t, 32, 5, 0.01)
	var log logRecorder
	srv := live.New(live.Options{MaxSubscribers: 2, Logf: log.logf})
	defer srv.Abort()
	path := filepath.Join(shortDir(t), "mh.sock")
	addr, err := srv.Listen("unix:"+path, live.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a := subscribe(t, addr)
	dialUnixConn(t, path).Close() // connects and hangs up at once
	waitStats(t, srv, "two joined", func(st live.Stats) bool { return st.Joined == 2 })
	b := subscribe(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.WaitSubscribers(ctx, 2); err != nil {
		t.Fatalf("the client that hung up kept a newcomer out: %v", err)
	}
	expectRefused(t, dialUnixConn(t, path), "a connection while 2 stay")
	if _, err := srv.Write(ts.data); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	expectWhole(t, ts.data, map[string]*reader{"first": a, "newcomer": b})
	if st := srv.Stats(); st.Joined != 3 || st.Refused != 1 {
		t.Errorf("stats %+v; want 3 joined (one hung up), 1 refused", st)
	}
	if !log.has("its place went to a newcomer") {
		t.Errorf("no log line says the client that hung up made room: %q", log.lines)
	}
}

// TestMaxSubscribersToken: with a token, the subscribers that presented it
// are bounded too; one beyond the limit is closed after its token, without
// a byte.
func TestMaxSubscribersToken(t *testing.T) {
	ts := makeStream(t, 33, 5, 0.01)
	srv := live.New(live.Options{MaxSubscribers: 1})
	defer srv.Abort()
	addr, err := srv.Listen("127.0.0.1:0", live.ListenOptions{Token: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	first := subscribeToken(t, addr, "s3cret")
	if err := srv.WaitSubscribers(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	c, err := live.DialToken(context.Background(), addr, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	expectRefused(t, c, "a second subscriber with the token")
	waitStats(t, srv, "the second refused", func(st live.Stats) bool { return st.Refused == 1 })
	if _, err := srv.Write(ts.data); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if got := first.wait(t); !bytes.Equal(got, ts.data) {
		t.Errorf("got %d bytes, want the %d written", len(got), len(ts.data))
	}
	if st := srv.Stats(); st.Joined != 1 {
		t.Errorf("stats %+v; want 1 joined", st)
	}
}

// TestMaxSubscribersCeiling: a server asked for more subscribers than
// MaxSubscribersCeiling does not listen.
func TestMaxSubscribersCeiling(t *testing.T) {
	srv := live.New(live.Options{MaxSubscribers: live.MaxSubscribersCeiling + 1})
	defer srv.Close()
	if _, err := srv.Listen("127.0.0.1:0", live.ListenOptions{}); err == nil || !strings.Contains(err.Error(), "ceiling") {
		t.Errorf("Listen with MaxSubscribers %d: %v, want an error naming the ceiling", live.MaxSubscribersCeiling+1, err)
	}
}
