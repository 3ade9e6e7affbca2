// Package serve keeps one network alive between commands: load a spec, run
// it for T ms again and again continuing the same simulation, read what was
// recorded since the last read, change neuron parameters and input values
// between runs, and reset it to time 0. Engine is the Go API; Serve speaks
// the length-delimited protobuf protocol of proto/serve.proto over any
// reader and writer (stdin/stdout, a Unix socket).
//
// A served network is built with a horizon of 2^40 steps instead of its
// duration_ms, and the backend advances it in pieces. When nothing changes
// between runs the spikes are those of one `myelin run` of the same total
// duration; the one exception is a spec with spike_times inputs after that
// duration, whose weights may enlarge a population's fixed-point scale.
//
// Changes during a simulation (at a step > 0):
//   - a Poisson rate or DC amplitude is split into two time segments (the
//     old value stops at the current step, the new one starts there), the
//     network is rebuilt and silently replayed up to the current step on a
//     fresh backend before the next run; the replay must reproduce every
//     spike already produced, or the run fails;
//   - neuron parameters are taken up in place by the CPU backend (it reads
//     the network's coefficients at every step); other backends copy them
//     at load and refuse such changes. Replays reapply them at their steps.
//
// At step 0 (after Load or Reset) any change simply rebuilds the network.
//
// The recorded data held unread are bounded: a run stops before a block of
// steps that could take them past its limit (RunOptions.MaxReplyBytes,
// counted as the worst case of that block), and reports the steps it did
// not run in Ran.StepsLeft. Reading and running the steps left, again and
// again, gives the data of one run in pieces of bounded size.
package serve

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/cpu"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/plan"
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// HorizonSteps is the number of steps a served network is built for; a
// session cannot run past it.
const HorizonSteps = uint64(1) << 40

// Limits of the recorded data a run lets the engine hold unread (see
// RunOptions.MaxReplyBytes and RunCommand.max_reply_bytes): the default
// and the most a run may ask for, which keeps a reply well within the
// 2 GiB that protobuf decodes in one message (Python's among them).
const (
	DefaultMaxReplyBytes = 256 << 20
	MaxReplyBytesLimit   = 1 << 30
)

// RunOptions are the settings of one run beyond its duration.
type RunOptions struct {
	// MaxReplyBytes bounds the recorded data held unread, as they encode
	// in a Data message (its spike steps and ids and its sample values): the
	// run stops before a block of steps that could take them past it, even
	// if every recorded neuron fired at every step of the block. A run with
	// nothing held unread runs at least one step, whose data may pass the
	// bound when a single step can record more. 0: DefaultMaxReplyBytes;
	// at most MaxReplyBytesLimit.
	MaxReplyBytes uint64
}

// BackendFactory opens a backend by name ("cpu", "cuda") with the given
// number of CPU threads (0: all cores).
type BackendFactory func(name string, threads int) (backend.Backend, error)

// CPUOnly is the BackendFactory of binaries without CUDA: it opens the CPU
// backend and refuses every other name.
func CPUOnly(name string, threads int) (backend.Backend, error) {
	switch name {
	case "", "cpu":
		return cpu.New(threads), nil
	}
	return nil, fmt.Errorf("backend %q: this engine offers only cpu", name)
}

// Engine holds one served network. It is not safe for concurrent use.
type Engine struct {
	factory     BackendFactory
	backendName string
	threads     int

	// current holds the parameters and input values as last set: what a
	// reset starts from.
	current *myelinpb.Network
	// live is what the running simulation was built from: the spec at the
	// last reset plus the time segments of inputs changed since.
	live *myelinpb.Network
	// segment maps an input name to the index in live.Inputs of its latest
	// segment.
	segment map[string]int
	// history lists the in-place parameter changes since the last reset.
	history []paramChange

	net  *network.Network
	be   backend.Backend
	step uint64
	// rebuild: the spec changed at step 0; build afresh before running.
	// replay: inputs changed during the run; rebuild and replay to step.
	rebuild, replay bool
	// totals counts spikes per population since the last reset; digest
	// folds in every (step, id) of them, in order, so that a replay can
	// prove it reproduced them all.
	totals []uint64
	digest uint64

	// Recorded data not yet read, from step readStep on, held as they
	// encode in a Data message.
	readStep uint64
	pending  encodedData
	// recordedNeurons counts the neurons whose spikes are recorded, and
	// idBytes is the encoded size of the largest of their ids: what
	// worstBytes needs.
	recordedNeurons uint64
	idBytes         int
	blk             backend.Block
	info            *myelinpb.Loaded
	lastLoad        time.Duration
}

