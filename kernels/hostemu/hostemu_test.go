//go:build hostemu

package hostemu

import (
	"fmt"
	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/cpu"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/backend/parity"
	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/neuron"
	"github.com/myelin-sim/myelin/engine/spec"
	"github.com/myelin-sim/myelin/kernels/launch"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// TestParity runs the parity suite (brunel, cuba, coba, ring_rate, 200 ms
// each, scaled down) on the CPU backend and on the host emulation of the
// CUDA kernels and requires byte-identical streams before the trailer.
func TestParity(t *testing.T) {
	start := time.Now()
	for _, c := range parity.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			res, err := parity.Compare(c, 0, New(nil))
			if err != nil {
				t.Fatal(err)
			}
			t.Log(res)
		})
	}
	t.Logf("parity suite: %.1fs", time.Since(start).Seconds())
}

// TestParityGeometry repeats cuba, ring_rate, mixed and the procedural
// cases (30 ms) with another launch configuration: one-thread blocks, a
// one-block deliver grid (one thread generates every procedural row) and
// one-step chunks.
func TestParityGeometry(t *testing.T) {
	cfg := launch.Config{Block: 1, DeliverBlocks: 1, MaxChunkSteps: 1}
	for _, c := range parity.Cases() {
		if c.Name != "cuba" && c.Name != "ring_rate" && c.Name != "mixed" && c.Name != "procedural" && c.Name != "procedural_fused" && c.Name != "brunel_procedural" {
			continue
		}
		if c.Spec == nil {
			c.Set["duration_ms"] = "30"
		}
		c.MinSpikes, c.MinSamples, c.MinPopSpikes = min(c.MinSpikes, 1), min(c.MinSamples, 1), nil
		t.Run(c.Name, func(t *testing.T) {
			res, err := parity.Compare(c, 2, New(&cfg))
			if err != nil {
				t.Fatal(err)
			}
			t.Log(res)
		})
	}
}

// TestKernelNumbers checks that the C dispatcher numbers the kernels as
// package launch does.
func TestKernelNumbers(t *testing.T) {
	for _, k := range launch.Kernels() {
		if got := kernelName(k); got != k.Name() {
			t.Errorf("kernel %d: C side calls it %q, launch %q", k, got, k.Name())
		}
	}
	if got := kernelName(0); got != "" {
		t.Errorf("kernel 0: C side calls it %q", got)
	}
}

// TestLayout checks the C structs' sizes, as the compiler gives them,
// against the Go mirrors that launch uploads with encoding/binary, and every
// registered neuron model's coefficients against its C struct: a model
// without a kernel twin, or whose fields differ in number, fails here.
func TestLayout(t *testing.T) {
	names := []string{"PopDesc", "PoissonDesc", "DCDesc", "EventDesc", "RateProjDesc", "ProbeDesc", "MyelinNet", "StpDesc", "StdpDesc", "ProcDesc"}
	for i, want := range launch.MirrorSizes() {
		if got := structSize(i); got != want {
			t.Errorf("%s: C size %d, Go mirror %d", names[i], got, want)
		}
	}
	if got := launch.MirrorSizes()[6]; got != launch.NetSize {
		t.Errorf("MyelinNet mirror is %d bytes, launch.NetSize says %d", got, launch.NetSize)
	}
	if got := modelWords(); got != launch.ModelWords {
		t.Errorf("MYELIN_MODEL_WORDS = %d, launch.ModelWords = %d", got, launch.ModelWords)
	}
	if got := ptileMaxInts(); 4*got != launch.MaxPTileShared {
		t.Errorf("MYELIN_PTILE_MAX_INTS = %d, launch.MaxPTileShared = %d bytes", got, launch.MaxPTileShared)
	}
	for _, m := range neuron.Models() {
		b, err := launch.EncodeCoefficients(m.New(m.Defaults(), 0.1))
		if err != nil {
			t.Errorf("%s: %v", m.Name, err)
			continue
		}
		if got := modelSize(m.Code); got != len(b) {
			t.Errorf("%s (code %d): C struct %d bytes, Go coefficients %d: keep kernels/%s.cuh and its entry in kernels/models.cuh in step with engine/neuron/%s.go", m.Name, m.Code, got, len(b), m.Name, m.Name)
		}
	}
	if got := modelSize(0); got != -1 {
		t.Errorf("model code 0 has a C struct of %d bytes", got)
	}
}

