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
// What it checks: dt_ms in [MinDtMs, MaxDtMs]; duration_ms finite, >= 0
// and at most MaxSteps steps (myelin serve runs a network on command,
// whatever its duration; ValidateRun also wants at least one step); names printable
// (no control or other non-graphic character) and not only white space,
// population names free of ',' and '@' and phase names of ',' (the
// command line's separators); at least one population, names non-empty
// and unique, sizes >= 1, total < MaxNeurons; model set and its
// parameters sane (time constants, C_m, g_L > 0, t_ref >= 0 and at most
// MaxRefractorySteps steps, V_reset < V_th, r_max > 0, all finite and
// within the float32 range); distributions set and sane;
// projections between existing populations of the same kind (spiking or
// rate) with a sane rule, weight and delay (>= 0, at most MaxDelaySteps
// steps; one constant delay for rate projections); inputs on existing
// populations with sane rates (Poisson: at most MaxPoissonMean spikes per
// step), windows and neuron ranges (Poisson and spike-time inputs only into
// spiking populations); recording of existing populations.
func Validate(n *myelinpb.Network) error { return validate(n, false) }

// ValidateRun is Validate for a network that is run for its duration_ms in
// one go (myelin run and plan, Load, the built-in models): it also refuses
// a duration_ms shorter than one step of dt_ms (0 included), which would
// run no step and report the run complete.
func ValidateRun(n *myelinpb.Network) error { return validate(n, true) }

func validate(n *myelinpb.Network, run bool) error {
	if n == nil {
		return &ValidationError{Errors: []FieldError{{Msg: "network is nil"}}}
	}
	v := &validator{n: n, pops: map[string]int{}, run: run}
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
	run  bool    // ValidateRun: duration_ms = 0 is an error
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
	} else if msg := printableProblem(n.Name); msg != "" {
		v.add("", "name", fmt.Sprintf("%q", n.Name), msg)
	}
	switch dt := n.DtMs; {
	case dt == nil:
		v.add("", "dt_ms", "", "not set (ApplyDefaults sets it)")
	case !finite(*dt) || *dt < MinDtMs || *dt > MaxDtMs:
		v.add("", "dt_ms", fnum(*dt), "must be in ["+fnum(MinDtMs)+", "+fnum(MaxDtMs)+"]")
	default:
		v.dt = *dt
	}
	switch d := n.DurationMs; {
	case d == nil:
		v.add("", "duration_ms", "", "not set (ApplyDefaults sets it)")
	case !finite(*d) || *d < 0:
		v.add("", "duration_ms", fnum(*d), "must be finite and >= 0")
	case v.run && v.dt > 0 && *d < v.dt:
		v.add("", "duration_ms", fnum(*d), fmt.Sprintf("must be at least one step of dt_ms = %s (a shorter run simulates nothing)", fnum(v.dt)))
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
	v.stpPairs()
	v.phases()
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
	default:
		// A bad name is still registered, so that the projections and
		// inputs that name it get no second error.
		v.name(obj, "name", p.Name, populationSeparators)
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
