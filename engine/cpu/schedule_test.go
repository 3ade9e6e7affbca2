package cpu_test

import (
	"math"
	"math/cmplx"
	"testing"

	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// detector is an unconnected iaf_psc_delta population that fires in every
// step in which its Poisson input delivers at least one spike (threshold
// 1 mV above rest, weight 10 mV, no refractory time), so its spikes count
// the steps with input: probability 1 - exp(-rate·dt).
func detector(name string, n uint32, durMs float64, opts ...spec.Option) *spec.Builder {
	f := proto.Float64
	return spec.New(name).Dt(0.1).Duration(durMs).Seed(7).
		Population("P", n, spec.IafPscDelta(&myelinpb.IafPscDelta{EL: f(-70), VTh: f(-69), VReset: f(-70), TRef: f(0)})).
		Poisson("P", 0, 10, opts...)
}

// stepCounts runs s and returns the spike count of every step.
func stepCounts(t *testing.T, s *myelinpb.Network) []uint32 {
	t.Helper()
	net, all := runBlocks(t, s, 2)
	if uint64(len(all.Counts)) != net.Steps {
		t.Fatalf("%d step counts for %d steps", len(all.Counts), net.Steps)
	}
	return all.Counts
}

// pFire is the probability that a detector fires in a step at rate r Hz.
func pFire(r float64) float64 { return -math.Expm1(-r * 0.1 / 1000) }

func TestPiecewiseRateFollowsSchedule(t *testing.T) {
	const n = 2000
	s, err := detector("piecewise", n, 1000, spec.Window(100, 900),
		spec.Piecewise([]float64{0, 200, 500.05, 700}, []float64{20, 80, 5, 0})).Build()
	if err != nil {
		t.Fatal(err)
	}
	c := stepCounts(t, s)
	// Expected segments in steps: [1000, 2000) 20 Hz, [2000, 5001) 80 Hz,
	// [5001, 7000) 5 Hz, [7000, 10000) nothing.
	for _, seg := range []struct {
		a, b int
		hz   float64
	}{{0, 1000, 0}, {1000, 2000, 20}, {2000, 5001, 80}, {5001, 7000, 5}, {7000, 10000, 0}} {
		var got float64
		for _, x := range c[seg.a:seg.b] {
			got += float64(x)
		}
		want := float64(n*(seg.b-seg.a)) * pFire(seg.hz)
		if seg.hz == 0 {
			if got != 0 {
				t.Errorf("steps [%d, %d): %g spikes, want none", seg.a, seg.b, got)
			}
			continue
		}
		z := (got - want) / math.Sqrt(want)
		rate := got / float64(n) / (float64(seg.b-seg.a) * 1e-4)
		t.Logf("steps [%d, %d): %.2f Hz (schedule %g Hz), z = %.2f", seg.a, seg.b, rate, seg.hz, z)
		if math.Abs(z) > 5 {
			t.Errorf("steps [%d, %d): %g spikes, want %.0f ± %.0f (z = %.1f)", seg.a, seg.b, got, want, math.Sqrt(want), z)
		}
	}
	// The edges are sharp: the first and last step of the 80 Hz segment
	// already carry its rate (about 10 spikes each), the steps around them
	// the rates of their neighbours (about 4 and 1).
	if c[1999]+c[5001] > 30 || c[2000] == 0 && c[5000] == 0 {
		t.Errorf("segment edges: steps 1999, 2000, 5000, 5001 have %d, %d, %d, %d spikes", c[1999], c[2000], c[5000], c[5001])
	}
}

func TestSinusoidalRateFollowsSchedule(t *testing.T) {
	const (
		n     = 2000
		mean  = 40.0
		depth = 0.8
		freq  = 8.0
		phase = 30.0
		dur   = 1000.0
	)
	s, err := detector("theta", n, dur, spec.Sinusoidal(mean, depth, freq, phase, 0)).Build()
	if err != nil {
		t.Fatal(err)
	}
	c := stepCounts(t, s)
	// Fourier component at freq of the population rate: r(t) ≈ m(1 +
	// d sin(ωt + φ)) = m(1 + d cos(ωt + φ - 90°)).
	var sum float64
	var z complex128
	for st, x := range c {
		r := float64(x) / n / 1e-4 // Hz
		sum += r
		z += complex(r, 0) * cmplx.Exp(complex(0, -2*math.Pi*freq*float64(st)*0.1/1000))
	}
	m := sum / float64(len(c))
	d := 2 * cmplx.Abs(z) / sum
	ph := cmplx.Phase(z)*180/math.Pi + 90
	t.Logf("mean %.2f Hz (want %g), depth %.3f (want %g), phase %.1f° (want %g°)", m, mean, d, depth, ph, phase)
	if math.Abs(m-mean) > 0.03*mean {
		t.Errorf("mean rate %.2f Hz, want %g ± 3%%", m, mean)
	}
	if math.Abs(d-depth) > 0.04 {
		t.Errorf("modulation depth %.3f, want %g ± 0.04", d, depth)
	}
	if math.Abs(ph-phase) > 4 {
		t.Errorf("phase %.1f°, want %g ± 4°", ph, phase)
	}
	// Every 5 ms bin against the quantised schedule.
	worst := 0.0
	for a := 0; a < len(c); a += 50 {
		var got, want float64
		for st := a; st < a+50; st++ {
			got += float64(c[st])
			ms := float64(st / 10) // 1 ms segments
			want += n * pFire(spec.SinusoidMean(&myelinpb.SinusoidalRate{MeanHz: mean, Depth: depth, FrequencyHz: freq, PhaseDeg: phase}, ms, ms+1))
		}
		worst = max(worst, math.Abs(got-want)/math.Sqrt(want))
	}
	t.Logf("worst 5 ms bin: %.2f σ", worst)
	if worst > 5 {
		t.Errorf("a 5 ms bin is %.1f σ from the schedule", worst)
	}
}
