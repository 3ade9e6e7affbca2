package stream

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	myelinpb "github.com/myelin-sim/myelin/proto"
)

// benchBlock returns a block of nsteps steps with `perStep` spikes each,
// drawn without repetition from neurons [0, n), and a header whose two
// populations (80% E, 20% I) cover them.
func benchBlock(nsteps, perStep int, n uint32) (*myelinpb.Header, []uint32, []uint32) {
	rng := rand.New(rand.NewPCG(uint64(n), 9))
	counts := make([]uint32, nsteps)
	ids := make([]uint32, 0, nsteps*perStep)
	for s := range nsteps {
		seen := make(map[uint32]bool, perStep)
		for len(seen) < perStep {
			seen[uint32(rng.IntN(int(n)))] = true
		}
		step := make([]uint32, 0, perStep)
		for id := range seen {
			step = append(step, id)
		}
		slices.Sort(step)
		ids = append(ids, step...)
		counts[s] = uint32(perStep)
	}
	ne := n * 4 / 5
	h := &myelinpb.Header{DtMs: 0.1, Populations: []*myelinpb.PopulationRange{
		{Name: "E", FirstId: 0, Size: ne},
		{Name: "I", FirstId: ne, Size: n - ne},
	}}
	return h, counts, ids
}

// BenchmarkWriteSpikes encodes blocks of 100 steps × 500 spikes, as the
// recorder writes them, into io.Discard.
func BenchmarkWriteSpikes(b *testing.B) {
	for _, n := range []uint32{12_500, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("neurons=%d", n), func(b *testing.B) {
			h, counts, ids := benchBlock(100, 500, n)
			w, err := NewWriter(io.Discard, h)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if err := w.WriteSpikes(uint64(i)*100, counts, ids); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)*float64(len(ids))/b.Elapsed().Seconds(), "spikes/s")
		})
	}
}

// BenchmarkReadAll decodes a stream of 100 blocks of 100 steps × 500
// spikes among 100,000 neurons.
func BenchmarkReadAll(b *testing.B) {
	h, counts, ids := benchBlock(100, 500, 100_000)
	var buf bytes.Buffer
	w, err := NewWriter(&buf, h)
	if err != nil {
		b.Fatal(err)
	}
	const blocks = 100
	for i := range blocks {
		if err := w.WriteSpikes(uint64(i)*100, counts, ids); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(nil); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ResetTimer()
	for range b.N {
		if _, err := ReadAll(bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*blocks*float64(len(ids))/b.Elapsed().Seconds(), "spikes/s")
}
