package cpu

import "github.com/myelin-sim/myelin/engine/network"

// loadProcedural sets up the delivery of procedural projections (see
// network.Procedural): one row generator per thread and projection, made
// once, so that a spike allocates nothing once the generators' buffers
// have grown to the longest row.
func (c *Backend) loadProcedural(threads int) {
	net := c.net
	c.procFrom, c.procGen = nil, nil
	if len(net.Procedural) == 0 {
		return
	}
	c.procFrom = make([][]int, len(net.Pops))
	for i, p := range net.Procedural {
		c.procFrom[p.Pre] = append(c.procFrom[p.Pre], i)
	}
	c.procGen = make([][]*network.RowGen, threads)
	for w := range c.procGen {
		c.procGen[w] = make([]*network.RowGen, len(net.Procedural))
		for i := range net.Procedural {
			c.procGen[w][i] = net.Procedural[i].NewRowGen(net)
		}
	}
}

// deliverProcedural delivers spike s through the procedural projections
// from its population: thread w regenerates each row (network.RowGen.RowIn)
// for the targets in its own neuron range only, and adds them into the ring
// slots that a stored synapse with the same packed delay field would reach.
// Each target receives the same integer additions whatever the thread
// count, so the spikes equal those of the stored mode.
func (c *Backend) deliverProcedural(w int, s uint32, base []uint64, inOff uint64) {
	net := c.net
	pi := net.PopOf(s)
	from := c.procFrom[pi]
	if len(from) == 0 {
		return
	}
	lo, hi := c.parts[w][0], c.parts[w][1]
	ring := c.ring
	local := s - net.Pops[pi].First
	for _, i := range from {
		gen := c.procGen[w][i]
		tgt, dly, wt := gen.RowIn(local, lo, hi)
		if d, x, ok := gen.Constant(); ok {
			off := base[d] + uint64(uint32(x)>>31)*inOff
			for _, g := range tgt {
				ring[off+uint64(g)] += x
			}
			continue
		}
		for k, g := range tgt {
			x := wt[k]
			ring[base[dly[k]]+uint64(g)+uint64(uint32(x)>>31)*inOff] += x
		}
	}
}
