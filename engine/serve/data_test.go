package serve

import (
	"bufio"
	"bytes"
	"math"
	"testing"

	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// testData holds spikes and samples as the engine records them: varints
// of every size, a series without rows (left out), series 0 (its index
// left out) and more bytes than one chunk holds.
func testData() *encodedData {
	d := &encodedData{first: 0, end: 1 << 36, samples: make([]encodedSamples, 3)}
	for i := range 5000 {
		d.addSpike(uint64(i)<<(i%37), uint32(i*i))
	}
	d.addRows(0, 0, 2, []float32{-70, 1.5, float32(math.Inf(1)), 0})
	d.addRows(0, 99, 1, []float32{3, 4})
	d.addRows(2, 7, 1, []float32{-0.25})
	return d
}

// The data held encoded are the bytes proto.Marshal gives for them, and
// payload counts those of the spikes and samples.
func TestEncodedDataIsMarshal(t *testing.T) {
	for _, d := range []*encodedData{testData(), {samples: make([]encodedSamples, 2)}, {first: 5, end: 5}} {
		var buf bytes.Buffer
		if err := d.writeTo(&buf); err != nil {
			t.Fatal(err)
		}
		if buf.Len() != d.size() {
			t.Errorf("wrote %d bytes, size says %d", buf.Len(), d.size())
		}
		m, err := d.decode()
		if err != nil {
			t.Fatal(err)
		}
		want, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("encoded %d bytes differ from proto.Marshal's %d", buf.Len(), len(want))
		}
		var payload uint64
		for i, s := range m.GetSpikeSteps() {
			payload += uint64(protowire.SizeVarint(s) + protowire.SizeVarint(uint64(m.GetSpikeIds()[i])))
		}
		for _, s := range m.GetSamples() {
			payload += 4 * uint64(len(s.GetValues()))
		}
		if payload != d.payload() {
			t.Errorf("payload %d, counted from the message %d", d.payload(), payload)
		}
	}
	m, _ := testData().decode()
	if s := m.GetSamples(); len(s) != 2 || s[0].GetSeries() != 0 || s[0].GetNumSamples() != 3 || s[0].GetFirstStep() != 0 ||
		s[1].GetSeries() != 2 || s[1].GetFirstStep() != 7 || len(s[0].GetValues()) != 6 || !math.IsInf(float64(s[0].GetValues()[2]), 1) {
		t.Errorf("samples %v", s)
	}
	if len(m.GetSpikeIds()) != 5000 || m.GetSpikeIds()[4999] != 4999*4999 || m.GetEndStep() != 1<<36 {
		t.Errorf("spikes: %d, last id %d", len(m.GetSpikeIds()), m.GetSpikeIds()[4999])
	}
}

// A reply written with its recorded data held encoded reads back as the
// reply with the data in place, for a Ran and for a Data reply.
func TestWriteReplyWithData(t *testing.T) {
	data, _ := testData().decode()
	ran := &myelinpb.Ran{Step: 12, TimeMs: 1.2, PopulationSpikes: []uint64{3, 0, 9}, Interrupted: true, StepsLeft: 8}
	for _, c := range []struct {
		rep, want *myelinpb.Reply
	}{
		{&myelinpb.Reply{Id: 4, Error: "run: interrupted", Kind: &myelinpb.Reply_Ran{Ran: ran}},
			&myelinpb.Reply{Id: 4, Error: "run: interrupted", Kind: &myelinpb.Reply_Ran{Ran: func() *myelinpb.Ran {
				r := proto.Clone(ran).(*myelinpb.Ran)
				r.Data = data
				return r
			}()}}},
		{&myelinpb.Reply{Id: 5, Kind: &myelinpb.Reply_Data{Data: &myelinpb.Data{}}}, &myelinpb.Reply{Id: 5, Kind: &myelinpb.Reply_Data{Data: data}}},
	} {
		var buf bytes.Buffer
		for range 2 {
			if err := writeReply(&buf, c.rep, testData()); err != nil {
				t.Fatal(err)
			}
		}
		r := bufio.NewReader(&buf)
		for range 2 {
			got := &myelinpb.Reply{}
			if err := protodelim.UnmarshalFrom(r, got); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, c.want) {
				t.Errorf("reply %d read back differs", c.rep.GetId())
			}
		}
		if buf.Len() != 0 {
			t.Errorf("%d bytes left after the replies", buf.Len())
		}
	}
	if err := writeReply(&bytes.Buffer{}, &myelinpb.Reply{Kind: &myelinpb.Reply_Done{Done: &myelinpb.Done{}}}, testData()); err == nil {
		t.Error("recorded data in a Done reply: no error")
	}
}