// paramChange is a population's model coefficients as set at a step.
type paramChange struct {
	step  uint64
	pop   int
	model network.Population
}

// New returns an engine with no network that opens backends with factory
// (nil: CPUOnly).
func New(factory BackendFactory) *Engine {
	if factory == nil {
		factory = CPUOnly
	}
	return &Engine{factory: factory}
}

// Loaded reports whether a network is loaded.
func (e *Engine) Loaded() bool { return e.current != nil }

// Step is the current step of the simulation.
func (e *Engine) Step() uint64 { return e.step }

// ErrInterrupted is wrapped by the error of a RunContext or LoadContext
// whose context was cancelled (Ctrl-C in `myelin serve`).
var ErrInterrupted = errors.New("interrupted")

// Load builds net (defaults applied, validated) and loads it into the named
// backend, replacing any network loaded before.
func (e *Engine) Load(net *myelinpb.Network, backendName string, threads int) (*myelinpb.Loaded, error) {
	return e.LoadContext(context.Background(), net, backendName, threads)
}

// LoadContext is Load that gives up soon after ctx is cancelled while the
// network is being built, with an error wrapping ErrInterrupted; no network
// is then loaded.
func (e *Engine) LoadContext(ctx context.Context, net *myelinpb.Network, backendName string, threads int) (*myelinpb.Loaded, error) {
	if net == nil {
		return nil, errors.New("spec: no network given")
	}
	cur := proto.Clone(net).(*myelinpb.Network)
	if cur.DurationMs == nil {
		cur.DurationMs = proto.Float64(0)
	}
	spec.ApplyDefaults(cur)
	if err := spec.Validate(cur); err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	if threads < 0 {
		return nil, fmt.Errorf("threads = %d: must be >= 0", threads)
	}
	e.Close()
	e.backendName, e.threads = backendName, threads
	e.current = cur
	if err := e.restart(ctx); err != nil {
		e.current = nil
		return nil, err
	}
	return e.info, nil
}

// restart builds the current spec afresh at step 0 and loads it.
func (e *Engine) restart(ctx context.Context) error {
	// The spec at the reset is current itself: neither is ever changed in
	// place (every change clones first), and a large spec (explicit
	// connection lists) is held once, not twice.
	e.live = e.current
	e.segment = map[string]int{}
	for i, in := range e.live.GetInputs() {
		e.segment[in.GetName()] = i
	}
	e.history = nil
	e.step, e.readStep = 0, 0
	e.rebuild, e.replay = false, false
	net, be, err := e.open(ctx, e.live)
	if err != nil {
		return err
	}
	e.net, e.be = net, be
	e.totals = make([]uint64, len(net.Pops))
	e.digest = digestSeed
	e.recordedNeurons, e.idBytes = 0, 1
	for _, p := range net.Pops {
		if p.Recorded && p.Size > 0 {
			e.recordedNeurons += uint64(p.Size)
			e.idBytes = max(e.idBytes, protowire.SizeVarint(uint64(p.First+p.Size-1)))
		}
	}
	e.clearPending()
	e.describe()
	return nil
}

// open builds s with the serving horizon and loads it into a new backend,
// closing the old one first (a GPU may not hold two networks). The build
// gives up soon after ctx is cancelled.
func (e *Engine) open(ctx context.Context, s *myelinpb.Network) (*network.Network, backend.Backend, error) {
	b := proto.Clone(s).(*myelinpb.Network)
	b.DurationMs = proto.Float64(float64(HorizonSteps) * b.GetDtMs())
	// The network loaded before goes first (a GPU may not hold two, and
	// the memory check below must not count it), and its memory back to
	// the system: every caller replaces it, or unloads it on an error.
	if e.be != nil {
		e.be.Close()
		e.be = nil
	}
	if e.net != nil {
		e.net = nil
		debug.FreeOSMemory()
	}
	// Refuse what cannot fit before allocating it: a network too large
	// would otherwise end the engine with the runtime's out-of-memory
	// error, and the client with it. (A GPU backend checks its device at
	// Load; the plan's CPU figure would overstate what its host needs.)
	if avail, ok := plan.AvailableMemory(); ok && e.backendName != "cuda" {
		threads := e.threads
		if threads <= 0 {
			threads = runtime.GOMAXPROCS(0)
		}
		if err := plan.Estimate(b, threads).CheckFits(avail); err != nil {
			return nil, nil, fmt.Errorf("build: %w", err)
		}
	}
	net, err := network.BuildContext(ctx, b, network.Options{Threads: e.threads})
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("build: %w while building the network", ErrInterrupted)
		}
		return nil, nil, fmt.Errorf("build: %w", err)
	}
	net.Steps = HorizonSteps
	be, err := e.factory(e.backendName, e.threads)
	if err != nil {
		return nil, nil, fmt.Errorf("backend: %w", err)
	}
	t0 := time.Now()
	if err := be.Load(net); err != nil {
		be.Close()
		return nil, nil, fmt.Errorf("backend %s: load: %w", be.Name(), err)
	}
	e.lastLoad = time.Since(t0)
	return net, be, nil
}

