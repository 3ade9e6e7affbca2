package parity

import (
	"fmt"
	"math"
	"reflect"

	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// Built is a network to build on a device (network.BuildOn) and compare
// with Build.
type Built struct {
	Name string
	Spec *myelinpb.Network
}

// ConstructCases are networks that take every path of the on-device
// construction: brunel (compact
// populations),
// a 1 % microcircuit with k_scale 0.05 (row-order normal weights, drawn
// delays), a mixed network (compact populations with constant, tabulated
// and uniform delays; stored weights quantized as they are written, a
// drawn weight onto a population that two different constant weights from
// one compact candidate reach; row-order normal, uniform and lognormal
// weights; an owned population whose rows mix its projections' parts
// onto targets in another order than the spec's, and one that also
// stores constant weights; multapses or not, autapses off within a
// population, the inhibitory receptor and the slow excitatory port), one
// of pairwise Bernoulli (p from 10⁻⁴ to 1), one-to-one (unit-order
// deferred weights beside row-order ones onto one population) and
// all-to-all rules, one of rules drawn per presynaptic neuron (fixed
// out-degree and pairwise Bernoulli by source; constant and drawn
// weights, multapses or not, the slow port) beside a fixed in-degree
// projection, one with projections onto a population of one neuron (whose
// pass 1 sums differ), one with STDP (by-post and by-pre rules, drawn and
// constant weights, bounded by w_max) and short-term plasticity, and one of over 4
// Mi row-order synapses, whose input bounds
// the builder sums in 4 parts.
func ConstructCases() ([]Built, error) {
	var out []Built
	add := func(name string, s *myelinpb.Network, err error) error {
		if err != nil {
			return fmt.Errorf("parity: construct case %s: %w", name, err)
		}
		out = append(out, Built{name, s})
		return nil
	}
	s, err := models.Spec("brunel", map[string]string{"n": "600", "duration_ms": "50"})
	if err := add("brunel", s, err); err != nil {
		return nil, err
	}
	s, err = models.Spec("microcircuit", map[string]string{"scale": "0.01", "k_scale": "0.05", "duration_ms": "50"})
	if err := add("microcircuit", s, err); err != nil {
		return nil, err
	}
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
		// inputs are quantized as written), and onto A's slow port.
		Project("C", "B", spec.FixedIn(8), spec.Weight(spec.Const(0.3))).
		Project("C", "B", spec.FixedIn(5), spec.Weight(spec.Const(0.45)), spec.Delay(spec.UniformDist(0.1, 3))).
		Project("D", "B", spec.FixedIn(6), spec.Weight(spec.NormalDist(1, 0.2))).
		Project("C", "A", spec.FixedIn(20), spec.Weight(spec.Const(0.2)), spec.Via(myelinpb.Receptor_SLOW_EXCITATORY), spec.Delay(spec.ClippedNormalDist(1, 0.5, 0.1, 3))).
		Project("D", "D", spec.FixedIn(69), spec.Weight(spec.Const(-0.1)), spec.Autapses(false), spec.Multapses(false)).
		Poisson("A", 8000, 0.5).
		Build()
	if err := add("mixed", s, err); err != nil {
		return nil, err
	}
	s, err = spec.New("rules").Seed(13).Duration(30).
		Population("A", 140, spec.IafPscExp(nil)).
		Population("B", 140, spec.IafPscExp(nil)).
		Population("C", 90, spec.IafPscDelta(nil)).
		// Onto B: unit-order deferred weights (one-to-one) before the
		// row-order ones, both adding to B's bounds.
		Project("A", "B", spec.OneToOne(), spec.Weight(spec.NormalDist(2, 0.5)), spec.Delay(spec.UniformDist(0.1, 2))).
		Project("A", "B", spec.Bernoulli(0.1), spec.Weight(spec.NormalDist(0.5, 0.1)), spec.Delay(spec.ClippedNormalDist(1.2, 0.5, 0.1, 3))).
		Project("C", "B", spec.AllToAll(), spec.Weight(spec.UniformDist(0.1, 0.3)), spec.Via(myelinpb.Receptor_INHIBITORY)).
		Project("B", "B", spec.Bernoulli(1), spec.Weight(spec.Const(0.01)), spec.Autapses(false)).
		Project("B", "A", spec.AllToAll(), spec.Weight(spec.Const(0.02)), spec.Delay(spec.Const(0.5))).
		Project("C", "C", spec.OneToOne(), spec.Weight(spec.Const(1)), spec.Autapses(false)).
		Project("C", "C", spec.AllToAll(), spec.Weight(spec.LognormalDist(-2, 0.3, false)), spec.Autapses(false)).
		Project("A", "C", spec.Bernoulli(1e-4), spec.Weight(spec.Const(3))).
		Build()
	if err := add("rules", s, err); err != nil {
		return nil, err
	}
	s, err = spec.New("rows").Seed(14).Duration(30).
		Population("A", 130, spec.IafPscExp(nil)).
		Population("B", 110, spec.IafPscExp(nil)).
		Population("C", 70, spec.IafPscDelta(nil)).
		Project("A", "B", spec.FixedOut(12), spec.Weight(spec.Const(0.4))).
		Project("A", "B", spec.FixedOut(9), spec.Weight(spec.Const(0.4)), spec.Via(myelinpb.Receptor_SLOW_EXCITATORY), spec.Delay(spec.UniformDist(0.1, 2))).
		Project("B", "C", spec.FixedOut(20), spec.Weight(spec.NormalDist(1.5, 0.4)), spec.Delay(spec.ClippedNormalDist(1, 0.4, 0.1, 3))).
		Project("B", "B", spec.FixedOut(15), spec.Weight(spec.LognormalDist(-1, 0.5, false)), spec.Autapses(false), spec.Multapses(false)).
		Project("C", "A", spec.BernoulliBySource(0.2), spec.Weight(spec.UniformDist(0.2, 0.6)), spec.Via(myelinpb.Receptor_INHIBITORY), spec.Delay(spec.UniformDist(0.1, 2))).
		Project("C", "C", spec.BernoulliBySource(0.3), spec.Weight(spec.Const(0.05)), spec.Autapses(false)).
		Project("A", "C", spec.FixedIn(7), spec.Weight(spec.NormalDist(0.8, 0.2))).
		Build()
	if err := add("rows", s, err); err != nil {
		return nil, err
	}
	// Onto a population of one neuron, pass 1 sums each rule from 0 and
	// adds that to the bound (here exactly 16, a power of two, on the host).
	s, err = spec.New("one").Seed(3).Duration(10).
		Population("A", 10, spec.IafPscExp(nil)).
		Population("B", 40, spec.IafPscExp(nil)).
		Population("P", 1, spec.IafPscExp(nil)).
		Project("A", "P", spec.FixedIn(4), spec.Weight(spec.Const(1.9))).
		Project("B", "P", spec.AllToAll(), spec.Weight(spec.Const(0.21))).
		Project("B", "P", spec.Bernoulli(0.5), spec.Weight(spec.NormalDist(0.3, 0.1))).
		Project("P", "A", spec.FixedOut(3), spec.Weight(spec.Const(0.5))).
		Build()
	if err := add("one", s, err); err != nil {
		return nil, err
	}
	wmax := func(w float64) func(*myelinpb.STDP) { return func(s *myelinpb.STDP) { s.WMax = proto.Float64(w) } }
	s, err = spec.New("plastic").Seed(15).Duration(30).
		Population("E", 160, spec.IafPscExp(nil)).
		Population("I", 60, spec.IafPscExp(nil)).
		Project("E", "E", spec.FixedIn(20), spec.Weight(spec.ClippedNormalDist(0.5, 0.1, 0, 3)), spec.STDP(wmax(3))).
		Project("E", "I", spec.FixedOut(15), spec.Weight(spec.UniformDist(0.2, 0.9)), spec.STDP(wmax(1))).
		Project("I", "E", spec.FixedOut(25), spec.Weight(spec.Const(0.5)), spec.Via(myelinpb.Receptor_INHIBITORY), spec.STDP(wmax(0.8))).
		Project("I", "I", spec.FixedIn(10), spec.Weight(spec.Const(0.3)), spec.STP(0.2, 200, 600)).
		Build()
	if err := add("plastic", s, err); err != nil {
		return nil, err
	}
	s, err = spec.New("parts").Seed(12).Duration(10).
		Population("A", 1000, spec.IafPscExp(nil)).
		Population("B", 4300, spec.IafPscExp(nil)).
		Population("C", 500, spec.IafPscExp(nil)).
		Project("A", "B", spec.FixedIn(600), spec.Weight(spec.NormalDist(0.3, 0.1))).
		Project("C", "B", spec.FixedIn(400), spec.Weight(spec.LognormalDist(-1, 0.5, false)), spec.Multapses(false)).
		Build()
	if err := add("parts", s, err); err != nil {
		return nil, err
	}
	// Targets of more than 1,024 drawn weights, drawn per target (onto B)
	// and per source (onto C): their bounds are summed a tile of the
	// device's shared memory at a time.
	s, err = spec.New("wide").Seed(16).Duration(10).
		Population("A", 2000, spec.IafPscExp(nil)).
		Population("B", 30, spec.IafPscExp(nil)).
		Population("C", 40, spec.IafPscExp(nil)).
		Project("A", "B", spec.FixedIn(1300), spec.Weight(spec.NormalDist(0.3, 0.1))).
		Project("A", "B", spec.FixedIn(900), spec.Weight(spec.UniformDist(0.1, 0.4)), spec.Via(myelinpb.Receptor_INHIBITORY)).
		Project("A", "C", spec.FixedOut(30), spec.Weight(spec.LognormalDist(-1, 0.5, false))).
		Build()
	if err := add("wide", s, err); err != nil {
		return nil, err
	}
	return out, nil
}

// CompareBuilt returns nil if got (built on a device) is want (built by
// Build) byte for byte: the synapse arrays and layout, every population's
// scale and synapse count, the ring slots and, where both are given, the
// input bounds bit for bit; otherwise an error naming the first
// difference.
func CompareBuilt(want, got *network.Network, wantBounds, gotBounds []float64) error {
	w, g := &want.Syn, &got.Syn
	if !reflect.DeepEqual(w.RowPtr, g.RowPtr) {
		return fmt.Errorf("row pointers differ")
	}
	if len(w.Packed) != len(g.Packed) || len(w.Weight) != len(g.Weight) {
		return fmt.Errorf("%d words and %d weights, want %d and %d", len(g.Packed), len(g.Weight), len(w.Packed), len(w.Weight))
	}
	for i := range w.Packed {
		if w.Packed[i] != g.Packed[i] {
			return fmt.Errorf("packed word %d (of %d) is %#x, want %#x", i, len(w.Packed), g.Packed[i], w.Packed[i])
		}
	}
	for i := range w.Weight {
		if w.Weight[i] != g.Weight[i] {
			return fmt.Errorf("weight %d (of %d) is %d, want %d", i, len(w.Weight), g.Weight[i], w.Weight[i])
		}
	}
	if !reflect.DeepEqual(*w, *g) {
		lw, lg := *w, *g
		lw.RowPtr, lw.Packed, lw.Weight = nil, nil, nil
		lg.RowPtr, lg.Packed, lg.Weight = nil, nil, nil
		return fmt.Errorf("synapse layouts differ:\n got %+v\nwant %+v", lg, lw)
	}
	if want.RingSlots != got.RingSlots {
		return fmt.Errorf("ring slots %d, want %d", got.RingSlots, want.RingSlots)
	}
	for i := range want.Pops {
		if wp, gp := &want.Pops[i], &got.Pops[i]; wp.Shift != gp.Shift || wp.Synapses != gp.Synapses {
			return fmt.Errorf("population %s: shift %d, %d synapses; want %d, %d", wp.Name, gp.Shift, gp.Synapses, wp.Shift, wp.Synapses)
		}
	}
	if wantBounds != nil && gotBounds != nil {
		if len(wantBounds) != len(gotBounds) {
			return fmt.Errorf("%d input bounds, want %d", len(gotBounds), len(wantBounds))
		}
		for i := range wantBounds {
			if math.Float64bits(gotBounds[i]) != math.Float64bits(wantBounds[i]) {
				return fmt.Errorf("neuron %d: input bound %v, want %v (bit for bit)", i, gotBounds[i], wantBounds[i])
			}
		}
	}
	return nil
}
