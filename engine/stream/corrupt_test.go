package stream

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/myelin-sim/myelin/internal/pytest"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// updateCorrupt rewrites testdata/corrupt from corruptCases.
var updateCorrupt = flag.Bool("update-corrupt", false, "rewrite testdata/corrupt/*.myelin and cases.json")

// corruptDir holds the corrupt-stream table that the Go and the Python
// readers both run (python/check_roundtrip.py --table).
var corruptDir = filepath.Join("testdata", "corrupt")

// corruptCase is one entry of testdata/corrupt/cases.json: a stream file and
// what every reader must say about it. Error is the Python class name
// (NotAStreamError, TruncatedError, CorruptError, VersionError; "" for a
// valid stream), Index the bad record, Contains a piece of the message that
// both readers write alike, Spikes the spikes read before the error.
type corruptCase struct {
	File     string `json:"file"`
	What     string `json:"what"`
	Error    string `json:"error"`
	Index    int    `json:"index"`
	Contains string `json:"contains"`
	Spikes   int    `json:"spikes"`
}

// corruptHeader is the header the corrupt cases start from: E [0, 80),
// I [80, 100), 1000 steps, one state series of E sampled every 10 steps.
func corruptHeader() *myelinpb.Header {
	return &myelinpb.Header{
		FormatVersion: FormatVersion, Seed: 3, DtMs: 0.1, TotalSteps: 1000,
		Spec: &myelinpb.Network{Name: "corrupt-table"},
		Populations: []*myelinpb.PopulationRange{
			{Name: "E", FirstId: 0, Size: 80, Model: "iaf_psc_delta", Recorded: true},
			{Name: "I", FirstId: 80, Size: 20, Model: "iaf_psc_delta", Recorded: true},
		},
		StateSeries: []*myelinpb.StateSeries{{Id: 1, Population: "E", Variable: "V_m", NeuronIds: []uint32{0, 1}, Every: 10}},
	}
}

func hdrRec(h *myelinpb.Header) *myelinpb.Record {
	return &myelinpb.Record{Kind: &myelinpb.Record_Header{Header: h}}
}

func spk(first uint64, counts, deltas []uint32) *myelinpb.Record {
	return &myelinpb.Record{Kind: &myelinpb.Record_Spikes{Spikes: &myelinpb.SpikeBlock{FirstStep: first, Counts: counts, Ids: deltas}}}
}

func st(series uint32, first uint64, n uint32, values ...float32) *myelinpb.Record {
	return &myelinpb.Record{Kind: &myelinpb.Record_State{State: &myelinpb.StateBlock{Series: series, FirstStep: first, NumSamples: n, Values: values}}}
}

func trl(total uint64, pops ...uint64) *myelinpb.Record {
	return &myelinpb.Record{Kind: &myelinpb.Record_Trailer{Trailer: &myelinpb.Trailer{Status: myelinpb.Trailer_COMPLETE, StepsDone: 1000, TotalSpikes: total, PopulationSpikes: pops}}}
}

// build frames records as version-2 records.
func build(t testing.TB, recs ...*myelinpb.Record) []byte {
	var out []byte
	for _, r := range recs {
		out = append(out, frame(t, r)...)
	}
	return out
}

// withHeader returns the default header changed by edit.
func withHeader(edit func(h *myelinpb.Header)) *myelinpb.Record {
	h := corruptHeader()
	edit(h)
	return hdrRec(h)
}

