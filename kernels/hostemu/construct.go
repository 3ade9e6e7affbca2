//go:build hostemu

package hostemu

/*
#include <stdlib.h>
#include <string.h>
#include "emu.h"
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/kernels/launch"
)

// Memory is launch.ConstructDevice on the host: C memory stands in for
// device memory and the construct kernels run through the SIMT shim.
type Memory struct {
	live map[uint64]unsafe.Pointer
}

// emuConfig is NewConstructor's launch configuration: small blocks and
// few threads, so that the kernels' loops over their work and the scratch
// slots are exercised, and block sorts of three threads (each a fiber of
// the shim, simt_launch_blocks).
func emuConfig() launch.ConstructConfig {
	return launch.ConstructConfig{Block: 32, Threads: 96, SortBlock: 3}
}

// NewConstructor returns a launch.Constructor (network.SynapseDevice) that
// runs the construct kernels on the host, with the launch configuration
// cfg (nil: emuConfig's).
func NewConstructor(cfg *launch.ConstructConfig) *launch.Constructor {
	c := emuConfig()
	if cfg != nil {
		c = *cfg
	}
	return launch.NewConstructor(&Memory{live: map[uint64]unsafe.Pointer{}}, &c)
}

// Alloc implements launch.ConstructDevice.
func (m *Memory) Alloc(bytes int64, name string) (uint64, error) {
	p := C.calloc(1, C.size_t(max(1, bytes)))
	if p == nil {
		return 0, fmt.Errorf("hostemu: allocating %q (%d bytes): out of memory", name, bytes)
	}
	a := uint64(uintptr(p))
	m.live[a] = p
	return a, nil
}

// Free implements launch.ConstructDevice.
func (m *Memory) Free(addr uint64) {
	if p, ok := m.live[addr]; ok {
		C.free(p)
		delete(m.live, addr)
	}
}

// Write implements launch.ConstructDevice.
func (m *Memory) Write(addr uint64, b []byte) error {
	p, ok := m.live[addr]
	if !ok {
		return fmt.Errorf("hostemu: write to %#x: not an allocation", addr)
	}
	copy(unsafe.Slice((*byte)(p), len(b)), b)
	return nil
}

// Read implements launch.ConstructDevice.
func (m *Memory) Read(addr uint64, b []byte) error {
	p, ok := m.live[addr]
	if !ok {
		return fmt.Errorf("hostemu: read from %#x: not an allocation", addr)
	}
	copy(b, unsafe.Slice((*byte)(p), len(b)))
	return nil
}

// Launch implements launch.ConstructDevice.
func (m *Memory) Launch(k launch.ConstructKernel, grid, block uint32, desc []byte, a uint32) error {
	d := C.CBytes(desc)
	defer C.free(d)
	if rc := C.myelin_emu_construct(C.int(k), C.uint(grid), C.uint(block), d, C.uint(a)); rc != 0 {
		return fmt.Errorf("hostemu: construct kernel %d: unknown", k)
	}
	return nil
}

// adopt takes over the synapse arrays that an emulated construction left in
// C memory (network.Synapses.Resident): the backend frees them on Close.
func (b *Backend) adopt(net *network.Network) (map[launch.Buffer]unsafe.Pointer, error) {
	out, err := launch.Adopt(net, func(*Memory) bool { return true }, func(m *Memory, a uint64) (unsafe.Pointer, bool) {
		p, ok := m.live[a]
		if ok {
			delete(m.live, a)
			b.mem = append(b.mem, p)
		}
		return p, ok
	})
	if err != nil {
		return nil, fmt.Errorf("hostemu: %w", err)
	}
	return out, nil
}

// Live returns the number of allocations not freed (for tests).
func (m *Memory) Live() int { return len(m.live) }
