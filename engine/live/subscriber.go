package live

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	myelinpb "github.com/myelin-sim/myelin/proto"
)

// subscriber is one connected reader.
type subscriber struct {
	name     string
	conn     net.Conn
	policy   Policy
	stall    time.Duration // see ListenOptions.StallTimeout
	initial  []*record     // written before the queue: a late joiner's header and gap
	q        chan *record  // closed when the stream is complete or the server closes
	qOnce    sync.Once
	gone     chan struct{} // closed (once) when the connection failed
	goneOnce sync.Once

	// waits is the server's clock of the writer's waits, and lastProgress
	// the time on it (nanoseconds) when the subscriber last took a record
	// from its queue or a chunk of bytes from its connection: its stall is
	// measured from there (see runWait).
	waits        *runWait
	lastProgress atomic.Int64
	// ending is set by End: from then on every chunk written to the
	// connection must go within stall (see subWriter).
	ending atomic.Bool
	// hungUp: the peer was seen to have hung up before the run started
	// (Server.connectedAtLeast). Guarded by Server.mu.
	hungUp bool
	// served is set when serve has returned.
	served atomic.Bool

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
// closed, or until the subscriber is gone: it then returns at once, without
// waiting for its queue to be closed, so that its buffer and its place
// (Options.MaxSubscribers) are free as soon as it has left. The writer
// never waits on a gone subscriber's queue (see trySend and send).
func (s *Server) serve(sub *subscriber) {
	defer s.wg.Done()
	defer s.nSubs.Add(-1)
	defer sub.served.Store(true)
	defer sub.conn.Close()
	bw := bufio.NewWriterSize(subWriter{sub}, subscriberBuffer)
	var err error
	for _, r := range sub.initial {
		if err == nil {
			_, err = bw.Write(r.data)
		}
	}
	if err == nil {
		err = bw.Flush()
	}
	for err == nil {
		var r *record
		var open bool
		select {
		case r, open = <-sub.q:
		case <-sub.gone:
			return // cut off (fail has said why)
		}
		if !open {
			break
		}
		sub.progress()
		if _, err = bw.Write(r.data); err == nil && len(sub.q) == 0 {
			err = bw.Flush()
		}
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		s.fail(sub, sub.writeError(err))
		return
	}
	s.logf("live stream: %s done", sub.name)
}

// fail marks a subscriber gone and hangs up on it, after a write error or
// a stall.
func (s *Server) fail(sub *subscriber, err error) {
	sub.goneOnce.Do(func() {
		close(sub.gone)
		sub.conn.Close()
		switch {
		case s.aborted.Load():
		case sub.ending.Load():
			s.logf("live stream: %s left: %v", sub.name, err)
		default:
			s.logf("live stream: %s left: %v (the run goes on)", sub.name, err)
		}
	})
}

// finish closes a subscriber's queue: it writes what is queued and hangs up.
func (sub *subscriber) finish() { sub.qOnce.Do(func() { close(sub.q) }) }

// end closes the queue at the end of the stream: from now on the
// subscriber must take each chunk of what is left within its stall
// timeout (the chunk being written now included), or it is cut off.
func (sub *subscriber) end() {
	sub.ending.Store(true)
	_ = sub.conn.SetWriteDeadline(time.Now().Add(sub.stall))
	sub.finish()
}

// progress records that the subscriber took something.
func (sub *subscriber) progress() { sub.lastProgress.Store(int64(sub.waits.now())) }

// writeError explains a failed write: a deadline that passed after End
// means the subscriber stalled at the end of the stream.
func (sub *subscriber) writeError(err error) error {
	if sub.ending.Load() && errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("it took nothing for %v after the stream ended; cut off so that the run can end", sub.stall)
	}
	return err
}

// subWriter writes to a subscriber's connection in chunks of at most
// subscriberBuffer bytes and records each as progress. Once the stream has
// ended (subscriber.end) each chunk has the stall timeout to go, so that a
// subscriber that still reads, however slowly, gets the rest and one that
// has stopped is cut off within the stall timeout.
type subWriter struct{ sub *subscriber }

// Write writes p to the connection.
func (w subWriter) Write(p []byte) (int, error) {
	sub := w.sub
	done := 0
	for done < len(p) {
		chunk := p[done:min(len(p), done+subscriberBuffer)]
		if sub.ending.Load() {
			if err := sub.conn.SetWriteDeadline(time.Now().Add(sub.stall)); err != nil {
				return done, err
			}
		}
		n, err := sub.conn.Write(chunk)
		done += n
		if err != nil {
			return done, err
		}
		sub.progress()
	}
	return done, nil
}

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
		if len(sub.q) == 1 {
			// It had nothing to take: the time before does not count
			// against it (see runWait).
			sub.progress()
		}
		return true
	default:
		return false
	}
}

// runWait is a clock that runs only while the writer (the run) waits for
// a subscriber to make room in its queue. A subscriber stalls when it
// takes nothing while this clock advances by its stall timeout, whichever
// subscriber the writer waits for meanwhile, from its last progress or
// from when a record went into its empty queue (time in which it had
// nothing to take does not count): the stall timeouts of
// subscribers that stall together run at once, so that they hold the run
// up for one StallTimeout in all, however many they are (before, the
// writer waited for them one after another, N stalled subscribers holding
// the run up N times as long). Time in which the writer does not wait
// (the run computes) does not count: a subscriber is never cut off for
// being slow while the run did not wait for it.
type runWait struct {
	mu    sync.Mutex
	total time.Duration // the waits that ended
	since time.Time     // the start of the wait going on; zero when none
}

// now returns how long the writer has waited, in all.
func (w *runWait) now() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	d := w.total
	if !w.since.IsZero() {
		d += time.Since(w.since)
	}
	return d
}

// start starts a wait; stop ends it.
func (w *runWait) start() {
	w.mu.Lock()
	w.since = time.Now()
	w.mu.Unlock()
}

func (w *runWait) stop() {
	w.mu.Lock()
	w.total += time.Since(w.since)
	w.since = time.Time{}
	w.mu.Unlock()
}

// send queues r for sub, waiting while its queue is full. It returns false
// when the subscriber left or the server was aborted meanwhile, or when the
// subscriber took nothing while the writer waited for its stall timeout
// (see runWait; it is then disconnected).
func (s *Server) send(sub *subscriber, r *record) bool {
	if s.trySend(sub, r) {
		return true
	}
	s.waits.start()
	defer s.waits.stop()
	for {
		left := sub.stall - (s.waits.now() - time.Duration(sub.lastProgress.Load()))
		if left <= 0 {
			break
		}
		t := time.NewTimer(left)
		select {
		case sub.q <- r:
			t.Stop()
			return true
		case <-sub.gone:
			t.Stop()
			return false
		case <-s.abort:
			t.Stop()
			return false
		case <-t.C:
			// It may have taken bytes of a long record meanwhile: look again.
		}
	}
	if s.trySend(sub, r) {
		return true
	}
	what := fmt.Sprintf("records that are never dropped waited %v for room (--on-slow drop)", sub.stall)
	if sub.policy == Block {
		what = fmt.Sprintf("the run waited %v for subscribers (--on-slow block)", sub.stall)
	}
	s.fail(sub, fmt.Errorf("it took nothing while %s; cut off so that the run and the other subscribers go on", what))
	return false
}