// corruptCases builds the table: the stream bytes and the expected verdict.
func corruptCases(t testing.TB) map[string]struct {
	data []byte
	c    corruptCase
} {
	good := []*myelinpb.Record{hdrRec(corruptHeader()), spk(0, []uint32{2, 1}, []uint32{3, 80, 5}), st(1, 0, 1, -65, -64), spk(2, []uint32{1}, []uint32{99}), trl(4, 2, 2)}
	goodBytes := build(t, good...)
	hlen := len(frame(t, good[0]))
	flipped := bytes.Clone(goodBytes)
	flipped[hlen+4] ^= 0x01 // inside the first spike block
	noCRC := slices.Concat(frame(t, good[0]), marshalDelimited(t, good[1]))
	v1 := func() []byte { // the same stream as version 1: no checksums
		h := corruptHeader()
		h.FormatVersion = 1
		var out []byte
		for _, r := range append([]*myelinpb.Record{hdrRec(h)}, good[1:]...) {
			p, err := AppendRecord(nil, r, 1)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, p...)
		}
		return out
	}()
	type entry = struct {
		data []byte
		c    corruptCase
	}
	cases := map[string]entry{}
	add := func(name string, data []byte, c corruptCase) {
		c.File = name + ".myelin"
		cases[name] = entry{data, c}
	}
	if golden, err := os.ReadFile(filepath.Join("testdata", "golden-v1.myelin")); err == nil {
		add("valid-v1-golden", golden, corruptCase{What: "a real version-1 run (myelin run brunel, before version 2)", Index: -1, Spikes: 539})
	}
	add("valid-v2", goodBytes, corruptCase{What: "a valid version-2 stream", Index: -1, Spikes: 4})
	add("valid-v1", v1, corruptCase{What: "the same stream as version 1 (no checksums): still reads", Index: -1, Spikes: 4})
	// The edges of what a reader accepts: dt at both ends of its range, a
	// COMPLETE trailer that does not count its steps (0) and an
	// INTERRUPTED one that stopped early.
	edge := func(dt float64, tr *myelinpb.Trailer) []byte {
		tr.TotalSpikes = 3
		return build(t, withHeader(func(h *myelinpb.Header) { h.DtMs = dt }), good[1], &myelinpb.Record{Kind: &myelinpb.Record_Trailer{Trailer: tr}})
	}
	add("valid-dt-1ns", edge(MinDtMs, &myelinpb.Trailer{Status: myelinpb.Trailer_COMPLETE}),
		corruptCase{What: "dt 1e-6 ms (the least a reader accepts), a COMPLETE trailer with steps_done unset", Index: -1, Spikes: 3})
	add("valid-dt-10ms", edge(MaxDtMs, &myelinpb.Trailer{Status: myelinpb.Trailer_INTERRUPTED, StepsDone: 5}),
		corruptCase{What: "dt 10 ms (the most a spec allows), an INTERRUPTED trailer after 5 of 1000 steps", Index: -1, Spikes: 3})
	add("flipped-byte", flipped, corruptCase{What: "one flipped bit in a spike record", Error: "CorruptError", Index: 1, Contains: "corrupt: checksum: CRC-32C of the record is"})
	add("no-checksum", noCRC, corruptCase{What: "a version-2 record without its checksum", Error: "CorruptError", Index: 1, Contains: "record carries no checksum"})
	add("truncated", goodBytes[:len(goodBytes)-3], corruptCase{What: "cut inside the trailer", Error: "TruncatedError", Index: 4, Contains: "truncated: need", Spikes: 4})
	add("not-a-stream", []byte("name: \"brunel\"\npopulations { name: \"E\" size: 100 }\n"), corruptCase{What: "a text spec", Error: "NotAStreamError", Index: 0, Contains: "not a Myelin stream"})
	add("version-4", build(t, withHeader(func(h *myelinpb.Header) { h.FormatVersion = 4 })), corruptCase{What: "format version 4", Error: "VersionError", Index: 0, Contains: "stream has format version 4"})
	// Version 3: weights records, and records of unknown kinds skipped.
	v3 := withHeader(func(h *myelinpb.Header) { h.FormatVersion = 3 })
	wts := func(first, total uint64, pre, post []uint32, w []int32) *myelinpb.Record {
		return &myelinpb.Record{Kind: &myelinpb.Record_Weights{Weights: &myelinpb.Weights{Pre: "E", Post: "I", Step: 1000, First: first, Total: total, PreIndex: pre, PostIndex: post, Weight: w, Shift: 20}}}
	}
	future := &myelinpb.Record{}
	future.ProtoReflect().SetUnknown([]byte{14<<3 | 2, 1, 0}) // a record of a kind this reader does not know
	add("valid-v3-weights", build(t, v3, good[1], wts(0, 3, []uint32{0, 5}, []uint32{1, 19}, []int32{7, -7}), wts(2, 3, []uint32{79}, []uint32{0}, []int32{1 << 30}), future, good[2], good[3], good[4]),
		corruptCase{What: "a version-3 stream with weights records and a record of an unknown kind (skipped)", Index: -1, Spikes: 4})
	add("weights-in-v2", build(t, good[0], good[1], wts(0, 1, []uint32{0}, []uint32{1}, []int32{7})),
		corruptCase{What: "a weights record in a version-2 stream", Error: "CorruptError", Index: 2, Contains: "weights record in a format version 2 stream", Spikes: 3})
	add("weights-bad-index", build(t, v3, wts(0, 1, []uint32{0}, []uint32{20}, []int32{7})),
		corruptCase{What: "a weights record with a post index past its population", Error: "CorruptError", Index: 1, Contains: `post_index[0] = 20: population "I" has 20 neurons`})
	add("weights-out-of-order", build(t, v3, wts(1, 2, []uint32{0}, []uint32{1}, []int32{7})),
		corruptCase{What: "a weights record that does not start where the pair's records so far end", Error: "CorruptError", Index: 1, Contains: "starts at synapse 1, want 0"})
	wtsShift := wts(1, 2, []uint32{1}, []uint32{2}, []int32{7})
	wtsShift.GetWeights().Shift = 0
	add("weights-incomplete", build(t, v3, good[1], wts(0, 3, []uint32{0, 5}, []uint32{1, 19}, []int32{7, -7}), good[2], good[3], good[4]),
		corruptCase{What: "weights records that hold fewer synapses than their total when the trailer comes", Error: "CorruptError", Index: 5, Contains: `weights "E" -> "I": the records hold 2 of the pair's 3 synapses`, Spikes: 4})
	add("weights-shift-changes", build(t, v3, wts(0, 2, []uint32{0}, []uint32{1}, []int32{7}), wtsShift),
		corruptCase{What: "a weights record whose shift differs from the pair's first record", Error: "CorruptError", Index: 2, Contains: "step 1000 and shift 0, an earlier record of the pair said 1000 and 20"})
	add("weights-repeated", build(t, v3, wts(0, 1, []uint32{0}, []uint32{1}, []int32{7}), wts(0, 1, []uint32{0}, []uint32{1}, []int32{7})),
		corruptCase{What: "the weights of a pair written twice", Error: "CorruptError", Index: 2, Contains: "a record after the pair's 1 synapses were all read"})
	add("unknown-kind-v2", build(t, good[0], future), corruptCase{What: "a record of no known kind in a version-2 stream", Error: "CorruptError", Index: 1, Contains: "record holds no known kind"})
	for _, c := range []struct {
		name, what, contains string
		edit                 func(h *myelinpb.Header)
	}{
		{"dt-zero", "dt 0", "header.dt_ms is 0, want a finite value > 0", func(h *myelinpb.Header) { h.DtMs = 0 }},
		{"dt-nan", "dt NaN", "header.dt_ms is NaN", func(h *myelinpb.Header) { h.DtMs = math.NaN() }},
		{"dt-negative", "dt -0.1", "header.dt_ms is -0.1", func(h *myelinpb.Header) { h.DtMs = -0.1 }},
		{"dt-inf", "dt +Inf", "header.dt_ms is +Inf", func(h *myelinpb.Header) { h.DtMs = math.Inf(1) }},
		{"dt-huge", "dt 1e300, past the 10 ms a spec allows", "header.dt_ms is 1e+300, want a step in [1e-06, 10] ms", func(h *myelinpb.Header) { h.DtMs = 1e300 }},
		{"dt-tiny", "dt 1e-300, below a nanosecond", "header.dt_ms is 1e-300, want a step in [1e-06, 10] ms", func(h *myelinpb.Header) { h.DtMs = 1e-300 }},
		{"pops-overlap", "populations overlap", "ids [70, 90) overlap population", func(h *myelinpb.Header) { h.Populations[1].FirstId = 70 }},
		{"pops-hole", "a hole between populations", "the populations must tile the ids from 0 without holes", func(h *myelinpb.Header) { h.Populations[1].FirstId = 90 }},
		{"pops-not-from-0", "ids start at 5", "ids start at 5, want 0", func(h *myelinpb.Header) { h.Populations[0].FirstId = 5 }},
		{"neurons-2e9", "2e9 + 2^31 neurons", "more than the 2147483648 a stream may describe", func(h *myelinpb.Header) { h.Populations[1].Size = math.MaxUint32 - 80 }},
		{"pops-same-name", "two populations named E", "is also the name of populations[0]", func(h *myelinpb.Header) { h.Populations[1].Name = "E" }},
		{"series-dup", "two state series with id 1", "is also the id of state_series[0]", func(h *myelinpb.Header) {
			h.StateSeries = append(h.StateSeries, proto.CloneOf(h.StateSeries[0]))
		}},
		{"series-outside", "a state series neuron outside its population", "neuron_ids[1] = 90 is outside population", func(h *myelinpb.Header) { h.StateSeries[0].NeuronIds[1] = 90 }},
		{"series-empty", "a state series of no neurons", "lists no neurons", func(h *myelinpb.Header) { h.StateSeries[0].NeuronIds = nil }},
		{"series-unknown-pop", "a state series of a population not in the header", "is not in the header", func(h *myelinpb.Header) { h.StateSeries[0].Population = "X" }},
	} {
		add("header-"+c.name, build(t, withHeader(c.edit)), corruptCase{What: c.what, Error: "CorruptError", Index: 0, Contains: c.contains})
	}
	for _, c := range []struct {
		name, what, contains string
		index, spikes        int
		recs                 []*myelinpb.Record
	}{
		{"step-past-end", "a spike block at step 2^62 of a 1000-step run", "passes the end of the run (header.total_steps 1000)", 1, 0, []*myelinpb.Record{spk(1<<62, []uint32{1}, []uint32{3})}},
		{"step-overflow", "a spike block whose steps pass 2^64", "pass the uint64 range", 1, 0, []*myelinpb.Record{spk(math.MaxUint64, []uint32{0, 0}, nil)}},
		{"id-past-last", "neuron id 100 of a 100-neuron network", "neuron id 100 lies in no population of the header", 1, 0, []*myelinpb.Record{spk(0, []uint32{1}, []uint32{100})}},
		{"ids-descending", "ids not ascending within a step", "not strictly ascending", 1, 0, []*myelinpb.Record{spk(0, []uint32{2}, []uint32{5, 0})}},
		{"counts-mismatch", "counts that do not add up to the ids", "counts add up to 3 spikes but it holds 1", 1, 0, []*myelinpb.Record{spk(0, []uint32{3}, []uint32{1})}},
		{"blocks-backwards", "a spike block before the one it follows", "overlaps the block or gap before it", 2, 1, []*myelinpb.Record{spk(5, []uint32{1}, []uint32{1}), spk(3, []uint32{1}, []uint32{1})}},
		{"state-unknown-series", "a state block of a series the header lacks", "which the header does not list", 1, 0, []*myelinpb.Record{st(9, 0, 1, 1, 2)}},
		{"state-values", "a state block with too few values", "need 4 values, it holds 2", 1, 0, []*myelinpb.Record{st(1, 0, 2, 1, 2)}},
		{"state-off-grid", "a state sample between sampling steps", "not a multiple of its sampling interval 10", 1, 0, []*myelinpb.Record{st(1, 5, 1, 1, 2)}},
		{"state-backwards", "state blocks out of order", "overlaps the block before it", 2, 0, []*myelinpb.Record{st(1, 20, 1, 1, 2), st(1, 10, 1, 1, 2)}},
		{"state-past-end", "a state sample past the end of the run", "past the end of the run", 1, 0, []*myelinpb.Record{st(1, 990, 2, 1, 2, 3, 4)}},
		{"gap-past-end", "a gap past the end of the run", "passes the end of the run", 1, 0, []*myelinpb.Record{{Kind: &myelinpb.Record_Gap{Gap: &myelinpb.Gap{FirstStep: 0, LastStep: 5000}}}}},
		{"gap-backwards", "a gap that ends before it starts", "before its first step", 1, 0, []*myelinpb.Record{{Kind: &myelinpb.Record_Gap{Gap: &myelinpb.Gap{FirstStep: 9, LastStep: 8}}}}},
		{"trailer-total", "a trailer that counts spikes the stream lacks", "trailer counts 5 spikes, the stream holds 1", 2, 1, []*myelinpb.Record{spk(0, []uint32{1}, []uint32{1}), trl(5)}},
		{"trailer-per-pop", "a trailer whose per-population counts are wrong", "trailer counts 0 spikes of population", 2, 1, []*myelinpb.Record{spk(0, []uint32{1}, []uint32{1}), trl(1, 0, 1)}},
		{"trailer-complete-short", "a COMPLETE trailer that did 5 of the 1000 steps", "trailer.status is COMPLETE but trailer.steps_done 5 is less than header.total_steps 1000", 2, 1,
			[]*myelinpb.Record{spk(0, []uint32{1}, []uint32{1}), {Kind: &myelinpb.Record_Trailer{Trailer: &myelinpb.Trailer{Status: myelinpb.Trailer_COMPLETE, StepsDone: 5, TotalSpikes: 1}}}}},
		{"after-trailer", "a record after the trailer", "record after the trailer", 2, 0, []*myelinpb.Record{trl(0), spk(0, nil, nil)}},
		{"second-header", "a second header", "a second header", 1, 0, []*myelinpb.Record{hdrRec(corruptHeader())}},
	} {
		add(c.name, build(t, append([]*myelinpb.Record{hdrRec(corruptHeader())}, c.recs...)...), corruptCase{What: c.what, Error: "CorruptError", Index: c.index, Contains: c.contains, Spikes: c.spikes})
	}
	return cases
}

