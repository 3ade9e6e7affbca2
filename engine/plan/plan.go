// Package plan estimates, from a spec alone and before anything is
// allocated, the memory a network needs on each backend (DESIGN decision
// 7): synapses, delay ring buffers, neuron state, inputs and recording
// buffers (spike ids and sampled state), and the transient peak of
// construction; and the size of the output stream. Counts are exact for
// fixed-degree, one-to-one, all-to-all and explicit rules and expected
// values for pairwise Bernoulli.
package plan

import (
	"fmt"
	"io"
	"math"
	"math/bits"
	"strings"
	"text/tabwriter"

	"github.com/myelin-sim/myelin/engine/neuron"
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// Part is one item of a plan, in bytes.
type Part struct {
	Name string
	CPU  uint64
	GPU  uint64
	Note string
}

// Plan is the memory a network needs.
type Plan struct {
	Neurons    uint64
	Synapses   uint64 // stored; expected for Bernoulli rules
	RingSlots  uint64
	Parts      []Part
	BuildPeak  uint64 // transient host memory of construction, beyond the parts
	BlockSteps uint64
	// SampleValues is the number of state values one recording block
	// holds (every probe's neurons times its samples per block).
	SampleValues uint64
	// Stream is the size of the output stream.
	Stream Stream
	// Procedural is the number of synapses of procedural projections:
	// regenerated when their neurons spike, they take no memory.
	Procedural uint64
}

// Stream estimates the size of a run's output stream: header, state
// samples and steps exactly (up to framing), spikes by the rate they fire
// at, which only a run tells.
type Stream struct {
	Header          uint64 // the header with the spec
	Samples         uint64 // every sampled value of the run, 4 B each
	Steps           uint64 // one spike count per step, 1 B each while below 128
	RecordedNeurons uint64 // neurons whose spikes are recorded
	Seconds         float64
}

// STDPHistoryBytes is the CPU backend's history of pending postsynaptic
// spikes, per postsynaptic neuron and STDP set: 32 steps of 4 B and a
// count (engine/cpu, histCap).
const STDPHistoryBytes = 32*4 + 1

// DeliveryBucketMinRing, DeliveryBucketBytes, DeliveryBucketChunkEvents
// and DeliveryBucketMinChunkEvents are the CPU backend's delivery buckets
// (engine/cpu, bucketMinRing, bucketBudget, bucketChunk and
// bucketMinChunk): with ring buffers of at least DeliveryBucketMinRing
// bytes, each thread holds the events of rows with varying delays by ring
// slot in buckets of at most DeliveryBucketBytes in all (2^20 events of
// 8 B), plus a partly filled chunk per bucket (a bucket per ring slot,
// twice as many with a slow port): the budget's share of a bucket, from
// DeliveryBucketMinChunkEvents to DeliveryBucketChunkEvents events.
const (
	DeliveryBucketMinRing        = 4 << 20
	DeliveryBucketBytes          = 8 << 20
	DeliveryBucketChunkEvents    = 4096
	DeliveryBucketMinChunkEvents = 256
)

// ProceduralRowBudget is the CPU backend's procRowBudget (engine/cpu): the
// most targets of procedural rows that one thread generates for its spikes
// of a step and shares with the others.
const ProceduralRowBudget = 1 << 20

// ProceduralRowBytes is the size of the CPU backend's record of one shared
// procedural row (engine/cpu, procRow).
const ProceduralRowBytes = 24

// BytesPerSpike is the typical stored size of one spike: ids are
// delta-coded varints, 1.0-1.6 B per spike measured for Brunel's networks
// (12,500 and 100,000 neurons, 10-80 Hz); sparse firing in large
// populations costs up to 5 B.
const BytesPerSpike = 1.5

// Bytes is the expected size of the stream if the recorded neurons fire at
// rateHz on average.
func (s Stream) Bytes(rateHz float64) uint64 {
	spikes := float64(s.RecordedNeurons) * rateHz * s.Seconds
	return s.Header + s.Samples + s.Steps + uint64(math.Min(spikes*BytesPerSpike, math.MaxInt64/2))
}

// sampleCopies is how many blocks' worth of sampled values a CPU run keeps
// in memory at its peak: two blocks in flight, their encoded copies and
// the Go heap's headroom (resident set measured at 12.7 blocks for 10,000
// neurons sampled every step of Brunel 12,500, 8 blocks for 80,000).
const sampleCopies = 13

// CPU is the host memory of a CPU run, construction included.
func (p *Plan) CPU() uint64 {
	var s uint64
	for _, x := range p.Parts {
		s += x.CPU
	}
	return s + p.BuildPeak
}

// GPU is the device memory of a GPU run.
func (p *Plan) GPU() uint64 {
	var s uint64
	for _, x := range p.Parts {
		s += x.GPU
	}
	return s
}

// BytesPerSynapse is the stored size of one spiking synapse on either
// backend: a packed target|delay word and, unless its presynaptic
// population is compact (every projection from it has a constant weight,
// one per target population), a fixed-point weight.
const (
	BytesPerSynapse        = 8
	BytesPerCompactSynapse = 4
)

// stagingRound mirrors the synapses one build thread stages per round
// (network's defaultFill): 16 B each, 24 with a stored weight.
const stagingRound = 1 << 22

// maxCompactPops mirrors network.MaxCompactPops (plan does not import
// network, which it must stay cheaper than).
const maxCompactPops = 1024

// ProceduralScratch is the most device memory that the threads which
// regenerate procedural rows take on an 80 GB card
// (launch.ProceduralScratchFor: a sixteenth of the device, at most 4 GiB;
// smaller cards give less, which fewer threads share), and
// maxDeliverThreads the most threads of a deliver grid that a plan
// assumes (8 blocks of 256 threads per SM on a 132-SM H100).
const (
	ProceduralScratch = 4 << 30
	maxDeliverThreads = 8 * 132 * 256
)

// isConstantDist reports whether d is a constant (or unset).
func isConstantDist(d *myelinpb.Distribution) (float64, bool) {
	if d == nil || d.GetKind() == nil {
		return 0, true
	}
	if c, ok := d.GetKind().(*myelinpb.Distribution_Constant); ok {
		return c.Constant, true
	}
	return 0, false
}

// compactPops reports, per population name, whether its synapses store no
// weight, as network.Build decides: every spiking projection from it has a
// constant weight (not explicit weight values), the same for every
// projection onto one target population, and none has STDP.
func compactPops(n *myelinpb.Network) map[string]bool {
	out := map[string]bool{}
	if len(n.GetPopulations()) > maxCompactPops {
		return out
	}
	for _, p := range n.GetPopulations() {
		out[p.GetName()] = true
	}
	seen := map[[2]string]float64{}
	for _, pr := range n.GetProjections() {
		if pr.GetProcedural() {
			continue // stores no weight
		}
		if pr.GetStdp() != nil {
			out[pr.GetPre()] = false // plastic weights are stored per synapse
			continue
		}
		w, ok := constantWeight(pr)
		key := [2]string{pr.GetPre(), pr.GetPost()}
		if prev, dup := seen[key]; !ok || (dup && prev != w) {
			out[pr.GetPre()] = false
			continue
		}
		seen[key] = w
	}
	return out
}

// constantWeight returns a projection's weight, signed by its receptor,
// when every synapse has the same one.
func constantWeight(pr *myelinpb.Projection) (float64, bool) {
	if e := pr.GetExplicit(); e != nil && len(e.GetWeightValues()) > 0 {
		return 0, false
	}
	d := pr.GetWeight()
	w := 0.0
	if d != nil && d.GetKind() != nil {
		c, ok := d.GetKind().(*myelinpb.Distribution_Constant)
		if !ok {
			return 0, false
		}
		w = c.Constant
	}
	switch pr.GetReceptor() {
	case myelinpb.Receptor_EXCITATORY:
		w = math.Abs(w)
	case myelinpb.Receptor_INHIBITORY:
		w = -math.Abs(w)
	}
	return w, true
}

// Estimate computes the plan of a defaulted, validated spec for a build
// with the given number of threads.
func Estimate(n *myelinpb.Network, threads int) *Plan {
	threads = max(threads, 1)
	sizes := map[string]uint64{}
	rate := map[string]bool{}
	p := &Plan{BlockSteps: uint64(max(n.GetRecording().GetBlockSteps(), 1))}
	var rateNeurons uint64
	for _, pop := range n.GetPopulations() {
		sizes[pop.GetName()] = uint64(pop.GetSize())
		p.Neurons += uint64(pop.GetSize())
		if pop.GetRate() != nil {
			rate[pop.GetName()] = true
			rateNeurons += uint64(pop.GetSize())
		}
	}
	dt := n.GetDtMs()
	maxDelay := uint64(1)
	var rateConn, rateDelay uint64
	var buildScratch, weights, passOne, staging uint64
	var procTable, procList uint64 // words of a GPU thread's row scratch (procTable > 0: Floyd's hash set)
	// The CPU's shared procedural rows (engine/cpu, genProcedural): rows a
	// step can generate (a presynaptic neuron per projection), the longest
	// row, and whether any row carries its own delays and weights.
	var procRows, procMaxRow uint64
	procDrawn := false
	compact := compactPops(n)
	plastic := map[[2]string]uint64{} // STDP synapses per pair of populations
	for _, pr := range n.GetProjections() {
		pre, post := sizes[pr.GetPre()], sizes[pr.GetPost()]
		cnt := synapseCount(pr, pre, post)
		if d := delayBound(pr.GetDelay(), dt); d > maxDelay && !rate[pr.GetPre()] {
			maxDelay = d
		}
		if rate[pr.GetPre()] {
			if _, ring := pr.GetRule().(*myelinpb.Projection_Ring); ring {
				rateConn += post // the distance table
			} else {
				rateConn += cnt*8 + post*4
			}
			rateDelay = max(rateDelay, delayBound(pr.GetDelay(), dt))
			continue
		}
		if pr.GetProcedural() {
			// Pass 1 still counts per presynaptic neuron; nothing is stored.
			p.Procedural += cnt
			buildScratch += pre * 12
			passOne = max(passOne, uint64(threads)*pre*4)
			procRows += pre
			procMaxRow = max(procMaxRow, post)
			if fo := pr.GetFixedOutDegree(); fo != nil {
				procMaxRow = max(procMaxRow, uint64(fo.GetOutdegree()))
			}
			_, cw := constantWeight(pr)
			_, cd := isConstantDist(pr.GetDelay())
			procDrawn = procDrawn || !cw || !cd
			if fo := pr.GetFixedOutDegree(); fo != nil && fo.GetOutdegree() > 0 {
				k := uint64(fo.GetOutdegree())
				_, constW := constantWeight(pr)
				_, constD := isConstantDist(pr.GetDelay())
				if pr.AllowMultapses != nil && !pr.GetAllowMultapses() {
					procTable = max(procTable, uint64(1)<<bits.Len64(2*k-1))
					procList = max(procList, k)
				} else if !constW || !constD {
					procList = max(procList, k)
				}
			}
			continue
		}
		p.Synapses += cnt
		if pr.GetStdp() != nil {
			plastic[[2]string{pr.GetPre(), pr.GetPost()}] += cnt
		}
		if !compact[pr.GetPre()] {
			weights += cnt
		}
		// Per projection: synapse counts (4 B) and cursors (8 B) per pre
		// neuron, and one thread's counts at a time for each thread.
		buildScratch += pre * 12
		passOne = max(passOne, uint64(threads)*pre*4)
		stage := min(cnt, stagingRound+stagingRound/4)
		if compact[pr.GetPre()] {
			staging = max(staging, stage*16)
		} else {
			staging = max(staging, stage*24)
		}
	}
	p.RingSlots = maxDelay + 1
	N := p.Neurons
	np := uint64(len(n.GetPopulations()))
	synBytes := p.Synapses*BytesPerCompactSynapse + weights*4 + (N+1)*8 + np*8
	// The host's table of shared delay fields per population (and per
	// pair, as the weights), which the CPU backend's delivery reads.
	delayTables := np * 4
	if np <= maxCompactPops {
		synBytes += np * np * 4
		delayTables += np * np * 4
	}
	// Models with a fourth state variable (aeif_cond_exp's w) add an
	// array of 4 B per neuron on both backends.
	var fourth uint64
	stateNote := "V, two synaptic variables, refractory count (+ initial values)"
	for _, pop := range n.GetPopulations() {
		if m, _, ok := neuron.Of(pop); ok && len(m.State) > 3 {
			fourth, stateNote = N*4, "V, three more state variables, refractory count (+ initial values)"
		}
	}
	p.Parts = append(p.Parts,
		Part{Name: "synapses", CPU: synBytes + delayTables, GPU: synBytes,
			Note: synapseNote(p.Synapses, weights, p.Procedural)},
		Part{Name: "delay ring buffers", CPU: 2 * p.RingSlots * N * 4, GPU: 2 * p.RingSlots * N * 4,
			Note: fmt.Sprintf("2 channels × %d slots × %d neurons × 4 B", p.RingSlots, N)},
		Part{Name: "neuron state", CPU: N*20 + fourth, GPU: N*16 + fourth, Note: stateNote},
		Part{Name: "row splits", CPU: N * uint64(threads+1) * 4, Note: "cpu: where each row crosses into the next thread's targets"},
	)
	planes, keys := uint64(2), p.RingSlots
	if slowRing(n) {
		planes, keys = 3, 2*p.RingSlots // the slow port's plane and buckets
	}
	if ring := planes * p.RingSlots * N * 4; ring >= DeliveryBucketMinRing && variesDelays(n) {
		chunk := min(DeliveryBucketChunkEvents, max(DeliveryBucketMinChunkEvents, (DeliveryBucketBytes/8)/max(1, keys)))
		per := DeliveryBucketBytes + keys*chunk*8
		p.Parts = append(p.Parts, Part{Name: "delivery buckets", CPU: uint64(threads) * per,
			Note: fmt.Sprintf("cpu: %d threads × %s at most, for rows with varying delays", threads, Bytes(per))})
	}
	if part, ok := slowPort(n, p.RingSlots, N, fourth > 0); ok {
		p.Parts = append(p.Parts, part)
	}
	if entries, sets := stpEntries(n, sizes); entries > 0 {
		p.Parts = append(p.Parts, Part{Name: "short-term plasticity", CPU: entries * 20, GPU: entries * 20,
			Note: fmt.Sprintf("%d parameter sets, %d presynaptic neurons × (u, x, factor: 4 B each; last spike: 8 B)", sets, entries)})
	}
	if len(plastic) > 0 {
		var syn, index, cpuOnly uint64
		for k, c := range plastic {
			syn += c
			// By-post index (weight index and presynaptic neuron, 4 B each,
			// per synapse; a pointer per post neuron); trace records (8 B)
			// per pre and post neuron.
			index += c*8 + (sizes[k[1]]+1)*8 + (sizes[k[0]]+sizes[k[1]])*8
			// CPU: pending post spikes per post neuron, the record before
			// the last spike per pre neuron and step parity.
			cpuOnly += sizes[k[1]]*STDPHistoryBytes + sizes[k[0]]*16
		}
		p.Parts = append(p.Parts, Part{Name: "STDP", CPU: index + cpuOnly + weights*4, GPU: index,
			Note: fmt.Sprintf("%d plastic synapses in %d sets: by-post index 8 B a synapse, traces 8 B a neuron; cpu: its own copy of the %d stored weights and pending spikes", syn, len(plastic), weights)})
	}
	if rateNeurons > 0 {
		slots := rateDelay + 1
		p.Parts = append(p.Parts, Part{Name: "rate history and projections", CPU: slots*N*4 + rateConn, GPU: slots*N*4 + rateConn,
			Note: fmt.Sprintf("%d slots of rates + tables", slots)})
	}
	var poisson uint64
	for _, in := range n.GetInputs() {
		if ps := in.GetPoisson(); ps != nil {
			c := uint64(ps.GetCount())
			if c == 0 {
				c = sizes[in.GetTarget()] - uint64(ps.GetFirst())
			}
			lambda := math.Min(ps.GetRateHz()*dt/1000, 1e12)
			poisson += c*16 + uint64(4*(25*math.Sqrt(lambda)+25)) + 512
		}
	}
	if p.Procedural > 0 && threads > 1 {
		// Each thread generates the rows of its own spikes once a step
		// for all (engine/cpu, genProcedural), two steps' worth kept: at
		// most its budget and one spike's rows, and a step generates
		// each synapse and each (neuron, projection) row at most once.
		targets := min(p.Procedural, uint64(threads)*(ProceduralRowBudget+procMaxRow*uint64(len(n.GetProjections()))))
		per := uint64(4)
		if procDrawn {
			per = 12 // target, delay field, weight
		}
		b := 2 * (targets*per + procRows*ProceduralRowBytes)
		p.Parts = append(p.Parts, Part{Name: "procedural rows", CPU: b,
			Note: fmt.Sprintf("cpu: rows generated once a step, shared by the threads: 2 steps × %d targets × %d B + %d rows at most", targets, per, procRows)})
	}
	if slot := 4 * (procTable + procList); slot > 0 {
		// The GPU threads that regenerate procedural rows: one slot each
		// (kernels/launch: Config.ProceduralScratch bounds them, at least
		// one thread; at most one per thread of a deliver grid).
		gpu := max(slot, min(ProceduralScratch, slot*maxDeliverThreads))
		p.Parts = append(p.Parts, Part{Name: "procedural row scratch", GPU: gpu,
			Note: fmt.Sprintf("gpu: %s per generating thread (Floyd's hash set and the row's targets), at most %s in all", Bytes(slot), Bytes(ProceduralScratch))})
	}
	if poisson > 0 {
		p.Parts = append(p.Parts, Part{Name: "Poisson inputs", CPU: poisson, GPU: poisson, Note: "draw cache and CDF tables"})
	}
	// Recording: the CPU driver keeps two blocks of spike ids, a GPU one
	// device block; a neuron fires at most once per refractory period plus
	// one step, which bounds a block.
	var worst uint64
	for _, pop := range n.GetPopulations() {
		worst += uint64(pop.GetSize()) * maxSpikes(pop, dt, p.BlockSteps) * 4
	}
	p.Parts = append(p.Parts, Part{Name: "recording blocks", CPU: 2 * worst, GPU: worst,
		Note: fmt.Sprintf("at most: every neuron fires once per refractory period, blocks of %d steps", p.BlockSteps)})
	steps := uint64(0)
	if dt > 0 && n.GetDurationMs() > 0 {
		steps = uint64(math.Round(n.GetDurationMs() / dt))
	}
	var runValues uint64
	for _, pr := range n.GetRecording().GetState() {
		every := uint64(max(pr.GetEvery(), 1))
		c := uint64(pr.GetCount())
		p.SampleValues += c * ((p.BlockSteps + every - 1) / every)
		runValues += c * ((steps + every - 1) / every)
	}
	if p.SampleValues > 0 {
		block := p.SampleValues * 4
		p.Parts = append(p.Parts, Part{Name: "state samples", CPU: sampleCopies * block, GPU: 2 * block,
			Note: fmt.Sprintf("%d values × 4 B a block; cpu: %d blocks' worth at the peak, gpu: 2 record sets", p.SampleValues, sampleCopies)})
	}
	p.Stream = Stream{Header: uint64(proto.Size(n)) + 256, Samples: runValues * 4, Steps: steps, Seconds: float64(steps) * dt / 1000}
	recorded := map[string]bool{}
	for _, name := range n.GetRecording().GetSpikes() {
		recorded[name] = true
	}
	for _, pop := range n.GetPopulations() {
		if pop.GetRate() == nil && (len(recorded) == 0 || recorded[pop.GetName()]) {
			p.Stream.RecordedNeurons += uint64(pop.GetSize())
		}
	}
	// Plus each thread's staging of pass 2 and the input bounds (8 B per
	// neuron).
	p.BuildPeak = buildScratch + passOne + uint64(threads)*staging + N*8
	return p
}

// slowRing reports whether a projection of n targets the slow excitatory
// port, which gives the ring buffers a third plane.
func slowRing(n *myelinpb.Network) bool {
	for _, pr := range n.GetProjections() {
		if pr.GetReceptor() == myelinpb.Receptor_SLOW_EXCITATORY {
			return true
		}
	}
	return false
}

// slowPort is the memory of the slow excitatory port (receptor
// SLOW_EXCITATORY), paid only by a network that uses it: a third plane of
// ring slots where a projection reaches the port (Poisson inputs are added
// at the neuron), the port's current or conductance (State.C, unless a
// model's fourth state variable already holds that array) and, on the CPU,
// each thread's int64 sums and float32 inputs of the port (12 B per
// neuron).
func slowPort(n *myelinpb.Network, slots, neurons uint64, haveC bool) (Part, bool) {
	ring, inputs := slowRing(n), false
	for _, in := range n.GetInputs() {
		if in.GetPoisson().GetReceptor() == myelinpb.Receptor_SLOW_EXCITATORY {
			inputs = true
		}
	}
	if !ring && !inputs {
		return Part{}, false
	}
	var b uint64
	var note []string
	if ring {
		b = slots * neurons * 4
		note = append(note, fmt.Sprintf("%d slots × %d neurons × 4 B of ring", slots, neurons))
	}
	if !haveC {
		b += neurons * 4
		note = append(note, "its current or conductance: 4 B per neuron")
	}
	note = append(note, "cpu: 12 B per neuron of input scratch")
	return Part{Name: "slow synaptic port", CPU: b + neurons*12, GPU: b, Note: strings.Join(note, "; ")}, true
}

// stpEntries counts the short-term plasticity state as network.Build lays
// it out: one entry per neuron of the presynaptic population of each
// distinct (population, parameters) set.
func stpEntries(n *myelinpb.Network, sizes map[string]uint64) (entries, sets uint64) {
	seen := map[string]bool{}
	for _, pr := range n.GetProjections() {
		st := pr.GetStp()
		if st == nil {
			continue
		}
		key := fmt.Sprintf("%s|%v|%v|%v", pr.GetPre(), st.GetU(), st.GetTauRecMs(), st.GetTauFacMs())
		if !seen[key] {
			seen[key] = true
			entries += sizes[pr.GetPre()]
			sets++
		}
	}
	return entries, sets
}

// maxSpikes bounds the spikes of one neuron of pop in a block of steps.
func maxSpikes(pop *myelinpb.Population, dt float64, steps uint64) uint64 {
	m, params, ok := neuron.Of(pop)
	if !ok || params == nil || m.Kind != neuron.Spiking {
		return 0
	}
	tref := m.RefractoryMs(params)
	period := uint64(max(0, math.Round(tref/dt))) + 1
	return (steps + period - 1) / period
}

// synapseCount is the number of synapses of a projection (expected for
// pairwise Bernoulli).
func synapseCount(pr *myelinpb.Projection, pre, post uint64) uint64 {
	switch r := pr.GetRule().(type) {
	case *myelinpb.Projection_FixedInDegree:
		return uint64(r.FixedInDegree.GetIndegree()) * post
	case *myelinpb.Projection_FixedOutDegree:
		return uint64(r.FixedOutDegree.GetOutdegree()) * pre
	case *myelinpb.Projection_PairwiseBernoulli:
		return uint64(math.Ceil(r.PairwiseBernoulli.GetP() * float64(pre) * float64(post)))
	case *myelinpb.Projection_OneToOne:
		return post
	case *myelinpb.Projection_AllToAll, *myelinpb.Projection_Ring:
		return pre * post
	case *myelinpb.Projection_Explicit:
		return uint64(len(r.Explicit.GetPreIndex()))
	}
	return 0
}

// delayBound bounds a delay distribution in steps (normal: mean + 5 std
// unless clipped; lognormal: exp(mu + 5 sigma)), at most the longest delay a
// build accepts.
func delayBound(d *myelinpb.Distribution, dt float64) uint64 {
	var ms float64
	switch k := d.GetKind().(type) {
	case *myelinpb.Distribution_Constant:
		ms = k.Constant
	case *myelinpb.Distribution_Uniform:
		ms = k.Uniform.GetHigh()
	case *myelinpb.Distribution_Normal:
		ms = k.Normal.GetMean() + 5*k.Normal.GetStd()
		if k.Normal.Max != nil {
			ms = k.Normal.GetMax()
		}
	case *myelinpb.Distribution_Lognormal:
		ms = math.Exp(k.Lognormal.GetMu() + 5*k.Lognormal.GetSigma())
	default:
		ms = dt
	}
	steps := math.Round(ms / dt)
	if !(steps <= spec.MaxDelaySteps) { // a build refuses longer delays (or NaN)
		return spec.MaxDelaySteps
	}
	return uint64(max(1, steps))
}

// Bytes formats a byte count with a binary unit.
func Bytes(b uint64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	div, exp := uint64(unit), 0
	for n := b / unit; n >= unit; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(b)/float64(div), "KMGTPE"[exp])
}

