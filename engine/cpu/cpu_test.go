package cpu_test

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/backend/parity"
	"github.com/myelin-sim/myelin/engine/cpu"
	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/sim"
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// runBlocks builds s and runs it on the CPU backend, returning all output.
func runBlocks(t *testing.T, s *myelinpb.Network, threads int) (*network.Network, backend.Block) {
	t.Helper()
	spec.ApplyDefaults(s)
	if err := spec.Validate(s); err != nil {
		t.Fatal(err)
	}
	net, err := network.Build(s, network.Options{Threads: threads})
	if err != nil {
		t.Fatal(err)
	}
	be := cpu.New(threads)
	if err := be.Load(net); err != nil {
		t.Fatal(err)
	}
	var all, blk backend.Block
	all.Reset(0, len(net.Probes))
	for st := uint64(0); st < net.Steps; st += 100 {
		n := int(min(100, net.Steps-st))
		blk.Reset(st, len(net.Probes))
		if err := be.Advance(n, &blk); err != nil {
			t.Fatal(err)
		}
		all.Counts = append(all.Counts, blk.Counts...)
		all.IDs = append(all.IDs, blk.IDs...)
		for i := range blk.Samples {
			all.Samples[i] = append(all.Samples[i], blk.Samples[i]...)
		}
	}
	return net, all
}

// float32Bound is the float32 precision of an exactly integrated trace:
// each step rounds V - E_L (at most vmax) to half an ulp, and a rounding
// error decays only by exp(-dt/τ) per step, so errors add up to about
// ε·vmax·τ/dt; twice that is the bound.
func float32Bound(vmax, tau, dt float64) float64 {
	return 2 * math.Pow(2, -24) * vmax * tau / dt
}

// Subthreshold iaf_psc_delta: V(t) = E_L + (V0-E_L) e^{-t/τ} + τ I/C (1 - e^{-t/τ})
// plus, after an input spike of weight w arriving at step k, w e^{-(t-t_k)/τ}.
func TestIafPscDeltaSubthresholdClosedForm(t *testing.T) {
	const (
		tau, c, el, ie, v0, w = 20.0, 250.0, -70.0, 100.0, -65.0, 1.5
		dt                    = 0.1
		arrive                = 300 // step at which the input spike arrives
	)
	s := spec.New("delta").Dt(dt).Duration(100).
		Population("n", 1, spec.IafPscDelta(&myelinpb.IafPscDelta{TauM: proto.Float64(tau), CM: proto.Float64(c), EL: proto.Float64(el), IE: proto.Float64(ie), VTh: proto.Float64(1000)}), spec.Initial(spec.Const(v0))).
		SpikeTimes("n", []uint32{0}, []float64{arrive * dt}, w).
		Probe("n", 0, 1, 1).Network()
	_, out := runBlocks(t, s, 1)
	v := out.Samples[0]
	if len(v) != 1000 {
		t.Fatalf("%d samples, want 1000", len(v))
	}
	worst := 0.0
	for k, got := range v {
		// Sample k is V after step k, i.e. at time (k+1) dt.
		tt := float64(k+1) * dt
		want := el + (v0-el)*math.Exp(-tt/tau) + tau*ie/c*(1-math.Exp(-tt/tau))
		if k >= arrive {
			want += w * math.Exp(-float64(k-arrive)*dt/tau)
		}
		worst = math.Max(worst, math.Abs(float64(got)-want))
	}
	if tol := float32Bound(8, tau, dt); worst > tol {
		t.Errorf("largest deviation from the closed form %.3g mV, want < %.3g", worst, tol)
	}
}

// Subthreshold iaf_psc_exp after a single input of w pA arriving at step k:
// V(t) - E_L = w τs τ/(C(τ-τs)) (e^{-s/τ} - e^{-s/τs}), s = t - t_k.
func TestIafPscExpSubthresholdClosedForm(t *testing.T) {
	for _, tc := range []struct{ tauSyn, w float64 }{{2, 300}, {5, -450}, {20, 200}} {
		const tau, c, el, dt, arrive = 20.0, 250.0, -70.0, 0.1, 50
		s := spec.New("exp").Dt(dt).Duration(100).
			Population("n", 1, spec.IafPscExp(&myelinpb.IafPscExp{TauM: proto.Float64(tau), CM: proto.Float64(c), EL: proto.Float64(el), VTh: proto.Float64(1000),
				TauSynEx: proto.Float64(tc.tauSyn), TauSynIn: proto.Float64(tc.tauSyn)})).
			SpikeTimes("n", []uint32{0}, []float64{arrive * dt}, tc.w).
			Probe("n", 0, 1, 1).Network()
		_, out := runBlocks(t, s, 1)
		worst := 0.0
		for k, got := range out.Samples[0] {
			want := el
			if k > arrive {
				sT := float64(k-arrive) * dt
				if tc.tauSyn == tau {
					want += tc.w / c * sT * math.Exp(-sT/tau)
				} else {
					want += tc.w * tc.tauSyn * tau / (c * (tau - tc.tauSyn)) * (math.Exp(-sT/tau) - math.Exp(-sT/tc.tauSyn))
				}
			}
			worst = math.Max(worst, math.Abs(float64(got)-want))
		}
		if tol := float32Bound(2, tau, dt); worst > tol {
			t.Errorf("tau_syn %g: largest deviation from the closed form %.3g mV, want < %.3g", tc.tauSyn, worst, tol)
		}
	}
}

