package stream

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	myelinpb "github.com/myelin-sim/myelin/proto"
)

// marshalDelimited frames rec as protodelim does, with deterministic
// marshalling: the reference for the hand encoder.
func marshalDelimited(t testing.TB, rec *myelinpb.Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	opts := protodelim.MarshalOptions{MarshalOptions: proto.MarshalOptions{Deterministic: true}}
	if _, err := opts.MarshalTo(&buf, rec); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestHandEncodingMatchesProtoMarshal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	blocks := []block{
		{first: 0},                            // empty block at step 0
		{first: 0, counts: []uint32{0, 0, 0}}, // steps, no spikes
		{first: 3, counts: []uint32{1}, ids: []uint32{0}},
		{first: 4, counts: []uint32{2, 0, 1}, ids: []uint32{5, math.MaxUint32, 127}},
		{first: 1 << 40, counts: []uint32{3}, ids: []uint32{128, 16384, 1 << 21}},
	}
	for i := range 20 {
		blocks = append(blocks, randomBlock(rng, uint64(1<<41+i*100), 1+rng.IntN(150), 12500, 0.01))
	}
	hdr := testHeader()
	hdr.Populations = nil // ids here run past the test populations
	for i, b := range blocks {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, hdr)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		headerLen := buf.Len()
		if err := w.WriteSpikes(b.first, b.counts, b.ids); err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		got := buf.Bytes()[headerLen:]
		rec := &myelinpb.Record{Kind: &myelinpb.Record_Spikes{Spikes: &myelinpb.SpikeBlock{
			FirstStep: b.first, Counts: b.counts, Ids: b.deltas(),
		}}}
		body, err := proto.MarshalOptions{Deterministic: true}.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		// proto.Marshal's bytes, then the checksum field over them.
		want := protowire.AppendVarint(nil, uint64(len(body)+CRCSize))
		want = append(want, body...)
		want = append(want, 0x7d)
		want = binary.LittleEndian.AppendUint32(want, crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)))
		// Any protobuf parser reads it as the record with crc32c set.
		parsed := &myelinpb.Record{}
		if err := protodelim.UnmarshalFrom(bufio.NewReader(bytes.NewReader(got)), parsed); err != nil || parsed.GetCrc32C() != binary.LittleEndian.Uint32(want[len(want)-4:]) {
			t.Errorf("block %d: protodelim reads %v, crc32c %x (%v)", i, parsed, parsed.GetCrc32C(), err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("block %d: hand encoding differs from proto.Marshal\n got % x\nwant % x", i, got[:min(len(got), 64)], want[:min(len(want), 64)])
		}
	}
}

func TestRoundTrip(t *testing.T) {
	ts := makeTestStream(t, 7, 12, 100)
	res, err := ReadAll(bytes.NewReader(ts.data))
	if err != nil {
		t.Fatal(err)
	}

	wantHeader := testHeader()
	wantHeader.FormatVersion = FormatVersion
	if !proto.Equal(res.Header, wantHeader) {
		t.Errorf("header differs:\n got %v\nwant %v", res.Header, wantHeader)
	}
	var wantSteps []uint64
	var wantIDs []uint32
	var popE, popI uint64
	for _, b := range ts.blocks {
		wantSteps = append(wantSteps, b.spikes()...)
		wantIDs = append(wantIDs, b.ids...)
		for _, id := range b.ids {
			if id < 10000 {
				popE++
			} else {
				popI++
			}
		}
	}
	if len(wantIDs) == 0 {
		t.Fatal("test stream holds no spikes")
	}
	if !slices.Equal(res.Steps, wantSteps) || !slices.Equal(res.IDs, wantIDs) {
		t.Errorf("spikes differ: got %d spikes, want %d", len(res.IDs), len(wantIDs))
	}
	wantTrailer := proto.CloneOf(ts.trailer)
	wantTrailer.TotalSpikes = uint64(len(wantIDs))
	wantTrailer.PopulationSpikes = []uint64{popI, popE} // header order: I, E
	if !proto.Equal(res.Trailer, wantTrailer) {
		t.Errorf("trailer differs:\n got %v\nwant %v", res.Trailer, wantTrailer)
	}
	if ts.trailer.TotalSpikes != 0 {
		t.Error("Close changed the caller's trailer")
	}
	if len(res.Gaps) != 1 || res.Gaps[0].GetMissedSpikes() != 17 || res.Gaps[0].GetLastStep()-res.Gaps[0].GetFirstStep() != 5 {
		t.Errorf("gaps: got %v", res.Gaps)
	}
	s1 := res.State[1]
	if len(s1.Steps) != 2*ts.nstate || len(s1.Values) != 6*ts.nstate {
		t.Errorf("state series 1: %d steps, %d values; want %d, %d", len(s1.Steps), len(s1.Values), 2*ts.nstate, 6*ts.nstate)
	}
	if s1.Steps[1]-s1.Steps[0] != 10 {
		t.Errorf("state series 1 samples every 10 steps, got steps %v", s1.Steps[:2])
	}
	if len(s1.Row(1)) != 3 {
		t.Errorf("Row(1) has %d values, want 3", len(s1.Row(1)))
	}
	if s7 := res.State[7]; s7 == nil || len(s7.Steps) != 0 {
		t.Errorf("state series 7 should be present and empty, got %v", s7)
	}

	// The Reader returns the same records that protodelim reads.
	rd := NewReader(bytes.NewReader(ts.data))
	br := bufio.NewReader(bytes.NewReader(ts.data))
	for i := 0; ; i++ {
		got, err := rd.Next()
		want := &myelinpb.Record{}
		werr := protodelim.UnmarshalFrom(br, want)
		if err == io.EOF && werr == io.EOF {
			if i != len(ts.offsets)-1 {
				t.Errorf("read %d records, want %d", i, len(ts.offsets)-1)
			}
			break
		}
		if err != nil || werr != nil {
			t.Fatalf("record %d: Reader: %v, protodelim: %v", i, err, werr)
		}
		if want.GetCrc32C() == 0 {
			t.Fatalf("record %d carries no checksum", i)
		}
		want.Crc32C = 0 // the Reader checks the checksum and drops it
		if !proto.Equal(got, want) {
			t.Fatalf("record %d differs from protodelim's", i)
		}
		if rd.Offset() != ts.offsets[i+1] {
			t.Fatalf("after record %d: Offset %d, want %d", i, rd.Offset(), ts.offsets[i+1])
		}
	}
	if rd.Header() == nil || rd.Header().GetSeed() != 42 {
		t.Error("Header() after Next: want the header")
	}
}

