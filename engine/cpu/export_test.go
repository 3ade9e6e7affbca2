package cpu

import (
	"math"
	"unsafe"
)

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

// NewAlternating returns a backend that prepares both layouts (one thread
// and the split over threads) for any network and changes from one to the
// other at every Advance, never settling, so that tests can check that a
// change of layout between calls leaves the results as they were.
func NewAlternating(threads int) *Backend {
	b := New(threads)
	b.minParallel = math.Inf(1)
	b.minAdaptive = 0
	b.adapt.alternate = true
	return b
}

// NewAlternatingBucketed is NewAlternating whose delivery holds the events
// of rows with varying delays in buckets by ring slot (flushBuckets)
// whatever the ring's size, flushing them all whenever more than capEvents
// are pending.
func NewAlternatingBucketed(threads, capEvents int) *Backend {
	b := NewAlternating(threads)
	b.bucketMin = 1
	b.bucketCap = capEvents
	return b
}

// NewProceduralBudget is NewSplit whose threads generate the procedural
// rows of their spikes of a step (genProcedural) only until they hold
// budget targets, delivering the rest as one thread does.
func NewProceduralBudget(threads, budget int) *Backend {
	b := NewSplit(threads)
	b.procBudget = budget
	return b
}

// ProcSharing returns how many spikes, over the run, had their procedural
// rows generated once and shared by the threads (genProcedural), and how
// many were left past the budget for every thread to regenerate.
func (c *Backend) ProcSharing() (shared, regenerated uint64) {
	for _, bufs := range c.procBuf {
		for _, pb := range bufs {
			shared += pb.shared
			regenerated += pb.regenerate
		}
	}
	return shared, regenerated
}

// ProcBufBytes returns the memory that the threads' shared procedural row
// buffers hold (their capacities).
func (c *Backend) ProcBufBytes() uint64 {
	var b uint64
	for _, bufs := range c.procBuf {
		for _, pb := range bufs {
			b += uint64(cap(pb.tgt)+cap(pb.dly)+cap(pb.wt))*4 + uint64(cap(pb.rows))*uint64(unsafe.Sizeof(procRow{}))
		}
	}
	return b
}

// Used returns the threads of the layout the last Advance ran on.
func (c *Backend) Used() int { return c.used }

// NewPerSynapseDelay is NewSplit whose delivery finds every synapse's ring
// slot from its own delay field, never once for a run of synapses that
// share one (network.Synapses.PopDelay, RowDelay).
func NewPerSynapseDelay(threads int) *Backend {
	b := NewSplit(threads)
	b.perSynapseDelay = true
	return b
}

// NewBucketed is NewSplit whose delivery sorts the events of rows with
// varying delays by ring slot (flushBuckets) whatever the ring's size,
// flushing them whenever more than capEvents are pending.
func NewBucketed(threads, capEvents int) *Backend {
	b := NewSplit(threads)
	b.bucketMin = 1
	b.bucketCap = capEvents
	return b
}

// BucketCapacity returns the events that the delivery buckets of the
// current layout and their threads' free chunks can hold without
// allocating, over all threads, the number of buckets, the most events
// one thread's buckets held at a flush, and the events of all the chunks
// the layout ever allocated.
func (c *Backend) BucketCapacity() (events, buckets, peak, made int) {
	for w, bk := range c.buckets {
		for _, bu := range bk {
			events += cap(bu.cur)
			for _, ev := range bu.full {
				events += cap(ev)
			}
		}
		for _, ev := range c.chunks[w] {
			events += cap(ev)
		}
		buckets += len(bk)
		peak = max(peak, c.bucketPeak[w])
		made += c.chunksMade[w] * c.chunkEvents
	}
	return events, buckets, peak, made
}

// BucketChunk returns the events of one chunk of a delivery bucket.
func (c *Backend) BucketChunk() int { return c.chunkEvents }
