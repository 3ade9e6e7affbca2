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
//     backend.Block (Fill), sorting each step's spikes, which the kernels
//     gather with atomics in no particular order.
//
// Every kernel takes the device address of a MyelinNet and two uint32
// arguments: func(net *MyelinNet, s, a uint32).
package launch

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"unsafe"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/neuron"
)

// Kernel identifies one of the kernels in kernels/*.cu.
type Kernel int32

// The kernels. The numbers are shared with the host emulation's dispatcher
// (kernels/hostemu/emu.h).
const (
	ChunkBegin Kernel = 1 // myelin_chunk_begin(net, m, -)
	Events     Kernel = 2 // myelin_events(net, s, -)
	Update     Kernel = 3 // myelin_update(net, s, pop)
	ChunkEnd   Kernel = 4 // myelin_chunk_end(net, m, -)
	RateUpdate Kernel = 5 // myelin_rate_update(net, s, pop)
	Deliver    Kernel = 6 // myelin_deliver(net, s, -)
	Record     Kernel = 7 // myelin_record(net, s, -)
)

// Kernels lists every kernel.
func Kernels() []Kernel {
	return []Kernel{ChunkBegin, Events, Update, ChunkEnd, RateUpdate, Deliver, Record}
}

// Name returns the kernel's extern "C" name.
func (k Kernel) Name() string {
	switch k {
	case ChunkBegin:
		return "myelin_chunk_begin"
	case Events:
		return "myelin_events"
	case Update:
		return "myelin_update"
	case ChunkEnd:
		return "myelin_chunk_end"
	case RateUpdate:
		return "myelin_rate_update"
	case Deliver:
		return "myelin_deliver"
	case Record:
		return "myelin_record"
	}
	return fmt.Sprintf("kernel(%d)", int32(k))
}

// Module returns the name of the source (kernels/<module>.cu) and PTX
// module (kernels/ptx/<module>.ptx) that holds the kernel.
func (k Kernel) Module() string {
	switch k {
	case ChunkBegin, Events, Update, ChunkEnd:
		return "update"
	case RateUpdate:
		return "rate_update"
	case Deliver:
		return "deliver"
	case Record:
		return "record"
	}
	return ""
}

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

// Launch is one kernel launch: a one-dimensional grid of Grid blocks of
// Block threads, arguments (net, S, A).
type Launch struct {
	Kernel      Kernel
	Grid, Block uint32
	S, A        uint32
}

func (l Launch) String() string {
	return fmt.Sprintf("%s<<<%d, %d>>>(net, %d, %d)", l.Kernel.Name(), l.Grid, l.Block, l.S, l.A)
}

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
	"step", "pops", "v", "a", "b", "c", "ref", "ring_ex", "ring_in", "row_ptr", "packed", "weight",
	"wbase", "wtab", "poisson", "ptable", "dc", "events", "rhist", "rproj", "rtable", "rcolptr", "rsrc", "rw", "probes",
	"spk_cnt", "spk_off", "spk_ids", "samples",
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
}