// describe fills e.info from the loaded network.
func (e *Engine) describe() {
	net := e.net
	info := &myelinpb.Loaded{
		DtMs: net.Dt, Neurons: uint64(net.N), Synapses: net.SynapseCount(),
		BuildSeconds: net.BuildSeconds, LoadSeconds: e.lastLoad.Seconds(),
		Backend: e.be.Name(), Describe: e.be.Describe(),
	}
	for _, p := range net.Pops {
		info.Populations = append(info.Populations, &myelinpb.ServedPopulation{
			Name: p.Name, FirstId: p.First, Size: p.Size, Model: p.Model.String(), Recorded: p.Recorded,
		})
	}
	for i, pr := range net.Probes {
		pop := &net.Pops[pr.Pop]
		s := &myelinpb.ServedSeries{Id: uint32(i), Population: pop.Name, Variable: pr.Variable, Every: pr.Every}
		for k := uint32(0); k < pr.Count; k++ {
			s.NeuronIds = append(s.NeuronIds, pop.First+pr.First+k)
			s.Initial = append(s.Initial, pop.Init[pr.First+k]+pop.EL)
		}
		info.StateSeries = append(info.StateSeries, s)
	}
	info.ProjectionSynapses, info.ProjectionShared = projectionCounts(e.live, net)
	e.info = info
}

// projectionCounts returns the synapses of each projection of s: as the
// build counted them for a procedural projection, from the rule where it
// fixes the number (fixed in- or out-degree, one-to-one, all-to-all,
// explicit lists), else counted in net from the projection's pre
// to its post population through its channel. Counted projections that
// share pre, post and channel with another projection get their group's
// total and are marked shared.
func projectionCounts(s *myelinpb.Network, net *network.Network) ([]uint64, []bool) {
	type key struct {
		pre, post int
		ch        myelinpb.Receptor
	}
	byName := map[string]int{}
	for i, p := range net.Pops {
		byName[p.Name] = i
	}
	prs := s.GetProjections()
	// Procedural projections store no row: the build counted them.
	procedural := map[int]uint64{}
	for _, p := range net.Procedural {
		procedural[p.Index] = p.Synapses
	}
	keys := make([]key, len(prs))
	seen := map[key]int{}
	for i, pr := range prs {
		keys[i] = key{byName[pr.GetPre()], byName[pr.GetPost()], pr.GetReceptor()}
		if _, ok := procedural[i]; !ok {
			seen[keys[i]]++
		}
	}
	counts := map[key]uint64{}
	out := make([]uint64, len(prs))
	shared := make([]bool, len(prs))
	for i, pr := range prs {
		k := keys[i]
		pre, post := &net.Pops[k.pre], &net.Pops[k.post]
		if n, ok := procedural[i]; ok {
			out[i] = n
			continue
		}
		if n, ok := ruleCount(pr, pre, post, k.pre == k.post); ok {
			out[i] = n
			continue
		}
		if !pre.Spiking() || !post.Spiking() {
			continue
		}
		n, done := counts[k]
		if !done {
			n = countSynapses(net, k.pre, k.post, k.ch)
			counts[k] = n
		}
		out[i], shared[i] = n, seen[k] > 1
	}
	return out, shared
}

// ruleCount is the number of synapses that pr's rule makes, when the rule
// fixes it.
func ruleCount(pr *myelinpb.Projection, pre, post *network.Population, self bool) (uint64, bool) {
	switch r := pr.GetRule().(type) {
	case *myelinpb.Projection_FixedInDegree:
		return uint64(r.FixedInDegree.GetIndegree()) * uint64(post.Size), true
	case *myelinpb.Projection_FixedOutDegree:
		return uint64(r.FixedOutDegree.GetOutdegree()) * uint64(pre.Size), true
	case *myelinpb.Projection_OneToOne:
		return uint64(pre.Size), true
	case *myelinpb.Projection_AllToAll:
		n := uint64(pre.Size) * uint64(post.Size)
		if self && !pr.GetAllowAutapses() {
			n -= uint64(pre.Size)
		}
		return n, true
	case *myelinpb.Projection_Explicit:
		return uint64(len(r.Explicit.GetPreIndex())), true
	}
	return 0, false
}

