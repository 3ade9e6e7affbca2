package stream

import (
	"bytes"
	"math/rand/v2"
	"testing"

	myelinpb "github.com/myelin-sim/myelin/proto"
)

// testHeader returns a header with two populations, E [0, 10000) and
// I [10000, 12500), and two state series.
func testHeader() *myelinpb.Header {
	return &myelinpb.Header{
		Spec: &myelinpb.Network{
			Name: "brunel",
			Populations: []*myelinpb.Population{
				{Name: "E", Size: 10000, Model: &myelinpb.Population_IafPscDelta{IafPscDelta: &myelinpb.IafPscDelta{}}},
				{Name: "I", Size: 2500, Model: &myelinpb.Population_IafPscDelta{IafPscDelta: &myelinpb.IafPscDelta{}}},
			},
		},
		Seed:       42,
		DtMs:       0.1,
		TotalSteps: 10000,
		Populations: []*myelinpb.PopulationRange{
			// Listed out of id order on purpose: the writer sorts its index.
			{Name: "I", FirstId: 10000, Size: 2500, Model: "iaf_psc_delta", Recorded: true},
			{Name: "E", FirstId: 0, Size: 10000, Model: "iaf_psc_delta", Recorded: true},
		},
		StateSeries: []*myelinpb.StateSeries{
			{Id: 1, Population: "E", Variable: "V_m", NeuronIds: []uint32{0, 1, 2}, Every: 10},
			{Id: 7, Population: "I", Variable: "V_m", NeuronIds: []uint32{10000}, Every: 1},
		},
	}
}

// block is the input of one WriteSpikes call.
type block struct {
	first  uint64
	counts []uint32
	ids    []uint32
}

// randomBlock draws nsteps steps of spikes among neurons [0, n), each
// neuron firing with probability p per step.
func randomBlock(rng *rand.Rand, first uint64, nsteps int, n uint32, p float64) block {
	b := block{first: first, counts: make([]uint32, nsteps)}
	for s := range nsteps {
		var ids []uint32
		for id := range n {
			if rng.Float64() < p {
				ids = append(ids, id)
			}
		}
		b.counts[s] = uint32(len(ids))
		b.ids = append(b.ids, ids...)
	}
	return b
}

// spikes returns the per-spike steps of a block.
func (b block) spikes() []uint64 {
	var steps []uint64
	for s, c := range b.counts {
		for range c {
			steps = append(steps, b.first+uint64(s))
		}
	}
	return steps
}

// deltas returns the block's ids delta-coded within each step.
func (b block) deltas() []uint32 {
	out := make([]uint32, 0, len(b.ids))
	pos := 0
	for _, c := range b.counts {
		var prev uint32
		for _, id := range b.ids[pos : pos+int(c)] {
			out = append(out, id-prev)
			prev = id
		}
		pos += int(c)
	}
	return out
}

// testStream is a small stream with every record kind and what it holds.
type testStream struct {
	data    []byte
	offsets []int64 // start of each record, then the end of the stream
	nstate  int     // state blocks written (series 1, 2 samples each)
	blocks  []block
	trailer *myelinpb.Trailer
}

// makeTestStream writes a header, nblocks spike blocks of nsteps steps
// (with a state block after each and a gap in the middle) and a trailer.
func makeTestStream(t testing.TB, seed uint64, nblocks, nsteps int) testStream {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	var buf bytes.Buffer
	ts := testStream{}
	w, err := NewWriter(&buf, testHeader())
	if err != nil {
		t.Fatal(err)
	}
	mark := func() {
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		ts.offsets = append(ts.offsets, int64(buf.Len()))
	}
	ts.offsets = append(ts.offsets, 0)
	mark()
	step, nextSample := uint64(0), uint64(0)
	for i := range nblocks {
		if i == nblocks/2 {
			if err := w.WriteGap(step, step+5, 17); err != nil {
				t.Fatal(err)
			}
			mark()
			step += 5
		}
		b := randomBlock(rng, step, nsteps, 12500, 0.002)
		if err := w.WriteSpikes(b.first, b.counts, b.ids); err != nil {
			t.Fatal(err)
		}
		mark()
		ts.blocks = append(ts.blocks, b)
		vals := make([]float32, 2*3)
		for j := range vals {
			vals[j] = float32(rng.NormFloat64())
		}
		// Series 1 samples every 10 steps from step 0.
		sample := max((step+9)/10*10, nextSample)
		if err := w.WriteState(1, sample, 2, vals); err != nil {
			t.Fatal(err)
		}
		nextSample = sample + 20
		mark()
		ts.nstate++
		step += uint64(nsteps)
	}
	// A complete run did all the header's steps; the last ones were silent.
	ts.trailer = &myelinpb.Trailer{Status: myelinpb.Trailer_COMPLETE, StepsDone: testHeader().GetTotalSteps(), Backend: "cpu", Threads: 4}
	if err := w.Close(ts.trailer); err != nil {
		t.Fatal(err)
	}
	ts.offsets = append(ts.offsets, int64(buf.Len()))
	ts.data = buf.Bytes()
	return ts
}

// frame frames rec as a record of the current format version, checksum
// included: the way to hand-craft streams in tests.
func frame(t testing.TB, rec *myelinpb.Record) []byte {
	t.Helper()
	p, err := AppendRecord(nil, rec, FormatVersion)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
