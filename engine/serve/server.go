package serve

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"sync/atomic"
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

// DefaultReplyStall is the stall timeout of `myelin serve --socket`
// (Options.ReplyStall).
const DefaultReplyStall = 30 * time.Second

// DefaultClientIdle is the idle timeout of `myelin serve --socket`
// (Options.ClientIdle).
const DefaultClientIdle = 2 * time.Minute

// maxIdleRecheck is the longest wait between two looks at Options.Contended
// once a client has been idle for Options.ClientIdle.
const maxIdleRecheck = time.Second

// replyChunk is the most bytes of a reply written under one deadline.
const replyChunk = 64 << 10

// freeAfterBytes: after a reply with this much recorded data or more, the
// memory they held goes back to the system at once (not at the next
// garbage collection, which could come only after the next run has
// recorded as much again).
const freeAfterBytes = 16 << 20

// ErrReplyStalled is wrapped by the error of a session that ended because
// its client took no byte of a reply for Options.ReplyStall.
var ErrReplyStalled = errors.New("the client took no byte of the reply")

// ErrClientIdle is wrapped by the error of a session that ended because
// its client sent no command for Options.ClientIdle while another client
// waited for the engine (Options.Contended).
var ErrClientIdle = errors.New("no command while another client waited")

// idleError is the error of a session whose client was dropped for
// idling; it is ErrClientIdle.
type idleError struct{ limit time.Duration }

func (e *idleError) Error() string {
	return fmt.Sprintf("no command for %v while another client waited", e.limit)
}

// Is reports whether target is ErrClientIdle.
func (e *idleError) Is(target error) bool { return target == ErrClientIdle }

// Options configure a session of ServeWith.
type Options struct {
	// Factory opens the backends that load commands name (nil: CPUOnly).
	Factory BackendFactory
	// ReplyStall, when > 0, drops a client that takes no byte of a reply
	// for this long (from the last byte it took, at most twice this long):
	// the session ends with an error wrapping ErrReplyStalled. Replies are
	// written in chunks, each with ReplyStall to go, so a client that
	// reads, however slowly, is never dropped. It needs a w with write
	// deadlines (a net.Conn); with another w it does nothing.
	ReplyStall time.Duration
	// ClientIdle, when > 0 and Contended is set, drops a client that is
	// idle for this long while another client waits: the session is idle
	// while it waits for the client's next command, from the end of the
	// last reply (or from the start), never while it runs a command or
	// writes a reply. The bytes of a command that is arriving add the time
	// they would take at 1 MiB/s (minCommandRate), so that a large command
	// is never cut off but one trickled a byte at a time cannot hold the
	// engine. Once idle for ClientIdle, the session asks Contended, then
	// again every min(ClientIdle, 1s) while the client stays idle, and
	// ends as soon as it answers true: it writes the client one Reply (id
	// 0) whose error says why, giving it at most InterruptGrace to take
	// it, closes the engine and returns an error wrapping ErrClientIdle.
	// A client that nobody waits for keeps its engine however long it
	// idles. Commands are not slowed: there is no look while one runs.
	ClientIdle time.Duration
	// Contended reports whether another client waits for the engine. It is
	// called on the session's goroutine, only as ClientIdle says; nil: no
	// client is ever dropped for idling.
	Contended func() bool
}

// Serve is ServeWith with only a BackendFactory (no stall timeout).
func Serve(ctx context.Context, r io.Reader, w io.Writer, factory BackendFactory) error {
	return ServeWith(ctx, r, w, Options{Factory: factory})
}

