package serve

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/proto"
)

// MaxCommandBytes caps one command message (a spec with long explicit
// connection lists is the largest).
const MaxCommandBytes = 1 << 30

// Serve answers the commands read from r with replies written to w, one
// Reply per Command, until r ends, a Close command arrives, w fails (the
// client is gone) or ctx is cancelled. Those all end the session cleanly
// (nil); only a command stream that cannot be framed any more is an error.
// The engine's network is closed on return.
func Serve(ctx context.Context, r io.Reader, w io.Writer, factory BackendFactory) error {
	e := New(factory)
	defer e.Close()
	cmds := make(chan *myelinpb.Command)
	readErr := make(chan error, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		br := bufio.NewReaderSize(r, 1<<16)
		for {
			c := &myelinpb.Command{}
			err := protodelim.UnmarshalOptions{MaxSize: MaxCommandBytes}.UnmarshalFrom(br, c)
			if err != nil {
				readErr <- err
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
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil
			}
			// A malformed frame: say so, then stop (the framing is lost).
			writeReply(bw, &myelinpb.Reply{Error: fmt.Sprintf("command stream: %v", err)})
			return fmt.Errorf("command stream: %w", err)
		case c = <-cmds:
		}
		rep, closing := e.safeHandle(c)
		rep.Id = c.GetId()
		if err := writeReply(bw, rep); err != nil {
			return nil // the client is gone
		}
		if closing {
			return nil
		}
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
func (e *Engine) safeHandle(c *myelinpb.Command) (rep *myelinpb.Reply, closing bool) {
	defer func() {
		if r := recover(); r != nil {
			e.Close()
			rep, closing = &myelinpb.Reply{Error: fmt.Sprintf("command: internal error: %v (the network was unloaded; load it again)", r)}, false
		}
	}()
	return e.handle(c)
}

// handle runs one command; closing reports a Close command.
func (e *Engine) handle(c *myelinpb.Command) (rep *myelinpb.Reply, closing bool) {
	fail := func(cmd string, err error) *myelinpb.Reply {
		return &myelinpb.Reply{Error: cmd + ": " + err.Error()}
	}
	switch k := c.GetKind().(type) {
	case *myelinpb.Command_Load:
		s, err := parseSpec(k.Load)
		if err != nil {
			return fail("load", err), false
		}
		info, err := e.Load(s, k.Load.GetBackend(), int(k.Load.GetThreads()))
		if err != nil {
			return fail("load", err), false
		}
		return &myelinpb.Reply{Kind: &myelinpb.Reply_Loaded{Loaded: info}}, false
	case *myelinpb.Command_Run:
		ran, err := e.Run(k.Run.GetDurationMs())
		if err != nil {
			return fail("run", err), false
		}
		if k.Run.GetRead() {
			if ran.Data, err = e.Read(); err != nil {
				return fail("run", err), false
			}
		}
		return &myelinpb.Reply{Kind: &myelinpb.Reply_Ran{Ran: ran}}, false
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
