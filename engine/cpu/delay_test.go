package cpu_test

import (
	"testing"

	"github.com/myelin-sim/myelin/engine/backend/parity"
	"github.com/myelin-sim/myelin/engine/cpu"
)

// Delivery that finds the ring slot once for a run of synapses sharing one
// delay field (compact segments, rows of one delay) gives the stream of the
// per-synapse lookup for every parity case: constant and drawn delays,
// compact and stored weights, the slow port, STP and STDP.
func TestSharedDelayDeliverySameStream(t *testing.T) {
	shared := 0
	for _, c := range parity.Cases() {
		net, err := parity.Build(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range net.Syn.RowDelay {
			if d != ^uint32(0) {
				shared++
				break
			}
		}
		for _, threads := range []int{1, 2} {
			if _, err := parity.Compare(c, threads, cpu.NewPerSynapseDelay(threads)); err != nil {
				t.Errorf("%s, %d threads: %v", c.Name, threads, err)
			}
		}
	}
	if shared < 5 {
		t.Errorf("only %d parity cases have a population whose rows share one delay: the shortcut is hardly tested", shared)
	}
}

// Delivery that sorts the step's events of rows with varying delays by
// ring slot before adding them (flushBuckets, on for large rings) gives the
// stream of direct delivery for every parity case.
func TestBucketedDeliverySameStream(t *testing.T) {
	varying := 0
	for _, c := range parity.Cases() {
		net, err := parity.Build(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range net.Syn.RowDelay {
			if d == ^uint32(0) {
				varying++
				break
			}
		}
		for _, threads := range []int{1, 2} {
			if _, err := parity.Compare(c, threads, cpu.NewBucketed(threads)); err != nil {
				t.Errorf("%s, %d threads: %v", c.Name, threads, err)
			}
		}
	}
	if varying < 4 {
		t.Errorf("only %d parity cases have a population whose rows have varying delays: bucketing is hardly tested", varying)
	}
}
