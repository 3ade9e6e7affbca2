package models

import (
	"fmt"
	"math"

	myelinpb "github.com/myelin-sim/myelin/proto"
)

func ringRate() *Model {
	return &Model{
		Name:  "ring_rate",
		Short: "continuous attractor of rate neurons on a ring (working memory): a cued bump persists after the cue",
		Params: []Param{
			{"n", "360", "neurons on the ring"},
			{"cue_deg", "90", "cue position (degrees)"},
			{"cue_ms", "500", "cue on during [100, 100 + cue_ms) ms"},
			{"j_exc", "", "peak excitation J_exc (default 4.5·360/n)"},
			{"j_inh", "", "uniform inhibition J_inh (default 1.5·360/n)"},
			{"sigma_deg", "20", "width σ of the excitation (degrees)"},
			{"duration_ms", "3000", "biological time to simulate (ms)"},
			seedParam,
		},
		build: buildRingRate,
	}
}

// Ring attractor: tau dr/dt = -r + f(sum_j W_ij r_j + I_i), f a sigmoid,
// W_ij = J_exc exp(-d_ij²/2σ²) - J_inh. A DC cue centred on cue_deg starts
// a bump that the recurrent excitation keeps alive once the cue is off.
// The sigmoid's threshold (2) keeps the quiet state stable: there the gain
// of the first spatial mode, Ŵ(1)·f'(h₀) ≈ 212 · 0.0013, is well below one,
// so no bump forms without a cue.
func buildRingRate(v Values) (*myelinpb.Network, error) {
	r := reader{v: v}
	n := r.count("n", 16, 0)
	cue, cueMs, sigma := r.float("cue_deg", 0), r.float("cue_ms", 0), r.float("sigma_deg", 0)
	jExc := r.float("j_exc", 4.5*360/float64(max(n, 1)))
	jInh := r.float("j_inh", 1.5*360/float64(max(n, 1)))
	r.atLeast("cue_ms", cueMs, 0, "how long the cue is on; 0 for no cue")
	r.atLeast("j_exc", jExc, 0, "peak excitation; a negative one would make it inhibition")
	r.atLeast("j_inh", jInh, 0, "uniform inhibition; a negative one would make it excitation")
	if !(sigma > 0 && sigma <= 360) {
		r.fail(fmt.Errorf("parameter sigma_deg = %g: must be in (0, 360]", sigma))
	}
	dur, seed := r.common()
	if r.err != nil {
		return nil, r.err
	}
	net := &myelinpb.Network{
		Name: fmt.Sprintf("ring_rate (N=%d, cue %g°)", n, cue), DtMs: f64(1), DurationMs: f64(dur), Seed: seed,
		Populations: []*myelinpb.Population{{
			Name: "ring", Size: n,
			Model: &myelinpb.Population_Rate{Rate: &myelinpb.RateNeuron{
				Tau: f64(10), Transfer: myelinpb.RateNeuron_SIGMOID, Gain: f64(4), Theta: f64(2), RMax: f64(1), IE: f64(0),
			}},
		}},
		Projections: []*myelinpb.Projection{{
			Name: "ring->ring", Pre: "ring", Post: "ring",
			Rule:  &myelinpb.Projection_Ring{Ring: &myelinpb.RingRule{JExc: jExc, JInh: jInh, SigmaDeg: sigma}},
			Delay: constant(1),
		}},
		Recording: &myelinpb.Recording{BlockSteps: 100, State: []*myelinpb.StateProbe{{Population: "ring", First: 0, Count: n, Every: 10}}},
	}
	// The cue: a DC input of 2 onto the neurons within ±σ of cue_deg (none
	// when cue_ms is 0), each neuron once: all of the ring when the arc is
	// wider than the ring.
	width := int(math.Ceil(sigma / 360 * float64(n)))
	span := min(2*width+1, int(n))
	c := int(math.Round(math.Mod(cue, 360)/360*float64(n))) % int(n)
	first := ((c-width)%int(n) + int(n)) % int(n)
	for k := 0; cueMs > 0 && k < span; {
		start := (first + k) % int(n)
		cnt := min(span-k, int(n)-start)
		net.Inputs = append(net.Inputs, &myelinpb.Input{
			Name: fmt.Sprintf("cue%d", len(net.Inputs)), Target: "ring",
			Kind: &myelinpb.Input_Dc{Dc: &myelinpb.DCInput{Amplitude: 2, StartMs: f64(100), StopMs: f64(100 + cueMs), First: uint32(start), Count: uint32(cnt)}},
		})
		k += cnt
	}
	return net, nil
}
