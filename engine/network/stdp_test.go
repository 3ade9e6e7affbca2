package network

import (
	"math"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// TestSTDPLayout: a population with an STDP projection stores its weights
// (even constant ones), the target's scale leaves room for every plastic
// weight to reach w_max (shift = floor(30 − log2(in-degree × w_max))), and
// the by-post index lists exactly the plastic synapses onto each neuron,
// by ascending presynaptic neuron.
func TestSTDPLayout(t *testing.T) {
	f := proto.Float64
	s, err := spec.New("stdp-layout").Seed(4).
		Population("E", 300, spec.IafPscDelta(nil)).
		Population("I", 100, spec.IafPscDelta(nil)).
		Project("E", "E", spec.FixedIn(40), spec.Weight(spec.Const(0.01)), spec.Delay(spec.UniformDist(0.5, 2)), spec.STDP(func(s *myelinpb.STDP) { s.WMax = f(3) })).
		Project("E", "I", spec.FixedIn(40), spec.Weight(spec.Const(0.5))).
		Project("I", "E", spec.FixedIn(10), spec.Weight(spec.Const(-0.2))).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	net, err := Build(s, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if net.Syn.WeightBase[0] == Compact {
		t.Fatal("E has an STDP projection but is compact")
	}
	if net.Syn.WeightBase[1] != Compact {
		t.Error("I (static, constant weights) is not compact")
	}
	if want := int32(math.Floor(30 - math.Log2(40*3+10*0.2))); net.Pops[0].Shift != want {
		t.Errorf("E's shift %d, want %d (40 plastic inputs at w_max 3 and 10 at 0.2)", net.Pops[0].Shift, want)
	}
	if len(net.STDP) != 1 || net.STDPSetOf(0, 0) != 0 || net.STDPSetOf(0, 1) != -1 {
		t.Fatalf("sets %d, STDPOf %v", len(net.STDP), net.STDPOf)
	}
	set := &net.STDP[0]
	if set.Synapses != 300*40 {
		t.Errorf("%d plastic synapses, want %d", set.Synapses, 300*40)
	}
	// Brute force: every synapse from E onto E, by target.
	type entry struct{ w, pre uint32 }
	want := make([][]entry, 300)
	base := net.Syn.WeightBase[0]
	for r := uint32(0); r < 300; r++ {
		for k := net.Syn.RowPtr[r]; k < net.Syn.RowPtr[r+1]; k++ {
			if j := net.Syn.Packed[k] >> net.Syn.DelayBits; j < 300 {
				want[j] = append(want[j], entry{uint32(base + k), r})
			}
		}
	}
	unit := int32(math.Round(math.Ldexp(0.01, int(net.Pops[0].Shift))))
	for j := range want {
		got := set.PostPtr[j+1] - set.PostPtr[j]
		if got != uint64(len(want[j])) {
			t.Fatalf("post %d: %d entries, want %d", j, got, len(want[j]))
		}
		for n, e := range want[j] {
			x := set.PostPtr[j] + uint64(n)
			if set.PostW[x] != e.w || set.PostPre[x] != e.pre {
				t.Fatalf("post %d entry %d: (%d, %d), want (%d, %d)", j, n, set.PostW[x], set.PostPre[x], e.w, e.pre)
			}
			if net.Syn.Weight[e.w] != unit {
				t.Fatalf("post %d entry %d: weight %d, want %d", j, n, net.Syn.Weight[e.w], unit)
			}
		}
	}
}

// A plastic projection's synapses count at w_max in the target's input
// bound whatever rule and weights it has: with drawn weights under a
// by-post rule (whose weights are otherwise drawn once, in pass 2, and
// bound there by their own magnitude) the target's scale is the one that
// constant weights of w_max give, so that every weight can grow to w_max.
func TestSTDPScaleBoundsWMax(t *testing.T) {
	shift := func(w *myelinpb.Distribution, plastic bool) int32 {
		opts := []spec.Option{spec.Weight(w)}
		if plastic {
			opts = append(opts, spec.STDP(func(s *myelinpb.STDP) { s.WMax = proto.Float64(40) }))
		}
		s, err := spec.New("scale").Duration(10).
			Population("E", 400, spec.IafPscExp(nil)).Population("F", 300, spec.IafPscExp(nil)).
			Project("E", "F", spec.FixedIn(50), opts...).
			Build()
		if err != nil {
			t.Fatal(err)
		}
		net, err := Build(s, Options{Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		return net.Pops[1].Shift
	}
	want := shift(spec.Const(40), false)
	if got := shift(spec.UniformDist(1, 2), true); got != want {
		t.Errorf("STDP with w_max 40 and weights in [1, 2]: shift %d, want %d (that of weights 40)", got, want)
	}
	if static := shift(spec.UniformDist(1, 2), false); static <= want {
		t.Errorf("static weights in [1, 2]: shift %d, want more than %d (the test would not tell)", static, want)
	}
}

// An STDP change past what float32 holds is a build error naming the
// field, from the projection's lambda or from a phase's learning rate.
func TestSTDPCoefficientOverflow(t *testing.T) {
	build := func(lambda, rate float64) error {
		b := spec.New("overflow").Duration(10).
			Population("E", 50, spec.IafPscExp(nil)).
			Project("E", "E", spec.FixedIn(5), spec.Weight(spec.Const(1)), spec.STDP(func(s *myelinpb.STDP) { s.Lambda = proto.Float64(lambda) }))
		if rate != 1 {
			b.Phase("fast", 0, 5, rate)
		}
		s, err := b.Build()
		if err != nil {
			return err
		}
		_, err = Build(s, Options{})
		return err
	}
	if err := build(1e40, 1); err == nil || !strings.Contains(err.Error(), "lower lambda") {
		t.Errorf("lambda 1e40: %v, want an error saying to lower lambda", err)
	}
	if err := build(0.01, 1e40); err == nil || !strings.Contains(err.Error(), `phase "fast" (phases[0]): learning_rate = 1e+40`) {
		t.Errorf("learning rate 1e40: %v, want an error naming the phase", err)
	}
	if err := build(0.01, 2); err != nil {
		t.Errorf("lambda 0.01, rate 2: %v", err)
	}
}
