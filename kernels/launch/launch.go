// Package launch is the launch sequence of Myelin's kernels, shared by the
// CUDA backend (package cuda) and its host emulation (kernels/hostemu), so
// that the emulation checks the same orchestration that runs on the GPU.
//
// A Plan turns a built network (engine/network) into
//   - the device buffers and their initial contents, byte for byte in the
//     layout of kernels/network.cuh (Buffers, NetDescriptor);
//   - the kernel launches of a recording chunk of m steps (Chunk): the same
//     list for every chunk, because the kernels read the chunk's first step
//     from a device counter (so the CUDA backend captures it in one graph);
//   - the conversion of a chunk's spike and sample buffers into a
//     backend.Block (Fill). The kernels hand over each step's spikes in
//     ascending id order (kernels/order.cu), so Fill only checks them.
//
// Every kernel takes the device address of a MyelinNet and two uint32
// arguments: func(net *MyelinNet, s, a uint32).
package launch

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
	"sync/atomic"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/network"
)

// Modules lists the PTX modules that hold the kernels, sorted.
func Modules() []string {
	var ms []string
	for _, k := range Kernels() {
		if !slices.Contains(ms, k.Module()) {
			ms = append(ms, k.Module())
		}
	}
	slices.Sort(ms)
	return ms
}

// Config chooses launch geometry and buffer sizes. None of it changes the
// result: spikes and samples are the same for every configuration.
type Config struct {
	// Block is the number of threads per block of every kernel (and the
	// synapses per deliver work item). Default 256.
	Block int
	// DeliverBlocks is the grid of myelin_deliver, which loops over its
	// work. Default 1024.
	DeliverBlocks int
	// RecordBytes bounds one record set's spike-id and sample buffers; it
	// fixes ChunkSteps (each step may hold N spike ids). Default 64 MiB.
	RecordBytes int64
	// MaxChunkSteps bounds ChunkSteps (default: the network's BlockSteps).
	MaxChunkSteps int
	// Unfused keeps each step's update and the previous step's delivery in
	// launches of their own even where they could share one (Step), for
	// comparisons.
	Unfused bool
	// Persistent chooses whether a chunk's steps run in one cooperative
	// launch (myelin_persistent, grid-wide barriers between its phases)
	// rather than one or two launches per step; see PersistentMode.
	Persistent PersistentMode
	// PersistentBlocks is the grid of the persistent launch: blocks that
	// the device keeps resident at once (the backend sets it, e.g. one per
	// SM; 0: no persistent launch).
	PersistentBlocks int
	// Segments chooses how delivery splits a step's spikes among its
	// blocks (every launch that delivers: myelin_deliver, the fused
	// myelin_step and myelin_persistent); see SegmentsMode.
	Segments SegmentsMode
	// PTileTargets is the targets of a tile of SegmentsTiled (default:
	// the network's neurons over a quarter of DeliverBlocks, rounded up;
	// at most what PTileShared holds for the network's delays).
	PTileTargets int
	// PTileShared is the most shared memory, in bytes, a block of
	// SegmentsTiled takes for its tile's sums (default
	// DefaultPTileShared, at most MaxPTileShared): one int per target,
	// delay and channel. Above 48 KiB the device must let a block opt in
	// to it (the CUDA backend asks, and says so where it cannot).
	PTileShared int
	// PTileSplit is the blocks that share a tile of SegmentsTiled, each
	// taking a part of the step's spikes (default 1): wide tiles, a short
	// index and still a block per SM or more. With more than one the
	// blocks add their sums to the rings with atomic adds.
	PTileSplit int
	// PTileBlock is the threads of a block of myelin_deliver_tiled
	// (SegmentsTiled; default 1024, the most). Each thread walks its
	// spikes' index, row and sums one dependent load after another, so
	// resident threads are what hides the latency: the default tiles, a
	// quarter of DeliverBlocks (2 per SM at the CUDA backend's 8 blocks
	// per SM), then fill an SM's 2,048 threads (H100, H200), whose 228 KiB
	// of shared memory would hold 4 blocks' 48 KiB.
	PTileBlock int
	// ProceduralScratch bounds the device memory of the threads that
	// regenerate procedural rows (kernels/procedural.cuh): each owns a
	// scratch slot of Floyd's hash set and the row's targets, so fewer
	// threads generate at once when the out-degree is large. Default
	// DefaultProceduralScratch; the CUDA backend sets ProceduralScratchFor
	// its device where it is 0 or less.
	ProceduralScratch int64
}

