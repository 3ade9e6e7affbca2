//go:build cuda

package cuda

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"

	"github.com/myelin-sim/myelin/cuda/driver"
	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/kernels/launch"
)

// Backend is Myelin's GPU backend: it implements backend.Backend with the
// kernels of kernels/*.cu, run in the order that package kernels/launch
// gives (the same order that the host emulation kernels/hostemu runs and
// checks against the CPU backend).
//
// The network lives in device buffers laid out by launch.Plan. Steps run
// in chunks of at most Plan.ChunkSteps: each chunk is one CUDA graph,
// captured once per chunk size and record set and replayed for every
// chunk (the kernels read the chunk's first step from a device counter that
// the graph's last kernel advances). A small network (launch.Config.Persistent)
// instead runs each chunk's steps in one cooperative launch of
// myelin_persistent, its few launches enqueued directly. After a chunk, its spike counts,
// sample rows and step counter are copied into pinned host memory inside
// the same stream; then the used prefix of its spike ids. Two record sets
// alternate, so the host checks and hands over one chunk's spikes (ordered on
// the device by kernels/order.cu) while the device computes the next.
type Backend struct {
	dev     *driver.Device
	ownsDev bool
	cfg     *launch.Config

	plan    *launch.Plan
	stream  *driver.Stream
	modules []*driver.Module
	funcs   map[launch.Kernel]*driver.Function
	owned   []*driver.Buffer
	bufs    [launch.RecordSets][launch.NumBuffers]*driver.Buffer
	nets    [launch.RecordSets][]byte // each record set's MyelinNet, passed to the kernels by value
	graphs  map[graphKey]*driver.Graph
	host    [launch.RecordSets]hostSet
	events  []*driver.Event
	step    uint64
	set     int     // record set of the next chunk
	rate    float64 // the STDP learning rate of the stdp_sets buffer
	desc    string
}

// graphKey names a captured chunk graph: its steps and record set.
type graphKey struct{ steps, set int }

// hostSet is the pinned host memory of one record set.
type hostSet struct {
	meta    *driver.Pinned // the step buffer after the chunk: step counter and fault word (launch.StepBytes)
	counts  *driver.Pinned // spike counts of the chunk's steps
	ids     *driver.Pinned // spike ids
	samples *driver.Pinned // sample rows
	done    *driver.Event
	idsDone *driver.Event
}

// memoryReserve is device memory left free for the driver: module code,
// graphs, the stack and local memory of the kernels.
const memoryReserve = 64 << 20

// NewBackend returns a backend on an open device, which stays the
// caller's to close. cfg chooses the launch geometry (nil, or a field
// left 0: blocks of 256 threads, a deliver grid of 8 blocks per SM, 64
// MiB per record set, persistent mode auto, procedural row scratch
// launch.ProceduralScratchFor the device). Where cfg asks for the
// persistent mode (launch.PersistentOn) with PersistentBlocks 0 and the
// device supports cooperative launches, the persistent grid is one block
// per SM. Auto does not offer the persistent kernel a grid: an H100
// measured it slower than per-step launches at every size tried
// (launch.PersistentMaxN), so networks run launch by launch unless a
// caller turns it on.
func NewBackend(dev *driver.Device, cfg *launch.Config) *Backend {
	return &Backend{dev: dev, cfg: cfg}
}

// SetSegments sets how the backend splits delivery among blocks
// (launch.Config.Segments) for the network it loads next; the other
// settings stay as they were (the defaults where none were given). It
// fails once a network is loaded.
func (b *Backend) SetSegments(m launch.SegmentsMode) error {
	if b.plan != nil {
		return errors.New("cuda: SetSegments after Load")
	}
	cfg := launch.Config{}
	if b.cfg != nil {
		cfg = *b.cfg
	}
	cfg.Segments = m
	b.cfg = &cfg
	return nil
}

