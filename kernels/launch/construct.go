package launch

// On-device construction (kernels/construct.cu): Constructor implements
// network.SynapseDevice with the construct kernels, on any device that
// offers memory and launches (ConstructDevice: the CUDA backend's, or the
// host emulation's).

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"unsafe"

	"github.com/myelin-sim/myelin/engine/network"
)

// ConstructKernel identifies one of the kernels of kernels/construct.cu;
// each takes a MyelinBuild by value and two uint32 arguments.
type ConstructKernel int32

// The construct kernels. The numbers are shared with the host emulation's
// dispatcher (kernels/hostemu/emu.h).
const (
	ConstructCount      ConstructKernel = 101 // myelin_construct_count(b, proj, -)
	ConstructFill       ConstructKernel = 102 // myelin_construct_fill(b, proj, -)
	ConstructOrder      ConstructKernel = 103 // myelin_construct_order(b, -, -)
	ConstructRowWeights ConstructKernel = 104 // myelin_construct_row_weights(b, -, -)
	ConstructRowSums    ConstructKernel = 105 // myelin_construct_row_sums(b, -, -)
	ConstructFinish     ConstructKernel = 106 // myelin_construct_finish(b, -, -)
	// Rules drawn per presynaptic neuron (fixed out-degree, pairwise
	// Bernoulli by source).
	ConstructCountPre     ConstructKernel = 107 // myelin_construct_count_pre(b, proj, -)
	ConstructConstSumsPre ConstructKernel = 108 // myelin_construct_const_sums_pre(b, proj, -)
	ConstructMagsPre      ConstructKernel = 109 // myelin_construct_mags_pre(b, proj, -)
	ConstructScatterPre   ConstructKernel = 110 // myelin_construct_scatter_pre(b, proj, -)
	ConstructDrawnSumsPre ConstructKernel = 111 // myelin_construct_drawn_sums_pre(b, proj, -)
	ConstructFillPre      ConstructKernel = 112 // myelin_construct_fill_pre(b, proj, -)
)

// ConstructKernels lists every construct kernel.
func ConstructKernels() []ConstructKernel {
	return []ConstructKernel{ConstructCount, ConstructFill, ConstructOrder, ConstructRowWeights, ConstructRowSums, ConstructFinish,
		ConstructCountPre, ConstructConstSumsPre, ConstructMagsPre, ConstructScatterPre, ConstructDrawnSumsPre, ConstructFillPre}
}

// Name returns the kernel's extern "C" name.
func (k ConstructKernel) Name() string {
	switch k {
	case ConstructCount:
		return "myelin_construct_count"
	case ConstructFill:
		return "myelin_construct_fill"
	case ConstructOrder:
		return "myelin_construct_order"
	case ConstructRowWeights:
		return "myelin_construct_row_weights"
	case ConstructRowSums:
		return "myelin_construct_row_sums"
	case ConstructFinish:
		return "myelin_construct_finish"
	case ConstructCountPre:
		return "myelin_construct_count_pre"
	case ConstructConstSumsPre:
		return "myelin_construct_const_sums_pre"
	case ConstructMagsPre:
		return "myelin_construct_mags_pre"
	case ConstructScatterPre:
		return "myelin_construct_scatter_pre"
	case ConstructDrawnSumsPre:
		return "myelin_construct_drawn_sums_pre"
	case ConstructFillPre:
		return "myelin_construct_fill_pre"
	}
	return fmt.Sprintf("construct kernel(%d)", int32(k))
}

// Module returns the PTX module of the construct kernels.
func (k ConstructKernel) Module() string { return "construct" }

// ConstructDevice is the device memory and launches that a Constructor
// uses. Addresses are device addresses; Alloc returns zeroed memory.
type ConstructDevice interface {
	Alloc(bytes int64, name string) (uint64, error)
	Free(addr uint64)
	Write(addr uint64, b []byte) error
	Read(addr uint64, b []byte) error
	// Launch runs k<<<grid, block>>>(desc, a, 0) and waits for it.
	Launch(k ConstructKernel, grid, block uint32, desc []byte, a uint32) error
}

// ConstructConfig sizes a Constructor's launches; none of it changes the
// arrays it makes.
type ConstructConfig struct {
	// Block is the threads per block (default 256, at most MaxBlock, as
	// SortBlock); Threads the most
	// threads of a launch that draws partners (default 65,536), each with
	// scratch of its own, within ScratchBytes (default
	// DefaultProceduralScratch).
	Block, Threads int
	ScratchBytes   int64
	// SortBlock is the threads per block of the kernels whose threads
	// work together on a row, part or target (the block sorts; default
	// Block).
	SortBlock int
	// Epochs is how many uses the threads' hash sets take, each tagged
	// with an epoch of its own, before they are zeroed again (default
	// and most 2^32 - 1; tests make it small).
	Epochs uint64
	// MaxBlock is the most threads per block that every construct
	// kernel can launch with on the device (0: a CUDA block's 1,024).
	// NewConstructor clamps Block and SortBlock to it after their
	// defaults: a kernel that needs many registers per thread fails to
	// launch with a larger block (CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES).
	// The CUDA backend sets it from the kernels' MaxThreadsPerBlock.
	MaxBlock int
}

// MirrorBuildSizes returns the encoded sizes of the Go mirrors of
// BuildProj and MyelinBuild (kernels/construct.cu), which a test compares
// with the C compiler's sizeof.
func MirrorBuildSizes() []int {
	return []int{binary.Size(buildProj{}), binary.Size(myelinBuild{})}
}

