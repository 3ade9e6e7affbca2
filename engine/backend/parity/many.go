package parity

import (
	"fmt"

	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// ManyPops is how many populations Many has: more than the kernels keep in
// their parameter space (launch.PopFast, 16), so that the GPU finds the
// populations past the sixteenth by its search of the population table.
const ManyPops = 20

// Many is a chain of ManyPops populations: spiking populations of
// iaf_psc_exp, each driven by Poisson input, exciting the next one with a
// constant weight (no stored weights) and inhibiting the third before it
// with distributed weights (stored), and three rate populations among
// them, at indices 5, 12 and 18, one past the sixteenth.
func Many() (*myelinpb.Network, error) {
	b := spec.New("parity-many").Seed(31).Duration(150)
	name := func(i int) string {
		if i == 5 || i == 12 || i == 18 {
			return fmt.Sprintf("R%02d", i)
		}
		return fmt.Sprintf("P%02d", i)
	}
	var spiking []string
	for i := 0; i < ManyPops; i++ {
		if name(i)[0] == 'R' {
			b.Population(name(i), 20, spec.Rate(&myelinpb.RateNeuron{Transfer: myelinpb.RateNeuron_TANH, Gain: proto.Float64(1.2)}),
				spec.Initial(spec.UniformDist(0, 0.5)))
			b.DC(name(i), 0.4+0.1*float64(i%3))
			continue
		}
		b.Population(name(i), uint32(60+3*i), spec.IafPscExp(nil), spec.Initial(spec.UniformDist(-70, -54)))
		b.Poisson(name(i), 9500+100*float64(i), 20)
		spiking = append(spiking, name(i))
	}
	for k, p := range spiking {
		if k+1 < len(spiking) {
			b.Project(p, spiking[k+1], spec.FixedIn(10), spec.Weight(spec.Const(15)), spec.Delay(spec.UniformDist(0.1, 2)))
		}
		if k >= 3 {
			b.Project(p, spiking[k-3], spec.FixedIn(5), spec.Weight(spec.NormalDist(-30, 5)), spec.Delay(spec.Const(0.4)))
		}
	}
	b.Probe("P19", 0, 4, 1).Probe("R18", 0, 6, 2).Probe("P00", 10, 3, 5)
	return b.Build()
}
