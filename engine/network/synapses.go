package network

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/myelin-sim/myelin/engine/hugepages"
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// spikingProj is one spiking projection during the build.
type spikingProj struct {
	where      string
	gen        *generator
	pre, post  int
	slow       bool     // onto the slow excitatory port: its packed words carry Syn.PortBit
	maxDelay   uint32   // largest delay drawn, in steps
	count      []uint32 // synapses per local pre
	cursor     []uint64 // per local pre: where its next synapse goes in Packed
	unitChunks [][2]uint32
	// chunkCount[c] counts the synapses per local pre of unit chunk c
	// (direct projections only: pass 2 starts each chunk's rows there).
	chunkCount [][]uint32
	// deferred: the weights are drawn once, in pass 2, which bounds the
	// targets' input with them and stores them as float32 until the
	// scales are known (by-post rules with drawn weights).
	deferred bool
	// rowWeights: a deferred projection whose weights are drawn row by
	// row after pass 2 has written its targets and delays (drawRowWeights),
	// instead of unit by unit in pass 2: pass 2 then scatters one word per
	// synapse, not two (fixed in-degree, pairwise Bernoulli and all-to-all
	// rules, not procedural).
	rowWeights bool
	// kept: pass 1 keeps the partners of this fixed in-degree projection
	// (direct and rowWeights), K per unit in unit order, as words of the
	// early Weight array from keptAt on, where pass 2 reads them instead
	// of drawing them again (the Weight slots are not written before the
	// row-order weights, after pass 2).
	kept   bool
	keptAt uint64
	// direct: pass 2 writes the synapses straight into their rows, chunk
	// by chunk, without staging (the rows' current cache lines fit in
	// the cache).
	direct bool
	// stdpMax is |w_max| of an STDP projection (0: static): pass 1 bounds
	// each of its synapses' input by it, as its weight may grow to it.
	stdpMax float64
	// procedural: no synapse is stored (see Procedural); total counts them.
	procedural bool
	total      uint64
}

// parallel runs f(w) for w in [0, n) on n goroutines.
func parallel(n int, f func(w int)) {
	if n == 1 {
		f(0)
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func(w int) { defer wg.Done(); f(w) }(w)
	}
	wg.Wait()
}

// passOneChunks is how many chunks pass 1 splits the units of a rule into
// when its workers keep partial input sums (by-presynaptic rules), whatever
// the thread count.
const passOneChunks = 8

// forChunks runs f(c) for every chunk c in [0, k) on at most threads
// goroutines.
func forChunks(threads, k int, f func(c int)) {
	t := max(1, min(threads, k))
	if t == 1 {
		for c := range k {
			f(c)
		}
		return
	}
	var next atomic.Int64
	parallel(t, func(int) {
		for {
			c := int(next.Add(1) - 1)
			if c >= k {
				return
			}
			f(c)
		}
	})
}

// chunks splits [0, n) into k contiguous ranges.
func chunks(n uint32, k int) [][2]uint32 {
	out := make([][2]uint32, k)
	for i := range out {
		out[i] = [2]uint32{uint32(uint64(n) * uint64(i) / uint64(k)), uint32(uint64(n) * uint64(i+1) / uint64(k))}
	}
	return out
}

