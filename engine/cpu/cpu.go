// Package cpu is Myelin's CPU backend: Go, with AVX2 kernels on amd64 for
// the built-in neuron models and the Poisson draws that compute the same
// bits as the Go loops (simd_amd64.s). Each step runs in two phases
// separated by one barrier: every thread updates its range of neurons
// (inputs, model step, threshold, state samples), then every thread delivers
// all of this step's spikes into the delay ring buffers of its own range of
// targets and goes straight on to the next step's update, which reads only
// ring words that it wrote itself. Rows of the CSR are sorted by target, so
// a thread finds its part of a row by binary search and no two threads ever
// write the same word: no atomics, and the fixed-point sums make the result
// independent of the thread count. The spike lists are double-buffered by
// step parity, so a thread that delivers step t never reads a list that
// another is filling for step t+1. A network too small to repay a barrier
// per step runs on one thread (see stepWork); one in between measures both
// over its first Advance calls and keeps the faster (see adaptive).
package cpu

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/hugepages"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/neuron"
	"github.com/myelin-sim/myelin/engine/synapse"
)

// Backend is the CPU backend.
type Backend struct {
	threads int // threads asked for
	// minParallel is the least estimated work of a step, in ns, that the
	// step loop splits across threads (tests set 0 to exercise the split);
	// minAdaptive is the least for which, below minParallel, Load prepares
	// both layouts and Advance measures them (see adaptive).
	minParallel, minAdaptive float64
	avx2                     bool // the eight-wide Philox and the models' AVX2 kernels run (amd64 with AVX2; tests turn them off)
	histCap                  int  // STDP: pending postsynaptic spikes per neuron (0: histCap; tests set less)
	perSynapseDelay          bool // deliver reads every synapse's slot offset, even where a run shares one (tests)
	bucketed                 bool // deliver sorts the events of rows with varying delays by slot (set at Load)
	bucketMin                int  // ring bytes from which it does (0: bucketMinRing; tests set less)
	bucketCap                int  // events a thread's buckets hold before a flush (bucketBudget; tests set less)
	chunkEvents              int  // events of a bucket's chunk (bucketChunkFor)
	net                      *network.Network
	step                     uint64

	ring    []int32               // 2 × RingSlots × N: excitatory slots, then inhibitory; then the slow port's RingSlots × N where the network uses it
	state   neuron.State          // V, A, B, C and refractory steps of every neuron
	spiking []neuron.SpikingModel // per population: its model's step (nil for rate populations)
	rate    []neuron.RateModel    // per population: its rate model (nil for spiking populations)
	rhist   []float32             // RateSlots × N, rate populations only

	// *layout is the partition the step loop runs on now (per-thread
	// ranges, row splits, spike lists, scratch, barrier).
	*layout
	adapt    adaptive
	targets  [][]target // per compact population: the populations its rows reach, with their weights
	rowDelay []uint32   // per population: the delay field all its stored synapses share, or network.NoPopDelay
	stp      stpState   // short-term plasticity state (empty without it)
	stdp     stdpState  // spike-timing-dependent plasticity state (empty without it)
	weight   []int32    // the stored weights: net.Syn.Weight, or this backend's copy of it with STDP
	plastic  []bool     // per population: its spikes are delivered by deliverPlastic (STP or STDP)
	scaleInv []float32  // per population: 2^-Shift
	poisson  [][]int    // per population: its Poisson inputs
	dc       [][]int    // per population: its DC inputs
	rateIn   [][]int    // per population: rate projections into it
	cache    []uint32   // Poisson draws of the current 4-step block, lane-major per input (see refreshPoisson)
	cacheOff []uint32   // per Poisson input: offset into cache
	key      [2]uint32
	// sampleBase holds, per probe, where the current block's rows start in
	// its Samples slice.
	sampleBase []int
	pindex     []poissonIndex

	// procFrom lists, per population, the indices into net.Procedural of
	// its procedural projections (nil without any); procGen[w][i] is
	// thread w's row generator of net.Procedural[i].
	procFrom [][]int
	procGen  [][]*network.RowGen
	// procBuf[w][t&1] holds the procedural rows that thread w generated
	// for its own spikes of step t, which every thread then delivers to
	// its targets (used with more than one thread; see genProcedural).
	procBuf    [][2]procBuf
	procBudget int // targets a thread's procBuf holds per step (procRowBudget; tests set less)
}

