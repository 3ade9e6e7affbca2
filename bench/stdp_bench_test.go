package bench

import (
	"context"
	"io"
	"testing"

	"github.com/myelin-sim/myelin/engine/cpu"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/sim"
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// benchBrunelSTDP runs brunel 12,500 (model A, 1 s) on the CPU backend
// with threads threads, with STDP on every E→E synapse (w_max 0.2 mV,
// λ lambda, NEST's other defaults) or, for lambda < 0, static; it reports
// the simulation time per biological second and the E rate.
func benchBrunelSTDP(b *testing.B, lambda float64, threads int) {
	s := buildSpec(b, "brunel", map[string]string{"duration_ms": "1000"})
	if lambda >= 0 {
		for _, pr := range s.Projections {
			if pr.Pre == "E" && pr.Post == "E" {
				pr.Stdp = &myelinpb.STDP{WMax: proto.Float64(0.2), Lambda: proto.Float64(lambda)}
			}
		}
	}
	spec.ApplyDefaults(s)
	if err := spec.Validate(s); err != nil {
		b.Fatal(err)
	}
	net, err := network.Build(s, network.Options{Threads: threads})
	if err != nil {
		b.Fatal(err)
	}
	var simS, rate float64
	for i := 0; i < b.N; i++ {
		res, err := sim.Run(context.Background(), net, sim.Options{Backend: cpu.New(threads), Out: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
		simS += res.SimSeconds
		rate = float64(res.PopSpikes[0]) / float64(net.Pops[0].Size)
	}
	b.ReportMetric(simS/float64(b.N), "s/bio-s")
	b.ReportMetric(rate, "E-Hz")
}

// BenchmarkBrunelStatic is brunel 12,500 without plasticity, one thread.
func BenchmarkBrunelStatic(b *testing.B) { benchBrunelSTDP(b, -1, 1) }

// BenchmarkBrunelSTDP is brunel 12,500 with STDP on all E→E synapses
// (λ 0.01), one thread.
func BenchmarkBrunelSTDP(b *testing.B) { benchBrunelSTDP(b, 0.01, 1) }
