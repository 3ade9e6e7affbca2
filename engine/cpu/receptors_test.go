package cpu_test

import (
	"bytes"
	"math"
	"testing"

	"github.com/myelin-sim/myelin/engine/backend/parity"
	"github.com/myelin-sim/myelin/engine/cpu"
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// One spike of P reaches three never-firing iaf_psc_exp neurons, each
// through one port (fast excitatory, inhibitory, slow excitatory, with
// time constants 2, 5 and 80 ms) after its own delay: each V must follow
// the closed-form PSP of its port's time constant from the step the
// weight arrives, so the delivery routes each synapse to its port and
// keeps its delay (the slow port's bit is not part of it).
func TestPortsRouteOneSpike(t *testing.T) {
	const tau, cm, el, dt, w = 10.0, 250.0, -70.0, 0.1, 300.0
	f := proto.Float64
	q := &myelinpb.IafPscExp{TauM: f(tau), CM: f(cm), EL: f(el), VReset: f(el), VTh: f(1e6), TauSynEx: f(2), TauSynIn: f(5), TauSynSlow: f(80)}
	s := spec.New("ports").Dt(dt).Duration(300).
		Population("P", 1, spec.IafPscDelta(nil)).
		Population("QE", 1, spec.IafPscExp(q)).
		Population("QI", 1, spec.IafPscExp(q)).
		Population("QS", 1, spec.IafPscExp(q)).
		Project("P", "QE", spec.OneToOne(), spec.Weight(spec.Const(w)), spec.Delay(spec.Const(1)), spec.Via(myelinpb.Receptor_EXCITATORY)).
		Project("P", "QI", spec.OneToOne(), spec.Weight(spec.Const(w)), spec.Delay(spec.Const(2.5)), spec.Via(myelinpb.Receptor_INHIBITORY)).
		Project("P", "QS", spec.OneToOne(), spec.Weight(spec.Const(w)), spec.Delay(spec.Const(0.3)), spec.Via(myelinpb.Receptor_SLOW_EXCITATORY)).
		SpikeTimes("P", []uint32{0}, []float64{5}, 50).
		Probe("QE", 0, 1, 1).Probe("QI", 0, 1, 1).Probe("QS", 0, 1, 1).Network()
	net, out := runBlocks(t, s, 1)
	if net.Syn.PortBit == 0 || !net.Pops[3].Slow || net.Pops[1].Slow || net.Pops[2].Slow {
		t.Fatalf("PortBit %d, slow populations %v %v %v: want a port bit and QS alone slow", net.Syn.PortBit, net.Pops[1].Slow, net.Pops[2].Slow, net.Pops[3].Slow)
	}
	fire := -1
	off := 0
	for step, cnt := range out.Counts {
		for _, id := range out.IDs[off : off+int(cnt)] {
			if id != 0 {
				t.Fatalf("neuron %d fired at step %d", id, step)
			}
			fire = step
		}
		off += int(cnt)
	}
	if fire < 0 {
		t.Fatal("P never fired")
	}
	for i, port := range []struct {
		delay     int
		tauS, sgn float64
	}{{10, 2, 1}, {25, 5, -1}, {3, 80, 1}} {
		arrive := fire + port.delay
		worst, peak := 0.0, 0.0
		for k, got := range out.Samples[i] {
			want := el
			if k > arrive {
				sT := float64(k-arrive) * dt
				want += port.sgn * w * port.tauS * tau / (cm * (tau - port.tauS)) * (math.Exp(-sT/tau) - math.Exp(-sT/port.tauS))
			}
			worst = math.Max(worst, math.Abs(float64(got)-want))
			peak = math.Max(peak, math.Abs(want-el))
		}
		if tol := float32Bound(70, math.Max(tau, port.tauS), dt); worst > tol {
			t.Errorf("port %d (tau %g, delay %d steps): largest deviation from the closed form %.3g mV, want < %.3g", i, port.tauS, port.delay, worst, tol)
		}
		if peak < 0.5 {
			t.Errorf("port %d: PSP peak %.3g mV: too small to test", i, peak)
		}
	}
}

// The parity suite's receptor networks (every port, Poisson inputs onto
// the slow port, STP on slow synapses) give the same stream split across
// threads, with or without the vector kernels, as on one thread.
func TestReceptorsSameStreamSplit(t *testing.T) {
	for _, build := range []func() (*myelinpb.Network, error){parity.Receptors, parity.ReceptorsFused} {
		s, err := build()
		if err != nil {
			t.Fatal(err)
		}
		s.DurationMs = proto.Float64(120)
		ref := streamBytes(t, s, 1, cpu.New)
		for _, threads := range []int{2, 3} {
			if got := streamBytes(t, s, threads, cpu.NewSplit); !bytes.Equal(got, ref) {
				t.Errorf("%s: stream with %d threads, always split, differs from the 1-thread stream", s.GetName(), threads)
			}
			if got := streamBytes(t, s, threads, cpu.NewScalar); !bytes.Equal(got, ref) {
				t.Errorf("%s: stream with %d threads, split, scalar, differs from the 1-thread stream", s.GetName(), threads)
			}
		}
	}
}
