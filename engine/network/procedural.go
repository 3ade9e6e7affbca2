package network

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/myelin-sim/myelin/engine/rng"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// Procedural is a spiking projection with procedural: true. Its synapses
// are not stored (zero bytes per synapse): a backend regenerates the row of
// a presynaptic neuron when it spikes (NewRowGen), from the seed, with the
// builder's own generator, so targets, delays and fixed-point weights are
// those that the stored mode would hold, and the spikes are the same.
//
// Build still generates the projection once (pass 1) to bound its targets'
// input, so every fixed-point scale is the stored mode's, and, where the
// delays are drawn or the weights are deferred, a second time without
// storing, for the longest delay (RingSlots) and the deferred bounds.
type Procedural struct {
	// Name is the projection's name; Index its place in Spec.Projections.
	Name  string
	Index int
	// Pre and Post are population indices.
	Pre, Post int
	// Synapses is its number of synapses (none stored).
	Synapses uint64
	// Port is Syn.PortBit for a projection onto the slow excitatory port,
	// 0 otherwise: it is or-ed into every delay field, as in a packed word.
	Port uint32
	// viaFloat32 is true where the stored mode defers the weights (drawn
	// weights of a by-post rule): pass 2 keeps them as float32 until the
	// scales are known, so they are rounded to float32 before quantizing.
	viaFloat32 bool
	gen        *generator
}

// proceduralRule reports whether the rule of p can be regenerated one
// presynaptic neuron at a time, and why not otherwise.
func proceduralRule(p *myelinpb.Projection) error {
	switch r := p.GetRule().(type) {
	case *myelinpb.Projection_FixedOutDegree, *myelinpb.Projection_OneToOne:
	case *myelinpb.Projection_PairwiseBernoulli:
		if !r.PairwiseBernoulli.GetBySource() {
			return fmt.Errorf("procedural: pairwise_bernoulli needs by_source (its rows are then drawn one presynaptic neuron at a time)")
		}
	case *myelinpb.Projection_AllToAll:
		if _, ok := isConstant(p.GetWeight()); !ok {
			return fmt.Errorf("procedural: all_to_all needs a constant weight (its draws are made per postsynaptic neuron)")
		}
		if _, ok := isConstant(p.GetDelay()); !ok {
			return fmt.Errorf("procedural: all_to_all needs a constant delay (its draws are made per postsynaptic neuron)")
		}
	default:
		return fmt.Errorf("procedural: not supported with this rule: only fixed_out_degree, pairwise_bernoulli with by_source, one_to_one and all_to_all rows can be regenerated alone")
	}
	if p.GetStp() != nil {
		return fmt.Errorf("procedural: not supported with stp")
	}
	if p.GetStdp() != nil {
		return fmt.Errorf("procedural: not supported with stdp (it keeps a weight per synapse)")
	}
	return nil
}

// RowGen regenerates the rows of one procedural projection. It holds its
// own generator worker and buffers: use one per thread. It allocates only
// while its buffers grow to the longest row.
type RowGen struct {
	p         *Procedural
	wk        *worker
	scale     float64
	postFirst uint32
	// constant: every synapse has delay field cd and weight cw (Row
	// returns only the targets).
	constant bool
	cd       uint32
	cw       int32
	tgt, dly []uint32
	w        []int32
}

// NewRowGen returns a row generator for the procedural projection p of net.
func (p *Procedural) NewRowGen(net *Network) *RowGen {
	g := p.gen
	wk := g.newWorker()
	r := &RowGen{
		p: p, wk: wk,
		scale:     math.Ldexp(1, int(net.Pops[p.Post].Shift)),
		postFirst: net.Pops[p.Post].First,
		constant:  g.constWOK && g.constDOK,
	}
	if r.constant {
		// Every synapse of a row is alike but for its target: the targets
		// may come in any order (choose then skips sorting them), the row
		// is the same set. Drawn delays or weights pair with the targets
		// in sorted order, as pass 2 stores them.
		wk.unordered = true
		r.cd, r.cw = g.constD|p.Port, r.quantize(g.signed(g.constW))
	}
	return r
}

