package launch

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/backend/parity"
)

// TestTileOffsets checks the tile index against a count: entry u of a
// row is the number of its synapses onto targets below u*w, for random
// rows sorted by target (repeats included) over enough rows that
// tileOffsets splits them between goroutines.
func TestTileOffsets(t *testing.T) {
	const rows, n, dbits = 9000, 500, 8
	rng := rand.New(rand.NewPCG(1, 2))
	rowPtr := []uint64{0}
	var packed []uint32
	for range rows {
		row := make([]uint32, rng.IntN(41))
		for k := range row {
			row[k] = uint32(rng.IntN(n))
		}
		slices.Sort(row)
		for _, tg := range row {
			packed = append(packed, tg<<dbits|uint32(rng.IntN(1<<dbits)))
		}
		rowPtr = append(rowPtr, uint64(len(packed)))
	}
	for _, w := range []uint32{1, 7, 37, 499, 500} {
		nt := (n + w - 1) / w
		off := tileOffsets(rowPtr, packed, dbits, w, nt)
		if len(off) != rows*int(nt+1) {
			t.Fatalf("w %d: %d entries, want %d", w, len(off), rows*int(nt+1))
		}
		for i := range rows {
			row := packed[rowPtr[i]:rowPtr[i+1]]
			for u := uint32(0); u <= nt; u++ {
				want := 0
				for _, pw := range row {
					if pw>>dbits < u*w {
						want++
					}
				}
				if got := off[i*int(nt+1)+int(u)]; int(got) != want {
					t.Fatalf("w %d, row %d, tile %d: offset %d, want %d", w, i, u, got, want)
				}
			}
		}
	}
}

// TestScanRows checks the delay range (the slow port's bit stripped) and
// the sortedness of rows, with the unsorted row in either half.
func TestScanRows(t *testing.T) {
	const dbits, port = 8, 1 << 6
	mk := func(bad int) ([]uint64, []uint32) {
		rowPtr := []uint64{0}
		var packed []uint32
		for i := range 10000 {
			d := uint32(3 + i%40)
			if i%7 == 0 {
				d |= port
			}
			row := []uint32{uint32(i % 100), uint32(i%100 + 1)}
			if i == bad {
				row[0], row[1] = row[1], row[0]
			}
			for _, tg := range row {
				packed = append(packed, tg<<dbits|d)
			}
			rowPtr = append(rowPtr, uint64(len(packed)))
		}
		return rowPtr, packed
	}
	for _, bad := range []int{-1, 10, 9990} {
		rowPtr, packed := mk(bad)
		d0, d1, sorted := scanRows(rowPtr, packed, dbits, (1<<dbits-1)&^port)
		if d0 != 3 || d1 != 42 || sorted != (bad < 0) {
			t.Errorf("row %d out of order: delays %d to %d, sorted %v; want 3 to 42, %v", bad, d0, d1, sorted, bad < 0)
		}
	}
}

