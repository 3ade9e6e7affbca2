package cpu_test

import (
	"math"
	"math/rand"
	"slices"
	"testing"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/cpu"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// stdpRun builds s, runs it on be and returns the spike steps of every
// neuron and the final weights of set 0 as a map from (local pre, local
// post) to the weight in the spec's units (summed over multapses).
func stdpRun(t *testing.T, s *myelinpb.Network, be *cpu.Backend) (map[uint32][]uint64, map[[2]uint32]float64, *network.Network, backend.Block) {
	t.Helper()
	net, err := network.Build(s, network.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := be.Load(net); err != nil {
		t.Fatal(err)
	}
	var blk backend.Block
	blk.Reset(0, 0)
	if err := be.Advance(int(net.Steps), &blk); err != nil {
		t.Fatal(err)
	}
	spikes := map[uint32][]uint64{}
	off := 0
	for step, c := range blk.Counts {
		for _, id := range blk.IDs[off : off+int(c)] {
			spikes[id] = append(spikes[id], uint64(step))
		}
		off += int(c)
	}
	wt, err := be.Weights()
	if err != nil {
		t.Fatal(err)
	}
	set := &net.STDP[0]
	unit := math.Ldexp(1, -int(net.Pops[set.Post].Shift))
	w := map[[2]uint32]float64{}
	for j := range net.Pops[set.Post].Size {
		for e := set.PostPtr[j]; e < set.PostPtr[j+1]; e++ {
			w[[2]uint32{set.PostPre[e], j}] += float64(wt[set.PostW[e]]) * unit
		}
	}
	return spikes, w, net, blk
}

// pairSpec is P (n neurons) onto Q (n neurons), one to one with STDP and
// weight w0; both are driven to fire at the given times by spike-array
// inputs far above threshold, and the plastic input alone (at most w_max
// = 2 mV) never makes Q fire.
func pairSpec(n uint32, w0 float64, st func(*myelinpb.STDP), preIdx []uint32, preMs []float64, postIdx []uint32, postMs []float64, durMs float64) *myelinpb.Network {
	f := proto.Float64
	m := &myelinpb.IafPscDelta{EL: f(0), VTh: f(10), VReset: f(0), TRef: f(0.1)}
	s, err := spec.New("stdp-pairs").Dt(0.1).Duration(durMs).Seed(5).
		Population("P", n, spec.IafPscDelta(m)).
		Population("Q", n, spec.IafPscDelta(m)).
		Project("P", "Q", spec.OneToOne(), spec.Weight(spec.Const(w0)), spec.Delay(spec.Const(1.5)), spec.STDP(func(s *myelinpb.STDP) {
			s.WMax = f(2)
			s.Lambda = f(0.05)
			s.Alpha = f(1.3)
			s.TauPlusMs = f(16.8)
			s.TauMinusMs = f(33.7)
			if st != nil {
				st(s)
			}
		})).
		SpikeTimes("P", preIdx, preMs, 100).
		SpikeTimes("Q", postIdx, postMs, 100).
		Build()
	if err != nil {
		panic(err)
	}
	return s
}

// TestSTDPWindow: one pre and one post spike per pair of neurons, at lags
// from -60 to +60 ms; the weight change of each pair must be the STDP
// window, A+ exp(-Δ/τ+) for Δ = t_post − t_pre > 0 and −A− exp(Δ/τ−) for
// Δ < 0 (A+ = λ·w_max·(1 − w0/w_max)^mu_plus, A− = α·λ·w_max·(w0/w_max)^mu_minus),
// 0 for Δ = 0, within the fixed-point resolution 2^-shift (plus float32
// rounding of the change).
func TestSTDPWindow(t *testing.T) {
	lags := []float64{-60, -20, -7.3, -1, -0.1, 0, 0.1, 1, 5, 16.8, 40, 60}
	const w0, wmax, lambda, alpha, tauP, tauM = 0.8, 2.0, 0.05, 1.3, 16.8, 33.7
	for _, c := range []struct {
		name   string
		mu     float64
		aPlus  float64
		aMinus float64
	}{
		{"additive", 0, lambda * wmax, alpha * lambda * wmax},
		{"multiplicative", 1, lambda * (wmax - w0), alpha * lambda * w0},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := uint32(len(lags))
			var idx []uint32
			var pre, post []float64
			for k, lag := range lags {
				idx = append(idx, uint32(k))
				pre = append(pre, 100)
				post = append(post, 100+lag)
			}
			s := pairSpec(n, w0, func(s *myelinpb.STDP) { s.MuPlus, s.MuMinus = proto.Float64(c.mu), proto.Float64(c.mu) }, idx, pre, idx, post, 250)
			spikes, w, net, _ := stdpRun(t, s, cpu.New(1))
			unit := math.Ldexp(1, -int(net.Pops[1].Shift))
			for k, lag := range lags {
				sp, sq := spikes[uint32(k)], spikes[n+uint32(k)]
				if len(sp) != 1 || len(sq) != 1 {
					t.Fatalf("pair %d: P fired at %v, Q at %v: want one spike each", k, sp, sq)
				}
				d := (float64(sq[0]) - float64(sp[0])) * 0.1
				if math.Abs(d-lag) > 1e-9 {
					t.Fatalf("pair %d: lag %.1f ms, want %.1f", k, d, lag)
				}
				want := 0.0
				switch {
				case d > 0:
					want = c.aPlus * math.Exp(-d/tauP)
				case d < 0:
					want = -c.aMinus * math.Exp(d/tauM)
				}
				got := w[[2]uint32{uint32(k), uint32(k)}] - w0
				if tol := unit + 1e-6*math.Abs(want); math.Abs(got-want) > tol {
					t.Errorf("Δ = %+.1f ms: Δw = %.9f, want %.9f (tolerance %.3g)", d, got, want, tol)
				}
			}
		})
	}
}

