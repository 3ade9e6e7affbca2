package network

import (
	"context"
	"slices"
	"testing"

	"github.com/myelin-sim/myelin/engine/rng"
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// Pass 2 gives the same arrays whatever its round and bucket sizes and
// thread count: tiny rounds and buckets (hundreds of each) against the
// defaults (one round, few buckets), for every rule, stored and compact
// weights, rows fed by several projections and multapses.
func TestFillIndependentOfRoundsAndBuckets(t *testing.T) {
	s, err := spec.New("fill").Seed(77).
		Population("E", 900, spec.IafPscExp(nil)).
		Population("I", 250, spec.IafPscExp(nil)).
		Population("P", 60, spec.IafPscDelta(nil)).
		Project("E", "E", spec.FixedIn(40), spec.Weight(spec.NormalDist(20, 5)), spec.Delay(spec.NormalDist(1.5, 0.5))).
		Project("E", "I", spec.Bernoulli(0.05), spec.Weight(spec.Const(20))).
		Project("E", "E", spec.FixedIn(6), spec.Weight(spec.Const(7)), spec.Multapses(true)).
		Project("I", "E", spec.FixedOut(40), spec.Weight(spec.Const(-80)), spec.Delay(spec.UniformDist(0.1, 3))).
		Project("I", "I", spec.AllToAll(), spec.Weight(spec.Const(-80))).
		Project("P", "E", spec.FixedIn(2), spec.Weight(spec.Const(5))).
		Project("P", "P", spec.OneToOne(), spec.Weight(spec.Const(1))).
		Project("P", "I", spec.Explicit(&myelinpb.ExplicitList{PreIndex: []uint32{0, 5, 5, 59}, PostIndex: []uint32{3, 1, 1, 200}}), spec.Weight(spec.Const(2))).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := buildWith(context.Background(), s, Options{Threads: 1}, defaultFill(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if ref.Syn.WeightBase[0] == Compact || ref.Syn.WeightBase[1] != Compact || ref.Syn.WeightBase[2] != Compact {
		t.Fatalf("weight bases %v: want E stored, I and P compact", ref.Syn.WeightBase)
	}
	for _, th := range []int{1, 2, 5} {
		for _, f := range []fillSizes{{round: 1, bucket: 1}, {round: 64, bucket: 16}, {round: 1000, bucket: 300}} {
			n, err := buildWith(context.Background(), s, Options{Threads: th}, f, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(n.Syn.RowPtr, ref.Syn.RowPtr) || !slices.Equal(n.Syn.Packed, ref.Syn.Packed) ||
				!slices.Equal(n.Syn.Weight, ref.Syn.Weight) || n.RingSlots != ref.RingSlots {
				t.Errorf("%d threads, rounds of %d, buckets of %d: arrays differ from the default build", th, f.round, f.bucket)
			}
			for i := range n.Pops {
				if n.Pops[i].Synapses != ref.Pops[i].Synapses {
					t.Errorf("%d threads, %+v: population %d has %d synapses, want %d", th, f, i, n.Pops[i].Synapses, ref.Pops[i].Synapses)
				}
			}
		}
	}
}

// sortDraws sorts like slices.Sort for short and long lists and for value
// ranges that take one, two and three radix passes.
func TestSortDraws(t *testing.T) {
	wk := &worker{}
	x := uint32(12345)
	for _, n := range []uint32{1, 2, 300, 2048, 20683, 800000, 1 << 22, 1<<31 + 7} {
		for _, k := range []int{0, 5, 255, 256, 1000, 3000} {
			v := make([]uint32, k)
			for i := range v {
				x = x*1664525 + 1013904223
				v[i] = uint32(uint64(x) * uint64(n) >> 32)
			}
			want := slices.Clone(v)
			slices.Sort(want)
			wk.sortDraws(v, n)
			if !slices.Equal(v, want) {
				t.Fatalf("n = %d, k = %d: sortDraws differs from slices.Sort", n, k)
			}
		}
	}
}

// insertionSort gives the full sort's order, (word, uint32(weight)), or
// stops within its budget, leaving words and weights paired.
func TestInsertionSort(t *testing.T) {
	x := uint32(7)
	next := func(n uint32) uint32 { x = x*1664525 + 1013904223; return uint32(uint64(x) * uint64(n) >> 32) }
	for trial := range 300 {
		n := int(next(300))
		p := make([]uint32, n)
		wt := make([]int32, n)
		for i := range p {
			p[i] = uint32(i) / 3 // runs of equal words (multapses)
			wt[i] = int32(next(7)) - 3
		}
		swaps := int(next(20))
		far := trial%10 == 0 && n > 100
		if far {
			// Reversed: n²/2 inversions, beyond the budget of 8n moves.
			slices.Reverse(p)
			slices.Reverse(wt)
		}
		for range swaps {
			if n > 1 {
				i := int(next(uint32(n - 1)))
				p[i], p[i+1], wt[i], wt[i+1] = p[i+1], p[i], wt[i+1], wt[i]
			}
		}
		want := make([]uint64, n)
		for i := range p {
			want[i] = uint64(p[i])<<32 | uint64(uint32(wt[i]))
		}
		slices.Sort(want)
		gp, gw := slices.Clone(p), slices.Clone(wt)
		done := insertionSort(gp, gw, 8*n)
		got := make([]uint64, n)
		for i := range gp {
			got[i] = uint64(gp[i])<<32 | uint64(uint32(gw[i]))
		}
		if done && !slices.Equal(got, want) {
			t.Fatalf("trial %d: insertion sort finished with a different order", trial)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d (finished %v): words and weights no longer paired", trial, done)
		}
		if done && far {
			t.Errorf("trial %d: a reversed row of %d entries sorted within the budget", trial, n)
		}
		cp := slices.Clone(p)
		if insertionSort(cp, nil, 8*n) && !slices.IsSorted(cp) {
			t.Fatalf("trial %d: words alone not sorted", trial)
		}
	}
}

// choose returns, for units that are pre neurons (fixed out-degree), the
// same partners in ascending order (pass 2) as in any order (pass 1), for
// dense and sparse bitsets, with and without multapses, autapses excluded
// or not; for units that are post neurons, the same partners in the same
// order in both passes.
func TestChooseOrder(t *testing.T) {
	for _, c := range []struct {
		k, n      uint32
		multapses bool
		samePop   bool
	}{
		{1000, 800000, false, false}, // sparse: the two-level bitset
		{1000, 800000, false, true},
		{1000, 80000, false, false}, // dense
		{250, 200000, false, true},  // sparse, few partners
		{2200, 20683, true, true},   // multapses: radix sort
		{250, 200000, true, false},  // multapses: radix sort, few
		{40, 1 << 30, true, false},  // multapses: comparison sort
		{3, 5, false, true},
	} {
		for _, byPre := range []bool{true, false} {
			p := &myelinpb.Projection{
				Rule:           &myelinpb.Projection_FixedInDegree{FixedInDegree: &myelinpb.FixedInDegree{Indegree: c.k}},
				AllowMultapses: proto.Bool(c.multapses),
				AllowAutapses:  proto.Bool(false),
			}
			if byPre {
				p.Rule = &myelinpb.Projection_FixedOutDegree{FixedOutDegree: &myelinpb.FixedOutDegree{Outdegree: c.k}}
			}
			g := newGenerator(0, p, c.n, c.n, c.samePop, 0.1, 9)
			ordered, unordered := g.newWorker(), g.newWorker()
			unordered.unordered = true
			for u := uint32(0); u < 20; u++ {
				ordered.conn.Reset(u)
				unordered.conn.Reset(u)
				a := slices.Clone(g.choose(ordered, c.k, c.n, u))
				b := slices.Clone(g.choose(unordered, c.k, c.n, u))
				if uint32(len(a)) != c.k || (byPre && !slices.IsSorted(a)) {
					t.Fatalf("%+v by pre %v, unit %d: %d partners, sorted %v", c, byPre, u, len(a), slices.IsSorted(a))
				}
				if !byPre && !slices.Equal(a, b) {
					t.Fatalf("%+v by post, unit %d: the two passes' partners differ", c, u)
				}
				a = slices.Clone(a)
				slices.Sort(a)
				slices.Sort(b)
				if !slices.Equal(a, b) {
					t.Fatalf("%+v by pre %v, unit %d: ordered and unordered partner sets differ", c, byPre, u)
				}
				for i, x := range a {
					if x >= c.n || (c.samePop && x == u) || (!c.multapses && i > 0 && a[i-1] == x) {
						t.Fatalf("%+v by pre %v, unit %d: partner %d = %d invalid", c, byPre, u, i, x)
					}
				}
			}
		}
	}
}

// sampler.fill gives the values of as many calls of draw, for every kind,
// including normals clipped so tightly that most draws are rejected.
func TestSamplerFillEqualsDraws(t *testing.T) {
	for _, d := range []*myelinpb.Distribution{
		spec.Const(3), spec.UniformDist(-1, 2), spec.NormalDist(1.5, 0.75),
		{Kind: &myelinpb.Distribution_Normal{Normal: &myelinpb.Normal{Mean: 0, Std: 1, Min: proto.Float64(1.5)}}},
		{Kind: &myelinpb.Distribution_Normal{Normal: &myelinpb.Normal{Mean: 0, Std: 1, Min: proto.Float64(50)}}}, // never: clamped
		spec.LognormalDist(0.5, 0.3, true),
	} {
		s := newSampler(d)
		st := rng.NewStream(3, rng.Purpose(rng.KindWeight, 0))
		for _, n := range []int{1, 7, 100, 2200} {
			a, b := st.Seq(uint32(n)), st.Seq(uint32(n))
			got := make([]float64, n)
			s.fill(a, got)
			for i := range got {
				if want := s.draw(b); got[i] != want {
					t.Fatalf("%v, %d values: value %d = %v, draw gives %v", d, n, i, got[i], want)
				}
			}
			if x, y := a.Uint32(), b.Uint32(); x != y {
				t.Fatalf("%v, %d values: streams end at different positions", d, n)
			}
		}
	}
}

// Arrays allocated before pass 1 and faulted in beside it (every rule but
// pairwise Bernoulli, stored and compact weights, two constant weights onto
// one population that differ) give the same network as the late ones.
func TestEarlyAllocationSameArrays(t *testing.T) {
	for _, w := range []float64{8, 7.5} { // one-to-one weight -80 as the other I->I: not ambiguous
		s, err := spec.New("early").Seed(78).
			Population("E", 900, spec.IafPscExp(nil)).
			Population("I", 250, spec.IafPscExp(nil)).
			Project("E", "E", spec.FixedIn(40), spec.Weight(spec.NormalDist(20, 5)), spec.Delay(spec.NormalDist(1.5, 0.5))).
			Project("E", "I", spec.FixedIn(30), spec.Weight(spec.Const(7))).
			// Partners kept by pass 1 for pass 2: with and without
			// autapses and multapses.
			Project("E", "E", spec.FixedIn(25), spec.Weight(spec.NormalDist(-20, 5)), spec.Autapses(false)).
			Project("E", "E", spec.FixedIn(15), spec.Weight(spec.UniformDist(1, 3)), spec.Multapses(false), spec.Delay(spec.UniformDist(0.1, 2))).
			Project("I", "E", spec.FixedOut(40), spec.Weight(spec.Const(-80)), spec.Delay(spec.UniformDist(0.1, 3))).
			Project("I", "I", spec.AllToAll(), spec.Weight(spec.Const(-80))).
			Project("I", "I", spec.OneToOne(), spec.Weight(spec.Const(-w*10))).
			Project("I", "E", spec.Explicit(&myelinpb.ExplicitList{PreIndex: []uint32{0, 5, 5}, PostIndex: []uint32{3, 1, 1}}), spec.Weight(spec.Const(-80))).
			Build()
		if err != nil {
			t.Fatal(err)
		}
		ref, err := buildWith(context.Background(), s, Options{Threads: 2}, defaultFill(), nil)
		if err != nil {
			t.Fatal(err)
		}
		f := defaultFill()
		f.early = 0
		n, err := buildWith(context.Background(), s, Options{Threads: 2}, f, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(n.Syn.RowPtr, ref.Syn.RowPtr) || !slices.Equal(n.Syn.Packed, ref.Syn.Packed) ||
			!slices.Equal(n.Syn.Weight, ref.Syn.Weight) || !slices.Equal(n.Syn.WeightBase, ref.Syn.WeightBase) {
			t.Errorf("weight %v: arrays allocated early differ", w)
		}
	}
}

// fixedCount predicts the synapses of every rule that fixes them.
func TestFixedCount(t *testing.T) {
	for _, c := range []struct {
		rule      spec.Rule
		same      bool
		autapses  bool
		multapses bool
	}{
		{spec.FixedIn(30), false, false, false},
		{spec.FixedIn(30), true, false, true},
		{spec.FixedOut(20), true, false, false},
		{spec.AllToAll(), true, false, false},
		{spec.AllToAll(), true, true, false},
		{spec.AllToAll(), false, false, false},
		{spec.OneToOne(), true, false, false},
		{spec.OneToOne(), true, true, false},
		{spec.Explicit(&myelinpb.ExplicitList{PreIndex: []uint32{0, 5, 5}, PostIndex: []uint32{3, 1, 1}}), false, false, true},
	} {
		b := spec.New("count").Seed(3).
			Population("A", 120, spec.IafPscDelta(nil)).
			Population("B", 120, spec.IafPscDelta(nil))
		post := "B"
		if c.same {
			post = "A"
		}
		b.Project("A", post, c.rule, spec.Weight(spec.Const(1)), spec.Autapses(c.autapses), spec.Multapses(c.multapses))
		s, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		n, err := Build(s, Options{Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		p := s.GetProjections()[0]
		g := newGenerator(0, p, 120, 120, c.same, 0.1, 3)
		want, ok := g.fixedCount()
		if !ok || want != n.SynapseCount() {
			t.Errorf("%T same %v autapses %v: predicted %d (%v), built %d", p.GetRule(), c.same, c.autapses, want, ok, n.SynapseCount())
		}
	}
	g := newGenerator(0, &myelinpb.Projection{Rule: &myelinpb.Projection_PairwiseBernoulli{PairwiseBernoulli: &myelinpb.PairwiseBernoulli{P: 0.1}}}, 10, 10, false, 0.1, 1)
	if _, ok := g.fixedCount(); ok {
		t.Error("pairwise Bernoulli: fixedCount claims to know the count")
	}
}

// Which projections draw their weights in pass 2 only: by-post rules with
// drawn weights, except onto a population where two different constant
// weights from one all-constant population make compactness depend on the
// scale; and pass 2 writes projections from few neurons directly.
func TestMarkDeferredAndDirect(t *testing.T) {
	s, err := spec.New("deferred").Seed(5).
		Population("E", 900, spec.IafPscExp(nil)).
		Population("I", 250, spec.IafPscExp(nil)).
		Project("E", "E", spec.FixedIn(40), spec.Weight(spec.NormalDist(20, 5))).    // deferred
		Project("E", "I", spec.Bernoulli(0.1), spec.Weight(spec.UniformDist(1, 2))). // onto I: not deferred
		Project("E", "E", spec.FixedOut(10), spec.Weight(spec.NormalDist(20, 5))).   // by pre: not deferred
		Project("E", "E", spec.FixedIn(3), spec.Weight(spec.Const(7))).              // constant: not deferred
		Project("I", "I", spec.AllToAll(), spec.Weight(spec.Const(-80))).
		Project("I", "I", spec.OneToOne(), spec.Weight(spec.Const(-79.5))). // I's two constants onto I differ
		Project("I", "E", spec.AllToAll(), spec.Weight(spec.Const(-60))).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		f      fillSizes
		direct bool
	}{{defaultFill(), true}, {fillSizes{round: 64, bucket: 16}, false}} {
		b := &builder{net: &Network{Spec: s, Dt: 0.1}, byName: map[string]int{}, threads: 2, fill: c.f}
		if err := b.populations(); err != nil {
			t.Fatal(err)
		}
		var projs []*spikingProj
		for i, p := range s.GetProjections() {
			pre, post := b.byName[p.GetPre()], b.byName[p.GetPost()]
			g := newGenerator(i, p, b.net.Pops[pre].Size, b.net.Pops[post].Size, pre == post, 0.1, 5)
			projs = append(projs, &spikingProj{gen: g, pre: pre, post: post, direct: uint64(g.nPre)*directBytesPerPre <= c.f.direct})
		}
		b.markDeferred(projs)
		want := []bool{true, false, false, false, false, false, false}
		for i, sp := range projs {
			if sp.deferred != want[i] {
				t.Errorf("projection %d: deferred %v, want %v", i, sp.deferred, want[i])
			}
			if sp.direct != c.direct {
				t.Errorf("fill %+v, projection %d: direct %v, want %v", c.f, i, sp.direct, c.direct)
			}
		}
	}
}
