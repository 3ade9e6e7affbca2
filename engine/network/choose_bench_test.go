package network

import (
	"testing"

	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

func benchChoose(b *testing.B, k, m uint32, multapses bool) {
	p := &myelinpb.Projection{
		Rule:           &myelinpb.Projection_FixedInDegree{FixedInDegree: &myelinpb.FixedInDegree{Indegree: k}},
		AllowMultapses: proto.Bool(multapses),
	}
	g := newGenerator(0, p, m, 1000, false, 0.1, 1)
	wk := g.newWorker()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		wk.conn.Reset(uint32(i))
		g.choose(wk, k, m, uint32(i))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(k), "ns/synapse")
}

// Brunel at 1M neurons: 1,000 of 800,000 without multapses (sparse).
func BenchmarkChooseBrunel1M(b *testing.B) { benchChoose(b, 1000, 800000, false) }

// Brunel at 100k neurons: 1,000 of 80,000 (dense).
func BenchmarkChooseBrunel100k(b *testing.B) { benchChoose(b, 1000, 80000, false) }

// Microcircuit L23E <- L23E: 2,200 of 20,683 with multapses.
func BenchmarkChooseMicro(b *testing.B) { benchChoose(b, 2200, 20683, true) }

// Brunel at 200k neurons: 1,000 of 160,000.
func BenchmarkChooseBrunel200k(b *testing.B) { benchChoose(b, 1000, 160000, false) }
