package cpu

import (
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/neuron"
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
	if t%poissonLanes == 0 && len(net.Poisson) > 0 {
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
			c.updateRate(t, pi, a, b, c.external(t, pi, a, b, sc))
			continue
		}
		k0 := len(out)
		if pop.Slow {
			sc.in.Ex, sc.in.In, sc.in.Ext = c.inputs(t, pi, a, b, ex, in, sc)
			sc.in.Slow = c.slowInputs(t, pi, a, b, sc)
			out = c.spiking[pi].Update(&c.state, a, b, &sc.in, out)
			sc.in.Slow = nil
		} else if o, ok := c.fused(w, t, pi, a, b, ex, in, out); ok {
			out = o
		} else {
			sc.in.Ex, sc.in.In, sc.in.Ext = c.inputs(t, pi, a, b, ex, in, sc)
			out = c.spiking[pi].Update(&c.state, a, b, &sc.in, out)
		}
		c.stpSpikes(pi, t, out[k0:])
		if c.stdp.asPost != nil {
			c.stdpSpikes(w, pi, t, out[k0:])
		}
	}
	return out
}

// scratch holds one thread's per-neuron inputs of the current population.
type scratch struct {
	qe, qi, qs     []int64
	exIn, inIn, dc []float32
	slowIn         []float32 // the slow port's input, for populations that use it
	zero           []float32 // never written: the external input of neurons without DC input
	counts         []uint32  // fused: the Poisson counts of a range
	mask           []uint8   // fused: the models' vector kernels' spike bits, one per neuron
	zero32         []int32   // fused: the vector kernels' scratch
	ring           neuron.RingInput
	cuts           []uint32 // fused: where the active Poisson inputs change
	in             neuron.Input
}

// inputs computes the step-t inputs of spiking neurons [a, b) of population
// pi: the ring slot (read and cleared), Poisson counts × weight added in
// int64, both converted once to float32; and the sum of active DC currents,
// in input order. For a one-channel model (iaf_psc_delta) exIn holds the
// sum of both channels and inIn is unused.
//
// The common cases take one pass: no Poisson input active on [a, b), or
// one that covers all of it. Converting an int32 or the int64 sum of two
// int32 to float32 rounds the same exact integer either way, so every path
// gives the bits of the general one.
func (c *Backend) inputs(t uint64, pi int, a, b uint32, ex, in []int32, sc *scratch) (exIn, inIn, ext []float32) {
	net := c.net
	n := int(b - a)
	si := c.scaleInv[pi]
	one := net.Pops[pi].Model.Channels == 1
	exIn, inIn = sc.exIn[:n], sc.inIn[:n]
	exR, inR := ex[a:b], in[a:b]
	active, src := 0, -1
	for _, k := range c.poisson[pi] {
		p := &net.Poisson[k]
		if t >= p.Start && t < p.Stop && max(a, p.First) < min(b, p.First+p.Count) && !p.Slow {
			active++
			src = k
		}
	}
	switch {
	case active == 0:
		ringInputs(exR, inR, exIn, inIn, si, one)
	case active == 1 && net.Poisson[src].First <= a && b <= net.Poisson[src].First+net.Poisson[src].Count:
		p := &net.Poisson[src]
		poissonInputs(exR, inR, exIn, inIn, c.poissonDraws(src, t, a, b), &c.pindex[src], int64(p.Weight), si, one)
	default:
		c.mixedInputs(t, pi, a, b, exR, inR, exIn, inIn, sc, si, one)
	}
	clear(exR)
	clear(inR)
	return exIn, inIn, c.external(t, pi, a, b, sc)
}

// ringInputs converts the ring words of neurons without Poisson input.
func ringInputs(exR, inR []int32, exIn, inIn []float32, si float32, one bool) {
	inR = inR[:len(exR)]
	exIn = exIn[:len(exR)]
	if one {
		for k, e := range exR {
			exIn[k] = float32(int64(e)+int64(inR[k])) * si
		}
		return
	}
	inIn = inIn[:len(exR)]
	for k, e := range exR {
		exIn[k] = float32(e) * si
		inIn[k] = float32(inR[k]) * si
	}
}

