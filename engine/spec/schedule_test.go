package spec

import (
	"math"
	"strings"
	"testing"

	myelinpb "github.com/myelin-sim/myelin/proto"
)

func TestValidateScheduleBad(t *testing.T) {
	const in = `inputs { name: "d" target: "E" poisson { weight: 1 `
	tests := []struct{ name, spec, want string }{
		{"rate and schedule", `poisson { rate_hz: 5 schedule { piecewise { time_ms: [0] rate_hz: [1] } } }`, `input "d" (inputs[0]): poisson.rate_hz = 5: must be 0 when poisson.schedule is set`},
		{"no kind", `schedule {}`, `poisson.schedule.kind: not set: one of piecewise, sinusoidal is required`},
		{"piecewise empty", `schedule { piecewise {} }`, `poisson.schedule.piecewise.time_ms: is empty`},
		{"piecewise lengths", `schedule { piecewise { time_ms: [0, 5] rate_hz: [1] } }`, `poisson.schedule.piecewise.rate_hz: has 1 entries: must have as many as time_ms (2)`},
		{"piecewise order", `schedule { piecewise { time_ms: [0, 5, 5] rate_hz: [1, 2, 3] } }`, `poisson.schedule.piecewise.time_ms[2] = 5: must be > time_ms[1] (5)`},
		{"piecewise time", `schedule { piecewise { time_ms: [-1] rate_hz: [1] } }`, `poisson.schedule.piecewise.time_ms[0] = -1: must be finite and >= 0`},
		{"piecewise rate", `schedule { piecewise { time_ms: [0, 1] rate_hz: [1, nan] } }`, `poisson.schedule.piecewise.rate_hz[1] = NaN: must be finite and >= 0`},
		{"piecewise rate huge", `schedule { piecewise { time_ms: [0] rate_hz: [1e11] } }`, `poisson.schedule.piecewise.rate_hz[0] = 1e+11: must be at most 1e+10 Hz`},
		{"depth", `schedule { sinusoidal { mean_hz: 5 depth: 1.5 frequency_hz: 8 } }`, `poisson.schedule.sinusoidal.depth = 1.5: must be in [0, 1]`},
		{"frequency", `schedule { sinusoidal { mean_hz: 5 depth: 0.5 } }`, `poisson.schedule.sinusoidal.frequency_hz = 0: must be in (0, 1e6]`},
		{"mean", `schedule { sinusoidal { mean_hz: -5 frequency_hz: 8 } }`, `poisson.schedule.sinusoidal.mean_hz = -5: must be finite and >= 0`},
		{"peak", `schedule { sinusoidal { mean_hz: 9e9 depth: 0.5 frequency_hz: 8 } }`, `poisson.schedule.sinusoidal.mean_hz = 9e+09: peak mean_hz·(1+depth) = 1.35e+10 must be at most 1e+10 Hz`},
		{"phase", `schedule { sinusoidal { mean_hz: 5 frequency_hz: 8 phase_deg: inf } }`, `poisson.schedule.sinusoidal.phase_deg = +Inf: must be finite`},
		{"step", `schedule { sinusoidal { mean_hz: 5 frequency_hz: 8 step_ms: -1 } }`, `poisson.schedule.sinusoidal.step_ms = -1: must be finite and >= 0`},
		{"segments", `schedule { sinusoidal { mean_hz: 5 frequency_hz: 8 step_ms: 0.1 } }`, `poisson.schedule.sinusoidal.step_ms = 0.1: gives 50000 segments over [0, 5000) ms: at most 10000`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := "duration_ms: 5000" + pops + in + tc.spec + " } }"
			if strings.HasPrefix(tc.spec, "poisson") {
				s = "duration_ms: 5000" + pops + `inputs { name: "d" target: "E" ` + tc.spec + " }"
			}
			n, err := Parse([]byte(s), Textproto)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			ApplyDefaults(n)
			err = Validate(n)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant substring:\n%s", err, tc.want)
			}
		})
	}
}

func TestValidateScheduleGood(t *testing.T) {
	n, err := New("ok").Duration(1000).Population("E", 10, IafPscExp(nil)).
		Poisson("E", 0, 1, Piecewise([]float64{0, 100}, []float64{5, 0})).
		Poisson("E", 0, 1, Sinusoidal(10, 1, 8, -90, 2), Window(100, 300)).Build()
	if err != nil {
		t.Fatal(err)
	}
	ApplyDefaults(n)
	if err := Validate(n); err != nil {
		t.Fatal(err)
	}
}

func TestSinusoidMean(t *testing.T) {
	s := &myelinpb.SinusoidalRate{MeanHz: 10, Depth: 0.5, FrequencyHz: 5, PhaseDeg: 30}
	// A whole period averages to the mean; a short span to the value at
	// its middle.
	if m := SinusoidMean(s, 13, 213); math.Abs(m-10) > 1e-9 {
		t.Errorf("mean over a period = %g, want 10", m)
	}
	want := 10 * (1 + 0.5*math.Sin(2*math.Pi*5*0.050+math.Pi/6))
	if m := SinusoidMean(s, 50-1e-4, 50+1e-4); math.Abs(m-want) > 1e-6 {
		t.Errorf("mean over a short span = %g, want %g", m, want)
	}
	if got := SinusoidStepSteps(0, 0.1); got != 10 {
		t.Errorf("default step = %d steps, want 10", got)
	}
	if got := SinusoidStepSteps(0.01, 0.1); got != 1 {
		t.Errorf("step below dt = %d steps, want 1", got)
	}
}
