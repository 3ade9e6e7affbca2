package launch

import (
	"errors"
	"math"
	"testing"

	"github.com/myelin-sim/myelin/engine/network"
)

// Launch geometries past a CUDA block's 1,024 threads are clamped, and a
// layout with a row that the kernels' 32-bit indices cannot hold is
// refused with network.ErrNotOnDevice before anything is allocated.
func TestConstructorLimits(t *testing.T) {
	c := NewConstructor(nil, &ConstructConfig{Block: 4096, SortBlock: 2048})
	if c.cfg.Block != 1024 || c.cfg.SortBlock != 1024 {
		t.Errorf("Block %d, SortBlock %d: want both clamped to 1024", c.cfg.Block, c.cfg.SortBlock)
	}
	if d := NewConstructor(nil, &ConstructConfig{Block: 64}); d.cfg.SortBlock != 64 {
		t.Errorf("SortBlock %d: want Block's 64", d.cfg.SortBlock)
	}
	l := &network.DeviceLayout{RowPtr: []uint64{0, 5, 5 + math.MaxUint32 + 1}, PopFirst: []uint32{0, 2}}
	if err := c.Allocate(l); !errors.Is(err, network.ErrNotOnDevice) {
		t.Errorf("a row of 2^32 synapses: got %v, want ErrNotOnDevice", err)
	}
}
