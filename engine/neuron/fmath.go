package neuron

import "math"

// Expf is the project's own float32 exponential, the twin of myelin_expf in
// kernels/fmath.cuh. It uses only float32 multiplies, adds and exact
// power-of-two scaling, so it gives the same bits on every backend (the
// library exp functions of Go and CUDA differ in their last bits). Relative
// error is below 2e-7 over the float32 range.
func Expf(x float32) float32 {
	if x > 88.72 {
		return float32(math.Inf(1))
	}
	if x < -87.33 {
		return 0
	}
	if x != x {
		return x
	}
	// x = n ln2 + r, |r| <= ln2/2, with ln2 split in two for an exact n·ln2hi.
	n := float32(math.Floor(float64(float32(x*1.44269504) + 0.5)))
	r := x - float32(n*0.693359375)
	r = r - float32(n*-2.12194440e-4)
	// e^r by its Taylor series to degree 7 (Horner).
	p := float32(1.98412698e-4)
	p = float32(p*r) + 1.38888889e-3
	p = float32(p*r) + 8.33333333e-3
	p = float32(p*r) + 4.16666667e-2
	p = float32(p*r) + 1.66666667e-1
	p = float32(p*r) + 0.5
	p = float32(p*r) + 1
	p = float32(p*r) + 1
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}
