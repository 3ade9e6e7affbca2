package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"github.com/spf13/pflag"
)

// cmdCompare compares two streams record by record: header, run end
// (trailer), spikes, state samples and final weights. It exits 0 when they
// are the same, 1 when they differ, 130 when ctx is done (Ctrl-C, SIGTERM).
func cmdCompare(ctx context.Context, e *env, args []string) error {
	fs := pflag.NewFlagSet("compare", pflag.ContinueOnError)
	if help, err := parseFlags(fs, e, args, "myelin compare A B"); help || err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return &exitError{2, fmt.Errorf("want two stream files")}
	}
	a, b := fs.Arg(0), fs.Arg(1)
	interrupted := func() error {
		return &exitError{130, fmt.Errorf("interrupted while comparing %s and %s", a, b)}
	}
	var sides [2]*side
	for k, name := range []string{a, b} {
		// A FIFO's wait for its writer, and a read that blocks on it, end
		// when ctx is done.
		f, err := stream.Open(ctx, name)
		if err != nil {
			if ctx.Err() != nil {
				return interrupted()
			}
			return err
		}
		defer f.Close()
		sides[k] = &side{name: name, rd: stream.NewReader(f)}
	}
	c := newComparison(sides[0], sides[1])
	if err := c.run(ctx); err != nil {
		if ctx.Err() != nil {
			return interrupted()
		}
		return err
	}
	diffs, notes := c.report()
	if len(diffs) > 0 {
		for _, d := range diffs {
			fmt.Fprintln(e.stdout, d)
		}
		for _, n := range notes {
			fmt.Fprintln(e.stdout, n)
		}
		return &exitError{1, fmt.Errorf("the streams differ (%s above)", plural(len(diffs), "difference", "differences"))}
	}
	for _, n := range notes {
		fmt.Fprintln(e.stdout, n)
	}
	weights := ""
	if len(c.pairs[0]) > 0 {
		weights = fmt.Sprintf(" and the same final weights (%d synapses)", c.sides[0].synapses)
	}
	end, _ := c.sides[0].end()
	fmt.Fprintf(e.stdout, "same spikes (%d), same header (spec, seed, dt) and same state (%d samples)%s, both %s: %s and %s\n",
		c.spikes.n[0], c.sides[0].samples, weights, end, a, b)
	return nil
}

// side is one of the two streams compare reads, record by record.
type side struct {
	name    string
	rd      *stream.Reader
	header  *myelinpb.Header
	trailer *myelinpb.Trailer
	ended   bool   // the input ended (io.EOF)
	records int    // records read
	reached uint64 // steps its records reach: the end of the last spike block or gap, the last state sample + 1
	samples uint64 // state samples read
	// synapses counts the weights read; gaps and missed, the gap records
	// and the spikes they say were dropped.
	synapses, missed uint64
	gaps             int
	every            map[uint32]uint64 // sampling interval of each state series of the header
}

// end describes how the stream's run ended, from its trailer or the lack
// of one, and returns the steps the stream covers.
func (s *side) end() (string, uint64) {
	total := s.header.GetTotalSteps()
	of := func(n uint64) string {
		if total > 0 {
			return fmt.Sprintf("%d of %d steps", n, total)
		}
		return fmt.Sprintf("%d steps", n)
	}
	t := s.trailer
	if t == nil {
		return "cut off without a trailer after " + of(s.reached) + " (the run was cut short or is still going)", s.reached
	}
	done := t.GetStepsDone()
	if done == 0 && t.GetStatus() == myelinpb.Trailer_COMPLETE {
		done = total // a trailer that does not count its steps
	}
	// Never fewer steps than the records reach: every spike and sample
	// lies in the steps covered.
	done = max(done, s.reached)
	msg := ""
	if m := t.GetMessage(); m != "" {
		msg = ": " + strconv.Quote(m)
	}
	switch t.GetStatus() {
	case myelinpb.Trailer_COMPLETE:
		return "complete (" + of(done) + ")", done
	case myelinpb.Trailer_INTERRUPTED:
		return "interrupted after " + of(done) + " (trailer INTERRUPTED" + msg + ")", done
	case myelinpb.Trailer_FAILED:
		return "failed after " + of(done) + " (trailer FAILED" + msg + ")", done
	default:
		return fmt.Sprintf("ended after %s (trailer status %v%s)", of(done), t.GetStatus(), msg), done
	}
}

