package cpu

// NewSplit is New without the small-network shortcut: the step loop is
// split across the threads whatever the network's size, so that tests can
// compare the split with one thread on small networks.
func NewSplit(threads int) *Backend {
	b := New(threads)
	b.minParallel = 0
	return b
}

// NewScalar is NewSplit without the AVX2 kernels (Philox and the models').
func NewScalar(threads int) *Backend {
	b := NewSplit(threads)
	b.avx2 = false
	return b
}

// NewHist is NewSplit with STDP histories of hc pending spikes per neuron
// (1: every post spike first applies the one before it to all incoming
// synapses, which is close to the eager rule).
func NewHist(threads, hc int) *Backend {
	b := NewSplit(threads)
	b.histCap = hc
	return b
}
