package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// syncBuffer is a bytes.Buffer that several goroutines may write (the live
// server logs from its own goroutines).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cli runs the CLI in-process with ctx and returns its exit code, stdout
// and stderr.
func cli(ctx context.Context, args ...string) (int, string, string) {
	var out, errOut syncBuffer
	code := dispatch(ctx, &env{stdout: &out, stderr: &errOut, stdin: strings.NewReader("")}, args)
	return code, out.String(), errOut.String()
}

// brunelStream runs Brunel (N = 1000) for durationMs into a file in dir
// and returns its path and contents.
func brunelStream(t *testing.T, dir, durationMs string) (string, *stream.Result) {
	t.Helper()
	path := filepath.Join(dir, "brunel.myelin")
	if code, _, errOut := cli(context.Background(), "run", "brunel", "--set", "n=1000", "--duration", durationMs, "--backend", "cpu", "-q", "-o", path); code != 0 {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := stream.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.IDs) == 0 {
		t.Fatal("the run fired no spikes")
	}
	return path, res
}

// popOf returns the name and first id of the population holding id.
func popOf(res *stream.Result, id uint32) (string, uint32) {
	for _, p := range res.Header.GetPopulations() {
		if id-p.GetFirstId() < p.GetSize() {
			return p.GetName(), p.GetFirstId()
		}
	}
	return "", 0
}

// TestExportCSV: every spike of the stream, in order, as time_ms (the
// spike's time to the step's precision), local neuron id and population.
func TestExportCSV(t *testing.T) {
	dir := t.TempDir()
	path, res := brunelStream(t, dir, "100")
	csvPath := filepath.Join(dir, "spikes.csv")
	code, _, errOut := cli(context.Background(), "export", path, "--format", "csv", "--out", csvPath)
	if code != 0 || !strings.Contains(errOut, "exported") {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if lines[0] != "time_ms,neuron,population" {
		t.Fatalf("header %q", lines[0])
	}
	rows := lines[1:]
	if len(rows) != len(res.IDs) {
		t.Fatalf("%d rows, the stream has %d spikes", len(rows), len(res.IDs))
	}
	for i, row := range rows {
		f := strings.Split(row, ",")
		if len(f) != 3 {
			t.Fatalf("row %d: %q", i, row)
		}
		tm, err1 := strconv.ParseFloat(f[0], 64)
		local, err2 := strconv.ParseUint(f[1], 10, 32)
		name, first := popOf(res, res.IDs[i])
		if err1 != nil || err2 != nil || math.Abs(tm-res.SpikeTimeMs(res.Steps[i])) > 1e-9 || uint32(local)+first != res.IDs[i] || f[2] != name {
			t.Fatalf("row %d %q; want spike of neuron %d at step %d (%s)", i, row, res.IDs[i], res.Steps[i], name)
		}
		if strings.Count(f[0], ".") != 1 || len(f[0])-strings.Index(f[0], ".") != 2 {
			t.Fatalf("row %d: time %q, want one decimal for dt 0.1 ms", i, f[0])
		}
	}
}

// TestExportNEST: NEST's spike recorder ASCII format, sender = global id
// + 1, and --population.
func TestExportNEST(t *testing.T) {
	dir := t.TempDir()
	path, res := brunelStream(t, dir, "100")
	for _, pops := range []string{"", "I"} {
		args := []string{"export", path, "-f", "nest"}
		if pops != "" {
			args = append(args, "--population", pops)
		}
		code, out, errOut := cli(context.Background(), args...)
		if code != 0 {
			t.Fatalf("export %v: exit %d: %s", args, code, errOut)
		}
		sc := bufio.NewScanner(strings.NewReader(out))
		var comments, rows int
		var head string
		i := 0
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "#"):
				comments++
				continue
			case head == "":
				head = line
				continue
			}
			for i < len(res.IDs) && pops != "" {
				if name, _ := popOf(res, res.IDs[i]); name == pops {
					break
				}
				i++
			}
			f := strings.Split(line, "\t")
			sender, _ := strconv.ParseUint(f[0], 10, 32)
			tm, _ := strconv.ParseFloat(f[1], 64)
			if i >= len(res.IDs) || uint32(sender) != res.IDs[i]+1 || math.Abs(tm-res.SpikeTimeMs(res.Steps[i])) > 1e-9 || !strings.HasSuffix(f[1], "00") {
				t.Fatalf("row %d %q; want sender %d (global id + 1) at %.3f ms", rows, line, res.IDs[i]+1, res.SpikeTimeMs(res.Steps[i]))
			}
			i++
			rows++
		}
		if comments != 2 || head != "sender\ttime_ms" {
			t.Errorf("header: %d comment lines, column line %q; want NEST's 2 and \"sender\\ttime_ms\"", comments, head)
		}
		want := len(res.IDs)
		if pops == "I" {
			want = int(res.Trailer.GetPopulationSpikes()[1])
		}
		if rows != want {
			t.Errorf("--population %q: %d rows, want %d", pops, rows, want)
		}
	}
}

