package spec

import (
	"errors"
	"math"
	"strings"
	"testing"

	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// Populations shared by the bad-spec cases: E and I spiking, R and S rate.
const pops = `
populations { name: "E" size: 80 iaf_psc_delta {} }
populations { name: "I" size: 20 iaf_psc_exp {} }
populations { name: "R" size: 36 rate {} }
populations { name: "S" size: 10 rate {} }
`

func TestValidateBad(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want string // substring of the error
	}{
		{"dt zero", "dt_ms: 0" + pops, "dt_ms = 0: must be in [1e-06, 10]"},
		{"dt too big", "dt_ms: 20" + pops, "dt_ms = 20: must be in [1e-06, 10]"},
		{"dt nan", "dt_ms: nan" + pops, "dt_ms = NaN: must be in [1e-06, 10]"},
		{"dt below a nanosecond", "dt_ms: 1e-7" + pops, "dt_ms = 1e-07: must be in [1e-06, 10]"},
		{"duration negative", "duration_ms: -1" + pops, "duration_ms = -1: must be finite and >= 0"},
		{"duration inf", "duration_ms: inf" + pops, "duration_ms = +Inf: must be finite and >= 0"},
		{"too many steps", "dt_ms: 0.001 duration_ms: 1e10" + pops, "duration_ms = 1e+10: is 1e+13 steps of dt_ms = 0.001: must be at most 2^40 steps"},
		{"no populations", `name: "x"`, "populations: at least one population is required"},
		{"empty name", `populations { size: 1 iaf_psc_delta {} }`, `population "" (populations[0]): name: must not be empty`},
		{"duplicate name", pops + `populations { name: "E" size: 1 rate {} }`, `population "E" (populations[4]): name = "E": must be unique (also the name of populations[0])`},
		{"size zero", `populations { name: "E" size: 0 iaf_psc_delta {} }`, `population "E" (populations[0]): size = 0: must be >= 1`},
		{"too many neurons", `populations { name: "A" size: 2000000000 rate {} } populations { name: "B" size: 2000000000 rate {} }`, "populations: total size 4000000000: must be < 2^31 (2147483648)"},
		{"no model", `populations { name: "E" size: 1 }`, `population "E" (populations[0]): model: not set`},
		{"tau_m negative", `populations { name: "E" size: 1 iaf_psc_delta { tau_m: -5 } }`, `population "E" (populations[0]): iaf_psc_delta.tau_m = -5: must be > 0`},
		{"c_m zero", `populations { name: "E" size: 1 iaf_psc_exp { c_m: 0 } }`, `iaf_psc_exp.c_m = 0: must be > 0`},
		{"tau_syn_in", `populations { name: "E" size: 1 iaf_psc_exp { tau_syn_in: -2 } }`, `iaf_psc_exp.tau_syn_in = -2: must be > 0`},
		{"g_l", `populations { name: "E" size: 1 iaf_cond_exp { g_l: 0 } }`, `iaf_cond_exp.g_l = 0: must be > 0`},
		{"t_ref", `populations { name: "E" size: 1 iaf_cond_exp { t_ref: -0.1 } }`, `iaf_cond_exp.t_ref = -0.1: must be >= 0`},
		{"e_l inf", `populations { name: "E" size: 1 iaf_cond_exp { e_l: -inf } }`, `iaf_cond_exp.e_l = -Inf: must be finite`},
		{"v_reset above v_th", `populations { name: "E" size: 1 iaf_psc_delta { v_reset: -50 v_th: -55 } }`, `iaf_psc_delta.v_reset = -50: must be < v_th (-55)`},
		{"rate tau", `populations { name: "R" size: 1 rate { tau: 0 } }`, `population "R" (populations[0]): rate.tau = 0: must be > 0`},
		{"rate r_max", `populations { name: "R" size: 1 rate { r_max: -1 } }`, `rate.r_max = -1: must be > 0`},
		{"rate transfer", `populations { name: "R" size: 1 rate { transfer: 9 } }`, `rate.transfer = 9: must be one of LINEAR`},
		{"dist unset", `populations { name: "E" size: 1 iaf_psc_delta {} initial {} }`, `initial: distribution kind not set`},
		{"dist constant nan", `populations { name: "E" size: 1 iaf_psc_delta {} initial { constant: nan } }`, `initial.constant = NaN: must be finite`},
		{"normal std", `populations { name: "E" size: 1 iaf_psc_delta {} initial { normal { mean: 1 std: -1 } } }`, `initial.normal.std = -1: must be >= 0`},
		{"normal min max", `populations { name: "E" size: 1 iaf_psc_delta {} initial { normal { mean: 1 std: 1 min: 3 max: 2 } } }`, `initial.normal.min = 3: must be <= max (2)`},
		{"normal degenerate", `populations { name: "E" size: 1 iaf_psc_delta {} initial { normal { mean: 5 std: 0 min: 0 max: 2 } } }`, `initial.normal.mean = 5: must be in [min, max] = [0, 2] when std is 0`},
		{"uniform", `populations { name: "E" size: 1 iaf_psc_delta {} initial { uniform { low: 2 high: 1 } } }`, `initial.uniform.low = 2: must be <= high (1)`},
		{"lognormal sigma", `populations { name: "E" size: 1 iaf_psc_delta {} initial { lognormal { mu: 0 sigma: -1 } } }`, `initial.lognormal.sigma = -1: must be >= 0`},
		{"unknown pre", pops + `projections { pre: "X" post: "E" all_to_all {} weight { constant: 1 } }`, `projection "X->E" (projections[0]): pre = "X": no population has this name`},
		{"unknown post", pops + `projections { pre: "E" post: "" all_to_all {} weight { constant: 1 } }`, `post: must name a population`},
		{"no rule", pops + `projections { pre: "E" post: "I" weight { constant: 1 } }`, `projection "E->I" (projections[0]): rule: not set`},
		{"stp u zero", pops + `projections { pre: "E" post: "I" all_to_all {} weight { constant: 1 } stp { u: 0 } }`, `projection "E->I" (projections[0]): stp.u = 0: must be in (0, 1]`},
		{"stp u above one", pops + `projections { pre: "E" post: "I" all_to_all {} weight { constant: 1 } stp { u: 1.5 } }`, `stp.u = 1.5: must be in (0, 1]`},
		{"stp tau_rec", pops + `projections { pre: "E" post: "I" all_to_all {} weight { constant: 1 } stp { tau_rec_ms: 0 } }`, `stp.tau_rec_ms = 0: must be > 0`},
		{"stp tau_fac", pops + `projections { pre: "E" post: "I" all_to_all {} weight { constant: 1 } stp { tau_fac_ms: -1 } }`, `stp.tau_fac_ms = -1: must be >= 0`},
		{"stp rate pre", pops + `projections { pre: "R" post: "S" all_to_all {} weight { constant: 1 } stp {} }`, `projection "R->S" (projections[0]): stp: pre "R" is a rate population: short-term plasticity needs spikes`},
		{"stdp tau_plus", pops + `projections { pre: "E" post: "I" all_to_all {} weight { constant: 1 } stdp { tau_plus_ms: 0 } }`, `projection "E->I" (projections[0]): stdp.tau_plus_ms = 0: must be > 0`},
		{"stdp tau_minus", pops + `projections { pre: "E" post: "I" all_to_all {} weight { constant: 1 } stdp { tau_minus_ms: -3 } }`, `stdp.tau_minus_ms = -3: must be > 0`},
		{"stdp lambda", pops + `projections { pre: "E" post: "I" all_to_all {} weight { constant: 1 } stdp { lambda: -0.1 } }`, `stdp.lambda = -0.1: must be >= 0`},
		{"stdp alpha", pops + `projections { pre: "E" post: "I" all_to_all {} weight { constant: 1 } stdp { alpha: inf } }`, `stdp.alpha = +Inf: must be finite and >= 0`},
		{"stdp mu_plus", pops + `projections { pre: "E" post: "I" all_to_all {} weight { constant: 1 } stdp { mu_plus: 0.5 } }`, `stdp.mu_plus = 0.5: must be 0 (additive) or 1 (multiplicative)`},
		{"stdp mu_minus", pops + `projections { pre: "E" post: "I" all_to_all {} weight { constant: 1 } stdp { mu_minus: 2 } }`, `stdp.mu_minus = 2: must be 0 (additive) or 1 (multiplicative)`},
		{"stdp w_max zero", pops + `projections { pre: "E" post: "I" all_to_all {} weight { constant: 1 } stdp { w_max: 0 } }`, `stdp.w_max = 0: must be finite and non-zero`},
		{"stdp weight above w_max", pops + `projections { pre: "E" post: "I" all_to_all {} weight { constant: 3 } stdp { w_max: 2 } }`, `weight.constant = 3: must lie in [0, 2] (between 0 and stdp.w_max)`},
		{"stdp weight sign", pops + `projections { pre: "E" post: "I" all_to_all {} weight { constant: -1 } stdp { w_max: 2 } }`, `weight.constant = -1: must lie in [0, 2]`},
		{"stdp uniform", pops + `projections { pre: "E" post: "I" all_to_all {} weight { uniform { low: 0.5 high: 3 } } stdp { w_max: 2 } }`, `weight.uniform = [0.5, 3]: must lie in [0, 2]`},
		{"stdp normal unbounded", pops + `projections { pre: "E" post: "I" all_to_all {} weight { normal { mean: 1 std: 0.1 } } stdp { w_max: 2 } }`, `weight.normal: min and max must be set and lie in [0, 2]`},
		{"stdp lognormal", pops + `projections { pre: "E" post: "I" all_to_all {} weight { lognormal { mu: 0 sigma: 1 } } stdp {} }`, `weight.lognormal: has no upper bound`},
		{"stdp explicit", pops + `projections { pre: "E" post: "I" explicit { pre_index: [0, 1] post_index: [0, 1] weight_values: [1, 5] } stdp { w_max: 2 } }`, `explicit.weight_values[1] = 5: must lie in [0, 2]`},
		{"stdp rate", pops + `projections { pre: "R" post: "S" all_to_all {} weight { constant: 1 } stdp {} }`, `stdp: pre "R" is a rate population: STDP needs spikes`},
		{"stdp disagree", pops + `projections { pre: "E" post: "I" all_to_all {} weight { constant: 1 } stdp { lambda: 0.2 } } projections { name: "second" pre: "E" post: "I" one_to_one {} weight { constant: 1 } }`, `projection "second" (projections[1]): stdp: differs from that of projection "E->I" (projections[0])`},
		{"phase name", pops + `phases { start_ms: 0 stop_ms: 10 }`, `phase "" (phases[0]): name: must not be empty`},
		{"phase duplicate", pops + `phases { name: "a" start_ms: 0 stop_ms: 10 } phases { name: "a" start_ms: 10 stop_ms: 20 }`, `phase "a" (phases[1]): name = "a": is also the name of phases[0]`},
		{"phase start", pops + `phases { name: "a" start_ms: -1 stop_ms: 10 }`, `phase "a" (phases[0]): start_ms = -1: must be finite and >= 0`},
		{"phase stop", pops + `phases { name: "a" start_ms: 10 stop_ms: 10 }`, `phase "a" (phases[0]): stop_ms = 10: must be > start_ms (10)`},
		{"phase past end", "duration_ms: 100" + pops + `phases { name: "a" start_ms: 10 stop_ms: 200 }`, `stop_ms = 200: must be <= duration_ms (100)`},
		{"phase rate", pops + `phases { name: "a" start_ms: 0 stop_ms: 10 learning_rate: -1 }`, `phase "a" (phases[0]): learning_rate = -1: must be >= 0`},
		{"phase overlap", pops + `phases { name: "a" start_ms: 0 stop_ms: 10 } phases { name: "b" start_ms: 5 stop_ms: 20 }`, `phase "b" (phases[1]): start_ms = 5: overlaps phase "a" (phases[0]), which ends at 10 ms`},
		{"stp disagree", pops + `projections { pre: "E" post: "I" all_to_all {} weight { constant: 1 } stp { u: 0.2 } } projections { name: "second" pre: "E" post: "I" one_to_one {} weight { constant: 1 } }`, `projection "second" (projections[1]): stp: differs from that of projection "E->I" (projections[0]): every projection from "E" onto "I" must have the same short-term plasticity, or none`},
		{"indegree zero", pops + `projections { pre: "E" post: "I" fixed_in_degree {} weight { constant: 1 } }`, `fixed_in_degree.indegree = 0: must be >= 1`},
		{"indegree without multapses", pops + `projections { pre: "I" post: "E" fixed_in_degree { indegree: 21 } weight { constant: 1 } allow_multapses: false }`, `projection "I->E" (projections[0]): fixed_in_degree.indegree = 21: must be <= 20 (size of pre "I") when allow_multapses is false`},
		{"indegree without autapses", pops + `projections { pre: "I" post: "I" fixed_in_degree { indegree: 20 } weight { constant: 1 } allow_multapses: false allow_autapses: false }`, `fixed_in_degree.indegree = 20: must be <= 19 (size of pre "I" minus one as allow_autapses is false)`},
		{"outdegree without multapses", pops + `projections { pre: "E" post: "I" fixed_out_degree { outdegree: 30 } weight { constant: 1 } allow_multapses: false }`, `fixed_out_degree.outdegree = 30: must be <= 20 (size of post "I") when allow_multapses is false`},
		{"outdegree no target", `populations { name: "A" size: 1 iaf_psc_delta {} } projections { pre: "A" post: "A" fixed_out_degree { outdegree: 1 } weight { constant: 1 } allow_autapses: false }`, `fixed_out_degree.outdegree = 1: no neuron to connect`},
		{"bernoulli p", pops + `projections { name: "E->I" pre: "E" post: "I" pairwise_bernoulli { p: 1.5 } weight { constant: 1 } }`, `projection "E->I" (projections[0]): pairwise_bernoulli.p = 1.5: must be in [0, 1]`},
		{"bernoulli p nan", pops + `projections { pre: "E" post: "I" pairwise_bernoulli { p: nan } weight { constant: 1 } }`, `pairwise_bernoulli.p = NaN: must be in [0, 1]`},
		{"one_to_one sizes", pops + `projections { pre: "E" post: "I" one_to_one {} weight { constant: 1 } }`, `one_to_one: pre "E" has 80 neurons and post "I" has 20: sizes must be equal`},
		{"ring sizes", pops + `projections { pre: "R" post: "S" ring { j_exc: 1 sigma_deg: 20 } }`, `ring: pre "R" has 36 neurons and post "S" has 10: sizes must be equal`},
		{"ring sigma", pops + `projections { pre: "R" post: "R" ring { j_exc: 1 sigma_deg: 0 } }`, `projection "R->R" (projections[0]): ring.sigma_deg = 0: must be > 0`},
		{"ring spiking", pops + `projections { pre: "E" post: "E" ring { j_exc: 1 sigma_deg: 20 } }`, `ring: pre "E" is spiking (iaf_psc_delta): the ring rule connects rate populations only`},
		{"ring with weight", pops + `projections { pre: "R" post: "R" ring { j_exc: 1 sigma_deg: 20 } weight { constant: 1 } }`, `weight: must not be set with the ring rule`},
		{"explicit lengths", pops + `projections { pre: "E" post: "I" explicit { pre_index: [1, 2] post_index: [1] } weight { constant: 1 } }`, `explicit.post_index: has 1 entries: must have as many as pre_index (2)`},
		{"explicit index", pops + `projections { pre: "E" post: "I" explicit { pre_index: [1, 2] post_index: [1, 20] } weight { constant: 1 } }`, `explicit.post_index[1] = 20: must be < 20 (size of post "I")`},
		{"explicit weights length", pops + `projections { pre: "E" post: "I" explicit { pre_index: [1, 2] post_index: [1, 2] weight_values: [1] } }`, `explicit.weight_values: has 1 entries: must be empty or have as many as pre_index (2)`},
		{"explicit delays", pops + `projections { pre: "E" post: "I" explicit { pre_index: [1] post_index: [1] weight_values: [1] delay_ms: [-1] } }`, `explicit.delay_ms[0] = -1: must be finite and >= 0`},
		{"explicit multapse", pops + `projections { pre: "E" post: "I" explicit { pre_index: [1, 1] post_index: [2, 2] weight_values: [1, 1] } allow_multapses: false }`, `explicit[1] = 1->2: repeats a synapse but allow_multapses is false`},
		{"explicit autapse", pops + `projections { pre: "E" post: "E" explicit { pre_index: [3] post_index: [3] weight_values: [1] } allow_autapses: false }`, `explicit[0] = 3->3: is an autapse but allow_autapses is false`},
		{"weight missing", pops + `projections { pre: "E" post: "I" all_to_all {} }`, `projection "E->I" (projections[0]): weight: not set`},
		{"weight missing explicit", pops + `projections { pre: "E" post: "I" explicit { pre_index: [1] post_index: [1] } }`, `weight: not set`},
		{"weight inf", pops + `projections { pre: "E" post: "I" all_to_all {} weight { constant: inf } }`, `weight.constant = +Inf: must be finite`},
		{"delay negative", pops + `projections { pre: "E" post: "I" all_to_all {} weight { constant: 1 } delay { constant: -1 } }`, `delay.constant = -1: must be >= 0 (a delay)`},
		{"delay uniform negative", pops + `projections { pre: "E" post: "I" all_to_all {} weight { constant: 1 } delay { uniform { low: -1 high: 2 } } }`, `delay.uniform.low = -1: must be >= 0 (a delay)`},
		{"delay normal min", pops + `projections { pre: "E" post: "I" all_to_all {} weight { constant: 1 } delay { normal { mean: 1 std: 1 min: -0.5 } } }`, `delay.normal.min = -0.5: must be >= 0 (a delay)`},
		{"delay huge", pops + `projections { pre: "E" post: "I" all_to_all {} weight { constant: 1 } delay { constant: 1e9 } }`, `delay.constant = 1e+09: must be <=`},
		{"delay negative lognormal", pops + `projections { pre: "E" post: "I" all_to_all {} weight { constant: 1 } delay { lognormal { negative: true } } }`, `delay.lognormal.negative = true: must be false for a delay`},
		{"spiking to rate", pops + `projections { pre: "E" post: "R" all_to_all {} weight { constant: 1 } }`, `projection "E->R" (projections[0]): post = "R": is a rate population but pre "E" is spiking (iaf_psc_delta)`},
		{"rate to spiking", pops + `projections { pre: "R" post: "I" all_to_all {} weight { constant: 1 } }`, `post = "I": is spiking (iaf_psc_exp) but pre "R" is a rate population`},
		{"receptor", pops + `projections { pre: "E" post: "I" all_to_all {} weight { constant: 1 } receptor: 7 }`, `receptor = 7: must be one of RECEPTOR_AUTO, EXCITATORY, INHIBITORY, SLOW_EXCITATORY`},
		{"slow port missing", pops + `projections { pre: "I" post: "E" all_to_all {} weight { constant: 1 } receptor: SLOW_EXCITATORY }`, `projection "I->E" (projections[0]): receptor = SLOW_EXCITATORY: post "E" is iaf_psc_delta, which has no slow excitatory port (models with one: iaf_psc_exp, iaf_cond_exp)`},
		{"slow port poisson", pops + `inputs { target: "E" poisson { rate_hz: 10 weight: 1 receptor: SLOW_EXCITATORY } }`, `input "input0" (inputs[0]): poisson.receptor = SLOW_EXCITATORY: post "E" is iaf_psc_delta, which has no slow excitatory port`},
		{"slow port spike times", pops + `inputs { target: "I" spike_times { neuron: [0] time_ms: [1] weight: 1 receptor: SLOW_EXCITATORY } }`, `spike_times.receptor = SLOW_EXCITATORY: spike-source arrays reach the fast channels only`},
		{"tau_syn_slow zero", `populations { name: "E" size: 1 iaf_psc_exp { tau_syn_slow: 0 } }`, `population "E" (populations[0]): iaf_psc_exp.tau_syn_slow = 0: must be > 0`},
		{"tau_syn_slow nan", `populations { name: "E" size: 1 iaf_cond_exp { tau_syn_slow: nan } }`, `iaf_cond_exp.tau_syn_slow = NaN: must be finite and > 0`},
		{"e_slow inf", `populations { name: "E" size: 1 iaf_cond_exp { e_slow: inf } }`, `iaf_cond_exp.e_slow = +Inf: must be finite`},
		{"input target", pops + `inputs { target: "X" dc { amplitude: 1 } }`, `input "input0" (inputs[0]): target = "X": no population has this name`},
		{"input kind", pops + `inputs { name: "in" target: "E" }`, `input "in" (inputs[0]): kind: not set`},
		{"poisson rate", pops + `inputs { target: "E" poisson { rate_hz: -3 } }`, `poisson.rate_hz = -3: must be finite and >= 0`},
		{"poisson rate inf", pops + `inputs { target: "E" poisson { rate_hz: inf } }`, `poisson.rate_hz = +Inf: must be finite and >= 0`},
		{"poisson window", pops + `inputs { target: "E" poisson { rate_hz: 3 start_ms: 5 stop_ms: 5 } }`, `poisson.start_ms = 5: must be < stop_ms (5)`},
		{"poisson range", pops + `inputs { target: "E" poisson { rate_hz: 3 first: 70 count: 20 } }`, `poisson.count = 20: first + count (90) must be <= 80 (size of "E"): at most 10 from first = 70`},
		{"poisson first", pops + `inputs { target: "E" poisson { rate_hz: 3 first: 80 } }`, `poisson.first = 80: must be < 80 (size of "E")`},
		{"poisson into rate", pops + `inputs { target: "R" poisson { rate_hz: 3 } }`, `target = "R": is a rate population: poisson inputs need a spiking population`},
		{"dc amplitude", pops + `inputs { target: "R" dc { amplitude: nan } }`, `dc.amplitude = NaN: must be finite`},
		{"dc range", pops + `inputs { target: "R" dc { amplitude: 1 first: 4294967295 count: 4294967295 } }`, `dc.first = 4294967295: must be < 36 (size of "R")`},
		{"dc stop", pops + `inputs { target: "R" dc { amplitude: 1 stop_ms: -1 } }`, `dc.stop_ms = -1: must be finite and >= 0`},
		{"spike_times lengths", pops + `inputs { target: "E" spike_times { neuron: [1, 2] time_ms: [1] } }`, `spike_times.time_ms: has 1 entries: must have as many as neuron (2)`},
		{"spike_times neuron", pops + `inputs { target: "E" spike_times { neuron: [80] time_ms: [1] } }`, `spike_times.neuron[0] = 80: must be < 80 (size of "E")`},
		{"spike_times time", pops + `inputs { target: "E" spike_times { neuron: [1] time_ms: [-1] } }`, `spike_times.time_ms[0] = -1: must be finite and >= 0`},
		{"spike_times into rate", pops + `inputs { target: "S" spike_times { neuron: [1] time_ms: [1] } }`, `target = "S": is a rate population: spike_times inputs need a spiking population`},
		{"record unknown", pops + `recording { spikes: "Q" }`, `recording: spikes[0] = "Q": no population has this name`},
		{"record rate spikes", pops + `recording { spikes: "E" spikes: "R" }`, `recording: spikes[1] = "R": is a rate population, which has no spikes`},
		{"probe population", pops + `recording { state { population: "Q" count: 1 } }`, `state probe (recording.state[0]): population = "Q": no population has this name`},
		{"probe count", pops + `recording { state { population: "E" } }`, `state probe (recording.state[0]): count = 0: must be >= 1`},
		{"probe range", pops + `recording { state { population: "E" first: 79 count: 2 } }`, `state probe (recording.state[0]): count = 2: first + count (81) must be <= 80 (size of "E"): at most 1 from first = 79`},
		{"normal window thin", `populations { name: "E" size: 1 iaf_psc_delta {} initial { normal { mean: 0 std: 1 min: 100 max: 101 } } }`, `population "E" (populations[0]): initial.normal: [min, max] = [100, 101] holds 0 of N(0, 1²): must hold at least 0.01 of it (values outside are redrawn)`},
		{"normal window tail", pops + `projections { pre: "E" post: "I" all_to_all {} weight { normal { mean: 20 std: 5 min: 33 } } }`, `projection "E->I" (projections[0]): weight.normal: [min, max] = [33, +Inf] holds 0.00466 of N(20, 5²): must hold at least 0.01 of it`},
		{"normal window narrow", pops + `projections { pre: "E" post: "I" all_to_all {} weight { constant: 1 } delay { normal { mean: 1 std: 1e300 min: 0 max: 1e4 } } }`, `delay.normal: [min, max] = [0, 10000] holds 0 of N(1, 1e+300²)`},
		{"gain beyond float32", `populations { name: "R" size: 1 rate { gain: 1e300 } }`, `population "R" (populations[0]): rate.gain = 1e+300: must be within ±3.4028234663852886e+38 (the float32 range)`},
		{"r_max beyond float32", `populations { name: "R" size: 1 rate { r_max: 3.5e38 } }`, `rate.r_max = 3.5e+38: must be within ±3.4028234663852886e+38 (the float32 range)`},
		{"c_m beyond float32", `populations { name: "E" size: 1 iaf_psc_delta { c_m: 1e39 } }`, `iaf_psc_delta.c_m = 1e+39: must be within`},
		{"e_in beyond float32", `populations { name: "E" size: 1 iaf_cond_exp { e_in: -1e39 } }`, `iaf_cond_exp.e_in = -1e+39: must be within`},
		{"dc beyond float32", pops + `inputs { target: "R" dc { amplitude: -1e300 } }`, `input "input0" (inputs[0]): dc.amplitude = -1e+300: must be within ±3.4028234663852886e+38 (the float32 range)`},
		{"rate delay uniform", pops + `projections { pre: "R" post: "R" all_to_all {} weight { constant: 0.1 } delay { uniform { low: 1 high: 1 } } }`, `projection "R->R" (projections[0]): delay: must be a constant for a rate projection (rate projections have one delay)`},
		{"rate delay normal", pops + `projections { pre: "R" post: "S" fixed_in_degree { indegree: 2 } weight { constant: 0.1 } delay { normal { mean: 1 std: 0 } } }`, `projection "R->S" (projections[0]): delay: must be a constant for a rate projection`},
		{"rate ring delay lognormal", pops + `projections { pre: "R" post: "R" ring { j_exc: 1 sigma_deg: 20 } delay { lognormal { mu: 0 } } }`, `delay: must be a constant for a rate projection`},
		{"rate explicit delays", pops + `projections { pre: "S" post: "S" explicit { pre_index: [0, 1] post_index: [1, 0] weight_values: [1, 1] delay_ms: [7, 3] } }`, `projection "S->S" (projections[0]): explicit.delay_ms: has 2 entries: must be empty for a rate projection (rate projections have one delay: set delay)`},
		{"poisson rate huge", pops + `inputs { target: "E" poisson { rate_hz: 1e12 } }`, `input "input0" (inputs[0]): poisson.rate_hz = 1e+12: is 1e+08 spikes per neuron and step of dt_ms = 0.1: must be at most 1e+06 (rate_hz <= 1e+10)`},
		{"poisson rate 1e300", "dt_ms: 1" + pops + `inputs { target: "I" poisson { rate_hz: 1e300 weight: 1 } }`, `poisson.rate_hz = 1e+300: is 1e+297 spikes per neuron and step of dt_ms = 1: must be at most 1e+06 (rate_hz <= 1e+09)`},
		{"t_ref huge", `populations { name: "E" size: 1 iaf_cond_exp { t_ref: 1e300 } }`, `population "E" (populations[0]): iaf_cond_exp.t_ref = 1e+300: must be <= 214748364.7 ms (2^31-1 steps of dt_ms)`},
		{"t_ref steps", `dt_ms: 1e-6 duration_ms: 0 populations { name: "E" size: 1 iaf_psc_delta { t_ref: 3000 } }`, `iaf_psc_delta.t_ref = 3000: must be <= 2147.483647 ms (2^31-1 steps of dt_ms)`},
		{"t_ref exp", `populations { name: "E" size: 1 iaf_psc_exp { t_ref: 3e8 } }`, `iaf_psc_exp.t_ref = 3e+08: must be <= 214748364.7 ms`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := validateText(t, tc.spec)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant substring:\n%s", err, tc.want)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Errors) == 0 {
				t.Errorf("want a *ValidationError, got %T", err)
			}
		})
	}
}

