package spec

import (
	"fmt"
	"math"
	"strconv"

	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// Checks of projections: endpoints, rules, degrees and explicit lists.

// lookup returns the population called name, or nil.
func (v *validator) lookup(name string) *myelinpb.Population {
	if i, ok := v.pops[name]; ok {
		return v.n.Populations[i]
	}
	return nil
}

// popRef checks that field (holding a population name) names an existing
// population, and returns it (nil when it does not).
func (v *validator) popRef(obj, field, name string) *myelinpb.Population {
	if name == "" {
		v.add(obj, field, "", "must name a population")
		return nil
	}
	p := v.lookup(name)
	if p == nil {
		v.add(obj, field, fmt.Sprintf("%q", name), "no population has this name")
	}
	return p
}

func (v *validator) projection(i int, pr *myelinpb.Projection) {
	obj := fmt.Sprintf("projection %q (projections[%d])", pr.Name, i)
	if pr.Name == "" {
		v.unset(obj, "name")
	} else {
		v.name(obj, "name", pr.Name, nil)
	}
	pre := v.popRef(obj, "pre", pr.Pre)
	post := v.popRef(obj, "post", pr.Post)
	if pre != nil && post != nil {
		switch {
		case IsSpiking(pre) && IsRate(post):
			v.add(obj, "post", fmt.Sprintf("%q", pr.Post), fmt.Sprintf("is a rate population but pre %q is spiking (%s): spiking populations project only to spiking populations", pr.Pre, ModelName(pre)))
		case IsRate(pre) && IsSpiking(post):
			v.add(obj, "post", fmt.Sprintf("%q", pr.Post), fmt.Sprintf("is spiking (%s) but pre %q is a rate population: rate populations project only to rate populations", ModelName(post), pr.Pre))
		}
	}
	autapses := pr.AllowAutapses == nil || *pr.AllowAutapses
	multapses := pr.AllowMultapses == nil || *pr.AllowMultapses
	if pr.AllowAutapses == nil {
		v.unset(obj, "allow_autapses")
	}
	if pr.AllowMultapses == nil {
		v.unset(obj, "allow_multapses")
	}
	// Sizes are used only when both ends exist and are non-empty.
	sized := pre != nil && post != nil && pre.Size > 0 && post.Size > 0
	self := pr.Pre == pr.Post
	weightNeeded := true
	switch r := pr.Rule.(type) {
	case nil:
		v.add(obj, "rule", "", "not set: one of fixed_in_degree, fixed_out_degree, pairwise_bernoulli, one_to_one, all_to_all, ring, explicit is required")
	case *myelinpb.Projection_FixedInDegree:
		k := r.FixedInDegree.GetIndegree()
		if k == 0 {
			v.add(obj, "fixed_in_degree.indegree", "0", "must be >= 1")
		} else if sized {
			v.degree(obj, "fixed_in_degree.indegree", k, "pre", pr.Pre, pre.Size, self, autapses, multapses)
		}
	case *myelinpb.Projection_FixedOutDegree:
		k := r.FixedOutDegree.GetOutdegree()
		if k == 0 {
			v.add(obj, "fixed_out_degree.outdegree", "0", "must be >= 1")
		} else if sized {
			v.degree(obj, "fixed_out_degree.outdegree", k, "post", pr.Post, post.Size, self, autapses, multapses)
		}
	case *myelinpb.Projection_PairwiseBernoulli:
		p := r.PairwiseBernoulli.GetP()
		if !finite(p) || p < 0 || p > 1 {
			v.add(obj, "pairwise_bernoulli.p", fnum(p), "must be in [0, 1]")
		}
	case *myelinpb.Projection_OneToOne:
		if sized && pre.Size != post.Size {
			v.add(obj, "one_to_one", "", fmt.Sprintf("pre %q has %d neurons and post %q has %d: sizes must be equal", pr.Pre, pre.Size, pr.Post, post.Size))
		}
	case *myelinpb.Projection_AllToAll:
	case *myelinpb.Projection_Ring:
		weightNeeded = false
		x := r.Ring
		if x == nil {
			x = &myelinpb.RingRule{}
		}
		if !finite(x.JExc) {
			v.add(obj, "ring.j_exc", fnum(x.JExc), "must be finite")
		}
		if !finite(x.JInh) {
			v.add(obj, "ring.j_inh", fnum(x.JInh), "must be finite")
		}
		switch {
		case !finite(x.SigmaDeg):
			v.add(obj, "ring.sigma_deg", fnum(x.SigmaDeg), "must be finite and > 0")
		case x.SigmaDeg <= 0:
			v.add(obj, "ring.sigma_deg", fnum(x.SigmaDeg), "must be > 0")
		}
		if sized && pre.Size != post.Size {
			v.add(obj, "ring", "", fmt.Sprintf("pre %q has %d neurons and post %q has %d: sizes must be equal", pr.Pre, pre.Size, pr.Post, post.Size))
		}
		if pre != nil && IsSpiking(pre) {
			v.add(obj, "ring", "", fmt.Sprintf("pre %q is spiking (%s): the ring rule connects rate populations only", pr.Pre, ModelName(pre)))
		} else if post != nil && IsSpiking(post) {
			v.add(obj, "ring", "", fmt.Sprintf("post %q is spiking (%s): the ring rule connects rate populations only", pr.Post, ModelName(post)))
		}
		if pr.Weight != nil {
			v.add(obj, "weight", "", "must not be set with the ring rule (ring.j_exc and ring.j_inh give the weights)")
		}
	case *myelinpb.Projection_Explicit:
		x := r.Explicit
		if x == nil {
			x = &myelinpb.ExplicitList{}
		}
		weightNeeded = len(x.WeightValues) == 0
		v.explicit(obj, x, pre, post, self, autapses, multapses)
	}
	if pr.Weight == nil {
		if weightNeeded {
			v.add(obj, "weight", "", "not set: a weight distribution is required (except for ring, and explicit with weight_values)")
		}
	} else if weightNeeded || !isRing(pr) {
		v.dist(obj, "weight", pr.Weight, false)
	}
	if pr.Delay == nil {
		v.unset(obj, "delay")
	} else {
		v.dist(obj, "delay", pr.Delay, true)
	}
	if pr.Stp != nil {
		v.stp(obj, pr, pre)
	}
	if pr.Stdp != nil {
		v.stdp(obj, pr, pre, post)
	}
	if pr.GetProcedural() {
		v.procedural(obj, pr, pre)
	}
	if pre != nil && IsRate(pre) {
		// A rate projection reads the rates of one past step: one delay.
		if k := pr.Delay.GetKind(); k != nil {
			if _, ok := k.(*myelinpb.Distribution_Constant); !ok {
				v.add(obj, "delay", "", "must be a constant for a rate projection (rate projections have one delay)")
			}
		}
		if x := pr.GetExplicit(); x != nil && len(x.DelayMs) > 0 {
			v.add(obj, "explicit.delay_ms", "", fmt.Sprintf("has %d entries: must be empty for a rate projection (rate projections have one delay: set delay)", len(x.DelayMs)))
		}
	}
	v.receptor(obj, "receptor", pr.Receptor)
	v.slowPort(obj, "receptor", pr.Receptor, post)
}

func isRing(pr *myelinpb.Projection) bool {
	_, ok := pr.Rule.(*myelinpb.Projection_Ring)
	return ok
}

// degree checks a fixed in- or out-degree k against the size of the
// population the connections are drawn from.
func (v *validator) degree(obj, field string, k uint32, side, name string, size uint32, self, autapses, multapses bool) {
	avail := size
	note := ""
	if self && !autapses {
		avail--
		note = " minus one as allow_autapses is false"
	}
	if avail == 0 {
		v.add(obj, field, strconv.Itoa(int(k)), fmt.Sprintf("no neuron to connect: %s %q has %d neuron%s", side, name, size, note))
		return
	}
	if !multapses && k > avail {
		v.add(obj, field, strconv.FormatUint(uint64(k), 10), fmt.Sprintf("must be <= %d (size of %s %q%s) when allow_multapses is false", avail, side, name, note))
	}
}

// explicit checks an explicit synapse list.
func (v *validator) explicit(obj string, x *myelinpb.ExplicitList, pre, post *myelinpb.Population, self, autapses, multapses bool) {
	n := len(x.PreIndex)
	if len(x.PostIndex) != n {
		v.add(obj, "explicit.post_index", "", fmt.Sprintf("has %d entries: must have as many as pre_index (%d)", len(x.PostIndex), n))
	}
	if m := len(x.WeightValues); m != 0 && m != n {
		v.add(obj, "explicit.weight_values", "", fmt.Sprintf("has %d entries: must be empty or have as many as pre_index (%d)", m, n))
	}
	if m := len(x.DelayMs); m != 0 && m != n {
		v.add(obj, "explicit.delay_ms", "", fmt.Sprintf("has %d entries: must be empty or have as many as pre_index (%d)", m, n))
	}
	l := &listErrs{v: v, obj: obj, field: "explicit"}
	if pre != nil {
		for k, i := range x.PreIndex {
			if i >= pre.Size {
				l.add(fmt.Sprintf("explicit.pre_index[%d]", k), strconv.FormatUint(uint64(i), 10), fmt.Sprintf("must be < %d (size of pre %q)", pre.Size, pre.Name))
			}
		}
	}
	if post != nil {
		for k, i := range x.PostIndex {
			if i >= post.Size {
				l.add(fmt.Sprintf("explicit.post_index[%d]", k), strconv.FormatUint(uint64(i), 10), fmt.Sprintf("must be < %d (size of post %q)", post.Size, post.Name))
			}
		}
	}
	for k, w := range x.WeightValues {
		if !finite(w) {
			l.add(fmt.Sprintf("explicit.weight_values[%d]", k), fnum(w), "must be finite")
		}
	}
	maxDelay := math.Inf(1)
	if v.dt > 0 {
		maxDelay = MaxDelaySteps * v.dt
	}
	for k, d := range x.DelayMs {
		switch {
		case !finite(d) || d < 0:
			l.add(fmt.Sprintf("explicit.delay_ms[%d]", k), fnum(d), "must be finite and >= 0")
		case d > maxDelay:
			l.add(fmt.Sprintf("explicit.delay_ms[%d]", k), fnum(d), fmt.Sprintf("must be <= %s ms (2^20 steps of dt_ms)", fnum(maxDelay)))
		}
	}
	if len(x.PostIndex) == n && (!multapses || (self && !autapses)) {
		seen := make(map[[2]uint32]struct{}, n)
		for k := range n {
			a, b := x.PreIndex[k], x.PostIndex[k]
			if self && !autapses && a == b {
				l.add(fmt.Sprintf("explicit[%d]", k), fmt.Sprintf("%d->%d", a, b), "is an autapse but allow_autapses is false")
			}
			if !multapses {
				key := [2]uint32{a, b}
				if _, dup := seen[key]; dup {
					l.add(fmt.Sprintf("explicit[%d]", k), fmt.Sprintf("%d->%d", a, b), "repeats a synapse but allow_multapses is false")
				}
				seen[key] = struct{}{}
			}
		}
	}
	l.flush()
}

// stp checks a projection's short-term plasticity parameters and that its
// presynaptic population spikes.
func (v *validator) stp(obj string, pr *myelinpb.Projection, pre *myelinpb.Population) {
	st := pr.Stp
	switch u := st.U; {
	case u == nil:
		v.unset(obj, "stp.u")
	case !finite(*u) || *u <= 0 || *u > 1:
		v.add(obj, "stp.u", fnum(*u), "must be in (0, 1]")
	}
	v.positive(obj, "stp.tau_rec_ms", st.TauRecMs)
	v.nonNegative(obj, "stp.tau_fac_ms", st.TauFacMs)
	if pre != nil && !IsSpiking(pre) {
		v.add(obj, "stp", "", fmt.Sprintf("pre %q is a rate population: short-term plasticity needs spikes", pr.Pre))
	}
}

// stpPairs checks that all projections between the same two populations
// agree on short-term plasticity and on STDP (the same parameters, or none on any of
// them): its state is kept per presynaptic neuron and target population,
// so it applies to every synapse between the two.
func (v *validator) stpPairs() {
	first := map[[2]string]int{}
	for i, pr := range v.n.Projections {
		if pr == nil {
			continue
		}
		key := [2]string{pr.Pre, pr.Post}
		j, seen := first[key]
		if !seen {
			first[key] = i
			continue
		}
		other := v.n.Projections[j]
		if (other.Stp == nil) != (pr.Stp == nil) || (pr.Stp != nil && !proto.Equal(other.Stp, pr.Stp)) {
			v.add(fmt.Sprintf("projection %q (projections[%d])", pr.Name, i), "stp", "",
				fmt.Sprintf("differs from that of projection %q (projections[%d]): every projection from %q onto %q must have the same short-term plasticity, or none", other.Name, j, pr.Pre, pr.Post))
		}
		if (other.Stdp == nil) != (pr.Stdp == nil) || (pr.Stdp != nil && (!proto.Equal(other.Stdp, pr.Stdp) || other.Receptor != pr.Receptor)) {
			v.add(fmt.Sprintf("projection %q (projections[%d])", pr.Name, i), "stdp", "",
				fmt.Sprintf("differs from that of projection %q (projections[%d]): every projection from %q onto %q must have the same stdp and receptor, or no stdp", other.Name, j, pr.Pre, pr.Post))
		}
	}
}

// procedural checks that a projection with procedural: true has a rule
// whose rows can be regenerated alone, one presynaptic neuron at a time,
// and nothing that needs per-synapse state.
func (v *validator) procedural(obj string, pr *myelinpb.Projection, pre *myelinpb.Population) {
	const supported = "fixed_out_degree, pairwise_bernoulli with by_source, one_to_one and all_to_all"
	switch r := pr.Rule.(type) {
	case *myelinpb.Projection_FixedOutDegree, *myelinpb.Projection_OneToOne:
	case *myelinpb.Projection_PairwiseBernoulli:
		if !r.PairwiseBernoulli.GetBySource() {
			v.add(obj, "pairwise_bernoulli.by_source", "false", "must be true with procedural: true (without it, the sources of each postsynaptic neuron are drawn in turn, so a presynaptic neuron's row cannot be regenerated alone)")
		}
	case *myelinpb.Projection_AllToAll:
		// Its weights and delays are drawn per postsynaptic neuron: a row
		// could not be regenerated without every column's draws.
		if _, ok := pr.Weight.GetKind().(*myelinpb.Distribution_Constant); !ok && pr.Weight != nil {
			v.add(obj, "weight", "", "must be a constant with procedural: true and all_to_all (its draws are made per postsynaptic neuron, so a row cannot be regenerated alone)")
		}
		if k := pr.Delay.GetKind(); k != nil {
			if _, ok := k.(*myelinpb.Distribution_Constant); !ok {
				v.add(obj, "delay", "", "must be a constant with procedural: true and all_to_all (its draws are made per postsynaptic neuron, so a row cannot be regenerated alone)")
			}
		}
	case nil:
	default:
		v.add(obj, "procedural", "true", fmt.Sprintf("not supported with rule %s: its synapses are generated per postsynaptic neuron (or as one list), so a presynaptic neuron's row cannot be regenerated alone; procedural supports %s", ruleName(pr), supported))
	}
	if pr.Stp != nil {
		v.add(obj, "procedural", "true", "not supported with stp: short-term plasticity is not implemented for procedural projections")
	}
	if pr.Stdp != nil {
		v.add(obj, "procedural", "true", "not supported with stdp: STDP keeps a weight per synapse, which a procedural projection does not store")
	}
	if pre != nil && IsRate(pre) {
		v.add(obj, "procedural", "true", "not supported for rate populations: procedural connectivity regenerates the rows of spiking neurons")
	}
}

// ruleName returns the name of a projection's rule field.
func ruleName(pr *myelinpb.Projection) string {
	switch pr.Rule.(type) {
	case *myelinpb.Projection_FixedInDegree:
		return "fixed_in_degree"
	case *myelinpb.Projection_FixedOutDegree:
		return "fixed_out_degree"
	case *myelinpb.Projection_PairwiseBernoulli:
		return "pairwise_bernoulli"
	case *myelinpb.Projection_OneToOne:
		return "one_to_one"
	case *myelinpb.Projection_AllToAll:
		return "all_to_all"
	case *myelinpb.Projection_Ring:
		return "ring"
	case *myelinpb.Projection_Explicit:
		return "explicit"
	}
	return "(none)"
}
