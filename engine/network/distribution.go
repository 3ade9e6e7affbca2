package network

import (
	"math"

	"github.com/myelin-sim/myelin/engine/rng"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// draw returns one value of d from q. Normal values outside [min, max] are
// redrawn (up to 1000 times, then clamped).
func draw(d *myelinpb.Distribution, q *rng.Seq) float64 {
	switch k := d.GetKind().(type) {
	case *myelinpb.Distribution_Constant:
		return k.Constant
	case *myelinpb.Distribution_Uniform:
		return k.Uniform.GetLow() + (k.Uniform.GetHigh()-k.Uniform.GetLow())*q.Float64()
	case *myelinpb.Distribution_Normal:
		n := k.Normal
		lo, hi := math.Inf(-1), math.Inf(1)
		if n.Min != nil {
			lo = n.GetMin()
		}
		if n.Max != nil {
			hi = n.GetMax()
		}
		var x float64
		for i := 0; i < 1000; i++ {
			x = n.GetMean() + n.GetStd()*gauss(q)
			if x >= lo && x <= hi {
				return x
			}
		}
		return math.Min(math.Max(x, lo), hi)
	case *myelinpb.Distribution_Lognormal:
		x := math.Exp(k.Lognormal.GetMu() + k.Lognormal.GetSigma()*gauss(q))
		if k.Lognormal.GetNegative() {
			return -x
		}
		return x
	}
	return 0
}

// gauss is a standard normal draw (Box–Muller).
func gauss(q *rng.Seq) float64 {
	u1, u2 := q.Float64(), q.Float64()
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
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