// Write prints the plan as a table.
func (p *Plan) Write(w io.Writer) error {
	if p.Procedural > 0 {
		fmt.Fprintf(w, "%d neurons, %d synapses (%d stored, %d procedural: 0 B per synapse), %d delay slots\n", p.Neurons, p.Synapses+p.Procedural, p.Synapses, p.Procedural, p.RingSlots)
	} else {
		fmt.Fprintf(w, "%d neurons, %d synapses, %d delay slots\n", p.Neurons, p.Synapses, p.RingSlots)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "part\tcpu\tgpu\t")
	for _, x := range p.Parts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", x.Name, Bytes(x.CPU), Bytes(x.GPU), x.Note)
	}
	fmt.Fprintf(tw, "construction (transient)\t%s\t-\tcounts and cursors per projection, staging per thread\n", Bytes(p.BuildPeak))
	fmt.Fprintf(tw, "total\t%s\t%s\t\n", Bytes(p.CPU()), Bytes(p.GPU()))
	if err := tw.Flush(); err != nil {
		return err
	}
	st := p.Stream
	fmt.Fprintf(w, "stream: %s of header, samples and step counts, plus about %g B per recorded spike: %s at 10 Hz, %s at 50 Hz (%d recorded neurons, %g s)\n",
		Bytes(st.Header+st.Samples+st.Steps), BytesPerSpike, Bytes(st.Bytes(10)), Bytes(st.Bytes(50)), st.RecordedNeurons, st.Seconds)
	return nil
}

// synapseNote describes the synapses part: stored words and weights, and
// the procedural synapses, which cost nothing.
func synapseNote(stored, weights, procedural uint64) string {
	note := fmt.Sprintf("%d × 4 B + %d weights × 4 B + row pointers", stored, weights)
	if procedural > 0 {
		note += fmt.Sprintf("; %d procedural synapses × 0 B (regenerated when their neurons spike)", procedural)
	}
	return note
}

// variesDelays reports whether some stored spiking projection of n has
// delays that are not all alike (drawn, or an explicit list's own).
func variesDelays(n *myelinpb.Network) bool {
	for _, pr := range n.GetProjections() {
		if pr.GetProcedural() {
			continue
		}
		if e := pr.GetExplicit(); e != nil && len(e.GetDelayMs()) > 0 {
			return true
		}
		if k := pr.GetDelay().GetKind(); k != nil {
			if _, ok := k.(*myelinpb.Distribution_Constant); !ok {
				return true
			}
		}
	}
	return false
}
