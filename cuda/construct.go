//go:build cuda

package cuda

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/myelin-sim/myelin/cuda/driver"
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
// device), and a function that releases its module and any memory left.
func NewConstructor(dev *driver.Device, cfg *launch.ConstructConfig) (*launch.Constructor, func() error, error) {
	m := &constructMemory{dev: dev, funcs: map[launch.ConstructKernel]*driver.Function{}, bufs: map[uint64]*driver.Buffer{}}
	mod, err := dev.LoadEmbedded(launch.ConstructCount.Module())
	if err != nil {
		return nil, nil, err
	}
	m.module = mod
	for _, k := range launch.ConstructKernels() {
		f, err := mod.Function(k.Name())
		if err != nil {
			return nil, nil, errors.Join(err, mod.Unload())
		}
		m.funcs[k] = f
	}
	c := launch.ConstructConfig{}
	if cfg != nil {
		c = *cfg
	}
	if c.ScratchBytes == 0 {
		if _, total, err := dev.FreeMemory(); err == nil {
			c.ScratchBytes = launch.ProceduralScratchFor(total)
		}
	}
	if c.Threads == 0 {
		c.Threads = 64 * 1024 * max(1, dev.Info().SMs/8)
	}
	release := func() error {
		var errs []error
		for a, b := range m.bufs {
			errs = append(errs, b.Free())
			delete(m.bufs, a)
		}
		return errors.Join(append(errs, m.module.Unload())...)
	}
	return launch.NewConstructor(m, &c), release, nil
}

// Constructor returns a launch.Constructor on the backend's device
// (NewConstructor), for network.BuildOn before Load, and the function that
// releases it.
func (b *Backend) Constructor(cfg *launch.ConstructConfig) (*launch.Constructor, func() error, error) {
	return NewConstructor(b.dev, cfg)
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
