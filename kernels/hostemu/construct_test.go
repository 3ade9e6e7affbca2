//go:build hostemu

package hostemu

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/spec"
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

// constructSpecs are networks of fixed in-degree projections that take
// every path of the on-device construction: compact populations
// (constant weights; constant, tabulated and uniform delays), stored
// weights quantized as they are written (a drawn weight onto a population
// that two different constant weights from one compact candidate reach),
// row-order weights (normal, uniform, lognormal; owned populations whose
// rows mix their projections' parts, and one that also stores constant
// weights), multapses or not, autapses off within a population, the
// inhibitory receptor and the slow excitatory port.
func constructSpecs(t *testing.T) map[string]*myelinpb.Network {
	t.Helper()
	out := map[string]*myelinpb.Network{}
	add := func(name string, s *myelinpb.Network, err error) {
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = s
	}
	s, err := models.Spec("brunel", map[string]string{"n": "600", "duration_ms": "50"})
	add("brunel", s, err)
	s, err = models.Spec("microcircuit", map[string]string{"scale": "0.01", "k_scale": "0.05", "duration_ms": "50"})
	add("microcircuit", s, err)
	s, err = spec.New("mixed").Seed(11).Duration(30).
		Population("A", 150, spec.IafPscExp(nil)).
		Population("B", 120, spec.IafPscExp(nil)).
		Population("C", 130, spec.IafPscExp(nil)).
		Population("D", 70, spec.IafPscDelta(nil)).
		// A: owned, its parts onto C then B (targets in the other order).
		Project("A", "C", spec.FixedIn(40), spec.Weight(spec.ClippedNormalDist(10, 1, 8, 12)), spec.Delay(spec.ClippedNormalDist(1.5, 0.7, 0.1, 4))).
		Project("A", "B", spec.FixedIn(30), spec.Weight(spec.ClippedNormalDist(0.01, 0.001, 0.008, 0.012)), spec.Multapses(false)).
		Project("A", "A", spec.FixedIn(12), spec.Weight(spec.LognormalDist(0, 0.5, false)), spec.Autapses(false), spec.Multapses(false), spec.Delay(spec.UniformDist(0.1, 2.5))).
		// B: stored, row-order and constant weights, inhibitory.
		Project("B", "C", spec.FixedIn(25), spec.Weight(spec.UniformDist(0.5, 2)), spec.Via(myelinpb.Receptor_INHIBITORY)).
		Project("B", "D", spec.FixedIn(9), spec.Weight(spec.Const(0.7)), spec.Delay(spec.Const(2))).
		// C: compact onto B twice with different weights (so B's drawn
		// inputs are quantized as written), and onto D's slow port.
		Project("C", "B", spec.FixedIn(8), spec.Weight(spec.Const(0.3))).
		Project("C", "B", spec.FixedIn(5), spec.Weight(spec.Const(0.45)), spec.Delay(spec.UniformDist(0.1, 3))).
		Project("D", "B", spec.FixedIn(6), spec.Weight(spec.NormalDist(1, 0.2))).
		Project("C", "A", spec.FixedIn(20), spec.Weight(spec.Const(0.2)), spec.Via(myelinpb.Receptor_SLOW_EXCITATORY), spec.Delay(spec.ClippedNormalDist(1, 0.5, 0.1, 3))).
		Project("D", "D", spec.FixedIn(69), spec.Weight(spec.Const(-0.1)), spec.Autapses(false), spec.Multapses(false)).
		Poisson("A", 8000, 0.5).
		Build()
	add("mixed", s, err)
	// Over 4 Mi row-order synapses: drawRowWeights sums them in 4 parts.
	s, err = spec.New("parts").Seed(12).Duration(10).
		Population("A", 1000, spec.IafPscExp(nil)).
		Population("B", 4300, spec.IafPscExp(nil)).
		Population("C", 500, spec.IafPscExp(nil)).
		Project("A", "B", spec.FixedIn(600), spec.Weight(spec.NormalDist(0.3, 0.1))).
		Project("C", "B", spec.FixedIn(400), spec.Weight(spec.LognormalDist(-1, 0.5, false)), spec.Multapses(false)).
		Build()
	add("parts", s, err)
	return out
}