// TestLayoutTiles checks the tiles of brunel (1,000 neurons, one delay,
// two channels): their default width, a width asked for and one clamped
// to the network, the index's buffer, the chunk's launch, and the
// fallbacks with their reasons.
func TestLayoutTiles(t *testing.T) {
	net, err := parity.Build(parity.Case{Name: "brunel", Model: "brunel", Set: map[string]string{"n": "1000", "duration_ms": "10"}})
	if err != nil {
		t.Fatal(err)
	}
	var maxRow uint64
	for i := range net.N {
		maxRow = max(maxRow, net.Syn.RowPtr[i+1]-net.Syn.RowPtr[i])
	}
	for _, c := range []struct {
		blocks, ask, threads, shared, split int
		width, number, grid                 uint32
	}{
		{40, 0, 0, 0, 0, 100, 10, 10},        // 40 blocks: 10 tiles
		{40, 64, 96, 0, 0, 64, 16, 16},       // asked for
		{8, 5000, 512, 0, 0, 1000, 1, 1},     // at most the network
		{3, 0, 32, 0, 0, 1000, 1, 1},         // a tile for fewer than 4 blocks
		{40, 0, 0, 0, 3, 100, 10, 30},        // 3 blocks a tile
		{20, 0, 0, 0, 3, 200, 5, 15},         // 3 blocks a tile, 5 tiles
		{12, 0, 0, 0, 5, 334, 3, 12},         // more parts than the grid
		{40, 5000, 0, 4 << 10, 0, 512, 2, 2}, // 4 KiB: 512 targets of one delay, 2 channels
		{40, 5000, 0, MaxPTileShared, 2, 1000, 1, 2},
	} {
		p, err := New(net, Config{Block: 64, DeliverBlocks: c.blocks, Segments: SegmentsTiled, PTileTargets: c.ask, PTileBlock: c.threads, PTileShared: c.shared, PTileSplit: c.split})
		if err != nil {
			t.Fatal(err)
		}
		w, nt := p.PTiles()
		if p.Config().Segments != SegmentsTiled || w != c.width || nt != c.number {
			t.Fatalf("%+v: %v (%q), %d tiles of %d; want tiled, %d of %d", c, p.Config().Segments, p.TiledReason(), nt, w, c.number, c.width)
		}
		if p.ptileD0 != 15 || p.ptileND != 1 || p.ptileNCh != 2 {
			t.Errorf("delays from %d, %d of them, %d channels; want brunel's 15 steps alone, 2 channels", p.ptileD0, p.ptileND, p.ptileNCh)
		}
		if got, want := p.bufs[BufPTileOff].Bytes, 2*int64(net.N)*int64(nt+1); got != want {
			t.Errorf("ptile_off: %d bytes, want %d", got, want)
		}
		split := uint32(max(1, c.split))
		at := NetSize - 16 - 20*PopFast // ptile_split, then ptile_pad and the populations' bounds and weights
		if d := p.NetDescriptor(func(Buffer) uint64 { return 0 }); binary.LittleEndian.Uint32(d[at:]) != split {
			t.Errorf("%+v: the descriptor's ptile_split is %d, want %d", c, binary.LittleEndian.Uint32(d[at:]), split)
		}
		ls := p.Chunk(1)
		n := 0
		for _, l := range ls {
			switch l.Kernel {
			case Deliver:
				t.Errorf("a tiled chunk launches myelin_deliver: %v", ls)
			case DeliverTiled:
				n++
				threads := uint32(c.threads)
				if threads == 0 {
					threads = 1024
				}
				if l.Grid != c.grid || l.Block != threads || l.Shared != 4*2*w {
					t.Errorf("%+v: %v, want %d blocks of %d threads and %d bytes", c, l, c.grid, threads, 4*2*w)
				}
			}
		}
		if n != 1 || p.Fused() || p.Persistent() {
			t.Errorf("%d tiled deliveries a step, fused %v, persistent %v: want 1, neither", n, p.Fused(), p.Persistent())
		}
		// Once uploaded, the index's host copy may go; nothing the
		// launches read changes.
		desc := p.NetDescriptor(func(b Buffer) uint64 { return uint64(b) << 20 })
		p.ReleaseTileIndex()
		if spec := p.bufs[BufPTileOff]; spec.Data != nil || spec.Bytes != 2*int64(net.N)*int64(nt+1) || p.ptileOff != nil {
			t.Errorf("after ReleaseTileIndex: ptile_off data %d bytes, size %d", len(spec.Data), spec.Bytes)
		}
		if !slices.Equal(desc, p.NetDescriptor(func(b Buffer) uint64 { return uint64(b) << 20 })) || !slices.Equal(ls, p.Chunk(1)) {
			t.Error("ReleaseTileIndex changed the descriptor or the launches")
		}
	}
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{PTileShared: MaxPTileShared + 1}, "PTileShared"},
		{Config{PTileSplit: 1<<16 + 1}, "PTileSplit"},
	} {
		c.cfg.Segments = SegmentsTiled
		if _, err := New(net, c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one naming %s", c.cfg, err, c.want)
		}
	}
	if _, err := New(net, Config{Segments: SegmentsTiled, PTileTargets: -1}); err == nil || !strings.Contains(err.Error(), "PTileTargets") {
		t.Errorf("PTileTargets -1: error %v, want one naming it", err)
	}
	if _, err := New(net, Config{Segments: SegmentsTiled, PTileBlock: 1025}); err == nil || !strings.Contains(err.Error(), "PTileBlock") {
		t.Errorf("PTileBlock 1025: error %v, want one naming it", err)
	}
	if SegmentsTiled.String() != "tiled" {
		t.Errorf("SegmentsTiled is %q", SegmentsTiled)
	}
	for m := SegmentsAuto; m <= SegmentsTiled; m++ {
		if got, err := ParseSegments(m.String()); got != m || err != nil {
			t.Errorf("ParseSegments(%q) = %v, %v", m, got, err)
		}
	}
	if _, err := ParseSegments("Tiled"); err == nil || !strings.Contains(err.Error(), `"Tiled"`) {
		t.Errorf("ParseSegments(\"Tiled\"): error %v, want one quoting it", err)
	}

	// Fallbacks: the plan's network is swapped for a changed copy and
	// layoutTiles run again.
	fallback := func(name string, change func(packed []uint32) uint64, want string) {
		t.Helper()
		p, err := New(net, Config{Block: 64, DeliverBlocks: 40})
		if err != nil {
			t.Fatal(err)
		}
		cp := *net
		cp.Syn.Packed = slices.Clone(net.Syn.Packed)
		p.net = &cp
		if got := p.layoutTiles(change(cp.Syn.Packed)); !strings.Contains(got, want) || p.nPTiles != 0 || p.ptileOff != nil {
			t.Errorf("%s: reason %q, %d tiles; want one saying %q, no tiles", name, got, p.nPTiles, want)
		}
	}
	fallback("a row of 65,536", func([]uint32) uint64 { return 1 << 16 }, "16-bit")
	fallback("row 500 out of order", func(packed []uint32) uint64 {
		r := packed[net.Syn.RowPtr[500]:net.Syn.RowPtr[501]]
		r[0], r[len(r)-1] = r[len(r)-1], r[0]
		return maxRow
	}, "not sorted")
	fallback("delays of 1 to 200 steps", func(packed []uint32) uint64 {
		mask := net.Syn.DelayMask()
		if mask < 200 {
			t.Skipf("brunel's delay field holds at most %d", mask)
		}
		for k := range packed {
			packed[k] = packed[k]&^mask | uint32(1+k%200)
		}
		return maxRow
	}, "fewer than 32")
	fallback("no synapse", func([]uint32) uint64 { return 0 }, "no stored synapse")
}

// BenchmarkLayoutTiles measures the host's part of delivery by target
// tiles: launch.New with SegmentsTiled against SegmentsGlobal on brunel
// 100,000 (in-degree 1,000, 1.25 × 10⁸ synapses), with the CUDA backend's
// H100 grid (1,056 deliver blocks: 264 tiles), reporting the index's
// bytes per synapse.
func BenchmarkLayoutTiles(b *testing.B) {
	net, err := parity.Build(parity.Case{Name: "brunel", Model: "brunel", Set: map[string]string{"n": "100000", "indegree": "1000", "duration_ms": "10"}})
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range []SegmentsMode{SegmentsGlobal, SegmentsTiled} {
		b.Run(m.String(), func(b *testing.B) {
			var p *Plan
			for b.Loop() {
				if p, err = New(net, Config{DeliverBlocks: 1056, Segments: m}); err != nil {
					b.Fatal(err)
				}
			}
			if p.Config().Segments != m {
				b.Fatalf("delivered %v: %s", p.Config().Segments, p.TiledReason())
			}
			b.ReportMetric(float64(2*len(p.ptileOff))/float64(len(net.Syn.Packed)), "index_B/synapse")
		})
	}
}
