package serve_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/serve"
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/proto"
)

// probed is a network whose runs record 4,000 bytes of samples a step: a
// run of 200 ms makes a reply of 8 MB, far more than a socket buffers.
func probed(t *testing.T) []byte {
	t.Helper()
	m := &myelinpb.IafPscExp{TauM: proto.Float64(20)}
	s, err := spec.New("probed").Dt(0.1).Duration(1).Seed(1).
		Population("E", 1000, spec.IafPscExp(m)).
		Probe("E", 0, 1000, 1).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	b, err := proto.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// serveSocket serves one client of a Unix socket with ServeWith and
// opts, and returns the client's connection and Serve's result.
func serveSocket(t *testing.T, opts serve.Options) (net.Conn, chan error) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "s")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	done := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer conn.Close()
		done <- serve.ServeWith(context.Background(), conn, conn, opts)
	}()
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, done
}

func send(t *testing.T, w io.Writer, cmds ...*myelinpb.Command) {
	t.Helper()
	for i, c := range cmds {
		c.Id = uint64(i + 1)
		if _, err := protodelim.MarshalTo(w, c); err != nil {
			t.Fatal(err)
		}
	}
}

// A socket client that sends a run and never reads its reply is dropped
// once it has taken no byte for the stall timeout (before: the engine's
// write blocked forever, and every other client waited with it); the
// error says why.
func TestReplyStall(t *testing.T) {
	const stall = 300 * time.Millisecond
	conn, done := serveSocket(t, serve.Options{ReplyStall: stall})
	send(t, conn,
		&myelinpb.Command{Kind: &myelinpb.Command_Load{Load: &myelinpb.LoadCommand{Spec: probed(t), Threads: 1}}},
		&myelinpb.Command{Kind: &myelinpb.Command_Run{Run: &myelinpb.RunCommand{DurationMs: 200, Read: true}}})
	t0 := time.Now()
	select {
	case err := <-done:
		if !errors.Is(err, serve.ErrReplyStalled) || !strings.Contains(err.Error(), "reply to command 2 (") ||
			!strings.Contains(err.Error(), "for 300ms; the client was dropped") {
			t.Errorf("serve returned %v, want the reply to command 2 stalled", err)
		}
		// The load, the run and twice the timeout at most.
		if d := time.Since(t0); d < stall {
			t.Errorf("dropped %v after the commands, before the stall timeout", d)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve still waits on a client that does not read")
	}
}

// A client that reads a long reply slowly, but never stops for the stall
// timeout, gets it whole: progress resets the timeout, which bounds each
// chunk, not the reply.
func TestReplyStallSlowReader(t *testing.T) {
	const stall = 400 * time.Millisecond
	conn, done := serveSocket(t, serve.Options{ReplyStall: stall})
	send(t, conn,
		&myelinpb.Command{Kind: &myelinpb.Command_Load{Load: &myelinpb.LoadCommand{Spec: probed(t), Threads: 1}}},
		&myelinpb.Command{Kind: &myelinpb.Command_Run{Run: &myelinpb.RunCommand{DurationMs: 50, Read: true}}},
		&myelinpb.Command{Kind: &myelinpb.Command_Close{Close: &myelinpb.CloseCommand{}}})
	// 2 MB at 128 KiB every 100 ms: about 1.6 s, four times the timeout.
	slow := &slowReader{r: conn, chunk: 128 << 10, pause: 100 * time.Millisecond}
	br := bufio.NewReaderSize(slow, 1<<10)
	t0 := time.Now()
	var reps []*myelinpb.Reply
	for range 3 {
		rep := &myelinpb.Reply{}
		if err := (protodelim.UnmarshalOptions{MaxSize: -1}).UnmarshalFrom(br, rep); err != nil {
			t.Fatalf("reply %d: %v", len(reps)+1, err)
		}
		reps = append(reps, rep)
	}
	if d := time.Since(t0); d < 2*stall {
		t.Errorf("the replies took %v; the test needs a reader slower than twice the stall timeout", d)
	}
	if s := reps[1].GetRan().GetData().GetSamples(); len(s) != 1 || s[0].GetNumSamples() != 500 || len(s[0].GetValues()) != 500*1000 {
		t.Errorf("the slow reader's run reply: %v, %v", reps[1].GetError(), len(s))
	}
	if reps[2].GetDone() == nil {
		t.Errorf("close: %v", reps[2])
	}
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}

// slowReader reads at most chunk bytes, then pauses, again and again.
type slowReader struct {
	r     io.Reader
	chunk int
	pause time.Duration
	left  int
}

func (s *slowReader) Read(p []byte) (int, error) {
	if s.left == 0 {
		time.Sleep(s.pause)
		s.left = s.chunk
	}
	n, err := s.r.Read(p[:min(len(p), s.left)])
	s.left -= n
	return n, err
}
