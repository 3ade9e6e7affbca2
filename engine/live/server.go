package live

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Server serves a stream to subscribers. Create it with New, add addresses
// with Listen, write the stream into it, then Close it. Write must not be
// called concurrently with itself or Close; every other method may be
// called from any goroutine.
type Server struct {
	opts   Options
	filter *filterStage

	// wmu serializes Write and Close; the fields below it belong to the
	// goroutine that holds it.
	wmu     sync.Mutex
	pend    []byte // the start of a record cut by the end of a Write
	wclosed bool

	// mu guards the fields below it.
	mu        sync.Mutex
	listeners []net.Listener
	subs      []*subscriber
	header    *record // the served header, nil until written
	pops      popRanges
	version   uint32 // the header's format version
	nextStep  uint64 // end of the last spike block or gap
	spikes    uint64 // spikes in the spike blocks and gaps so far
	ended     bool   // the trailer was dispatched
	closed    bool
	joined    chan struct{} // closed and replaced when a subscriber joins
	nJoined   int
	nextID    int

	abort     chan struct{} // closed by Abort
	abortOnce sync.Once
	aborted   atomic.Bool
	wg        sync.WaitGroup // accept loops and subscriber goroutines

	nSubs                           atomic.Int64
	records, nSpikes, dropped, gaps atomic.Uint64
}

// New returns a Server that listens nowhere yet.
func New(opts Options) *Server {
	if opts.CloseTimeout <= 0 {
		opts.CloseTimeout = DefaultCloseTimeout
	}
	s := &Server{opts: opts, joined: make(chan struct{}), abort: make(chan struct{})}
	if !opts.Filter.empty() {
		s.filter = &filterStage{f: opts.Filter}
	}
	return s
}

// Listen starts serving on addr (see ParseAddr) with the given options and
// returns the address it listens on, in the form Dial takes (with the port
// chosen when addr asked for port 0).
func (s *Server) Listen(addr string, lo ListenOptions) (string, error) {
	if lo.Queue <= 0 {
		lo.Queue = DefaultQueue
	}
	if lo.StallTimeout <= 0 {
		lo.StallTimeout = DefaultStallTimeout
	}
	if lo.OnSlow != Block && lo.OnSlow != Drop {
		return "", fmt.Errorf("listen on %s: unknown policy %v", addr, lo.OnSlow)
	}
	ln, err := listen(addr)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	if s.closed || s.ended {
		s.mu.Unlock()
		ln.Close()
		return "", fmt.Errorf("listen on %s: %w", addr, ErrClosed)
	}
	s.listeners = append(s.listeners, ln)
	s.wg.Add(1)
	s.mu.Unlock()
	go s.accept(ln, lo)
	return FormatAddr(ln.Addr()), nil
}

// Addrs returns the addresses the server listens on, in the form Dial
// takes.
func (s *Server) Addrs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.listeners))
	for i, ln := range s.listeners {
		out[i] = FormatAddr(ln.Addr())
	}
	return out
}

// logf calls Options.Logf when set.
func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

// accept runs one listener until it is closed.
func (s *Server) accept(ln net.Listener, lo ListenOptions) {
	defer s.wg.Done()
	where := FormatAddr(ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.logf("live stream %s: accept: %v; no longer listening", where, err)
			}
			return
		}
		if lo.SendBuffer > 0 {
			if sb, ok := c.(interface{ SetWriteBuffer(int) error }); ok {
				_ = sb.SetWriteBuffer(lo.SendBuffer) // a hint; the kernel may refuse
			}
		}
		s.add(c, lo, where)
	}
}

// add registers a new connection. A late joiner first gets the header and a
// gap covering the steps it missed.
func (s *Server) add(c net.Conn, lo ListenOptions, where string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.ended || s.aborted.Load() {
		c.Close()
		return
	}
	s.nextID++
	name := c.RemoteAddr().String()
	if name == "" || name == "@" {
		name = fmt.Sprintf("#%d", s.nextID)
	}
	sub := &subscriber{
		name: fmt.Sprintf("%s (subscriber %s)", where, name), conn: c, policy: lo.OnSlow, stall: lo.StallTimeout,
		q: make(chan *record, lo.Queue), gone: make(chan struct{}),
	}
	if s.header != nil {
		sub.initial = append(sub.initial, s.header)
		if s.nextStep > 0 {
			sub.late = true
			sub.deliveredPop = make([]uint64, s.pops.n)
			sub.initial = append(sub.initial, gapRecord(0, s.nextStep, s.spikes, s.version))
		}
	}
	s.subs = append(s.subs, sub)
	s.nJoined++
	s.nSubs.Add(1)
	close(s.joined)
	s.joined = make(chan struct{})
	s.wg.Add(1)
	go s.serve(sub)
	if sub.late {
		s.logf("live stream: %s joined at step %d; it gets a gap for the %d spikes before", sub.name, s.nextStep, s.spikes)
	} else {
		s.logf("live stream: %s joined", sub.name)
	}
}

// WaitSubscribers waits until n subscribers have connected (in all), or ctx
// is done.
func (s *Server) WaitSubscribers(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		if s.nJoined >= n {
			s.mu.Unlock()
			return nil
		}
		if s.closed {
			s.mu.Unlock()
			return ErrClosed
		}
		ch := s.joined
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d subscribers: %w", n, ctx.Err())
		}
	}
}

// Abort disconnects every subscriber and stops listening; later Writes
// discard their input. Use it when a run is interrupted and its subscribers
// may be too slow to take the rest.
func (s *Server) Abort() {
	s.abortOnce.Do(func() {
		s.aborted.Store(true)
		close(s.abort)
		s.mu.Lock()
		for _, ln := range s.listeners {
			ln.Close()
		}
		subs := append([]*subscriber(nil), s.subs...)
		s.mu.Unlock()
		for _, sub := range subs {
			sub.conn.Close()
		}
		s.logf("live stream: aborted; %d subscribers disconnected", len(subs))
	})
}

// Close stops listening, lets every subscriber take what is queued for it
// (for at most Options.CloseTimeout) and disconnects it. It returns an
// error when the input ended inside a record.
func (s *Server) Close() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.wclosed {
		return nil
	}
	s.wclosed = true
	s.mu.Lock()
	s.closed = true
	for _, ln := range s.listeners {
		ln.Close()
	}
	subs := append([]*subscriber(nil), s.subs...)
	close(s.joined) // wake WaitSubscribers
	s.joined = make(chan struct{})
	s.mu.Unlock()
	for _, sub := range subs {
		sub.finish()
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(s.opts.CloseTimeout):
		for _, sub := range subs {
			_ = sub.conn.SetWriteDeadline(time.Now())
		}
		<-done
	}
	if len(s.pend) > 0 {
		return fmt.Errorf("live: the stream ended inside a record (%d bytes of it were written)", len(s.pend))
	}
	return nil
}