// SegmentsMode is Config.Segments: how kernels/deliver.cuh
// (myelin_deliver_work) splits a step's deliveries into block work.
type SegmentsMode int

// The segmentations. All give the same result; they differ in cost.
const (
	// SegmentsAuto (the default) is SegmentsPerSpike for a network whose
	// longest row is at least SkewedRows times its mean row (over the
	// neurons with synapses), SegmentsGlobal otherwise. Plan.Config
	// reports the choice.
	SegmentsAuto SegmentsMode = iota
	// SegmentsGlobal cuts every spike's row into
	// Plan.Segs segments of Block synapses, Segs fixed by the longest row
	// of the whole network: a step of c spikes is c × Segs work items,
	// however short most rows are.
	SegmentsGlobal
	// SegmentsPerSpike gives each spike to one block, whose threads walk
	// its row in a Block-stride loop: a spike costs its own row, and no
	// work depends on the longest row.
	SegmentsPerSpike
	// SegmentsTiled gives each block a tile of targets (Config.PTileTargets
	// of them): its threads take the step's spikes and add the synapses
	// that reach the tile into shared memory, which the block then adds to
	// the rings, one store per target, delay and channel with a non-zero
	// sum, instead of one atomic per synapse (myelin_deliver_tiled). Each
	// row holds an index of where every tile's synapses start (2 bytes per
	// row and tile, BufPTileOff). Never chosen by SegmentsAuto (not yet
	// measured on a GPU); where a network cannot be delivered so (see
	// Plan.TiledReason) the plan falls back to SegmentsGlobal, and
	// Plan.Config reports what it chose.
	SegmentsTiled
)

// DefaultPTileShared is the default of Config.PTileShared: 48 KiB, the
// most shared memory a block takes on any GPU without opting in to more.
const DefaultPTileShared = 48 << 10

// MaxPTileShared bounds Config.PTileShared: 227 KiB, the most a block of
// an H100 or H200 may opt in to (MYELIN_PTILE_MAX_INTS ints in
// kernels/network.cuh).
const MaxPTileShared = 227 << 10

// SkewedRows is the ratio of the longest row to the mean row from which
// SegmentsAuto delivers per spike. Measured on an H100 (cuda.
// BenchmarkDeliverSegments, bench/RESULTS.md): the global segmentation
// was faster for brunel 12,500 (6.1 against 7.7 µs per step; longest row
// about 1.1 times the mean) and the microcircuit at scale 0.1 (11.5
// against 21.9 µs), per spike for a hub row 100 times the others (6.7
// against 8.7 µs).
const SkewedRows = 16

// ParseSegments returns the mode String names: "auto", "global",
// "per-spike" or "tiled".
func ParseSegments(name string) (SegmentsMode, error) {
	for m := SegmentsAuto; m <= SegmentsTiled; m++ {
		if m.String() == name {
			return m, nil
		}
	}
	return 0, fmt.Errorf("delivery %q: want auto, global, per-spike or tiled", name)
}

// String returns "auto", "global", "per-spike" or "tiled".
func (m SegmentsMode) String() string {
	switch m {
	case SegmentsAuto:
		return "auto"
	case SegmentsGlobal:
		return "global"
	case SegmentsPerSpike:
		return "per-spike"
	case SegmentsTiled:
		return "tiled"
	}
	return fmt.Sprintf("SegmentsMode(%d)", int(m))
}

// PersistentMode is Config.Persistent.
type PersistentMode int

// The persistent modes. Only networks of spiking populations alone (no
// rate population, no procedural projection) can run persistent, and only with PersistentBlocks > 0;
// any other network runs launch by launch whatever the mode.
const (
	// PersistentAuto runs persistent the networks of at most
	// PersistentMaxN neurons: none at present (PersistentMaxN is 0).
	PersistentAuto PersistentMode = iota
	// PersistentOn runs persistent every network that can.
	PersistentOn
	// PersistentOff never runs persistent.
	PersistentOff
)