// layout is one partition of the step loop over threads. Everything in it
// lives only within a step (the spike lists of step t are filled in
// update(t) and read in deliver(t)) or within one call of run (the
// delivery buckets, which hold events for later ring slots, are emptied
// into the ring when run ends); the state that persists from step to step
// (ring, neuron state, Poisson draws, STP and STDP state, weights) is
// indexed by neuron or synapse, never by thread, so Advance may change the
// layout between calls.
type layout struct {
	used  int         // threads the step loop runs on
	parts [][2]uint32 // neuron range of each thread
	// split holds, for each presynaptic row, threads+1 offsets into the
	// row: thread w delivers synapses [split[r*(T+1)+w], split[r*(T+1)+w+1])
	// of row r, those whose targets lie in its neuron range.
	split    []uint32
	spikes   [2][][]uint32 // per step parity: the spikes of that step, per thread
	scratch  []scratch     // per thread
	slotBase [][]uint64    // per thread: ring offset of each delay this step
	// buckets holds, per thread, the pending events of synapses whose
	// delays vary within a row, by ring slot (the slow port's slots after
	// the others), when c.bucketed (see flushBuckets); slotKey[w][d] is the
	// bucket of delay field d this step, pending[w] the events held,
	// chunks[w] the thread's free chunks (of c.chunkEvents events), of
	// which it has allocated chunksMade[w].
	buckets    [][]bucket
	slotKey    [][]uint32
	pending    []int
	chunks     [][][]event
	chunksMade []int
	bucketPeak []int // per thread: the most events its buckets held at a flush
	bar        *barrier
}

// bucketMinRing is the size of the ring buffers (bytes) from which
// delivery sorts the events of rows with varying delays by ring slot
// before adding them (see flushBuckets): beyond the caches, adding each
// event where it falls costs a cache miss.
const bucketMinRing = 4 << 20

// parallelMinWork is the least work of a step, as stepWork estimates it,
// that the step loop splits across threads. On the development machine a
// step's barrier costs 0.3–1 µs when the machine is idle and much more when
// other processes compete for the cores, so a 4,000-neuron scalar step
// (about 10 µs) gains a third from a second thread on an idle machine and
// loses on a busy one, and a vector step of a few µs always loses
// (bench/RESULTS.md, "Per-step overhead").
const parallelMinWork = 10_000 // ns

// adaptiveMinWork is the least work of a step for which a backend with
// several threads measures both layouts (one thread, split) instead of
// staying on one thread: between it and parallelMinWork a second thread
// gains or loses depending on the machine and its load (a 4,000-neuron
// network's step is about 3 µs by stepWork).
const adaptiveMinWork = 2_000 // ns

// Costs per step for stepWork, in ns, measured on the development machine
// (2-core AMD EPYC VM): a spiking neuron in a vector kernel or a scalar loop,
// a neuron's Poisson input (its share of a Philox block and the CDF
// inversion), a rate neuron and each of its inputs, a synaptic event.
const (
	costVectorNeuron = 0.5
	costScalarNeuron = 3
	costPoisson      = 8
	costRateNeuron   = 5
	costRateInput    = 1
	costEvent        = 3
	// assumedRateHz is the firing rate stepWork assumes for the events.
	assumedRateHz = 10
)

// stepWork estimates the single-thread work of one step of net, in ns.
func (c *Backend) stepWork(net *network.Network) float64 {
	var w float64
	for _, p := range net.Pops {
		n := float64(p.Size)
		switch {
		case !p.Spiking():
			w += n*costRateNeuron + float64(p.Synapses)*costRateInput
		case c.avx2 && isVectorised(p.Coef) && !p.Slow:
			w += n * costVectorNeuron
		default:
			w += n * costScalarNeuron
		}
	}
	for _, p := range net.Poisson {
		w += float64(p.Count) * costPoisson
	}
	syn := net.SynapseCount() + net.ProceduralSynapses()
	return w + float64(syn)*assumedRateHz*net.Dt/1000*costEvent
}