// synapses generates every spiking projection twice from its seed: a first
// pass counts synapses per presynaptic neuron and bounds each target's input
// (which fixes the fixed-point scales), the second writes them into their
// CSR slots (and, for deferred projections, bounds the input: see
// spikingProj.deferred). Worker w of a projection writes after workers
// 0..w-1 in every row (or chunk c after chunks 0..c-1), and units are split
// in ascending order, so a row's content does not depend on the thread
// count.
func (b *builder) synapses() error {
	net := b.net
	var projs []*spikingProj
	for i, p := range net.Spec.GetProjections() {
		where := fmt.Sprintf("projection %q (projections[%d])", p.GetName(), i)
		pre, ok1 := b.byName[p.GetPre()]
		post, ok2 := b.byName[p.GetPost()]
		if !ok1 || !ok2 {
			return fmt.Errorf("%s: pre %q or post %q: no such population", where, p.GetPre(), p.GetPost())
		}
		if net.Pops[pre].Spiking() != net.Pops[post].Spiking() {
			return fmt.Errorf("%s: connects a spiking and a rate population", where)
		}
		if !net.Pops[pre].Spiking() {
			continue
		}
		if _, ring := p.GetRule().(*myelinpb.Projection_Ring); ring {
			return fmt.Errorf("%s: ring rule is for rate populations", where)
		}
		g := newGenerator(i, p, net.Pops[pre].Size, net.Pops[post].Size, pre == post, net.Dt, net.Seed)
		if err := g.check(); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		sp := &spikingProj{where: where, gen: g, pre: pre, post: post, slow: p.GetReceptor() == myelinpb.Receptor_SLOW_EXCITATORY, stdpMax: stdpBound(p)}
		if p.GetProcedural() {
			if err := proceduralRule(p); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			sp.procedural = true
		}
		sp.direct = uint64(g.nPre)*directBytesPerPre <= b.fill.direct
		// By-post rules: chunks are the units of work of pass 1 and, for
		// direct projections, pass 2, where several per thread even out
		// threads that the machine slows down (pass 1 counts per chunk:
		// only direct projections, from few neurons, have many).
		k := b.threads
		if sp.direct {
			k *= chunksPerThread
		}
		if g.byPre || g.units == 1 {
			// Pass 1 bounds the targets' input with per-chunk partial sums,
			// added in chunk order: a fixed number of chunks keeps the
			// float64 sums, and the scales they fix, independent of the
			// thread count.
			k = passOneChunks
		}
		if g.units < uint32(k) {
			k = max(1, int(g.units))
		}
		sp.unitChunks = chunks(g.units, k)
		projs = append(projs, sp)
	}
	b.markDeferred(projs)
	if b.dev != nil {
		return b.synapsesOn(projs)
	}

	// Where the rules fix the number of synapses, allocate the arrays now
	// and fault their pages in beside pass 1 (page faults of huge pages
	// serialize here: done while pass 2 fills the arrays, they would make
	// its workers wait for each other).
	early := b.allocateEarly(projs)
	defer early.stop()
	b.keepPartners(projs, early.weight)

	// Pass 1: counts per presynaptic neuron and input bounds. Delays are
	// drawn in pass 2 only (their stream is separate, so skipping them here
	// changes no other draw).
	var units uint64
	for _, sp := range projs {
		units += uint64(sp.gen.units)
	}
	b.prog.total.Store(2 * units)
	b.prog.setPhase("synapses: drawing (pass 1 of 2)")
	var passed uint64 // units of finished projections
	for _, sp := range projs {
		k := len(sp.unitChunks)
		counts := make([][]uint32, k)
		sums := make([][]float64, k)
		badW := make([]float64, k) // a non-finite weight drawn by worker w, or 0
		synW := make([]uint64, k)  // synapses drawn by worker w (its counts cannot wrap below 2^32)
		postFirst := net.Pops[sp.post].First
		forChunks(b.threads, k, func(w int) {
			cnt := make([]uint32, sp.gen.nPre)
			var sum []float64
			if sp.gen.byPre || sp.gen.units == 1 {
				sum = make([]float64, sp.gen.nPost)
			}
			wk := sp.gen.newWorker()
			wk.noDelay, wk.unordered = true, true
			var drawn uint64
			bad := 0.0
			// Constant weights onto by-post units: the same sums without
			// drawing or checking a weight per synapse.
			cw, constW := sp.gen.constantWeight()
			if sp.stdpMax > 0 {
				cw, constW = sp.stdpMax, true
			}
			constW = constW && sum == nil && !(math.IsInf(cw, 0) || math.IsNaN(cw))
			wk.noWeight = constW || sp.deferred
			// By-post units whose weights are constant or deferred: only
			// the partners count.
			wk.countOnly = wk.noWeight && sum == nil
			var keep []int32 // where this unit's partners are kept (sp.kept)
			var deg uint64
			if sp.kept {
				deg = uint64(sp.gen.proj.GetFixedInDegree().GetIndegree())
				keep = early.weight[sp.keptAt:]
			}
			aw, abs := math.Abs(cw), b.absSum[postFirst:]
			memoFrom, memoTo, memoN := math.NaN(), 0.0, -1
			for u := sp.unitChunks[w][0]; u < sp.unitChunks[w][1]; u++ {
				if u%1024 == 0 && u > sp.unitChunks[w][0] {
					if b.ctx.Err() != nil {
						break
					}
					b.prog.done.Add(1024)
				}
				if keep != nil && sp.gen.multapses {
					// g.unit's partners (choose with multapses: one word
					// each), drawn straight into their place.
					g := sp.gen
					skip := g.samePop && !g.autapses
					m := g.nPre
					if skip {
						m--
					}
					wk.conn.Reset(u)
					for j, ks := 0, keep[uint64(u)*deg:uint64(u+1)*deg]; j < len(ks); j++ {
						t, _ := bits.Mul32(wk.conn.Uint32(), m)
						if skip && t >= u {
							t++
						}
						ks[j] = int32(t)
						cnt[t]++
					}
					drawn += deg
					continue // deferred: only the counts
				}
				bt := sp.gen.unit(wk, u)
				drawn += uint64(len(bt.pre))
				if keep != nil {
					for j, pre := range bt.pre {
						keep[uint64(u)*deg+uint64(j)] = int32(pre)
					}
				}
				for _, pre := range bt.pre {
					cnt[pre]++
				}
				if sp.deferred {
					continue
				}
				if constW {
					// By-post rules: this worker owns target u alone. The
					// sum is aw added len(bt.pre) times in turn to abs[u];
					// units that start from the same value with as many
					// synapses (every unit of a fixed in-degree rule, as a
					// rule) reuse the last result instead of a chain of
					// dependent additions.
					if n := len(bt.pre); n != memoN || abs[u] != memoFrom {
						x := abs[u]
						memoFrom, memoN = x, n
						for range n {
							x += aw
						}
						memoTo = x
					}
					abs[u] = memoTo
					continue
				}
				if sum != nil {
					for i, wt := range bt.w {
						if math.IsInf(wt, 0) || math.IsNaN(wt) {
							bad = wt
						}
						sum[bt.post[i]] += max(math.Abs(wt), sp.stdpMax)
					}
					continue
				}
				// By-post rules: every synapse of the unit is onto u; sum
				// in a register, in the same order.
				x := abs[u]
				for _, wt := range bt.w {
					if math.IsInf(wt, 0) || math.IsNaN(wt) {
						bad = wt
					}
					x += max(math.Abs(wt), sp.stdpMax)
				}
				abs[u] = x
			}
			counts[w], sums[w], badW[w], synW[w] = cnt, sum, bad, drawn
		})
		for w := range sums {
			for post, v := range sums[w] {
				b.absSum[postFirst+uint32(post)] += v
			}
			if badW[w] != 0 {
				return fmt.Errorf("%s: weight: drew %v: the weight distribution overflows float64", sp.where, badW[w])
			}
		}
		passed += uint64(sp.gen.units)
		b.prog.done.Store(passed)
		for w := range synW {
			if synW[w] > math.MaxUint32 {
				return fmt.Errorf("%s: %d synapses in one of %d parts of the rule: a presynaptic neuron's count could pass 2^32-1", sp.where, synW[w], k)
			}
		}
		sp.count = counts[0]
		if sp.direct && k > 1 {
			sp.chunkCount = counts
			sp.count = slices.Clone(counts[0])
		}
		for w := 1; w < k; w++ {
			for i, v := range counts[w] {
				if sp.count[i]+v < v {
					return fmt.Errorf("%s: presynaptic neuron %d has more than 2^32-1 synapses", sp.where, i)
				}
				sp.count[i] += v
			}
		}
		if sp.procedural {
			// Counted and bounded like the others, but no row holds them.
			for _, v := range sp.count {
				sp.total += uint64(v)
			}
			clear(sp.count)
			sp.chunkCount = nil
		}
	}
	if err := b.ctx.Err(); err != nil {
		return fmt.Errorf("build cancelled: %w", err)
	}
	if err := b.scales(); err != nil {
		return err
	}

	if err := b.rowPointers(projs); err != nil {
		return err
	}
	total := net.Syn.RowPtr[net.N]
	if uint64(len(early.packed)) == total && total > 0 {
		net.Syn.Packed = early.packed
	} else {
		early.stop()
		early.packed = nil
		net.Syn.Packed = make([]uint32, total)
		hugepages.Advise(net.Syn.Packed)
	}
	stored := b.weightLayout(projs)
	if uint64(len(early.weight)) == stored && stored > 0 {
		net.Syn.Weight = early.weight
	} else {
		early.stop()
		early.weight = nil
		net.Syn.Weight = make([]int32, stored)
		hugepages.Advise(net.Syn.Weight)
		for _, sp := range projs {
			sp.kept = false // pass 2 draws them again
		}
	}
	b.partStarts(projs)

	// Pass 2: write the synapses, those of deferred projections first:
	// their weights complete the input bounds, and so the scales, with
	// which the others' weights are then quantized as they are written.
	b.prog.setPhase("synapses: writing (pass 2 of 2)")
	maxDelay := uint32(1)
	st := make([]*stage, max(1, b.threads))
	for w := range st {
		st[w] = &stage{}
	}
	// Projections whose partners are kept come first: the others' weights
	// (deferred, as float32) may overwrite the words that keep them.
	order := make([]*spikingProj, 0, len(projs))
	deferred := 0
	for _, sp := range projs {
		if sp.kept {
			order = append(order, sp)
			deferred++
		}
	}
	for _, sp := range projs {
		if sp.deferred && !sp.kept {
			order = append(order, sp)
			deferred++
		}
	}
	for _, sp := range projs {
		if !sp.deferred {
			order = append(order, sp)
		}
	}
	// finishDeferred draws the row-order weights and fixes the scales once
	// every deferred projection is written.
	finishDeferred := func() error {
		if err := b.drawRowWeights(projs); err != nil {
			return err
		}
		if err := b.scales(); err != nil {
			return err
		}
		b.popWeights(projs)
		return nil
	}
	for i, sp := range order {
		if i == deferred && deferred > 0 {
			if err := finishDeferred(); err != nil {
				return err
			}
		}
		var bad float64
		switch {
		case sp.procedural:
			bad = b.scanProcedural(sp)
		case sp.direct:
			bad = b.writeDirect(sp)
		default:
			bad = b.writeProjection(sp, st)
		}
		passed += uint64(sp.gen.units)
		b.prog.done.Store(passed)
		if !sp.deferred {
			sp.count, sp.cursor = nil, nil
		}
		sp.chunkCount = nil
		if err := b.ctx.Err(); err != nil {
			return fmt.Errorf("build cancelled: %w", err)
		}
		if bad != 0 {
			return fmt.Errorf("%s: weight: drew %v: the weight distribution overflows float64", sp.where, bad)
		}
		if err := b.checkDelay(sp); err != nil {
			return err
		}
		maxDelay = max(maxDelay, sp.maxDelay)
	}
	net.RingSlots = maxDelay + 1
	b.lowerPortBit(maxDelay)
	b.delayLayout(projs)
	if deferred == len(projs) && deferred > 0 {
		if err := finishDeferred(); err != nil {
			return err
		}
	}
	b.prog.setPhase("synapses: sorting rows")
	b.sortRows(projs)
	for _, sp := range projs {
		sp.count, sp.cursor = nil, nil
		if sp.procedural {
			var port uint32
			if sp.slow {
				port = net.Syn.PortBit
			}
			net.Procedural = append(net.Procedural, Procedural{
				Name: sp.gen.proj.GetName(), Index: sp.gen.index, Pre: sp.pre, Post: sp.post,
				Synapses: sp.total, Port: port, viaFloat32: sp.deferred, gen: sp.gen,
			})
		}
	}
	return nil
}

