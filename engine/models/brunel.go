package models

import (
	"fmt"
	"strings"

	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// BrunelRegime is a point of Brunel's (2000) phase diagram.
type BrunelRegime struct {
	Name string
	G    float64 // relative inhibition
	Eta  float64 // external drive relative to threshold
}

// BrunelRegimes are the four regimes of Brunel (2000), Fig. 8.
var BrunelRegimes = []BrunelRegime{
	{"ai", 5, 2},          // asynchronous irregular (model A)
	{"sr", 3, 2},          // synchronous regular
	{"si-fast", 6, 4},     // synchronous irregular, fast oscillation
	{"si-slow", 4.5, 0.9}, // synchronous irregular, slow oscillation
}

func brunel() *Model {
	return &Model{
		Name:  "brunel",
		Short: "Brunel (2000) model A: 80/20 E/I iaf_psc_delta network with Poisson drive (N = 12,500)",
		Params: []Param{
			{"n", "12500", "number of neurons (80 % E, 20 % I)"},
			{"regime", "ai", "ai | sr | si-fast | si-slow (Brunel's phase diagram)"},
			{"g", "", "relative inhibition (overrides the regime's)"},
			{"eta", "", "external rate relative to threshold rate (overrides the regime's)"},
			{"indegree", "", "excitatory in-degree C_E (default 0.1 N_E, so synapses grow as N²; set 1000 for million-neuron runs)"},
			{"procedural", "0", "1: fixed out-degree rules with as many synapses (out-degree C × N_post / N_pre), procedural: regenerated at each spike, none stored"},
			durationParam, seedParam,
		},
		build: buildBrunel,
	}
}

func buildBrunel(v Values) (*myelinpb.Network, error) {
	r := reader{v: v}
	n := r.count("n", 10, 0)
	var reg *BrunelRegime
	for i := range BrunelRegimes {
		if BrunelRegimes[i].Name == strings.ToLower(v["regime"]) {
			reg = &BrunelRegimes[i]
		}
	}
	if reg == nil {
		return nil, fmt.Errorf("parameter regime = %q: want ai, sr, si-fast or si-slow", v["regime"])
	}
	g, eta := r.float("g", reg.G), r.float("eta", reg.Eta)
	r.atLeast("g", g, 0, "inhibition relative to excitation; a negative g would make the I synapses excitatory")
	r.atLeast("eta", eta, 0, "an external rate")
	dur, seed := r.common()
	nE, nI := splitEI(n)
	cE := r.count("indegree", 1, max(1, nE/10))
	procedural := r.count("procedural", 0, 0)
	if r.err != nil {
		return nil, r.err
	}
	if cE > nE {
		return nil, fmt.Errorf("parameter indegree = %d: must be in [1, %d]", cE, nE)
	}
	if procedural > 1 {
		return nil, fmt.Errorf("parameter procedural = %d: want 0 or 1", procedural)
	}
	cI := max(1, cE/4)
	if cI > nI {
		return nil, fmt.Errorf("parameter indegree = %d: needs C_I = %d <= N_I = %d", cE, cI, nI)
	}
	const (
		j     = 0.1  // mV
		tauM  = 20.0 // ms
		vTh   = 20.0 // mV
		delay = 1.5  // ms
	)
	nuThr := vTh / (j * float64(cE) * tauM) // spikes per ms
	pRate := 1000 * float64(cE) * eta * nuThr
	model := func() *myelinpb.Population_IafPscDelta {
		return &myelinpb.Population_IafPscDelta{IafPscDelta: &myelinpb.IafPscDelta{
			CM: f64(1), TauM: f64(tauM), TRef: f64(2), EL: f64(0), VReset: f64(10), VTh: f64(vTh), IE: f64(0),
		}}
	}
	size := map[string]uint32{"E": nE, "I": nI}
	proj := func(pre, post string, k uint32, w float64) *myelinpb.Projection {
		p := &myelinpb.Projection{
			Name: pre + "->" + post, Pre: pre, Post: post,
			Rule:   &myelinpb.Projection_FixedInDegree{FixedInDegree: &myelinpb.FixedInDegree{Indegree: k}},
			Weight: constant(w), Delay: constant(delay),
			AllowAutapses: proto.Bool(true), AllowMultapses: proto.Bool(false),
		}
		if procedural == 1 {
			out := uint32(max(1, (uint64(k)*uint64(size[post])+uint64(size[pre])/2)/uint64(size[pre])))
			p.Rule = &myelinpb.Projection_FixedOutDegree{FixedOutDegree: &myelinpb.FixedOutDegree{Outdegree: out}}
			p.Procedural = proto.Bool(true)
		}
		return p
	}
	return &myelinpb.Network{
		Name:       fmt.Sprintf("brunel (%s: g=%g, eta=%g, N=%d, C_E=%d)", reg.Name, g, eta, n, cE),
		DtMs:       f64(0.1),
		DurationMs: f64(dur),
		Seed:       seed,
		Populations: []*myelinpb.Population{
			{Name: "E", Size: nE, Model: model(), Initial: uniform(0, vTh)},
			{Name: "I", Size: nI, Model: model(), Initial: uniform(0, vTh)},
		},
		Projections: []*myelinpb.Projection{
			proj("E", "E", cE, j), proj("E", "I", cE, j),
			proj("I", "E", cI, -g*j), proj("I", "I", cI, -g*j),
		},
		Inputs: []*myelinpb.Input{
			{Name: "ext_E", Target: "E", Kind: &myelinpb.Input_Poisson{Poisson: &myelinpb.PoissonInput{RateHz: pRate, Weight: j}}},
			{Name: "ext_I", Target: "I", Kind: &myelinpb.Input_Poisson{Poisson: &myelinpb.PoissonInput{RateHz: pRate, Weight: j}}},
		},
		Recording: &myelinpb.Recording{BlockSteps: 100},
	}, nil
}
