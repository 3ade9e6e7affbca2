package network

import myelinpb "github.com/myelin-sim/myelin/proto"

// NoPopDelay marks, in Synapses.PopDelay and Synapses.RowDelay, synapses
// that do not all share one delay field (or that do not exist).
const NoPopDelay = ^uint32(0)

// PairDelay returns the delay field (delay steps, with PortBit for the slow
// port) that every stored synapse from population p onto population q
// shares, and whether there is one: a backend may then find the ring slot
// of a whole run of such synapses once instead of once per synapse.
func (s *Synapses) PairDelay(p, q, pops int) (uint32, bool) {
	if len(s.PopDelay) != pops*pops {
		return 0, false
	}
	d := s.PopDelay[p*pops+q]
	return d, d != NoPopDelay
}

// delayLayout fills Syn.PopDelay and Syn.RowDelay: the delay field of the
// stored synapses of each pair of populations, and of all the rows of each
// population, where every projection concerned has one constant delay and
// the port of the others, NoPopDelay otherwise. It runs after
// lowerPortBit, so the port bit is the final one. Procedural projections
// store no synapses and are left out.
func (b *builder) delayLayout(projs []*spikingProj) {
	net := b.net
	np := len(net.Pops)
	row := newDelayVote(np)
	net.Syn.RowDelay = row.d
	var pair delayVote
	if np <= MaxCompactPops {
		pair = newDelayVote(np * np)
		net.Syn.PopDelay = pair.d
	} else {
		net.Syn.PopDelay = nil
	}
	for _, sp := range projs {
		if sp.procedural {
			continue
		}
		d, ok := sp.gen.constantDelay()
		if sp.slow {
			d |= net.Syn.PortBit
		}
		row.add(sp.pre, d, ok)
		if pair.d != nil {
			pair.add(sp.pre*np+sp.post, d, ok)
		}
	}
	row.finish()
	pair.finish()
}

// constantDelay reports whether every synapse of the projection has the
// same delay, and that delay in steps (an explicit list's own delays count
// as varying).
func (g *generator) constantDelay() (uint32, bool) {
	if e, ok := g.proj.GetRule().(*myelinpb.Projection_Explicit); ok && len(e.Explicit.GetDelayMs()) > 0 {
		return 0, false
	}
	return g.constD, g.constDOK
}

// delayVote collects, per key, whether every delay field seen is the same.
type delayVote struct {
	d     []uint32
	set   []bool
	mixed []bool
}

func newDelayVote(n int) delayVote {
	v := delayVote{d: make([]uint32, n), set: make([]bool, n), mixed: make([]bool, n)}
	for i := range v.d {
		v.d[i] = NoPopDelay
	}
	return v
}

// add records a projection with delay field d at key k (constant reports
// whether all its synapses have it).
func (v *delayVote) add(k int, d uint32, constant bool) {
	switch {
	case !constant || (v.set[k] && v.d[k] != d):
		v.mixed[k] = true
	case !v.set[k]:
		v.d[k], v.set[k] = d, true
	}
}

// finish marks the mixed keys NoPopDelay.
func (v *delayVote) finish() {
	for k, m := range v.mixed {
		if m {
			v.d[k] = NoPopDelay
		}
	}
}
