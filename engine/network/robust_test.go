package network_test

import (
	"math"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/neuron"
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// parseValid parses, defaults and validates a textproto spec.
func parseValid(t *testing.T, text string) *myelinpb.Network {
	t.Helper()
	n, err := spec.Parse([]byte(text), spec.Textproto)
	if err != nil {
		t.Fatal(err)
	}
	spec.ApplyDefaults(n)
	if err := spec.Validate(n); err != nil {
		t.Fatalf("spec does not validate: %v", err)
	}
	return n
}

// Specs that validate but cannot be built faithfully: Build refuses them with
// an error naming the object and the problem, instead of wrapping
// fixed-point weights, producing NaN coefficients or allocating absurd ring
// buffers.
func TestBuildRefuses(t *testing.T) {
	const one = `populations { name: "A" size: 3 iaf_psc_delta {} }`
	tests := []struct {
		name, spec, want string
	}{
		// int32(weight × 2^Shift) wrapped to -2^31 once the shift was
		// clamped at -60: excitatory weights became inhibitory.
		{"weight beyond fixed point", one + `projections { pre: "A" post: "A" all_to_all {} weight { constant: 1e30 } }`,
			`population "A" (populations[0]): synaptic input of up to 3e+30 per step is beyond the fixed-point range: the summed |weight| that can reach one neuron in one step (synapses and spike_times), and every poisson weight, must be at most 2^90 (1.238e+27)`},
		{"spike weight beyond fixed point", one + `inputs { target: "A" spike_times { neuron: [1, 1] time_ms: [0.1, 0.1] weight: -1e30 } }`,
			`population "A" (populations[0]): synaptic input of up to 2e+30 per step is beyond the fixed-point range`},
		{"poisson weight beyond fixed point", one + `inputs { target: "A" poisson { rate_hz: 10 weight: 5e27 } }`,
			`population "A" (populations[0]): synaptic input of up to 5e+27 per step is beyond the fixed-point range`},
		// Propagator32 overflows (expm1(h/tau_syn) = +Inf times 0): V_m
		// was NaN from the first step.
		// Parameters within the float32 range whose combinations are not.
		{"cond_exp g_l × e_l beyond float32", `populations { name: "A" size: 1 iaf_cond_exp { g_l: 1e20 e_l: -1e20 v_reset: -1e20 } }`,
			`population "A" (populations[0]): iaf_cond_exp at dt_ms = 0.1: coefficient GLEL is -Inf`},
		{"psc_exp v_th - e_l beyond float32", `populations { name: "A" size: 1 iaf_psc_exp { v_th: 3e38 e_l: -3e38 } }`,
			`iaf_psc_exp at dt_ms = 0.1: coefficient VTh is +Inf`},
		{"psc_delta c_m tiny", `populations { name: "A" size: 1 iaf_psc_delta { c_m: 1e-300 } }`,
			`iaf_psc_delta at dt_ms = 0.1: coefficient P30 is +Inf`},
		{"initial beyond float32", `populations { name: "A" size: 2 iaf_cond_exp {} initial { normal { mean: 0 std: 1e300 } } }`,
			`population "A" (populations[0]): initial: value`},
		// Weights drawn as ±Inf or NaN: the error now names the projection.
		{"lognormal weight overflow", one + `projections { pre: "A" post: "A" all_to_all {} weight { lognormal { mu: 700 sigma: 10 } } }`,
			`projection "A->A" (projections[0]): weight: drew +Inf: the weight distribution overflows float64`},
		{"uniform weight overflow", one + `projections { name: "p" pre: "A" post: "A" fixed_in_degree { indegree: 2 } weight { uniform { low: -1e308 high: 1e308 } } }`,
			`projection "p" (projections[0]): weight: drew`},
		// A normal delay without max drew delays of millions of steps and
		// sized ring buffers by them (2 × slots × N × 4 bytes).
		{"normal delay draws beyond 2^20 steps", `populations { name: "A" size: 20 iaf_psc_delta {} } projections { pre: "A" post: "A" all_to_all {} weight { constant: 1 } delay { normal { mean: 1 std: 1e6 } } }`,
			`projection "A->A" (projections[0]): delay: drew a delay of`},
		{"lognormal delay draws beyond 2^20 steps", `populations { name: "A" size: 2 iaf_psc_delta {} } projections { pre: "A" post: "A" all_to_all {} weight { constant: 1 } delay { lognormal { mu: 20 } } }`,
			`projection "A->A" (projections[0]): delay: drew a delay of at least 2^32-1 steps (4.29497e+08 ms): must be at most 2^20 steps of dt_ms (104857.6 ms); bound the distribution (normal max, uniform high)`},
		// Ring and rate weights are float32.
		{"ring weights beyond float32", `populations { name: "R" size: 4 rate {} } projections { pre: "R" post: "R" ring { j_exc: 1e300 sigma_deg: 20 } }`,
			`projection "R->R" (projections[0]): ring: the weight at distance 0 is +Inf`},
		{"rate weight beyond float32", `populations { name: "R" size: 4 rate {} } projections { pre: "R" post: "R" one_to_one {} weight { constant: -1e39 } }`,
			`projection "R->R" (projections[0]): weight: drew -1e+39, beyond the float32 range of rate weights`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := parseValid(t, tc.spec)
			_, err := network.Build(n, network.Options{Threads: 2})
			if err == nil {
				t.Fatalf("built, want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant substring:\n%s", err, tc.want)
			}
		})
	}
}

