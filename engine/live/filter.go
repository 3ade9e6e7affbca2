package live

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// Selection picks the neurons of one population: all of them, or the local
// ids [First, First+Count).
type Selection struct {
	// Population names the population.
	Population string
	// All selects every neuron; First and Count are then unused.
	All bool
	// First and Count select local ids [First, First+Count).
	First, Count uint32
}

// String writes the selection as ParseFilter reads it.
func (s Selection) String() string {
	if s.All {
		return s.Population
	}
	return fmt.Sprintf("%s@%d:%d", s.Population, s.First, s.Count)
}

// Filter selects the neurons whose spikes a Server serves: the union of its
// selections. The zero Filter (or a nil *Filter) selects everything.
type Filter struct {
	Selections []Selection
}

// ParseFilter parses a comma-separated list of POP or POP@FIRST:COUNT, e.g.
// "E@0:100,I" (neurons 0 to 99 of E and all of I). Ids are local to the
// population, as in `myelin run --sample`.
func ParseFilter(s string) (*Filter, error) {
	f := &Filter{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		bad := func(why string) error {
			return fmt.Errorf("filter %q: %s (want POP or POP@FIRST:COUNT, comma-separated, e.g. E@0:100,I)", item, why)
		}
		name, rng, hasRange := strings.Cut(item, "@")
		if name == "" {
			return nil, bad("missing population")
		}
		sel := Selection{Population: name, All: !hasRange}
		if hasRange {
			a, b, ok := strings.Cut(rng, ":")
			if !ok {
				return nil, bad("missing :COUNT")
			}
			first, err1 := strconv.ParseUint(a, 10, 32)
			count, err2 := strconv.ParseUint(b, 10, 32)
			if err1 != nil || err2 != nil || count == 0 {
				return nil, bad("FIRST and COUNT must be whole numbers, COUNT >= 1")
			}
			sel.First, sel.Count = uint32(first), uint32(count)
		}
		f.Selections = append(f.Selections, sel)
	}
	if len(f.Selections) == 0 {
		return nil, fmt.Errorf("filter %q selects nothing (want POP or POP@FIRST:COUNT, comma-separated)", s)
	}
	return f, nil
}

// String writes the filter as ParseFilter reads it.
func (f *Filter) String() string {
	if f == nil {
		return ""
	}
	parts := make([]string, len(f.Selections))
	for i, s := range f.Selections {
		parts[i] = s.String()
	}
	return strings.Join(parts, ",")
}

// empty reports whether the filter selects everything.
func (f *Filter) empty() bool { return f == nil || len(f.Selections) == 0 }

// Check checks the filter against the populations of a network, given as
// name → size: every population must exist and every range lie within it.
func (f *Filter) Check(sizes map[string]uint32) error {
	if f.empty() {
		return nil
	}
	for _, s := range f.Selections {
		size, ok := sizes[s.Population]
		if !ok {
			names := make([]string, 0, len(sizes))
			for n := range sizes {
				names = append(names, n)
			}
			slices.Sort(names)
			return fmt.Errorf("filter %s: no population %q (have %s)", s, s.Population, strings.Join(names, ", "))
		}
		if !s.All && uint64(s.First)+uint64(s.Count) > uint64(size) {
			return fmt.Errorf("filter %s: neurons [%d, %d) are not all within %q's %d neurons", s, s.First, uint64(s.First)+uint64(s.Count), s.Population, size)
		}
	}
	return nil
}

// idRange is a range [lo, hi) of global ids.
type idRange struct{ lo, hi uint64 }

// selection is a Filter resolved against a stream header: the header to
// serve, the selected global ids and state series.
type selection struct {
	header *myelinpb.Header
	keep   []idRange       // selected global ids, sorted and merged
	series map[uint32]bool // state series served
}

// resolve checks the filter against the header and returns what to serve:
// a copy of the header in which populations without a selected neuron are
// marked recorded = false and the spec's recording.spikes lists the
// selections (see markFilter), and the selected ids and series.
func (f *Filter) resolve(h *myelinpb.Header) (*selection, error) {
	h = proto.CloneOf(h)
	sizes := map[string]uint32{}
	byName := map[string]*myelinpb.PopulationRange{}
	for _, p := range h.GetPopulations() {
		sizes[p.GetName()] = p.GetSize()
		byName[p.GetName()] = p
	}
	if err := f.Check(sizes); err != nil {
		return nil, err
	}
	sel := &selection{header: h, series: map[uint32]bool{}}
	selected := map[string]bool{}
	for _, s := range f.Selections {
		p := byName[s.Population]
		lo, hi := uint64(p.GetFirstId()), uint64(p.GetFirstId())+uint64(p.GetSize())
		if !s.All {
			lo, hi = lo+uint64(s.First), lo+uint64(s.First)+uint64(s.Count)
		}
		if hi > lo {
			sel.keep = append(sel.keep, idRange{lo, hi})
			selected[s.Population] = true
		}
	}
	slices.SortFunc(sel.keep, byLo)
	merged := sel.keep[:0]
	for _, k := range sel.keep {
		if n := len(merged); n > 0 && k.lo <= merged[n-1].hi {
			merged[n-1].hi = max(merged[n-1].hi, k.hi)
			continue
		}
		merged = append(merged, k)
	}
	sel.keep = merged
	for _, p := range h.GetPopulations() {
		if !selected[p.GetName()] {
			p.Recorded = false
		}
	}
	for _, s := range h.GetStateSeries() {
		sel.series[s.GetId()] = selected[s.GetPopulation()]
	}
	f.mark(h)
	return sel, nil
}

