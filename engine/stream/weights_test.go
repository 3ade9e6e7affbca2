package stream

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/internal/pytest"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// weightsHeader is testHeader at the weights format version.
func weightsHeader() *myelinpb.Header {
	h := testHeader()
	h.FormatVersion = WeightsFormatVersion
	return h
}

// TestWeightsRoundTrip: more synapses than one record holds are split into
// consecutive records and gathered back, value for value, with their
// shift; Weight converts a fixed-point value.
func TestWeightsRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, weightsHeader())
	if err != nil {
		t.Fatal(err)
	}
	n := MaxWeightsPerRecord + 5
	pre, post, wt := make([]uint32, n), make([]uint32, n), make([]int32, n)
	for k := range n {
		pre[k], post[k], wt[k] = uint32(k%10000), uint32(k*7%2500), int32(k*13-n)
	}
	if err := w.WriteWeights("E", "I", 10000, pre, post, wt, 20); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteWeights("I", "E", 10000, nil, nil, nil, -3); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(nil); err != nil {
		t.Fatal(err)
	}
	res, err := ReadAll(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Weights) != 3 {
		t.Fatalf("%d weights records, want 3 (two for E->I, one empty for I->E)", len(res.Weights))
	}
	sets := res.WeightSets()
	if len(sets) != 2 || sets[0].Pre != "E" || sets[0].Post != "I" || sets[1].Pre != "I" {
		t.Fatalf("sets %v", sets)
	}
	s := sets[0]
	if len(s.Fixed) != n || s.Shift != 20 || s.Step != 10000 {
		t.Fatalf("set of %d weights, shift %d, step %d", len(s.Fixed), s.Shift, s.Step)
	}
	for k := range n {
		if s.PreIndex[k] != pre[k] || s.PostIndex[k] != post[k] || s.Fixed[k] != wt[k] {
			t.Fatalf("synapse %d: (%d, %d, %d), want (%d, %d, %d)", k, s.PreIndex[k], s.PostIndex[k], s.Fixed[k], pre[k], post[k], wt[k])
		}
	}
	if got, want := s.Weight(1), float64(wt[1])/(1<<20); got != want {
		t.Errorf("Weight(1) = %v, want %v", got, want)
	}
	if got := sets[1]; len(got.Fixed) != 0 || got.Shift != -3 {
		t.Errorf("empty set: %v", got)
	}
}

// TestWeightsVersions: a version-2 writer refuses weights records, a
// version-2 stream that holds one is corrupt, and from version 3 on a
// reader skips a record of a kind it does not know (a future record).
func TestWeightsVersions(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testHeader())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteWeights("E", "I", 0, []uint32{1}, []uint32{2}, []int32{3}, 0); err == nil || !strings.Contains(err.Error(), "version 2") {
		t.Errorf("WriteWeights on a version-2 writer: %v", err)
	}
	weights := &myelinpb.Record{Kind: &myelinpb.Record_Weights{Weights: &myelinpb.Weights{Pre: "E", Post: "I", PreIndex: []uint32{1}, PostIndex: []uint32{2}, Weight: []int32{3}, Total: 1}}}
	h2 := testHeader()
	h2.FormatVersion = 2
	data := append(frameV(t, &myelinpb.Record{Kind: &myelinpb.Record_Header{Header: h2}}, 2), frameV(t, weights, 2)...)
	if _, err := ReadAll(bytes.NewReader(data)); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "format version 2 stream") {
		t.Errorf("weights in a version-2 stream: %v", err)
	}
	// A record whose only field is unknown to this reader (field 14).
	unknown := &myelinpb.Record{}
	unknown.ProtoReflect().SetUnknown([]byte{14<<3 | 2, 1, 0})
	for _, v := range []uint32{2, 3} {
		h := testHeader()
		h.FormatVersion = v
		data := frameV(t, &myelinpb.Record{Kind: &myelinpb.Record_Header{Header: h}}, v)
		data = append(data, frameV(t, unknown, v)...)
		data = append(data, frameV(t, &myelinpb.Record{Kind: &myelinpb.Record_Trailer{Trailer: &myelinpb.Trailer{}}}, v)...)
		res, err := ReadAll(bytes.NewReader(data))
		switch {
		case v == 2 && !errors.Is(err, ErrCorrupt):
			t.Errorf("unknown record in a version-2 stream: %v, want corrupt", err)
		case v == 3 && (err != nil || res.Trailer == nil):
			t.Errorf("unknown record in a version-3 stream: %v, want it skipped", err)
		}
	}
}

