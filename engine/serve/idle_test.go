package serve_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/serve"
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/proto"
)

// contention is an Options.Contended that answers what the test sets and
// counts the times it was asked.
type contention struct {
	waits atomic.Bool
	asked chan struct{} // a token each time it is asked
}

func newContention(waits bool) *contention {
	c := &contention{asked: make(chan struct{}, 100)}
	c.waits.Store(waits)
	return c
}

func (c *contention) contended() bool {
	select {
	case c.asked <- struct{}{}:
	default:
	}
	return c.waits.Load()
}

// awaitAsked waits until Contended has been asked n times (the client was
// idle past ClientIdle for n looks), or fails the test after 20 s.
func (c *contention) awaitAsked(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		select {
		case <-c.asked:
		case <-time.After(20 * time.Second):
			t.Fatalf("Contended asked %d times in 20 s, want %d", i, n)
		}
	}
}

func readReply(t *testing.T, br *bufio.Reader) *myelinpb.Reply {
	t.Helper()
	rep := &myelinpb.Reply{}
	if err := protodelim.UnmarshalFrom(br, rep); err != nil {
		t.Fatalf("read a reply: %v", err)
	}
	return rep
}

// A client idle far past ClientIdle with nobody waiting keeps its engine:
// the session looks at Contended again and again (the test waits for three
// looks, each after ClientIdle of idling), and then answers the client's
// command as usual.
func TestClientIdleUncontended(t *testing.T) {
	c := newContention(false)
	conn, done := serveSocket(t, serve.Options{ClientIdle: 200 * time.Millisecond, Contended: c.contended})
	// A hang fails the test instead of stopping it.
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(conn)
	send(t, conn, &myelinpb.Command{Kind: &myelinpb.Command_Read{Read: &myelinpb.ReadCommand{}}})
	if rep := readReply(t, br); rep.GetId() != 1 || !strings.HasPrefix(rep.GetError(), "read: no network loaded") {
		t.Fatalf("first reply: %v", rep)
	}
	c.awaitAsked(t, 3)
	if _, err := protodelim.MarshalTo(conn, &myelinpb.Command{Id: 2, Kind: &myelinpb.Command_Close{Close: &myelinpb.CloseCommand{}}}); err != nil {
		t.Fatal(err)
	}
	if rep := readReply(t, br); rep.GetId() != 2 || rep.GetDone() == nil || rep.GetError() != "" {
		t.Errorf("reply to close after idling: %v, want done", rep)
	}
	if err := <-done; err != nil {
		t.Errorf("serve: %v, want nil", err)
	}
}

// A client idle for ClientIdle while another client waits is dropped: it
// reads one reply (id 0) saying why, then the end of the stream, and the
// session's error wraps ErrClientIdle. Before, it kept the engine for ever.
func TestClientIdleContended(t *testing.T) {
	const idle = 200 * time.Millisecond
	c := newContention(true)
	t0 := time.Now()
	conn, done := serveSocket(t, serve.Options{ClientIdle: idle, Contended: c.contended})
	// A hang fails the test instead of stopping it.
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(conn)
	rep := readReply(t, br)
	const want = "session ended: no command for 200ms while another client waited; the engine and its network were closed"
	if rep.GetId() != 0 || rep.GetError() != want {
		t.Errorf("the dropped client read %v, want id 0 and error %q", rep, want)
	}
	if d := time.Since(t0); d < idle {
		t.Errorf("dropped %v after connecting, before ClientIdle", d)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("after the reply: %v, want EOF", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, serve.ErrClientIdle) || err.Error() != want {
			t.Errorf("serve returned %v, want %q wrapping ErrClientIdle", err, want)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not return")
	}
}

// A client that keeps sending commands, each well within ClientIdle of the
// last reply, is not dropped however long the session lasts (here 3 s,
// three times ClientIdle), though another client waits all along.
func TestClientIdleBusyClient(t *testing.T) {
	const idle = time.Second
	c := newContention(true)
	conn, done := serveSocket(t, serve.Options{ClientIdle: idle, Contended: c.contended})
	// A hang fails the test instead of stopping it.
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(conn)
	t0 := time.Now()
	var id uint64
	for time.Since(t0) < 3*idle {
		id++
		if _, err := protodelim.MarshalTo(conn, &myelinpb.Command{Id: id, Kind: &myelinpb.Command_Read{Read: &myelinpb.ReadCommand{}}}); err != nil {
			t.Fatal(err)
		}
		if rep := readReply(t, br); rep.GetId() != id || !strings.HasPrefix(rep.GetError(), "read: no network loaded") {
			t.Fatalf("reply %d: %v", id, rep)
		}
		time.Sleep(idle / 20)
	}
	t.Logf("%d commands in %v", id, time.Since(t0))
	if _, err := protodelim.MarshalTo(conn, &myelinpb.Command{Id: id + 1, Kind: &myelinpb.Command_Close{Close: &myelinpb.CloseCommand{}}}); err != nil {
		t.Fatal(err)
	}
	if rep := readReply(t, br); rep.GetDone() == nil {
		t.Errorf("close: %v", rep)
	}
	if err := <-done; err != nil {
		t.Errorf("serve: %v, want nil", err)
	}
}

// A command trickled a byte at a time is idling, beyond the time its bytes
// would take at 1 MiB/s: with another client waiting, the client is
// dropped with the reply that says why, well before its command is whole
// (before, each byte reset the clock, so such a client held the engine for
// ever).
func TestClientIdleTrickledCommand(t *testing.T) {
	const idle = 300 * time.Millisecond
	c := newContention(true)
	conn, done := serveSocket(t, serve.Options{ClientIdle: idle, Contended: c.contended})
	// A hang fails the test instead of stopping it.
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(conn)
	// A length prefix of 1,000 bytes, then a byte every 50 ms: whole after
	// 50 s.
	t0 := time.Now()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		if _, err := conn.Write([]byte{0xe8, 0x07}); err != nil {
			return
		}
		for range 1000 {
			time.Sleep(idle / 6)
			if _, err := conn.Write([]byte{'x'}); err != nil {
				return
			}
		}
	}()
	rep := readReply(t, br)
	if !strings.Contains(rep.GetError(), "no command for 300ms while another client waited") {
		t.Errorf("reply %v, want the drop", rep)
	}
	if err := <-done; !errors.Is(err, serve.ErrClientIdle) {
		t.Errorf("serve: %v, want ErrClientIdle", err)
	}
	if d := time.Since(t0); d > 10*idle {
		t.Errorf("dropped after %v, want about %v", d, idle)
	}
	conn.Close()
	<-stopped
}