// countSynapses counts the synapses from pre to post through channel ch
// (both fast channels for RECEPTOR_AUTO; the slow port's synapses, which
// carry its bit in their packed words, only for SLOW_EXCITATORY).
func countSynapses(net *network.Network, pi, qi int, ch myelinpb.Receptor) uint64 {
	syn := &net.Syn
	pre, post := &net.Pops[pi], &net.Pops[qi]
	slow := ch == myelinpb.Receptor_SLOW_EXCITATORY
	matches := func(w int32) bool {
		return !(ch == myelinpb.Receptor_EXCITATORY && w < 0 || ch == myelinpb.Receptor_INHIBITORY && w >= 0)
	}
	// A compact population's synapses onto post all share one weight.
	compact := syn.WeightBase[pi] == network.Compact
	if compact && !matches(syn.PopWeight[pi*len(net.Pops)+qi]) {
		return 0
	}
	var n uint64
	for r := pre.First; r < pre.First+pre.Size; r++ {
		row := syn.Packed[syn.RowPtr[r]:syn.RowPtr[r+1]]
		lo := sort.Search(len(row), func(j int) bool { return row[j]>>syn.DelayBits >= post.First })
		hi := sort.Search(len(row), func(j int) bool { return row[j]>>syn.DelayBits >= post.First+post.Size })
		var w []int32
		if !compact {
			w = syn.Weight[syn.WeightBase[pi]+syn.RowPtr[r]-syn.RowPtr[pre.First]:][:len(row)]
		}
		for j := lo; j < hi; j++ {
			if syn.Slow(row[j]) == slow && (compact || matches(w[j])) {
				n++
			}
		}
	}
	return n
}

// clearPending forgets the data not yet read (letting go of their memory:
// a reply may still hold it) and starts the next read at the current step.
func (e *Engine) clearPending() {
	e.pending = encodedData{samples: make([]encodedSamples, len(e.net.Probes))}
	e.readStep = e.step
}

// FNV-1a style constants of the spike digest.
const (
	digestSeed  = 14695981039346656037
	digestPrime = 1099511628211
)

// errNotLoaded is returned by commands that need a network.
var errNotLoaded = errors.New("no network loaded (send load first)")

// Run advances the simulation by ms (rounded to whole steps), with the
// default RunOptions: it stops early once the recorded data held unread
// reach DefaultMaxReplyBytes (see RunWith).
func (e *Engine) Run(ms float64) (*myelinpb.Ran, error) {
	return e.RunContext(context.Background(), ms)
}

// RunContext is RunWith with the default RunOptions.
func (e *Engine) RunContext(ctx context.Context, ms float64) (*myelinpb.Ran, error) {
	return e.RunWith(ctx, ms, RunOptions{})
}

