package spec

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/myelin-sim/myelin/engine/neuron"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// modelChecker passes a model's parameter checks (neuron.Checker) to the
// validator, naming the population and the model's field.
type modelChecker struct {
	v      *validator
	obj    string
	prefix string // "<model>."
}

func (c modelChecker) Positive(field string, x *float64) { c.v.positive(c.obj, c.prefix+field, x) }
func (c modelChecker) NonNegative(field string, x *float64) {
	c.v.nonNegative(c.obj, c.prefix+field, x)
}
func (c modelChecker) Finite(field string, x *float64) { c.v.finiteField(c.obj, c.prefix+field, x) }
func (c modelChecker) Refractory(field string, x *float64) {
	c.v.refractory(c.obj, c.prefix+field, x)
}
func (c modelChecker) Below(fa string, a *float64, fb string, b *float64) {
	c.v.below(c.obj, c.prefix, fa, a, fb, b)
}
func (c modelChecker) Fail(field, value, msg string) { c.v.add(c.obj, c.prefix+field, value, msg) }

func (v *validator) unset(obj, field string) {
	v.add(obj, field, "", "not set (ApplyDefaults sets it)")
}

// positive checks an optional field that must be finite and > 0.
func (v *validator) positive(obj, field string, x *float64) {
	switch {
	case x == nil:
		v.unset(obj, field)
	case !finite(*x):
		v.add(obj, field, fnum(*x), "must be finite and > 0")
	case *x <= 0:
		v.add(obj, field, fnum(*x), "must be > 0")
	case *x > math.MaxFloat32:
		v.add(obj, field, fnum(*x), msgFloat32)
	}
}

// msgFloat32 is the message for a finite value that the backends, which
// compute in float32, cannot hold.
const msgFloat32 = "must be within ±3.4028234663852886e+38 (the float32 range)"

// nonNegative checks an optional field that must be finite and >= 0.
func (v *validator) nonNegative(obj, field string, x *float64) {
	switch {
	case x == nil:
		v.unset(obj, field)
	case !finite(*x):
		v.add(obj, field, fnum(*x), "must be finite and >= 0")
	case *x < 0:
		v.add(obj, field, fnum(*x), "must be >= 0")
	}
}

// refractory checks t_ref: finite, >= 0 and, once dt_ms is valid, at most
// MaxRefractorySteps steps.
func (v *validator) refractory(obj, field string, x *float64) {
	v.nonNegative(obj, field, x)
	if x == nil || !finite(*x) || *x < 0 || v.dt == 0 {
		return
	}
	if math.Round(*x/v.dt) > MaxRefractorySteps {
		v.add(obj, field, fnum(*x), fmt.Sprintf("must be <= %.10g ms (2^31-1 steps of dt_ms)", MaxRefractorySteps*v.dt))
	}
}

// finiteField checks an optional field that must be a finite number.
func (v *validator) finiteField(obj, field string, x *float64) {
	switch {
	case x == nil:
		v.unset(obj, field)
	case !finite(*x):
		v.add(obj, field, fnum(*x), "must be finite")
	case math.Abs(*x) > math.MaxFloat32:
		v.add(obj, field, fnum(*x), msgFloat32)
	}
}

// below checks two fields that must both be finite with a < b (v_reset
// below v_th).
func (v *validator) below(obj, prefix, fa string, a *float64, fb string, b *float64) {
	v.finiteField(obj, prefix+fa, a)
	v.finiteField(obj, prefix+fb, b)
	if a != nil && b != nil && finite(*a) && finite(*b) && *a >= *b {
		v.add(obj, prefix+fa, fnum(*a), "must be < "+fb+" ("+fnum(*b)+")")
	}
}

