package bench

import (
	"context"
	"io"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/cpu"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/sim"
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// brunelOut is brunel model A with n neurons (1 s) whose fixed in-degree
// rules are turned into fixed out-degree rules with as many synapses
// (out-degree = in-degree × post size / pre size), the rule that
// procedural connectivity regenerates; procedural sets every projection's
// procedural field.
func brunelOut(b *testing.B, n int, procedural bool) *myelinpb.Network {
	s := buildSpec(b, "brunel", map[string]string{"n": strconv.Itoa(n), "duration_ms": "1000"})
	size := map[string]uint64{}
	for _, p := range s.Populations {
		size[p.Name] = uint64(p.Size)
	}
	for _, pr := range s.Projections {
		k := uint64(pr.GetFixedInDegree().GetIndegree())
		if k == 0 {
			b.Fatalf("projection %s: want a fixed in-degree rule", pr.Name)
		}
		out := uint32(k * size[pr.Post] / size[pr.Pre])
		pr.Rule = &myelinpb.Projection_FixedOutDegree{FixedOutDegree: &myelinpb.FixedOutDegree{Outdegree: out}}
		pr.Procedural = proto.Bool(procedural)
	}
	spec.ApplyDefaults(s)
	if err := spec.Validate(s); err != nil {
		b.Fatal(err)
	}
	return s
}

// benchProcedural builds brunelOut (stored or procedural) and simulates 1 s
// on the CPU backend with threads threads; it reports the build time, the
// synapse memory, the live heap after the build, the simulation time per
// biological second and the E rate.
func benchProcedural(b *testing.B, n int, procedural bool, threads int) {
	s := brunelOut(b, n, procedural)
	var build, simT time.Duration
	var synBytes, heap uint64
	var rate float64
	for i := 0; i < b.N; i++ {
		runtime.GC()
		t0 := time.Now()
		net, err := network.Build(s, network.Options{Threads: threads})
		if err != nil {
			b.Fatal(err)
		}
		build += time.Since(t0)
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap, synBytes = ms.HeapAlloc, net.SynapseBytes()
		res, err := sim.Run(context.Background(), net, sim.Options{Backend: cpu.New(threads), Out: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
		simT += time.Duration(res.SimSeconds * float64(time.Second))
		rate = float64(res.PopSpikes[0]) / float64(net.Pops[0].Size)
		runtime.KeepAlive(net)
	}
	b.ReportMetric(build.Seconds()/float64(b.N), "build-s")
	b.ReportMetric(simT.Seconds()/float64(b.N), "s/bio-s")
	b.ReportMetric(float64(synBytes)/(1<<20), "syn-MiB")
	b.ReportMetric(float64(heap)/(1<<20), "heap-MiB")
	b.ReportMetric(rate, "E-Hz")
}

// BenchmarkBrunelOutStored is brunel 12,500 with fixed out-degree rules,
// stored, two threads.
func BenchmarkBrunelOutStored(b *testing.B) { benchProcedural(b, 12500, false, 2) }

// BenchmarkBrunelOutProcedural is BenchmarkBrunelOutStored with every
// projection procedural.
func BenchmarkBrunelOutProcedural(b *testing.B) { benchProcedural(b, 12500, true, 2) }

// BenchmarkBrunelOut100kStored is brunelOut with 100,000 neurons (10^8
// synapses), stored, two threads.
func BenchmarkBrunelOut100kStored(b *testing.B) { benchProcedural(b, 100000, false, 2) }

// BenchmarkBrunelOut100kProcedural is BenchmarkBrunelOut100kStored with
// every projection procedural.
func BenchmarkBrunelOut100kProcedural(b *testing.B) { benchProcedural(b, 100000, true, 2) }