type buildProj struct {
	P                           procDesc
	Count, Start, Cursor, WOfs  uint64
	UStart, InvBase, UnitN      uint64
	AW, Floor                   float64
	Mode, Port, PrePop, PostPop uint32
}

// buildProj.Mode (MYELIN_CONSTRUCT_*).
const (
	modeSumConst = 1
	modeSumDrawn = 2
	modeKeep     = 4
	modeRowW     = 8
	modeKeys     = 16
	modeDefer    = 32
)

type myelinBuild struct {
	Net                                    netDesc
	Projs, Packed, Weight, Keys, Mags, Abs uint64
	Hash, Scratch, MaxDelay, Bad, Most     uint64
	Longest                                uint64
	Inv, ItemFirst, RowPtr                 uint64
	PartPtr, PopFirst, Shift, WBase, Owned uint64
	TStart, TMag, TTgt, TPtr, TCur, TPos   uint64
	CCount, Chunk                          uint64
	NProjs, NPops, N, DelayBits            uint32
	Slots, SlotWords, HashWords, NParts    uint32
	OldPort, NewPort, NChunks, Epoch0      uint32
}

// Constructor makes a network's synapse arrays with the construct kernels
// (network.SynapseDevice). It keeps the arrays on the device from
// Allocate to Finish, which copies them back and frees them; Close frees
// whatever an error left.
type Constructor struct {
	dev    ConstructDevice
	cfg    ConstructConfig
	layout *network.DeviceLayout
	// Device arrays kept from Allocate to Finish.
	abs, packed, weight, keys, mags, rowPtr uint64
	absLen                                  int
	// hash and scratch are the threads' (grow), kept until Finish; pool
	// the small arrays of every call (descriptors, starts, counts,
	// tables), by name, reused from call to call.
	hash, scratch grown
	pool          map[string]*grown
	// temp lists the large arrays of the current call, freed at its end.
	temp []uint64
	// epoch is the last epoch that a launch's hash sets took.
	epoch uint64
	// most is the most partners of a unit of each counted projection
	// drawn per postsynaptic neuron, by DeviceJob.Index; ustart the first
	// synapse of each unit of a Bernoulli one (RuleBernoulliByPost), from
	// its units' partners as Count found them.
	most   map[int]uint64
	ustart map[int][]uint64
	// inv (with invBase by DeviceJob.Index) receives, while RowWeights
	// puts the pending parts in order, where each row-order synapse went.
	inv     uint64
	invBase map[int]uint64
	// pending are the filled jobs whose rows' parts await their order
	// (one launch for all of them, before RowWeights and Finish).
	pending []*network.DeviceJob
}

// NewConstructor returns a Constructor on dev (cfg nil: the defaults).
func NewConstructor(dev ConstructDevice, cfg *ConstructConfig) *Constructor {
	c := ConstructConfig{Block: 256, Threads: 1 << 16, ScratchBytes: DefaultProceduralScratch}
	if cfg != nil {
		if cfg.Block > 0 {
			c.Block = cfg.Block
		}
		if cfg.Threads > 0 {
			c.Threads = cfg.Threads
		}
		if cfg.ScratchBytes > 0 {
			c.ScratchBytes = cfg.ScratchBytes
		}
		c.SortBlock, c.Epochs, c.MaxBlock = cfg.SortBlock, cfg.Epochs, cfg.MaxBlock
	}
	if c.Epochs == 0 || c.Epochs > math.MaxUint32 {
		c.Epochs = math.MaxUint32
	}
	if c.SortBlock <= 0 {
		c.SortBlock = c.Block
	}
	// A CUDA block holds at most 1,024 threads, and the kernels' registers
	// may allow fewer (MaxBlock).
	if c.MaxBlock <= 0 || c.MaxBlock > maxBlock {
		c.MaxBlock = maxBlock
	}
	c.Block, c.SortBlock = min(c.Block, c.MaxBlock), min(c.SortBlock, c.MaxBlock)
	return &Constructor{dev: dev, cfg: c, pool: map[string]*grown{}, most: map[int]uint64{}, ustart: map[int][]uint64{}, invBase: map[int]uint64{}}
}

// Close frees the device arrays that the Constructor still holds and
// forgets the build (the Constructor may build another network).
func (c *Constructor) Close() {
	c.freeTemp()
	for _, a := range []*uint64{&c.abs, &c.packed, &c.weight, &c.keys, &c.mags, &c.rowPtr, &c.hash.addr, &c.scratch.addr} {
		if *a != 0 {
			c.dev.Free(*a)
			*a = 0
		}
	}
	for name, g := range c.pool {
		c.dev.Free(g.addr)
		delete(c.pool, name)
	}
	c.absLen, c.hash.bytes, c.scratch.bytes = 0, 0, 0
	c.pending, c.layout, c.inv, c.epoch = nil, nil, 0, 0
	clear(c.most)
	clear(c.ustart)
	clear(c.invBase)
}

func (c *Constructor) freeTemp() {
	for _, a := range c.temp {
		c.dev.Free(a)
	}
	c.temp = c.temp[:0]
}

// upload returns the pool's array name holding b (grown to at least one
// byte and len(b)); its bytes past len(b) are what earlier calls left.
func (c *Constructor) upload(b []byte, name string) (uint64, error) {
	g := c.pool[name]
	if g == nil {
		g = &grown{}
		c.pool[name] = g
	}
	a, err := c.grow(g, int64(max(1, len(b))), name)
	if err != nil {
		return 0, err
	}
	if len(b) > 0 {
		if err := c.dev.Write(a, b); err != nil {
			return 0, fmt.Errorf("writing %s: %w", name, err)
		}
	}
	return a, nil
}

