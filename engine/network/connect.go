package network

import (
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/myelin-sim/myelin/engine/rng"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// emitFn receives one synapse: local pre and post indices, weight and delay
// in steps.
type emitFn func(pre, post uint32, w float64, delay uint32)

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
}

// worker holds one worker's sequential readers and scratch space.
type worker struct {
	conn, wq, dq *rng.Seq
	chosen       []uint32
	seen         []uint64 // bitset over candidates
	noDelay      bool     // skip the delay draws (emit delay 0)
	unordered    bool     // choose may return partners in any order (see choose)
	sortTmp      []uint32 // scratch of sortDraws
}

// sortDraws sorts v, whose values are below n, in ascending order: a least
// significant digit radix sort (two passes for n up to 2^22) for long
// lists, where it is several times faster than a comparison sort.
func (wk *worker) sortDraws(v []uint32, n uint32) {
	if len(v) < 256 {
		slices.Sort(v)
		return
	}
	nb := bits.Len32(max(n, 2) - 1)
	passes := (nb + 10) / 11
	db := (nb + passes - 1) / passes
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
	switch p.GetRule().(type) {
	case *myelinpb.Projection_FixedOutDegree:
		g.byPre, g.units = true, nPre
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
	switch p.GetReceptor() {
	case myelinpb.Receptor_EXCITATORY:
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

// synapse draws the weight and delay of the next synapse of the unit.
func (g *generator) synapse(wk *worker, pre, post uint32, emit emitFn) {
	w := g.constW
	if !g.constWOK {
		w = g.wDist.draw(wk.wq)
	}
	d := g.constD
	if !g.constDOK && !wk.noDelay {
		d = delaySteps(g.dDist.draw(wk.dq), g.dt)
	}
	emit(pre, post, g.signed(w), d)
}

// unit emits the synapses of unit u.
func (g *generator) unit(wk *worker, u uint32, emit emitFn) {
	wk.conn.Reset(u)
	wk.wq.Reset(u)
	wk.dq.Reset(u)
	switch r := g.proj.GetRule().(type) {
	case *myelinpb.Projection_FixedInDegree:
		for _, pre := range g.choose(wk, r.FixedInDegree.GetIndegree(), g.nPre, u) {
			g.synapse(wk, pre, u, emit)
		}
	case *myelinpb.Projection_FixedOutDegree:
		for _, post := range g.choose(wk, r.FixedOutDegree.GetOutdegree(), g.nPost, u) {
			g.synapse(wk, u, post, emit)
		}
	case *myelinpb.Projection_PairwiseBernoulli:
		p := r.PairwiseBernoulli.GetP()
		if p <= 0 {
			return
		}
		lq := math.Log1p(-p)
		for i := int64(-1); ; {
			if p >= 1 {
				i++
			} else {
				// The gap is compared as a float: for tiny p it can be
				// beyond the int64 range (or +Inf).
				gap := math.Floor(math.Log(wk.conn.Float64()) / lq)
				if gap >= float64(g.nPre) {
					return
				}
				i += 1 + int64(gap)
			}
			if i >= int64(g.nPre) {
				return
			}
			if g.samePop && !g.autapses && uint32(i) == u {
				continue
			}
			g.synapse(wk, uint32(i), u, emit)
		}
	case *myelinpb.Projection_OneToOne:
		if !(g.samePop && !g.autapses) {
			g.synapse(wk, u, u, emit)
		}
	case *myelinpb.Projection_AllToAll:
		for i := uint32(0); i < g.nPre; i++ {
			if g.samePop && !g.autapses && i == u {
				continue
			}
			g.synapse(wk, i, u, emit)
		}
	case *myelinpb.Projection_Explicit:
		e := r.Explicit
		for k := range e.GetPreIndex() {
			w := g.constW
			if len(e.GetWeightValues()) > 0 {
				w = e.GetWeightValues()[k]
			} else if !g.constWOK {
				w = g.wDist.draw(wk.wq)
			}
			d := g.constD
			if len(e.GetDelayMs()) > 0 {
				d = delaySteps(e.GetDelayMs()[k], g.dt)
			} else if !g.constDOK && !wk.noDelay {
				d = delaySteps(g.dDist.draw(wk.dq), g.dt)
			}
			emit(e.GetPreIndex()[k], e.GetPostIndex()[k], g.signed(w), d)
		}
	}
}

// choose draws k partners out of n for unit u (excluding u itself when
// autapses are off within one population), ascending unless wk.unordered
// allows any order. Without multapses it
// uses Floyd's algorithm: exactly k draws, no rejection loop.
func (g *generator) choose(wk *worker, k, n, u uint32) []uint32 {
	skip := g.samePop && !g.autapses
	m := n
	if skip {
		m--
	}
	out := wk.chosen[:0]
	// Unordered (pass 1 of by-post rules): the set alone matters, not its
	// order, since the i-th weight draw goes with the i-th synapse of the
	// unit whichever partner that is.
	unordered := wk.unordered && (!g.byPre || g.constWOK)
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
		}
		for j := m - k; j < m; j++ {
			t, _ := bits.Mul32(wk.conn.Uint32(), j+1) // conn.Intn(j+1), inlined
			if wk.seen[t/64]&(1<<(t%64)) != 0 {
				t = j
			}
			wk.seen[t/64] |= 1 << (t % 64)
			out = append(out, t)
		}
		if unordered {
			if words <= 8*int(k) {
				clear(wk.seen[:words])
			} else {
				for _, t := range out {
					wk.seen[t/64] = 0
				}
			}
		} else if words <= 8*int(k) {
			// Dense: read the set back in ascending order from the bitset.
			out = out[:0]
			for i, word := range wk.seen[:words] {
				for word != 0 {
					out = append(out, uint32(i*64+bits.TrailingZeros64(word)))
					word &= word - 1
				}
				wk.seen[i] = 0
			}
		} else {
			// Sparse: sort the k draws and clear only their words.
			wk.sortDraws(out, m)
			for _, t := range out {
				wk.seen[t/64] = 0
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