// TestWeightsRejected: bad weights records are corrupt, naming the fault.
func TestWeightsRejected(t *testing.T) {
	for _, c := range []struct {
		name string
		w    *myelinpb.Weights
		want string
	}{
		{"unknown population", &myelinpb.Weights{Pre: "X", Post: "I", Total: 0}, `pre population "X" is not in the header`},
		{"index", &myelinpb.Weights{Pre: "E", Post: "I", PreIndex: []uint32{0}, PostIndex: []uint32{2500}, Weight: []int32{1}, Total: 1}, "post_index[0] = 2500: population \"I\" has 2500 neurons"},
		{"lengths", &myelinpb.Weights{Pre: "E", Post: "I", PreIndex: []uint32{0, 1}, PostIndex: []uint32{2}, Weight: []int32{1}, Total: 2}, "must be as many"},
		{"total", &myelinpb.Weights{Pre: "E", Post: "I", PreIndex: []uint32{0}, PostIndex: []uint32{2}, Weight: []int32{1}, Total: 0}, "pass the total 0"},
		{"out of order", &myelinpb.Weights{Pre: "E", Post: "I", First: 1, PreIndex: []uint32{0}, PostIndex: []uint32{2}, Weight: []int32{1}, Total: 2}, "starts at synapse 1, want 0"},
		{"shift", &myelinpb.Weights{Pre: "E", Post: "I", Shift: 99}, "shift 99"},
	} {
		h := weightsHeader()
		data := frameV(t, &myelinpb.Record{Kind: &myelinpb.Record_Header{Header: h}}, h.FormatVersion)
		data = append(data, frameV(t, &myelinpb.Record{Kind: &myelinpb.Record_Weights{Weights: c.w}}, h.FormatVersion)...)
		_, err := ReadAll(bytes.NewReader(data))
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want corrupt with %q", c.name, err, c.want)
		}
	}
}

// frameV frames rec as a record of format version v.
func frameV(t *testing.T, rec *myelinpb.Record, v uint32) []byte {
	t.Helper()
	p, err := AppendRecord(nil, rec, v)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPythonWeights: python/myelin_stream.py gathers the weights records
// of a Go-written stream (split over two records) into the same sets:
// indices, fixed-point values, shift, step and the float weights.
func TestPythonWeights(t *testing.T) {
	py := pytest.Python(t)
	var buf bytes.Buffer
	w, err := NewWriter(&buf, weightsHeader())
	if err != nil {
		t.Fatal(err)
	}
	n := MaxWeightsPerRecord + 3
	pre, post, wt := make([]uint32, n), make([]uint32, n), make([]int32, n)
	for k := range n {
		pre[k], post[k], wt[k] = uint32(k%10000), uint32(k*7%2500), int32(k*13-n)
	}
	if err := w.WriteWeights("E", "I", 10000, pre, post, wt, 20); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(nil); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "w.myelin")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `import json, sys, numpy as np, myelin_stream as ms
s = ms.read_stream(sys.argv[1])
d = s.weight_sets()[("E", "I")]
print(json.dumps({"records": len(s.weights), "n": int(d["fixed"].size), "shift": d["shift"], "step": d["step"],
  "pre_sum": int(d["pre_index"].astype(np.int64).sum()), "post_sum": int(d["post_index"].astype(np.int64).sum()),
  "fixed_sum": int(d["fixed"].astype(np.int64).sum()), "w5": float(d["weight"][5]), "fixed_last": int(d["fixed"][-1])}))`
	cmd := exec.Command(py, "-c", script, path)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "PYTHONPATH="+pytest.Dir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	var got struct {
		Records   int     `json:"records"`
		N         int     `json:"n"`
		Shift     int32   `json:"shift"`
		Step      uint64  `json:"step"`
		PreSum    int64   `json:"pre_sum"`
		PostSum   int64   `json:"post_sum"`
		FixedSum  int64   `json:"fixed_sum"`
		FixedLast int64   `json:"fixed_last"`
		W5        float64 `json:"w5"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var ps, qs, fs int64
	for k := range n {
		ps, qs, fs = ps+int64(pre[k]), qs+int64(post[k]), fs+int64(wt[k])
	}
	if got.Records != 2 || got.N != n || got.Shift != 20 || got.Step != 10000 || got.PreSum != ps || got.PostSum != qs || got.FixedSum != fs ||
		got.FixedLast != int64(wt[n-1]) || got.W5 != float64(wt[5])/(1<<20) {
		t.Errorf("python read %+v; want 2 records, %d weights, sums %d %d %d, last %d, w5 %v", got, n, ps, qs, fs, wt[n-1], float64(wt[5])/(1<<20))
	}
}

// TestWeightsLimits: a record of more than MaxWeightsPerRecord synapses is
// corrupt (the writer never makes one), and the writer refuses to write a
// pair's weights twice, which its reader would reject.
func TestWeightsLimits(t *testing.T) {
	n := MaxWeightsPerRecord + 1
	big := &myelinpb.Record{Kind: &myelinpb.Record_Weights{Weights: &myelinpb.Weights{Pre: "E", Post: "I", Total: uint64(n),
		PreIndex: make([]uint32, n), PostIndex: make([]uint32, n), Weight: make([]int32, n)}}}
	h := weightsHeader()
	data := append(frameV(t, &myelinpb.Record{Kind: &myelinpb.Record_Header{Header: h}}, h.FormatVersion), frameV(t, big, h.FormatVersion)...)
	if _, err := ReadAll(bytes.NewReader(data)); err == nil || !strings.Contains(err.Error(), "more than 1048576") {
		t.Errorf("a record of %d synapses: error %v, want one saying it holds more than %d", n, err, MaxWeightsPerRecord)
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, weightsHeader())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteWeights("E", "I", 10, []uint32{0}, []uint32{1}, []int32{5}, 3); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteWeights("E", "I", 10, []uint32{0}, []uint32{1}, []int32{5}, 3); err == nil || !strings.Contains(err.Error(), "written already") {
		t.Errorf("a pair written twice: error %v, want one saying it was written already", err)
	}
}