// RunWith advances the simulation by ms (rounded to whole steps), or less:
// it stops before a block of steps that could take the recorded data held
// unread past opts.MaxReplyBytes, and Ran.StepsLeft then counts the steps
// not run (read, then run them to go on).
//
// It also stops at the next block of steps once ctx is cancelled. It then
// returns both the state reached (what was simulated is kept, to be read as
// usual, and the network stays loaded: a later run continues from there)
// and an error wrapping ErrInterrupted. Cancelled while rebuilding or
// replaying the network before the run, it returns no state; a cut-short
// replay is redone by the next run, a cut-short rebuild unloads the
// network.
func (e *Engine) RunWith(ctx context.Context, ms float64, opts RunOptions) (*myelinpb.Ran, error) {
	if !e.Loaded() {
		return nil, errNotLoaded
	}
	dt := e.net.Dt
	if math.IsNaN(ms) || math.IsInf(ms, 0) || ms < 0 {
		return nil, fmt.Errorf("duration_ms = %v: must be finite and >= 0", ms)
	}
	limit := opts.MaxReplyBytes
	if limit == 0 {
		limit = DefaultMaxReplyBytes
	}
	if limit > MaxReplyBytesLimit {
		return nil, fmt.Errorf("max_reply_bytes = %d: at most %d (1 GiB; 0 for the default, %d)", limit, MaxReplyBytesLimit, DefaultMaxReplyBytes)
	}
	steps := math.Round(ms / dt)
	if steps > float64(HorizonSteps-e.step) {
		return nil, fmt.Errorf("duration_ms = %v: runs past the horizon of %d steps (now at step %d)", ms, HorizonSteps, e.step)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%w before the run began; nothing ran", ErrInterrupted)
	}
	ran := &myelinpb.Ran{}
	if e.rebuild {
		if err := e.restart(ctx); err != nil {
			return nil, e.broken(err)
		}
	}
	if e.replay {
		t0 := time.Now()
		if err := e.replayTo(ctx); err != nil {
			if errors.Is(err, ErrInterrupted) && e.net != nil {
				return nil, err
			}
			return nil, e.broken(err)
		}
		ran.ReplaySeconds = time.Since(t0).Seconds()
	}
	before := slices.Clone(e.totals)
	start := e.step
	t0 := time.Now()
	err := e.advance(ctx, uint64(steps), true, limit)
	var interrupted error
	switch {
	case errors.Is(err, ErrInterrupted):
		interrupted = fmt.Errorf("%w at step %d (%.1f ms), after %d of the %d steps asked for; what ran is kept",
			ErrInterrupted, e.step, float64(e.step)*dt, e.step-start, uint64(steps))
	case err != nil:
		return nil, e.broken(err)
	}
	ran.SimSeconds = time.Since(t0).Seconds()
	ran.Step = e.step
	ran.TimeMs = float64(e.step) * dt
	ran.StepsLeft = uint64(steps) - (e.step - start)
	for i, t := range e.totals {
		ran.PopulationSpikes = append(ran.PopulationSpikes, t-before[i])
	}
	return ran, interrupted
}

// broken unloads the network after a failure that left its state unknown.
func (e *Engine) broken(err error) error {
	e.Close()
	return fmt.Errorf("%w (the network was unloaded; load it again)", err)
}

// advance runs n steps from e.step, in blocks, counting spikes and, when
// keep is set, keeping what is recorded. Then it stops early, without an
// error, before a block that could take the data held unread past limit
// bytes (see stepsWithin). Once ctx is cancelled it stops before the next
// block with ErrInterrupted; the blocks run are counted.
func (e *Engine) advance(ctx context.Context, n uint64, keep bool, limit uint64) error {
	net := e.net
	for done := uint64(0); done < n; {
		if ctx.Err() != nil {
			return ErrInterrupted
		}
		k64 := min(uint64(net.BlockSteps), n-done)
		if keep {
			if k64 = e.stepsWithin(k64, limit); k64 == 0 {
				return nil
			}
		}
		k := int(k64)
		e.blk.Reset(e.step, len(net.Probes))
		if err := e.be.Advance(k, &e.blk); err != nil {
			return fmt.Errorf("backend %s: steps [%d, %d): %w", e.be.Name(), e.step, e.step+uint64(k), err)
		}
		e.collect(keep)
		e.step += uint64(k)
		done += uint64(k)
	}
	return nil
}

// stepsWithin returns how many of the next k steps (k >= 1) may run with
// the recorded data held unread staying within limit bytes even if every
// recorded neuron fires at every one of them: k, fewer, or 0 when not even
// one step is sure to fit. With nothing held it returns at least 1, so that
// a run always advances.
func (e *Engine) stepsWithin(k, limit uint64) uint64 {
	held := e.pending.payload()
	if held >= limit { // limit >= 1: data are held
		return 0
	}
	room := limit - held
	if e.worstBytes(k) <= room {
		return k
	}
	// worstBytes grows with the steps: find the last m that fits.
	lo, hi := uint64(0), k
	for hi-lo > 1 {
		if m := lo + (hi-lo)/2; e.worstBytes(m) <= room {
			lo = m
		} else {
			hi = m
		}
	}
	if lo == 0 && held == 0 {
		return 1
	}
	return lo
}

// worstBytes bounds the encoded size of what the next m steps (m >= 1) can
// record: a spike of every recorded neuron at every step, and the rows of
// every state series that fall in them.
func (e *Engine) worstBytes(m uint64) uint64 {
	perSpike := uint64(protowire.SizeVarint(e.step+m-1) + e.idBytes)
	b := mulSat(mulSat(e.recordedNeurons, m), perSpike)
	for _, pr := range e.net.Probes {
		rows := uint64(backend.SampledSteps(e.step, int(m), pr.Every))
		b = addSat(b, mulSat(rows, 4*uint64(pr.Count)))
	}
	return b
}

// mulSat is a·b, or the largest uint64 when that overflows.
func mulSat(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 {
		return math.MaxUint64
	}
	return lo
}