// dist checks a distribution. With delay set it also requires values >= 0
// and at most MaxDelaySteps steps.
func (v *validator) dist(obj, field string, d *myelinpb.Distribution, delay bool) {
	maxDelay := math.Inf(1)
	if v.dt > 0 {
		maxDelay = MaxDelaySteps * v.dt
	}
	// Delays are judged only once dt_ms is valid: the default delay is
	// dt_ms, and a bad dt_ms is reported once, on its own.
	delayOK := func(f string, x float64) {
		if !delay || !finite(x) || v.dt == 0 {
			return
		}
		if x < 0 {
			v.add(obj, f, fnum(x), "must be >= 0 (a delay)")
		} else if x > maxDelay {
			v.add(obj, f, fnum(x), fmt.Sprintf("must be <= %s ms (2^20 steps of dt_ms)", fnum(maxDelay)))
		}
	}
	num := func(f string, x float64) bool {
		if !finite(x) {
			v.add(obj, f, fnum(x), "must be finite")
			return false
		}
		return true
	}
	switch k := d.Kind.(type) {
	case nil:
		v.add(obj, field, "", "distribution kind not set: one of constant, normal, uniform, lognormal is required")
	case *myelinpb.Distribution_Constant:
		if num(field+".constant", k.Constant) {
			delayOK(field+".constant", k.Constant)
		}
	case *myelinpb.Distribution_Normal:
		x := k.Normal
		if x == nil {
			v.add(obj, field+".normal", "", "is nil")
			return
		}
		f := field + ".normal."
		if num(f+"mean", x.Mean) {
			delayOK(f+"mean", x.Mean)
		}
		if num(f+"std", x.Std) && x.Std < 0 {
			v.add(obj, f+"std", fnum(x.Std), "must be >= 0")
		}
		if x.Min != nil && num(f+"min", *x.Min) {
			delayOK(f+"min", *x.Min)
		}
		if x.Max != nil && num(f+"max", *x.Max) {
			delayOK(f+"max", *x.Max)
		}
		lo, hi := math.Inf(-1), math.Inf(1)
		if x.Min != nil {
			lo = *x.Min
		}
		if x.Max != nil {
			hi = *x.Max
		}
		switch {
		case lo > hi:
			v.add(obj, f+"min", fnum(lo), "must be <= max ("+fnum(hi)+")")
		case x.Std == 0 && (x.Mean < lo || x.Mean > hi):
			v.add(obj, f+"mean", fnum(x.Mean), "must be in [min, max] = ["+fnum(lo)+", "+fnum(hi)+"] when std is 0")
		case x.Std > 0 && lo == hi:
			v.add(obj, f+"min", fnum(lo), "must be < max when std > 0 (values outside [min, max] are redrawn)")
		case x.Std > 0 && finite(x.Mean) && finite(x.Std) && !math.IsNaN(lo) && !math.IsNaN(hi):
			if m := normalMass(x.Mean, x.Std, lo, hi); m < MinNormalMass {
				v.add(obj, field+".normal", "", fmt.Sprintf("[min, max] = [%s, %s] holds %.3g of N(%s, %s²): must hold at least %s of it (values outside are redrawn)", fnum(lo), fnum(hi), m, fnum(x.Mean), fnum(x.Std), fnum(MinNormalMass)))
			}
		}
	case *myelinpb.Distribution_Uniform:
		x := k.Uniform
		if x == nil {
			v.add(obj, field+".uniform", "", "is nil")
			return
		}
		f := field + ".uniform."
		okLo, okHi := num(f+"low", x.Low), num(f+"high", x.High)
		if okLo && okHi && x.Low > x.High {
			v.add(obj, f+"low", fnum(x.Low), "must be <= high ("+fnum(x.High)+")")
		}
		if okLo {
			delayOK(f+"low", x.Low)
		}
		if okHi && x.High >= 0 {
			delayOK(f+"high", x.High)
		}
	case *myelinpb.Distribution_Lognormal:
		x := k.Lognormal
		if x == nil {
			v.add(obj, field+".lognormal", "", "is nil")
			return
		}
		f := field + ".lognormal."
		num(f+"mu", x.Mu)
		if num(f+"sigma", x.Sigma) && x.Sigma < 0 {
			v.add(obj, f+"sigma", fnum(x.Sigma), "must be >= 0")
		}
		if delay && x.Negative {
			v.add(obj, f+"negative", "true", "must be false for a delay")
		}
	}
}

// normalMass is the probability of [lo, hi] under N(mean, std²), std > 0.
func normalMass(mean, std, lo, hi float64) float64 {
	cdf := func(x float64) float64 { return 0.5 * math.Erfc(-(x-mean)/std/math.Sqrt2) }
	return cdf(hi) - cdf(lo)
}

// receptor checks that r is a known Receptor value.
func (v *validator) receptor(obj, field string, r myelinpb.Receptor) {
	if _, ok := myelinpb.Receptor_name[int32(r)]; !ok {
		v.add(obj, field, strconv.Itoa(int(r)), "must be one of RECEPTOR_AUTO, EXCITATORY, INHIBITORY, SLOW_EXCITATORY")
	}
}

// slowPort checks that r, the receptor of a projection or input onto
// post, names a port that post's model has: SLOW_EXCITATORY needs a model
// with a slow excitatory port (neuron.Model.HasSlowPort).
func (v *validator) slowPort(obj, field string, r myelinpb.Receptor, post *myelinpb.Population) {
	if r != myelinpb.Receptor_SLOW_EXCITATORY || post == nil {
		return
	}
	m, _, ok := neuron.Of(post)
	if !ok || m.HasSlowPort() {
		return
	}
	var with []string
	for _, x := range neuron.Models() {
		if x.HasSlowPort() {
			with = append(with, x.Name)
		}
	}
	v.add(obj, field, "SLOW_EXCITATORY", fmt.Sprintf("post %q is %s, which has no slow excitatory port (models with one: %s)", post.Name, m.Name, strings.Join(with, ", ")))
}
