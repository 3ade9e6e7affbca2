package live

import (
	"bytes"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	myelinpb "github.com/myelin-sim/myelin/proto"
)

// Write takes the next bytes of a stream. It serves every record completed
// by p and keeps an incomplete one for the next call; it returns len(p)
// unless the bytes are not a stream of length-delimited records. It blocks
// while a subscriber in Block mode (or any subscriber, for records that are
// never dropped) has a full queue. After Abort it discards p. A server
// with a Filter refuses Write: feed it through StreamWriter.
func (s *Server) Write(p []byte) (int, error) {
	if !s.opts.Filter.empty() {
		return 0, errors.New("live: a filtered server takes its stream from StreamWriter, which applies the filter as blocks are encoded")
	}
	return s.write(p)
}

// write is Write without the filter check: the input of StreamWriter.
func (s *Server) write(p []byte) (int, error) {
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
			return 0, fmt.Errorf("live: input byte %d: not a stream of length-delimited records: %w", end, err)
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
			return 0, fmt.Errorf("live: %w", err)
		}
		complete = complete[n:]
		if err := s.dispatch(r); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// dispatch serves one record to every subscriber.
func (s *Server) dispatch(r *record) error {
	s.mu.Lock()
	if s.trailerOut {
		s.mu.Unlock()
		return errors.New("live: a record after the trailer")
	}
	switch r.Kind {
	case kindHeader:
		var h myelinpb.Header
		if err := proto.Unmarshal(r.Msg, &h); err != nil {
			s.mu.Unlock()
			return fmt.Errorf("live: bad header: %w", err)
		}
		pops, err := newPopRanges(&h)
		if err != nil {
			s.mu.Unlock()
			return fmt.Errorf("live: bad header: %w", err)
		}
		s.header, s.pops, s.version = r, pops, h.GetFormatVersion()
	case kindSpikes, kindGap:
		s.nextStep = max(s.nextStep, r.End)
		s.spikes += r.Spikes
	case kindTrailer:
		s.trailerOut = true
		for _, ln := range s.listeners {
			ln.Close() // the stream is complete: nobody else may join
		}
		s.closePending()
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
	if r.Kind == kindSpikes {
		s.nSpikes.Add(r.Spikes)
	}
	var trailer *myelinpb.Trailer
	if r.Kind == kindTrailer {
		trailer = &myelinpb.Trailer{}
		if err := proto.Unmarshal(r.Msg, trailer); err != nil {
			return fmt.Errorf("live: bad trailer: %w", err)
		}
	}
	for _, sub := range subs {
		if err := s.deliver(sub, r, trailer); err != nil {
			return err
		}
	}
	if r.Kind == kindTrailer {
		for _, sub := range subs {
			if sub.missed > 0 {
				s.logf("live stream: %s missed %d spikes, reported in %d gaps", sub.name, sub.missed, sub.gaps)
			}
			sub.finish()
		}
	}
	return nil
}

// popCounts returns (and keeps) a spike block's spikes per population. Only
// the writer calls it, and only the writer changes s.pops.
func (s *Server) popCounts(r *record) ([]uint64, error) {
	if r.pops == nil {
		pops, err := s.pops.countSpikes(r.Msg)
		if err != nil {
			return nil, fmt.Errorf("live: %w", err)
		}
		r.pops = pops
	}
	return r.pops, nil
}
