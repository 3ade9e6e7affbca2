package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/cpu"
	"github.com/myelin-sim/myelin/engine/live"
	"github.com/myelin-sim/myelin/engine/serve"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"github.com/spf13/pflag"
	"google.golang.org/protobuf/encoding/protodelim"
)

// maxWaiting is the most --socket clients that wait for their turn while
// another is served; one more is refused at once.
const maxWaiting = 64

// refusedLogEvery: at most one line this often on stderr about clients
// refused because maxWaiting already wait.
const refusedLogEvery = 5 * time.Second

// noticeWrite bounds the write of the one reply that a client refused or
// sent away before its turn gets before its connection is closed.
const noticeWrite = 100 * time.Millisecond

// cmdServe keeps a network alive between commands read as length-delimited
// protobuf (proto/serve.proto) from stdin, or from each client of a Unix
// socket in turn, with replies on stdout or the socket. A socket client
// that takes no byte of a reply for --reply-stall is dropped, and so is
// one that sends no command for --client-idle while another waits, so that
// it cannot keep the clients after it waiting.
func cmdServe(ctx context.Context, e *env, args []string) error {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	socket := fs.String("socket", "", "listen on this Unix socket instead of stdin/stdout; clients are served one after another, each with a fresh engine")
	stall := fs.Duration("reply-stall", serve.DefaultReplyStall, "with --socket: a client that takes no byte of a reply for `DURATION` is dropped (and the next one served); one that reads, however slowly, is not")
	idle := fs.Duration("client-idle", serve.DefaultClientIdle, "with --socket: a client that sends no command for `DURATION` while another client waits (a command arriving slower than 1 MiB/s counts as none) is dropped, with a reply saying why, and the next one served; a client that nobody waits for keeps its engine however long it idles")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: myelin serve [--socket PATH [--reply-stall DURATION] [--client-idle DURATION]]\n\nCommands and replies are length-delimited protobuf messages (proto/serve.proto).\nA load command's backend is cpu (default), cuda or auto.\nWith --socket, clients are served one at a time, in the order they connect;\nat most %d wait for their turn (one more is refused with an error reply).\n\n%s", maxWaiting, fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return &exitError{2, err}
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return &exitError{2, fmt.Errorf("serve takes no arguments, got %d", fs.NArg())}
	}
	if *stall <= 0 {
		return &exitError{2, fmt.Errorf("--reply-stall %v: want a duration > 0, e.g. 30s", *stall)}
	}
	if *idle <= 0 {
		return &exitError{2, fmt.Errorf("--client-idle %v: want a duration > 0, e.g. 2m", *idle)}
	}
	if *socket == "" {
		var given []string
		for _, name := range []string{"reply-stall", "client-idle"} {
			if fs.Changed(name) {
				given = append(given, "--"+name)
			}
		}
		if len(given) > 0 {
			verb := "applies"
			if len(given) > 1 {
				verb = "apply"
			}
			return &exitError{2, fmt.Errorf("%s %s to the clients of --socket PATH (over stdin/stdout the one client owns the engine)", strings.Join(given, " and "), verb)}
		}
	}
	// A client that goes away must end the session, not kill the process:
	// with SIGPIPE noted, writes to a closed pipe return EPIPE instead.
	sigpipe := make(chan os.Signal, 1)
	signal.Notify(sigpipe, syscall.SIGPIPE)
	defer signal.Stop(sigpipe)
	if *socket == "" {
		err := serve.Serve(ctx, e.stdin, e.stdout, serveBackend)
		noteInterrupt(ctx, e)
		return err
	}
	ln, err := listenUnix(*socket)
	if err != nil {
		return fmt.Errorf("--socket: %w", err)
	}
	defer ln.Close()
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	fmt.Fprintf(e.stderr, "myelin serve: listening on %s\n", *socket)
	return serveClients(ctx, e, ln, *socket, serve.Options{Factory: serveBackend, ReplyStall: *stall, ClientIdle: *idle})
}

