package spec

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/myelin-sim/myelin/engine/neuron"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// maxListErrors caps how many problems Validate reports for the elements of
// one long list (explicit synapses, spike times); the rest are counted.
const maxListErrors = 5

// FieldError is one problem Validate found. Its Error reads like
//
//	population "E" (populations[0]): iaf_psc_delta.tau_m = -5: must be > 0
type FieldError struct {
	// Object names the object holding the field and where it sits in the
	// network, e.g. `population "E" (populations[0])`. Empty for fields of
	// the Network message itself.
	Object string
	// Field is the path of the field inside Object in protobuf text names,
	// e.g. "iaf_psc_delta.tau_m" or "explicit.pre_index[3]".
	Field string
	// Value is the offending value as text; empty when the problem is a
	// missing field or a relation between fields.
	Value string
	// Msg says what is allowed, e.g. "must be > 0".
	Msg string
}

// Error formats the problem as "Object: Field = Value: Msg", leaving out the
// empty parts.
func (e FieldError) Error() string {
	var b strings.Builder
	if e.Object != "" {
		b.WriteString(e.Object)
		b.WriteString(": ")
	}
	b.WriteString(e.Field)
	if e.Value != "" {
		b.WriteString(" = ")
		b.WriteString(e.Value)
	}
	if e.Msg != "" {
		if e.Field != "" || e.Value != "" {
			b.WriteString(": ")
		}
		b.WriteString(e.Msg)
	}
	return b.String()
}

// ValidationError holds every problem Validate found, in the order of the
// fields in the network.
type ValidationError struct {
	// File, when set (Load sets it), is put in front of every line.
	File   string
	Errors []FieldError
}

// Error lists the problems one per line.
func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, fe := range e.Errors {
		if i > 0 {
			b.WriteByte('\n')
		}
		if e.File != "" {
			b.WriteString(e.File)
			b.WriteString(": ")
		}
		b.WriteString(fe.Error())
	}
	return b.String()
}

// Unwrap returns the individual FieldErrors, so errors.As can find them.
func (e *ValidationError) Unwrap() []error {
	out := make([]error, len(e.Errors))
	for i, fe := range e.Errors {
		out[i] = fe
	}
	return out
}

// Validate checks a network that has been through ApplyDefaults and returns
// nil or a *ValidationError listing every problem found, each naming the
// object, the field, the bad value and what is allowed. Fields that
// ApplyDefaults would have set but are unset are reported as such.
//
// What it checks: dt_ms in (0, MaxDtMs]; duration_ms >= 0 and at most
// MaxSteps steps; at least one population, names non-empty and unique, sizes
// >= 1, total < MaxNeurons; model set and its parameters sane (time
// constants, C_m, g_L > 0, t_ref >= 0 and at most MaxRefractorySteps steps,
// V_reset < V_th, r_max > 0, all finite and within the float32 range);
// distributions set and sane;
// projections between existing populations of the same kind (spiking or
// rate) with a sane rule, weight and delay (>= 0, at most MaxDelaySteps
// steps; one constant delay for rate projections); inputs on existing
// populations with sane rates (Poisson: at most MaxPoissonMean spikes per
// step), windows and neuron ranges (Poisson and spike-time inputs only into
// spiking populations); recording of existing populations.
func Validate(n *myelinpb.Network) error {
	if n == nil {
		return &ValidationError{Errors: []FieldError{{Msg: "network is nil"}}}
	}
	v := &validator{n: n, pops: map[string]int{}}
	v.network()
	if len(v.errs) == 0 {
		return nil
	}
	return &ValidationError{Errors: v.errs}
}

// validator accumulates FieldErrors while walking one network.
type validator struct {
	n    *myelinpb.Network
	pops map[string]int // population name -> index of its first occurrence
	errs []FieldError
	dt   float64 // valid dt_ms, or 0 when dt_ms is unusable
}

func (v *validator) add(obj, field, value, msg string) {
	v.errs = append(v.errs, FieldError{Object: obj, Field: field, Value: value, Msg: msg})
}

