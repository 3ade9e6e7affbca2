package plan_test

import (
	"math"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/plan"
	"github.com/myelin-sim/myelin/engine/spec"
)

// The plan's figures match what the builder then allocates.
func TestPlanMatchesBuiltNetwork(t *testing.T) {
	for _, tc := range []struct {
		model      string
		set        map[string]string
		exact      bool // synapse count exact (fixed degrees) or expected (Bernoulli)
		wantStored bool // weights stored per synapse (distributed weights)
	}{
		{"brunel", map[string]string{"n": "5000"}, true, false},
		{"cuba", nil, false, false},
		{"coba", nil, false, false},
		{"ring_rate", nil, true, false},
		{"microcircuit", map[string]string{"scale": "0.02", "k_scale": "0.05"}, true, true},
	} {
		m, _ := models.Lookup(tc.model)
		s, err := m.Build(tc.set)
		if err != nil {
			t.Fatal(err)
		}
		spec.ApplyDefaults(s)
		p := plan.Estimate(s, 2)
		net, err := network.Build(s, network.Options{Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		got := net.SynapseCount()
		if tc.exact && p.Synapses != got {
			t.Errorf("%s: plan says %d synapses, the build made %d", tc.model, p.Synapses, got)
		}
		if !tc.exact {
			// Bernoulli: the count is binomial; 5 standard deviations.
			sd := math.Sqrt(float64(p.Synapses))
			if d := math.Abs(float64(p.Synapses) - float64(got)); d > 5*sd {
				t.Errorf("%s: plan expects %d synapses, the build made %d (%.1f sd off)", tc.model, p.Synapses, got, d/sd)
			}
		}
		// Distributed delays (microcircuit): the plan bounds the drawn ones.
		if net.RingSlots > 0 && (p.RingSlots < uint64(net.RingSlots) || (!tc.wantStored && p.RingSlots != uint64(net.RingSlots))) {
			t.Errorf("%s: plan says %d ring slots, the build has %d", tc.model, p.RingSlots, net.RingSlots)
		}
		// Constant-weight models store 4 B per synapse, others 8 B; the
		// plan's figure is within 10 % of what the build allocated.
		stored := uint64(len(net.Syn.Packed))*4 + uint64(len(net.Syn.Weight))*4
		per := uint64(plan.BytesPerCompactSynapse)
		if tc.wantStored {
			per = plan.BytesPerSynapse
		}
		if tc.exact && stored != got*per {
			t.Errorf("%s: %d bytes of synapses stored, want %d B per synapse", tc.model, stored, per)
		}
		if want := float64(net.SynapseBytes()); math.Abs(float64(p.Parts[0].CPU)-want) > 0.1*want {
			t.Errorf("%s: plan says %d B of synapses, the build holds %.0f B", tc.model, p.Parts[0].CPU, want)
		}
		var sb strings.Builder
		if err := p.Write(&sb); err != nil || !strings.Contains(sb.String(), "delay ring buffers") {
			t.Errorf("%s: plan table %q, %v", tc.model, sb.String(), err)
		}
	}
}

func TestBytes(t *testing.T) {
	for in, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 3 << 30: "3.0 GiB"} {
		if got := plan.Bytes(in); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", in, got, want)
		}
	}
}

// Unbounded delay distributions do not wrap the estimate around.
func TestPlanHugeDelayDoesNotWrap(t *testing.T) {
	s, err := spec.New("t").Population("A", 1000, spec.IafPscDelta(nil)).
		Project("A", "A", spec.FixedIn(10), spec.Weight(spec.Const(1)), spec.Delay(spec.LognormalDist(700, 1, false))).Build()
	if err != nil {
		t.Fatal(err)
	}
	p := plan.Estimate(s, 1)
	if p.RingSlots != spec.MaxDelaySteps+1 || p.CPU() < p.RingSlots*1000*8 {
		t.Errorf("ring slots %d, CPU %d B: want the delay bound clamped at %d steps and no wrap-around", p.RingSlots, p.CPU(), uint64(spec.MaxDelaySteps))
	}
}
