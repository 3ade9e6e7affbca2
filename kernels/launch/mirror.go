package launch

// The Go mirrors of kernels/network.cuh's structs (same fields, same order,
// encoded little-endian without padding by encoding/binary) and the
// encoding of a network into them.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/neuron"
	"github.com/myelin-sim/myelin/engine/synapse"
)

// PopFast is how many populations' boundaries MyelinNet carries in itself
// (MYELIN_POP_FAST in kernels/network.cuh): up to that many, the kernels
// find a neuron's or a block's population without a global load.
const PopFast = 16

// NetSize is the size of the MyelinNet descriptor (kernels/network.cuh).
const NetSize = 520 + 20*PopFast

// ModelWords is the size of PopDesc's model parameter union in 4-byte
// words (MYELIN_MODEL_WORDS in kernels/models.cuh).
const ModelWords = 32

// MirrorSizes returns the encoded sizes of the Go mirrors of
// kernels/network.cuh's structs, in the order PopDesc, PoissonDesc, DCDesc,
// EventDesc, RateProjDesc, ProbeDesc, MyelinNet, StpDesc, StdpDesc,
// ProcDesc; a test compares them with the C compiler's sizeof.
func MirrorSizes() []int {
	return []int{binary.Size(popDesc{}), binary.Size(poissonDesc{}), binary.Size(dcDesc{}), binary.Size(eventDesc{}),
		binary.Size(rateProjDesc{}), binary.Size(probeDesc{}), binary.Size(netDesc{}), binary.Size(stpDesc{}), binary.Size(stdpDesc{}),
		binary.Size(procDesc{})}
}

// NetDescriptor returns the MyelinNet of one record set: addr gives the
// device address of each buffer (for the record buffers, those of the set).
func (p *Plan) NetDescriptor(addr func(Buffer) uint64) []byte {
	net := p.net
	var d netDesc
	for b := Buffer(0); b < NumBuffers; b++ {
		d.Ptr[b] = addr(b)
	}
	d.NEvents = uint64(len(net.Events))
	d.N, d.RingSlots, d.RateSlots, d.DelayBits = net.N, net.RingSlots, max(1, net.RateSlots), net.Syn.DelayBits
	d.NPops, d.NRProj = uint32(len(net.Pops)), uint32(len(net.RateProj))
	d.NProbes, d.SampleWidth = uint32(len(net.Probes)), uint32(p.SampleWidth)
	d.Key0, d.Key1 = uint32(net.Seed), uint32(net.Seed>>32)
	d.Segs, d.ChunkCap = p.segs, uint32(p.ChunkSteps)
	d.Words, d.Tiles = p.words, p.tiles
	d.NSTP, d.STPEntries = uint32(len(net.STP)), net.STPStateSize()
	d.PortBit = net.Syn.PortBit
	d.NSTDP = uint32(len(net.STDP))
	d.NProc, d.ProcSlots, d.ProcSlotWords = uint32(len(net.Procedural)), p.procSlots, p.procSlotWords
	d.PTileW, d.NPTiles, d.PTileD0, d.PTileND, d.PTileNCh, d.PTileSplit = p.ptileW, p.nPTiles, p.ptileD0, p.ptileND, p.ptileNCh, uint32(p.cfg.PTileSplit)
	d.PopFirst, d.PopUBlock0, d.PopRBlock0 = p.popBounds[0], p.popBounds[1], p.popBounds[2]
	d.PopWRel, d.PopCompact = popWeights(net)
	return appendStruct(nil, d)
}

type popDesc struct {
	Model    int32
	First    uint32
	Size     uint32
	ScaleInv float32
	EL       float32
	UBlock0  uint32 // blocks of the merged update launch before this population's
	RBlock0  uint32 // blocks of the merged rate update launch before this population's
	Poisson0 uint32 // the population's Poisson inputs: descriptors [Poisson0, Poisson0+NPoisson)
	NPoisson uint32
	DC0      uint32 // the population's DC inputs, in input order: descriptors [DC0, DC0+NDC)
	NDC      uint32
	M        [ModelWords]uint32
}

func (d popDesc) append(b []byte) []byte { return appendStruct(b, d) }

type poissonDesc struct {
	Start, Stop                       uint64
	First, Count                      uint32
	Weight                            int32
	Purpose, Base, TableOff, TableLen uint32
	Slow                              uint32
	Reach                             uint64 // the latest Stop of this and the population's earlier descriptors
}

type dcDesc struct {
	Start, Stop  uint64
	First, Count uint32
	Amp          float32
	Pad          uint32
}

type eventDesc struct {
	Step   uint64
	Target uint32
	Weight int32
}

type rateProjDesc struct {
	PreFirst, PreSize, Post, Delay      uint32
	Kind, TableOff, TableLen, ColPtrOff uint32
	EdgeOff, Pad                        uint32
}

type probeDesc struct {
	First, Count, Every uint32
	Spiking             int32
	EL                  float32
	Out                 uint32
}

