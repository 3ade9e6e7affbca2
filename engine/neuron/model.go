package neuron

import (
	"fmt"
	"math"
	"sort"

	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Kind says how a model's neurons talk to the network.
type Kind int

// Kinds of neuron model.
const (
	// Spiking neurons emit spikes and receive fixed-point synaptic input
	// through the delay ring buffers; their coefficients implement
	// SpikingModel.
	Spiking Kind = iota + 1
	// RateNeurons carry a rate r that rate projections weigh; their
	// coefficients implement RateModel.
	RateNeurons
)

// Model describes one neuron model: everything the rest of the engine needs
// to know about it. Each model's file declares one and registers it from
// its init function (register); spec defaults, validation, the network
// builder, the memory plan and every backend look the model up here instead
// of switching on it. The registry is filled during package initialisation
// and never changes afterwards.
type Model struct {
	// Name is NEST's name of the model. It is also the name of the field of
	// the model oneof of myelin.Population that holds its parameters.
	Name string
	// Code identifies the model to the kernels: its entry in
	// MYELIN_SPIKING_MODELS (kernels/models.cuh) has the same code.
	Code int32
	// Summary is one line for `myelin models`.
	Summary string
	// Kind is Spiking or RateNeurons.
	Kind Kind
	// Channels is the number of synaptic input channels of a spiking
	// model: 1 when excitatory and inhibitory input arrive summed (delta
	// synapses), 2 when they arrive apart (In.Ex and In.In).
	Channels int
	// State names the state variables kept in State.V, A, B and C, in that
	// order (NEST's recordable names: "V_m", "I_syn_ex", ...).
	State []string
	// Defaults returns a new message of the model's parameters holding
	// NEST's defaults.
	Defaults func() proto.Message
	// Check reports every invalid parameter of m to c.
	Check func(m proto.Message, c Checker)
	// Rest is the default initial value (absolute V in mV, or r).
	Rest func(m proto.Message) float64
	// Offset is subtracted from V for models that keep V relative to E_L
	// (0 for models that keep V absolute, and for rate neurons).
	Offset func(m proto.Message) float64
	// RefractoryMs is the refractory period (0 for rate neurons): a neuron
	// fires at most once per refractory period plus one step.
	RefractoryMs func(m proto.Message) float64
	// New computes the float32 coefficients of m for step dt (ms). The
	// result is a pointer to a struct of 4-byte fields, uploaded to the
	// kernels byte for byte, that implements SpikingModel or RateModel by
	// Kind.
	New func(m proto.Message, dt float64) Coefficients
	// NewSlow, for a model with a slow excitatory port (receptor
	// SLOW_EXCITATORY, NMDA-like), computes the coefficients of m for step
	// dt with that port in use: the model then keeps the port's current or
	// conductance in State.C and takes its input from Input.Slow. The
	// network builder calls it instead of New only for populations that
	// some projection or Poisson input reaches through the port, so others
	// run exactly as without it. Nil for models without the port.
	NewSlow func(m proto.Message, dt float64) Coefficients
	// SlowDefaults, for a model with the slow port, returns a parameter
	// message holding only the port's parameters, at the values that
	// NewSlow uses where they are unset (they are not in Defaults, so that
	// specs without the port stay as they were). Nil for other models.
	SlowDefaults func() proto.Message
}

// HasSlowPort reports whether the model has a slow excitatory port.
func (m *Model) HasSlowPort() bool { return m != nil && m.NewSlow != nil }

// String returns the model's name.
func (m *Model) String() string {
	if m == nil {
		return "unknown"
	}
	return m.Name
}

// Coefficients are a model's float32 coefficients for one step: a pointer
// to a struct whose fields (float32 and int32 only) mirror the model's C
// struct in kernels/<name>.cuh.
type Coefficients interface{}

// State is the state of every neuron of a network, indexed by global id.
// Models use V, A, B and C as their State names say; Ref holds the
// remaining refractory steps.
type State struct {
	V, A, B, C []float32
	Ref        []int32
}

// Input is the input of neurons [lo, hi) for one step, indexed by g - lo:
// the synaptic input of each channel (weight units; In is <= 0) and the
// external current (pA). A one-channel model receives the sum in Ex. Slow
// is the input of the slow excitatory port (weight units, >= 0) of a
// population whose coefficients came from Model.NewSlow; nil otherwise.
type Input struct {
	Ex, In, Ext []float32
	Slow        []float32
}

// SpikingModel is implemented by the coefficients of a spiking model.
type SpikingModel interface {
	// Update advances neurons [lo, hi) by one step and appends the ids of
	// those that fire to fired, in ascending order.
	Update(s *State, lo, hi uint32, in *Input, fired []uint32) []uint32
}

// RingInput is one step's synaptic input of neurons [lo, hi) as the CPU
// backend holds it, before conversion: the fixed-point ring words of both
// channels (read only; the caller clears them) and at most one Poisson
// input, whose count for neuron k adds Counts[k]·PoissonW (nil Counts: no
// Poisson input). Scale (2^-Shift) converts the int64 sums to weight units.
type RingInput struct {
	Ex, In   []int32
	Counts   []uint32
	PoissonW int64
	Scale    float32

	// Vector lets a model run its AVX2 kernel (only where HasVector);
	// Mask (at least (hi-lo)/8 bytes) and Zero (at least hi-lo words) are
	// the kernels' scratch.
	Vector bool
	Mask   []uint8
	Zero   []int32
}

// Two returns neuron k's input on two channels, as the CPU backend's input
// pass converts it: the Poisson count × weight joins the channel of its
// sign, each sum is taken in int64 and converted once.
func (r *RingInput) Two(k int) (ex, in float32) {
	e, i := int64(r.Ex[k]), int64(r.In[k])
	if r.Counts != nil {
		if q := int64(r.Counts[k]) * r.PoissonW; q < 0 {
			i += q
		} else {
			e += q
		}
	}
	// The products are rounded before the caller adds them (Go may fuse
	// a*b + c on arm64; the kernels and the AVX2 code never do).
	return float32(float32(e) * r.Scale), float32(float32(i) * r.Scale)
}

// One returns neuron k's input on one channel: the sum of both.
func (r *RingInput) One(k int) float32 {
	e := int64(r.Ex[k]) + int64(r.In[k])
	if r.Counts != nil {
		e += int64(r.Counts[k]) * r.PoissonW
	}
	return float32(float32(e) * r.Scale)
}

// RingModel is optionally implemented by a spiking model's coefficients:
// Update fused with the conversion of its raw input and no external
// current, which saves the CPU backend a staging pass per step. It must
// compute exactly what Update computes on the input that RingInput.Two (or
// One, for a one-channel model) converts, with Ext 0.
type RingModel interface {
	UpdateRing(s *State, lo, hi uint32, r *RingInput, fired []uint32) []uint32
}

// RateModel is implemented by the coefficients of a rate model.
type RateModel interface {
	// Step advances one rate neuron: r the rate, syn the summed recurrent
	// input, iext the external input.
	Step(r, syn, iext float32) float32
}

// Checker receives a model's parameter checks; the spec validator
// implements it, naming the population and the model's field. Fields are
// named as in the model's message ("c_m").
type Checker interface {
	// Positive: set, finite and > 0 (and within float32).
	Positive(field string, x *float64)
	// NonNegative: set, finite and >= 0.
	NonNegative(field string, x *float64)
	// Finite: set and finite (and within float32).
	Finite(field string, x *float64)
	// Refractory: a t_ref in ms: >= 0 and at most 2^31-1 steps.
	Refractory(field string, x *float64)
	// Below: both fields finite and a < b.
	Below(fieldA string, a *float64, fieldB string, b *float64)
	// Fail reports field with value as invalid, for the reason msg.
	Fail(field, value, msg string)
}

// CheckLIF checks the parameters that every integrate-and-fire model
// shares: c_m, t_ref, e_l, i_e, and v_reset below v_th.
func CheckLIF(c Checker, cm, tref, el, ie, vreset, vth *float64) {
	c.Positive("c_m", cm)
	c.Refractory("t_ref", tref)
	c.Finite("e_l", el)
	c.Finite("i_e", ie)
	c.Below("v_reset", vreset, "v_th", vth)
}

// registry holds every model by name and by code. It is written only by
// register, during package initialisation.
var registry = struct {
	byName map[string]*Model
	byCode map[int32]*Model
}{map[string]*Model{}, map[int32]*Model{}}

// register adds m to the registry; it is called from each model file's
// init function. A model without a field in Population's model oneof, or
// with a name or code already taken, is a programming error and panics at
// start-up, so no binary can run with a half-registered model.
func register(m *Model) *Model {
	if _, dup := registry.byName[m.Name]; dup {
		panic(fmt.Sprintf("neuron: model %q registered twice", m.Name))
	}
	if o, dup := registry.byCode[m.Code]; dup {
		panic(fmt.Sprintf("neuron: models %q and %q share code %d", o.Name, m.Name, m.Code))
	}
	if fd := modelOneof().Fields().ByName(protoreflect.Name(m.Name)); fd == nil {
		panic(fmt.Sprintf("neuron: model %q has no field in myelin.Population's model oneof", m.Name))
	} else if fd.Message().FullName() != m.Defaults().ProtoReflect().Descriptor().FullName() {
		panic(fmt.Sprintf("neuron: model %q: oneof field holds %s, Defaults returns %s", m.Name, fd.Message().FullName(), m.Defaults().ProtoReflect().Descriptor().FullName()))
	}
	registry.byName[m.Name] = m
	registry.byCode[m.Code] = m
	return m
}

// Models returns every registered model, sorted by code.
func Models() []*Model {
	out := make([]*Model, 0, len(registry.byCode))
	for _, m := range registry.byCode {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// Names returns the names of every model, sorted by code.
func Names() []string {
	var out []string
	for _, m := range Models() {
		out = append(out, m.Name)
	}
	return out
}

// Lookup returns the model called name.
func Lookup(name string) (*Model, bool) {
	m, ok := registry.byName[name]
	return m, ok
}

// ByCode returns the model with kernel code code.
func ByCode(code int32) (*Model, bool) {
	m, ok := registry.byCode[code]
	return m, ok
}

// ForParams returns the model whose parameter message params is.
func ForParams(params proto.Message) (*Model, bool) {
	if params == nil {
		return nil, false
	}
	name := params.ProtoReflect().Descriptor().FullName()
	for _, fd := range fieldsOf(modelOneof()) {
		if fd.Message().FullName() == name {
			return Lookup(string(fd.Name()))
		}
	}
	return nil, false
}

func fieldsOf(o protoreflect.OneofDescriptor) []protoreflect.FieldDescriptor {
	var out []protoreflect.FieldDescriptor
	for i := range o.Fields().Len() {
		out = append(out, o.Fields().Get(i))
	}
	return out
}

// modelOneof is the descriptor of myelin.Population's model oneof.
func modelOneof() protoreflect.OneofDescriptor {
	return (&myelinpb.Population{}).ProtoReflect().Descriptor().Oneofs().ByName("model")
}

// Of returns p's model and its parameter message; the message is nil when
// the model field is set but holds no message. ok is false when p has no
// model or one that is not registered.
func Of(p *myelinpb.Population) (m *Model, params proto.Message, ok bool) {
	if p == nil {
		return nil, nil, false
	}
	r := p.ProtoReflect()
	fd := r.WhichOneof(modelOneof())
	if fd == nil {
		return nil, nil, false
	}
	m, ok = registry.byName[string(fd.Name())]
	if !ok {
		return nil, nil, false
	}
	if msg := r.Get(fd).Message(); msg.IsValid() {
		params = msg.Interface()
	}
	return m, params, true
}

// Set makes params (a model's parameter message; nil for NEST's defaults
// of the model called name) the model of p.
func Set(p *myelinpb.Population, name string, params proto.Message) error {
	m, ok := Lookup(name)
	if !ok {
		return fmt.Errorf("neuron model %q: unknown (known: %v)", name, Names())
	}
	fd := modelOneof().Fields().ByName(protoreflect.Name(m.Name))
	if params == nil {
		params = m.Defaults().ProtoReflect().Type().New().Interface()
	}
	if params.ProtoReflect().Descriptor().FullName() != fd.Message().FullName() {
		return fmt.Errorf("neuron model %q: parameters are a %s, want a %s", name, params.ProtoReflect().Descriptor().FullName(), fd.Message().FullName())
	}
	p.ProtoReflect().Set(fd, protoreflect.ValueOfMessage(params.ProtoReflect()))
	return nil
}

// ParamsOrEmpty returns p's parameter message, allocating an empty one in p
// when the model field is set but nil. It returns nil when p has no
// registered model.
func ParamsOrEmpty(p *myelinpb.Population) proto.Message {
	if _, _, ok := Of(p); !ok {
		return nil
	}
	r := p.ProtoReflect()
	return r.Mutable(r.WhichOneof(modelOneof())).Message().Interface()
}

// RefractorySteps converts t_ref (ms) to whole steps of dt, rounding to the
// nearest step as NEST does.
func RefractorySteps(tRef, dt float64) int32 {
	return int32(math.Round(tRef / dt))
}
