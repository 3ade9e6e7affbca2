package models

import (
	"fmt"

	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// Brette et al. (2007) benchmarks 1 (coba) and 2 (cuba), after Vogels &
// Abbott (2005): 4,000 neurons, 80 % E, 20 % I, pairwise Bernoulli p = 0.02,
// delay 0.1 ms.

func cuba() *Model {
	return &Model{
		Name:   "cuba",
		Short:  "Vogels-Abbott current-based benchmark (Brette et al. 2007 #2): 4,000 iaf_psc_exp, self-sustained",
		Params: []Param{{"n", "4000", "number of neurons (80 % E, 20 % I)"}, durationParam, seedParam},
		build: func(v Values) (*myelinpb.Network, error) {
			model := func() *myelinpb.Population_IafPscExp {
				return &myelinpb.Population_IafPscExp{IafPscExp: &myelinpb.IafPscExp{
					CM: f64(200), TauM: f64(20), EL: f64(-49), VTh: f64(-50), VReset: f64(-60), TRef: f64(5),
					TauSynEx: f64(5), TauSynIn: f64(10), IE: f64(0),
				}}
			}
			return vogelsAbbott(v, "cuba", func(p *myelinpb.Population) { p.Model = model() }, 16.2, -90, nil)
		},
	}
}

func coba() *Model {
	return &Model{
		Name:   "coba",
		Short:  "Vogels-Abbott conductance-based benchmark (Brette et al. 2007 #1): 4,000 iaf_cond_exp, 300 Hz kick-start",
		Params: []Param{{"n", "4000", "number of neurons (80 % E, 20 % I)"}, durationParam, seedParam},
		build: func(v Values) (*myelinpb.Network, error) {
			model := func() *myelinpb.Population_IafCondExp {
				return &myelinpb.Population_IafCondExp{IafCondExp: &myelinpb.IafCondExp{
					CM: f64(200), GL: f64(10), EL: f64(-60), VTh: f64(-50), VReset: f64(-60), TRef: f64(5),
					EEx: f64(0), EIn: f64(-80), TauSynEx: f64(5), TauSynIn: f64(10), IE: f64(0),
				}}
			}
			kick := &myelinpb.Input{Name: "kick", Target: "E", Kind: &myelinpb.Input_Poisson{Poisson: &myelinpb.PoissonInput{
				RateHz: 300, Weight: 6, StartMs: f64(1), StopMs: f64(51), First: 0, Count: 50,
			}}}
			return vogelsAbbott(v, "coba", func(p *myelinpb.Population) { p.Model = model() }, 6, -67, kick)
		},
	}
}

func vogelsAbbott(v Values, name string, setModel func(*myelinpb.Population), wE, wI float64, kick *myelinpb.Input) (*myelinpb.Network, error) {
	r := reader{v: v}
	n := r.count("n", 100, 0)
	dur, seed := r.common()
	if r.err != nil {
		return nil, r.err
	}
	nE, nI := splitEI(n)
	e := &myelinpb.Population{Name: "E", Size: nE, Initial: uniform(-60, -50)}
	i := &myelinpb.Population{Name: "I", Size: nI, Initial: uniform(-60, -50)}
	setModel(e)
	setModel(i)
	proj := func(pre, post string, w float64) *myelinpb.Projection {
		return &myelinpb.Projection{
			Name: pre + "->" + post, Pre: pre, Post: post,
			Rule:   &myelinpb.Projection_PairwiseBernoulli{PairwiseBernoulli: &myelinpb.PairwiseBernoulli{P: 0.02}},
			Weight: constant(w), Delay: constant(0.1),
			AllowAutapses: proto.Bool(true), AllowMultapses: proto.Bool(true),
		}
	}
	net := &myelinpb.Network{
		Name: fmt.Sprintf("%s (N=%d)", name, n), DtMs: f64(0.1), DurationMs: f64(dur), Seed: seed,
		Populations: []*myelinpb.Population{e, i},
		Projections: []*myelinpb.Projection{proj("E", "E", wE), proj("E", "I", wE), proj("I", "E", wI), proj("I", "I", wI)},
		Recording:   &myelinpb.Recording{BlockSteps: 100},
	}
	if kick != nil {
		net.Inputs = append(net.Inputs, kick)
	}
	return net, nil
}