// PersistentMaxN is the largest network that PersistentAuto runs in one
// persistent launch per chunk: none. Measured on an H100
// (cuda.BenchmarkPersistent, bench/RESULTS.md), the persistent launch was
// slower than the graph of per-step launches for cuba, coba and brunel at
// 1,000 and 4,000 neurons, on grids of 132 and of 16 blocks (brunel 1,000:
// 6.7–6.9 against 5.1 µs per step; cuba 1,000: 6.8–7.3 against 6.0): two
// grid-wide barriers cost more than the graph's launches. PersistentOn
// still runs it.
const PersistentMaxN = 0

// String returns "auto", "on" or "off".
func (m PersistentMode) String() string {
	switch m {
	case PersistentAuto:
		return "auto"
	case PersistentOn:
		return "on"
	case PersistentOff:
		return "off"
	}
	return fmt.Sprintf("PersistentMode(%d)", int(m))
}

func (c Config) withDefaults(net *network.Network) Config {
	if c.Block <= 0 {
		c.Block = 256
	}
	if c.DeliverBlocks <= 0 {
		c.DeliverBlocks = 1024
	}
	if c.PTileBlock <= 0 {
		c.PTileBlock = 1024
	}
	if c.PTileShared <= 0 {
		c.PTileShared = DefaultPTileShared
	}
	if c.PTileSplit <= 0 {
		c.PTileSplit = 1
	}
	if c.RecordBytes <= 0 {
		c.RecordBytes = 64 << 20
	}
	if c.MaxChunkSteps <= 0 {
		c.MaxChunkSteps = int(max(1, net.BlockSteps))
	}
	if c.ProceduralScratch <= 0 {
		c.ProceduralScratch = DefaultProceduralScratch
	}
	return c
}

// Plan is the device layout and launch sequence of one network.
type Plan struct {
	net *network.Network
	cfg Config

	// ChunkSteps is the most steps one chunk (one graph launch) runs: its
	// spike buffer holds ChunkSteps × N ids, so it never overflows.
	ChunkSteps int
	// SampleWidth is the number of state values sampled per step (the sum
	// of the probes' counts).
	SampleWidth int

	bufs       []BufferSpec
	probeOut   []uint32
	segs       uint32
	stdpSegs   uint32 // myelin_stdp_post's segments per spike (stdpSegments)
	words      uint32 // words of a step's spike bitmask: ceil(N / 32)
	tiles      uint32 // tiles of OrderTile words in a bitmask
	eventGrid  uint32
	spikingPop []uint32
	ratePop    []uint32
	// fused: each step's update and the previous step's delivery share a
	// launch (Step), because every delay is at least 2 steps (see
	// kernels/update.cu, myelin_step).
	fused bool
	// persistent: each chunk's steps run in one cooperative launch
	// (Persistent) of PersistentBlocks blocks.
	persistent bool
	updateGrid uint32 // blocks of the merged update launch: all spiking populations
	rateGrid   uint32 // blocks of the merged rate update launch: all rate populations
	// popBounds are MyelinNet's pop_first, pop_ublock0 and pop_rblock0:
	// the first id and blocks of the first PopFast populations, MaxUint32
	// past the last.
	popBounds [3][PopFast]uint32
	chunks    map[int][]Launch
	// The procedural projections (layoutProcedural): their ProcDescs and
	// delay tables, the generating threads' scratch slots and the shortest
	// delay they may draw.
	procDescs     []byte
	procThr       []uint32
	procSlots     uint32
	procSlotWords uint32
	procMinDelay  uint32
	// Delivery by target tiles (SegmentsTiled, layoutTiles): where each
	// tile starts in each row, the tiles' width and count, the delays and
	// channels of their sums; tiledReason says why a network asked to be
	// delivered so is not ("" where it is or was not asked).
	ptileOff                                    []uint16
	ptileW, nPTiles, ptileD0, ptileND, ptileNCh uint32
	tiledReason                                 string
}

