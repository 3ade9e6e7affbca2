package network_test

import (
	"bytes"
	"context"
	"io"
	"math"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/cpu"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/plan"
	"github.com/myelin-sim/myelin/engine/sim"
	"github.com/myelin-sim/myelin/engine/spec"
	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// Limits of one fuzz iteration: larger networks are skipped, runs are cut
// to fuzzSteps steps.
const (
	fuzzMaxSynapses = 200_000
	fuzzMaxNeurons  = 20_000
	fuzzMaxCPU      = 256 << 20
	fuzzSteps       = 20
	fuzzDeadline    = 60 * time.Second
)

// fuzzPops has one small population of every model.
const fuzzPops = `
populations { name: "D" size: 7 iaf_psc_delta {} }
populations { name: "X" size: 5 iaf_psc_exp {} }
populations { name: "C" size: 4 iaf_cond_exp {} }
populations { name: "R" size: 6 rate {} }
`

// fuzzSeeds are small specs covering every rule, model, input, distribution
// and recording option, and the edge cases the build must survive.
var fuzzSeeds = []string{
	// Rules.
	fuzzPops + `projections { pre: "D" post: "X" fixed_in_degree { indegree: 3 } weight { constant: 10 } }`,
	fuzzPops + `projections { pre: "D" post: "D" fixed_in_degree { indegree: 6 } weight { constant: 1 } allow_autapses: false allow_multapses: false }`,
	fuzzPops + `projections { pre: "X" post: "C" fixed_out_degree { outdegree: 4 } weight { constant: 2 } allow_multapses: false }`,
	fuzzPops + `projections { pre: "C" post: "C" fixed_out_degree { outdegree: 9 } weight { constant: -2 } allow_autapses: false }`,
	fuzzPops + `projections { pre: "D" post: "D" pairwise_bernoulli { p: 0.3 } weight { constant: 0.5 } }`,
	fuzzPops + `projections { pre: "D" post: "X" pairwise_bernoulli { p: 1 } weight { constant: 0.5 } allow_multapses: false }`,
	fuzzPops + `projections { pre: "D" post: "X" pairwise_bernoulli { p: 1e-300 } weight { constant: 0.5 } }`,
	fuzzPops + `projections { pre: "X" post: "R" pairwise_bernoulli { p: 1e-300 } weight { constant: 0.5 } }`,
	`populations { name: "A" size: 300 iaf_psc_delta {} } populations { name: "B" size: 2 iaf_psc_delta {} } projections { pre: "A" post: "B" pairwise_bernoulli { p: 1e-300 } weight { constant: 1 } }`,
	fuzzPops + `projections { pre: "D" post: "D" pairwise_bernoulli { p: 5e-324 } weight { constant: 0.5 } allow_autapses: false }`,
	fuzzPops + `projections { pre: "D" post: "D" one_to_one {} weight { constant: 20 } }`,
	fuzzPops + `projections { pre: "D" post: "D" one_to_one {} weight { constant: 20 } allow_autapses: false }`,
	fuzzPops + `projections { pre: "X" post: "C" all_to_all {} weight { constant: 3 } receptor: INHIBITORY }`,
	fuzzPops + `projections { pre: "R" post: "R" ring { j_exc: 1 j_inh: 0.2 sigma_deg: 30 } }`,
	fuzzPops + `projections { pre: "R" post: "R" ring { j_exc: 1 j_inh: 0.2 sigma_deg: 1e-200 } }`,
	fuzzPops + `projections { pre: "R" post: "R" all_to_all {} weight { normal { mean: 0.1 std: 0.05 } } delay { constant: 3 } }`,
	fuzzPops + `projections { pre: "R" post: "R" explicit { pre_index: [0, 5] post_index: [5, 0] weight_values: [0.5, -0.5] } delay { constant: 0.2 } }`,
	fuzzPops + `projections { pre: "D" post: "X" explicit { pre_index: [0, 6, 6] post_index: [4, 0, 0] weight_values: [1, 2, -3] delay_ms: [0, 0.1, 5] } }`,
	fuzzPops + `projections { pre: "D" post: "D" explicit { pre_index: [0, 1] post_index: [1, 0] } weight { uniform { low: -1 high: 1 } } delay { uniform { low: 0.1 high: 2 } } }`,
	// Plasticity, phases and the slow port.
	fuzzPops + `projections { pre: "X" post: "X" fixed_in_degree { indegree: 3 } weight { uniform { low: 0.5 high: 2 } } stdp { w_max: 5 lambda: 0.1 mu_plus: 0 mu_minus: 1 } } phases { name: "a" start_ms: 0 stop_ms: 0.5 learning_rate: 3 } phases { name: "b" start_ms: 0.5 stop_ms: 1 learning_rate: 0 } inputs { target: "X" poisson { rate_hz: 20000 weight: 50 } }`,
	fuzzPops + `projections { pre: "D" post: "C" all_to_all {} weight { constant: 2 } receptor: INHIBITORY stdp { w_max: 4 lambda: 1e30 alpha: 0 } stp { u: 0.3 } }`,
	fuzzPops + `projections { pre: "X" post: "C" fixed_out_degree { outdegree: 2 } weight { constant: 3 } delay { uniform { low: 0.1 high: 3 } } receptor: SLOW_EXCITATORY } inputs { target: "X" poisson { rate_hz: 9000 weight: 40 receptor: SLOW_EXCITATORY } }`,
	fuzzPops + `projections { pre: "D" post: "X" pairwise_bernoulli { p: 0.5 } weight { normal { mean: 1 std: 1 } } receptor: SLOW_EXCITATORY stdp { w_max: 3 } }`,
	// Models and transfers.
	`populations { name: "A" size: 3 iaf_psc_delta { c_m: 1 tau_m: 5 t_ref: 0 e_l: 0 v_reset: 0 v_th: 1 i_e: 100 } }`,
	`populations { name: "A" size: 3 iaf_psc_exp { tau_syn_ex: 10 tau_syn_in: 10 tau_m: 10 i_e: 1000 } }`,
	`populations { name: "A" size: 3 iaf_psc_exp { tau_syn_ex: 1e-4 } } inputs { target: "A" poisson { rate_hz: 1000 weight: 10 } }`,
	`populations { name: "A" size: 3 iaf_cond_exp { i_e: 1000 t_ref: 1e300 } } inputs { target: "A" poisson { rate_hz: 5000 weight: 1 } }`,
	`populations { name: "A" size: 3 iaf_psc_delta { t_ref: 1e300 i_e: 1000 } }`,
	`populations { name: "R" size: 4 rate { transfer: LINEAR } } inputs { target: "R" dc { amplitude: 1 } }`,
	`populations { name: "R" size: 4 rate { transfer: RELU } } inputs { target: "R" dc { amplitude: -1 first: 1 count: 2 } }`,
	`populations { name: "R" size: 4 rate { transfer: THRESHOLD_LINEAR theta: 0.5 } } inputs { target: "R" dc { amplitude: 1 } }`,
	`populations { name: "R" size: 4 rate { transfer: SIGMOID gain: 4 r_max: 2 } } recording { state { population: "R" count: 4 } }`,
	`populations { name: "R" size: 4 rate { transfer: TANH gain: 1e300 } } recording { state { population: "R" count: 4 } }`,
	`populations { name: "R" size: 4 rate { tau: 1e-300 } initial { uniform { low: -1 high: 1 } } } recording { state { population: "R" first: 3 count: 1 every: 3 } }`,
	// Inputs.
	fuzzPops + `inputs { target: "D" poisson { rate_hz: 8000 weight: 0.2 start_ms: 0.5 stop_ms: 1.5 first: 2 count: 5 } }`,
	fuzzPops + `inputs { target: "X" poisson { rate_hz: 0 weight: 1 } } inputs { target: "C" poisson { rate_hz: 1e12 weight: 1 receptor: INHIBITORY } }`,
	fuzzPops + `inputs { target: "D" poisson { rate_hz: 1e300 weight: 1 } }`,
	fuzzPops + `inputs { target: "D" poisson { rate_hz: 1e7 weight: 0 first: 6 } }`,
	fuzzPops + `inputs { target: "X" dc { amplitude: 500 start_ms: 0.3 stop_ms: 1e300 first: 4 count: 1 } }`,
	fuzzPops + `inputs { target: "C" dc { amplitude: 1e300 } }`,
	fuzzPops + `inputs { target: "D" spike_times { neuron: [0, 0, 6, 3] time_ms: [0, 0, 1.9, 1e300] weight: 20 } }`,
	fuzzPops + `inputs { target: "X" spike_times { neuron: [4, 4] time_ms: [0.1, 0.1] weight: -1e30 receptor: EXCITATORY } }`,
	// Distributions.
	fuzzPops + `populations { name: "Z" size: 9 iaf_psc_delta {} initial { normal { mean: -60 std: 5 min: -70 max: -55 } } }` +
		`projections { pre: "Z" post: "Z" fixed_in_degree { indegree: 4 } weight { lognormal { mu: 0 sigma: 1 negative: true } } delay { lognormal { mu: 0 sigma: 0.5 } } }`,
	fuzzPops + `projections { pre: "D" post: "X" all_to_all {} weight { normal { mean: 5 std: 100 } } delay { normal { mean: 1 std: 0.5 min: 0.1 max: 3 } } }`,
	fuzzPops + `projections { pre: "D" post: "D" all_to_all {} weight { uniform { low: -1e308 high: 1e308 } } }`,
	fuzzPops + `projections { pre: "D" post: "D" all_to_all {} weight { lognormal { mu: 700 sigma: 10 } } }`,
	fuzzPops + `projections { pre: "D" post: "D" all_to_all {} weight { normal { mean: 0 std: 1 min: 2.3 max: 3 } } delay { normal { mean: 1 std: 1 min: 3.3 } } }`,
	fuzzPops + `projections { pre: "D" post: "D" all_to_all {} weight { normal { mean: 0 std: 1 min: 100 max: 101 } } }`,
	fuzzPops + `projections { pre: "C" post: "X" all_to_all {} weight { constant: 1 } delay { lognormal { mu: 20 } } }`,
	// Edge cases.
	fuzzPops + `projections { pre: "D" post: "D" all_to_all {} weight { constant: 0 } }`,
	fuzzPops + `projections { pre: "D" post: "D" all_to_all {} weight { constant: 1e30 } }`,
	fuzzPops + `projections { pre: "C" post: "C" all_to_all {} weight { constant: -1e-30 } }`,
	`dt_ms: 1e-300 populations { name: "A" size: 2 iaf_psc_exp {} } projections { pre: "A" post: "A" all_to_all {} weight { constant: 1 } }`,
	`dt_ms: 10 populations { name: "A" size: 2 iaf_psc_delta {} } projections { pre: "A" post: "A" all_to_all {} weight { constant: 1 } delay { constant: 1e7 } }`,
	`populations { name: "A" size: 1 iaf_psc_delta {} } projections { pre: "A" post: "A" all_to_all {} weight { constant: 1 } delay { normal { mean: 1 std: 1e6 } } }`,
	`populations { name: "A" size: 1 iaf_psc_delta {} } projections { pre: "A" post: "A" all_to_all {} weight { constant: 1 } delay { constant: 104857.6 } }`,
	`populations { name: "A" size: 1 iaf_psc_delta {} } projections { pre: "A" post: "A" one_to_one {} weight { constant: 1 } allow_autapses: false }`,
	`populations { name: "R" size: 3 rate {} } projections { pre: "R" post: "R" all_to_all {} weight { constant: 0.1 } delay { uniform { low: 1 high: 1 } } }`,
	`populations { name: "R" size: 3 rate {} } projections { pre: "R" post: "R" explicit { pre_index: [0] post_index: [1] weight_values: [1] delay_ms: [7] } }`,
	`populations { name: "R" size: 3 rate {} } projections { pre: "R" post: "R" one_to_one {} weight { constant: 0.9 } delay { constant: 2.5 } } recording { state { population: "R" count: 3 } }`,
	`duration_ms: 0 populations { name: "A" size: 2 iaf_psc_delta {} } recording { block_steps: 4294967295 state { population: "A" count: 2 every: 4294967295 } }`,
	`populations { name: "A" size: 2 iaf_psc_delta {} } recording { block_steps: 1 spikes: "A" state { population: "A" first: 1 count: 1 every: 7 } }`,
	fuzzPops + `recording { spikes: "X" spikes: "X" state { population: "C" first: 3 count: 1 } state { population: "R" count: 6 every: 2 } block_steps: 3 }`,
	`dt_ms: 0.1 duration_ms: 1e300 populations { name: "A" size: 1 iaf_psc_delta {} }`,
	`duration_ms: 50 populations { name: "A" size: 8 iaf_psc_delta {} } inputs { name: "p" target: "A" poisson { weight: 20 schedule { piecewise { time_ms: [0, 10.03, 20] rate_hz: [5000, 0, 9000] } } } }`,
	`duration_ms: 50 populations { name: "A" size: 8 iaf_psc_exp {} } inputs { name: "s" target: "A" poisson { weight: 300 first: 2 count: 4 start_ms: 3.3 stop_ms: 41 schedule { sinusoidal { mean_hz: 8000 depth: 1 frequency_hz: 40 phase_deg: 90 step_ms: 0.2 } } } }`,
	`duration_ms: 20 populations { name: "A" size: 4 iaf_psc_delta {} } inputs { name: "s" target: "A" poisson { weight: 20 schedule { sinusoidal { mean_hz: 1e9 depth: 0 frequency_hz: 1e6 step_ms: 1e300 } } } }`,
	`seed: 18446744073709551615 populations { name: "A" size: 20 iaf_psc_delta { i_e: 400 } initial { uniform { low: -70 high: -55 } } } projections { pre: "A" post: "A" fixed_in_degree { indegree: 5 } weight { normal { mean: 2 std: 1 } } delay { uniform { low: 0 high: 3 } } }`,
}

// FuzzBuildRun builds and briefly runs every spec that validates: Build and
// the CPU backend may refuse it with an error, but must never panic, hang
// or produce an unreadable stream, and the result must not depend on the
// number of threads.
func FuzzBuildRun(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(checkBuildRun)
}

// checkBuildRun is one fuzz iteration: it skips what does not parse or
// validate and what is too large, cuts the run short and builds and runs
// the rest under a deadline.
func checkBuildRun(t *testing.T, data []byte) {
	n, err := spec.Parse(data, spec.Textproto)
	if err != nil {
		return
	}
	spec.ApplyDefaults(n)
	if spec.Validate(n) != nil {
		return
	}
	p := plan.Estimate(n, 1)
	if p.Synapses > fuzzMaxSynapses || p.Neurons > fuzzMaxNeurons || p.CPU() > fuzzMaxCPU {
		return
	}
	dt := n.GetDtMs()
	n.DurationMs = proto.Float64(min(n.GetDurationMs(), fuzzSteps*dt))

	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				text, _ := spec.Format(n)
				t.Errorf("panic: %v\n%s\nspec:\n%s", r, debug.Stack(), text)
			}
		}()
		buildAndRun(t, n)
	}()
	select {
	case <-done:
	case <-time.After(fuzzDeadline):
		text, _ := spec.Format(n)
		t.Fatalf("build and run did not finish in %v (hang?):\n%s", fuzzDeadline, text)
	}
}