// Build on its own (without Validate) refuses values the backends cannot
// hold in float32.
func TestBuildRefusesUnvalidated(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{`populations { name: "R" size: 2 rate { transfer: TANH gain: 1e300 } }`,
			`population "R" (populations[0]): rate at dt_ms = 0.1: coefficient Gain is +Inf`},
		{`populations { name: "A" size: 3 iaf_psc_delta {} } inputs { name: "dc" target: "A" dc { amplitude: -1e300 } }`,
			`input "dc" (inputs[0]): dc.amplitude = -1e+300: is beyond the float32 range (±3.4e38)`},
		{`populations { name: "A" size: 3 iaf_psc_delta {} } inputs { name: "p" target: "A" poisson { rate_hz: 1e300 } }`,
			`input "p" (inputs[0]): poisson.rate_hz = 1e+300: is 1e+296 spikes per neuron and step: must be in [0, 1e+06]`},
	} {
		n, err := spec.Parse([]byte(tc.spec), spec.Textproto)
		if err != nil {
			t.Fatal(err)
		}
		spec.ApplyDefaults(n)
		if _, err := network.Build(n, network.Options{Threads: 1}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}

// A delay that fits MaxDelaySteps but not the packed word of a large
// network is refused with the name of its projection.
func TestBuildDelayBeyondPacking(t *testing.T) {
	n := parseValid(t, `
populations { name: "A" size: 1048577 iaf_psc_delta {} initial { constant: -70 } }
projections { name: "slow" pre: "A" post: "A" explicit { pre_index: [0] post_index: [1048576] weight_values: [1] delay_ms: [300] } }`)
	_, err := network.Build(n, network.Options{Threads: 2})
	want := `projection "slow" (projections[0]): delay: a delay of 3000 steps (300 ms) exceeds 2047 steps (204.7 ms), the most that a network of 1048577 neurons can hold`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want %q", err, want)
	}
}

// Pairwise Bernoulli with a tiny p: the geometric gap overflowed int64
// (to -2^63), so nearly every pair was connected.
func TestPairwiseBernoulliTinyP(t *testing.T) {
	for _, p := range []float64{1e-300, 5e-324, 1e-19} {
		n := build(t, twoPops(spec.Bernoulli(p)), 2)
		if c := n.SynapseCount(); c != 0 {
			t.Errorf("p = %g: %d synapses of 60000 pairs, want 0", p, c)
		}
	}
	// Self-connections without autapses take the same path.
	b := spec.New("t").Population("A", 50, spec.IafPscDelta(nil)).
		Project("A", "A", spec.Bernoulli(1e-200), spec.Weight(spec.Const(1)), spec.Autapses(false))
	if c := build(t, b, 1).SynapseCount(); c != 0 {
		t.Errorf("p = 1e-200 without autapses: %d synapses, want 0", c)
	}
}

// A ring with a sigma whose square underflows had NaN at distance 0.
func TestRingTableTinySigma(t *testing.T) {
	got := network.RingTable(6, 1, 0.2, 1e-200)
	want := []float32{0.8, -0.2, -0.2, -0.2, -0.2, -0.2}
	for k := range want {
		if got[k] != want[k] {
			t.Fatalf("RingTable = %v, want %v", got, want)
		}
	}
	// Ordinary sigmas are unchanged: w(0) = j_exc - j_inh exactly.
	if w := network.RingTable(360, 2, 0.5, 20)[0]; w != 1.5 {
		t.Errorf("w(0) = %v, want 1.5", w)
	}
}

// Times beyond the run (even beyond the uint64 range in steps) clamp to the
// end of the run instead of relying on an undefined float conversion.
func TestInputTimesBeyondRun(t *testing.T) {
	n := parseValid(t, `duration_ms: 2
populations { name: "A" size: 3 iaf_psc_delta {} }
inputs { target: "A" poisson { rate_hz: 100 weight: 1 start_ms: 1e300 } }
inputs { target: "A" dc { amplitude: 1 start_ms: 0.5 stop_ms: 1e300 } }
inputs { target: "A" spike_times { neuron: [0, 1, 2] time_ms: [1e300, 1.9, 2] weight: 1 } }`)
	net, err := network.Build(n, network.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if p := net.Poisson[0]; p.Start != net.Steps || p.Stop != net.Steps {
		t.Errorf("poisson window [%d, %d), want empty at the end (%d)", p.Start, p.Stop, net.Steps)
	}
	if d := net.DC[0]; d.Start != 5 || d.Stop != net.Steps {
		t.Errorf("dc window [%d, %d), want [5, %d)", d.Start, d.Stop, net.Steps)
	}
	if len(net.Events) != 1 || net.Events[0].Step != 19 || net.Events[0].Target != 1 {
		t.Errorf("events %+v, want one at step 19 onto neuron 1", net.Events)
	}
	if net.Events[0].Weight <= 0 {
		t.Errorf("event weight %d", net.Events[0].Weight)
	}
}

// A synaptic time constant far below dt is legal: its propagator is tiny
// but finite (NEST's closed form, computed without expm1 overflow).
func TestTinyTauSynBuilds(t *testing.T) {
	s, err := spec.Parse([]byte(`populations { name: "A" size: 3 iaf_psc_exp { tau_syn_ex: 1e-4 } }`), spec.Textproto)
	if err != nil {
		t.Fatal(err)
	}
	spec.ApplyDefaults(s)
	if err := spec.Validate(s); err != nil {
		t.Fatal(err)
	}
	n, err := network.Build(s, network.Options{Threads: 1})
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	p := n.Pops[0].Coef.(*neuron.IafPscExp).P21Ex
	if math.IsNaN(float64(p)) || math.IsInf(float64(p), 0) || p <= 0 || p > 1e-5 {
		t.Errorf("P21Ex = %v, want a tiny positive number", p)
	}
}
