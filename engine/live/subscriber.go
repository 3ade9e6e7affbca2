package live

import (
	"bufio"
	"fmt"
	"net"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	myelinpb "github.com/myelin-sim/myelin/proto"
)

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

// deliver queues r for one subscriber, by its policy.
func (s *Server) deliver(sub *subscriber, r *record, trailer *myelinpb.Trailer) error {
	if sub.policy == Drop && r.Kind == kindSpikes {
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
	if r.Kind == kindTrailer {
		t, err := s.trailerFor(sub, r, trailer)
		if err != nil {
			return err
		}
		r = t
	}
	if s.send(sub, r) && r.Kind == kindSpikes {
		return s.delivered(sub, r)
	}
	return nil
}

// delivered counts a spike block sent to a subscriber.
func (s *Server) delivered(sub *subscriber, r *record) error {
	sub.delivered += r.Spikes
	if sub.late && r.Spikes > 0 {
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
		sub.gapOpen, sub.gapFirst, sub.gapSpikes = true, r.First, 0
		if sub.missed == 0 {
			s.logf("live stream: %s is slow; dropping spike blocks for it from step %d (it is told in gap records)", sub.name, r.First)
		}
	}
	sub.gapEnd = r.End
	sub.gapSpikes += r.Spikes
	sub.missed += r.Spikes
	s.dropped.Add(r.Spikes)
	if !sub.late && r.Spikes > 0 {
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
		return nil, fmt.Errorf("live: encoding a trailer: %w", err)
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
		what := "a record that is never dropped waited (--on-slow drop)"
		if sub.policy == Block {
			what = "the run waited for it (--on-slow block)"
		}
		s.fail(sub, fmt.Errorf("it took no record for %v while %s; cut off so that the run and the other subscribers go on", sub.stall, what))
		return false
	}
}