// Constant reports whether every synapse of the projection has the same
// delay field and fixed-point weight, and returns them: Row then returns
// the targets only.
func (r *RowGen) Constant() (delay uint32, w int32, ok bool) {
	return r.cd, r.cw, r.constant
}

// quantize converts a signed weight to the target's fixed point exactly as
// the stored mode does (pass 2, or sortRows for deferred weights).
func (r *RowGen) quantize(w float64) int32 {
	if r.p.viaFloat32 {
		w = float64(float32(w))
	}
	return int32(math.Round(w * r.scale))
}

// Row returns the synapses of local presynaptic neuron i (0 <= i < the
// pre population's size): global target ids, delay fields (delay steps,
// or-ed with Port) and fixed-point weights, in the generator's order; for
// a Constant projection the delays and weights are nil. The slices are
// valid until the next call.
func (r *RowGen) Row(i uint32) (tgt, delay []uint32, w []int32) {
	g := r.p.gen
	skip := g.samePop && !g.autapses
	if r.constant {
		switch rule := g.proj.GetRule().(type) {
		case *myelinpb.Projection_FixedOutDegree:
			r.wk.conn.Reset(i)
			local := g.choose(r.wk, rule.FixedOutDegree.GetOutdegree(), g.nPost, i)
			tgt = grow(&r.tgt, len(local))
			for k, x := range local {
				tgt[k] = r.postFirst + x
			}
		case *myelinpb.Projection_PairwiseBernoulli:
			r.wk.conn.Reset(i)
			local := g.bernoulli(r.wk, rule.PairwiseBernoulli.GetP(), i)
			tgt = grow(&r.tgt, len(local))
			for k, x := range local {
				tgt[k] = r.postFirst + x
			}
		case *myelinpb.Projection_OneToOne:
			tgt = r.tgt[:0]
			if !skip {
				tgt = append(tgt, r.postFirst+i)
			}
			r.tgt = tgt
		case *myelinpb.Projection_AllToAll:
			tgt = r.tgt[:0]
			for j := uint32(0); j < g.nPost; j++ {
				if !(skip && j == i) {
					tgt = append(tgt, r.postFirst+j)
				}
			}
			r.tgt = tgt
		}
		return tgt, nil, nil
	}
	// Fixed out-degree, Bernoulli by source: unit i is pre neuron i. One-to-one: unit i holds
	// the one synapse i -> i (or none without autapses). (All-to-all is
	// constant: Build checks.)
	bt := g.unit(r.wk, i)
	n := len(bt.post)
	tgt, delay, w = grow(&r.tgt, n), grow(&r.dly, n), grow(&r.w, n)
	for k, post := range bt.post {
		tgt[k], delay[k], w[k] = r.postFirst+post, bt.d[k]|r.p.Port, r.quantize(bt.w[k])
	}
	return tgt, delay, w
}

// scanProcedural is pass 2 for a procedural projection: it writes nothing,
// but sets sp.maxDelay (drawing the delays where they are not constant)
// and, where the weights are deferred, adds their magnitudes to the
// targets' input bounds exactly as writeProjection and writeDirect do
// (each unit is one target, summed in synapse order). It returns a
// non-finite weight drawn, or 0.
func (b *builder) scanProcedural(sp *spikingProj) (bad float64) {
	g := sp.gen
	b.net.Pops[sp.post].Synapses += sp.total
	if sp.total == 0 {
		return 0
	}
	if g.constDOK && !sp.deferred {
		sp.maxDelay = g.constD
		return 0
	}
	abs := b.absSum[b.net.Pops[sp.post].First:]
	k := len(sp.unitChunks)
	maxD := make([]uint32, k)
	bads := make([]float64, k)
	forChunks(b.threads, k, func(c int) {
		wk := g.newWorker()
		wk.noWeight = !sp.deferred
		wk.noDelay = g.constDOK
		md, bd := uint32(0), 0.0
		lo, hi := sp.unitChunks[c][0], sp.unitChunks[c][1]
		for u := lo; u < hi; u++ {
			if (u-lo)%1024 == 1023 && b.ctx.Err() != nil {
				break // the caller reports the cancellation
			}
			bt := g.unit(wk, u)
			for _, d := range bt.d {
				md = max(md, d)
			}
			if sp.deferred {
				x := abs[u]
				for _, wt := range bt.w {
					x += math.Abs(wt)
				}
				if math.IsInf(x, 0) || math.IsNaN(x) {
					bd = nonFiniteIn(bt.w, bd)
				}
				abs[u] = x
			}
		}
		maxD[c], bads[c] = md, bd
	})
	for c := range maxD {
		sp.maxDelay = max(sp.maxDelay, maxD[c])
		if bads[c] != 0 {
			bad = bads[c]
		}
	}
	if g.constDOK {
		sp.maxDelay = g.constD
	}
	return bad
}