// TestSTDPBounds: a learning rate so large that one pair would carry the
// weight past w_max (potentiation) or below 0 (depression) leaves it at
// the bound, additive and multiplicative.
func TestSTDPBounds(t *testing.T) {
	for _, mu := range []float64{0, 1} {
		s := pairSpec(2, 1, func(s *myelinpb.STDP) {
			s.Lambda = proto.Float64(50)
			s.MuPlus, s.MuMinus = proto.Float64(mu), proto.Float64(mu)
		}, []uint32{0, 1}, []float64{100, 100}, []uint32{0, 1}, []float64{102, 98}, 200)
		_, w, _, _ := stdpRun(t, s, cpu.New(1))
		if got := w[[2]uint32{0, 0}]; got != 2 {
			t.Errorf("mu %v: potentiated weight %v, want w_max 2", mu, got)
		}
		if got := w[[2]uint32{1, 1}]; got != 0 {
			t.Errorf("mu %v: depressed weight %v, want 0", mu, got)
		}
	}
}

// stdpReference replays the rule in float64 from the spike steps: at
// each step, first the potentiation of every synapse onto a neuron that
// fired (by pre spikes of earlier steps), then the depression of every
// synapse from a neuron that fired (by post spikes of earlier steps).
func stdpReference(pre, post [][]uint64, w0 float64, mu float64, nsteps uint64) (w [][]float64, updates [][]int) {
	const wmax, lambda, alpha, tauP, tauM, dt = 2.0, 0.05, 1.3, 16.8, 33.7, 0.1
	trace := func(times []uint64, t uint64, tau float64) float64 {
		k := 0.0
		for _, s := range times {
			if s < t {
				k += math.Exp(-float64(t-s) * dt / tau)
			}
		}
		return k
	}
	has := func(times []uint64, t uint64) bool { _, ok := slices.BinarySearch(times, t); return ok }
	w = make([][]float64, len(pre))
	updates = make([][]int, len(pre))
	for i := range w {
		w[i] = make([]float64, len(post))
		updates[i] = make([]int, len(post))
		for j := range w[i] {
			w[i][j] = w0
		}
	}
	for t := uint64(0); t < nsteps; t++ {
		for j := range post {
			if !has(post[j], t) {
				continue
			}
			for i := range pre {
				if k := trace(pre[i], t, tauP); k > 0 {
					f := math.Pow(1-w[i][j]/wmax, mu)
					w[i][j] = min(wmax, w[i][j]+lambda*wmax*f*k)
					updates[i][j]++
				}
			}
		}
		for i := range pre {
			if !has(pre[i], t) {
				continue
			}
			for j := range post {
				if k := trace(post[j], t, tauM); k > 0 {
					g := math.Pow(w[i][j]/wmax, mu)
					w[i][j] = max(0, w[i][j]-alpha*lambda*wmax*g*k)
					updates[i][j]++
				}
			}
		}
	}
	return w, updates
}

