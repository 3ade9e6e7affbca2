package cpu

import (
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/synapse"
)

// stdpState is the spike-timing-dependent plasticity state of a network's
// STDP sets (network.STDPSet): one trace record per neuron and set
// (synapse.TraceAt), the coefficients at the current learning rate, and
// the postsynaptic spikes whose potentiation is still pending.
//
// The rule (docs/plasticity.md, and kernels/update.cu, which applies it as
// it is written) potentiates a neuron's incoming synapses when it fires.
// Those synapses lie one per presynaptic row, so doing it then would cost
// a cache miss per synapse. The CPU backend defers it, as NEST does: a
// neuron's spikes wait in a short history (hist), and a synapse takes the
// potentiations of the waiting spikes when its presynaptic neuron's spike
// is delivered, walking its row in order, just before its depression. The
// order of the updates of every synapse is the eager order (potentiations
// by post spikes up to the pre spike's step, then its depression), and
// each takes the same presynaptic trace (that of the pre spikes before the
// post spike), so the weights are the eager ones bit for bit; parity with
// the kernels checks it. Pending potentiations are applied to all of a
// neuron's incoming synapses when its history is full, and to every
// synapse before the learning rate changes and before the weights are read.
//
// Who writes what, so that every thread count gives the same weights: the
// weight of a plastic synapse, and its target's history and trace, are
// written only by the thread that owns the target, in update(t) (a full
// history's flush) and in deliver(t) (pending potentiations and the
// depression of a delivered spike). A presynaptic trace record is written
// by its neuron's owner in update(t), while other threads' update(t) may
// read it: records are stored and loaded atomically (one uint64), and the
// record before a spike of step t is kept per step parity (prev[t&1]) for
// readers that find the record already past t.
type stdpState struct {
	coef  []synapse.STDP  // per set, at rate
	plus  []synapse.Decay // per set: the presynaptic traces' decay, tabulated
	minus []synapse.Decay // per set: the postsynaptic traces' decay, tabulated
	rate  float64
	pre   []uint64    // presynaptic trace records, accessed atomically
	prev  [2][]uint64 // per step parity t&1: a presynaptic record before its neuron's spike of step t
	post  []uint64    // postsynaptic trace records
	// Per postsynaptic entry (as post): the steps of the spikes whose
	// potentiation may still be pending for some incoming synapse
	// (hist[e*histCap:], histLen[e] of them, ascending): those after a
	// synapse's presynaptic spike are pending for it. A flush applies them
	// to every incoming synapse and empties the history.
	hist    []uint32
	histLen []uint8
	histCap int     // pending spikes kept per entry (histCap; tests set less)
	asPre   [][]int // per population: the sets it is the presynaptic population of
	asPost  [][]int // per population: the sets it is the postsynaptic population of
	// sink takes, per thread, the loads that bring a flushed neuron's
	// incoming weights into the cache (one cache line each, so that
	// threads do not share one).
	sink [][16]int32
}

// histCap is the postsynaptic spikes a neuron keeps pending per set; the
// next spike first applies them to all its incoming synapses
// (plan.STDPHistoryBytes counts them).
const histCap = 32

// newSTDPState lays out the traces (no spike yet), histories of hc spikes
// and the coefficients at the learning rate of step 0.
func newSTDPState(net *network.Network, hc, threads int) (stdpState, error) {
	np, nq := net.STDPTraceSizes()
	st := stdpState{pre: make([]uint64, np), prev: [2][]uint64{make([]uint64, np), make([]uint64, np)}, post: make([]uint64, nq),
		hist: make([]uint32, int(nq)*hc), histLen: make([]uint8, nq), histCap: hc, sink: make([][16]int32, threads),
		asPre: make([][]int, len(net.Pops)), asPost: make([][]int, len(net.Pops)),
		coef: make([]synapse.STDP, len(net.STDP)), rate: -1}
	for k, set := range net.STDP {
		st.asPre[set.Pre] = append(st.asPre[set.Pre], k)
		st.asPost[set.Post] = append(st.asPost[set.Post], k)
	}
	if err := st.setRate(net, net.LearningRate(0)); err != nil {
		return st, err
	}
	for k := range net.STDP {
		st.plus = append(st.plus, synapse.NewDecay(st.coef[k].PlusRate, decayTable))
		st.minus = append(st.minus, synapse.NewDecay(st.coef[k].MinusRate, decayTable))
	}
	return st, nil
}

// decayTable is the length of the trace decay tables: lags of up to
// 8,192 steps are looked up, longer ones computed.
const decayTable = 1 << 13

// setRate recomputes the coefficients for learning rate r.
func (s *stdpState) setRate(net *network.Network, r float64) error {
	if r == s.rate {
		return nil
	}
	for k := range net.STDP {
		set := &net.STDP[k]
		c, err := synapse.NewSTDP(set.Params, net.Dt, net.Pops[set.Post].Shift, r)
		if err != nil {
			return fmt.Errorf("stdp set %d (%s onto %s): %w", k, net.Pops[set.Pre].Name, net.Pops[set.Post].Name, err)
		}
		s.coef[k] = c
	}
	s.rate = r
	return nil
}