// rowPointers fixes the packing of target and delay into one word
// (DelayBits; PortBit at the top of the delay field where a projection
// reaches a slow port) and the row pointers from pass 1's counts: per
// presynaptic neuron, projections in spec order, then units in order.
func (b *builder) rowPointers(projs []*spikingProj) error {
	net := b.net
	tbits := uint32(bits.Len32(max(net.N, 2) - 1))
	net.Syn.DelayBits = 32 - tbits
	for _, sp := range projs {
		if sp.slow {
			// The top bit of the delay field marks the slow port.
			net.Syn.PortBit = 1 << (net.Syn.DelayBits - 1)
		}
	}
	rowLen := make([]uint64, net.N)
	for _, sp := range projs {
		first := net.Pops[sp.pre].First
		for i, v := range sp.count {
			rowLen[first+uint32(i)] += uint64(v)
		}
	}
	net.Syn.RowPtr = make([]uint64, net.N+1)
	for i, v := range rowLen {
		if v > math.MaxUint32 {
			return fmt.Errorf("neuron %d (%s): %d synapses: a neuron has at most 2^32-1", i, net.Pops[net.PopOf(uint32(i))].Name, v)
		}
		net.Syn.RowPtr[i+1] = net.Syn.RowPtr[i] + v
	}
	return nil
}

