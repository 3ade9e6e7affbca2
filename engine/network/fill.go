package network

import (
	"math"
	"math/bits"
	"slices"
	"sync/atomic"
)

// Pass 2 of the build writes a projection's synapses into their CSR slots
// in rounds. In a round every worker generates a contiguous range of units
// (the rounds and the ranges ascend) into its staging buffer and sorts it,
// stably, by bucket: a bucket is a range of presynaptic neurons whose rows
// span about fillSizes.bucket slots. Then the workers take whole buckets and
// copy their synapses into the rows, worker 0's first. A row thus receives
// its synapses in unit order whatever the number of workers, and the copies
// of one bucket stay within L2 instead of scattering over all of Packed.
// Staging buffers live for the whole build and only grow, so the build
// makes no garbage for the collector to let pile up beside the arrays.

// fillSizes tunes pass 2; they change its speed and memory, never its
// result.
type fillSizes struct {
	// round is about how many synapses one worker stages per round (16
	// bytes each, 24 with a stored weight).
	round uint64
	// bucket is about how many CSR slots the rows of one bucket span (4
	// bytes each).
	bucket uint64
	// early is the fewest synapses for which the arrays are allocated
	// before pass 1 and faulted in beside it (where the rules fix their
	// number).
	early uint64
	// direct is the most bytes that the rows of a direct projection keep
	// in the cache (directBytesPerPre per presynaptic neuron): smaller
	// projections skip the staging.
	direct uint64
}

// defaultFill stages 4 Mi synapses per worker, fills 1 MiB of rows per
// bucket, allocates early from 1 Mi synapses, and writes projections from
// up to 65,536 presynaptic neurons directly (8 MiB of cache lines: the L3
// cache of the machines at hand is 32 MiB).
func defaultFill() fillSizes {
	return fillSizes{round: 1 << 22, bucket: 1 << 18, early: 1 << 20, direct: 8 << 20}
}

// stage is one worker's staging space for pass 2.
type stage struct {
	raw, sorted   []uint64 // local pre<<32 | packed word, in unit order, then by bucket
	rawW, sortedW []int32  // stored weights, alongside
	off           []int    // bucket k's synapses are sorted[off[k]:off[k+1]]
	maxDelay      uint32
	bad           float64  // a non-finite weight drawn (deferred weights), or 0
	_             [64]byte // keep workers' fields on separate cache lines
}

