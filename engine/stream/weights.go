package stream

import (
	"fmt"
	"math"

	myelinpb "github.com/myelin-sim/myelin/proto"
)

// Weights records: the final weights of the plastic synapses of a run with
// STDP, one set of records per pair of populations, written before the
// trailer. They exist from format version 3 (WeightsFormatVersion) on.

// WriteWeights writes the weights of the plastic synapses from population
// pre onto post at step `step`: local neuron indices and fixed-point
// weights (weight × 2^-shift in the projection's units), in as many
// records of at most MaxWeightsPerRecord synapses as it takes. The header
// must have format version 3 or later and name both populations.
func (w *Writer) WriteWeights(pre, post string, step uint64, preIndex, postIndex []uint32, weight []int32, shift int32) error {
	if err := w.check("WriteWeights"); err != nil {
		return err
	}
	if w.version < WeightsFormatVersion {
		return fmt.Errorf("stream: WriteWeights: the header has format version %d: weights records need version %d", w.version, WeightsFormatVersion)
	}
	n := len(weight)
	if len(preIndex) != n || len(postIndex) != n {
		return fmt.Errorf("stream: WriteWeights: %d pre indices, %d post indices and %d weights: must be as many", len(preIndex), len(postIndex), n)
	}
	k := [2]string{pre, post}
	if w.weightPairs[k] {
		return fmt.Errorf("stream: WriteWeights: the weights of %q -> %q were written already (once per pair)", pre, post)
	}
	if w.weightPairs == nil {
		w.weightPairs = map[[2]string]bool{}
	}
	w.weightPairs[k] = true
	for first := 0; first < n || first == 0; first += MaxWeightsPerRecord {
		end := min(n, first+MaxWeightsPerRecord)
		rec := &myelinpb.Record{Kind: &myelinpb.Record_Weights{Weights: &myelinpb.Weights{
			Pre: pre, Post: post, Step: step, First: uint64(first), Total: uint64(n), Shift: shift,
			PreIndex: preIndex[first:end], PostIndex: postIndex[first:end], Weight: weight[first:end],
		}}}
		if err := w.checkWeightsPops(rec.GetWeights()); err != nil {
			return fmt.Errorf("stream: WriteWeights: %w", err)
		}
		if err := w.writeMessage(rec); err != nil {
			return fmt.Errorf("stream: WriteWeights: %w", err)
		}
		if n == 0 {
			break
		}
	}
	return nil
}

// checkWeightsPops checks a weights record's indices against the header.
func (w *Writer) checkWeightsPops(x *myelinpb.Weights) error {
	return checkWeightsIndices(w.header, x)
}

// checkWeightsIndices checks that a weights record names two populations
// of the header, that its three lists are as long, that every index lies
// in its population and that the shift is in the fixed-point range.
func checkWeightsIndices(h *myelinpb.Header, x *myelinpb.Weights) error {
	n := len(x.GetWeight())
	if len(x.GetPreIndex()) != n || len(x.GetPostIndex()) != n {
		return fmt.Errorf("weights %q -> %q: %d pre indices, %d post indices and %d weights: must be as many", x.GetPre(), x.GetPost(), len(x.GetPreIndex()), len(x.GetPostIndex()), n)
	}
	if s := x.GetShift(); s < -60 || s > 60 {
		return fmt.Errorf("weights %q -> %q: shift %d: must be in [-60, 60]", x.GetPre(), x.GetPost(), s)
	}
	if x.GetFirst() > x.GetTotal() || uint64(n) > x.GetTotal()-x.GetFirst() {
		return fmt.Errorf("weights %q -> %q: synapses [%d, %d) pass the total %d", x.GetPre(), x.GetPost(), x.GetFirst(), x.GetFirst()+uint64(n), x.GetTotal())
	}
	if len(h.GetPopulations()) == 0 {
		return nil
	}
	size := func(name string) (uint32, bool) {
		for _, p := range h.GetPopulations() {
			if p.GetName() == name {
				return p.GetSize(), true
			}
		}
		return 0, false
	}
	for _, side := range []struct {
		what, name string
		idx        []uint32
	}{{"pre", x.GetPre(), x.GetPreIndex()}, {"post", x.GetPost(), x.GetPostIndex()}} {
		sz, ok := size(side.name)
		if !ok {
			return fmt.Errorf("weights %q -> %q: %s population %q is not in the header", x.GetPre(), x.GetPost(), side.what, side.name)
		}
		for k, i := range side.idx {
			if i >= sz {
				return fmt.Errorf("weights %q -> %q: %s_index[%d] = %d: population %q has %d neurons", x.GetPre(), x.GetPost(), side.what, k, i, side.name, sz)
			}
		}
	}
	return nil
}

