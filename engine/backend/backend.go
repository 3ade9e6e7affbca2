// Package backend is the seam between what a network is (engine/network)
// and where it runs: the CPU backend (engine/cpu), the host emulation of the
// CUDA kernels and the CUDA backend (cuda) all implement Backend, and every
// one of them must produce the same spikes, bit for bit.
package backend

import "github.com/myelin-sim/myelin/engine/network"

// Backend runs a built network step by step.
type Backend interface {
	// Name is the backend's short name, e.g. "cpu" or "cuda".
	Name() string
	// Describe says where it runs (threads, device) for summaries.
	Describe() string
	// Threads is the number of host threads it uses (0 if not applicable).
	Threads() int
	// Load prepares the network's state. It is called once.
	Load(net *network.Network) error
	// Advance runs the next n steps, appending their spikes and state
	// samples to blk.
	Advance(n int, blk *Block) error
	// Close frees the backend's resources.
	Close() error
}

// Plastic is implemented by backends that run spike-timing-dependent
// plasticity (network.Network.STDP).
type Plastic interface {
	// Weights returns the current fixed-point weights of every stored
	// synapse, laid out as network.Synapses.Weight.
	Weights() ([]int32, error)
}

// Block collects the output of consecutive steps.
type Block struct {
	// FirstStep is the first step of the block.
	FirstStep uint64
	// Counts holds the number of spikes of each step.
	Counts []uint32
	// IDs holds the global ids of the neurons that fired, step by step, in
	// ascending order within each step.
	IDs []uint32
	// Samples holds, per probe, one row of values per sampled step
	// (steps t with t % Every == 0), row-major.
	Samples [][]float32
}

// Reset empties the block for steps starting at first, keeping its memory.
func (b *Block) Reset(first uint64, probes int) {
	b.FirstStep = first
	b.Counts = b.Counts[:0]
	b.IDs = b.IDs[:0]
	if len(b.Samples) != probes {
		b.Samples = make([][]float32, probes)
	}
	for i := range b.Samples {
		b.Samples[i] = b.Samples[i][:0]
	}
}

// SampledSteps returns how many steps t in [first, first+n) have
// t % every == 0.
func SampledSteps(first uint64, n int, every uint32) int {
	e := uint64(every)
	end := first + uint64(n)
	return int((end+e-1)/e - (first+e-1)/e)
}