// partStarts sets each projection's cursor to where its part of each row
// starts (the parts of a row in spec order).
func (b *builder) partStarts(projs []*spikingProj) {
	net := b.net
	fill := slices.Clone(net.Syn.RowPtr[:net.N])
	for _, sp := range projs {
		first := net.Pops[sp.pre].First
		sp.cursor = make([]uint64, len(sp.count))
		for i, v := range sp.count {
			sp.cursor[i] = fill[first+uint32(i)]
			fill[first+uint32(i)] += uint64(v)
		}
	}
}

// checkDelay refuses the longest delay that pass 2 drew for sp where it
// is beyond the ring buffers or the packed words. Validate bounds the
// delays it can see; draws of unbounded distributions (normal without
// max, lognormal) are checked here, before they size the ring buffers.
func (b *builder) checkDelay(sp *spikingProj) error {
	net := b.net
	if sp.maxDelay > spec.MaxDelaySteps {
		drawn := fmt.Sprintf("%d steps (%.6g ms)", sp.maxDelay, float64(sp.maxDelay)*net.Dt)
		if sp.maxDelay == math.MaxUint32 { // delaySteps saturates
			drawn = fmt.Sprintf("at least 2^32-1 steps (%.6g ms)", float64(sp.maxDelay)*net.Dt)
		}
		return fmt.Errorf("%s: delay: drew a delay of %s: must be at most 2^20 steps of dt_ms (%v ms); bound the distribution (normal max, uniform high)", sp.where, drawn, spec.MaxDelaySteps*net.Dt)
	}
	if md := net.Syn.MaxDelay(); sp.maxDelay > md {
		return fmt.Errorf("%s: delay: a delay of %d steps (%.6g ms) exceeds %d steps (%.6g ms), the most that a network of %d neurons can hold", sp.where, sp.maxDelay, float64(sp.maxDelay)*net.Dt, md, float64(md)*net.Dt, net.N)
	}
	return nil
}

