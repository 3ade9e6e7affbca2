package network

import (
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/myelin-sim/myelin/engine/rng"
	"github.com/myelin-sim/myelin/engine/xmath"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// batch holds the synapses of one unit, synapse i being pre[i] -> post[i]
// with signed weight w[i] and delay d[i] steps. Its slices are the worker's
// scratch space, valid until the worker's next unit.
type batch struct {
	pre, post []uint32
	w         []float64
	d         []uint32
}

// generator produces the synapses of one projection unit by unit. A unit is
// a post neuron for most rules (a pre neuron for fixed out-degree, the whole
// list for explicit lists); within a unit synapses come in a fixed order, so
// any split of the units over workers yields the same synapses.
type generator struct {
	index      int
	proj       *myelinpb.Projection
	nPre       uint32
	nPost      uint32
	samePop    bool
	autapses   bool
	multapses  bool
	dt         float64
	seed       uint64
	units      uint32
	byPre      bool
	constW     float64
	constWOK   bool
	constD     uint32
	constDOK   bool
	weightSign float64 // +1, -1 or 0 (by sign of w)
	wDist      sampler // the weight distribution, unpacked
	dDist      sampler // the delay distribution, unpacked
	// dTab draws delays in steps with one word each, where the delay
	// distribution has a table (nil: drawn from dDist and rounded).
	dTab *stepTable
}

// worker holds one worker's sequential readers and scratch space.
type worker struct {
	conn, wq, dq *rng.Seq
	chosen       []uint32
	seen         []uint64  // bitset over candidates
	summary      []uint64  // bit i: word i of seen may be non-zero (sparse choose)
	noDelay      bool      // skip the delay draws (delays 0)
	noWeight     bool      // skip the weights (batch.w empty)
	countOnly    bool      // by-post units: only batch.pre is set (pass 1)
	unordered    bool      // choose may return partners in any order (see choose)
	sortTmp      []uint32  // scratch of sortDraws
	b            batch     // the current unit's synapses
	partners     []uint32  // scratch of non-chosen rules
	self         []uint32  // scratch: the unit's index, once per synapse
	delayMs      []float64 // scratch: delays in ms before rounding
}

// sortDraws sorts v, whose values are below n, in ascending order: a least
// significant digit radix sort (two passes for n up to 2^22) for long
// lists, where it is several times faster than a comparison sort.
func (wk *worker) sortDraws(v []uint32, n uint32) {
	nb := bits.Len32(max(n, 2) - 1)
	passes := (nb + 10) / 11
	db := (nb + passes - 1) / passes
	// Each pass costs about len(v) + 2^db steps; a comparison sort
	// len(v)·log2(len(v)) compares, often mispredicted.
	if len(v) < 64 || 1<<db > 4*len(v) {
		slices.Sort(v)
		return
	}
	mask := uint32(1)<<db - 1
	if cap(wk.sortTmp) < len(v) {
		wk.sortTmp = make([]uint32, len(v))
	}
	var cnt [1 << 11]uint32
	src, dst := v, wk.sortTmp[:len(v)]
	for p := 0; p < passes; p++ {
		shift := uint(p * db)
		c := cnt[:mask+1]
		clear(c)
		for _, x := range src {
			c[(x>>shift)&mask]++
		}
		sum := uint32(0)
		for i, x := range c {
			c[i] = sum
			sum += x
		}
		for _, x := range src {
			d := (x >> shift) & mask
			dst[c[d]] = x
			c[d]++
		}
		src, dst = dst, src
	}
	if passes%2 == 1 {
		copy(v, src)
	}
}

func newGenerator(i int, p *myelinpb.Projection, nPre, nPost uint32, samePop bool, dt float64, seed uint64) *generator {
	g := &generator{
		index: i, proj: p, nPre: nPre, nPost: nPost, samePop: samePop,
		autapses: p.AllowAutapses == nil || p.GetAllowAutapses(), multapses: p.AllowMultapses == nil || p.GetAllowMultapses(),
		dt: dt, seed: seed, units: nPost,
	}
	switch r := p.GetRule().(type) {
	case *myelinpb.Projection_FixedOutDegree:
		g.byPre, g.units = true, nPre
	case *myelinpb.Projection_PairwiseBernoulli:
		if r.PairwiseBernoulli.GetBySource() {
			g.byPre, g.units = true, nPre
		}
	case *myelinpb.Projection_Explicit:
		g.units = 1
	}
	g.constW, g.constWOK = isConstant(p.GetWeight())
	g.wDist, g.dDist = newSampler(p.GetWeight()), newSampler(p.GetDelay())
	var d float64
	d, g.constDOK = isConstant(p.GetDelay())
	if p.GetDelay() == nil || p.GetDelay().GetKind() == nil {
		d = dt
	}
	g.constD = delaySteps(d, dt)
	if !g.constDOK {
		g.dTab = newStepTable(g.dDist, dt)
	}
	switch p.GetReceptor() {
	case myelinpb.Receptor_EXCITATORY, myelinpb.Receptor_SLOW_EXCITATORY:
		g.weightSign = 1
	case myelinpb.Receptor_INHIBITORY:
		g.weightSign = -1
	}
	return g
}

// constantWeight reports whether every synapse of the projection has the
// same weight, and that weight with the receptor's sign.
func (g *generator) constantWeight() (float64, bool) {
	if !g.constWOK {
		return 0, false
	}
	if e, ok := g.proj.GetRule().(*myelinpb.Projection_Explicit); ok && len(e.Explicit.GetWeightValues()) > 0 {
		return 0, false
	}
	return g.signed(g.constW), true
}

// delaySteps rounds a delay in ms to whole steps, at least one.
func delaySteps(d, dt float64) uint32 {
	s := math.Round(d / dt)
	if s < 1 || math.IsNaN(s) {
		return 1
	}
	if s > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(s)
}

func (g *generator) newWorker() *worker {
	i := uint32(g.index)
	return &worker{
		conn: rng.NewStream(g.seed, rng.Purpose(rng.KindConnect, i)).Seq(0),
		wq:   rng.NewStream(g.seed, rng.Purpose(rng.KindWeight, i)).Seq(0),
		dq:   rng.NewStream(g.seed, rng.Purpose(rng.KindDelay, i)).Seq(0),
	}
}

// signed applies the projection's receptor to a weight.
func (g *generator) signed(w float64) float64 {
	switch {
	case g.weightSign > 0:
		return math.Abs(w)
	case g.weightSign < 0:
		return -math.Abs(w)
	}
	return w
}

// fill sets the unit's synapses from its partners: the unit u is the post
// (byPre false) or the pre neuron of each; weights and delays are drawn in
// synapse order (or set to the constants).
func (g *generator) fill(wk *worker, u uint32, partners []uint32, byPre bool) *batch {
	b := &wk.b
	if wk.countOnly && !byPre {
		b.pre, b.post, b.w, b.d = partners, nil, nil, nil
		return b
	}
	k := len(partners)
	self := grow(&wk.self, k)
	for i := range self {
		self[i] = u
	}
	if byPre {
		b.pre, b.post = self, partners
	} else {
		b.pre, b.post = partners, self
	}
	g.drawWD(wk, k)
	return b
}

// grow returns (*s)[:n], reallocating when its capacity is short.
func grow[T any](s *[]T, n int) []T {
	if cap(*s) < n {
		*s = make([]T, n, n+n/4)
	}
	*s = (*s)[:n]
	return *s
}

// drawWD sets the k weights and delays of the unit's batch: drawn, in
// synapse order, or the constants (delays 0 in workers that skip them).
func (g *generator) drawWD(wk *worker, k int) {
	b := &wk.b
	w := grow(&b.w, k)
	if wk.noWeight {
		b.w = w[:0]
	} else if g.constWOK {
		c := g.signed(g.constW)
		for i := range w {
			w[i] = c
		}
	} else {
		g.wDist.fill(wk.wq, w)
		if g.weightSign != 0 {
			for i, x := range w {
				w[i] = g.signed(x)
			}
		}
	}
	g.drawDelays(wk, grow(&b.d, k))
}

// drawDelays sets d to the delays of the unit's synapses, in synapse
// order, from wk.dq (reset to the unit): drawn or the constant (0 in
// workers that skip them).
func (g *generator) drawDelays(wk *worker, d []uint32) {
	k := len(d)
	switch {
	case wk.noDelay:
		clear(d)
	case g.constDOK:
		for i := range d {
			d[i] = g.constD
		}
	case g.dTab != nil:
		for i := range d {
			d[i] = g.dTab.step(wk.dq.Uint32())
		}
	default:
		ms := grow(&wk.delayMs, k)
		g.dDist.fill(wk.dq, ms)
		for i, x := range ms {
			d[i] = delaySteps(x, g.dt)
		}
	}
}

// bernoulli draws the partners of unit u under pairwise_bernoulli with
// probability p: each of the other side's neurons (the sources of post
// neuron u, or with by_source the targets of pre neuron u) independently,
// by geometric gaps between the chosen ones, in ascending order.
func (g *generator) bernoulli(wk *worker, p float64, u uint32) []uint32 {
	out := wk.partners[:0]
	n := g.nPre
	if g.byPre {
		n = g.nPost
	}
	if p > 0 {
		lq := math.Log1p(-p)
		for i := int64(-1); ; {
			if p >= 1 {
				i++
			} else {
				// The gap is compared as a float: for tiny p it can be
				// beyond the int64 range (or +Inf).
				gap := math.Floor(xmath.Log(wk.conn.Float64()) / lq)
				if gap >= float64(n) {
					break
				}
				i += 1 + int64(gap)
			}
			if i >= int64(n) {
				break
			}
			if g.samePop && !g.autapses && uint32(i) == u {
				continue
			}
			out = append(out, uint32(i))
		}
	}
	wk.partners = out
	return out
}

// unit returns the synapses of unit u.
func (g *generator) unit(wk *worker, u uint32) *batch {
	wk.conn.Reset(u)
	wk.wq.Reset(u)
	wk.dq.Reset(u)
	switch r := g.proj.GetRule().(type) {
	case *myelinpb.Projection_FixedInDegree:
		return g.fill(wk, u, g.choose(wk, r.FixedInDegree.GetIndegree(), g.nPre, u), false)
	case *myelinpb.Projection_FixedOutDegree:
		return g.fill(wk, u, g.choose(wk, r.FixedOutDegree.GetOutdegree(), g.nPost, u), true)
	case *myelinpb.Projection_PairwiseBernoulli:
		return g.fill(wk, u, g.bernoulli(wk, r.PairwiseBernoulli.GetP(), u), g.byPre)
	case *myelinpb.Projection_OneToOne:
		out := wk.partners[:0]
		if !(g.samePop && !g.autapses) {
			out = append(out, u)
		}
		wk.partners = out
		return g.fill(wk, u, out, false)
	case *myelinpb.Projection_AllToAll:
		out := wk.partners[:0]
		for i := uint32(0); i < g.nPre; i++ {
			if g.samePop && !g.autapses && i == u {
				continue
			}
			out = append(out, i)
		}
		wk.partners = out
		return g.fill(wk, u, out, false)
	case *myelinpb.Projection_Explicit:
		e := r.Explicit
		b := &wk.b
		k := len(e.GetPreIndex())
		b.pre, b.post = e.GetPreIndex(), e.GetPostIndex()[:k]
		g.drawWD(wk, k)
		if ws := e.GetWeightValues(); len(ws) > 0 {
			for i := range b.w {
				b.w[i] = g.signed(ws[i])
			}
		}
		if ds := e.GetDelayMs(); len(ds) > 0 {
			for i := range b.d {
				b.d[i] = delaySteps(ds[i], g.dt)
			}
		}
		return b
	}
	b := &wk.b
	b.pre, b.post, b.w, b.d = b.pre[:0], b.post[:0], b.w[:0], b.d[:0]
	return b
}

// choose draws k partners out of n for unit u (excluding u itself when
// autapses are off within one population). Without multapses it uses
// Floyd's algorithm: exactly k draws, no rejection loop.
//
// The partners come in the order drawn for units that are post neurons:
// synapse i of the unit takes the i-th weight and delay draw whichever
// partner it has, and each partner's row receives the unit's synapses in
// unit order whatever their order within the unit. Units that are pre
// neurons (fixed out-degree) are rows themselves: their partners come in
// ascending order, unless wk.unordered allows any order and the weights
// are constant (pass 1, where only the set matters).
func (g *generator) choose(wk *worker, k, n, u uint32) []uint32 {
	skip := g.samePop && !g.autapses
	m := n
	if skip {
		m--
	}
	out := wk.chosen[:0]
	unordered := !g.byPre || (wk.unordered && g.constWOK)
	if g.multapses {
		for i := uint32(0); i < k; i++ {
			t, _ := bits.Mul32(wk.conn.Uint32(), m) // conn.Intn(m), inlined
			out = append(out, t)
		}
		if !unordered {
			wk.sortDraws(out, m)
		}
	} else {
		words := int(m+63) / 64
		if len(wk.seen) < words {
			wk.seen = make([]uint64, words)
			wk.summary = make([]uint64, (words+63)/64)
		}
		dense := words <= 8*int(k)
		if dense || unordered {
			for j := m - k; j < m; j++ {
				t, _ := bits.Mul32(wk.conn.Uint32(), j+1) // conn.Intn(j+1), inlined
				if wk.seen[t/64]&(1<<(t%64)) != 0 {
					t = j
				}
				wk.seen[t/64] |= 1 << (t % 64)
				out = append(out, t)
			}
		} else {
			// Sparse and ordered: a summary bit per word of seen marks the
			// words that hold a partner.
			for j := m - k; j < m; j++ {
				t, _ := bits.Mul32(wk.conn.Uint32(), j+1)
				if wk.seen[t/64]&(1<<(t%64)) != 0 {
					t = j
				}
				wk.seen[t/64] |= 1 << (t % 64)
				wk.summary[t/4096] |= 1 << (t / 64 % 64)
			}
		}
		switch {
		case unordered && dense:
			clear(wk.seen[:words])
		case unordered:
			for _, t := range out {
				wk.seen[t/64] = 0
			}
		case dense:
			// Sort the draws (a radix sort: reading them back from the
			// bitset mispredicts a branch per word) and clear the bitset.
			wk.sortDraws(out, m)
			clear(wk.seen[:words])
		default:
			// Sparse: visit only the words that the summary marks, in
			// ascending order, clearing both levels.
			for si, sw := range wk.summary[:(words+63)/64] {
				for sw != 0 {
					i := si*64 + bits.TrailingZeros64(sw)
					sw &= sw - 1
					word := wk.seen[i]
					for word != 0 {
						out = append(out, uint32(i*64+bits.TrailingZeros64(word)))
						word &= word - 1
					}
					wk.seen[i] = 0
				}
				wk.summary[si] = 0
			}
		}
	}
	if skip {
		for i, t := range out {
			if t >= u {
				out[i] = t + 1
			}
		}
	}
	wk.chosen = out
	return out
}

// checkCounts verifies a rule's parameters against population sizes; the
// validator checks them too, this keeps Build safe on its own.
func (g *generator) check() error {
	m := g.nPre
	if g.byPre {
		m = g.nPost
	}
	if g.samePop && !g.autapses {
		m--
	}
	var k uint32
	switch r := g.proj.GetRule().(type) {
	case *myelinpb.Projection_FixedInDegree:
		k = r.FixedInDegree.GetIndegree()
	case *myelinpb.Projection_FixedOutDegree:
		k = r.FixedOutDegree.GetOutdegree()
	case *myelinpb.Projection_Explicit:
		e := r.Explicit
		for i := range e.GetPreIndex() {
			if e.GetPreIndex()[i] >= g.nPre || i >= len(e.GetPostIndex()) || e.GetPostIndex()[i] >= g.nPost {
				return fmt.Errorf("explicit synapse %d: index out of range", i)
			}
		}
		n := len(e.GetPreIndex())
		if w, d := len(e.GetWeightValues()), len(e.GetDelayMs()); (w != 0 && w != n) || (d != 0 && d != n) {
			return fmt.Errorf("explicit: %d weight values and %d delays for %d synapses: need none or one per synapse", w, d, n)
		}
		return nil
	default:
		return nil
	}
	if k > 0 && m == 0 {
		return fmt.Errorf("no candidate partners for degree %d", k)
	}
	if !g.multapses && k > m {
		return fmt.Errorf("degree %d exceeds the %d candidates without multapses", k, m)
	}
	return nil
}