// TestSTDPTrains: 12 pre and 9 post neurons, all to all, with irregular
// trains of about 40 spikes each over 2 s; every final weight must match
// the float64 replay of the rule within one fixed-point unit per update
// (plus float32 rounding), additive and multiplicative.
func TestSTDPTrains(t *testing.T) {
	const np, nq, dur = 12, 9, 2000.0
	rng := rand.New(rand.NewSource(1))
	train := func(n int, off uint32) (idx []uint32, ms []float64) {
		for i := range n {
			tm := 5.0
			for {
				tm += 3 + rng.ExpFloat64()*47
				if tm > dur-10 {
					break
				}
				idx = append(idx, off+uint32(i))
				ms = append(ms, math.Round(tm*10)/10)
			}
		}
		return idx, ms
	}
	pi, pt := train(np, 0)
	qi, qt := train(nq, 0)
	for _, mu := range []float64{0, 1} {
		f := proto.Float64
		m := &myelinpb.IafPscDelta{EL: f(0), VTh: f(10), VReset: f(0), TRef: f(0.1)}
		s, err := spec.New("stdp-trains").Dt(0.1).Duration(dur).Seed(5).
			Population("P", np, spec.IafPscDelta(m)).
			Population("Q", nq, spec.IafPscDelta(m)).
			Project("P", "Q", spec.AllToAll(), spec.Weight(spec.Const(0.1)), spec.Delay(spec.Const(2)), spec.STDP(func(s *myelinpb.STDP) {
				s.WMax, s.Lambda, s.Alpha, s.TauPlusMs, s.TauMinusMs = f(2), f(0.05), f(1.3), f(16.8), f(33.7)
				s.MuPlus, s.MuMinus = f(mu), f(mu)
			})).
			SpikeTimes("P", pi, pt, 100).
			SpikeTimes("Q", qi, qt, 100).
			Build()
		if err != nil {
			t.Fatal(err)
		}
		spikes, w, net, _ := stdpRun(t, s, cpu.New(1))
		pre, post := make([][]uint64, np), make([][]uint64, nq)
		for i := range pre {
			pre[i] = spikes[uint32(i)]
		}
		for j := range post {
			post[j] = spikes[np+uint32(j)]
			if len(post[j]) < 20 {
				t.Fatalf("post neuron %d fired %d times: the test needs trains", j, len(post[j]))
			}
		}
		ref, updates := stdpReference(pre, post, 0.1, mu, net.Steps)
		unit := math.Ldexp(1, -int(net.Pops[1].Shift))
		changed := 0
		for i := range np {
			for j := range nq {
				got, want := w[[2]uint32{uint32(i), uint32(j)}], ref[i][j]
				if math.Abs(want-0.1) > 1e-3 {
					changed++
				}
				if tol := float64(updates[i][j])*(unit+2e-7*0.05*2*4) + 1e-9; math.Abs(got-want) > tol {
					t.Errorf("mu %v: w[%d][%d] = %.9f, want %.9f (%d updates, tolerance %.3g)", mu, i, j, got, want, updates[i][j], tol)
				}
			}
		}
		if changed < np*nq/2 {
			t.Errorf("mu %v: only %d of %d weights changed by more than 1e-3", mu, changed, np*nq)
		}
	}
}

// brunelSTDP is a small Brunel network with STDP on E→E.
func brunelSTDP(phases ...*myelinpb.Phase) *myelinpb.Network {
	f := proto.Float64
	m := &myelinpb.IafPscDelta{EL: f(0), VTh: f(20), VReset: f(10), TRef: f(2), TauM: f(20)}
	s, err := spec.New("brunel-stdp").Dt(0.1).Duration(300).Seed(11).
		Population("E", 800, spec.IafPscDelta(m)).
		Population("I", 200, spec.IafPscDelta(m)).
		Project("E", "E", spec.FixedIn(80), spec.Weight(spec.UniformDist(0.05, 0.2)), spec.Delay(spec.UniformDist(0.5, 3)), spec.STDP(func(s *myelinpb.STDP) {
			s.WMax, s.Lambda, s.MuPlus, s.MuMinus = f(0.4), f(0.02), f(0), f(1)
		})).
		Project("E", "I", spec.FixedIn(80), spec.Weight(spec.Const(0.1)), spec.Delay(spec.Const(1.5))).
		Project("I", "E", spec.FixedIn(20), spec.Weight(spec.Const(-0.5)), spec.Delay(spec.Const(1.5))).
		Project("I", "I", spec.FixedIn(20), spec.Weight(spec.Const(-0.5)), spec.Delay(spec.Const(1.5))).
		Poisson("E", 20000, 0.1).Poisson("I", 20000, 0.1).
		Build()
	if err != nil {
		panic(err)
	}
	s.Phases = phases
	return s
}

