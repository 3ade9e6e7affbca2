package network

import (
	"math"
	"math/bits"
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
}

// defaultFill stages 4 Mi synapses per worker, fills 1 MiB of rows per
// bucket, and allocates early from 1 Mi synapses.
func defaultFill() fillSizes { return fillSizes{round: 1 << 22, bucket: 1 << 18, early: 1 << 20} }

// stage is one worker's staging space for pass 2.
type stage struct {
	raw, sorted   []uint64 // local pre<<32 | packed word, in unit order, then by bucket
	rawW, sortedW []int32  // stored weights, alongside
	off           []int    // bucket k's synapses are sorted[off[k]:off[k+1]]
	maxDelay      uint32
	_             [64]byte // keep workers' fields on separate cache lines
}

// writeProjection runs pass 2 for one projection: it fills its synapses'
// packed words (and stored weights) at sp.cursor and sets sp.maxDelay and
// the target population's synapse count. st holds one stage per thread.
func (b *builder) writeProjection(sp *spikingProj, st []*stage) {
	net := b.net
	g := sp.gen
	pop := &net.Pops[sp.pre]
	var total uint64
	for _, c := range sp.count {
		total += uint64(c)
	}
	if total == 0 {
		return
	}
	postFirst := net.Pops[sp.post].First
	scale := math.Ldexp(1, int(net.Pops[sp.post].Shift))
	dbits := net.Syn.DelayBits
	var port uint32 // Syn.PortBit for a projection onto the slow port
	if sp.slow {
		port = net.Syn.PortBit
	}
	wBase := net.Syn.WeightBase[sp.pre]
	keep := wBase != Compact
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
		s.maxDelay = 0
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
				if keep {
					for _, x := range bt.w {
						rawW = append(rawW, int32(math.Round(x*scale)))
					}
				}
			}
			s.raw, s.rawW, s.maxDelay = raw, rawW, maxD
			s.bucketSort(shift, keep)
		})
		if b.ctx.Err() != nil {
			return // the caller reports the cancellation
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
			return // the caller reports the cancellation
		}
	}
	for _, s := range st[:T] {
		sp.maxDelay = max(sp.maxDelay, s.maxDelay)
	}
	net.Pops[sp.post].Synapses += total
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
