package sim

import (
	"fmt"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/stream"
)

// recorder encodes the backend's blocks (spikes and state samples) into the
// stream on its own goroutine. Two blocks circulate: the backend fills one
// while the recorder writes the other.
type recorder struct {
	ws      []*stream.Writer // every block goes to each
	net     *network.Network
	filter  bool // some spiking populations are not recorded
	pool    chan *backend.Block
	work    chan *backend.Block
	done    chan error    // the loop's result, once work is closed
	failed  chan struct{} // closed at the first write error
	failure error         // that error; read only after failed is closed
	ids     []uint32
	counts  []uint32
	// maxIDs caps the spikes of one record: a larger block is written as
	// several records of consecutive steps (a single step is never split).
	maxIDs int
}

// maxIDsPerRecord keeps a spike record near 20 MB at most, far below the
// readers' 1 GiB record limit, however many neurons fire in a block.
const maxIDsPerRecord = 1 << 22

func newRecorder(ws []*stream.Writer, net *network.Network) *recorder {
	s := &recorder{ws: ws, net: net, pool: make(chan *backend.Block, 2), work: make(chan *backend.Block, 2), done: make(chan error, 1), failed: make(chan struct{}), maxIDs: maxIDsPerRecord}
	for _, p := range net.Pops {
		if p.Spiking() && !p.Recorded {
			s.filter = true
		}
	}
	s.pool <- &backend.Block{}
	s.pool <- &backend.Block{}
	go s.loop()
	return s
}

// free returns an empty block, or nil once the recorder has failed.
func (s *recorder) free() *backend.Block {
	select {
	case <-s.failed:
		return nil
	default:
	}
	select {
	case b := <-s.pool:
		return b
	case <-s.failed:
		return nil
	}
}

// err returns the recorder's write error after free returned nil.
func (s *recorder) err() error {
	<-s.failed
	return s.failure
}

func (s *recorder) submit(b *backend.Block) { s.work <- b }

// close waits for the queued blocks and returns the first write error.
func (s *recorder) close() error {
	close(s.work)
	return <-s.done
}

func (s *recorder) loop() {
	var err error
	for b := range s.work {
		if err == nil && len(s.ws) > 0 {
			if err = s.write(b); err != nil {
				s.failure = err
				close(s.failed)
			}
		}
		s.pool <- b
	}
	s.done <- err
}

func (s *recorder) write(b *backend.Block) error {
	counts, ids := b.Counts, b.IDs
	if s.filter {
		s.counts, s.ids = s.counts[:0], s.ids[:0]
		k := 0
		for _, c := range b.Counts {
			var kept uint32
			for _, id := range b.IDs[k : k+int(c)] {
				if s.net.Pops[s.net.PopOf(id)].Recorded {
					s.ids = append(s.ids, id)
					kept++
				}
			}
			k += int(c)
			s.counts = append(s.counts, kept)
		}
		counts, ids = s.counts, s.ids
	}
	for _, w := range s.ws {
		if err := s.writeSpikes(w, b.FirstStep, counts, ids); err != nil {
			return err
		}
		for i, p := range s.net.Probes {
			n := backend.SampledSteps(b.FirstStep, len(b.Counts), p.Every)
			if n == 0 {
				continue
			}
			first := (b.FirstStep + uint64(p.Every) - 1) / uint64(p.Every) * uint64(p.Every)
			if err := w.WriteState(uint32(i), first, uint32(n), b.Samples[i]); err != nil {
				return fmt.Errorf("state block of probe %d at step %d: %w", i, first, err)
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// writeSpikes writes a block's spikes as one record, or as several records
// of consecutive steps when it holds more than maxIDs spikes.
func (s *recorder) writeSpikes(w *stream.Writer, first uint64, counts, ids []uint32) error {
	start, k0, k := 0, 0, 0
	for i, c := range counts {
		if k-k0+int(c) > s.maxIDs && i > start {
			if err := w.WriteSpikes(first+uint64(start), counts[start:i], ids[k0:k]); err != nil {
				return fmt.Errorf("spike block at step %d: %w", first+uint64(start), err)
			}
			start, k0 = i, k
		}
		k += int(c)
	}
	if err := w.WriteSpikes(first+uint64(start), counts[start:], ids[k0:k]); err != nil {
		return fmt.Errorf("spike block at step %d: %w", first+uint64(start), err)
	}
	return nil
}
