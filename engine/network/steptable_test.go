package network

import (
	"math"
	"testing"

	"github.com/myelin-sim/myelin/engine/rng"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

func normalDelay(mean, sd float64, lo, hi *float64) *myelinpb.Distribution {
	return &myelinpb.Distribution{Kind: &myelinpb.Distribution_Normal{Normal: &myelinpb.Normal{Mean: mean, Std: sd, Min: lo, Max: hi}}}
}

// A step table gives the delays in steps with the probabilities of drawing
// the delay in ms from its distribution and rounding it (delaySteps):
// 10^6 draws of each way agree by a chi-square test, for clipped and
// unclipped normals, a normal within one step, and uniforms.
func TestStepTableMatchesRoundedDraws(t *testing.T) {
	const dt = 0.1
	for _, d := range []*myelinpb.Distribution{
		normalDelay(1.5, 0.75, proto.Float64(0.05), nil), // the microcircuit's excitatory delays
		normalDelay(0.75, 0.375, proto.Float64(0.05), nil),
		normalDelay(2, 0.5, nil, nil),
		normalDelay(3, 1, proto.Float64(2.5), proto.Float64(3.3)),
		normalDelay(0.5, 0.001, nil, nil), // every delay is 5 steps
		{Kind: &myelinpb.Distribution_Uniform{Uniform: &myelinpb.Uniform{Low: 0.1, High: 3}}},
		{Kind: &myelinpb.Distribution_Uniform{Uniform: &myelinpb.Uniform{Low: -1, High: 0.37}}},
	} {
		s := newSampler(d)
		tab := newStepTable(s, dt)
		if tab == nil {
			t.Fatalf("%v: no step table", d)
		}
		const n = 1000000
		got, want := map[uint32]float64{}, map[uint32]float64{}
		q := rng.NewStream(9, rng.Purpose(rng.KindDelay, 0)).Seq(0)
		r := rng.NewStream(9, rng.Purpose(rng.KindDelay, 1)).Seq(0)
		for range n {
			got[tab.step(q.Uint32())]++
			want[delaySteps(s.draw(r), dt)]++
		}
		// Chi-square of the two samples over the steps with at least 20
		// expected (pooled) draws: about as many as degrees of freedom.
		var chi2 float64
		df := -1
		for k := range want {
			got[k] += 0
		}
		for k, g := range got {
			w := want[k]
			if g+w < 40 {
				continue
			}
			chi2 += (g - w) * (g - w) / (g + w)
			df++
		}
		if df < 0 {
			df = 0
		}
		if lim := float64(df) + 6*math.Sqrt(2*float64(df)) + 10; chi2 > lim {
			t.Errorf("%v: chi-square %.1f with %d degrees of freedom (limit %.1f)", d, chi2, df, lim)
		}
	}
}

// step finds the first threshold above the word, whatever the guide says:
// checked against a linear search at the thresholds, next to them and at
// the ends of the word range.
func TestStepTableSearch(t *testing.T) {
	tab := newStepTable(newSampler(normalDelay(1.5, 0.75, proto.Float64(0.05), nil)), 0.1)
	linear := func(w uint32) uint32 {
		for k, x := range tab.thr {
			if w < x {
				return tab.first + uint32(k)
			}
		}
		return tab.first + uint32(len(tab.thr)-1)
	}
	words := []uint32{0, 1, math.MaxUint32, math.MaxUint32 - 1}
	for _, x := range tab.thr {
		words = append(words, x-1, x, x+1)
	}
	for b := range uint32(1 << 12) {
		words = append(words, b<<20, b<<20-1)
	}
	for _, w := range words {
		if got, want := tab.step(w), linear(w); got != want {
			t.Fatalf("word %#x: step %d, want %d", w, got, want)
		}
	}
	if tab.first != 1 || len(tab.thr) < 20 {
		t.Errorf("table from step %d with %d steps: want from 1, about 60", tab.first, len(tab.thr))
	}
}

// Distributions without a table: lognormal, a spread of more than
// maxStepTable steps, a clipped normal that accepts almost nothing (the
// sampler clamps those), a zero spread.
func TestStepTableNone(t *testing.T) {
	for _, d := range []*myelinpb.Distribution{
		{Kind: &myelinpb.Distribution_Lognormal{Lognormal: &myelinpb.Lognormal{Mu: 0.5, Sigma: 0.3}}},
		normalDelay(1, 1e6, nil, nil),
		normalDelay(0, 1, proto.Float64(3), nil),
		normalDelay(1, 0, nil, nil),
		{Kind: &myelinpb.Distribution_Uniform{Uniform: &myelinpb.Uniform{Low: 1, High: 1}}},
	} {
		if tab := newStepTable(newSampler(d), 0.1); tab != nil {
			t.Errorf("%v: a table of %d steps, want none", d, len(tab.thr))
		}
	}
}
