package plan_test

import (
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/plan"
	"github.com/myelin-sim/myelin/engine/spec"
)

// TestCheckFitsNamesThreads: when the parts kept per thread are what does
// not fit, the refusal names the thread count rather than the synapses
// alone: more threads than neurons (which no build or CPU run uses), or
// row splits that make up most of the plan. Before, brunel n = 100 with
// --threads 2500000 was refused with "needs 25.5 GiB (1000 synapses × 8 B
// = 7.8 KiB)" and nothing else.
func TestCheckFitsNamesThreads(t *testing.T) {
	s, err := spec.New("fit").Population("A", 100, spec.IafPscExp(nil)).
		Project("A", "A", spec.FixedIn(10), spec.Weight(spec.Const(1))).Build()
	if err != nil {
		t.Fatal(err)
	}
	p := plan.Estimate(s, 2500000)
	err = p.CheckFits(p.CPU() / 2)
	for _, want := range []string{"1000 synapses", "memory is available", "--threads 2500000 is more than the network's 100 neurons", "give at most 100", "the largest part: construction (transient)"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("2500000 threads, 100 neurons: %v; want it to say %q", err, want)
		}
	}
	// Within the neurons, but the row splits (4 B per neuron and thread)
	// are most of the plan.
	big, err := spec.New("fit").Population("A", 200000, spec.IafPscExp(nil)).Build()
	if err != nil {
		t.Fatal(err)
	}
	p = plan.Estimate(big, 2000)
	err = p.CheckFits(p.CPU() / 2)
	if err == nil || !strings.Contains(err.Error(), "is row splits and delivery buckets, kept per thread for 2000 threads; fewer threads (--threads) need less") {
		t.Errorf("2000 threads, 200000 neurons: %v; want the threads named", err)
	}
	// One thread: the synapses, no thread count.
	p = plan.Estimate(s, 1)
	if err := p.CheckFits(p.CPU() - 1); err == nil || strings.Contains(err.Error(), "thread") {
		t.Errorf("one thread: %v; want a refusal that does not blame threads", err)
	}
}
