//go:build cuda

package cuda

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/myelin-sim/myelin/cuda/driver"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/kernels/launch"
)

// constructMemory is launch.ConstructDevice on a GPU: device buffers by
// address, and the construct kernels (kernels/construct.cu) launched on
// the legacy default stream, each waited for.
type constructMemory struct {
	dev    *driver.Device
	module *driver.Module
	funcs  map[launch.ConstructKernel]*driver.Function
	bufs   map[uint64]*driver.Buffer
}

// NewConstructor returns a launch.Constructor (network.SynapseDevice)
// that builds synapse arrays on dev with the construct kernels (cfg nil:
// launch's defaults, with scratch launch.ProceduralScratchFor the
// device; blocks no larger than every construct kernel's
// MaxThreadsPerBlock on dev), and a function that releases its module
// and the memory that a failed build left (not arrays kept for a
// backend: see network.Options.KeepOnDevice).
func NewConstructor(dev *driver.Device, cfg *launch.ConstructConfig) (*launch.Constructor, func() error, error) {
	m := &constructMemory{dev: dev, funcs: map[launch.ConstructKernel]*driver.Function{}, bufs: map[uint64]*driver.Buffer{}}
	mod, err := dev.LoadEmbedded(launch.ConstructCount.Module())
	if err != nil {
		return nil, nil, err
	}
	m.module = mod
	// The most threads per block that every construct kernel takes on
	// this device: some need so many registers that a block of 1,024
	// would not launch (CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES).
	maxBlock := 0
	for _, k := range launch.ConstructKernels() {
		f, err := mod.Function(k.Name())
		if err != nil {
			return nil, nil, errors.Join(err, mod.Unload())
		}
		most, err := f.Attribute(driver.MaxThreadsPerBlock)
		if err != nil {
			return nil, nil, errors.Join(err, mod.Unload())
		}
		if maxBlock == 0 || most < maxBlock {
			maxBlock = most
		}
		m.funcs[k] = f
	}
	c := launch.ConstructConfig{}
	if cfg != nil {
		c = *cfg
	}
	if c.MaxBlock <= 0 || maxBlock < c.MaxBlock {
		c.MaxBlock = maxBlock
	}
	if c.ScratchBytes == 0 {
		if _, total, err := dev.FreeMemory(); err == nil {
			c.ScratchBytes = launch.ProceduralScratchFor(total)
		}
	}
	if c.Threads == 0 {
		c.Threads = 64 * 1024 * max(1, dev.Info().SMs/8)
	}
	con := launch.NewConstructor(m, &c)
	// Release frees what a failed build left and unloads the module;
	// arrays kept on the device (network.Synapses.Resident) stay, for a
	// backend to adopt or their Release to free.
	release := func() error {
		con.Close()
		return m.module.Unload()
	}
	return con, release, nil
}

// Constructor returns a launch.Constructor on the backend's device
// (NewConstructor), for network.BuildOn before Load, and the function that
// releases it.
func (b *Backend) Constructor(cfg *launch.ConstructConfig) (*launch.Constructor, func() error, error) {
	return NewConstructor(b.dev, cfg)
}

// adopt takes over the synapse arrays that a construction on this device
// left there (network.Synapses.Resident): the backend frees them with its
// other buffers.
func (b *Backend) adopt(net *network.Network) (map[launch.Buffer]*driver.Buffer, error) {
	out, err := launch.Adopt(net, func(m *constructMemory) bool { return m.dev == b.dev }, func(m *constructMemory, a uint64) (*driver.Buffer, bool) {
		db, ok := m.bufs[a]
		if ok {
			delete(m.bufs, a)
			b.owned = append(b.owned, db)
		}
		return db, ok
	})
	if err != nil {
		return nil, fmt.Errorf("cuda: %w", err)
	}
	return out, nil
}

// Alloc implements launch.ConstructDevice: zeroed device memory.
func (m *constructMemory) Alloc(bytes int64, name string) (uint64, error) {
	b, err := m.dev.Alloc("construct "+name, max(1, bytes))
	if err != nil {
		return 0, err
	}
	if err := b.Zero(nil); err != nil {
		return 0, errors.Join(err, b.Free())
	}
	a := uint64(b.Ptr())
	m.bufs[a] = b
	return a, nil
}

// Free implements launch.ConstructDevice.
func (m *constructMemory) Free(addr uint64) {
	if b, ok := m.bufs[addr]; ok {
		_ = b.Free() // a failed free leaves the memory to the context's end
		delete(m.bufs, addr)
	}
}

func (m *constructMemory) buffer(addr uint64) (*driver.Buffer, error) {
	b, ok := m.bufs[addr]
	if !ok {
		return nil, fmt.Errorf("cuda: construct: %#x is not an allocation", addr)
	}
	return b, nil
}

// Write implements launch.ConstructDevice.
func (m *constructMemory) Write(addr uint64, p []byte) error {
	b, err := m.buffer(addr)
	if err != nil {
		return err
	}
	return driver.Upload(b, p)
}

// Read implements launch.ConstructDevice.
func (m *constructMemory) Read(addr uint64, p []byte) error {
	b, err := m.buffer(addr)
	if err != nil {
		return err
	}
	return driver.Download(p, b)
}

// Launch implements launch.ConstructDevice.
func (m *constructMemory) Launch(k launch.ConstructKernel, grid, block uint32, desc []byte, a uint32) error {
	f, ok := m.funcs[k]
	if !ok {
		return fmt.Errorf("cuda: construct kernel %d: unknown", k)
	}
	err := f.LaunchValues(driver.Dim3{X: int(grid)}, driver.Dim3{X: int(block)}, 0, nil, desc,
		binary.LittleEndian.AppendUint32(nil, a), binary.LittleEndian.AppendUint32(nil, 0))
	if err != nil {
		return err
	}
	return m.dev.Synchronize()
}

// Compile-time check.
var _ launch.ConstructDevice = (*constructMemory)(nil)
