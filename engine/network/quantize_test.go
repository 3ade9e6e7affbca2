package network

import (
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/neuron"
)

// Poisson counts × weights are summed in int64 at the neuron; inputs whose
// largest counts could overflow that sum are refused.
func TestQuantizePoissonSumBound(t *testing.T) {
	net := &Network{Pops: []Population{{Name: "A", Size: 1, Model: neuron.IafPscDeltaModel, Shift: 0}}}
	b := &builder{net: net}
	add := func(base, tableLen uint32, w float64) {
		net.Poisson = append(net.Poisson, Poisson{Pop: 0, Count: 1, Base: base, TableLen: tableLen})
		b.poissonW = append(b.poissonW, w)
	}
	// 2^31 × 2^30 = 2^61 each: two fit, the third does not.
	add(1<<31-100, 101, 1<<30)
	add(1<<31-100, 101, -(1 << 30))
	if err := b.quantizeInputs(); err != nil {
		t.Fatalf("two inputs of 2^61: %v", err)
	}
	add(1<<31-100, 101, 1<<30)
	err := b.quantizeInputs()
	want := `population "A" (populations[0]): its poisson inputs can add more than 2^62 fixed-point units (of 2^0 each) to a neuron in one step`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want %q", err, want)
	}
}
