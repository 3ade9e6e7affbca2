package stream

import (
	"fmt"
	"io"
	"math"

	myelinpb "github.com/myelin-sim/myelin/proto"
)

// DecodeSpikes undoes a spike block's delta coding. It returns one entry
// per spike: the step it happened in and the global id of the neuron that
// fired, ordered by step and then by id. It fails if the counts do not add
// up to the number of ids or the ids are not strictly ascending within a
// step.
func DecodeSpikes(b *myelinpb.SpikeBlock) (steps []uint64, ids []uint32, err error) {
	n := len(b.GetIds())
	steps, ids, err = appendSpikes(make([]uint64, 0, n), make([]uint32, 0, n), b)
	if err != nil {
		return nil, nil, fmt.Errorf("stream: DecodeSpikes: %w", err)
	}
	return steps, ids, nil
}

// appendSpikes appends the decoded spikes of b to steps and ids. On error
// the slices are returned as they were.
func appendSpikes(steps []uint64, ids []uint32, b *myelinpb.SpikeBlock) ([]uint64, []uint32, error) {
	counts, deltas := b.GetCounts(), b.GetIds()
	first := b.GetFirstStep()
	var sum uint64
	for _, c := range counts {
		sum += uint64(c)
	}
	if sum != uint64(len(deltas)) {
		return steps, ids, fmt.Errorf("spike block at step %d: counts add up to %d spikes but it holds %d ids", first, sum, len(deltas))
	}
	if first > math.MaxUint64-uint64(len(counts)) {
		return steps, ids, fmt.Errorf("spike block at step %d: %d steps pass the uint64 range", first, len(counts))
	}
	n0 := len(ids)
	steps, ids = grow(steps, len(deltas)), grow(ids, len(deltas))
	outSteps, outIDs := steps[n0:], ids[n0:]
	pos := 0
	for s, c := range counts {
		step := first + uint64(s)
		var id uint32
		for j, d := range deltas[pos : pos+int(c)] {
			next := id + d
			if j > 0 && next <= id {
				return steps[:n0], ids[:n0], fmt.Errorf("spike block at step %d: step %d: ids not strictly ascending or past the uint32 range (delta %d after id %d)", first, step, d, id)
			}
			id = next
			outIDs[pos+j] = id
			outSteps[pos+j] = step
		}
		pos += int(c)
	}
	return steps, ids, nil
}

// grow extends s by n elements, at least doubling its capacity when it
// must reallocate, so that appending a whole stream copies each element
// about once.
func grow[T any](s []T, n int) []T {
	if len(s)+n > cap(s) {
		t := make([]T, len(s), max(len(s)+n, 2*cap(s)))
		copy(t, s)
		s = t
	}
	return s[:len(s)+n]
}

// StateData holds the samples of one state series.
type StateData struct {
	// Series describes the samples (population, variable, neuron ids).
	Series *myelinpb.StateSeries
	// Steps holds the step of each sample.
	Steps []uint64
	// Values holds len(Steps) rows of len(Series.NeuronIds) values,
	// row-major.
	Values []float32
}

// Row returns the values of sample i, one per neuron of the series.
func (d *StateData) Row(i int) []float32 {
	w := len(d.Series.GetNeuronIds())
	return d.Values[i*w : (i+1)*w : (i+1)*w]
}

// Result is a whole stream loaded into memory.
type Result struct {
	// Header is the stream's header.
	Header *myelinpb.Header
	// Trailer is the stream's trailer, or nil when the stream ended without
	// one (the run was cut short or is still going).
	Trailer *myelinpb.Trailer
	// Steps and IDs hold one entry per spike: its step and the global id of
	// the neuron that fired, ordered by step and then by id.
	Steps []uint64
	IDs   []uint32
	// State maps a state series id to its samples; every series of the
	// header is present, with no samples if the stream holds none.
	State map[uint32]*StateData
	// Gaps lists the gap records, in stream order.
	Gaps []*myelinpb.Gap
	// Weights lists the weights records, in stream order (see WeightSets).
	Weights []*myelinpb.Weights
	// Checksummed is true when the stream's records carry checksums
	// (format version 2 and later); a version-1 stream has none, so damage
	// that still decodes goes unnoticed.
	Checksummed bool
}

// ReadAll reads a whole stream with a Reader, which checks every record
// (see the package documentation), and gathers it in memory. On error it
// returns what it read before the bad record together with the error.
func ReadAll(r io.Reader) (*Result, error) {
	rd := NewReader(r)
	rd.accumulate = true // the Reader decodes every spike into its final place
	res := &Result{State: map[uint32]*StateData{}}
	for {
		rec, err := rd.Next()
		if err != nil {
			res.Steps, res.IDs = rd.steps[:rd.blockAt], rd.ids[:rd.blockAt]
			if err == io.EOF {
				return res, nil
			}
			return res, err
		}
		switch k := rec.GetKind().(type) {
		case *myelinpb.Record_Header:
			res.Header = k.Header
			res.Checksummed = rd.Checksummed()
			for _, s := range k.Header.GetStateSeries() {
				res.State[s.GetId()] = &StateData{Series: s}
			}
		case *myelinpb.Record_Spikes:
			// Decoded into rd.steps and rd.ids; taken at the end.
		case *myelinpb.Record_State:
			b := k.State
			d := res.State[b.GetSeries()]
			every := uint64(max(d.Series.GetEvery(), 1))
			for i := range uint64(b.GetNumSamples()) {
				d.Steps = append(d.Steps, b.GetFirstStep()+i*every)
			}
			d.Values = append(d.Values, b.GetValues()...)
		case *myelinpb.Record_Gap:
			res.Gaps = append(res.Gaps, k.Gap)
		case *myelinpb.Record_Weights:
			res.Weights = append(res.Weights, k.Weights)
		case *myelinpb.Record_Trailer:
			res.Trailer = k.Trailer
		}
	}
}

// SpikeTimeMs returns the time of a spike emitted in the given step:
// (step+1)·dt, the end of the step, as NEST stamps spikes.
func (r *Result) SpikeTimeMs(step uint64) float64 {
	return float64(step+1) * r.Header.GetDtMs()
}

// PopulationSpikes returns the spikes of the named population: their times
// in ms (see SpikeTimeMs) and the ids of the neurons that fired, local to
// the population (0 for its first neuron). It returns nil slices when the
// header lists no population of that name.
func (r *Result) PopulationSpikes(name string) (timesMs []float64, localIDs []uint32) {
	for _, p := range r.Header.GetPopulations() {
		if p.GetName() != name {
			continue
		}
		first, size := p.GetFirstId(), p.GetSize()
		n := 0
		for _, id := range r.IDs {
			if id-first < size {
				n++
			}
		}
		timesMs = make([]float64, 0, n)
		localIDs = make([]uint32, 0, n)
		for i, id := range r.IDs {
			if id-first < size {
				timesMs = append(timesMs, r.SpikeTimeMs(r.Steps[i]))
				localIDs = append(localIDs, id-first)
			}
		}
		return timesMs, localIDs
	}
	return nil, nil
}
