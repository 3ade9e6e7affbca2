//go:build cuda

package cuda

// The parity suite of kernels/hostemu, on the real device: every case must
// give the CPU backend's stream, byte for byte, up to the trailer. Like the
// other tests of this file's build, these need an NVIDIA GPU and driver:
// build the binary here (make cuda-test-bin, or go test -tags cuda -c) and
// run it on the GPU machine (scripts/gpu-test.sh).
//
// -test.short runs only the small suite; without it a larger one follows
// (Brunel at 12,500 neurons and the Vogels-Abbott models at 4,000, 1 s).

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/cuda/driver"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/backend/parity"
	"github.com/myelin-sim/myelin/engine/cpu"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/sim"
	"github.com/myelin-sim/myelin/kernels/launch"
)

func TestBackendParity(t *testing.T) {
	d := openDevice(t)
	for _, c := range parity.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			res, err := parity.Compare(c, 0, NewBackend(d, nil))
			if err != nil {
				t.Fatal(err)
			}
			t.Log(res)
		})
	}
}

// TestBackendParityGeometry repeats the suite with another launch
// configuration: small blocks, a tiny deliver grid and chunks of 37 steps
// (several per recording block, both record sets in turn), launch by
// launch in graphs (persistent mode off, as auto chooses too;
// TestBackendParityTiled runs every parity case, and the hub network,
// with delivery by target tiles (launch.SegmentsTiled) forced: on a grid
// of 5 blocks over tiles of 37 targets; on a grid of 9 blocks of 32
// threads over 2 tiles in 96 KiB of shared memory (opted in), 3 blocks a
// tile adding their sums with atomics; and (without -test.short) with the
// default tiles; cases with no stored synapse fall back to
// the global segmentation (kernels/hostemu's TestParityTiled checks the
// reasons).
func TestBackendParityTiled(t *testing.T) {
	d := openDevice(t)
	hub := parity.HubCase()
	tiled := 0
	cfgs := []launch.Config{
		{Block: 64, DeliverBlocks: 5, MaxChunkSteps: 37, Segments: launch.SegmentsTiled, PTileTargets: 37},
		{Block: 64, DeliverBlocks: 9, MaxChunkSteps: 37, Segments: launch.SegmentsTiled, PTileBlock: 32, PTileShared: 96 << 10, PTileSplit: 3},
	}
	if !testing.Short() {
		cfgs = append(cfgs, launch.Config{Segments: launch.SegmentsTiled})
	}
	for _, cfg := range cfgs {
		for _, c := range append(parity.Cases(), hub) {
			t.Run(fmt.Sprintf("%s/tile%d_shared%d_split%d", c.Name, cfg.PTileTargets, cfg.PTileShared>>10, cfg.PTileSplit), func(t *testing.T) {
				net, err := parity.Build(c)
				if err != nil {
					t.Fatal(err)
				}
				if p, err := launch.New(net, cfg); err != nil {
					t.Fatal(err)
				} else if p.Config().Segments == launch.SegmentsTiled {
					tiled++
				}
				res, err := parity.Compare(c, 0, NewBackend(d, &cfg))
				if err != nil {
					t.Fatal(err)
				}
				t.Log(res)
			})
		}
	}
	if tiled < 10*len(cfgs) {
		t.Errorf("%d runs delivered by tiles, want at least %d", tiled, 10*len(cfgs))
	}
}

// TestBackendParityPersistent runs the persistent kernel).
func TestBackendParityGeometry(t *testing.T) {
	d := openDevice(t)
	cfg := launch.Config{Block: 32, DeliverBlocks: 3, MaxChunkSteps: 37, Persistent: launch.PersistentOff}
	for _, c := range parity.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			res, err := parity.Compare(c, 0, NewBackend(d, &cfg))
			if err != nil {
				t.Fatal(err)
			}
			t.Log(res)
		})
	}
}

