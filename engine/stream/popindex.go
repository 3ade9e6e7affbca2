package stream

import (
	"fmt"
	"sort"

	myelinpb "github.com/myelin-sim/myelin/proto"
)

// PopIndex maps global neuron ids to the populations of a header. It is the
// one id → population lookup of the stream's writers, readers and the live
// server. A PopIndex is read-only once built and safe for concurrent use.
type PopIndex struct {
	first, size []uint32 // ranges sorted by first id
	index       []int    // header index of each sorted range
	total       uint64   // neurons in all populations
}

// NewPopIndex indexes the header's population ranges. They must tile the
// id space: sorted by first id they start at 0 and each begins where the
// one before ends, so no id lies in two populations, and they hold at most
// MaxNeurons neurons. Errors name the population by header index and name.
func NewPopIndex(h *myelinpb.Header) (*PopIndex, error) {
	pops := h.GetPopulations()
	order := make([]int, len(pops))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return pops[order[a]].GetFirstId() < pops[order[b]].GetFirstId() })
	pi := &PopIndex{first: make([]uint32, len(pops)), size: make([]uint32, len(pops)), index: order}
	var end uint64 // end of the previous range
	for k, i := range order {
		p := pops[i]
		first, size := uint64(p.GetFirstId()), uint64(p.GetSize())
		switch {
		case first < end:
			prev := pops[order[k-1]]
			return nil, fmt.Errorf("header.populations[%d] (%q): ids [%d, %d) overlap population %q ids [%d, %d)",
				i, p.GetName(), first, first+size, prev.GetName(), prev.GetFirstId(), end)
		case first > end:
			return nil, fmt.Errorf("header.populations[%d] (%q): ids start at %d, want %d: the populations must tile the ids from 0 without holes", i, p.GetName(), first, end)
		case end+size > MaxNeurons:
			return nil, fmt.Errorf("header.populations[%d] (%q): size %d brings the network to %d neurons, more than the %d a stream may describe", i, p.GetName(), size, end+size, uint64(MaxNeurons))
		}
		pi.first[k], pi.size[k] = uint32(first), uint32(size)
		end = first + size
	}
	pi.total = end
	return pi, nil
}

// Len returns the number of populations.
func (pi *PopIndex) Len() int { return len(pi.first) }

// Neurons returns the number of neurons of all populations together.
func (pi *PopIndex) Neurons() uint64 { return pi.total }

// Find returns the header index of the population that holds global id id,
// or -1 when no population does.
func (pi *PopIndex) Find(id uint32) int {
	if k := pi.find(id); k >= 0 {
		return pi.index[k]
	}
	return -1
}

// find returns the sorted range that holds id, or -1.
func (pi *PopIndex) find(id uint32) int {
	// The first range whose first id is > id; the one before may hold id.
	k := sort.Search(len(pi.first), func(k int) bool { return pi.first[k] > id }) - 1
	if k >= 0 && id-pi.first[k] < pi.size[k] {
		return k
	}
	return -1
}

// Counter counts spikes per population for ascending runs of ids: it
// remembers the range of the last population found, so that ids of one
// population in a row cost one comparison each. Create it with
// PopIndex.Counter.
type Counter struct {
	pi                *PopIndex
	curFirst, curSize uint32 // range of the last population found
	cur               int    // its header index
	counts            []uint64
}

// Counter returns a spike counter over the index's populations.
func (pi *PopIndex) Counter() *Counter {
	return &Counter{pi: pi, counts: make([]uint64, pi.Len())}
}

// Add counts one spike of neuron id. It returns false, counting nothing,
// when id lies in no population.
func (c *Counter) Add(id uint32) bool {
	if id-c.curFirst < c.curSize { // curSize is 0 until a population is found
		c.counts[c.cur]++
		return true
	}
	return c.addSlow(id)
}

// addSlow is Add when id is outside the last population found.
func (c *Counter) addSlow(id uint32) bool {
	k := c.pi.find(id)
	if k < 0 {
		return false
	}
	c.curFirst, c.curSize, c.cur = c.pi.first[k], c.pi.size[k], c.pi.index[k]
	c.counts[c.cur]++
	return true
}

// Counts returns the spikes counted per header population. The slice is
// the Counter's own; Reset clears it.
func (c *Counter) Counts() []uint64 { return c.counts }

// Reset sets every count to zero.
func (c *Counter) Reset() { clear(c.counts) }