// keepPartners marks the projections whose partners pass 1 keeps in the
// early Weight array weight for pass 2 (see spikingProj.kept), and where:
// direct fixed in-degree projections with row-order weights, one after
// another, as long as they fit.
func (b *builder) keepPartners(projs []*spikingProj, weight []int32) {
	var at uint64
	for _, sp := range projs {
		fi := sp.gen.proj.GetFixedInDegree()
		if !sp.rowWeights || !sp.direct || fi == nil || sp.procedural {
			continue
		}
		n := uint64(fi.GetIndegree()) * uint64(sp.gen.nPost)
		if n == 0 || at+n > uint64(len(weight)) {
			continue
		}
		sp.kept, sp.keptAt = true, at
		at += n
	}
}

// lowerPortBit moves the slow port's bit of the packed words from the top
// of the delay field, where pass 2 put it before the delays were known, to
// the lowest bit above every delay (the least power of two > maxDelay), so
// that a backend's table of slot offsets by delay field (the CPU backend's)
// has 2 × PortBit entries, not 2^DelayBits. Within a target, words keep
// their order (port, then delay), so sorted rows stay sorted.
func (b *builder) lowerPortBit(maxDelay uint32) {
	syn := &b.net.Syn
	old, bit := syn.PortBit, loweredPortBit(syn.PortBit, maxDelay)
	if bit == old {
		return
	}
	words := syn.Packed
	parts := max(1, min(b.threads, len(words)>>16))
	parallel(parts, func(w int) {
		for i, p := range words[len(words)*w/parts : len(words)*(w+1)/parts] {
			if p&old != 0 {
				words[len(words)*w/parts+i] = p&^old | bit
			}
		}
	})
	syn.PortBit = bit
}

// loweredPortBit returns where lowerPortBit moves the slow port's bit old
// (0: none) for delays of at most maxDelay steps.
func loweredPortBit(old, maxDelay uint32) uint32 {
	if bit := uint32(1) << bits.Len32(maxDelay); old != 0 && bit < old {
		return bit
	}
	return old
}

// Sizes of the by-post chunks and of direct projections.
const (
	// chunksPerThread is how many unit chunks per thread by-post rules
	// have.
	chunksPerThread = 4
	// directBytesPerPre is what a presynaptic neuron of a direct
	// projection keeps in the cache while pass 2 fills its row: a line of
	// packed words and one of weights.
	directBytesPerPre = 128
)

// markDeferred sets which projections draw their weights in pass 2 only:
// by-post rules (fixed in-degree, pairwise Bernoulli, one-to-one,
// all-to-all) with drawn weights, onto populations whose scale does not
// decide which populations are compact. That is the case unless two
// projections from one candidate compact population (all its weights
// constant) onto the population have constant weights that differ: they
// may round to one fixed-point value or not, and pass 2 must know which.
// The choice depends on the network alone, Options.StoreWeights included
// (which makes no population compact), because it decides whether a
// projection's weights are drawn row by row (spikingProj.rowWeights).
func (b *builder) markDeferred(projs []*spikingProj) {
	np := len(b.net.Pops)
	noDefer := make([]bool, np)
	if np <= MaxCompactPops {
		allConst := make([]bool, np)
		for i := range allConst {
			allConst[i] = true
		}
		for _, sp := range projs {
			if _, ok := sp.gen.constantWeight(); !ok {
				allConst[sp.pre] = false
			}
		}
		weights := map[[2]int]float64{}
		for _, sp := range projs {
			w, ok := sp.gen.constantWeight()
			if !ok || !allConst[sp.pre] {
				continue
			}
			k := [2]int{sp.pre, sp.post}
			if old, seen := weights[k]; seen && old != w {
				noDefer[sp.post] = true
			}
			weights[k] = w
		}
	}
	for _, sp := range projs {
		g := sp.gen
		_, explicit := g.proj.GetRule().(*myelinpb.Projection_Explicit)
		_, constW := g.constantWeight()
		// STDP projections bound their input by w_max in pass 1.
		sp.deferred = !g.byPre && !explicit && !constW && !noDefer[sp.post] && sp.stdpMax == 0
		switch g.proj.GetRule().(type) {
		case *myelinpb.Projection_FixedInDegree, *myelinpb.Projection_PairwiseBernoulli, *myelinpb.Projection_AllToAll:
			// One-to-one rows hold one synapse each: nothing to gain, and
			// a procedural one-to-one projection regenerates its weights
			// unit by unit.
			sp.rowWeights = sp.deferred && !sp.procedural
		}
	}
}

