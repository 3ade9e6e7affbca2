//go:build cuda

package driver

// This file calls the CUDA driver API directly for what gorgonia.org/cu
// lacks: pinned host memory, stream capture and graphs, cooperative launch,
// function attributes, memory info, device name and driver version, error
// names.
//
// Raw handles. cu's handle types wrap the C handle in an unexported field,
// and cgo types are distinct per package, so we convert through
// unsafe.Pointer:
//   - cu.Stream has an exported C() method; its result is a pointer, and
//     C.CUstream(unsafe.Pointer(s.C())) is our package's CUstream.
//   - cu.Function (struct{ fn C.CUfunction }) has no accessor. A struct with
//     a single pointer field has that pointer's layout, so we read it with
//     *(*C.CUfunction)(unsafe.Pointer(&fn)); the array sizes below stop the
//     build if cu ever changes the struct's size.
//   - No CUcontext is needed: every call runs on the device thread, where
//     the context is current.

/*
#cgo LDFLAGS: -lcuda
#include <cuda.h>
#include <stdint.h>

// myelin_launch_cooperative launches f with n parameters whose values sit
// in 8-byte slots (each parameter reads its own size from its slot's start).
static CUresult myelin_launch_cooperative(CUfunction f,
		unsigned gx, unsigned gy, unsigned gz,
		unsigned bx, unsigned by, unsigned bz,
		unsigned smem, CUstream s, uint64_t *slots, int n) {
	void *params[64];
	if (n > 64) return CUDA_ERROR_INVALID_VALUE;
	for (int i = 0; i < n; i++) params[i] = &slots[i];
	return cuLaunchCooperativeKernel(f, gx, gy, gz, bx, by, bz, smem, s, n ? params : NULL);
}

// myelin_launch_values launches f with n parameters passed by value: the
// bytes of parameter i start at blob + offs[i] (the driver reads as many as
// the kernel's parameter has), so a parameter may be a struct of any size
// up to the driver's 4 KiB limit. The driver copies the values before it
// returns (and a stream capture keeps its own copy in the graph). coop:
// through cuLaunchCooperativeKernel (every block resident at once).
static CUresult myelin_launch_values(CUfunction f, int coop,
		unsigned gx, unsigned gy, unsigned gz,
		unsigned bx, unsigned by, unsigned bz,
		unsigned smem, CUstream s, const uint8_t *blob, const uint32_t *offs, int n) {
	void *params[64];
	if (n > 64) return CUDA_ERROR_INVALID_VALUE;
	for (int i = 0; i < n; i++) params[i] = (void *)(blob + offs[i]);
	if (coop) return cuLaunchCooperativeKernel(f, gx, gy, gz, bx, by, bz, smem, s, n ? params : NULL);
	return cuLaunchKernel(f, gx, gy, gz, bx, by, bz, smem, s, n ? params : NULL, NULL);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"reflect"
	"unsafe"

	"gorgonia.org/cu"
)

// The raw-handle conversions below rely on these sizes.
var (
	_ [unsafe.Sizeof(cu.Function{}) - unsafe.Sizeof(C.CUfunction(nil))]struct{}
	_ [unsafe.Sizeof(C.CUfunction(nil)) - unsafe.Sizeof(cu.Function{})]struct{}
)

func rawFunction(fn cu.Function) C.CUfunction { return *(*C.CUfunction)(unsafe.Pointer(&fn)) }

func rawStream(s cu.Stream) C.CUstream { return C.CUstream(unsafe.Pointer(s.C())) }

const (
	attrCooperativeLaunch     = cu.DeviceAttribute(C.CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH)
	codeUnsupportedPTXVersion = C.CUDA_ERROR_UNSUPPORTED_PTX_VERSION
	codeOutOfMemory           = C.CUDA_ERROR_OUT_OF_MEMORY
)

// driverError is a CUresult other than CUDA_SUCCESS.
type driverError int

func (e driverError) Error() string {
	var name, desc *C.char
	if C.cuGetErrorName(C.CUresult(e), &name) != C.CUDA_SUCCESS {
		return fmt.Sprintf("CUDA error %d", int(e))
	}
	C.cuGetErrorString(C.CUresult(e), &desc)
	if desc == nil {
		return C.GoString(name)
	}
	return C.GoString(name) + ": " + C.GoString(desc)
}

func check(r C.CUresult) error {
	if r == C.CUDA_SUCCESS {
		return nil
	}
	return driverError(r)
}

// driverErr turns an error from gorgonia.org/cu (an unexported integer
// type holding the CUresult, printed in cu's own words, unknown codes as a
// number) into a driverError, which prints NVIDIA's name and description.
// Other errors pass through.
func driverErr(err error) error {
	if err == nil {
		return nil
	}
	if v := reflect.ValueOf(err); v.Kind() == reflect.Int && v.Type().PkgPath() == "gorgonia.org/cu" {
		return driverError(v.Int())
	}
	return err
}

func isCode(err error, code C.CUresult) bool {
	var e driverError
	return errors.As(err, &e) && C.CUresult(e) == code
}

// IsOutOfMemory reports whether err comes from the driver running out of
// device (or pinned host) memory.
func IsOutOfMemory(err error) bool { return isCode(err, codeOutOfMemory) }

// DriverVersion returns the installed driver's CUDA API version,
// 1000*major + 10*minor (12040 is CUDA 12.4).
func DriverVersion() (int, error) {
	var v C.int
	if err := check(C.cuDriverGetVersion(&v)); err != nil {
		return 0, fmt.Errorf("cuda: cuDriverGetVersion: %w", err)
	}
	return int(v), nil
}

func deviceName(dev cu.Device) (string, error) {
	var buf [256]C.char
	if err := check(C.cuDeviceGetName(&buf[0], C.int(len(buf)), C.CUdevice(dev))); err != nil {
		return "", fmt.Errorf("cuDeviceGetName: %w", err)
	}
	return C.GoString(&buf[0]), nil
}

// memGetInfo must run on the device thread.
func memGetInfo() (free, total uint64, err error) {
	var f, t C.size_t
	if err := check(C.cuMemGetInfo(&f, &t)); err != nil {
		return 0, 0, fmt.Errorf("cuMemGetInfo: %w", err)
	}
	return uint64(f), uint64(t), nil
}

// Pinned is page-locked host memory, which the device reads and writes
// with asynchronous copies while the host goes on. Its contents are seen
// from Go through Bytes or Uint32s; those slices are valid until Free.
type Pinned struct {
	d    *Device
	p    unsafe.Pointer
	size int64
	name string
}

// AllocPinned allocates size bytes of pinned host memory (not cleared).
func (d *Device) AllocPinned(name string, size int64) (*Pinned, error) {
	if size <= 0 {
		return nil, fmt.Errorf("cuda: alloc pinned %q: size %d bytes, want > 0", name, size)
	}
	p := &Pinned{d: d, size: size, name: name}
	err := d.Do(func() error { return check(C.cuMemHostAlloc(&p.p, C.size_t(size), 0)) })
	if err != nil {
		return nil, fmt.Errorf("cuda: alloc pinned %q (%d bytes): %w", name, size, err)
	}
	return p, nil
}

// Name returns the buffer's name.
func (p *Pinned) Name() string { return p.name }

// Size returns the buffer's size in bytes.
func (p *Pinned) Size() int64 { return p.size }

// Bytes returns the buffer as a byte slice (nil once freed).
func (p *Pinned) Bytes() []byte {
	if p.p == nil {
		return nil
	}
	return unsafe.Slice((*byte)(p.p), p.size)
}

// Uint32s returns the buffer as a uint32 slice of Size()/4 elements (nil
// once freed). cuMemHostAlloc memory is page-aligned.
func (p *Pinned) Uint32s() []uint32 {
	if p.p == nil {
		return nil
	}
	return unsafe.Slice((*uint32)(p.p), p.size/4)
}

// Free releases the buffer; slices from Bytes and Uint32s must not be used
// afterwards. Freeing twice is harmless.
func (p *Pinned) Free() error {
	if p.p == nil {
		return nil
	}
	if err := p.d.Do(func() error { return check(C.cuMemFreeHost(p.p)) }); err != nil {
		return fmt.Errorf("cuda: free pinned %q (%d bytes): %w", p.name, p.size, err)
	}
	p.p = nil
	return nil
}

func (p *Pinned) span(op string, off, n int64) error {
	if p.p == nil {
		return fmt.Errorf("cuda: pinned buffer %q used after Free", p.name)
	}
	if off < 0 || n < 0 || off > p.size || n > p.size-off {
		return fmt.Errorf("cuda: %s pinned %q: bytes [%d, %d) outside its %d bytes", op, p.name, off, off+n, p.size)
	}
	return nil
}

// Graph is an instantiated CUDA graph: a recorded sequence of kernel
// launches and copies that one call replays.
type Graph struct {
	d    *Device
	name string
	g    C.CUgraph
	exec C.CUgraphExec
}

// Capture records the work that f enqueues on s (launches, copies,
// memsets; nothing may synchronise) into a graph and instantiates it. The
// name is for error messages. Work is recorded, not run: launch the graph
// to run it. Capture runs f on the device thread (capture mode
// thread-local), so f's calls on this device do not hop goroutines.
func (s *Stream) Capture(name string, f func() error) (*Graph, error) {
	g := &Graph{d: s.d, name: name}
	err := s.d.Do(func() error {
		raw := rawStream(s.s)
		if err := check(C.cuStreamBeginCapture(raw, C.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL)); err != nil {
			return fmt.Errorf("cuStreamBeginCapture: %w", err)
		}
		ferr := run(f)
		eerr := check(C.cuStreamEndCapture(raw, &g.g))
		if ferr != nil || eerr != nil {
			if g.g != nil {
				C.cuGraphDestroy(g.g)
			}
			if eerr != nil {
				eerr = fmt.Errorf("cuStreamEndCapture: %w", eerr)
			}
			return errors.Join(ferr, eerr)
		}
		if err := check(C.cuGraphInstantiateWithFlags(&g.exec, g.g, 0)); err != nil {
			C.cuGraphDestroy(g.g)
			return fmt.Errorf("cuGraphInstantiate: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cuda: capture graph %q on stream %s: %w", name, s.label(), err)
	}
	return g, nil
}

// Launch enqueues one replay of the graph on stream s (nil: the legacy
// default stream).
func (g *Graph) Launch(s *Stream) error {
	if g.exec == nil {
		return fmt.Errorf("cuda: graph %q launched after Destroy", g.name)
	}
	err := g.d.Do(func() error { return check(C.cuGraphLaunch(g.exec, rawStream(s.cu()))) })
	if err != nil {
		return fmt.Errorf("cuda: launch graph %q on stream %s: %w", g.name, s.label(), err)
	}
	return nil
}

// Destroy releases the graph; destroying twice is harmless.
func (g *Graph) Destroy() error {
	if g.exec == nil {
		return nil
	}
	err := g.d.Do(func() error {
		return errors.Join(check(C.cuGraphExecDestroy(g.exec)), check(C.cuGraphDestroy(g.g)))
	})
	g.exec, g.g = nil, nil
	if err != nil {
		return fmt.Errorf("cuda: destroy graph %q: %w", g.name, err)
	}
	return nil
}

// launchCooperative must run on the device thread.
func launchCooperative(fn cu.Function, grid, block Dim3, sharedMem int, s cu.Stream, slots []uint64) error {
	var p *C.uint64_t
	if len(slots) > 0 {
		p = (*C.uint64_t)(unsafe.Pointer(&slots[0]))
	}
	return check(C.myelin_launch_cooperative(rawFunction(fn),
		C.uint(grid.X), C.uint(grid.Y), C.uint(grid.Z),
		C.uint(block.X), C.uint(block.Y), C.uint(block.Z),
		C.uint(sharedMem), rawStream(s), p, C.int(len(slots))))
}

// launchValues must run on the device thread; see Function.LaunchValues
// and LaunchCooperativeValues (coop).
func launchValues(fn cu.Function, coop bool, grid, block Dim3, sharedMem int, s cu.Stream, blob []byte, offs []uint32) error {
	var b *C.uint8_t
	var o *C.uint32_t
	if len(offs) > 0 {
		b = (*C.uint8_t)(unsafe.Pointer(&blob[0]))
		o = (*C.uint32_t)(unsafe.Pointer(&offs[0]))
	}
	c := C.int(0)
	if coop {
		c = 1
	}
	return check(C.myelin_launch_values(rawFunction(fn), c,
		C.uint(grid.X), C.uint(grid.Y), C.uint(grid.Z),
		C.uint(block.X), C.uint(block.Y), C.uint(block.Z),
		C.uint(sharedMem), rawStream(s), b, o, C.int(len(offs))))
}

// FuncAttribute is a kernel attribute (CUfunction_attribute).
type FuncAttribute int

// Kernel attributes. Set MaxDynamicSharedMemory before launching a kernel
// with more than 48 KiB of dynamic shared memory.
const (
	MaxThreadsPerBlock      FuncAttribute = C.CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK            // read only
	SharedSizeBytes         FuncAttribute = C.CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES                // static shared memory; read only
	LocalSizeBytes          FuncAttribute = C.CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES                 // local memory per thread (spills); read only
	NumRegs                 FuncAttribute = C.CU_FUNC_ATTRIBUTE_NUM_REGS                         // registers per thread; read only
	MaxDynamicSharedMemory  FuncAttribute = C.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES    // settable
	PreferredSharedCarveout FuncAttribute = C.CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT // percent of L1 as shared memory; settable
)

// Attribute returns one of the kernel's attributes.
func (f *Function) Attribute(a FuncAttribute) (int, error) {
	var v C.int
	err := f.d.Do(func() error {
		return check(C.cuFuncGetAttribute(&v, C.CUfunction_attribute(a), rawFunction(f.fn)))
	})
	if err != nil {
		return 0, fmt.Errorf("cuda: kernel %s: get attribute %d: %w", f.name, int(a), err)
	}
	return int(v), nil
}

// SetAttribute sets one of the kernel's settable attributes.
func (f *Function) SetAttribute(a FuncAttribute, value int) error {
	err := f.d.Do(func() error {
		return check(C.cuFuncSetAttribute(rawFunction(f.fn), C.CUfunction_attribute(a), C.int(value)))
	})
	if err != nil {
		return fmt.Errorf("cuda: kernel %s: set attribute %d to %d: %w", f.name, int(a), value, err)
	}
	return nil
}