// isVectorised reports whether a model's CPU step has an AVX2 kernel.
func isVectorised(coef neuron.Coefficients) bool {
	v, ok := coef.(neuron.Vectorised)
	return ok && v.VectorKernel()
}

// New returns a CPU backend using threads threads (0: all cores). A network
// whose steps are too short to share (stepWork below 2 µs) runs on one of
// them; one between 2 and 10 µs runs on one thread or all of them,
// whichever Advance measures to be faster over its first calls.
func New(threads int) *Backend {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	return &Backend{threads: threads, minParallel: parallelMinWork, minAdaptive: adaptiveMinWork, avx2: neuron.HasVector()}
}

// Name implements backend.Backend.
func (c *Backend) Name() string { return "cpu" }

// Threads implements backend.Backend.
func (c *Backend) Threads() int { return c.threads }

// Describe implements backend.Backend.
func (c *Backend) Describe() string {
	unit := "threads"
	if c.threads == 1 {
		unit = "thread"
	}
	if c.layout != nil && c.adapt.on {
		return fmt.Sprintf("cpu, %d %s, %s: a network of %d neurons (%s/%s)", c.threads, unit, c.adapt.describe(), c.net.N, runtime.GOOS, runtime.GOARCH)
	}
	if c.layout != nil && c.used != c.threads {
		return fmt.Sprintf("cpu, %d %s, %d used: a network of %d neurons (%s/%s)", c.threads, unit, c.used, c.net.N, runtime.GOOS, runtime.GOARCH)
	}
	return fmt.Sprintf("cpu, %d %s (%s/%s)", c.threads, unit, runtime.GOOS, runtime.GOARCH)
}

// Close implements backend.Backend.
func (c *Backend) Close() error { return nil }

