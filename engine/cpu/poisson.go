package cpu

import "github.com/myelin-sim/myelin/engine/rng"

// Philox4x32-10 constants (as in engine/rng and kernels/philox.cuh).
const (
	philoxM0 = 0xD2511F53
	philoxM1 = 0xCD9E8D57
	philoxW0 = 0x9E3779B9
	philoxW1 = 0xBB67AE85
)

// philoxPair computes the Philox4x32-10 blocks of two counters that differ
// only in their first word, (g, c1, c2, c3) and (g+1, c1, c2, c3), with the
// two rounds interleaved: one block is a chain of ten dependent multiplies,
// two chains side by side keep the multiplier busy. The result is exactly
// rng.Philox4x32 of each counter (TestPhiloxPairMatchesRng).
func philoxPair(g, c1, c2, c3 uint32, k [2]uint32) (a, b [4]uint32) {
	a0, a1, a2, a3 := g, c1, c2, c3
	b0, b1, b2, b3 := g+1, c1, c2, c3
	k0, k1 := k[0], k[1]
	for r := 0; r < 10; r++ {
		pa0 := uint64(philoxM0) * uint64(a0)
		pa1 := uint64(philoxM1) * uint64(a2)
		pb0 := uint64(philoxM0) * uint64(b0)
		pb1 := uint64(philoxM1) * uint64(b2)
		a0, a1, a2, a3 = uint32(pa1>>32)^a1^k0, uint32(pa1), uint32(pa0>>32)^a3^k1, uint32(pa0)
		b0, b1, b2, b3 = uint32(pb1>>32)^b1^k0, uint32(pb1), uint32(pb0>>32)^b3^k1, uint32(pb0)
		k0 += philoxW0
		k1 += philoxW1
	}
	return [4]uint32{a0, a1, a2, a3}, [4]uint32{b0, b1, b2, b3}
}

// poissonLanes is the number of steps one Philox block serves: word j of
// neuron g's block for block index t/4 is its draw of step t = 4(t/4) + j.
const poissonLanes = 4

// refreshPoisson draws the Philox blocks of steps [t, t+4) for the Poisson
// inputs of neurons [lo, hi). The cache of input k is lane-major: the draw
// of its i-th neuron for step t+j is at cacheOff[k] + j·Count + i, so that
// each step reads one contiguous run. With AVX2, eight neurons' blocks are
// drawn at a time.
func (c *Backend) refreshPoisson(t uint64, lo, hi uint32) {
	blk := t / poissonLanes
	b1, b2 := uint32(blk), uint32(blk>>32)
	done := ^uint32(0) // cache of the last input drawn: inputs sharing it draw the same
	for k := range c.net.Poisson {
		p := &c.net.Poisson[k]
		if t >= p.Stop || t+poissonLanes <= p.Start || c.cacheOff[k] == done {
			continue
		}
		done = c.cacheOff[k]
		a, b := max(lo, p.First), min(hi, p.First+p.Count)
		if a >= b {
			continue
		}
		cnt := int(p.Count)
		base := c.cache[c.cacheOff[k] : c.cacheOff[k]+uint32(poissonLanes*cnt)]
		l0, l1, l2, l3 := base[:cnt], base[cnt:2*cnt], base[2*cnt:3*cnt], base[3*cnt:]
		i := int(a - p.First)
		g := a
		if n8 := int(b-a) &^ 7; c.avx2 && n8 > 0 {
			_, _, _, _ = l0[i+n8-1], l1[i+n8-1], l2[i+n8-1], l3[i+n8-1]
			philox8AVX2(g, b1, b2, p.Purpose, c.key[0], c.key[1], &l0[i], &l1[i], &l2[i], &l3[i], n8)
			g, i = g+uint32(n8), i+n8
		}
		for ; g+1 < b; g, i = g+2, i+2 {
			x, y := philoxPair(g, b1, b2, p.Purpose, c.key)
			l0[i], l1[i], l2[i], l3[i] = x[0], x[1], x[2], x[3]
			l0[i+1], l1[i+1], l2[i+1], l3[i+1] = y[0], y[1], y[2], y[3]
		}
		if g < b {
			x := rng.Philox4x32([4]uint32{g, b1, b2, p.Purpose}, c.key)
			l0[i], l1[i], l2[i], l3[i] = x[0], x[1], x[2], x[3]
		}
	}
}

// poissonDraws returns the step-t draws of Poisson input k for its neurons
// [a, b) (global ids inside the input's range).
func (c *Backend) poissonDraws(k int, t uint64, a, b uint32) []uint32 {
	p := &c.net.Poisson[k]
	off := c.cacheOff[k] + uint32(t%poissonLanes)*p.Count
	return c.cache[off+a-p.First : off+b-p.First]
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
