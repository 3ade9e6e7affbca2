//go:build hostemu

package hostemu

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/backend/parity"
	"github.com/myelin-sim/myelin/engine/cpu"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/sim"
	"github.com/myelin-sim/myelin/engine/spec"
	"github.com/myelin-sim/myelin/engine/stream"
	"github.com/myelin-sim/myelin/kernels/launch"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// The Go mirrors of construct.cu's structs have the C layout, and the
// construct kernels' numbers name the same kernels on both sides.
func TestConstructMirrors(t *testing.T) {
	for i, n := range launch.MirrorBuildSizes() {
		if c := structSize(10 + i); c != n {
			t.Errorf("struct %d of construct.cu: C sizeof %d, Go mirror %d bytes", 10+i, c, n)
		}
	}
	for _, k := range launch.ConstructKernels() {
		if got := constructKernelName(k); got != k.Name() {
			t.Errorf("construct kernel %d: C name %q, Go %q", k, got, k.Name())
		}
		if k.Module() != "construct" {
			t.Errorf("%s: module %q", k.Name(), k.Module())
		}
	}
}

// Built on the emulated device, every parity.ConstructCases network is
// Build's byte for byte (parity.CompareBuilt: arrays, layout, scales,
// counts, ring slots, input bounds bit for bit), in two launch geometries
// (one with so little scratch that a few threads loop over all units),
// one Constructor building every network in turn, and the device's memory
// is all freed after each.
func TestConstructEqualsBuild(t *testing.T) {
	cases, err := parity.ConstructCases()
	if err != nil {
		t.Fatal(err)
	}
	cfgs := []launch.ConstructConfig{{Block: 32, Threads: 96, SortBlock: 1}, {Block: 64, Threads: 4096, ScratchBytes: 3000, SortBlock: 3}}
	wants := make([]*network.Network, len(cases))
	wantBounds := make([][]float64, len(cases))
	for i, c := range cases {
		if wants[i], err = network.Build(c.Spec, network.Options{Threads: 2, InputBounds: func(b []float64) { wantBounds[i] = b }}); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
	}
	for _, cfg := range cfgs {
		// One Constructor builds every network, one after the other.
		mem := &Memory{live: map[uint64]unsafe.Pointer{}}
		con := launch.NewConstructor(mem, &cfg)
		for i, c := range cases {
			var gotBounds []float64
			got, err := network.BuildOn(context.Background(), c.Spec, network.Options{Threads: 1, InputBounds: func(b []float64) { gotBounds = b }}, con)
			if err != nil {
				t.Fatalf("%s %+v: %v", c.Name, cfg, err)
			}
			if mem.Live() != 0 {
				t.Errorf("%s %+v: %d device allocations left", c.Name, cfg, mem.Live())
			}
			if err := parity.CompareBuilt(wants[i], got, wantBounds[i], gotBounds); err != nil {
				t.Errorf("%s %+v: %v", c.Name, cfg, err)
			}
		}
	}
}

// Networks that the device does not build are refused with
// network.ErrNotOnDevice, naming the projection.
func TestConstructRefuses(t *testing.T) {
	s, err := spec.New("list").Population("A", 20, spec.IafPscExp(nil)).
		Project("A", "A", spec.FixedOut(3), spec.Weight(spec.Const(1))).
		Project("A", "A", spec.Explicit(&myelinpb.ExplicitList{PreIndex: []uint32{0, 1}, PostIndex: []uint32{5, 6}}), spec.Weight(spec.Const(1))).Build()
	if err != nil {
		t.Fatal(err)
	}
	_, err = network.BuildOn(context.Background(), s, network.Options{}, NewConstructor(nil))
	if !errors.Is(err, network.ErrNotOnDevice) {
		t.Fatalf("explicit list: %v, want ErrNotOnDevice", err)
	}
	if want := `projections[1]`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v does not name %s", err, want)
	}
}