func (c Config) withDefaults(net *network.Network) Config {
	if c.Block <= 0 {
		c.Block = 256
	}
	if c.DeliverBlocks <= 0 {
		c.DeliverBlocks = 1024
	}
	if c.RecordBytes <= 0 {
		c.RecordBytes = 64 << 20
	}
	if c.MaxChunkSteps <= 0 {
		c.MaxChunkSteps = int(max(1, net.BlockSteps))
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
	eventGrid  uint32
	spikingPop []uint32
	ratePop    []uint32
	chunks     map[int][]Launch
}

// NetSize is the size of the MyelinNet descriptor (kernels/network.cuh).
const NetSize = 296

// ModelWords is the size of PopDesc's model parameter union in 4-byte
// words (MYELIN_MODEL_WORDS in kernels/models.cuh).
const ModelWords = 32

// MirrorSizes returns the encoded sizes of the Go mirrors of
// kernels/network.cuh's structs, in the order PopDesc, PoissonDesc, DCDesc,
// EventDesc, RateProjDesc, ProbeDesc, MyelinNet; a test compares them with
// the C compiler's sizeof.
func MirrorSizes() []int {
	return []int{binary.Size(popDesc{}), binary.Size(poissonDesc{}), binary.Size(dcDesc{}), binary.Size(eventDesc{}),
		binary.Size(rateProjDesc{}), binary.Size(probeDesc{}), binary.Size(netDesc{})}
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
	p := &Plan{net: net, cfg: cfg, chunks: map[int][]Launch{}}
	for _, pr := range net.Probes {
		p.probeOut = append(p.probeOut, uint32(p.SampleWidth))
		p.SampleWidth += int(pr.Count)
	}
	perStep := 4*int64(net.N) + 4*int64(p.SampleWidth) + 8
	p.ChunkSteps = int(min(int64(cfg.MaxChunkSteps), max(1, cfg.RecordBytes/perStep)))
	if int64(p.ChunkSteps)*int64(net.N) >= 1<<32 || int64(p.ChunkSteps)*int64(p.SampleWidth) >= 1<<40 {
		return nil, fmt.Errorf("launch: a chunk of %d steps × %d neurons overflows the 32-bit spike offsets", p.ChunkSteps, net.N)
	}
	var maxRow uint64
	for i := uint32(0); i < net.N; i++ {
		maxRow = max(maxRow, net.Syn.RowPtr[i+1]-net.Syn.RowPtr[i])
	}
	segs := (maxRow + uint64(cfg.Block) - 1) / uint64(cfg.Block)
	if segs >= 1<<32 || uint64(net.N) >= 1<<31 {
		return nil, fmt.Errorf("launch: a row of %d synapses is too long", maxRow)
	}
	p.segs = uint32(segs)
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
	if err := p.layout(); err != nil {
		return nil, err
	}
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

// layout fills p.bufs.
func (p *Plan) layout() error {
	net := p.net
	n := int64(net.N)
	add := func(b Buffer, class string, bytes int64, data []byte) {
		p.bufs = append(p.bufs, BufferSpec{Buffer: b, Bytes: max(8, bytes), Data: data, Class: class})
	}
	u32s := func(v []uint32) []byte { return appendStruct(nil, v) }

	add(BufStep, "state", 8, nil)

	var pops []byte
	for i := range net.Pops {
		d, err := newPopDesc(&net.Pops[i])
		if err != nil {
			return err
		}
		pops = d.append(pops)
	}
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
	var cBytes int64 // the fourth state variable, only for models that have one
	for _, pop := range net.Pops {
		if len(pop.Model.State) > 3 {
			cBytes = 4 * n
		}
	}
	add(BufC, "state", cBytes, nil)
	add(BufRef, "state", 4*n, nil)
	ring := 4 * n * int64(net.RingSlots)
	add(BufRingEx, "rings", ring, nil)
	add(BufRingIn, "rings", ring, nil)

	syn := &net.Syn
	// The synapse arrays are the bulk of the upload: viewed in place (no
	// host copy) on little-endian hosts.
	add(BufRowPtr, "synapses", 8*(n+1), littleEndian(syn.RowPtr))
	add(BufPacked, "synapses", 4*int64(len(syn.Packed)), littleEndian(syn.Packed))
	add(BufWeight, "synapses", 4*int64(len(syn.Weight)), littleEndian(syn.Weight))
	add(BufWBase, "synapses", 8*int64(len(syn.WeightBase)), appendStruct(nil, syn.WeightBase))
	add(BufWTab, "synapses", 4*int64(len(syn.PopWeight)), appendStruct(nil, syn.PopWeight))

	var poisson []byte
	for _, q := range net.Poisson {
		poisson = appendStruct(poisson, poissonDesc{
			Start: q.Start, Stop: q.Stop, First: q.First, Count: q.Count, Weight: q.Weight,
			Purpose: q.Purpose, Base: q.Base, TableOff: q.TableOff, TableLen: q.TableLen,
		})
	}
	add(BufPoisson, "inputs", int64(len(poisson)), poisson)
	add(BufPTable, "inputs", 4*int64(len(net.PoissonTable)), u32s(net.PoissonTable))
	var dc []byte
	for _, d := range net.DC {
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

	k := int64(p.ChunkSteps)
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

// NetDescriptor returns the MyelinNet of one record set: addr gives the
// device address of each buffer (for the record buffers, those of the set).
func (p *Plan) NetDescriptor(addr func(Buffer) uint64) []byte {
	net := p.net
	var d netDesc
	for b := Buffer(0); b < NumBuffers; b++ {
		d.Ptr[b] = addr(b)
	}
	d.NEvents = uint64(len(net.Events))
	d.N, d.RingSlots, d.RateSlots, d.DelayBits = net.N, net.RingSlots, max(1, net.RateSlots), net.Syn.DelayBits
	d.NPops, d.NPoisson, d.NDC, d.NRProj = uint32(len(net.Pops)), uint32(len(net.Poisson)), uint32(len(net.DC)), uint32(len(net.RateProj))
	d.NProbes, d.SampleWidth = uint32(len(net.Probes)), uint32(p.SampleWidth)
	d.Key0, d.Key1 = uint32(net.Seed), uint32(net.Seed>>32)
	d.Segs, d.ChunkCap = p.segs, uint32(p.ChunkSteps)
	return appendStruct(nil, d)
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
	for s := uint32(0); s < uint32(m); s++ {
		if len(net.Events) > 0 {
			ls = append(ls, Launch{Kernel: Events, Grid: p.eventGrid, Block: bs, S: s})
		}
		for _, pi := range p.spikingPop {
			ls = append(ls, Launch{Kernel: Update, Grid: grid(net.Pops[pi].Size), Block: bs, S: s, A: pi})
		}
		for _, pi := range p.ratePop {
			ls = append(ls, Launch{Kernel: RateUpdate, Grid: grid(net.Pops[pi].Size), Block: bs, S: s, A: pi})
		}
		if len(p.spikingPop) > 0 {
			ls = append(ls, Launch{Kernel: Deliver, Grid: uint32(p.cfg.DeliverBlocks), Block: bs, S: s})
		}
		if p.SampleWidth > 0 {
			ls = append(ls, Launch{Kernel: Record, Grid: grid(uint32(p.SampleWidth)), Block: bs, S: s})
		}
	}
	ls = append(ls, Launch{Kernel: ChunkEnd, Grid: 1, Block: 1, S: uint32(m)})
	p.chunks[m] = ls
	return ls
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
// step, each step's in any order: Fill sorts them in place), samples its
// sample rows (len(counts) × SampleWidth).
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
		slices.Sort(step)
		for i, id := range step {
			if id >= p.net.N || (i > 0 && step[i-1] == id) {
				return fmt.Errorf("launch: step %d: bad spike id %d (n = %d)", first+uint64(s), id, p.net.N)
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

// The Go mirrors of kernels/network.cuh's structs: same fields, same order,
// encoded little-endian without padding by encoding/binary.

type popDesc struct {
	Model    int32
	First    uint32
	Size     uint32
	ScaleInv float32
	EL       float32
	M        [ModelWords]uint32
}

func (d popDesc) append(b []byte) []byte { return appendStruct(b, d) }

type poissonDesc struct {
	Start, Stop                            uint64
	First, Count                           uint32
	Weight                                 int32
	Purpose, Base, TableOff, TableLen, Pad uint32
}

type dcDesc struct {
	Start, Stop  uint64
	First, Count uint32
	Amp          float32
	Pad          uint32
}

type eventDesc struct {
	Step   uint64
	Target uint32
	Weight int32
}

type rateProjDesc struct {
	PreFirst, PreSize, Post, Delay      uint32
	Kind, TableOff, TableLen, ColPtrOff uint32
	EdgeOff, Pad                        uint32
}

type probeDesc struct {
	First, Count, Every uint32
	Spiking             int32
	EL                  float32
	Out                 uint32
}

type netDesc struct {
	Ptr                                [NumBuffers]uint64
	NEvents                            uint64
	N, RingSlots, RateSlots, DelayBits uint32
	NPops, NPoisson, NDC, NRProj       uint32
	NProbes, SampleWidth, Key0, Key1   uint32
	Segs, ChunkCap                     uint32
}

// ScaleInv is 2^-Shift as a float32, computed as the CPU backend does.
func ScaleInv(shift int32) float32 {
	if shift < 0 {
		return float32(uint64(1) << uint(-shift))
	}
	return float32(1 / float64(uint64(1)<<uint(shift)))
}

// newPopDesc encodes a population with its model's coefficients.
func newPopDesc(pop *network.Population) (popDesc, error) {
	d := popDesc{First: pop.First, Size: pop.Size, ScaleInv: ScaleInv(pop.Shift), EL: pop.EL}
	if pop.Model == nil {
		return d, fmt.Errorf("launch: population %q: no neuron model", pop.Name)
	}
	if m, ok := neuron.ByCode(pop.Model.Code); !ok || m != pop.Model {
		return d, fmt.Errorf("launch: population %q: model %v (code %d) is not registered", pop.Name, pop.Model, pop.Model.Code)
	}
	d.Model = pop.Model.Code
	b, err := EncodeCoefficients(pop.Coef)
	if err != nil {
		return d, fmt.Errorf("launch: population %q: %v: %w", pop.Name, pop.Model, err)
	}
	for i := 0; i < len(b)/4; i++ {
		d.M[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return d, nil
}

// EncodeCoefficients returns a model's coefficients as the kernels read
// them from PopDesc's parameter union: little-endian, without padding, at
// most ModelWords words.
func EncodeCoefficients(c neuron.Coefficients) ([]byte, error) {
	var buf bytes.Buffer
	if err := binary.Write(&buf, binary.LittleEndian, c); err != nil {
		return nil, fmt.Errorf("encoding %T: %w", c, err)
	}
	if buf.Len() > 4*ModelWords || buf.Len()%4 != 0 {
		return nil, fmt.Errorf("coefficients %T take %d bytes: PopDesc holds %d in 4-byte words", c, buf.Len(), 4*ModelWords)
	}
	return buf.Bytes(), nil
}

// appendStruct appends v's little-endian encoding; v is one of the mirror
// structs, which encoding/binary always encodes.
func appendStruct(b []byte, v any) []byte {
	out, err := binary.Append(b, binary.LittleEndian, v)
	if err != nil {
		panic(fmt.Sprintf("launch: encoding %T: %v", v, err)) // cannot happen: fixed-size mirror structs
	}
	return out
}

// littleEndian returns the little-endian bytes of v: a view of v's memory
// when the host is little-endian (as every CUDA host is), else a copy.
func littleEndian[T uint32 | int32 | uint64](v []T) []byte {
	if len(v) == 0 {
		return nil
	}
	size := int(unsafe.Sizeof(v[0]))
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 {
		return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), len(v)*size)
	}
	return appendStruct(make([]byte, 0, len(v)*size), v)
}

func appendF32s(b []byte, v []float32) []byte {
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}