func TestDeterministicBytes(t *testing.T) {
	a := makeTestStream(t, 99, 5, 50)
	b := makeTestStream(t, 99, 5, 50)
	if !bytes.Equal(a.data, b.data) {
		t.Error("identical input gave different bytes")
	}
}

func TestPopulationSpikes(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testHeader())
	if err != nil {
		t.Fatal(err)
	}
	// step 0: E0, E9999, I0; step 1: nothing; step 2: I2499.
	if err := w.WriteSpikes(0, []uint32{3, 0, 1}, []uint32{0, 9999, 10000, 12499}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(nil); err != nil {
		t.Fatal(err)
	}
	res, err := ReadAll(&buf)
	if err != nil {
		t.Fatal(err)
	}
	times, ids := res.PopulationSpikes("I")
	if !slices.Equal(ids, []uint32{0, 2499}) || len(times) != 2 ||
		math.Abs(times[0]-0.1) > 1e-12 || math.Abs(times[1]-0.3) > 1e-12 {
		t.Errorf("I: times %v ids %v; want [0.1 0.3] [0 2499]", times, ids)
	}
	times, ids = res.PopulationSpikes("E")
	if !slices.Equal(ids, []uint32{0, 9999}) || len(times) != 2 {
		t.Errorf("E: times %v ids %v", times, ids)
	}
	if times, ids := res.PopulationSpikes("nope"); times != nil || ids != nil {
		t.Error("unknown population: want nil slices")
	}
	if got := res.Trailer.GetPopulationSpikes(); !slices.Equal(got, []uint64{2, 2}) {
		t.Errorf("trailer population_spikes %v, want [2 2]", got)
	}
}

