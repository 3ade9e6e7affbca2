package network

import (
	"testing"

	"github.com/myelin-sim/myelin/engine/spec"
)

// TestScaleIndependentOfThreadsByPre: a fixed out-degree rule bounds each
// target's input in pass 1 with per-chunk partial sums. Here every target of
// P gets exactly 320 inputs of 0.1, a sum whose float64 rounding depends on
// the order of the additions and which lies on a power of two (32), where
// the fixed-point shift changes. The shift and the weights must not depend
// on the thread count.
func TestScaleIndependentOfThreadsByPre(t *testing.T) {
	s, err := spec.New("scale").Duration(1).Seed(2).
		Population("E", 320, spec.IafPscDelta(nil)).Population("P", 10, spec.IafPscDelta(nil)).
		Project("E", "P", spec.FixedOut(10), spec.Weight(spec.Const(0.1)), spec.Multapses(false)).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	var shift int32
	var w int32
	for i, threads := range []int{1, 2, 3, 4, 8, 13} {
		net, err := Build(s, Options{Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		sh, pw := net.Pops[1].Shift, net.Syn.PopWeight[0*2+1]
		if i == 0 {
			shift, w = sh, pw
			continue
		}
		if sh != shift || pw != w {
			t.Errorf("%d threads: P's shift %d, weight %d; 1 thread: %d, %d", threads, sh, pw, shift, w)
		}
	}
}
