package rng

import (
	"math"

	"github.com/myelin-sim/myelin/engine/xmath"
)

//go:generate go test -run TestZigguratTables -update

// Normal returns a standard normal draw by Marsaglia and Tsang's ziggurat
// (2000) with 256 layers, exact in distribution for the uniforms it is given.
//
// Each try reads one word: its top 8 bits pick the layer, bit 23 the sign and
// the low 23 bits the position u in the layer, so the three never share a bit
// (the correlation between layer and value that Doornik (2005) found in the
// original, which takes both from the same low bits, cannot arise). The
// value is u·x_i/2^23 for layer i of right edge x_i: a resolution of
// x_i/2^23 (below 4.4·10⁻⁷ standard deviations). About 99.3 % of draws end
// after that one word with a multiply and a compare; the others test the
// layer's wedge with one more uniform (two words) and xmath.Exp, or, in the
// base layer, sample the tail beyond r = 3.654 by Marsaglia's method (1964)
// with xmath.Log. Rejected tries start over with the next word. (xmath,
// not math: kernels/procedural.cuh draws the same normals on the device.)
func (q *Seq) Normal() float64 {
	for {
		w := q.Uint32()
		i := w >> 24
		u := w & (1<<23 - 1)
		x := float64(u) * zigW[i]
		if u >= zigK[i] {
			var ok bool
			if x, ok = q.normalSlow(i, x); !ok {
				continue
			}
		}
		// The sign bit (23) moves to the float's sign (63) without a
		// branch: the sign is random, so a branch would be mispredicted
		// half of the time.
		return math.Float64frombits(math.Float64bits(x) | uint64(w&(1<<23))<<40)
	}
}

// NormalFill fills z with consecutive Normal draws: the same values as
// len(z) calls of Normal, with less overhead per value.
func (q *Seq) NormalFill(z []float64) {
	for i := range z {
		w := q.Uint32()
		j := w >> 24
		u := w & (1<<23 - 1)
		x := float64(u) * zigW[j]
		if u >= zigK[j] {
			// Rare: finish this try, and any retries, as Normal does.
			var ok bool
			if x, ok = q.normalSlow(j, x); !ok {
				z[i] = q.Normal()
				continue
			}
		}
		z[i] = math.Float64frombits(math.Float64bits(x) | uint64(w&(1<<23))<<40)
	}
}

// normalSlow finishes a try of Normal outside the layer's inner rectangle:
// the tail for the base layer, the wedge test for the others. It reports
// whether the try gives a value.
func (q *Seq) normalSlow(i uint32, x float64) (float64, bool) {
	if i == 0 {
		for {
			a := -xmath.Log(q.Float64()) / zigR
			b := -xmath.Log(q.Float64())
			if b+b >= float64(a*a) {
				return zigR + a, true
			}
		}
	}
	if zigF[i]+float64(q.Float64()*(zigF[i-1]-zigF[i])) < xmath.Exp(float64(-0.5*x)*x) {
		return x, true
	}
	return 0, false
}

// ZigguratTables returns Normal's tables, for device twins of the sampler
// (kernels/procedural.cuh): the layers' scales w (u·w[i] is the value of
// position u in layer i), their inner-rectangle bounds k and densities f,
// and the base layer's right edge r.
func ZigguratTables() (w, f [256]float64, k [256]uint32, r float64) {
	return zigW, zigF, zigK, zigR
}
