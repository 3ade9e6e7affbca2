package live

import (
	"bytes"
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
// with Listen, write the stream into it, then Close it (or End it, and
// Close it later). Write must not be called concurrently with itself, End
// or Close; every other method may be called from any goroutine.
type Server struct {
	opts Options

	// wmu serializes Write, End and Close; the fields below it belong to
	// the goroutine that holds it.
	wmu     sync.Mutex
	pend    []byte // the start of a record cut by the end of a Write
	wclosed bool
	endErr  error         // what End returned
	ended   []*subscriber // the subscribers when End ran
	waited  sync.Once     // Close's wait for the subscribers

	// mu guards the fields below it.
	mu         sync.Mutex
	listeners  []net.Listener
	pending    map[net.Conn]time.Time // connections presenting their token, since when
	subs       []*subscriber
	header     *record // the served header, nil until written
	pops       popRanges
	version    uint32 // the header's format version
	nextStep   uint64 // end of the last spike block or gap
	spikes     uint64 // spikes in the spike blocks and gaps so far
	trailerOut bool   // the trailer was dispatched
	closed     bool
	joined     chan struct{} // closed and replaced when a subscriber joins
	nJoined    int
	nextID     int

	abort     chan struct{} // closed by Abort
	abortOnce sync.Once
	aborted   atomic.Bool
	wg        sync.WaitGroup // accept loops, token readers and subscriber goroutines

	refusals refusalLog
	waits    runWait // how long the writer has waited for subscribers

	nSubs                                    atomic.Int64
	records, nSpikes, dropped, gaps, refused atomic.Uint64
}

// New returns a Server that listens nowhere yet.
func New(opts Options) *Server {
	if opts.CloseTimeout <= 0 {
		opts.CloseTimeout = DefaultCloseTimeout
	}
	if opts.MaxSubscribers <= 0 {
		opts.MaxSubscribers = DefaultMaxSubscribers
	}
	s := &Server{opts: opts, joined: make(chan struct{}), abort: make(chan struct{})}
	return s
}

// Listen starts serving on addr (see ParseAddr) with the given options and
// returns the address it listens on, in the form Dial takes (with the port
// chosen when addr asked for port 0). It refuses to listen when
// Options.MaxSubscribers is above MaxSubscribersCeiling.
func (s *Server) Listen(addr string, lo ListenOptions) (string, error) {
	if s.opts.MaxSubscribers > MaxSubscribersCeiling {
		return "", fmt.Errorf("listen on %s: at most %d subscribers at once (Options.MaxSubscribers): the ceiling is %d", addr, s.opts.MaxSubscribers, MaxSubscribersCeiling)
	}
	if lo.Queue <= 0 {
		lo.Queue = DefaultQueue
	}
	if lo.Queue > MaxQueue {
		return "", fmt.Errorf("listen on %s: a queue of %d records per subscriber: at most %d", addr, lo.Queue, MaxQueue)
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
	if s.closed || s.trailerOut {
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

// refusalLog rate-limits the log lines about refused connections: a client
// that opens connections in a loop must not flood the log.
type refusalLog struct {
	mu    sync.Mutex
	last  time.Time // when a refusal was last logged
	quiet int       // refusals since then that were not logged
}

// refuse counts a connection hung up on without being served and logs it,
// at most once per refusedLogEvery; the lines in between are counted and
// the count goes with the next line (or flushRefusals).
func (s *Server) refuse(where string, who net.Addr, why string) {
	s.refused.Add(1)
	r := &s.refusals
	r.mu.Lock()
	now := time.Now()
	if !r.last.IsZero() && now.Sub(r.last) < refusedLogEvery {
		r.quiet++
		r.mu.Unlock()
		return
	}
	n := r.quiet
	r.last, r.quiet = now, 0
	r.mu.Unlock()
	more := ""
	if n > 0 {
		more = fmt.Sprintf(" (%d more connections were refused before it, not logged one by one)", n)
	}
	s.logf("live stream %s: refused %s: %s%s", where, who, why, more)
}

// flushRefusals logs the refusals not logged yet.
func (s *Server) flushRefusals() {
	r := &s.refusals
	r.mu.Lock()
	n := r.quiet
	r.quiet = 0
	r.mu.Unlock()
	if n > 0 {
		s.logf("live stream: %d more connections were refused, not logged one by one (%d in all)", n, s.refused.Load())
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
		if s.closed || s.aborted.Load() {
			s.mu.Unlock()
			c.Close()
			continue
		}
		// When every slot is taken, the connection that has waited longest
		// without presenting its token makes room: an honest client sends
		// its token as soon as it connects, so idle connections cannot
		// keep one out (before, the newcomer was refused, and a client
		// holding MaxPendingAuth idle connections locked everyone out).
		var evicted net.Conn
		if len(s.pending) >= MaxPendingAuth {
			for p, since := range s.pending {
				if evicted == nil || since.Before(s.pending[evicted]) {
					evicted = p
				}
			}
			delete(s.pending, evicted)
			evicted.Close()
		}
		if s.pending == nil {
			s.pending = map[net.Conn]time.Time{}
		}
		s.pending[c] = time.Now()
		s.wg.Add(1)
		s.mu.Unlock()
		if evicted != nil {
			s.refuse(where, evicted.RemoteAddr(), fmt.Sprintf("it had not presented its token (--listen-token) when a newer connection needed its place among the %d that may be presenting one", MaxPendingAuth))
		}
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
	_, still := s.pending[c] // Close, Abort and eviction hang up on pending connections
	delete(s.pending, c)
	s.mu.Unlock()
	if !ok || !still {
		c.Close()
		if still {
			s.refuse(where, c.RemoteAddr(), fmt.Sprintf("no valid token (--listen-token) within %v", lo.AuthTimeout))
		}
		return
	}
	s.add(c, lo, where)
}

// readToken reads one line of at most maxTokenBytes within timeout and
// compares it with token in constant time. It reads what has arrived at
// once rather than byte by byte (a subscriber sends nothing after its
// token), so that an honest client's token is taken as soon as it is there.
func readToken(c net.Conn, token string, timeout time.Duration) bool {
	if err := c.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return false
	}
	buf := make([]byte, 0, maxTokenBytes+2) // the token, '\r' and '\n'
	for len(buf) < cap(buf) {
		n, err := c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			_ = c.SetReadDeadline(time.Time{})
			got := bytes.TrimSuffix(buf[:i], []byte("\r"))
			return subtle.ConstantTimeCompare(got, []byte(token)) == 1
		}
		if err != nil {
			return false
		}
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
// gap covering the steps it missed. When Options.MaxSubscribers are served
// already, the connection is closed and counted as refused before anything
// is allocated for it.
func (s *Server) add(c net.Conn, lo ListenOptions, where string) {
	s.mu.Lock()
	if s.closed || s.trailerOut || s.aborted.Load() {
		s.mu.Unlock()
		c.Close()
		return
	}
	if !s.makeRoom() {
		s.mu.Unlock()
		c.Close()
		s.refuse(where, c.RemoteAddr(), fmt.Sprintf("every subscriber place is taken (--listen-max %d); raise --listen-max to serve more", s.opts.MaxSubscribers))
		return
	}
	defer s.mu.Unlock()
	s.nextID++
	name := c.RemoteAddr().String()
	if name == "" || name == "@" {
		name = fmt.Sprintf("#%d", s.nextID)
	}
	sub := &subscriber{
		name: fmt.Sprintf("%s (subscriber %s)", where, name), conn: c, policy: lo.OnSlow, stall: lo.StallTimeout,
		q: make(chan *record, lo.Queue), gone: make(chan struct{}), waits: &s.waits,
	}
	sub.progress()
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

// makeRoom reports whether a new subscriber may join: fewer than
// Options.MaxSubscribers hold a place. It first drops the subscribers that
// left (the writer drops them too, but only at its next record). When every
// place is taken before the stream has begun, the first subscriber whose
// client has hung up (connectedAtLeast's mark, or a peek at its
// connection) is disconnected to make room, so that clients that connect
// and hang up cannot keep out those that stay. Once the stream has begun,
// writes find the subscribers that hung up, and a client that only closed
// its sending side is left to read. s.mu must be held.
func (s *Server) makeRoom() bool {
	s.dropGone()
	if len(s.subs) < s.opts.MaxSubscribers {
		return true
	}
	if s.header != nil {
		return false
	}
	for _, sub := range s.subs {
		if sub.hungUp || peerClosed(sub.conn) {
			s.fail(sub, fmt.Errorf("it hung up before the stream began, and its place went to a newcomer (every subscriber place was taken, --listen-max %d)", s.opts.MaxSubscribers))
			s.dropGone()
			return true
		}
	}
	return false
}

// dropGone removes the subscribers that left from s.subs. Their queues are
// left open (only the writer closes queues); their goroutines end on gone.
// s.mu must be held.
func (s *Server) dropGone() {
	kept := s.subs[:0]
	for _, sub := range s.subs {
		select {
		case <-sub.gone:
			continue
		default:
		}
		kept = append(kept, sub)
	}
	clear(s.subs[len(kept):])
	s.subs = kept
}

// connectedAtLeast reports whether at least n subscribers are still
// connected: neither cut off nor hung up by their peer (peerClosed). It
// peeks at connections only once enough subscribers are left to matter,
// and only until it has found n, so that clients that connect and hang up
// in a loop cost one peek each. s.mu must be held.
func (s *Server) connectedAtLeast(n int) bool {
	var left []*subscriber
	for _, sub := range s.subs {
		if sub.hungUp {
			continue
		}
		select {
		case <-sub.gone:
			continue
		default:
		}
		left = append(left, sub)
	}
	found := 0
	for i, sub := range left {
		if found >= n || found+len(left)-i < n {
			break
		}
		if peerClosed(sub.conn) {
			sub.hungUp = true
			s.logf("live stream: %s hung up before the stream began; it does not count as connected", sub.name)
			continue
		}
		found++
	}
	return found >= n
}

// WaitSubscribers waits until n subscribers are connected at once, or ctx
// is done. A client that connected and hung up again does not count (its
// end of the connection is checked, where the system allows, each time a
// subscriber joins), so that a run started by `--wait N` has N subscribers
// when it starts. It fails at once when n is more than
// Options.MaxSubscribers, which could never be connected at once.
func (s *Server) WaitSubscribers(ctx context.Context, n int) error {
	if n > s.opts.MaxSubscribers {
		return fmt.Errorf("waiting for %d subscribers: at most %d may be connected at once (Options.MaxSubscribers, --listen-max)", n, s.opts.MaxSubscribers)
	}
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return ErrClosed
		}
		if s.connectedAtLeast(n) {
			s.mu.Unlock()
			return nil
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
// discard their input, and a Close waiting for subscribers returns. Use it
// when a run is interrupted and its subscribers may be too slow to take the
// rest.
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
		// Logged first: once the connections are closed, a Close waiting
		// for them returns and the process may end.
		s.flushRefusals()
		s.logf("live stream: aborted; %d subscribers disconnected", len(subs))
		for _, sub := range subs {
			sub.conn.Close()
		}
	})
}

// End ends the stream without waiting for the subscribers: it stops
// listening, hangs up on the connections still presenting their token, and
// lets each subscriber's goroutine write what is queued for it and hang up.
// From then on a subscriber that takes nothing for its
// ListenOptions.StallTimeout is cut off, so that stalled subscribers cannot
// hold up the end of a run for longer than that. End returns an error when
// the input ended inside a record; it may be called more than once.
func (s *Server) End() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.wclosed {
		return s.endErr
	}
	s.wclosed = true
	s.mu.Lock()
	s.closed = true
	for _, ln := range s.listeners {
		ln.Close()
	}
	s.closePending()
	s.ended = append([]*subscriber(nil), s.subs...)
	close(s.joined) // wake WaitSubscribers
	s.joined = make(chan struct{})
	s.mu.Unlock()
	for _, sub := range s.ended {
		sub.end()
	}
	s.flushRefusals()
	if len(s.pend) > 0 {
		s.endErr = fmt.Errorf("live: the stream ended inside a record (%d bytes of it were written)", len(s.pend))
	}
	return s.endErr
}

// Close ends the stream (End) and waits until every subscriber has taken
// what is queued for it and is disconnected: a subscriber that takes
// nothing for its ListenOptions.StallTimeout is cut off, and all of them
// are after Options.CloseTimeout; Abort ends the wait at once. It returns
// End's error. Later calls wait likewise and return the same error.
func (s *Server) Close() error {
	err := s.End()
	s.waited.Do(func() {
		done := make(chan struct{})
		go func() { s.wg.Wait(); close(done) }()
		t := time.NewTimer(s.opts.CloseTimeout)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			s.wmu.Lock()
			subs := s.ended
			s.wmu.Unlock()
			for _, sub := range subs {
				if !sub.served.Load() {
					s.fail(sub, fmt.Errorf("it had not taken the rest of the stream %v after the stream ended; cut off so that the run can end", s.opts.CloseTimeout))
				}
			}
			<-done
		}
	})
	return err
}