// RowIn is Row restricted to the targets in the global id range [lo, hi):
// the synapses of local presynaptic neuron i onto those targets only, as
// one thread of a backend that owns [lo, hi) delivers them. A row that
// cannot reach the range is not generated at all; a constant fixed
// out-degree row without multapses is read back from the sampler's bitset
// over the range alone (no list of every target, no test per target).
func (r *RowGen) RowIn(i, lo, hi uint32) (tgt, delay []uint32, w []int32) {
	g := r.p.gen
	a, b := max(lo, r.postFirst), min(hi, r.postFirst+g.nPost)
	if a >= b {
		return r.tgt[:0], r.dly[:0], r.w[:0]
	}
	a, b = a-r.postFirst, b-r.postFirst // local targets [a, b)
	if fo, ok := g.proj.GetRule().(*myelinpb.Projection_FixedOutDegree); ok && r.constant && !g.multapses {
		return r.bitsetRow(i, fo.FixedOutDegree.GetOutdegree(), a, b), nil, nil
	}
	tgt, delay, w = r.Row(i)
	n := 0
	if r.constant {
		for _, x := range tgt {
			tgt[n] = x
			if x-r.postFirst-a < b-a {
				n++
			}
		}
		return tgt[:n], nil, nil
	}
	for k, x := range tgt {
		if x-r.postFirst-a < b-a {
			tgt[n], delay[n], w[n] = x, delay[k], w[k]
			n++
		}
	}
	return tgt[:n], delay[:n], w[:n]
}

// Whole returns the synapses of local presynaptic neuron i, as Row does but
// in any order, the cheaper way: a constant fixed out-degree row without
// multapses whose targets are dense enough (the sampler's bitset at most 8
// words per target) is read back from the bitset, ascending; any other row
// comes from Row. The slices are valid until the next call.
func (r *RowGen) Whole(i uint32) (tgt, delay []uint32, w []int32) {
	g := r.p.gen
	if fo, ok := g.proj.GetRule().(*myelinpb.Projection_FixedOutDegree); ok && r.constant && !g.multapses {
		if k := fo.FixedOutDegree.GetOutdegree(); uint64(g.nPost)/64 <= 8*uint64(k) {
			return r.bitsetRow(i, k, 0, g.nPost), nil, nil
		}
	}
	return r.Row(i)
}

// bitsetRow runs Floyd's sampler of generator.choose for pre neuron i (the
// same draws: k words of the unit's connectivity stream) into the worker's
// bitset, and returns the global ids of the chosen targets among the local
// targets [a, b), ascending.
func (r *RowGen) bitsetRow(i, k, a, b uint32) []uint32 {
	g, wk := r.p.gen, r.wk
	skip := g.samePop && !g.autapses
	m := g.nPost
	if skip {
		m--
	}
	words := int(m+63) / 64
	if len(wk.seen) < words {
		wk.seen = make([]uint64, words)
	}
	seen := wk.seen
	drawn := wk.chosen[:0]
	wk.conn.Reset(i)
	for j := m - k; j < m; j++ {
		t, _ := bits.Mul32(wk.conn.Uint32(), j+1)
		if seen[t/64]&(1<<(t%64)) != 0 {
			t = j
		}
		seen[t/64] |= 1 << (t % 64)
		drawn = append(drawn, t)
	}
	wk.chosen = drawn
	// Draw t is target t, or t+1 from i on when i itself is skipped:
	// targets [a, b) are draws [ta, tb).
	ta, tb := a, b
	if skip {
		if a > i {
			ta--
		}
		if b > i {
			tb--
		}
	}
	out := r.tgt[:0]
	for wi := ta / 64; ta < tb && wi <= (tb-1)/64; wi++ {
		word := seen[wi]
		if base := wi * 64; base < ta {
			word &= ^uint64(0) << (ta - base)
		}
		if end := (wi + 1) * 64; end > tb {
			word &= ^uint64(0) >> (end - tb)
		}
		for word != 0 {
			t := wi*64 + uint32(bits.TrailingZeros64(word))
			word &= word - 1
			x := t
			if skip && t >= i {
				x++
			}
			out = append(out, r.postFirst+x)
		}
	}
	r.tgt = out
	for _, t := range drawn {
		seen[t/64] = 0
	}
	return out
}