// mark writes the filter into a served header, where every reader finds
// it without a change of format: the spec's recording.spikes (the
// populations whose spikes the stream holds) becomes the selections of
// recorded populations, e.g. ["E@79:1", "I"]. A selection of some neurons
// of a population has an '@', which no population name may have
// (spec.Validate), so it cannot be taken for a population; a selection of
// a whole population is its name, as recording.spikes always had it. The
// populations keep their sizes and ids, so that ids, state series, weights
// and decoders that place neuron i of n stay right; PartialPopulations
// reads the mark back, and `myelin analyze` warns that the rates of a
// population served in part count all of its neurons.
func (f *Filter) mark(h *myelinpb.Header) {
	recorded := map[string]bool{}
	for _, p := range h.GetPopulations() {
		recorded[p.GetName()] = p.GetRecorded()
	}
	var spikes []string
	for _, s := range f.Selections {
		if recorded[s.Population] {
			spikes = append(spikes, s.String())
		}
	}
	if len(spikes) == 0 {
		spikes = strings.Split(f.String(), ",") // nothing served has spikes; never "empty: all"
	}
	if h.Spec == nil {
		h.Spec = &myelinpb.Network{}
	}
	if h.Spec.Recording == nil {
		h.Spec.Recording = &myelinpb.Recording{}
	}
	h.Spec.Recording.Spikes = spikes
}

// PartialPopulation is a population of which a filtered stream serves
// only some neurons (PartialPopulations).
type PartialPopulation struct {
	// Name is the population's name.
	Name string
	// Served is the number of its neurons the stream serves, of Size.
	Served, Size uint32
	// Filter is the population's selections, as ParseFilter reads them
	// (e.g. "E@0:10,E@50:5").
	Filter string
}

// PartialPopulations returns the recorded populations of which a stream
// filtered by a live server (Options.Filter, `myelin run --listen-filter`)
// serves only some neurons, in header order, from the mark the server
// leaves in its header (the spec's recording.spikes lists POP@FIRST:COUNT
// selections). It returns nil for any other stream. The header's sizes are
// the populations' own: a rate computed from them over a partial
// population's spikes is low by the factor Size/Served.
func PartialPopulations(h *myelinpb.Header) []PartialPopulation {
	type part struct {
		ranges []idRange // local ids
		sels   []string
	}
	parts := map[string]*part{}
	for _, item := range h.GetSpec().GetRecording().GetSpikes() {
		if !strings.Contains(item, "@") {
			continue
		}
		f, err := ParseFilter(item)
		if err != nil || len(f.Selections) != 1 {
			continue // not a mark this package writes
		}
		s := f.Selections[0]
		p := parts[s.Population]
		if p == nil {
			p = &part{}
			parts[s.Population] = p
		}
		p.ranges = append(p.ranges, idRange{uint64(s.First), uint64(s.First) + uint64(s.Count)})
		p.sels = append(p.sels, s.String())
	}
	if len(parts) == 0 {
		return nil
	}
	var out []PartialPopulation
	for _, pop := range h.GetPopulations() {
		p := parts[pop.GetName()]
		if p == nil || !pop.GetRecorded() {
			continue
		}
		size := uint64(pop.GetSize())
		slices.SortFunc(p.ranges, byLo)
		var served, end uint64
		for _, r := range p.ranges {
			lo, hi := max(r.lo, end), min(r.hi, size)
			if hi > lo {
				served += hi - lo
			}
			end = max(end, hi)
		}
		if served >= size {
			continue // the selections cover the whole population
		}
		out = append(out, PartialPopulation{Name: pop.GetName(), Served: uint32(served), Size: pop.GetSize(), Filter: strings.Join(p.sels, ",")})
	}
	return out
}

// selected reports whether a global id lies in a selected range.
func (sel *selection) selected(id uint32) bool {
	x := uint64(id)
	k, _ := slices.BinarySearchFunc(sel.keep, x, func(r idRange, x uint64) int {
		switch {
		case r.hi <= x:
			return -1
		case r.lo > x:
			return 1
		}
		return 0
	})
	return k < len(sel.keep) && sel.keep[k].lo <= x && x < sel.keep[k].hi
}

// StreamWriter returns the stream.Writer that feeds the server the stream
// of header h. With Options.Filter it is where the filter applies: the
// Writer serves the filtered header and drops the unselected ids from each
// block before encoding it (stream.Writer.Select), so a filtered stream is
// never decoded and encoded again. A filtered server must be fed through
// StreamWriter; an unfiltered one may also be given the stream's bytes
// (Write). Close the returned Writer (with the run's trailer) before the
// server.
func (s *Server) StreamWriter(h *myelinpb.Header) (*stream.Writer, error) {
	if s.opts.Filter.empty() {
		return stream.NewWriter(serverInput{s}, h)
	}
	sel, err := s.opts.Filter.resolve(h)
	if err != nil {
		return nil, fmt.Errorf("live: filter: %w", err)
	}
	w, err := stream.NewWriter(serverInput{s}, sel.header)
	if err != nil {
		return nil, fmt.Errorf("live: filter: %w", err)
	}
	w.Select(sel.selected, func(series uint32) bool { return sel.series[series] })
	return w, nil
}

// serverInput is the server's input as StreamWriter's Writer sees it.
type serverInput struct{ s *Server }

// Write feeds p to the server.
func (in serverInput) Write(p []byte) (int, error) { return in.s.write(p) }

// byLo orders id ranges by their first id.
func byLo(a, b idRange) int { return cmp.Compare(a.lo, b.lo) }
