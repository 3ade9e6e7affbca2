package neuron

import (
	"math"
	"math/rand/v2"
	"testing"

	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// condTrain is a conductance input train: per step, the jumps (nS) that
// arrive on each channel (In is negative, as the backends deliver it).
type condTrain struct {
	ex, in []float32
}

// newCondTrain draws a Poisson-like train of excitatory and inhibitory
// conductance jumps for steps steps of dt ms from a fixed seed: per step
// and channel a Poisson count at the given rate (Hz) times the weight (nS).
func newCondTrain(seed uint64, steps int, dt, rateEx, wEx, rateIn, wIn float64) condTrain {
	r := rand.New(rand.NewPCG(seed, 7))
	poisson := func(mean float64) int {
		k, p, l := 0, 1.0, math.Exp(-mean)
		for {
			p *= r.Float64()
			if p < l {
				return k
			}
			k++
		}
	}
	t := condTrain{ex: make([]float32, steps), in: make([]float32, steps)}
	for k := range steps {
		t.ex[k] = float32(float64(poisson(rateEx*dt/1000)) * wEx)
		t.in[k] = -float32(float64(poisson(rateIn*dt/1000)) * wIn)
	}
	return t
}

func (t condTrain) input(k int) Input {
	return Input{Ex: []float32{t.ex[k]}, In: []float32{t.in[k]}}
}

// aeifReference integrates aeif_cond_exp in float64 with sub fixed RK4
// steps per step dt on all four state variables, with NEST's rules: V in
// the dynamics bounded by V_peak, a spike when V >= V_peak after a
// substep (V <- V_reset, w <- w + b, refractory for t_ref), V clamped to
// V_reset while refractory, the jumps of step k added after step k. It
// returns V after each step and the spike times (ms).
func aeifReference(p *myelinpb.AeifCondExp, dt float64, sub, steps int, ie float64, train condTrain) (v []float64, spikes []float64) {
	h := dt / float64(sub)
	vpeak := p.GetVPeak()
	if p.GetDeltaT() == 0 {
		vpeak = p.GetVTh()
	}
	refSub := int(math.Round(p.GetTRef()/dt)) * sub
	y := [4]float64{p.GetEL(), 0, 0, 0} // V, g_ex, g_in, w
	ref := 0
	f := func(y [4]float64, refractory bool) [4]float64 {
		V := math.Min(y[0], p.GetVPeak())
		if refractory {
			V = p.GetVReset()
		}
		var ispike float64
		if p.GetDeltaT() > 0 {
			ispike = p.GetGL() * p.GetDeltaT() * math.Exp((V-p.GetVTh())/p.GetDeltaT())
		}
		dv := (-p.GetGL()*(V-p.GetEL()) + ispike - y[1]*(V-p.GetEEx()) - y[2]*(V-p.GetEIn()) - y[3] + p.GetIE() + ie) / p.GetCM()
		if refractory {
			dv = 0
		}
		return [4]float64{dv, -y[1] / p.GetTauSynEx(), -y[2] / p.GetTauSynIn(), (p.GetA()*(V-p.GetEL()) - y[3]) / p.GetTauW()}
	}
	add := func(a [4]float64, s float64, b [4]float64) [4]float64 {
		for i := range a {
			a[i] += s * b[i]
		}
		return a
	}
	for k := range steps {
		for j := range sub {
			r := ref > 0
			k1 := f(y, r)
			k2 := f(add(y, h/2, k1), r)
			k3 := f(add(y, h/2, k2), r)
			k4 := f(add(y, h, k3), r)
			for i := range y {
				y[i] += h / 6 * (k1[i] + 2*k2[i] + 2*k3[i] + k4[i])
			}
			if ref > 0 {
				ref--
				y[0] = p.GetVReset()
			} else if y[0] >= vpeak {
				y[0] = p.GetVReset()
				y[3] += p.GetB()
				// The rest of this step and t_ref after it, as NEST.
				if refSub > 0 {
					ref = refSub + sub - 1 - j
				}
				spikes = append(spikes, (float64(k)+float64(j+1)/float64(sub))*dt)
			}
		}
		y[1] += float64(train.ex[k])
		y[2] -= float64(train.in[k])
		v = append(v, y[0])
	}
	return v, spikes
}

// compareSpikes reports the largest shift, in steps of dt, between the
// model's spike steps and the reference's spike times, and whether both
// have the same number of spikes.
func compareSpikes(steps []int, ref []float64, dt float64) (maxShift int, sameCount bool) {
	for i := range min(len(steps), len(ref)) {
		// A spike at time t in (k dt, (k+1) dt] belongs to step k.
		want := int(math.Ceil(ref[i]/dt-1e-9)) - 1
		maxShift = max(maxShift, abs(steps[i]-want))
	}
	return maxShift, len(steps) == len(ref)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// subthresholdError is the largest |V - Vref| (mV) over the steps that
// are not within guard steps of a spike of either trace and at which both
// are below vth.
func subthresholdError(v, ref []float64, steps []int, refSpikes []float64, dt, vth float64, guard int) float64 {
	near := make([]bool, len(v))
	mark := func(k int) {
		for j := k - guard; j <= k+guard; j++ {
			if j >= 0 && j < len(near) {
				near[j] = true
			}
		}
	}
	for _, k := range steps {
		mark(k)
	}
	for _, t := range refSpikes {
		mark(int(math.Ceil(t/dt-1e-9)) - 1)
	}
	var e float64
	for k := range v {
		if !near[k] && v[k] < vth && ref[k] < vth {
			e = math.Max(e, math.Abs(v[k]-ref[k]))
		}
	}
	return e
}

// TestAeifCondExpReference compares one aeif_cond_exp neuron under an
// irregular conductance input train over 1 s with a float64 RK4
// integration at 1/100 of the step: the spike trains must agree to within
// one step and the subthreshold traces, away from spikes and refractory
// periods, to within 0.25 mV (a spike one step apart ends its refractory
// period one step apart: most of the error with t_ref > 0).
func TestAeifCondExpReference(t *testing.T) {
	const dt, steps = 0.1, 10000
	f := proto.Float64
	base := AeifCondExpModel.Defaults().(*myelinpb.AeifCondExp)
	type train struct{ rateEx, wEx, rateIn, wIn, ie float64 }
	strong := train{8000, 8, 1000, 4, 450}  // fluctuation-driven
	steady := train{5000, 10, 1000, 3, 500} // more current-driven
	for _, tc := range []struct {
		name string
		set  func(p *myelinpb.AeifCondExp)
		in   train
	}{
		{"defaults", func(*myelinpb.AeifCondExp) {}, strong},
		{"defaults, steadier drive", func(*myelinpb.AeifCondExp) {}, steady},
		{"t_ref=2", func(p *myelinpb.AeifCondExp) { p.TRef = f(2) }, strong},
		{"t_ref=2, steadier drive", func(p *myelinpb.AeifCondExp) { p.TRef = f(2) }, steady},
		{"no adaptation", func(p *myelinpb.AeifCondExp) { p.A = f(0); p.B = f(0); p.VReset = f(-55) }, train{8000, 8, 1000, 4, 150}},
		{"delta_t=0", func(p *myelinpb.AeifCondExp) { p.DeltaT = f(0) }, strong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := proto.Clone(base).(*myelinpb.AeifCondExp)
			tc.set(p)
			train := newCondTrain(20260611, steps, dt, tc.in.rateEx, tc.in.wEx, tc.in.rateIn, tc.in.wIn)
			ie := tc.in.ie
			v, spikes := singleNeuron(t, AeifCondExpModel, p, dt, p.GetEL(), steps, func(k int) Input {
				in := train.input(k)
				in.Ext = []float32{float32(ie)}
				return in
			})
			vr, sr := aeifReference(p, dt, 100, steps, ie, train)
			shift, same := compareSpikes(spikes, sr, dt)
			e := subthresholdError(v, vr, spikes, sr, dt, p.GetVTh(), 20+int(RefractorySteps(p.GetTRef(), dt)))
			t.Logf("%d spikes (reference %d), largest shift %d steps, subthreshold error %.4f mV", len(spikes), len(sr), shift, e)
			if len(sr) < 5 {
				t.Fatalf("reference fires %d times: the test means nothing", len(sr))
			}
			if !same || shift > 1 {
				t.Errorf("spike trains differ: %d spikes vs %d, largest shift %d steps", len(spikes), len(sr), shift)
			}
			if e > 0.25 {
				t.Errorf("subthreshold V differs from the reference by %.4f mV", e)
			}
		})
	}
}
