package cpu

import (
	"slices"

	"github.com/myelin-sim/myelin/engine/neuron"
)

// fused runs the input pass and the model step of spiking neurons [a, b)
// of population pi in one loop, for the built-in models, when no DC input
// is active on them (their external current is 0): it reads and clears
// each neuron's ring words, adds its Poisson count × weight in int64,
// converts once, and calls the model's own Step, so it computes exactly what
// inputs followed by the model's Update computes, without staging the inputs
// in scratch arrays. The range is cut where the active Poisson inputs change;
// a piece with more than one takes the general path. It reports false,
// doing nothing, when it does not apply. Ring words are cleared as they are
// read, by the kernels or after the scalar loops.
func (c *Backend) fused(w int, t uint64, pi int, a, b uint32, ex, in []int32, out []uint32) ([]uint32, bool) {
	net := c.net
	switch c.spiking[pi].(type) {
	case *neuron.IafPscExp, *neuron.IafCondExp, *neuron.IafPscDelta:
	default:
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
		out = c.fusedRange(w, pi, x, y, ex, in, pois, out)
	}
	return out, true
}

// fusedRange is fused for a range with at most one Poisson input, pois,
// which covers all of it.
func (c *Backend) fusedRange(w, pi int, a, b uint32, ex, in []int32, pois *poissonLane, out []uint32) []uint32 {
	exR, inR := ex[a:b], in[a:b]
	si := c.scaleInv[pi]
	switch m := c.spiking[pi].(type) {
	case *neuron.IafPscExp:
		var mask []uint8
		if c.avx2 {
			mask = c.scratch[w].mask
		}
		out = fusedPscExp(m, &c.state, a, exR, inR, si, pois, mask, out)
	case *neuron.IafCondExp:
		var mask []uint8
		if c.avx2 {
			mask = c.scratch[w].mask
		}
		out = fusedCondExp(m, c.condLanes[pi], &c.state, a, exR, inR, si, pois, mask, out)
	case *neuron.IafPscDelta:
		var mask []uint8
		var cnt []int32
		if c.avx2 {
			mask, cnt = c.scratch[w].mask, c.scratch[w].cnt
		}
		out = fusedPscDelta(m, &c.state, a, exR, inR, si, pois, mask, cnt, out)
	}
	return out
}

// poissonLane is the one Poisson input of a fused range: its draws of this
// step, CDF index and weight.
type poissonLane struct {
	u  []uint32
	ix *poissonIndex
	w  int64
}

// fusedPscExp runs iaf_psc_exp; with mask (room for a bit per neuron), the
// AVX2 kernel does all but the last len%8 neurons of a range without
// Poisson input.
func fusedPscExp(m *neuron.IafPscExp, s *neuron.State, a uint32, exR, inR []int32, si float32, pois *poissonLane, mask []uint8, out []uint32) []uint32 {
	n := len(exR)
	v := s.V[a : int(a)+n]
	ie, ii, ref := s.A[a : int(a)+len(v)][:len(v)], s.B[a : int(a)+len(v)][:len(v)], s.Ref[a : int(a)+len(v)][:len(v)]
	exR, inR = exR[:len(v)], inR[:len(v)]
	if pois == nil {
		k0 := 0
		if mask != nil {
			out, k0 = pscExpVector(m, a, v, ie, ii, ref, exR, inR, si, mask, out)
		}
		for k := k0; k < len(v); k++ {
			x, y := float32(exR[k])*si, float32(inR[k])*si
			var f bool
			v[k], ie[k], ii[k], ref[k], f = m.Step(v[k], ie[k], ii[k], ref[k], x, y, 0)
			if f {
				out = append(out, a+uint32(k))
			}
		}
		clear(exR[k0:])
		clear(inR[k0:])
		return out
	}
	u, ix, w := pois.u[:len(v)], pois.ix, pois.w
	for k := range v {
		e, i := int64(exR[k]), int64(inR[k])
		if q := int64(ix.count(u[k])) * w; q < 0 {
			i += q
		} else {
			e += q
		}
		var f bool
		v[k], ie[k], ii[k], ref[k], f = m.Step(v[k], ie[k], ii[k], ref[k], float32(e)*si, float32(i)*si, 0)
		if f {
			out = append(out, a+uint32(k))
		}
	}
	clear(exR)
	clear(inR)
	return out
}

