//go:build hostemu

package hostemu

import (
	"fmt"
	"testing"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/spec"
	"github.com/myelin-sim/myelin/kernels/launch"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// TestSpikeOrder checks the device's ordering of each step's spike ids
// (kernels/order.cu) on a pattern made to stress it: 5,003 neurons (157
// bitmask words: three tiles, the last word partial), neuron g driven
// over threshold by one event in a step of its own class g % 5, so every step's spikes span every
// tile, including the last neuron. The emulation runs blocks and threads
// in descending order, so the unordered lists come out descending and
// only the ordering kernels put them right. Each step's ids must be
// exactly {g : g % 5 == step - 1}, ascending, in every geometry, with
// chunks that split the pattern.
func TestSpikeOrder(t *testing.T) {
	const n, period = 5003, 5
	f := proto.Float64
	b := spec.New("order").Dt(0.1).Duration(2).Seed(7).BlockSteps(20)
	b.Population("P", n, spec.IafPscDelta(&myelinpb.IafPscDelta{EL: f(-65), VTh: f(-50), VReset: f(-65), TRef: f(20)}))
	ids := make([]uint32, n)
	times := make([]float64, n)
	for g := range ids {
		ids[g] = uint32(g)
		times[g] = 0.1 * float64(g%period) // one step per class g % 5
	}
	b.SpikeTimes("P", ids, times, 30)
	s, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	net, err := network.Build(s, network.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Every neuron fires once (t_ref outlasts the run), in the step its
	// event lands; the classes take one step each.
	for _, cfg := range []launch.Config{
		{Block: 64, DeliverBlocks: 5, MaxChunkSteps: 3},
		{Block: 1, DeliverBlocks: 1, MaxChunkSteps: 7},
		{Block: 256, DeliverBlocks: 64, MaxChunkSteps: 20},
	} {
		t.Run(fmt.Sprintf("block%d_chunk%d", cfg.Block, cfg.MaxChunkSteps), func(t *testing.T) {
			be := New(&cfg)
			defer be.Close()
			if err := be.Load(net); err != nil {
				t.Fatal(err)
			}
			var blk backend.Block
			blk.Reset(0, 0)
			if err := be.Advance(20, &blk); err != nil {
				t.Fatal(err)
			}
			fired := map[uint32]int{}
			off := 0
			firstStep := -1
			for step, c := range blk.Counts {
				got := blk.IDs[off : off+int(c)]
				off += int(c)
				if c == 0 {
					continue
				}
				if firstStep < 0 {
					firstStep = step
				}
				class := uint32(got[0] % period)
				for i, g := range got {
					if g%period != class || (i > 0 && got[i-1] >= g) {
						t.Fatalf("step %d: ids %v... not ascending in one class mod %d (id %d at %d)", step, got[:min(8, len(got))], period, g, i)
					}
					fired[g]++
				}
				if want := (n - int(class) + period - 1) / period; len(got) != want {
					t.Errorf("step %d: %d spikes, want %d (class %d)", step, len(got), want, class)
				}
				if got[len(got)-1] < n-period {
					t.Errorf("step %d: last id %d, want one of the last %d neurons", step, got[len(got)-1], period)
				}
			}
			if len(fired) != n {
				t.Fatalf("%d neurons fired, want all %d", len(fired), n)
			}
			for g, k := range fired {
				if k != 1 {
					t.Errorf("neuron %d fired %d times", g, k)
				}
			}
		})
	}
}