// zeroed allocates a temporary array of bytes zero bytes (at least one),
// freed at the end of the call.
func (c *Constructor) zeroed(bytes int64, name string) (uint64, error) {
	a, err := c.alloc(bytes, name)
	if err != nil {
		return 0, err
	}
	c.temp = append(c.temp, a)
	return a, nil
}

// grown is an array that grows to the largest size asked of it.
type grown struct {
	addr  uint64
	bytes int64
}

// grow returns g's array of at least bytes bytes, kept until Finish (or
// Close), reallocated (zeroed) where it is shorter. The threads' hash
// sets are zero when allocated and never cleared again: each use tags
// its entries with an epoch of its own (epochs); the other scratch needs
// no clearing.
func (c *Constructor) grow(g *grown, bytes int64, name string) (uint64, error) {
	if g.addr == 0 || bytes > g.bytes {
		if err := c.keep(&g.addr, bytes, name); err != nil {
			g.bytes = 0
			return 0, err
		}
		g.bytes = bytes
	}
	return g.addr, nil
}

// flags are the words that a launch reports in (MyelinBuild's bad and
// max_delay, in one array from Bad).
type flags struct{ bad, maxDelay uint32 }

// readFlags returns the words that b's launches reported.
func (c *Constructor) readFlags(b *myelinBuild) (flags, error) {
	var w [2]uint32
	if err := readInto(c.dev, b.Bad, w[:]); err != nil {
		return flags{}, err
	}
	return flags{w[0], w[1]}, nil
}

// checkBad returns a *network.NonFiniteWeightError naming the first of
// jobs (b's projections) that drew a weight that is not finite.
func (c *Constructor) checkBad(b *myelinBuild, jobs []*network.DeviceJob) (flags, error) {
	f, err := c.readFlags(b)
	if err != nil {
		return f, err
	}
	if f.bad != 0 {
		q := int(b.NProjs) - int(f.bad)
		if q < 0 || q >= len(jobs) {
			return f, fmt.Errorf("launch: the kernels report a non-finite weight of projection %d of %d", q, len(jobs))
		}
		return f, &network.NonFiniteWeightError{Index: jobs[q].Index}
	}
	return f, nil
}

// keep allocates an array that lives until Finish (or Close).
func (c *Constructor) keep(dst *uint64, bytes int64, name string) error {
	if *dst != 0 {
		c.dev.Free(*dst)
		*dst = 0
	}
	a, err := c.alloc(bytes, name)
	if err != nil {
		return err
	}
	*dst = a
	return nil
}

// alloc allocates bytes (at least one) of zeroed device memory. A failure
// wraps network.ErrNotOnDevice: the construction needs more memory than
// the arrays it makes (keys, magnitudes, places: 24 bytes per stored
// synapse at most, for a while), so the host may still build the network
// and upload it.
func (c *Constructor) alloc(bytes int64, name string) (uint64, error) {
	a, err := c.dev.Alloc(max(1, bytes), name)
	if err != nil {
		return 0, fmt.Errorf("launch: allocating %s (%d bytes) for the construction: %w: %w", name, bytes, network.ErrNotOnDevice, err)
	}
	return a, nil
}

// syncAbs copies the host's bounds to the device (allocating them once).
func (c *Constructor) syncAbs(abs []float64) error {
	if c.absLen != len(abs) {
		if err := c.keep(&c.abs, int64(8*len(abs)), "abs"); err != nil {
			return err
		}
		c.absLen = len(abs)
	}
	return c.dev.Write(c.abs, littleEndian(f64bits(abs)))
}

// readAbs copies the device's bounds back into abs.
func (c *Constructor) readAbs(abs []float64) error {
	b := make([]uint64, len(abs))
	if err := readInto(c.dev, c.abs, b); err != nil {
		return err
	}
	for i := range abs {
		abs[i] = math.Float64frombits(b[i])
	}
	return nil
}

// readInto copies len(dst) words from addr into dst: straight into dst's
// memory on a little-endian host (every CUDA host), decoded otherwise.
func readInto[T uint32 | uint64](dev ConstructDevice, addr uint64, dst []T) error {
	if len(dst) == 0 {
		return nil
	}
	size := int(unsafe.Sizeof(dst[0]))
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 {
		return dev.Read(addr, unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), len(dst)*size))
	}
	raw := make([]byte, len(dst)*size)
	if err := dev.Read(addr, raw); err != nil {
		return err
	}
	for i := range dst {
		if size == 4 {
			dst[i] = T(binary.LittleEndian.Uint32(raw[4*i:]))
		} else {
			dst[i] = T(binary.LittleEndian.Uint64(raw[8*i:]))
		}
	}
	return nil
}

func f64bits(v []float64) []uint64 {
	out := make([]uint64, len(v))
	for i, x := range v {
		out[i] = math.Float64bits(x)
	}
	return out
}

// scratchFor returns the words of a thread that draws the partners of
// jobs (where draws): its hash set for Floyd's sampler (table), and its
// other scratch (words: the sorted targets of a fixed out-degree row, and
// entries pairs of words for a block's row sums), an even number.
func scratchFor(jobs []*network.DeviceJob, entries uint64, draws bool) (table, words uint64) {
	var list uint64
	for _, j := range jobs {
		d := &j.Device
		if floyd(d) && draws {
			table = max(table, uint64(2)<<hashBits(d.K)) // entries of 8 bytes
		}
		if d.Rule == network.RuleFixedOutDegree {
			list = max(list, uint64(d.K))
		}
	}
	return table, (max(list, 2*entries) + 1) &^ 1
}

