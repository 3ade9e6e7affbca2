package cpu

import (
	"fmt"
	"slices"
	"time"
)

// adaptive chooses between the two layouts of a network whose step is too
// short to be sure that a second thread pays (stepWork between
// adaptiveMinWork and parallelMinWork): Load prepares both, and Advance
// times its calls on each, alternately, after a first call that warms the
// caches, until each layout has run adaptiveCalls calls and adaptiveTime in
// all, or adaptiveMaxCalls calls; then the faster per step (the median of
// its calls, which one call that lost its core to another process does not
// move) runs the rest of the run. The layout changes only between calls, when no thread runs, and
// no state that outlives a step depends on it (see layout), so the results
// are those of any fixed thread count.
type adaptive struct {
	on        bool       // both layouts are loaded
	alternate bool       // tests: change layout at every call, never decide
	lays      [2]*layout // one thread, then the split
	cur       int        // the layout chosen (valid once decided)
	decided   bool
	warm      bool             // the first call (not timed) has run
	took      [2]time.Duration // time spent in the timed calls on each layout
	perCall   [2][]float64     // their times per step, in µs
	calls     [2]int           // how many
}

// Limits of the measurement: each layout runs at least adaptiveCalls
// timed calls, both together at least adaptiveTime, each at most
// adaptiveMaxCalls.
const (
	adaptiveCalls    = 4
	adaptiveTime     = 20 * time.Millisecond
	adaptiveMaxCalls = 64
)

// measuring reports whether the next call picks a layout and is timed.
func (a *adaptive) measuring() bool { return a.on && !a.decided }

// next returns the layout of the next call: the split one for the first
// (warm-up) call, then the one with fewer timed calls.
func (a *adaptive) next() int {
	switch {
	case a.alternate:
		return (a.calls[0] + a.calls[1]) % 2
	case !a.warm:
		return 1
	case a.calls[0] <= a.calls[1]:
		return 0
	}
	return 1
}

// record counts a call of n steps on layout i that took d, and decides
// once the measurement is complete.
func (a *adaptive) record(i int, d time.Duration, n int) {
	if !a.warm && !a.alternate {
		a.warm = true
		a.cur = i
		return
	}
	a.took[i] += d
	if n > 0 {
		a.perCall[i] = append(a.perCall[i], float64(d.Nanoseconds())/1000/float64(n))
	}
	a.calls[i]++
	a.cur = i
	if a.alternate {
		return
	}
	enough := a.calls[0] >= adaptiveCalls && a.calls[1] >= adaptiveCalls && a.took[0]+a.took[1] >= adaptiveTime
	if enough || min(a.calls[0], a.calls[1]) >= adaptiveMaxCalls {
		a.decided = true
		a.cur = 0
		if a.perStep(1) < a.perStep(0) {
			a.cur = 1
		}
	}
}

// perStep returns the median wall time of a step in the timed calls on
// layout i, in µs (0 before any).
func (a *adaptive) perStep(i int) float64 {
	x := slices.Clone(a.perCall[i])
	if len(x) == 0 {
		return 0
	}
	slices.Sort(x)
	if len(x)%2 == 1 {
		return x[len(x)/2]
	}
	return (x[len(x)/2-1] + x[len(x)/2]) / 2
}

// describe says which layout runs and why, for Describe.
func (a *adaptive) describe() string {
	one, split := a.lays[0].used, a.lays[1].used
	if !a.decided {
		return fmt.Sprintf("measuring %d and %d", one, split)
	}
	return fmt.Sprintf("%d used after measuring %.1f µs/step on 1 thread, %.1f on %d (medians)", a.lays[a.cur].used, a.perStep(0), a.perStep(1), split)
}