// The f–I curve of a LIF under constant current I:
// f = 1/(t_ref + τ ln((V_inf-V_r)/(V_inf-V_th))), V_inf = E_L + τ I / C.
func TestLIFRateMatchesFICurve(t *testing.T) {
	const tau, c, el, vth, vr, tref = 10.0, 250.0, -70.0, -55.0, -70.0, 2.0
	currents := []float64{380, 400, 450, 500, 600, 800}
	b := spec.New("fi").Dt(0.1).Duration(5000)
	for i, ie := range currents {
		b.Population(string(rune('a'+i)), 1, spec.IafPscDelta(&myelinpb.IafPscDelta{TauM: proto.Float64(tau), CM: proto.Float64(c), EL: proto.Float64(el),
			VTh: proto.Float64(vth), VReset: proto.Float64(vr), TRef: proto.Float64(tref), IE: proto.Float64(ie)}))
	}
	net, out := runBlocks(t, b.Network(), 1)
	k := 0
	first := make([]int, len(currents))
	last := make([]int, len(currents))
	n := make([]int, len(currents))
	for step, cnt := range out.Counts {
		for _, id := range out.IDs[k : k+int(cnt)] {
			p := net.PopOf(id)
			if n[p] == 0 {
				first[p] = step
			}
			last[p] = step
			n[p]++
		}
		k += int(cnt)
	}
	for i, ie := range currents {
		vinf := el + tau*ie/c
		want := 1000 / (tref + tau*math.Log((vinf-vr)/(vinf-vth)))
		got := float64(n[i]-1) / (float64(last[i]-first[i]) * 0.1 / 1000)
		if n[i] < 10 || math.Abs(got-want)/want > 0.01 {
			t.Errorf("I = %g pA: %.3f Hz from %d spikes, f–I curve gives %.3f Hz (want within 1 %%)", ie, got, n[i], want)
		}
	}
}

// streamBytes runs s through the simulation driver and returns the stream
// up to (not including) the trailer, which holds wall times.
func streamBytes(t *testing.T, s *myelinpb.Network, threads int, newBackend func(int) *cpu.Backend) []byte {
	t.Helper()
	s = proto.Clone(s).(*myelinpb.Network)
	spec.ApplyDefaults(s)
	net, err := network.Build(s, network.Options{Threads: threads})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	res, err := sim.Run(context.Background(), net, sim.Options{Backend: newBackend(threads), Out: &buf})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != myelinpb.Trailer_COMPLETE {
		t.Fatalf("status %v", res.Status)
	}
	total := uint64(0)
	for _, c := range res.PopSpikes {
		total += c
	}
	if total == 0 && len(net.Probes) == 0 {
		t.Fatalf("%s: no spikes and no samples: nothing compared", s.GetName())
	}
	return withoutTrailer(t, buf.Bytes())
}

// withoutTrailer cuts the last record (the trailer) off a stream.
func withoutTrailer(t *testing.T, b []byte) []byte {
	t.Helper()
	off, last := 0, 0
	for off < len(b) {
		l, n := uvarint(b[off:])
		if n <= 0 {
			t.Fatalf("bad framing at byte %d", off)
		}
		last = off
		off += n + int(l)
	}
	return b[:last]
}

func uvarint(b []byte) (uint64, int) {
	var x uint64
	for i, c := range b {
		if i == 10 {
			return 0, -1
		}
		x |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return x, i + 1
		}
	}
	return 0, 0
}