// New lays out net for the kernels.
func New(net *network.Network, cfg Config) (*Plan, error) {
	if net == nil || net.N == 0 {
		return nil, fmt.Errorf("launch: empty network")
	}
	cfg = cfg.withDefaults(net)
	if cfg.Block > 1024 {
		return nil, fmt.Errorf("launch: block of %d threads, at most 1024", cfg.Block)
	}
	if cfg.Persistent < PersistentAuto || cfg.Persistent > PersistentOff {
		return nil, fmt.Errorf("launch: Config.Persistent is %v, want auto, on or off", cfg.Persistent)
	}
	if cfg.Segments < SegmentsAuto || cfg.Segments > SegmentsTiled {
		return nil, fmt.Errorf("launch: Config.Segments is %v, want auto, global, per-spike or tiled", cfg.Segments)
	}
	if cfg.PTileShared > MaxPTileShared {
		return nil, fmt.Errorf("launch: Config.PTileShared is %d bytes, at most %d", cfg.PTileShared, MaxPTileShared)
	}
	if cfg.PTileSplit > 1<<16 {
		return nil, fmt.Errorf("launch: Config.PTileSplit is %d blocks a tile, at most 65,536", cfg.PTileSplit)
	}
	if cfg.PTileBlock > 1024 {
		return nil, fmt.Errorf("launch: Config.PTileBlock is %d threads, at most 1024", cfg.PTileBlock)
	}
	if cfg.PTileTargets < 0 {
		return nil, fmt.Errorf("launch: Config.PTileTargets is %d, want 0 (default) or more", cfg.PTileTargets)
	}
	if cfg.PersistentBlocks < 0 || cfg.PersistentBlocks >= 1<<31 {
		return nil, fmt.Errorf("launch: Config.PersistentBlocks is %d, want 0 to 2^31-1", cfg.PersistentBlocks)
	}
	p := &Plan{net: net, cfg: cfg, chunks: map[int][]Launch{}}
	for _, pr := range net.Probes {
		p.probeOut = append(p.probeOut, uint32(p.SampleWidth))
		p.SampleWidth += int(pr.Count)
	}
	p.words = (net.N + 31) / 32
	p.tiles = (p.words + OrderTile - 1) / OrderTile
	perStep := 4*int64(net.N) + 4*int64(p.SampleWidth) + 8 + 4*int64(p.words) + 4*int64(p.tiles)
	p.ChunkSteps = int(min(int64(cfg.MaxChunkSteps), max(1, cfg.RecordBytes/perStep)))
	if int64(p.ChunkSteps)*int64(net.N) >= 1<<32 || int64(p.ChunkSteps)*int64(p.SampleWidth) >= 1<<40 {
		return nil, fmt.Errorf("launch: a chunk of %d steps × %d neurons overflows the 32-bit spike offsets", p.ChunkSteps, net.N)
	}
	var maxRow, rows uint64
	for i := uint32(0); i < net.N; i++ {
		r := net.Syn.RowPtr[i+1] - net.Syn.RowPtr[i]
		maxRow = max(maxRow, r)
		if r > 0 {
			rows++
		}
	}
	if cfg.Segments == SegmentsAuto {
		cfg.Segments = SegmentsGlobal
		if skewed(maxRow, rows, net.Syn.RowPtr[net.N]-net.Syn.RowPtr[0]) {
			cfg.Segments = SegmentsPerSpike
		}
		p.cfg.Segments = cfg.Segments
	}
	segs := (maxRow + uint64(cfg.Block) - 1) / uint64(cfg.Block)
	if segs >= 1<<32 || uint64(net.N) >= 1<<31 {
		return nil, fmt.Errorf("launch: a row of %d synapses is too long", maxRow)
	}
	if cfg.Segments == SegmentsTiled {
		if p.tiledReason = p.layoutTiles(maxRow); p.tiledReason != "" {
			cfg.Segments = SegmentsGlobal
			p.cfg.Segments = cfg.Segments
		}
	}
	if cfg.Segments == SegmentsGlobal {
		p.segs = uint32(segs)
	} // per spike: segs 0 tells myelin_deliver_work to walk each spike's own row
	maxEv := 0
	for i := 0; i < len(net.Events); {
		j := i
		for j < len(net.Events) && net.Events[j].Step == net.Events[i].Step {
			j++
		}
		maxEv = max(maxEv, j-i)
		i = j
	}
	p.eventGrid = uint32(min(1024, max(1, (maxEv+cfg.Block-1)/cfg.Block)))
	for i := range net.Pops {
		if net.Pops[i].Spiking() {
			p.spikingPop = append(p.spikingPop, uint32(i))
		} else {
			p.ratePop = append(p.ratePop, uint32(i))
		}
	}
	// STDP is never fused: a step's delivery changes weights and reads
	// postsynaptic traces that the next step's update changes.
	if err := p.layoutProcedural(); err != nil {
		return nil, err
	}
	// Tiled delivery is a launch of its own (the fused and persistent
	// kernels deliver with myelin_deliver_work).
	tiled := cfg.Segments == SegmentsTiled
	p.fused = !cfg.Unfused && !tiled && len(p.spikingPop) > 0 && len(net.STDP) == 0 && minDelayAtLeast(&net.Syn, 2) && p.procMinDelay >= 2
	if err := p.layout(); err != nil {
		return nil, err
	}
	// Procedural rows are delivered by a launch of their own: a network
	// with them runs launch by launch.
	p.persistent = !tiled && len(p.spikingPop) > 0 && len(p.ratePop) == 0 && len(net.Procedural) == 0 && cfg.PersistentBlocks > 0 &&
		(cfg.Persistent == PersistentOn || cfg.Persistent == PersistentAuto && net.N <= PersistentMaxN)
	if p.persistent && p.updateGrid >= persistSTDP {
		p.persistent = false // the flag bits of the launch's argument would clash
	}
	p.stdpSegs = stdpSegments(net, cfg)
	return p, nil
}