func hashBits(k uint32) uint32 { return uint32(bits.Len64(2*uint64(k) - 1)) }

// floyd reports whether the rule d draws its partners with Floyd's
// sampler (a fixed degree without multapses), which needs a hash set.
func floyd(d *network.Device) bool {
	return (d.Rule == network.RuleFixedInDegree || d.Rule == network.RuleFixedOutDegree) && !d.Multapses && d.K > 0
}

// descs encodes jobs as BuildProjs (appending delay tables to thr), with
// their Start and Count arrays uploaded where they have them, and fill
// cursors (copies of Start) where cursors.
func (c *Constructor) descs(jobs []*network.DeviceJob, thr *[]uint32, cursors bool) ([]buildProj, error) {
	var out []buildProj
	for q, j := range jobs {
		where := fmt.Sprintf("launch: projection %d on the device", j.Index)
		d := j.Device
		p, err := encodeProc(&d, thr, where, "build it on the host")
		if err != nil {
			return nil, err
		}
		if floyd(&d) {
			p.HashBits = hashBits(d.K)
			if p.HashBits > 30 {
				return nil, fmt.Errorf("%s: %w: a degree of %d is too large for the kernels (at most 2^29)", where, network.ErrNotOnDevice, d.K)
			}
		}
		bp := buildProj{P: p, WOfs: j.WeightOffset, AW: j.ConstMagnitude, Floor: j.Floor, Port: j.Port, PrePop: uint32(j.Pre), PostPop: uint32(j.Post)}
		for _, m := range []struct {
			on   bool
			mode uint32
		}{{j.SumConst, modeSumConst}, {j.SumDrawn, modeSumDrawn}, {j.Keep, modeKeep}, {j.RowWeights, modeRowW}, {j.Keys, modeKeys}, {j.Deferred, modeDefer}} {
			if m.on {
				bp.Mode |= m.mode
			}
		}
		if n := int(d.PreSize); (j.Start != nil && len(j.Start) != n) || (j.Count != nil && len(j.Count) != n) {
			return nil, fmt.Errorf("%s: %d starts and %d counts for %d presynaptic neurons", where, len(j.Start), len(j.Count), n)
		}
		if j.Start != nil {
			if bp.Start, err = c.upload(littleEndian(j.Start), fmt.Sprint("start ", q)); err != nil {
				return nil, err
			}
			if cursors {
				if bp.Cursor, err = c.upload(littleEndian(slices.Clone(j.Start)), fmt.Sprint("cursor ", q)); err != nil {
					return nil, err
				}
			}
		}
		if j.Count != nil {
			if bp.Count, err = c.upload(littleEndian(j.Count), fmt.Sprint("count ", q)); err != nil {
				return nil, err
			}
		}
		if us, ok := c.ustart[j.Index]; ok && j.RowWeights {
			if len(us) != int(d.NPost)+1 {
				return nil, fmt.Errorf("%s: %d unit starts for %d units", where, len(us), d.NPost)
			}
			if bp.UStart, err = c.upload(littleEndian(us), fmt.Sprint("ustart ", q)); err != nil {
				return nil, err
			}
		}
		bp.InvBase = c.invBase[j.Index]
		out = append(out, bp)
	}
	return out, nil
}

// build returns a MyelinBuild for jobs (descs, with cursors where
// cursors): their descriptors, tables and scratch for entries row-sum
// pairs per thread, for launches over at most units units of work, with
// the kept arrays, its flags zero; and the descriptors.
func (c *Constructor) build(jobs []*network.DeviceJob, entries, units uint64, cursors bool) (*myelinBuild, []buildProj, error) {
	table, words := scratchFor(jobs, entries, entries == 0)
	if table+words >= 1<<31 {
		return nil, nil, fmt.Errorf("launch: a construct thread needs %d words of scratch: too many: %w", table+words, network.ErrNotOnDevice)
	}
	thr := ZigguratWords()
	bps, err := c.descs(jobs, &thr, cursors)
	if err != nil {
		return nil, nil, err
	}
	b := &myelinBuild{Packed: c.packed, Weight: c.weight, Keys: c.keys, Mags: c.mags, Abs: c.abs, RowPtr: c.rowPtr, Inv: c.inv}
	if len(jobs) > 0 {
		seed := jobs[0].Seed
		b.Net.Key0, b.Net.Key1 = uint32(seed), uint32(seed>>32)
	}
	if b.Net.Ptr[BufProcThr], err = c.upload(littleEndian(thr), "proc_thr"); err != nil {
		return nil, nil, err
	}
	first := make([]uint64, len(jobs)+1)
	for q := range bps {
		first[q+1] = first[q] + uint64(jobs[q].Device.PreSize)
	}
	if err := c.writeProjs(b, bps); err != nil {
		return nil, nil, err
	}
	if b.ItemFirst, err = c.upload(littleEndian(first), "item_first"); err != nil {
		return nil, nil, err
	}
	b.NProjs = uint32(len(jobs))
	slots := min(uint64(c.cfg.Threads), max(1, units))
	if table+words > 0 {
		slots = min(slots, max(1, uint64(c.cfg.ScratchBytes)/(4*(table+words))))
	}
	b.Slots, b.SlotWords, b.HashWords = uint32(slots), uint32(words), uint32(table)
	if b.Hash, err = c.grow(&c.hash, int64(4*slots*table), "hash"); err != nil {
		return nil, nil, err
	}
	if b.Scratch, err = c.grow(&c.scratch, int64(4*slots*words), "scratch"); err != nil {
		return nil, nil, err
	}
	if b.Bad, err = c.upload(make([]byte, 8), "flags"); err != nil {
		return nil, nil, err
	}
	b.MaxDelay = b.Bad + 4
	if c.layout != nil {
		b.N, b.NPops, b.DelayBits = uint32(len(c.layout.RowPtr)-1), uint32(len(c.layout.PopFirst)-1), c.layout.DelayBits
		if b.PopFirst, err = c.upload(littleEndian(c.layout.PopFirst), "pop_first"); err != nil {
			return nil, nil, err
		}
	}
	return b, bps, nil
}