// OpenBackend opens the device with the given ordinal and returns a
// backend that owns it (Close closes the device). It also has the driver
// compile every kernel module for the device (PTX JIT), so that a driver
// too old for the kernels' PTX is found here, where a caller can still
// choose the CPU, rather than in Load.
func OpenBackend(ordinal int, cfg *launch.Config) (*Backend, error) {
	dev, err := driver.Open(ordinal)
	if err != nil {
		return nil, err
	}
	if err := checkModules(dev); err != nil {
		return nil, errors.Join(err, dev.Close())
	}
	b := NewBackend(dev, cfg)
	b.ownsDev = true
	return b, nil
}

// checkModules loads and unloads every kernel module on dev.
func checkModules(dev *driver.Device) error {
	for _, name := range launch.Modules() {
		m, err := dev.LoadEmbedded(name)
		if err != nil {
			return fmt.Errorf("cuda: the driver cannot load the kernels of module %s on %s: %w", name, dev.Info().Name, err)
		}
		if err := m.Unload(); err != nil {
			return err
		}
	}
	return nil
}

// Name implements backend.Backend.
func (b *Backend) Name() string { return "cuda" }

// Threads implements backend.Backend: the host side is one goroutine.
func (b *Backend) Threads() int { return 1 }

// Describe implements backend.Backend.
func (b *Backend) Describe() string {
	switch {
	case b.desc != "":
		return b.desc
	case b.dev == nil:
		return "cuda (closed)"
	}
	return deviceLine(b.dev.Info())
}

func deviceLine(i driver.Info) string {
	return fmt.Sprintf("cuda: %s (compute %d.%d, %d SMs, %.1f GiB), driver %d.%d",
		i.Name, i.ComputeMajor, i.ComputeMinor, i.SMs, float64(i.TotalMemory)/(1<<30), i.DriverVersion/1000, i.DriverVersion%1000/10)
}

// Load implements backend.Backend. It checks that the network fits in the
// device's free memory before allocating anything.
func (b *Backend) Load(net *network.Network) error {
	if b.plan != nil {
		return errors.New("cuda: Load called twice")
	}
	var cfg launch.Config
	if b.cfg != nil {
		cfg = *b.cfg
	}
	if cfg.DeliverBlocks <= 0 {
		cfg.DeliverBlocks = 8 * max(1, b.dev.Info().SMs)
	}
	if cfg.ProceduralScratch <= 0 {
		cfg.ProceduralScratch = launch.ProceduralScratchFor(b.dev.Info().TotalMemory)
	}
	if cfg.PersistentBlocks == 0 && cfg.Persistent == launch.PersistentOn && b.dev.Info().CooperativeLaunch {
		cfg.PersistentBlocks = max(1, b.dev.Info().SMs)
	}
	plan, err := launch.New(net, cfg)
	if err != nil {
		return fmt.Errorf("cuda: %w", err)
	}
	if err := b.checkMemory(plan); err != nil {
		return err
	}
	err = b.dev.Do(func() error { return b.load(plan) })
	if err != nil {
		return errors.Join(err, b.release())
	}
	b.plan = plan
	b.rate = net.LearningRate(0)
	launches := "update and delivery launched apart"
	switch {
	case plan.Persistent():
		launches = fmt.Sprintf("one persistent cooperative launch of %d blocks per chunk", plan.Config().PersistentBlocks)
	case plan.Fused():
		launches = "one launch per step (update fused with the previous delivery)"
	}
	if w, tiles := plan.PTiles(); tiles > 0 {
		launches += fmt.Sprintf(", delivery by %d target tiles of %d (blocks of %d threads)", tiles, w, plan.Config().PTileBlock)
	} else if why := plan.TiledReason(); why != "" {
		launches += ", global delivery, not tiled: " + why
	}
	b.desc = fmt.Sprintf("%s; blocks of %d threads, deliver grid %d, chunks of %d steps, %s, %.1f MiB on the device",
		deviceLine(b.dev.Info()), plan.Config().Block, plan.Config().DeliverBlocks, plan.ChunkSteps, launches, float64(plan.DeviceBytes())/(1<<20))
	return nil
}

// DeviceBytes is the device memory of the loaded network (0 before Load):
// the buffers of launch.Plan.DeviceBytes.
func (b *Backend) DeviceBytes() int64 {
	if b.plan == nil {
		return 0
	}
	return b.plan.DeviceBytes()
}

