package live

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server serves a stream to subscribers. Create it with New, add addresses
// with Listen, write the stream into it, then Close it. Write must not be
// called concurrently with itself or Close; every other method may be
// called from any goroutine.
type Server struct {
	opts Options

	// wmu serializes Write and Close; the fields below it belong to the
	// goroutine that holds it.
	wmu     sync.Mutex
	pend    []byte // the start of a record cut by the end of a Write
	wclosed bool

	// mu guards the fields below it.
	mu        sync.Mutex
	listeners []net.Listener
	pending   map[net.Conn]struct{} // connections presenting their token
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
	if lo.AuthTimeout <= 0 {
		lo.AuthTimeout = DefaultAuthTimeout
	}
	if strings.ContainsAny(lo.Token, "\r\n") || len(lo.Token) > maxTokenBytes {
		return "", fmt.Errorf("listen on %s: the token must be one line of at most %d bytes", addr, maxTokenBytes)
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

// accept runs one listener until it is closed. A failed Accept (too many
// open files, a connection aborted before it was taken) does not stop it: it
// waits, from acceptBackoffMin doubling up to acceptBackoffMax, and tries
// again.
func (s *Server) accept(ln net.Listener, lo ListenOptions) {
	defer s.wg.Done()
	where := FormatAddr(ln.Addr())
	backoff := time.Duration(0)
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.aborted.Load() {
				return
			}
			if backoff == 0 {
				backoff = acceptBackoffMin
				s.logf("live stream %s: accept: %v; trying again", where, err)
			} else {
				backoff = min(2*backoff, acceptBackoffMax)
			}
			select {
			case <-time.After(backoff):
			case <-s.abort:
				return
			}
			continue
		}
		if backoff != 0 {
			s.logf("live stream %s: accepting again", where)
			backoff = 0
		}
		if lo.SendBuffer > 0 {
			if sb, ok := c.(interface{ SetWriteBuffer(int) error }); ok {
				_ = sb.SetWriteBuffer(lo.SendBuffer) // a hint; the kernel may refuse
			}
		}
		if lo.Token == "" {
			s.add(c, lo, where)
			continue
		}
		s.mu.Lock()
		if len(s.pending) >= maxPendingAuth || s.closed || s.aborted.Load() {
			s.mu.Unlock()
			c.Close()
			s.logf("live stream %s: refused %s: %d connections are already presenting their token", where, c.RemoteAddr(), maxPendingAuth)
			continue
		}
		if s.pending == nil {
			s.pending = map[net.Conn]struct{}{}
		}
		s.pending[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.authenticate(c, lo, where)
	}
}

// authenticate reads the token line of a new connection and adds it as a
// subscriber when it matches ListenOptions.Token; otherwise it hangs up
// without sending anything.
func (s *Server) authenticate(c net.Conn, lo ListenOptions, where string) {
	defer s.wg.Done()
	ok := readToken(c, lo.Token, lo.AuthTimeout)
	s.mu.Lock()
	_, still := s.pending[c] // Close and Abort hang up on pending connections
	delete(s.pending, c)
	s.mu.Unlock()
	if !ok || !still {
		c.Close()
		if !ok {
			s.logf("live stream %s: refused %s: no valid token (--listen-token)", where, c.RemoteAddr())
		}
		return
	}
	s.add(c, lo, where)
}

// readToken reads one line of at most maxTokenBytes within timeout and
// compares it with token in constant time.
func readToken(c net.Conn, token string, timeout time.Duration) bool {
	if err := c.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return false
	}
	buf := make([]byte, 0, maxTokenBytes+1)
	one := make([]byte, 1)
	for len(buf) <= maxTokenBytes {
		n, err := c.Read(one)
		if err != nil {
			return false
		}
		if n == 0 {
			continue
		}
		if one[0] == '\n' {
			_ = c.SetReadDeadline(time.Time{})
			got := strings.TrimSuffix(string(buf), "\r")
			return subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
		}
		buf = append(buf, one[0])
	}
	return false
}

// closePending hangs up on the connections still presenting their token.
// s.mu must be held.
func (s *Server) closePending() {
	for c := range s.pending {
		c.Close()
		delete(s.pending, c)
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
		s.closePending()
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
	s.closePending()
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
