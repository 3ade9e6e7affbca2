package plan_test

import (
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/plan"
	"github.com/myelin-sim/myelin/engine/spec"
)

// CheckFits refuses a plan whose CPU side exceeds the memory given, naming
// both sizes, and accepts it at exactly its size.
func TestCheckFits(t *testing.T) {
	s, err := spec.New("fit").Population("A", 1000, spec.IafPscExp(nil)).
		Project("A", "A", spec.FixedIn(100), spec.Weight(spec.Const(1))).Build()
	if err != nil {
		t.Fatal(err)
	}
	p := plan.Estimate(s, 1)
	if err := p.CheckFits(p.CPU()); err != nil {
		t.Errorf("at its own size: %v", err)
	}
	err = p.CheckFits(p.CPU() - 1)
	if err == nil || !strings.Contains(err.Error(), plan.Bytes(p.CPU())) || !strings.Contains(err.Error(), "100000 synapses") {
		t.Errorf("one byte short: %v, want a refusal naming %s and the synapses", err, plan.Bytes(p.CPU()))
	}
	if avail, ok := plan.AvailableMemory(); ok && avail == 0 {
		t.Errorf("available memory read as 0")
	}
}
