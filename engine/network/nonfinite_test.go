package network

import (
	"math"
	"testing"
)

// nonFinite looks into nested structs and arrays of coefficients and names
// the field it finds.
func TestNonFiniteNested(t *testing.T) {
	type inner struct{ A, B float32 }
	type coef struct {
		X   float32
		In  inner
		Arr [2]float32
		N   int32
	}
	if _, _, bad := nonFinite(&coef{}); bad {
		t.Error("all-zero coefficients reported as non-finite")
	}
	for _, tc := range []struct {
		c    coef
		name string
	}{
		{coef{X: float32(math.Inf(1))}, "X"},
		{coef{In: inner{B: float32(math.NaN())}}, "In.B"},
		{coef{Arr: [2]float32{0, float32(math.Inf(-1))}}, "Arr[1]"},
	} {
		if name, _, bad := nonFinite(&tc.c); !bad || name != tc.name {
			t.Errorf("nonFinite(%+v) = %q, %v; want %q", tc.c, name, bad, tc.name)
		}
	}
}
