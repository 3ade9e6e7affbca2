package network

import (
	"fmt"
	"math"

	"github.com/myelin-sim/myelin/engine/synapse"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// STDPSet is the spike-timing-dependent plasticity of every synapse from
// population Pre onto population Post (spec validation made all
// projections between the two agree). The synapses keep their own weights
// in Syn.Weight (Pre is never compact). The set's traces are one uint64
// record per neuron (synapse.TraceAt): the presynaptic ones at [PreOff,
// PreOff + size of Pre) of a backend's pre-trace array, the postsynaptic
// ones at [PostOff, PostOff + size of Post) of its post-trace array.
//
// The by-post index lists each Post neuron's incoming synapses of the set:
// those of local post neuron j are entries [PostPtr[j], PostPtr[j+1]), each
// with its index into Syn.Weight (PostW) and its local presynaptic neuron
// (PostPre), in ascending order of presynaptic neuron and then of position
// in its row.
type STDPSet struct {
	Pre, Post       int
	Params          synapse.STDPParams // w_max signed by channel
	Coef            synapse.STDP       // at learning rate 1
	PreOff, PostOff uint32
	PostPtr         []uint64
	PostW           []uint32
	PostPre         []uint32
	// Synapses is the number of plastic synapses of the set.
	Synapses uint64
}

// PhaseRange is a phase of the run resolved to steps [Start, Stop), with
// the factor on every STDP change.
type PhaseRange struct {
	Name        string
	Start, Stop uint64
	Rate        float64
}

// STDPTraceSizes returns the lengths of the pre- and postsynaptic trace
// arrays that the network's STDP sets need.
func (n *Network) STDPTraceSizes() (pre, post uint32) {
	if len(n.STDP) == 0 {
		return 0, 0
	}
	last := &n.STDP[len(n.STDP)-1]
	return last.PreOff + n.Pops[last.Pre].Size, last.PostOff + n.Pops[last.Post].Size
}

// STDPSetOf returns the STDP set on synapses from population p onto q, or
// -1.
func (n *Network) STDPSetOf(p, q int) int {
	if n.STDPOf == nil {
		return -1
	}
	return int(n.STDPOf[p*len(n.Pops)+q])
}

// LearningRate returns the factor on STDP changes at step t: that of the
// phase holding t, or 1.
func (n *Network) LearningRate(t uint64) float64 {
	for _, p := range n.Phases {
		if t >= p.Start && t < p.Stop {
			return p.Rate
		}
	}
	return 1
}

// NextPhaseChange returns the first step after t at which the learning
// rate may change (a phase starts or stops), or Steps.
func (n *Network) NextPhaseChange(t uint64) uint64 {
	next := n.Steps
	for _, p := range n.Phases {
		if p.Start > t && p.Start < next {
			next = p.Start
		}
		if p.Stop > t && p.Stop < next {
			next = p.Stop
		}
	}
	return next
}

// stdpBound returns |w_max| of a projection with STDP, 0 for a static one:
// pass 1 counts every synapse of the projection at it, so that the target's
// fixed-point scale leaves room for every weight to grow to w_max.
func stdpBound(pr *myelinpb.Projection) float64 {
	if st := pr.GetStdp(); st != nil {
		return math.Abs(st.GetWMax())
	}
	return 0
}

// stdp resolves the projections' STDP into sets, one per pair of
// populations, builds their by-post indices, and resolves the phases.
func (b *builder) stdp() error {
	net := b.net
	np := len(net.Pops)
	var preTotal, postTotal uint64
	for i, pr := range net.Spec.GetProjections() {
		st := pr.GetStdp()
		if st == nil {
			continue
		}
		where := fmt.Sprintf("projection %q (projections[%d])", pr.GetName(), i)
		p, ok1 := b.byName[pr.GetPre()]
		q, ok2 := b.byName[pr.GetPost()]
		if !ok1 || !ok2 {
			return fmt.Errorf("%s: unknown population", where)
		}
		if !net.Pops[p].Spiking() || !net.Pops[q].Spiking() {
			return fmt.Errorf("%s: stdp: pre %q and post %q must both be spiking", where, pr.GetPre(), pr.GetPost())
		}
		if net.STDPOf == nil {
			net.STDPOf = make([]int32, np*np)
			for j := range net.STDPOf {
				net.STDPOf[j] = -1
			}
		}
		if net.STDPOf[p*np+q] >= 0 {
			continue // validation made the projections between p and q agree
		}
		par := synapse.STDPParams{
			TauPlus: st.GetTauPlusMs(), TauMinus: st.GetTauMinusMs(), Lambda: st.GetLambda(), Alpha: st.GetAlpha(),
			MuPlus: st.GetMuPlus(), MuMinus: st.GetMuMinus(), WMax: signedWeight(st.GetWMax(), pr.GetReceptor()),
		}
		c, err := synapse.NewSTDP(par, net.Dt, net.Pops[q].Shift, 1)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if net.Syn.WeightBase[p] == Compact {
			return fmt.Errorf("%s: stdp: population %q stores no weights (internal error)", where, pr.GetPre())
		}
		set := STDPSet{Pre: p, Post: q, Params: par, Coef: c, PreOff: uint32(preTotal), PostOff: uint32(postTotal)}
		preTotal += uint64(net.Pops[p].Size)
		postTotal += uint64(net.Pops[q].Size)
		if preTotal >= 1<<32 || postTotal >= 1<<32 {
			return fmt.Errorf("%s: stdp: more than 2^32 trace entries", where)
		}
		if uint64(len(net.Syn.Weight)) >= 1<<32 {
			return fmt.Errorf("%s: stdp: %d stored weights: plastic networks hold at most 2^32-1", where, len(net.Syn.Weight))
		}
		net.indexSTDP(&set)
		net.STDPOf[p*np+q] = int32(len(net.STDP))
		net.STDP = append(net.STDP, set)
	}
	for i, ph := range net.Spec.GetPhases() {
		a, z := net.stepRange(&ph.StartMs, &ph.StopMs)
		r := 1.0
		if ph.LearningRate != nil {
			r = ph.GetLearningRate()
		}
		if !(r >= 0) || math.IsInf(r, 0) {
			return fmt.Errorf("phase %q (phases[%d]): learning_rate = %v: must be finite and >= 0", ph.GetName(), i, r)
		}
		for k := range net.STDP {
			set := &net.STDP[k]
			if _, err := synapse.NewSTDP(set.Params, net.Dt, net.Pops[set.Post].Shift, r); err != nil {
				return fmt.Errorf("phase %q (phases[%d]): learning_rate = %v: STDP of %q onto %q: %w", ph.GetName(), i, r, net.Pops[set.Pre].Name, net.Pops[set.Post].Name, err)
			}
		}
		net.Phases = append(net.Phases, PhaseRange{Name: ph.GetName(), Start: a, Stop: z, Rate: r})
	}
	return nil
}

// indexSTDP builds set's by-post index from the rows of its presynaptic
// population.
func (n *Network) indexSTDP(set *STDPSet) {
	syn := &n.Syn
	pre, post := &n.Pops[set.Pre], &n.Pops[set.Post]
	lo, hi := post.First, post.First+post.Size
	dbits := syn.DelayBits
	ptr := make([]uint64, post.Size+1)
	seg := func(r uint32) (uint64, uint64) {
		a, b := syn.RowPtr[r], syn.RowPtr[r+1]
		row := syn.Packed[a:b]
		return a + uint64(SearchTarget(row, dbits, lo)), a + uint64(SearchTarget(row, dbits, hi))
	}
	for r := pre.First; r < pre.First+pre.Size; r++ {
		a, b := seg(r)
		for _, p := range syn.Packed[a:b] {
			ptr[p>>dbits-lo+1]++
		}
	}
	for j := range post.Size {
		ptr[j+1] += ptr[j]
	}
	total := ptr[post.Size]
	set.Synapses = total
	set.PostW = make([]uint32, total)
	set.PostPre = make([]uint32, total)
	fill := append([]uint64(nil), ptr[:post.Size]...)
	base := syn.WeightBase[set.Pre] - syn.RowPtr[pre.First]
	for r := pre.First; r < pre.First+pre.Size; r++ {
		a, b := seg(r)
		for k := a; k < b; k++ {
			j := syn.Packed[k]>>dbits - lo
			set.PostW[fill[j]] = uint32(base + k)
			set.PostPre[fill[j]] = r - pre.First
			fill[j]++
		}
	}
	set.PostPtr = ptr
}

// SearchTarget returns the first index of row whose target is >= g (rows
// are sorted by packed word, so by target).
func SearchTarget(row []uint32, dbits, g uint32) int {
	lo, hi := 0, len(row)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if row[m]>>dbits < g {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// PlasticSegment returns the synapses of row r (a neuron of set's
// presynaptic population) onto its postsynaptic population, as indices
// [a, b) into Syn.Packed.
func (n *Network) PlasticSegment(set *STDPSet, r uint32) (a, b uint64) {
	syn := &n.Syn
	post := &n.Pops[set.Post]
	x, y := syn.RowPtr[r], syn.RowPtr[r+1]
	row := syn.Packed[x:y]
	return x + uint64(SearchTarget(row, syn.DelayBits, post.First)), x + uint64(SearchTarget(row, syn.DelayBits, post.First+post.Size))
}

// PlasticWeights lists the synapses of set in the engine's order (by
// presynaptic neuron, then by target and delay): their local pre- and
// postsynaptic neurons and their weights in weight, which is laid out as
// Syn.Weight (a backend's current weights).
func (n *Network) PlasticWeights(set *STDPSet, weight []int32) (pre, post []uint32, w []int32) {
	syn := &n.Syn
	p, q := &n.Pops[set.Pre], &n.Pops[set.Post]
	pre = make([]uint32, 0, set.Synapses)
	post = make([]uint32, 0, set.Synapses)
	w = make([]int32, 0, set.Synapses)
	base := syn.WeightBase[set.Pre] - syn.RowPtr[p.First]
	for r := p.First; r < p.First+p.Size; r++ {
		a, b := n.PlasticSegment(set, r)
		for k := a; k < b; k++ {
			pre = append(pre, r-p.First)
			post = append(post, syn.Packed[k]>>syn.DelayBits-q.First)
			w = append(w, weight[base+k])
		}
	}
	return pre, post, w
}
