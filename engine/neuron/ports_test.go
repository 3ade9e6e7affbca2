package neuron

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// One spike of weight w on each port of iaf_psc_exp (fast excitatory,
// inhibitory, slow excitatory, each with its own tau) against the closed
// forms: the port's current is w e^{-s/τs} and V - E_L is
// w τs τ/(C(τ-τs)) (e^{-s/τ} - e^{-s/τs}), s the time since the weight
// arrived; the other ports' currents stay 0.
func TestIafPscExpPortsClosedForm(t *testing.T) {
	const tau, cm, dt, w, steps = 10.0, 250.0, 0.1, 400.0, 3000
	f := proto.Float64
	p := &myelinpb.IafPscExp{CM: f(cm), TauM: f(tau), TRef: f(2), EL: f(-70), VReset: f(-70), VTh: f(1e6), IE: f(0),
		TauSynEx: f(2), TauSynIn: f(5), TauSynSlow: f(80)}
	c := NewIafPscExpSlow(p, dt)
	for port, tauS := range []float64{2, 5, 80} {
		sign := 1.0
		if port == 1 {
			sign = -1
		}
		var v, iex, iin, is float32
		var ref int32
		worstV, worstI, peakV := 0.0, 0.0, 0.0
		for k := 0; k < steps; k++ {
			var ex, in, sl float32
			if k == 0 {
				switch port {
				case 0:
					ex = w
				case 1:
					in = -w
				case 2:
					sl = w
				}
			}
			var fired bool
			v, iex, iin, is, ref, fired = c.StepSlow(v, iex, iin, is, ref, ex, in, sl, 0)
			if fired {
				t.Fatalf("port %d: fired at step %d", port, k)
			}
			s := float64(k) * dt // time since the weight arrived (end of step 0)
			wantI := sign * w * math.Exp(-s/tauS)
			wantV := sign * w * tauS * tau / (cm * (tau - tauS)) * (math.Exp(-s/tau) - math.Exp(-s/tauS))
			got := [3]float32{iex, iin, is}
			for q := range got {
				if q != port && got[q] != 0 {
					t.Fatalf("port %d: current of port %d is %v at step %d", port, q, got[q], k)
				}
			}
			worstI = math.Max(worstI, math.Abs(float64(got[port])-wantI))
			worstV = math.Max(worstV, math.Abs(float64(v)-wantV))
			peakV = math.Max(peakV, math.Abs(wantV))
		}
		// float32 rounding: a few ulps per step, accumulated over the
		// decay (about tau/dt steps).
		if tol := 4 * math.Pow(2, -24) * w * tauS / dt; worstI > tol {
			t.Errorf("port %d (tau %g): current off the closed form by %.3g pA, want < %.3g", port, tauS, worstI, tol)
		}
		if tol := 4 * math.Pow(2, -24) * peakV * math.Max(tau, tauS) / dt; worstV > tol {
			t.Errorf("port %d (tau %g): V off the closed form by %.3g mV, want < %.3g", port, tauS, worstV, tol)
		}
		if peakV < 1 {
			t.Errorf("port %d: PSP peak %.3g mV: too small to test", port, peakV)
		}
	}
}

// One spike of weight w on each port of iaf_cond_exp: the port's
// conductance is w e^{-s/τs}, and V follows a float64 RK4 integration (100
// substeps per step) of C dV/dt = -g_L (V - E_L) - g(s) (V - E_port) with
// that conductance, E_port being E_ex, E_in or E_slow.
func TestIafCondExpPortsReference(t *testing.T) {
	const dt, w, steps = 0.1, 20.0, 3000
	f := proto.Float64
	p := &myelinpb.IafCondExp{CM: f(250), GL: f(16.6667), TRef: f(2), EL: f(-70), VReset: f(-60), VTh: f(1e6), IE: f(0),
		EEx: f(0), EIn: f(-85), TauSynEx: f(1), TauSynIn: f(3), TauSynSlow: f(60), ESlow: f(-10)}
	c := NewIafCondExpSlow(p, dt)
	for port, pp := range []struct{ tau, e float64 }{{1, 0}, {3, -85}, {60, -10}} {
		v, gex, gin, gs := float32(-70), float32(0), float32(0), float32(0)
		var ref int32
		vr := -70.0
		worstG, worstV, peak := 0.0, 0.0, 0.0
		for k := 0; k < steps; k++ {
			var ex, in, sl float32
			if k == 0 {
				switch port {
				case 0:
					ex = w
				case 1:
					in = -w
				case 2:
					sl = w
				}
			}
			v, gex, gin, gs, ref, _ = c.StepSlow(v, gex, gin, gs, ref, ex, in, sl, 0)
			if k > 0 {
				// The reference over step k: the conductance arrived at
				// the end of step 0.
				const sub = 100
				h := dt / sub
				dv := func(t, x float64) float64 {
					g := w * math.Exp(-t/pp.tau)
					return (-16.6667*(x+70) - g*(x-pp.e)) / 250
				}
				for j := range sub {
					t0 := float64(k-1)*dt + float64(j)*h
					k1 := dv(t0, vr)
					k2 := dv(t0+h/2, vr+h/2*k1)
					k3 := dv(t0+h/2, vr+h/2*k2)
					k4 := dv(t0+h, vr+h*k3)
					vr += h / 6 * (k1 + 2*k2 + 2*k3 + k4)
				}
			}
			g := [3]float32{gex, gin, gs}
			for q := range g {
				if q != port && g[q] != 0 {
					t.Fatalf("port %d: conductance of port %d is %v at step %d", port, q, g[q], k)
				}
			}
			s := float64(k) * dt
			worstG = math.Max(worstG, math.Abs(float64(g[port])-w*math.Exp(-s/pp.tau)))
			worstV = math.Max(worstV, math.Abs(float64(v)-vr))
			peak = math.Max(peak, math.Abs(vr+70))
		}
		if tol := 4 * math.Pow(2, -24) * w * pp.tau / dt; worstG > tol {
			t.Errorf("port %d (tau %g): conductance off the closed form by %.3g nS, want < %.3g", port, pp.tau, worstG, tol)
		}
		t.Logf("port %d (tau %g): PSP peak %.4g mV, V within %.3g mV of the reference", port, pp.tau, peak, worstV)
		if worstV > 2e-3 {
			t.Errorf("port %d (tau %g): V off the reference by %.3g mV, want < 2e-3", port, pp.tau, worstV)
		}
		if peak < 0.1 {
			t.Errorf("port %d: PSP peak %.3g mV: too small to test", port, peak)
		}
	}
}