// A network built on the emulated device and run there, its synapse
// arrays left in the device's memory and adopted by the backend (no copy
// back, no upload), spikes as the one built by Build does on the CPU
// backend: the streams' spikes are identical (brunel and the 1 %
// microcircuit of parity.ConstructCases, 50 ms); the backend frees the
// arrays on Close. The CPU backend refuses such a network, and Release
// frees the arrays of one that no backend adopts.
func TestConstructedNetworkSpikes(t *testing.T) {
	cases, err := parity.ConstructCases()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases[:2] {
		host, err := network.Build(c.Spec, network.Options{})
		if err != nil {
			t.Fatal(err)
		}
		mem := &Memory{live: map[uint64]unsafe.Pointer{}}
		dev, err := network.BuildOn(context.Background(), c.Spec, network.Options{KeepOnDevice: true}, launch.NewConstructor(mem, ptr(emuConfig())))
		if err != nil {
			t.Fatal(err)
		}
		if r := dev.Syn.Resident; r == nil || dev.Syn.Packed != nil || r.Words != uint64(len(host.Syn.Packed)) || r.Weights != uint64(len(host.Syn.Weight)) || mem.Live() != 2 {
			t.Fatalf("%s: kept on the device: %+v, %d words on the host, %d allocations; want %d words and %d weights there, none here, 2 allocations",
				c.Name, r, len(dev.Syn.Packed), mem.Live(), len(host.Syn.Packed), len(host.Syn.Weight))
		}
		if err := cpu.New(1).Load(dev); err == nil || !strings.Contains(err.Error(), "device's memory") {
			t.Errorf("%s: the CPU backend loads a network whose synapses are on a device: %v", c.Name, err)
		}
		ws, wi := runSpikes(t, host, cpu.New(2))
		gs, gi := runSpikes(t, dev, New(nil))
		if mem.Live() != 0 {
			t.Errorf("%s: %d device allocations left after the backend's Close", c.Name, mem.Live())
		}
		if len(wi) < 100 {
			t.Fatalf("%s: %d spikes on the CPU: too few to compare", c.Name, len(wi))
		}
		if !slices.Equal(ws, gs) || !slices.Equal(wi, gi) {
			t.Errorf("%s: %d spikes from the device-built network on the emulation, %d from Build's on the CPU, or at other steps or ids", c.Name, len(gi), len(wi))
		}
	}
}

// Arrays kept on the device that no backend adopts are freed by Release,
// and a failed build frees them itself.
func TestConstructResidentRelease(t *testing.T) {
	cases, err := parity.ConstructCases()
	if err != nil {
		t.Fatal(err)
	}
	mem := &Memory{live: map[uint64]unsafe.Pointer{}}
	net, err := network.BuildOn(context.Background(), cases[0].Spec, network.Options{KeepOnDevice: true}, launch.NewConstructor(mem, ptr(emuConfig())))
	if err != nil {
		t.Fatal(err)
	}
	if mem.Live() != 2 {
		t.Fatalf("%d allocations kept, want 2", mem.Live())
	}
	net.Syn.Resident.Arrays.Release()
	net.Syn.Resident.Arrays.Release() // twice: harmless
	if mem.Live() != 0 {
		t.Errorf("%d allocations after Release", mem.Live())
	}
	// A probe onto a missing population fails after the synapses.
	bad := proto.Clone(cases[0].Spec).(*myelinpb.Network)
	bad.Recording = &myelinpb.Recording{State: []*myelinpb.StateProbe{{Population: "nowhere", Count: 1}}}
	if _, err := network.BuildOn(context.Background(), bad, network.Options{KeepOnDevice: true}, launch.NewConstructor(mem, ptr(emuConfig()))); err == nil {
		t.Fatal("a probe of a missing population: no error")
	}
	if mem.Live() != 0 {
		t.Errorf("%d allocations after a failed build", mem.Live())
	}
}

// A weight distribution that overflows float64 is an error naming the
// projection, as Build's, and leaves no device memory behind.
func TestConstructNonFiniteWeight(t *testing.T) {
	for _, rule := range []spec.Rule{spec.FixedIn(3), spec.FixedOut(3), spec.OneToOne()} {
		s, err := spec.New("inf").Population("A", 30, spec.IafPscExp(nil)).
			Project("A", "A", rule, spec.Weight(spec.LognormalDist(700, 10, false))).Build()
		if err != nil {
			t.Fatal(err)
		}
		mem := &Memory{live: map[uint64]unsafe.Pointer{}}
		_, err = network.BuildOn(context.Background(), s, network.Options{}, launch.NewConstructor(mem, ptr(emuConfig())))
		if err == nil || !strings.Contains(err.Error(), `projection "A->A"`) || !strings.Contains(err.Error(), "overflows float64") {
			t.Errorf("%v: %v, want an error naming the projection and the overflow", rule, err)
		}
		if _, herr := network.Build(s, network.Options{}); herr == nil {
			t.Errorf("%v: Build accepts what BuildOn refuses", rule)
		}
		if mem.Live() != 0 {
			t.Errorf("%v: %d device allocations left after the error", rule, mem.Live())
		}
	}
}

