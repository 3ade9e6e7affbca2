package cpu_test

import (
	"math"
	"testing"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/cpu"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// TestSTPDelivery drives one presynaptic neuron P at irregular intervals
// onto two non-leaky (tau_m = 10^7 ms), never-firing iaf_psc_delta
// neurons: Q through a depressing synapse (U 0.5, tau_rec 100 ms) and R
// through a static one with the same weight. Each jump of V_Q must be
// 1 mV × u·x of NEST's tsodyks2 recursion (in float64, from P's spike
// times), each jump of V_R exactly 1 mV; then a facilitating synapse
// (U 0.1, tau_rec 2 ms, tau_fac 500 ms) must make the jumps grow.
func TestSTPDelivery(t *testing.T) {
	for _, c := range []struct {
		name              string
		U, tauRec, tauFac float64
		grow              bool
	}{
		{"depressing", 0.5, 100, 0, false},
		{"facilitating", 0.1, 2, 500, true}, // fast recovery: x stays near 1
	} {
		t.Run(c.name, func(t *testing.T) {
			f := proto.Float64
			never := &myelinpb.IafPscDelta{EL: f(0), VTh: f(1e6), VReset: f(0), TauM: f(1e7), TRef: f(0.1)}
			times := []float64{5, 15, 20, 22, 24, 60, 61.5, 63, 200, 202}
			b := spec.New("stp").Dt(0.1).Duration(260).Seed(3).
				Population("P", 1, spec.IafPscDelta(&myelinpb.IafPscDelta{EL: f(0), VTh: f(10), VReset: f(0), TRef: f(0.5)})).
				Population("Q", 1, spec.IafPscDelta(never)).
				Population("R", 1, spec.IafPscDelta(never)).
				Project("P", "Q", spec.OneToOne(), spec.Weight(spec.Const(1)), spec.Delay(spec.Const(1)), spec.STP(c.U, c.tauRec, c.tauFac)).
				Project("P", "R", spec.OneToOne(), spec.Weight(spec.Const(1)), spec.Delay(spec.Const(1))).
				SpikeTimes("P", make([]uint32, len(times)), times, 50).
				Probe("Q", 0, 1, 1).Probe("R", 0, 1, 1)
			s, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			net, err := network.Build(s, network.Options{})
			if err != nil {
				t.Fatal(err)
			}
			be := cpu.New(1)
			if err := be.Load(net); err != nil {
				t.Fatal(err)
			}
			var blk backend.Block
			blk.Reset(0, 2)
			if err := be.Advance(int(net.Steps), &blk); err != nil {
				t.Fatal(err)
			}
			var spikes []float64 // P's spike steps
			off := 0
			for step, cnt := range blk.Counts {
				for _, id := range blk.IDs[off : off+int(cnt)] {
					if id == 0 {
						spikes = append(spikes, float64(step))
					}
				}
				off += int(cnt)
			}
			if len(spikes) != len(times) {
				t.Fatalf("P fired %d times, want %d", len(spikes), len(times))
			}
			jumps := func(v []float32) []float64 {
				var out []float64
				for k := 1; k < len(v); k++ {
					if d := float64(v[k] - v[k-1]); d > 1e-3 {
						out = append(out, d)
					}
				}
				return out
			}
			q, r := jumps(blk.Samples[0]), jumps(blk.Samples[1])
			if len(q) != len(times) || len(r) != len(times) {
				t.Fatalf("%d jumps of Q and %d of R, want %d each", len(q), len(r), len(times))
			}
			u, x, last := c.U, 1.0, 0.0 // last: NEST's stamp of the previous spike, in steps
			for k, st := range spikes {
				h := (st + 1 - last) * 0.1 // a spike in step st is stamped at its end
				ud := 0.0
				if c.tauFac > 0 {
					ud = math.Exp(-h / c.tauFac)
				}
				x = 1 + (x-x*u-1)*math.Exp(-h/c.tauRec)
				u = c.U + u*(1-c.U)*ud
				last = st + 1
				if math.Abs(q[k]-u*x) > 2e-4 {
					t.Errorf("jump %d of Q: %.6f mV, want u·x = %.6f", k, q[k], u*x)
				}
				if math.Abs(r[k]-1) > 2e-4 {
					t.Errorf("jump %d of R (static): %.6f mV, want 1", k, r[k])
				}
			}
			// Spikes 2-5 come 2-5 ms apart: the regime must show.
			if (q[4] > q[1]) != c.grow {
				t.Errorf("jumps %v: the fourth close spike's jump should %s", q[:5], map[bool]string{true: "grow", false: "shrink"}[c.grow])
			}
		})
	}
}

// TestSTPThreadsConsecutiveSpikes: presynaptic neurons without a
// refractory period (t_ref 0, as PyNN's spike-source relays) fire on
// consecutive steps, so one thread's update of step t+1 advances the
// short-term plasticity of a neuron whose step-t spike another thread may
// still be delivering. The factor is kept per step parity; the V samples
// of the targets must be the same on 1 and 4 threads.
func TestSTPThreadsConsecutiveSpikes(t *testing.T) {
	f := proto.Float64
	s, err := spec.New("stp-threads").Dt(0.1).Duration(60).Seed(9).
		Population("P", 2000, spec.IafPscDelta(&myelinpb.IafPscDelta{EL: f(0), VTh: f(1), VReset: f(0), TRef: f(0)})).
		Population("Q", 400, spec.IafPscDelta(&myelinpb.IafPscDelta{EL: f(0), VTh: f(1e6), VReset: f(0), TauM: f(1e7), TRef: f(0.1)})).
		Project("P", "Q", spec.FixedIn(50), spec.Weight(spec.UniformDist(0.5, 1.5)), spec.Delay(spec.Const(0.1)), spec.STP(0.5, 100, 0)).
		Poisson("P", 3000, 1000).
		Probe("Q", 0, 400, 1).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	net, err := network.Build(s, network.Options{})
	if err != nil {
		t.Fatal(err)
	}
	run := func(be *cpu.Backend) (backend.Block, uint32) {
		if err := be.Load(net); err != nil {
			t.Fatal(err)
		}
		var blk backend.Block
		blk.Reset(0, 1)
		if err := be.Advance(int(net.Steps), &blk); err != nil {
			t.Fatal(err)
		}
		// Steps on which some P neuron fired on the previous step too.
		var twice uint32
		fired := map[uint32]bool{}
		off := 0
		for _, c := range blk.Counts {
			now := map[uint32]bool{}
			for _, id := range blk.IDs[off : off+int(c)] {
				if id < 2000 {
					now[id] = true
					if fired[id] {
						twice++
					}
				}
			}
			off += int(c)
			fired = now
		}
		return blk, twice
	}
	one, twice := run(cpu.New(1))
	if twice < 1000 {
		t.Fatalf("only %d spikes right after a spike of the same neuron: the test needs many", twice)
	}
	four, _ := run(cpu.NewSplit(4))
	diff := 0
	for i, v := range one.Samples[0] {
		if four.Samples[0][i] != v {
			diff++
		}
	}
	if diff != 0 {
		t.Errorf("%d of %d V samples differ between 1 and 4 threads", diff, len(one.Samples[0]))
	}
}
