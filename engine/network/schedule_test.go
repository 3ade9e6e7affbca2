package network_test

import (
	"math"
	"testing"

	"github.com/myelin-sim/myelin/engine/spec"
)

func TestPiecewiseSegments(t *testing.T) {
	net := build(t, spec.New("pw").Dt(0.1).Duration(100).Population("P", 10, spec.IafPscExp(nil)).
		Poisson("P", 0, 1, spec.Window(5, 80), spec.Neurons(2, 5),
			spec.Piecewise([]float64{0, 10, 20, 30, 40, 90}, []float64{7, 7, 3, 0, 3, 9})), 1)
	// [0, 20) at 7 Hz merges and is cut at 5 ms; 0 Hz is dropped; the
	// 90 ms piece lies beyond stop.
	want := []struct {
		start, stop uint64
		lambda      float64
	}{{50, 200, 7e-4}, {200, 300, 3e-4}, {400, 800, 3e-4}}
	if len(net.Poisson) != len(want) {
		t.Fatalf("%d Poisson inputs, want %d: %+v", len(net.Poisson), len(want), net.Poisson)
	}
	for i, w := range want {
		p := net.Poisson[i]
		if p.Start != w.start || p.Stop != w.stop || p.First != 2 || p.Count != 5 || p.Purpose != net.Poisson[0].Purpose {
			t.Errorf("segment %d: %+v, want steps [%d, %d) on neurons [2, 7) with one stream", i, p, w.start, w.stop)
		}
		// P(count 0) = exp(-lambda) is the first threshold.
		if p0 := float64(net.PoissonTable[p.TableOff]) / (1 << 32); math.Abs(p0-math.Exp(-w.lambda)) > 1e-9 {
			t.Errorf("segment %d: P(0) = %g, want %g", i, p0, math.Exp(-w.lambda))
		}
	}
	if net.Poisson[1].TableOff != net.Poisson[2].TableOff {
		t.Errorf("segments of equal rate use tables at %d and %d, want one table", net.Poisson[1].TableOff, net.Poisson[2].TableOff)
	}
}

func TestSinusoidSegments(t *testing.T) {
	net := build(t, spec.New("sin").Dt(0.1).Duration(1000).Population("P", 10, spec.IafPscExp(nil)).
		Poisson("P", 0, 1, spec.Window(100, 350.05), spec.Sinusoidal(20, 1, 4, 0, 2.5)), 1)
	// 250.05 ms in segments of 25 steps: 101, the last one step long; a
	// whole period (250 ms) has the mean rate.
	if len(net.Poisson) != 101 {
		t.Fatalf("%d segments, want 101", len(net.Poisson))
	}
	var mean float64
	for i, p := range net.Poisson {
		if p.Start != 1000+25*uint64(i) || p.Stop != min(p.Start+25, 3501) {
			t.Fatalf("segment %d: steps [%d, %d)", i, p.Start, p.Stop)
		}
		if i < 100 {
			mean -= math.Log(float64(net.PoissonTable[p.TableOff])/(1<<32)) / 1e-4 / 100 // rate in Hz from P(0)
		}
	}
	if math.Abs(mean-20) > 1e-3 {
		t.Errorf("mean rate over a period = %g Hz, want 20", mean)
	}
}
