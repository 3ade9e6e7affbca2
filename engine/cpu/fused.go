package cpu

import (
	"slices"

	"github.com/myelin-sim/myelin/engine/neuron"
)

// fused runs the input pass and the model step of spiking neurons [a, b)
// of population pi in one loop, for models whose coefficients implement
// neuron.RingModel, when no DC input is active on them (their external current is 0): it reads and clears
// each neuron's ring words, adds its Poisson count × weight in int64,
// converts once, and calls the model's own Step, so it computes exactly what
// inputs followed by the model's Update computes, without staging the inputs
// in scratch arrays. The range is cut where the active Poisson inputs change;
// a piece with more than one takes the general path. It reports false,
// doing nothing, when it does not apply. Ring words are cleared as they are
// read, by the kernels or after the scalar loops.
func (c *Backend) fused(w int, t uint64, pi int, a, b uint32, ex, in []int32, out []uint32) ([]uint32, bool) {
	net := c.net
	rm, ok := c.spiking[pi].(neuron.RingModel)
	if !ok {
		return out, false
	}
	for _, src := range c.dc[pi] {
		d := &net.DC[src]
		if t >= d.Start && t < d.Stop && max(a, d.First) < min(b, d.First+d.Count) {
			return out, false
		}
	}
	sc := &c.scratch[w]
	cuts := append(sc.cuts[:0], a, b)
	for _, k := range c.poisson[pi] {
		p := &net.Poisson[k]
		if t >= p.Start && t < p.Stop && max(a, p.First) < min(b, p.First+p.Count) {
			cuts = append(cuts, max(a, p.First), min(b, p.First+p.Count))
		}
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	sc.cuts = cuts
	var lane poissonLane
	for i := 0; i+1 < len(cuts); i++ {
		x, y := cuts[i], cuts[i+1]
		var pois *poissonLane
		n := 0
		for _, k := range c.poisson[pi] {
			p := &net.Poisson[k]
			if t >= p.Start && t < p.Stop && p.First <= x && y <= p.First+p.Count {
				n++
				lane = poissonLane{u: c.poissonDraws(k, t, x, y), ix: &c.pindex[k], w: int64(p.Weight)}
				pois = &lane
			}
		}
		if n > 1 {
			sc.in.Ex, sc.in.In, sc.in.Ext = c.inputs(t, pi, x, y, ex, in, sc)
			out = c.spiking[pi].Update(&c.state, x, y, &sc.in, out)
			continue
		}
		out = c.fusedRange(w, rm, pi, x, y, ex, in, pois, out)
	}
	return out, true
}

// fusedRange is fused for a range with at most one Poisson input, pois,
// which covers all of it: the model's UpdateRing on the raw ring words,
// which are cleared afterwards.
func (c *Backend) fusedRange(w int, rm neuron.RingModel, pi int, a, b uint32, ex, in []int32, pois *poissonLane, out []uint32) []uint32 {
	sc := &c.scratch[w]
	r := &sc.ring
	*r = neuron.RingInput{Ex: ex[a:b], In: in[a:b], Scale: c.scaleInv[pi], Vector: c.avx2, Mask: sc.mask, Zero: sc.zero32}
	if pois != nil {
		n := int(b - a)
		if cap(sc.counts) < n {
			sc.counts = make([]uint32, n)
		}
		cnt := sc.counts[:n]
		u := pois.u[:n]
		for k := range cnt {
			cnt[k] = pois.ix.count(u[k])
		}
		r.Counts, r.PoissonW = cnt, pois.w
	}
	out = rm.UpdateRing(&c.state, a, b, r, out)
	clear(r.Ex)
	clear(r.In)
	return out
}

// poissonLane is the one Poisson input of a fused range: its draws of this
// step, CDF index and weight.
type poissonLane struct {
	u  []uint32
	ix *poissonIndex
	w  int64
}