// launch runs k over items threads of work (at most Threads where they
// use scratch, with hash sets) with argument a.
func (c *Constructor) launch(k ConstructKernel, b *myelinBuild, items uint64, scratch bool, a uint32) error {
	threads := max(1, items)
	if scratch {
		threads = min(threads, uint64(b.Slots))
		if err := c.epochs(b, items); err != nil {
			return err
		}
	}
	block := uint64(c.cfg.Block)
	return c.run(k, b, min((threads+block-1)/block, 1<<31-1), block, a)
}

// epochs gives the launch b over units units of work epochs of its own
// (b.Epoch0 + u + 1 for unit u: MyelinHashSet), zeroing the hash sets
// first where the epochs would pass cfg.Epochs.
func (c *Constructor) epochs(b *myelinBuild, units uint64) error {
	if units > c.cfg.Epochs {
		return fmt.Errorf("launch: %d units of work in one launch: more than the hash sets' %d epochs: %w", units, c.cfg.Epochs, network.ErrNotOnDevice)
	}
	if c.epoch+units > c.cfg.Epochs {
		if err := c.keep(&c.hash.addr, c.hash.bytes, "hash"); err != nil {
			c.hash.bytes = 0
			return err
		}
		b.Hash, c.epoch = c.hash.addr, 0
	}
	b.Epoch0 = uint32(c.epoch)
	c.epoch += units
	return nil
}

// launchBlocks runs k, whose blocks' threads work together, over items
// blocks of work, at most most of them at once.
func (c *Constructor) launchBlocks(k ConstructKernel, b *myelinBuild, items, most uint64) error {
	return c.run(k, b, max(1, min(items, most, 1<<31-1)), uint64(c.cfg.SortBlock), 0)
}

func (c *Constructor) run(k ConstructKernel, b *myelinBuild, grid, block uint64, a uint32) error {
	desc := appendStruct(nil, *b)
	if err := c.dev.Launch(k, uint32(grid), uint32(block), desc, a); err != nil {
		return fmt.Errorf("%s: %w", k.Name(), err)
	}
	return nil
}

// maxBlock is the most threads of a CUDA block.
const maxBlock = 1024

// blocksAtOnce bounds the blocks of a launch of block sorts: enough to
// fill a large GPU many times over.
const blocksAtOnce = 1 << 16

// rowSumBlocks bounds the blocks of a row_sums launch, each with scratch
// of its own for a target's synapses: several times the blocks that a
// large GPU runs at once (an H100: 132 multiprocessors × 8 blocks of 256
// threads).
const rowSumBlocks = 1 << 13

// Count implements network.SynapseDevice.
func (c *Constructor) Count(j *network.DeviceJob, count []uint32, abs []float64) error {
	return c.CountBatch([]*network.DeviceJob{j}, [][]uint32{count}, abs)
}

// CountBatch implements network.CountBatcher: the projections drawn per
// postsynaptic neuron that follow one another are counted together (one
// copy of the bounds each way, the count launches one after another).
func (c *Constructor) CountBatch(jobs []*network.DeviceJob, counts [][]uint32, abs []float64) error {
	if len(counts) != len(jobs) {
		return fmt.Errorf("launch: %d count arrays for %d projections", len(counts), len(jobs))
	}
	for q, j := range jobs {
		if len(counts[q]) != int(j.Device.PreSize) {
			return fmt.Errorf("launch: projection %d: %d counts for %d presynaptic neurons", j.Index, len(counts[q]), j.Device.PreSize)
		}
	}
	for i := 0; i < len(jobs); {
		k := i + 1
		for !jobs[i].ByPre && k < len(jobs) && !jobs[k].ByPre {
			k++
		}
		if err := c.count(jobs[i:k], counts[i:k], abs); err != nil {
			return err
		}
		i = k
	}
	return nil
}

