package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/encoding/protodelim"
)

// startServeSocket starts `myelin serve --socket` with args in the
// background; stop cancels it, done gets its exit code.
func startServeSocket(t *testing.T, args ...string) (sock string, stderr *syncBuffer, stop context.CancelFunc, done chan int) {
	t.Helper()
	sock = filepath.Join(t.TempDir(), "myelin.sock")
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	done = make(chan int, 1)
	stderr = &syncBuffer{}
	go func() {
		done <- dispatch(ctx, &env{stdout: &bytes.Buffer{}, stderr: stderr, stdin: strings.NewReader("")}, append([]string{"serve", "--socket", sock}, args...))
	}()
	return sock, stderr, cancel, done
}

// socketClient is one client of a serve socket; a read that waits 20 s
// fails the test instead of hanging it.
type socketClient struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

func dialServe(t *testing.T, sock string) *socketClient {
	t.Helper()
	for try := 0; try < 200; try++ {
		if conn, err := net.Dial("unix", sock); err == nil {
			t.Cleanup(func() { conn.Close() })
			return &socketClient{t: t, conn: conn, br: bufio.NewReader(conn)}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("dial %s: no server", sock)
	return nil
}

// read sends a read command with id (the engine answers "no network
// loaded").
func (c *socketClient) read(id uint64) {
	c.t.Helper()
	if _, err := protodelim.MarshalTo(c.conn, &myelinpb.Command{Id: id, Kind: &myelinpb.Command_Read{Read: &myelinpb.ReadCommand{}}}); err != nil {
		c.t.Fatal(err)
	}
}

// reply reads the next reply, or returns the read's error.
func (c *socketClient) reply() (*myelinpb.Reply, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	rep := &myelinpb.Reply{}
	err := protodelim.UnmarshalFrom(c.br, rep)
	return rep, err
}

// answered checks that the next reply answers read command id.
func (c *socketClient) answered(who string, id uint64) {
	c.t.Helper()
	rep, err := c.reply()
	if err != nil || rep.GetId() != id || !strings.HasPrefix(rep.GetError(), "read: no network loaded") {
		c.t.Fatalf("%s: reply %v, %v; want the answer to read %d", who, rep, err, id)
	}
}

// ended checks that the next reply is id 0 with an error holding want,
// and that the stream then ends (a reset, where the server closed the
// connection with commands of the client unread).
func (c *socketClient) ended(who, want string) {
	c.t.Helper()
	rep, err := c.reply()
	if err != nil || rep.GetId() != 0 || !strings.Contains(rep.GetError(), want) {
		c.t.Errorf("%s: reply %v, %v; want id 0 and an error holding %q", who, rep, err, want)
		return
	}
	if _, err := c.br.ReadByte(); !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		c.t.Errorf("%s: after the reply: %v, want EOF", who, err)
	}
}

// A --socket client that connects and then idles keeps its engine while
// nobody waits (here past twice --client-idle, once alone and once behind
// a client that connected and hung up), and is dropped once
// another client waits and it has sent nothing for --client-idle: it reads
// a reply saying why, stderr says so, and the waiting client is served.
// Before, the waiting client waited for ever without a word.
func TestServeSocketClientIdle(t *testing.T) {
	sock, stderr, stop, done := startServeSocket(t, "--client-idle", "300ms")
	a := dialServe(t, sock)
	a.read(1)
	a.answered("A", 1)
	time.Sleep(600 * time.Millisecond) // idle, with nobody waiting
	a.read(2)
	a.answered("A after idling alone", 2)
	gone := dialServe(t, sock) // waits, then hangs up: it does not count
	gone.conn.Close()
	time.Sleep(600 * time.Millisecond)
	a.read(3)
	a.answered("A after idling while a client that hung up was queued", 3)
	b := dialServe(t, sock)
	t0 := time.Now()
	b.read(9)
	b.answered("B, waiting behind the idle A", 9)
	t.Logf("B was served %v after it connected", time.Since(t0))
	a.ended("A", "session ended: no command for 300ms while another client waited; the engine and its network were closed")
	if log := stderr.String(); !strings.Contains(log, "myelin serve: client dropped: session ended: no command for 300ms while another client waited") {
		t.Errorf("stderr does not say why A was dropped:\n%s", log)
	}
	stop()
	awaitServeExit(t, done, stderr)
}

// Waiting --socket clients are served in the order they connected, one
// that hangs up before its turn is skipped, at most 64 wait (the 65th is
// refused at once with a reply saying why, and a line on stderr), and
// those still waiting when serve is interrupted are told and closed.
func TestServeSocketWaitQueue(t *testing.T) {
	sock, stderr, stop, done := startServeSocket(t, "--client-idle", "1h")
	a := dialServe(t, sock)
	a.read(1)
	a.answered("A", 1)
	var waiters []*socketClient
	for i := range maxWaiting {
		w := dialServe(t, sock)
		if i > 0 {
			w.read(uint64(100 + i))
		}
		waiters = append(waiters, w)
	}
	extra := dialServe(t, sock)
	extra.ended("the client after 64 waiting", fmt.Sprintf("myelin serve: %d clients already wait for the engine; connection refused, try again later", maxWaiting))
	// The line comes after the reply: wait for it (10 s at most).
	const refused = "myelin serve: 1 client(s) refused since the last such line: 64 already wait for their turn\n"
	for try := 0; try < 1000 && !strings.Contains(stderr.String(), refused); try++ {
		time.Sleep(10 * time.Millisecond)
	}
	if log := stderr.String(); !strings.Contains(log, refused) {
		t.Errorf("stderr does not tell of the refused client:\n%s", log)
	}
	// The first waiter hangs up; then A leaves. The second is served next
	// (it holds the engine until serve stops: were any other served
	// before it, it would never be).
	waiters[0].conn.Close()
	a.conn.Close()
	waiters[1].answered("the second waiter", 101)
	stop()
	waiters[2].ended("the third waiter", "myelin serve stopped before this client's turn")
	waiters[maxWaiting-1].ended("the last waiter", "myelin serve stopped before this client's turn")
	if _, err := waiters[1].reply(); !errors.Is(err, io.EOF) {
		t.Errorf("the client being served, after the interrupt: %v, want EOF", err)
	}
	awaitServeExit(t, done, stderr)
}

// Clients that connected and hung up while waiting give their places to a
// newcomer: 64 of them fill the queue behind A, yet the next client is
// queued, not refused, and served once A leaves.
func TestServeSocketDeadWaitersMakeRoom(t *testing.T) {
	sock, stderr, stop, done := startServeSocket(t, "--client-idle", "1h")
	a := dialServe(t, sock)
	a.read(1)
	a.answered("A", 1)
	for range maxWaiting {
		dialServe(t, sock).conn.Close()
	}
	c := dialServe(t, sock)
	c.read(7)
	a.conn.Close()
	c.answered("the client after 64 that hung up", 7)
	if log := stderr.String(); strings.Contains(log, "refused") {
		t.Errorf("a client was refused:\n%s", log)
	}
	stop()
	awaitServeExit(t, done, stderr)
}

// refusalLog says the first refusal at once and the ones after it within
// the interval in one line at its end: none goes unsaid.
func TestRefusalLog(t *testing.T) {
	var out syncBuffer
	l := &refusalLog{w: &out, every: 100 * time.Millisecond}
	l.add()
	if got := out.String(); got != "myelin serve: 1 client(s) refused since the last such line: 64 already wait for their turn\n" {
		t.Errorf("after the first refusal: %q", got)
	}
	l.add()
	l.add()
	if strings.Count(out.String(), "\n") != 1 {
		t.Errorf("a second line within the interval: %q", out.String())
	}
	for try := 0; try < 300 && strings.Count(out.String(), "\n") < 2; try++ {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.HasSuffix(out.String(), "myelin serve: 2 client(s) refused since the last such line: 64 already wait for their turn\n") {
		t.Errorf("the refusals within the interval: %q", out.String())
	}
	l.add()
	l.stop()
	if !strings.HasSuffix(out.String(), ": 1 client(s) refused since the last such line: 64 already wait for their turn\n") || strings.Count(out.String(), "\n") != 3 {
		t.Errorf("stop does not say what is left: %q", out.String())
	}
}

// Once stopped, refusalLog writes nothing more, even for a refusal counted
// just after (the accepting goroutine may still be refusing one).
func TestRefusalLogStopped(t *testing.T) {
	var out syncBuffer
	l := &refusalLog{w: &out, every: 50 * time.Millisecond}
	l.add()
	l.stop()
	l.add()
	time.Sleep(120 * time.Millisecond)
	if n := strings.Count(out.String(), "\n"); n != 1 {
		t.Errorf("%d lines after stop, want the one before it: %q", n, out.String())
	}
}