// poissonInputs converts the ring words of neurons that all receive one
// Poisson input (draws u, weight w) and adds its counts × w in int64.
func poissonInputs(exR, inR []int32, exIn, inIn []float32, u []uint32, ix *poissonIndex, w int64, si float32, one bool) {
	inR = inR[:len(exR)]
	exIn = exIn[:len(exR)]
	u = u[:len(exR)]
	switch {
	case one:
		for k, e := range exR {
			exIn[k] = float32(int64(e)+int64(inR[k])+int64(ix.count(u[k]))*w) * si
		}
	case w >= 0:
		inIn = inIn[:len(exR)]
		for k, e := range exR {
			exIn[k] = float32(int64(e)+int64(ix.count(u[k]))*w) * si
			inIn[k] = float32(inR[k]) * si
		}
	default:
		inIn = inIn[:len(exR)]
		for k, e := range exR {
			exIn[k] = float32(e) * si
			inIn[k] = float32(int64(inR[k])+int64(ix.count(u[k]))*w) * si
		}
	}
}

// mixedInputs is the general input pass: the ring words and every active
// Poisson input are summed in int64, then converted.
func (c *Backend) mixedInputs(t uint64, pi int, a, b uint32, exR, inR []int32, exIn, inIn []float32, sc *scratch, si float32, one bool) {
	net := c.net
	n := int(b - a)
	qe, qi := sc.qe[:n], sc.qi[:n]
	for k := range qe {
		qe[k], qi[k] = int64(exR[k]), int64(inR[k])
	}
	for _, src := range c.poisson[pi] {
		p := &net.Poisson[src]
		lo, hi := max(a, p.First), min(b, p.First+p.Count)
		if t < p.Start || t >= p.Stop || lo >= hi || p.Slow {
			continue
		}
		ix := &c.pindex[src]
		u := c.poissonDraws(src, t, lo, hi)
		w := int64(p.Weight)
		q := qe[lo-a : hi-a]
		if w < 0 {
			q = qi[lo-a : hi-a]
		}
		for k := range q {
			q[k] += int64(ix.count(u[k])) * w
		}
	}
	if one {
		for k := range qe {
			exIn[k] = float32(qe[k]+qi[k]) * si
		}
		return
	}
	for k := range qe {
		exIn[k] = float32(qe[k]) * si
		inIn[k] = float32(qi[k]) * si
	}
}

// slowInputs returns the step-t input of the slow excitatory port of
// neurons [a, b) of population pi: its ring words (read and cleared) and
// the counts × weight of the active Poisson inputs onto the port, summed in
// int64 and converted once, as the channels' inputs are.
func (c *Backend) slowInputs(t uint64, pi int, a, b uint32, sc *scratch) []float32 {
	net := c.net
	n := uint64(net.N)
	slots := uint64(net.RingSlots)
	qs := sc.qs[:b-a]
	if net.Syn.PortBit != 0 {
		off := 2*slots*n + t%slots*n
		sr := c.ring[off+uint64(a) : off+uint64(b)]
		for k, x := range sr {
			qs[k] = int64(x)
		}
		clear(sr)
	} else {
		clear(qs) // only Poisson inputs reach the port: it has no ring plane
	}
	for _, src := range c.poisson[pi] {
		p := &net.Poisson[src]
		lo, hi := max(a, p.First), min(b, p.First+p.Count)
		if t < p.Start || t >= p.Stop || lo >= hi || !p.Slow {
			continue
		}
		ix := &c.pindex[src]
		u := c.poissonDraws(src, t, lo, hi)
		w := int64(p.Weight)
		q := qs[lo-a : hi-a]
		for k := range q {
			q[k] += int64(ix.count(u[k])) * w
		}
	}
	out := sc.slowIn[:len(qs)]
	si := c.scaleInv[pi]
	for k, x := range qs {
		out[k] = float32(x) * si
	}
	return out
}

