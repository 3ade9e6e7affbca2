package network

import (
	"fmt"
	"math"
	"slices"

	"github.com/myelin-sim/myelin/engine/rng"
)

// Row-order weights. Pass 2 writes a by-post projection unit by unit, so
// each unit's synapses land in as many rows: every write is a scattered
// store, and a weight per synapse doubles the cache lines that thousands of
// rows keep open at once. A projection with spikingProj.rowWeights set has
// pass 2 write only its packed words; drawRowWeights then draws its weights
// row by row, writing them sequentially: weight j of the projection's part
// of the row of its local presynaptic neuron i is draw j of item i of the
// projection's weight stream (the same sampler, clipping and sign as the
// unit-by-unit draws), taken in the order in which pass 2 left the row
// (units in ascending order, which no thread count changes). The weights
// are stored as float32 until the scales are known, as for every deferred
// projection.
//
// Rows of a population whose stored projections all draw their weights row
// by row are complete once pass 2 has written those projections:
// drawRowWeights sorts them by packed word while they are in the cache
// (stably: equal words keep the order of pass 2), and sortRows leaves them
// alone (rowsSorted).

// maxRowWeightParts is the most parts the rows are split into for the
// weights' magnitudes: each part sums them per target on its own, and the
// parts' sums are added in part order, so the input bounds (and the scales
// they fix) do not depend on the thread count.
const maxRowWeightParts = 16

// rowWeightPartSynapses is about the fewest synapses per part.
const rowWeightPartSynapses = 1 << 20

// drawRowWeights draws the weights of the row-order projections among
// projs into their Weight slots (as float32 bits; pass 2 has written their
// packed words and left sp.cursor at the end of each row's part) and adds
// their magnitudes to the targets' input bounds.
func (b *builder) drawRowWeights(projs []*spikingProj) error {
	net := b.net
	syn := &net.Syn
	from := make([][]*spikingProj, len(net.Pops))
	lo, hi := net.N, uint32(0) // the targets' global ids
	var total uint64
	for _, sp := range projs {
		if !sp.rowWeights {
			continue
		}
		from[sp.pre] = append(from[sp.pre], sp)
		post := &net.Pops[sp.post]
		lo, hi = min(lo, post.First), max(hi, post.First+post.Size)
		for _, v := range sp.count {
			total += uint64(v)
		}
	}
	if total == 0 {
		return nil
	}
	owned := rowWeightsOwned(net, projs)
	b.prog.setPhase("synapses: drawing weights")
	bounds := rowWeightParts(net, total, hi-lo)
	k := len(bounds) - 1
	bound := func(c int) uint32 { return bounds[c] }
	sums := make([][]float64, k)
	bads := make([]float64, k)
	badAt := make([]*spikingProj, k)
	forChunks(b.threads, k, func(c int) {
		sum := make([]float64, hi-lo)
		seqs := map[*spikingProj]*rng.Seq{}
		var buf []float64
		var tmp []uint64
		dbits := syn.DelayBits
		pi := 0
		r0, r1 := bound(c), bound(c+1)
		for pre := r0; pre < r1; pre++ {
			if (pre-r0)%1024 == 1023 && b.ctx.Err() != nil {
				break // the caller reports the cancellation
			}
			for pre >= net.Pops[pi].First+net.Pops[pi].Size {
				pi++
			}
			pop := &net.Pops[pi]
			i := pre - pop.First
			for _, sp := range from[pi] {
				n := uint64(sp.count[i])
				if n == 0 {
					continue
				}
				g := sp.gen
				q := seqs[sp]
				if q == nil {
					q = rng.NewStream(g.seed, rng.Purpose(rng.KindWeight, uint32(g.index))).Seq(0)
					seqs[sp] = q
				}
				q.Reset(i)
				w := grow(&buf, int(n))
				end := sp.cursor[i]
				pk := syn.Packed[end-n : end]
				wOff := syn.RowPtr[pop.First] - syn.WeightBase[pi]
				ws := syn.Weight[end-n-wOff : end-wOff]
				// put signs weight j by the receptor, stores it (as
				// float32 bits, until the scales are known) and adds
				// its magnitude to its target's bound.
				put := func(j int, x float64) {
					x = g.signed(x)
					a := math.Abs(x)
					if !(a <= math.MaxFloat64) {
						bads[c], badAt[c] = x, sp
					}
					ws[j] = int32(math.Float32bits(float32(x)))
					sum[pk[j]>>dbits-lo] += a
				}
				j0 := 0
				if s := &g.wDist; s.kind == sampleNormal {
					// Normal weights: the values of s.fill, turned,
					// signed, stored and summed in one go up to the first
					// rejection (rare), where s.fill goes on.
					q.NormalFill(w)
					for ; j0 < len(w); j0++ {
						x := s.a + float64(s.b*w[j0]) // the product rounded, as in sampler.fill
						if !(x >= s.lo && x <= s.hi) {
							break
						}
						put(j0, x)
					}
					if j0 < len(w) {
						s.normalFrom(q, w, j0)
					}
				} else {
					g.wDist.fill(q, w)
				}
				for j := j0; j < len(w); j++ {
					put(j, w[j])
				}
			}
			if owned[pi] {
				r0, r1 := syn.RowPtr[pre], syn.RowPtr[pre+1]
				wOff := syn.RowPtr[pop.First] - syn.WeightBase[pi]
				tmp = sortRowStable(syn.Packed[r0:r1], syn.Weight[r0-wOff:r1-wOff], tmp)
			}
		}
		sums[c] = sum
	})
	if err := b.ctx.Err(); err != nil {
		return fmt.Errorf("build cancelled: %w", err)
	}
	for c := range bads {
		if bads[c] != 0 {
			return fmt.Errorf("%s: weight: drew %v: the weight distribution overflows float64", badAt[c].where, bads[c])
		}
	}
	b.rowsSorted = owned
	// Add the parts' sums in part order, targets split over the threads.
	abs := b.absSum[lo:hi]
	parts := max(1, min(b.threads, len(abs)>>14))
	parallel(parts, func(w int) {
		a, z := len(abs)*w/parts, len(abs)*(w+1)/parts
		for _, sum := range sums {
			for t, v := range sum[a:z] {
				abs[a+t] += v
			}
		}
	})
	return nil
}

