//go:build hostemu

package hostemu

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/backend/parity"
	"github.com/myelin-sim/myelin/engine/cpu"
	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/rng"
	"github.com/myelin-sim/myelin/engine/spec"
	"github.com/myelin-sim/myelin/engine/xmath"
	"github.com/myelin-sim/myelin/kernels/launch"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// spikesOf runs s on be and returns the spikes of its stream: steps and
// ids.
func spikesOf(t *testing.T, s *myelinpb.Network, be backend.Backend) ([]uint64, []uint32) {
	t.Helper()
	spec.ApplyDefaults(s)
	if err := spec.Validate(s); err != nil {
		be.Close()
		t.Fatal(err)
	}
	net, err := network.Build(s, network.Options{})
	if err != nil {
		be.Close()
		t.Fatal(err)
	}
	return runSpikes(t, net, be)
}

// The emulated kernels regenerate procedural rows that deliver exactly what
// the stored synapses do: the spikes of parity.Procedural and of brunel
// with procedural=1 on the emulation equal those of the same networks,
// stored, on the CPU backend, in two launch geometries (one of them a
// single generating thread with fused or persistent phases where the
// network allows).
func TestProceduralEqualsStored(t *testing.T) {
	brunel := func(proc string) func() (*myelinpb.Network, error) {
		return func() (*myelinpb.Network, error) {
			return models.Spec("brunel", map[string]string{"n": "1500", "duration_ms": "100", "procedural": proc})
		}
	}
	stored := func(f func() (*myelinpb.Network, error)) func() (*myelinpb.Network, error) {
		return func() (*myelinpb.Network, error) {
			s, err := f()
			for _, p := range s.GetProjections() {
				p.Procedural = nil
			}
			return s, err
		}
	}
	for _, c := range []struct {
		name         string
		proc, stored func() (*myelinpb.Network, error)
	}{
		{"procedural", parity.Procedural, stored(parity.Procedural)},
		// brunel's stored mode is fixed in-degree: compare procedural=1
		// with its own rules stored.
		{"brunel", brunel("1"), stored(brunel("1"))},
	} {
		for _, cfg := range []launch.Config{
			DefaultConfig(),
			{Block: 1, DeliverBlocks: 1, MaxChunkSteps: 7, Persistent: launch.PersistentOn, PersistentBlocks: 1},
		} {
			ps, err := c.proc()
			if err != nil {
				t.Fatal(err)
			}
			ss, err := c.stored()
			if err != nil {
				t.Fatal(err)
			}
			wantSteps, wantIDs := spikesOf(t, ss, cpu.New(2))
			gotSteps, gotIDs := spikesOf(t, ps, New(&cfg))
			if len(wantIDs) < 3000 {
				t.Fatalf("%s: %d spikes: the test needs activity", c.name, len(wantIDs))
			}
			if !slices.Equal(gotSteps, wantSteps) || !slices.Equal(gotIDs, wantIDs) {
				t.Errorf("%s, block %d, deliver grid %d: emulated procedural spikes (%d) differ from the stored CPU run's (%d)", c.name, cfg.Block, cfg.DeliverBlocks, len(gotIDs), len(wantIDs))
			}
		}
	}
}

// The kernels' exp and log (kernels/xmath.cuh) equal engine/xmath's bit for
// bit: over the ranges the samplers use (the ziggurat's wedges and tail,
// lognormal draws), over random doubles of every exponent, and at the
// special and boundary values.
func TestXMathBitForBit(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	args := []float64{0, math.Copysign(0, -1), 1, -1, math.Inf(1), math.Inf(-1), math.NaN(), 0x1p-1074, 0x1p-1022, math.MaxFloat64,
		709.782712893383973096, 709.78271289338400, -745.13321910194110842, -745.1332191019412, 0x1p-28, -0x1p-28, 0x1.fffffffffffffp-29}
	for i := 0; i < 300000; i++ {
		switch i % 4 {
		case 0:
			args = append(args, -0.5*r.Float64()*r.Float64()*16) // wedges: -x²/2
		case 1:
			args = append(args, (r.Float64() + 0.5/(1<<53))) // (0, 1]: uniforms
		case 2:
			args = append(args, (r.Float64()*2-1)*750) // exp's whole range
		default:
			args = append(args, math.Float64frombits(r.Uint64())) // any double
		}
	}
	bad := 0
	for _, x := range args {
		for _, f := range []struct {
			name     string
			go_, emu func(float64) float64
		}{{"exp", xmath.Exp, emuExp}, {"log", xmath.Log, emuLog}} {
			want, got := f.go_(x), f.emu(x)
			if math.Float64bits(want) != math.Float64bits(got) && !(math.IsNaN(want) && math.IsNaN(got)) {
				if bad++; bad <= 5 {
					t.Errorf("%s(%v): xmath %v (%#x), kernels %v (%#x)", f.name, x, want, math.Float64bits(want), got, math.Float64bits(got))
				}
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d arguments differ", bad, 2*len(args))
	}
}

// The kernels' ziggurat draws the normals of rng.Seq.Normal bit for bit,
// slow paths (wedges and tail) included: a million draws from several
// items and purposes.
func TestNormalBitForBit(t *testing.T) {
	thr := launch.ZigguratWords()
	const seed = 0x123456789abcdef
	n, tails := 0, 0
	for item := uint32(0); item < 4; item++ {
		for _, purpose := range []uint32{rng.Purpose(rng.KindWeight, 3), rng.Purpose(rng.KindDelay, 0)} {
			const k = 250000
			got := emuNormals(thr, seed, purpose, item, k)
			q := rng.NewStream(seed, purpose).Seq(item)
			for j, g := range got {
				want := q.Normal()
				if math.Float64bits(want) != math.Float64bits(g) {
					t.Fatalf("item %d, purpose %#x, draw %d: rng %v, kernels %v", item, purpose, j, want, g)
				}
				if math.Abs(want) > 3.654152885361009 {
					tails++
				}
				n++
			}
		}
	}
	if tails < 100 {
		t.Errorf("%d draws beyond the ziggurat's base layer in %d: the tail path is not tested", tails, n)
	}
}
