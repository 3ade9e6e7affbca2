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
var ErrClosed = errors.New("live: server is closed")

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
