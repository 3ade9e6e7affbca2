package network

import (
	"context"
	"errors"
	"fmt"
	"math"

	myelinpb "github.com/myelin-sim/myelin/proto"
)

// On-device construction. BuildOn is Build with the synapse arrays made by
// a SynapseDevice (the CUDA kernels of kernels/construct.cu, or their host
// emulation) from the seed, instead of by the host's passes: the device
// runs pass 1 (counts per presynaptic neuron and the targets' input
// bounds), pass 2 (the packed words and weights into their rows),
// row-order weights and the rows' final order, while the builder keeps
// the bookkeeping (row pointers, fixed-point scales, weight and delay
// layout) with the very code of Build. The result is Build's, byte for
// byte: the device's kernels are twins of the host's draws, and every
// step whose result would depend on the order of the device's threads
// (a row's words, a target's sum) is put back in the host's order.

// SynapseDevice makes a network's synapse arrays on a device. BuildOn
// calls Count for every projection (or CountBatch once, for a
// CountBatcher), Allocate once, Fill for every projection (those with
// row-order weights first, then RowWeights once; or FillBatch for each of
// the two groups, for a FillBatcher), then Finish once, and Close at the
// end, whether the build succeeded or not.
type SynapseDevice interface {
	// Count is pass 1 of projection j: it adds each synapse to count[i],
	// i its local presynaptic neuron, and, where j.SumConst or
	// j.SumDrawn, its weight's magnitude to its target's bound abs[t]
	// (t the global id), in the order of the host's pass 1.
	Count(j *DeviceJob, count []uint32, abs []float64) error
	// Allocate sizes the device's arrays for the rows of l.
	Allocate(l *DeviceLayout) error
	// Fill is pass 2 of projection j (j.Start set): its packed words (and
	// stored weights, where j.Keep or j.Deferred) into its part of each
	// row, in the host's order; where j.Deferred, the weights' magnitudes
	// are added to their targets' bounds abs. It returns the longest delay
	// in steps.
	Fill(j *DeviceJob, abs []float64) (uint32, error)
	// RowWeights draws the row-order weights of jobs (all with
	// RowWeights set) and adds their magnitudes to the bounds abs of
	// their targets, by the parts of the rows that start at synapses
	// parts[c] (the last entry: the end), as drawRowWeights does.
	RowWeights(jobs []*DeviceJob, parts []uint64, abs []float64) error
	// Finish puts every row in its final order and form (sortRows) and
	// returns the arrays, or, where f.Keep, leaves them on the device and
	// describes them.
	Finish(f *DeviceFinish) (packed []uint32, weight []int32, res *Resident, err error)
	// Close frees what the device still holds for the build (after an
	// error: everything; never arrays handed over in a Resident).
	Close()
}

// CountBatcher is a SynapseDevice that counts several projections in one
// call: CountBatch(jobs, counts, abs) does what Count(jobs[q], counts[q],
// abs) does for each q in order. BuildOn then makes one call for pass 1.
type CountBatcher interface {
	CountBatch(jobs []*DeviceJob, counts [][]uint32, abs []float64) error
}

// FillBatcher is a SynapseDevice that writes several projections in one
// call: FillBatch(jobs, abs) does what Fill(jobs[q], abs) does for each q
// in order, and returns each one's longest delay. BuildOn then makes one
// call for the projections written before the row-order weights and one
// for those after.
type FillBatcher interface {
	FillBatch(jobs []*DeviceJob, abs []float64) ([]uint32, error)
}

