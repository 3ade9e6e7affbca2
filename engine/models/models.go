// Package models holds Myelin's built-in networks, each a function from a
// few named parameters to a spec, parameter for parameter as published (see
// each model's doc), so that results can be set beside NEST's and Brian2's.
package models

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

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

// Float returns parameter name as a float64.
func (v Values) Float(name string) (float64, error) {
	f, err := strconv.ParseFloat(v[name], 64)
	if err != nil {
		return 0, fmt.Errorf("parameter %s = %q: not a number", name, v[name])
	}
	return f, nil
}

// Uint returns parameter name as a uint32.
func (v Values) Uint(name string) (uint32, error) {
	f, err := strconv.ParseUint(v[name], 10, 32)
	if err != nil {
		return 0, fmt.Errorf("parameter %s = %q: not a whole number >= 0", name, v[name])
	}
	return uint32(f), nil
}

// Bool returns parameter name as a bool.
func (v Values) Bool(name string) (bool, error) {
	b, err := strconv.ParseBool(v[name])
	if err != nil {
		return false, fmt.Errorf("parameter %s = %q: want true or false", name, v[name])
	}
	return b, nil
}

// All returns the built-in models, sorted by name.
func All() []*Model {
	ms := []*Model{brunel(), cuba(), coba(), ringRate()}
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

// Build returns the model's spec with the given parameters (name → value;
// unknown names are an error, missing ones take their defaults).
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
		v[k] = val
	}
	n, err := m.build(v)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", m.Name, err)
	}
	return n, nil
}

// Helpers shared by the models.

func constant(x float64) *myelinpb.Distribution {
	return &myelinpb.Distribution{Kind: &myelinpb.Distribution_Constant{Constant: x}}
}

func uniform(lo, hi float64) *myelinpb.Distribution {
	return &myelinpb.Distribution{Kind: &myelinpb.Distribution_Uniform{Uniform: &myelinpb.Uniform{Low: lo, High: hi}}}
}

func seedOf(v Values) (uint64, error) {
	s, err := strconv.ParseUint(v["seed"], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parameter seed = %q: not a whole number >= 0", v["seed"])
	}
	return s, nil
}

var seedParam = Param{"seed", "12345", "seed of connectivity, initial values and inputs"}

var durationParam = Param{"duration_ms", "1000", "biological time to simulate (ms)"}

func f64(x float64) *float64 { return proto.Float64(x) }
