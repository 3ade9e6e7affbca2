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