// fnum formats a float the shortest way that reads back exactly.
func fnum(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func (v *validator) network() {
	n := v.n
	if !utf8.ValidString(n.Name) {
		v.add("", "name", fmt.Sprintf("%q", n.Name), "must be valid UTF-8")
	}
	switch dt := n.DtMs; {
	case dt == nil:
		v.add("", "dt_ms", "", "not set (ApplyDefaults sets it)")
	case !finite(*dt) || *dt <= 0 || *dt > MaxDtMs:
		v.add("", "dt_ms", fnum(*dt), "must be in (0, "+fnum(MaxDtMs)+"]")
	default:
		v.dt = *dt
	}
	switch d := n.DurationMs; {
	case d == nil:
		v.add("", "duration_ms", "", "not set (ApplyDefaults sets it)")
	case !finite(*d) || *d < 0:
		v.add("", "duration_ms", fnum(*d), "must be finite and >= 0")
	case v.dt > 0 && *d/v.dt > MaxSteps:
		v.add("", "duration_ms", fnum(*d), fmt.Sprintf("is %.4g steps of dt_ms = %s: must be at most 2^40 steps", *d/v.dt, fnum(v.dt)))
	}

	if len(n.Populations) == 0 {
		v.add("", "populations", "", "at least one population is required")
	}
	var total uint64
	for i, p := range n.Populations {
		if p == nil {
			v.add(fmt.Sprintf("populations[%d]", i), "", "", "is nil")
			continue
		}
		total += uint64(p.Size)
		v.population(i, p)
	}
	if total >= MaxNeurons {
		v.add("", "populations", "", fmt.Sprintf("total size %d: must be < 2^31 (%d)", total, uint64(MaxNeurons)))
	}
	for i, pr := range n.Projections {
		if pr == nil {
			v.add(fmt.Sprintf("projections[%d]", i), "", "", "is nil")
			continue
		}
		v.projection(i, pr)
	}
	for i, in := range n.Inputs {
		if in == nil {
			v.add(fmt.Sprintf("inputs[%d]", i), "", "", "is nil")
			continue
		}
		v.input(i, in)
	}
	v.recording(n.Recording)
}

// popLabel is the Object of population i.
func popLabel(i int, p *myelinpb.Population) string {
	return fmt.Sprintf("population %q (populations[%d])", p.GetName(), i)
}

// ModelName returns the NEST name of p's model ("iaf_psc_delta", "rate",
// ...), or "" when the model is unset.
func ModelName(p *myelinpb.Population) string {
	if m, _, ok := neuron.Of(p); ok {
		return m.Name
	}
	return ""
}

// IsRate reports whether p is a population of rate neurons.
func IsRate(p *myelinpb.Population) bool {
	m, _, ok := neuron.Of(p)
	return ok && m.Kind == neuron.RateNeurons
}

// IsSpiking reports whether p is a population of spiking neurons. A
// population without a model is neither.
func IsSpiking(p *myelinpb.Population) bool {
	m, _, ok := neuron.Of(p)
	return ok && m.Kind == neuron.Spiking
}

func (v *validator) population(i int, p *myelinpb.Population) {
	obj := popLabel(i, p)
	switch {
	case p.Name == "":
		v.add(obj, "name", "", "must not be empty")
	case !utf8.ValidString(p.Name):
		v.add(obj, "name", "", "must be valid UTF-8")
	default:
		if j, dup := v.pops[p.Name]; dup {
			v.add(obj, "name", fmt.Sprintf("%q", p.Name), fmt.Sprintf("must be unique (also the name of populations[%d])", j))
		} else {
			v.pops[p.Name] = i
		}
	}
	if p.Size == 0 {
		v.add(obj, "size", "0", "must be >= 1")
	}
	if m, params, ok := neuron.Of(p); !ok {
		v.add(obj, "model", "", "not set: one of "+strings.Join(neuron.Names(), ", ")+" is required")
	} else if params == nil {
		v.add(obj, m.Name, "", "is nil")
	} else {
		m.Check(params, modelChecker{v: v, obj: obj, prefix: m.Name + "."})
	}
	if p.Initial == nil {
		if p.Model != nil {
			v.add(obj, "initial", "", "not set (ApplyDefaults sets it)")
		}
	} else {
		v.dist(obj, "initial", p.Initial, false)
	}
}

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
		v.add(obj, field, strconv.Itoa(int(r)), "must be one of RECEPTOR_AUTO, EXCITATORY, INHIBITORY")
	}
}

// lookup returns the population called name, or nil.
func (v *validator) lookup(name string) *myelinpb.Population {
	if i, ok := v.pops[name]; ok {
		return v.n.Populations[i]
	}
	return nil
}