// serveClients serves the clients of ln one at a time, in the order they
// connect, each with ServeWith and opts (whose Contended it sets: another
// client waits), until ctx is cancelled or ln fails. A goroutine accepts
// them into a queue of at most maxWaiting; the ones waiting when serve
// stops get a reply saying so, and are closed.
func serveClients(ctx context.Context, e *env, ln net.Listener, socket string, opts serve.Options) error {
	// stderr is written from the accepting goroutine and its timers too.
	locked := *e
	locked.stderr = &lockedWriter{w: e.stderr}
	e = &locked
	q := &waitQueue{more: make(chan struct{}, 1)}
	defer q.closeAll()
	refusals := &refusalLog{w: e.stderr}
	defer refusals.stop()
	go acceptClients(ln, q, refusals)
	opts.Contended = q.waiting
	for {
		conn, err := q.next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("--socket %s: %w", socket, err)
		}
		err = serve.ServeWith(ctx, conn, conn, opts)
		conn.Close()
		if err != nil {
			how := "ended"
			if errors.Is(err, serve.ErrClientIdle) {
				how = "dropped"
			}
			fmt.Fprintf(e.stderr, "myelin serve: client %s: %v\n", how, err)
		}
		if ctx.Err() != nil {
			noteInterrupt(ctx, e)
			return nil
		}
	}
}

// acceptClients accepts the clients of ln into q until ln fails (it is
// closed when serve stops), which it tells q. A client beyond the
// maxWaiting that wait is refused: it gets an error reply, its connection
// is closed, and refusals counts it.
func acceptClients(ln net.Listener, q *waitQueue, refusals *refusalLog) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			q.fail(err)
			return
		}
		if q.add(conn) {
			continue
		}
		notify(conn, fmt.Sprintf("myelin serve: %d clients already wait for the engine; connection refused, try again later", maxWaiting))
		refusals.add()
	}
}

// refusalLog says on w how many clients were refused, in at most one line
// every refusedLogEvery (every, where set): the first refusal at once, the ones after it
// within the interval in one line at its end, so that none goes unsaid.
type refusalLog struct {
	mu      sync.Mutex
	w       io.Writer
	every   time.Duration // 0: refusedLogEvery
	n       int           // refused since the last line
	last    time.Time     // when the last line was written
	pending *time.Timer   // the line due at last + refusedLogEvery; nil: none
	stopped bool          // stop was called: nothing more is written
}

// add counts one refused client.
func (l *refusalLog) add() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return
	}
	l.n++
	if l.pending != nil {
		return
	}
	every := l.every
	if every == 0 {
		every = refusedLogEvery
	}
	if wait := every - time.Since(l.last); wait > 0 {
		l.pending = time.AfterFunc(wait, l.flush)
		return
	}
	l.write()
}

// flush writes the line that was due.
func (l *refusalLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = nil
	if l.n > 0 && !l.stopped {
		l.write()
	}
}

// stop writes what is left to say at once; refusals after it are not
// counted (serve has stopped).
func (l *refusalLog) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
	if l.pending != nil {
		l.pending.Stop()
		l.pending = nil
	}
	if l.n > 0 {
		l.write()
	}
}

// write writes the line for the refusals counted; l.mu is held.
func (l *refusalLog) write() {
	fmt.Fprintf(l.w, "myelin serve: %d client(s) refused since the last such line: %d already wait for their turn\n", l.n, maxWaiting)
	l.n, l.last = 0, time.Now()
}

// lockedWriter serialises the writes of several goroutines to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// Write writes p to w.
func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// notify writes conn one Reply (id 0) with error msg, giving it at most
// noticeWrite, and closes it.
func notify(conn net.Conn, msg string) {
	_ = conn.SetWriteDeadline(time.Now().Add(noticeWrite))
	_, _ = protodelim.MarshalTo(conn, &myelinpb.Reply{Error: msg})
	conn.Close()
}