// stdpSpikes runs, on thread w, the STDP work of population pi's neurons
// that fired at step t (ids ascending), as kernels/update.cu does per firing thread
// except for the potentiation, which waits (see stdpState): as a
// postsynaptic neuron, each records its spike in its history (after
// applying the pending spikes if the history is full) and counts it in its
// postsynaptic traces; as a presynaptic neuron, it counts its spike in its
// presynaptic traces.
func (c *Backend) stdpSpikes(w, pi int, t uint64, fired []uint32) {
	if len(fired) == 0 {
		return
	}
	net := c.net
	st := &c.stdp
	first := net.Pops[pi].First
	for _, k := range st.asPost[pi] {
		set := &net.STDP[k]
		minus := &st.minus[k]
		for _, g := range fired {
			e := set.PostOff + g - first
			if int(st.histLen[e]) == st.histCap {
				c.flushPost(w, k, g-first, t)
			}
			st.hist[int(e)*st.histCap+int(st.histLen[e])] = uint32(t)
			st.histLen[e]++
			st.post[e] = minus.TraceSpike(st.post[e], t)
		}
	}
	prev := st.prev[t&1]
	for _, k := range st.asPre[pi] {
		set := &net.STDP[k]
		plus := &st.plus[k]
		for _, g := range fired {
			i := set.PreOff + g - first
			old := atomic.LoadUint64(&st.pre[i])
			prev[i] = old
			atomic.StoreUint64(&st.pre[i], plus.TraceSpike(old, t))
		}
	}
}

// preBefore returns the presynaptic record of entry i as it was before
// any spike of step t: the current one, or, if it already holds a spike
// of step t, the one kept for that step's parity.
func (s *stdpState) preBefore(i uint32, t uint64) uint64 {
	r := atomic.LoadUint64(&s.pre[i])
	if r>>32 == t+1 {
		return s.prev[t&1][i]
	}
	return r
}

// lastSpike returns the step of a record's last spike, or -1.
func lastSpike(rec uint64) int64 { return int64(rec>>32) - 1 }

// potentiate applies to weight w, of a synapse of set k from a neuron with
// presynaptic record rec onto postsynaptic entry e, the pending
// potentiations of e's spikes after the record's last spike and up to step
// upto, in order, each by the presynaptic trace at its step.
func (c *Backend) potentiate(k int, co *synapse.STDP, w int32, rec uint64, e uint32, upto uint64) int32 {
	st := &c.stdp
	lo := lastSpike(rec)
	h := st.hist[int(e)*st.histCap : int(e)*st.histCap+int(st.histLen[e])]
	n := len(h)
	for n > 0 && int64(h[n-1]) > lo {
		n--
	}
	plus := &st.plus[k]
	for _, q := range h[n:] {
		if uint64(q) > upto {
			break
		}
		if kp := plus.TraceAt(rec, uint64(q)); kp != 0 {
			w = co.Facilitate(w, kp)
		}
	}
	return w
}

// flushPost applies, on thread w at step t (before a spike of t is recorded), the
// pending potentiations of local postsynaptic neuron j of set k to all its
// incoming synapses, and empties its history.
func (c *Backend) flushPost(w, k int, j uint32, t uint64) {
	st := &c.stdp
	set := &c.net.STDP[k]
	e := set.PostOff + j
	if st.histLen[e] > 0 {
		if co := &st.coef[k]; co.Potentiate != 0 {
			src := set.PostPre[set.PostPtr[j]:set.PostPtr[j+1]]
			idx := set.PostW[set.PostPtr[j]:set.PostPtr[j+1]]
			// The weights lie one per row, far apart: load them all first
			// (independent loads, which the core overlaps), then update
			// them from the cache.
			var touch int32
			for _, x := range idx {
				touch |= c.weight[x]
			}
			st.sink[w][0] |= touch
			for n, x := range idx {
				rec := st.preBefore(set.PreOff+src[n], t)
				c.weight[x] = c.potentiate(k, co, c.weight[x], rec, e, t)
			}
		}
		st.histLen[e] = 0
	}
}

// flushAll applies every pending potentiation (between steps, no thread
// running): before the learning rate changes and before the weights are
// read.
func (c *Backend) flushAll() {
	for k := range c.net.STDP {
		set := &c.net.STDP[k]
		for j := range c.net.Pops[set.Post].Size {
			c.flushPost(0, k, j, c.step)
		}
	}
}

// depress handles the plastic synapses row (packed words) with weights wt
// of local presynaptic neuron i of set k, onto the set's postsynaptic
// population (first neuron qFirst), for i's spike of step t: each takes
// its pending potentiations (post spikes up to t), then its depression by
// its target's trace of the post spikes before t; the weights are written
// back.
func (c *Backend) depress(k int, t uint64, i uint32, row []uint32, wt []int32, qFirst uint32) {
	st := &c.stdp
	set := &c.net.STDP[k]
	co := &st.coef[k]
	minus := &st.minus[k]
	rec := st.prev[t&1][set.PreOff+i] // i's record before this spike
	dbits := c.net.Syn.DelayBits
	for j, p := range row {
		e := set.PostOff + p>>dbits - qFirst
		w := wt[j]
		if co.Potentiate != 0 && st.histLen[e] > 0 {
			w = c.potentiate(k, co, w, rec, e, t)
		}
		if co.Depress != 0 {
			if km := minus.TraceAt(st.post[e], t); km != 0 {
				w = co.Depression(w, km)
			}
		}
		wt[j] = w
	}
}

// SetLearningRate sets the factor on every STDP weight change from the
// next step on (network phases set it too, at their boundaries).
func (c *Backend) SetLearningRate(r float64) error {
	if c.net == nil {
		return fmt.Errorf("cpu: SetLearningRate before Load")
	}
	if len(c.net.STDP) > 0 && r != c.stdp.rate {
		c.flushAll()
	}
	return c.stdp.setRate(c.net, r)
}

// Weights returns a copy of the current fixed-point weights of every
// stored synapse, laid out as network.Synapses.Weight (pending
// potentiations applied first).
func (c *Backend) Weights() ([]int32, error) {
	if c.net == nil {
		return nil, fmt.Errorf("cpu: Weights before Load")
	}
	if len(c.net.STDP) > 0 {
		c.flushAll()
	}
	return slices.Clone(c.weight), nil
}
