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
// (synapse.TraceAt), and the coefficients at the current learning rate.
//
// Who writes what, so that every thread count gives the same weights: the
// weight of a plastic synapse is written only by the thread that owns its
// target, in update(t) (potentiation when the target fires at t, in
// ascending order of its incoming synapses) and in deliver(t) (depression
// when the source's spike of step t is delivered); the two never overlap
// on one thread, and each reads only traces of spikes before step t. A
// postsynaptic trace is written and read only by its neuron's owner. A
// presynaptic trace is written by its neuron's owner in update(t) while
// other threads' update(t) may read it: records are loaded and stored
// atomically (one uint64), and TraceAt gives the same value for step t
// from the record before and after the spike of step t, so a reader sees
// the same trace either way.
type stdpState struct {
	coef   []synapse.STDP  // per set, at rate
	plus   []synapse.Decay // per set: the presynaptic traces' decay, tabulated
	minus  []synapse.Decay // per set: the postsynaptic traces' decay, tabulated
	rate   float64
	pre    []uint64 // presynaptic trace records, accessed atomically
	post   []uint64 // postsynaptic trace records
	asPre  [][]int  // per population: the sets it is the presynaptic population of
	asPost [][]int  // per population: the sets it is the postsynaptic population of
	// sink takes, per thread, the loads that bring a neuron's incoming
	// weights into the cache before they are updated (one cache line each,
	// so that threads do not share one).
	sink [][16]int32
}

// newSTDPState lays out the traces (no spike yet) and the coefficients at
// the learning rate of step 0.
func newSTDPState(net *network.Network, threads int) (stdpState, error) {
	np, nq := net.STDPTraceSizes()
	st := stdpState{pre: make([]uint64, np), post: make([]uint64, nq), asPre: make([][]int, len(net.Pops)), asPost: make([][]int, len(net.Pops)),
		coef: make([]synapse.STDP, len(net.STDP)), rate: -1, sink: make([][16]int32, threads)}
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
// that fired at step t (ids ascending), as kernels/update.cu does per
// firing thread: as
// a postsynaptic neuron, each potentiates its incoming plastic synapses by
// the presynaptic traces of spikes before t, then counts its spike in its
// postsynaptic traces; as a presynaptic neuron, it counts its spike in its
// presynaptic traces.
func (c *Backend) stdpSpikes(w, pi int, t uint64, fired []uint32) {
	if len(fired) == 0 {
		return
	}
	net := c.net
	first := net.Pops[pi].First
	for _, k := range c.stdp.asPost[pi] {
		set := &net.STDP[k]
		co := &c.stdp.coef[k]
		plus, minus := &c.stdp.plus[k], &c.stdp.minus[k]
		pre := c.stdp.pre[set.PreOff:]
		post := c.stdp.post[set.PostOff:]
		for _, g := range fired {
			j := g - first
			if co.Potentiate != 0 {
				lo, hi := set.PostPtr[j], set.PostPtr[j+1]
				idx := set.PostW[lo:hi]
				// The weights lie one per row, far apart: load them all
				// first (independent loads, which the core overlaps), then
				// update them from the cache.
				var touch int32
				for _, x := range idx {
					touch |= c.weight[x]
				}
				c.stdp.sink[w][0] |= touch
				src := set.PostPre[lo:hi]
				for n, x := range idx {
					kp := plus.TraceAt(atomic.LoadUint64(&pre[src[n]]), t)
					if kp != 0 {
						c.weight[x] = co.Facilitate(c.weight[x], kp)
					}
				}
			}
			post[j] = minus.TraceSpike(post[j], t)
		}
	}
	for _, k := range c.stdp.asPre[pi] {
		set := &net.STDP[k]
		plus := &c.stdp.plus[k]
		pre := c.stdp.pre[set.PreOff:]
		for _, g := range fired {
			i := g - first
			atomic.StoreUint64(&pre[i], plus.TraceSpike(atomic.LoadUint64(&pre[i]), t))
		}
	}
}

// depress applies the depression of spike step t of a presynaptic neuron
// to the plastic synapses row (packed words) with weights wt onto set k's
// postsynaptic population, whose first neuron is qFirst, writing the new
// weights back.
func (c *Backend) depress(k int, t uint64, row []uint32, wt []int32, qFirst uint32) {
	co := &c.stdp.coef[k]
	if co.Depress == 0 {
		return
	}
	minus := &c.stdp.minus[k]
	post := c.stdp.post[c.net.STDP[k].PostOff:]
	dbits := c.net.Syn.DelayBits
	for j, p := range row {
		if km := minus.TraceAt(post[p>>dbits-qFirst], t); km != 0 {
			wt[j] = co.Depression(wt[j], km)
		}
	}
}

// SetLearningRate sets the factor on every STDP weight change from the
// next step on (network phases set it too, at their boundaries).
func (c *Backend) SetLearningRate(r float64) error {
	if c.net == nil {
		return fmt.Errorf("cpu: SetLearningRate before Load")
	}
	return c.stdp.setRate(c.net, r)
}

// Weights returns a copy of the current fixed-point weights of every
// stored synapse, laid out as network.Synapses.Weight.
func (c *Backend) Weights() ([]int32, error) {
	if c.net == nil {
		return nil, fmt.Errorf("cpu: Weights before Load")
	}
	return slices.Clone(c.weight), nil
}