func TestWriterRejects(t *testing.T) {
	newW := func(t *testing.T) (*Writer, *bytes.Buffer) {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, testHeader())
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteSpikes(10, []uint32{1}, []uint32{5}); err != nil {
			t.Fatal(err)
		}
		return w, &buf
	}
	cases := []struct {
		name string
		call func(w *Writer) error
		want string
	}{
		{"unsorted", func(w *Writer) error { return w.WriteSpikes(20, []uint32{2}, []uint32{9, 3}) }, "not strictly ascending"},
		{"duplicate", func(w *Writer) error { return w.WriteSpikes(20, []uint32{2}, []uint32{3, 3}) }, "not strictly ascending"},
		{"counts", func(w *Writer) error { return w.WriteSpikes(20, []uint32{2}, []uint32{3}) }, "counts add up to 2"},
		{"overlap", func(w *Writer) error { return w.WriteSpikes(10, []uint32{1}, []uint32{3}) }, "before the end of the previous block"},
		{"population", func(w *Writer) error { return w.WriteSpikes(20, []uint32{2}, []uint32{3, 12500}) }, "in no population"},
		{"series", func(w *Writer) error { return w.WriteState(3, 0, 1, []float32{1}) }, "not in the header"},
		{"values", func(w *Writer) error { return w.WriteState(1, 0, 2, []float32{1, 2, 3}) }, "need 6 values, got 3"},
		{"gap", func(w *Writer) error { return w.WriteGap(9, 8, 0) }, "before first step"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, buf := newW(t)
			err := c.call(w)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
			// Nothing was written and the writer still works.
			if err := w.WriteSpikes(30, []uint32{1}, []uint32{7}); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(nil); err != nil {
				t.Fatal(err)
			}
			res, err := ReadAll(buf)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.IDs, []uint32{5, 7}) || !slices.Equal(res.Steps, []uint64{10, 30}) {
				t.Errorf("got spikes %v at %v", res.IDs, res.Steps)
			}
			if err := w.WriteSpikes(40, nil, nil); err == nil {
				t.Error("write after Close: want an error")
			}
		})
	}

	headers := map[string]func(h *myelinpb.Header){
		"version":  func(h *myelinpb.Header) { h.FormatVersion = NewestFormatVersion + 1 },
		"dt":       func(h *myelinpb.Header) { h.DtMs = 0 },
		"overlap":  func(h *myelinpb.Header) { h.Populations[0].FirstId = 9999 },
		"range":    func(h *myelinpb.Header) { h.Populations[0].FirstId = math.MaxUint32 },
		"seriesid": func(h *myelinpb.Header) { h.StateSeries[1].Id = 1 },
		"nowidth":  func(h *myelinpb.Header) { h.StateSeries[1].NeuronIds = nil },
	}
	for name, edit := range headers {
		h := testHeader()
		edit(h)
		if _, err := NewWriter(io.Discard, h); err == nil {
			t.Errorf("header %s: NewWriter accepted it", name)
		}
	}
}

// failWriter fails after n bytes.
type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k := f.n
		f.n = 0
		return k, errors.New("disk full")
	}
	f.n -= len(p)
	return len(p), nil
}

func TestWriterErrorIsSticky(t *testing.T) {
	if _, err := NewWriter(&failWriter{n: 10}, testHeader()); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("NewWriter: got %v, want disk full", err)
	}
	fw := &failWriter{n: 1 << 20}
	w, err := NewWriter(fw, testHeader())
	if err != nil {
		t.Fatal(err)
	}
	fw.n = 2
	if err := w.WriteSpikes(0, []uint32{2}, []uint32{1, 2}); err != nil {
		t.Fatal(err) // buffered: nothing reached the writer yet
	}
	if err := w.Flush(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Flush: got %v, want disk full", err)
	}
	if err := w.WriteSpikes(1, nil, nil); err == nil {
		t.Error("WriteSpikes after a failed flush: want the error")
	}
	if err := w.Close(nil); err == nil {
		t.Error("Close after a failed flush: want the error")
	}
}

func TestTruncatedAtEveryByte(t *testing.T) {
	ts := makeTestStream(t, 3, 4, 20)
	for cut := range len(ts.data) {
		res, err := ReadAll(bytes.NewReader(ts.data[:cut]))
		// k: the number of records that fit entirely in the cut.
		k := 0
		for k+1 < len(ts.offsets) && ts.offsets[k+1] <= int64(cut) {
			k++
		}
		atBoundary := ts.offsets[k] == int64(cut)
		if atBoundary && cut > 0 {
			if err != nil {
				t.Fatalf("cut at record boundary %d: %v", cut, err)
			}
			if (res.Trailer != nil) != (k == len(ts.offsets)-1) {
				t.Fatalf("cut %d: trailer presence wrong", cut)
			}
			continue
		}
		var se *Error
		if !errors.As(err, &se) {
			t.Fatalf("cut %d: got %v, want *Error", cut, err)
		}
		if se.Index != k || se.Offset != ts.offsets[k] {
			t.Fatalf("cut %d: error names record %d at byte %d, want record %d at byte %d (%v)", cut, se.Index, se.Offset, k, ts.offsets[k], err)
		}
		if !errors.Is(err, ErrTruncated) && cut > 0 {
			t.Fatalf("cut %d: %v is not ErrTruncated", cut, err)
		}
		if k == 0 {
			if !errors.Is(err, ErrNotStream) {
				t.Fatalf("cut %d in the header: %v is not ErrNotStream", cut, err)
			}
			continue
		}
		// The records before the cut are usable.
		if res.Header == nil {
			t.Fatalf("cut %d: header lost", cut)
		}
		want := fmt.Sprintf("stream: record %d at byte %d: truncated: need ", k, ts.offsets[k])
		prefixCut := cut-int(ts.offsets[k]) < 3 // may fall inside the length prefix
		if !prefixCut && !strings.HasPrefix(err.Error(), want) {
			t.Fatalf("cut %d: message %q, want prefix %q", cut, err.Error(), want)
		}
	}
}

