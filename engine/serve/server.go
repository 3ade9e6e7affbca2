package serve

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"time"

	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/proto"
)

// MaxCommandBytes caps one command message (a spec with long explicit
// connection lists is the largest).
const MaxCommandBytes = 1 << 30

// InterruptGrace bounds how long Serve, once its context is cancelled,
// waits for a client to take a reply.
const InterruptGrace = 2 * time.Second

// Serve answers the commands read from r with replies written to w, one
// Reply per Command, until r ends, a Close command arrives, w fails (the
// client is gone) or ctx is cancelled. Those all end the session cleanly
// (nil); only a command stream that cannot be framed any more is an error.
// The engine's network is closed on return.
//
// Cancelling ctx also cuts short the command in progress: a run stops at
// its next block of steps and is answered with the state reached (and the
// data, if it asked to read) together with an error "run: interrupted at
// step ..."; a load stops building. That reply is written (within
// InterruptGrace) before Serve returns. A client that does not take a reply
// within InterruptGrace of the cancellation is given up on: Serve returns,
// leaving that write to end when w is closed or the process exits.
func Serve(ctx context.Context, r io.Reader, w io.Writer, factory BackendFactory) error {
	e := New(factory)
	defer e.Close()
	cmds := make(chan *myelinpb.Command)
	readErr := make(chan error, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		cr := &countingReader{r: r}
		br := bufio.NewReaderSize(cr, 1<<16)
		for n := 1; ; n++ {
			c := &myelinpb.Command{}
			at := cr.n - int64(br.Buffered())
			err := protodelim.UnmarshalOptions{MaxSize: MaxCommandBytes}.UnmarshalFrom(br, c)
			if err != nil {
				readErr <- frameError(n, at, err)
				return
			}
			select {
			case cmds <- c:
			case <-stop:
				return
			}
		}
	}()
	bw := bufio.NewWriterSize(w, 1<<16)
	for {
		var c *myelinpb.Command
		select {
		case <-ctx.Done():
			return nil
		case err := <-readErr:
			if clientGone(err) {
				return nil
			}
			// A malformed frame: say so, then stop (the framing is lost).
			_ = sendReply(ctx, w, bw, &myelinpb.Reply{Error: fmt.Sprintf("command stream: %v", err)})
			return fmt.Errorf("command stream: %w", err)
		case c = <-cmds:
		}
		rep, closing := e.safeHandle(ctx, c)
		rep.Id = c.GetId()
		if err := sendReply(ctx, w, bw, rep); err != nil {
			return nil // the client is gone, or interrupted and not reading
		}
		if closing || ctx.Err() != nil {
			return nil
		}
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += int64(k)
	return k, err
}

// clientGone reports a read error that means the client went away: the
// end of its input, even inside a command, or a socket it closed without
// reading all that it was sent (ECONNRESET).
func clientGone(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

// frameError says which command, the n-th (from 1), starting at byte at of
// the command stream, could not be read. An error of clientGone is
// returned as it is.
func frameError(n int, at int64, err error) error {
	if clientGone(err) {
		return err
	}
	var big *protodelim.SizeTooLargeError
	if errors.As(err, &big) {
		return fmt.Errorf("command %d at byte %d: its length prefix says %d bytes, more than the %d (1 GiB) a command may hold", n, at, big.Size, MaxCommandBytes)
	}
	if errors.Is(err, proto.Error) {
		return fmt.Errorf("command %d at byte %d: not a length-delimited myelin.v1.Command: %w", n, at, err)
	}
	return fmt.Errorf("command %d at byte %d: %w", n, at, err)
}

// errNotTaken: the client did not take a reply within InterruptGrace of an
// interrupt.
var errNotTaken = errors.New("interrupted, and the client did not take the reply")

// sendReply writes rep through bw (which writes to w) and waits for the
// write to end, or, once ctx is cancelled, for at most InterruptGrace: an
// interrupt must not wait on a client that does not read. The write is
// then left to fail when w is closed (or its deadline, set where w has
// one, passes).
func sendReply(ctx context.Context, w io.Writer, bw *bufio.Writer, rep *myelinpb.Reply) error {
	done := make(chan error, 1)
	go func() { done <- writeReply(bw, rep) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	if d, ok := w.(interface{ SetWriteDeadline(time.Time) error }); ok {
		_ = d.SetWriteDeadline(time.Now().Add(InterruptGrace))
	}
	select {
	case err := <-done:
		return err
	case <-time.After(InterruptGrace):
		return errNotTaken
	}
}

func writeReply(bw *bufio.Writer, rep *myelinpb.Reply) error {
	if _, err := protodelim.MarshalTo(bw, rep); err != nil {
		return err
	}
	return bw.Flush()
}

// safeHandle is handle that turns a panic on this goroutine into an error
// reply and unloads the network, whose state is then unknown.
func (e *Engine) safeHandle(ctx context.Context, c *myelinpb.Command) (rep *myelinpb.Reply, closing bool) {
	defer func() {
		if r := recover(); r != nil {
			e.Close()
			rep, closing = &myelinpb.Reply{Error: fmt.Sprintf("command: internal error: %v (the network was unloaded; load it again)", r)}, false
		}
	}()
	return e.handle(ctx, c)
}

// handle runs one command; closing reports a Close command. Cancelling ctx
// cuts a load or a run short.
func (e *Engine) handle(ctx context.Context, c *myelinpb.Command) (rep *myelinpb.Reply, closing bool) {
	fail := func(cmd string, err error) *myelinpb.Reply {
		return &myelinpb.Reply{Error: cmd + ": " + err.Error()}
	}
	switch k := c.GetKind().(type) {
	case *myelinpb.Command_Load:
		s, err := parseSpec(k.Load)
		// The encoded spec (up to MaxCommandBytes) is not needed any more:
		// let it go before the build.
		k.Load.Spec = nil
		if err != nil {
			return fail("load", err), false
		}
		info, err := e.LoadContext(ctx, s, k.Load.GetBackend(), int(k.Load.GetThreads()))
		if err != nil {
			return fail("load", err), false
		}
		return &myelinpb.Reply{Kind: &myelinpb.Reply_Loaded{Loaded: info}}, false
	case *myelinpb.Command_Run:
		ran, err := e.RunContext(ctx, k.Run.GetDurationMs())
		if ran == nil {
			return fail("run", err), false
		}
		// An interrupted run still reports the state it reached and, when
		// asked, its data, beside the error that says it was cut short.
		rep := &myelinpb.Reply{Kind: &myelinpb.Reply_Ran{Ran: ran}}
		if err != nil {
			// Only a cancelled ctx cuts a run short, and Serve then stops.
			rep.Error = "run: " + err.Error() + " (this reply holds it), and the engine stops"
			ran.Interrupted = true
		}
		if k.Run.GetRead() {
			d, rerr := e.Read()
			if rerr != nil {
				return fail("run", rerr), false
			}
			ran.Data = d
		}
		return rep, false
	case *myelinpb.Command_Read:
		d, err := e.Read()
		if err != nil {
			return fail("read", err), false
		}
		return &myelinpb.Reply{Kind: &myelinpb.Reply_Data{Data: d}}, false
	case *myelinpb.Command_SetParams:
		if err := e.SetParams(k.SetParams.GetPopulation(), k.SetParams.GetValues()); err != nil {
			return fail("set_params", err), false
		}
	case *myelinpb.Command_SetInput:
		if err := e.SetInput(k.SetInput.GetInput(), k.SetInput.RateHz, k.SetInput.Amplitude); err != nil {
			return fail("set_input", err), false
		}
	case *myelinpb.Command_Reset_:
		if err := e.Reset(); err != nil {
			return fail("reset", err), false
		}
	case *myelinpb.Command_Close:
		e.Close()
		return &myelinpb.Reply{Kind: &myelinpb.Reply_Done{Done: &myelinpb.Done{}}}, true
	default:
		return &myelinpb.Reply{Error: "command: kind: not set (want load, run, read, set_params, set_input, reset or close)"}, false
	}
	return &myelinpb.Reply{Kind: &myelinpb.Reply_Done{Done: &myelinpb.Done{Step: e.step}}}, false
}

// parseSpec decodes the network of a load command.
func parseSpec(l *myelinpb.LoadCommand) (*myelinpb.Network, error) {
	switch {
	case len(l.GetSpec()) > 0 && l.GetSpecText() != "":
		return nil, errors.New("spec, spec_text: set only one")
	case len(l.GetSpec()) > 0:
		n := &myelinpb.Network{}
		if err := proto.Unmarshal(l.GetSpec(), n); err != nil {
			return nil, fmt.Errorf("spec: not a serialized myelin.v1.Network: %w", err)
		}
		return n, nil
	case l.GetSpecText() == "":
		return nil, errors.New("spec, spec_text: both empty")
	}
	text := l.GetSpecText()
	if m, err := models.Lookup(strings.TrimSpace(text)); err == nil {
		n, err := m.Build(nil)
		if err != nil {
			return nil, fmt.Errorf("spec_text: model %s: %w", m.Name, err)
		}
		return n, nil
	}
	enc := spec.Textproto
	if strings.HasPrefix(strings.TrimSpace(text), "{") {
		enc = spec.JSON
	}
	n, err := spec.ParseNamed("spec_text", []byte(text), enc)
	if err != nil {
		return nil, err
	}
	return n, nil
}