// external returns the external current of neurons [a, b) of population pi
// at step t: the sum of the DC inputs active on each, in input order, or
// zeros without building them when none is active.
func (c *Backend) external(t uint64, pi int, a, b uint32, sc *scratch) []float32 {
	n := int(b - a)
	var dc []float32
	for _, src := range c.dc[pi] {
		d := &c.net.DC[src]
		lo, hi := max(a, d.First), min(b, d.First+d.Count)
		if t < d.Start || t >= d.Stop || lo >= hi {
			continue
		}
		if dc == nil {
			dc = sc.dc[:n]
			clear(dc)
		}
		for k := lo - a; k < hi-a; k++ {
			dc[k] += d.Amp
		}
	}
	if dc == nil {
		return sc.zero[:n]
	}
	return dc
}

// updateRate advances rate neurons [a, b) of population pi: their new rates
// go into the history slot of step t+1. ext holds their external input.
func (c *Backend) updateRate(t uint64, pi int, a, b uint32, ext []float32) {
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
		next[g] = c.rate[pi].Step(cur[g], syn, ext[g-a])
	}
}

// deliver runs phase two of step t: every spike of this step adds its
// synapses' weights into the ring slots of their arrival steps, for the
// targets that thread w owns (its part of each row was found at Load). A
// negative weight goes to the inhibitory half of the ring, which starts
// RingSlots × N words later; a synapse onto the slow port (its packed word
// carries network.Synapses.PortBit) to the third plane, 2 × RingSlots × N
// words in, through its slot offsets (slotOffsets). Rows of compact
// populations store no weights: they are delivered one target population
// at a time, with that population's weight (rows are sorted by target).
// Where all the synapses of such a run (or of a population's rows) share
// one delay field (network.Synapses.PopDelay, RowDelay), its slot offset is
// found once (addSlot); where delays vary and the ring is larger than the
// caches (c.bucketed), the events wait in buckets by ring slot, each added
// at the end of the step before the one that reads its slot
// (flushBuckets).
func (c *Backend) deliver(w int, t uint64) {
	net := c.net
	syn := &net.Syn
	n := uint64(net.N)
	slots := uint64(net.RingSlots)
	base := c.slotBase[w]
	c.slotOffsets(base, t)
	inOff := slots * n
	ring := c.ring
	dbits, dmask := syn.DelayBits, syn.DelayMask()
	stride := uint64(len(c.parts) + 1)
	var bk []bucket
	var key []uint32
	pend := 0 // c.pending[w], kept here (the threads' counters share cache lines)
	if c.bucketed {
		bk, key = c.buckets[w], c.slotKey[w]
		c.slotKeys(key, t)
		pend = c.pending[w]
	}
	if len(c.procFrom) > 0 && c.used > 1 {
		c.deliverShared(w, t, base, inOff)
	}
	for _, list := range c.spikes[t&1] {
		for _, s := range list {
			if len(c.procFrom) > 0 && c.used == 1 {
				c.deliverProcedural(w, s, base, inOff)
			}
			r0 := syn.RowPtr[s]
			a, b := uint64(c.split[uint64(s)*stride+uint64(w)]), uint64(c.split[uint64(s)*stride+uint64(w)+1])
			if a == b {
				continue
			}
			row := syn.Packed[r0+a : r0+b]
			pi := net.PopOf(s)
			if c.plastic[pi] {
				var wt []int32
				if wb := syn.WeightBase[pi]; wb != network.Compact {
					o := wb + r0 - syn.RowPtr[net.Pops[pi].First]
					wt = c.weight[o+a : o+b]
				}
				c.deliverPlastic(t, s, pi, row, wt, base, inOff)
				continue
			}
			if wb := syn.WeightBase[pi]; wb != network.Compact {
				o := wb + r0 - syn.RowPtr[net.Pops[pi].First]
				wt := c.weight[o+a : o+b]
				if d := c.rowDelay[pi]; d != network.NoPopDelay {
					// One delay field: one slot, its offset found once.
					b0 := base[d]
					wt = wt[:len(row)]
					for k, p := range row {
						wk := wt[k]
						ring[b0+uint64(p>>dbits)+uint64(uint32(wk)>>31)*inOff] += wk
					}
					continue
				}
				if bk != nil {
					wt = wt[:len(row)]
					for k, p := range row {
						bu := &bk[key[p&dmask]]
						if len(bu.cur) == cap(bu.cur) {
							c.nextChunk(w, bu)
						}
						bu.cur = append(bu.cur, event{p >> dbits, wt[k]})
					}
					if pend += len(row); pend >= c.bucketCap {
						c.pending[w] = pend
						c.flushBuckets(w, -1)
						pend = 0
					}
					continue
				}
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
					end = network.SearchTarget(row, dbits, seg.end)
				}
				wk := seg.w
				off := uint64(uint32(wk)>>31) * inOff
				if seg.d != network.NoPopDelay {
					// One delay field: the targets' words of one slot.
					b0 := base[seg.d] + off
					addSlot(ring[b0:b0+n], row[:end], dbits, wk)
				} else if bk != nil {
					for _, p := range row[:end] {
						bu := &bk[key[p&dmask]]
						if len(bu.cur) == cap(bu.cur) {
							c.nextChunk(w, bu)
						}
						bu.cur = append(bu.cur, event{p >> dbits, wk})
					}
					if pend += end; pend >= c.bucketCap {
						c.pending[w] = pend
						c.flushBuckets(w, -1)
						pend = 0
					}
				} else {
					for _, p := range row[:end] {
						ring[base[p&dmask]+uint64(p>>dbits)+off] += wk
					}
				}
				row = row[end:]
			}
		}
	}
	if bk != nil {
		// The next step reads slot t+1: its bucket is complete now.
		c.pending[w] = pend
		c.flushBuckets(w, int((t+1)%slots))
	}
}

