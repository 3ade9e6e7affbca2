package launch

// The device buffers of a plan and their layout.

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/synapse"
)

// Buffer identifies a device buffer; its address goes into the MyelinNet
// field of the same name.
type Buffer int

// The buffers, in the order of MyelinNet's pointer fields. The ones from
// BufSpkCnt on belong to a record set: a backend keeps RecordSets of them, each
// with its own MyelinNet.
const (
	BufStep Buffer = iota
	BufPops
	BufV
	BufA
	BufB
	BufC
	BufRef
	BufRingEx
	BufRingIn
	BufRingSlow
	BufRowPtr
	BufPacked
	BufWeight
	BufWBase
	BufWTab
	BufPoisson
	BufPTable
	BufDC
	BufEvents
	BufRHist
	BufRProj
	BufRTable
	BufRColPtr
	BufRSrc
	BufRW
	BufProbes
	BufSTPOf
	BufSTPSets
	BufSTPU
	BufSTPX
	BufSTPF
	BufSTPLast
	BufSTDPOf
	BufSTDPSets
	BufSTDPPre
	BufSTDPPost
	BufSTDPPtr
	BufSTDPW
	BufSTDPSrc
	BufProcs
	BufProcThr
	BufProcScratch
	BufPTileOff
	BufSpkBits
	BufTileCnt
	BufSpkCnt
	BufSpkOff
	BufSpkIDs
	BufSamples
	NumBuffers
)

// FirstRecord is the first buffer of a record set.
const FirstRecord = BufSpkCnt

// RecordSets is the number of record sets a backend keeps, so that the
// host reads one chunk's spikes while the device computes the next.
const RecordSets = 2

var bufferNames = [NumBuffers]string{
	"step", "pops", "v", "a", "b", "c", "ref", "ring_ex", "ring_in", "ring_slow", "row_ptr", "packed", "weight",
	"wbase", "wtab", "poisson", "ptable", "dc", "events", "rhist", "rproj", "rtable", "rcolptr", "rsrc", "rw", "probes",
	"stp_of", "stp_sets", "stp_u", "stp_x", "stp_f", "stp_last",
	"stdp_of", "stdp_sets", "stdp_pre", "stdp_post", "stdp_ptr", "stdp_w", "stdp_src",
	"procs", "proc_thr", "proc_scratch", "ptile_off", "spk_bits", "tile_cnt", "spk_cnt", "spk_off", "spk_ids", "samples",
}

// String returns the buffer's name (the MyelinNet field).
func (b Buffer) String() string {
	if b >= 0 && b < NumBuffers {
		return bufferNames[b]
	}
	return fmt.Sprintf("buffer(%d)", int(b))
}

// Record reports whether the buffer belongs to a record set.
func (b Buffer) Record() bool { return b >= FirstRecord && b < NumBuffers }

// BufferSpec describes one device buffer.
type BufferSpec struct {
	Buffer Buffer
	// Bytes is the allocation size: at least 8, so that empty arrays still
	// get a valid address.
	Bytes int64
	// Data is the initial content of the buffer's start; the rest is zero.
	// Record buffers have none: the kernels write them.
	Data []byte
	// What the buffer is for, for memory reports: "state", "synapses",
	// "rings", "inputs", "rate", "record".
	Class string
	// Resident: the buffer is already in the device's memory (the
	// synapse arrays of network.Synapses.Resident): the backend adopts it
	// instead of allocating one.
	Resident bool
}