// fusedCondExp is fusedPscExp for iaf_cond_exp (lanes: the kernel's
// coefficients of m).
func fusedCondExp(m *neuron.IafCondExp, lanes *condExpLanes, s *neuron.State, a uint32, exR, inR []int32, si float32, pois *poissonLane, mask []uint8, out []uint32) []uint32 {
	n := len(exR)
	v := s.V[a : int(a)+n]
	ge, gi, ref := s.A[a : int(a)+len(v)][:len(v)], s.B[a : int(a)+len(v)][:len(v)], s.Ref[a : int(a)+len(v)][:len(v)]
	exR, inR = exR[:len(v)], inR[:len(v)]
	if pois == nil {
		k0 := 0
		if mask != nil {
			out, k0 = condExpVector(lanes, a, v, ge, gi, ref, exR, inR, mask, out)
		}
		for k := k0; k < len(v); k++ {
			x, y := float32(exR[k])*si, float32(inR[k])*si
			var f bool
			v[k], ge[k], gi[k], ref[k], f = m.Step(v[k], ge[k], gi[k], ref[k], x, y, 0)
			if f {
				out = append(out, a+uint32(k))
			}
		}
		clear(exR[k0:])
		clear(inR[k0:])
		return out
	}
	u, ix, w := pois.u[:len(v)], pois.ix, pois.w
	for k := range v {
		e, i := int64(exR[k]), int64(inR[k])
		if q := int64(ix.count(u[k])) * w; q < 0 {
			i += q
		} else {
			e += q
		}
		var f bool
		v[k], ge[k], gi[k], ref[k], f = m.Step(v[k], ge[k], gi[k], ref[k], float32(e)*si, float32(i)*si, 0)
		if f {
			out = append(out, a+uint32(k))
		}
	}
	clear(exR)
	clear(inR)
	return out
}

// fusedPscDelta is fusedPscExp for iaf_psc_delta (one channel, the sum of
// both ring words); its vector kernel also takes the Poisson input (cnt:
// room for its counts).
func fusedPscDelta(m *neuron.IafPscDelta, s *neuron.State, a uint32, exR, inR []int32, si float32, pois *poissonLane, mask []uint8, cnt []int32, out []uint32) []uint32 {
	n := len(exR)
	v := s.V[a : int(a)+n]
	ref := s.Ref[a : int(a)+len(v)][:len(v)]
	exR, inR = exR[:len(v)], inR[:len(v)]
	k0 := 0
	if mask != nil {
		out, k0 = pscDeltaVector(m, a, v, ref, exR, inR, si, pois, cnt, mask, out)
	}
	if pois == nil {
		for k := k0; k < len(v); k++ {
			var f bool
			v[k], ref[k], f = m.Step(v[k], ref[k], float32(int64(exR[k])+int64(inR[k]))*si, 0)
			if f {
				out = append(out, a+uint32(k))
			}
		}
		clear(exR[k0:])
		clear(inR[k0:])
		return out
	}
	u, ix, w := pois.u[:len(v)], pois.ix, pois.w
	for k := k0; k < len(v); k++ {
		var f bool
		v[k], ref[k], f = m.Step(v[k], ref[k], float32(int64(exR[k])+int64(inR[k])+int64(ix.count(u[k]))*w)*si, 0)
		if f {
			out = append(out, a+uint32(k))
		}
	}
	clear(exR[k0:])
	clear(inR[k0:])
	return out
}