// checkMemory fails, with the figures, if the plan does not fit in the
// device's free memory.
func (b *Backend) checkMemory(plan *launch.Plan) error {
	free, total, err := b.dev.FreeMemory()
	if err != nil {
		return err
	}
	return fitError(plan, b.dev.Info().Name, free, total)
}

// fitError returns nil if the plan fits in free bytes of device memory
// (with memoryReserve to spare), else an error with the figures.
func fitError(plan *launch.Plan, device string, free, total uint64) error {
	need := plan.DeviceBytes() - plan.ResidentBytes() // those are allocated already
	if uint64(need)+memoryReserve <= free {
		return nil
	}
	msg := fmt.Sprintf("cuda: the network needs %d bytes (%.1f MiB) of device memory", need, float64(need)/(1<<20))
	for _, c := range plan.MemoryByClass() {
		if c.Bytes > 0 {
			msg += fmt.Sprintf(", %s %d", c.Class, c.Bytes)
		}
	}
	return fmt.Errorf("%s, plus %d bytes reserved for the driver, but %s has %d bytes (%.1f MiB) free of %d: nothing was allocated",
		msg, memoryReserve, device, free, float64(free)/(1<<20), total)
}

// load allocates and fills everything; it runs on the device thread.
func (b *Backend) load(plan *launch.Plan) error {
	b.funcs = map[launch.Kernel]*driver.Function{}
	mods := map[string]*driver.Module{}
	for _, name := range launch.Modules() {
		m, err := b.dev.LoadEmbedded(name)
		if err != nil {
			return err
		}
		b.modules = append(b.modules, m)
		mods[name] = m
	}
	blocks := plan.KernelBlocks()
	for _, k := range launch.Kernels() {
		f, err := mods[k.Module()].Function(k.Name())
		if err != nil {
			return err
		}
		// The limit depends on the compiled kernel's registers, so the
		// query also has a lazily loading driver (CUDA 12) load the kernel
		// here rather than inside the stream capture of its first launch.
		maxBlock, err := f.Attribute(driver.MaxThreadsPerBlock)
		if err != nil {
			return err
		}
		// Only the kernels the plan launches, each at its own block size
		// (myelin_deliver_proc, the heaviest in registers, runs only for
		// networks with procedural projections).
		if bs, used := blocks[k]; used && int(bs) > maxBlock {
			field := "launch.Config.Block"
			if k == launch.DeliverTiled {
				field = "launch.Config.PTileBlock"
			}
			return fmt.Errorf("cuda: %s is %d threads, but kernel %s takes at most %d on %s", field, bs, k.Name(), maxBlock, b.dev.Info().Name)
		}
		if _, tiles := plan.PTiles(); k == launch.DeliverTiled && tiles > 0 {
			// More than 48 KiB of dynamic shared memory a block only
			// where the kernel is let opt in to it.
			if sh := int(plan.PTileShared()); sh > launch.DefaultPTileShared {
				if err := f.SetAttribute(driver.MaxDynamicSharedMemory, sh); err != nil {
					return fmt.Errorf("cuda: tiles of %d bytes of shared memory (launch.Config.PTileShared), more than %s lets kernel %s opt in to: %w",
						sh, b.dev.Info().Name, k.Name(), err)
				}
			}
		}
		b.funcs[k] = f
	}
	if plan.Persistent() {
		// The persistent kernel's blocks wait for each other: all of them
		// must be resident at once.
		per, err := b.funcs[plan.PersistentKernel()].MaxActiveBlocksPerSM(plan.Config().Block, 0)
		if err != nil {
			return err
		}
		if grid, sms := plan.Config().PersistentBlocks, b.dev.Info().SMs; grid > per*sms {
			return fmt.Errorf("cuda: a persistent grid of %d blocks of %d threads, but %s keeps at most %d resident (%d per SM × %d SMs): lower launch.Config.PersistentBlocks or turn Persistent off",
				grid, plan.Config().Block, b.dev.Info().Name, per*sms, per, sms)
		}
	}
	var err error
	if b.stream, err = b.dev.NewStream("myelin"); err != nil {
		return err
	}
	resident, err := b.adopt(plan.Network())
	if err != nil {
		return err
	}
	for _, spec := range plan.Buffers() {
		if spec.Resident {
			for s := range launch.RecordSets {
				b.bufs[s][spec.Buffer] = resident[spec.Buffer]
			}
			continue
		}
		sets := 1
		if spec.Buffer.Record() {
			sets = launch.RecordSets
		}
		for set := 0; set < sets; set++ {
			name := spec.Buffer.String()
			if spec.Buffer.Record() {
				name = fmt.Sprintf("%s[%d]", name, set)
			}
			buf, err := b.alloc(name, spec.Bytes)
			if err != nil {
				return err
			}
			// Zero on the legacy stream, then a synchronous upload: ordered.
			if err := buf.Zero(nil); err != nil {
				return err
			}
			if len(spec.Data) > 0 {
				if err := driver.Upload(buf, spec.Data); err != nil {
					return err
				}
			}
			for s := set; s < launch.RecordSets; s++ {
				b.bufs[s][spec.Buffer] = buf
			}
		}
	}
	plan.ReleaseTileIndex() // on the device now
	for set := range b.nets {
		b.nets[set] = plan.NetDescriptor(func(x launch.Buffer) uint64 { return uint64(b.bufs[set][x].Ptr()) })
	}
	k := int64(plan.ChunkSteps)
	for set := range b.host {
		h := &b.host[set]
		for _, p := range []struct {
			dst  **driver.Pinned
			name string
			size int64
		}{
			{&h.meta, "step", launch.StepBytes},
			{&h.counts, "spike counts", 4 * k},
			{&h.ids, "spike ids", 4 * k * int64(plan.Network().N)},
			{&h.samples, "samples", max(8, 4*k*int64(plan.SampleWidth))},
		} {
			if *p.dst, err = b.dev.AllocPinned(fmt.Sprintf("%s[%d]", p.name, set), p.size); err != nil {
				return err
			}
		}
		if h.done, err = b.newEvent(fmt.Sprintf("chunk done[%d]", set)); err != nil {
			return err
		}
		if h.idsDone, err = b.newEvent(fmt.Sprintf("spike ids done[%d]", set)); err != nil {
			return err
		}
	}
	b.graphs = map[graphKey]*driver.Graph{}
	return b.dev.Synchronize()
}