// popRef checks that field (holding a population name) names an existing
// population, and returns it (nil when it does not).
func (v *validator) popRef(obj, field, name string) *myelinpb.Population {
	if name == "" {
		v.add(obj, field, "", "must name a population")
		return nil
	}
	p := v.lookup(name)
	if p == nil {
		v.add(obj, field, fmt.Sprintf("%q", name), "no population has this name")
	}
	return p
}

func (v *validator) projection(i int, pr *myelinpb.Projection) {
	obj := fmt.Sprintf("projection %q (projections[%d])", pr.Name, i)
	if pr.Name == "" {
		v.unset(obj, "name")
	} else if !utf8.ValidString(pr.Name) {
		v.add(obj, "name", "", "must be valid UTF-8")
	}
	pre := v.popRef(obj, "pre", pr.Pre)
	post := v.popRef(obj, "post", pr.Post)
	if pre != nil && post != nil {
		switch {
		case IsSpiking(pre) && IsRate(post):
			v.add(obj, "post", fmt.Sprintf("%q", pr.Post), fmt.Sprintf("is a rate population but pre %q is spiking (%s): spiking populations project only to spiking populations", pr.Pre, ModelName(pre)))
		case IsRate(pre) && IsSpiking(post):
			v.add(obj, "post", fmt.Sprintf("%q", pr.Post), fmt.Sprintf("is spiking (%s) but pre %q is a rate population: rate populations project only to rate populations", ModelName(post), pr.Pre))
		}
	}
	autapses := pr.AllowAutapses == nil || *pr.AllowAutapses
	multapses := pr.AllowMultapses == nil || *pr.AllowMultapses
	if pr.AllowAutapses == nil {
		v.unset(obj, "allow_autapses")
	}
	if pr.AllowMultapses == nil {
		v.unset(obj, "allow_multapses")
	}
	// Sizes are used only when both ends exist and are non-empty.
	sized := pre != nil && post != nil && pre.Size > 0 && post.Size > 0
	self := pr.Pre == pr.Post
	weightNeeded := true
	switch r := pr.Rule.(type) {
	case nil:
		v.add(obj, "rule", "", "not set: one of fixed_in_degree, fixed_out_degree, pairwise_bernoulli, one_to_one, all_to_all, ring, explicit is required")
	case *myelinpb.Projection_FixedInDegree:
		k := r.FixedInDegree.GetIndegree()
		if k == 0 {
			v.add(obj, "fixed_in_degree.indegree", "0", "must be >= 1")
		} else if sized {
			v.degree(obj, "fixed_in_degree.indegree", k, "pre", pr.Pre, pre.Size, self, autapses, multapses)
		}
	case *myelinpb.Projection_FixedOutDegree:
		k := r.FixedOutDegree.GetOutdegree()
		if k == 0 {
			v.add(obj, "fixed_out_degree.outdegree", "0", "must be >= 1")
		} else if sized {
			v.degree(obj, "fixed_out_degree.outdegree", k, "post", pr.Post, post.Size, self, autapses, multapses)
		}
	case *myelinpb.Projection_PairwiseBernoulli:
		p := r.PairwiseBernoulli.GetP()
		if !finite(p) || p < 0 || p > 1 {
			v.add(obj, "pairwise_bernoulli.p", fnum(p), "must be in [0, 1]")
		}
	case *myelinpb.Projection_OneToOne:
		if sized && pre.Size != post.Size {
			v.add(obj, "one_to_one", "", fmt.Sprintf("pre %q has %d neurons and post %q has %d: sizes must be equal", pr.Pre, pre.Size, pr.Post, post.Size))
		}
	case *myelinpb.Projection_AllToAll:
	case *myelinpb.Projection_Ring:
		weightNeeded = false
		x := r.Ring
		if x == nil {
			x = &myelinpb.RingRule{}
		}
		if !finite(x.JExc) {
			v.add(obj, "ring.j_exc", fnum(x.JExc), "must be finite")
		}
		if !finite(x.JInh) {
			v.add(obj, "ring.j_inh", fnum(x.JInh), "must be finite")
		}
		switch {
		case !finite(x.SigmaDeg):
			v.add(obj, "ring.sigma_deg", fnum(x.SigmaDeg), "must be finite and > 0")
		case x.SigmaDeg <= 0:
			v.add(obj, "ring.sigma_deg", fnum(x.SigmaDeg), "must be > 0")
		}
		if sized && pre.Size != post.Size {
			v.add(obj, "ring", "", fmt.Sprintf("pre %q has %d neurons and post %q has %d: sizes must be equal", pr.Pre, pre.Size, pr.Post, post.Size))
		}
		if pre != nil && IsSpiking(pre) {
			v.add(obj, "ring", "", fmt.Sprintf("pre %q is spiking (%s): the ring rule connects rate populations only", pr.Pre, ModelName(pre)))
		} else if post != nil && IsSpiking(post) {
			v.add(obj, "ring", "", fmt.Sprintf("post %q is spiking (%s): the ring rule connects rate populations only", pr.Post, ModelName(post)))
		}
		if pr.Weight != nil {
			v.add(obj, "weight", "", "must not be set with the ring rule (ring.j_exc and ring.j_inh give the weights)")
		}
	case *myelinpb.Projection_Explicit:
		x := r.Explicit
		if x == nil {
			x = &myelinpb.ExplicitList{}
		}
		weightNeeded = len(x.WeightValues) == 0
		v.explicit(obj, x, pre, post, self, autapses, multapses)
	}
	if pr.Weight == nil {
		if weightNeeded {
			v.add(obj, "weight", "", "not set: a weight distribution is required (except for ring, and explicit with weight_values)")
		}
	} else if weightNeeded || !isRing(pr) {
		v.dist(obj, "weight", pr.Weight, false)
	}
	if pr.Delay == nil {
		v.unset(obj, "delay")
	} else {
		v.dist(obj, "delay", pr.Delay, true)
	}
	if pre != nil && IsRate(pre) {
		// A rate projection reads the rates of one past step: one delay.
		if k := pr.Delay.GetKind(); k != nil {
			if _, ok := k.(*myelinpb.Distribution_Constant); !ok {
				v.add(obj, "delay", "", "must be a constant for a rate projection (rate projections have one delay)")
			}
		}
		if x := pr.GetExplicit(); x != nil && len(x.DelayMs) > 0 {
			v.add(obj, "explicit.delay_ms", "", fmt.Sprintf("has %d entries: must be empty for a rate projection (rate projections have one delay: set delay)", len(x.DelayMs)))
		}
	}
	v.receptor(obj, "receptor", pr.Receptor)
}

