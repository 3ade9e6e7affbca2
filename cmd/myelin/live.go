package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/myelin-sim/myelin/engine/live"
	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"github.com/spf13/pflag"
)

// interruptGrace is how long an interrupted run's live subscribers have to
// take the rest of the stream (up to its trailer marked interrupted) before
// they are disconnected.
const interruptGrace = 2 * time.Second

// liveFlags are run's flags for serving the stream live (engine/live).
type liveFlags struct {
	listen []string
	wait   int
	onSlow []string
	queue  int
	filter string
	token  string
	stall  time.Duration
	max    int
	fs     *pflag.FlagSet // where they were given: which ones were (fs.Changed)
}

// tokenEnv names the environment variable that holds the live stream's
// token when --listen-token / --token are not given.
const tokenEnv = "MYELIN_LISTEN_TOKEN"

// registerLiveFlags adds --listen, --wait, --on-slow, --queue,
// --listen-filter, --listen-token, --listen-stall and --listen-max to fs.
func registerLiveFlags(fs *pflag.FlagSet) *liveFlags {
	l := &liveFlags{fs: fs}
	fs.StringArrayVar(&l.listen, "listen", nil, "serve the stream live on `ADDR` while the run goes on: HOST:PORT, tcp://HOST:PORT or unix:PATH (repeatable; port 0 picks a free port, printed on stderr)")
	fs.IntVar(&l.wait, "wait", 0, "with --listen: wait until `N` subscribers are connected before the run starts, so that they get the whole stream (a client that hung up does not count)")
	fs.StringArrayVar(&l.onSlow, "on-slow", nil, "with --listen: `MODE` is block (a slow subscriber slows the run, for at most --listen-stall) or drop (it misses spike blocks and is told how many in gap records); once for every --listen, or once per --listen in order (default block)")
	fs.IntVar(&l.queue, "queue", live.DefaultQueue, fmt.Sprintf("with --listen: `N` records queued per subscriber before it counts as slow (at most %d)", live.MaxQueue))
	fs.StringVar(&l.filter, "listen-filter", "", "with --listen: serve only the neurons in `LIST`: POP or POP@FIRST:COUNT, comma-separated (local ids; the --out file keeps everything)")
	fs.StringVar(&l.token, "listen-token", "", "with --listen: serve only subscribers that present `TOKEN` (analyze/export --token, Python connect(token=...)); default $"+tokenEnv)
	fs.DurationVar(&l.stall, "listen-stall", live.DefaultStallTimeout, "with --listen: a subscriber that takes nothing for `DURATION` while the run waits for it, or after the run has ended, is cut off; the run and the other subscribers go on")
	fs.IntVar(&l.max, "listen-max", live.DefaultMaxSubscribers, fmt.Sprintf("with --listen: serve at most `N` subscribers at once, over all --listen addresses; a connection beyond them is closed at once (each subscriber holds a 64 KiB buffer; at most %d)", live.MaxSubscribersCeiling))
	return l
}

// liveSink is a running live server; a nil *liveSink (no --listen) does
// nothing.
type liveSink struct {
	srv      *live.Server
	filtered bool // the server serves some neurons only: see tee
	wait     int
	stderr   io.Writer
	ended    chan struct{} // closed by the first close: the stream has ended
	stop     chan struct{} // closed when the subscribers are done: ends the interrupt watcher
	endOnce  sync.Once
	waitOnce sync.Once
	err      error
}

