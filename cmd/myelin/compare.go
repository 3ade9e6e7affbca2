package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"github.com/spf13/pflag"
)

func cmdCompare(_ context.Context, e *env, args []string) error {
	fs := pflag.NewFlagSet("compare", pflag.ContinueOnError)
	if help, err := parseFlags(fs, e, args, "myelin compare A B"); help || err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return &exitError{2, fmt.Errorf("want two stream files")}
	}
	a, b := fs.Arg(0), fs.Arg(1)
	ra, err := readStream(a)
	if err != nil {
		return err
	}
	rb, err := readStream(b)
	if err != nil {
		return err
	}
	diffs := compareResults(a, b, ra, rb)
	if len(diffs) > 0 {
		for _, d := range diffs {
			fmt.Fprintln(e.stdout, d)
		}
		return &exitError{1, fmt.Errorf("the streams differ (%d differences above)", len(diffs))}
	}
	samples := 0
	for _, d := range ra.State {
		samples += len(d.Steps)
	}
	weights := ""
	if ws := ra.WeightSets(); len(ws) > 0 {
		n := 0
		for _, w := range ws {
			n += len(w.Fixed)
		}
		weights = fmt.Sprintf(" and the same final weights (%d synapses)", n)
	}
	fmt.Fprintf(e.stdout, "same spikes (%d), same header (spec, seed, dt) and same state (%d samples)%s: %s and %s\n", len(ra.IDs), samples, weights, a, b)
	return nil
}

// compareResults lists how two streams differ: header (spec, seed, dt,
// steps, populations), spikes (the first difference) and state series and
// samples (the first difference per series), and the final weights of
// STDP runs (the first difference per pair of populations). Environment
// (the trailer's backend, threads, times) is not compared.
func compareResults(a, b string, ra, rb *stream.Result) []string {
	var out []string
	ha, hb := ra.Header, rb.Header
	var specs []string
	fieldDiffs("spec", ha.GetSpec().ProtoReflect(), hb.GetSpec().ProtoReflect(), &specs, maxSpecDiffs)
	if len(specs) > 0 {
		out = append(out, "header: different specs: "+strings.Join(specs, "; "))
	}
	if ha.GetSeed() != hb.GetSeed() {
		out = append(out, fmt.Sprintf("header: seed %d in %s, %d in %s", ha.GetSeed(), a, hb.GetSeed(), b))
	}
	if ha.GetDtMs() != hb.GetDtMs() {
		out = append(out, fmt.Sprintf("header: dt %g ms in %s, %g ms in %s", ha.GetDtMs(), a, hb.GetDtMs(), b))
	}
	if ha.GetTotalSteps() != hb.GetTotalSteps() {
		out = append(out, fmt.Sprintf("header: %d steps in %s, %d in %s", ha.GetTotalSteps(), a, hb.GetTotalSteps(), b))
	}
	pa, pb := ha.GetPopulations(), hb.GetPopulations()
	if !slices.EqualFunc(pa, pb, func(x, y *myelinpb.PopulationRange) bool { return proto.Equal(x, y) }) {
		out = append(out, fmt.Sprintf("header: populations %s in %s, %s in %s", popList(ha.GetPopulations()), a, popList(hb.GetPopulations()), b))
	}
	if d := spikeDiff(a, b, ra, rb); d != "" {
		out = append(out, d)
	}
	out = append(out, stateDiffs(a, b, ra, rb)...)
	return append(out, weightDiffs(a, b, ra, rb)...)
}

// weightDiffs compares the weights records of two streams: the same pairs
// of populations, and in each the same synapses with the same fixed-point
// weights (the first difference per pair).
func weightDiffs(a, b string, ra, rb *stream.Result) []string {
	var out []string
	wa, wb := ra.WeightSets(), rb.WeightSets()
	byPair := map[[2]string]*stream.WeightSet{}
	for _, w := range wb {
		byPair[[2]string{w.Pre, w.Post}] = w
	}
	for _, x := range wa {
		k := [2]string{x.Pre, x.Post}
		y, ok := byPair[k]
		delete(byPair, k)
		if !ok {
			out = append(out, fmt.Sprintf("weights: %s has the weights of %s -> %s, %s has none", a, x.Pre, x.Post, b))
			continue
		}
		if len(x.Fixed) != len(y.Fixed) || x.Shift != y.Shift {
			out = append(out, fmt.Sprintf("weights %s -> %s: %d synapses (shift %d) in %s, %d (shift %d) in %s", x.Pre, x.Post, len(x.Fixed), x.Shift, a, len(y.Fixed), y.Shift, b))
			continue
		}
		for k := range x.Fixed {
			if x.PreIndex[k] != y.PreIndex[k] || x.PostIndex[k] != y.PostIndex[k] || x.Fixed[k] != y.Fixed[k] {
				out = append(out, fmt.Sprintf("weights %s -> %s: first difference at synapse %d: %d -> %d weight %.9g in %s, %d -> %d weight %.9g in %s",
					x.Pre, x.Post, k, x.PreIndex[k], x.PostIndex[k], x.Weight(k), a, y.PreIndex[k], y.PostIndex[k], y.Weight(k), b))
				break
			}
		}
	}
	for _, y := range wb {
		if _, left := byPair[[2]string{y.Pre, y.Post}]; left {
			out = append(out, fmt.Sprintf("weights: %s has the weights of %s -> %s, %s has none", b, y.Pre, y.Post, a))
		}
	}
	return out
}

// popList writes populations as NAME[first, end).
func popList[P interface {
	GetName() string
	GetFirstId() uint32
	GetSize() uint32
}](pops []P) string {
	parts := make([]string, len(pops))
	for i, p := range pops {
		parts[i] = fmt.Sprintf("%s[%d, %d)", p.GetName(), p.GetFirstId(), uint64(p.GetFirstId())+uint64(p.GetSize()))
	}
	return strings.Join(parts, " ")
}

