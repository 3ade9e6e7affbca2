//go:build cuda

package driver

import (
	"errors"
	"fmt"
	"math"
	"unsafe"

	"gorgonia.org/cu"
)

// Module is a loaded PTX module.
type Module struct {
	d    *Device
	m    cu.Module
	name string
}

// Name returns the name the module was loaded under.
func (m *Module) Name() string { return m.name }

// Function looks up the kernel with the given (extern "C") name.
func (m *Module) Function(name string) (*Function, error) {
	f := &Function{d: m.d, name: name}
	err := m.d.Do(func() error {
		var err error
		f.fn, err = m.m.Function(name)
		return driverErr(err)
	})
	if err != nil {
		return nil, fmt.Errorf("cuda: module %q: kernel %q: %w", m.name, name, err)
	}
	return f, nil
}

// Unload unloads the module; its functions must not be used afterwards.
func (m *Module) Unload() error {
	if err := m.d.Do(func() error { return driverErr(m.m.Unload()) }); err != nil {
		return fmt.Errorf("cuda: unload module %q: %w", m.name, err)
	}
	return nil
}

// Function is a kernel in a loaded module.
type Function struct {
	d    *Device
	fn   cu.Function
	name string
}

// Name returns the kernel's name.
func (f *Function) Name() string { return f.name }

// Dim3 is a grid or block size. A zero Y or Z counts as 1, so Dim3{X: 256}
// is a one-dimensional size.
type Dim3 struct{ X, Y, Z int }

func (d Dim3) norm() Dim3 {
	if d.Y == 0 {
		d.Y = 1
	}
	if d.Z == 0 {
		d.Z = 1
	}
	return d
}

// String formats the size as (x,y,z).
func (d Dim3) String() string { return fmt.Sprintf("(%d,%d,%d)", d.X, d.Y, d.Z) }

// Launch enqueues the kernel on stream s (nil: the legacy default stream)
// with sharedMem bytes of dynamic shared memory. Each argument is one
// kernel parameter: a *Buffer or cu.DevicePtr (a device pointer), int32,
// uint32, float32, int64, uint64, float64 or bool. Errors name the kernel
// and the launch geometry.
func (f *Function) Launch(grid, block Dim3, sharedMem int, s *Stream, args ...any) error {
	grid, block = grid.norm(), block.norm()
	err := f.launch(grid, block, sharedMem, args, func(params []unsafe.Pointer, _ []uint64) error {
		return driverErr(f.fn.Launch(grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, sharedMem, s.cu(), params))
	})
	if err != nil {
		return fmt.Errorf("cuda: launch %s grid=%s block=%s smem=%d stream=%s: %w", f.name, grid, block, sharedMem, s.label(), err)
	}
	return nil
}

// LaunchCooperative is Launch through cuLaunchCooperativeKernel: all blocks
// are resident at once and may synchronise grid-wide, so the grid must not
// exceed MaxActiveBlocksPerSM × the device's SMs.
func (f *Function) LaunchCooperative(grid, block Dim3, sharedMem int, s *Stream, args ...any) error {
	grid, block = grid.norm(), block.norm()
	err := f.launch(grid, block, sharedMem, args, func(_ []unsafe.Pointer, slots []uint64) error {
		return launchCooperative(f.fn, grid, block, sharedMem, s.cu(), slots)
	})
	if err != nil {
		return fmt.Errorf("cuda: cooperative launch %s grid=%s block=%s smem=%d stream=%s: %w", f.name, grid, block, sharedMem, s.label(), err)
	}
	return nil
}

// LaunchValues launches the kernel with parameters given as their bytes,
// each passed by value: a struct parameter (a kernel's
// "const __grid_constant__ T p") gets the bytes of T in the kernel's
// layout, a 32-bit integer its 4 little-endian bytes. Launch cannot pass
// a struct: it (and gorgonia.org/cu under it) packs every parameter into
// 8 bytes. A stream capture records the values in the graph.
func (f *Function) LaunchValues(grid, block Dim3, sharedMem int, s *Stream, params ...[]byte) error {
	return f.launchValues("launch", false, grid, block, sharedMem, s, params)
}

// LaunchCooperativeValues is LaunchValues through
// cuLaunchCooperativeKernel: all blocks are resident at once and may wait
// for each other at grid-wide barriers, so the grid must not exceed
// MaxActiveBlocksPerSM × the device's SMs (the driver refuses a larger
// one).
func (f *Function) LaunchCooperativeValues(grid, block Dim3, sharedMem int, s *Stream, params ...[]byte) error {
	return f.launchValues("cooperative launch", true, grid, block, sharedMem, s, params)
}