// layout fills p.bufs.
func (p *Plan) layout() error {
	net := p.net
	n := int64(net.N)
	add := func(b Buffer, class string, bytes int64, data []byte) {
		p.bufs = append(p.bufs, BufferSpec{Buffer: b, Bytes: max(8, bytes), Data: data, Class: class})
	}
	u32s := func(v []uint32) []byte { return appendStruct(nil, v) }

	add(BufStep, "state", StepBytes, nil)

	// The Poisson descriptors go by target population, so that a neuron's
	// update visits its own population's inputs alone, and by first step
	// within one, so that it can search for those on at t (PoissonDesc's
	// reach); their counts add in int64, in any order.
	poissonOrder, poisson0, err := byPopulation(len(net.Pops), net.Poisson, func(q network.Poisson) int { return q.Pop })
	if err != nil {
		return fmt.Errorf("launch: Poisson inputs: %w", err)
	}
	for i := range net.Pops {
		slices.SortStableFunc(poissonOrder[poisson0[i]:poisson0[i+1]], func(a, b int) int { return cmp.Compare(net.Poisson[a].Start, net.Poisson[b].Start) })
	}

	// The DC descriptors go by target population too, in input order
	// within one: a neuron's currents add in float32, in that order.
	dcOrder, dc0, err := byPopulation(len(net.Pops), net.DC, func(d network.DC) int { return d.Pop })
	if err != nil {
		return fmt.Errorf("launch: DC inputs: %w", err)
	}

	var pops []byte
	var ublocks, rblocks uint32
	for j := range p.popBounds {
		for i := range p.popBounds[j] {
			p.popBounds[j][i] = math.MaxUint32
		}
	}
	for i := range net.Pops {
		d, err := newPopDesc(&net.Pops[i])
		if err != nil {
			return err
		}
		d.UBlock0, d.RBlock0 = ublocks, rblocks
		d.Poisson0, d.NPoisson = poisson0[i], poisson0[i+1]-poisson0[i]
		d.DC0, d.NDC = dc0[i], dc0[i+1]-dc0[i]
		if i < PopFast {
			p.popBounds[0][i], p.popBounds[1][i], p.popBounds[2][i] = d.First, d.UBlock0, d.RBlock0
		}
		if net.Pops[i].Spiking() {
			ublocks += p.blocks(net.Pops[i].Size)
		} else {
			rblocks += p.blocks(net.Pops[i].Size)
		}
		pops = d.append(pops)
	}
	p.updateGrid, p.rateGrid = ublocks, rblocks
	add(BufPops, "state", int64(len(pops)), pops)

	v := make([]float32, n)
	for _, pop := range net.Pops {
		if pop.Spiking() {
			copy(v[pop.First:], pop.Init)
		}
	}
	add(BufV, "state", 4*n, appendF32s(nil, v))
	add(BufA, "state", 4*n, nil)
	add(BufB, "state", 4*n, nil)
	var cBytes int64 // the fourth state variable, only for models that have one or use their slow port
	for _, pop := range net.Pops {
		if len(pop.Model.State) > 3 || pop.Slow {
			cBytes = 4 * n
		}
	}
	add(BufC, "state", cBytes, nil)
	add(BufRef, "state", 4*n, nil)
	ring := 4 * n * int64(net.RingSlots)
	add(BufRingEx, "rings", ring, nil)
	add(BufRingIn, "rings", ring, nil)
	var slow int64 // the slow excitatory port's slots, only where a synapse or Poisson input uses it
	if net.Syn.PortBit != 0 {
		slow = ring
	}
	add(BufRingSlow, "rings", slow, nil)

	syn := &net.Syn
	// The synapse arrays are the bulk of the upload: viewed in place (no
	// host copy) on little-endian hosts.
	add(BufRowPtr, "synapses", 8*(n+1), littleEndian(syn.RowPtr))
	if r := syn.Resident; r != nil {
		add(BufPacked, "synapses", 4*int64(r.Words), nil)
		add(BufWeight, "synapses", 4*int64(r.Weights), nil)
		p.bufs[len(p.bufs)-2].Resident, p.bufs[len(p.bufs)-1].Resident = true, true
	} else {
		add(BufPacked, "synapses", 4*int64(len(syn.Packed)), littleEndian(syn.Packed))
		add(BufWeight, "synapses", 4*int64(len(syn.Weight)), littleEndian(syn.Weight))
	}
	add(BufWBase, "synapses", 8*int64(len(syn.WeightBase)), appendStruct(nil, syn.WeightBase))
	add(BufWTab, "synapses", 4*int64(len(syn.PopWeight)), appendStruct(nil, syn.PopWeight))

	var poisson []byte
	for i := range net.Pops {
		var reach uint64 // the latest stop of the population's inputs so far
		for _, k := range poissonOrder[poisson0[i]:poisson0[i+1]] {
			q := &net.Poisson[k]
			reach = max(reach, q.Stop)
			poisson = appendStruct(poisson, poissonDesc{
				Start: q.Start, Stop: q.Stop, First: q.First, Count: q.Count, Weight: q.Weight,
				Purpose: q.Purpose, Base: q.Base, TableOff: q.TableOff, TableLen: q.TableLen, Slow: b2u(q.Slow),
				Reach: reach,
			})
		}
	}
	add(BufPoisson, "inputs", int64(len(poisson)), poisson)
	add(BufPTable, "inputs", 4*int64(len(net.PoissonTable)), u32s(net.PoissonTable))
	var dc []byte
	for _, k := range dcOrder {
		d := &net.DC[k]
		dc = appendStruct(dc, dcDesc{Start: d.Start, Stop: d.Stop, First: d.First, Count: d.Count, Amp: d.Amp})
	}
	add(BufDC, "inputs", int64(len(dc)), dc)
	var ev []byte
	for _, e := range net.Events {
		ev = appendStruct(ev, eventDesc{Step: e.Step, Target: e.Target, Weight: e.Weight})
	}
	add(BufEvents, "inputs", int64(len(ev)), ev)

	rh := make([]float32, n*int64(net.RateSlots))
	for _, pop := range net.Pops {
		if !pop.Spiking() {
			copy(rh[pop.First:], pop.Init) // slot 0 holds the rates of step 0
		}
	}
	add(BufRHist, "rate", 4*int64(len(rh)), appendF32s(nil, rh))
	var rproj, rtable, rcol, rsrc, rw []byte
	var nTable, nCol, nEdge uint32
	for _, rp := range net.RateProj {
		d := rateProjDesc{
			PreFirst: net.Pops[rp.Pre].First, PreSize: net.Pops[rp.Pre].Size, Post: uint32(rp.Post), Delay: rp.DelaySteps,
		}
		if rp.Table != nil {
			d.Kind, d.TableOff, d.TableLen = 1, nTable, uint32(len(rp.Table))
			rtable = appendF32s(rtable, rp.Table)
			nTable += uint32(len(rp.Table))
		} else {
			d.Kind, d.ColPtrOff, d.EdgeOff = 2, nCol, nEdge
			rcol = appendStruct(rcol, rp.ColPtr)
			rsrc = appendStruct(rsrc, rp.Src)
			rw = appendF32s(rw, rp.W)
			nCol += uint32(len(rp.ColPtr))
			nEdge += uint32(len(rp.Src))
		}
		rproj = appendStruct(rproj, d)
	}
	add(BufRProj, "rate", int64(len(rproj)), rproj)
	add(BufRTable, "rate", int64(len(rtable)), rtable)
	add(BufRColPtr, "rate", int64(len(rcol)), rcol)
	add(BufRSrc, "rate", int64(len(rsrc)), rsrc)
	add(BufRW, "rate", int64(len(rw)), rw)

	var probes []byte
	for i, pr := range net.Probes {
		pop := &net.Pops[pr.Pop]
		d := probeDesc{First: pop.First + pr.First, Count: pr.Count, Every: pr.Every, EL: pop.EL, Out: p.probeOut[i]}
		if pop.Spiking() {
			d.Spiking = 1
		}
		probes = appendStruct(probes, d)
	}
	add(BufProbes, "record", int64(len(probes)), probes)

	// Short-term plasticity: the set of each population pair, the sets,
	// and the state of their neurons (u = U, x = 1, last = 0 to start).
	var stpOf, stpSets []byte
	if net.STPOf != nil {
		stpOf = appendStruct(nil, net.STPOf)
	}
	var ns int64
	u0 := make([]float32, net.STPStateSize())
	x0 := make([]float32, len(u0))
	for _, set := range net.STP {
		pop := &net.Pops[set.Pre]
		stpSets = appendStruct(stpSets, stpDesc{Pre: int32(set.Pre), First: pop.First, Size: pop.Size, Off: set.Off, Coef: set.Coef})
		for i := set.Off; i < set.Off+pop.Size; i++ {
			u0[i], x0[i], _ = set.Coef.Init()
		}
	}
	ns = int64(len(u0))
	add(BufSTPOf, "synapses", int64(len(stpOf)), stpOf)
	add(BufSTPSets, "synapses", int64(len(stpSets)), stpSets)
	add(BufSTPU, "state", 4*ns, appendF32s(nil, u0))
	add(BufSTPX, "state", 4*ns, appendF32s(nil, x0))
	add(BufSTPF, "state", 2*4*ns, nil) // per step parity
	add(BufSTPLast, "state", 8*ns, nil)

	if err := p.layoutSTDP(add); err != nil {
		return err
	}

	add(BufProcs, "synapses", int64(len(p.procDescs)), p.procDescs)
	add(BufProcThr, "synapses", 4*int64(len(p.procThr)), u32s(p.procThr))
	add(BufProcScratch, "synapses", 4*int64(p.procSlots)*int64(p.procSlotWords), nil)
	add(BufPTileOff, "synapses", 2*int64(len(p.ptileOff)), littleEndian(p.ptileOff))

	k := int64(p.ChunkSteps)
	// The bitmask and tile counts of order.cu are used and cleared within
	// a chunk, so the record sets share them.
	add(BufSpkBits, "record", 4*k*int64(p.words), nil)
	add(BufTileCnt, "record", 4*k*int64(p.tiles), nil)
	add(BufSpkCnt, "record", 4*k, nil)
	add(BufSpkOff, "record", 4*(k+1), nil)
	add(BufSpkIDs, "record", 4*k*n, nil)
	add(BufSamples, "record", 4*k*int64(p.SampleWidth), nil)
	for i, b := range p.bufs {
		if b.Buffer != Buffer(i) {
			return fmt.Errorf("launch: internal error: buffer %d laid out as %v", i, b.Buffer)
		}
	}
	return nil
}