func (b *Backend) alloc(name string, size int64) (*driver.Buffer, error) {
	buf, err := b.dev.Alloc(name, size)
	if err != nil {
		return nil, err
	}
	b.owned = append(b.owned, buf)
	return buf, nil
}

func (b *Backend) newEvent(name string) (*driver.Event, error) {
	ev, err := driver.NewEvent(name)
	if err != nil {
		return nil, err
	}
	b.events = append(b.events, ev)
	return ev, nil
}

// graph returns the graph of a chunk of m steps on record set set,
// capturing it on first use (Advance captures before it enqueues work, so
// the stream is idle). Capturing runs nothing; driver.Graph.Launch replays it.
func (b *Backend) graph(m, set int) (*driver.Graph, error) {
	key := graphKey{m, set}
	if g, ok := b.graphs[key]; ok {
		return g, nil
	}
	ls := b.plan.Chunk(m)
	g, err := b.stream.Capture(fmt.Sprintf("chunk of %d steps, record set %d (%d launches)", m, set, len(ls)), func() error {
		return b.launch(m, set)
	})
	if err != nil {
		return nil, err
	}
	b.graphs[key] = g
	return g, nil
}

// launch enqueues the launches of a chunk of m steps on record set set.
func (b *Backend) launch(m, set int) error {
	net := b.nets[set]
	for _, l := range b.plan.Chunk(m) {
		f := b.funcs[l.Kernel]
		grid, block := driver.Dim3{X: int(l.Grid)}, driver.Dim3{X: int(l.Block)}
		s, a := binary.LittleEndian.AppendUint32(nil, l.S), binary.LittleEndian.AppendUint32(nil, l.A)
		var err error
		if l.Cooperative() {
			err = f.LaunchCooperativeValues(grid, block, int(l.Shared), b.stream, net, s, a)
		} else {
			err = f.LaunchValues(grid, block, int(l.Shared), b.stream, net, s, a)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Advance implements backend.Backend. After an error the device state is
// undefined: close the backend. With STDP, the steps are run in spans of
// one learning rate: between spans (the device idle) the STDP sets are
// uploaded again with the next phase's rate.
func (b *Backend) Advance(n int, blk *backend.Block) error {
	if b.plan == nil {
		return errors.New("cuda: Advance before Load")
	}
	if err := b.plan.CheckSteps(b.step, n); err != nil {
		return fmt.Errorf("cuda: %w", err)
	}
	for n > 0 {
		m, rate := b.plan.PhaseSpan(b.step, n)
		if rate != b.rate {
			sets, err := b.plan.STDPSets(rate)
			if err != nil {
				return fmt.Errorf("cuda: %w", err)
			}
			if err := driver.Upload(b.bufs[0][launch.BufSTDPSets], sets); err != nil {
				return err
			}
			b.rate = rate
		}
		if err := b.advance(m, blk); err != nil {
			return err
		}
		n -= m
	}
	return nil
}

// advance runs n steps in chunks, the device working on one while the
// host collects the one before.
func (b *Backend) advance(n int, blk *backend.Block) error {
	var sizes []int
	for done := 0; done < n; {
		m := min(n-done, b.plan.ChunkSteps)
		sizes = append(sizes, m)
		done += m
	}
	return b.dev.Do(func() error {
		// Capture what this call needs before enqueuing anything (a
		// persistent plan launches its few kernels per chunk directly).
		for c, m := range sizes {
			if b.plan.Persistent() {
				break
			}
			if _, err := b.graph(m, (b.set+c)%launch.RecordSets); err != nil {
				return err
			}
		}
		if len(sizes) == 0 {
			return nil
		}
		if err := b.enqueue(sizes[0], b.set); err != nil {
			return err
		}
		first := b.step
		for c, m := range sizes {
			set := (b.set + c) % launch.RecordSets
			if err := b.collect(c, sizes, set, first, blk); err != nil {
				return err
			}
			first += uint64(m)
		}
		b.step = first
		b.set = (b.set + len(sizes)) % launch.RecordSets
		return nil
	})
}

// enqueue launches a chunk's graph on record set set and copies its spike
// counts, samples and step counter to that set's pinned memory.
func (b *Backend) enqueue(m, set int) error {
	h, bufs, s := &b.host[set], &b.bufs[set], b.stream
	if b.plan.Persistent() {
		// A persistent chunk is six launches, one of them cooperative,
		// whose capture in a graph the driver may not support: launched
		// directly.
		if err := b.launch(m, set); err != nil {
			return err
		}
	} else {
		g, err := b.graph(m, set)
		if err != nil {
			return err
		}
		if err := g.Launch(s); err != nil {
			return err
		}
	}
	if err := s.CopyToHost(h.counts, 0, bufs[launch.BufSpkCnt], 0, 4*int64(m)); err != nil {
		return err
	}
	if w := int64(b.plan.SampleWidth); w > 0 {
		if err := s.CopyToHost(h.samples, 0, bufs[launch.BufSamples], 0, 4*int64(m)*w); err != nil {
			return err
		}
	}
	if err := s.CopyToHost(h.meta, 0, bufs[launch.BufStep], 0, launch.StepBytes); err != nil {
		return err
	}
	if err := h.done.Record(s); err != nil {
		return fmt.Errorf("cuda: after chunk of %d steps: %w", m, err)
	}
	return nil
}

// collect waits for chunk c (on record set set, first step first), fetches
// its spike ids, enqueues chunk c+1 behind that copy and fills blk while
// the device runs it.
func (b *Backend) collect(c int, sizes []int, set int, first uint64, blk *backend.Block) error {
	m := sizes[c]
	h, s := &b.host[set], b.stream
	if err := h.done.Synchronize(); err != nil {
		return fmt.Errorf("cuda: chunk of %d steps at step %d: %w", m, first, err)
	}
	if got := *(*uint64)(unsafe.Pointer(unsafe.SliceData(h.meta.Bytes()))); got != first+uint64(m) {
		return fmt.Errorf("cuda: device step counter is %d after the chunk of %d steps at step %d, want %d", got, m, first, first+uint64(m))
	}
	if err := b.plan.Fault(h.meta.Bytes(), first, m); err != nil {
		return fmt.Errorf("cuda: %w", err)
	}
	counts := h.counts.Uint32s()[:m]
	total := launch.Spikes(counts)
	if total > m*int(b.plan.Network().N) {
		return fmt.Errorf("cuda: chunk at step %d: %d spikes in %d steps of %d neurons", first, total, m, b.plan.Network().N)
	}
	if total > 0 {
		if err := s.CopyToHost(h.ids, 0, b.bufs[set][launch.BufSpkIDs], 0, 4*int64(total)); err != nil {
			return err
		}
	}
	if err := h.idsDone.Record(s); err != nil {
		return fmt.Errorf("cuda: after the spike ids at step %d: %w", first, err)
	}
	if c+1 < len(sizes) {
		if err := b.enqueue(sizes[c+1], (set+1)%launch.RecordSets); err != nil {
			return err
		}
	}
	if err := h.idsDone.Synchronize(); err != nil {
		return fmt.Errorf("cuda: copying %d spike ids of the chunk at step %d: %w", total, first, err)
	}
	samples := unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(h.samples.Bytes()))), m*b.plan.SampleWidth)
	if err := b.plan.Fill(blk, first, counts, h.ids.Uint32s()[:total], samples); err != nil {
		return fmt.Errorf("cuda: %w", err)
	}
	return nil
}