// Config returns the configuration with its defaults filled in.
func (p *Plan) Config() Config { return p.cfg }

// Network returns the planned network.
func (p *Plan) Network() *network.Network { return p.net }

// Buffers returns every buffer: the shared ones once, the record-set ones
// (Buffer.Record) once for each of the RecordSets sets.
func (p *Plan) Buffers() []BufferSpec { return p.bufs }

// DeviceBytes is the device memory a backend allocates for the plan: every
// buffer, RecordSets record sets and their MyelinNet descriptors.
func (p *Plan) DeviceBytes() int64 {
	var n int64
	for _, b := range p.bufs {
		n += b.Bytes
		if b.Buffer.Record() {
			n += int64(RecordSets-1) * b.Bytes
		}
	}
	return n + RecordSets*NetSize
}

// ResidentBytes is the part of DeviceBytes already in the device's memory
// (BufferSpec.Resident): the synapse arrays of a network built there.
func (p *Plan) ResidentBytes() int64 {
	var n int64
	for _, b := range p.bufs {
		if b.Resident {
			n += b.Bytes
		}
	}
	return n
}

// MemoryByClass sums the device bytes by class (state, synapses, rings,
// inputs, rate, record, descriptors), in that order, for error messages and
// memory reports.
func (p *Plan) MemoryByClass() []ClassBytes {
	order := []string{"state", "synapses", "rings", "inputs", "rate", "record"}
	sum := map[string]int64{}
	for _, b := range p.bufs {
		n := b.Bytes
		if b.Buffer.Record() {
			n *= RecordSets
		}
		sum[b.Class] += n
	}
	var out []ClassBytes
	for _, c := range order {
		out = append(out, ClassBytes{c, sum[c]})
	}
	return append(out, ClassBytes{"descriptors", RecordSets * NetSize})
}

// ClassBytes is one line of MemoryByClass.
type ClassBytes struct {
	Class string
	Bytes int64
}

// HostRecordBytes is the pinned host memory of one record set's copies:
// spike counts, spike ids and samples of ChunkSteps steps.
func (p *Plan) HostRecordBytes() int64 {
	k := int64(p.ChunkSteps)
	return 4*k + 4*k*int64(p.net.N) + 4*k*int64(p.SampleWidth)
}