// b2u is 1 for true, 0 for false.
func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// layoutSTDP adds the STDP buffers: the set of each population pair, the
// sets at the learning rate of step 0, the trace records (no spike yet)
// and the by-post indices of every set, concatenated.
func (p *Plan) layoutSTDP(add func(Buffer, string, int64, []byte)) error {
	net := p.net
	var of []byte
	if net.STDPOf != nil {
		of = appendStruct(nil, net.STDPOf)
	}
	sets, err := p.STDPSets(net.LearningRate(0))
	if err != nil {
		return err
	}
	var ptr []uint64
	var w, src []uint32
	for k := range net.STDP {
		set := &net.STDP[k]
		base := uint64(len(w))
		for _, x := range set.PostPtr {
			ptr = append(ptr, base+x)
		}
		w = append(w, set.PostW...)
		src = append(src, set.PostPre...)
	}
	npre, npost := net.STDPTraceSizes()
	add(BufSTDPOf, "synapses", int64(len(of)), of)
	add(BufSTDPSets, "synapses", int64(len(sets)), sets)
	add(BufSTDPPre, "state", 8*int64(npre), nil)
	add(BufSTDPPost, "state", 8*int64(npost), nil)
	add(BufSTDPPtr, "synapses", 8*int64(len(ptr)), appendStruct(nil, ptr))
	add(BufSTDPW, "synapses", 4*int64(len(w)), littleEndian(w))
	add(BufSTDPSrc, "synapses", 4*int64(len(src)), littleEndian(src))
	return nil
}