// buildAndRun is one fuzz iteration on a valid, small spec.
func buildAndRun(t *testing.T, n *myelinpb.Network) {
	ctx := context.Background()
	// Two builds with different thread counts, each run with a different
	// number of threads: both streams must hold the same spikes and states.
	net1, err1 := network.Build(proto.Clone(n).(*myelinpb.Network), network.Options{Threads: 1})
	net3, err3 := network.Build(n, network.Options{Threads: 3})
	if (err1 == nil) != (err3 == nil) {
		t.Errorf("build with 1 thread: %v; with 3 threads: %v", err1, err3)
		return
	}
	if err1 != nil {
		if err1.Error() == "" {
			t.Error("build failed with an empty message")
		}
		return
	}
	if _, err := sim.Run(ctx, net3, sim.Options{Backend: cpu.New(2), Out: io.Discard}); err != nil {
		if err.Error() == "" {
			t.Error("run failed with an empty message")
		}
		return
	}
	var b1, b2 bytes.Buffer
	res1, err := sim.Run(ctx, net1, sim.Options{Backend: cpu.New(1), Out: &b1})
	if err != nil {
		t.Errorf("run with 1 thread failed after one with 2 succeeded: %v", err)
		return
	}
	res2, err := sim.Run(ctx, net3, sim.Options{Backend: cpu.New(2), Out: &b2})
	if err != nil {
		t.Errorf("second run with 2 threads failed after the first succeeded: %v", err)
		return
	}
	if res1.Status != myelinpb.Trailer_COMPLETE || res2.Status != myelinpb.Trailer_COMPLETE {
		t.Errorf("runs ended with status %v and %v, want COMPLETE", res1.Status, res2.Status)
	}
	if res1.Steps != net1.Steps || !slices.Equal(res1.PopSpikes, res2.PopSpikes) {
		t.Errorf("runs differ: %d steps, spikes %v; %d steps, spikes %v", res1.Steps, res1.PopSpikes, res2.Steps, res2.PopSpikes)
	}
	r1, err := stream.ReadAll(&b1)
	if err != nil {
		t.Errorf("reading the stream of a complete run: %v", err)
		return
	}
	r2, err := stream.ReadAll(&b2)
	if err != nil {
		t.Errorf("reading the stream of a complete run: %v", err)
		return
	}
	if r1.Trailer == nil || r2.Trailer == nil {
		t.Error("stream of a complete run has no trailer")
		return
	}
	if !slices.Equal(r1.Steps, r2.Steps) || !slices.Equal(r1.IDs, r2.IDs) {
		t.Errorf("spikes depend on the thread count: %d vs %d spikes", len(r1.IDs), len(r2.IDs))
	}
	for id, s1 := range r1.State {
		s2 := r2.State[id]
		if s2 == nil || !slices.Equal(s1.Steps, s2.Steps) || !sameBits(s1.Values, s2.Values) {
			t.Errorf("state series %d depends on the thread count", id)
		}
	}
}

