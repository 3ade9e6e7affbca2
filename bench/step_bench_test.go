package bench

import (
	"context"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/cpu"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/sim"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// quietSpec is the per-step overhead workload: the cuba network (iaf_psc_exp,
// 80 % E, 20 % I, pairwise Bernoulli p = 0.02) with n neurons whose resting
// potential lies 15 mV below threshold, so that no neuron ever fires and a
// step costs only its fixed work: inputs, the neuron update, the barriers,
// recording. steps steps of 0.1 ms.
func quietSpec(b *testing.B, n, steps int) *myelinpb.Network {
	s := buildSpec(b, "cuba", map[string]string{"n": strconv.Itoa(n), "duration_ms": strconv.Itoa(steps / 10)})
	for _, p := range s.Populations {
		m := p.GetIafPscExp()
		if m == nil {
			b.Fatalf("population %s: want iaf_psc_exp", p.Name)
		}
		m.EL = proto.Float64(-65)
	}
	return s
}

// benchQuiet reports the wall time per step of a network in which no neuron
// fires, simulated for 10,000 steps (1 s) per op on the CPU backend.
func benchQuiet(b *testing.B, n, threads int) {
	const steps = 10_000
	s := quietSpec(b, n, steps)
	net, err := network.Build(s, network.Options{Threads: threads})
	if err != nil {
		b.Fatal(err)
	}
	var simT time.Duration
	for i := 0; i < b.N; i++ {
		res, err := sim.Run(context.Background(), net, sim.Options{Backend: cpu.New(threads), Out: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range res.PopSpikes {
			if c != 0 {
				b.Fatalf("%d spikes in a network that must stay silent", c)
			}
		}
		if res.Steps != steps {
			b.Fatalf("%d steps, want %d", res.Steps, steps)
		}
		simT += time.Duration(res.SimSeconds * float64(time.Second))
	}
	b.ReportMetric(simT.Seconds()*1e6/float64(b.N)/steps, "µs/step")
}

// Per-step overhead at 1,000 neurons that never fire, one and two threads.
func BenchmarkStepOverhead1000Threads1(b *testing.B) { benchQuiet(b, 1000, 1) }

// BenchmarkStepOverhead1000Threads2 is the same on two threads.
func BenchmarkStepOverhead1000Threads2(b *testing.B) { benchQuiet(b, 1000, 2) }

// Per-step cost at 4,000 silent neurons (the size of cuba and coba).
func BenchmarkStepOverhead4000Threads1(b *testing.B) { benchQuiet(b, 4000, 1) }

// BenchmarkStepOverhead4000Threads2 is the same on two threads.
func BenchmarkStepOverhead4000Threads2(b *testing.B) { benchQuiet(b, 4000, 2) }

// Vogels–Abbott benchmarks, 1 s, one thread.
func BenchmarkCUBAThreads1(b *testing.B) { benchModel(b, "cuba", nil, 1) }

// BenchmarkCOBAThreads1 is the conductance-based benchmark, 1 s, one thread.
func BenchmarkCOBAThreads1(b *testing.B) { benchModel(b, "coba", nil, 1) }
