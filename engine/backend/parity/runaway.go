package parity

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/sim"
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// Runaway runs, on be, a network whose rate population R overflows
// float32 within its first 100 steps (r grows about 5.7× a step) beside a
// quiet spiking population, and checks the rule every backend follows: a
// state that leaves the float32 range stops the run FAILED with an error
// naming the population and the neuron, never COMPLETE. It returns the
// run's error (for further checks) and nil, or a description of what went
// wrong.
func Runaway(be backend.Backend) (runErr, err error) {
	f := proto.Float64
	s := spec.New("runaway").Dt(0.1).Duration(100).
		Population("S", 5, spec.IafPscDelta(nil)).
		Population("R", 3, spec.Rate(&myelinpb.RateNeuron{Tau: f(1), Gain: f(1)}), spec.Initial(spec.Const(1))).
		Project("R", "R", spec.OneToOne(), spec.Weight(spec.Const(50))).Network()
	spec.ApplyDefaults(s)
	if err := spec.Validate(s); err != nil {
		return nil, err
	}
	net, err := network.Build(s, network.Options{Threads: 1})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	res, runErr := sim.Run(context.Background(), net, sim.Options{Backend: be, Out: &buf})
	if runErr == nil || res.Status != myelinpb.Trailer_FAILED || !strings.Contains(runErr.Error(), `population "R": r of neuron 0`) {
		return runErr, fmt.Errorf("%s: status %v, error %v; want FAILED naming neuron 0 of population R", be.Name(), res.Status, runErr)
	}
	return runErr, nil
}