// waitQueue holds the --socket clients that wait for their turn, in the
// order they connected. acceptClients adds to it; the serving loop takes
// from it and, through waiting, asks whether anyone waits.
type waitQueue struct {
	mu     sync.Mutex
	conns  []net.Conn
	err    error         // ln failed: no client comes any more
	closed bool          // closeAll was called
	more   chan struct{} // a token when a client or err comes
}

// add queues conn and reports true, or reports false (and leaves conn
// alone) when maxWaiting already wait. After closeAll, conn is closed.
func (q *waitQueue) add(conn net.Conn) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		conn.Close()
		return true
	}
	if len(q.conns) >= maxWaiting {
		// Clients that hung up while waiting give their places first.
		q.prune()
		if len(q.conns) >= maxWaiting {
			return false
		}
	}
	q.conns = append(q.conns, conn)
	q.wake()
	return true
}

// fail notes that no client will come any more, because of err.
func (q *waitQueue) fail(err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.err = err
	q.wake()
}

// wake tells next that something came; q.mu is held.
func (q *waitQueue) wake() {
	select {
	case q.more <- struct{}{}:
	default:
	}
}

// next waits for the first client in the queue that is still connected
// and takes it; the ones that hung up before their turn are closed and
// skipped. Its error is the listener's, once no client waits, or ctx's.
func (q *waitQueue) next(ctx context.Context) (net.Conn, error) {
	for {
		q.mu.Lock()
		for len(q.conns) > 0 {
			conn := q.conns[0]
			q.conns[0] = nil
			q.conns = q.conns[1:]
			if live.PeerClosed(conn) {
				conn.Close()
				continue
			}
			q.mu.Unlock()
			return conn, nil
		}
		err := q.err
		q.mu.Unlock()
		if err != nil {
			return nil, err
		}
		select {
		case <-q.more:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// waiting reports whether a client waits for its turn (Options.Contended):
// one that hung up does not count, and is closed and dropped from q.
func (q *waitQueue) waiting() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.prune()
	return len(q.conns) > 0
}

// prune closes and drops the waiting clients that hung up; q.mu is held.
func (q *waitQueue) prune() {
	kept := q.conns[:0]
	for _, conn := range q.conns {
		if live.PeerClosed(conn) {
			conn.Close()
			continue
		}
		kept = append(kept, conn)
	}
	clear(q.conns[len(kept):])
	q.conns = kept
}

// closeAll tells the clients still waiting that serve stopped, closes
// them, and closes any that come later.
func (q *waitQueue) closeAll() {
	q.mu.Lock()
	conns := q.conns
	q.conns, q.closed = nil, true
	q.mu.Unlock()
	for _, conn := range conns {
		notify(conn, "myelin serve stopped before this client's turn; nothing was run for it")
	}
}

// noteInterrupt says on stderr that serve stops because it was
// interrupted (Ctrl-C, SIGTERM), if it was.
func noteInterrupt(ctx context.Context, e *env) {
	if ctx.Err() != nil {
		fmt.Fprintf(e.stderr, "myelin serve: interrupted; stopping\n")
	}
}

// listenUnix listens on the Unix socket path, first removing a stale
// socket file there (one left by a server that crashed), as `myelin run
// --listen unix:PATH` does: path is removed only when it is a socket that
// nobody accepts on. A live socket or any other file there is an error and
// is left alone.
func listenUnix(path string) (net.Listener, error) {
	if err := live.RemoveStaleSocket(path); err != nil {
		return nil, err
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	return ln, nil
}

// serveBackend opens the backend a load command names.
func serveBackend(name string, threads int) (backend.Backend, error) {
	switch name {
	case "", "cpu":
		return cpu.New(threads), nil
	case "cuda", "auto":
		if be, ok := cudaBackend(); ok {
			return be, nil
		}
		if name == "auto" {
			return cpu.New(threads), nil
		}
		return nil, fmt.Errorf("cuda: %s (a GPU serve needs the myelin-cuda binary: run 'myelin-cuda serve')", noCUDAReason())
	}
	return nil, fmt.Errorf("%q: want cpu, cuda or auto", name)
}
