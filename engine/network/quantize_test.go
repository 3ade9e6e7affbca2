package network

import (
	"math"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/neuron"
	"github.com/myelin-sim/myelin/engine/rng"
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

// roundHalfAway equals math.Round everywhere: halves, the neighbours of
// halves, integers, huge and tiny values, zeros, infinities and NaN.
func TestRoundHalfAway(t *testing.T) {
	xs := []float64{0, math.Copysign(0, -1), 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999999999999994, -0.49999999999999994,
		math.Nextafter(0.5, 1), math.Nextafter(-0.5, -1), 1 << 52, -(1 << 52), 1<<52 + 0.5, (1 << 53) + 1, -(1 << 53) - 2,
		math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, math.Inf(1), math.Inf(-1), 4503599627370495.5, -4503599627370495.5}
	q := rng.NewStream(1, 0).Seq(0)
	for range 100000 {
		xs = append(xs, (q.Float64()-0.5)*math.Ldexp(1, int(q.Uint32()%70)-10))
		xs = append(xs, float64(int32(q.Uint32()))+0.5)
	}
	for _, x := range xs {
		got, want := roundHalfAway(x), math.Round(x)
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("roundHalfAway(%v) = %v, math.Round: %v", x, got, want)
		}
	}
	if n := roundHalfAway(math.NaN()); !math.IsNaN(n) {
		t.Errorf("roundHalfAway(NaN) = %v", n)
	}
}
