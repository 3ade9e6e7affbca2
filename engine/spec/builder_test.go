package spec

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// brunelBuilder builds testdata/brunel.textproto in Go.
func brunelBuilder() *Builder {
	lif := func() *myelinpb.IafPscDelta {
		return &myelinpb.IafPscDelta{
			CM: proto.Float64(1), TauM: proto.Float64(20), TRef: proto.Float64(2),
			EL: proto.Float64(0), VReset: proto.Float64(10), VTh: proto.Float64(20),
		}
	}
	b := New("brunel").Dt(0.1).Duration(200).Seed(42)
	b.Population("E", 800, IafPscDelta(lif()), Initial(UniformDist(0, 20)))
	b.Population("I", 200, IafPscDelta(lif()), Initial(UniformDist(0, 20)))
	for _, pre := range []string{"E", "I"} {
		k, w := uint32(80), 0.1
		if pre == "I" {
			k, w = 20, -0.5
		}
		for _, post := range []string{"E", "I"} {
			b.Project(pre, post, FixedIn(k), Weight(Const(w)), Delay(Const(1.5)), Multapses(false))
		}
	}
	b.Poisson("E", 20000, 0.1).Poisson("I", 20000, 0.1)
	b.Record("E", "I").Probe("E", 0, 10, 0)
	return b
}

func TestBuilderMatchesTextproto(t *testing.T) {
	want, err := Load(filepath.Join("testdata", "brunel.textproto"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := brunelBuilder().Build()
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, want) {
		a, _ := Format(got)
		b, _ := Format(want)
		t.Errorf("builder:\n%s\ntextproto:\n%s", a, b)
	}
}

func TestBuilderAllParts(t *testing.T) {
	b := New("all").Seed(1).BlockSteps(10)
	b.Population("R", 36, Rate(&myelinpb.RateNeuron{Transfer: myelinpb.RateNeuron_RELU}))
	b.Population("C", 4, IafCondExp(nil), Initial(NormalDist(-60, 1)))
	b.Population("X", 4, IafPscExp(nil), Initial(ClippedNormalDist(-60, 1, -70, -55)))
	b.Population("D", 4, IafPscDelta(nil))
	b.Project("R", "R", Ring(1, 0.1, 30), Name("ring"))
	b.Project("C", "C", Bernoulli(0.5), Weight(LognormalDist(0, 1, true)), Autapses(false), Via(myelinpb.Receptor_INHIBITORY))
	b.Project("C", "C", FixedOut(2), Weight(Const(1)))
	b.Project("X", "X", OneToOne(), Weight(Const(1)))
	b.Project("X", "X", AllToAll(), Weight(Const(1)))
	b.Project("D", "D", Explicit(&myelinpb.ExplicitList{PreIndex: []uint32{0}, PostIndex: []uint32{1}, WeightValues: []float64{2}}))
	b.Project("D", "D", Explicit(nil), Weight(Const(1)))
	b.DC("R", 0.5, Window(0, 100), Neurons(0, 18), Name("cue"))
	b.Poisson("C", 300, 6, Window(1, 51), Neurons(0, 2), Via(myelinpb.Receptor_EXCITATORY))
	b.SpikeTimes("D", []uint32{0, 1}, []float64{1, 2}, 5, Via(myelinpb.Receptor_EXCITATORY))
	n, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	text, err := Format(n)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(text, Textproto)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(n, back) {
		t.Errorf("round trip differs:\n%s", text)
	}
	if n.Inputs[0].Name != "cue" || n.Inputs[1].GetPoisson().GetStopMs() != 51 || n.Projections[0].Name != "ring" {
		t.Errorf("options not applied:\n%s", text)
	}
	// Build leaves the builder's own network undefaulted and reusable.
	if b.Network().DtMs != nil {
		t.Error("Build changed the builder's network")
	}
}

func TestBuilderErrors(t *testing.T) {
	b := New("bad")
	b.Population("E", 10, nil, Weight(Const(1)))
	b.Population("I", 10, IafPscDelta(nil))
	b.Project("E", "I", nil, Initial(Const(0)))
	b.Project("I", "I", Bernoulli(2), Weight(Const(1)))
	b.DC("I", 1, Via(myelinpb.Receptor_EXCITATORY))
	b.SpikeTimes("I", nil, nil, 1, Window(0, 1))
	b.Poisson("I", 1, 1, Option{})
	_, err := b.Build()
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{
		`population "E": model is nil`,
		`population "E": option Weight does not apply here`,
		`projection E->I: rule is nil`,
		`projection E->I: option Initial does not apply here`,
		`input 0 (dc on "I"): option Via does not apply here`,
		`input 1 (spike_times on "I"): option Window does not apply here`,
		`option zero Option does not apply here`,
		`pairwise_bernoulli.p = 2: must be in [0, 1]`,
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in\n%v", w, err)
		}
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Error("validation problems not reachable with errors.As")
	}
}
