package launch

import (
	"errors"
	"math"
	"testing"

	"github.com/myelin-sim/myelin/engine/network"
)

// Launch geometries past a CUDA block's 1,024 threads, or past the
// kernels' MaxBlock, are clamped, and a layout with a row that the
// kernels' 32-bit indices cannot hold is refused with
// network.ErrNotOnDevice before anything is allocated.
func TestConstructorLimits(t *testing.T) {
	c := NewConstructor(nil, &ConstructConfig{Block: 4096, SortBlock: 2048})
	if c.cfg.Block != 1024 || c.cfg.SortBlock != 1024 {
		t.Errorf("Block %d, SortBlock %d: want both clamped to 1024", c.cfg.Block, c.cfg.SortBlock)
	}
	if d := NewConstructor(nil, &ConstructConfig{Block: 64}); d.cfg.SortBlock != 64 {
		t.Errorf("SortBlock %d: want Block's 64", d.cfg.SortBlock)
	}
	// A device whose kernels take at most 640 threads per block (their
	// registers allow no more) clamps the defaults and larger settings
	// to 640 and keeps smaller ones; a MaxBlock past 1,024, or none, is
	// 1,024.
	for _, tc := range []struct {
		cfg                   ConstructConfig
		block, sort, maxBlock int
	}{
		{ConstructConfig{MaxBlock: 640}, 256, 256, 640},
		{ConstructConfig{MaxBlock: 640, Block: 1024}, 640, 640, 640},
		{ConstructConfig{MaxBlock: 640, Block: 128, SortBlock: 768}, 128, 640, 640},
		{ConstructConfig{MaxBlock: 192}, 192, 192, 192},
		{ConstructConfig{MaxBlock: 4096, Block: 2048}, 1024, 1024, 1024},
		{ConstructConfig{MaxBlock: -1, SortBlock: 512}, 256, 512, 1024},
	} {
		d := NewConstructor(nil, &tc.cfg)
		if d.cfg.Block != tc.block || d.cfg.SortBlock != tc.sort || d.cfg.MaxBlock != tc.maxBlock {
			t.Errorf("%+v: Block %d, SortBlock %d, MaxBlock %d; want %d, %d, %d", tc.cfg,
				d.cfg.Block, d.cfg.SortBlock, d.cfg.MaxBlock, tc.block, tc.sort, tc.maxBlock)
		}
	}
	l := &network.DeviceLayout{RowPtr: []uint64{0, 5, 5 + math.MaxUint32 + 1}, PopFirst: []uint32{0, 2}}
	if err := c.Allocate(l); !errors.Is(err, network.ErrNotOnDevice) {
		t.Errorf("a row of 2^32 synapses: got %v, want ErrNotOnDevice", err)
	}
}