// count is pass 1 of jobs (all drawn per postsynaptic neuron, or one
// drawn per presynaptic neuron) in one call.
func (c *Constructor) count(jobs []*network.DeviceJob, counts [][]uint32, abs []float64) error {
	defer c.freeTemp()
	if err := c.syncAbs(abs); err != nil {
		return err
	}
	own := make([]*network.DeviceJob, len(jobs))
	var units uint64
	for q, j := range jobs {
		job := *j
		job.Count, job.Start = counts[q], nil
		own[q] = &job
		units = max(units, uint64(j.Device.NPost), uint64(j.Device.PreSize))
	}
	b, bps, err := c.build(own, 0, units, false)
	if err != nil {
		return err
	}
	if b.Most, err = c.upload(make([]byte, 4*len(jobs)), "most"); err != nil {
		return err
	}
	// Bernoulli units' partners, for the places of their synapses
	// (RowWeights).
	unitN := make([][]uint32, len(jobs))
	bern := false
	for q, j := range jobs {
		if j.Device.Rule == network.RuleBernoulliByPost {
			unitN[q] = make([]uint32, j.Device.NPost)
			if bps[q].UnitN, err = c.zeroed(4*int64(j.Device.NPost), "unit_n"); err != nil {
				return err
			}
			bern = true
		}
	}
	if bern {
		if err := c.writeProjs(b, bps); err != nil {
			return err
		}
	}
	for q, j := range jobs {
		if j.ByPre {
			err = c.countPre(j, b, bps[q].Count, counts[q])
		} else {
			err = c.launch(ConstructCount, b, uint64(j.Device.NPost), true, uint32(q))
		}
		if err != nil {
			return err
		}
	}
	if _, err := c.checkBad(b, own); err != nil {
		return err
	}
	most := make([]uint32, len(jobs))
	if err := readInto(c.dev, b.Most, most); err != nil {
		return err
	}
	for q, j := range jobs {
		if j.ByPre {
			continue // countPre read its counts
		}
		if err := readInto(c.dev, bps[q].Count, counts[q]); err != nil {
			return err
		}
		c.most[j.Index] = uint64(most[q])
		if unitN[q] == nil {
			continue
		}
		if err := readInto(c.dev, bps[q].UnitN, unitN[q]); err != nil {
			return err
		}
		us := make([]uint64, len(unitN[q])+1)
		for u, v := range unitN[q] {
			us[u+1] = us[u] + uint64(v)
		}
		c.ustart[j.Index] = us
	}
	return c.readAbs(abs)
}

// writeProjs uploads bps as b's projections again (after a change).
func (c *Constructor) writeProjs(b *myelinBuild, bps []buildProj) error {
	var projs []byte
	for _, bp := range bps {
		projs = appendStruct(projs, bp)
	}
	var err error
	b.Projs, err = c.upload(projs, "projs")
	return err
}

// countPre is pass 1 of a rule drawn per presynaptic neuron: the rows'
// lengths into count (cnt on the device), then the targets' bounds by
// chunk of units: for a constant weight from the synapses per (chunk,
// target); for drawn weights from every synapse's magnitude, listed by
// target and sorted there by position.
func (c *Constructor) countPre(j *network.DeviceJob, b *myelinBuild, cnt uint64, count []uint32) error {
	d := &j.Device
	if len(j.Chunks) < 2 {
		return fmt.Errorf("launch: %d chunk bounds: need 2 or more", len(j.Chunks))
	}
	var err error
	if b.Chunk, err = c.upload(littleEndian(j.Chunks), "chunk"); err != nil {
		return err
	}
	b.NChunks = uint32(len(j.Chunks) - 1)
	if j.SumConst {
		if b.CCount, err = c.zeroed(4*int64(b.NChunks)*int64(d.NPost), "c_count"); err != nil {
			return err
		}
	}
	if err := c.launch(ConstructCountPre, b, uint64(d.PreSize), true, 0); err != nil {
		return err
	}
	if err := readInto(c.dev, cnt, count); err != nil {
		return err
	}
	if j.SumConst {
		return c.launch(ConstructConstSumsPre, b, uint64(d.NPost), false, 0)
	}
	if !j.SumDrawn {
		return nil
	}
	start := make([]uint64, len(count)+1)
	for i, v := range count {
		start[i+1] = start[i] + uint64(v)
	}
	total := start[len(count)]
	if b.TStart, err = c.zeroed(int64(8*len(start)), "t_start"); err != nil {
		return err
	}
	if err := c.dev.Write(b.TStart, littleEndian(start)); err != nil {
		return err
	}
	if b.TMag, err = c.zeroed(int64(8*total), "t_mag"); err != nil {
		return err
	}
	if b.TTgt, err = c.zeroed(int64(4*total), "t_tgt"); err != nil {
		return err
	}
	if b.TCur, err = c.zeroed(8*int64(d.NPost), "t_cur"); err != nil {
		return err
	}
	if err := c.launch(ConstructMagsPre, b, uint64(d.PreSize), true, 0); err != nil {
		return err
	}
	ptr := make([]uint64, d.NPost+1)
	if err := readInto(c.dev, b.TCur, ptr[1:]); err != nil {
		return err
	}
	for t := range d.NPost {
		ptr[t+1] += ptr[t]
	}
	if b.TPtr, err = c.zeroed(int64(8*len(ptr)), "t_ptr"); err != nil {
		return err
	}
	if err := c.dev.Write(b.TPtr, littleEndian(ptr)); err != nil {
		return err
	}
	if err := c.dev.Write(b.TCur, littleEndian(ptr[:d.NPost])); err != nil {
		return err
	}
	if b.TPos, err = c.zeroed(int64(8*total), "t_pos"); err != nil {
		return err
	}
	if err := c.launch(ConstructScatterPre, b, uint64(d.PreSize), false, 0); err != nil {
		return err
	}
	return c.launchBlocks(ConstructDrawnSumsPre, b, uint64(d.NPost), blocksAtOnce)
}

