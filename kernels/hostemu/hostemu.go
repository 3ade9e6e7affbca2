//go:build hostemu

package hostemu

/*
#cgo CXXFLAGS: -std=c++14 -O2 -fno-fast-math -I${SRCDIR}/..
#include <stdlib.h>
#include "emu.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/kernels/launch"
)

// Backend runs the kernels on the host, one emulated thread after another.
// It implements backend.Backend under the name "hostemu".
type Backend struct {
	cfg  launch.Config
	plan *launch.Plan

	mem  []unsafe.Pointer // every C allocation, freed by Close
	bufs [launch.RecordSets][launch.NumBuffers]unsafe.Pointer
	nets [launch.RecordSets]unsafe.Pointer // MyelinNet of each record set
	step uint64
	set  int     // record set of the next chunk
	rate float64 // the STDP learning rate of the stdp_sets buffer
}

// DefaultConfig is the launch configuration of New(nil). It differs on
// purpose from the CUDA backend's (small blocks, a small deliver grid,
// chunks of 37 steps that do not divide the recording blocks), so that
// parity with the CPU backend also shows that the result does not depend
// on the launch geometry or the chunking.
func DefaultConfig() launch.Config {
	return launch.Config{Block: 64, DeliverBlocks: 5, RecordBytes: 16 << 20, MaxChunkSteps: 37}
}

// New returns a host-emulation backend with the given launch configuration
// (nil: DefaultConfig).
func New(cfg *launch.Config) *Backend {
	c := DefaultConfig()
	if cfg != nil {
		c = *cfg
	}
	return &Backend{cfg: c}
}

// Name implements backend.Backend.
func (b *Backend) Name() string { return "hostemu" }

// Threads implements backend.Backend: the emulation runs on one thread.
func (b *Backend) Threads() int { return 1 }

// Describe implements backend.Backend.
func (b *Backend) Describe() string {
	if b.plan == nil {
		return "hostemu: CUDA kernels on the host (g++ SIMT shim)"
	}
	c := b.plan.Config()
	return fmt.Sprintf("hostemu: CUDA kernels on the host (g++ SIMT shim), blocks of %d threads, deliver grid %d, chunks of %d steps",
		c.Block, c.DeliverBlocks, b.plan.ChunkSteps)
}

// Load implements backend.Backend: it lays the network out as the CUDA
// backend does, in C memory standing in for device memory.
func (b *Backend) Load(net *network.Network) error {
	if b.plan != nil {
		return errors.New("hostemu: Load called twice")
	}
	plan, err := launch.New(net, b.cfg)
	if err != nil {
		return fmt.Errorf("hostemu: %w", err)
	}
	resident, err := b.adopt(net)
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
			p, err := b.alloc(spec.Bytes, spec.Buffer.String())
			if err != nil {
				return err
			}
			copy(unsafe.Slice((*byte)(p), spec.Bytes), spec.Data)
			for s := set; s < launch.RecordSets; s++ {
				b.bufs[s][spec.Buffer] = p // shared buffers: the same in every set
			}
		}
	}
	for set := range b.nets {
		d := plan.NetDescriptor(func(buf launch.Buffer) uint64 { return uint64(uintptr(b.bufs[set][buf])) })
		p, err := b.alloc(int64(len(d)), "net")
		if err != nil {
			return err
		}
		copy(unsafe.Slice((*byte)(p), len(d)), d)
		b.nets[set] = p
	}
	b.plan = plan
	b.rate = net.LearningRate(0)
	return nil
}

func (b *Backend) alloc(size int64, name string) (unsafe.Pointer, error) {
	p := C.calloc(1, C.size_t(size))
	if p == nil {
		return nil, fmt.Errorf("hostemu: allocating %q (%d bytes): out of memory", name, size)
	}
	b.mem = append(b.mem, p)
	return p, nil
}

// Advance implements backend.Backend: chunks of at most ChunkSteps steps,
// each the launch sequence of launch.Plan.Chunk, alternating record sets.
func (b *Backend) Advance(n int, blk *backend.Block) error {
	if b.plan == nil {
		return errors.New("hostemu: Advance before Load")
	}
	plan := b.plan
	if err := plan.CheckSteps(b.step, n); err != nil {
		return fmt.Errorf("hostemu: %w", err)
	}
	for done := 0; done < n; {
		m, rate := plan.NextChunk(b.step, n-done)
		if rate != b.rate {
			sets, err := plan.STDPSets(rate)
			if err != nil {
				return fmt.Errorf("hostemu: %w", err)
			}
			copy(unsafe.Slice((*byte)(b.bufs[0][launch.BufSTDPSets]), len(sets)), sets)
			b.rate = rate
		}
		set := b.set
		for _, l := range plan.Chunk(m) {
			rc := C.myelin_emu_launch(C.int(l.Kernel), C.uint(l.Grid), C.uint(l.Block), b.nets[set], C.uint(l.S), C.uint(l.A))
			if rc != 0 {
				return fmt.Errorf("hostemu: launch %v: unknown kernel", l)
			}
		}
		bufs := &b.bufs[set]
		if got := *(*uint64)(bufs[launch.BufStep]); got != b.step+uint64(m) {
			return fmt.Errorf("hostemu: device step counter is %d after the chunk at step %d of %d steps, want %d", got, b.step, m, b.step+uint64(m))
		}
		if err := plan.Fault(unsafe.Slice((*byte)(bufs[launch.BufStep]), launch.StepBytes), b.step, m); err != nil {
			return fmt.Errorf("hostemu: %w", err)
		}
		counts := unsafe.Slice((*uint32)(bufs[launch.BufSpkCnt]), m)
		ids := unsafe.Slice((*uint32)(bufs[launch.BufSpkIDs]), launch.Spikes(counts))
		samples := unsafe.Slice((*float32)(bufs[launch.BufSamples]), m*plan.SampleWidth)
		if err := plan.Fill(blk, b.step, counts, ids, samples); err != nil {
			return fmt.Errorf("hostemu: %w", err)
		}
		b.step += uint64(m)
		b.set = (set + 1) % launch.RecordSets
		done += m
	}
	return nil
}

// Weights implements backend.Plastic: the stored weights as the kernels
// left them.
func (b *Backend) Weights() ([]int32, error) {
	if b.plan == nil {
		return nil, errors.New("hostemu: Weights before Load")
	}
	n := len(b.plan.Network().Syn.Weight)
	if n == 0 {
		return nil, nil
	}
	return append([]int32(nil), unsafe.Slice((*int32)(b.bufs[0][launch.BufWeight]), n)...), nil
}

// Close implements backend.Backend: it frees the emulated device memory.
func (b *Backend) Close() error {
	for _, p := range b.mem {
		C.free(p)
	}
	b.mem = nil
	b.bufs = [launch.RecordSets][launch.NumBuffers]unsafe.Pointer{}
	b.nets = [launch.RecordSets]unsafe.Pointer{}
	b.plan = nil
	return nil
}

// kernelName returns the C side's name of kernel k ("" if unknown).
func kernelName(k launch.Kernel) string { return C.GoString(C.myelin_emu_kernel_name(C.int(k))) }

// modelSize returns the C sizeof of the coefficients of model code (-1 if
// the kernels have no such model).
func modelSize(code int32) int { return int(C.myelin_emu_model_sizeof(C.int(code))) }

// modelWords returns MYELIN_MODEL_WORDS.
func modelWords() int { return int(C.myelin_emu_model_words()) }

// ptileMaxInts returns MYELIN_PTILE_MAX_INTS, the ints of the tiled
// delivery's shared sums that every block is given here.
func ptileMaxInts() int { return int(C.myelin_emu_ptile_max_ints()) }

// blockSort sorts key with the construct kernels' block sort, by one
// block of block threads, moving pa and pb (as long as key) along; a
// guard word past each array's end must come back untouched.
func blockSort(key []uint64, pa []uint32, pb []int32, n int, block uint32) {
	ck := C.malloc(C.size_t(8 * len(key)))
	ca := C.malloc(C.size_t(4 * len(pa)))
	cb := C.malloc(C.size_t(4 * len(pb)))
	defer C.free(ck)
	defer C.free(ca)
	defer C.free(cb)
	copy(unsafe.Slice((*uint64)(ck), len(key)), key)
	copy(unsafe.Slice((*uint32)(ca), len(pa)), pa)
	copy(unsafe.Slice((*int32)(cb), len(pb)), pb)
	C.myelin_emu_block_sort((*C.ulonglong)(ck), (*C.uint)(ca), (*C.int)(cb), C.ulonglong(n), C.uint(block))
	copy(key, unsafe.Slice((*uint64)(ck), len(key)))
	copy(pa, unsafe.Slice((*uint32)(ca), len(pa)))
	copy(pb, unsafe.Slice((*int32)(cb), len(pb)))
}

// structSize returns the C sizeof of struct number which (see emu.h).
func structSize(which int) int { return int(C.myelin_emu_sizeof(C.int(which))) }

// contractProbe returns a*b + c as compiled with the kernels' flags.
func contractProbe(a, b, c float32) float32 {
	return float32(C.myelin_emu_contract_probe(C.float(a), C.float(b), C.float(c)))
}

// emuExp and emuLog return the kernels' exp and log (kernels/xmath.cuh).
func emuExp(x float64) float64 { return float64(C.myelin_emu_exp(C.double(x))) }
func emuLog(x float64) float64 { return float64(C.myelin_emu_log(C.double(x))) }

// emuNormals returns n of the kernels' normal draws of item i of the
// stream (seed, purpose), with the ziggurat's tables thr (as launch lays
// them out at the start of proc_thr).
func emuNormals(thr []uint32, seed uint64, purpose, i uint32, n int) []float64 {
	out := make([]float64, n)
	if n == 0 {
		return out
	}
	ct := C.malloc(C.size_t(4 * len(thr)))
	defer C.free(ct)
	copy(unsafe.Slice((*uint32)(ct), len(thr)), thr)
	co := C.malloc(C.size_t(8 * n))
	defer C.free(co)
	C.myelin_emu_normals((*C.uint)(ct), C.uint(uint32(seed)), C.uint(uint32(seed>>32)), C.uint(i), C.uint(purpose), C.int(n), (*C.double)(co))
	copy(out, unsafe.Slice((*float64)(co), n))
	return out
}

// Compile-time checks.
var (
	_ backend.Backend = (*Backend)(nil)
	_ backend.Plastic = (*Backend)(nil)
)

// constructKernelName returns the C side's name of construct kernel k (""
// if unknown).
func constructKernelName(k launch.ConstructKernel) string {
	return C.GoString(C.myelin_emu_kernel_name(C.int(k)))
}