// event is one synapse's input, held by deliver until flushBuckets: its
// target and weight.
type event struct {
	tgt uint32
	w   int32
}

// bucketBudget bounds the events that a thread's buckets hold: deliver
// flushes them all when a row takes them past it (fixed-point sums do not
// depend on when the events are added), so that a volley of spikes needs
// at most about 8 MiB of buckets per thread (and a chunk per bucket), not
// 8 B per synapse of every neuron that fired.
const bucketBudget = 1 << 20

// bucketChunk and bucketMinChunk bound the events of one chunk of a
// bucket. Buckets grow by chunks that a thread takes from its free list
// and gives back when a bucket is flushed, so its buckets together keep no
// more memory than the most events they held at once, plus a partly
// filled chunk each (bucketChunkFor).
const (
	bucketChunk    = 4096
	bucketMinChunk = 256
)

// bucketChunkFor returns the events of a chunk for buckets of budget
// events over a ring of slots slots (twice as many buckets with a slow
// port): the budget's share of a bucket, from bucketMinChunk to
// bucketChunk, so that the partly filled chunks of a long ring take no
// more than about the budget again.
func bucketChunkFor(budget int, slots uint32, slow bool) int {
	keys := max(1, int(slots))
	if slow {
		keys *= 2
	}
	return min(bucketChunk, max(bucketMinChunk, budget/keys))
}

// bucket is the pending events of one ring slot: full chunks, then the
// one being filled.
type bucket struct {
	full [][]event
	cur  []event
}

// nextChunk gives bucket bu of thread w an empty chunk to fill, after its
// full one.
func (c *Backend) nextChunk(w int, bu *bucket) {
	if bu.cur != nil {
		bu.full = append(bu.full, bu.cur)
	}
	free := c.chunks[w]
	if n := len(free); n > 0 {
		bu.cur, c.chunks[w] = free[n-1], free[:n-1]
		return
	}
	bu.cur = make([]event, 0, c.chunkEvents)
	c.chunksMade[w]++
}

// slotKeys sets key[d] to the bucket of the events of step t with delay
// field d: ring slot (t+d) % RingSlots, and for the slow port's fields
// (PortBit + d) RingSlots plus that slot, as slotOffsets places them.
func (c *Backend) slotKeys(key []uint32, t uint64) {
	slots := uint64(c.net.RingSlots)
	for d := range key[:slots] {
		key[d] = uint32((t + uint64(d)) % slots)
	}
	if pb := uint64(c.net.Syn.PortBit); pb != 0 {
		for d := range key[pb : pb+slots] {
			key[pb+uint64(d)] = uint32(slots + (t+uint64(d))%slots)
		}
	}
}