// Allocate implements network.SynapseDevice.
func (c *Constructor) Allocate(l *network.DeviceLayout) error {
	if len(l.RowPtr) == 0 || len(l.PopFirst) == 0 {
		return errors.New("launch: an empty layout")
	}
	for r := range len(l.RowPtr) - 1 {
		if n := l.RowPtr[r+1] - l.RowPtr[r]; n > math.MaxUint32 {
			return fmt.Errorf("launch: row %d holds %d synapses: the kernels index a row in 32 bits: %w", r, n, network.ErrNotOnDevice)
		}
	}
	c.layout = l
	words := l.RowPtr[len(l.RowPtr)-1]
	if err := c.keep(&c.packed, int64(4*words), "packed"); err != nil {
		return err
	}
	if err := c.keep(&c.weight, int64(4*l.Weights), "weight"); err != nil {
		return err
	}
	if l.Keys {
		if err := c.keep(&c.keys, int64(8*words), "keys"); err != nil {
			return err
		}
	}
	if l.Mags {
		if err := c.keep(&c.mags, int64(8*words), "mags"); err != nil {
			return err
		}
	}
	if err := c.keep(&c.rowPtr, int64(8*len(l.RowPtr)), "row_ptr"); err != nil {
		return err
	}
	return c.dev.Write(c.rowPtr, littleEndian(l.RowPtr))
}

// Fill implements network.SynapseDevice.
func (c *Constructor) Fill(j *network.DeviceJob, abs []float64) (uint32, error) {
	longest, err := c.FillBatch([]*network.DeviceJob{j}, abs)
	if err != nil {
		return 0, err
	}
	return longest[0], nil
}

// FillBatch implements network.FillBatcher: pass 2 of jobs in one call
// (the bounds copied once each way where some job adds to them, the fill
// launches one after another). The parts that a by-post rule writes at
// atomic cursors are put in order later, for every such projection at
// once (order).
func (c *Constructor) FillBatch(jobs []*network.DeviceJob, abs []float64) ([]uint32, error) {
	defer c.freeTemp()
	if c.layout == nil {
		return nil, errors.New("launch: Fill before Allocate")
	}
	var units uint64
	deferred := false
	for _, j := range jobs {
		units = max(units, uint64(j.Device.NPost), uint64(j.Device.PreSize))
		deferred = deferred || j.Deferred
	}
	if deferred {
		if err := c.syncAbs(abs); err != nil {
			return nil, err
		}
	}
	b, _, err := c.build(jobs, 0, units, true)
	if err != nil {
		return nil, err
	}
	if b.Longest, err = c.upload(make([]byte, 4*len(jobs)), "longest"); err != nil {
		return nil, err
	}
	for q, j := range jobs {
		if j.ByPre {
			err = c.launch(ConstructFillPre, b, uint64(j.Device.PreSize), true, uint32(q))
		} else {
			err = c.launch(ConstructFill, b, uint64(j.Device.NPost), true, uint32(q))
		}
		if err != nil {
			return nil, err
		}
	}
	if _, err := c.checkBad(b, jobs); err != nil {
		return nil, err
	}
	longest := make([]uint32, len(jobs))
	if err := readInto(c.dev, b.Longest, longest); err != nil {
		return nil, err
	}
	for _, j := range jobs {
		if j.Keys && !placed(&j.Device) {
			c.pending = append(c.pending, j)
		}
	}
	if deferred {
		if err := c.readAbs(abs); err != nil {
			return nil, err
		}
	}
	return longest, nil
}

// placed reports whether the fill kernel writes each synapse of rule d
// at its place in the row (myelin_construct_place): rules drawn per
// presynaptic neuron, one-to-one and all-to-all.
func placed(d *network.Device) bool {
	return d.Rule != network.RuleFixedInDegree && d.Rule != network.RuleBernoulliByPost
}

// order sorts the parts of rows that the pending jobs filled by key: one
// launch, a part per block (its temporaries are its caller's).
func (c *Constructor) order() error {
	if len(c.pending) == 0 {
		return nil
	}
	b, _, err := c.build(c.pending, 0, 1, false)
	if err != nil {
		return err
	}
	var parts uint64
	for _, j := range c.pending {
		parts += uint64(j.Device.PreSize)
	}
	if err := c.launchBlocks(ConstructOrder, b, parts, blocksAtOnce); err != nil {
		return err
	}
	c.pending = nil
	return nil
}

// RowWeights implements network.SynapseDevice.
func (c *Constructor) RowWeights(jobs []*network.DeviceJob, parts []uint64, abs []float64) error {
	defer c.freeTemp()
	if c.layout == nil || c.mags == 0 {
		return errors.New("launch: RowWeights before Allocate (or without Mags)")
	}
	// Where the order kernel puts each synapse of a rule written at
	// cursors: 8 bytes per synapse, for the row sums.
	var invTotal uint64
	for _, j := range jobs {
		if placed(&j.Device) {
			continue
		}
		c.invBase[j.Index] = invTotal
		for _, v := range j.Count {
			invTotal += uint64(v)
		}
	}
	if invTotal > 0 {
		var err error
		if c.inv, err = c.zeroed(int64(8*invTotal), "inv"); err != nil {
			return err
		}
		defer func() { c.inv = 0 }() // freed with the call's other temporaries
	}
	if err := c.order(); err != nil {
		return err
	}
	if err := c.syncAbs(abs); err != nil {
		return err
	}
	// Row sums: every synapse onto one target, of all jobs onto its
	// population, in one block's scratch: at most the sum of the jobs'
	// most partners of a unit (as Count found them; the rule's bound for
	// a job not counted here).
	perPop := map[int]uint64{}
	var items uint64
	for _, j := range jobs {
		most, ok := c.most[j.Index]
		if !ok {
			most = uint64(j.Device.K)
		}
		perPop[j.Post] += most
		items += uint64(j.Device.PreSize)
	}
	var entries uint64
	for _, n := range perPop {
		entries = max(entries, n)
	}
	n := uint64(len(c.layout.RowPtr) - 1)
	b, _, err := c.build(jobs, entries, min(n, rowSumBlocks), false)
	if err != nil {
		return err
	}
	if len(parts) < 2 {
		return fmt.Errorf("launch: %d part bounds: need 2 or more", len(parts))
	}
	if b.PartPtr, err = c.upload(littleEndian(parts), "part_ptr"); err != nil {
		return err
	}
	b.NParts = uint32(len(parts) - 1)
	if err := c.launch(ConstructRowWeights, b, items, false, 0); err != nil {
		return err
	}
	if _, err := c.checkBad(b, jobs); err != nil {
		return err
	}
	if err := c.launchBlocks(ConstructRowSums, b, n, uint64(b.Slots)); err != nil {
		return err
	}
	return c.readAbs(abs)
}