type netDesc struct {
	Ptr                                [NumBuffers]uint64
	NEvents                            uint64
	N, RingSlots, RateSlots, DelayBits uint32
	NPops, NRProj                      uint32
	NProbes, SampleWidth, Key0, Key1   uint32
	Segs, ChunkCap, Words, Tiles       uint32
	NSTP, STPEntries                   uint32
	PortBit, NSTDP                     uint32
	NProc, ProcSlots, ProcSlotWords    uint32
	PTileW, NPTiles, PTileD0, PTileND  uint32
	PTileNCh, PTileSplit, PTilePad     uint32
	PopFirst, PopUBlock0, PopRBlock0   [PopFast]uint32
	PopWRel                            [PopFast]uint64
	PopCompact, PopPad                 uint32
}

// popWeights returns MyelinNet's pop_wrel and pop_compact: for each of the
// first PopFast populations, where its synapses' weights start less its
// first synapse (wrapping, as the kernels add), or its bit in the mask
// where it stores none (network.Compact).
func popWeights(net *network.Network) (wrel [PopFast]uint64, compact uint32) {
	syn := &net.Syn
	for p := 0; p < min(PopFast, len(net.Pops), len(syn.WeightBase)); p++ {
		if wb := syn.WeightBase[p]; wb == network.Compact {
			compact |= 1 << p
		} else {
			wrel[p] = wb - syn.RowPtr[net.Pops[p].First]
		}
	}
	return wrel, compact
}

type procDesc struct {
	Rule, K, PreFirst, PreSize           uint32
	PostFirst, NPost, Flags, ConnPurpose uint32
	WPurpose, DPurpose, WKind, DKind     uint32
	CWeight                              int32
	CDelay, Port, DFirst                 uint32
	ThrOff, ThrLen, HashBits, ListOff    uint32
	Scale, WA, WB, WSign, DA, DB, Dt     float64
	WLo, WHi, DLo, DHi                   float64
	BP, BLogQ                            float64
}

type stpDesc struct {
	Pre              int32
	First, Size, Off uint32
	Coef             synapse.TsodyksMarkram
	Pad              uint32
}

type stdpDesc struct {
	Pre, Post           int32
	PreFirst, PostFirst uint32
	PreOff, PostOff     uint32
	PtrOff              uint64
	Coef                synapse.STDP
	Pad                 uint32
}

// ScaleInv is 2^-Shift as a float32, computed as the CPU backend does.
func ScaleInv(shift int32) float32 {
	if shift < 0 {
		return float32(uint64(1) << uint(-shift))
	}
	return float32(1 / float64(uint64(1)<<uint(shift)))
}

// newPopDesc encodes a population with its model's coefficients.
func newPopDesc(pop *network.Population) (popDesc, error) {
	d := popDesc{First: pop.First, Size: pop.Size, ScaleInv: ScaleInv(pop.Shift), EL: pop.EL}
	if pop.Model == nil {
		return d, fmt.Errorf("launch: population %q: no neuron model", pop.Name)
	}
	if m, ok := neuron.ByCode(pop.Model.Code); !ok || m != pop.Model {
		return d, fmt.Errorf("launch: population %q: model %v (code %d) is not registered", pop.Name, pop.Model, pop.Model.Code)
	}
	d.Model = pop.Model.Code
	b, err := EncodeCoefficients(pop.Coef)
	if err != nil {
		return d, fmt.Errorf("launch: population %q: %v: %w", pop.Name, pop.Model, err)
	}
	for i := 0; i < len(b)/4; i++ {
		d.M[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return d, nil
}

// EncodeCoefficients returns a model's coefficients as the kernels read
// them from PopDesc's parameter union: little-endian, without padding, at
// most ModelWords words.
func EncodeCoefficients(c neuron.Coefficients) ([]byte, error) {
	var buf bytes.Buffer
	if err := binary.Write(&buf, binary.LittleEndian, c); err != nil {
		return nil, fmt.Errorf("encoding %T: %w", c, err)
	}
	if buf.Len() > 4*ModelWords || buf.Len()%4 != 0 {
		return nil, fmt.Errorf("coefficients %T take %d bytes: PopDesc holds %d in 4-byte words", c, buf.Len(), 4*ModelWords)
	}
	return buf.Bytes(), nil
}

// appendStruct appends v's little-endian encoding; v is one of the mirror
// structs, which encoding/binary always encodes.
func appendStruct(b []byte, v any) []byte {
	out, err := binary.Append(b, binary.LittleEndian, v)
	if err != nil {
		panic(fmt.Sprintf("launch: encoding %T: %v", v, err)) // cannot happen: fixed-size mirror structs
	}
	return out
}

// littleEndian returns the little-endian bytes of v: a view of v's memory
// when the host is little-endian (as every CUDA host is), else a copy.
func littleEndian[T uint16 | uint32 | int32 | uint64](v []T) []byte {
	if len(v) == 0 {
		return nil
	}
	size := int(unsafe.Sizeof(v[0]))
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 {
		return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), len(v)*size)
	}
	return appendStruct(make([]byte, 0, len(v)*size), v)
}

func appendF32s(b []byte, v []float32) []byte {
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}