// verdict returns what ReadAll says about data, in the table's terms.
func verdict(data []byte) (corruptCase, string) {
	res, err := ReadAll(bytes.NewReader(data))
	v := corruptCase{Index: -1, Spikes: len(res.IDs)}
	if err == nil {
		return v, ""
	}
	var se *Error
	if errors.As(err, &se) {
		v.Index = se.Index
	}
	switch {
	case errors.Is(err, ErrNotStream):
		v.Error = "NotAStreamError"
	case errors.Is(err, ErrTruncated):
		v.Error = "TruncatedError"
	case errors.Is(err, ErrVersion):
		v.Error = "VersionError"
	default:
		v.Error = "CorruptError"
	}
	return v, err.Error()
}

// loadCorruptTable reads testdata/corrupt/cases.json.
func loadCorruptTable(t *testing.T) []corruptCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(corruptDir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []corruptCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

// TestCorruptTable runs the shared table through the Go reader; with
// -update-corrupt it first rewrites the table from corruptCases.
func TestCorruptTable(t *testing.T) {
	if *updateCorrupt {
		cases := corruptCases(t)
		names := make([]string, 0, len(cases))
		for n := range cases {
			names = append(names, n)
		}
		slices.Sort(names)
		os.MkdirAll(corruptDir, 0o755)
		var table []corruptCase
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(corruptDir, cases[n].c.File), cases[n].data, 0o644); err != nil {
				t.Fatal(err)
			}
			table = append(table, cases[n].c)
		}
		js, _ := json.MarshalIndent(table, "", "  ")
		if err := os.WriteFile(filepath.Join(corruptDir, "cases.json"), append(js, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	table := loadCorruptTable(t)
	if len(table) < 30 {
		t.Fatalf("table has %d cases, want the full set", len(table))
	}
	for _, c := range table {
		data, err := os.ReadFile(filepath.Join(corruptDir, c.File))
		if err != nil {
			t.Fatal(err)
		}
		got, msg := verdict(data)
		if got.Error != c.Error || got.Index != c.Index || got.Spikes != c.Spikes || !strings.Contains(msg, c.Contains) {
			t.Errorf("%s (%s): got %s at record %d with %d spikes (%q); want %s at record %d with %d spikes, containing %q",
				c.File, c.What, got.Error, got.Index, got.Spikes, msg, c.Error, c.Index, c.Spikes, c.Contains)
		}
	}
}

// TestPythonCorruptTable runs the same table through the Python reader.
func TestPythonCorruptTable(t *testing.T) {
	py := pytest.Python(t)
	abs, err := filepath.Abs(filepath.Join(corruptDir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, filepath.Join(pytest.Dir(), "check_roundtrip.py"), "--table", abs)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("check_roundtrip.py --table: %v\n%s", err, out)
	}
	t.Logf("%s", bytes.TrimSpace(out))
}

// TestEveryFlipDetected flips every byte of a version-2 stream in three
// ways: no flip may read back as a valid stream (before the checksums,
// >100 of ~600 random flips passed silently), and every error names a
// record that starts inside the input.
func TestEveryFlipDetected(t *testing.T) {
	ts := makeTestStream(t, 5, 3, 10)
	silent, tried := 0, 0
	for pos := range ts.data {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			data := bytes.Clone(ts.data)
			data[pos] ^= x
			tried++
			_, err := ReadAll(bytes.NewReader(data))
			if err == nil {
				silent++
				if silent <= 5 {
					t.Errorf("flip %#x at byte %d of %d passed silently", x, pos, len(data))
				}
				continue
			}
			var se *Error
			if !errors.As(err, &se) || se.Offset > int64(pos) {
				t.Errorf("flip at byte %d: error %v does not name the record holding it (or one before)", pos, err)
			}
		}
	}
	t.Logf("%d flips tried, %d passed silently", tried, silent)
}
