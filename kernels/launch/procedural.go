package launch

// Procedural projections on the device (kernels/procedural.cuh).

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/rng"
)

// DefaultProceduralScratch is Config.ProceduralScratch's default where
// the device's memory is not known (the host emulation, a backend that
// does not know its device's memory; myelin plan counts the 80 GB case,
// plan.ProceduralScratch): the
// device memory that the threads generating procedural rows share. A GPU
// backend takes ProceduralScratchFor its device.
const DefaultProceduralScratch = 1 << 30

// ProceduralScratchFor returns the row scratch for a device of total
// bytes of memory: a sixteenth of it, from DefaultProceduralScratch / 4
// to 4 GiB. More scratch lets more rows be generated at once: on an H100,
// brunel at 4,000,000 neurons (2.5 × 10¹⁰ procedural synapses) stepped in
// 17.0 ms with 1 GiB (12,553 generating threads) and in 11.2 ms with 4 GiB
// (50,212), cuda.BenchmarkProcedural.
func ProceduralScratchFor(total uint64) int64 {
	return min(4<<30, max(DefaultProceduralScratch/4, int64(min(total, 1<<62)/16)))
}

// layoutProcedural encodes the procedural projections (network.Device)
// into ProcDescs and their delay tables, sizes the scratch slot of a
// generating thread (a hash set of at least twice the out-degree for
// Floyd's sampler, and the row's targets where draws pair with them), and
// the number of slots: every thread that delivers, or as many as
// Config.ProceduralScratch holds (at least one). It refuses what the
// kernels do not generate, naming the projection and the field.
func (p *Plan) layoutProcedural() error {
	net := p.net
	p.procDescs, p.procThr, p.procSlots, p.procSlotWords, p.procMinDelay = nil, nil, 0, 0, ^uint32(0)
	if len(net.Procedural) == 0 {
		return nil
	}
	// Every slot holds a hash set of 2^hash_bits words at its start and a
	// list of targets from word table on: the sets of all projections
	// fit before the list, which need not be cleared between rows.
	var table, list uint64
	descs := make([]procDesc, 0, len(net.Procedural))
	p.procThr = ZigguratWords()
	for i := range net.Procedural {
		pr := &net.Procedural[i]
		d := pr.Device(net)
		where := fmt.Sprintf("launch: projection %q (projections[%d]) is procedural", pr.Name, pr.Index)
		desc, err := encodeProc(&d, &p.procThr, where, "procedural: false")
		if err != nil {
			return err
		}
		constant := d.WeightKind == network.DrawConstant && d.DelayKind == network.DrawConstant
		if d.Rule == network.RuleFixedOutDegree && d.K > 0 {
			if !d.Multapses {
				desc.HashBits = uint32(bits.Len64(2*uint64(d.K) - 1))
				if desc.HashBits > 30 {
					return fmt.Errorf("%s: an out-degree of %d is too large for the kernels' row generation (at most 2^29)", where, d.K)
				}
				table = max(table, 1<<desc.HashBits)
				list = max(list, uint64(d.K)) // where the hash set is emptied
			} else if !constant {
				list = max(list, uint64(d.K))
			}
		}
		descs = append(descs, desc)
		p.procMinDelay = min(p.procMinDelay, d.MinDelay)
	}
	for _, desc := range descs {
		desc.ListOff = uint32(table)
		p.procDescs = appendStruct(p.procDescs, desc)
	}
	words := table + list
	if words >= 1<<31 {
		return fmt.Errorf("launch: a procedural row needs %d words of scratch: too many", words)
	}
	threads := uint64(p.cfg.DeliverBlocks) * uint64(p.cfg.Block) // myelin_deliver_proc's grid
	slots := threads
	if words > 0 {
		slots = min(threads, max(1, uint64(p.cfg.ProceduralScratch)/(4*words)))
	}
	p.procSlots, p.procSlotWords = uint32(min(slots, 1<<31)), uint32(words)
	return nil
}

