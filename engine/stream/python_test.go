package stream

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/myelin-sim/myelin/internal/pytest"
)

// TestPythonReader writes a stream with the Go Writer and checks that
// python/myelin_stream.py decodes the same spikes, state, trailer and
// errors (python/check_roundtrip.py).
func TestPythonReader(t *testing.T) {
	py := pytest.Python(t)
	dir := t.TempDir()
	ts := makeTestStream(t, 21, 8, 50)
	streamPath := filepath.Join(dir, "run.myelin")
	if err := os.WriteFile(streamPath, ts.data, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := ReadAll(bytes.NewReader(ts.data))
	if err != nil {
		t.Fatal(err)
	}

	// Cut the stream in the middle of a spike block record.
	k := 3
	cut := (ts.offsets[k] + ts.offsets[k+1]) / 2
	cutPath := filepath.Join(dir, "cut.myelin")
	if err := os.WriteFile(cutPath, ts.data[:cut], 0o644); err != nil {
		t.Fatal(err)
	}
	partial, cutErr := ReadAll(bytes.NewReader(ts.data[:cut]))
	var se *Error
	if !errors.As(cutErr, &se) || !errors.Is(cutErr, ErrTruncated) {
		t.Fatalf("cut stream: %v", cutErr)
	}
	textPath := filepath.Join(dir, "spec.textproto")
	if err := os.WriteFile(textPath, []byte("name: \"brunel\"\npopulations { name: \"E\" size: 10000 }\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	type popSpikes struct {
		TimesMs  []float64 `json:"times_ms"`
		LocalIDs []uint32  `json:"local_ids"`
	}
	type state struct {
		Steps  []uint64  `json:"steps"`
		Values []float32 `json:"values"`
		Width  int       `json:"width"`
	}
	exp := map[string]any{
		"stream":            streamPath,
		"steps":             res.Steps,
		"ids":               res.IDs,
		"dt_ms":             res.Header.GetDtMs(),
		"total_spikes":      res.Trailer.GetTotalSpikes(),
		"population_spikes": res.Trailer.GetPopulationSpikes(),
		"gaps":              len(res.Gaps),
		"not_stream":        textPath,
		"truncated": map[string]any{
			"path":        cutPath,
			"index":       se.Index,
			"offset":      se.Offset,
			"message":     se.Error()[len("stream: "):],
			"spikes_kept": len(partial.IDs),
		},
	}
	pops := map[string]popSpikes{}
	for _, p := range res.Header.GetPopulations() {
		times, ids := res.PopulationSpikes(p.GetName())
		pops[p.GetName()] = popSpikes{times, ids}
	}
	exp["populations"] = pops
	states := map[string]state{}
	for id, d := range res.State {
		// Non-nil slices, so that JSON holds [] rather than null.
		states[strconv.Itoa(int(id))] = state{append([]uint64{}, d.Steps...), append([]float32{}, d.Values...), len(d.Series.GetNeuronIds())}
	}
	exp["state"] = states
	js, err := json.Marshal(exp)
	if err != nil {
		t.Fatal(err)
	}
	jsPath := filepath.Join(dir, "expected.json")
	if err := os.WriteFile(jsPath, js, 0o644); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(py, filepath.Join(pytest.Dir(), "check_roundtrip.py"), jsPath)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s check_roundtrip.py: %v\n%s", py, err, out)
	}
	t.Logf("%s", bytes.TrimSpace(out))
}

// descriptorRE finds the serialized file descriptor in a generated
// myelin_pb2.py; it depends only on the .proto, not on the protoc version.
var descriptorRE = regexp.MustCompile(`AddSerializedFile\((b'.*')\)`)

// TestPythonProtoUpToDate checks that python/myelin_pb2.py was generated
// from the current proto/myelin.proto, when protoc is installed.
func TestPythonProtoUpToDate(t *testing.T) {
	protoc, err := exec.LookPath("protoc")
	if err != nil {
		t.Skip("protoc not installed")
	}
	dir := t.TempDir()
	cmd := exec.Command(protoc, "--python_out="+dir, "-I../../proto", "../../proto/myelin.proto")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("protoc failed: %v\n%s", err, out)
	}
	fresh, err := os.ReadFile(filepath.Join(dir, "myelin_pb2.py"))
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join(pytest.Dir(), "myelin_pb2.py"))
	if err != nil {
		t.Fatal(err)
	}
	want, got := descriptorRE.FindSubmatch(fresh), descriptorRE.FindSubmatch(committed)
	if want == nil {
		t.Skip("this protoc writes a layout the test does not know")
	}
	if got == nil || !bytes.Equal(got[1], want[1]) {
		t.Error("python/myelin_pb2.py is stale: run `protoc --python_out=python -Iproto proto/myelin.proto` in the repository root")
	}
}

// TestPythonReaderAgreesOnCorruption flips bytes of a small stream and
// checks that the Python reader fails (or not) exactly where the Go reader
// does, with the same kind of error, and keeps the same spikes.
func TestPythonReaderAgreesOnCorruption(t *testing.T) {
	py := pytest.Python(t)
	dir := t.TempDir()
	ts := makeTestStream(t, 31, 3, 8)
	type want struct {
		Error  string `json:"error"`
		Index  int    `json:"index"`
		Offset int64  `json:"offset"`
		Spikes int    `json:"spikes"`
	}
	var paths []string
	var wants []want
	add := func(data []byte) {
		p := filepath.Join(dir, strconv.Itoa(len(paths))+".myelin")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := ReadAll(bytes.NewReader(data))
		w := want{Index: -1, Offset: -1, Spikes: len(res.IDs)}
		var se *Error
		if errors.As(err, &se) {
			w.Index, w.Offset = se.Index, se.Offset
			switch {
			case errors.Is(err, ErrNotStream):
				w.Error = "NotAStreamError"
			case errors.Is(err, ErrTruncated):
				w.Error = "TruncatedError"
			case errors.Is(err, ErrVersion):
				w.Error = "VersionError"
			default:
				w.Error = "CorruptError"
			}
		} else if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
		wants = append(wants, w)
	}
	for pos := range ts.data {
		for _, x := range []byte{0x01, 0xff} {
			data := bytes.Clone(ts.data)
			data[pos] ^= x
			add(data)
		}
		add(ts.data[:pos])
	}
	list, err := json.Marshal(paths)
	if err != nil {
		t.Fatal(err)
	}
	listPath := filepath.Join(dir, "paths.json")
	if err := os.WriteFile(listPath, list, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, filepath.Join(pytest.Dir(), "check_roundtrip.py"), "--classify", listPath)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("check_roundtrip.py --classify: %v\n%s", err, stderr.Bytes())
	}
	var got []struct {
		want
		Message string `json:"message"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(wants) {
		t.Fatalf("python classified %d streams, want %d", len(got), len(wants))
	}
	bad := 0
	for i := range wants {
		if got[i].want != wants[i] {
			bad++
			if bad <= 10 {
				t.Errorf("%s: python %+v (%s), go %+v", paths[i], got[i].want, got[i].Message, wants[i])
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d streams differ", bad, len(wants))
	}
	kinds := map[string]int{}
	for _, w := range wants {
		kinds[w.Error]++
	}
	t.Logf("%d streams, by Go's verdict: %v", len(wants), kinds)
}
