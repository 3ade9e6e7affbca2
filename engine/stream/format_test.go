package stream

import (
	"bytes"
	"slices"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"

	myelinpb "github.com/myelin-sim/myelin/proto"
)

// TestFieldNumbers checks the field numbers the hand encoders and the
// record scanner use against the generated code.
func TestFieldNumbers(t *testing.T) {
	num := func(m protoreflect.ProtoMessage, name string) protowire.Number {
		fd := m.ProtoReflect().Descriptor().Fields().ByName(protoreflect.Name(name))
		if fd == nil {
			t.Fatalf("%T has no field %s", m, name)
		}
		return fd.Number()
	}
	for _, c := range []struct {
		got  protowire.Number
		msg  protoreflect.ProtoMessage
		name string
	}{
		{FieldHeader, &myelinpb.Record{}, "header"},
		{FieldSpikes, &myelinpb.Record{}, "spikes"},
		{FieldState, &myelinpb.Record{}, "state"},
		{FieldTrailer, &myelinpb.Record{}, "trailer"},
		{FieldGap, &myelinpb.Record{}, "gap"},
		{FieldCRC, &myelinpb.Record{}, "crc32c"},
		{FieldSpikeFirstStep, &myelinpb.SpikeBlock{}, "first_step"},
		{FieldSpikeCounts, &myelinpb.SpikeBlock{}, "counts"},
		{FieldSpikeIDs, &myelinpb.SpikeBlock{}, "ids"},
		{FieldGapFirstStep, &myelinpb.Gap{}, "first_step"},
		{FieldGapLastStep, &myelinpb.Gap{}, "last_step"},
		{FieldGapMissed, &myelinpb.Gap{}, "missed_spikes"},
	} {
		if want := num(c.msg, c.name); c.got != want {
			t.Errorf("%T.%s is field %d, the package uses %d", c.msg, c.name, want, c.got)
		}
	}
	if fd := (&myelinpb.Record{}).ProtoReflect().Descriptor().Fields().ByName("crc32c"); fd.Kind() != protoreflect.Fixed32Kind || crcTag != 0x7d {
		t.Errorf("Record.crc32c is %v with tag %#x, want fixed32 with tag 0x7d", fd.Kind(), crcTag)
	}
}

// TestScanAndCount: ScanRecord reads every record of a stream as the
// Reader does, and CountSpikes counts each block's spikes per population
// as the trailer does.
func TestScanAndCount(t *testing.T) {
	ts := makeTestStream(t, 9, 6, 30)
	pi, err := NewPopIndex(testHeader())
	if err != nil {
		t.Fatal(err)
	}
	perPop := make([]uint64, pi.Len())
	var spikes uint64
	kinds := map[protowire.Number]int{}
	for i := 0; i+1 < len(ts.offsets); i++ {
		data := ts.data[ts.offsets[i]:ts.offsets[i+1]]
		if n, err := FrameLen(data); err != nil || n != len(data) {
			t.Fatalf("record %d: FrameLen %d, %v; want %d", i, n, err, len(data))
		}
		if _, err := FrameLen(data[:len(data)-1]); err != ErrIncomplete {
			t.Fatalf("record %d cut short: %v, want ErrIncomplete", i, err)
		}
		info, err := ScanRecord(data)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		kinds[info.Kind]++
		if info.Kind == FieldSpikes {
			spikes += info.Spikes
			c, err := CountSpikes(info.Msg, pi)
			if err != nil {
				t.Fatal(err)
			}
			for k, n := range c {
				perPop[k] += n
			}
		}
	}
	if kinds[FieldHeader] != 1 || kinds[FieldTrailer] != 1 || kinds[FieldSpikes] != 6 || kinds[FieldState] != 6 || kinds[FieldGap] != 1 {
		t.Errorf("kinds %v", kinds)
	}
	res, err := ReadAll(bytes.NewReader(ts.data))
	if err != nil {
		t.Fatal(err)
	}
	if spikes != uint64(len(res.IDs)) || !slices.Equal(perPop, res.Trailer.GetPopulationSpikes()) {
		t.Errorf("scanned %d spikes %v per population; the stream holds %d, trailer %v", spikes, perPop, len(res.IDs), res.Trailer.GetPopulationSpikes())
	}
}
