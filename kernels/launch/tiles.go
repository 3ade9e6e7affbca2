package launch

// The index of delivery by target tiles (SegmentsTiled).

import (
	"fmt"
	"math"
	"runtime"
	"sync"
)

// TiledReason says why a plan asked for SegmentsTiled delivers with
// SegmentsGlobal instead ("" where it delivers by tiles or was not asked
// to).
func (p *Plan) TiledReason() string { return p.tiledReason }

// PTiles returns the targets of a tile and the number of tiles of a plan
// that delivers by target tiles (0, 0 otherwise).
func (p *Plan) PTiles() (width, tiles uint32) { return p.ptileW, p.nPTiles }

// PTileShared returns the dynamic shared memory, in bytes, of a block of
// myelin_deliver_tiled: an int per target of a tile, delay and channel (0
// for a plan that does not deliver by tiles).
func (p *Plan) PTileShared() uint32 { return 4 * p.ptileND * p.ptileNCh * p.ptileW }

// ReleaseTileIndex drops the plan's host copy of the tile index
// (BufPTileOff's data, 2 bytes per row and tile: 530 MB at brunel 1 M),
// for a backend that has uploaded it. The buffer keeps its size; every
// other buffer's data belongs to the network, not the plan.
func (p *Plan) ReleaseTileIndex() {
	p.ptileOff = nil
	for i := range p.bufs {
		if p.bufs[i].Buffer == BufPTileOff {
			p.bufs[i].Data = nil
		}
	}
}

// layoutTiles lays out delivery by target tiles: it sizes the tiles and
// fills ptileOff, where every row's synapses onto each tile start, or
// returns why the network cannot be delivered so. maxRow is the longest
// row.
func (p *Plan) layoutTiles(maxRow uint64) string {
	net := p.net
	syn := &net.Syn
	switch {
	case syn.Resident != nil:
		return "the synapses were built on the device: no rows on the host to index"
	case maxRow == 0:
		return "no stored synapse"
	case maxRow > math.MaxUint16:
		return fmt.Sprintf("a row of %d synapses: tile offsets are 16-bit", maxRow)
	}
	d0, d1, sorted := scanRows(syn.RowPtr[:net.N+1], syn.Packed, syn.DelayBits, syn.DelayMask()&^syn.PortBit)
	if !sorted {
		return "a row not sorted by target"
	}
	nch := uint32(2)
	if syn.PortBit != 0 {
		nch = 3 // the slow port's sums
	}
	nd := d1 - d0 + 1
	maxW := uint64(p.cfg.PTileShared) / 4 / (uint64(nd) * uint64(nch))
	if maxW < 32 {
		return fmt.Sprintf("delays of %d to %d steps on %d channels leave %d targets a tile in %d bytes of shared memory, fewer than 32", d0, d1, nch, maxW, p.cfg.PTileShared)
	}
	n := uint64(net.N)
	w := uint64(p.cfg.PTileTargets)
	if w == 0 {
		tiles := uint64(max(1, p.cfg.DeliverBlocks/4))
		w = (n + tiles - 1) / tiles
	}
	w = max(1, min(w, maxW, n))
	nt := (n + w - 1) / w
	synapses := syn.RowPtr[net.N] - syn.RowPtr[0]
	if bytes := 2 * n * (nt + 1); bytes > max(64<<20, 2*synapses) {
		return fmt.Sprintf("%d tiles of %d targets: their index would take %d bytes, more than 2 a synapse", nt, w, bytes)
	}
	p.ptileOff = tileOffsets(syn.RowPtr[:net.N+1], syn.Packed, syn.DelayBits, uint32(w), uint32(nt))
	p.ptileW, p.nPTiles, p.ptileD0, p.ptileND, p.ptileNCh = uint32(w), uint32(nt), d0, nd, nch
	return ""
}

// forRanges runs f over ranges [lo, hi) that together cover [0, n), on up
// to GOMAXPROCS goroutines, each range at least grain long (one range for
// a smaller n); f's part numbers them from 0. It returns how many ranges
// there were.
func forRanges(n, grain int, f func(part, lo, hi int)) int {
	parts := max(1, min(runtime.GOMAXPROCS(0), n/grain))
	var wg sync.WaitGroup
	for w := range parts {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			f(w, lo, hi)
		}(n*w/parts, n*(w+1)/parts)
	}
	wg.Wait()
	return parts
}

// forRows runs f over ranges of the rows of rowPtr (forRanges).
func forRows(rowPtr []uint64, f func(part, lo, hi int)) int {
	return forRanges(len(rowPtr)-1, 1<<12, f)
}

// scanRows returns the shortest and longest delay of the synapses (their
// delay field under mask, without the slow port's bit) and whether every
// row is sorted by target.
func scanRows(rowPtr []uint64, packed []uint32, dbits, mask uint32) (d0, d1 uint32, sorted bool) {
	type part struct {
		d0, d1   uint32
		unsorted bool
	}
	res := make([]part, max(1, runtime.GOMAXPROCS(0)))
	parts := forRows(rowPtr, func(w, lo, hi int) {
		r := part{d0: math.MaxUint32}
		for i := lo; i < hi && !r.unsorted; i++ {
			prev := uint32(0)
			for _, pw := range packed[rowPtr[i]:rowPtr[i+1]] {
				t, d := pw>>dbits, pw&mask
				r.unsorted = r.unsorted || t < prev
				prev = t
				r.d0, r.d1 = min(r.d0, d), max(r.d1, d)
			}
		}
		res[w] = r
	})
	d0, sorted = math.MaxUint32, true
	for _, r := range res[:parts] {
		d0, d1, sorted = min(d0, r.d0), max(d1, r.d1), sorted && !r.unsorted
	}
	return d0, d1, sorted
}

// tileOffsets returns, for every row i and tile u of nt tiles of w
// targets, where the row's synapses onto tile u and later start, relative
// to the row: entry i*(nt+1)+u; entry i*(nt+1)+nt is the row's length.
// Rows are sorted by target and shorter than 65,536.
func tileOffsets(rowPtr []uint64, packed []uint32, dbits, w, nt uint32) []uint16 {
	stride := int(nt) + 1
	off := make([]uint16, (len(rowPtr)-1)*stride)
	forRows(rowPtr, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			row := packed[rowPtr[i]:rowPtr[i+1]]
			o := off[i*stride : (i+1)*stride]
			u := 0
			for k, pw := range row {
				for tu := int(pw>>dbits) / int(w); u <= tu; u++ {
					o[u] = uint16(k)
				}
			}
			for ; u < stride; u++ {
				o[u] = uint16(len(row))
			}
		}
	})
	return off
}