// spikeDiff names the first spike that differs, or "".
func spikeDiff(a, b string, ra, rb *stream.Result) string {
	n := min(len(ra.Steps), len(rb.Steps))
	for i := 0; i < n; i++ {
		if ra.Steps[i] != rb.Steps[i] || ra.IDs[i] != rb.IDs[i] {
			step := min(ra.Steps[i], rb.Steps[i])
			return fmt.Sprintf("spikes: first difference at step %d (%.4g ms): spike %d is neuron %d at step %d in %s but neuron %d at step %d in %s",
				step, float64(step)*ra.Header.GetDtMs(), i, ra.IDs[i], ra.Steps[i], a, rb.IDs[i], rb.Steps[i], b)
		}
	}
	if len(ra.Steps) != len(rb.Steps) {
		long, name := ra, a
		if len(rb.Steps) > len(ra.Steps) {
			long, name = rb, b
		}
		return fmt.Sprintf("spikes: first difference after %d common spikes: %s has more, from step %d (neuron %d)", n, name, long.Steps[n], long.IDs[n])
	}
	return ""
}

// stateDiffs compares the state series of two streams and, for each series
// both have, the first sample that differs (bit for bit).
func stateDiffs(a, b string, ra, rb *stream.Result) []string {
	var out []string
	ids := make([]uint32, 0, len(ra.State)+len(rb.State))
	for id := range ra.State {
		ids = append(ids, id)
	}
	for id := range rb.State {
		if _, ok := ra.State[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		da, db := ra.State[id], rb.State[id]
		switch {
		case da == nil:
			out = append(out, fmt.Sprintf("state: series %d is only in %s", id, b))
			continue
		case db == nil:
			out = append(out, fmt.Sprintf("state: series %d is only in %s", id, a))
			continue
		case !proto.Equal(da.Series, db.Series):
			out = append(out, fmt.Sprintf("state: series %d samples different neurons: %s %s %v every %d in %s, %s %s %v every %d in %s", id,
				da.Series.GetPopulation(), da.Series.GetVariable(), da.Series.GetNeuronIds(), da.Series.GetEvery(), a,
				db.Series.GetPopulation(), db.Series.GetVariable(), db.Series.GetNeuronIds(), db.Series.GetEvery(), b))
			continue
		}
		w := len(da.Series.GetNeuronIds())
		n := min(len(da.Steps), len(db.Steps))
		diff := ""
		for i := 0; i < n && diff == ""; i++ {
			if da.Steps[i] != db.Steps[i] {
				diff = fmt.Sprintf("state: series %d: sample %d is at step %d in %s, step %d in %s", id, i, da.Steps[i], a, db.Steps[i], b)
				break
			}
			for j := 0; j < w; j++ {
				x, y := da.Values[i*w+j], db.Values[i*w+j]
				if math.Float32bits(x) != math.Float32bits(y) {
					diff = fmt.Sprintf("state: series %d (%s %s): first difference at step %d, neuron %d: %v in %s, %v in %s",
						id, da.Series.GetPopulation(), da.Series.GetVariable(), da.Steps[i], da.Series.GetNeuronIds()[j], x, a, y, b)
					break
				}
			}
		}
		if diff == "" && len(da.Steps) != len(db.Steps) {
			diff = fmt.Sprintf("state: series %d: %d samples in %s, %d in %s", id, len(da.Steps), a, len(db.Steps), b)
		}
		if diff != "" {
			out = append(out, diff)
		}
	}
	return out
}

// maxSpecDiffs is the most spec fields compare names.
const maxSpecDiffs = 4

// fieldDiffs appends to out, up to limit entries, the paths and values of
// the fields where two messages differ ("spec.inputs[0].dc.start_ms: 90 vs
// 270").
func fieldDiffs(path string, x, y protoreflect.Message, out *[]string, limit int) {
	add := func(format string, args ...any) {
		if len(*out) < limit {
			*out = append(*out, fmt.Sprintf(format, args...))
		}
	}
	if !x.IsValid() && !y.IsValid() || len(*out) >= limit {
		return
	}
	if x.IsValid() != y.IsValid() {
		add("%s: set in one stream only", path)
		return
	}
	fields := x.Descriptor().Fields()
	for i := 0; i < fields.Len() && len(*out) < limit; i++ {
		fd := fields.Get(i)
		p := path + "." + string(fd.Name())
		if !x.Has(fd) && !y.Has(fd) {
			continue
		}
		vx, vy := x.Get(fd), y.Get(fd)
		switch {
		case fd.IsList():
			lx, ly := vx.List(), vy.List()
			for k := 0; k < min(lx.Len(), ly.Len()); k++ {
				ep := fmt.Sprintf("%s[%d]", p, k)
				if fd.Kind() == protoreflect.MessageKind {
					fieldDiffs(ep, lx.Get(k).Message(), ly.Get(k).Message(), out, limit)
				} else if !lx.Get(k).Equal(ly.Get(k)) {
					add("%s: %v vs %v", ep, lx.Get(k), ly.Get(k))
				}
			}
			if lx.Len() != ly.Len() {
				add("%s: %d entries vs %d", p, lx.Len(), ly.Len())
			}
		case fd.IsMap():
			if !vx.Equal(vy) {
				add("%s: maps differ", p)
			}
		case fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind:
			if x.Has(fd) != y.Has(fd) {
				add("%s: set in one stream only", p)
				continue
			}
			fieldDiffs(p, vx.Message(), vy.Message(), out, limit)
		default:
			if !vx.Equal(vy) {
				add("%s: %v vs %v", p, vx, vy)
			}
		}
	}
}