// Finish implements network.SynapseDevice: it copies the arrays back and
// frees the device's, or, where f.Keep, hands them over in a
// network.Resident whose Arrays are a *ResidentArrays.
func (c *Constructor) Finish(f *network.DeviceFinish) ([]uint32, []int32, *network.Resident, error) {
	defer c.Close()
	if c.layout == nil {
		return nil, nil, nil, errors.New("launch: Finish before Allocate")
	}
	if err := c.order(); err != nil {
		return nil, nil, nil, err
	}
	b, _, err := c.build(f.Jobs, 0, 1, false)
	if err != nil {
		return nil, nil, nil, err
	}
	owned := make([]uint32, len(f.Owned))
	for i, o := range f.Owned {
		owned[i] = b2u(o)
	}
	if b.Shift, err = c.upload(littleEndian(f.Shift), "shift"); err != nil {
		return nil, nil, nil, err
	}
	if b.WBase, err = c.upload(littleEndian(f.WeightBase), "wbase"); err != nil {
		return nil, nil, nil, err
	}
	if b.Owned, err = c.upload(littleEndian(owned), "owned"); err != nil {
		return nil, nil, nil, err
	}
	b.OldPort, b.NewPort = f.OldPort, f.NewPort
	if err := c.launchBlocks(ConstructFinish, b, uint64(b.N), blocksAtOnce); err != nil {
		return nil, nil, nil, err
	}
	fl, err := c.readFlags(b)
	if err != nil {
		return nil, nil, nil, err
	}
	words := c.layout.RowPtr[len(c.layout.RowPtr)-1]
	if f.Keep {
		ra := &ResidentArrays{Device: c.dev, Packed: c.packed, Weight: c.weight}
		c.packed, c.weight = 0, 0 // the Resident's now
		return nil, nil, &network.Resident{Words: words, Weights: c.layout.Weights, MinDelay: ^fl.maxDelay, Arrays: ra}, nil
	}
	packed := make([]uint32, words)
	if err := readInto(c.dev, c.packed, packed); err != nil {
		return nil, nil, nil, err
	}
	weight := make([]uint32, c.layout.Weights)
	if err := readInto(c.dev, c.weight, weight); err != nil {
		return nil, nil, nil, err
	}
	// The same words, as int32: no copy (an empty slice, not nil, as the
	// host's build makes it).
	w := []int32{}
	if len(weight) > 0 {
		w = unsafe.Slice((*int32)(unsafe.Pointer(&weight[0])), len(weight))
	}
	return packed, w, nil, nil
}

// ResidentArrays are the packed words and weights that a Constructor left
// in its device's memory (network.Resident.Arrays), at those addresses.
// A backend on that device adopts them (Adopt); Release frees them
// otherwise. Either happens once.
type ResidentArrays struct {
	Device         ConstructDevice
	Packed, Weight uint64
}

// Release implements network.Resident's Arrays: it frees the arrays (not
// after Adopt).
func (r *ResidentArrays) Release() {
	for _, a := range []*uint64{&r.Packed, &r.Weight} {
		if *a != 0 {
			r.Device.Free(*a)
			*a = 0
		}
	}
}

// Adopt hands a backend the synapse arrays that a construction left in
// the memory of its device, of type M (network.Synapses.Resident; nil, nil
// when there are none): take removes an allocation from that memory and
// returns it as the backend's buffer, which the backend frees from then
// on. It fails if the arrays are in another kind of memory (mine says
// whether m is the backend's own), or were adopted or released already.
func Adopt[M ConstructDevice, T any](net *network.Network, mine func(M) bool, take func(m M, addr uint64) (T, bool)) (map[Buffer]T, error) {
	r := net.Syn.Resident
	if r == nil {
		return nil, nil
	}
	ra, ok := r.Arrays.(*ResidentArrays)
	var m M
	if ok {
		m, ok = ra.Device.(M)
	}
	if !ok || !mine(m) {
		return nil, fmt.Errorf("the network's synapses are in another device's memory (%T)", r.Arrays)
	}
	if ra.Packed == 0 {
		return nil, errors.New("the network's device synapses were loaded or released already")
	}
	out := map[Buffer]T{}
	for buf, a := range map[Buffer]uint64{BufPacked: ra.Packed, BufWeight: ra.Weight} {
		t, ok := take(m, a)
		if !ok {
			return nil, fmt.Errorf("device synapses at %#x: not an allocation", a)
		}
		out[buf] = t
	}
	ra.Packed, ra.Weight = 0, 0
	return out, nil
}

// Compile-time check.
var _ network.SynapseDevice = (*Constructor)(nil)