// open checks the flags against the spec and starts listening. It returns
// nil when --listen was not given.
func (l *liveFlags) open(e *env, spec *myelinpb.Network, quiet bool) (*liveSink, error) {
	if len(l.listen) == 0 {
		// Every other live flag means something only with --listen: one
		// given without it is refused, not ignored.
		var given []string
		for _, name := range []string{"wait", "on-slow", "queue", "listen-filter", "listen-token", "listen-stall", "listen-max"} {
			if l.fs != nil && l.fs.Changed(name) {
				given = append(given, "--"+name)
			}
		}
		switch len(given) {
		case 0:
		case 1:
			return nil, &exitError{2, fmt.Errorf("%s applies only to a live stream: add --listen ADDR", given[0])}
		default:
			return nil, &exitError{2, fmt.Errorf("%s and %s apply only to a live stream: add --listen ADDR", strings.Join(given[:len(given)-1], ", "), given[len(given)-1])}
		}
		return nil, nil
	}
	if l.stall <= 0 {
		return nil, &exitError{2, fmt.Errorf("--listen-stall %v: want a duration > 0, e.g. 5s", l.stall)}
	}
	token := l.token
	if token == "" {
		token = os.Getenv(tokenEnv)
	}
	if l.wait < 0 || l.queue < 1 {
		return nil, &exitError{2, fmt.Errorf("--wait %d and --queue %d: want --wait >= 0 and --queue >= 1", l.wait, l.queue)}
	}
	if l.max < 1 || l.max > live.MaxSubscribersCeiling {
		return nil, &exitError{2, fmt.Errorf("--listen-max %d: want 1 to %d subscribers at once (each holds a 64 KiB buffer; the default is %d)", l.max, live.MaxSubscribersCeiling, live.DefaultMaxSubscribers)}
	}
	if l.wait > l.max {
		return nil, &exitError{2, fmt.Errorf("--wait %d: at most %s may be connected at once (--listen-max %d); raise --listen-max to wait for more", l.wait, subscribers(l.max), l.max)}
	}
	if l.queue > live.MaxQueue {
		return nil, &exitError{2, fmt.Errorf("--queue %d: at most %d records per subscriber (each may hold a whole spike block; the default is %d)", l.queue, live.MaxQueue, live.DefaultQueue)}
	}
	policies := make([]live.Policy, len(l.listen))
	switch len(l.onSlow) {
	case 0:
	case 1, len(l.listen):
		for i := range policies {
			p, err := live.ParsePolicy(l.onSlow[min(i, len(l.onSlow)-1)])
			if err != nil {
				return nil, &exitError{2, fmt.Errorf("--on-slow: %w", err)}
			}
			policies[i] = p
		}
	default:
		return nil, &exitError{2, fmt.Errorf("--on-slow given %d times for %d --listen addresses: give it once, or once per address", len(l.onSlow), len(l.listen))}
	}
	opts := live.Options{MaxSubscribers: l.max}
	if l.filter != "" {
		f, err := live.ParseFilter(l.filter)
		if err != nil {
			return nil, &exitError{2, fmt.Errorf("--listen-filter: %w", err)}
		}
		sizes := map[string]uint32{}
		for _, p := range spec.GetPopulations() {
			sizes[p.GetName()] = p.GetSize()
		}
		if err := f.Check(sizes); err != nil {
			return nil, fmt.Errorf("--listen-filter: %w", err)
		}
		opts.Filter = f
	}
	if !quiet {
		var mu sync.Mutex
		opts.Logf = func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(e.stderr, format+"\n", args...)
		}
	}
	ls := &liveSink{srv: live.New(opts), filtered: opts.Filter != nil, wait: l.wait, stderr: e.stderr, ended: make(chan struct{}), stop: make(chan struct{})}
	for i, addr := range l.listen {
		where, err := ls.srv.Listen(addr, live.ListenOptions{OnSlow: policies[i], Queue: l.queue, StallTimeout: l.stall, Token: token})
		if err != nil {
			ls.srv.Close()
			return nil, fmt.Errorf("--listen: %w", err)
		}
		filtered := ""
		if opts.Filter != nil {
			filtered = ", neurons " + opts.Filter.String()
		}
		auth := ""
		if token != "" {
			auth = ", token required"
		}
		fmt.Fprintf(e.stderr, "live stream: serving on %s (slow subscribers: %s%s%s)\n", where, policies[i], filtered, auth)
		if !live.IsLoopback(addr) {
			who := "anyone who can reach it can read the stream (add --listen-token)"
			if token != "" {
				who = "anyone who can reach it and has the token can read the stream"
			}
			fmt.Fprintf(e.stderr, "warning: --listen %s accepts connections from other machines: %s; listen on 127.0.0.1 or unix:PATH to keep it on this machine\n", addr, who)
		}
	}
	return ls, nil
}

