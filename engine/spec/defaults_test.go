package spec

import (
	"testing"

	"github.com/myelin-sim/myelin/engine/neuron"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// defaults returns the registered defaults of the model called name.
func defaults[T proto.Message](t *testing.T, name string) T {
	t.Helper()
	m, ok := neuron.Lookup(name)
	if !ok {
		t.Fatalf("model %q is not registered", name)
	}
	return m.Defaults().(T)
}

func TestApplyDefaults(t *testing.T) {
	n, err := Parse([]byte(`
populations { name: "D" size: 2 iaf_psc_delta { tau_m: 20 } }
populations { name: "X" size: 2 iaf_psc_exp {} }
populations { name: "C" size: 2 iaf_cond_exp { v_reset: -65 } }
populations { name: "R" size: 2 rate {} initial { constant: 0.5 } }
projections { pre: "D" post: "X" all_to_all {} weight { constant: 1 } allow_autapses: false }
projections { name: "rr" pre: "R" post: "R" one_to_one {} weight { constant: 1 } }
inputs { target: "D" dc { amplitude: 1 } }
inputs { name: "kick" target: "D" dc { amplitude: 1 } }
recording { state { population: "R" count: 1 } }
`), Textproto)
	if err != nil {
		t.Fatal(err)
	}
	ApplyDefaults(n)
	if err := Validate(n); err != nil {
		t.Fatal(err)
	}

	if n.GetDtMs() != DefaultDtMs || n.GetDurationMs() != DefaultDurationMs {
		t.Errorf("dt %v duration %v", n.GetDtMs(), n.GetDurationMs())
	}
	d := defaults[*myelinpb.IafPscDelta](t, "iaf_psc_delta")
	d.TauM = proto.Float64(20)
	if got := n.Populations[0].GetIafPscDelta(); !proto.Equal(got, d) {
		t.Errorf("iaf_psc_delta: got %v want %v", got, d)
	}
	if got := n.Populations[1].GetIafPscExp(); !proto.Equal(got, defaults[*myelinpb.IafPscExp](t, "iaf_psc_exp")) {
		t.Errorf("iaf_psc_exp: got %v", got)
	}
	c := defaults[*myelinpb.IafCondExp](t, "iaf_cond_exp")
	c.VReset = proto.Float64(-65)
	if got := n.Populations[2].GetIafCondExp(); !proto.Equal(got, c) {
		t.Errorf("iaf_cond_exp: got %v want %v", got, c)
	}
	r := n.Populations[3].GetRate()
	if !proto.Equal(r, defaults[*myelinpb.RateNeuron](t, "rate")) || r.Transfer != myelinpb.RateNeuron_LINEAR {
		t.Errorf("rate: got %v", r)
	}
	// NEST values spelled out once, so a typo in the defaults is caught.
	if c := defaults[*myelinpb.IafCondExp](t, "iaf_cond_exp"); c.GetGL() != 16.6667 || c.GetEIn() != -85 || c.GetTauSynEx() != 0.2 || c.GetVReset() != -60 {
		t.Errorf("iaf_cond_exp defaults %v", c)
	}
	if x := defaults[*myelinpb.IafPscExp](t, "iaf_psc_exp"); x.GetCM() != 250 || x.GetTauM() != 10 || x.GetTRef() != 2 || x.GetEL() != -70 ||
		x.GetVReset() != -70 || x.GetVTh() != -55 || x.GetIE() != 0 || x.GetTauSynEx() != 2 || x.GetTauSynIn() != 2 {
		t.Errorf("iaf_psc_exp defaults %v", x)
	}

	if got := n.Populations[0].GetInitial(); !proto.Equal(got, Const(-70)) {
		t.Errorf("initial of D: %v, want constant E_L", got)
	}
	if got := n.Populations[3].GetInitial(); !proto.Equal(got, Const(0.5)) {
		t.Errorf("initial of R: %v, want the given 0.5", got)
	}

	p := n.Projections[0]
	if p.Name != "D->X" || !proto.Equal(p.Delay, Const(0.1)) || p.GetAllowAutapses() || !p.GetAllowMultapses() {
		t.Errorf("projection defaults: %v", p)
	}
	if n.Projections[1].Name != "rr" {
		t.Errorf("explicit name replaced: %q", n.Projections[1].Name)
	}
	if n.Inputs[0].Name != "input0" || n.Inputs[1].Name != "kick" {
		t.Errorf("input names %q %q", n.Inputs[0].Name, n.Inputs[1].Name)
	}
	if n.Recording.BlockSteps != DefaultBlockSteps || n.Recording.State[0].Every != DefaultProbeEvery {
		t.Errorf("recording %v", n.Recording)
	}

	again := proto.Clone(n).(*myelinpb.Network)
	ApplyDefaults(again)
	if !proto.Equal(n, again) {
		t.Error("ApplyDefaults is not idempotent")
	}
}

func TestApplyDefaultsDelayUsesDt(t *testing.T) {
	n := &myelinpb.Network{
		DtMs:        proto.Float64(0.25),
		Populations: []*myelinpb.Population{{Name: "A", Size: 1, Model: &myelinpb.Population_IafPscDelta{}}},
		Projections: []*myelinpb.Projection{{Pre: "A", Post: "A", Rule: &myelinpb.Projection_AllToAll{}, Weight: Const(1)}},
	}
	ApplyDefaults(n)
	if !proto.Equal(n.Projections[0].Delay, Const(0.25)) {
		t.Errorf("delay %v, want constant 0.25", n.Projections[0].Delay)
	}
	if n.Populations[0].GetIafPscDelta().GetTauM() != 10 {
		t.Errorf("nil model message not defaulted: %v", n.Populations[0])
	}
	if err := Validate(n); err != nil {
		t.Error(err)
	}
	ApplyDefaults(nil) // must not panic
}
