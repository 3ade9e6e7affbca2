package serve_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/serve"
	"github.com/myelin-sim/myelin/internal/memtest"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/proto"
)

// client drives Serve over a pair of pipes.
type client struct {
	t    *testing.T
	in   *io.PipeWriter
	rr   *io.PipeReader
	out  *bufio.Reader
	done chan error
	id   uint64
}

func startServe(t *testing.T) *client {
	cr, cw := io.Pipe()
	rr, rw := io.Pipe()
	c := &client{t: t, in: cw, rr: rr, out: bufio.NewReader(rr), done: make(chan error, 1)}
	go func() {
		err := serve.Serve(context.Background(), cr, rw, nil)
		rw.Close()
		c.done <- err
	}()
	return c
}

func (c *client) call(cmd *myelinpb.Command) *myelinpb.Reply {
	c.t.Helper()
	c.id++
	cmd.Id = c.id
	if _, err := protodelim.MarshalTo(c.in, cmd); err != nil {
		c.t.Fatal(err)
	}
	rep := &myelinpb.Reply{}
	if err := protodelim.UnmarshalFrom(c.out, rep); err != nil {
		c.t.Fatal(err)
	}
	if rep.GetId() != c.id {
		c.t.Fatalf("reply id %d, want %d", rep.GetId(), c.id)
	}
	return rep
}

func (c *client) wait() error {
	c.t.Helper()
	select {
	case err := <-c.done:
		return err
	case <-time.After(10 * time.Second):
		c.t.Fatal("serve did not end")
		return nil
	}
}

func TestProtocol(t *testing.T) {
	c := startServe(t)
	spec, err := proto.Marshal(recurrent(t, 100))
	if err != nil {
		t.Fatal(err)
	}
	rep := c.call(&myelinpb.Command{Kind: &myelinpb.Command_Run{Run: &myelinpb.RunCommand{DurationMs: 1}}})
	if !strings.HasPrefix(rep.GetError(), "run: ") {
		t.Errorf("run before load: error %q, want one starting with the command", rep.GetError())
	}
	rep = c.call(&myelinpb.Command{Kind: &myelinpb.Command_Load{Load: &myelinpb.LoadCommand{Spec: spec, Threads: 1}}})
	if rep.GetError() != "" {
		t.Fatal(rep.GetError())
	}
	l := rep.GetLoaded()
	if len(l.GetPopulations()) != 2 || l.GetPopulations()[1].GetFirstId() != 80 || l.GetDtMs() != 0.1 || len(l.GetStateSeries()) != 1 {
		t.Errorf("loaded: %v", l)
	}
	if init := l.GetStateSeries()[0].GetInitial(); len(init) != 3 || init[0] < -70 || init[0] > -56 || init[0] == init[1] {
		t.Errorf("initial values of the probed neurons %v, want 3 draws from U(-70, -56)", init)
	}
	if c := l.GetProjectionSynapses(); len(c) != 3 || c[0] != 20*10 || c[1] != 80*5 || c[2] == 0 || c[2] > 80*80 {
		t.Errorf("projection synapses %v, want [200 400 ~640]", c)
	}
	rep = c.call(&myelinpb.Command{Kind: &myelinpb.Command_Run{Run: &myelinpb.RunCommand{DurationMs: 30}}})
	if rep.GetRan().GetStep() != 300 || rep.GetRan().GetTimeMs() != 30 {
		t.Errorf("ran: %v %s", rep.GetRan(), rep.GetError())
	}
	var spikes uint64
	for _, n := range rep.GetRan().GetPopulationSpikes() {
		spikes += n
	}
	rep = c.call(&myelinpb.Command{Kind: &myelinpb.Command_Read{Read: &myelinpb.ReadCommand{}}})
	d := rep.GetData()
	// run with read: the same data in one reply; a second read finds nothing new.
	rr := c.call(&myelinpb.Command{Kind: &myelinpb.Command_Run{Run: &myelinpb.RunCommand{DurationMs: 5, Read: true}}})
	if got := rr.GetRan().GetData(); got.GetFirstStep() != 300 || got.GetEndStep() != 350 {
		t.Errorf("run with read: data of steps [%d, %d), want [300, 350)", got.GetFirstStep(), got.GetEndStep())
	}
	if again := c.call(&myelinpb.Command{Kind: &myelinpb.Command_Read{Read: &myelinpb.ReadCommand{}}}).GetData(); again.GetFirstStep() != 350 || len(again.GetSpikeIds()) != 0 {
		t.Errorf("read after run with read: %v", again)
	}
	if uint64(len(d.GetSpikeIds())) != spikes || spikes == 0 || d.GetEndStep() != 300 {
		t.Errorf("read %d spikes to step %d; the run counted %d", len(d.GetSpikeIds()), d.GetEndStep(), spikes)
	}
	if s := d.GetSamples(); len(s) != 1 || s[0].GetNumSamples() != 43 || len(s[0].GetValues()) != 3*43 {
		t.Errorf("samples: %v", s)
	}
	// Errors name command and field; the session goes on.
	rep = c.call(&myelinpb.Command{Kind: &myelinpb.Command_SetParams{SetParams: &myelinpb.SetParamsCommand{Population: "E", Values: map[string]float64{"tau_m": 0}}}})
	if !strings.HasPrefix(rep.GetError(), "set_params: ") || !strings.Contains(rep.GetError(), "tau_m") {
		t.Errorf("set_params tau_m = 0: %q", rep.GetError())
	}
	rep = c.call(&myelinpb.Command{})
	if !strings.Contains(rep.GetError(), "kind") {
		t.Errorf("empty command: %q", rep.GetError())
	}
	rep = c.call(&myelinpb.Command{Kind: &myelinpb.Command_Load{Load: &myelinpb.LoadCommand{SpecText: "populations { name: \"A\" size: -3 }"}}})
	if !strings.HasPrefix(rep.GetError(), "load: ") {
		t.Errorf("bad spec text: %q", rep.GetError())
	}
	rep = c.call(&myelinpb.Command{Kind: &myelinpb.Command_Reset_{Reset_: &myelinpb.ResetCommand{}}})
	if rep.GetError() != "" || rep.GetDone().GetStep() != 0 {
		t.Errorf("reset: %v", rep)
	}
	rep = c.call(&myelinpb.Command{Kind: &myelinpb.Command_Load{Load: &myelinpb.LoadCommand{SpecText: "cuba"}}})
	if rep.GetError() != "" || rep.GetLoaded().GetNeurons() != 4000 {
		t.Errorf("load built-in cuba: %v", rep)
	}
	rep = c.call(&myelinpb.Command{Kind: &myelinpb.Command_Close{Close: &myelinpb.CloseCommand{}}})
	if rep.GetDone() == nil {
		t.Errorf("close: %v", rep)
	}
	if err := c.wait(); err != nil {
		t.Errorf("serve after close: %v", err)
	}
}

