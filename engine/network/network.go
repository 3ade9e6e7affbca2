// Package network turns a validated spec into the arrays that every backend
// loads: populations with their propagators and initial state, spiking
// synapses as CSR by presynaptic neuron (a packed target|delay word, plus a
// fixed-point weight where weights vary: 4 or 8 bytes per synapse), Poisson, DC and spike-array
// inputs resolved to steps, and rate projections (ring projections as a
// distance table, never an N×N matrix).
//
// Everything is a function of the spec and its seed: building with any
// number of threads gives the same arrays.
package network

import (
	"github.com/myelin-sim/myelin/engine/neuron"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// Population is a built population. Global neuron ids are
// [First, First+Size).
type Population struct {
	Name     string
	Model    *neuron.Model
	First    uint32
	Size     uint32
	Recorded bool // its spikes go into the stream

	// Coef holds the model's float32 coefficients for one step (a
	// neuron.SpikingModel or neuron.RateModel, by Model.Kind).
	Coef neuron.Coefficients

	// Shift is the fixed-point scale of this population's synaptic input:
	// the ring buffers hold weight × 2^Shift as int32. Resolution is 2^-Shift
	// in weight units.
	Shift int32
	// EL is E_L for models that keep V relative to it (0 otherwise); add it
	// to the state to report the absolute membrane potential.
	EL float32
	// Init is the initial V (relative to EL) or r of each neuron.
	Init []float32
	// Synapses is the number of synapses (or rate connections) onto it.
	Synapses uint64
	// Slow is true when some projection or Poisson input reaches the
	// population through its model's slow excitatory port
	// (SLOW_EXCITATORY): Coef then came from Model.NewSlow, and the port's
	// current or conductance is kept in State.C.
	Slow bool
}

// Spiking reports whether the population emits spikes.
func (p *Population) Spiking() bool { return p.Model.Kind == neuron.Spiking }

// Synapses is the CSR of all spiking synapses by presynaptic global id.
// Synapses of a row are sorted by their packed word, that is by target and
// then delay.
//
// Weights are stored per synapse only where they vary: a presynaptic
// population whose projections all have constant weights (one weight per
// target population) is compact, and its synapses take their weight from
// PopWeight; they cost the 4 bytes of their packed word. The synapses of
// the other populations' rows keep one fixed-point weight each in Weight.
type Synapses struct {
	RowPtr []uint64 // len N+1
	// Packed holds target<<DelayBits | port | delay steps, port being
	// PortBit for a synapse onto the slow excitatory port and 0 otherwise.
	Packed []uint32
	// Weight holds the weights of the synapses of stored (not compact)
	// populations, in the target population's fixed-point scale; its sign
	// chooses the channel (>= 0 excitatory, < 0 inhibitory). The weight of
	// synapse k of a row of population p is Weight[WeightBase[p] + k -
	// RowPtr[first neuron of p]].
	Weight []int32
	// WeightBase holds, per population, where its rows' weights start in
	// Weight, or Compact when its synapses take their weights from
	// PopWeight.
	WeightBase []uint64
	// PopWeight[p*len(Pops)+q] is the weight (fixed point, as Weight) of
	// every synapse from compact population p onto population q.
	PopWeight []int32
	// PopDelay[p*len(Pops)+q] is the delay field (as in Packed) of every
	// stored synapse from population p onto q, or NoPopDelay where they
	// differ (see PairDelay). Nil for networks of more than
	// MaxCompactPops populations.
	PopDelay []uint32
	// RowDelay[p] is the delay field of every stored synapse of the rows
	// of population p, or NoPopDelay where they differ.
	RowDelay  []uint32
	DelayBits uint32
	// PortBit is 0 when no synapse reaches a slow excitatory port. When
	// some does, it is a bit of the delay field above every delay (the
	// least power of two greater than the longest), set in the packed words
	// of those synapses: backends route them to the slow port's ring
	// buffer, whose slots are laid out as the channels' (a backend that
	// indexes its slot offsets by the whole delay field, as the CPU backend
	// does, needs no other change in its delivery). Delay(p) strips it.
	PortBit uint32
	// Resident, when not nil, says that Packed and Weight are in a
	// device's memory (BuildOn with Options.KeepOnDevice), not here: they
	// are nil, and only a backend on that device can run the network.
	Resident *Resident
}

// Resident describes synapse arrays left in a device's memory by BuildOn.
type Resident struct {
	// Words and Weights are the lengths Packed and Weight would have.
	Words, Weights uint64
	// MinDelay is the shortest delay of a synapse in steps (without the
	// slow port's bit; ^0 when there is none).
	MinDelay uint32
	// Arrays is the device's handle to the arrays, which a backend on
	// that device adopts (and then frees); Release frees them otherwise.
	Arrays interface{ Release() }
}

// Compact marks a population in WeightBase whose synapses store no weight.
const Compact = ^uint64(0)

// MaxCompactPops is the most populations a network may have for compact
// storage: PopWeight holds one weight per pair of populations.
const MaxCompactPops = 1024

// DelayMask extracts the delay field from a packed word: the delay, with
// PortBit for a synapse onto the slow port.
func (s *Synapses) DelayMask() uint32 { return 1<<s.DelayBits - 1 }

// Delay returns the delay (steps) of packed word p, without its port bit.
func (s *Synapses) Delay(p uint32) uint32 { return p & s.DelayMask() &^ s.PortBit }

// Slow reports whether packed word p is a synapse onto the slow port.
func (s *Synapses) Slow(p uint32) bool { return p&s.PortBit != 0 }

// MaxDelay is the longest delay (steps) that a packed word can hold.
func (s *Synapses) MaxDelay() uint32 {
	if s.PortBit != 0 {
		return s.PortBit - 1
	}
	return s.DelayMask()
}

// Poisson is one Poisson input resolved to global ids and steps. Each
// neuron in [First, First+Count) draws its count for step t from word t%4
// of Philox block (gid, t/4, Purpose) and looks it up in
// Table[TableOff:TableOff+TableLen]: the count is Base + the first k with
// draw < Table[TableOff+k].
type Poisson struct {
	Pop         int
	First       uint32
	Count       uint32
	Weight      int32 // fixed point, signed by channel
	Slow        bool  // the counts go to the slow excitatory port (Weight >= 0)
	Start, Stop uint64
	Purpose     uint32
	Base        uint32
	TableOff    uint32
	TableLen    uint32
}

// DC is a constant current onto global ids [First, First+Count) during
// steps [Start, Stop).
type DC struct {
	Pop         int
	First       uint32
	Count       uint32
	Amp         float32
	Start, Stop uint64
}

// SpikeEvent is one spike of a spike-source array, delivered at Step.
type SpikeEvent struct {
	Step   uint64
	Target uint32
	Weight int32
}

// RateProjection carries w·r_j from one rate population to another with a
// constant delay of DelaySteps >= 1: the input at step t uses the rates of
// step t+1-DelaySteps. A ring projection keeps only Table (w by index
// difference (i-j) mod N); any other rule keeps a CSC by post neuron.
type RateProjection struct {
	Pre, Post  int
	DelaySteps uint32
	Table      []float32
	ColPtr     []uint32
	Src        []uint32
	W          []float32
}

// Probe samples the state of local neurons [First, First+Count) of Pop after
// every step t with t % Every == 0.
type Probe struct {
	Pop      int
	First    uint32
	Count    uint32
	Every    uint32
	Variable string
}

// Network is a built network, ready for a backend.
type Network struct {
	Spec  *myelinpb.Network
	Dt    float64
	Steps uint64
	Seed  uint64
	Pops  []Population
	N     uint32

	Syn       Synapses
	RingSlots uint32 // max delay + 1
	// Procedural lists the projections whose synapses are not in Syn:
	// backends regenerate their rows when a neuron spikes (see
	// Procedural). Nil without procedural projections.
	Procedural []Procedural

	Poisson      []Poisson
	PoissonTable []uint32
	DC           []DC
	Events       []SpikeEvent // sorted by step, then target

	RateProj  []RateProjection
	RateSlots uint32 // rate history slots: largest rate delay + 1 (0 without rate populations)

	// STP lists the short-term plasticity parameter sets; STPOf[p*len(Pops)+q]
	// is the set on every synapse from population p onto q, or -1 (static).
	// Nil without short-term plasticity.
	STP   []STPSet
	STPOf []int32

	// STDP lists the spike-timing-dependent plasticity sets; STDPOf[p*len(Pops)+q]
	// is the set on every synapse from population p onto q, or -1 (static).
	// Nil without STDP. Phases are the run's phases in steps (any order).
	STDP   []STDPSet
	STDPOf []int32
	Phases []PhaseRange

	Probes     []Probe
	BlockSteps uint32

	// BuildSeconds is the wall time of Build.
	BuildSeconds float64
}

// PopOf returns the index of the population holding global id gid.
func (n *Network) PopOf(gid uint32) int {
	lo, hi := 0, len(n.Pops)
	for hi-lo > 1 {
		m := (lo + hi) / 2
		if n.Pops[m].First <= gid {
			lo = m
		} else {
			hi = m
		}
	}
	return lo
}

// SynapseWeight returns the fixed-point weight of synapse k (an index into
// Syn.Packed) of row pre, wherever it is stored.
func (n *Network) SynapseWeight(pre uint32, k uint64) int32 {
	p := n.PopOf(pre)
	if b := n.Syn.WeightBase[p]; b != Compact {
		return n.Syn.Weight[b+k-n.Syn.RowPtr[n.Pops[p].First]]
	}
	return n.Syn.PopWeight[p*len(n.Pops)+n.PopOf(n.Syn.Packed[k]>>n.Syn.DelayBits)]
}

// SynapseBytes is the memory of the stored synapses: packed words, the
// weights that are stored per synapse, row pointers and the weight table.
func (n *Network) SynapseBytes() uint64 {
	s := &n.Syn
	return 4*uint64(len(s.Packed)) + 4*uint64(len(s.Weight)) + 8*uint64(len(s.RowPtr)) + 8*uint64(len(s.WeightBase)) + 4*uint64(len(s.PopWeight)) + 4*uint64(len(s.PopDelay)) + 4*uint64(len(s.RowDelay))
}

// SynapseCount is the number of stored spiking synapses.
func (n *Network) SynapseCount() uint64 {
	if r := n.Syn.Resident; r != nil {
		return r.Words
	}
	return uint64(len(n.Syn.Packed))
}

// ProceduralSynapses is the number of synapses of the procedural
// projections, which are regenerated rather than stored.
func (n *Network) ProceduralSynapses() uint64 {
	var t uint64
	for _, p := range n.Procedural {
		t += p.Synapses
	}
	return t
}