// Weights implements backend.Plastic: the stored weights as the kernels
// left them (a synchronous download).
func (b *Backend) Weights() ([]int32, error) {
	if b.plan == nil {
		return nil, errors.New("cuda: Weights before Load")
	}
	w := make([]int32, len(b.plan.Network().Syn.Weight))
	if err := driver.Download(w, b.bufs[0][launch.BufWeight]); err != nil {
		return nil, err
	}
	return w, nil
}

// Close implements backend.Backend: it frees every device and pinned
// buffer, graph, event, stream and module, and closes the device if the
// backend opened it.
func (b *Backend) Close() error {
	err := b.release()
	if b.ownsDev && b.dev != nil {
		err = errors.Join(err, b.dev.Close())
		b.dev = nil
	}
	b.plan = nil
	return err
}

// release frees what load made; it tolerates a partial load.
func (b *Backend) release() error {
	if b.dev == nil {
		return nil
	}
	var errs []error
	keep := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if b.stream != nil {
		keep(b.stream.Synchronize())
	}
	for _, g := range b.graphs {
		keep(g.Destroy())
	}
	b.graphs = nil
	for _, ev := range b.events {
		keep(b.dev.Do(ev.Destroy))
	}
	b.events = nil
	for i := range b.host {
		h := &b.host[i]
		for _, p := range []*driver.Pinned{h.meta, h.counts, h.ids, h.samples} {
			if p != nil {
				keep(p.Free())
			}
		}
		*h = hostSet{}
	}
	for _, buf := range b.owned {
		keep(buf.Free())
	}
	b.owned = nil
	b.bufs = [launch.RecordSets][launch.NumBuffers]*driver.Buffer{}
	b.nets = [launch.RecordSets][]byte{}
	if b.stream != nil {
		keep(b.stream.Destroy())
		b.stream = nil
	}
	for _, m := range b.modules {
		keep(m.Unload())
	}
	b.modules = nil
	if len(errs) > 0 {
		return fmt.Errorf("cuda: releasing the backend: %w", errors.Join(errs...))
	}
	return nil
}

// Compile-time checks.
var (
	_ backend.Backend = (*Backend)(nil)
	_ backend.Plastic = (*Backend)(nil)
)