// writeStreamFile writes records framed as a stream into a file.
func writeStreamFile(t *testing.T, path string, recs ...*myelinpb.Record) {
	t.Helper()
	var buf bytes.Buffer
	for _, r := range recs {
		p, err := stream.AppendRecord(nil, r, stream.FormatVersion)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(p)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// badStreams writes the bad inputs of the issue into dir: a file that is
// not a stream, a stream cut inside a record, a stream of another format
// version. It returns their paths and the number of spikes before the cut.
func badStreams(t *testing.T, dir, good string) (notStream, truncated, version string, kept int) {
	t.Helper()
	notStream = filepath.Join(dir, "spec.textproto")
	os.WriteFile(notStream, []byte("name: \"brunel\"\npopulations { name: \"E\" size: 100 }\n"), 0o644)
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	truncated = filepath.Join(dir, "cut.myelin")
	cut := len(data) * 2 / 3
	os.WriteFile(truncated, data[:cut], 0o644)
	partial, err := stream.ReadAll(bytes.NewReader(data[:cut]))
	if err == nil {
		t.Fatal("the cut stream reads without error")
	}
	version = filepath.Join(dir, "v2.myelin")
	writeStreamFile(t, version, &myelinpb.Record{Kind: &myelinpb.Record_Header{Header: &myelinpb.Header{FormatVersion: stream.NewestFormatVersion + 1, DtMs: 0.1}}})
	return notStream, truncated, version, len(partial.IDs)
}

// TestExportBadInput: clear messages, non-zero exits, and the spikes
// before a cut are kept.
func TestExportBadInput(t *testing.T) {
	dir := t.TempDir()
	path, _ := brunelStream(t, dir, "100")
	notStream, truncated, version, kept := badStreams(t, dir, path)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"export", notStream}, 1, "not a Myelin stream"},
		{[]string{"export", version}, 1, fmt.Sprintf("stream has format version %d, this reader reads versions 1 to %d", stream.NewestFormatVersion+1, stream.NewestFormatVersion)},
		{[]string{"export", truncated}, 1, "truncated"},
		{[]string{"export", filepath.Join(dir, "missing.myelin")}, 1, "no such file"},
		{[]string{"export", path, "--format", "xml"}, 2, `--format "xml"`},
		{[]string{"export", path, "--population", "X"}, 1, `--population "X": the stream has no such population (it has E, I)`},
		{[]string{"export"}, 2, "want one stream file"},
	} {
		code, out, errOut := cli(context.Background(), tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
		if len(tc.args) > 1 && tc.args[1] == truncated {
			if rows := strings.Count(out, "\n") - 1; rows != kept || !strings.Contains(errOut, "the "+strconv.Itoa(kept)+" spikes before it were exported") {
				t.Errorf("truncated: %d rows exported, %d spikes precede the cut; stderr %q", rows, kept, errOut)
			}
		}
	}
}

func TestDecimalsOf(t *testing.T) {
	for dt, want := range map[float64]int{1: 0, 0.1: 1, 0.25: 2, 0.025: 3, 0.01: 2, 0.001: 3} {
		if got := decimalsOf(dt); got != want {
			t.Errorf("decimalsOf(%g) = %d, want %d", dt, got, want)
		}
	}
}
