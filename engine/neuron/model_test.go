package neuron

import (
	"math"
	"testing"

	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// TestRegistryCoversTheSpec checks that every field of Population's model
// oneof has a registered model and that each model is complete: a model
// added to the proto but not to the engine fails here, not at run time.
func TestRegistryCoversTheSpec(t *testing.T) {
	fields := fieldsOf(modelOneof())
	if len(fields) != len(Models()) {
		t.Errorf("%d model fields in myelin.Population, %d registered models", len(fields), len(Models()))
	}
	for _, fd := range fields {
		m, ok := Lookup(string(fd.Name()))
		if !ok {
			t.Errorf("oneof field %s has no registered model", fd.Name())
			continue
		}
		if m.Defaults == nil || m.Check == nil || m.Rest == nil || m.Offset == nil || m.RefractoryMs == nil || m.New == nil || m.Summary == "" || len(m.State) == 0 {
			t.Errorf("%s: incomplete descriptor", m.Name)
		}
		coef := m.New(m.Defaults(), 0.1)
		switch m.Kind {
		case Spiking:
			if _, ok := coef.(SpikingModel); !ok {
				t.Errorf("%s: coefficients %T do not implement SpikingModel", m.Name, coef)
			}
			if m.Channels != 1 && m.Channels != 2 {
				t.Errorf("%s: %d input channels", m.Name, m.Channels)
			}
			if len(m.State) > 4 {
				t.Errorf("%s: %d state variables, State holds 4", m.Name, len(m.State))
			}
		case RateNeurons:
			if _, ok := coef.(RateModel); !ok {
				t.Errorf("%s: coefficients %T do not implement RateModel", m.Name, coef)
			}
		default:
			t.Errorf("%s: kind %d", m.Name, m.Kind)
		}
		if got, ok := ByCode(m.Code); !ok || got != m {
			t.Errorf("%s: ByCode(%d) = %v", m.Name, m.Code, got)
		}
		if f, ok := ForParams(m.Defaults()); !ok || f != m {
			t.Errorf("%s: ForParams(defaults) = %v", m.Name, f)
		}
	}
}

// TestOfAndSet round-trips a model through a population.
func TestOfAndSet(t *testing.T) {
	p := &myelinpb.Population{Name: "x"}
	if _, _, ok := Of(p); ok {
		t.Error("a population without a model has one")
	}
	if err := Set(p, "no_such_model", nil); err == nil {
		t.Error("Set accepted an unknown model")
	}
	if err := Set(p, "iaf_psc_exp", &myelinpb.IafPscDelta{}); err == nil {
		t.Error("Set accepted iaf_psc_delta parameters for iaf_psc_exp")
	}
	if err := Set(p, "iaf_psc_exp", &myelinpb.IafPscExp{TauM: proto.Float64(7)}); err != nil {
		t.Fatal(err)
	}
	m, params, ok := Of(p)
	if !ok || m != IafPscExpModel || params.(*myelinpb.IafPscExp).GetTauM() != 7 || p.GetIafPscExp().GetTauM() != 7 {
		t.Errorf("Of after Set: %v %v %v", m, params, ok)
	}
	p.Model = &myelinpb.Population_IafCondExp{}
	if m, params, ok := Of(p); !ok || m != IafCondExpModel || params != nil {
		t.Errorf("nil message: %v %v %v", m, params, ok)
	}
	if got := ParamsOrEmpty(p); got == nil || p.GetIafCondExp() == nil {
		t.Errorf("ParamsOrEmpty did not allocate: %v", got)
	}
}

// singleNeuron runs one neuron of a spiking model for steps steps from v0
// (absolute mV) with the input in(k) of step k, and returns V (absolute)
// after each step and the steps at which it fired.
func singleNeuron(t *testing.T, m *Model, params proto.Message, dt, v0 float64, steps int, in func(k int) Input) (v []float64, spikes []int) {
	t.Helper()
	coef := m.New(params, dt).(SpikingModel)
	off := m.Offset(params)
	el := float32(off)
	s := &State{V: []float32{float32(v0 - float64(el))}, A: []float32{0}, B: []float32{0}, C: []float32{0}, Ref: []int32{0}}
	for k := range steps {
		x := in(k)
		if x.Ex == nil {
			x.Ex = []float32{0}
		}
		if x.In == nil {
			x.In = []float32{0}
		}
		if x.Ext == nil {
			x.Ext = []float32{0}
		}
		if f := coef.Update(s, 0, 1, &x, nil); len(f) > 0 {
			spikes = append(spikes, k)
		}
		v = append(v, float64(s.V[0]+el))
	}
	return v, spikes
}

// TestLIFModelsFICurve checks, for every integrate-and-fire model with a
// current-based membrane, the firing rate under a constant current against
// f = 1/(t_ref + τ ln((V_inf-V_r)/(V_inf-V_th))), V_inf = E_L + τ I/C.
func TestLIFModelsFICurve(t *testing.T) {
	const tau, c, el, vth, vr, tref, dt = 10.0, 250.0, -70.0, -55.0, -70.0, 2.0, 0.1
	f := proto.Float64
	for _, tc := range []struct {
		m      *Model
		params proto.Message
	}{
		{IafPscDeltaModel, &myelinpb.IafPscDelta{CM: f(c), TauM: f(tau), TRef: f(tref), EL: f(el), VReset: f(vr), VTh: f(vth), IE: f(0)}},
		{IafPscExpModel, &myelinpb.IafPscExp{CM: f(c), TauM: f(tau), TRef: f(tref), EL: f(el), VReset: f(vr), VTh: f(vth), IE: f(0), TauSynEx: f(2), TauSynIn: f(2)}},
		// iaf_cond_exp with g_L = C/τ and no synaptic conductance is the same membrane.
		{IafCondExpModel, &myelinpb.IafCondExp{CM: f(c), GL: f(c / tau), TRef: f(tref), EL: f(el), VReset: f(vr), VTh: f(vth), IE: f(0), EEx: f(0), EIn: f(-85), TauSynEx: f(0.2), TauSynIn: f(2)}},
	} {
		for _, ie := range []float64{400, 600} {
			_, spikes := singleNeuron(t, tc.m, tc.params, dt, el, 20000, func(int) Input {
				return Input{Ext: []float32{float32(ie)}}
			})
			vinf := el + tau*ie/c
			want := 1000 / (tref + tau*math.Log((vinf-vr)/(vinf-vth)))
			if len(spikes) < 10 {
				t.Fatalf("%s, I = %g pA: %d spikes", tc.m.Name, ie, len(spikes))
			}
			got := float64(len(spikes)-1) / (float64(spikes[len(spikes)-1]-spikes[0]) * dt / 1000)
			// One step of grid jitter per interval is the scheme's error.
			if tol := want * want * dt / 1000; math.Abs(got-want) > tol+0.005*want {
				t.Errorf("%s, I = %g pA: %.3f Hz, f–I curve gives %.3f Hz", tc.m.Name, ie, got, want)
			}
		}
	}
}
