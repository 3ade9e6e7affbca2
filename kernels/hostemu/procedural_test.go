//go:build hostemu

package hostemu

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/backend/parity"
	"github.com/myelin-sim/myelin/engine/cpu"
	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/sim"
	"github.com/myelin-sim/myelin/engine/spec"
	"github.com/myelin-sim/myelin/engine/stream"
	"github.com/myelin-sim/myelin/kernels/launch"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// spikesOf runs s on be and returns the spikes of its stream: steps and
// ids.
func spikesOf(t *testing.T, s *myelinpb.Network, be backend.Backend) ([]uint64, []uint32) {
	t.Helper()
	defer be.Close()
	spec.ApplyDefaults(s)
	if err := spec.Validate(s); err != nil {
		t.Fatal(err)
	}
	net, err := network.Build(s, network.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := sim.Run(context.Background(), net, sim.Options{Backend: be, Out: &buf, Version: "test"}); err != nil {
		t.Fatalf("%s: %v", be.Name(), err)
	}
	r, err := stream.ReadAll(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return r.Steps, r.IDs
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