// fixedCount returns the number of synapses of the projection where its
// rule fixes it (all rules but pairwise Bernoulli).
func (g *generator) fixedCount() (uint64, bool) {
	var self uint64
	if g.samePop && !g.autapses {
		self = 1
	}
	// Degrees and sizes are below 2^32: their products fit in 64 bits.
	switch r := g.proj.GetRule().(type) {
	case *myelinpb.Projection_FixedInDegree:
		return uint64(r.FixedInDegree.GetIndegree()) * uint64(g.nPost), true
	case *myelinpb.Projection_FixedOutDegree:
		return uint64(r.FixedOutDegree.GetOutdegree()) * uint64(g.nPre), true
	case *myelinpb.Projection_OneToOne:
		return uint64(g.nPost) * (1 - self), true
	case *myelinpb.Projection_AllToAll:
		return uint64(g.nPost) * (uint64(g.nPre) - min(self, uint64(g.nPre))), true
	case *myelinpb.Projection_Explicit:
		return uint64(len(r.Explicit.GetPreIndex())), true
	}
	return 0, false
}

// maxEarly is the most synapses allocated before pass 1 (2^36: 256 GiB of
// packed words).
const maxEarly = 1 << 36

// earlyArrays are the synapse arrays allocated before pass 1, and the
// goroutine that faults their pages in.
type earlyArrays struct {
	packed []uint32
	weight []int32
	done   chan struct{}
	cancel context.CancelFunc // stops the faulting goroutine
}

// stop stops faulting the pages in (those of arrays in use are faulted by
// their writers anyway) and returns once the goroutine has ended: on any
// return from synapses, an error included, and when a prediction is
// discarded, so that an early array is never faulted in beside its
// replacement.
func (e *earlyArrays) stop() {
	if e.done != nil {
		e.cancel()
		<-e.done
		e.done = nil
	}
}

// allocateEarly allocates Packed, and Weight where it can tell which
// populations store weights, when every projection's rule fixes its number
// of synapses (all but pairwise Bernoulli), and starts faulting their pages
// in, 64 MiB at a time, stopping if the build is cancelled. The sizes are
// predictions: the caller uses an array only if its length is what pass 1
// finds.
func (b *builder) allocateEarly(projs []*spikingProj) *earlyArrays {
	e := &earlyArrays{}
	np := len(b.net.Pops)
	var total uint64
	perPre := make([]uint64, np)
	stores := make([]bool, np) // a projection from it has varying weights
	weights := map[[2]int]float64{}
	ambiguous := b.storeWeights || np > MaxCompactPops
	for _, sp := range projs {
		g := sp.gen
		if sp.procedural {
			continue // stores nothing
		}
		n, ok := g.fixedCount()
		if !ok {
			return e
		}
		if n > maxEarly || total+n > maxEarly {
			return e // beyond any machine: leave the failure to the late allocation
		}
		total += n
		perPre[sp.pre] += n
		w, ok := g.constantWeight()
		if !ok || sp.stdpMax > 0 {
			stores[sp.pre] = true
			continue
		}
		// Two constant weights onto one population that differ may still
		// round to one fixed-point value: whether the population stores
		// its weights is then known only after pass 1.
		k := [2]int{sp.pre, sp.post}
		if old, seen := weights[k]; seen && old != w {
			ambiguous = true
		}
		weights[k] = w
	}
	if total < b.fill.early || total == 0 {
		return e // small: not worth a goroutine
	}
	e.packed = make([]uint32, total)
	hugepages.Advise(e.packed)
	if !ambiguous {
		var stored uint64
		for p, n := range perPre {
			if stores[p] {
				stored += n
			}
		}
		if stored > 0 {
			e.weight = make([]int32, stored)
			hugepages.Advise(e.weight)
		}
	}
	e.done = make(chan struct{})
	ctx, cancel := context.WithCancel(b.ctx)
	e.cancel = cancel
	packed, weight := e.packed, e.weight
	go func() {
		defer close(e.done)
		// Weight first: pass 1 may keep partners there (spikingProj.kept).
		populate(ctx, weight)
		populate(ctx, packed)
	}()
	return e
}

// populate faults in the pages of s, 64 MiB at a time, until ctx is
// cancelled.
func populate[T any](ctx context.Context, s []T) {
	const chunk = 64 << 20
	var zero T
	step := max(1, chunk/int(unsafe.Sizeof(zero)))
	for from := 0; from < len(s); from += step {
		if ctx.Err() != nil {
			return
		}
		hugepages.Populate(s, from, min(from+step, len(s)))
	}
}