// TestBackendParitySegments runs delivery segmented per spike on the GPU:
// parity.Hub (one row 100 times the others) with the default
// configuration, whose auto mode chooses per spike, and every case with
// per-spike segments forced, which also has myelin_stdp_post walk whole
// columns (segments 0) in the STDP cases.
func TestBackendParitySegments(t *testing.T) {
	d := openDevice(t)
	hub := parity.HubCase()
	t.Run("hub/auto", func(t *testing.T) {
		net, err := parity.Build(hub)
		if err != nil {
			t.Fatal(err)
		}
		if p, err := launch.New(net, launch.Config{}); err != nil || p.Config().Segments != launch.SegmentsPerSpike {
			t.Fatalf("auto on the hub network: %v, want per-spike delivery", err)
		}
		res, err := parity.Compare(hub, 0, NewBackend(d, nil))
		if err != nil {
			t.Fatal(err)
		}
		t.Log(res)
	})
	cfg := launch.Config{Block: 64, DeliverBlocks: 5, MaxChunkSteps: 37, Segments: launch.SegmentsPerSpike}
	for _, c := range parity.Cases() {
		t.Run(c.Name+"/per-spike", func(t *testing.T) {
			res, err := parity.Compare(c, 0, NewBackend(d, &cfg))
			if err != nil {
				t.Fatal(err)
			}
			t.Log(res)
		})
	}
}

// TestBackendParityPersistent runs parity cases with every chunk in one
// cooperative launch of myelin_persistent (persistent mode on), with
// chunks of 37 steps, on a grid of 5 blocks of 64 threads (fewer than the
// update's blocks: the grid-wide barrier) and on one block of 1,024
// threads (the block's barrier alone, at the kernel's launch bounds):
// one-step delays (cuba, coba), delays of 15 steps (brunel: the fused
// phases), short-term plasticity and STDP. The persistent kernel's
// barriers are exercised only here (auto never runs persistent).
func TestBackendParityPersistent(t *testing.T) {
	d := openDevice(t)
	if !d.Info().CooperativeLaunch {
		t.Skip("device has no cooperative launch")
	}
	cfg := launch.Config{Block: 64, DeliverBlocks: 3, MaxChunkSteps: 37, Persistent: launch.PersistentOn, PersistentBlocks: 5}
	for _, geom := range []launch.Config{cfg, {Block: 1024, DeliverBlocks: 3, MaxChunkSteps: 37, Persistent: launch.PersistentOn, PersistentBlocks: 1}} {
		for _, c := range parity.Cases() {
			switch c.Name {
			case "brunel", "cuba", "coba", "stp", "stdp":
			default:
				continue
			}
			t.Run(fmt.Sprintf("%s/grid%d_block%d", c.Name, geom.PersistentBlocks, geom.Block), func(t *testing.T) {
				be := NewBackend(d, &geom)
				res, err := parity.Compare(c, 0, be)
				if err != nil {
					t.Fatal(err)
				}
				t.Log(res)
			})
		}
	}
	net, err := parity.Build(parity.Case{Name: "cuba", Model: "cuba", Set: map[string]string{"n": "1000", "duration_ms": "10"}})
	if err != nil {
		t.Fatal(err)
	}
	be := NewBackend(d, &cfg)
	defer be.Close()
	if err := be.Load(net); err != nil {
		t.Fatal(err)
	}
	if !be.plan.Persistent() || !strings.Contains(be.Describe(), "persistent") {
		t.Errorf("persistent mode on, but the plan runs launch by launch: %s", be.Describe())
	}
}

// TestBackendParityLarge runs the models at their published sizes for 1 s
// (MYELIN_PARITY_N and MYELIN_PARITY_MS override the size of the spiking
// models and the duration).
func TestBackendParityLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large parity runs skipped in -short mode")
	}
	n, ms := uint32(0), 1000.0
	if v := os.Getenv("MYELIN_PARITY_N"); v != "" {
		x, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			t.Fatalf("MYELIN_PARITY_N=%q: %v", v, err)
		}
		n = uint32(x)
	}
	if v := os.Getenv("MYELIN_PARITY_MS"); v != "" {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("MYELIN_PARITY_MS=%q: %v", v, err)
		}
		ms = x
	}
	d := openDevice(t)
	cases := parity.Cases()
	for i := range cases {
		delete(cases[i].Set, "n") // published sizes
	}
	for _, c := range parity.Scaled(cases, n, ms) {
		t.Run(c.Name, func(t *testing.T) {
			res, err := parity.Compare(c, 0, NewBackend(d, nil))
			if err != nil {
				t.Fatal(err)
			}
			t.Log(res)
		})
	}
}