// runSpikes runs net on be and returns its stream's spikes: steps and ids.
func runSpikes(t *testing.T, net *network.Network, be backend.Backend) ([]uint64, []uint32) {
	t.Helper()
	defer be.Close()
	var buf bytes.Buffer
	if _, err := sim.Run(context.Background(), net, sim.Options{Backend: be, Out: &buf, Version: "test"}); err != nil {
		t.Fatalf("%s: %v", be.Name(), err)
	}
	r, err := stream.ReadAll(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return r.Steps, r.IDs
}

func ptr[T any](v T) *T { return &v }

// scarce is a Memory that refuses to allocate past budget bytes in all
// (freed bytes are not given back); used counts what it gave.
type scarce struct {
	*Memory
	budget, used int64
}

func (s *scarce) Alloc(bytes int64, name string) (uint64, error) {
	if s.used+bytes > s.budget {
		return 0, errors.New("out of memory")
	}
	s.used += bytes
	return s.Memory.Alloc(bytes, name)
}

// A device that runs out of memory while it builds refuses the network
// with network.ErrNotOnDevice (the host may build it), naming what it
// was allocating, and keeps nothing, whichever allocation fails.
func TestConstructOutOfMemory(t *testing.T) {
	cases, err := parity.ConstructCases()
	if err != nil {
		t.Fatal(err)
	}
	s := cases[0].Spec
	all := &scarce{Memory: &Memory{live: map[uint64]unsafe.Pointer{}}, budget: 1 << 40}
	if _, err := network.BuildOn(context.Background(), s, network.Options{}, launch.NewConstructor(all, ptr(emuConfig()))); err != nil {
		t.Fatalf("a budget of 1 TiB: %v", err)
	}
	for _, budget := range []int64{0, all.used / 16, all.used / 4, all.used / 2, all.used - 1} {
		mem := &Memory{live: map[uint64]unsafe.Pointer{}}
		_, err := network.BuildOn(context.Background(), s, network.Options{}, launch.NewConstructor(&scarce{Memory: mem, budget: budget}, ptr(emuConfig())))
		if !errors.Is(err, network.ErrNotOnDevice) || !strings.Contains(err.Error(), "for the construction: not built on the device: out of memory") {
			t.Errorf("budget %d of %d: got %v, want an allocation refused with ErrNotOnDevice", budget, all.used, err)
		}
		if mem.Live() != 0 {
			t.Errorf("budget %d: %d device allocations left", budget, mem.Live())
		}
	}
}

// oneByOne hides the Constructor's CountBatch and FillBatch: BuildOn
// counts and writes each projection with a call of its own.
type oneByOne struct{ network.SynapseDevice }

// A device that counts and writes one projection per call builds what
// one that batches them does: Build's network.
func TestConstructOneByOne(t *testing.T) {
	cases, err := parity.ConstructCases()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases[:4] {
		var wantBounds, gotBounds []float64
		want, err := network.Build(c.Spec, network.Options{InputBounds: func(b []float64) { wantBounds = b }})
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		var dev network.SynapseDevice = oneByOne{}
		if _, ok := dev.(network.CountBatcher); ok {
			t.Fatal("oneByOne counts in batches")
		}
		if _, ok := dev.(network.FillBatcher); ok {
			t.Fatal("oneByOne writes in batches")
		}
		got, err := network.BuildOn(context.Background(), c.Spec, network.Options{InputBounds: func(b []float64) { gotBounds = b }}, oneByOne{NewConstructor(nil)})
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if err := parity.CompareBuilt(want, got, wantBounds, gotBounds); err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
	}
}
