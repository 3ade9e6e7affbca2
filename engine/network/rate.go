package network

import (
	"fmt"
	"math"
	"slices"

	myelinpb "github.com/myelin-sim/myelin/proto"
)

// rateProjections builds the projections between rate populations: ring
// rules as a table of w by index difference, the other rules as a CSC by
// post neuron in ascending pre order (so every backend sums in one order).
func (b *builder) rateProjections() error {
	net := b.net
	maxD := uint32(0)
	for i, p := range net.Spec.GetProjections() {
		pre, post := b.byName[p.GetPre()], b.byName[p.GetPost()]
		if net.Pops[pre].Spiking() {
			continue
		}
		where := fmt.Sprintf("projection %q (projections[%d])", p.GetName(), i)
		dms, ok := isConstant(p.GetDelay())
		if !ok {
			return fmt.Errorf("%s: delay: rate projections take a constant delay", where)
		}
		if p.GetDelay().GetKind() == nil {
			dms = net.Dt
		}
		rp := RateProjection{Pre: pre, Post: post, DelaySteps: delaySteps(dms, net.Dt)}
		maxD = max(maxD, rp.DelaySteps)
		nPre, nPost := net.Pops[pre].Size, net.Pops[post].Size
		if r, ring := p.GetRule().(*myelinpb.Projection_Ring); ring {
			if nPre != nPost {
				return fmt.Errorf("%s: ring rule needs equal sizes, got %d and %d", where, nPre, nPost)
			}
			rp.Table = RingTable(nPost, r.Ring.GetJExc(), r.Ring.GetJInh(), r.Ring.GetSigmaDeg())
			for k, w := range rp.Table {
				if x := float64(w); math.IsInf(x, 0) || math.IsNaN(x) {
					return fmt.Errorf("%s: ring: the weight at distance %d is %v: j_exc = %g and j_inh = %g must keep weights within the float32 range (±3.4e38)", where, k, w, r.Ring.GetJExc(), r.Ring.GetJInh())
				}
			}
			net.Pops[post].Synapses += uint64(nPre) * uint64(nPost)
		} else {
			g := newGenerator(i, p, nPre, nPost, pre == post, net.Dt, net.Seed)
			if err := g.check(); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			type syn struct {
				post, pre uint32
				w         float32
			}
			var all []syn
			badW := 0.0
			wk := g.newWorker()
			wk.noDelay = true
			for u := uint32(0); u < g.units; u++ {
				b := g.unit(wk, u)
				for i, w := range b.w {
					if x := float64(float32(w)); math.IsInf(x, 0) || math.IsNaN(x) {
						badW = w
					}
					all = append(all, syn{b.post[i], b.pre[i], float32(w)})
				}
			}
			if badW != 0 {
				return fmt.Errorf("%s: weight: drew %g, beyond the float32 range of rate weights (±3.4e38)", where, badW)
			}
			slices.SortStableFunc(all, func(a, b syn) int {
				if a.post != b.post {
					return int(int64(a.post) - int64(b.post))
				}
				return int(int64(a.pre) - int64(b.pre))
			})
			rp.ColPtr = make([]uint32, nPost+1)
			for _, s := range all {
				rp.ColPtr[s.post+1]++
				rp.Src = append(rp.Src, s.pre)
				rp.W = append(rp.W, s.w)
			}
			for j := uint32(0); j < nPost; j++ {
				rp.ColPtr[j+1] += rp.ColPtr[j]
			}
			net.Pops[post].Synapses += uint64(len(all))
		}
		net.RateProj = append(net.RateProj, rp)
	}
	for _, p := range net.Pops {
		if !p.Spiking() {
			net.RateSlots = maxD + 1
			break
		}
	}
	return nil
}

// RingTable returns w(k) = j_exc exp(-d²/2σ²) - j_inh for index differences
// k = 0..n-1 on a ring of n neurons, d = 360·min(k, n-k)/n degrees.
func RingTable(n uint32, jExc, jInh, sigmaDeg float64) []float32 {
	t := make([]float32, n)
	for k := range t {
		d := 360 * float64(min(uint32(k), n-uint32(k))) / float64(n)
		g := 1.0 // at d = 0, also when 2σ² underflows to 0 (0/0)
		if d > 0 {
			g = math.Exp(-d * d / (2 * sigmaDeg * sigmaDeg))
		}
		t[k] = float32(jExc*g - jInh)
	}
	return t
}

func (b *builder) probes() error {
	net := b.net
	for i, s := range net.Spec.GetRecording().GetState() {
		pi, ok := b.byName[s.GetPopulation()]
		if !ok {
			return fmt.Errorf("recording.state[%d]: population %q: no such population", i, s.GetPopulation())
		}
		pop := &net.Pops[pi]
		if s.GetCount() == 0 || uint64(s.GetFirst())+uint64(s.GetCount()) > uint64(pop.Size) {
			return fmt.Errorf("recording.state[%d]: neurons [%d, %d) of %q: must be a non-empty range within its %d neurons", i, s.GetFirst(), uint64(s.GetFirst())+uint64(s.GetCount()), pop.Name, pop.Size)
		}
		v := "V_m"
		if !pop.Spiking() {
			v = "r"
		}
		net.Probes = append(net.Probes, Probe{Pop: pi, First: s.GetFirst(), Count: s.GetCount(), Every: max(1, s.GetEvery()), Variable: v})
	}
	return nil
}