// Chunk returns the launches of a chunk of m steps (1 <= m <= ChunkSteps),
// starting at the device's step counter, which the last launch advances
// by m. The returned slice is shared: do not modify it.
func (p *Plan) Chunk(m int) []Launch {
	if m < 1 || m > p.ChunkSteps {
		panic(fmt.Sprintf("launch: chunk of %d steps, want 1..%d", m, p.ChunkSteps))
	}
	if ls, ok := p.chunks[m]; ok {
		return ls
	}
	net := p.net
	bs := uint32(p.cfg.Block)
	grid := func(n uint32) uint32 { return max(1, (n+bs-1)/bs) }
	ls := []Launch{{Kernel: ChunkBegin, Grid: grid(uint32(m)), Block: bs, S: uint32(m)}}
	if p.persistent {
		a := p.updateGrid
		// Fused phases add step k's events to its ring slot while step
		// k-1's update clears its own: distinct slots only with 3 or more
		// (a network with no synapse counts as fused whatever its ring).
		if p.fused && p.net.RingSlots >= 3 {
			a |= persistFused
		}
		if len(net.STDP) > 0 {
			a |= persistSTDP
		}
		ls = append(ls, Launch{Kernel: p.PersistentKernel(), Grid: uint32(p.cfg.PersistentBlocks), Block: bs, S: uint32(m), A: a})
	}
	proc := len(net.Procedural) > 0
	for s := uint32(0); s < uint32(m) && !p.persistent; s++ {
		if len(net.Events) > 0 {
			ls = append(ls, Launch{Kernel: Events, Grid: p.eventGrid, Block: bs, S: s})
		}
		// One launch each for all spiking and all rate populations: every
		// population takes its own blocks (PopDesc.ublock0, rblock0).
		switch {
		case p.fused && s > 0:
			ls = append(ls, Launch{Kernel: Step, Grid: p.updateGrid + uint32(p.cfg.DeliverBlocks), Block: bs, S: s, A: p.updateGrid})
		case len(p.spikingPop) > 0:
			ls = append(ls, Launch{Kernel: Update, Grid: p.updateGrid, Block: bs, S: s})
		}
		if len(p.ratePop) > 0 {
			ls = append(ls, Launch{Kernel: RateUpdate, Grid: p.rateGrid, Block: bs, S: s})
		}
		if len(net.STDP) > 0 {
			// Potentiation by step s's spikes, before its delivery reads
			// and depresses the same weights (never fused).
			ls = append(ls, Launch{Kernel: StdpPost, Grid: uint32(p.cfg.DeliverBlocks), Block: bs, S: s, A: p.stdpSegs})
		}
		if p.fused && s > 0 && proc {
			// The procedural rows of step s-1, which the fused launch
			// delivered: they reach slots s+1 and later (delays >= 2).
			ls = append(ls, Launch{Kernel: DeliverProc, Grid: uint32(p.cfg.DeliverBlocks), Block: bs, S: s - 1})
		}
		if len(p.spikingPop) > 0 && (!p.fused || s == uint32(m)-1) {
			// Fused, the next step's launch delivers; the chunk's last
			// step delivers on its own.
			if p.nPTiles > 0 {
				ls = append(ls, Launch{Kernel: DeliverTiled, Grid: uint32(min(uint64(p.nPTiles)*uint64(p.cfg.PTileSplit), uint64(p.cfg.DeliverBlocks))),
					Block: uint32(p.cfg.PTileBlock), Shared: p.PTileShared(), S: s})
			} else {
				ls = append(ls, Launch{Kernel: Deliver, Grid: uint32(p.cfg.DeliverBlocks), Block: bs, S: s})
			}
			if proc {
				ls = append(ls, Launch{Kernel: DeliverProc, Grid: uint32(p.cfg.DeliverBlocks), Block: bs, S: s})
			}
		}
	}
	if len(p.spikingPop) > 0 {
		// Each step's spike ids in ascending order, once per chunk.
		tiles := uint32(m) * p.tiles
		ls = append(ls,
			Launch{Kernel: OrderCount, Grid: grid(tiles), Block: bs, S: uint32(m)},
			Launch{Kernel: OrderScan, Grid: grid(uint32(m)), Block: bs, S: uint32(m)},
			Launch{Kernel: OrderWrite, Grid: grid(tiles), Block: bs, S: uint32(m)})
	}
	ls = append(ls, Launch{Kernel: ChunkEnd, Grid: 1, Block: 1, S: uint32(m)})
	p.chunks[m] = ls
	return ls
}

// persistFused is MYELIN_PERSIST_FUSED (kernels/update.cu): the flag of
// the persistent launch's argument A for a network whose delays are all at
// least 2 steps.
const persistFused = 1 << 31