// start waits for --wait subscribers and watches ctx. Once ctx is done
// while the run goes on, the subscribers have interruptGrace to take the
// rest of the stream (its trailer marked interrupted) before they are
// disconnected, so that a stuck one cannot hold up the end of an
// interrupted run; once it is done after the run has ended, while close
// waits for the subscribers to take the rest, they are disconnected at
// once: Ctrl-C ends that wait.
func (ls *liveSink) start(ctx context.Context) error {
	if ls == nil {
		return nil
	}
	if ls.wait > 0 {
		fmt.Fprintf(ls.stderr, "live stream: waiting for %s\n", subscribers(ls.wait))
		if err := ls.srv.WaitSubscribers(ctx, ls.wait); err != nil {
			if ctx.Err() != nil {
				return &exitError{130, fmt.Errorf("interrupted while waiting for %s; nothing was simulated", subscribers(ls.wait))}
			}
			return fmt.Errorf("--wait: %w", err)
		}
	}
	go func() {
		select {
		case <-ls.stop:
			return
		case <-ctx.Done():
		}
		grace := interruptGrace
		select {
		case <-ls.ended: // the run had ended: Ctrl-C while waiting for the subscribers
			grace = 0
		default:
		}
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-ls.stop:
		case <-t.C:
			if grace == 0 {
				fmt.Fprintln(ls.stderr, "live stream: interrupted while subscribers took the rest of the stream; disconnecting them (the run had ended)")
			}
			ls.srv.Abort()
		}
	}()
	return nil
}

// tee returns the writer the run streams into: out (nil for none) and the
// live server. Unfiltered, the server shares the file's encoding (its
// bytes); filtered, it gets its own stream.Writer, which drops the
// unselected neurons before encoding (see sim.Outputs).
func (ls *liveSink) tee(out io.Writer) io.Writer {
	switch {
	case ls == nil:
		return out
	case ls.filtered:
		return &filteredOut{out: out, srv: ls.srv}
	case out == nil:
		return ls.srv
	}
	return io.MultiWriter(out, ls.srv)
}

// filteredOut is a sim.Outputs: the file (when there is one) and a
// filtered live server, each with its own stream.Writer.
type filteredOut struct {
	out io.Writer
	srv *live.Server
}

// Write writes to the file; the run uses Writers instead.
func (f *filteredOut) Write(p []byte) (int, error) {
	if f.out == nil {
		return len(p), nil
	}
	return f.out.Write(p)
}

// Writers returns the file's Writer and the live server's filtered one.
func (f *filteredOut) Writers(h *myelinpb.Header) ([]*stream.Writer, error) {
	var ws []*stream.Writer
	if f.out != nil {
		w, err := stream.NewWriter(f.out, h)
		if err != nil {
			return nil, err
		}
		ws = append(ws, w)
	}
	lw, err := f.srv.StreamWriter(h)
	if err != nil {
		return nil, err
	}
	return append(ws, lw), nil
}

// close ends the live stream in two steps, so that run can rename --out
// before it waits on subscribers. The first call ends the stream (no new
// subscribers; each one is left what is queued for it) and returns at
// once, with the stream's error. Every later call (run's deferred one,
// after the file is renamed and the summary printed) waits until the
// subscribers have taken the rest: one that takes nothing for
// --listen-stall is cut off, and Ctrl-C ends the wait at once (see start).
// A process that ended without the second call would cut the subscribers
// off.
func (ls *liveSink) close() error {
	if ls == nil {
		return nil
	}
	first := false
	ls.endOnce.Do(func() {
		first = true
		if err := ls.srv.End(); err != nil {
			ls.err = fmt.Errorf("--listen: %w", err)
		}
		close(ls.ended)
	})
	if first {
		return ls.err
	}
	ls.waitOnce.Do(func() {
		_ = ls.srv.Close() // its error is End's, already returned
		close(ls.stop)
	})
	return ls.err
}

// subscribers writes "1 subscriber" or "n subscribers".
func subscribers(n int) string {
	if n == 1 {
		return "1 subscriber"
	}
	return fmt.Sprintf("%d subscribers", n)
}
