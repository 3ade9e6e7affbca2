package network

import (
	"math"
	"math/bits"
	"sync/atomic"
)

// Pass 2 of the build writes a projection's synapses into their CSR slots
// in rounds. In a round every worker generates a contiguous range of units
// (the rounds and the ranges ascend) and stages each synapse in a bucket of
// presynaptic neurons whose rows span about fillSizes.bucket slots; then the
// workers take whole buckets and copy their synapses into the rows, worker
// 0's staged synapses first. A row thus receives its synapses in unit order
// whatever the number of workers, and the copies of one bucket stay within
// a few MiB of Packed (cache-resident) instead of scattering over all of it.

// fillSizes tunes pass 2; they change its speed and memory, never its
// result.
type fillSizes struct {
	// round is about how many synapses one worker stages per round (8
	// bytes each, 12 with a stored weight).
	round uint64
	// bucket is about how many CSR slots the rows of one bucket span (4
	// bytes each): a bucket's copies stay within L2.
	bucket uint64
}

// defaultFill stages 32 MiB per worker and fills 1 MiB of rows per bucket.
func defaultFill() fillSizes { return fillSizes{round: 1 << 22, bucket: 1 << 18} }

// writeProjection runs pass 2 for one projection: it fills its synapses'
// packed words (and stored weights) at sp.cursor and sets sp.maxDelay and
// the target population's synapse count.
func (b *builder) writeProjection(sp *spikingProj) error {
	net := b.net
	g := sp.gen
	pop := &net.Pops[sp.pre]
	var total uint64
	for _, c := range sp.count {
		total += uint64(c)
	}
	if total == 0 {
		return nil
	}
	postFirst := net.Pops[sp.post].First
	scale := math.Ldexp(1, int(net.Pops[sp.post].Shift))
	dbits := net.Syn.DelayBits
	wBase := net.Syn.WeightBase[sp.pre]
	keep := wBase != Compact
	wOff := net.Syn.RowPtr[pop.First] - wBase
	syn := &net.Syn

	// Buckets of 2^shift presynaptic neurons.
	rows := syn.RowPtr[pop.First+pop.Size] - syn.RowPtr[pop.First]
	avg := max(1, rows/uint64(pop.Size))
	shift := uint(bits.Len64(max(1, b.fill.bucket/avg)) - 1)
	nb := int(g.nPre>>shift) + 1

	T := max(1, min(b.threads, int(g.units)))
	perWorker := uint64(max(1, min(uint64(g.units), b.fill.round/max(1, total/uint64(g.units)))))
	perRound := min(uint64(g.units), perWorker*uint64(T))

	ent := make([][][]uint64, T) // [worker][bucket]: local pre<<32 | packed word
	wts := make([][][]int32, T)  // [worker][bucket]: stored weights
	workers := make([]*worker, T)
	emits := make([]emitFn, T)
	maxD := make([]*uint32, T) // one allocation each: no false sharing
	for w := range T {
		ent[w] = make([][]uint64, nb)
		if keep {
			wts[w] = make([][]int32, nb)
		}
		workers[w] = g.newWorker()
		e, wt, md := ent[w], wts[w], new(uint32)
		maxD[w] = md
		emits[w] = func(pre, post uint32, x float64, d uint32) {
			k := pre >> shift
			e[k] = append(e[k], uint64(pre)<<32|uint64((postFirst+post)<<dbits|d))
			if keep {
				wt[k] = append(wt[k], int32(math.Round(x*scale)))
			}
			*md = max(*md, d)
		}
	}
	for u0 := uint64(0); u0 < uint64(g.units); u0 += perRound {
		u1 := min(uint64(g.units), u0+perRound)
		parallel(T, func(w int) {
			a, z := u0+(u1-u0)*uint64(w)/uint64(T), u0+(u1-u0)*uint64(w+1)/uint64(T)
			wk, emit := workers[w], emits[w]
			for u := a; u < z; u++ {
				g.unit(wk, uint32(u), emit)
			}
		})
		var next atomic.Int64
		parallel(T, func(int) {
			for {
				k := int(next.Add(1) - 1)
				if k >= nb {
					return
				}
				for src := range T {
					e := ent[src][k]
					var ws []int32
					if keep {
						ws = wts[src][k]
						wts[src][k] = ws[:0]
					}
					for i, v := range e {
						pre := uint32(v >> 32)
						at := sp.cursor[pre]
						sp.cursor[pre] = at + 1
						syn.Packed[at] = uint32(v)
						if keep {
							syn.Weight[at-wOff] = ws[i]
						}
					}
					ent[src][k] = e[:0]
				}
			}
		})
		if b.ctx.Err() != nil {
			return nil // the caller reports the cancellation
		}
	}
	for _, d := range maxD {
		sp.maxDelay = max(sp.maxDelay, *d)
	}
	net.Pops[sp.post].Synapses += total
	return nil
}