// weightLayout decides which presynaptic populations are compact (every
// projection from them has a constant weight, one per target population:
// their synapses store no weight), fills Syn.PopWeight and Syn.WeightBase,
// and returns the number of weights stored per synapse.
func (b *builder) weightLayout(projs []*spikingProj) uint64 {
	net := b.net
	np := len(net.Pops)
	syn := &net.Syn
	syn.WeightBase = make([]uint64, np)
	compact := make([]bool, np)
	if np <= MaxCompactPops && !b.storeWeights {
		syn.PopWeight = make([]int32, np*np)
		set := make([]bool, np*np)
		for i := range compact {
			compact[i] = true
		}
		for _, sp := range projs {
			if sp.procedural {
				continue // stores no weight
			}
			w, ok := sp.gen.constantWeight()
			q := int32(math.Round(w * math.Ldexp(1, int(net.Pops[sp.post].Shift))))
			k := sp.pre*np + sp.post
			if !ok || sp.stdpMax > 0 || (set[k] && syn.PopWeight[k] != q) {
				compact[sp.pre] = false
				continue
			}
			syn.PopWeight[k], set[k] = q, true
		}
	}
	var stored uint64
	for p := range net.Pops {
		if compact[p] {
			syn.WeightBase[p] = Compact
			continue
		}
		syn.WeightBase[p] = stored
		pop := &net.Pops[p]
		stored += syn.RowPtr[pop.First+pop.Size] - syn.RowPtr[pop.First]
	}
	return stored
}

// popWeights sets the fixed-point weights of the compact populations
// (their constant weights in the target populations' scales) once more,
// after the scales have changed.
func (b *builder) popWeights(projs []*spikingProj) {
	net := b.net
	np := len(net.Pops)
	for _, sp := range projs {
		if net.Syn.WeightBase[sp.pre] != Compact || sp.procedural {
			continue
		}
		w, _ := sp.gen.constantWeight()
		net.Syn.PopWeight[sp.pre*np+sp.post] = int32(math.Round(w * math.Ldexp(1, int(net.Pops[sp.post].Shift))))
	}
}

// sortRows converts the weights of the deferred projections among projs to
// fixed point (see quantizeRow) and sorts the rows that are not already
// sorted by packed word (rows fed by several projections, fixed out-degree
// rules, multapses); the weights of stored rows move with their words.
// Threads take contiguous ranges of rows with about as many synapses.
func (b *builder) sortRows(projs []*spikingProj) {
	net := b.net
	deferredFrom := make([][]*spikingProj, len(net.Pops))
	for _, sp := range projs {
		if sp.deferred && !sp.procedural {
			deferredFrom[sp.pre] = append(deferredFrom[sp.pre], sp)
		}
	}
	k := max(1, b.threads*chunksPerThread)
	total := net.Syn.RowPtr[net.N]
	forChunks(b.threads, k, func(c int) {
		// Rows [from, to): those whose first synapse is in this chunk's
		// share of the synapses (empty rows go with the next).
		at := func(c int) uint32 {
			x := total * uint64(c) / uint64(k)
			i, _ := slices.BinarySearch(net.Syn.RowPtr[:net.N], x)
			return uint32(i)
		}
		from, to := at(c), at(c+1)
		if c == k-1 {
			to = net.N
		}
		var tmp []uint64
		pi := 0
		for pre := from; pre < to; pre++ {
			lo, hi := net.Syn.RowPtr[pre], net.Syn.RowPtr[pre+1]
			for pre >= net.Pops[pi].First+net.Pops[pi].Size {
				pi++
			}
			p := net.Syn.Packed[lo:hi]
			if b.rowsSorted != nil && b.rowsSorted[pi] {
				// Sorted by word across its projections' parts: each
				// weight in the scale of its own target.
				b.quantizeSorted(p, net.Syn.Weight[net.Syn.WeightBase[pi]+lo-net.Syn.RowPtr[net.Pops[pi].First]:][:len(p)])
				continue
			}
			for _, sp := range deferredFrom[pi] {
				b.quantizeRow(sp, pre-net.Pops[pi].First)
			}
			if slices.IsSorted(p) {
				continue
			}
			base := net.Syn.WeightBase[pi]
			if base == Compact {
				if !insertionSort(p, nil, 8*len(p)) {
					slices.Sort(p)
				}
				continue
			}
			off := base + lo - net.Syn.RowPtr[net.Pops[pi].First]
			wt := net.Syn.Weight[off : off+hi-lo]
			if insertionSort(p, wt, 8*len(p)) {
				continue
			}
			tmp = tmp[:0]
			for i := range p {
				tmp = append(tmp, uint64(p[i])<<32|uint64(uint32(wt[i])))
			}
			slices.Sort(tmp)
			for i, v := range tmp {
				p[i], wt[i] = uint32(v>>32), int32(uint32(v))
			}
		}
	})
}