// writeProjection runs pass 2 for one projection: it fills its synapses'
// packed words (and stored weights) at sp.cursor and sets sp.maxDelay and
// the target population's synapse count. st holds one stage per thread.
// For a deferred projection it adds the weights' magnitudes to the
// targets' input bounds and returns a non-finite weight it drew, if any.
func (b *builder) writeProjection(sp *spikingProj, st []*stage) (bad float64) {
	net := b.net
	g := sp.gen
	pop := &net.Pops[sp.pre]
	var total uint64
	for _, c := range sp.count {
		total += uint64(c)
	}
	if total == 0 {
		return 0
	}
	postFirst := net.Pops[sp.post].First
	abs := b.absSum[postFirst:]
	scale := math.Ldexp(1, int(net.Pops[sp.post].Shift))
	dbits := net.Syn.DelayBits
	var port uint32 // Syn.PortBit for a projection onto the slow port
	if sp.slow {
		port = net.Syn.PortBit
	}
	wBase := net.Syn.WeightBase[sp.pre]
	keep := wBase != Compact && !sp.rowWeights // weights staged and written here
	wOff := net.Syn.RowPtr[pop.First] - wBase
	syn := &net.Syn

	// Buckets of 2^shift presynaptic neurons.
	rows := syn.RowPtr[pop.First+pop.Size] - syn.RowPtr[pop.First]
	avg := max(1, rows/uint64(pop.Size))
	shift := uint(bits.Len64(max(1, b.fill.bucket/avg)) - 1)
	nb := int(g.nPre>>shift) + 1

	T := max(1, min(len(st), int(g.units)))
	perWorker := max(1, min(uint64(g.units), b.fill.round/max(1, total/uint64(g.units))))
	perRound := min(uint64(g.units), perWorker*uint64(T))

	workers := make([]*worker, T)
	for w := range T {
		s := st[w]
		s.maxDelay, s.bad = 0, 0
		// Room for a round (and then some: rounds end on unit boundaries),
		// allocated once rather than grown by doubling.
		if want := int(min(total, b.fill.round+b.fill.round/4)); cap(s.raw) < want {
			s.raw = make([]uint64, 0, want)
		}
		if want := int(min(total, b.fill.round+b.fill.round/4)); keep && cap(s.rawW) < want {
			s.rawW = make([]int32, 0, want)
		}
		if cap(s.off) < nb+1 {
			s.off = make([]int, nb+1)
		}
		s.off = s.off[:nb+1]
		workers[w] = g.newWorker()
		workers[w].noWeight = !keep
	}
	for u0 := uint64(0); u0 < uint64(g.units); u0 += perRound {
		u1 := min(uint64(g.units), u0+perRound)
		parallel(T, func(w int) {
			a, z := u0+(u1-u0)*uint64(w)/uint64(T), u0+(u1-u0)*uint64(w+1)/uint64(T)
			s, wk := st[w], workers[w]
			raw, rawW, maxD := s.raw[:0], s.rawW[:0], s.maxDelay
			off := s.off
			clear(off)
			for u := a; u < z; u++ {
				if (u-a)%1024 == 1023 && b.ctx.Err() != nil {
					break // the round is discarded below
				}
				bt := g.unit(wk, uint32(u))
				for i, pre := range bt.pre {
					d := bt.d[i]
					raw = append(raw, uint64(pre)<<32|uint64((postFirst+bt.post[i])<<dbits|port|d))
					off[pre>>shift+1]++ // bucket sizes, for bucketSort
					maxD = max(maxD, d)
				}
				switch {
				case sp.rowWeights:
					// Drawn later, row by row.
				case sp.deferred:
					// By-post: every synapse of the unit is onto u.
					x := abs[u]
					for _, wt := range bt.w {
						x += math.Abs(wt)
						rawW = append(rawW, int32(math.Float32bits(float32(wt))))
					}
					if math.IsInf(x, 0) || math.IsNaN(x) {
						s.bad = nonFiniteIn(bt.w, s.bad)
					}
					abs[u] = x
				case keep:
					for _, x := range bt.w {
						rawW = append(rawW, int32(math.Round(x*scale)))
					}
				}
			}
			s.raw, s.rawW, s.maxDelay = raw, rawW, maxD
			s.bucketSort(shift, keep)
		})
		if b.ctx.Err() != nil {
			return 0 // the caller reports the cancellation
		}
		var next atomic.Int64
		parallel(T, func(int) {
			for {
				k := int(next.Add(1) - 1)
				if k >= nb {
					return
				}
				for _, s := range st[:T] {
					lo, hi := s.off[k], s.off[k+1]
					for i, v := range s.sorted[lo:hi] {
						pre := uint32(v >> 32)
						at := sp.cursor[pre]
						sp.cursor[pre] = at + 1
						syn.Packed[at] = uint32(v)
						if keep {
							syn.Weight[at-wOff] = s.sortedW[lo+i]
						}
					}
				}
			}
		})
		b.prog.done.Add(u1 - u0)
		if b.ctx.Err() != nil {
			return 0 // the caller reports the cancellation
		}
	}
	for _, s := range st[:T] {
		sp.maxDelay = max(sp.maxDelay, s.maxDelay)
		if s.bad != 0 {
			bad = s.bad
		}
	}
	net.Pops[sp.post].Synapses += total
	return bad
}

