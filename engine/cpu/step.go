package cpu

import (
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/neuron"
	"github.com/myelin-sim/myelin/engine/rng"
)

// update runs phase one of step t for global neurons [lo, hi): spike-array
// events, inputs and the model step of every neuron, appending the ids of
// those that fire to out (ascending). It mirrors kernels/update.cu.
func (c *Backend) update(w int, t uint64, lo, hi uint32, events []network.SpikeEvent, out []uint32) []uint32 {
	net := c.net
	n := uint64(net.N)
	slot := t % uint64(net.RingSlots)
	inOff := uint64(net.RingSlots) * n
	ex := c.ring[slot*n : (slot+1)*n]
	in := c.ring[inOff+slot*n : inOff+(slot+1)*n]
	for _, e := range events {
		if e.Target >= lo && e.Target < hi {
			if e.Weight >= 0 {
				ex[e.Target] += e.Weight
			} else {
				in[e.Target] += e.Weight
			}
		}
	}
	if t%4 == 0 {
		c.refreshPoisson(t, lo, hi)
	}
	sc := &c.scratch[w]
	for pi := range net.Pops {
		pop := &net.Pops[pi]
		a, b := max(lo, pop.First), min(hi, pop.First+pop.Size)
		if a >= b {
			continue
		}
		if !pop.Spiking() {
			c.updateRate(t, pi, a, b)
			continue
		}
		exIn, inIn, iext := c.inputs(t, pi, a, b, ex, in, sc)
		out = c.spiking[pi].Update(&c.state, a, b, &neuron.Input{Ex: exIn, In: inIn, Ext: iext}, out)
	}
	return out
}

// scratch holds one thread's per-neuron inputs of the current population.
type scratch struct {
	qe, qi         []int64
	exIn, inIn, dc []float32
}

// inputs computes the step-t inputs of spiking neurons [a, b) of population
// pi: the ring slot (read and cleared), Poisson counts × weight added in
// int64, both converted once to float32; and the sum of active DC currents,
// in input order. For a one-channel model (iaf_psc_delta) exIn holds the
// sum of both channels and inIn is unused.
func (c *Backend) inputs(t uint64, pi int, a, b uint32, ex, in []int32, sc *scratch) (exIn, inIn, dc []float32) {
	net := c.net
	n := int(b - a)
	qe, qi := sc.qe[:n], sc.qi[:n]
	for k, g := 0, a; g < b; k, g = k+1, g+1 {
		qe[k], qi[k] = int64(ex[g]), int64(in[g])
		ex[g], in[g] = 0, 0
	}
	for _, src := range c.poisson[pi] {
		p := &net.Poisson[src]
		lo, hi := max(a, p.First), min(b, p.First+p.Count)
		if t < p.Start || t >= p.Stop || lo >= hi {
			continue
		}
		ix := &c.pindex[src]
		cache := c.cache[c.cacheOff[src]+lo-p.First : c.cacheOff[src]+hi-p.First]
		w := int64(p.Weight)
		q := qe[lo-a : hi-a]
		if w < 0 {
			q = qi[lo-a : hi-a]
		}
		lane := t % 4
		for k := range q {
			q[k] += int64(ix.count(cache[k][lane])) * w
		}
	}
	si := c.scaleInv[pi]
	exIn, inIn, dc = sc.exIn[:n], sc.inIn[:n], sc.dc[:n]
	if net.Pops[pi].Model.Channels == 1 {
		for k := range exIn {
			exIn[k] = float32(qe[k]+qi[k]) * si
		}
	} else {
		for k := range exIn {
			exIn[k] = float32(qe[k]) * si
			inIn[k] = float32(qi[k]) * si
		}
	}
	clear(dc)
	for _, src := range c.dc[pi] {
		d := &net.DC[src]
		lo, hi := max(a, d.First), min(b, d.First+d.Count)
		if t < d.Start || t >= d.Stop || lo >= hi {
			continue
		}
		for k := lo - a; k < hi-a; k++ {
			dc[k] += d.Amp
		}
	}
	return exIn, inIn, dc
}

// dcInput sums the DC currents active at step t on neuron g, in input order.
func (c *Backend) dcInput(t uint64, pi int, g uint32) float32 {
	var iext float32
	for _, k := range c.dc[pi] {
		d := &c.net.DC[k]
		if t >= d.Start && t < d.Stop && g >= d.First && g < d.First+d.Count {
			iext += d.Amp
		}
	}
	return iext
}

// refreshPoisson draws the Philox blocks of steps [t, t+4) for the Poisson
// inputs of neurons [lo, hi).
func (c *Backend) refreshPoisson(t uint64, lo, hi uint32) {
	for k := range c.net.Poisson {
		p := &c.net.Poisson[k]
		if t >= p.Stop || t+4 <= p.Start {
			continue
		}
		a, b := max(lo, p.First), min(hi, p.First+p.Count)
		blk := t / 4
		for g := a; g < b; g++ {
			c.cache[c.cacheOff[k]+g-p.First] = rng.Philox4x32([4]uint32{g, uint32(blk), uint32(blk >> 32), p.Purpose}, c.key)
		}
	}
}

// poissonIndex accelerates the inversion of one Poisson input's CDF: for
// each value of a draw's top byte it holds the smallest k that any draw with
// that top byte can yield, so the scan usually ends at its first compare.
// Any correct search gives the same k as the kernels' search.
type poissonIndex struct {
	start [256]uint16
	base  uint32
	thr   []uint32
}

