package cpu

import (
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/synapse"
)

// stpState is the short-term plasticity state of a network's STP sets
// (network.STPSet): per entry u, x, the stamp of the last spike and the
// factor u·x of a spike, kept per step parity (f[t&1]). A neuron's entries
// are written only by the thread that updates the neuron. The factor of a
// step-t spike is written by update(t) and read by deliver(t), which may
// still run on another thread while update(t+1) runs (there is no barrier
// between deliver and the next update): update(t+1) writes f[(t+1)&1], so a
// neuron that fires on consecutive steps never overwrites a factor that is
// still being read.
type stpState struct {
	u, x  []float32
	f     [2][]float32
	last  []uint64
	byPop [][]int // per population: the sets it is the presynaptic population of
}

// newSTPState lays out and initialises the state (u = U, x = 1, last = 0).
func newSTPState(net *network.Network) stpState {
	n := net.STPStateSize()
	st := stpState{u: make([]float32, n), x: make([]float32, n), f: [2][]float32{make([]float32, n), make([]float32, n)},
		last: make([]uint64, n), byPop: make([][]int, len(net.Pops))}
	for k, set := range net.STP {
		st.byPop[set.Pre] = append(st.byPop[set.Pre], k)
		size := net.Pops[set.Pre].Size
		for i := set.Off; i < set.Off+size; i++ {
			st.u[i], st.x[i], st.last[i] = set.Coef.Init()
		}
	}
	return st
}

// spikes advances the state of population pi's sets for the neurons that
// fired at step t (ids ascending), as kernels/update.cu does per firing
// thread.
func (c *Backend) stpSpikes(pi int, t uint64, fired []uint32) {
	sets := c.stp.byPop[pi]
	if len(sets) == 0 {
		return
	}
	first := c.net.Pops[pi].First
	f := c.stp.f[t&1]
	for _, k := range sets {
		set := &c.net.STP[k]
		for _, g := range fired {
			i := set.Off + g - first
			f[i] = set.Coef.Spike(&c.stp.u[i], &c.stp.x[i], &c.stp.last[i], t)
		}
	}
}

// deliverPlastic delivers part row (with its stored weights wt, or nil for a
// compact population) of spike s of population pi, whose synapses onto some
// populations are plastic: the row's targets are walked one population at a
// time (rows are sorted by target); the weights onto a population with STDP
// are first depressed (and written back), and those onto a population with
// short-term plasticity are scaled by the set's factor of s's latest spike,
// as kernels/deliver.cu does per synapse.
func (c *Backend) deliverPlastic(t uint64, s uint32, pi int, row []uint32, wt []int32, base []uint64, inOff uint64) {
	net := c.net
	syn := &net.Syn
	dbits, dmask := syn.DelayBits, syn.DelayMask()
	np := len(net.Pops)
	ring := c.ring
	for q := range net.Pops {
		if len(row) == 0 {
			return
		}
		end := net.Pops[q].First + net.Pops[q].Size
		if row[0]>>dbits >= end {
			continue
		}
		n := len(row)
		if row[n-1]>>dbits >= end {
			n = network.SearchTarget(row, dbits, end)
		}
		if k := net.STDPSetOf(pi, q); k >= 0 {
			c.depress(k, t, s-net.Pops[pi].First, row[:n], wt[:n], net.Pops[q].First)
		}
		f, plastic := float32(1), false
		if k := net.STPSetOf(pi, q); k >= 0 {
			set := &net.STP[k]
			f, plastic = c.stp.f[t&1][set.Off+s-net.Pops[pi].First], true
		}
		switch {
		case wt == nil:
			// Compact: one weight for the segment, scaled once (the same
			// value the GPU scales per synapse).
			wk := syn.PopWeight[pi*np+q]
			if plastic {
				wk = synapse.Scale(wk, f)
			}
			off := uint64(uint32(wk)>>31) * inOff
			for _, p := range row[:n] {
				ring[base[p&dmask]+uint64(p>>dbits)+off] += wk
			}
		case plastic:
			for j, p := range row[:n] {
				wk := synapse.Scale(wt[j], f)
				ring[base[p&dmask]+uint64(p>>dbits)+uint64(uint32(wk)>>31)*inOff] += wk
			}
		default:
			for j, p := range row[:n] {
				wk := wt[j]
				ring[base[p&dmask]+uint64(p>>dbits)+uint64(uint32(wk)>>31)*inOff] += wk
			}
		}
		row = row[n:]
		if wt != nil {
			wt = wt[n:]
		}
	}
}
