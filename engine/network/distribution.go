package network

import (
	"math"

	"github.com/myelin-sim/myelin/engine/rng"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// draw returns one value of d from q (see sampler.draw).
func draw(d *myelinpb.Distribution, q *rng.Seq) float64 {
	s := newSampler(d)
	return s.draw(q)
}

// Kinds of sampler.
const (
	sampleConstant = iota
	sampleUniform
	sampleNormal
	sampleLognormal
)

// sampler is a distribution unpacked from its message once, so that a
// projection's millions of draws do no type switch or field lookup.
type sampler struct {
	kind int
	// a, b: constant value and 0; uniform low and width; normal mean and
	// standard deviation; lognormal mu and sigma.
	a, b   float64
	lo, hi float64 // normal: the accepted range
	neg    bool    // lognormal: negate
}

// newSampler unpacks d (nil or unset: the constant 0).
func newSampler(d *myelinpb.Distribution) sampler {
	switch k := d.GetKind().(type) {
	case *myelinpb.Distribution_Constant:
		return sampler{kind: sampleConstant, a: k.Constant}
	case *myelinpb.Distribution_Uniform:
		return sampler{kind: sampleUniform, a: k.Uniform.GetLow(), b: k.Uniform.GetHigh() - k.Uniform.GetLow()}
	case *myelinpb.Distribution_Normal:
		n := k.Normal
		s := sampler{kind: sampleNormal, a: n.GetMean(), b: n.GetStd(), lo: math.Inf(-1), hi: math.Inf(1)}
		if n.Min != nil {
			s.lo = n.GetMin()
		}
		if n.Max != nil {
			s.hi = n.GetMax()
		}
		return s
	case *myelinpb.Distribution_Lognormal:
		return sampler{kind: sampleLognormal, a: k.Lognormal.GetMu(), b: k.Lognormal.GetSigma(), neg: k.Lognormal.GetNegative()}
	}
	return sampler{kind: sampleConstant}
}

// draw returns one value from q. Uniform values take one 53-bit uniform
// (two words); normal values are mean + std·z with z from rng.Seq.Normal
// (the ziggurat, one word for about 99 % of draws), redrawn while outside
// [min, max] (up to 1000 times, then clamped); lognormal values are
// exp(mu + sigma·z).
func (s *sampler) draw(q *rng.Seq) float64 {
	switch s.kind {
	case sampleUniform:
		return s.a + s.b*q.Float64()
	case sampleNormal:
		var x float64
		for i := 0; i < 1000; i++ {
			x = s.a + s.b*q.Normal()
			if x >= s.lo && x <= s.hi {
				return x
			}
		}
		return math.Min(math.Max(x, s.lo), s.hi)
	case sampleLognormal:
		x := math.Exp(s.a + s.b*q.Normal())
		if s.neg {
			return -x
		}
		return x
	}
	return s.a
}

// fill sets dst to len(dst) consecutive draws: the values of as many calls
// of draw, from the same position of q.
func (s *sampler) fill(q *rng.Seq, dst []float64) {
	switch s.kind {
	case sampleUniform:
		for i := range dst {
			dst[i] = s.a + s.b*q.Float64()
		}
	case sampleNormal:
		// One standard normal per value, as a rule: draw them at once, then
		// read them in order, continuing from q after a rejection uses
		// up the buffer (values are written behind the reading position).
		q.NormalFill(dst)
		r := 0
		for i := range dst {
			var x float64
			ok := false
			for try := 0; try < 1000; try++ {
				var z float64
				if r < len(dst) {
					z = dst[r]
					r++
				} else {
					z = q.Normal()
				}
				x = s.a + s.b*z
				if x >= s.lo && x <= s.hi {
					ok = true
					break
				}
			}
			if !ok {
				x = math.Min(math.Max(x, s.lo), s.hi)
			}
			dst[i] = x
		}
	case sampleLognormal:
		q.NormalFill(dst)
		for i, z := range dst {
			x := math.Exp(s.a + s.b*z)
			if s.neg {
				x = -x
			}
			dst[i] = x
		}
	default:
		for i := range dst {
			dst[i] = s.a
		}
	}
}

// isConstant reports whether d is a constant (or unset), and its value.
func isConstant(d *myelinpb.Distribution) (float64, bool) {
	if d == nil || d.GetKind() == nil {
		return 0, true
	}
	c, ok := d.GetKind().(*myelinpb.Distribution_Constant)
	if !ok {
		return 0, false
	}
	return c.Constant, true
}

// maxAbs bounds |x| over d's support (+Inf when unbounded).
func maxAbs(d *myelinpb.Distribution) float64 {
	switch k := d.GetKind().(type) {
	case *myelinpb.Distribution_Constant:
		return math.Abs(k.Constant)
	case *myelinpb.Distribution_Uniform:
		return math.Max(math.Abs(k.Uniform.GetLow()), math.Abs(k.Uniform.GetHigh()))
	case *myelinpb.Distribution_Normal:
		if k.Normal.Min != nil && k.Normal.Max != nil {
			return math.Max(math.Abs(k.Normal.GetMin()), math.Abs(k.Normal.GetMax()))
		}
	}
	return math.Inf(1)
}
