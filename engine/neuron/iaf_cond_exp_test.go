package neuron

import (
	"fmt"
	"math"
	"testing"

	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// iafCondExpReference integrates iaf_cond_exp in float64 with sub fixed
// RK4 steps per step dt on (V, g_ex, g_in), with NEST's update rules: the
// spike check after the whole step, V <- V_reset for t_ref steps after a
// spike, the conductance jumps of step k added after step k. It returns V
// after each step and the spike steps.
func iafCondExpReference(p *myelinpb.IafCondExp, dt float64, sub, steps int, ie float64, train condTrain) (v []float64, spikes []int) {
	h := dt / float64(sub)
	y := [3]float64{p.GetEL(), 0, 0}
	ref := 0
	refSteps := int(RefractorySteps(p.GetTRef(), dt))
	f := func(y [3]float64) [3]float64 {
		V := y[0]
		dv := (-p.GetGL()*(V-p.GetEL()) - y[1]*(V-p.GetEEx()) - y[2]*(V-p.GetEIn()) + p.GetIE() + ie) / p.GetCM()
		return [3]float64{dv, -y[1] / p.GetTauSynEx(), -y[2] / p.GetTauSynIn()}
	}
	add := func(a [3]float64, s float64, b [3]float64) [3]float64 {
		for i := range a {
			a[i] += s * b[i]
		}
		return a
	}
	for k := range steps {
		for range sub {
			k1 := f(y)
			k2 := f(add(y, h/2, k1))
			k3 := f(add(y, h/2, k2))
			k4 := f(add(y, h, k3))
			for i := range y {
				y[i] += h / 6 * (k1[i] + 2*k2[i] + 2*k3[i] + k4[i])
			}
		}
		y[1] += float64(train.ex[k])
		y[2] -= float64(train.in[k])
		if ref > 0 {
			ref--
			y[0] = p.GetVReset()
		} else if y[0] >= p.GetVTh() {
			ref = refSteps
			y[0] = p.GetVReset()
			spikes = append(spikes, k)
		}
		v = append(v, y[0])
	}
	return v, spikes
}

// TestIafCondExpReference compares one iaf_cond_exp neuron under
// irregular conductance input trains (Poisson-like excitatory and
// inhibitory jumps from a fixed seed, plus a constant current) over 1 s
// with a float64 RK4 integration at 1/100 of the step: the spike trains
// must agree to within one step and V, away from spikes, to within 0.01 mV.
func TestIafCondExpReference(t *testing.T) {
	const dt, steps = 0.1, 10000
	for _, tc := range []struct {
		rateEx, wEx, rateIn, wIn, ie float64
		tauEx, tauIn                 float64 // 0: NEST's defaults
	}{
		{10000, 3, 2000, 3, 200, 0, 0},
		{8000, 4, 1000, 4, 200, 0, 0},
		{6000, 6, 1500, 6, 250, 0, 0},
		{3000, 10, 1000, 5, 220, 0, 0},
		{8000, 6, 1000, 10, 200, 0.1, 0.5}, // synapses as fast as the step
	} {
		p := IafCondExpModel.Defaults().(*myelinpb.IafCondExp)
		if tc.tauEx > 0 {
			p.TauSynEx, p.TauSynIn = proto.Float64(tc.tauEx), proto.Float64(tc.tauIn)
		}
		t.Run(fmt.Sprintf("ex %g Hz × %g nS, in %g Hz × %g nS, %g pA, tau %g/%g ms", tc.rateEx, tc.wEx, tc.rateIn, tc.wIn, tc.ie, p.GetTauSynEx(), p.GetTauSynIn()), func(t *testing.T) {
			train := newCondTrain(20260612, steps, dt, tc.rateEx, tc.wEx, tc.rateIn, tc.wIn)
			v, spikes := singleNeuron(t, IafCondExpModel, p, dt, p.GetEL(), steps, func(k int) Input {
				in := train.input(k)
				in.Ext = []float32{float32(tc.ie)}
				return in
			})
			vr, sr := iafCondExpReference(p, dt, 100, steps, tc.ie, train)
			shift := 0
			for i := range min(len(spikes), len(sr)) {
				shift = max(shift, abs(spikes[i]-sr[i]))
			}
			times := make([]float64, len(sr))
			for i, k := range sr {
				times[i] = (float64(k) + 0.5) * dt
			}
			e := subthresholdError(v, vr, spikes, times, dt, p.GetVTh(), 25)
			t.Logf("%d spikes (reference %d), largest shift %d steps, V error %.5f mV", len(spikes), len(sr), shift, e)
			if len(sr) < 10 {
				t.Fatalf("the reference fires %d times: the test means nothing", len(sr))
			}
			if len(spikes) != len(sr) || shift > 1 {
				t.Errorf("spike trains differ: %d spikes vs %d, largest shift %d steps", len(spikes), len(sr), shift)
			}
			if e > 0.01 {
				t.Errorf("V differs from the reference by %.5f mV", e)
			}
		})
	}
}

// TestIafCondExpStiff checks the exponential-Euler fallback: a conductance
// far beyond RK4's stability (10^6 nS) pulls V towards the reversal
// potential without overshoot, as the exact solution does.
func TestIafCondExpStiff(t *testing.T) {
	p := IafCondExpModel.Defaults().(*myelinpb.IafCondExp)
	p.TauSynEx = proto.Float64(2)
	for _, tc := range []struct {
		ex, in float32
		lo, hi float64
	}{
		{0, -1e6, p.GetEIn(), p.GetEIn() + 1}, // inhibition: V at E_in
		{1e6, 0, p.GetVTh(), math.Inf(1)},     // excitation: V to E_ex, a spike
	} {
		v, spikes := singleNeuron(t, IafCondExpModel, p, 0.1, p.GetEL(), 3, func(k int) Input {
			if k == 0 {
				return Input{Ex: []float32{tc.ex}, In: []float32{tc.in}}
			}
			return Input{}
		})
		if tc.ex > 0 {
			if len(spikes) != 1 || spikes[0] != 1 {
				t.Errorf("excitatory 10^6 nS: spikes %v, want one at step 1", spikes)
			}
			continue
		}
		if math.IsNaN(v[1]) || v[1] < tc.lo-1e-3 || v[1] > tc.hi {
			t.Errorf("inhibitory 10^6 nS: V = %v after the jump, want within [%g, %g]", v[1], tc.lo, tc.hi)
		}
	}
}