// DeviceJob is one projection of a BuildOn: its draws and where its
// synapses go.
type DeviceJob struct {
	// Index is the projection's place in Spec.Projections; Pre and Post
	// its populations; Seed the network's (the key of its streams).
	Index, Pre, Post int
	Seed             uint64
	// Device describes the draws (Rule RuleFixedInDegree; Port 0 and
	// ConstDelay without the port bit), Scale the target's current scale.
	Device Device
	// Port is or-ed into every word's delay field.
	Port uint32
	// SumConst: pass 1 adds ConstMagnitude to the target's bound per
	// synapse; SumDrawn: it adds each drawn weight's magnitude, at least
	// Floor (an STDP projection's w_max: its weights may grow to it).
	SumConst, SumDrawn bool
	ConstMagnitude     float64
	Floor              float64
	// Keep: pass 2 stores each synapse's weight, quantized. RowWeights:
	// the weights are drawn row by row (SynapseDevice.RowWeights), as
	// float32 bits until Finish quantizes them. Deferred: pass 2 draws the
	// weights unit by unit, stores them as float32 bits until Finish and
	// adds their magnitudes to the targets' bounds (in Fill's abs). Keys:
	// the pre population stores weights, so its rows keep pass 2's order
	// of the host (units ascending, draws in order) up to Finish.
	Keep, RowWeights, Deferred, Keys bool
	// ByPre: the rule is drawn per presynaptic neuron (fixed out-degree,
	// pairwise Bernoulli by source; Device as for a procedural row): a
	// unit is a row. Chunks are the bounds of the unit chunks whose
	// partial sums pass 1 adds in order (len: chunks + 1).
	ByPre  bool
	Chunks []uint32
	// Start and Count are per local presynaptic neuron: where the
	// projection's part of its row starts, and its synapses there (set
	// for Fill, RowWeights and Finish).
	Start []uint64
	Count []uint32
	// WeightOffset: the weight of the synapse at packed index x is at
	// x - WeightOffset of the weight array, or none where the pre
	// population is compact (WeightOffset == Compact).
	WeightOffset uint64
}

// DeviceLayout is what the device allocates: the row pointers, the packed
// words (RowPtr[N]) and stored weights (Weights), whether pass 2 keys the
// words (some population stores weights) and row-order magnitudes are
// kept (some projection has row-order weights); DelayBits packs target
// and delay; PopFirst[p] is population p's first neuron (and the last
// entry N).
type DeviceLayout struct {
	RowPtr    []uint64
	Weights   uint64
	Keys      bool
	Mags      bool
	DelayBits uint32
	PopFirst  []uint32
}

// DeviceFinish is what the rows need to be finished: every population's
// shift and WeightBase (Compact: no stored weights), Owned populations
// (their rows sorted stably by word, every weight deferred), the slow
// port's bit before and after lowering, and the jobs of every projection
// (their row-order parts quantized in their target's scale); Keep leaves
// the arrays on the device.
type DeviceFinish struct {
	Shift            []int32
	WeightBase       []uint64
	Owned            []bool
	OldPort, NewPort uint32
	Jobs             []*DeviceJob
	Keep             bool
}

// NonFiniteWeightError is a device's report that projection Index (its
// place in Spec.Projections) drew a weight that is not finite, as Build
// reports it.
type NonFiniteWeightError struct{ Index int }

// Error implements error.
func (e *NonFiniteWeightError) Error() string {
	return "weight: drew a value that is not finite (±Inf or NaN): the weight distribution overflows float64"
}

// ErrNotOnDevice wraps the reason why a network cannot be built by
// BuildOn: the caller may build it on the host instead.
var ErrNotOnDevice = errors.New("not built on the device")

// BuildOn is BuildContext with the synapses made by dev. It supports
// networks whose spiking projections all have drawn rules
// (fixed_in_degree, fixed_out_degree, pairwise_bernoulli, one_to_one,
// all_to_all), stored (short-term plasticity and STDP included); for
// others (explicit lists, procedural projections) it returns an error
// wrapping ErrNotOnDevice that names the projection. With
// Options.KeepOnDevice the arrays stay on the device (Synapses.Resident),
// except in networks with STDP, whose index the host builds from them.
func BuildOn(ctx context.Context, spec *myelinpb.Network, opt Options, dev SynapseDevice) (*Network, error) {
	if dev == nil {
		return nil, errors.New("BuildOn: no device")
	}
	return buildWith(ctx, spec, opt, defaultFill(), dev)
}

