package network_test

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"testing"

	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

func phi(x float64) float64 { return math.Exp(-x*x/2) / math.Sqrt(2*math.Pi) }
func cdf(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// truncMoments returns the mean and variance of N(mu, sd²) restricted to
// [lo, hi].
func truncMoments(mu, sd, lo, hi float64) (float64, float64) {
	a, b := (lo-mu)/sd, (hi-mu)/sd
	z := cdf(b) - cdf(a)
	d := (phi(a) - phi(b)) / z
	return mu + sd*d, sd * sd * (1 + (a*phi(a)-b*phi(b))/z - d*d)
}

// Clipped normal weights in a built network follow the truncated normal:
// every value within [min, max], mean and variance as the truncated
// normal's (min and max cut 31 % and 7 % of the draws, so rejection
// matters), and as many values above the mean + 1 sd as it predicts.
func TestBuiltClippedNormalWeights(t *testing.T) {
	const mu, sd, lo, hi = 1.0, 1.0, 0.5, 2.5
	w := &myelinpb.Distribution{Kind: &myelinpb.Distribution_Normal{Normal: &myelinpb.Normal{Mean: mu, Std: sd, Min: proto.Float64(lo), Max: proto.Float64(hi)}}}
	n := build(t, twoPops(spec.FixedIn(250), spec.Weight(w), spec.Multapses(true)), 2)
	scale := math.Ldexp(1, int(n.Pops[1].Shift))
	syn := synapses(n)
	var sum, sum2 float64
	var above int
	for _, s := range syn {
		x := float64(s.w) / scale
		if x < lo-1/scale || x > hi+1/scale {
			t.Fatalf("weight %v outside [%v, %v]", x, lo, hi)
		}
		sum += x
		sum2 += x * x
		if x > mu+sd {
			above++
		}
	}
	k := float64(len(syn))
	m, v := sum/k, sum2/k-(sum/k)*(sum/k)
	wm, wv := truncMoments(mu, sd, lo, hi)
	// Standard errors with 50,000 synapses: mean 0.0017, variance 0.0013.
	if math.Abs(m-wm) > 0.009 || math.Abs(v-wv) > 0.007 {
		t.Errorf("weights: mean %.4f variance %.4f, want %.4f and %.4f", m, v, wm, wv)
	}
	p := (cdf((hi-mu)/sd) - cdf(1)) / (cdf((hi-mu)/sd) - cdf((lo-mu)/sd))
	if want, se := p*k, math.Sqrt(p*(1-p)*k); math.Abs(float64(above)-want) > 5*se {
		t.Errorf("%d weights above mean + 1 sd, want %.0f ± %.0f", above, want, se)
	}
}

// Lognormal weights: log|w| has the asked mean and standard deviation, and
// negative: true makes every weight negative.
func TestBuiltLognormalWeights(t *testing.T) {
	const mu, sigma = -0.5, 0.4
	n := build(t, twoPops(spec.FixedIn(250), spec.Weight(spec.LognormalDist(mu, sigma, true)), spec.Multapses(true)), 2)
	scale := math.Ldexp(1, int(n.Pops[1].Shift))
	var sum, sum2 float64
	syn := synapses(n)
	for _, s := range syn {
		if s.w >= 0 {
			t.Fatalf("weight %d: want negative", s.w)
		}
		l := math.Log(-float64(s.w) / scale)
		sum += l
		sum2 += l * l
	}
	k := float64(len(syn))
	m, sd := sum/k, math.Sqrt(sum2/k-(sum/k)*(sum/k))
	if math.Abs(m-mu) > 0.01 || math.Abs(sd-sigma) > 0.01 {
		t.Errorf("log|w|: mean %.4f sd %.4f, want %v and %v", m, sd, mu, sigma)
	}
}

// Normal delays clipped below (the microcircuit's 1.5 ± 0.75 ms, min 0.1
// ms) round to steps with the truncated normal's probabilities: the
// fraction at the shortest delay and the mean.
func TestBuiltNormalDelays(t *testing.T) {
	d := &myelinpb.Distribution{Kind: &myelinpb.Distribution_Normal{Normal: &myelinpb.Normal{Mean: 1.5, Std: 0.75, Min: proto.Float64(0.1)}}}
	n := build(t, twoPops(spec.FixedIn(250), spec.Delay(d), spec.Multapses(true)), 2)
	syn := synapses(n)
	k := float64(len(syn))
	var sum float64
	var one int
	for _, s := range syn {
		sum += float64(s.delay)
		if s.delay == 1 {
			one++
		}
	}
	// Step 1 holds [0.1, 0.15) ms (dt 0.1).
	z := 1 - cdf((0.1-1.5)/0.75)
	p := (cdf((0.15-1.5)/0.75) - cdf((0.1-1.5)/0.75)) / z
	if want, se := p*k, math.Sqrt(p*(1-p)*k); math.Abs(float64(one)-want) > 5*se {
		t.Errorf("%d delays of one step, want %.0f ± %.0f", one, want, se)
	}
	wm, _ := truncMoments(1.5, 0.75, 0.1, math.Inf(1))
	if m := sum / k * 0.1; math.Abs(m-wm) > 0.01 {
		t.Errorf("mean delay %.4f ms, want %.4f ms", m, wm)
	}
}

// hashNet is FNV-64a of a network's synapse arrays and initial values.
func hashNet(n *network.Network) uint64 {
	h := fnv.New64a()
	var b []byte
	for _, v := range n.Syn.RowPtr {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	for _, v := range n.Syn.Packed {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	for _, v := range n.Syn.Weight {
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	for _, p := range n.Pops {
		b = binary.LittleEndian.AppendUint32(b, uint32(p.Shift))
		for _, x := range p.Init {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
		}
	}
	h.Write(b)
	return h.Sum64()
}

// A reduced microcircuit (normal weights, delays and initial values, eight
// populations, multapses) builds to the same arrays with 1, 2 and 7
// threads.
func TestMicrocircuitIndependentOfThreads(t *testing.T) {
	s, err := models.Spec("microcircuit", map[string]string{"scale": "0.02", "k_scale": "0.05"})
	if err != nil {
		t.Fatal(err)
	}
	var ref uint64
	for _, th := range []int{1, 2, 7} {
		n, err := network.Build(s, network.Options{Threads: th})
		if err != nil {
			t.Fatal(err)
		}
		if n.SynapseCount() < 100000 {
			t.Fatalf("%d synapses: want a network of some size", n.SynapseCount())
		}
		h := hashNet(n)
		if th == 1 {
			ref = h
		} else if h != ref {
			t.Errorf("%d threads: hash %016x, 1 thread %016x", th, h, ref)
		}
	}
}