// encodeProc encodes the draws d as a ProcDesc, appending its delay table
// to thr; it refuses the kinds that the kernels do not draw, naming the
// projection (where) and what to do instead (else).
func encodeProc(d *network.Device, thr *[]uint32, where, instead string) (procDesc, error) {
	if d.WeightKind < network.DrawConstant || d.WeightKind > network.DrawLognormal {
		return procDesc{}, fmt.Errorf("%s with a %s weight: the kernels draw constant, uniform, normal and lognormal weights only; use the cpu backend, or %s", where, drawName(d.WeightKind), instead)
	}
	if d.DelayKind < network.DrawConstant || d.DelayKind > network.DrawTable {
		return procDesc{}, fmt.Errorf("%s with a %s delay: the kernels draw constant, uniform, normal, lognormal and tabulated delays only; use the cpu backend, or %s", where, drawName(d.DelayKind), instead)
	}
	desc := procDesc{
		Rule: uint32(d.Rule), K: d.K, PreFirst: d.PreFirst, PreSize: d.PreSize, PostFirst: d.PostFirst, NPost: d.NPost,
		ConnPurpose: d.ConnPurpose, WPurpose: d.WeightPurpose, DPurpose: d.DelayPurpose,
		WKind: uint32(d.WeightKind), DKind: uint32(d.DelayKind), CWeight: d.ConstWeight, CDelay: d.ConstDelay,
		Port: d.Port, DFirst: d.DelayFirst, Scale: d.Scale, WA: d.WeightA, WB: d.WeightB, WSign: d.WeightSign,
		DA: d.DelayA, DB: d.DelayB, Dt: d.Dt,
		WLo: d.WeightLo, WHi: d.WeightHi, DLo: d.DelayLo, DHi: d.DelayHi,
		BP: d.P, BLogQ: d.LogQ,
	}
	if d.SkipSelf {
		desc.Flags |= 1
	}
	if d.Multapses {
		desc.Flags |= 2
	}
	if d.ViaFloat32 {
		desc.Flags |= 4
	}
	if d.WeightNeg {
		desc.Flags |= 8
	}
	if d.DelayNeg {
		desc.Flags |= 16
	}
	if d.DelayKind == network.DrawTable {
		desc.ThrOff, desc.ThrLen = uint32(len(*thr)), uint32(len(d.DelayThr))
		*thr = append(*thr, d.DelayThr...)
	}
	return desc, nil
}

// ZigguratWords returns the start of the proc_thr buffer: the tables of
// rng.Seq.Normal's ziggurat as kernels/procedural.cuh reads them
// (MYELIN_ZIG_*): w and f as little-endian doubles, k, then r.
func ZigguratWords() []uint32 {
	zw, zf, zk, zr := rng.ZigguratTables()
	w := appendWords(nil, zw[:])
	w = appendWords(w, zf[:])
	w = append(w, zk[:]...)
	return appendWords(w, []float64{zr})
}

// appendWords appends the float64s of v to w, two little-endian words
// each.
func appendWords(w []uint32, v []float64) []uint32 {
	for _, x := range v {
		b := math.Float64bits(x)
		w = append(w, uint32(b), uint32(b>>32))
	}
	return w
}

// drawName names a network.Draw* kind.
func drawName(k int) string {
	switch k {
	case network.DrawConstant:
		return "constant"
	case network.DrawUniform:
		return "uniform"
	case network.DrawNormal:
		return "normal"
	case network.DrawLognormal:
		return "lognormal"
	case network.DrawTable:
		return "tabulated"
	}
	return fmt.Sprintf("kind %d", k)
}

// ProceduralSlots returns the threads that generate procedural rows at
// once (each owns a scratch slot) and the bytes of one slot: 0, 0 without
// procedural projections.
func (p *Plan) ProceduralSlots() (slots int, bytes int64) {
	return int(p.procSlots), 4 * int64(p.procSlotWords)
}
