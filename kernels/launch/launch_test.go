package launch

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/backend/parity"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/neuron"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// TestMirrorSizes checks what the Go side can check alone: the MyelinNet
// mirror has NetSize bytes and every registered model's coefficients fit
// PopDesc's union. The sizes of the C structs themselves come from the
// compiler in kernels/hostemu's TestLayout.
func TestMirrorSizes(t *testing.T) {
	if got := binary.Size(netDesc{}); got != NetSize {
		t.Errorf("netDesc: %d bytes, NetSize %d", got, NetSize)
	}
	if got := binary.Size(popDesc{}); got != 44+4*ModelWords {
		t.Errorf("popDesc: %d bytes, want %d", got, 44+4*ModelWords)
	}
	for _, m := range neuron.Models() {
		if _, err := EncodeCoefficients(m.New(m.Defaults(), 0.1)); err != nil {
			t.Errorf("%s: %v", m.Name, err)
		}
	}
	if len(bufferNames) != int(NumBuffers) || bufferNames[BufSamples] != "samples" || bufferNames[BufRingEx] != "ring_ex" {
		t.Error("buffer names out of step with the Buffer constants")
	}
}

func mixedPlan(t *testing.T, cfg Config) *Plan {
	t.Helper()
	net, err := parity.Build(parity.Case{Name: "mixed", Spec: parity.Mixed})
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(net, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestChunk(t *testing.T) {
	p := mixedPlan(t, Config{Block: 128, MaxChunkSteps: 10})
	if p.ChunkSteps != 10 {
		t.Fatalf("ChunkSteps = %d, want 10", p.ChunkSteps)
	}
	ls := p.Chunk(3)
	if ls[0].Kernel != ChunkBegin || ls[0].S != 3 || ls[len(ls)-1].Kernel != ChunkEnd || ls[len(ls)-1].S != 3 {
		t.Fatalf("chunk does not start with begin and end with end: %v", ls)
	}
	// Per step: events, one merged update of all spiking populations, one
	// of all rate populations (both sample the probes), deliver. Per chunk:
	// the three launches that order each step's spike ids.
	perStep := []Kernel{Events, Update, RateUpdate, Deliver}
	order := ls[len(ls)-4 : len(ls)-1]
	if order[0].Kernel != OrderCount || order[1].Kernel != OrderScan || order[2].Kernel != OrderWrite {
		t.Fatalf("chunk does not end with the order launches: %v", order)
	}
	for _, l := range order {
		if l.S != 3 {
			t.Errorf("%v: want the chunk's 3 steps as its argument", l)
		}
	}
	if tiles := 3 * p.tiles; order[0].Grid*128 < tiles || (order[0].Grid-1)*128 >= tiles || order[1].Grid != 1 {
		t.Errorf("order grids %d and %d blocks for %d tiles", order[0].Grid, order[1].Grid, tiles)
	}
	body := ls[1 : len(ls)-4]
	if len(body) != 3*len(perStep) {
		t.Fatalf("%d launches per chunk of 3 steps, want %d: %v", len(body), 3*len(perStep), body)
	}
	for i, l := range body {
		if l.Kernel != perStep[i%len(perStep)] || l.S != uint32(i/len(perStep)) || l.Block != 128 || l.Grid == 0 {
			t.Errorf("launch %d: %v", i, l)
		}
	}
	// The merged grids hold every population's blocks, each its own.
	var want [2]uint32
	for _, pop := range p.Network().Pops {
		k := 0
		if !pop.Spiking() {
			k = 1
		}
		want[k] += (pop.Size + 127) / 128
	}
	if body[1].Grid != want[0] || body[2].Grid != want[1] {
		t.Errorf("merged grids %d and %d blocks, want %d and %d", body[1].Grid, body[2].Grid, want[0], want[1])
	}
	if &p.Chunk(3)[0] != &ls[0] {
		t.Error("Chunk(3) not cached")
	}
	for _, k := range Kernels() {
		if !strings.HasPrefix(k.Name(), "myelin_") || !slices.Contains(Modules(), k.Module()) {
			t.Errorf("kernel %d: name %q, module %q", k, k.Name(), k.Module())
		}
	}
}

func TestBuffers(t *testing.T) {
	p := mixedPlan(t, Config{RecordBytes: 1 << 20})
	net := p.Network()
	words := (int64(net.N) + 31) / 32
	perStep := 4*int64(net.N) + 4*int64(p.SampleWidth) + 8 + 4*words + 4*((words+OrderTile-1)/OrderTile)
	if want := int(min(int64(net.BlockSteps), (1<<20)/perStep)); p.ChunkSteps != want {
		t.Errorf("ChunkSteps = %d, want %d", p.ChunkSteps, want)
	}
	var sum int64
	for i, b := range p.Buffers() {
		if b.Buffer != Buffer(i) || b.Bytes < 8 || int64(len(b.Data)) > b.Bytes {
			t.Errorf("buffer %d: %v, %d bytes, %d of data", i, b.Buffer, b.Bytes, len(b.Data))
		}
		n := b.Bytes
		if b.Buffer.Record() {
			n *= RecordSets
		}
		sum += n
	}
	if got, want := p.DeviceBytes(), sum+RecordSets*NetSize; got != want {
		t.Errorf("DeviceBytes = %d, want %d", got, want)
	}
	var classes int64
	for _, c := range p.MemoryByClass() {
		classes += c.Bytes
	}
	if classes != p.DeviceBytes() {
		t.Errorf("MemoryByClass sums to %d, DeviceBytes %d", classes, p.DeviceBytes())
	}
	if got := p.Buffers()[BufPacked].Bytes; got != 4*int64(net.SynapseCount()) {
		t.Errorf("packed: %d bytes for %d synapses", got, net.SynapseCount())
	}
	d := p.NetDescriptor(func(b Buffer) uint64 { return 0x1000 * uint64(b+1) })
	if len(d) != NetSize || binary.LittleEndian.Uint64(d[8*int(BufSamples):]) != 0x1000*uint64(BufSamples+1) ||
		binary.LittleEndian.Uint32(d[8*int(NumBuffers)+8:]) != net.N {
		t.Errorf("NetDescriptor: % x", d)
	}
}

func TestFill(t *testing.T) {
	p := mixedPlan(t, Config{})
	net := p.Network()
	blk := &backend.Block{}
	blk.Reset(30, len(net.Probes))
	counts := []uint32{3, 0, 2}
	ids := []uint32{2, 5, 9, 1, 7, 99}
	samples := make([]float32, 3*p.SampleWidth)
	for i := range samples {
		samples[i] = float32(i)
	}
	if err := p.Fill(blk, 30, counts, ids, samples); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(blk.IDs, []uint32{2, 5, 9, 1, 7}) || !slices.Equal(blk.Counts, counts) {
		t.Errorf("Fill: ids %v counts %v", blk.IDs, blk.Counts)
	}
	for i, pr := range net.Probes {
		if want := backend.SampledSteps(30, 3, pr.Every) * int(pr.Count); len(blk.Samples[i]) != want {
			t.Errorf("probe %d (every %d): %d samples, want %d", i, pr.Every, len(blk.Samples[i]), want)
		}
	}
	// Probe 2 samples every step: its first row is row 0's columns.
	o := int(p.probeOut[2])
	if blk.Samples[2][0] != float32(o) || blk.Samples[2][net.Probes[2].Count] != float32(p.SampleWidth+o) {
		t.Errorf("probe 2 rows: %v", blk.Samples[2][:net.Probes[2].Count+1])
	}
	blk.Reset(0, len(net.Probes))
	if err := p.Fill(blk, 0, []uint32{2}, []uint32{4, 4}, samples); err == nil {
		t.Error("Fill accepted a duplicate spike")
	}
	if err := p.Fill(blk, 0, []uint32{2}, []uint32{4}, samples); err == nil {
		t.Error("Fill accepted fewer ids than counts")
	}
	if err := p.Fill(blk, 0, []uint32{3}, []uint32{4, 9, 7}, samples); err == nil || !strings.Contains(err.Error(), "ascending") {
		t.Errorf("Fill accepted ids out of order: %v", err)
	}
	if err := p.Fill(blk, 0, []uint32{1}, []uint32{net.N}, samples); err == nil {
		t.Error("Fill accepted an id past the network")
	}
}

func TestScaleInv(t *testing.T) {
	for shift, want := range map[int32]float32{0: 1, 1: 0.5, 20: 1.0 / (1 << 20), 60: 1.0 / (1 << 60), -3: 8} {
		if got := ScaleInv(shift); got != want {
			t.Errorf("ScaleInv(%d) = %g, want %g", shift, got, want)
		}
	}
}

// TestChunkFused checks the launches of a network whose delays are all at
// least 2 steps (brunel: 1.5 ms): step 0's update alone, then one Step per
// step (update s, deliver s-1), the last step's delivery alone, the order
// launches; and that Unfused keeps the two-launch sequence.
func TestChunkFused(t *testing.T) {
	net, err := parity.Build(parity.Case{Name: "brunel", Model: "brunel", Set: map[string]string{"n": "500", "duration_ms": "10"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(net, Config{Block: 64, DeliverBlocks: 7, MaxChunkSteps: 10})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Fused() {
		t.Fatal("brunel (every delay 15 steps) not fused")
	}
	ls := p.Chunk(4)
	want := []Kernel{ChunkBegin, Update, Step, Step, Step, Deliver, OrderCount, OrderScan, OrderWrite, ChunkEnd}
	if len(ls) != len(want) {
		t.Fatalf("launches %v, want kernels %v", ls, want)
	}
	for i, l := range ls {
		if l.Kernel != want[i] {
			t.Fatalf("launch %d: %v, want %s", i, l, want[i].Name())
		}
	}
	for s := 1; s <= 3; s++ {
		if l := ls[1+s]; l.S != uint32(s) || l.A != p.updateGrid || l.Grid != p.updateGrid+7 {
			t.Errorf("step %d: %v, want S %d, A %d (update blocks), grid %d", s, l, s, p.updateGrid, p.updateGrid+7)
		}
	}
	if ls[5].S != 3 {
		t.Errorf("last delivery %v, want step 3", ls[5])
	}
	u, err := New(net, Config{Block: 64, DeliverBlocks: 7, MaxChunkSteps: 10, Unfused: true})
	if err != nil {
		t.Fatal(err)
	}
	if u.Fused() || len(u.Chunk(4)) != 2+4*2+3 {
		t.Errorf("Unfused: fused %v, launches %v", u.Fused(), u.Chunk(4))
	}
	if mixedPlan(t, Config{}).Fused() {
		t.Error("mixed (delays of 1 step) fused")
	}
}

func TestMinDelayAtLeast(t *testing.T) {
	syn := &network.Synapses{DelayBits: 4}
	for i := 0; i < 3<<20; i++ {
		syn.Packed = append(syn.Packed, uint32(i%1000)<<4|uint32(2+i%13))
	}
	if !minDelayAtLeast(syn, 2) || minDelayAtLeast(syn, 3) {
		t.Error("delays 2..14: want at least 2, not at least 3")
	}
	syn.Packed[len(syn.Packed)-1] = 7<<4 | 1
	if minDelayAtLeast(syn, 2) {
		t.Error("a delay of 1 in the last word not found")
	}
	if !minDelayAtLeast(&network.Synapses{DelayBits: 4}, 2) {
		t.Error("no synapses: every delay (none) is at least 2")
	}
}

// TestPersistentChoice checks which plans run each chunk in one persistent
// launch: auto takes networks of at most PersistentMaxN neurons (none since
// the H100 measured the persistent launch slower) when the backend offers
// a resident grid (PersistentBlocks > 0), on takes any size,
// off none, and a network with a rate population never; the persistent
// chunk is ChunkBegin, Persistent (the update blocks in A, with the fused
// flag exactly when every delay is at least 2 steps), the order launches
// and ChunkEnd.
func TestPersistentChoice(t *testing.T) {
	build := func(model, n string) *network.Network {
		t.Helper()
		net, err := parity.Build(parity.Case{Name: model, Model: model, Set: map[string]string{"n": n, "duration_ms": "10"}})
		if err != nil {
			t.Fatal(err)
		}
		return net
	}
	small, large := build("brunel", "1000"), build("brunel", fmt.Sprint(PersistentMaxN+5500))
	cuba := build("cuba", "1000")
	for _, c := range []struct {
		net  *network.Network
		mode PersistentMode
		grid int
		want bool
	}{
		{small, PersistentAuto, 8, small.N <= PersistentMaxN},
		{small, PersistentAuto, 0, false},
		{small, PersistentOn, 8, true},
		{small, PersistentOff, 8, false},
		{large, PersistentAuto, 8, false},
		{large, PersistentOn, 8, true},
		{large, PersistentOn, 0, false},
		{cuba, PersistentAuto, 8, cuba.N <= PersistentMaxN},
		{cuba, PersistentOn, 8, true},
		{small, PersistentOn, 1, true},
	} {
		p, err := New(c.net, Config{Block: 64, Persistent: c.mode, PersistentBlocks: c.grid, MaxChunkSteps: 10})
		if err != nil {
			t.Fatal(err)
		}
		if p.Persistent() != c.want {
			t.Errorf("N %d, mode %v, grid %d: Persistent() = %v, want %v", c.net.N, c.mode, c.grid, p.Persistent(), c.want)
		}
		if !p.Persistent() {
			continue
		}
		ls := p.Chunk(10)
		// A grid of one block has a kernel of its own, compiled for
		// blocks of 1,024 threads.
		persistent := Persistent
		if c.grid == 1 {
			persistent = PersistentBlock
		}
		want := []Kernel{ChunkBegin, persistent, OrderCount, OrderScan, OrderWrite, ChunkEnd}
		if len(ls) != len(want) {
			t.Fatalf("launches %v, want kernels %v", ls, want)
		}
		for i, l := range ls {
			if l.Kernel != want[i] || l.Cooperative() != (l.Kernel == persistent) {
				t.Fatalf("launch %d: %v, want %s", i, l, want[i].Name())
			}
		}
		l := ls[1]
		fused := c.net != cuba // brunel's delays are 15 steps, cuba's 1
		if l.Grid != uint32(c.grid) || l.S != 10 || l.A&^persistFused != p.updateGrid || (l.A&persistFused != 0) != fused {
			t.Errorf("N %d: persistent launch %v, want grid %d, S 10, A %d with fused flag %v", c.net.N, l, c.grid, p.updateGrid, fused)
		}
	}
	net := mixedPlan(t, Config{}).Network()
	if p, err := New(net, Config{Persistent: PersistentOn, PersistentBlocks: 4}); err != nil || p.Persistent() {
		t.Errorf("a network with rate populations: Persistent() = %v (err %v), want false", p != nil && p.Persistent(), err)
	}
	for _, cfg := range []Config{{Persistent: 3}, {Persistent: -1}, {PersistentBlocks: -2}} {
		if _, err := New(small, cfg); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
}

// TestSegments checks the deliver segmentation of a network with one hub
// row 100 times the others (parity.Hub): the global mode cuts every
// spike's row into the hub's segments, the per-spike mode uses no
// segment count at all (MyelinNet.segs = 0: each block walks its spikes'
// own rows), so its work does not depend on the longest row. A bad mode is
// an error naming the field.
func TestSegments(t *testing.T) {
	net, err := parity.Build(parity.Case{Name: "hub", Spec: func() (*myelinpb.Network, error) { return parity.Hub(1500, 40, 20) }})
	if err != nil {
		t.Fatal(err)
	}
	var maxRow, rows uint64
	for i := uint32(0); i < net.N; i++ {
		r := net.Syn.RowPtr[i+1] - net.Syn.RowPtr[i]
		maxRow = max(maxRow, r)
		rows += r
	}
	if maxRow != parity.HubTargets || maxRow < 50*rows/uint64(net.N) {
		t.Fatalf("hub network: longest row %d, mean %d: want the hub's %d, far above the mean", maxRow, rows/uint64(net.N), parity.HubTargets)
	}
	// netDesc's Segs follows the buffer addresses, n_events and 10 words.
	segsOffset := 8*int(NumBuffers) + 8 + 4*10
	segsField := func(p *Plan) uint32 {
		d := p.NetDescriptor(func(Buffer) uint64 { return 0 })
		return binary.LittleEndian.Uint32(d[segsOffset:])
	}
	for _, block := range []int{64, 256} {
		g, err := New(net, Config{Block: block, Segments: SegmentsGlobal})
		if err != nil {
			t.Fatal(err)
		}
		want := uint32((maxRow + uint64(block) - 1) / uint64(block))
		if g.Config().Segments != SegmentsGlobal || g.Segs() != want || segsField(g) != want {
			t.Errorf("block %d, global mode %v: Segs() = %d, descriptor %d, want %d (the hub's row)", block, g.Config().Segments, g.Segs(), segsField(g), want)
		}
		// Auto: the hub's row is 100 times the mean, so per spike.
		a, err := New(net, Config{Block: block})
		if err != nil {
			t.Fatal(err)
		}
		if a.Config().Segments != SegmentsPerSpike || a.Segs() != 0 {
			t.Errorf("block %d, auto on the hub network: mode %v, Segs() = %d, want per-spike, 0", block, a.Config().Segments, a.Segs())
		}
		p, err := New(net, Config{Block: block, Segments: SegmentsPerSpike})
		if err != nil {
			t.Fatal(err)
		}
		if p.Segs() != 0 || segsField(p) != 0 {
			t.Errorf("block %d, per spike: Segs() = %d, descriptor %d, want 0", block, p.Segs(), segsField(p))
		}
	}
	// Auto on rows of nearly equal length (brunel): global.
	even, err := parity.Build(parity.Case{Name: "brunel", Model: "brunel", Set: map[string]string{"n": "1000", "duration_ms": "10"}})
	if err != nil {
		t.Fatal(err)
	}
	if e, err := New(even, Config{Block: 64}); err != nil || e.Config().Segments != SegmentsGlobal || e.Segs() == 0 {
		t.Errorf("auto on brunel: %v, want global segments", err)
	}
	for _, m := range []SegmentsMode{-1, SegmentsTiled + 1} {
		if _, err := New(net, Config{Segments: m}); err == nil || !strings.Contains(err.Error(), "Config.Segments") {
			t.Errorf("Segments %d: error %v, want one naming Config.Segments", int(m), err)
		}
	}
	if SegmentsAuto.String() != "auto" || SegmentsGlobal.String() != "global" || SegmentsPerSpike.String() != "per-spike" {
		t.Errorf("mode names %q, %q, %q", SegmentsAuto, SegmentsGlobal, SegmentsPerSpike)
	}
}

// TestSkewed checks the threshold of SegmentsAuto and of the STDP columns:
// the longest of n rows at least SkewedRows times their mean, in 128-bit
// products (no wrap-around for large networks).
func TestSkewed(t *testing.T) {
	for _, c := range []struct {
		longest, n, total uint64
		want              bool
	}{
		{0, 0, 0, false},
		{159, 10, 100, false}, // 15.9 times the mean of 10
		{160, 10, 100, true},  // 16 times
		{5000, 1500, 5000 + 1499*50, true},
		{1 << 40, 1 << 30, 1 << 63, true},    // 2^70 against 2^67: would wrap in 64 bits
		{1 << 36, 1 << 30, 1 << 63, false},   // 2^66 against 2^67
		{1 << 34, 1 << 30, 1 << 60, true},    // 2^64 against 2^64: equal counts as skewed
		{1<<34 - 1, 1 << 30, 1 << 60, false}, // just under
	} {
		if got := skewed(c.longest, c.n, c.total); got != c.want {
			t.Errorf("skewed(%d, %d, %d) = %v, want %v", c.longest, c.n, c.total, got, c.want)
		}
	}
}

// TestSTDPLaunches checks the chunk of a network with STDP (parity.STDP:
// columns of at most 80 incoming plastic synapses): each step runs its
// update, then myelin_stdp_post with the step's segments per spike
// (ceil(80 / Block), 0 per spike), then its delivery, never fused; the
// persistent launch carries the STDP flag (not the fused one) beside the
// update blocks and no separate potentiation launch.
func TestSTDPLaunches(t *testing.T) {
	net, err := parity.Build(parity.Case{Name: "stdp", Spec: parity.STDP})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cfg  Config
		segs uint32
	}{
		{Config{Block: 64}, 2},
		{Config{Block: 256}, 1},
		{Config{Block: 32}, 3},
		{Config{Block: 64, Segments: SegmentsPerSpike}, 0},
	} {
		p, err := New(net, c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if p.StdpSegs() != c.segs {
			t.Errorf("block %d, %v: StdpSegs() = %d, want %d", c.cfg.Block, c.cfg.Segments, p.StdpSegs(), c.segs)
		}
		steps := min(3, p.ChunkSteps)
		ls := p.Chunk(steps)
		for s := uint32(0); s < uint32(steps); s++ {
			at := func(k Kernel) int {
				for i, l := range ls {
					if l.Kernel == k && l.S == s {
						return i
					}
				}
				return -1
			}
			u, sp, d := at(Update), at(StdpPost), at(Deliver)
			if u < 0 || sp < 0 || d < 0 || !(u < sp && sp < d) {
				t.Fatalf("block %d, step %d: update at %d, potentiation at %d, delivery at %d: want them in this order", c.cfg.Block, s, u, sp, d)
			}
			if ls[sp].A != c.segs || ls[sp].Grid != uint32(p.Config().DeliverBlocks) {
				t.Errorf("step %d: potentiation launch %+v, want A = %d on the deliver grid", s, ls[sp], c.segs)
			}
		}
		if slices.ContainsFunc(ls, func(l Launch) bool { return l.Kernel == Step }) {
			t.Errorf("block %d: a network with STDP runs fused", c.cfg.Block)
		}
	}
	p, err := New(net, Config{Block: 64, Persistent: PersistentOn, PersistentBlocks: 4})
	if err != nil {
		t.Fatal(err)
	}
	ls := p.Chunk(1)
	if !p.Persistent() || ls[1].Kernel != Persistent {
		t.Fatalf("persistent mode on: launches %v", ls)
	}
	if a := ls[1].A; a&persistSTDP == 0 || a&persistFused != 0 || a&^(persistSTDP|persistFused) != p.updateGrid {
		t.Errorf("persistent argument %#x: want the STDP flag, no fused flag, %d update blocks", a, p.updateGrid)
	}
	if slices.ContainsFunc(ls, func(l Launch) bool { return l.Kernel == StdpPost }) {
		t.Errorf("persistent chunk with a separate potentiation launch: %v", ls)
	}
}

// TestKernelBlocks checks that KernelBlocks names exactly the kernels a
// chunk of any length launches, each at the largest block it gets: a
// persistent plan of 1,024-thread blocks never lists the per-step kernels
// (whose registers may not allow such blocks), a tiled plan lists its
// delivery at PTileBlock, and myelin_chunk_end its single thread.
func TestKernelBlocks(t *testing.T) {
	net, err := parity.Build(parity.Case{Name: "brunel", Model: "brunel", Set: map[string]string{"n": "1000", "duration_ms": "10"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cfg  Config
		want map[Kernel]uint32
	}{
		{Config{Block: 1024, Persistent: PersistentOn, PersistentBlocks: 1, MaxChunkSteps: 10},
			map[Kernel]uint32{ChunkBegin: 1024, PersistentBlock: 1024, OrderCount: 1024, OrderScan: 1024, OrderWrite: 1024, ChunkEnd: 1}},
		{Config{Block: 128, Persistent: PersistentOff, MaxChunkSteps: 10},
			map[Kernel]uint32{ChunkBegin: 128, Update: 128, Step: 128, Deliver: 128, OrderCount: 128, OrderScan: 128, OrderWrite: 128, ChunkEnd: 1}},
		{Config{Block: 128, Persistent: PersistentOff, Unfused: true, MaxChunkSteps: 1},
			map[Kernel]uint32{ChunkBegin: 128, Update: 128, Deliver: 128, OrderCount: 128, OrderScan: 128, OrderWrite: 128, ChunkEnd: 1}},
		{Config{Block: 128, DeliverBlocks: 40, Segments: SegmentsTiled, PTileBlock: 512, MaxChunkSteps: 10},
			map[Kernel]uint32{ChunkBegin: 128, Update: 128, DeliverTiled: 512, OrderCount: 128, OrderScan: 128, OrderWrite: 128, ChunkEnd: 1}},
	} {
		p, err := New(net, c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		got := p.KernelBlocks()
		if !maps.Equal(got, c.want) {
			t.Errorf("%+v: KernelBlocks() = %v, want %v", c.cfg, got, c.want)
		}
		// Every launch of the longest chunk is covered.
		for _, l := range p.Chunk(p.ChunkSteps) {
			if b, ok := got[l.Kernel]; !ok || l.Block > b {
				t.Errorf("%+v: launch %v beyond KernelBlocks %v", c.cfg, l, got)
			}
		}
	}
}

// TestNetDescriptorPops decodes the populations' fields of MyelinNet
// (pop_first, pop_ublock0, pop_rblock0, pop_wrel, pop_compact) from the
// descriptors of Mixed (9 populations, spiking and rate interleaved),
// Compact (stored and compact weights) and Many (20 populations, more
// than the descriptor holds), against the network and the PopDescs.
func TestNetDescriptorPops(t *testing.T) {
	for _, c := range []parity.Case{{Name: "mixed", Spec: parity.Mixed}, {Name: "compact", Spec: parity.Compact}, {Name: "many", Spec: parity.Many}} {
		net, err := parity.Build(c)
		if err != nil {
			t.Fatal(err)
		}
		p, err := New(net, Config{Block: 64})
		if err != nil {
			t.Fatal(err)
		}
		d := p.NetDescriptor(func(Buffer) uint64 { return 0 })
		at := NetSize - 8 - 20*PopFast
		u32 := func(k, i int) uint32 { return binary.LittleEndian.Uint32(d[at+4*(k*PopFast+i):]) }
		wrel := func(i int) uint64 { return binary.LittleEndian.Uint64(d[at+12*PopFast+8*i:]) }
		compact := binary.LittleEndian.Uint32(d[NetSize-8:])
		pops := p.bufs[BufPops].Data
		size := binary.Size(popDesc{})
		var ublocks, rblocks uint32
		stored := 0
		for i := 0; i < PopFast; i++ {
			if i >= len(net.Pops) {
				if u32(0, i) != ^uint32(0) || u32(1, i) != ^uint32(0) || u32(2, i) != ^uint32(0) || wrel(i) != 0 || compact>>i&1 != 0 {
					t.Errorf("%s: entry %d past the %d populations: %d %d %d %d, compact bit %d; want 0xFFFFFFFF ×3, 0, 0",
						c.Name, i, len(net.Pops), u32(0, i), u32(1, i), u32(2, i), wrel(i), compact>>i&1)
				}
				continue
			}
			pd := pops[i*size:]
			first, ub, rb := binary.LittleEndian.Uint32(pd[4:]), binary.LittleEndian.Uint32(pd[20:]), binary.LittleEndian.Uint32(pd[24:])
			if first != net.Pops[i].First || ub != ublocks || rb != rblocks {
				t.Fatalf("%s: PopDesc %d: first %d, blocks %d %d; want %d, %d %d", c.Name, i, first, ub, rb, net.Pops[i].First, ublocks, rblocks)
			}
			if u32(0, i) != first || u32(1, i) != ub || u32(2, i) != rb {
				t.Errorf("%s: population %d: descriptor has %d %d %d, PopDesc %d %d %d", c.Name, i, u32(0, i), u32(1, i), u32(2, i), first, ub, rb)
			}
			if net.Pops[i].Spiking() {
				ublocks += p.blocks(net.Pops[i].Size)
			} else {
				rblocks += p.blocks(net.Pops[i].Size)
			}
			wb := net.Syn.WeightBase[i]
			if got := compact>>i&1 == 1; got != (wb == network.Compact) {
				t.Errorf("%s: population %d: compact bit %v, WeightBase %d", c.Name, i, got, wb)
			}
			if wb != network.Compact {
				stored++
				// Synapse k of the population's rows has weight
				// Weight[wrel + k]: its first synapse's weight is at wb.
				if k := net.Syn.RowPtr[net.Pops[i].First]; wrel(i)+k != wb {
					t.Errorf("%s: population %d: wrel %d + first synapse %d = %d, want WeightBase %d", c.Name, i, wrel(i), k, wrel(i)+k, wb)
				}
			}
		}
		if c.Name == "compact" && (compact == 0 || stored == 0) {
			t.Errorf("compact: mask %b, %d stored populations: want both kinds", compact, stored)
		}
	}
}

// TestPoissonOrder decodes the Poisson descriptors of the parity case
// drive (rate schedules: hundreds of descriptors on one population): each
// population's inputs sorted by start, reach the latest stop so far within
// the population, and every input of the network there once.
func TestPoissonOrder(t *testing.T) {
	net, err := parity.Build(parity.Case{Name: "drive", Spec: parity.Drive})
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(net, Config{})
	if err != nil {
		t.Fatal(err)
	}
	data := p.bufs[BufPoisson].Data
	size := binary.Size(poissonDesc{})
	if len(data) != size*len(net.Poisson) || len(net.Poisson) < 100 {
		t.Fatalf("%d bytes of descriptors for %d inputs of %d bytes: want one each, and at least 100 inputs", len(data), len(net.Poisson), size)
	}
	seen := map[poissonDesc]int{}
	for _, q := range net.Poisson {
		seen[poissonDesc{Start: q.Start, Stop: q.Stop, First: q.First, Count: q.Count, Weight: q.Weight, Purpose: q.Purpose,
			Base: q.Base, TableOff: q.TableOff, TableLen: q.TableLen, Slow: b2u(q.Slow)}]++
	}
	pops := p.bufs[BufPops].Data
	popSize := binary.Size(popDesc{})
	for i := range net.Pops {
		k0 := binary.LittleEndian.Uint32(pops[i*popSize+28:])
		n := binary.LittleEndian.Uint32(pops[i*popSize+32:])
		var reach, start uint64
		for k := k0; k < k0+n; k++ {
			var d poissonDesc
			if _, err := binary.Decode(data[int(k)*size:], binary.LittleEndian, &d); err != nil {
				t.Fatal(err)
			}
			reach = max(reach, d.Stop)
			if d.Start < start || d.Reach != reach {
				t.Fatalf("population %d, input %d: start %d after %d, reach %d; want sorted starts and reach %d", i, k, d.Start, start, d.Reach, reach)
			}
			start = d.Start
			d.Reach = 0
			if seen[d]--; seen[d] < 0 {
				t.Fatalf("population %d, input %d: %+v is not an input of the network (or is there twice)", i, k, d)
			}
		}
	}
}

// TestDCOrder decodes the DC descriptors of Mixed (DC inputs on seven
// populations, two on one, spiking and rate): each population's are its
// own, in input order (their currents add in float32 in that order).
func TestDCOrder(t *testing.T) {
	net, err := parity.Build(parity.Case{Name: "mixed", Spec: parity.Mixed})
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(net, Config{})
	if err != nil {
		t.Fatal(err)
	}
	data, pops := p.bufs[BufDC].Data, p.bufs[BufPops].Data
	size, popSize := binary.Size(dcDesc{}), binary.Size(popDesc{})
	if len(data) != size*len(net.DC) || len(net.DC) < 8 {
		t.Fatalf("%d bytes of descriptors for %d DC inputs: want one each, and at least 8 inputs", len(data), len(net.DC))
	}
	for i := range net.Pops {
		k0 := binary.LittleEndian.Uint32(pops[i*popSize+36:])
		n := binary.LittleEndian.Uint32(pops[i*popSize+40:])
		var want []dcDesc
		for _, d := range net.DC {
			if d.Pop == i {
				want = append(want, dcDesc{Start: d.Start, Stop: d.Stop, First: d.First, Count: d.Count, Amp: d.Amp})
			}
		}
		got := make([]dcDesc, n)
		if n > 0 {
			if _, err := binary.Decode(data[int(k0)*size:int(k0+n)*size], binary.LittleEndian, got); err != nil {
				t.Fatal(err)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("population %s: DC inputs %+v, want %+v", net.Pops[i].Name, got, want)
		}
	}
}