// addSat is a+b, or the largest uint64 when that overflows.
func addSat(a, b uint64) uint64 {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return math.MaxUint64
	}
	return s
}

// collect counts the spikes of e.blk and keeps the recorded ones.
func (e *Engine) collect(keep bool) {
	net, b := e.net, &e.blk
	j := 0
	for s, c := range b.Counts {
		step := b.FirstStep + uint64(s)
		for _, id := range b.IDs[j : j+int(c)] {
			p := net.PopOf(id)
			e.totals[p]++
			e.digest = (e.digest ^ step<<32 ^ uint64(id)) * digestPrime
			if keep && net.Pops[p].Recorded {
				e.pending.addSpike(step, id)
			}
		}
		j += int(c)
	}
	if !keep {
		return
	}
	for i, pr := range net.Probes {
		n := backend.SampledSteps(b.FirstStep, len(b.Counts), pr.Every)
		if n == 0 {
			continue
		}
		first := (b.FirstStep + uint64(pr.Every) - 1) / uint64(pr.Every) * uint64(pr.Every)
		e.pending.addRows(i, first, n, b.Samples[i])
	}
}

// Read returns what was recorded since the last read and forgets it: at
// most the largest RunOptions.MaxReplyBytes of the runs since, as encoded
// (or one step's data, see RunOptions).
func (e *Engine) Read() (*myelinpb.Data, error) {
	d, err := e.take()
	if err != nil {
		return nil, err
	}
	return d.decode()
}

// take is Read that returns the data as they are held, encoded, and keeps
// no reference to them.
func (e *Engine) take() (*encodedData, error) {
	if !e.Loaded() {
		return nil, errNotLoaded
	}
	d := e.pending
	d.first, d.end = e.readStep, e.step
	e.clearPending()
	return &d, nil
}

// Reset returns to step 0 with the parameters and input values last set.
// Unread data is discarded.
func (e *Engine) Reset() error {
	if !e.Loaded() {
		return errNotLoaded
	}
	e.rebuild = true
	e.replay = false
	e.step = 0
	e.clearPending()
	return nil
}

// Close frees the backend and forgets the network.
func (e *Engine) Close() error {
	var err error
	if e.be != nil {
		err = e.be.Close()
	}
	e.be, e.net, e.current, e.live = nil, nil, nil, nil
	return err
}

// population returns the index of the named population in s.
func population(s *myelinpb.Network, name string) (int, error) {
	for i, p := range s.GetPopulations() {
		if p.GetName() == name {
			return i, nil
		}
	}
	var names []string
	for _, p := range s.GetPopulations() {
		names = append(names, p.GetName())
	}
	return 0, fmt.Errorf("population %q: no such population (have %s)", name, nameList(names))
}

// maxListedNames bounds the names an error lists.
const maxListedNames = 20

// nameList writes names for an error message as "[a b c]", the first
// maxListedNames of them only, so that a network of many populations or
// inputs does not make an error of megabytes.
func nameList(names []string) string {
	if len(names) <= maxListedNames {
		return fmt.Sprintf("%v", names)
	}
	return fmt.Sprintf("%v and %d more", names[:maxListedNames], len(names)-maxListedNames)
}

// setModelFields sets fields of p's model message by name.
func setModelFields(p *myelinpb.Population, values map[string]float64) error {
	m := p.ProtoReflect()
	fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("model"))
	if fd == nil {
		return fmt.Errorf("population %q: no neuron model", p.GetName())
	}
	model := m.Mutable(fd).Message()
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f := model.Descriptor().Fields().ByName(protoreflect.Name(k))
		if f == nil || f.Kind() != protoreflect.DoubleKind {
			var names []string
			fs := model.Descriptor().Fields()
			for i := range fs.Len() {
				if fs.Get(i).Kind() == protoreflect.DoubleKind {
					names = append(names, string(fs.Get(i).Name()))
				}
			}
			return fmt.Errorf("values[%q]: %s has no such numeric parameter (have %v)", k, fd.Name(), names)
		}
		model.Set(f, protoreflect.ValueOfFloat64(values[k]))
	}
	return nil
}