// onDevice reports why sp cannot be built by BuildOn (nil if it can).
func onDevice(sp *spikingProj) error {
	p := sp.gen.proj
	var why string
	switch p.GetRule().(type) {
	case *myelinpb.Projection_FixedInDegree, *myelinpb.Projection_OneToOne, *myelinpb.Projection_AllToAll,
		*myelinpb.Projection_PairwiseBernoulli, *myelinpb.Projection_FixedOutDegree:
	default:
		why = "its rule is an explicit list or a ring"
	}
	switch {
	case why != "":
	case sp.procedural:
		why = "it is procedural"
	case sp.gen.multapses && uint64(sp.gen.nPost)*uint64(p.GetFixedInDegree().GetIndegree()) > math.MaxUint32:
		why = "a presynaptic neuron may have 2^32 synapses or more"
	}
	if why != "" {
		return fmt.Errorf("%s: %w: the device builds stored projections of the drawn rules (fixed_in_degree, fixed_out_degree, pairwise_bernoulli, one_to_one, all_to_all), and %s", sp.where, ErrNotOnDevice, why)
	}
	return nil
}

// deviceJob returns the job of sp with the current scales.
func (b *builder) deviceJob(sp *spikingProj) *DeviceJob {
	net := b.net
	g := sp.gen
	d := deviceOf(g, net, sp.pre, sp.post, 0, false)
	// The rule's partners of a unit (a postsynaptic neuron), and their
	// most.
	switch {
	case d.Rule == RuleOneToOne:
		d.K = 1
	case d.Rule == RuleAllToAll:
		d.Rule, d.K = RuleAllToAllByPost, g.nPre
	case d.Rule == RuleBernoulli && !g.byPre:
		d.Rule, d.K = RuleBernoulliByPost, g.nPre
	case d.Rule == RuleBernoulli:
		d.K = g.nPost // the most targets of a row
	}
	j := &DeviceJob{Index: g.index, Pre: sp.pre, Post: sp.post, Seed: net.Seed, Device: d, Count: sp.count, Start: sp.cursor, WeightOffset: Compact, ByPre: g.byPre}
	if g.byPre {
		for _, c := range sp.unitChunks {
			j.Chunks = append(j.Chunks, c[0])
		}
		j.Chunks = append(j.Chunks, g.units)
	}
	if sp.slow {
		j.Port = net.Syn.PortBit
	}
	if wb := net.Syn.WeightBase; wb != nil && wb[sp.pre] != Compact {
		j.WeightOffset = net.Syn.RowPtr[net.Pops[sp.pre].First] - wb[sp.pre]
		j.Keys, j.RowWeights, j.Deferred, j.Keep = true, sp.rowWeights, sp.deferred && !sp.rowWeights, !sp.deferred
	}
	return j
}

