package parity

import (
	"fmt"

	"github.com/myelin-sim/myelin/engine/models"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// HubTargets is the out-degree of Hub's hub neuron: its row's length.
const HubTargets = 5000

// Hub is a network with one very long row: the brunel model (n neurons,
// in-degree indegree, so rows of about 1.25 × indegree synapses) beside a
// population H of one neuron, driven by Poisson input, that projects onto
// every one of the HubTargets neurons of a population T (fixed out-degree).
// With indegree 40 the hub's row is about 100 times the others: a
// segmentation of delivery fixed by the longest row pays it for every
// spike (kernels/launch, SegmentsGlobal).
func Hub(n, indegree int, durationMs float64) (*myelinpb.Network, error) {
	s, err := models.Spec("brunel", map[string]string{
		"n": fmt.Sprint(n), "indegree": fmt.Sprint(indegree), "duration_ms": fmt.Sprint(durationMs)})
	if err != nil {
		return nil, fmt.Errorf("parity hub: %w", err)
	}
	e := s.Populations[0]
	s.Name = "hub: " + s.Name
	model := func() *myelinpb.Population_IafPscDelta {
		return &myelinpb.Population_IafPscDelta{IafPscDelta: proto.CloneOf(e.GetIafPscDelta())}
	}
	s.Populations = append(s.Populations,
		&myelinpb.Population{Name: "H", Size: 1, Model: model()},
		&myelinpb.Population{Name: "T", Size: HubTargets, Model: model(), Initial: proto.CloneOf(e.Initial)})
	s.Projections = append(s.Projections, &myelinpb.Projection{
		Name: "H->T", Pre: "H", Post: "T",
		Rule:   &myelinpb.Projection_FixedOutDegree{FixedOutDegree: &myelinpb.FixedOutDegree{Outdegree: HubTargets}},
		Weight: &myelinpb.Distribution{Kind: &myelinpb.Distribution_Uniform{Uniform: &myelinpb.Uniform{Low: 2, High: 8}}},
		Delay:  &myelinpb.Distribution{Kind: &myelinpb.Distribution_Constant{Constant: 1.5}},
	})
	s.Inputs = append(s.Inputs, &myelinpb.Input{Name: "ext_H", Target: "H",
		Kind: &myelinpb.Input_Poisson{Poisson: &myelinpb.PoissonInput{RateHz: 20000, Weight: 0.1}}})
	return s, nil
}

// HubCase is the parity case of Hub with 1,500 brunel neurons of in-degree
// 40 for 100 ms: the hub's row is about 100 times the others, and the hub
// and its targets must both fire.
func HubCase() Case {
	return Case{Name: "hub", MinSpikes: 1000, MinPopSpikes: map[string]uint64{"H": 5, "T": 1000},
		Spec: func() (*myelinpb.Network, error) { return Hub(1500, 40, 100) }}
}