func TestValidateReportsAll(t *testing.T) {
	n, err := Parse([]byte(`
dt_ms: -1
populations { name: "E" size: 0 iaf_psc_delta { tau_m: -5 c_m: 0 } }
projections { pre: "E" post: "X" pairwise_bernoulli { p: 2 } weight { constant: 1 } }
inputs { target: "E" poisson { rate_hz: -1 } }
`), Textproto)
	if err != nil {
		t.Fatal(err)
	}
	ApplyDefaults(n)
	err = Validate(n)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v", err)
	}
	want := []string{"dt_ms", "size", "iaf_psc_delta.c_m", "iaf_psc_delta.tau_m", "post", "pairwise_bernoulli.p", "poisson.rate_hz"}
	if len(ve.Errors) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ve.Errors), len(want), err)
	}
	for i, w := range want {
		if ve.Errors[i].Field != w {
			t.Errorf("problem %d: field %q, want %q", i, ve.Errors[i].Field, w)
		}
	}
	var fe FieldError
	if !errors.As(err, &fe) || fe.Field != "dt_ms" {
		t.Errorf("errors.As FieldError: %v", fe)
	}
}

func TestValidateCapsLongLists(t *testing.T) {
	times := make([]float64, 1000)
	for i := range times {
		times[i] = -1
	}
	n := &myelinpb.Network{
		Populations: []*myelinpb.Population{{Name: "E", Size: 1, Model: &myelinpb.Population_IafPscDelta{}}},
		Inputs: []*myelinpb.Input{{Target: "E", Kind: &myelinpb.Input_SpikeTimes{SpikeTimes: &myelinpb.SpikeSourceArray{
			Neuron: make([]uint32, 1000), TimeMs: times}}}},
	}
	ApplyDefaults(n)
	var ve *ValidationError
	if !errors.As(Validate(n), &ve) {
		t.Fatal("no error")
	}
	if len(ve.Errors) != maxListErrors+1 || !strings.Contains(ve.Errors[maxListErrors].Error(), "995 more problems") {
		t.Errorf("got %d problems:\n%v", len(ve.Errors), ve)
	}
}

