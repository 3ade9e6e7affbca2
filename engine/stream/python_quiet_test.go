package stream

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/internal/pytest"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// pythonReadGrowth reads the stream at path with the Python reader's
// read_stream, after a small stream (so that numpy and protobuf are
// loaded), and returns how much the process's peak resident memory grew
// while it read path, in bytes, and what the script printed of it.
func pythonReadGrowth(t *testing.T, py, path, small, show string) (uint64, string) {
	t.Helper()
	script := `import resource, sys
sys.path.insert(0, sys.argv[1])
import myelin_stream as ms
ms.read_stream(sys.argv[2])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
s = ms.read_stream(sys.argv[3])
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) * 1024)
print(` + show + `)
`
	cmd := exec.Command(py, "-c", script, pytest.Dir(), small, path)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	lines := strings.SplitN(strings.TrimSpace(string(out)), "\n", 2)
	n, err := strconv.ParseUint(lines[0], 10, 64)
	if err != nil || len(lines) < 2 {
		t.Fatalf("python printed %q", out)
	}
	return n, lines[1]
}

// quietStream writes a stream of n records of one kind, each one step:
// spike blocks without spikes ("spikes"), state blocks without samples
// ("state") or gaps that missed nothing ("gaps").
func quietStream(t *testing.T, path string, n int, kind string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	w, err := NewWriter(bw, &myelinpb.Header{DtMs: 0.1, Populations: []*myelinpb.PopulationRange{{Name: "E", Size: 10, Recorded: true}},
		StateSeries: []*myelinpb.StateSeries{{Id: 0, Population: "E", Variable: "v_m", NeuronIds: []uint32{0, 1}, Every: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range uint64(n) {
		switch kind {
		case "spikes":
			err = w.WriteSpikes(i, []uint32{0}, nil)
		case "state":
			err = w.WriteState(0, i, 0, nil)
		case "gaps":
			err = w.WriteGap(i, i+1, 0)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(&myelinpb.Trailer{Status: myelinpb.Trailer_COMPLETE, StepsDone: uint64(n)}); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
}

// TestPythonReaderQuietRecords: the Python reader's memory does not grow
// with records that hold nothing: 100,000 spike blocks without spikes
// (1.5 MB), state blocks without samples or gaps (1.6 MB). Before, every
// empty block kept two empty numpy arrays (~350 bytes for ~15 bytes read:
// a 50 MB stream of them took 1.1 GB) and every gap its parsed record
// (~500 bytes).
func TestPythonReaderQuietRecords(t *testing.T) {
	py := pytest.Python(t)
	dir := t.TempDir()
	small := filepath.Join(dir, "small.myelin")
	quietStream(t, small, 10, "spikes")
	const n = 100_000
	for _, c := range []struct {
		kind  string
		show  string
		want  string
		limit uint64
	}{
		{"spikes", `s.spikes_ids.size, s.complete`, "0 True", 8 << 20},
		{"state", `s.state(0).shape, s.state_steps(0).size`, "(0, 2) 0", 8 << 20},
		// 24 bytes a gap are kept: 2.4 MB.
		{"gaps", `len(s.gaps), s.gaps[-1].last_step, s.missed_spikes`, "100000 100000 0", 12 << 20},
	} {
		path := filepath.Join(dir, "quiet.myelin")
		quietStream(t, path, n, c.kind)
		grew, got := pythonReadGrowth(t, py, path, small, c.show)
		if got != c.want {
			t.Errorf("%s: read %q, want %q", c.kind, got, c.want)
		}
		if grew > c.limit {
			t.Errorf("%s: reading %d of them grew the Python reader by %.1f MB, want at most %.0f MB", c.kind, n, float64(grew)/(1<<20), float64(c.limit)/(1<<20))
		}
		t.Logf("%s: %d records: +%.1f MB", c.kind, n, float64(grew)/(1<<20))
	}
}