// TestNoContraction checks that the emulation rounds a*b before adding c
// (no fused multiply-add), as nvcc -fmad=false and the Go backend do.
func TestNoContraction(t *testing.T) {
	a := float32(1) + float32(math.Ldexp(1, -12))
	b := float32(1) - float32(math.Ldexp(1, -12))
	c := float32(-1)
	want := float32(a*b) + c // a*b = 1 - 2^-24 exactly, which float32 rounds to 1
	if got := contractProbe(a, b, c); got != want {
		t.Errorf("a*b+c = %g, want %g: the C++ compiler fused the multiply-add", got, want)
	}
}

// TestSourceLinks checks that every kernel source has its link here:
// Go's build cache sees a change to kernels/*.cu or *.cuh only through them.
func TestSourceLinks(t *testing.T) {
	srcs, err := filepath.Glob("../*.cu*")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range srcs {
		name := filepath.Base(s)
		if name == "sanity.cu" {
			continue // not part of the simulation
		}
		if name == "microbench.cu" {
			continue // a GPU-only measurement (BenchmarkAtomics): no behaviour to mirror
		}
		target, err := os.Readlink(name + ".h")
		if err != nil || target != "../"+name {
			t.Errorf("kernels/hostemu/%s.h should be a symbolic link to ../%s (ln -s ../%s kernels/hostemu/%s.h): %v", name, name, name, name, err)
		}
	}
	for _, m := range launch.Modules() {
		if _, err := os.Stat(m + ".cu.h"); err != nil {
			t.Errorf("module %s: %v", m, err)
		}
		b, err := os.ReadFile("kernels.cc")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `#include "`+m+`.cu.h"`) {
			t.Errorf("kernels.cc does not include %s.cu.h", m)
		}
	}
}

// A state that leaves the float32 range stops the run on the kernels too
// (the fault word), as on the CPU backend.
func TestNonFiniteStateStopsTheRun(t *testing.T) {
	if _, err := parity.Runaway(New(nil)); err != nil {
		t.Fatal(err)
	}
}

// TestParityFused runs brunel, whose delays are all 15 steps, with each
// step's update and the previous step's delivery in one launch
// (myelin_step), in geometries that put the chunk edges everywhere (chunks
// of 1 step have no fused launch, of 2 one), and also unfused: the stream
// must equal the CPU backend's every time.
func TestParityFused(t *testing.T) {
	c := parity.Case{Name: "brunel", Model: "brunel", Set: map[string]string{"n": "1500", "duration_ms": "60"},
		MinSpikes: 100}
	plastic := parity.Case{Name: "brunel-stp", MinSpikes: 100, Spec: func() (*myelinpb.Network, error) {
		// brunel with short-term plasticity on E's synapses and no
		// refractory period, so neurons fire on consecutive steps: the
		// fused launch's update writes one parity's factors while the
		// previous step's delivery reads the other's.
		s, err := models.Spec("brunel", map[string]string{"n": "1500", "duration_ms": "60"})
		if err != nil {
			return nil, err
		}
		for _, p := range s.Populations {
			p.GetIafPscDelta().TRef = proto.Float64(0)
		}
		for _, pr := range s.Projections {
			if pr.Pre == "E" {
				pr.Stp = &myelinpb.TsodyksMarkram{U: proto.Float64(0.3), TauRecMs: proto.Float64(50), TauFacMs: proto.Float64(200)}
			}
		}
		return s, nil
	}}
	for _, cfg := range []launch.Config{
		{Block: 64, DeliverBlocks: 5, MaxChunkSteps: 37},
		{Block: 1, DeliverBlocks: 1, MaxChunkSteps: 2},
		{Block: 32, DeliverBlocks: 3, MaxChunkSteps: 1},
		{Block: 96, DeliverBlocks: 2, MaxChunkSteps: 50, Unfused: true},
	} {
		t.Run(fmt.Sprintf("block%d_deliver%d_chunk%d_unfused%v", cfg.Block, cfg.DeliverBlocks, cfg.MaxChunkSteps, cfg.Unfused), func(t *testing.T) {
			_, p := plan(t, c, cfg)
			if p.Fused() == cfg.Unfused {
				t.Fatalf("Fused() = %v with Unfused %v", p.Fused(), cfg.Unfused)
			}
			res, err := parity.Compare(c, 0, New(&cfg))
			if err != nil {
				t.Fatal(err)
			}
			t.Log(res)
			if res, err = parity.Compare(plastic, 0, New(&cfg)); err != nil {
				t.Fatal(err)
			}
			t.Log(res)
		})
	}
}