// spike is one spike: its step and global neuron id.
type spike struct {
	step uint64
	id   uint32
}

// sample is one sample of a state series: its step and one value per
// neuron of the series.
type sample struct {
	step uint64
	row  []float32
}

// synapse is one plastic synapse of a weights record.
type synapse struct {
	pre, post uint32
	fixed     int32
}

// queue holds the items of one stream that the other has not matched yet.
type queue[T any] struct {
	items []T
	head  int
}

// len returns the number of items held.
func (q *queue[T]) len() int { return len(q.items) - q.head }

// front returns the first n items.
func (q *queue[T]) front(n int) []T { return q.items[q.head : q.head+n] }

// pop drops the first n items, reusing the space once it is half empty.
func (q *queue[T]) pop(n int) {
	q.head += n
	switch {
	case q.head == len(q.items):
		q.items, q.head = q.items[:0], 0
	case q.head >= 1024 && 2*q.head >= len(q.items):
		q.items = q.items[:copy(q.items, q.items[q.head:])]
		q.head = 0
	}
}

// reset empties the queue and lets its memory go.
func (q *queue[T]) reset() { q.items, q.head = nil, 0 }

// lane compares one sequence of both streams (their spikes, the samples of
// one state series, the weights of one pair of populations) item by item
// as the records arrive, so that only what one stream has and the other has
// not reached yet is held: compare's memory is bounded by the distance
// between the two readers, not by the streams.
type lane[T any] struct {
	q       [2]queue[T]
	n       [2]uint64 // items read from each stream
	matched uint64    // items equal in both
	ended   [2]bool   // the stream holds no more of them
	diff    string    // the first difference, "" while none
	// extra is the first item of stream extraSide past the other's last
	// (hasExtra): its step says whether the other stream covered it.
	extra     T
	extraSide int
	hasExtra  bool
	done      bool // a difference or an extra item was found: items are only counted
}

// add adds items read from stream k and matches them against the other's.
// equal compares two items; differ describes the first pair that is not
// equal, i counting items from 0.
func (l *lane[T]) add(k int, items []T, equal func(x, y T) bool, differ func(i uint64, x, y T) string) {
	l.n[k] += uint64(len(items))
	if l.done || len(items) == 0 {
		return
	}
	l.q[k].items = append(l.q[k].items, items...)
	n := min(l.q[0].len(), l.q[1].len())
	xs, ys := l.q[0].front(n), l.q[1].front(n)
	for i := range xs {
		if !equal(xs[i], ys[i]) {
			l.diff = differ(l.matched+uint64(i), xs[i], ys[i])
			l.stop()
			return
		}
	}
	l.matched += uint64(n)
	l.q[0].pop(n)
	l.q[1].pop(n)
	if l.ended[1-k] && l.q[k].len() > 0 {
		l.setExtra(k)
	}
}

// end says that stream j holds no more items: what the other holds beyond
// them is extra.
func (l *lane[T]) end(j int) {
	l.ended[j] = true
	if !l.done && l.q[1-j].len() > 0 {
		l.setExtra(1 - j)
	}
}

// setExtra takes the first item held of stream k as the first past the
// other stream's last, and stops holding items.
func (l *lane[T]) setExtra(k int) {
	l.extra, l.extraSide, l.hasExtra = l.q[k].front(1)[0], k, true
	l.stop()
}

// stop stops holding items: from now on they are only counted.
func (l *lane[T]) stop() {
	l.done = true
	l.q[0].reset()
	l.q[1].reset()
}

// comparison compares two streams as they are read.
type comparison struct {
	sides   [2]*side
	headers []string // header differences
	spikes  lane[spike]
	// series compared sample by sample: those both headers list alike.
	series   map[uint32]*lane[sample]
	seriesOf map[uint32]*myelinpb.StateSeries
	// weights per pair of populations, with what each stream's first
	// record of the pair said, and the pairs in each stream's order.
	weights map[[2]string]*weightLane
	pairs   [2][][2]string

	spikeBuf  []spike
	sampleBuf []sample
	synBuf    []synapse
}

