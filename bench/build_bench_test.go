package bench

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"os"
	"strconv"
	"testing"

	"github.com/myelin-sim/myelin/engine/network"
)

// benchBuild measures network.Build alone for a built-in model.
func benchBuild(b *testing.B, model string, set map[string]string, threads int) {
	s := buildSpec(b, model, set)
	var syn uint64
	var hash uint64
	for i := 0; i < b.N; i++ {
		net, err := network.Build(s, network.Options{Threads: threads})
		if err != nil {
			b.Fatal(err)
		}
		syn = net.SynapseCount()
		b.StopTimer()
		hash = netHash(net)
		b.StartTimer()
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "build-s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(syn), "ns/synapse")
	b.ReportMetric(float64(syn), "synapses")
	if os.Getenv("MYELIN_BENCH_HASH") != "" {
		b.Logf("%s %v: hash %016x", model, set, hash)
	}
}

// netHash is FNV-64a of the synapse arrays, the fixed-point shifts and the
// initial values of a network.
func netHash(net *network.Network) uint64 {
	h := fnv.New64a()
	buf := make([]byte, 0, 1<<16)
	flush := func() {
		h.Write(buf)
		buf = buf[:0]
	}
	u64 := func(v uint64) {
		buf = binary.LittleEndian.AppendUint64(buf, v)
		if len(buf) >= 1<<16-8 {
			flush()
		}
	}
	for _, v := range net.Syn.RowPtr {
		u64(v)
	}
	for _, v := range net.Syn.Packed {
		u64(uint64(v))
	}
	for _, v := range net.Syn.Weight {
		u64(uint64(uint32(v)))
	}
	for _, v := range net.Syn.PopWeight {
		u64(uint64(uint32(v)))
	}
	for _, p := range net.Pops {
		u64(uint64(uint32(p.Shift)))
		for _, x := range p.Init {
			u64(uint64(math.Float32bits(x)))
		}
	}
	u64(uint64(net.RingSlots))
	flush()
	return h.Sum64()
}

// buildThreads is the thread count of the construction benchmarks
// (MYELIN_BENCH_THREADS, default 1: single-threaded figures are the steady
// ones on a shared machine).
func buildThreads() int {
	if n, err := strconv.Atoi(os.Getenv("MYELIN_BENCH_THREADS")); err == nil && n > 0 {
		return n
	}
	return 1
}

// Microcircuit at scale 0.1 (about 3 × 10⁷ synapses, normal weights and
// delays).
func BenchmarkBuildMicrocircuit01(b *testing.B) {
	benchBuild(b, "microcircuit", map[string]string{"scale": "0.1"}, buildThreads())
}

// Brunel with 100,000 neurons and in-degree 1,000 (1.25 × 10⁸ synapses,
// constant weights and delays).
func BenchmarkBuildBrunel100k(b *testing.B) {
	benchBuild(b, "brunel", map[string]string{"n": "100000", "indegree": "1000"}, buildThreads())
}

// Brunel with 1,000,000 neurons and in-degree 1,000 (1.25 × 10⁹ synapses,
// about 5.2 GB): the target size.
func BenchmarkBuildBrunel1M(b *testing.B) {
	benchBuild(b, "brunel", map[string]string{"n": "1000000", "indegree": "1000"}, buildThreads())
}

// The microcircuit at full scale (77,169 neurons, about 3 × 10⁸ synapses):
// the target.
func BenchmarkBuildMicrocircuit(b *testing.B) {
	benchBuild(b, "microcircuit", nil, buildThreads())
}