// A client that vanishes, even mid-message, ends the session cleanly.
func TestVanishedClient(t *testing.T) {
	c := startServe(t)
	c.call(&myelinpb.Command{Kind: &myelinpb.Command_Read{Read: &myelinpb.ReadCommand{}}})
	c.in.Write([]byte{0x20, 0x08}) // a frame of 32 bytes, cut short
	c.in.Close()
	if err := c.wait(); err != nil {
		t.Errorf("serve after the client vanished: %v", err)
	}
	// A client that stops reading replies: the write fails, serve ends.
	c = startServe(t)
	c.call(&myelinpb.Command{Kind: &myelinpb.Command_Read{Read: &myelinpb.ReadCommand{}}})
	go protodelim.MarshalTo(c.in, &myelinpb.Command{Kind: &myelinpb.Command_Read{Read: &myelinpb.ReadCommand{}}})
	c.rr.Close()
	if err := c.wait(); err != nil {
		t.Errorf("serve after the reader vanished: %v", err)
	}
}

// A command that cannot be framed or decoded is answered with an error
// naming the command's number and the byte it starts at (before: a bare
// "proto: : message size ... exceeded unmarshaler's maximum configured
// size"), and ends the session.
func TestCommandStreamErrors(t *testing.T) {
	read, err := protodelim.MarshalTo(io.Discard, &myelinpb.Command{Id: 1, Kind: &myelinpb.Command_Read{Read: &myelinpb.ReadCommand{}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		frame []byte
		want  string
	}{
		{"length 2^63", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, "its length prefix says 9223372036854775808 bytes, more than the 1073741824 (1 GiB) a command may hold"},
		{"length over 64 bits", bytes.Repeat([]byte{0xff}, 11), "variable length integer overflow"},
		{"not a Command", []byte{3, 0xff, 0xff, 0xff}, "not a length-delimited myelin.v1.Command"},
	} {
		cl := startServe(t)
		cl.call(&myelinpb.Command{Kind: &myelinpb.Command_Read{Read: &myelinpb.ReadCommand{}}})
		go cl.in.Write(c.frame)
		rep := &myelinpb.Reply{}
		if err := protodelim.UnmarshalFrom(cl.out, rep); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		want := fmt.Sprintf("command stream: command 2 at byte %d: ", read)
		if !strings.HasPrefix(rep.GetError(), want) || !strings.Contains(rep.GetError(), c.want) {
			t.Errorf("%s: reply %q, want %q…%q", c.name, rep.GetError(), want, c.want)
		}
		if err := cl.wait(); err == nil || !strings.Contains(err.Error(), "command 2") {
			t.Errorf("%s: serve returned %v", c.name, err)
		}
	}
}

// A socket client that leaves with replies unread (its side is reset)
// ends the session cleanly, as one that closes its input does (before:
// "command stream: read: connection reset by peer", logged as an error).
func TestResetClient(t *testing.T) {
	conn, done := serveSocket(t, serve.Options{})
	if _, err := protodelim.MarshalTo(conn, &myelinpb.Command{Id: 1, Kind: &myelinpb.Command_Read{Read: &myelinpb.ReadCommand{}}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the reply arrives, unread
	conn.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve after the client reset its side: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not end")
	}
}

// A length prefix that claims almost 1 GiB, followed by a few bytes and
// the end of the stream, costs at most the 64 MiB set aside before the
// bytes come, not what it claims (before, the framing set aside the whole
// gigabyte at once).
func TestCommandPrefixAllocationBounded(t *testing.T) {
	frame := append(binary.AppendUvarint(nil, serve.MaxCommandBytes-1), "only a few bytes"...)
	var err error
	got := memtest.Allocated(func() {
		err = serve.Serve(context.Background(), bytes.NewReader(frame), io.Discard, nil)
	})
	if err != nil {
		t.Errorf("serve: %v, want nil (the client went away inside a command)", err)
	}
	if got > 72<<20 {
		t.Errorf("a prefix of %d bytes and %d bytes of body allocated %d bytes, want at most about 64 MiB", serve.MaxCommandBytes-1, len(frame), got)
	}
}
