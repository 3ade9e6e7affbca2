package network

import (
	"fmt"

	"github.com/myelin-sim/myelin/engine/synapse"
)

// STPSet is one set of short-term plasticity coefficients on synapses from
// population Pre (Network.STPOf says onto which populations). Its state is
// one (u, x, last spike step) per neuron of Pre, at [Off, Off+size of Pre)
// of a backend's STP state arrays; the factor u·x of a neuron's latest
// spike scales the weights of that spike's synapses onto those
// populations.
type STPSet struct {
	Pre  int
	Coef synapse.TsodyksMarkram
	Off  uint32
}

// STPStateSize is the number of (u, x, last) entries the network's STP
// sets need.
func (n *Network) STPStateSize() uint32 {
	var total uint32
	for _, s := range n.STP {
		total += n.Pops[s.Pre].Size
	}
	return total
}

// STPSetOf returns the set on synapses from population p onto q, or -1.
func (n *Network) STPSetOf(p, q int) int {
	if n.STPOf == nil {
		return -1
	}
	return int(n.STPOf[p*len(n.Pops)+q])
}

// plasticity resolves the projections' short-term plasticity (spec
// validation made every projection between two populations agree) into
// parameter sets, one per presynaptic population and distinct parameters.
func (b *builder) plasticity() error {
	net := b.net
	np := len(net.Pops)
	type key struct {
		pre               int
		u, tauRec, tauFac float64
	}
	sets := map[key]int{}
	var total uint64
	for i, pr := range net.Spec.GetProjections() {
		st := pr.GetStp()
		if st == nil {
			continue
		}
		p, ok1 := b.byName[pr.GetPre()]
		q, ok2 := b.byName[pr.GetPost()]
		if !ok1 || !ok2 {
			return fmt.Errorf("projection %q (projections[%d]): unknown population", pr.GetName(), i)
		}
		if !net.Pops[p].Spiking() {
			return fmt.Errorf("projection %q (projections[%d]): stp: pre %q is not spiking", pr.GetName(), i, pr.GetPre())
		}
		k := key{p, st.GetU(), st.GetTauRecMs(), st.GetTauFacMs()}
		set, ok := sets[k]
		if !ok {
			c, err := synapse.NewTsodyksMarkram(k.u, k.tauRec, k.tauFac, net.Dt)
			if err != nil {
				return fmt.Errorf("projection %q (projections[%d]): stp: %w", pr.GetName(), i, err)
			}
			set = len(net.STP)
			sets[k] = set
			net.STP = append(net.STP, STPSet{Pre: p, Coef: c, Off: uint32(total)})
			total += uint64(net.Pops[p].Size)
			if total >= 1<<32 {
				return fmt.Errorf("projection %q (projections[%d]): stp: %d state entries: at most 2^32", pr.GetName(), i, total)
			}
		}
		if net.STPOf == nil {
			net.STPOf = make([]int32, np*np)
			for j := range net.STPOf {
				net.STPOf[j] = -1
			}
		}
		if old := net.STPOf[p*np+q]; old >= 0 && int(old) != set {
			return fmt.Errorf("projection %q (projections[%d]): stp differs from another projection from %q onto %q", pr.GetName(), i, pr.GetPre(), pr.GetPost())
		}
		net.STPOf[p*np+q] = int32(set)
	}
	return nil
}