// TestBackendMemoryCheck checks that a network that does not fit is refused
// before anything is allocated, with the figures.
func TestBackendMemoryCheck(t *testing.T) {
	d := openDevice(t)
	net, err := parity.Build(parity.Cases()[0])
	if err != nil {
		t.Fatal(err)
	}
	plan, err := launch.New(net, launch.Config{})
	if err != nil {
		t.Fatal(err)
	}
	msg := fitError(plan, d.Info().Name, uint64(plan.DeviceBytes()), 1<<40)
	if msg == nil || !strings.Contains(msg.Error(), strconv.FormatInt(plan.DeviceBytes(), 10)) || !strings.Contains(msg.Error(), "synapses") {
		t.Errorf("fitError: %v", msg)
	}
	if fitError(plan, d.Info().Name, uint64(plan.DeviceBytes())+memoryReserve, 1<<40) != nil {
		t.Error("fitError refuses a plan that fits")
	}
}

// TestBackendAdvanceSizes runs one network with Advance calls of odd sizes
// (1 step, more than a chunk, chunk-sized) and compares with the CPU
// backend's blocks, with the default delivery and by target tiles (the
// one-shot's sanitizer step runs this test: racecheck and synccheck see
// the tiled kernel's shared sums and barriers).
func TestBackendAdvanceSizes(t *testing.T) {
	d := openDevice(t)
	c := parity.Cases()[4] // mixed: every kernel and both record sets
	net, err := parity.Build(c)
	if err != nil {
		t.Fatal(err)
	}
	want := blocks(t, net, cpu.New(0), []int{1, 63, 64, 129, 7})
	for _, cfg := range []launch.Config{{MaxChunkSteps: 64}, {MaxChunkSteps: 64, Segments: launch.SegmentsTiled, PTileTargets: 100, PTileSplit: 2}} {
		if p, err := launch.New(net, cfg); err != nil {
			t.Fatal(err)
		} else if cfg.Segments == launch.SegmentsTiled && p.Config().Segments != cfg.Segments {
			t.Fatalf("%s not delivered by tiles: %s", c.Name, p.TiledReason())
		}
		got := blocks(t, net, NewBackend(d, &cfg), []int{1, 63, 64, 129, 7})
		for i := range want {
			if !sameBlock(want[i], got[i]) {
				t.Fatalf("%v delivery, Advance #%d (step %d): blocks differ", cfg.Segments, i, want[i].FirstStep)
			}
		}
	}
}

func blocks(t *testing.T, net *network.Network, be backend.Backend, sizes []int) []*backend.Block {
	t.Helper()
	defer be.Close()
	if err := be.Load(net); err != nil {
		t.Fatal(err)
	}
	var out []*backend.Block
	step := uint64(0)
	for _, n := range sizes {
		blk := &backend.Block{}
		blk.Reset(step, len(net.Probes))
		if err := be.Advance(n, blk); err != nil {
			t.Fatal(err)
		}
		if len(blk.Counts) != n {
			t.Fatalf("%s: Advance(%d) recorded %d steps", be.Name(), n, len(blk.Counts))
		}
		out = append(out, blk)
		step += uint64(n)
	}
	return out
}

func sameBlock(a, b *backend.Block) bool {
	if a.FirstStep != b.FirstStep || !equal(a.Counts, b.Counts) || !equal(a.IDs, b.IDs) || len(a.Samples) != len(b.Samples) {
		return false
	}
	for i := range a.Samples {
		if !equal(a.Samples[i], b.Samples[i]) {
			return false
		}
	}
	return true
}

func equal[T uint32 | float32](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(a[i] != a[i] && b[i] != b[i]) {
			return false
		}
	}
	return true
}

