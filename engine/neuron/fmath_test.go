package neuron

import (
	"math"
	"testing"
)

func TestExpfAccuracy(t *testing.T) {
	worst := 0.0
	for x := -87.0; x <= 88.0; x += 0.0137 {
		got := float64(Expf(float32(x)))
		want := math.Exp(float64(float32(x)))
		if rel := math.Abs(got-want) / want; rel > worst {
			worst = rel
		}
	}
	if worst > 4e-7 {
		t.Errorf("worst relative error %.3g, want < 4e-7", worst)
	}
	if Expf(0) != 1 {
		t.Errorf("Expf(0) = %v, want 1", Expf(0))
	}
	if Expf(-100) != 0 || !math.IsInf(float64(Expf(100)), 1) {
		t.Errorf("Expf out of range: %v %v", Expf(-100), Expf(100))
	}
}

// Propagator32 agrees with the closed form in every regime, including
// tau_syn far below the step (where expm1 alone would overflow) and the
// limit tau_syn = tau.
func TestPropagator32(t *testing.T) {
	direct := func(ts, tau, c, h float64) float64 {
		return tau * ts / (c * (tau - ts)) * (math.Exp(-h/tau) - math.Exp(-h/ts))
	}
	for _, tc := range []struct{ ts, tau, c, h float64 }{
		{2, 10, 250, 0.1}, {5, 20, 200, 0.1}, {10, 20, 200, 0.1}, {1e-4, 10, 250, 0.1}, {50, 10, 250, 1},
	} {
		got, want := Propagator32(tc.ts, tc.tau, tc.c, tc.h), direct(tc.ts, tc.tau, tc.c, tc.h)
		if math.IsNaN(got) || math.Abs(got-want) > 1e-12*math.Abs(want) {
			t.Errorf("Propagator32(%v, %v, %v, %v) = %v, want %v", tc.ts, tc.tau, tc.c, tc.h, got, want)
		}
	}
	if got, want := Propagator32(10, 10, 250, 0.1), 0.1/250*math.Exp(-0.01); math.Abs(got-want) > 1e-15 {
		t.Errorf("limit tau_syn = tau: %v, want %v", got, want)
	}
}