func isRing(pr *myelinpb.Projection) bool {
	_, ok := pr.Rule.(*myelinpb.Projection_Ring)
	return ok
}

// degree checks a fixed in- or out-degree k against the size of the
// population the connections are drawn from.
func (v *validator) degree(obj, field string, k uint32, side, name string, size uint32, self, autapses, multapses bool) {
	avail := size
	note := ""
	if self && !autapses {
		avail--
		note = " minus one as allow_autapses is false"
	}
	if avail == 0 {
		v.add(obj, field, strconv.Itoa(int(k)), fmt.Sprintf("no neuron to connect: %s %q has %d neuron%s", side, name, size, note))
		return
	}
	if !multapses && k > avail {
		v.add(obj, field, strconv.FormatUint(uint64(k), 10), fmt.Sprintf("must be <= %d (size of %s %q%s) when allow_multapses is false", avail, side, name, note))
	}
}

// explicit checks an explicit synapse list.
func (v *validator) explicit(obj string, x *myelinpb.ExplicitList, pre, post *myelinpb.Population, self, autapses, multapses bool) {
	n := len(x.PreIndex)
	if len(x.PostIndex) != n {
		v.add(obj, "explicit.post_index", "", fmt.Sprintf("has %d entries: must have as many as pre_index (%d)", len(x.PostIndex), n))
	}
	if m := len(x.WeightValues); m != 0 && m != n {
		v.add(obj, "explicit.weight_values", "", fmt.Sprintf("has %d entries: must be empty or have as many as pre_index (%d)", m, n))
	}
	if m := len(x.DelayMs); m != 0 && m != n {
		v.add(obj, "explicit.delay_ms", "", fmt.Sprintf("has %d entries: must be empty or have as many as pre_index (%d)", m, n))
	}
	l := &listErrs{v: v, obj: obj, field: "explicit"}
	if pre != nil {
		for k, i := range x.PreIndex {
			if i >= pre.Size {
				l.add(fmt.Sprintf("explicit.pre_index[%d]", k), strconv.FormatUint(uint64(i), 10), fmt.Sprintf("must be < %d (size of pre %q)", pre.Size, pre.Name))
			}
		}
	}
	if post != nil {
		for k, i := range x.PostIndex {
			if i >= post.Size {
				l.add(fmt.Sprintf("explicit.post_index[%d]", k), strconv.FormatUint(uint64(i), 10), fmt.Sprintf("must be < %d (size of post %q)", post.Size, post.Name))
			}
		}
	}
	for k, w := range x.WeightValues {
		if !finite(w) {
			l.add(fmt.Sprintf("explicit.weight_values[%d]", k), fnum(w), "must be finite")
		}
	}
	maxDelay := math.Inf(1)
	if v.dt > 0 {
		maxDelay = MaxDelaySteps * v.dt
	}
	for k, d := range x.DelayMs {
		switch {
		case !finite(d) || d < 0:
			l.add(fmt.Sprintf("explicit.delay_ms[%d]", k), fnum(d), "must be finite and >= 0")
		case d > maxDelay:
			l.add(fmt.Sprintf("explicit.delay_ms[%d]", k), fnum(d), fmt.Sprintf("must be <= %s ms (2^20 steps of dt_ms)", fnum(maxDelay)))
		}
	}
	if len(x.PostIndex) == n && (!multapses || (self && !autapses)) {
		seen := make(map[[2]uint32]struct{}, n)
		for k := range n {
			a, b := x.PreIndex[k], x.PostIndex[k]
			if self && !autapses && a == b {
				l.add(fmt.Sprintf("explicit[%d]", k), fmt.Sprintf("%d->%d", a, b), "is an autapse but allow_autapses is false")
			}
			if !multapses {
				key := [2]uint32{a, b}
				if _, dup := seen[key]; dup {
					l.add(fmt.Sprintf("explicit[%d]", k), fmt.Sprintf("%d->%d", a, b), "repeats a synapse but allow_multapses is false")
				}
				seen[key] = struct{}{}
			}
		}
	}
	l.flush()
}