// Load implements backend.Backend.
func (c *Backend) Load(net *network.Network) error {
	if net.Syn.Resident != nil {
		return fmt.Errorf("cpu: the network's synapses are in a device's memory (built on the device and kept there): run it on that device's backend, or build it without keeping them there")
	}
	c.net, c.layout = net, nil
	n := int(net.N)
	if uint64(net.RingSlots)*uint64(n) > 1<<34 {
		return fmt.Errorf("cpu: ring buffers of %d slots × %d neurons are too large", net.RingSlots, n)
	}
	if uint64(net.RateSlots)*uint64(n) > 1<<34 {
		return fmt.Errorf("cpu: rate history of %d slots × %d neurons is too large", net.RateSlots, n)
	}
	planes := 2
	if net.Syn.PortBit != 0 {
		planes = 3 // the slow excitatory port's slots follow the channels'
	}
	c.ring = make([]int32, planes*int(net.RingSlots)*n)
	bmin := c.bucketMin
	if bmin == 0 {
		bmin = bucketMinRing
	}
	c.bucketed = 4*len(c.ring) >= bmin
	if c.bucketCap <= 0 {
		c.bucketCap = bucketBudget
	}
	c.chunkEvents = bucketChunkFor(c.bucketCap, net.RingSlots, net.Syn.PortBit != 0)
	hugepages.Advise(c.ring)
	c.state = neuron.State{V: make([]float32, n), A: make([]float32, n), B: make([]float32, n), Ref: make([]int32, n)}
	c.spiking = make([]neuron.SpikingModel, len(net.Pops))
	c.rate = make([]neuron.RateModel, len(net.Pops))
	for i := range net.Pops {
		p := &net.Pops[i]
		var ok bool
		switch p.Model.Kind {
		case neuron.Spiking:
			c.spiking[i], ok = p.Coef.(neuron.SpikingModel)
		case neuron.RateNeurons:
			c.rate[i], ok = p.Coef.(neuron.RateModel)
		}
		if !ok {
			return fmt.Errorf("cpu: population %q: model %s (%T) has no CPU step", p.Name, p.Model, p.Coef)
		}
		if (len(p.Model.State) > 3 || p.Slow) && c.state.C == nil {
			c.state.C = make([]float32, n)
		}
	}
	if net.RateSlots > 0 {
		c.rhist = make([]float32, int(net.RateSlots)*n)
	}
	c.scaleInv = make([]float32, len(net.Pops))
	c.poisson = make([][]int, len(net.Pops))
	c.dc = make([][]int, len(net.Pops))
	c.rateIn = make([][]int, len(net.Pops))
	for i, p := range net.Pops {
		c.scaleInv[i] = float32(1 / float64(uint64(1)<<uint(max(0, p.Shift))))
		if p.Shift < 0 {
			c.scaleInv[i] = float32(uint64(1) << uint(-p.Shift))
		}
		if p.Spiking() {
			copy(c.state.V[p.First:], p.Init)
		} else {
			copy(c.rhist[p.First:], p.Init) // slot 0 holds the rates of step 0
		}
	}
	// Inputs with the same random stream and neurons (the segments of one
	// rate schedule, whose windows are disjoint) draw the same numbers and
	// share one cache.
	type stream struct{ purpose, first, count uint32 }
	shared := map[stream]uint32{}
	for i, p := range net.Poisson {
		c.poisson[p.Pop] = append(c.poisson[p.Pop], i)
		key := stream{p.Purpose, p.First, p.Count}
		if off, ok := shared[key]; ok {
			c.cacheOff = append(c.cacheOff, off)
			c.pindex = append(c.pindex, newPoissonIndex(p.Base, net.PoissonTable[p.TableOff:p.TableOff+p.TableLen]))
			continue
		}
		if uint64(len(c.cache))+poissonLanes*uint64(p.Count) > 1<<32 {
			return fmt.Errorf("cpu: Poisson inputs of more than 2^30 neurons in all")
		}
		shared[key] = uint32(len(c.cache))
		c.cacheOff = append(c.cacheOff, uint32(len(c.cache)))
		c.cache = append(c.cache, make([]uint32, poissonLanes*int(p.Count))...)
		c.pindex = append(c.pindex, newPoissonIndex(p.Base, net.PoissonTable[p.TableOff:p.TableOff+p.TableLen]))
	}
	for i, d := range net.DC {
		c.dc[d.Pop] = append(c.dc[d.Pop], i)
	}
	for i, r := range net.RateProj {
		c.rateIn[r.Post] = append(c.rateIn[r.Post], i)
	}
	c.key = [2]uint32{uint32(net.Seed), uint32(net.Seed >> 32)}
	t := c.threads
	work := c.stepWork(net)
	adapt := t > 1 && work < c.minParallel && work >= c.minAdaptive && net.N > 1
	if work < c.minParallel && !adapt {
		t = 1
	}
	if uint32(t) > net.N {
		t = max(1, int(net.N))
	}
	c.adapt = adaptive{alternate: c.adapt.alternate}
	c.layout = c.newLayout(t)
	if adapt {
		c.adapt.on = true
		c.adapt.lays = [2]*layout{c.newLayout(1), c.layout}
	}
	c.sampleBase = make([]int, len(net.Probes))
	c.targets = compactTargets(net)
	c.rowDelay = make([]uint32, len(net.Pops))
	for p := range c.rowDelay {
		c.rowDelay[p] = network.NoPopDelay
		if len(net.Syn.RowDelay) == len(net.Pops) && !c.perSynapseDelay {
			c.rowDelay[p] = net.Syn.RowDelay[p]
		}
	}
	if c.perSynapseDelay {
		for _, segs := range c.targets {
			for k := range segs {
				segs[k].d = network.NoPopDelay
			}
		}
	}
	c.stp = newSTPState(net)
	c.weight = net.Syn.Weight
	if len(net.STDP) > 0 {
		var err error
		hc := histCap
		if c.histCap > 0 {
			hc = c.histCap
		}
		if c.stdp, err = newSTDPState(net, hc, t); err != nil {
			return fmt.Errorf("cpu: %w", err)
		}
		// The network's weights stay as built; the copy is read in
		// scattered order (potentiation walks a neuron's incoming
		// synapses across every row): huge pages save TLB misses.
		c.weight = make([]int32, len(net.Syn.Weight))
		hugepages.Advise(c.weight)
		copy(c.weight, net.Syn.Weight)
	}
	c.plastic = make([]bool, len(net.Pops))
	for i := range net.Pops {
		c.plastic[i] = len(c.stp.byPop[i]) > 0 || (len(net.STDP) > 0 && len(c.stdp.asPre[i]) > 0)
	}
	c.loadProcedural(t)
	return nil
}