// persistSTDP is MYELIN_PERSIST_STDP (kernels/update.cu): the flag of the
// persistent launch's argument A for a network with STDP, whose steps have
// a potentiation phase.
const persistSTDP = 1 << 30

// stdpSegments returns the segments of Block entries that myelin_stdp_post
// gives each postsynaptic spike (its argument A): the longest column of
// incoming plastic synapses of any set divided by Block, rounded up; 0
// (each block walks whole columns) with SegmentsPerSpike, without STDP,
// and where the columns themselves are skewed (skewed: the longest at
// least SkewedRows times the mean over the neurons with one), as the
// delivery rows are for SegmentsAuto.
func stdpSegments(net *network.Network, cfg Config) uint32 {
	if cfg.Segments == SegmentsPerSpike {
		return 0
	}
	var longest, cols, total uint64
	for k := range net.STDP {
		ptr := net.STDP[k].PostPtr
		for j := 0; j+1 < len(ptr); j++ {
			c := ptr[j+1] - ptr[j]
			longest = max(longest, c)
			if c > 0 {
				cols++
				total += c
			}
		}
	}
	if skewed(longest, cols, total) {
		return 0
	}
	segs := (longest + uint64(cfg.Block) - 1) / uint64(cfg.Block)
	if segs >= 1<<31 {
		return 0 // walk whole columns rather than overflow the argument
	}
	return uint32(segs)
}

// skewed reports whether the longest of n non-empty rows (or columns)
// holding total entries is at least SkewedRows times their mean: where
// splitting every spike's work by the longest would leave most items
// empty.
func skewed(longest, n, total uint64) bool {
	if n == 0 {
		return false
	}
	hi, lo := bits.Mul64(longest, n)
	thi, tlo := bits.Mul64(SkewedRows, total)
	return hi > thi || hi == thi && lo >= tlo
}

// StdpSegs is the argument A of the myelin_stdp_post launches
// (stdpSegments).
func (p *Plan) StdpSegs() uint32 { return p.stdpSegs }

// Segs is the row segments of Block synapses that delivery gives every
// spike (MyelinNet.segs): with SegmentsGlobal the longest row of the
// network divided by Block, rounded up, so a step of c spikes is c × Segs
// work items; with SegmentsPerSpike 0, which makes each block walk whole
// rows, one spike at a time, and no work depends on the longest row.
func (p *Plan) Segs() uint32 { return p.segs }

// Persistent reports whether each chunk's steps run in one cooperative
// launch (kernels/update.cu, myelin_persistent) of Config.PersistentBlocks
// blocks.
func (p *Plan) Persistent() bool { return p.persistent }

// PersistentKernel returns the kernel of the persistent launch: on a grid
// of one block PersistentBlock (compiled for blocks of up to 1,024
// threads), else Persistent (whose registers are not capped so).
func (p *Plan) PersistentKernel() Kernel {
	if p.cfg.PersistentBlocks == 1 {
		return PersistentBlock
	}
	return Persistent
}

// KernelBlocks returns the kernels the plan's chunks launch, each with
// the most threads per block it is launched with (Block for most,
// PTileBlock for tiled delivery, 1 for myelin_chunk_end): what the device
// must let each kernel take, given its registers. A chunk of two steps
// holds every kind of launch a longer one does.
func (p *Plan) KernelBlocks() map[Kernel]uint32 {
	blocks := map[Kernel]uint32{}
	for m := 1; m <= min(2, p.ChunkSteps); m++ {
		for _, l := range p.Chunk(m) {
			blocks[l.Kernel] = max(blocks[l.Kernel], l.Block)
		}
	}
	return blocks
}

// Fused reports whether each step's update and the previous step's delivery
// share one launch (kernels/update.cu, myelin_step): one launch per step
// instead of two.
func (p *Plan) Fused() bool { return p.fused }

// minDelayAtLeast reports whether every synapse's delay is at least d
// steps, scanning the packed words on all CPUs and stopping early at the
// first shorter one.
func minDelayAtLeast(syn *network.Synapses, d uint32) bool {
	if r := syn.Resident; r != nil {
		return r.MinDelay >= d
	}
	words, mask := syn.Packed, syn.DelayMask()&^syn.PortBit // the delay without the slow port's bit
	var short atomic.Bool
	forRanges(len(words), 1<<20, func(_, lo, hi int) {
		for i := lo; i < hi; i += 1 << 16 {
			if short.Load() {
				return
			}
			for _, p := range words[i:min(hi, i+1<<16)] {
				if p&mask < d {
					short.Store(true)
					return
				}
			}
		}
	})
	return !short.Load()
}

