package models_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/analysis"
	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/stream"
)

// pingTransientMs is the start of the run left out of the analyses.
const pingTransientMs = 200

// pingE returns ping's E spikes from pingTransientMs on, as an analysis
// population, and the analysed duration.
func pingE(net *network.Network, r *stream.Result) (analysis.Population, float64) {
	e := net.Pops[0]
	p := analysis.Population{Name: "E", Size: int(e.Size)}
	for i, st := range r.Steps {
		id := r.IDs[i]
		t := float64(st) * net.Dt
		if id >= e.First && id < e.First+e.Size && t >= pingTransientMs {
			p.TimesMs = append(p.TimesMs, t-pingTransientMs)
			p.IDs = append(p.IDs, id-e.First)
		}
	}
	return p, float64(net.Steps)*net.Dt - pingTransientMs
}

// ping's E population rate oscillates in the gamma band: its spectrum
// (1 ms bins, 1 s Welch segments) peaks in 30–80 Hz with the peak at least
// 5× the median power. The same spikes at random times (a control with the
// same rate) show no such peak, so the criterion is not met by any spike
// train. E fires sparsely and irregularly, well below the rhythm's frequency.
func TestPingGamma(t *testing.T) {
	net, res, r := run(t, "ping", map[string]string{"duration_ms": "2200"})
	e, dur := pingE(net, r)
	sp, err := analysis.PowerSpectrum(e, dur, 1, 1000, 1)
	if err != nil {
		t.Fatal(err)
	}
	ratio := analysis.PeakToMedian(sp, 1)
	cv, _ := analysis.CVISI(e)
	t.Logf("E %.2f Hz (CV ISI %.2f), I %.2f Hz; E rate spectrum peak %.1f Hz, %.0f× the median power", rate(net, res, 0), cv, rate(net, res, 1), sp.PeakHz, ratio)
	if !(sp.PeakHz >= 30 && sp.PeakHz <= 80) || !(ratio >= 5) {
		t.Errorf("spectrum peak at %.1f Hz, %.2f× the median power: want 30–80 Hz and >= 5×", sp.PeakHz, ratio)
	}
	if re := rate(net, res, 0); !(re > 1 && re < sp.PeakHz/2) || !(cv > 0.4) {
		t.Errorf("E fires at %.2f Hz with CV ISI %.2f: want sparse, irregular firing (1 Hz to half the %.1f Hz rhythm, CV > 0.4)", re, cv, sp.PeakHz)
	}

	rng := rand.New(rand.NewPCG(1, 2))
	shuffled := analysis.Population{Name: "E shuffled", Size: e.Size, IDs: e.IDs}
	for range e.TimesMs {
		shuffled.TimesMs = append(shuffled.TimesMs, rng.Float64()*dur)
	}
	sp, err = analysis.PowerSpectrum(shuffled, dur, 1, 1000, 1)
	if err != nil {
		t.Fatal(err)
	}
	if ratio := analysis.PeakToMedian(sp, 1); ratio >= 5 {
		t.Errorf("control: spikes at random times give a peak %.2f× the median power at %.1f Hz, want < 5×", ratio, sp.PeakHz)
	}
}

// With theta-modulated drive, the amplitude of ping's gamma follows the
// theta phase: the modulation index (Tort et al. 2010) of the E rate is
// above the 99th percentile of shuffled surrogates. With constant drive it
// is not, and it is at least 10× smaller.
func TestPingThetaGammaCoupling(t *testing.T) {
	mi := func(set map[string]string) analysis.PAC {
		t.Helper()
		set["duration_ms"] = "4200"
		net, _, r := run(t, "ping", set)
		e, dur := pingE(net, r)
		pac, err := analysis.PopulationPAC(e, dur, 1, analysis.PACOptions{Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		return pac
	}
	theta := mi(map[string]string{"theta_depth": "0.5", "theta_hz": "8"})
	flat := mi(map[string]string{})
	t.Logf("theta drive: MI %.5f (surrogates: mean %.5f, 99th percentile %.5f; preferred phase %.0f°); constant drive: MI %.5f (99th percentile %.5f)",
		theta.MI, theta.SurrogateMean, theta.SurrogateP99, theta.PreferredPhaseDeg, flat.MI, flat.SurrogateP99)
	if !theta.Significant() {
		t.Errorf("theta drive: MI %.5f is not above the surrogates' 99th percentile %.5f", theta.MI, theta.SurrogateP99)
	}
	if flat.Significant() {
		t.Errorf("constant drive: MI %.5f above the surrogates' 99th percentile %.5f: coupling without theta", flat.MI, flat.SurrogateP99)
	}
	if !(theta.MI >= 10*flat.MI) {
		t.Errorf("MI %.5f with theta drive, %.5f without: want at least 10× more with theta", theta.MI, flat.MI)
	}
}

func TestPingParameters(t *testing.T) {
	for _, tc := range []struct {
		set  map[string]string
		want string
	}{
		{map[string]string{"theta_depth": "1.5"}, "parameter theta_depth = 1.5: must be in [0, 1]"},
		{map[string]string{"theta_depth": "-0.1"}, "parameter theta_depth"},
		{map[string]string{"theta_hz": "0"}, "parameter theta_hz = 0"},
		{map[string]string{"tau_gaba": "-1"}, "parameter tau_gaba = -1"},
		{map[string]string{"drive_hz": "-5"}, "parameter drive_hz = -5: must be >= 0"},
		{map[string]string{"drive_hz": "NaN"}, "parameter drive_hz"},
		{map[string]string{"n": "5"}, "parameter n = 5"},
		{map[string]string{"duration_ms": "-1"}, "duration"},
	} {
		if _, err := models.Spec("ping", tc.set); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want it to mention %q", tc.set, err, tc.want)
		}
	}
	// Theta drive resolves into at most the schedule limit of segments,
	// however long the run; other sizes validate.
	for _, set := range []map[string]string{
		{"theta_depth": "1", "duration_ms": "200000"},
		{"n": "10", "theta_depth": "0.3"},
		{"n": "20000", "drive_hz": "0"},
	} {
		if _, err := models.Spec("ping", set); err != nil {
			t.Errorf("%v: %v", set, err)
		}
	}
}