// newLayout partitions the step loop of c.net over t threads.
func (c *Backend) newLayout(t int) *layout {
	net := c.net
	l := &layout{used: t, parts: make([][2]uint32, t), bar: newBarrier(t)}
	for w := range l.parts {
		l.parts[w] = [2]uint32{uint32(uint64(net.N) * uint64(w) / uint64(t)), uint32(uint64(net.N) * uint64(w+1) / uint64(t))}
	}
	l.spikes = [2][][]uint32{make([][]uint32, t), make([][]uint32, t)}
	l.split = splitRows(net, l.parts)
	l.scratch = make([]scratch, t)
	l.slotBase = make([][]uint64, t)
	for w := range l.slotBase {
		// Indexed by a packed word's whole delay field: with a slow port,
		// its bit selects entries from PortBit on.
		l.slotBase[w] = make([]uint64, max(net.RingSlots, 2*net.Syn.PortBit))
	}
	if c.bucketed {
		keys := net.RingSlots
		if net.Syn.PortBit != 0 {
			keys *= 2
		}
		l.buckets, l.slotKey, l.pending, l.chunks, l.chunksMade, l.bucketPeak = make([][]bucket, t), make([][]uint32, t), make([]int, t), make([][][]event, t), make([]int, t), make([]int, t)
		for w := range l.buckets {
			l.buckets[w] = make([]bucket, keys)
			l.slotKey[w] = make([]uint32, len(l.slotBase[w]))
		}
	}
	for w := range l.scratch {
		n := l.parts[w][1] - l.parts[w][0]
		l.scratch[w] = scratch{qe: make([]int64, n), qi: make([]int64, n), exIn: make([]float32, n), inIn: make([]float32, n), dc: make([]float32, n), zero: make([]float32, n), counts: make([]uint32, n), mask: make([]uint8, (n+7)/8), zero32: make([]int32, n)}
		for _, p := range net.Pops {
			if p.Slow {
				l.scratch[w].qs, l.scratch[w].slowIn = make([]int64, n), make([]float32, n)
				break
			}
		}
	}
	return l
}

// splitRows finds, once, where each row's targets cross into the next
// thread's range (rows are sorted by target).
func splitRows(net *network.Network, parts [][2]uint32) []uint32 {
	t := len(parts)
	split := make([]uint32, uint64(net.N)*uint64(t+1))
	syn := &net.Syn
	var wg sync.WaitGroup
	for w := 0; w < t; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for r := parts[w][0]; r < parts[w][1]; r++ {
				row := syn.Packed[syn.RowPtr[r]:syn.RowPtr[r+1]]
				off := split[uint64(r)*uint64(t+1):]
				for k := 0; k < t; k++ {
					off[k] = uint32(network.SearchTarget(row, syn.DelayBits, parts[k][0]))
				}
				off[t] = uint32(len(row))
			}
		}(w)
	}
	wg.Wait()
	return split
}

// Advance implements backend.Backend. A backend that measures its layouts
// (see adaptive) picks one for these n steps and times them.
func (c *Backend) Advance(n int, blk *backend.Block) error {
	if c.layout == nil {
		return fmt.Errorf("cpu: Advance before a successful Load")
	}
	if !c.adapt.measuring() {
		return c.advanceSteps(n, blk)
	}
	i := c.adapt.next()
	c.layout = c.adapt.lays[i]
	start := time.Now()
	err := c.advanceSteps(n, blk)
	c.adapt.record(i, time.Since(start), n)
	c.layout = c.adapt.lays[c.adapt.cur]
	return err
}

