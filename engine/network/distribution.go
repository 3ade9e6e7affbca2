package network

import (
	"math"

	"github.com/myelin-sim/myelin/engine/rng"
	"github.com/myelin-sim/myelin/engine/xmath"
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
// exp(mu + sigma·z) (xmath.Exp, which the device twin shares).
//
// Every product is rounded before it is added (float64(...)): Go may fuse
// a*b + c into one instruction on some architectures (arm64), the device
// twin never does (-fmad=false), and the draws must be the same bits on
// both.
func (s *sampler) draw(q *rng.Seq) float64 {
	switch s.kind {
	case sampleUniform:
		return s.a + float64(s.b*q.Float64())
	case sampleNormal:
		var x float64
		for i := 0; i < 1000; i++ {
			x = s.a + float64(s.b*q.Normal())
			if x >= s.lo && x <= s.hi {
				return x
			}
		}
		return math.Min(math.Max(x, s.lo), s.hi)
	case sampleLognormal:
		x := xmath.Exp(s.a + float64(s.b*q.Normal()))
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
			dst[i] = s.a + float64(s.b*q.Float64())
		}
	case sampleNormal:
		// One standard normal per value, as a rule: draw them at once, then
		// read them in order, continuing from q after a rejection uses
		// up the buffer (values are written behind the reading position).
		q.NormalFill(dst)
		s.normalFrom(q, dst, 0)
	case sampleLognormal:
		q.NormalFill(dst)
		for i, z := range dst {
			x := xmath.Exp(s.a + float64(s.b*z))
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

// normalFrom finishes fill for a normal sampler whose standard draws
// (q.NormalFill) are in dst[i0:], the values before i0 being accepted
// already (it does not read them): it turns the draws into values,
// redrawing those outside [lo, hi] as fill does.
func (s *sampler) normalFrom(q *rng.Seq, dst []float64, i0 int) {
	// Until the first rejection each value takes the draw at its own
	// position.
	for ; i0 < len(dst); i0++ {
		x := s.a + float64(s.b*dst[i0])
		if !(x >= s.lo && x <= s.hi) {
			break
		}
		dst[i0] = x
	}
	r := i0
	for i := i0; i < len(dst); i++ {
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
			x = s.a + float64(s.b*z)
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

// stepTable draws a delay in whole steps with one uniform word: the
// distribution of delaySteps(x, dt) for x from a sampler, as an inverse
// CDF. Delay i of a unit is first + the first k with word i < thr[k] (the
// last threshold is 2^32-1 and takes the remaining words): exact in
// distribution up to the 2^-32 resolution of the thresholds, without the
// normal draw, the rejections and the rounding of each delay.
type stepTable struct {
	first uint32
	thr   []uint32
	// guide[b] is the first k whose threshold exceeds b<<20: words with
	// top 12 bits b start their search there (and most end it there).
	guide [1 << 12]uint16
}

// Limits of stepTable: at most maxStepTable steps, and for a clipped
// normal an accepted fraction of at least minStepAccept, so that the
// sampler's clamping after 1000 rejected tries (probability below
// 0.9^1000) is immaterial.
const (
	maxStepTable  = 4096
	minStepAccept = 0.1
)

// newStepTable returns the step table of delays drawn from s (normal,
// clipped or not, and uniform), or nil where there is none (other
// distributions, degenerate parameters, more than maxStepTable steps): the
// caller then draws each delay from s.
func newStepTable(s sampler, dt float64) *stepTable {
	if !(dt > 0) || math.IsInf(dt, 0) {
		return nil
	}
	var lo, hi float64 // the support of the delay in ms
	var cdf func(x float64) float64
	switch s.kind {
	case sampleUniform:
		if !(s.b > 0) || math.IsInf(s.a, 0) || math.IsInf(s.b, 0) || math.IsNaN(s.a) {
			return nil
		}
		lo, hi = s.a, s.a+s.b
		cdf = func(x float64) float64 { return math.Min(1, math.Max(0, (x-s.a)/s.b)) }
	case sampleNormal:
		if !(s.b > 0) || math.IsInf(s.b, 0) || math.IsInf(s.a, 0) || math.IsNaN(s.a) {
			return nil
		}
		// In standard units, cut 9 sd from the mean (a mass of 2·10⁻¹⁹,
		// far below the 2^-32 resolution).
		zl, zh := math.Max(-9, (s.lo-s.a)/s.b), math.Min(9, (s.hi-s.a)/s.b)
		if !(zl < zh) {
			return nil
		}
		z := normalMass(zl, zh)
		if !(z >= minStepAccept) {
			return nil
		}
		lo, hi = s.a+s.b*zl, s.a+s.b*zh
		cdf = func(x float64) float64 {
			t := math.Min(zh, (x-s.a)/s.b)
			if !(t > zl) {
				return 0
			}
			return normalMass(zl, t) / z
		}
	default:
		return nil
	}
	first, last := delaySteps(lo, dt), delaySteps(hi, dt)
	if last < first || last-first >= maxStepTable {
		return nil
	}
	t := &stepTable{first: first}
	for k := first; ; k++ {
		// Delays of step k or less are those below (k + 0.5)·dt (rounding
		// half away from zero), every delay below 1.5·dt for step 1.
		x := math.Floor(cdf((float64(k)+0.5)*dt) * (1 << 32))
		if x >= math.MaxUint32 || k == last {
			t.thr = append(t.thr, math.MaxUint32)
			break
		}
		t.thr = append(t.thr, uint32(x))
	}
	k := 0
	for b := range t.guide {
		for k < len(t.thr)-1 && t.thr[k] <= uint32(b)<<20 {
			k++
		}
		t.guide[b] = uint16(k)
	}
	return t
}

// normalMass is the standard normal probability of [a, b], computed on the
// side of the mean that avoids cancellation.
func normalMass(a, b float64) float64 {
	switch {
	case a >= 0:
		return 0.5 * (math.Erfc(a/math.Sqrt2) - math.Erfc(b/math.Sqrt2))
	case b <= 0:
		return 0.5 * (math.Erfc(-b/math.Sqrt2) - math.Erfc(-a/math.Sqrt2))
	}
	return 1 - 0.5*math.Erfc(-a/math.Sqrt2) - 0.5*math.Erfc(b/math.Sqrt2)
}

// step returns the delay in steps for the uniform word w.
func (t *stepTable) step(w uint32) uint32 {
	k := int(t.guide[w>>20])
	for k < len(t.thr)-1 && w >= t.thr[k] {
		k++
	}
	return t.first + uint32(k)
}
