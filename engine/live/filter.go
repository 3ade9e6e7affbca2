package live

import (
	"bytes"
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

// filterStage applies a Filter to the records a Server is given, encoding
// the filtered spike blocks with a stream.Writer.
type filterStage struct {
	f      *Filter
	buf    bytes.Buffer
	w      *stream.Writer
	keep   []idRange       // selected global ids, sorted and merged
	series map[uint32]bool // state series served
	counts []uint32        // scratch for one block
	ids    []uint32
}

// apply returns the records to serve for r: r itself, a filtered copy, or
// nothing.
func (fs *filterStage) apply(r *record) (*record, error) {
	switch r.Kind {
	case kindHeader:
		return fs.header(r)
	case kindSpikes:
		return fs.spikes(r)
	case kindState:
		var b myelinpb.StateBlock
		if err := proto.Unmarshal(r.Msg, &b); err != nil {
			return nil, fmt.Errorf("filter: bad state block: %w", err)
		}
		if !fs.series[b.GetSeries()] {
			return nil, nil
		}
		return r, nil
	case kindGap:
		if fs.w == nil {
			return nil, fmt.Errorf("filter: a gap before the header")
		}
		if err := fs.w.WriteGap(r.First, r.End, r.Spikes); err != nil {
			return nil, fmt.Errorf("filter: %w", err)
		}
		return fs.flush()
	case kindTrailer:
		if fs.w == nil {
			return nil, fmt.Errorf("filter: a trailer before the header")
		}
		var t myelinpb.Trailer
		if err := proto.Unmarshal(r.Msg, &t); err != nil {
			return nil, fmt.Errorf("filter: bad trailer: %w", err)
		}
		if err := fs.w.Close(&t); err != nil {
			return nil, fmt.Errorf("filter: %w", err)
		}
		return fs.take()
	}
	return r, nil
}

// header resolves the selections against the header, marks populations
// without a selected neuron as not recorded, and starts the Writer.
func (fs *filterStage) header(r *record) (*record, error) {
	var h myelinpb.Header
	if err := proto.Unmarshal(r.Msg, &h); err != nil {
		return nil, fmt.Errorf("filter: bad header: %w", err)
	}
	sizes := map[string]uint32{}
	byName := map[string]*myelinpb.PopulationRange{}
	for _, p := range h.GetPopulations() {
		sizes[p.GetName()] = p.GetSize()
		byName[p.GetName()] = p
	}
	if err := fs.f.Check(sizes); err != nil {
		return nil, err
	}
	selected := map[string]bool{}
	fs.keep = fs.keep[:0]
	for _, s := range fs.f.Selections {
		p := byName[s.Population]
		lo, hi := uint64(p.GetFirstId()), uint64(p.GetFirstId())+uint64(p.GetSize())
		if !s.All {
			lo, hi = lo+uint64(s.First), lo+uint64(s.First)+uint64(s.Count)
		}
		if hi > lo {
			fs.keep = append(fs.keep, idRange{lo, hi})
			selected[s.Population] = true
		}
	}
	slices.SortFunc(fs.keep, func(a, b idRange) int {
		switch {
		case a.lo < b.lo:
			return -1
		case a.lo > b.lo:
			return 1
		}
		return 0
	})
	merged := fs.keep[:0]
	for _, k := range fs.keep {
		if n := len(merged); n > 0 && k.lo <= merged[n-1].hi {
			merged[n-1].hi = max(merged[n-1].hi, k.hi)
			continue
		}
		merged = append(merged, k)
	}
	fs.keep = merged
	for _, p := range h.GetPopulations() {
		if !selected[p.GetName()] {
			p.Recorded = false
		}
	}
	fs.series = map[uint32]bool{}
	for _, s := range h.GetStateSeries() {
		fs.series[s.GetId()] = selected[s.GetPopulation()]
	}
	w, err := stream.NewWriter(&fs.buf, &h)
	if err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	fs.w = w
	return fs.take()
}

// spikes writes the selected spikes of a block.
func (fs *filterStage) spikes(r *record) (*record, error) {
	if fs.w == nil {
		return nil, fmt.Errorf("filter: a spike block before the header")
	}
	var b myelinpb.SpikeBlock
	if err := proto.Unmarshal(r.Msg, &b); err != nil {
		return nil, fmt.Errorf("filter: bad spike block: %w", err)
	}
	_, ids, err := stream.DecodeSpikes(&b)
	if err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	fs.counts, fs.ids = fs.counts[:0], fs.ids[:0]
	pos := 0
	for _, c := range b.GetCounts() {
		var kept uint32
		for _, id := range ids[pos : pos+int(c)] {
			if fs.selected(id) {
				fs.ids = append(fs.ids, id)
				kept++
			}
		}
		pos += int(c)
		fs.counts = append(fs.counts, kept)
	}
	if err := fs.w.WriteSpikes(b.GetFirstStep(), fs.counts, fs.ids); err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	return fs.flush()
}

// selected reports whether a global id lies in a selected range.
func (fs *filterStage) selected(id uint32) bool {
	x := uint64(id)
	k, _ := slices.BinarySearchFunc(fs.keep, x, func(r idRange, x uint64) int {
		switch {
		case r.hi <= x:
			return -1
		case r.lo > x:
			return 1
		}
		return 0
	})
	return k < len(fs.keep) && fs.keep[k].lo <= x && x < fs.keep[k].hi
}

// flush flushes the Writer and returns what it wrote as one record.
func (fs *filterStage) flush() (*record, error) {
	if err := fs.w.Flush(); err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	return fs.take()
}

// take returns the bytes in buf, one whole record, and empties buf.
func (fs *filterStage) take() (*record, error) {
	data := bytes.Clone(fs.buf.Bytes())
	fs.buf.Reset()
	if n, err := frameLen(data); err != nil || n != len(data) {
		return nil, fmt.Errorf("filter: the writer wrote %d bytes that are not one record", len(data))
	}
	return parseRecord(data)
}