// TestSTDPThreads: spikes and final weights are the same on 1, 2 and 3
// threads (the split loop, whatever the network's size; on 3 threads with
// pending potentiations applied at every post spike instead of every 16th),
// and the weights did change.
func TestSTDPThreads(t *testing.T) {
	s := brunelSTDP()
	_, _, net, one := stdpRun(t, s, cpu.NewSplit(1))
	if len(one.IDs) < 2000 {
		t.Fatalf("%d spikes: the test needs activity", len(one.IDs))
	}
	w1 := weightsOf(t, net, cpu.NewSplit(1))
	if slices.Equal(w1, net.Syn.Weight) {
		t.Fatal("no weight changed")
	}
	for _, th := range []int{2, 3} {
		be := cpu.NewSplit(th)
		if th == 3 {
			be = cpu.NewHist(th, 1) // pending potentiations applied at every post spike
		}
		_, _, _, blk := stdpRun(t, s, be)
		if !slices.Equal(blk.IDs, one.IDs) || !slices.Equal(blk.Counts, one.Counts) {
			t.Errorf("%d threads: spikes differ from 1 thread", th)
		}
		w, _ := be.Weights()
		if d := countDiff(w, w1); d != 0 {
			t.Errorf("%d threads: %d of %d weights differ from 1 thread", th, d, len(w))
		}
	}
}

// weightsOf runs net on be and returns the final weights.
func weightsOf(t *testing.T, net *network.Network, be *cpu.Backend) []int32 {
	t.Helper()
	if err := be.Load(net); err != nil {
		t.Fatal(err)
	}
	var blk backend.Block
	blk.Reset(0, 0)
	if err := be.Advance(int(net.Steps), &blk); err != nil {
		t.Fatal(err)
	}
	w, err := be.Weights()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func countDiff(a, b []int32) int {
	d := 0
	for i := range a {
		if a[i] != b[i] {
			d++
		}
	}
	return d + abs(len(a)-len(b))
}

func abs(x int) int { return max(x, -x) }

// TestSTDPPhases: a phase with learning rate 0 freezes the weights: a run
// of 300 ms with learning in [0, 150) and rate 0 in [150, 300) ends with
// the weights of a 150 ms run, and a run with rate 0 throughout keeps the
// built weights; the run with phases is also the same on 1 and 2 threads.
func TestSTDPPhases(t *testing.T) {
	frozen := brunelSTDP(&myelinpb.Phase{Name: "recall", StartMs: 0, StopMs: 300, LearningRate: proto.Float64(0)})
	net, err := network.Build(frozen, network.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if w := weightsOf(t, net, cpu.New(1)); !slices.Equal(w, net.Syn.Weight) {
		t.Errorf("learning rate 0: %d weights changed", countDiff(w, net.Syn.Weight))
	}
	phased := brunelSTDP(&myelinpb.Phase{Name: "learn", StartMs: 0, StopMs: 150}, &myelinpb.Phase{Name: "recall", StartMs: 150, StopMs: 300, LearningRate: proto.Float64(0)})
	spec.ApplyDefaults(phased)
	net2, err := network.Build(phased, network.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w2 := weightsOf(t, net2, cpu.New(1))
	half := brunelSTDP()
	half.DurationMs = proto.Float64(150)
	net3, err := network.Build(half, network.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w3 := weightsOf(t, net3, cpu.New(1))
	if d := countDiff(w2, w3); d != 0 {
		t.Errorf("learn [0, 150) then rate 0: %d weights differ from a 150 ms run", d)
	}
	if slices.Equal(w3, net3.Syn.Weight) {
		t.Error("no weight changed in 150 ms of learning")
	}
	if d := countDiff(weightsOf(t, net2, cpu.NewSplit(2)), w2); d != 0 {
		t.Errorf("phases on 2 threads: %d weights differ from 1 thread", d)
	}
}