// weightLane compares the weights of one pair of populations.
type weightLane struct {
	lane[synapse]
	seen  [2]bool
	total [2]uint64
	step  [2]uint64
	shift [2]int32
}

// newComparison returns a comparison of stream a with stream b.
func newComparison(a, b *side) *comparison {
	return &comparison{sides: [2]*side{a, b}, series: map[uint32]*lane[sample]{}, seriesOf: map[uint32]*myelinpb.StateSeries{}, weights: map[[2]string]*weightLane{}}
}

// run reads both streams to their ends, comparing them as it goes. It
// reads next from the stream whose records reach the earlier step, so
// that the two readers stay level and only what lies between them waits
// in memory. It stops with an error when a stream is bad or ctx is done.
func (c *comparison) run(ctx context.Context) error {
	for k := range 2 {
		if err := c.read(k); err != nil {
			return err
		}
	}
	c.compareHeaders()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		a, b := c.sides[0], c.sides[1]
		k := 0
		switch {
		case a.ended && b.ended:
			return nil
		case a.ended:
			k = 1
		case b.ended:
			k = 0
		case b.reached < a.reached || b.reached == a.reached && b.records < a.records:
			k = 1
		}
		if err := c.read(k); err != nil {
			return err
		}
	}
}

// read reads and compares one record of stream k.
func (c *comparison) read(k int) error {
	s := c.sides[k]
	rec, err := s.rd.Next()
	if err == io.EOF {
		s.ended = true
		c.spikes.end(k)
		for _, l := range c.series {
			l.end(k)
		}
		for _, l := range c.weights {
			l.end(k)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	s.records++
	switch r := rec.GetKind().(type) {
	case *myelinpb.Record_Header:
		s.header = r.Header
		s.every = make(map[uint32]uint64, len(r.Header.GetStateSeries()))
		for _, x := range r.Header.GetStateSeries() {
			s.every[x.GetId()] = uint64(max(x.GetEvery(), 1))
		}
	case *myelinpb.Record_Spikes:
		steps, ids := s.rd.Spikes()
		buf := c.spikeBuf[:0]
		for i, id := range ids {
			buf = append(buf, spike{steps[i], id})
		}
		c.spikeBuf = buf
		c.spikes.add(k, buf, func(x, y spike) bool { return x == y }, c.spikeDiff)
		s.reached = max(s.reached, r.Spikes.GetFirstStep()+uint64(len(r.Spikes.GetCounts())))
	case *myelinpb.Record_State:
		c.state(k, r.State)
	case *myelinpb.Record_Gap:
		s.gaps++
		s.missed += r.Gap.GetMissedSpikes()
		s.reached = max(s.reached, r.Gap.GetLastStep())
	case *myelinpb.Record_Weights:
		c.weightsRecord(k, r.Weights)
	case *myelinpb.Record_Trailer:
		s.trailer = r.Trailer
	}
	return nil
}

// spikeDiff describes the first spikes that differ, spike i of each stream.
func (c *comparison) spikeDiff(i uint64, x, y spike) string {
	a, b := c.sides[0], c.sides[1]
	step := min(x.step, y.step)
	return fmt.Sprintf("spikes: first difference at step %d (%.4g ms): spike %d is neuron %d at step %d in %s but neuron %d at step %d in %s",
		step, float64(step)*a.header.GetDtMs(), i, x.id, x.step, a.name, y.id, y.step, b.name)
}

// state compares the samples of a state block of stream k.
func (c *comparison) state(k int, b *myelinpb.StateBlock) {
	s := c.sides[k]
	n := uint64(b.GetNumSamples())
	s.samples += n
	id := b.GetSeries()
	ser := c.seriesOf[id]
	every := s.every[id] // the Reader refuses a series the header does not list
	if n > 0 {
		s.reached = max(s.reached, b.GetFirstStep()+(n-1)*every+1)
	}
	l := c.series[id]
	if l == nil {
		return // not in both headers alike: the header differences say so
	}
	w := len(ser.GetNeuronIds())
	vals := b.GetValues()
	buf := c.sampleBuf[:0]
	for i := range int(n) {
		buf = append(buf, sample{b.GetFirstStep() + uint64(i)*every, vals[i*w : (i+1)*w : (i+1)*w]})
	}
	c.sampleBuf = buf
	l.add(k, buf, func(x, y sample) bool {
		if x.step != y.step {
			return false
		}
		for j := range x.row {
			if math.Float32bits(x.row[j]) != math.Float32bits(y.row[j]) {
				return false
			}
		}
		return true
	}, func(i uint64, x, y sample) string {
		a, b := c.sides[0], c.sides[1]
		if x.step != y.step {
			return fmt.Sprintf("state: series %d: sample %d is at step %d in %s, step %d in %s", id, i, x.step, a.name, y.step, b.name)
		}
		for j := range x.row {
			if math.Float32bits(x.row[j]) != math.Float32bits(y.row[j]) {
				return fmt.Sprintf("state: series %d (%s %s): first difference at step %d, neuron %d: %v in %s, %v in %s",
					id, ser.GetPopulation(), ser.GetVariable(), x.step, ser.GetNeuronIds()[j], x.row[j], a.name, y.row[j], b.name)
			}
		}
		return ""
	})
}

// weightsRecord compares a weights record of stream k.
func (c *comparison) weightsRecord(k int, w *myelinpb.Weights) {
	s := c.sides[k]
	s.synapses += uint64(len(w.GetWeight()))
	p := [2]string{w.GetPre(), w.GetPost()}
	l := c.weights[p]
	if l == nil {
		l = &weightLane{}
		c.weights[p] = l
		if c.sides[1-k].ended {
			l.end(1 - k)
		}
	}
	if !l.seen[k] {
		l.seen[k] = true
		l.total[k], l.step[k], l.shift[k] = w.GetTotal(), w.GetStep(), w.GetShift()
		c.pairs[k] = append(c.pairs[k], p)
		if l.seen[1-k] && !l.done && (l.total[0] != l.total[1] || l.shift[0] != l.shift[1] || l.step[0] != l.step[1]) {
			a, b := c.sides[0], c.sides[1]
			if l.step[0] != l.step[1] {
				l.diff = fmt.Sprintf("weights %s -> %s: taken at step %d in %s, at step %d in %s", p[0], p[1], l.step[0], a.name, l.step[1], b.name)
			} else {
				l.diff = fmt.Sprintf("weights %s -> %s: %d synapses (shift %d) in %s, %d (shift %d) in %s", p[0], p[1], l.total[0], l.shift[0], a.name, l.total[1], l.shift[1], b.name)
			}
			l.stop()
		}
	}
	buf := c.synBuf[:0]
	for i, x := range w.GetWeight() {
		buf = append(buf, synapse{w.GetPreIndex()[i], w.GetPostIndex()[i], x})
	}
	c.synBuf = buf
	shift := int(w.GetShift())
	l.add(k, buf, func(x, y synapse) bool { return x == y }, func(i uint64, x, y synapse) string {
		a, b := c.sides[0], c.sides[1]
		return fmt.Sprintf("weights %s -> %s: first difference at synapse %d: %d -> %d weight %.9g in %s, %d -> %d weight %.9g in %s",
			p[0], p[1], i, x.pre, x.post, math.Ldexp(float64(x.fixed), -shift), a.name, y.pre, y.post, math.Ldexp(float64(y.fixed), -shift), b.name)
	})
}

// compareHeaders compares the two headers (spec, seed, dt, steps,
// populations, state series) and sets up the state series to compare.
func (c *comparison) compareHeaders() {
	a, b := c.sides[0], c.sides[1]
	ha, hb := a.header, b.header
	out := &c.headers
	var specs []string
	fieldDiffs("spec", ha.GetSpec().ProtoReflect(), hb.GetSpec().ProtoReflect(), &specs, maxSpecDiffs)
	if len(specs) > 0 {
		*out = append(*out, "header: different specs: "+strings.Join(specs, "; "))
	}
	if ha.GetSeed() != hb.GetSeed() {
		*out = append(*out, fmt.Sprintf("header: seed %d in %s, %d in %s", ha.GetSeed(), a.name, hb.GetSeed(), b.name))
	}
	if ha.GetDtMs() != hb.GetDtMs() {
		*out = append(*out, fmt.Sprintf("header: dt %g ms in %s, %g ms in %s", ha.GetDtMs(), a.name, hb.GetDtMs(), b.name))
	}
	if ha.GetTotalSteps() != hb.GetTotalSteps() {
		*out = append(*out, fmt.Sprintf("header: %d steps in %s, %d in %s", ha.GetTotalSteps(), a.name, hb.GetTotalSteps(), b.name))
	}
	if d := popDiff(ha.GetPopulations(), hb.GetPopulations(), a.name, b.name); d != "" {
		*out = append(*out, d)
	}
	// State series: those in both headers alike are compared sample by
	// sample; the others are differences of the headers.
	sa, sb := map[uint32]*myelinpb.StateSeries{}, map[uint32]*myelinpb.StateSeries{}
	var ids []uint32
	for _, s := range ha.GetStateSeries() {
		sa[s.GetId()] = s
		ids = append(ids, s.GetId())
	}
	for _, s := range hb.GetStateSeries() {
		sb[s.GetId()] = s
		if sa[s.GetId()] == nil {
			ids = append(ids, s.GetId())
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		x, y := sa[id], sb[id]
		switch {
		case x == nil:
			*out = append(*out, fmt.Sprintf("state: series %d is only in %s", id, b.name))
		case y == nil:
			*out = append(*out, fmt.Sprintf("state: series %d is only in %s", id, a.name))
		case !proto.Equal(x, y):
			*out = append(*out, fmt.Sprintf("state: series %d samples different neurons: %s %s %v every %d in %s, %s %s %v every %d in %s", id,
				x.GetPopulation(), x.GetVariable(), x.GetNeuronIds(), x.GetEvery(), a.name,
				y.GetPopulation(), y.GetVariable(), y.GetNeuronIds(), y.GetEvery(), b.name))
		default:
			c.series[id] = &lane[sample]{}
			c.seriesOf[id] = x
		}
	}
}

// report lists the differences, in the order header, run end, spikes,
// state, weights, and the notes that qualify them: where the streams
// cover different steps, spikes and state are compared only over the steps
// both cover, and a note says so. Environment (the trailer's backend,
// threads, times) is not compared.
func (c *comparison) report() (diffs, notes []string) {
	a, b := c.sides[0], c.sides[1]
	diffs = append(diffs, c.headers...)
	endA, coverA := a.end()
	endB, coverB := b.end()
	if endA != endB || coverA != coverB {
		diffs = append(diffs, fmt.Sprintf("run end: %s: %s; %s: %s", a.name, endA, b.name, endB))
	}
	common := min(coverA, coverB)
	partial := coverA != coverB
	dt := a.header.GetDtMs()
	name := func(k int) string { return c.sides[k].name }

	// Spikes.
	l := &c.spikes
	switch {
	case l.diff != "":
		diffs = append(diffs, l.diff)
	case l.hasExtra && l.extra.step < common:
		diffs = append(diffs, fmt.Sprintf("spikes: first difference after %d common spikes: %s has more, from step %d (neuron %d)",
			l.matched, name(l.extraSide), l.extra.step, l.extra.id))
	}
	if partial {
		what := fmt.Sprintf("note: spikes and state are compared only over the first %d steps (%.4g ms), which both streams cover", common, float64(common)*dt)
		if l.diff == "" && !(l.hasExtra && l.extra.step < common) {
			what += fmt.Sprintf(": the same %d spikes there", l.matched)
			if l.hasExtra {
				what += fmt.Sprintf("; %s has %d more after them", name(l.extraSide), l.n[l.extraSide]-l.matched)
			}
		}
		notes = append(notes, what)
	}

	// State, by series id.
	ids := make([]uint32, 0, len(c.series))
	for id := range c.series {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		l := c.series[id]
		switch {
		case l.diff != "":
			diffs = append(diffs, l.diff)
		case l.hasExtra && l.extra.step < common:
			diffs = append(diffs, fmt.Sprintf("state: series %d: %d samples in %s, %d in %s", id, l.n[0], a.name, l.n[1], b.name))
		}
	}

	// Weights, in the first stream's order, then the pairs only in the
	// second.
	for _, p := range c.pairs[0] {
		l := c.weights[p]
		switch {
		case !l.seen[1]:
			diffs = append(diffs, fmt.Sprintf("weights: %s has the weights of %s -> %s, %s has none", a.name, p[0], p[1], b.name))
		case l.diff != "":
			diffs = append(diffs, l.diff)
		}
	}
	for _, p := range c.pairs[1] {
		if !c.weights[p].seen[0] {
			diffs = append(diffs, fmt.Sprintf("weights: %s has the weights of %s -> %s, %s has none", b.name, p[0], p[1], a.name))
		}
	}

	for _, s := range c.sides {
		if s.gaps > 0 {
			notes = append(notes, fmt.Sprintf("note: %s has %d gaps: %d spikes were dropped before they reached it (a slow live reader)", s.name, s.gaps, s.missed))
		}
	}
	// Where other parts differ, say that the spikes do not, if there are
	// any (the partial note above says it over the common steps).
	if sp := &c.spikes; len(diffs) > 0 && !partial && sp.diff == "" && !sp.hasExtra && sp.n[0] > 0 {
		ha, hb := a.header, b.header
		what := "the spikes are the same"
		if ha.GetDtMs() != hb.GetDtMs() || popDiff(ha.GetPopulations(), hb.GetPopulations(), a.name, b.name) != "" {
			// Steps and ids match, but not what they mean.
			what = "the spikes are the same steps and neuron ids, though dt or the populations differ"
		}
		notes = append(notes, fmt.Sprintf("note: %s (%d)", what, sp.n[0]))
	}
	return diffs, notes
}

// popDiff describes how the populations of header A (named nameA) differ
// from those of header B, "" when they are the same. When both list the
// same names in the same order it names the first population that differs
// and each of its fields that differ, with both values ("header:
// population I: recorded true in a.myelin, false in b.myelin"), and counts
// the other populations that differ; otherwise it gives both lists.
func popDiff(pa, pb []*myelinpb.PopulationRange, nameA, nameB string) string {
	if slices.EqualFunc(pa, pb, func(x, y *myelinpb.PopulationRange) bool { return proto.Equal(x, y) }) {
		return ""
	}
	if !slices.EqualFunc(pa, pb, func(x, y *myelinpb.PopulationRange) bool { return x.GetName() == y.GetName() }) {
		return fmt.Sprintf("header: populations %s in %s, %s in %s", popList(pa), nameA, popList(pb), nameB)
	}
	first, others := -1, 0
	for i := range pa {
		if !proto.Equal(pa[i], pb[i]) {
			if first < 0 {
				first = i
			} else {
				others++
			}
		}
	}
	x, y := pa[first].ProtoReflect(), pb[first].ProtoReflect()
	var parts []string
	fields := x.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		vx, vy := x.Get(fd), y.Get(fd)
		if vx.Equal(vy) {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s in %s, %s in %s", fd.Name(), fieldValue(vx), nameA, fieldValue(vy), nameB))
	}
	if len(parts) == 0 { // unknown fields only
		parts = append(parts, "fields unknown to this version of myelin")
	}
	more := ""
	switch {
	case others == 1:
		more = " (and 1 more population differs)"
	case others > 1:
		more = fmt.Sprintf(" (and %d more populations differ)", others)
	}
	return fmt.Sprintf("header: population %s: %s%s", pa[first].GetName(), strings.Join(parts, "; "), more)
}

// fieldValue writes a scalar field's value: a string quoted, anything else
// as fmt prints it.
func fieldValue(v protoreflect.Value) string {
	if s, ok := v.Interface().(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v.Interface())
}

// plural writes n with the singular or plural noun: "1 difference", "3
// differences".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
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