// Built on the emulated device, every network is Build's byte for byte:
// row pointers, packed words, weights and the rest of the synapse layout,
// scales, synapse counts and ring slots, in two launch geometries (one
// with so little scratch that a few threads loop over all units), and
// the device's memory is all freed.
func TestConstructEqualsBuild(t *testing.T) {
	cfgs := []launch.ConstructConfig{{Block: 32, Threads: 96}, {Block: 64, Threads: 4096, ScratchBytes: 3000}}
	for name, s := range constructSpecs(t) {
		var wantBounds, gotBounds []float64
		want, err := network.Build(s, network.Options{Threads: 2, InputBounds: func(b []float64) { wantBounds = b }})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, cfg := range cfgs {
			mem := &Memory{live: map[uint64]unsafe.Pointer{}}
			got, err := network.BuildOn(context.Background(), s, network.Options{Threads: 1, InputBounds: func(b []float64) { gotBounds = b }}, launch.NewConstructor(mem, &cfg))
			if err != nil {
				t.Fatalf("%s %+v: %v", name, cfg, err)
			}
			for i := range wantBounds {
				if math.Float64bits(gotBounds[i]) != math.Float64bits(wantBounds[i]) {
					t.Fatalf("%s %+v: neuron %d: input bound %v, want %v (bit for bit)", name, cfg, i, gotBounds[i], wantBounds[i])
				}
			}
			if mem.Live() != 0 {
				t.Errorf("%s %+v: %d device allocations left", name, cfg, mem.Live())
			}
			compareBuilt(t, name, want, got)
		}
	}
}

func compareBuilt(t *testing.T, name string, want, got *network.Network) {
	t.Helper()
	w, g := &want.Syn, &got.Syn
	if !reflect.DeepEqual(w.RowPtr, g.RowPtr) {
		t.Errorf("%s: row pointers differ", name)
	}
	if len(w.Packed) != len(g.Packed) || len(w.Weight) != len(g.Weight) {
		t.Fatalf("%s: %d words and %d weights, want %d and %d", name, len(g.Packed), len(g.Weight), len(w.Packed), len(w.Weight))
	}
	for i := range w.Packed {
		if w.Packed[i] != g.Packed[i] {
			t.Fatalf("%s: packed word %d (of %d) is %#x, want %#x", name, i, len(w.Packed), g.Packed[i], w.Packed[i])
		}
	}
	for i := range w.Weight {
		if w.Weight[i] != g.Weight[i] {
			t.Fatalf("%s: weight %d (of %d) is %d, want %d", name, i, len(w.Weight), g.Weight[i], w.Weight[i])
		}
	}
	if !reflect.DeepEqual(*w, *g) {
		t.Errorf("%s: synapse layouts differ:\n got %+v\nwant %+v", name, layoutOf(g), layoutOf(w))
	}
	if want.RingSlots != got.RingSlots {
		t.Errorf("%s: ring slots %d, want %d", name, got.RingSlots, want.RingSlots)
	}
	for i := range want.Pops {
		if wp, gp := &want.Pops[i], &got.Pops[i]; wp.Shift != gp.Shift || wp.Synapses != gp.Synapses {
			t.Errorf("%s: population %s: shift %d, %d synapses; want %d, %d", name, wp.Name, gp.Shift, gp.Synapses, wp.Shift, wp.Synapses)
		}
	}
}

// layoutOf is the synapse layout without its arrays, for messages.
func layoutOf(s *network.Synapses) network.Synapses {
	c := *s
	c.RowPtr, c.Packed, c.Weight = nil, nil, nil
	return c
}

// Networks that the device does not build are refused with
// network.ErrNotOnDevice, naming the projection.
func TestConstructRefuses(t *testing.T) {
	s, err := spec.New("out").Population("A", 20, spec.IafPscExp(nil)).
		Project("A", "A", spec.FixedOut(3), spec.Weight(spec.Const(1))).Build()
	if err != nil {
		t.Fatal(err)
	}
	_, err = network.BuildOn(context.Background(), s, network.Options{}, NewConstructor(nil))
	if !errors.Is(err, network.ErrNotOnDevice) {
		t.Fatalf("fixed out-degree: %v, want ErrNotOnDevice", err)
	}
	if want := `projection "A->A"`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v does not name %s", err, want)
	}
}