// TestParityReceptors runs the receptor cases (every synaptic port in use)
// under several launch geometries: receptors, whose slow-port synapses
// include one-step delays, must not take the fused launch (the slow port's
// bit in a packed word is not part of the delay), and receptors_fused, whose
// delays are all at least two steps, must.
func TestParityReceptors(t *testing.T) {
	for _, c := range parity.Cases() {
		if c.Name != "receptors" && c.Name != "receptors_fused" {
			continue
		}
		c.MinPopSpikes = nil
		for _, cfg := range []launch.Config{
			DefaultConfig(),
			{Block: 1, DeliverBlocks: 1, MaxChunkSteps: 1},
			{Block: 32, DeliverBlocks: 3, MaxChunkSteps: 7},
			{Block: 64, DeliverBlocks: 2, MaxChunkSteps: 50, Unfused: true},
		} {
			t.Run(fmt.Sprintf("%s/block%d_deliver%d_chunk%d_unfused%v", c.Name, cfg.Block, cfg.DeliverBlocks, cfg.MaxChunkSteps, cfg.Unfused), func(t *testing.T) {
				net, err := parity.Build(c)
				if err != nil {
					t.Fatal(err)
				}
				if net.Syn.PortBit == 0 {
					t.Fatal("no synapse onto the slow port")
				}
				p, err := launch.New(net, cfg)
				if err != nil {
					t.Fatal(err)
				}
				if want := c.Name == "receptors_fused" && !cfg.Unfused; p.Fused() != want {
					t.Fatalf("Fused() = %v, want %v", p.Fused(), want)
				}
				cc := c
				if cfg.MaxChunkSteps == 1 {
					// One-step chunks: a shorter run.
					cc.Spec = func() (*myelinpb.Network, error) {
						s, err := c.Spec()
						if err == nil {
							s.DurationMs = proto.Float64(60)
						}
						return s, err
					}
					cc.MinSpikes, cc.MinSamples = 100, 100
				}
				res, err := parity.Compare(cc, 0, New(&cfg))
				if err != nil {
					t.Fatal(err)
				}
				t.Log(res)
			})
		}
	}
}

