package network_test

import (
	"math"
	"slices"
	"testing"

	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"gonum.org/v1/gonum/stat"
)

func build(t *testing.T, b *spec.Builder, threads int) *network.Network {
	t.Helper()
	s, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	n, err := network.Build(s, network.Options{Threads: threads})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// synapse is one stored synapse with global ids.
type synapse struct {
	pre, post, delay uint32
	w                int32
}

func synapses(n *network.Network) []synapse {
	var out []synapse
	for pre := uint32(0); pre < n.N; pre++ {
		for k := n.Syn.RowPtr[pre]; k < n.Syn.RowPtr[pre+1]; k++ {
			p := n.Syn.Packed[k]
			out = append(out, synapse{pre, p >> n.Syn.DelayBits, p & n.Syn.DelayMask(), n.SynapseWeight(pre, k)})
		}
	}
	return out
}

func twoPops(rule spec.Rule, opts ...spec.Option) *spec.Builder {
	b := spec.New("t").Seed(99).
		Population("A", 300, spec.IafPscDelta(nil)).
		Population("B", 200, spec.IafPscDelta(nil))
	return b.Project("A", "B", rule, append([]spec.Option{spec.Weight(spec.Const(0.5))}, opts...)...)
}

func inDegrees(n *network.Network, syn []synapse) map[uint32]int {
	d := map[uint32]int{}
	for _, s := range syn {
		d[s.post]++
	}
	return d
}

func TestFixedInDegree(t *testing.T) {
	n := build(t, twoPops(spec.FixedIn(40), spec.Multapses(false)), 2)
	syn := synapses(n)
	for post := uint32(300); post < 500; post++ {
		if d := inDegrees(n, syn)[post]; d != 40 {
			t.Fatalf("neuron %d has in-degree %d, want 40", post, d)
		}
	}
	seen := map[[2]uint32]bool{}
	for _, s := range syn {
		if seen[[2]uint32{s.pre, s.post}] {
			t.Fatalf("multapse %d->%d with multapses off", s.pre, s.post)
		}
		seen[[2]uint32{s.pre, s.post}] = true
		if s.pre >= 300 {
			t.Fatalf("source %d outside A", s.pre)
		}
	}
	// Sources are spread uniformly: each of 300 neurons is chosen ~26.7 times.
	out := map[uint32]int{}
	for _, s := range syn {
		out[s.pre]++
	}
	mean := float64(len(syn)) / 300
	var ss float64
	for pre := uint32(0); pre < 300; pre++ {
		ss += (float64(out[pre]) - mean) * (float64(out[pre]) - mean)
	}
	if sd := math.Sqrt(ss / 300); sd > 2*math.Sqrt(mean) {
		t.Errorf("out-degree sd %.2f, a uniform choice gives about %.2f", sd, math.Sqrt(mean))
	}
}

func TestFixedOutDegreeAndRowsSorted(t *testing.T) {
	n := build(t, twoPops(spec.FixedOut(25), spec.Multapses(false)), 3)
	syn := synapses(n)
	for pre := uint32(0); pre < 300; pre++ {
		if c := n.Syn.RowPtr[pre+1] - n.Syn.RowPtr[pre]; c != 25 {
			t.Fatalf("neuron %d has out-degree %d, want 25", pre, c)
		}
		if row := n.Syn.Packed[n.Syn.RowPtr[pre]:n.Syn.RowPtr[pre+1]]; !slices.IsSorted(row) {
			t.Fatalf("row %d not sorted by target", pre)
		}
	}
	if len(syn) != 300*25 {
		t.Errorf("%d synapses, want %d", len(syn), 300*25)
	}
}

func TestPairwiseBernoulliCount(t *testing.T) {
	const p = 0.1
	n := build(t, twoPops(spec.Bernoulli(p)), 2)
	got := float64(n.SynapseCount())
	mean := p * 300 * 200
	sd := math.Sqrt(300 * 200 * p * (1 - p))
	if math.Abs(got-mean) > 4*sd {
		t.Errorf("%v synapses, want %v ± %.0f", got, mean, 4*sd)
	}
}

// Bernoulli by source draws each presynaptic neuron's row: out-degrees
// are binomial(nPost, p) and in-degrees binomial(nPre, p) (means and
// variances checked, with populations of different sizes), no pair twice,
// no autapse when they are excluded, and the same network for any thread
// count.
func TestBernoulliBySource(t *testing.T) {
	const p, na, nb = 0.1, 300, 500
	b := spec.New("t").Seed(8).Population("A", na, spec.IafPscDelta(nil)).Population("B", nb, spec.IafPscDelta(nil)).
		Project("A", "B", spec.BernoulliBySource(p), spec.Weight(spec.Const(0.5))).
		Project("B", "B", spec.BernoulliBySource(p), spec.Weight(spec.Const(0.25)), spec.Autapses(false))
	net := build(t, b, 1)
	ref := synapses(net)
	out, in := make([]float64, na), make([]float64, nb)
	seen := map[[2]uint32]bool{}
	self := 0
	for _, s := range ref {
		k := [2]uint32{s.pre, s.post}
		if seen[k] {
			t.Fatalf("pair %d → %d twice", s.pre, s.post)
		}
		seen[k] = true
		if s.pre >= na { // B → B
			if s.pre == s.post {
				self++
			}
			continue
		}
		out[s.pre]++
		in[s.post-na]++
	}
	if self != 0 {
		t.Errorf("%d autapses in B → B", self)
	}
	for _, c := range []struct {
		name    string
		deg     []float64
		victims float64
	}{{"out", out, nb}, {"in", in, na}} {
		mean, sd := stat.MeanStdDev(c.deg, nil)
		wantMean, wantVar := c.victims*p, c.victims*p*(1-p)
		if math.Abs(mean-wantMean) > 5*math.Sqrt(wantVar/float64(len(c.deg))) {
			t.Errorf("A → B %s-degree mean %.2f, want %.2f", c.name, mean, wantMean)
		}
		if v := sd * sd; math.Abs(v-wantVar)/wantVar > 0.25 {
			t.Errorf("A → B %s-degree variance %.2f, want %.2f ± 25 %%", c.name, v, wantVar)
		}
	}
	for _, th := range []int{2, 7} {
		if got := synapses(build(t, b, th)); !slices.Equal(got, ref) {
			t.Errorf("%d threads: %d synapses differ from the 1-thread build's %d", th, len(got), len(ref))
		}
	}
}

func TestOneToOneAllToAllAutapses(t *testing.T) {
	b := spec.New("t").Population("A", 50, spec.IafPscDelta(nil)).
		Project("A", "A", spec.OneToOne(), spec.Weight(spec.Const(1))).
		Project("A", "A", spec.AllToAll(), spec.Weight(spec.Const(-2)), spec.Autapses(false))
	n := build(t, b, 2)
	self, total := 0, 0
	for _, s := range synapses(n) {
		total++
		if s.pre == s.post {
			self++
			if s.w <= 0 {
				t.Errorf("self-synapse %d has weight %d, want the one-to-one +1", s.pre, s.w)
			}
		}
	}
	if self != 50 || total != 50+50*49 {
		t.Errorf("%d self-synapses and %d in all, want 50 and %d", self, total, 50+50*49)
	}
}

func TestExplicitListDelaysAndWeights(t *testing.T) {
	list := &myelinpb.ExplicitList{PreIndex: []uint32{0, 2, 2}, PostIndex: []uint32{1, 0, 0}, WeightValues: []float64{1, -1, 0.25}, DelayMs: []float64{0.04, 0.26, 2.0}}
	b := spec.New("t").Population("A", 3, spec.IafPscExp(nil)).Project("A", "A", spec.Explicit(list))
	n := build(t, b, 1)
	syn := synapses(n)
	want := []synapse{{0, 1, 1, 0}, {2, 0, 3, 0}, {2, 0, 20, 0}} // delays rounded, at least one step
	if len(syn) != 3 {
		t.Fatalf("%d synapses, want 3", len(syn))
	}
	scale := math.Ldexp(1, int(n.Pops[0].Shift))
	wantW := map[uint32]float64{1: 1, 3: -1, 20: 0.25}
	for i, s := range syn {
		if s.pre != want[i].pre || s.post != want[i].post || s.delay != want[i].delay {
			t.Errorf("synapse %d = %+v, want pre %d post %d delay %d", i, s, want[i].pre, want[i].post, want[i].delay)
		}
		if got := float64(s.w) / scale; got != wantW[s.delay] {
			t.Errorf("synapse %d weight %v, want %v", i, got, wantW[s.delay])
		}
	}
	if n.RingSlots != 21 {
		t.Errorf("%d ring slots, want 21", n.RingSlots)
	}
}

// Normal weights have the asked moments; uniform delays cover their range.
func TestDistributions(t *testing.T) {
	b := twoPops(spec.FixedIn(100), spec.Weight(spec.NormalDist(2, 0.5)), spec.Delay(spec.UniformDist(0.5, 2.0)))
	n := build(t, b, 2)
	scale := math.Ldexp(1, int(n.Pops[1].Shift))
	var sum, sum2 float64
	minD, maxD := uint32(1<<30), uint32(0)
	syn := synapses(n)
	for _, s := range syn {
		w := float64(s.w) / scale
		sum += w
		sum2 += w * w
		minD, maxD = min(minD, s.delay), max(maxD, s.delay)
	}
	m := sum / float64(len(syn))
	sd := math.Sqrt(sum2/float64(len(syn)) - m*m)
	if math.Abs(m-2) > 0.02 || math.Abs(sd-0.5) > 0.02 {
		t.Errorf("weights mean %.3f sd %.3f, want 2 and 0.5", m, sd)
	}
	if minD != 5 || maxD != 20 {
		t.Errorf("delays in [%d, %d] steps, want [5, 20]", minD, maxD)
	}
}

// The built arrays do not depend on the number of build threads.
func TestBuildIndependentOfThreads(t *testing.T) {
	b := spec.New("t").Seed(5).
		Population("E", 800, spec.IafPscExp(nil), spec.Initial(spec.UniformDist(-70, -55))).
		Population("I", 200, spec.IafPscExp(nil)).
		Project("E", "E", spec.FixedIn(50), spec.Weight(spec.NormalDist(20, 5)), spec.Delay(spec.NormalDist(1.5, 0.5))).
		Project("E", "I", spec.Bernoulli(0.05), spec.Weight(spec.Const(20))).
		Project("I", "E", spec.FixedOut(40), spec.Weight(spec.Const(-80))).
		Project("E", "E", spec.FixedIn(3), spec.Weight(spec.Const(7))). // a second E->E: rows need a merge
		Poisson("E", 1000, 10)
	ref := build(t, b, 1)
	for _, th := range []int{2, 3, 7, 8} {
		n := build(t, b, th)
		if !slices.Equal(n.Syn.RowPtr, ref.Syn.RowPtr) || !slices.Equal(n.Syn.Packed, ref.Syn.Packed) || !slices.Equal(n.Syn.Weight, ref.Syn.Weight) ||
			!slices.Equal(n.Syn.WeightBase, ref.Syn.WeightBase) || !slices.Equal(n.Syn.PopWeight, ref.Syn.PopWeight) {
			t.Errorf("%d threads: synapses differ from the 1-thread build", th)
		}
		if !slices.Equal(n.Pops[0].Init, ref.Pops[0].Init) || n.Pops[0].Shift != ref.Pops[0].Shift {
			t.Errorf("%d threads: initial values or scale differ", th)
		}
	}
	for pre := uint32(0); pre < ref.N; pre++ {
		if !slices.IsSorted(ref.Syn.Packed[ref.Syn.RowPtr[pre]:ref.Syn.RowPtr[pre+1]]) {
			t.Fatalf("row %d is not sorted by target", pre)
		}
	}
}

// The fixed-point scale leaves room for the largest one-step input.
func TestScaleBoundsInput(t *testing.T) {
	n := build(t, twoPops(spec.FixedIn(300), spec.Weight(spec.Const(1000))), 1)
	var worst int64
	for post := uint32(300); post < 500; post++ {
		var s int64
		for _, x := range synapses(n) {
			if x.post == post {
				s += int64(math.Abs(float64(x.w)))
			}
		}
		worst = max(worst, s)
	}
	if worst > math.MaxInt32 || worst < math.MaxInt32/4 {
		t.Errorf("largest one-step input %d: want it to fit int32 and use at least a quarter of its range", worst)
	}
}

func TestPoissonTableIsACDF(t *testing.T) {
	b := spec.New("t").Population("A", 10, spec.IafPscDelta(nil)).Poisson("A", 20000, 0.1).Poisson("A", 5e6, 0.1)
	n := build(t, b, 1)
	for _, p := range n.Poisson {
		thr := n.PoissonTable[p.TableOff : p.TableOff+p.TableLen]
		if !slices.IsSorted(thr) || thr[len(thr)-1] != math.MaxUint32 {
			t.Errorf("table of input %d not a CDF ending at 2^32-1", p.Purpose)
		}
		// Mean of the tabulated distribution is λ.
		lambda := 20000 * 0.1 / 1000
		if p.Base > 0 {
			lambda = 5e6 * 0.1 / 1000
		}
		var mean, prev float64
		for k, v := range thr {
			mean += float64(p.Base+uint32(k)) * (float64(v) - prev) / (1 << 32)
			prev = float64(v)
		}
		if math.Abs(mean-lambda)/lambda > 1e-3 {
			t.Errorf("table mean %.4f, want λ = %g", mean, lambda)
		}
	}
}

// The scale leaves room for the largest one-step input where the weights
// are drawn in pass 2 (deferred) and bound the input there.
func TestScaleBoundsDeferredInput(t *testing.T) {
	n := build(t, twoPops(spec.FixedIn(300), spec.Weight(spec.NormalDist(1000, 300))), 2)
	sums := map[uint32]int64{}
	for _, x := range synapses(n) {
		sums[x.post] += int64(math.Abs(float64(x.w)))
	}
	var worst int64
	for _, s := range sums {
		worst = max(worst, s)
	}
	if len(sums) != 200 || worst > math.MaxInt32 || worst < math.MaxInt32/4 {
		t.Errorf("%d targets, largest one-step input %d: want 200, fitting int32 and using at least a quarter of its range", len(sums), worst)
	}
}
