package spec

import (
	"fmt"
	"math"
	"testing"
)

func TestRingArc(t *testing.T) {
	tests := []struct {
		n            uint32
		center, half float64
		want         string
	}{
		{360, 90, 10, "[[80 21]]"},
		{360, -5, 10, "[[0 6] [345 15]]"},
		{360, 355, 10, "[[0 6] [345 15]]"},
		{360, 0, 0, "[[0 1]]"},
		{360, 0.5, 0.2, "[]"},
		{360, 10, 200, "[[0 360]]"},
		{512, 90, 18, "[[103 51]]"},
		{360, 10, -1, "[]"},
		{360, math.NaN(), 1, "[]"},
		{0, 10, 1, "[]"},
		{4, 359, 179.9, "[[0 4]]"},
		{4, 359, 100, "[[0 2] [3 1]]"},
	}
	for _, tc := range tests {
		got := RingArc(tc.n, tc.center, tc.half)
		if s := fmt.Sprint(got); s != tc.want && !(tc.want == "[]" && len(got) == 0) {
			t.Errorf("RingArc(%d, %g, %g) = %v, want %s", tc.n, tc.center, tc.half, got, tc.want)
		}
		// Every neuron inside is within half of the centre, every one
		// outside beyond it.
		if tc.n == 0 || !finite(tc.center) {
			continue
		}
		in := make([]bool, tc.n)
		for _, r := range got {
			for i := r[0]; i < r[0]+r[1]; i++ {
				in[i] = true
			}
		}
		for i := range in {
			d := math.Mod(math.Abs(360*float64(i)/float64(tc.n)-tc.center), 360)
			d = math.Min(d, 360-d)
			if in[i] != (d <= tc.half+1e-9) {
				t.Errorf("RingArc(%d, %g, %g): neuron %d at distance %g: in = %v", tc.n, tc.center, tc.half, i, d, in[i])
			}
		}
	}
}