// SetParams changes neuron parameters of a population (fields of its model
// message, engine units).
func (e *Engine) SetParams(pop string, values map[string]float64) error {
	if !e.Loaded() {
		return errNotLoaded
	}
	if len(values) == 0 {
		return errors.New("values: empty")
	}
	pi, err := population(e.current, pop)
	if err != nil {
		return err
	}
	next := proto.Clone(e.current).(*myelinpb.Network)
	if err := setModelFields(next.Populations[pi], values); err != nil {
		return err
	}
	if err := spec.Validate(next); err != nil {
		return err
	}
	if e.step == 0 {
		e.current = next
		e.rebuild = true
		return nil
	}
	// During the run: the backend must take up new coefficients in place.
	if e.be.Name() != "cpu" {
		return fmt.Errorf("population %q: backend %s copies parameters at load; changing them at step %d needs the cpu backend (or reset first)", pop, e.be.Name(), e.step)
	}
	model, err := coefficients(next, pi)
	if err != nil {
		return err
	}
	if model.EL != e.net.Pops[pi].EL {
		return fmt.Errorf("values[\"e_l\"]: population %q keeps V relative to E_L, which can change only at time 0 (reset first)", pop)
	}
	e.current = next
	// A pending replay rebuilds the network and reapplies this change.
	applyModel(&e.net.Pops[pi], model)
	e.history = append(e.history, paramChange{step: e.step, pop: pi, model: model})
	return nil
}

// coefficients builds population pi of s alone (one neuron) to get its
// model coefficients, whatever the model.
func coefficients(s *myelinpb.Network, pi int) (network.Population, error) {
	p := proto.Clone(s.Populations[pi]).(*myelinpb.Population)
	p.Size, p.Initial = 1, nil
	mini := &myelinpb.Network{Name: "coefficients", DtMs: s.DtMs, DurationMs: proto.Float64(0), Seed: s.Seed, Populations: []*myelinpb.Population{p}}
	net, err := network.Build(mini, network.Options{Threads: 1})
	if err != nil {
		return network.Population{}, fmt.Errorf("population %q: %w", p.GetName(), err)
	}
	return net.Pops[0], nil
}

// keptFields are the fields of network.Population that a parameter change
// leaves alone: the population's place, recording flag, fixed-point scale,
// E_L offset and initial values.
var keptFields = map[string]bool{
	"Name": true, "First": true, "Size": true, "Recorded": true,
	"Shift": true, "EL": true, "Init": true, "Synapses": true,
}

// applyModel copies the model coefficients of src into dst, whatever the
// model. Coefficients that dst holds through an interface (a pointer to the
// model's coefficient struct) are overwritten in place, so that a backend
// that kept that pointer at load takes up the change; plain fields are
// assigned. The CPU backend reads coefficients through the network's
// populations at every step, which TestSetParamsDuringRun checks.
func applyModel(dst *network.Population, src network.Population) {
	dv, sv := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src)
	for i := range dv.NumField() {
		if keptFields[dv.Type().Field(i).Name] || !dv.Field(i).CanSet() {
			continue
		}
		d, s := dv.Field(i), sv.Field(i)
		if d.Kind() == reflect.Interface && !d.IsNil() && !s.IsNil() &&
			d.Elem().Kind() == reflect.Pointer && d.Elem().Type() == s.Elem().Type() && !d.Elem().IsNil() && !s.Elem().IsNil() {
			d.Elem().Elem().Set(s.Elem().Elem())
			continue
		}
		d.Set(s)
	}
}

// SetInput changes the rate of a Poisson input or the amplitude of a DC
// input from the current step on. Exactly one of rate and amp is non-nil.
func (e *Engine) SetInput(name string, rate, amp *float64) error {
	if !e.Loaded() {
		return errNotLoaded
	}
	ii := -1
	var same []string
	for i, in := range e.current.GetInputs() {
		if in.GetName() == name {
			ii = i
			same = append(same, fmt.Sprintf("inputs[%d]", i))
		}
	}
	if ii < 0 {
		var names []string
		for _, in := range e.current.GetInputs() {
			names = append(names, in.GetName())
		}
		return fmt.Errorf("input %q: no such input (have %s)", name, nameList(names))
	}
	// A spec may give inputs the same name; a change by that name could
	// reach only one of them.
	if len(same) > 1 {
		return fmt.Errorf("input %q: %s all have this name; give each input its own name to change it", name, strings.Join(same, ", "))
	}
	if (rate == nil) == (amp == nil) {
		return errors.New("rate_hz, amplitude: set exactly one")
	}
	next := proto.Clone(e.current).(*myelinpb.Network)
	if err := setInputValue(next.Inputs[ii], rate, amp); err != nil {
		return fmt.Errorf("input %q: %w", name, err)
	}
	if err := spec.Validate(next); err != nil {
		return err
	}
	if e.step == 0 {
		e.current = next
		e.rebuild = true
		return nil
	}
	live := proto.Clone(e.live).(*myelinpb.Network)
	si := e.segment[name]
	seg := live.Inputs[si]
	t0 := float64(e.step) * e.net.Dt
	start, stop := inputWindow(seg)
	switch {
	case stop != nil && *stop <= t0+e.net.Dt/2:
		// Already over: only a reset will see the new value.
	case start != nil && math.Round(*start/e.net.Dt) >= float64(e.step):
		// The segment has not begun yet: change it in place.
		if err := setInputValue(seg, rate, amp); err != nil {
			return fmt.Errorf("input %q: %w", name, err)
		}
	default:
		ns := proto.Clone(seg).(*myelinpb.Input)
		ns.Name = fmt.Sprintf("%s@%d", name, e.step)
		setWindow(seg, nil, &t0)
		setWindow(ns, &t0, nil)
		if err := setInputValue(ns, rate, amp); err != nil {
			return fmt.Errorf("input %q: %w", name, err)
		}
		live.Inputs = append(live.Inputs, ns)
		e.segment[name] = len(live.Inputs) - 1
	}
	e.current, e.live = next, live
	e.replay = true
	return nil
}

