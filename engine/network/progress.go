package network

import (
	"sync"
	"sync/atomic"
	"time"
)

// BuildProgress is what Options.Progress receives while a network builds.
type BuildProgress struct {
	// Phase says what the build is doing, e.g. "synapses: drawing (pass 1
	// of 2)".
	Phase string
	// Done and Total count units of work of the two passes over the
	// synapses (one unit: a presynaptic or postsynaptic neuron of a
	// projection, once per pass); Total is 0 until the synapses start.
	Done, Total uint64
	// Wall is the time since the build began.
	Wall time.Duration
}

// Fraction is Done / Total, or 0 before the synapses start.
func (p BuildProgress) Fraction() float64 {
	if p.Total == 0 {
		return 0
	}
	return min(1, float64(p.Done)/float64(p.Total))
}

// progress is the build's shared progress: written by the builder and its
// workers, read by the reporting goroutine.
type progress struct {
	phase       atomic.Value // string
	done, total atomic.Uint64
}

func (p *progress) setPhase(s string) { p.phase.Store(s) }

// report starts a goroutine that calls f every period (at least 1 ms) until
// the returned stop is called; stop waits for it.
func (p *progress) report(f func(BuildProgress), period time.Duration, start time.Time) (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(max(period, time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				phase, _ := p.phase.Load().(string)
				f(BuildProgress{Phase: phase, Done: p.done.Load(), Total: p.total.Load(), Wall: time.Since(start)})
			}
		}
	}()
	return func() {
		close(quit)
		wg.Wait()
	}
}