// STDPSets returns the content of the stdp_sets buffer with the
// coefficients at learning rate r: backends rewrite the buffer between
// chunks when a phase changes the rate (see NextChunk).
func (p *Plan) STDPSets(r float64) ([]byte, error) {
	net := p.net
	var out []byte
	var ptrOff uint64
	for k := range net.STDP {
		set := &net.STDP[k]
		c, err := synapse.NewSTDP(set.Params, net.Dt, net.Pops[set.Post].Shift, r)
		if err != nil {
			return nil, fmt.Errorf("launch: stdp set %d: %w", k, err)
		}
		out = appendStruct(out, stdpDesc{
			Pre: int32(set.Pre), Post: int32(set.Post), PreFirst: net.Pops[set.Pre].First, PostFirst: net.Pops[set.Post].First,
			PreOff: set.PreOff, PostOff: set.PostOff, PtrOff: ptrOff, Coef: c,
		})
		ptrOff += uint64(len(set.PostPtr))
	}
	return out, nil
}

// NextChunk returns the length of the next chunk from step, at most n
// steps and ChunkSteps, that keeps one STDP learning rate (phases change
// it only between chunks), and that rate.
func (p *Plan) NextChunk(step uint64, n int) (m int, rate float64) {
	m, rate = p.PhaseSpan(step, n)
	return min(m, p.ChunkSteps), rate
}

// CheckSteps returns an error if steps [step, step+n) pass the most a run
// with STDP may have (synapse.MaxSTDPSteps: a trace record keeps a step in
// 32 bits).
func (p *Plan) CheckSteps(step uint64, n int) error {
	if len(p.net.STDP) > 0 && step+uint64(n) > synapse.MaxSTDPSteps {
		return fmt.Errorf("steps [%d, %d): a run with STDP has at most %d steps", step, step+uint64(n), uint64(synapse.MaxSTDPSteps))
	}
	return nil
}

// PhaseSpan returns how many of the n steps from step keep the STDP
// learning rate of step (all n without STDP), and that rate.
func (p *Plan) PhaseSpan(step uint64, n int) (m int, rate float64) {
	if len(p.net.STDP) == 0 {
		return n, 1
	}
	m = n
	if next := p.net.NextPhaseChange(step); next > step && next-step < uint64(m) {
		m = int(next - step)
	}
	return m, p.net.LearningRate(step)
}

// byPopulation orders the indices of inputs by their target population
// (pop), in input order within one: order lists them, and population i's
// are order[first[i]:first[i+1]].
// One pass counts, one places: linear in inputs and populations.
func byPopulation[T any](pops int, inputs []T, pop func(T) int) (order []int, first []uint32, err error) {
	first = make([]uint32, pops+1)
	for k := range inputs {
		if i := pop(inputs[k]); i < 0 || i >= pops {
			return nil, nil, fmt.Errorf("input %d targets population %d of %d", k, i, pops)
		}
		first[pop(inputs[k])+1]++
	}
	for i := 0; i < pops; i++ {
		first[i+1] += first[i]
	}
	order = make([]int, len(inputs))
	next := slices.Clone(first[:pops])
	for k := range inputs {
		i := pop(inputs[k])
		order[next[i]] = k
		next[i]++
	}
	return order, first, nil
}