func setInputValue(in *myelinpb.Input, rate, amp *float64) error {
	switch k := in.GetKind().(type) {
	case *myelinpb.Input_Poisson:
		if rate == nil {
			return errors.New("amplitude: applies to dc inputs; this one is poisson (set rate_hz)")
		}
		// A constant rate replaces a rate schedule from here on.
		k.Poisson.RateHz, k.Poisson.Schedule = *rate, nil
	case *myelinpb.Input_Dc:
		if amp == nil {
			return errors.New("rate_hz: applies to poisson inputs; this one is dc (set amplitude)")
		}
		k.Dc.Amplitude = *amp
	default:
		return errors.New("only poisson rates and dc amplitudes can change")
	}
	return nil
}

func inputWindow(in *myelinpb.Input) (start, stop *float64) {
	switch k := in.GetKind().(type) {
	case *myelinpb.Input_Poisson:
		return k.Poisson.StartMs, k.Poisson.StopMs
	case *myelinpb.Input_Dc:
		return k.Dc.StartMs, k.Dc.StopMs
	}
	return nil, nil
}

// setWindow sets the start (when start is non-nil) and the stop (when stop
// is non-nil and earlier than the input's own stop) of in.
func setWindow(in *myelinpb.Input, start, stop *float64) {
	var s, t **float64
	switch k := in.GetKind().(type) {
	case *myelinpb.Input_Poisson:
		s, t = &k.Poisson.StartMs, &k.Poisson.StopMs
	case *myelinpb.Input_Dc:
		s, t = &k.Dc.StartMs, &k.Dc.StopMs
	default:
		return
	}
	if start != nil && (*s == nil || **s < *start) {
		*s = proto.Float64(*start)
	}
	if stop != nil && (*t == nil || **t > *stop) {
		*t = proto.Float64(*stop)
	}
}

// replayTo rebuilds the live spec and runs it silently to the current
// step, reapplying parameter changes at their steps; it fails if the
// replay does not reproduce the spikes counted so far. Interrupted (ctx
// cancelled) after the build, it puts the step and spike counts back and
// leaves the replay pending, to be redone from the start by the next run.
func (e *Engine) replayTo(ctx context.Context) error {
	target := e.step
	want, wantDigest := slices.Clone(e.totals), e.digest
	net, be, err := e.open(ctx, e.live)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	e.net, e.be = net, be
	e.step = 0
	clear(e.totals)
	e.digest = digestSeed
	h := e.history
	for k := 0; ; {
		for k < len(h) && h[k].step <= e.step {
			applyModel(&e.net.Pops[h[k].pop], h[k].model)
			k++
		}
		if e.step >= target {
			break
		}
		end := target
		if k < len(h) {
			end = min(target, h[k].step)
		}
		if err := e.advance(ctx, end-e.step, false, 0); err != nil {
			if errors.Is(err, ErrInterrupted) {
				e.step, e.totals, e.digest = target, want, wantDigest
				return fmt.Errorf("%w while replaying the network to step %d; the next run replays it again", ErrInterrupted, target)
			}
			return fmt.Errorf("replay: %w", err)
		}
	}
	if !slices.Equal(want, e.totals) || wantDigest != e.digest {
		return fmt.Errorf("replay to step %d gave other spikes than the run (%v per population, the run had %v)", target, e.totals, want)
	}
	e.replay = false
	return nil
}