// listErrs reports at most maxListErrors problems of one list and then a
// count of the rest.
type listErrs struct {
	v          *validator
	obj, field string
	n          int
}

func (l *listErrs) add(field, value, msg string) {
	l.n++
	if l.n <= maxListErrors {
		l.v.add(l.obj, field, value, msg)
	}
}

func (l *listErrs) flush() {
	if l.n > maxListErrors {
		l.v.add(l.obj, l.field, "", fmt.Sprintf("%d more problems like the above", l.n-maxListErrors))
	}
}

// window checks optional start/stop times.
func (v *validator) window(obj, prefix string, start, stop *float64) {
	for _, t := range []struct {
		name string
		x    *float64
	}{{"start_ms", start}, {"stop_ms", stop}} {
		if t.x != nil && (!finite(*t.x) || *t.x < 0) {
			v.add(obj, prefix+t.name, fnum(*t.x), "must be finite and >= 0")
		}
	}
	if start != nil && stop != nil && finite(*start) && finite(*stop) && *start >= *stop {
		v.add(obj, prefix+"start_ms", fnum(*start), "must be < stop_ms ("+fnum(*stop)+")")
	}
}

// neuronRange checks [first, first+count) within a population of size
// (count 0 meaning to the end when zeroMeansAll, an error otherwise).
func (v *validator) neuronRange(obj, prefix string, first, count uint32, target *myelinpb.Population, zeroMeansAll bool) {
	if count == 0 && !zeroMeansAll {
		v.add(obj, prefix+"count", "0", "must be >= 1")
		return
	}
	if target == nil || target.Size == 0 {
		return
	}
	if count == 0 {
		if first >= target.Size {
			v.add(obj, prefix+"first", strconv.FormatUint(uint64(first), 10), fmt.Sprintf("must be < %d (size of %q)", target.Size, target.Name))
		}
		return
	}
	if uint64(first)+uint64(count) > uint64(target.Size) {
		v.add(obj, prefix+"first", strconv.FormatUint(uint64(first), 10), fmt.Sprintf("first + count (%d) must be <= %d (size of %q)", uint64(first)+uint64(count), target.Size, target.Name))
	}
}

