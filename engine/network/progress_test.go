package network

import (
	"sync"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/spec"
)

// TestBuildProgress builds a network with a fast progress report and checks
// what it says: the synapse passes' phases in order, Done never going back
// and never past Total (the units of both passes), Wall growing; and no
// report after Build returns.
func TestBuildProgress(t *testing.T) {
	s, err := spec.New("progress").Duration(10).Seed(4).
		Population("E", 20000, spec.IafPscExp(nil)).Population("I", 5000, spec.IafPscExp(nil)).
		Project("E", "E", spec.FixedIn(200), spec.Weight(spec.NormalDist(20, 2)), spec.Delay(spec.UniformDist(0.5, 2))).
		Project("E", "I", spec.FixedIn(200), spec.Weight(spec.Const(20))).
		Project("I", "E", spec.Bernoulli(0.02), spec.Weight(spec.Const(-60))).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []BuildProgress
	returned := false
	lateReports := 0
	net, err := Build(s, Options{Threads: 2, ProgressEvery: time.Millisecond, Progress: func(p BuildProgress) {
		mu.Lock()
		defer mu.Unlock()
		if returned {
			lateReports++
		}
		got = append(got, p)
	}})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	returned = true
	mu.Unlock()
	time.Sleep(5 * time.Millisecond)
	if lateReports != 0 {
		t.Errorf("%d reports after Build returned", lateReports)
	}
	if len(got) < 3 {
		t.Fatalf("%d reports from a build of %d synapses", len(got), net.SynapseCount())
	}
	units := uint64(2 * (20000 + 5000 + 20000)) // a unit per target neuron for these rules, in each pass
	phases := map[string]bool{}
	for i, p := range got {
		phases[p.Phase] = true
		if p.Total != 0 && p.Total != units {
			t.Fatalf("report %d: Total %d, want %d", i, p.Total, units)
		}
		if p.Done > p.Total && p.Total > 0 || (i > 0 && (p.Done < got[i-1].Done || p.Wall < got[i-1].Wall)) {
			t.Fatalf("report %d: %+v after %+v", i, p, got[max(0, i-1)])
		}
		if f := p.Fraction(); f < 0 || f > 1 {
			t.Fatalf("report %d: fraction %v", i, f)
		}
	}
	if !phases["synapses: drawing (pass 1 of 2)"] || !phases["synapses: writing (pass 2 of 2)"] {
		t.Errorf("phases seen: %v", phases)
	}
}
