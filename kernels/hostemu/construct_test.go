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
// and the device's memory is all freed.
func TestConstructEqualsBuild(t *testing.T) {
	cases, err := parity.ConstructCases()
	if err != nil {
		t.Fatal(err)
	}
	cfgs := []launch.ConstructConfig{{Block: 32, Threads: 96}, {Block: 64, Threads: 4096, ScratchBytes: 3000}}
	for _, c := range cases {
		var wantBounds, gotBounds []float64
		want, err := network.Build(c.Spec, network.Options{Threads: 2, InputBounds: func(b []float64) { wantBounds = b }})
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		for _, cfg := range cfgs {
			mem := &Memory{live: map[uint64]unsafe.Pointer{}}
			got, err := network.BuildOn(context.Background(), c.Spec, network.Options{Threads: 1, InputBounds: func(b []float64) { gotBounds = b }}, launch.NewConstructor(mem, &cfg))
			if err != nil {
				t.Fatalf("%s %+v: %v", c.Name, cfg, err)
			}
			if mem.Live() != 0 {
				t.Errorf("%s %+v: %d device allocations left", c.Name, cfg, mem.Live())
			}
			if err := parity.CompareBuilt(want, got, wantBounds, gotBounds); err != nil {
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

// A network built on the emulated device and run on the emulated device
// spikes as the one built by Build does on the CPU backend: the streams'
// spikes are identical (brunel and the 1 % microcircuit of
// parity.ConstructCases, 50 ms).
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
		dev, err := network.BuildOn(context.Background(), c.Spec, network.Options{}, NewConstructor(nil))
		if err != nil {
			t.Fatal(err)
		}
		ws, wi := runSpikes(t, host, cpu.New(2))
		gs, gi := runSpikes(t, dev, New(nil))
		if len(wi) < 100 {
			t.Fatalf("%s: %d spikes on the CPU: too few to compare", c.Name, len(wi))
		}
		if !slices.Equal(ws, gs) || !slices.Equal(wi, gi) {
			t.Errorf("%s: %d spikes from the device-built network on the emulation, %d from Build's on the CPU, or at other steps or ids", c.Name, len(gi), len(wi))
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
