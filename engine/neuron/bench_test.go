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
	const n = 4000
	params := IafCondExpModel.Defaults()
	coef := IafCondExpModel.New(params, 0.1).(*IafCondExp)
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
				s.V[k] = float32(-70 + 15*r.Float64())
			}
			ex, in := make([]int32, n), make([]int32, n)
			exW, inW := make([]int32, n), make([]int32, n)
			for k := range n {
				exW[k] = int32(r.Uint32() >> 11) // up to 2 nS at 2^-20
				inW[k] = -int32(r.Uint32() >> 9) // up to 8 nS
			}
			ring := &RingInput{Scale: 1.0 / (1 << 20), Vector: vector, Mask: make([]uint8, n/8)}
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

// BenchmarkPscExpPoissonRing measures iaf_psc_exp's UpdateRing with a
// Poisson input (the microcircuit's background), as the CPU backend runs
// it, on 4,000 neurons: the Go loop ("scalar") and the AVX2 kernel
// ("avx2"); ns/neuron-step includes each iteration's refill of the ring
// words (two 16 KB copies, the same for both).
func BenchmarkPscExpPoissonRing(b *testing.B) {
	const n = 4000
	coef := IafPscExpModel.New(IafPscExpModel.Defaults(), 0.1).(*IafPscExp)
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
				s.V[k] = float32(15 * r.Float64())
			}
			ex, in, cnt := make([]int32, n), make([]int32, n), make([]uint32, n)
			exW, inW := make([]int32, n), make([]int32, n)
			for k := range n {
				exW[k] = int32(r.Uint32() >> 11)
				inW[k] = -int32(r.Uint32() >> 9)
				cnt[k] = uint32(r.IntN(5))
			}
			ring := &RingInput{Scale: 1.0 / (1 << 20), Vector: vector, Mask: make([]uint8, n/8), Counts: cnt, PoissonW: 87 << 10}
			fired := make([]uint32, 0, n)
			b.ResetTimer()
			for range b.N {
				copy(ex, exW)
				copy(in, inW)
				ring.Ex, ring.In = ex, in
				fired = coef.UpdateRing(s, 0, n, ring, fired[:0])
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/neuron-step")
		})
	}
}
