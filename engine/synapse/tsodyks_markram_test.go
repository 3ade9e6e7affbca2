package synapse

import (
	"math"
	"testing"
)

// tm64 is tsodyks2_synapse::send in float64: the reference.
type tm64 struct{ u, x, last float64 }

func (s *tm64) spike(U, tauRec, tauFac, t float64) float64 {
	h := t - s.last
	ud := 0.0
	if tauFac > 0 {
		ud = math.Exp(-h / tauFac)
	}
	s.x = 1 + (s.x-s.x*s.u-1)*math.Exp(-h/tauRec)
	s.u = U + s.u*(1-U)*ud
	s.last = t
	return s.u * s.x
}

// TestRegularTrain drives one neuron's state with regular trains and checks
// every spike's factor against the float64 recursion, and the last one
// against the closed-form steady state: with d = exp(-Δ/tau_rec) and
// e = exp(-Δ/tau_fac), u* = U / (1 - (1-U)e), x* = (1-d) / (1 - d(1-u*)),
// factor u*·x*.
func TestRegularTrain(t *testing.T) {
	const dt = 0.1
	for _, c := range []struct {
		name              string
		U, tauRec, tauFac float64
		intervalSteps, n  uint64
	}{
		{"depressing 20 Hz", 0.5, 800, 0, 500, 60},
		{"depressing 100 Hz", 0.5, 100, 0, 100, 80},
		{"facilitating 20 Hz (Mongillo et al.)", 0.2, 200, 1500, 500, 200},
		{"facilitating 50 Hz", 0.05, 100, 1000, 200, 300},
	} {
		t.Run(c.name, func(t *testing.T) {
			co, err := NewTsodyksMarkram(c.U, c.tauRec, c.tauFac, dt)
			if err != nil {
				t.Fatal(err)
			}
			u, x, last := co.Init()
			if u != float32(c.U) || x != 1 || last != 0 {
				t.Fatalf("Init = %v, %v, %v", u, x, last)
			}
			ref := tm64{u: c.U, x: 1}
			var f float32
			var want float64
			for k := uint64(1); k <= c.n; k++ {
				step := k * c.intervalSteps
				f = co.Spike(&u, &x, &last, step)
				want = ref.spike(c.U, c.tauRec, c.tauFac, float64(step+1)*dt) // stamped at the step's end
				if math.Abs(float64(f)-want) > 2e-6*want+1e-7 {
					t.Fatalf("spike %d: factor %v, float64 reference %v", k, f, want)
				}
			}
			delta := float64(c.intervalSteps) * dt
			d := math.Exp(-delta / c.tauRec)
			e := 0.0
			if c.tauFac > 0 {
				e = math.Exp(-delta / c.tauFac)
			}
			us := c.U / (1 - (1-c.U)*e)
			xs := (1 - d) / (1 - d*(1-us))
			if math.Abs(float64(f)-us*xs) > 1e-4*us*xs {
				t.Errorf("after %d spikes factor %v, steady state u*x* = %v", c.n, f, us*xs)
			}
		})
	}
}

// TestFacilitationAndDepression checks the direction of each regime: a
// facilitating synapse's factor grows over the first spikes of a train,
// a depressing one's shrinks, and both recover towards U after a long
// pause.
func TestFacilitationAndDepression(t *testing.T) {
	fac, _ := NewTsodyksMarkram(0.1, 20, 1000, 0.1) // fast recovery: x stays near 1
	dep, _ := NewTsodyksMarkram(0.6, 500, 0, 0.1)
	for _, c := range []struct {
		co   TsodyksMarkram
		grow bool
	}{{fac, true}, {dep, false}} {
		u, x, last := c.co.Init()
		first := c.co.Spike(&u, &x, &last, 1_000_000) // 100 s after t = 0: fresh
		prev := first
		for k := uint64(1); k <= 5; k++ {
			f := c.co.Spike(&u, &x, &last, 1_000_000+k*200) // 50 Hz
			if (f > prev) != c.grow {
				t.Errorf("U %v: spike %d factor %v after %v: want it to %s", c.co.U, k, f, prev, map[bool]string{true: "grow", false: "shrink"}[c.grow])
			}
			prev = f
		}
		back := c.co.Spike(&u, &x, &last, 1_000_000+5*200+200_000) // 20 s later
		if math.Abs(float64(back-first)) > 1e-4 {
			t.Errorf("U %v: after a long pause factor %v, want the fresh %v", c.co.U, back, first)
		}
	}
}

func TestNewTsodyksMarkramChecks(t *testing.T) {
	for _, c := range []struct{ u, rec, fac, dt float64 }{
		{0, 100, 0, 0.1}, {1.5, 100, 0, 0.1}, {math.NaN(), 100, 0, 0.1}, {0.5, 0, 0, 0.1}, {0.5, math.Inf(1), 0, 0.1},
		{0.5, 100, -1, 0.1}, {0.5, 100, math.NaN(), 0.1}, {0.5, 100, 0, 0},
		{0.5, 1e-300, 0, 0.1}, {0.5, 100, 1e-9, 0.1}, // dt/tau past float32: would give NaN at h = 0
	} {
		if _, err := NewTsodyksMarkram(c.u, c.rec, c.fac, c.dt); err == nil {
			t.Errorf("NewTsodyksMarkram(%v, %v, %v, %v) accepted", c.u, c.rec, c.fac, c.dt)
		}
	}
}

func TestScale(t *testing.T) {
	for _, c := range []struct {
		w    int32
		f    float32
		want int32
	}{{1000, 0.5, 500}, {-1000, 0.5, -500}, {999, 0.5, 499}, {-999, 0.5, -499}, {7, 0, 0}, {1 << 30, 1, 1 << 30}} {
		if got := Scale(c.w, c.f); got != c.want {
			t.Errorf("Scale(%d, %v) = %d, want %d", c.w, c.f, got, c.want)
		}
	}
}

// TestFirstSpikeAndTinyTauFac pins two conventions of NEST's
// tsodyks2_synapse: a spike in step t is stamped at (t+1)·dt and the
// previous spike is at time 0 before the first, so the first spike of
// step 0 sees h = dt; and tau_fac below 1e-10 ms means no facilitation
// (u stays U).
func TestFirstSpikeAndTinyTauFac(t *testing.T) {
	c, err := NewTsodyksMarkram(0.5, 1, 1e-11, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	if c.Fac != 0 {
		t.Fatalf("tau_fac 1e-11 ms: Fac = %d, want none", c.Fac)
	}
	u, x, last := c.Init()
	f := c.Spike(&u, &x, &last, 0)
	want := 0.5 * (1 - 0.5*math.Exp(-0.1)) // x = 1 - U·exp(-dt/tau_rec), u = U
	if math.Abs(float64(f)-want) > 1e-6 || last != 1 || u != 0.5 {
		t.Errorf("first spike in step 0: factor %v (want %v), u %v, last %d (want 1)", f, want, u, last)
	}
}
