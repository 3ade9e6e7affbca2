package models_test

import (
	"testing"

	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/network"
)

// brunel procedural=1 connects by fixed out-degree rules with about the
// stored model's synapses, every projection procedural: nothing stored.
func TestBrunelProcedural(t *testing.T) {
	stored, err := models.Spec("brunel", map[string]string{"n": "1000", "duration_ms": "10"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := models.Spec("brunel", map[string]string{"n": "1000", "duration_ms": "10", "procedural": "1"})
	if err != nil {
		t.Fatal(err)
	}
	sn, err := network.Build(stored, network.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	pn, err := network.Build(s, network.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	// N_E 800, N_I 200, C_E 80, C_I 20: out-degrees 80, 20, 80, 20 give the
	// same 100,000 synapses.
	if len(pn.Procedural) != 4 || pn.SynapseCount() != 0 || pn.ProceduralSynapses() != sn.SynapseCount() {
		t.Errorf("procedural brunel: %d procedural projections, %d stored and %d procedural synapses; want 4, 0 and %d", len(pn.Procedural), pn.SynapseCount(), pn.ProceduralSynapses(), sn.SynapseCount())
	}
	if _, err := models.Spec("brunel", map[string]string{"procedural": "2"}); err == nil {
		t.Error("procedural = 2 accepted")
	}
}
