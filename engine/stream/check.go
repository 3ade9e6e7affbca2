package stream

import (
	"fmt"
	"math"

	myelinpb "github.com/myelin-sim/myelin/proto"
)

// MinDtMs and MaxDtMs bound a header's dt_ms, and a spec's (engine/spec's
// MinDtMs and MaxDtMs are these, so that every valid spec can be recorded).
// MaxDtMs is the largest step a spec allows; MinDtMs, a nanosecond, is the
// smallest step whose successive spike times still print apart (export
// writes at most 9 decimals) and whose run of at most 2^40 steps lasts a
// measurable time. A header outside [MinDtMs, MaxDtMs] is refused: it is
// damage or a forgery, and the times it would give mean nothing.
// python/myelin_stream.py mirrors them (MIN_DT_MS, MAX_DT_MS).
const (
	MinDtMs = 1e-6
	MaxDtMs = 10.0
)

// CheckHeader checks a header as writers and readers both require it: a
// format version this package reads, dt in [MinDtMs, MaxDtMs], population ranges
// that tile the ids from 0 (see NewPopIndex) with unique names, and state
// series with unique ids, each sampling at least one neuron of the
// population it names. It returns the population index. Errors name the
// field.
func CheckHeader(h *myelinpb.Header) (*PopIndex, error) {
	if v := h.GetFormatVersion(); v < OldestFormatVersion || v > NewestFormatVersion {
		return nil, fmt.Errorf("header.format_version is %d, want %d to %d", v, OldestFormatVersion, NewestFormatVersion)
	}
	switch dt := h.GetDtMs(); {
	case !(dt > 0) || math.IsInf(dt, 0):
		return nil, fmt.Errorf("header.dt_ms is %v, want a finite value > 0", dt)
	case dt < MinDtMs || dt > MaxDtMs:
		return nil, fmt.Errorf("header.dt_ms is %v, want a step in [%v, %v] ms", dt, MinDtMs, MaxDtMs)
	}
	pi, err := NewPopIndex(h)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]int, len(h.GetPopulations()))
	for i, p := range h.GetPopulations() {
		if j, dup := byName[p.GetName()]; dup {
			return nil, fmt.Errorf("header.populations[%d]: name %q is also the name of populations[%d]", i, p.GetName(), j)
		}
		byName[p.GetName()] = i
	}
	seen := make(map[uint32]int, len(h.GetStateSeries()))
	for i, s := range h.GetStateSeries() {
		if j, dup := seen[s.GetId()]; dup {
			return nil, fmt.Errorf("header.state_series[%d]: id %d is also the id of state_series[%d]", i, s.GetId(), j)
		}
		seen[s.GetId()] = i
		if len(s.GetNeuronIds()) == 0 {
			return nil, fmt.Errorf("header.state_series[%d] (id %d) lists no neurons", i, s.GetId())
		}
		if len(h.GetPopulations()) == 0 {
			continue // a header without populations says nothing to check ids against
		}
		pop, ok := byName[s.GetPopulation()]
		if !ok {
			return nil, fmt.Errorf("header.state_series[%d] (id %d): population %q is not in the header", i, s.GetId(), s.GetPopulation())
		}
		p := h.GetPopulations()[pop]
		for k, id := range s.GetNeuronIds() {
			if id-p.GetFirstId() >= p.GetSize() {
				return nil, fmt.Errorf("header.state_series[%d] (id %d): neuron_ids[%d] = %d is outside population %q, ids [%d, %d)",
					i, s.GetId(), k, id, p.GetName(), p.GetFirstId(), uint64(p.GetFirstId())+uint64(p.GetSize()))
			}
		}
	}
	return pi, nil
}