// With nothing on the slow port, StepSlow gives Step's bits: the port only
// adds its own terms.
func TestStepSlowWithoutSlowInputIsStep(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	f := proto.Float64
	pe := &myelinpb.IafPscExp{CM: f(250), TauM: f(10), TRef: f(2), EL: f(-70), VReset: f(-70), VTh: f(-55), IE: f(300),
		TauSynEx: f(2), TauSynIn: f(5)}
	ce, cs := NewIafPscExp(pe, 0.1), NewIafPscExpSlow(pe, 0.1)
	pc := &myelinpb.IafCondExp{CM: f(250), GL: f(16.6667), TRef: f(2), EL: f(-70), VReset: f(-60), VTh: f(-55), IE: f(300),
		EEx: f(0), EIn: f(-85), TauSynEx: f(0.2), TauSynIn: f(2), ESlow: f(-3)}
	de, ds := NewIafCondExp(pc, 0.1), NewIafCondExpSlow(pc, 0.1)
	if de.NSub != ds.NSub {
		t.Fatalf("NSub %d with the port, %d without", ds.NSub, de.NSub)
	}
	var a, b [4]float32
	var ra, rb int32
	a[0], b[0] = 0, 0
	x, y := [3]float32{-70}, [4]float32{-70}
	var rx, ry int32
	spikes := 0
	for k := range 20000 {
		ex, in := float32(r.ExpFloat64()*30), -float32(r.ExpFloat64()*10)
		var f1, f2 bool
		a[0], a[1], a[2], ra, f1 = ce.Step(a[0], a[1], a[2], ra, ex, in, 0)
		b[0], b[1], b[2], b[3], rb, f2 = cs.StepSlow(b[0], b[1], b[2], b[3], rb, ex, in, 0, 0)
		if [3]float32(a[:3]) != [3]float32(b[:3]) || ra != rb || f1 != f2 {
			t.Fatalf("iaf_psc_exp step %d: Step %v %d %v, StepSlow %v %d %v", k, a, ra, f1, b, rb, f2)
		}
		ge, gi := float32(r.ExpFloat64()*2), -float32(r.ExpFloat64()*2)
		var g1, g2 bool
		x[0], x[1], x[2], rx, g1 = de.Step(x[0], x[1], x[2], rx, ge, gi, 0)
		y[0], y[1], y[2], y[3], ry, g2 = ds.StepSlow(y[0], y[1], y[2], y[3], ry, ge, gi, 0, 0)
		if x != [3]float32(y[:3]) || rx != ry || g1 != g2 {
			t.Fatalf("iaf_cond_exp step %d: Step %v %d %v, StepSlow %v %d %v", k, x, rx, g1, y, ry, g2)
		}
		if f1 {
			spikes++
		}
	}
	if spikes < 10 {
		t.Fatalf("%d spikes: the comparison never crossed threshold", spikes)
	}
}

// The models with a slow port describe its defaults, and NewSlow uses them
// where the parameters are unset.
func TestSlowDefaultsAreUsed(t *testing.T) {
	for _, m := range Models() {
		if m.HasSlowPort() != (m.SlowDefaults != nil) {
			t.Errorf("%s: NewSlow and SlowDefaults must come together", m.Name)
			continue
		}
		if !m.HasSlowPort() {
			continue
		}
		merged := proto.Clone(m.Defaults())
		proto.Merge(merged, m.SlowDefaults())
		a, b := m.NewSlow(m.Defaults(), 0.1), m.NewSlow(merged, 0.1)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("%s: NewSlow with unset port parameters %v, with SlowDefaults %v", m.Name, a, b)
		}
	}
}
