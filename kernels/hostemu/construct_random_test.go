//go:build hostemu

package hostemu

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/myelin-sim/myelin/engine/backend/parity"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/spec"
	"github.com/myelin-sim/myelin/kernels/launch"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// randomDist returns a random weight (or delay) distribution: constant,
// uniform, normal (clipped or not) or lognormal, negative values included
// for weights.
func randomDist(r *rand.Rand, weight bool) *myelinpb.Distribution {
	switch r.IntN(6) {
	case 0, 1:
		if weight {
			return spec.Const([]float64{0.1, 0.21, 0.7, 1.9, -0.5, 3}[r.IntN(6)])
		}
		return spec.Const([]float64{0.1, 0.5, 1, 1.5, 3.3}[r.IntN(5)])
	case 2:
		if !weight {
			a := 0.1 + r.Float64()
			return spec.UniformDist(a, a+r.Float64()*4)
		}
		a := r.Float64() * 2
		if r.IntN(3) == 0 {
			a = -a
		}
		return spec.UniformDist(a, a+0.01+r.Float64()*2)
	case 3:
		if !weight {
			return spec.NormalDist(0.5+r.Float64()*3, 0.05+r.Float64())
		}
		return spec.NormalDist(r.Float64()*2, 0.05+r.Float64())
	case 4:
		m, s := 0.5+r.Float64()*2, 0.05+r.Float64()
		lo := m - s
		if !weight {
			lo = 0.1
		}
		return spec.ClippedNormalDist(m, s, lo, m+s)
	}
	return spec.LognormalDist(-1+r.Float64(), 0.1+r.Float64()*0.5, weight && r.IntN(3) == 0)
}

// randomNetwork returns a random valid network of 1 to 4 populations (1
// to 90 neurons, three models) and 1 to 6 projections of every drawn rule
// (multapses and autapses on or off, Bernoulli p from 0 to 1), weight and
// delay distribution and receptor, some with STDP or short-term
// plasticity; nil where the draw is not a valid spec.
func randomNetwork(r *rand.Rand, seed uint64) *myelinpb.Network {
	b := spec.New("random").Seed(seed).Duration(10)
	sizes := make([]uint32, 1+r.IntN(4))
	for i := range sizes {
		sizes[i] = []uint32{1, 2, 3, 5, 17, 40, 90}[r.IntN(7)]
		m := []spec.Model{spec.IafPscExp(nil), spec.IafPscDelta(nil), spec.IafCondExp(nil)}[r.IntN(3)]
		b.Population(fmt.Sprintf("P%d", i), sizes[i], m)
	}
	for range 1 + r.IntN(6) {
		pre, post := r.IntN(len(sizes)), r.IntN(len(sizes))
		var opts []spec.Option
		autapses, multapses := r.IntN(3) != 0, r.IntN(3) != 0
		opts = append(opts, spec.Autapses(autapses), spec.Multapses(multapses))
		mPre, mPost := sizes[pre], sizes[post]
		if pre == post && !autapses {
			mPre, mPost = mPre-1, mPost-1
		}
		degree := func(m uint32) uint32 {
			k := uint32(1 + r.IntN(2*int(m)))
			if !multapses {
				k = min(k, m)
			}
			return k
		}
		var rule spec.Rule
		switch r.IntN(6) {
		case 0:
			if mPre == 0 {
				continue
			}
			rule = spec.FixedIn(degree(mPre))
		case 1:
			if mPost == 0 {
				continue
			}
			rule = spec.FixedOut(degree(mPost))
		case 2:
			rule = spec.Bernoulli([]float64{0, 1e-4, 0.1, 0.5, 1}[r.IntN(5)])
		case 3:
			rule = spec.BernoulliBySource([]float64{0, 1e-4, 0.1, 0.5, 1}[r.IntN(5)])
		case 4:
			if sizes[pre] != sizes[post] {
				continue
			}
			rule = spec.OneToOne()
		default:
			rule = spec.AllToAll()
		}
		opts = append(opts, spec.Weight(randomDist(r, true)))
		if r.IntN(2) == 0 {
			opts = append(opts, spec.Delay(randomDist(r, false)))
		}
		if v := r.IntN(4); v > 0 {
			opts = append(opts, spec.Via([]myelinpb.Receptor{myelinpb.Receptor_EXCITATORY, myelinpb.Receptor_INHIBITORY, myelinpb.Receptor_SLOW_EXCITATORY}[v-1]))
		}
		switch r.IntN(6) {
		case 0:
			wmax := []float64{1, 3}[r.IntN(2)]
			opts = append(opts, spec.STDP(func(s *myelinpb.STDP) { s.WMax = proto.Float64(wmax) }))
		case 1:
			opts = append(opts, spec.STP(0.5, 100, 10))
		}
		b.Project(fmt.Sprintf("P%d", pre), fmt.Sprintf("P%d", post), rule, opts...)
	}
	s, err := b.Build()
	if err != nil {
		return nil
	}
	return s
}

// Random networks built on the emulated device are Build's byte for byte
// (parity.CompareBuilt, input bounds included), or both builds fail;
// either way no device memory is left: the valid specs among 1,500
// random draws, alternating the two launch geometries (the second with
// hash sets that run out of epochs every few launches and are zeroed)
// and stored weights.
func TestConstructRandomNetworks(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	cfgs := []launch.ConstructConfig{{Block: 32, Threads: 96, SortBlock: 1}, {Block: 64, Threads: 4096, ScratchBytes: 3000, SortBlock: 3, Epochs: 200}}
	built, refused := 0, 0
	for seed := range uint64(1500) {
		s := randomNetwork(r, seed)
		if s == nil {
			continue
		}
		opt := network.Options{StoreWeights: seed%5 == 0}
		var wantBounds, gotBounds []float64
		hostOpt, devOpt := opt, opt
		hostOpt.Threads, hostOpt.InputBounds = 2, func(b []float64) { wantBounds = b }
		devOpt.Threads, devOpt.InputBounds = 1, func(b []float64) { gotBounds = b }
		want, werr := network.Build(s, hostOpt)
		mem := &Memory{live: map[uint64]unsafe.Pointer{}}
		got, err := network.BuildOn(context.Background(), s, devOpt, launch.NewConstructor(mem, &cfgs[seed%2]))
		switch {
		case (werr != nil) != (err != nil):
			t.Errorf("network %d: Build: %v; BuildOn: %v", seed, werr, err)
		case werr != nil:
			refused++
		default:
			built++
			if cerr := parity.CompareBuilt(want, got, wantBounds, gotBounds); cerr != nil {
				t.Errorf("network %d: %v\n%v", seed, cerr, s)
			}
		}
		if mem.Live() != 0 {
			t.Errorf("network %d: %d device allocations left", seed, mem.Live())
		}
	}
	if built < 600 {
		t.Errorf("only %d random networks built (%d refused by both): too few to check", built, refused)
	}
}