func TestSameStreamForAnyThreadCount(t *testing.T) {
	for _, tc := range []struct {
		model string
		set   map[string]string
		probe *myelinpb.StateProbe // straddles the threads' ranges
	}{
		{"brunel", map[string]string{"n": "2500", "duration_ms": "150"}, &myelinpb.StateProbe{Population: "E", First: 900, Count: 300, Every: 2}},
		{"cuba", map[string]string{"duration_ms": "100"}, &myelinpb.StateProbe{Population: "E", First: 1900, Count: 200, Every: 3}},
		{"coba", map[string]string{"duration_ms": "100"}, &myelinpb.StateProbe{Population: "E", First: 0, Count: 3200, Every: 7}},
		{"ring_rate", map[string]string{"duration_ms": "300", "n": "90"}, &myelinpb.StateProbe{Population: "ring", First: 10, Count: 70, Every: 1}},
	} {
		s, err := models.Spec(tc.model, tc.set)
		if err != nil {
			t.Fatal(err)
		}
		if s.Recording == nil {
			s.Recording = &myelinpb.Recording{}
		}
		s.Recording.State = append(s.Recording.State, tc.probe)
		ref := streamBytes(t, s, 1, cpu.New)
		for _, threads := range []int{2, 7, 1} {
			if got := streamBytes(t, s, threads, cpu.New); !bytes.Equal(got, ref) {
				t.Errorf("%s: stream with %d threads differs from the 1-thread stream (%d vs %d bytes)", tc.model, threads, len(got), len(ref))
			}
			// Small networks run on one thread unless forced to split.
			if got := streamBytes(t, s, threads, cpu.NewSplit); !bytes.Equal(got, ref) {
				t.Errorf("%s: stream with %d threads, always split, differs from the 1-thread stream (%d vs %d bytes)", tc.model, threads, len(got), len(ref))
			}
			// The vector kernels give the bits of the scalar loops.
			if got := streamBytes(t, s, threads, cpu.NewScalar); !bytes.Equal(got, ref) {
				t.Errorf("%s: stream with %d threads, split, without vector kernels differs from the 1-thread stream (%d vs %d bytes)", tc.model, threads, len(got), len(ref))
			}
		}
	}
}

// The parity suite's mixed network (all models, windowed and overlapping
// Poisson and DC inputs, rate populations, probes everywhere) gives the same
// stream when split across threads as on one.
func TestMixedSameStreamSplit(t *testing.T) {
	s, err := parity.Mixed()
	if err != nil {
		t.Fatal(err)
	}
	ref := streamBytes(t, s, 1, cpu.New)
	for _, threads := range []int{2, 5} {
		if got := streamBytes(t, s, threads, cpu.NewSplit); !bytes.Equal(got, ref) {
			t.Errorf("stream with %d threads, always split, differs from the 1-thread stream (%d vs %d bytes)", threads, len(got), len(ref))
		}
	}
}

// Short steps run on one thread whatever the thread count; long ones are
// split; those in between measure both layouts.
func TestSmallNetworksRunOnOneThread(t *testing.T) {
	for _, tc := range []struct {
		model string
		set   map[string]string
		want  string
	}{
		{"brunel", map[string]string{"n": "100", "duration_ms": "1"}, "cpu, 2 threads, 1 used: a network of 100 neurons"},
		{"cuba", map[string]string{"duration_ms": "1"}, "cpu, 2 threads, measuring 1 and 2: a network of 4000 neurons"},
		{"brunel", map[string]string{"n": "5000", "duration_ms": "1"}, "cpu, 2 threads ("},
	} {
		s, err := models.Spec(tc.model, tc.set)
		if err != nil {
			t.Fatal(err)
		}
		spec.ApplyDefaults(s)
		net, err := network.Build(s, network.Options{Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		be := cpu.New(2)
		if err := be.Load(net); err != nil {
			t.Fatal(err)
		}
		if got := be.Describe(); !strings.HasPrefix(got, tc.want) || be.Threads() != 2 {
			t.Errorf("%s: Describe() = %q, Threads() = %d; want %q…, 2", tc.model, got, be.Threads(), tc.want)
		}
	}
}

// Load refuses state arrays beyond 2^34 entries with an error instead of
// attempting the allocation (the rate history is RateSlots × N floats).
func TestLoadRefusesHugeBuffers(t *testing.T) {
	net := &network.Network{N: 1 << 24, RingSlots: 2, RateSlots: 1<<10 + 1}
	if err := cpu.New(1).Load(net); err == nil || err.Error() != "cpu: rate history of 1025 slots × 16777216 neurons is too large" {
		t.Errorf("rate history: got %v", err)
	}
	net = &network.Network{N: 1 << 24, RingSlots: 1<<10 + 1}
	if err := cpu.New(1).Load(net); err == nil || err.Error() != "cpu: ring buffers of 1025 slots × 16777216 neurons are too large" {
		t.Errorf("ring: got %v", err)
	}
}

// A rate network whose rates overflow float32 stops with an error naming
// the population and the steps, and the run ends FAILED, not COMPLETE; the
// CPU backend checks once per block, so it names the first block.
func TestNonFiniteStateStopsTheRun(t *testing.T) {
	runErr, err := parity.Runaway(cpu.New(1))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(runErr.Error(), "steps [0, 100)") {
		t.Errorf("error %v: want the block of steps [0, 100)", runErr)
	}
}