// weightsSeen is what the records of one pair of populations said so far.
type weightsSeen struct {
	read, total uint64
	step        uint64
	shift       int32
}

// checkWeights checks a weights record read from the stream: its version,
// its size and indices, and that the records of one pair of populations
// follow each other in order with one total, one step and one shift.
func (r *Reader) checkWeights(x *myelinpb.Weights) error {
	if r.version < WeightsFormatVersion {
		return fmt.Errorf("weights record in a format version %d stream (weights records need version %d)", r.version, WeightsFormatVersion)
	}
	if n := len(x.GetWeight()); n > MaxWeightsPerRecord {
		return fmt.Errorf("weights %q -> %q: %d synapses in one record, more than %d", x.GetPre(), x.GetPost(), n, MaxWeightsPerRecord)
	}
	if err := checkWeightsIndices(r.header, x); err != nil {
		return err
	}
	if r.weights == nil {
		r.weights = map[[2]string]*weightsSeen{}
	}
	k := [2]string{x.GetPre(), x.GetPost()}
	seen, ok := r.weights[k]
	if !ok {
		if x.GetFirst() != 0 {
			return fmt.Errorf("weights %q -> %q: the first record starts at synapse %d, want 0", k[0], k[1], x.GetFirst())
		}
		r.weights[k] = &weightsSeen{read: uint64(len(x.GetWeight())), total: x.GetTotal(), step: x.GetStep(), shift: x.GetShift()}
		r.wpairs = append(r.wpairs, k)
		return nil
	}
	switch {
	case seen.read == seen.total:
		return fmt.Errorf("weights %q -> %q: a record after the pair's %d synapses were all read (the records of a pair are written once)", k[0], k[1], seen.total)
	case x.GetTotal() != seen.total:
		return fmt.Errorf("weights %q -> %q: total %d, an earlier record said %d", k[0], k[1], x.GetTotal(), seen.total)
	case x.GetStep() != seen.step || x.GetShift() != seen.shift:
		return fmt.Errorf("weights %q -> %q: step %d and shift %d, an earlier record of the pair said %d and %d", k[0], k[1], x.GetStep(), x.GetShift(), seen.step, seen.shift)
	case x.GetFirst() != seen.read:
		return fmt.Errorf("weights %q -> %q: record starts at synapse %d, want %d (the records of a pair follow each other)", k[0], k[1], x.GetFirst(), seen.read)
	}
	seen.read += uint64(len(x.GetWeight()))
	return nil
}

// checkWeightsComplete reports, at the trailer, a pair of populations
// whose records hold fewer synapses than their total.
func (r *Reader) checkWeightsComplete() error {
	for _, k := range r.wpairs {
		if seen := r.weights[k]; seen.read != seen.total {
			return fmt.Errorf("weights %q -> %q: the records hold %d of the pair's %d synapses", k[0], k[1], seen.read, seen.total)
		}
	}
	return nil
}

// WeightSet is the weights of the plastic synapses from one population
// onto another, gathered from a stream's weights records.
type WeightSet struct {
	Pre, Post string
	Step      uint64   // the step at which they were taken (the run's steps done)
	PreIndex  []uint32 // local presynaptic neuron of each synapse
	PostIndex []uint32 // local postsynaptic neuron of each synapse
	Fixed     []int32  // fixed-point weight
	Shift     int32    // Weight(k) = Fixed[k] · 2^-Shift
}

// Weight returns the weight of synapse k in the projection's units.
func (s *WeightSet) Weight(k int) float64 { return math.Ldexp(float64(s.Fixed[k]), -int(s.Shift)) }

// WeightSets gathers the stream's weights records, one WeightSet per pair
// of populations in stream order.
func (r *Result) WeightSets() []*WeightSet {
	var out []*WeightSet
	by := map[[2]string]*WeightSet{}
	for _, x := range r.Weights {
		k := [2]string{x.GetPre(), x.GetPost()}
		s, ok := by[k]
		if !ok {
			s = &WeightSet{Pre: k[0], Post: k[1], Step: x.GetStep(), Shift: x.GetShift()}
			by[k] = s
			out = append(out, s)
		}
		s.PreIndex = append(s.PreIndex, x.GetPreIndex()...)
		s.PostIndex = append(s.PostIndex, x.GetPostIndex()...)
		s.Fixed = append(s.Fixed, x.GetWeight()...)
	}
	return out
}