func (v *validator) input(i int, in *myelinpb.Input) {
	obj := fmt.Sprintf("input %q (inputs[%d])", in.Name, i)
	if in.Name == "" {
		v.unset(obj, "name")
	} else if !utf8.ValidString(in.Name) {
		v.add(obj, "name", "", "must be valid UTF-8")
	}
	target := v.popRef(obj, "target", in.Target)
	needSpiking := func(kind string) {
		if target != nil && IsRate(target) {
			v.add(obj, "target", fmt.Sprintf("%q", in.Target), fmt.Sprintf("is a rate population: %s inputs need a spiking population (use dc for rate populations)", kind))
		}
	}
	switch k := in.Kind.(type) {
	case nil:
		v.add(obj, "kind", "", "not set: one of poisson, dc, spike_times is required")
	case *myelinpb.Input_Poisson:
		x := k.Poisson
		if x == nil {
			x = &myelinpb.PoissonInput{}
		}
		needSpiking("poisson")
		if !finite(x.RateHz) || x.RateHz < 0 {
			v.add(obj, "poisson.rate_hz", fnum(x.RateHz), "must be finite and >= 0")
		} else if mean := x.RateHz * v.dt / 1000; mean > MaxPoissonMean {
			v.add(obj, "poisson.rate_hz", fnum(x.RateHz), fmt.Sprintf("is %.4g spikes per neuron and step of dt_ms = %s: must be at most %s (rate_hz <= %s)", mean, fnum(v.dt), fnum(MaxPoissonMean), fnum(MaxPoissonMean*1000/v.dt)))
		}
		if !finite(x.Weight) {
			v.add(obj, "poisson.weight", fnum(x.Weight), "must be finite")
		}
		v.receptor(obj, "poisson.receptor", x.Receptor)
		v.window(obj, "poisson.", x.StartMs, x.StopMs)
		v.neuronRange(obj, "poisson.", x.First, x.Count, target, true)
	case *myelinpb.Input_Dc:
		x := k.Dc
		if x == nil {
			x = &myelinpb.DCInput{}
		}
		if !finite(x.Amplitude) {
			v.add(obj, "dc.amplitude", fnum(x.Amplitude), "must be finite")
		} else if math.Abs(x.Amplitude) > math.MaxFloat32 {
			v.add(obj, "dc.amplitude", fnum(x.Amplitude), msgFloat32)
		}
		v.window(obj, "dc.", x.StartMs, x.StopMs)
		v.neuronRange(obj, "dc.", x.First, x.Count, target, true)
	case *myelinpb.Input_SpikeTimes:
		x := k.SpikeTimes
		if x == nil {
			x = &myelinpb.SpikeSourceArray{}
		}
		needSpiking("spike_times")
		if len(x.Neuron) != len(x.TimeMs) {
			v.add(obj, "spike_times.time_ms", "", fmt.Sprintf("has %d entries: must have as many as neuron (%d)", len(x.TimeMs), len(x.Neuron)))
		}
		if !finite(x.Weight) {
			v.add(obj, "spike_times.weight", fnum(x.Weight), "must be finite")
		}
		v.receptor(obj, "spike_times.receptor", x.Receptor)
		l := &listErrs{v: v, obj: obj, field: "spike_times"}
		if target != nil && target.Size > 0 {
			for j, nrn := range x.Neuron {
				if nrn >= target.Size {
					l.add(fmt.Sprintf("spike_times.neuron[%d]", j), strconv.FormatUint(uint64(nrn), 10), fmt.Sprintf("must be < %d (size of %q)", target.Size, target.Name))
				}
			}
		}
		for j, t := range x.TimeMs {
			if !finite(t) || t < 0 {
				l.add(fmt.Sprintf("spike_times.time_ms[%d]", j), fnum(t), "must be finite and >= 0")
			}
		}
		l.flush()
	}
}

func (v *validator) recording(r *myelinpb.Recording) {
	const obj = "recording"
	if r == nil {
		v.add(obj, "", "", "not set (ApplyDefaults sets it)")
		return
	}
	for i, name := range r.Spikes {
		f := fmt.Sprintf("spikes[%d]", i)
		p := v.lookup(name)
		switch {
		case p == nil:
			v.add(obj, f, fmt.Sprintf("%q", name), "no population has this name")
		case IsRate(p):
			v.add(obj, f, fmt.Sprintf("%q", name), "is a rate population, which has no spikes (use a state probe)")
		}
	}
	if r.BlockSteps == 0 {
		v.add(obj, "block_steps", "0", "must be >= 1")
	}
	for i, sp := range r.State {
		pobj := fmt.Sprintf("state probe (recording.state[%d])", i)
		if sp == nil {
			v.add(pobj, "", "", "is nil")
			continue
		}
		p := v.popRef(pobj, "population", sp.Population)
		v.neuronRange(pobj, "", sp.First, sp.Count, p, false)
		if sp.Every == 0 {
			v.add(pobj, "every", "0", "must be >= 1")
		}
	}
}