// advanceSteps runs the next n steps on the current layout.
func (c *Backend) advanceSteps(n int, blk *backend.Block) error {
	if len(c.net.STDP) == 0 {
		return c.advance(n, blk)
	}
	// STDP: the learning rate changes only between calls of advance, at
	// the phases' boundaries, while no thread runs.
	if c.step+uint64(n) > synapse.MaxSTDPSteps {
		return fmt.Errorf("cpu: steps [%d, %d): a run with STDP has at most %d steps", c.step, c.step+uint64(n), uint64(synapse.MaxSTDPSteps))
	}
	for n > 0 {
		if err := c.SetLearningRate(c.net.LearningRate(c.step)); err != nil {
			return fmt.Errorf("cpu: %w", err)
		}
		m := n
		if next := c.net.NextPhaseChange(c.step); next > c.step && next-c.step < uint64(m) {
			m = int(next - c.step)
		}
		if err := c.advance(m, blk); err != nil {
			return err
		}
		n -= m
	}
	return nil
}

// advance runs the next n steps with the current learning rate.
func (c *Backend) advance(n int, blk *backend.Block) error {
	if blk != nil {
		c.growSamples(n, blk)
	}
	if c.used == 1 {
		c.run(0, n, blk)
		c.step += uint64(n)
		return c.checkFinite(n)
	}
	var wg sync.WaitGroup
	for w := 1; w < c.used; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c.run(w, n, blk)
		}(w)
	}
	c.run(0, n, blk)
	wg.Wait()
	c.step += uint64(n)
	return c.checkFinite(n)
}

// checkFinite reports the first population whose state (V of spiking
// neurons, r of rate neurons) is infinite or NaN after the n steps just
// run: such a run is meaningless from then on, so it stops with an error
// naming the population, the neuron and the steps, instead of ending
// COMPLETE. It costs one pass over N values per block of steps.
func (c *Backend) checkFinite(n int) error {
	net := c.net
	var cur []float32
	if net.RateSlots > 0 {
		slot := int(c.step%uint64(net.RateSlots)) * int(net.N)
		cur = c.rhist[slot : slot+int(net.N)]
	}
	for i := range net.Pops {
		p := &net.Pops[i]
		x, name := c.state.V, "V_m"
		if !p.Spiking() {
			x, name = cur, "r"
		}
		for g := p.First; g < p.First+p.Size; g++ {
			if v := x[g]; v != v || math.IsInf(float64(v), 0) {
				return fmt.Errorf("population %q: %s of neuron %d is %v after steps [%d, %d): the model's state left the float32 range (weights, inputs or gains too large)",
					p.Name, name, g-p.First, v, c.step-uint64(n), c.step)
			}
		}
	}
	return nil
}

// growSamples makes room, once per block, for the sampled rows of the next
// n steps of every probe; each thread then writes its own neurons' columns.
func (c *Backend) growSamples(n int, blk *backend.Block) {
	for i, p := range c.net.Probes {
		rows := backend.SampledSteps(c.step, n, p.Every)
		c.sampleBase[i] = len(blk.Samples[i])
		blk.Samples[i] = slices.Grow(blk.Samples[i], rows*int(p.Count))[:c.sampleBase[i]+rows*int(p.Count)]
	}
}

// run is one thread's loop over n steps; thread 0 also records the spikes
// into blk, and every thread writes the samples of its own neurons.
func (c *Backend) run(w, n int, blk *backend.Block) {
	lo, hi := c.parts[w][0], c.parts[w][1]
	step := c.step
	events := c.net.Events
	ev := eventStart(events, step)
	sample := blk != nil && len(c.net.Probes) > 0
	for s := 0; s < n; s++ {
		t := step + uint64(s)
		evEnd := ev
		for evEnd < len(events) && events[evEnd].Step == t {
			evEnd++
		}
		out := &c.spikes[t&1][w]
		*out = c.update(w, t, lo, hi, events[ev:evEnd], (*out)[:0])
		if len(c.procFrom) > 0 && c.used > 1 {
			c.genProcedural(w, t, *out)
		}
		ev = evEnd
		if sample {
			c.sample(t, lo, hi, blk)
		}
		c.bar.wait()
		c.deliver(w, t)
		if w == 0 && blk != nil {
			c.recordSpikes(t, blk)
		}
	}
	if c.bucketed {
		// The layout may change before the next run: no event waits.
		c.flushBuckets(w, -1)
	}
}