// OrderTile is the words of a step's spike bitmask that one thread of
// kernels/order.cu counts and writes (MYELIN_ORDER_TILE).
const OrderTile = 64

// StepBytes is the size of the step buffer: the device step counter
// (uint64) and the fault word (uint32, see Fault), padded to 16 bytes. A
// backend copies it back after every chunk.
const StepBytes = 16

// Fault turns the step buffer of a chunk of m steps from step first into
// an error when a kernel found a neuron whose state left the float32 range
// (myelin_fault in kernels/network.cuh), naming the population and the
// lowest such neuron; nil otherwise.
func (p *Plan) Fault(step []byte, first uint64, m int) error {
	w := binary.LittleEndian.Uint32(step[8:12])
	if w == 0 {
		return nil
	}
	g := ^w
	if g >= p.net.N {
		return fmt.Errorf("fault word %#x names no neuron of %d", w, p.net.N)
	}
	pop := &p.net.Pops[p.net.PopOf(g)]
	name := "V_m"
	if !pop.Spiking() {
		name = "r"
	}
	return fmt.Errorf("population %q: %s of neuron %d is not finite after steps [%d, %d): the model's state left the float32 range (weights, inputs or gains too large)",
		pop.Name, name, g-pop.First, first, first+uint64(m))
}

// blocks is the number of blocks of p's block size that n threads take.
func (p *Plan) blocks(n uint32) uint32 {
	bs := uint32(p.cfg.Block)
	return (n + bs - 1) / bs
}

// Spikes returns the number of spikes in a chunk's counts: the prefix of
// the spike-id buffer to copy back.
func Spikes(counts []uint32) int {
	n := 0
	for _, c := range counts {
		n += int(c)
	}
	return n
}

// Fill appends a chunk that started at step first to blk: counts holds its
// steps' spike counts, ids at least Spikes(counts) spike ids (step after
// step, each step's in ascending order, as kernels/order.cu leaves them),
// samples its sample rows (len(counts) × SampleWidth). Ids out of range or
// out of order are an error: the device's lists are checked, not trusted.
func (p *Plan) Fill(blk *backend.Block, first uint64, counts, ids []uint32, samples []float32) error {
	if len(blk.Samples) != len(p.net.Probes) {
		return fmt.Errorf("launch: block has %d sample series, the network %d probes", len(blk.Samples), len(p.net.Probes))
	}
	total := Spikes(counts)
	if total > len(ids) {
		return fmt.Errorf("launch: chunk at step %d: counts say %d spikes, %d ids", first, total, len(ids))
	}
	if len(samples) < len(counts)*p.SampleWidth {
		return fmt.Errorf("launch: chunk at step %d: %d samples, want %d", first, len(samples), len(counts)*p.SampleWidth)
	}
	off := 0
	for s, c := range counts {
		if c > p.net.N {
			return fmt.Errorf("launch: step %d: %d spikes among %d neurons", first+uint64(s), c, p.net.N)
		}
		step := ids[off : off+int(c)]
		for i, id := range step {
			if id >= p.net.N {
				return fmt.Errorf("launch: step %d: bad spike id %d (n = %d)", first+uint64(s), id, p.net.N)
			}
			if i > 0 && step[i-1] >= id {
				return fmt.Errorf("launch: step %d: spike ids not in ascending order (%d then %d)", first+uint64(s), step[i-1], id)
			}
		}
		blk.IDs = append(blk.IDs, step...)
		blk.Counts = append(blk.Counts, c)
		off += int(c)
	}
	for i, pr := range p.net.Probes {
		o := int(p.probeOut[i])
		for s := range counts {
			if (first+uint64(s))%uint64(pr.Every) == 0 {
				row := samples[s*p.SampleWidth+o : s*p.SampleWidth+o+int(pr.Count)]
				blk.Samples[i] = append(blk.Samples[i], row...)
			}
		}
	}
	return nil
}
