// Package models holds Myelin's built-in networks, each a function from a
// few named parameters to a spec, parameter for parameter as published (see
// each model's doc), so that results can be set beside NEST's and Brian2's.
package models

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// Param documents one model parameter.
type Param struct {
	Name, Default, Help string
}

// Model is a built-in network.
type Model struct {
	Name   string
	Short  string
	Params []Param
	build  func(p Values) (*myelinpb.Network, error)
}

// Values are parameter values by name, already checked against Params.
type Values map[string]string

// reader reads parameter values, keeping the first error so that a model
// can read all it needs and check once.
type reader struct {
	v   Values
	err error
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// float reads a number; an empty value gives def.
func (r *reader) float(name string, def float64) float64 {
	if r.v[name] == "" {
		return def
	}
	f, err := strconv.ParseFloat(r.v[name], 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		r.fail(fmt.Errorf("parameter %s = %q: not a finite number", name, r.v[name]))
	}
	return f
}

// atLeast fails with why unless x >= lo (x read by float).
func (r *reader) atLeast(name string, x, lo float64, why string) {
	if x < lo {
		r.fail(fmt.Errorf("parameter %s = %g: must be >= %g (%s)", name, x, lo, why))
	}
}

// count reads a whole number of at least lo; an empty value gives def
// (a parameter whose default is derived from others), and fails when def
// itself is below lo (a parameter that has no derived default).
func (r *reader) count(name string, lo, def uint32) uint32 {
	if r.v[name] == "" {
		if def < lo {
			r.fail(fmt.Errorf("parameter %s = \"\": want a whole number >= %d", name, lo))
		}
		return def
	}
	n, err := strconv.ParseUint(r.v[name], 10, 32)
	switch {
	case err != nil:
		r.fail(fmt.Errorf("parameter %s = %q: not a whole number >= 0", name, r.v[name]))
	case uint32(n) < lo:
		r.fail(fmt.Errorf("parameter %s = %d: must be >= %d", name, n, lo))
	}
	return uint32(n)
}

// common reads the parameters every model has: duration and seed.
func (r *reader) common() (durationMs float64, seed uint64) {
	durationMs = r.float("duration_ms", 0)
	seed, err := strconv.ParseUint(r.v["seed"], 10, 64)
	if err != nil {
		r.fail(fmt.Errorf("parameter seed = %q: not a whole number >= 0", r.v["seed"]))
	}
	return durationMs, seed
}

// All returns the built-in models, sorted by name.
func All() []*Model {
	ms := []*Model{brunel(), consolidation(), cuba(), coba(), hopfield(), microcircuit(), ping(), ringRate(), ringSpiking(), stpWM()}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Name < ms[j].Name })
	return ms
}

// Lookup returns the built-in model called name.
func Lookup(name string) (*Model, error) {
	var names []string
	for _, m := range All() {
		if m.Name == name {
			return m, nil
		}
		names = append(names, m.Name)
	}
	return nil, fmt.Errorf("no built-in model %q (have: %s)", name, strings.Join(names, ", "))
}

// Spec returns built-in model name with parameters set, defaulted and
// validated for a run (spec.ValidateRun): ready for network.Build.
func Spec(name string, set map[string]string) (*myelinpb.Network, error) {
	m, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	n, err := m.Build(set)
	if err != nil {
		return nil, err
	}
	spec.ApplyDefaults(n)
	if err := spec.ValidateRun(n); err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	return n, nil
}

// Build returns the model's spec with the given parameters (name → value;
// unknown names and empty values are an error, missing ones take their
// defaults).
func (m *Model) Build(set map[string]string) (*myelinpb.Network, error) {
	v := Values{}
	for _, p := range m.Params {
		v[p.Name] = p.Default
	}
	for k, val := range set {
		if _, ok := v[k]; !ok {
			var names []string
			for _, p := range m.Params {
				names = append(names, p.Name)
			}
			return nil, fmt.Errorf("model %s: no parameter %q (have: %s)", m.Name, k, strings.Join(names, ", "))
		}
		if val == "" {
			return nil, fmt.Errorf("model %s: parameter %s = \"\": want a value (%s)", m.Name, k, m.defaultNote(k))
		}
		v[k] = val
	}
	n, err := m.build(v)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", m.Name, err)
	}
	return n, nil
}

// defaultNote says what leaving parameter name out gives.
func (m *Model) defaultNote(name string) string {
	for _, p := range m.Params {
		switch {
		case p.Name != name:
		case p.Default != "":
			return "leave it out for the default, " + p.Default
		default:
			return "leave it out for its default, derived from the others: 'myelin models' says how"
		}
	}
	return "leave it out for the default"
}

// Helpers shared by the models.

// splitEI splits n neurons into 80 % excitatory and the rest inhibitory,
// nE = ⌊4n/5⌋, in 64-bit arithmetic: 4n overflows 32 bits from n = 2^30.
func splitEI(n uint32) (nE, nI uint32) {
	nE = uint32(uint64(n) * 4 / 5)
	return nE, n - nE
}

func constant(x float64) *myelinpb.Distribution {
	return &myelinpb.Distribution{Kind: &myelinpb.Distribution_Constant{Constant: x}}
}

func uniform(lo, hi float64) *myelinpb.Distribution {
	return &myelinpb.Distribution{Kind: &myelinpb.Distribution_Uniform{Uniform: &myelinpb.Uniform{Low: lo, High: hi}}}
}

var seedParam = Param{"seed", "12345", "seed of connectivity, initial values and inputs"}

var durationParam = Param{"duration_ms", "1000", "biological time to simulate (ms)"}

func f64(x float64) *float64 { return proto.Float64(x) }