func TestValidateUndefaulted(t *testing.T) {
	// Validate does not apply defaults; it reports what is missing instead
	// of panicking.
	n := &myelinpb.Network{
		Populations: []*myelinpb.Population{nil, {Name: "E", Size: 1, Model: &myelinpb.Population_Rate{}}},
		Projections: []*myelinpb.Projection{nil, {Pre: "E", Post: "E", Rule: &myelinpb.Projection_Ring{}}},
		Inputs:      []*myelinpb.Input{nil, {Target: "E", Kind: &myelinpb.Input_Dc{}}},
		Recording:   &myelinpb.Recording{State: []*myelinpb.StateProbe{nil}},
	}
	err := Validate(n)
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"dt_ms: not set", "populations[0]: is nil", "rate: is nil", "projections[0]: is nil",
		"ring.sigma_deg = 0", "delay: not set", "inputs[0]: is nil", "state probe (recording.state[0]): is nil", "block_steps = 0"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in\n%v", w, err)
		}
	}
	if Validate(nil) == nil {
		t.Error("Validate(nil) passed")
	}
}

func TestValidateGood(t *testing.T) {
	n, err := Parse([]byte(`
dt_ms: 10
duration_ms: 0
populations { name: "R" size: 360 rate { transfer: SIGMOID } initial { normal { mean: 0 std: 0.1 min: -1 max: 1 } } }
populations { name: "A" size: 1 iaf_psc_delta {} }
projections { pre: "R" post: "R" ring { j_exc: 1 j_inh: 0.2 sigma_deg: 20 } delay { constant: 5 } }
projections { pre: "A" post: "A" fixed_in_degree { indegree: 3 } weight { lognormal { mu: 0 sigma: 1 negative: true } } delay { uniform { low: 0 high: 5 } } }
projections { pre: "A" post: "A" explicit { pre_index: [0, 0] post_index: [0, 0] weight_values: [1, 2] delay_ms: [0, 0.05] } }
projections { pre: "A" post: "A" pairwise_bernoulli { p: 1 } weight { constant: 1 } delay { normal { mean: 1 std: 0.5 min: 0.1 } } allow_multapses: false }
inputs { target: "R" dc { amplitude: 1 start_ms: 0 stop_ms: 10 first: 10 count: 350 } }
inputs { target: "A" spike_times { neuron: [0, 0] time_ms: [0, 5] weight: 2 receptor: INHIBITORY } }
inputs { target: "A" poisson { rate_hz: 0 start_ms: 3 } }
recording { spikes: "A" state { population: "R" first: 0 count: 360 every: 10 } block_steps: 1 }
`), Textproto)
	if err != nil {
		t.Fatal(err)
	}
	ApplyDefaults(n)
	if err := Validate(n); err != nil {
		t.Error(err)
	}
	// The largest accepted run: exactly 2^40 steps.
	n.DtMs = proto.Float64(1)
	n.DurationMs = proto.Float64(math.Ldexp(1, 40))
	if err := Validate(n); err != nil {
		t.Error(err)
	}
}

func TestFieldErrorFormat(t *testing.T) {
	for _, tc := range []struct {
		fe   FieldError
		want string
	}{
		{FieldError{"", "dt_ms", "20", "must be in (0, 10]"}, "dt_ms = 20: must be in (0, 10]"},
		{FieldError{"population \"E\" (populations[0])", "size", "0", "must be >= 1"}, "population \"E\" (populations[0]): size = 0: must be >= 1"},
		{FieldError{"populations[1]", "", "", "is nil"}, "populations[1]: is nil"},
		{FieldError{"recording", "spikes[0]", "\"Q\"", ""}, "recording: spikes[0] = \"Q\""},
	} {
		if got := tc.fe.Error(); got != tc.want {
			t.Errorf("got %q want %q", got, tc.want)
		}
	}
}

// validateText parses a textproto spec (a parse error fails the test),
// applies the defaults and returns Validate's error.
func validateText(t *testing.T, text string) error {
	t.Helper()
	n, err := Parse([]byte(text), Textproto)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	ApplyDefaults(n)
	return Validate(n)
}