func newPoissonIndex(base uint32, thr []uint32) poissonIndex {
	ix := poissonIndex{base: base, thr: thr}
	k := 0
	for b := range ix.start {
		lo := uint32(b) << 24
		for k < len(thr)-1 && thr[k] <= lo {
			k++
		}
		ix.start[b] = uint16(min(k, 65535))
	}
	return ix
}

// count inverts the Poisson CDF: Base + the first k with u < thr[k] (the
// last entry if none).
func (ix *poissonIndex) count(u uint32) uint32 {
	thr := ix.thr
	for k := int(ix.start[u>>24]); k < len(thr); k++ {
		if u < thr[k] {
			return ix.base + uint32(k)
		}
	}
	return ix.base + uint32(len(thr)-1)
}

// updateRate advances rate neurons [a, b) of population pi: their new rates
// go into the history slot of step t+1.
func (c *Backend) updateRate(t uint64, pi int, a, b uint32) {
	net := c.net
	pop := &net.Pops[pi]
	n := uint64(net.N)
	rs := uint64(net.RateSlots)
	cur := c.rhist[(t%rs)*n : (t%rs+1)*n]
	next := c.rhist[((t+1)%rs)*n : ((t+1)%rs+1)*n]
	for g := a; g < b; g++ {
		i := g - pop.First
		var syn float32
		for _, k := range c.rateIn[pi] {
			rp := &net.RateProj[k]
			src := net.Pops[rp.Pre].First
			s := (t + 1 - uint64(rp.DelaySteps) + rs) % rs
			r := c.rhist[s*n+uint64(src) : s*n+uint64(src)+uint64(net.Pops[rp.Pre].Size)]
			if rp.Table != nil {
				m := uint32(len(rp.Table))
				for j := uint32(0); j < m; j++ {
					d := i - j
					if j > i {
						d += m
					}
					syn += float32(rp.Table[d] * r[j])
				}
			} else {
				for e := rp.ColPtr[i]; e < rp.ColPtr[i+1]; e++ {
					syn += float32(rp.W[e] * r[rp.Src[e]])
				}
			}
		}
		next[g] = c.rate[pi].Step(cur[g], syn, c.dcInput(t, pi, g))
	}
}

// deliver runs phase two of step t: every spike of this step adds its
// synapses' weights into the ring slots of their arrival steps, for the
// targets that thread w owns (its part of each row was found at Load). A
// negative weight goes to the inhibitory half of the ring, which starts
// RingSlots × N words later. Rows of compact populations store no weights:
// they are delivered one target population at a time, with that
// population's weight (rows are sorted by target).
func (c *Backend) deliver(w int, t uint64) {
	net := c.net
	syn := &net.Syn
	n := uint64(net.N)
	slots := uint64(net.RingSlots)
	base := c.slotBase[w]
	for d := range base {
		base[d] = (t + uint64(d)) % slots * n
	}
	inOff := slots * n
	ring := c.ring
	dbits, dmask := syn.DelayBits, syn.DelayMask()
	stride := uint64(len(c.parts) + 1)
	for _, list := range c.spikes {
		for _, s := range list {
			r0 := syn.RowPtr[s]
			a, b := uint64(c.split[uint64(s)*stride+uint64(w)]), uint64(c.split[uint64(s)*stride+uint64(w)+1])
			if a == b {
				continue
			}
			row := syn.Packed[r0+a : r0+b]
			pi := net.PopOf(s)
			if wb := syn.WeightBase[pi]; wb != network.Compact {
				o := wb + r0 - syn.RowPtr[net.Pops[pi].First]
				wt := syn.Weight[o+a : o+b]
				for k, p := range row {
					wk := wt[k]
					idx := base[p&dmask] + uint64(p>>dbits) + uint64(uint32(wk)>>31)*inOff
					ring[idx] += wk
				}
				continue
			}
			// Compact: the row's targets lie in the populations of
			// c.targets[pi], in ascending order.
			for _, seg := range c.targets[pi] {
				if len(row) == 0 {
					break
				}
				if row[0]>>dbits >= seg.end {
					continue
				}
				end := len(row)
				if row[end-1]>>dbits >= seg.end {
					end = searchTarget(row, dbits, seg.end)
				}
				wk := seg.w
				off := uint64(uint32(wk)>>31) * inOff
				for _, p := range row[:end] {
					ring[base[p&dmask]+uint64(p>>dbits)+off] += wk
				}
				row = row[end:]
			}
		}
	}
}

// target is one population that a compact population projects onto:
// targets [first, end) and their weight.
type target struct {
	first, end uint32
	w          int32
}

// compactTargets lists, for each compact population, the populations it
// has synapses onto (ascending), with their weights.
func compactTargets(net *network.Network) [][]target {
	np := len(net.Pops)
	out := make([][]target, np)
	byName := map[string]int{}
	for i, p := range net.Pops {
		byName[p.Name] = i
	}
	has := map[[2]int]bool{}
	for _, pr := range net.Spec.GetProjections() {
		p, ok1 := byName[pr.GetPre()]
		q, ok2 := byName[pr.GetPost()]
		if ok1 && ok2 {
			has[[2]int{p, q}] = true
		}
	}
	for p := range net.Pops {
		if net.Syn.WeightBase[p] != network.Compact {
			continue
		}
		for q := range net.Pops {
			if has[[2]int{p, q}] {
				pop := &net.Pops[q]
				out[p] = append(out[p], target{pop.First, pop.First + pop.Size, net.Syn.PopWeight[p*np+q]})
			}
		}
	}
	return out
}

// searchTarget returns the first index whose target is >= g.
func searchTarget(row []uint32, dbits, g uint32) int {
	lo, hi := 0, len(row)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if row[m]>>dbits < g {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