// A large command whose bytes arrive at a few MB/s, over longer than
// ClientIdle, is not cut off though another client waits: it earns its
// time.
func TestClientIdleLargeCommand(t *testing.T) {
	const idle = 200 * time.Millisecond
	c := newContention(true)
	conn, done := serveSocket(t, serve.Options{ClientIdle: idle, Contended: c.contended})
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(conn)
	var frame bytes.Buffer
	load := &myelinpb.Command{Id: 1, Kind: &myelinpb.Command_Load{Load: &myelinpb.LoadCommand{SpecText: "not a spec " + strings.Repeat("x", 3<<20)}}}
	if _, err := protodelim.MarshalTo(&frame, load); err != nil {
		t.Fatal(err)
	}
	// 48 pieces of 64 KiB, 10 ms apart: about 0.5 s, 6 MB/s.
	t0 := time.Now()
	b := frame.Bytes()
	for len(b) > 0 {
		k := min(len(b), 64<<10)
		if _, err := conn.Write(b[:k]); err != nil {
			t.Fatalf("write: %v (dropped after %v)", err, time.Since(t0))
		}
		b = b[k:]
		time.Sleep(10 * time.Millisecond)
	}
	if d := time.Since(t0); d < 2*idle {
		t.Fatalf("the command took %v to send; the test needs more than twice ClientIdle", d)
	}
	if rep := readReply(t, br); rep.GetId() != 1 || !strings.HasPrefix(rep.GetError(), "load: spec_text") {
		t.Errorf("reply to the large load: %v, want a load error", rep)
	}
	send(t, conn, &myelinpb.Command{Kind: &myelinpb.Command_Close{Close: &myelinpb.CloseCommand{}}})
	if rep := readReply(t, br); rep.GetDone() == nil {
		t.Errorf("close: %v", rep)
	}
	if err := <-done; err != nil {
		t.Errorf("serve: %v, want nil", err)
	}
}

// A command that runs longer than ClientIdle does not count as idling,
// nor does the time before it: the client that reads the run's reply and
// sends its next command soon after is answered, though another client
// waits all along.
func TestClientIdleLongRun(t *testing.T) {
	const idle = 100 * time.Millisecond
	c := newContention(true)
	conn, done := serveSocket(t, serve.Options{ClientIdle: idle, Contended: c.contended})
	// A hang fails the test instead of stopping it.
	_ = conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	br := bufio.NewReader(conn)
	s, err := spec.New("quiet").Dt(0.1).Duration(1).Seed(1).
		Population("E", 20000, spec.IafPscExp(&myelinpb.IafPscExp{TauM: proto.Float64(20)})).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	b, err := proto.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	send(t, conn,
		&myelinpb.Command{Kind: &myelinpb.Command_Load{Load: &myelinpb.LoadCommand{Spec: b, Threads: 1}}},
		&myelinpb.Command{Kind: &myelinpb.Command_Run{Run: &myelinpb.RunCommand{DurationMs: 10000}}})
	if rep := readReply(t, br); rep.GetLoaded() == nil {
		t.Fatalf("load: %v", rep)
	}
	t0 := time.Now()
	if rep := readReply(t, br); rep.GetRan().GetStep() != 100000 || rep.GetError() != "" {
		t.Fatalf("run: %v", rep)
	}
	if d := time.Since(t0); d < 2*idle {
		t.Fatalf("the run took %v; the test needs one longer than twice ClientIdle", d)
	}
	time.Sleep(idle / 4)
	if _, err := protodelim.MarshalTo(conn, &myelinpb.Command{Id: 3, Kind: &myelinpb.Command_Close{Close: &myelinpb.CloseCommand{}}}); err != nil {
		t.Fatal(err)
	}
	if rep := readReply(t, br); rep.GetId() != 3 || rep.GetDone() == nil {
		t.Errorf("close after the run: %v, want done", rep)
	}
	if err := <-done; err != nil {
		t.Errorf("serve: %v, want nil", err)
	}
}