// Rule kinds of a procedural projection (Device.Rule).
const (
	RuleFixedOutDegree = 1
	RuleOneToOne       = 2
	RuleAllToAll       = 3
	RuleBernoulli      = 4 // pairwise_bernoulli by_source
	// RuleFixedInDegree is a stored fixed in-degree projection built on a
	// device (BuildOn): its units are the postsynaptic neurons, K the
	// in-degree.
	RuleFixedInDegree = 5
	// RuleAllToAllByPost and RuleBernoulliByPost are all_to_all and
	// pairwise_bernoulli (without by_source) built on a device: a unit
	// (postsynaptic neuron) has every presynaptic neuron, or each with
	// probability P, as partners; K is the presynaptic population's size.
	// (RuleOneToOne is the same for both: unit i is the synapse i -> i.)
	RuleAllToAllByPost  = 6
	RuleBernoulliByPost = 7
)

// Kinds of a drawn weight or delay (Device.WeightKind, Device.DelayKind).
const (
	DrawConstant  = 0 // the constant (Device.ConstWeight, Device.ConstDelay)
	DrawUniform   = 1 // low + width × a 53-bit uniform (two words)
	DrawNormal    = 2 // the ziggurat normal, clipped by redraws
	DrawLognormal = 3 // exp of a ziggurat normal
	DrawTable     = 4 // delays only: the step table (one word)
)

// Device describes a procedural projection for a device twin of RowGen:
// everything a kernel needs to regenerate a row with the builder's draws.
// Row i of the projection is unit i of its generator: the connectivity,
// weight and delay streams of item i under the purposes below, from draw 0.
type Device struct {
	// Rule is RuleFixedOutDegree, RuleOneToOne, RuleAllToAll or
	// RuleBernoulli (RuleFixedInDegree for BuildOn); K the out-degree of a
	// fixed out-degree rule (the in-degree of a fixed in-degree rule).
	Rule int
	K    uint32
	// PreFirst and PreSize are the presynaptic population's global ids;
	// PostFirst and NPost the postsynaptic population's.
	PreFirst, PreSize, PostFirst, NPost uint32
	// SkipSelf: pre and post are one population without autapses (a
	// candidate t >= i is t+1). Multapses: the fixed out-degree draws are
	// independent (bits.Mul32 reduction), not Floyd's sampler.
	SkipSelf, Multapses bool
	// ConnPurpose, WeightPurpose and DelayPurpose are the rng purpose
	// words of the projection's three streams.
	ConnPurpose, WeightPurpose, DelayPurpose uint32
	// Scale is 2^shift of the target population: a weight w quantizes to
	// round(w·Scale) (half away from zero), after rounding w to float32
	// where ViaFloat32.
	Scale      float64
	ViaFloat32 bool
	// WeightKind is the weight's distribution (DrawConstant: ConstWeight,
	// already quantized and signed); WeightA and WeightB its parameters
	// (uniform: low and width; normal: mean and std; lognormal: mu and
	// sigma), WeightLo and WeightHi a normal's accepted range, WeightNeg a
	// lognormal's sign; WeightSign is +1 or -1 where the receptor fixes
	// the sign (|w| or -|w|), 0 where w keeps its own.
	WeightKind                           int
	ConstWeight                          int32
	WeightA, WeightB, WeightLo, WeightHi float64
	WeightNeg                            bool
	WeightSign                           float64
	// DelayKind is the delay's distribution: DrawConstant (ConstDelay),
	// DrawTable (step DelayFirst + the first k with word < DelayThr[k], or
	// the last), or another kind drawn in ms with DelayA, DelayB, DelayLo,
	// DelayHi, DelayNeg (as the weight's) and rounded to steps of Dt (at
	// least 1).
	DelayKind                        int
	ConstDelay                       uint32
	DelayFirst                       uint32
	DelayThr                         []uint32
	DelayA, DelayB, DelayLo, DelayHi float64
	DelayNeg                         bool
	Dt                               float64
	// Port is or-ed into every delay field (ConstDelay has it already).
	Port uint32
	// MinDelay is a lower bound of the projection's delays in steps.
	MinDelay uint32
	// P is a Bernoulli rule's probability and LogQ its log(1 - p): the
	// gaps between chosen targets are floor(Log(u) / LogQ), u the next
	// 53-bit uniform of the connectivity stream (generator.bernoulli).
	P, LogQ float64
}

