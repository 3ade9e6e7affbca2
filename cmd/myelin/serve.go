package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/cpu"
	"github.com/myelin-sim/myelin/engine/live"
	"github.com/myelin-sim/myelin/engine/serve"
	"github.com/spf13/pflag"
)

// cmdServe keeps a network alive between commands read as length-delimited
// protobuf (proto/serve.proto) from stdin, or from each client of a Unix
// socket in turn, with replies on stdout or the socket. A socket client
// that takes no byte of a reply for --reply-stall is dropped, so that it
// cannot keep the clients after it waiting.
func cmdServe(ctx context.Context, e *env, args []string) error {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	socket := fs.String("socket", "", "listen on this Unix socket instead of stdin/stdout; clients are served one after another, each with a fresh engine")
	stall := fs.Duration("reply-stall", serve.DefaultReplyStall, "with --socket: a client that takes no byte of a reply for `DURATION` is dropped (and the next one served); one that reads, however slowly, is not")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: myelin serve [--socket PATH [--reply-stall DURATION]]\n\nCommands and replies are length-delimited protobuf messages (proto/serve.proto).\nA load command's backend is cpu (default), cuda or auto.\n\n%s", fs.FlagUsages())
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
	if fs.Changed("reply-stall") && *socket == "" {
		return &exitError{2, errors.New("--reply-stall applies to the clients of --socket PATH (over stdin/stdout the one client owns the engine)")}
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
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("--socket %s: %w", *socket, err)
		}
		err = serve.ServeWith(ctx, conn, conn, serve.Options{Factory: serveBackend, ReplyStall: *stall})
		conn.Close()
		if err != nil {
			fmt.Fprintf(e.stderr, "myelin serve: client ended: %v\n", err)
		}
		if ctx.Err() != nil {
			noteInterrupt(ctx, e)
			return nil
		}
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