// synapsesOn is synapses with the arrays made by b.dev (BuildOn).
func (b *builder) synapsesOn(projs []*spikingProj) error {
	net, dev := b.net, b.dev
	defer dev.Close()
	var units uint64
	for _, sp := range projs {
		if err := onDevice(sp); err != nil {
			return err
		}
		units += uint64(sp.gen.units)
	}
	b.prog.total.Store(2 * units)
	b.prog.setPhase("synapses on the device: counting (pass 1 of 2)")
	var passed uint64
	passOne := make([]*DeviceJob, len(projs))
	counts := make([][]uint32, len(projs))
	for i, sp := range projs {
		sp.count = make([]uint32, sp.gen.nPre)
		j := b.deviceJob(sp)
		// As pass 1 bounds the input: an STDP projection by its w_max
		// (every synapse of a by-post rule; at least, each synapse of a
		// rule drawn per presynaptic neuron).
		cw, constW := sp.gen.constantWeight()
		switch {
		case sp.deferred:
		case sp.stdpMax > 0 && !sp.gen.byPre:
			j.SumConst, j.ConstMagnitude = true, sp.stdpMax
		case constW:
			j.SumConst, j.ConstMagnitude = true, max(math.Abs(cw), sp.stdpMax)
		default:
			j.SumDrawn, j.Floor = true, sp.stdpMax
		}
		passOne[i], counts[i] = j, sp.count
	}
	if cb, ok := dev.(CountBatcher); ok {
		if err := cb.CountBatch(passOne, counts, b.absSum); err != nil {
			return b.deviceError(projs, "counting", err)
		}
		passed = units
		b.prog.done.Store(passed)
		if err := b.ctx.Err(); err != nil {
			return fmt.Errorf("build cancelled: %w", err)
		}
	} else {
		for i, sp := range projs {
			if err := dev.Count(passOne[i], sp.count, b.absSum); err != nil {
				return fmt.Errorf("%s: on the device: %w", sp.where, err)
			}
			passed += uint64(sp.gen.units)
			b.prog.done.Store(passed)
			if err := b.ctx.Err(); err != nil {
				return fmt.Errorf("build cancelled: %w", err)
			}
		}
	}
	if err := b.scales(); err != nil {
		return err
	}
	if err := b.rowPointers(projs); err != nil {
		return err
	}
	stored := b.weightLayout(projs)
	b.partStarts(projs)
	layout := &DeviceLayout{RowPtr: net.Syn.RowPtr, Weights: stored, Keys: stored > 0, DelayBits: net.Syn.DelayBits}
	for _, p := range net.Pops {
		layout.PopFirst = append(layout.PopFirst, p.First)
	}
	layout.PopFirst = append(layout.PopFirst, net.N)
	var rowW []*spikingProj
	var rowTotal uint64
	lo, hi := net.N, uint32(0)
	for _, sp := range projs {
		if sp.rowWeights {
			rowW = append(rowW, sp)
			layout.Mags = true
			post := &net.Pops[sp.post]
			lo, hi = min(lo, post.First), max(hi, post.First+post.Size)
			for _, v := range sp.count {
				rowTotal += uint64(v)
			}
		}
	}
	if err := dev.Allocate(layout); err != nil {
		return fmt.Errorf("synapses on the device: %w", err)
	}

	// Pass 2: deferred projections first, in spec order (those with
	// unit-order weights add to the bounds as they are written), then the
	// row-order weights; they complete the bounds, and so the scales,
	// with which the others' weights are quantized.
	b.prog.setPhase("synapses on the device: writing (pass 2 of 2)")
	maxDelay := uint32(1)
	fill := func(list []*spikingProj) error {
		if len(list) == 0 {
			return nil
		}
		jobs := make([]*DeviceJob, len(list))
		for i, sp := range list {
			jobs[i] = b.deviceJob(sp)
		}
		longest := make([]uint32, len(list))
		if fb, ok := dev.(FillBatcher); ok {
			got, err := fb.FillBatch(jobs, b.absSum)
			if err != nil {
				return b.deviceError(list, "writing", err)
			}
			if len(got) != len(list) {
				return fmt.Errorf("synapses on the device: %d longest delays for %d projections", len(got), len(list))
			}
			copy(longest, got)
		} else {
			for i, sp := range list {
				n, err := dev.Fill(jobs[i], b.absSum)
				if err != nil {
					return fmt.Errorf("%s: on the device: %w", sp.where, err)
				}
				longest[i] = n
				if err := b.ctx.Err(); err != nil {
					return fmt.Errorf("build cancelled: %w", err)
				}
			}
		}
		for i, sp := range list {
			sp.maxDelay = longest[i]
			for _, v := range sp.count {
				net.Pops[sp.post].Synapses += uint64(v)
			}
			passed += uint64(sp.gen.units)
			if err := b.checkDelay(sp); err != nil {
				return err
			}
			maxDelay = max(maxDelay, sp.maxDelay)
		}
		b.prog.done.Store(passed)
		if err := b.ctx.Err(); err != nil {
			return fmt.Errorf("build cancelled: %w", err)
		}
		return nil
	}
	var early, late []*spikingProj // deferred (before the row-order weights), then the others
	for _, sp := range projs {
		if sp.deferred {
			early = append(early, sp)
		} else {
			late = append(late, sp)
		}
	}
	if err := fill(early); err != nil {
		return err
	}
	owned := make([]bool, len(net.Pops))
	if rowTotal > 0 {
		b.prog.setPhase("synapses on the device: drawing weights")
		jobs := make([]*DeviceJob, len(rowW))
		for i, sp := range rowW {
			jobs[i] = b.deviceJob(sp)
		}
		rows := rowWeightParts(net, rowTotal, hi-lo)
		parts := make([]uint64, len(rows))
		for c, r := range rows {
			parts[c] = net.Syn.RowPtr[r]
		}
		if err := dev.RowWeights(jobs, parts, b.absSum); err != nil {
			return b.deviceError(rowW, "row-order weights", err)
		}
		owned = rowWeightsOwned(net, projs)
	}
	if len(early) > 0 {
		if err := b.scales(); err != nil {
			return err
		}
		b.popWeights(projs)
	}
	if err := fill(late); err != nil {
		return err
	}
	net.RingSlots = maxDelay + 1
	// STDP's by-post index is built on the host, from the arrays.
	keep := b.keepOnDevice
	for _, sp := range projs {
		keep = keep && sp.stdpMax == 0 && sp.gen.proj.GetStdp() == nil
	}
	fin := &DeviceFinish{Owned: owned, WeightBase: net.Syn.WeightBase, OldPort: net.Syn.PortBit, NewPort: loweredPortBit(net.Syn.PortBit, maxDelay), Keep: keep}
	for _, p := range net.Pops {
		fin.Shift = append(fin.Shift, p.Shift)
	}
	for _, sp := range projs {
		fin.Jobs = append(fin.Jobs, b.deviceJob(sp))
	}
	b.prog.setPhase("synapses on the device: sorting rows")
	packed, weight, res, err := dev.Finish(fin)
	if err != nil {
		return fmt.Errorf("synapses on the device: finishing the rows: %w", err)
	}
	words := net.Syn.RowPtr[net.N]
	switch {
	case fin.Keep && (res == nil || res.Words != words || res.Weights != stored):
		if res != nil {
			res.Arrays.Release()
		}
		return fmt.Errorf("synapses on the device: arrays of %v kept, want %d words and %d weights", res, words, stored)
	case !fin.Keep && (uint64(len(packed)) != words || uint64(len(weight)) != stored):
		return fmt.Errorf("synapses on the device: %d words and %d weights back, want %d and %d", len(packed), len(weight), words, stored)
	}
	if !fin.Keep {
		if err := checkRows(net.Syn.RowPtr, packed, net.Syn.DelayBits, fin.NewPort, net.N, maxDelay, b.threads); err != nil {
			return fmt.Errorf("synapses on the device: the arrays came back malformed: %w", err)
		}
	}
	net.Syn.Packed, net.Syn.Weight, net.Syn.Resident, net.Syn.PortBit = packed, weight, res, fin.NewPort
	b.delayLayout(projs)
	for _, sp := range projs {
		sp.count, sp.cursor = nil, nil
	}
	return nil
}

