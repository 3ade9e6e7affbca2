package neuron

import (
	"math"
	"reflect"
	"slices"
	"testing"

	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// fieldChecker is a Checker that records the fields it finds invalid, with
// the spec validator's rules.
type fieldChecker struct{ bad []string }

func (c *fieldChecker) check(field string, x *float64, ok func(float64) bool) {
	if x == nil || math.IsNaN(*x) || math.IsInf(*x, 0) || math.Abs(*x) > math.MaxFloat32 || !ok(*x) {
		c.bad = append(c.bad, field)
	}
}
func (c *fieldChecker) Positive(f string, x *float64) {
	c.check(f, x, func(v float64) bool { return v > 0 })
}
func (c *fieldChecker) NonNegative(f string, x *float64) {
	c.check(f, x, func(v float64) bool { return v >= 0 })
}
func (c *fieldChecker) Finite(f string, x *float64) {
	c.check(f, x, func(float64) bool { return true })
}
func (c *fieldChecker) Refractory(f string, x *float64) {
	c.check(f, x, func(v float64) bool { return v >= 0 })
}
func (c *fieldChecker) Below(fa string, a *float64, fb string, b *float64) {
	c.Finite(fa, a)
	c.Finite(fb, b)
	if a != nil && b != nil && *a >= *b {
		c.bad = append(c.bad, fa)
	}
}
func (c *fieldChecker) Fail(field, _, _ string) { c.bad = append(c.bad, field) }

// TestNewModelChecks checks that aeif_cond_exp and izhikevich accept
// NEST's defaults and name the field of each invalid parameter, with
// NEST's rules (and, for izhikevich, a reset below the threshold).
func TestNewModelChecks(t *testing.T) {
	f := proto.Float64
	aeif := func(set func(p *myelinpb.AeifCondExp)) proto.Message {
		p := AeifCondExpModel.Defaults().(*myelinpb.AeifCondExp)
		set(p)
		return p
	}
	izh := func(set func(p *myelinpb.Izhikevich)) proto.Message {
		p := IzhikevichModel.Defaults().(*myelinpb.Izhikevich)
		set(p)
		return p
	}
	for _, tc := range []struct {
		name string
		m    *Model
		p    proto.Message
		want []string // invalid fields; none for a valid message
	}{
		{"aeif defaults", AeifCondExpModel, aeif(func(*myelinpb.AeifCondExp) {}), nil},
		{"aeif V_reset above V_th (bursting)", AeifCondExpModel, aeif(func(p *myelinpb.AeifCondExp) { p.VReset = f(-47) }), nil},
		{"aeif Delta_T 0", AeifCondExpModel, aeif(func(p *myelinpb.AeifCondExp) { p.DeltaT = f(0) }), nil},
		{"aeif V_peak below V_th", AeifCondExpModel, aeif(func(p *myelinpb.AeifCondExp) { p.VPeak = f(-55) }), []string{"v_peak"}},
		{"aeif V_reset at V_peak", AeifCondExpModel, aeif(func(p *myelinpb.AeifCondExp) { p.VReset = f(0) }), []string{"v_reset"}},
		{"aeif negative Delta_T", AeifCondExpModel, aeif(func(p *myelinpb.AeifCondExp) { p.DeltaT = f(-1) }), []string{"delta_t"}},
		{"aeif overflowing Delta_T", AeifCondExpModel, aeif(func(p *myelinpb.AeifCondExp) { p.DeltaT = f(0.05) }), []string{"delta_t"}},
		{"aeif tau_w 0, C_m unset", AeifCondExpModel, aeif(func(p *myelinpb.AeifCondExp) { p.TauW = f(0); p.CM = nil }), []string{"c_m", "tau_w"}},
		{"aeif NaN a", AeifCondExpModel, aeif(func(p *myelinpb.AeifCondExp) { p.A = f(math.NaN()) }), []string{"a"}},
		{"izhikevich defaults", IzhikevichModel, izh(func(*myelinpb.Izhikevich) {}), nil},
		{"izhikevich V_min", IzhikevichModel, izh(func(p *myelinpb.Izhikevich) { p.VMin = f(-80) }), nil},
		{"izhikevich c at V_th", IzhikevichModel, izh(func(p *myelinpb.Izhikevich) { p.C = f(30) }), []string{"c"}},
		{"izhikevich V_min above V_th", IzhikevichModel, izh(func(p *myelinpb.Izhikevich) { p.VMin = f(40) }), []string{"v_min"}},
		{"izhikevich infinite d", IzhikevichModel, izh(func(p *myelinpb.Izhikevich) { p.D = f(math.Inf(1)) }), []string{"d"}},
	} {
		var c fieldChecker
		tc.m.Check(tc.p, &c)
		slices.Sort(c.bad)
		if !slices.Equal(c.bad, tc.want) {
			t.Errorf("%s: invalid fields %v, want %v", tc.name, c.bad, tc.want)
		}
	}
}

// TestIzhikevichVMinAndReset checks V_min and the reset rule on single
// steps: a large negative jump stops at V_min, a crossing of V_th sets
// V = c and adds d to U.
func TestIzhikevichVMinAndReset(t *testing.T) {
	p := IzhikevichModel.Defaults().(*myelinpb.Izhikevich)
	p.VMin = proto.Float64(-80)
	c := NewIzhikevich(p, 0.1)
	if v, _, fired := c.Step(-65, -13, -40, 0); v != -80 || fired {
		t.Errorf("jump of -40 mV from -65: V = %v (fired %v), want V_min -80", v, fired)
	}
	if v, u, fired := c.Step(-65, -13, 100, 0); !fired || v != -65 || u != float32(-13+float32(c.HA*float32(float32(c.B*-65)+13)))+8 {
		t.Errorf("jump of 100 mV: V = %v, U = %v, fired %v; want a spike, V = c, U + d", v, u, fired)
	}
}

// TestDefaultCoefficientsFinite checks every model's coefficients for its
// defaults at a few steps: the network builder refuses a non-finite
// coefficient, so a model must encode "no bound" and the like with finite
// values.
func TestDefaultCoefficientsFinite(t *testing.T) {
	var walk func(name string, v reflect.Value)
	walk = func(name string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Struct:
			for i := range v.NumField() {
				walk(name+"."+v.Type().Field(i).Name, v.Field(i))
			}
		case reflect.Float32:
			if x := v.Float(); math.IsInf(x, 0) || math.IsNaN(x) {
				t.Errorf("%s = %v", name, x)
			}
		}
	}
	for _, m := range Models() {
		for _, dt := range []float64{0.01, 0.1, 1} {
			walk(m.Name, reflect.Indirect(reflect.ValueOf(m.New(m.Defaults(), dt))))
			if m.HasSlowPort() {
				walk(m.Name+" (slow port)", reflect.Indirect(reflect.ValueOf(m.NewSlow(m.Defaults(), dt))))
			}
		}
	}
}