// TestParitySlowPoissonOnly: populations whose slow port only Poisson
// inputs reach (no synapse carries the port's bit, so there is no slow ring
// plane) still integrate the port, on both sides alike.
func TestParitySlowPoissonOnly(t *testing.T) {
	c := parity.Case{Name: "slow-poisson", MinSpikes: 200, MinSamples: 100, Spec: func() (*myelinpb.Network, error) {
		slow := spec.Via(myelinpb.Receptor_SLOW_EXCITATORY)
		return spec.New("slow-poisson").Seed(5).Duration(150).
			Population("E", 200, spec.IafPscExp(&myelinpb.IafPscExp{TauSynSlow: proto.Float64(30)}), spec.Initial(spec.UniformDist(-70, -56))).
			Population("C", 100, spec.IafCondExp(nil), spec.Initial(spec.UniformDist(-70, -56))).
			Project("E", "C", spec.FixedIn(10), spec.Weight(spec.Const(2))).
			Project("C", "E", spec.FixedIn(10), spec.Weight(spec.Const(-20))).
			Poisson("E", 4000, 4, slow).Poisson("E", 2000, 20).
			Poisson("C", 3000, 0.5, slow, spec.Neurons(0, 60)).Poisson("C", 3000, 1.5).
			Probe("E", 0, 4, 1).Probe("C", 50, 4, 1).
			Build()
	}}
	net, err := parity.Build(c)
	if err != nil {
		t.Fatal(err)
	}
	if net.Syn.PortBit != 0 || !net.Pops[0].Slow || !net.Pops[1].Slow {
		t.Fatalf("PortBit %d, slow %v %v: want no port bit and both populations slow", net.Syn.PortBit, net.Pops[0].Slow, net.Pops[1].Slow)
	}
	res, err := parity.Compare(c, 0, New(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
}

// TestParitySTDP: the STDP case (weights records included) is identical
// to the CPU backend's in two launch geometries, the plan never fuses a
// network with STDP (its delivery and the next update touch the same
// weights and traces) while the same network without STDP fuses, and the
// kernels' final weights equal the CPU backend's word for word and differ
// from the built ones.
func TestParitySTDP(t *testing.T) {
	c := parity.Case{Name: "stdp", Spec: parity.STDP, MinSpikes: 1000}
	net, err := parity.Build(c)
	if err != nil {
		t.Fatal(err)
	}
	static := parity.Case{Name: "static", Spec: func() (*myelinpb.Network, error) {
		s, err := parity.STDP()
		for _, pr := range s.GetProjections() {
			pr.Stdp = nil
			pr.Delay = spec.Const(0.5)
		}
		s.Phases = nil
		return s, err
	}}
	staticNet, err := parity.Build(static)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := launch.New(staticNet, launch.Config{}); err != nil || !p.Fused() {
		t.Fatalf("without STDP (delays >= 2 steps) the plan should fuse: %v", err)
	}
	cpuBe := cpu.New(2)
	if err := cpuBe.Load(net); err != nil {
		t.Fatal(err)
	}
	var blk backend.Block
	blk.Reset(0, len(net.Probes))
	if err := cpuBe.Advance(int(net.Steps), &blk); err != nil {
		t.Fatal(err)
	}
	want, _ := cpuBe.Weights()
	changed := 0
	for i, w := range want {
		if w != net.Syn.Weight[i] {
			changed++
		}
	}
	if changed < len(want)/4 {
		t.Fatalf("only %d of %d weights changed on the CPU", changed, len(want))
	}
	for _, cfg := range []launch.Config{
		{Block: 64, DeliverBlocks: 5, MaxChunkSteps: 37},
		{Block: 1, DeliverBlocks: 1, MaxChunkSteps: 7},
	} {
		t.Run(fmt.Sprintf("block%d_deliver%d_chunk%d", cfg.Block, cfg.DeliverBlocks, cfg.MaxChunkSteps), func(t *testing.T) {
			if p, err := launch.New(net, cfg); err != nil || p.Fused() {
				t.Fatalf("a network with STDP must not be fused (err %v)", err)
			}
			res, err := parity.Compare(c, 0, New(&cfg))
			if err != nil {
				t.Fatal(err)
			}
			t.Log(res)
			be := New(&cfg)
			defer be.Close()
			if err := be.Load(net); err != nil {
				t.Fatal(err)
			}
			var b2 backend.Block
			b2.Reset(0, len(net.Probes))
			if err := be.Advance(int(net.Steps), &b2); err != nil {
				t.Fatal(err)
			}
			got, err := be.Weights()
			if err != nil {
				t.Fatal(err)
			}
			diff := 0
			for i := range want {
				if got[i] != want[i] {
					diff++
				}
			}
			if diff != 0 || len(got) != len(want) {
				t.Errorf("%d of %d weights differ from the CPU backend's", diff, len(want))
			}
		})
	}
}

// TestParityPersistent runs every parity case, and brunel with short-term
// plasticity on consecutive steps, with every chunk in one persistent
// launch (myelin_persistent, emulated phase by phase with the blocks in both
// orders) in two geometries: a grid smaller than the update's blocks (each
// block strides over several) with chunks that do not divide the recording
// blocks, and a one-block grid with 7-step chunks. The cases cover one-step
// delays (the unfused phases), delays of 2 steps and more (the fused
// phases: brunel, ping, hopfield, receptors_fused), short-term plasticity
// in both, STDP with its learning phases, the slow port, compact weights
// and spike arrays (hopfield, consolidation). A network with a rate
// population (ring_rate, mixed) must not run persistent, and runs launch
// by launch.
func TestParityPersistent(t *testing.T) {
	cases := append(parity.Cases(), parity.Case{Name: "brunel-stp", MinSpikes: 100, Spec: func() (*myelinpb.Network, error) {
		s, err := models.Spec("brunel", map[string]string{"n": "1500", "duration_ms": "60"})
		if err != nil {
			return nil, err
		}
		for _, p := range s.Populations {
			p.GetIafPscDelta().TRef = proto.Float64(0)
		}
		for _, pr := range s.Projections {
			if pr.Pre == "E" {
				pr.Stp = &myelinpb.TsodyksMarkram{U: proto.Float64(0.3), TauRecMs: proto.Float64(50), TauFacMs: proto.Float64(200)}
			}
		}
		return s, nil
	}})
	kinds := map[[2]bool]int{} // persistent, fused: cases run so
	for _, c := range cases {
		for _, cfg := range []launch.Config{
			{Block: 64, DeliverBlocks: 5, MaxChunkSteps: 37, Persistent: launch.PersistentOn, PersistentBlocks: 3},
			{Block: 80, DeliverBlocks: 2, MaxChunkSteps: 7, Persistent: launch.PersistentOn, PersistentBlocks: 1}, // a warp per spike, the last warp of 16
		} {
			t.Run(fmt.Sprintf("%s/block%d_grid%d_chunk%d", c.Name, cfg.Block, cfg.PersistentBlocks, cfg.MaxChunkSteps), func(t *testing.T) {
				net, p := plan(t, c, cfg)
				persistent := len(net.Procedural) == 0 // procedural rows take a launch of their own
				for i := range net.Pops {
					persistent = persistent && net.Pops[i].Spiking()
				}
				if p.Persistent() != persistent {
					t.Fatalf("Persistent() = %v, want %v", p.Persistent(), persistent)
				}
				if persistent {
					ls := p.Chunk(p.ChunkSteps)
					want := launch.Persistent // one block: its own kernel, for blocks of 1,024 threads
					if cfg.PersistentBlocks == 1 {
						want = launch.PersistentBlock
					}
					if ls[1].Kernel != want || !ls[1].Cooperative() || ls[1].Grid != uint32(cfg.PersistentBlocks) {
						t.Fatalf("second launch of a chunk %v, want %s on %d blocks", ls[1], want.Name(), cfg.PersistentBlocks)
					}
				}
				kinds[[2]bool{persistent, p.Fused()}]++
				res, err := parity.Compare(c, 0, New(&cfg))
				if err != nil {
					t.Fatal(err)
				}
				t.Log(res)
			})
		}
	}
	for _, k := range [][2]bool{{true, true}, {true, false}, {false, false}} {
		if kinds[k] == 0 {
			t.Errorf("no case ran with persistent %v, fused %v", k[0], k[1])
		}
	}
}

// TestParitySegments runs every parity case, and a network with one hub
// row 100 times the others (parity.Hub), with delivery segmented per spike
// (launch.SegmentsPerSpike) in two geometries: launch by launch (fused
// where the delays allow) and persistent (networks with a rate population
// run launch by launch). The hub network also runs with the global
// segmentation. Every stream must equal the CPU backend's.
func TestParitySegments(t *testing.T) {
	hub := parity.HubCase()
	cases := append(parity.Cases(), hub)
	for _, cfg := range []launch.Config{
		{Block: 64, DeliverBlocks: 5, MaxChunkSteps: 37, Segments: launch.SegmentsPerSpike},
		{Block: 32, DeliverBlocks: 3, MaxChunkSteps: 7, Segments: launch.SegmentsPerSpike, Persistent: launch.PersistentOn, PersistentBlocks: 2},
		{Block: 64, DeliverBlocks: 5, MaxChunkSteps: 37, Segments: launch.SegmentsGlobal},
	} {
		for _, c := range cases {
			if cfg.Segments == launch.SegmentsGlobal && c.Name != "hub" {
				// TestParity runs them with the default, auto, which must
				// resolve to global for them to be covered so.
				net, err := parity.Build(c)
				if err != nil {
					t.Fatal(err)
				}
				p, err := launch.New(net, launch.Config{Block: cfg.Block})
				if err != nil {
					t.Fatal(err)
				}
				if p.Config().Segments != launch.SegmentsGlobal {
					t.Errorf("%s: auto segmentation %v: TestParity no longer covers the global mode for it; run it here", c.Name, p.Config().Segments)
				}
				continue
			}
			t.Run(fmt.Sprintf("%s/%v_block%d_grid%d_persistent%d", c.Name, cfg.Segments, cfg.Block, cfg.DeliverBlocks, cfg.PersistentBlocks), func(t *testing.T) {
				_, p := plan(t, c, cfg)
				if per := cfg.Segments == launch.SegmentsPerSpike; per != (p.Segs() == 0) {
					t.Fatalf("mode %v: Segs() = %d", cfg.Segments, p.Segs())
				}
				res, err := parity.Compare(c, 0, New(&cfg))
				if err != nil {
					t.Fatal(err)
				}
				t.Log(res)
			})
		}
	}
}

// TestParityTiled runs some parity cases, and the hub network, with
// delivery by target tiles (launch.SegmentsTiled) in two geometries: tiles
// of 37 targets on a grid of 5 blocks of 32 threads that loop over them,
// each tile a block's (plain read-modify-writes of the rings); and the
// default tiles of a grid of 9 (2 tiles, as wide as 227 KiB of sums
// allow), each shared by 3 blocks of 5 threads (atomic adds), so that
// some blocks take two parts and a step's few spikes (about 6 in brunel)
// reach more than one part. (The GPU's default of 1,024 threads would run
// for minutes here: the emulation runs a block's threads as fibers.) The
// cases cover both spike signs (brunel), the slow port's third channel
// (ring_spiking), many delays (microcircuit), rate beside spiking
// populations (mixed), compact weights that differ by target population,
// in tiles across populations (compact), short-term plasticity's
// per-spike factors (stp, and receptors with the slow port), STDP's
// depression stored by the tile's threads (stdp), stored rows beside
// procedural ones (procedural, with STP and STDP too), and the fallback:
// no stored synapse (brunel_procedural), delivered with the global
// segmentation, saying why. Every stream must equal the CPU backend's.
func TestParityTiled(t *testing.T) {
	pick := map[string]bool{"brunel": true, "ring_spiking": true, "microcircuit": true,
		"mixed": true, "compact": true, "stp": true, "receptors": true, "stdp": true, "procedural": true, "brunel_procedural": true}
	fallback := map[string]string{"brunel_procedural": "no stored synapse"}
	var cases []parity.Case
	for _, c := range parity.Cases() {
		if pick[c.Name] {
			cases = append(cases, c)
			delete(pick, c.Name)
		}
	}
	if len(pick) > 0 {
		t.Fatalf("parity cases %v are gone", pick)
	}
	cases = append(cases, parity.HubCase())
	for _, cfg := range []launch.Config{
		{Block: 64, DeliverBlocks: 5, MaxChunkSteps: 37, Segments: launch.SegmentsTiled, PTileTargets: 37, PTileBlock: 32},
		{Block: 32, DeliverBlocks: 9, MaxChunkSteps: 7, Segments: launch.SegmentsTiled, PTileBlock: 5, PTileShared: launch.MaxPTileShared, PTileSplit: 3},
	} {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/block%d_grid%d_tile%d_split%d", c.Name, cfg.Block, cfg.DeliverBlocks, cfg.PTileTargets, cfg.PTileSplit), func(t *testing.T) {
				net, p := plan(t, c, cfg)
				w, nt := p.PTiles()
				if want, ok := fallback[c.Name]; ok {
					if p.Config().Segments != launch.SegmentsGlobal || !strings.Contains(p.TiledReason(), want) || nt != 0 {
						t.Fatalf("delivered %v with %d tiles (%q), want global because of %s", p.Config().Segments, nt, p.TiledReason(), want)
					}
				} else {
					if p.Config().Segments != launch.SegmentsTiled {
						t.Fatalf("delivered %v (%q), want tiled", p.Config().Segments, p.TiledReason())
					}
					if want := (net.N + w - 1) / w; nt != want || (cfg.PTileTargets > 0 && w != uint32(cfg.PTileTargets)) {
						t.Fatalf("%d tiles of %d targets for %d neurons (asked %d a tile)", nt, w, net.N, cfg.PTileTargets)
					}
					if p.Fused() || p.Persistent() {
						t.Fatal("a tiled plan fused or persistent")
					}
					if ls := p.Chunk(1); !hasKernel(ls, launch.DeliverTiled) || hasKernel(ls, launch.Deliver) {
						t.Fatalf("a chunk's launches %v: want myelin_deliver_tiled, not myelin_deliver", ls)
					}
				}
				res, err := parity.Compare(c, 0, New(&cfg))
				if err != nil {
					t.Fatal(err)
				}
				t.Log(res)
			})
		}
	}
}

// hasKernel says whether launches ls include kernel k.
func hasKernel(ls []launch.Launch, k launch.Kernel) bool {
	for _, l := range ls {
		if l.Kernel == k {
			return true
		}
	}
	return false
}

// plan builds case c and lays it out with cfg.
func plan(t *testing.T, c parity.Case, cfg launch.Config) (*network.Network, *launch.Plan) {
	t.Helper()
	net, err := parity.Build(c)
	if err != nil {
		t.Fatal(err)
	}
	p, err := launch.New(net, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return net, p
}
