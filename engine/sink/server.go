package sink

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	myelinpb "github.com/myelin-sim/myelin/proto"
)

// Policy says what happens when a subscriber's queue is full.
type Policy int

const (
	// Block makes the writer (the run) wait for the subscriber.
	Block Policy = iota
	// Drop drops spike blocks for the subscriber and reports them to it in
	// a Gap record.
	Drop
)

// String returns "block" or "drop".
func (p Policy) String() string {
	switch p {
	case Block:
		return "block"
	case Drop:
		return "drop"
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

// ParsePolicy reads "block" or "drop".
func ParsePolicy(s string) (Policy, error) {
	switch strings.ToLower(s) {
	case "block":
		return Block, nil
	case "drop":
		return Drop, nil
	}
	return 0, fmt.Errorf("on-slow policy %q: want block or drop", s)
}

// Defaults of ListenOptions and Options.
const (
	// DefaultQueue is the number of records a subscriber may have waiting.
	DefaultQueue = 64
	// DefaultCloseTimeout is how long Close waits for subscribers to take
	// the rest of the stream.
	DefaultCloseTimeout = 30 * time.Second
	// DefaultStallTimeout is how long the writer waits for a Drop
	// subscriber to make room for a record that is never dropped.
	DefaultStallTimeout = 10 * time.Second
	// subscriberBuffer is the size of a subscriber's write buffer.
	subscriberBuffer = 64 << 10
)

// ErrClosed is returned by Write and Listen after Close.
var ErrClosed = errors.New("sink: server is closed")

// ListenOptions configure the subscribers of one listening address.
type ListenOptions struct {
	// OnSlow is what a full queue does (default Block).
	OnSlow Policy
	// Queue is the number of records a subscriber may have waiting before
	// it counts as slow (default DefaultQueue).
	Queue int
	// SendBuffer, when > 0, sets the socket send buffer (SO_SNDBUF) of each
	// accepted connection, in bytes; the kernel may round it. Smaller
	// buffers make a slow subscriber show sooner.
	SendBuffer int
	// StallTimeout applies in Drop mode: a subscriber that makes no room
	// for a record that is never dropped (header, state block, gap,
	// trailer) within it is disconnected, so that a stuck subscriber cannot
	// stop a run it must not slow down (default DefaultStallTimeout).
	StallTimeout time.Duration
}

// Options configure a Server.
type Options struct {
	// Filter restricts what the server serves; nil serves everything.
	Filter *Filter
	// CloseTimeout bounds how long Close waits for subscribers to take the
	// rest of the stream (default DefaultCloseTimeout); slower ones are
	// disconnected.
	CloseTimeout time.Duration
	// Logf, when set, is told of subscribers joining, falling behind and
	// leaving. It is called from the server's goroutines.
	Logf func(format string, args ...any)
}

// Stats counts what a Server has done. All fields only grow, except
// Subscribers.
type Stats struct {
	// Subscribers is the number connected now.
	Subscribers int
	// Joined is the number that ever connected.
	Joined int
	// Records and Spikes count the records, and the spikes in their spike
	// blocks, that the server was given (after filtering).
	Records, Spikes uint64
	// Dropped counts the spikes dropped for slow subscribers and Gaps the
	// gap records that reported them (both summed over subscribers).
	Dropped, Gaps uint64
}

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

// subscriber is one connected reader.
type subscriber struct {
	name     string
	conn     net.Conn
	policy   Policy
	stall    time.Duration // Drop mode: see ListenOptions.StallTimeout
	initial  []*record     // written before the queue: a late joiner's header and gap
	q        chan *record  // closed when the stream is complete or the server closes
	qOnce    sync.Once
	gone     chan struct{} // closed (once) when the connection failed
	goneOnce sync.Once

	// Owned by the goroutine that holds Server.wmu (the writer).
	late         bool     // joined after the header: deliveredPop counts what it got
	delivered    uint64   // spikes sent
	missed       uint64   // spikes dropped for it
	missedPop    []uint64 // per header population, when !late
	deliveredPop []uint64 // per header population, when late
	gaps         int      // gap records queued for it
	gapOpen      bool     // spike blocks were dropped and not yet reported
	gapFirst     uint64
	gapEnd       uint64
	gapSpikes    uint64
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

// serve writes a subscriber's records to its connection until its queue is
// closed.
func (s *Server) serve(sub *subscriber) {
	defer s.wg.Done()
	defer s.nSubs.Add(-1)
	bw := bufio.NewWriterSize(sub.conn, subscriberBuffer)
	var err error
	for _, r := range sub.initial {
		if err == nil {
			_, err = bw.Write(r.data)
		}
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		s.fail(sub, err)
	}
	for r := range sub.q {
		if err != nil {
			continue // drain: the writer may still send until it sees gone
		}
		if _, err = bw.Write(r.data); err == nil && len(sub.q) == 0 {
			err = bw.Flush()
		}
		if err != nil {
			s.fail(sub, err)
		}
	}
	if err == nil {
		if err = bw.Flush(); err != nil {
			s.fail(sub, err)
		}
	}
	sub.conn.Close()
	if err == nil {
		s.logf("live stream: %s done", sub.name)
	}
}

// fail marks a subscriber gone and hangs up on it, after a write error or
// a stall.
func (s *Server) fail(sub *subscriber, err error) {
	sub.goneOnce.Do(func() {
		close(sub.gone)
		sub.conn.Close()
		if !s.aborted.Load() {
			s.logf("live stream: %s left: %v (the run goes on)", sub.name, err)
		}
	})
}

// finish closes a subscriber's queue: it writes what is queued and hangs up.
func (sub *subscriber) finish() { sub.qOnce.Do(func() { close(sub.q) }) }

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

// Stats returns the server's counters. It never blocks on a subscriber.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	joined := s.nJoined
	s.mu.Unlock()
	return Stats{
		Subscribers: int(s.nSubs.Load()),
		Joined:      joined,
		Records:     s.records.Load(),
		Spikes:      s.nSpikes.Load(),
		Dropped:     s.dropped.Load(),
		Gaps:        s.gaps.Load(),
	}
}

// Write takes the next bytes of a stream. It serves every record completed
// by p and keeps an incomplete one for the next call; it returns len(p)
// unless the bytes are not a stream of length-delimited records. It blocks
// while a subscriber in Block mode (or any subscriber, for records that are
// never dropped) has a full queue. After Abort it discards p.
func (s *Server) Write(p []byte) (int, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.aborted.Load() {
		return len(p), nil
	}
	if s.wclosed {
		return 0, ErrClosed
	}
	data, owned := p, false
	if len(s.pend) > 0 {
		data, owned = append(s.pend, p...), true
		s.pend = nil
	}
	end := 0
	for end < len(data) {
		n, err := frameLen(data[end:])
		if errors.Is(err, errIncomplete) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("sink: input byte %d: not a stream of length-delimited records: %w", end, err)
		}
		end += n
	}
	complete := data[:end]
	if !owned {
		complete = bytes.Clone(complete)
	}
	if end < len(data) {
		s.pend = bytes.Clone(data[end:])
	}
	for len(complete) > 0 {
		n, _ := frameLen(complete)
		r, err := parseRecord(complete[:n:n])
		if err != nil {
			return 0, fmt.Errorf("sink: %w", err)
		}
		complete = complete[n:]
		if s.filter != nil {
			if r, err = s.filter.apply(r); err != nil {
				return 0, fmt.Errorf("sink: %w", err)
			}
			if r == nil {
				continue
			}
		}
		if err := s.dispatch(r); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// dispatch serves one record to every subscriber.
func (s *Server) dispatch(r *record) error {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return errors.New("sink: a record after the trailer")
	}
	switch r.kind {
	case kindHeader:
		var h myelinpb.Header
		if err := proto.Unmarshal(r.msg, &h); err != nil {
			s.mu.Unlock()
			return fmt.Errorf("sink: bad header: %w", err)
		}
		pops, err := newPopRanges(&h)
		if err != nil {
			s.mu.Unlock()
			return fmt.Errorf("sink: bad header: %w", err)
		}
		s.header, s.pops, s.version = r, pops, h.GetFormatVersion()
	case kindSpikes, kindGap:
		s.nextStep = max(s.nextStep, r.end)
		s.spikes += r.spikes
	case kindTrailer:
		s.ended = true
		for _, ln := range s.listeners {
			ln.Close() // the stream is complete: nobody else may join
		}
	}
	subs := s.subs[:0:0]
	live := s.subs[:0]
	for _, sub := range s.subs {
		select {
		case <-sub.gone:
			sub.finish()
			continue
		default:
		}
		live = append(live, sub)
		subs = append(subs, sub)
	}
	clear(s.subs[len(live):])
	s.subs = live
	s.mu.Unlock()

	s.records.Add(1)
	if r.kind == kindSpikes {
		s.nSpikes.Add(r.spikes)
	}
	var trailer *myelinpb.Trailer
	if r.kind == kindTrailer {
		trailer = &myelinpb.Trailer{}
		if err := proto.Unmarshal(r.msg, trailer); err != nil {
			return fmt.Errorf("sink: bad trailer: %w", err)
		}
	}
	for _, sub := range subs {
		if err := s.deliver(sub, r, trailer); err != nil {
			return err
		}
	}
	if r.kind == kindTrailer {
		for _, sub := range subs {
			if sub.missed > 0 {
				s.logf("live stream: %s missed %d spikes, reported in %d gaps", sub.name, sub.missed, sub.gaps)
			}
			sub.finish()
		}
	}
	return nil
}

// deliver queues r for one subscriber, by its policy.
func (s *Server) deliver(sub *subscriber, r *record, trailer *myelinpb.Trailer) error {
	if sub.policy == Drop && r.kind == kindSpikes {
		if sub.gapOpen {
			if !s.trySend(sub, gapRecord(sub.gapFirst, sub.gapEnd, sub.gapSpikes, s.version)) {
				return s.drop(sub, r)
			}
			s.closeGap(sub)
		}
		if !s.trySend(sub, r) {
			return s.drop(sub, r)
		}
		return s.delivered(sub, r)
	}
	if sub.gapOpen {
		if !s.send(sub, gapRecord(sub.gapFirst, sub.gapEnd, sub.gapSpikes, s.version)) {
			return nil
		}
		s.closeGap(sub)
	}
	if r.kind == kindTrailer {
		t, err := s.trailerFor(sub, r, trailer)
		if err != nil {
			return err
		}
		r = t
	}
	if s.send(sub, r) && r.kind == kindSpikes {
		return s.delivered(sub, r)
	}
	return nil
}

// delivered counts a spike block sent to a subscriber.
func (s *Server) delivered(sub *subscriber, r *record) error {
	sub.delivered += r.spikes
	if sub.late && r.spikes > 0 {
		pops, err := s.popCounts(r)
		if err != nil {
			return err
		}
		for i, n := range pops {
			sub.deliveredPop[i] += n
		}
	}
	return nil
}

// drop drops a spike block for a subscriber, opening or extending its gap.
func (s *Server) drop(sub *subscriber, r *record) error {
	if !sub.gapOpen {
		sub.gapOpen, sub.gapFirst, sub.gapSpikes = true, r.first, 0
		if sub.missed == 0 {
			s.logf("live stream: %s is slow; dropping spike blocks for it from step %d (it is told in gap records)", sub.name, r.first)
		}
	}
	sub.gapEnd = r.end
	sub.gapSpikes += r.spikes
	sub.missed += r.spikes
	s.dropped.Add(r.spikes)
	if !sub.late && r.spikes > 0 {
		pops, err := s.popCounts(r)
		if err != nil {
			return err
		}
		if len(sub.missedPop) != len(pops) {
			sub.missedPop = make([]uint64, len(pops))
		}
		for i, n := range pops {
			sub.missedPop[i] += n
		}
	}
	return nil
}

// closeGap records that a subscriber's gap was queued.
func (s *Server) closeGap(sub *subscriber) {
	s.gaps.Add(1)
	sub.gaps++
	sub.gapOpen = false
}

// popCounts returns (and keeps) a spike block's spikes per population. Only
// the writer calls it, and only the writer changes s.pops.
func (s *Server) popCounts(r *record) ([]uint64, error) {
	if r.pops == nil {
		pops, err := s.pops.countSpikes(r.msg)
		if err != nil {
			return nil, fmt.Errorf("sink: %w", err)
		}
		r.pops = pops
	}
	return r.pops, nil
}

// trailerFor returns the trailer a subscriber gets: the one written, with
// its spike counts reduced by what the subscriber missed.
func (s *Server) trailerFor(sub *subscriber, r *record, t *myelinpb.Trailer) (*record, error) {
	if !sub.late && sub.missed == 0 {
		return r, nil
	}
	t = proto.CloneOf(t)
	t.TotalSpikes = sub.delivered
	if ps := t.GetPopulationSpikes(); len(ps) == s.pops.n {
		for i := range ps {
			switch {
			case sub.late:
				ps[i] = sub.deliveredPop[i]
			case i < len(sub.missedPop):
				ps[i] -= min(ps[i], sub.missedPop[i])
			}
		}
	}
	out, err := encodeRecord(&myelinpb.Record{Kind: &myelinpb.Record_Trailer{Trailer: t}}, s.version)
	if err != nil {
		return nil, fmt.Errorf("sink: encoding a trailer: %w", err)
	}
	return out, nil
}

// trySend queues r for sub without waiting; it fails when the queue is
// full. A gone subscriber takes (and discards) everything.
func (s *Server) trySend(sub *subscriber, r *record) bool {
	select {
	case <-sub.gone:
		return true
	default:
	}
	select {
	case sub.q <- r:
		return true
	default:
		return false
	}
}

// send queues r for sub, waiting while its queue is full. It returns false
// when the subscriber left or the server was aborted meanwhile, or when a
// Drop subscriber stalled (it is then disconnected).
func (s *Server) send(sub *subscriber, r *record) bool {
	if sub.policy != Drop {
		select {
		case sub.q <- r:
			return true
		case <-sub.gone:
			return false
		case <-s.abort:
			return false
		}
	}
	if s.trySend(sub, r) {
		return true
	}
	t := time.NewTimer(sub.stall)
	defer t.Stop()
	select {
	case sub.q <- r:
		return true
	case <-sub.gone:
		return false
	case <-s.abort:
		return false
	case <-t.C:
		s.fail(sub, fmt.Errorf("it took no record for %v while a record that is never dropped waited (--on-slow drop)", sub.stall))
		return false
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
		return fmt.Errorf("sink: the stream ended inside a record (%d bytes of it were written)", len(s.pend))
	}
	return nil
}
