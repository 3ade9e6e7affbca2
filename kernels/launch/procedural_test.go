package launch_test

import (
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/spec"
	"github.com/myelin-sim/myelin/kernels/launch"
)

// The kernels (CUDA backend and host emulation, which both lay out the
// network here) refuse a procedural projection, naming it, until they have
// twins of the connectivity generator.
func TestProceduralRefused(t *testing.T) {
	s, err := spec.New("proc").Population("E", 50, spec.IafPscDelta(nil)).
		Project("E", "E", spec.FixedIn(5), spec.Weight(spec.Const(0.1))).
		Project("E", "E", spec.FixedOut(5), spec.Weight(spec.Const(0.1)), spec.Name("regen"), spec.Procedural(true)).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	net, err := network.Build(s, network.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = launch.New(net, launch.Config{})
	if err == nil || !strings.Contains(err.Error(), `projection "regen" (projections[1]) is procedural`) {
		t.Fatalf("launch.New: %v, want a refusal naming projection \"regen\"", err)
	}
}
