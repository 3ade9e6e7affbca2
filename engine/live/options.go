package live

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Policy says what happens when a subscriber's queue is full.
type Policy int

const (
	// Block makes the writer (the run) wait for the subscriber, for at most
	// ListenOptions.StallTimeout; then the subscriber is cut off.
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

// Defaults and limits of ListenOptions and Options.
const (
	// DefaultQueue is the number of records a subscriber may have waiting.
	DefaultQueue = 64
	// MaxQueue is the most records a subscriber may have waiting
	// (ListenOptions.Queue, `myelin run --queue`). A queue's slots are
	// allocated when the subscriber joins, 8 bytes each, and the records
	// they hold (whole spike blocks) stay in memory until it takes them.
	MaxQueue = 1 << 14
	// DefaultCloseTimeout is the longest Close waits for subscribers that
	// still take the rest of the stream; one that takes nothing for its
	// StallTimeout is cut off sooner.
	DefaultCloseTimeout = 30 * time.Second
	// DefaultStallTimeout is how long the writer waits for a subscriber to
	// make room in its queue before it cuts the subscriber off: any
	// record in Block mode, a record that is never dropped in Drop mode.
	DefaultStallTimeout = 5 * time.Second
	// DefaultAuthTimeout is how long a connection has to present the
	// token (ListenOptions.Token) before it is refused. Clients send the
	// token as soon as they connect.
	DefaultAuthTimeout = 2 * time.Second
	// MaxPendingAuth is the most connections that may be presenting their
	// token (ListenOptions.Token) at once, over all of a Server's
	// listeners, so that connections that send nothing cannot pile up
	// until the process runs out of open files; each has at most
	// ListenOptions.AuthTimeout to present it. When all are taken, the one
	// that has waited longest is hung up on at once to make room for the
	// newcomer (and counted in Stats.Refused): idle connections cannot keep
	// out a client that presents its token, which it sends as soon as it
	// connects. Subscribers that presented the token do not count.
	MaxPendingAuth = 32
	// DefaultMaxSubscribers is the most subscribers a Server serves at
	// once, over all its listeners, unless Options.MaxSubscribers says
	// otherwise (`myelin run --listen-max`). Each subscriber holds a 64 KiB
	// write buffer, a queue of ListenOptions.Queue records and a goroutine
	// for as long as it is connected; without a bound, a client that opens
	// connections in a loop (to a listener without a token, or with the
	// token) makes the server allocate until the process runs out of open
	// files, which in a container may be a million of them: 64 GiB of
	// buffers. A connection beyond the bound is closed as soon as it is
	// accepted (or has presented its token), before anything is allocated
	// for it, and counted in Stats.Refused.
	DefaultMaxSubscribers = 256
	// MaxSubscribersCeiling is the largest Options.MaxSubscribers a Server
	// takes (`myelin run --listen-max`): 4096 subscribers hold 256 MiB of
	// write buffers.
	MaxSubscribersCeiling = 4096
	// refusedLogEvery is the least time between two log lines about
	// refused connections; those in between are counted in the next line.
	refusedLogEvery = 2 * time.Second
	// maxTokenBytes is the longest token line a server reads.
	maxTokenBytes = 256
	// acceptBackoffMin and acceptBackoffMax bound the wait after a failed
	// Accept (e.g. too many open files) before the listener tries again.
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
	// subscriberBuffer is the size of a subscriber's write buffer.
	subscriberBuffer = 64 << 10
)

// ErrClosed is returned by Write and Listen after Close.
var ErrClosed = errors.New("live: server is closed")

// ListenOptions configure the subscribers of one listening address.
type ListenOptions struct {
	// OnSlow is what a full queue does (default Block).
	OnSlow Policy
	// Queue is the number of records a subscriber may have waiting before
	// it counts as slow (default DefaultQueue, at most MaxQueue).
	Queue int
	// SendBuffer, when > 0, sets the socket send buffer (SO_SNDBUF) of each
	// accepted connection, in bytes; the kernel may round it. Smaller
	// buffers make a slow subscriber show sooner.
	SendBuffer int
	// StallTimeout bounds how long the writer (the run) waits for one
	// subscriber: in Block mode for any record, in Drop mode for a record
	// that is never dropped (header, state block, gap, trailer). A
	// subscriber that makes no room in its queue within it is
	// disconnected, the others are unaffected, so that one stuck or idle
	// subscriber cannot freeze a run (default DefaultStallTimeout). The
	// timeouts of subscribers that stall together run at once: a record
	// waits at most StallTimeout for all of them. After the stream has
	// ended (End, Close), a subscriber that takes nothing of the rest for
	// StallTimeout is cut off too.
	StallTimeout time.Duration
	// Token, when not empty, must be presented by every subscriber: the
	// first line it sends (the token and a newline, within AuthTimeout) is
	// compared with it in constant time, and a connection without it is
	// closed before it is sent anything. At most MaxPendingAuth (32)
	// connections may be presenting a token at once; a newcomer beyond
	// them displaces the one that has waited longest. Those that presented
	// it count against Options.MaxSubscribers. See DialToken.
	Token string
	// AuthTimeout bounds how long a connection has to present the token
	// (default DefaultAuthTimeout).
	AuthTimeout time.Duration
}

// Options configure a Server.
type Options struct {
	// Filter restricts what the server serves; nil serves everything.
	Filter *Filter
	// CloseTimeout bounds how long Close waits for subscribers that still
	// take the rest of the stream (default DefaultCloseTimeout); slower
	// ones are disconnected. One that takes nothing for its
	// ListenOptions.StallTimeout is disconnected sooner.
	CloseTimeout time.Duration
	// MaxSubscribers is the most subscribers served at once, over all the
	// server's listeners (default DefaultMaxSubscribers, at most
	// MaxSubscribersCeiling): a connection beyond them is closed at once,
	// before it is sent anything or anything is allocated for it, and
	// counted in Stats.Refused. A subscriber that left (its connection
	// failed, it was cut off) gives its place up; so does, when all places
	// are taken and someone else connects, one whose client hung up before
	// the stream began (as WaitSubscribers sees it). Connections presenting
	// a token are not subscribers yet: MaxPendingAuth bounds them.
	MaxSubscribers int
	// Logf, when set, is told of subscribers joining, falling behind and
	// leaving, and of refused connections (at most one line every 2 s,
	// with a count of the others). It is called from the server's
	// goroutines.
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
	// Refused counts the connections hung up on before they were served:
	// without a valid token, displaced while presenting one, or beyond
	// Options.MaxSubscribers.
	Refused uint64
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
		Refused:     s.refused.Load(),
	}
}