// quantizeSorted converts the float32 weights ws of a row whose words p
// drawRowWeights has sorted (its projections' parts mixed: every weight
// deferred) to fixed point, each in its target population's scale, as
// quantizeRow does by part.
func (b *builder) quantizeSorted(p []uint32, ws []int32) {
	net := b.net
	pi, scale := -1, 0.0
	for j, v := range ws {
		t := p[j] >> net.Syn.DelayBits
		if pi < 0 || t < net.Pops[pi].First || t >= net.Pops[pi].First+net.Pops[pi].Size {
			pi = net.PopOf(t)
			scale = math.Ldexp(1, int(net.Pops[pi].Shift))
		}
		ws[j] = int32(math.Round(float64(math.Float32frombits(uint32(v))) * scale))
	}
}

// insertionSort sorts p by insertion, in ascending order of (p[i],
// uint32(wt[i])) when wt is not nil (the order of the full sort in
// sortRows), unless that takes more than budget moves: then it stops,
// leaving p and wt permuted alike, and returns false. Rows are often sorted
// but for a few neighbours (multapses onto one target, their delays drawn
// in any order), which it sorts in linear time.
func insertionSort(p []uint32, wt []int32, budget int) bool {
	key := func(i int) uint64 {
		if wt == nil {
			return uint64(p[i])
		}
		return uint64(p[i])<<32 | uint64(uint32(wt[i]))
	}
	for i := 1; i < len(p); i++ {
		// In order (the rule): decided by the packed words alone, or by
		// the weights of equal words.
		if a, c := p[i-1], p[i]; a < c || (a == c && (wt == nil || uint32(wt[i-1]) <= uint32(wt[i]))) {
			continue
		}
		x := key(i)
		pv := p[i]
		var w int32
		if wt != nil {
			w = wt[i]
		}
		j := i
		for j > 0 && key(j-1) > x {
			p[j] = p[j-1]
			if wt != nil {
				wt[j] = wt[j-1]
			}
			j--
			budget--
		}
		p[j] = pv
		if wt != nil {
			wt[j] = w
		}
		if budget < 0 {
			return false
		}
	}
	return true
}

// Range of the fixed-point shift (shared with the kernels).
const (
	minShift = -60
	maxShift = 60
)

// scales fixes each spiking population's fixed-point shift so that the
// largest possible input of one step, and every single input weight, fit in
// an int32 with a factor-two margin for rounding.
func (b *builder) scales() error {
	for i := range b.net.Pops {
		p := &b.net.Pops[i]
		bound := b.popBound[i]
		for _, v := range b.absSum[p.First : p.First+p.Size] {
			bound = math.Max(bound, v)
		}
		if math.IsInf(bound, 0) || math.IsNaN(bound) {
			return fmt.Errorf("population %q (populations[%d]): unbounded synaptic input: the summed |weight| onto one neuron overflows float64", p.Name, i)
		}
		if bound == 0 {
			p.Shift = 20
			continue
		}
		s := math.Floor(30 - math.Log2(bound))
		if s < minShift {
			return fmt.Errorf("population %q (populations[%d]): synaptic input of up to %.4g per step is beyond the fixed-point range: the summed |weight| that can reach one neuron in one step (synapses and spike_times), and every poisson weight, must be at most 2^%d (%.4g)", p.Name, i, bound, 30-minShift, math.Ldexp(1, 30-minShift))
		}
		p.Shift = int32(min(maxShift, s))
	}
	return nil
}

// quantizeInputs converts Poisson and spike-event weights to fixed point and
// sorts the events by step and target.
func (b *builder) quantizeInputs() error {
	net := b.net
	// A neuron adds count × weight of every Poisson input in int64: bound
	// the sum with the largest count of each table.
	sum := make([]float64, len(net.Pops))
	for i := range net.Poisson {
		p := &net.Poisson[i]
		p.Weight = int32(math.Round(math.Ldexp(b.poissonW[i], int(net.Pops[p.Pop].Shift))))
		sum[p.Pop] += float64(p.Base+p.TableLen-1) * math.Abs(float64(p.Weight))
		if sum[p.Pop] > 1<<62 {
			pop := &net.Pops[p.Pop]
			return fmt.Errorf("population %q (populations[%d]): its poisson inputs can add more than 2^62 fixed-point units (of 2^%d each) to a neuron in one step, beyond the int64 sum of the backends: lower their rates or their number", pop.Name, p.Pop, -pop.Shift)
		}
	}
	for i := range net.Events {
		e := &net.Events[i]
		e.Weight = int32(math.Round(math.Ldexp(b.eventW[i], int(net.Pops[net.PopOf(e.Target)].Shift))))
	}
	slices.SortStableFunc(net.Events, func(x, y SpikeEvent) int {
		if x.Step != y.Step {
			if x.Step < y.Step {
				return -1
			}
			return 1
		}
		return int(int64(x.Target) - int64(y.Target))
	})
	return nil
}