func (f *Function) launchValues(what string, coop bool, grid, block Dim3, sharedMem int, s *Stream, params [][]byte) error {
	grid, block = grid.norm(), block.norm()
	err := checkGeometry(grid, block, sharedMem)
	if err == nil && len(params) > maxArgs {
		err = fmt.Errorf("%d arguments, at most %d", len(params), maxArgs)
	}
	var blob []byte
	offs := make([]uint32, len(params))
	for i, p := range params {
		if err == nil && (len(p) == 0 || len(p) > maxParamBytes) {
			err = fmt.Errorf("argument %d: %d bytes, want 1 to %d", i, len(p), maxParamBytes)
		}
		offs[i] = uint32(len(blob))
		blob = append(blob, p...)
	}
	if err == nil && len(blob) > maxParamBytes {
		err = fmt.Errorf("%d bytes of parameters, at most %d", len(blob), maxParamBytes)
	}
	if err == nil {
		err = f.d.Do(func() error { return launchValues(f.fn, coop, grid, block, sharedMem, s.cu(), blob, offs) })
	}
	if err != nil {
		return fmt.Errorf("cuda: %s %s grid=%s block=%s smem=%d stream=%s: %w", what, f.name, grid, block, sharedMem, s.label(), err)
	}
	return nil
}

// maxParamBytes is the CUDA limit on a kernel's parameters (4 KiB before
// Volta's 32 KiB; the smaller one holds everywhere).
const maxParamBytes = 4096

// maxArgs bounds the number of kernel parameters (our cooperative launch
// keeps their pointers in a fixed C array).
const maxArgs = 64

// launch checks the geometry, packs the arguments into 8-byte slots (the
// driver reads each parameter's own size from the start of its slot; the
// machine is little-endian) and calls do on the device thread.
func (f *Function) launch(grid, block Dim3, sharedMem int, args []any, do func([]unsafe.Pointer, []uint64) error) error {
	if err := checkGeometry(grid, block, sharedMem); err != nil {
		return err
	}
	if len(args) > maxArgs {
		return fmt.Errorf("%d arguments, at most %d", len(args), maxArgs)
	}
	slots := make([]uint64, len(args))
	params := make([]unsafe.Pointer, len(args))
	for i, a := range args {
		v, err := argSlot(a)
		if err != nil {
			return fmt.Errorf("argument %d: %w", i, err)
		}
		slots[i] = v
		params[i] = unsafe.Pointer(&slots[i])
	}
	return f.d.Do(func() error { return do(params, slots) })
}

// checkGeometry checks a launch's dimensions and shared memory size.
func checkGeometry(grid, block Dim3, sharedMem int) error {
	for _, v := range []int{grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z} {
		if v <= 0 || v > math.MaxInt32 {
			return errors.New("every grid and block dimension must be at least 1")
		}
	}
	if sharedMem < 0 {
		return errors.New("negative shared memory size")
	}
	return nil
}

func argSlot(a any) (uint64, error) {
	switch v := a.(type) {
	case *Buffer:
		if v == nil || v.ptr == 0 {
			return 0, errors.New("nil or freed *Buffer")
		}
		return uint64(v.ptr), nil
	case cu.DevicePtr:
		return uint64(v), nil
	case int32:
		return uint64(uint32(v)), nil
	case uint32:
		return uint64(v), nil
	case float32:
		return uint64(math.Float32bits(v)), nil
	case int64:
		return uint64(v), nil
	case uint64:
		return v, nil
	case float64:
		return math.Float64bits(v), nil
	case bool:
		if v {
			return 1, nil
		}
		return 0, nil
	case int, uint:
		return 0, fmt.Errorf("type %T is ambiguous for a kernel parameter: convert to int32/uint32 (C int) or int64/uint64", a)
	default:
		return 0, fmt.Errorf("unsupported kernel parameter type %T", a)
	}
}

// MaxActiveBlocksPerSM returns how many blocks of blockSize threads using
// sharedMem bytes of dynamic shared memory fit on one SM at once.
func (f *Function) MaxActiveBlocksPerSM(blockSize, sharedMem int) (int, error) {
	var n int
	err := f.d.Do(func() error {
		var err error
		n, err = f.fn.MaxActiveBlocksPerMultiProcessor(blockSize, int64(sharedMem))
		return driverErr(err)
	})
	if err != nil {
		return 0, fmt.Errorf("cuda: occupancy of %s (block %d, smem %d): %w", f.name, blockSize, sharedMem, err)
	}
	return n, nil
}
