package cpu

import (
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/rng"
)

// update runs phase one of step t for global neurons [lo, hi): spike-array
// events, inputs and the model step of every neuron, appending the ids of
// those that fire to out (ascending). It mirrors kernels/update.cu.
func (c *Backend) update(t uint64, lo, hi uint32, events []network.SpikeEvent, out []uint32) []uint32 {
	net := c.net
	n := uint64(net.N)
	slot := t % uint64(net.RingSlots)
	ex := c.ringEx[slot*n : (slot+1)*n]
	in := c.ringIn[slot*n : (slot+1)*n]
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
		si := c.scaleInv[pi]
		for g := a; g < b; g++ {
			qe, qi := int64(ex[g]), int64(in[g])
			ex[g], in[g] = 0, 0
			for _, k := range c.poisson[pi] {
				p := &net.Poisson[k]
				if t >= p.Start && t < p.Stop && g >= p.First && g < p.First+p.Count {
					u := c.cache[c.cacheOff[k]+g-p.First][t%4]
					q := int64(poissonCount(u, p.Base, net.PoissonTable[p.TableOff:p.TableOff+p.TableLen])) * int64(p.Weight)
					if p.Weight >= 0 {
						qe += q
					} else {
						qi += q
					}
				}
			}
			iext := c.dcInput(t, pi, g)
			var fired bool
			switch pop.Model {
			case network.IafPscDelta:
				c.v[g], c.ref[g], fired = pop.PscDelta.Step(c.v[g], c.ref[g], float32(qe+qi)*si, iext)
			case network.IafPscExp:
				c.v[g], c.a[g], c.b[g], c.ref[g], fired = pop.PscExp.Step(c.v[g], c.a[g], c.b[g], c.ref[g], float32(qe)*si, float32(qi)*si, iext)
			case network.IafCondExp:
				c.v[g], c.a[g], c.b[g], c.ref[g], fired = pop.CondExp.Step(c.v[g], c.a[g], c.b[g], c.ref[g], float32(qe)*si, float32(qi)*si, iext)
			}
			if fired {
				out = append(out, g)
			}
		}
	}
	return out
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

// poissonCount inverts the Poisson CDF: Base + the first k with u < thr[k]
// (the last entry if none). Any search gives the same k; this one scans,
// which is fastest for the small means of Poisson inputs per step.
func poissonCount(u, base uint32, thr []uint32) uint32 {
	for k, v := range thr {
		if u < v {
			return base + uint32(k)
		}
	}
	return base + uint32(len(thr)-1)
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
		next[g] = pop.Rate.Step(cur[g], syn, c.dcInput(t, pi, g))
	}
}

// deliver runs phase two of step t: every spike of this step adds its
// synapses' weights into the ring slots of their arrival steps, for the
// targets [lo, hi) that this thread owns.
func (c *Backend) deliver(t uint64, lo, hi uint32) {
	net := c.net
	syn := &net.Syn
	n := uint64(net.N)
	slots := uint64(net.RingSlots)
	cur := t % slots
	dbits, dmask := syn.DelayBits, syn.DelayMask()
	for _, list := range c.spikes {
		for _, s := range list {
			r0, r1 := syn.RowPtr[s], syn.RowPtr[s+1]
			row := syn.Packed[r0:r1]
			a := searchTarget(row, dbits, lo)
			b := a + searchTarget(row[a:], dbits, hi)
			w := syn.Weight[r0:r1]
			for k := a; k < b; k++ {
				p := row[k]
				sl := cur + uint64(p&dmask)
				if sl >= slots {
					sl -= slots
				}
				idx := sl*n + uint64(p>>dbits)
				if wk := w[k]; wk >= 0 {
					c.ringEx[idx] += wk
				} else {
					c.ringIn[idx] += wk
				}
			}
		}
	}
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