// checkRows returns an error naming the first row of packed (a device's
// words, before the host relies on them: the STDP index, the CPU backend)
// that is not sorted by word or holds a target outside the n neurons or a
// delay above maxDelay steps (port the slow port's bit, not part of the
// delay), on up to threads goroutines.
func checkRows(rowPtr []uint64, packed []uint32, dbits, port, n, maxDelay uint32, threads int) error {
	const rowsPerChunk = 4096
	rows := len(rowPtr) - 1
	if rows < 0 || rowPtr[rows] != uint64(len(packed)) {
		return fmt.Errorf("%d words for %d row pointers", len(packed), len(rowPtr))
	}
	mask := uint32(1)<<dbits - 1
	k := (rows + rowsPerChunk - 1) / rowsPerChunk
	bad := make([]error, k)
	forChunks(threads, k, func(c int) {
		for r := c * rowsPerChunk; r < min(rows, (c+1)*rowsPerChunk); r++ {
			row := packed[rowPtr[r]:rowPtr[r+1]]
			for i, w := range row {
				switch {
				case w>>dbits >= n:
					bad[c] = fmt.Errorf("row %d, synapse %d: target %d of %d neurons", r, i, w>>dbits, n)
				case w&mask&^port > maxDelay:
					bad[c] = fmt.Errorf("row %d, synapse %d: a delay of %d steps, above the longest drawn (%d)", r, i, w&mask&^port, maxDelay)
				case i > 0 && row[i-1] > w:
					bad[c] = fmt.Errorf("row %d: not sorted at synapse %d", r, i)
				default:
					continue
				}
				return
			}
		}
	})
	for _, err := range bad {
		if err != nil {
			return err
		}
	}
	return nil
}

// deviceError wraps err, a device's failure in phase for projs: naming
// the projection where it reports one (a weight that is not finite).
func (b *builder) deviceError(projs []*spikingProj, phase string, err error) error {
	var nf *NonFiniteWeightError
	if errors.As(err, &nf) {
		for _, sp := range projs {
			if sp.gen.index == nf.Index {
				return fmt.Errorf("%s: on the device: %w", sp.where, err)
			}
		}
	}
	return fmt.Errorf("synapses on the device: %s: %w", phase, err)
}
