package launch_test

import (
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/backend/parity"
	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/plan"
	"github.com/myelin-sim/myelin/engine/spec"
	"github.com/myelin-sim/myelin/kernels/launch"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// procNet builds a network with a stored projection and a procedural one
// ("regen") with the given options.
func procNet(t *testing.T, opts ...spec.Option) *network.Network {
	t.Helper()
	opts = append([]spec.Option{spec.Name("regen"), spec.Procedural(true)}, opts...)
	s, err := spec.New("proc").Population("E", 50, spec.IafPscDelta(nil)).
		Project("E", "E", spec.FixedIn(5), spec.Weight(spec.Const(0.1))).
		Project("E", "E", spec.FixedOut(5), opts...).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	net, err := network.Build(s, network.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// The kernels (CUDA backend and host emulation, which both lay out the
// network here) regenerate procedural rows with every distribution of
// weights and delays (constant, uniform, normal, clipped normal,
// lognormal; delays also tabulated); a kind they did not know would be
// refused, naming the projection and the field.
func TestProceduralRefused(t *testing.T) {
	for _, c := range []struct {
		name  string
		opts  []spec.Option
		field string // "" when accepted
	}{
		{"constant", []spec.Option{spec.Weight(spec.Const(0.1)), spec.Delay(spec.Const(1.5))}, ""},
		{"uniform", []spec.Option{spec.Weight(spec.UniformDist(0.1, 0.2)), spec.Delay(spec.UniformDist(0.5, 2))}, ""},
		{"tabulated normal delay", []spec.Option{spec.Weight(spec.Const(0.1)), spec.Delay(spec.ClippedNormalDist(1, 0.3, 0.2, 3))}, ""},
		{"normal weight", []spec.Option{spec.Weight(spec.NormalDist(0.1, 0.02))}, ""},
		{"lognormal weight", []spec.Option{spec.Weight(spec.LognormalDist(-2, 0.3, false))}, ""},
		{"lognormal delay", []spec.Option{spec.Weight(spec.Const(0.1)), spec.Delay(spec.LognormalDist(0, 0.3, false))}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			net := procNet(t, c.opts...)
			p, err := launch.New(net, launch.Config{})
			if c.field == "" {
				if err != nil {
					t.Fatalf("launch.New: %v", err)
				}
				// Multapses: no hash set; the targets are listed where
				// draws pair with them.
				wantBytes := int64(4 * 5)
				if c.name == "constant" {
					wantBytes = 0
				}
				if slots, bytes := p.ProceduralSlots(); slots < 1 || bytes != wantBytes {
					t.Errorf("ProceduralSlots() = %d slots of %d bytes, want at least 1 of %d", slots, bytes, wantBytes)
				}
				return
			}
			want := `projection "regen" (projections[1]) is procedural ` + c.field
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("launch.New: %v, want an error containing %q", err, want)
			}
		})
	}
}

// A row of Floyd's sampler (no multapses) takes a hash set of at least
// twice its out-degree, a power of two (16 words for 5), and its list (5
// words). The scratch budget bounds the threads that generate rows at once, never
// below one.
func TestProceduralScratchSlots(t *testing.T) {
	net := procNet(t, spec.Weight(spec.Const(0.1)), spec.Multapses(false))
	for _, c := range []struct {
		budget int64
		want   int
	}{{1 << 30, 64 * 4}, {4 * 21 * 10, 10}, {1, 1}} {
		p, err := launch.New(net, launch.Config{Block: 64, DeliverBlocks: 4, ProceduralScratch: c.budget})
		if err != nil {
			t.Fatal(err)
		}
		slots, bytes := p.ProceduralSlots()
		if slots != c.want || bytes != 4*21 {
			t.Errorf("budget %d: %d slots of %d bytes, want %d of %d", c.budget, slots, bytes, c.want, 4*21)
		}
	}
}

// myelin plan's GPU column counts the row scratch that the plan of an
// H100-sized deliver grid (8 blocks of 256 threads per SM, 132 SMs)
// allocates, with the budget that a GPU backend gives it on an 80 GB card.
func TestPlanProceduralScratch(t *testing.T) {
	h100 := launch.ProceduralScratchFor(80 << 30)
	if plan.ProceduralScratch != h100 {
		t.Fatalf("plan.ProceduralScratch %d, launch.ProceduralScratchFor(80 GB) %d", plan.ProceduralScratch, h100)
	}
	for _, n := range []string{"1000", "2000"} {
		s, err := models.Spec("brunel", map[string]string{"n": n, "procedural": "1", "indegree": "100"})
		if err != nil {
			t.Fatal(err)
		}
		if n == "2000" {
			// Slots of about 22 KB (out-degree 1,500): the budget bounds
			// them (270,336 threads would need about 6 GB).
			s.Projections[0].Rule.(*myelinpb.Projection_FixedOutDegree).FixedOutDegree.Outdegree = 1500
		}
		spec.ApplyDefaults(s)
		net, err := network.Build(s, network.Options{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := launch.New(net, launch.Config{Block: 256, DeliverBlocks: 8 * 132, ProceduralScratch: h100})
		if err != nil {
			t.Fatal(err)
		}
		slots, bytes := p.ProceduralSlots()
		var got uint64
		for _, part := range plan.Estimate(s, 1).Parts {
			if part.Name == "procedural row scratch" {
				got = part.GPU
			}
		}
		if want := uint64(slots) * uint64(bytes); got == 0 || got < want || got > want+uint64(bytes) {
			t.Errorf("n=%s: plan counts %d B of row scratch, launch allocates %d slots × %d B", n, got, slots, bytes)
		}
		if bounded := uint64(slots) < 8*132*256; bounded != (n == "2000") {
			t.Errorf("n=%s: %d generating threads: the budget bounds them %v, want %v", n, slots, bounded, n == "2000")
		}
	}
}

// A chunk delivers the procedural rows of each of its steps once, in a
// launch of its own after the launch that delivers the step's stored
// synapses (myelin_deliver, or the next step's fused myelin_step); a
// network with procedural projections never runs persistent.
func TestProceduralLaunches(t *testing.T) {
	for _, delay := range []float64{0.1, 1.5} { // unfused, fused
		s, err := spec.New("proc").Population("E", 50, spec.IafPscDelta(nil)).
			Project("E", "E", spec.FixedIn(5), spec.Weight(spec.Const(0.1)), spec.Delay(spec.Const(delay))).
			Project("E", "E", spec.FixedOut(5), spec.Weight(spec.Const(0.1)), spec.Delay(spec.Const(delay)), spec.Procedural(true)).
			Build()
		if err != nil {
			t.Fatal(err)
		}
		net, err := network.Build(s, network.Options{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		p, err := launch.New(net, launch.Config{MaxChunkSteps: 9, Persistent: launch.PersistentOn, PersistentBlocks: 4})
		if err != nil {
			t.Fatal(err)
		}
		if p.Persistent() || p.Fused() != (delay > 1) {
			t.Fatalf("delay %v: Persistent() %v, Fused() %v", delay, p.Persistent(), p.Fused())
		}
		m := p.ChunkSteps
		delivered := map[uint32]bool{}
		var procSteps []uint32
		for _, l := range p.Chunk(m) {
			switch l.Kernel {
			case launch.Deliver:
				delivered[l.S] = true
			case launch.Step:
				delivered[l.S-1] = true
			case launch.DeliverProc:
				if !delivered[l.S] {
					t.Errorf("delay %v: %v before the step's stored delivery", delay, l)
				}
				procSteps = append(procSteps, l.S)
			}
		}
		if len(procSteps) != m {
			t.Fatalf("delay %v: procedural deliveries of steps %v in a chunk of %d", delay, procSteps, m)
		}
		for i, s := range procSteps {
			if s != uint32(i) {
				t.Errorf("delay %v: procedural deliveries of steps %v, want 0..%d in order", delay, procSteps, m-1)
				break
			}
		}
	}
}

// The parity suite's fused procedural case really runs fused (its drawn
// rows then go through the fused launches in the emulation), and the
// procedural case (with STDP) does not.
func TestParityProceduralFusedIsFused(t *testing.T) {
	for _, c := range parity.Cases() {
		if c.Name != "procedural_fused" && c.Name != "procedural" {
			continue
		}
		net, err := parity.Build(c)
		if err != nil {
			t.Fatal(err)
		}
		p, err := launch.New(net, launch.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if want := c.Name == "procedural_fused"; p.Fused() != want || len(net.Procedural) < 4 {
			t.Errorf("%s: fused %v, want %v (%d procedural projections)", c.Name, p.Fused(), want, len(net.Procedural))
		}
	}
}

// TestProceduralScratchFor checks the scratch a GPU backend gives procedural
// rows by device size: a sixteenth of the memory, at least a quarter of
// the default and at most 4 GiB.
func TestProceduralScratchFor(t *testing.T) {
	for _, c := range []struct {
		total uint64
		want  int64
	}{
		{0, launch.DefaultProceduralScratch / 4},
		{2 << 30, launch.DefaultProceduralScratch / 4},
		{16 << 30, 1 << 30},
		{40 << 30, 40 << 26},
		{80 << 30, 4 << 30},
		{141 << 30, 4 << 30},
		{1 << 63, 4 << 30},
	} {
		if got := launch.ProceduralScratchFor(c.total); got != c.want {
			t.Errorf("ProceduralScratchFor(%d) = %d, want %d", c.total, got, c.want)
		}
	}
}
