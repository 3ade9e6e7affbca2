package neuron

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkSpikingModels measures each spiking model's CPU step with NEST's
// defaults at dt = 0.1 ms on 10,000 neurons with irregular input (one
// thread); ns/neuron-step is the cost of one neuron's update.
func BenchmarkSpikingModels(b *testing.B) {
	const n = 10000
	for _, m := range Models() {
		if m.Kind != Spiking {
			continue
		}
		b.Run(m.Name, func(b *testing.B) {
			params := m.Defaults()
			coef := m.New(params, 0.1).(SpikingModel)
			r := rand.New(rand.NewPCG(1, 2))
			s := &State{V: make([]float32, n), A: make([]float32, n), B: make([]float32, n), C: make([]float32, n), Ref: make([]int32, n)}
			in := &Input{Ex: make([]float32, n), In: make([]float32, n), Ext: make([]float32, n)}
			for k := range n {
				s.V[k] = float32(m.Rest(params) - m.Offset(params) + 5*r.Float64())
				in.Ex[k] = float32(2 * r.Float64())
				in.In[k] = -float32(2 * r.Float64())
				in.Ext[k] = float32(300 * r.Float64())
			}
			if m.Channels == 1 {
				for k := range n {
					in.Ex[k], in.In[k], in.Ext[k] = in.Ex[k]/4, 0, in.Ext[k]/30
				}
			}
			fired := make([]uint32, 0, n)
			b.ResetTimer()
			for range b.N {
				fired = coef.Update(s, 0, n, in, fired[:0])
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/neuron-step")
		})
	}
}

// BenchmarkCondExpRing measures iaf_cond_exp's UpdateRing, as the CPU
// backend runs it, with NEST's defaults at dt = 0.1 ms on 4,000 neurons
// (coba's size) under irregular ring input: the Go loop ("scalar") and the
// AVX2 kernel ("avx2"); ns/neuron-step is the cost of one neuron's update,
// including each iteration's refill of the ring words (two 16 KB copies,
// the same for both).
func BenchmarkCondExpRing(b *testing.B) {
	coef := IafCondExpModel.New(IafCondExpModel.Defaults(), 0.1).(*IafCondExp)
	benchUpdateRing(b, coef, -70, 15, 0)
}

// BenchmarkPscExpPoissonRing measures iaf_psc_exp's UpdateRing with a
// Poisson input (the microcircuit's background), as the CPU backend runs
// it, on 4,000 neurons: the Go loop ("scalar") and the AVX2 kernel
// ("avx2"); ns/neuron-step includes each iteration's refill of the ring
// words (two 16 KB copies, the same for both).
func BenchmarkPscExpPoissonRing(b *testing.B) {
	coef := IafPscExpModel.New(IafPscExpModel.Defaults(), 0.1).(*IafPscExp)
	benchUpdateRing(b, coef, 0, 15, 87<<10)
}

// benchUpdateRing measures coef.UpdateRing on 4,000 neurons (V uniform in
// [v0, v0+width)) under irregular ring input (excitatory words up to 2^21,
// inhibitory down to -2^23, at a scale of 2^-20), with Poisson counts of 0
// to 4 of weight poissonW where it is not 0: as sub-benchmarks "scalar"
// and, where the machine has AVX2, "avx2".
func benchUpdateRing(b *testing.B, coef RingModel, v0, width float64, poissonW int64) {
	const n = 4000
	for _, vector := range []bool{false, true} {
		name := "scalar"
		if vector {
			name = "avx2"
			if !HasVector() {
				b.Skip("no AVX2")
			}
		}
		b.Run(name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			s := &State{V: make([]float32, n), A: make([]float32, n), B: make([]float32, n), Ref: make([]int32, n)}
			for k := range n {
				s.V[k] = float32(v0 + width*r.Float64())
			}
			ex, in := make([]int32, n), make([]int32, n)
			exW, inW := make([]int32, n), make([]int32, n)
			var cnt []uint32
			if poissonW != 0 {
				cnt = make([]uint32, n)
			}
			for k := range n {
				exW[k] = int32(r.Uint32() >> 11) // up to 2 nS (or pA) at 2^-20
				inW[k] = -int32(r.Uint32() >> 9) // down to -8
				if cnt != nil {
					cnt[k] = uint32(r.IntN(5))
				}
			}
			ring := &RingInput{Scale: 1.0 / (1 << 20), Vector: vector, Mask: make([]uint8, n/8), Counts: cnt, PoissonW: poissonW}
			fired := make([]uint32, 0, n)
			b.ResetTimer()
			for range b.N {
				copy(ex, exW) // the kernel clears what it reads
				copy(in, inW)
				ring.Ex, ring.In = ex, in
				fired = coef.UpdateRing(s, 0, n, ring, fired[:0])
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/neuron-step")
		})
	}
}
