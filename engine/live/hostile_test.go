package live_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/live"
)

// logRecorder collects a server's log lines.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, strings.TrimSpace(fmt.Sprintf(format, args...)))
}

func (l *logRecorder) has(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

// TestBlockStallCutsOff: in Block mode, a subscriber that connects and
// never reads is cut off after the stall timeout; the writer (the run) goes
// on and a healthy subscriber gets the whole stream. Before, one idle
// subscriber froze the run indefinitely.
func TestBlockStallCutsOff(t *testing.T) {
	ts := makeStream(t, 11, 100, 0.05)
	var log logRecorder
	srv := live.New(live.Options{Logf: log.logf})
	path := filepath.Join(shortDir(t), "bs.sock")
	_, good := listenIdleAndGood(t, srv, path, live.ListenOptions{OnSlow: live.Block, Queue: 2, SendBuffer: 4096, StallTimeout: 200 * time.Millisecond})
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := srv.Write(ts.data)
		if err == nil {
			err = srv.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		srv.Abort()
		t.Fatal("the run is frozen behind an idle subscriber in Block mode")
	}
	res := readAll(t, good.wait(t))
	if res.Trailer == nil || len(res.IDs) != len(ts.res.IDs) || missed(res) != 0 {
		t.Errorf("healthy subscriber got %d of %d spikes (trailer %v, missed %d)", len(res.IDs), len(ts.res.IDs), res.Trailer != nil, missed(res))
	}
	if !log.has("cut off so that the run and the other subscribers go on") {
		t.Errorf("no log line says the idle subscriber was cut off: %q", log.lines)
	}
	t.Logf("%d bytes written past an idle subscriber in %v", len(ts.data), time.Since(start))
}

// TestToken: with ListenOptions.Token, a subscriber without the token or
// with a wrong one is refused before it is sent anything; one with it gets
// the stream.
func TestToken(t *testing.T) {
	ts := makeStream(t, 12, 5, 0.01)
	var log logRecorder
	srv := live.New(live.Options{Logf: log.logf})
	addr, err := srv.Listen("127.0.0.1:0", live.ListenOptions{Token: "s3cret", AuthTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Listen("127.0.0.1:0", live.ListenOptions{Token: "two\nlines"}); err == nil {
		t.Error("a token with a newline was accepted")
	}
	refused := func(token string) <-chan []byte {
		c, err := live.DialToken(context.Background(), addr, token)
		if err != nil {
			t.Fatal(err)
		}
		out := make(chan []byte, 1)
		go func() {
			defer c.Close()
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			b, _ := io.ReadAll(c)
			out <- b
		}()
		return out
	}
	none, wrong := refused(""), refused("guess")
	c, err := live.DialToken(context.Background(), addr, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	okData := make(chan []byte, 1)
	go func() {
		defer c.Close()
		b, _ := io.ReadAll(c)
		okData <- b
	}()
	if err := srv.WaitSubscribers(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Write(ts.data); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	for name, ch := range map[string]<-chan []byte{"no token": none, "wrong token": wrong} {
		select {
		case b := <-ch:
			if len(b) != 0 {
				t.Errorf("%s: got %d bytes, want none", name, len(b))
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%s: connection not closed", name)
		}
	}
	res := readAll(t, <-okData)
	if len(res.IDs) != len(ts.res.IDs) || res.Trailer == nil {
		t.Errorf("subscriber with the token got %d of %d spikes", len(res.IDs), len(ts.res.IDs))
	}
	if st := srv.Stats(); st.Joined != 1 {
		t.Errorf("%d subscribers joined, want 1 (the refused ones are not subscribers)", st.Joined)
	}
	if !log.has("no valid token") {
		t.Errorf("no log line names the refusal: %q", log.lines)
	}
}

// TestPendingAuthBound: of more than MaxPendingAuth connections that
// connect to a listener with a token and send nothing, all but
// MaxPendingAuth are hung up on at once, long before their AuthTimeout,
// and the others are held; a client with the token still joins while they
// hold every slot and gets the whole stream, and a subscriber that joined
// before the flood is not touched by it.
func TestPendingAuthBound(t *testing.T) {
	ts := makeStream(t, 13, 5, 0.01)
	var log logRecorder
	srv := live.New(live.Options{Logf: log.logf})
	defer srv.Abort()
	// A long AuthTimeout: only the bound can hang up on the idle
	// connections while the test runs.
	addr, err := srv.Listen("127.0.0.1:0", live.ListenOptions{Token: "s3cret", AuthTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	early := subscribeToken(t, addr, "s3cret")
	if err := srv.WaitSubscribers(context.Background(), 1); err != nil {
		t.Fatal(err)
	}

	const excess = 16
	idle := make([]net.Conn, live.MaxPendingAuth+excess)
	for i := range idle {
		c, err := live.Dial(context.Background(), addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle[i] = c
	}
	flooded := time.Now()
	for srv.Stats().Refused < excess {
		if time.Since(flooded) > 10*time.Second {
			t.Fatalf("%d of %d idle connections refused after 10 s, want %d", srv.Stats().Refused, len(idle), excess)
		}
		time.Sleep(2 * time.Millisecond)
	}
	refusedIn := time.Since(flooded)
	// (a) The excess are closed (the server's end sends EOF before it
	// counts the refusal); the other MaxPendingAuth are still open.
	const probe = 2 * time.Second
	closed := make(chan bool, len(idle))
	for _, c := range idle {
		go func() {
			c.SetReadDeadline(time.Now().Add(probe))
			n, err := c.Read(make([]byte, 1))
			if n > 0 {
				t.Errorf("an idle connection was sent %d bytes", n)
			}
			closed <- !errors.Is(err, os.ErrDeadlineExceeded)
		}()
	}
	nClosed := 0
	for range idle {
		if <-closed {
			nClosed++
		}
	}
	if nClosed != excess {
		t.Errorf("%d of %d idle connections were hung up on within %v of the refusals, want %d (MaxPendingAuth = %d held)", nClosed, len(idle), probe, excess, live.MaxPendingAuth)
	}
	t.Logf("%d idle connections: %d hung up on, within %v of the last one's connecting; %d held", len(idle), nClosed, refusedIn, len(idle)-nClosed)

	// (b) A client with the token joins while the idle connections hold
	// every slot: the longest-waiting one makes room for it.
	late := subscribeToken(t, addr, "s3cret")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.WaitSubscribers(ctx, 2); err != nil {
		t.Fatalf("the client with the token was kept out by %d connections presenting nothing: %v", live.MaxPendingAuth, err)
	}
	if _, err := srv.Write(ts.data); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	expectWhole(t, ts.data, map[string]*reader{"from before the flood": early, "during the flood": late})
	if st := srv.Stats(); st.Joined != 2 || st.Refused != excess+1 {
		t.Errorf("stats %+v; want 2 joined and %d refused (the excess, and one to make room)", st, excess+1)
	}
	if !log.has(fmt.Sprintf("needed its place among the %d", live.MaxPendingAuth)) {
		t.Errorf("no log line names the refusals: %q", log.lines)
	}
}

// TestIsLoopback: which listening addresses stay on this machine.
func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:7000": true, "tcp://[::1]:7000": true, "localhost:1": true, "unix:/tmp/x.sock": true,
		":7000": false, "0.0.0.0:7000": false, "192.168.1.5:7000": false, "tcp://example.org:1": false, "nonsense": false,
	} {
		if got := live.IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
