package launch

// The kernels and their launches.

import "fmt"

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
	// 7 was myelin_record: the update kernels write the samples now.
	OrderCount Kernel = 8  // myelin_order_count(net, m, -)
	OrderScan  Kernel = 9  // myelin_order_scan(net, m, -)
	OrderWrite Kernel = 10 // myelin_order_write(net, m, -)
	Step       Kernel = 11 // myelin_step(net, s, update blocks): update of s and delivery of s-1
	// Persistent is myelin_persistent(net, m, update blocks | fused flag):
	// every step of a chunk in one cooperative launch (Launch.Cooperative)
	// of many blocks.
	Persistent Kernel = 12
	// DeliverProc is myelin_deliver_proc(net, s, -): the procedural rows
	// of the spikes of step s (launched only for networks with procedural
	// projections).
	DeliverProc Kernel = 13
	// StdpPost is myelin_stdp_post(net, s, segments): the potentiation of
	// step s's postsynaptic spikes, between its update and its delivery
	// (launched only for networks with STDP).
	StdpPost Kernel = 14
	// DeliverTiled is myelin_deliver_tiled(net, s, -): the spikes of step
	// s by target tiles, a block per tile (SegmentsTiled), in place of
	// Deliver.
	DeliverTiled Kernel = 15
	// PersistentBlock is myelin_persistent_block(net, m, update blocks |
	// fused flag): Persistent on a grid of one block, compiled for blocks
	// of up to 1,024 threads.
	PersistentBlock Kernel = 16
)

// Kernels lists every kernel.
func Kernels() []Kernel {
	return []Kernel{ChunkBegin, Events, Update, ChunkEnd, RateUpdate, Deliver, OrderCount, OrderScan, OrderWrite, Step, Persistent, DeliverProc, StdpPost, DeliverTiled, PersistentBlock}
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
	case DeliverProc:
		return "myelin_deliver_proc"
	case DeliverTiled:
		return "myelin_deliver_tiled"
	case StdpPost:
		return "myelin_stdp_post"
	case Step:
		return "myelin_step"
	case Persistent:
		return "myelin_persistent"
	case PersistentBlock:
		return "myelin_persistent_block"
	case OrderCount:
		return "myelin_order_count"
	case OrderScan:
		return "myelin_order_scan"
	case OrderWrite:
		return "myelin_order_write"
	}
	return fmt.Sprintf("kernel(%d)", int32(k))
}

// Module returns the name of the source (kernels/<module>.cu) and PTX
// module (kernels/ptx/<module>.ptx) that holds the kernel.
func (k Kernel) Module() string {
	switch k {
	case ChunkBegin, Events, Update, ChunkEnd, Step, Persistent, PersistentBlock, StdpPost:
		return "update"
	case RateUpdate:
		return "rate_update"
	case Deliver, DeliverProc, DeliverTiled:
		return "deliver"
	case OrderCount, OrderScan, OrderWrite:
		return "order"
	}
	return ""
}

// Launch is one kernel launch: a one-dimensional grid of Grid blocks of
// Block threads with Shared bytes of dynamic shared memory each,
// arguments (net, S, A).
type Launch struct {
	Kernel      Kernel
	Grid, Block uint32
	Shared      uint32
	S, A        uint32
}

// Cooperative reports whether the launch must be cooperative: all of its
// blocks resident at once, because they wait for each other at grid-wide
// barriers (myelin_persistent; myelin_persistent_block, whose one block
// needs no other, is launched so too).
func (l Launch) Cooperative() bool { return l.Kernel == Persistent || l.Kernel == PersistentBlock }

// String names the launch: its kernel, grid, block and arguments.
func (l Launch) String() string {
	if l.Shared > 0 {
		return fmt.Sprintf("%s<<<%d, %d, %d>>>(net, %d, %d)", l.Kernel.Name(), l.Grid, l.Block, l.Shared, l.S, l.A)
	}
	return fmt.Sprintf("%s<<<%d, %d>>>(net, %d, %d)", l.Kernel.Name(), l.Grid, l.Block, l.S, l.A)
}