// flushBuckets adds thread w's pending events of ring slot s into the
// ring (with the slow port, also those of its slot s), or of every slot
// for s < 0, and empties those buckets.
//
// The events of a large network's rows with varying delays reach targets
// spread over every slot of a ring far larger than the caches. Held by
// slot until the end of the step before the one that reads it, a bucket
// gathers the events of every step that reach its slot (with delays of 15
// steps, 15 steps' worth), and its additions fall within one slot (N
// words per channel), which the cache holds. The sums are those of the
// direct additions: fixed-point addition does not depend on the order.
func (c *Backend) flushBuckets(w, s int) {
	bk := c.buckets[w]
	if s < 0 {
		c.bucketPeak[w] = max(c.bucketPeak[w], c.pending[w])
		for k := range bk {
			c.flushBucket(w, k)
		}
		return
	}
	c.bucketPeak[w] = max(c.bucketPeak[w], c.pending[w])
	c.flushBucket(w, s)
	if k := s + int(c.net.RingSlots); k < len(bk) {
		c.flushBucket(w, k)
	}
}

// flushBucket adds bucket k of thread w into its ring slot and gives its
// chunks back to the thread's free list: k below RingSlots, slot k of the
// excitatory and inhibitory planes (by the weight's sign); from RingSlots
// on, slot k − RingSlots of the slow port's plane (whose weights are never
// negative).
func (c *Backend) flushBucket(w, k int) {
	bu := &c.buckets[w][k]
	if bu.cur == nil {
		return
	}
	n := uint64(c.net.N)
	slots := uint64(c.net.RingSlots)
	inOff := slots * n
	b0 := uint64(k) * n
	if uint64(k) >= slots {
		b0 = 2*slots*n + (uint64(k)-slots)*n
	}
	ring := c.ring
	add := func(ev []event) {
		for _, e := range ev {
			ring[b0+uint64(e.tgt)+uint64(uint32(e.w)>>31)*inOff] += e.w
		}
		c.pending[w] -= len(ev)
		c.chunks[w] = append(c.chunks[w], ev[:0])
	}
	for i, ev := range bu.full {
		add(ev)
		bu.full[i] = nil
	}
	add(bu.cur)
	bu.full, bu.cur = bu.full[:0], nil
}

// slotOffsets sets base[d] to the ring offset of the slot that a synapse
// of step t with delay field d reaches: delays d below RingSlots go to
// slot (t+d) % RingSlots of the channels' planes; with a slow port,
// delay fields PortBit + d go to the same slot of the third plane, so the
// delivery loops need no test for the port (its weights are never
// negative, so they never add the inhibitory offset). It is kept out of
// deliver, whose loops compile to fewer register spills without it.
//
//go:noinline
func (c *Backend) slotOffsets(base []uint64, t uint64) {
	n := uint64(c.net.N)
	slots := uint64(c.net.RingSlots)
	for d := range base[:slots] {
		base[d] = (t + uint64(d)) % slots * n
	}
	if pb := uint64(c.net.Syn.PortBit); pb != 0 {
		plane := 2 * slots * n
		for d := range base[pb : pb+slots] {
			base[pb+uint64(d)] = plane + (t+uint64(d))%slots*n
		}
	}
}

// target is one population that a compact population projects onto:
// targets [first, end), their weight, and the delay field that all these
// synapses share (network.NoPopDelay where they differ).
type target struct {
	first, end uint32
	w          int32
	d          uint32
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
				d, ok := net.Syn.PairDelay(p, q, np)
				if !ok {
					d = network.NoPopDelay
				}
				out[p] = append(out[p], target{pop.First, pop.First + pop.Size, net.Syn.PopWeight[p*np+q], d})
			}
		}
	}
	return out
}

// addSlot adds w to slot[p>>dbits] for every packed word p of row: a run of
// synapses with one delay field and one weight. Four at a time, so that
// their independent loads and stores overlap.
func addSlot(slot []int32, row []uint32, dbits uint32, w int32) {
	k := 0
	for ; k+4 <= len(row); k += 4 {
		r := row[k : k+4 : k+4]
		a, b, c, d := r[0]>>dbits, r[1]>>dbits, r[2]>>dbits, r[3]>>dbits
		slot[a] += w
		slot[b] += w
		slot[c] += w
		slot[d] += w
	}
	for _, p := range row[k:] {
		slot[p>>dbits] += w
	}
}