// rowWeightsOwned returns, per population, whether it has row-order
// projections and every projection from it that stores synapses has
// row-order weights (its rows are then complete once those are drawn).
func rowWeightsOwned(net *Network, projs []*spikingProj) []bool {
	owned := make([]bool, len(net.Pops))
	for _, sp := range projs {
		if sp.rowWeights {
			owned[sp.pre] = true
		}
	}
	for _, sp := range projs {
		if !sp.rowWeights && !sp.procedural {
			owned[sp.pre] = false
		}
	}
	return owned
}

// rowWeightParts returns the bounds of the parts that drawRowWeights
// splits the rows into, for total row-order synapses onto span targets:
// part c is rows [parts[c], parts[c+1]), those whose first synapse is in
// its share of all the synapses (a function of the network alone). Each
// part keeps a float64 per target: at most a sixteenth of the bytes of
// the synapse arrays (8 per synapse) go to the parts' sums.
func rowWeightParts(net *Network, total uint64, span uint32) []uint32 {
	syn := &net.Syn
	k := int(min(maxRowWeightParts, max(1, min(total/rowWeightPartSynapses, total/(16*uint64(span))))))
	parts := make([]uint32, k+1)
	for c := range k {
		i, _ := slices.BinarySearch(syn.RowPtr[:net.N], syn.RowPtr[net.N]*uint64(c)/uint64(k))
		parts[c] = uint32(i)
	}
	parts[k] = net.N
	return parts
}

// sortRowStable sorts the row p by packed word, stably, moving the weights
// w along: by insertion, as rows are sorted but for the few multapses onto
// one target whose delays came out of order, or, past a budget of moves,
// by sorting (word, position) pairs in tmp, which it returns for reuse.
func sortRowStable(p []uint32, w []int32, tmp []uint64) []uint64 {
	budget := 8 * len(p)
	for i := 1; i < len(p); i++ {
		x := p[i]
		if p[i-1] <= x {
			continue
		}
		y := w[i]
		j := i
		for j > 0 && p[j-1] > x {
			p[j], w[j] = p[j-1], w[j-1]
			j--
		}
		p[j], w[j] = x, y
		if budget -= i - j; budget < 0 {
			break
		}
	}
	if budget >= 0 {
		return tmp
	}
	// Stable for the order reached so far (a function of the row alone).
	tmp = tmp[:0]
	for i, v := range p {
		tmp = append(tmp, uint64(v)<<32|uint64(i))
	}
	slices.Sort(tmp)
	old := make([]int32, len(w))
	copy(old, w)
	for i, v := range tmp {
		p[i], w[i] = uint32(v>>32), old[uint32(v)]
	}
	return tmp
}