// eventStart returns the index of the first event at or after step.
func eventStart(ev []network.SpikeEvent, step uint64) int {
	lo, hi := 0, len(ev)
	for lo < hi {
		m := (lo + hi) / 2
		if ev[m].Step < step {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// recordSpikes appends step t's spikes to blk.
func (c *Backend) recordSpikes(t uint64, blk *backend.Block) {
	var cnt uint32
	for _, s := range c.spikes[t&1] {
		blk.IDs = append(blk.IDs, s...)
		cnt += uint32(len(s))
	}
	blk.Counts = append(blk.Counts, cnt)
}

// sample writes the step-t state samples of neurons [lo, hi) into the rows
// that growSamples made: V (absolute) of spiking neurons, the new rate of
// rate neurons.
func (c *Backend) sample(t uint64, lo, hi uint32, blk *backend.Block) {
	for i, p := range c.net.Probes {
		if t%uint64(p.Every) != 0 {
			continue
		}
		pop := &c.net.Pops[p.Pop]
		g0 := pop.First + p.First
		a, b := max(lo, g0), min(hi, g0+p.Count)
		if a >= b {
			continue
		}
		row := c.sampleBase[i] + backend.SampledSteps(c.step, int(t-c.step), p.Every)*int(p.Count)
		dst := blk.Samples[i][row+int(a-g0) : row+int(b-g0)]
		if pop.Spiking() {
			for k, v := range c.state.V[a:b] {
				dst[k] = v + pop.EL
			}
		} else {
			slot := (t + 1) % uint64(c.net.RateSlots) * uint64(c.net.N)
			copy(dst, c.rhist[slot+uint64(a):slot+uint64(b)])
		}
	}
}

// barrier is a reusable barrier for the threads of one Advance. A thread
// that arrives early spins, yielding to other goroutines (the stream
// encoder) as it does, for up to spinFor; only then does it sleep on a
// condition variable. Spinning keeps the per-step cost low on an idle
// machine; the sleep keeps a machine that is busy with other processes from
// losing whole time slices to spinning.
type barrier struct {
	n        int32
	count    atomic.Int32
	gen      atomic.Uint32
	sleepers atomic.Int32 // threads asleep on cond (or about to be)
	mu       sync.Mutex
	cond     sync.Cond
}

// spinFor is how long an early thread spins before it sleeps.
const spinFor = 200 * time.Microsecond

func newBarrier(n int) *barrier {
	b := &barrier{n: int32(n)}
	b.cond.L = &b.mu
	return b
}

// wait returns once all n threads have called it. The last thread to
// arrive takes the lock only when some thread went to sleep: a sleeper
// counts itself before it checks the generation, and the last arrival
// advances the generation before it reads the count, so (the atomics being
// sequentially consistent) either the sleeper sees the new generation or the
// last arrival sees the sleeper.
func (b *barrier) wait() {
	if b.n == 1 {
		return
	}
	g := b.gen.Load()
	if b.count.Add(1) == b.n {
		b.count.Store(0)
		b.gen.Add(1)
		if b.sleepers.Load() > 0 {
			b.mu.Lock()
			b.cond.Broadcast()
			b.mu.Unlock()
		}
		return
	}
	var start time.Time
	for i := 1; ; i++ {
		if b.gen.Load() != g {
			return
		}
		if i%64 == 0 {
			runtime.Gosched()
			if start.IsZero() {
				start = time.Now()
			} else if time.Since(start) > spinFor {
				break
			}
		}
	}
	b.mu.Lock()
	b.sleepers.Add(1)
	for b.gen.Load() == g {
		b.cond.Wait()
	}
	b.sleepers.Add(-1)
	b.mu.Unlock()
}

// Compile-time check.
var _ backend.Backend = (*Backend)(nil)