func TestTruncatedKeepsSpikes(t *testing.T) {
	ts := makeTestStream(t, 5, 6, 30)
	// Cut in the middle of the trailer: every spike block survives.
	cut := (ts.offsets[len(ts.offsets)-2] + ts.offsets[len(ts.offsets)-1]) / 2
	res, err := ReadAll(bytes.NewReader(ts.data[:cut]))
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("got %v, want truncated", err)
	}
	n := 0
	for _, b := range ts.blocks {
		n += len(b.ids)
	}
	if len(res.IDs) != n || res.Trailer != nil {
		t.Errorf("kept %d spikes (want %d), trailer %v", len(res.IDs), n, res.Trailer)
	}
}

func TestCorruptedBytesNeverPanic(t *testing.T) {
	ts := makeTestStream(t, 11, 3, 10)
	for pos := range ts.data {
		for _, x := range []byte{0x01, 0x80, 0xff, 0x7f} {
			data := bytes.Clone(ts.data)
			data[pos] ^= x
			res, err := ReadAll(bytes.NewReader(data))
			if res == nil {
				t.Fatalf("pos %d: nil result", pos)
			}
			var se *Error
			if err != nil && !errors.As(err, &se) {
				t.Fatalf("pos %d: error %v is not an *Error", pos, err)
			}
			if se != nil && (se.Offset < 0 || se.Offset > int64(len(data))) {
				t.Fatalf("pos %d: offset %d out of range", pos, se.Offset)
			}
		}
	}
}