// writeDirect is writeProjection for a direct projection: each unit chunk
// of pass 1 writes its synapses straight into the rows, from where the
// chunks before it end (sp.cursor plus their counts), so the rows receive
// their synapses in unit order with no staging and no ordering between
// chunks. Afterwards sp.cursor is at the end of the projection's part of
// each row.
func (b *builder) writeDirect(sp *spikingProj) (bad float64) {
	net := b.net
	g := sp.gen
	syn := &net.Syn
	var total uint64
	for _, c := range sp.count {
		total += uint64(c)
	}
	if total == 0 {
		return 0
	}
	pop := &net.Pops[sp.pre]
	postFirst := net.Pops[sp.post].First
	abs := b.absSum[postFirst:]
	scale := math.Ldexp(1, int(net.Pops[sp.post].Shift))
	dbits := syn.DelayBits
	var port uint32 // Syn.PortBit for a projection onto the slow port
	if sp.slow {
		port = syn.PortBit
	}
	wBase := syn.WeightBase[sp.pre]
	keep := wBase != Compact && !sp.rowWeights // weights written here
	k := len(sp.unitChunks)
	maxD := make([]uint32, k)
	bads := make([]float64, k)
	forChunks(b.threads, k, func(c int) {
		cur := slices.Clone(sp.cursor)
		for _, cc := range sp.chunkCount[:min(c, len(sp.chunkCount))] {
			for i, v := range cc {
				cur[i] += uint64(v)
			}
		}
		wk := g.newWorker()
		wk.noWeight = !keep
		packed := syn.Packed
		var wts []int32
		var wOff uint64
		if keep {
			wOff = syn.RowPtr[pop.First] - wBase
			wts = syn.Weight
		}
		md, bd := uint32(0), 0.0
		lo, hi := sp.unitChunks[c][0], sp.unitChunks[c][1]
		var kept []int32 // the partners that pass 1 kept (sp.kept)
		var deg uint64
		if sp.kept {
			deg = uint64(g.proj.GetFixedInDegree().GetIndegree())
			kept = syn.Weight[sp.keptAt:]
		}
		for u := lo; u < hi; u++ {
			if (u-lo)%1024 == 1023 {
				if b.ctx.Err() != nil {
					break // the caller reports the cancellation
				}
				b.prog.done.Add(1024)
			}
			if kept != nil {
				// Only the delays are drawn; partners, targets and
				// delays are those of g.unit.
				tgt := (postFirst+u)<<dbits | port
				wk.dq.Reset(u)
				ks := kept[uint64(u)*deg : uint64(u+1)*deg]
				if tab := g.dTab; tab != nil {
					// drawDelays's table draws, one per synapse in
					// order, without a buffer.
					for _, v := range ks {
						d := tab.step(wk.dq.Uint32())
						pre := uint32(v)
						at := cur[pre]
						cur[pre] = at + 1
						packed[at] = tgt | d
						md = max(md, d)
					}
					continue
				}
				d := grow(&wk.b.d, int(deg))
				g.drawDelays(wk, d)
				for i, v := range ks {
					pre := uint32(v)
					at := cur[pre]
					cur[pre] = at + 1
					packed[at] = tgt | d[i]
					md = max(md, d[i])
				}
				continue
			}
			bt := g.unit(wk, u)
			switch {
			case sp.deferred && !sp.rowWeights:
				// By-post: every synapse of the unit is onto u.
				tgt := (postFirst+u)<<dbits | port
				x := abs[u]
				for i, pre := range bt.pre {
					d, wt := bt.d[i], bt.w[i]
					at := cur[pre]
					cur[pre] = at + 1
					packed[at] = tgt | d
					wts[at-wOff] = int32(math.Float32bits(float32(wt)))
					md = max(md, d)
					x += math.Abs(wt)
				}
				if math.IsInf(x, 0) || math.IsNaN(x) {
					bd = nonFiniteIn(bt.w, bd)
				}
				abs[u] = x
			case keep:
				for i, pre := range bt.pre {
					d := bt.d[i]
					at := cur[pre]
					cur[pre] = at + 1
					packed[at] = (postFirst+bt.post[i])<<dbits | port | d
					wts[at-wOff] = int32(math.Round(bt.w[i] * scale))
					md = max(md, d)
				}
			default:
				for i, pre := range bt.pre {
					d := bt.d[i]
					at := cur[pre]
					cur[pre] = at + 1
					packed[at] = (postFirst+bt.post[i])<<dbits | port | d
					md = max(md, d)
				}
			}
		}
		b.prog.done.Add(uint64((hi - lo) % 1024))
		maxD[c], bads[c] = md, bd
	})
	for c := range maxD {
		sp.maxDelay = max(sp.maxDelay, maxD[c])
		if bads[c] != 0 {
			bad = bads[c]
		}
	}
	for i, v := range sp.count {
		sp.cursor[i] += uint64(v)
	}
	net.Pops[sp.post].Synapses += total
	return bad
}

// nonFiniteIn returns the last infinite or NaN value of w, or bad if there
// is none (a sum of magnitudes that is not finite says where to look).
func nonFiniteIn(w []float64, bad float64) float64 {
	for _, x := range w {
		if math.IsInf(x, 0) || math.IsNaN(x) {
			bad = x
		}
	}
	return bad
}

// quantizeRow converts the float32 weights that pass 2 wrote for local
// presynaptic neuron i of deferred projection sp, before the scales were
// known, to fixed point, as pass 2 does for the others (sp.cursor is at
// the end of the projection's part of each row).
func (b *builder) quantizeRow(sp *spikingProj, i uint32) {
	net := b.net
	syn := &net.Syn
	scale := math.Ldexp(1, int(net.Pops[sp.post].Shift))
	end := sp.cursor[i] - (syn.RowPtr[net.Pops[sp.pre].First] - syn.WeightBase[sp.pre])
	ws := syn.Weight[end-uint64(sp.count[i]) : end]
	for j, v := range ws {
		ws[j] = int32(math.Round(float64(math.Float32frombits(uint32(v))) * scale))
	}
}

// bucketSort orders the staged synapses by bucket (pre >> shift), stably,
// into sorted, given the size of bucket k in off[k+1] (counted while
// staging), and makes off[k] the start of bucket k.
func (s *stage) bucketSort(shift uint, keep bool) {
	off := s.off
	for k := 1; k < len(off); k++ {
		off[k] += off[k-1]
	}
	n := len(s.raw)
	if cap(s.sorted) < n {
		s.sorted = make([]uint64, n, cap(s.raw))
	}
	s.sorted = s.sorted[:n]
	if keep && cap(s.sortedW) < n {
		s.sortedW = make([]int32, n, cap(s.rawW))
	}
	if keep {
		s.sortedW = s.sortedW[:n]
	}
	// off[k] is where bucket k starts: as its cursor it ends where bucket
	// k+1 starts, so shift by one afterwards.
	for i, v := range s.raw {
		k := uint32(v>>32) >> shift
		j := off[k]
		off[k] = j + 1
		s.sorted[j] = v
		if keep {
			s.sortedW[j] = s.rawW[i]
		}
	}
	copy(off[1:], off[:len(off)-1])
	off[0] = 0
}