// sameBits compares float32 slices bit for bit (so NaN equals NaN).
func sameBits(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

// Values that FuzzBuildRunValues puts into its templates: ordinary ones and
// the edges of float64, float32, uint32 and the spec's own limits.
var (
	fuzzFloats = []string{"0", "-0", "1", "-1", "0.1", "0.05", "0.25", "0.5", "2", "10", "20", "-55", "-70",
		"1000", "1e6", "1e7", "1e9", "1e12", "1e27", "1e30", "-1e30", "3.4e38", "3.5e38", "1e300", "-1e300",
		"1.7976931348623157e308", "1e-300", "5e-324", "1e-5", "1e-19", "1e-30", "0.9999999999999999",
		"104857.6", "2147483647", "4294967296", "nan", "inf", "-inf"}
	fuzzUints = []string{"0", "1", "2", "3", "4", "5", "6", "7", "10", "20", "100", "1000", "65535",
		"1048576", "2147483647", "4294967294", "4294967295"}
)

// fuzzTemplates are valid specs whose values FuzzBuildRunValues replaces:
// %f{default} a float, %u{default} a uint32, %t{default} a rate transfer.
var fuzzTemplates = []string{
	`dt_ms: %f{0.1} duration_ms: %f{2}
populations { name: "A" size: %u{10} iaf_psc_delta { c_m: %f{250} tau_m: %f{10} t_ref: %f{2} i_e: %f{400} v_th: %f{-55} } initial { normal { mean: %f{-60} std: %f{3} } } }
populations { name: "B" size: %u{7} iaf_psc_exp { tau_syn_ex: %f{2} tau_syn_in: %f{2} tau_m: %f{10} } }
projections { pre: "A" post: "B" fixed_in_degree { indegree: %u{3} } weight { normal { mean: %f{20} std: %f{5} } } delay { uniform { low: %f{0.1} high: %f{2} } } }
projections { pre: "B" post: "A" pairwise_bernoulli { p: %f{0.3} } weight { lognormal { mu: %f{1} sigma: %f{0.5} } } delay { lognormal { mu: %f{0} sigma: %f{0.3} } } allow_autapses: false }
inputs { target: "A" poisson { rate_hz: %f{8000} weight: %f{0.5} start_ms: %f{0} stop_ms: %f{1.5} first: %u{1} count: %u{5} } }
inputs { target: "B" spike_times { neuron: [%u{0}, %u{6}] time_ms: [%f{0.5}, %f{1}] weight: %f{100} } }
recording { state { population: "A" first: %u{2} count: %u{3} every: %u{2} } block_steps: %u{7} }`,
	`dt_ms: %f{0.1} duration_ms: %f{2}
populations { name: "C" size: %u{8} iaf_cond_exp { g_l: %f{16} e_ex: %f{0} e_in: %f{-85} tau_syn_ex: %f{0.2} tau_syn_in: %f{2} c_m: %f{250} e_l: %f{-70} v_reset: %f{-60} } initial { uniform { low: %f{-70} high: %f{-56} } } }
projections { pre: "C" post: "C" fixed_out_degree { outdegree: %u{3} } weight { constant: %f{5} } delay { normal { mean: %f{1} std: %f{0.5} min: %f{0.1} max: %f{3} } } allow_multapses: false allow_autapses: false }
projections { pre: "C" post: "C" explicit { pre_index: [%u{0}, %u{1}] post_index: [%u{1}, %u{0}] weight_values: [%f{10}, %f{-10}] delay_ms: [%f{0.1}, %f{1}] } }
inputs { target: "C" dc { amplitude: %f{500} start_ms: %f{0.2} stop_ms: %f{1} first: %u{1} count: %u{3} } }
inputs { target: "C" poisson { rate_hz: %f{5000} weight: %f{2} receptor: INHIBITORY } }
recording { state { population: "C" count: %u{2} every: %u{1} } }`,
	`dt_ms: %f{0.1} duration_ms: %f{2}
populations { name: "R" size: %u{6} rate { tau: %f{10} transfer: %t{4} gain: %f{2} theta: %f{0.5} r_max: %f{1} i_e: %f{0.1} } initial { constant: %f{0.2} } }
populations { name: "S" size: %u{4} rate { transfer: SIGMOID } }
projections { pre: "R" post: "R" ring { j_exc: %f{1} j_inh: %f{0.2} sigma_deg: %f{30} } delay { constant: %f{0.2} } }
projections { pre: "R" post: "S" all_to_all {} weight { normal { mean: %f{0.1} std: %f{0.05} } } delay { constant: %f{0.3} } }
projections { pre: "S" post: "R" explicit { pre_index: [%u{0}] post_index: [%u{1}] } weight { uniform { low: %f{-1} high: %f{1} } } }
inputs { target: "R" dc { amplitude: %f{1} first: %u{1} count: %u{2} } }
recording { state { population: "R" first: %u{0} count: %u{3} every: %u{1} } state { population: "S" count: %u{2} } }`,
}

// fillTemplate renders a template, taking one byte of choices per value:
// 0 (or no byte left) keeps the default, c > 0 picks the (c-1)th edge value
// or, past the table, a small integer.
func fillTemplate(tmpl string, choices []byte) []byte {
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		if tmpl[i] != '%' {
			b.WriteByte(tmpl[i])
			continue
		}
		kind, end := tmpl[i+1], i+strings.IndexByte(tmpl[i:], '}')
		def := tmpl[i+3 : end]
		i = end
		c := 0
		if len(choices) > 0 {
			c, choices = int(choices[0]), choices[1:]
		}
		switch {
		case c == 0:
			b.WriteString(def)
		case kind == 'f' && c-1 < len(fuzzFloats):
			b.WriteString(fuzzFloats[c-1])
		case kind == 'f':
			b.WriteString(strconv.Itoa(c - 100))
		case kind == 'u' && c-1 < len(fuzzUints):
			b.WriteString(fuzzUints[c-1])
		case kind == 't':
			b.WriteString(strconv.Itoa(c % 7))
		default:
			b.WriteString(strconv.Itoa(c))
		}
	}
	return []byte(b.String())
}

// FuzzBuildRunValues is FuzzBuildRun on specs that always parse: valid
// templates with fuzzed values, so that the fuzzer spends its time in Build
// and the run rather than in the text parser.
func FuzzBuildRunValues(f *testing.F) {
	for i := range fuzzTemplates {
		f.Add(uint8(i), []byte{})
	}
	f.Add(uint8(0), []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 27}) // 6 B neurons, pairwise p = 1e-300
	f.Add(uint8(1), []byte{0, 0, 0, 0, 0, 0, 29, 28})                                    // tau_syn_ex = 1e-5, tau_syn_in = 5e-324
	f.Add(uint8(2), []byte{0, 0, 0, 0, 0, 24})                                           // gain = 1e300
	f.Fuzz(func(t *testing.T, which uint8, choices []byte) {
		text := fillTemplate(fuzzTemplates[int(which)%len(fuzzTemplates)], choices)
		if _, err := spec.Parse(text, spec.Textproto); err != nil {
			t.Fatalf("template does not parse: %v\n%s", err, text)
		}
		checkBuildRun(t, text)
	})
}