func TestNotAStream(t *testing.T) {
	spikesFirst := marshalDelimited(t, &myelinpb.Record{Kind: &myelinpb.Record_Spikes{Spikes: &myelinpb.SpikeBlock{Counts: []uint32{1}, Ids: []uint32{1}}}})
	inputs := map[string][]byte{
		"empty":        nil,
		"text":         []byte("# Myelin network\nname: \"brunel\"\npopulations { name: \"E\" size: 10000 }\n"),
		"json":         []byte(`{"name": "brunel", "populations": [{"name": "E", "size": 10000}]}`),
		"spikes first": spikesFirst,
		"huge length":  {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"long varint":  bytes.Repeat([]byte{0x80}, 11),
	}
	for name, data := range inputs {
		_, err := NewReader(bytes.NewReader(data)).Next()
		if !errors.Is(err, ErrNotStream) {
			t.Errorf("%s: got %v, want ErrNotStream", name, err)
			continue
		}
		if !strings.Contains(err.Error(), "not a Myelin stream") {
			t.Errorf("%s: message %q", name, err)
		}
	}
}

func TestWrongVersion(t *testing.T) {
	h := testHeader()
	h.FormatVersion = NewestFormatVersion + 1
	data := frame(t, &myelinpb.Record{Kind: &myelinpb.Record_Header{Header: h}})
	_, err := ReadAll(bytes.NewReader(data))
	if !errors.Is(err, ErrVersion) || errors.Is(err, ErrNotStream) {
		t.Fatalf("got %v, want ErrVersion", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("version %d,", NewestFormatVersion+1)) || !strings.Contains(err.Error(), fmt.Sprintf("versions %d to %d", OldestFormatVersion, NewestFormatVersion)) {
		t.Errorf("message %q should name both versions", err)
	}
}

func TestRecordOrder(t *testing.T) {
	header := frame(t, &myelinpb.Record{Kind: &myelinpb.Record_Header{Header: &myelinpb.Header{FormatVersion: FormatVersion, DtMs: 0.1}}})
	trailer := frame(t, &myelinpb.Record{Kind: &myelinpb.Record_Trailer{Trailer: &myelinpb.Trailer{}}})
	spikes := frame(t, &myelinpb.Record{Kind: &myelinpb.Record_Spikes{Spikes: &myelinpb.SpikeBlock{}}})
	empty := frame(t, &myelinpb.Record{})
	cases := map[string]struct {
		data []byte
		want string
	}{
		"two headers":   {slices.Concat(header, header), fmt.Sprintf("record 1 at byte %d: corrupt: a second header", len(header))},
		"after trailer": {slices.Concat(header, trailer, spikes), fmt.Sprintf("record 2 at byte %d: corrupt: record after the trailer", len(header)+len(trailer))},
		"no kind":       {slices.Concat(header, empty), fmt.Sprintf("record 1 at byte %d: corrupt: record holds no known kind", len(header))},
	}
	for name, c := range cases {
		res, err := ReadAll(bytes.NewReader(c.data))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", name, err, c.want)
		}
		if res.Header == nil {
			t.Errorf("%s: header lost", name)
		}
	}
}

func TestReadAllRejectsBadBlocks(t *testing.T) {
	h := testHeader()
	h.FormatVersion = FormatVersion
	header := frame(t, &myelinpb.Record{Kind: &myelinpb.Record_Header{Header: h}})
	rec := func(b *myelinpb.SpikeBlock) []byte {
		return frame(t, &myelinpb.Record{Kind: &myelinpb.Record_Spikes{Spikes: b}})
	}
	state := func(b *myelinpb.StateBlock) []byte {
		return frame(t, &myelinpb.Record{Kind: &myelinpb.Record_State{State: b}})
	}
	cases := map[string]struct {
		data []byte
		want string
	}{
		"counts":   {slices.Concat(header, rec(&myelinpb.SpikeBlock{Counts: []uint32{3}, Ids: []uint32{1}})), "counts add up to 3 spikes but it holds 1"},
		"dup":      {slices.Concat(header, rec(&myelinpb.SpikeBlock{Counts: []uint32{2}, Ids: []uint32{1, 0}})), "not strictly ascending"},
		"wrap":     {slices.Concat(header, rec(&myelinpb.SpikeBlock{Counts: []uint32{2}, Ids: []uint32{5, math.MaxUint32}})), "not strictly ascending"},
		"order":    {slices.Concat(header, rec(&myelinpb.SpikeBlock{FirstStep: 5, Counts: []uint32{0, 0}}), rec(&myelinpb.SpikeBlock{FirstStep: 6})), "overlaps"},
		"series":   {slices.Concat(header, state(&myelinpb.StateBlock{Series: 9})), "does not list"},
		"values":   {slices.Concat(header, state(&myelinpb.StateBlock{Series: 1, NumSamples: 1, Values: []float32{1}})), "need 3 values, it holds 1"},
		"trailer":  {slices.Concat(header, frame(t, &myelinpb.Record{Kind: &myelinpb.Record_Trailer{Trailer: &myelinpb.Trailer{TotalSpikes: 4}}})), "trailer counts 4 spikes, the stream holds 0"},
		"overflow": {slices.Concat(header, rec(&myelinpb.SpikeBlock{FirstStep: math.MaxUint64, Counts: []uint32{0, 0}})), "uint64 range"},
	}
	for name, c := range cases {
		res, err := ReadAll(bytes.NewReader(c.data))
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want ErrCorrupt with %q", name, err, c.want)
		}
		var se *Error
		if !errors.As(err, &se) || se.Index != 1 && name != "order" || se.Offset != int64(len(header)) && name != "order" {
			t.Errorf("%s: error %v should name record 1 at byte %d", name, err, len(header))
		}
		if res == nil || res.Header == nil {
			t.Errorf("%s: header lost", name)
		}
	}
	if _, _, err := DecodeSpikes(&myelinpb.SpikeBlock{Counts: []uint32{1}}); err == nil || !strings.HasPrefix(err.Error(), "stream: DecodeSpikes: ") {
		t.Errorf("DecodeSpikes: got %v", err)
	}
}

func TestDecodeSpikes(t *testing.T) {
	steps, ids, err := DecodeSpikes(&myelinpb.SpikeBlock{FirstStep: 100, Counts: []uint32{2, 0, 3}, Ids: []uint32{4, 3, 0, 1, 10}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(steps, []uint64{100, 100, 102, 102, 102}) || !slices.Equal(ids, []uint32{4, 7, 0, 1, 11}) {
		t.Errorf("got steps %v ids %v", steps, ids)
	}
}

func TestGarbageLengthAllocatesLittle(t *testing.T) {
	ts := makeTestStream(t, 1, 1, 1)
	hlen := ts.offsets[1]
	// A record claiming 900 MiB followed by a few bytes.
	data := slices.Concat(ts.data[:hlen], []byte{0x80, 0x80, 0x80, 0xc2, 0x03}, make([]byte, 95))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ReadAll(bytes.NewReader(data))
	runtime.ReadMemStats(&after)
	want := fmt.Sprintf("stream: record 1 at byte %d: truncated: need 943718400 bytes, have 95", hlen)
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 8<<20 {
		t.Errorf("allocated %d bytes for a garbage length", d)
	}
}