// ServeWith answers the commands read from r with replies written to w,
// one Reply per Command, until r ends, a Close command arrives, w fails
// (the client is gone) or ctx is cancelled. Those all end the session
// cleanly (nil); only a command stream that cannot be framed any more, a
// client that stalls a reply (see Options.ReplyStall) and one dropped for
// idling while another client waits (see Options.ClientIdle) are errors.
// The engine's network is closed on return.
//
// Cancelling ctx also cuts short the command in progress: a run stops at
// its next block of steps and is answered with the state reached (and the
// data, if it asked to read) together with an error "run: interrupted at
// step ..."; a load stops building. That reply is written (within
// InterruptGrace) before ServeWith returns. A client that does not take a
// reply within InterruptGrace of the cancellation is given up on: ServeWith
// returns, leaving that write to end when w is closed or the process exits.
func ServeWith(ctx context.Context, r io.Reader, w io.Writer, opts Options) error {
	e := New(opts.Factory)
	defer e.Close()
	cmds := make(chan *myelinpb.Command)
	readErr := make(chan error, 1)
	stop := make(chan struct{})
	defer close(stop)
	cr := &countingReader{r: r}
	idle := newIdleWatch(opts, cr)
	defer idle.stop()
	go func() {
		br := bufio.NewReaderSize(cr, 1<<16)
		for n := 1; ; n++ {
			c := &myelinpb.Command{}
			at := cr.total.Load() - int64(br.Buffered())
			err := readCommand(br, c)
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
	rw := newReplyWriter(w, opts.ReplyStall)
	bw := bufio.NewWriterSize(rw, 1<<16)
	for {
		var c *myelinpb.Command
		select {
		case <-ctx.Done():
			return nil
		case <-idle.c():
			if !idle.drop() {
				continue
			}
			select {
			case c = <-cmds: // a command after all: serve it
			default:
				err := fmt.Errorf("session ended: %w; the engine and its network were closed", &idleError{opts.ClientIdle})
				e.Close()
				_ = sendLast(rw, bw, &myelinpb.Reply{Error: err.Error()})
				return err
			}
		case err := <-readErr:
			if clientGone(err) {
				return nil
			}
			// A malformed frame: say so, then stop (the framing is lost).
			_ = sendReply(ctx, rw, bw, &myelinpb.Reply{Error: fmt.Sprintf("command stream: %v", err)}, nil)
			return fmt.Errorf("command stream: %w", err)
		case c = <-cmds:
		}
		rep, data, closing := e.safeHandle(ctx, c)
		rep.Id = c.GetId()
		if err := sendReply(ctx, rw, bw, rep, data); err != nil {
			if errors.Is(err, ErrReplyStalled) {
				size := proto.Size(rep)
				if data != nil {
					size += data.size()
				}
				return fmt.Errorf("reply to command %d (%d bytes): %w; the client was dropped", c.GetId(), size, err)
			}
			return nil // the client is gone, or interrupted and not reading
		}
		// The data of a large reply are garbage now: give their memory
		// back before the next run records as much again.
		if data != nil && data.payload() >= freeAfterBytes {
			debug.FreeOSMemory()
		}
		if closing || ctx.Err() != nil {
			return nil
		}
		idle.replied()
	}
}

// idleWatch tells when a session's client has been idle for
// Options.ClientIdle while another client waits. A nil *idleWatch (no
// ClientIdle or no Contended) never fires.
type idleWatch struct {
	limit     time.Duration
	recheck   time.Duration // min(limit, maxIdleRecheck)
	contended func() bool
	cr        *countingReader
	since     time.Time // the end of the last reply (or the start)
	base      int64     // cr's bytes at since
	timer     *time.Timer
}

// minCommandRate is the rate, in bytes a second, at which a command that is
// arriving earns the session time beyond Options.ClientIdle: a large spec
// sent at any reasonable speed is never cut off, but a client that
// trickles a byte now and then cannot hold the engine for ever.
const minCommandRate = 1 << 20

func newIdleWatch(opts Options, cr *countingReader) *idleWatch {
	if opts.ClientIdle <= 0 || opts.Contended == nil {
		return nil
	}
	return &idleWatch{
		limit:     opts.ClientIdle,
		recheck:   min(opts.ClientIdle, maxIdleRecheck),
		contended: opts.Contended,
		cr:        cr,
		since:     time.Now(),
		timer:     time.NewTimer(opts.ClientIdle),
	}
}

// c is the channel that fires when the client may have been idle for the
// limit (nil, never, for a nil watch).
func (iw *idleWatch) c() <-chan time.Time {
	if iw == nil {
		return nil
	}
	return iw.timer.C
}

// replied notes that a reply was written: the client is idle from now.
func (iw *idleWatch) replied() {
	if iw == nil {
		return
	}
	iw.since = time.Now()
	iw.base = iw.cr.total.Load()
	iw.timer.Reset(iw.limit)
}

// drop, called when c fired, reports whether the client has been idle for
// its allowance while another client waits: the limit from the end of the
// last reply, plus the time the bytes of a command it has sent since would
// take at minCommandRate. If not, it sets the timer for the next look: when
// the allowance is spent, or, past it, min(limit, 1s) from now.
func (iw *idleWatch) drop() bool {
	got := iw.cr.total.Load() - iw.base
	allowed := iw.limit + time.Duration(float64(got)/minCommandRate*float64(time.Second))
	if left := allowed - time.Since(iw.since); left > 0 {
		iw.timer.Reset(left)
		return false
	}
	if iw.contended() {
		return true
	}
	iw.timer.Reset(iw.recheck)
	return false
}

func (iw *idleWatch) stop() {
	if iw != nil {
		iw.timer.Stop()
	}
}

// countingReader counts the bytes read through it, for the reading
// goroutine (a command's position) and the session's (the idle watch).
type countingReader struct {
	r     io.Reader
	total atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.total.Add(int64(k))
	return k, err
}

// commandChunk is the most bytes readCommand sets aside for a command
// before its bytes arrive: a command up to this size is read into one
// buffer of its size, as protodelim would; a larger one into a buffer that
// doubles as its bytes arrive. A length prefix alone costs at most this.
const commandChunk = 64 << 20

// errVarintOverflow: a length prefix longer than a 64-bit varint.
var errVarintOverflow = errors.New("its length prefix is not a varint of 64 bits or less (variable length integer overflow)")

// readCommand reads one length-delimited Command from br (the framing of
// protodelim). Its body goes into a buffer that grows as its bytes arrive,
// up to MaxCommandBytes, so that a length prefix alone cannot make the
// server set aside a gigabyte. The end of br before a command's first byte
// is io.EOF; within one, io.ErrUnexpectedEOF.
func readCommand(br *bufio.Reader, c *myelinpb.Command) error {
	size, err := binary.ReadUvarint(br)
	switch {
	case err == io.EOF:
		return io.EOF
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return io.ErrUnexpectedEOF
	case err != nil && strings.Contains(err.Error(), "overflow"):
		return errVarintOverflow
	case err != nil:
		return err
	case size > MaxCommandBytes:
		return &protodelim.SizeTooLargeError{Size: size, MaxSize: MaxCommandBytes}
	}
	// Set aside at most commandChunk before the bytes come; past it the
	// buffer doubles as they arrive, up to size exactly.
	buf := make([]byte, 0, min(size, commandChunk))
	for uint64(len(buf)) < size {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(size, 2*uint64(cap(buf))))
			copy(grown, buf)
			buf = grown
		}
		k, err := io.ReadFull(br, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return proto.Unmarshal(buf, c)
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

// deadliner is a writer with write deadlines (a net.Conn).
type deadliner interface {
	SetWriteDeadline(t time.Time) error
}

// replyWriter writes replies to w. With a stall timeout and a w that has
// write deadlines it writes in chunks of at most replyChunk bytes, each
// with the stall timeout to go from when it starts; a chunk cut short by
// its deadline after some of its bytes went counts as progress, and the
// rest gets a new deadline. A chunk that goes nowhere fails with
// ErrReplyStalled. Once an interrupt set its deadline (hard), no deadline
// is later than that one.
type replyWriter struct {
	w     io.Writer
	d     deadliner // nil: w has no deadlines, or no stall timeout is set
	stall time.Duration
	hard  atomic.Int64 // the interrupt's deadline in Unix ns; 0: none
}

func newReplyWriter(w io.Writer, stall time.Duration) *replyWriter {
	rw := &replyWriter{w: w, stall: stall}
	if d, ok := w.(deadliner); ok && stall > 0 {
		rw.d = d
	}
	return rw
}

// Write writes p to w.
func (rw *replyWriter) Write(p []byte) (int, error) {
	if rw.d == nil {
		return rw.w.Write(p)
	}
	done := 0
	for done < len(p) {
		dl := time.Now().Add(rw.stall)
		if h := rw.hard.Load(); h != 0 && h < dl.UnixNano() {
			dl = time.Unix(0, h)
		}
		if err := rw.d.SetWriteDeadline(dl); err != nil {
			return done, fmt.Errorf("set a write deadline: %w", err)
		}
		n, err := rw.w.Write(p[done:min(len(p), done+replyChunk)])
		done += n
		switch {
		case err == nil:
		case !errors.Is(err, os.ErrDeadlineExceeded) || rw.hard.Load() != 0:
			return done, err
		case n == 0:
			return done, fmt.Errorf("%w for %v", ErrReplyStalled, rw.stall)
		}
	}
	return done, nil
}

// interrupt bounds the writes from now on, the one in progress too, to
// end within InterruptGrace, where w has write deadlines.
func (rw *replyWriter) interrupt() {
	d, ok := rw.w.(deadliner)
	if !ok {
		return
	}
	at := time.Now().Add(InterruptGrace)
	rw.hard.Store(at.UnixNano())
	_ = d.SetWriteDeadline(at)
}

// sendReply writes rep through bw (which writes to rw) and waits for the
// write to end, or, once ctx is cancelled, for at most InterruptGrace: an
// interrupt must not wait on a client that does not read. The write is
// then left to fail when the client's connection is closed (or its
// deadline, set where it has one, passes).
func sendReply(ctx context.Context, rw *replyWriter, bw *bufio.Writer, rep *myelinpb.Reply, data *encodedData) error {
	done := startReply(bw, rep, data)
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	rw.interrupt()
	select {
	case err := <-done:
		return err
	case <-time.After(InterruptGrace):
		return errNotTaken
	}
}

// startReply writes rep (and data) through bw on a goroutine of its own;
// the channel gets the result.
func startReply(bw *bufio.Writer, rep *myelinpb.Reply, data *encodedData) <-chan error {
	done := make(chan error, 1)
	go func() {
		err := writeReply(bw, rep, data)
		if err == nil {
			err = bw.Flush()
		}
		done <- err
	}()
	return done
}

// sendLast writes rep, the last reply of a session that ends, giving the
// client at most InterruptGrace to take it (a w with deadlines gets one;
// with another w the write is left to end when w is closed).
func sendLast(rw *replyWriter, bw *bufio.Writer, rep *myelinpb.Reply) error {
	rw.interrupt()
	select {
	case err := <-startReply(bw, rep, nil):
		return err
	case <-time.After(InterruptGrace):
		return errNotTaken
	}
}

// safeHandle is handle that turns a panic on this goroutine into an error
// reply and unloads the network, whose state is then unknown.
func (e *Engine) safeHandle(ctx context.Context, c *myelinpb.Command) (rep *myelinpb.Reply, data *encodedData, closing bool) {
	defer func() {
		if r := recover(); r != nil {
			e.Close()
			rep, data, closing = &myelinpb.Reply{Error: fmt.Sprintf("command: internal error: %v (the network was unloaded; load it again)", r)}, nil, false
		}
	}()
	rep, data, closing = e.handle(ctx, c)
	return rep, data, closing
}

// handle runs one command; closing reports a Close command. data, when not
// nil, are the reply's recorded data, held encoded (see writeReply).
// Cancelling ctx cuts a load or a run short.
func (e *Engine) handle(ctx context.Context, c *myelinpb.Command) (rep *myelinpb.Reply, data *encodedData, closing bool) {
	fail := func(cmd string, err error) (*myelinpb.Reply, *encodedData, bool) {
		return &myelinpb.Reply{Error: cmd + ": " + err.Error()}, nil, false
	}
	switch k := c.GetKind().(type) {
	case *myelinpb.Command_Load:
		s, err := parseSpec(k.Load)
		// The encoded spec (up to MaxCommandBytes) is not needed any more:
		// let it go before the build.
		k.Load.Spec = nil
		if err != nil {
			return fail("load", err)
		}
		info, err := e.LoadContext(ctx, s, k.Load.GetBackend(), int(k.Load.GetThreads()))
		if err != nil {
			return fail("load", err)
		}
		return &myelinpb.Reply{Kind: &myelinpb.Reply_Loaded{Loaded: info}}, nil, false
	case *myelinpb.Command_Run:
		ran, err := e.RunWith(ctx, k.Run.GetDurationMs(), RunOptions{MaxReplyBytes: k.Run.GetMaxReplyBytes()})
		if ran == nil {
			return fail("run", err)
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
			d, rerr := e.take()
			if rerr != nil {
				return fail("run", rerr)
			}
			return rep, d, false
		}
		return rep, nil, false
	case *myelinpb.Command_Read:
		d, err := e.take()
		if err != nil {
			return fail("read", err)
		}
		return &myelinpb.Reply{Kind: &myelinpb.Reply_Data{Data: &myelinpb.Data{}}}, d, false
	case *myelinpb.Command_SetParams:
		if err := e.SetParams(k.SetParams.GetPopulation(), k.SetParams.GetValues()); err != nil {
			return fail("set_params", err)
		}
	case *myelinpb.Command_SetInput:
		if err := e.SetInput(k.SetInput.GetInput(), k.SetInput.RateHz, k.SetInput.Amplitude); err != nil {
			return fail("set_input", err)
		}
	case *myelinpb.Command_Reset_:
		if err := e.Reset(); err != nil {
			return fail("reset", err)
		}
	case *myelinpb.Command_Close:
		e.Close()
		return &myelinpb.Reply{Kind: &myelinpb.Reply_Done{Done: &myelinpb.Done{}}}, nil, true
	default:
		return &myelinpb.Reply{Error: "command: kind: not set (want load, run, read, set_params, set_input, reset or close)"}, nil, false
	}
	return &myelinpb.Reply{Kind: &myelinpb.Reply_Done{Done: &myelinpb.Done{Step: e.step}}}, nil, false
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