// TestBackendClose checks that Close frees the device memory Load took.
// A first Load/Advance/Close cycle warms the context (the driver reserves
// some memory lazily, at the first module load, kernel or graph launch, and
// keeps it), so that the free memory compared is that of a second cycle: a
// leak would repeat there.
func TestBackendClose(t *testing.T) {
	d := openDevice(t)
	net, err := parity.Build(parity.Cases()[0])
	if err != nil {
		t.Fatal(err)
	}
	cycle := func() *Backend {
		b := NewBackend(d, nil)
		if err := b.Load(net); err != nil {
			t.Fatal(err)
		}
		blk := &backend.Block{}
		blk.Reset(0, len(net.Probes))
		if err := b.Advance(10, blk); err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		return b
	}
	cycle()
	free0, _, err := d.FreeMemory()
	if err != nil {
		t.Fatal(err)
	}
	b := cycle()
	free1, _, err := d.FreeMemory()
	if err != nil {
		t.Fatal(err)
	}
	if free1+4<<20 < free0 {
		t.Errorf("free memory %d before Load, %d after Close", free0, free1)
	}
	blk := &backend.Block{}
	blk.Reset(0, len(net.Probes))
	if err := b.Advance(1, blk); err == nil || !strings.Contains(err.Error(), "before Load") {
		t.Errorf("Advance after Close: %v", err)
	}
}

// Benchmarks: the standard models on the device, streaming into
// io.Discard, as bench/ measures them on the CPU. scripts/gpu-bench.sh runs
// them.

func benchCUDA(b *testing.B, c parity.Case) {
	net, err := parity.Build(c)
	if err != nil {
		b.Fatal(err)
	}
	d, err := driver.Open(0)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	var simT, loadT time.Duration
	var spikes uint64
	for i := 0; i < b.N; i++ {
		res, err := sim.Run(context.Background(), net, sim.Options{Backend: NewBackend(d, nil), Out: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
		simT += time.Duration(res.SimSeconds * float64(time.Second))
		loadT += time.Duration(res.LoadSeconds * float64(time.Second))
		for _, s := range res.PopSpikes {
			spikes += s
		}
	}
	bio := float64(net.Steps) * net.Dt / 1000
	n := float64(b.N)
	b.ReportMetric(loadT.Seconds()/n, "load-s")
	b.ReportMetric(simT.Seconds()/n, "sim-s")
	b.ReportMetric(simT.Seconds()/n/bio, "real-time-factor")
	b.ReportMetric(float64(spikes)/n/bio, "spikes/bio-s")
	b.ReportMetric(float64(net.SynapseCount()), "synapses")
}

func model(name string, set map[string]string) parity.Case {
	return parity.Case{Name: name, Model: name, Set: set}
}

// BenchmarkCUDABrunel12500 is Brunel A, N = 12,500 (15.6 M synapses), 1 s.
func BenchmarkCUDABrunel12500(b *testing.B) { benchCUDA(b, model("brunel", nil)) }

// BenchmarkCUDABrunel100k is Brunel A, N = 100,000, C_E = 1,000, 1 s.
func BenchmarkCUDABrunel100k(b *testing.B) {
	benchCUDA(b, model("brunel", map[string]string{"n": "100000", "indegree": "1000"}))
}

// BenchmarkCUDABrunel1M is Brunel A, N = 1,000,000, C_E = 1,000, 0.2 s.
func BenchmarkCUDABrunel1M(b *testing.B) {
	benchCUDA(b, model("brunel", map[string]string{"n": "1000000", "indegree": "1000", "duration_ms": "200"}))
}

// BenchmarkCUDACUBA is the Vogels-Abbott current-based benchmark, 1 s.
func BenchmarkCUDACUBA(b *testing.B) { benchCUDA(b, model("cuba", nil)) }

// BenchmarkCUDACOBA is the Vogels-Abbott conductance-based benchmark, 1 s.
func BenchmarkCUDACOBA(b *testing.B) { benchCUDA(b, model("coba", nil)) }

// BenchmarkCUDARingRate is the ring attractor of 360 rate neurons, 3 s.
func BenchmarkCUDARingRate(b *testing.B) { benchCUDA(b, model("ring_rate", nil)) }

// A state that leaves the float32 range stops the run on the device (the
// fault word read after every chunk), as on the CPU backend.
func TestBackendNonFinite(t *testing.T) {
	d := openDevice(t)
	if _, err := parity.Runaway(NewBackend(d, nil)); err != nil {
		t.Fatal(err)
	}
}
