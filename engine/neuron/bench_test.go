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