// Device returns the device description of p in net.
func (p *Procedural) Device(net *Network) Device {
	return deviceOf(p.gen, net, p.Pre, p.Post, p.Port, p.viaFloat32)
}

// deviceOf describes the draws of generator g, from population pre onto
// post of net, for a device: port is or-ed into every delay field,
// viaFloat32 rounds weights to float32 before quantizing them.
func deviceOf(g *generator, net *Network, pre, post int, port uint32, viaFloat32 bool) Device {
	d := Device{
		PreFirst: net.Pops[pre].First, PreSize: g.nPre, PostFirst: net.Pops[post].First, NPost: g.nPost,
		SkipSelf: g.samePop && !g.autapses, Multapses: g.multapses,
		ConnPurpose:   rng.Purpose(rng.KindConnect, uint32(g.index)),
		WeightPurpose: rng.Purpose(rng.KindWeight, uint32(g.index)),
		DelayPurpose:  rng.Purpose(rng.KindDelay, uint32(g.index)),
		Scale:         math.Ldexp(1, int(net.Pops[post].Shift)),
		ViaFloat32:    viaFloat32,
		WeightSign:    g.weightSign,
		Dt:            g.dt,
		Port:          port,
	}
	switch r := g.proj.GetRule().(type) {
	case *myelinpb.Projection_FixedInDegree:
		d.Rule, d.K = RuleFixedInDegree, r.FixedInDegree.GetIndegree()
	case *myelinpb.Projection_FixedOutDegree:
		d.Rule, d.K = RuleFixedOutDegree, r.FixedOutDegree.GetOutdegree()
	case *myelinpb.Projection_OneToOne:
		d.Rule = RuleOneToOne
	case *myelinpb.Projection_AllToAll:
		d.Rule = RuleAllToAll
	case *myelinpb.Projection_PairwiseBernoulli:
		d.Rule, d.P = RuleBernoulli, r.PairwiseBernoulli.GetP()
		d.LogQ = math.Log1p(-d.P)
	}
	kind := func(s sampler) int {
		switch s.kind {
		case sampleUniform:
			return DrawUniform
		case sampleNormal:
			return DrawNormal
		case sampleLognormal:
			return DrawLognormal
		}
		return DrawConstant
	}
	if g.constWOK {
		w := g.signed(g.constW)
		if viaFloat32 {
			w = float64(float32(w))
		}
		d.ConstWeight = int32(math.Round(w * d.Scale))
	} else {
		d.WeightKind = kind(g.wDist)
		d.WeightA, d.WeightB, d.WeightLo, d.WeightHi, d.WeightNeg = g.wDist.a, g.wDist.b, g.wDist.lo, g.wDist.hi, g.wDist.neg
	}
	switch {
	case g.constDOK:
		d.ConstDelay, d.MinDelay = g.constD|port, g.constD
	case g.dTab != nil:
		d.DelayKind, d.DelayFirst, d.DelayThr, d.MinDelay = DrawTable, g.dTab.first, g.dTab.thr, g.dTab.first
	default:
		d.DelayKind = kind(g.dDist)
		d.DelayA, d.DelayB, d.DelayLo, d.DelayHi, d.DelayNeg = g.dDist.a, g.dDist.b, g.dDist.lo, g.dDist.hi, g.dDist.neg
		d.MinDelay = 1
		if d.DelayKind == DrawUniform {
			d.MinDelay = delaySteps(math.Min(d.DelayA, d.DelayA+d.DelayB), g.dt)
		}
	}
	return d
}
