package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// partials lists the temporary output files left in dir.
func partials(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+partialSuffix))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestExportNeverDestroysOutput: an export that fails or is refused leaves
// an existing --out file as it was, and never replaces its own input.
func TestExportNeverDestroysOutput(t *testing.T) {
	dir := t.TempDir()
	good, _ := brunelStream(t, dir, "50")
	notStream, _, version, _ := badStreams(t, dir, good)
	goodData, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(dir, "keep.out")
	const precious = "an earlier export"
	link := filepath.Join(dir, "link.myelin")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(dir, "hard.myelin")
	if err := os.Link(good, hard); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		out  string // the file that must be as it was
		code int
		want string
	}{
		{"unknown --population", []string{"export", good, "--out", keep, "--population", "Z"}, keep, 1, `--population "Z"`},
		{"not a stream", []string{"export", notStream, "--out", keep}, keep, 1, "not a Myelin stream"},
		{"unknown format version", []string{"export", version, "--out", keep}, keep, 1, "format version"},
		{"--out is the input", []string{"export", good, "--out", good}, good, 2, "--out " + good + " is the input " + good + " itself"},
		{"--out links to the input", []string{"export", good, "--out", link}, good, 2, "--out " + link + " is the input " + good + " itself"},
		{"--out is a hard link of the input", []string{"export", hard, "-f", "nest", "-o", good}, good, 2, "is the input " + hard + " itself"},
		{"--out is a folder", []string{"export", good, "--out", dir}, keep, 2, "--out " + dir + " is a folder"},
		{"--out in no folder", []string{"export", good, "--out", filepath.Join(dir, "no", "x.csv")}, keep, 2, "folder " + filepath.Join(dir, "no") + " does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(keep, []byte(precious), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, errOut := cli(context.Background(), tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tc.code, tc.want)
			}
			if tc.code == 1 && !strings.Contains(errOut, "nothing was exported; "+keep+" is as it was") {
				t.Errorf("stderr %q does not say that %s is as it was", errOut, keep)
			}
			want := []byte(precious)
			if tc.out == good {
				want = goodData
			}
			if got, err := os.ReadFile(tc.out); err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s after a refused export: %d bytes, %v; want it untouched (%d bytes)", tc.out, len(got), err, len(want))
			}
			if p := partials(t, dir); len(p) > 0 {
				t.Errorf("temporary files left behind: %v", p)
			}
		})
	}
	// A complete export replaces the file and leaves no temporary file.
	if code, _, errOut := cli(context.Background(), "export", good, "--out", keep); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	if got, err := os.ReadFile(keep); err != nil || !strings.HasPrefix(string(got), "time_ms,neuron,population\n") {
		t.Errorf("after a complete export, %s holds %.40q (%v)", keep, got, err)
	}
	if p := partials(t, dir); len(p) > 0 {
		t.Errorf("temporary files left behind after a complete export: %v", p)
	}
}

// TestExportCutInputKeepsOutput: a stream cut short fails the export; the
// spikes before the cut are kept in the temporary file named in the error,
// and --out is as it was.
func TestExportCutInputKeepsOutput(t *testing.T) {
	dir := t.TempDir()
	good, _ := brunelStream(t, dir, "100")
	_, truncated, _, kept := badStreams(t, dir, good)
	keep := filepath.Join(dir, "keep.csv")
	const precious = "an earlier export"
	if err := os.WriteFile(keep, []byte(precious), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := cli(context.Background(), "export", truncated, "--out", keep)
	if code != 1 || !strings.Contains(errOut, "truncated") {
		t.Fatalf("exit %d, stderr %q; want exit 1 and truncated", code, errOut)
	}
	if got, err := os.ReadFile(keep); err != nil || string(got) != precious {
		t.Errorf("%s after a failed export: %q, %v; want it untouched", keep, got, err)
	}
	p := partials(t, dir)
	if len(p) != 1 || !strings.Contains(errOut, "exported to "+p[0]+"; "+keep+" is as it was") {
		t.Fatalf("temporary files %v; stderr %q; want one, named in the error", p, errOut)
	}
	data, err := os.ReadFile(p[0])
	if err != nil {
		t.Fatal(err)
	}
	if rows := strings.Count(string(data), "\n") - 1; rows != kept {
		t.Errorf("%s holds %d rows; %d spikes precede the cut", p[0], rows, kept)
	}
}

// TestCreateOutOwnPartial: two writers of one --out each get a temporary
// file of their own in FILE's folder; each rename puts a complete file in
// place, and the last one wins.
func TestCreateOutOwnPartial(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cc.myelin")
	a, err := createOut(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.discard()
	b, err := createOut(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.discard()
	name := regexp.MustCompile(`^` + regexp.QuoteMeta(path) + `\.[^/]+` + regexp.QuoteMeta(partialSuffix) + `$`)
	if a.partial == b.partial || !name.MatchString(a.partial) || !name.MatchString(b.partial) {
		t.Fatalf("temporary files %q and %q; want two distinct FILE.*%s beside FILE", a.partial, b.partial, partialSuffix)
	}
	if _, err := io.WriteString(a.f, "first run, longer than the second"); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(b.f, "second run"); err != nil {
		t.Fatal(err)
	}
	if err := b.close(true); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "second run" {
		t.Errorf("after the second rename: %q", got)
	}
	if err := a.close(true); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "first run, longer than the second" {
		t.Errorf("after the last rename: %q", got)
	}
	if p := partials(t, dir); len(p) > 0 {
		t.Errorf("temporary files left behind: %v", p)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm()&0o444 != 0o444&^umaskOf(t) {
		t.Errorf("%s: mode %v (%v); want readable as os.Create makes it", path, st.Mode(), err)
	}
}

// umaskOf reads the process umask, by creating a file with mode 0666.
func umaskOf(t *testing.T) os.FileMode {
	f, err := os.OpenFile(filepath.Join(t.TempDir(), "u"), os.O_CREATE|os.O_WRONLY, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return 0o666 &^ st.Mode().Perm()
}

// gateBackend holds its first Advance until release is closed, after
// telling reached.
type gateBackend struct {
	backend.Backend
	reached, release chan struct{}
	held             bool
}

func (g *gateBackend) Advance(n int, blk *backend.Block) error {
	if !g.held {
		g.held = true
		close(g.reached)
		<-g.release
	}
	return g.Backend.Advance(n, blk)
}

// TestConcurrentRunsOneOut: a run that starts while another writes the same
// --out does not disturb it; both succeed and FILE ends as the complete
// stream of the run that renamed last.
func TestConcurrentRunsOneOut(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "cc.myelin")
	g := &gateBackend{reached: make(chan struct{}), release: make(chan struct{})}
	hook := func(be backend.Backend) backend.Backend { g.Backend = be; return g }
	type result struct {
		code   int
		errOut string
	}
	first := make(chan result, 1)
	go func() {
		code, _, errOut := myelinEnv(context.Background(), &env{backendHook: hook}, "run", "brunel", "--set", "n=1000", "--duration", "30", "--backend", "cpu", "-q", "-o", file)
		first <- result{code, errOut}
	}()
	select {
	case <-g.reached: // the first run has its output open and is simulating
	case r := <-first:
		t.Fatalf("first run: exit %d before simulating: %s", r.code, r.errOut)
	}
	code, _, errOut := myelinEnv(context.Background(), &env{}, "run", "brunel", "--set", "n=1000", "--duration", "20", "--seed", "7", "--backend", "cpu", "-q", "-o", file)
	close(g.release)
	r := <-first
	if code != 0 || r.code != 0 {
		t.Fatalf("second run: exit %d: %s; first run: exit %d: %s", code, errOut, r.code, r.errOut)
	}
	s := readOutStream(t, file)
	if s.Header.GetSeed() == 7 || s.Trailer.GetStatus() != myelinpb.Trailer_COMPLETE || s.Trailer.GetStepsDone() != 300 {
		t.Errorf("%s: seed %d, trailer %v; want the complete stream of the first run (renamed last)", file, s.Header.GetSeed(), s.Trailer)
	}
	if p := partials(t, dir); len(p) > 0 {
		t.Errorf("temporary files left behind: %v", p)
	}
}

// failBackend fails its second Advance.
type failBackend struct {
	backend.Backend
	calls int
}

func (f *failBackend) Advance(n int, blk *backend.Block) error {
	if f.calls++; f.calls > 1 {
		return errors.New("device lost")
	}
	return f.Backend.Advance(n, blk)
}

// TestFailedRunKeepsPartial: a run that fails after simulating leaves FILE
// as it was and its stream so far readable, in the file its message names.
func TestFailedRunKeepsPartial(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "keep.myelin")
	const precious = "an earlier run's stream"
	if err := os.WriteFile(file, []byte(precious), 0o644); err != nil {
		t.Fatal(err)
	}
	hook := func(be backend.Backend) backend.Backend { return &failBackend{Backend: be} }
	code, _, errOut := myelinEnv(context.Background(), &env{backendHook: hook}, "run", "brunel", "--set", "n=1000", "--duration", "1000", "--backend", "cpu", "-q", "-o", file)
	if code == 0 || !strings.Contains(errOut, "device lost") {
		t.Fatalf("exit %d, stderr %q; want the backend's failure", code, errOut)
	}
	if got, err := os.ReadFile(file); err != nil || string(got) != precious {
		t.Errorf("%s after a failed run: %q, %v; want it untouched", file, got, err)
	}
	p := partials(t, dir)
	if len(p) != 1 || !strings.Contains(errOut, file+" is as it was; the stream so far is in "+p[0]) {
		t.Fatalf("temporary files %v; stderr %q; want one, named", p, errOut)
	}
	s := readOutStream(t, p[0])
	if s.Trailer.GetStatus() != myelinpb.Trailer_FAILED {
		t.Errorf("%s: trailer %v, want FAILED", p[0], s.Trailer)
	}
}

// TestOutToFIFO: an --out that exists and is not a regular file is written
// directly, by run and by export: a FIFO stays a FIFO and its reader gets
// the whole output.
func TestOutToFIFO(t *testing.T) {
	dir := t.TempDir()
	good, res := brunelStream(t, dir, "20")
	fifo := filepath.Join(dir, "fifo")
	for _, tc := range []struct {
		name string
		args []string
		// check checks what the reader got.
		check func(t *testing.T, data []byte)
	}{
		{"run", []string{"run", "brunel", "--set", "n=1000", "--duration", "20", "--backend", "cpu", "-q", "-o", fifo}, func(t *testing.T, data []byte) {
			s, err := stream.ReadAll(bytes.NewReader(data))
			if err != nil || s.Trailer.GetStatus() != myelinpb.Trailer_COMPLETE || len(s.IDs) != len(res.IDs) {
				t.Errorf("the FIFO's reader got %d bytes: %v, want the run's complete stream", len(data), err)
			}
		}},
		{"export", []string{"export", good, "-o", fifo}, func(t *testing.T, data []byte) {
			if rows := strings.Count(string(data), "\n") - 1; rows != len(res.IDs) {
				t.Errorf("the FIFO's reader got %d rows, want %d", rows, len(res.IDs))
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(fifo)
			if err := syscall.Mkfifo(fifo, 0o644); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			got := make(chan []byte, 1)
			go func() {
				data, _ := os.ReadFile(fifo) // blocks until a writer opens the FIFO
				got <- data
			}()
			code, _, errOut := cli(context.Background(), tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
				// The reader waits on a FIFO nobody can open now: leave it.
				t.Fatalf("%s after the command: %v (%v); want the FIFO it was", fifo, st.Mode(), err)
			}
			select {
			case data := <-got:
				tc.check(t, data)
			case <-time.After(30 * time.Second):
				t.Fatal("the FIFO's reader got nothing in 30 s")
			}
			if p := partials(t, dir); len(p) > 0 {
				t.Errorf("temporary files made: %v", p)
			}
		})
	}
}

// TestExportCSVQuotesNames: population names with commas, quotes, line
// breaks or leading space are quoted as RFC 4180 says, so that every row
// reads back as three fields with the name whole.
func TestExportCSVQuotesNames(t *testing.T) {
	names := []string{"E,x", "say \"hi\"\nthere", " lead", "plain", ""}
	h := &myelinpb.Header{DtMs: 0.1, TotalSteps: 10}
	for i, n := range names {
		h.Populations = append(h.Populations, &myelinpb.PopulationRange{Name: n, FirstId: uint32(2 * i), Size: 2, Model: "iaf_psc_delta", Recorded: true})
	}
	var buf bytes.Buffer
	w, err := stream.NewWriter(&buf, h)
	if err != nil {
		t.Fatal(err)
	}
	// Step 0: one spike of every population; step 1: the others.
	if err := w.WriteSpikes(0, []uint32{5, 5}, []uint32{0, 2, 4, 6, 8, 1, 3, 5, 7, 9}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(&myelinpb.Trailer{Status: myelinpb.Trailer_COMPLETE, StepsDone: 10}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "names.myelin")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := cli(context.Background(), "export", path)
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("the export does not read as CSV: %v\n%s", err, out)
	}
	if len(rows) != 11 || strings.Join(rows[0], "|") != "time_ms|neuron|population" {
		t.Fatalf("%d rows, header %q; want a header and 10 spikes:\n%s", len(rows), rows[0], out)
	}
	for i, row := range rows[1:] {
		id := []int{0, 2, 4, 6, 8, 1, 3, 5, 7, 9}[i]
		want := []string{[]string{"0.1", "0.2"}[i/5], []string{"0", "1"}[id%2], names[id/2]}
		if strings.Join(row, "\x00") != strings.Join(want, "\x00") {
			t.Errorf("row %d: %q, want %q", i+1, row, want)
		}
	}
}

// TestCSVField: encoding/csv's quoting of single fields.
func TestCSVField(t *testing.T) {
	for in, want := range map[string]string{"E": "E", "E,x": `"E,x"`, `a"b`: `"a""b"`, "a\nb": "\"a\nb\"", "": ""} {
		if got := csvField(in); got != want {
			t.Errorf("csvField(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestExportInterrupted: Ctrl-C (a done context) stops an export of a file
// between records; --out is as it was.
func TestExportInterrupted(t *testing.T) {
	dir := t.TempDir()
	good, _ := brunelStream(t, dir, "20")
	keep := filepath.Join(dir, "keep.csv")
	const precious = "an earlier export"
	if err := os.WriteFile(keep, []byte(precious), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code, _, errOut := cli(ctx, "export", good, "--out", keep)
	if code != 130 || !strings.Contains(errOut, "interrupted: "+good+": nothing was exported; "+keep+" is as it was") {
		t.Errorf("exit %d, stderr %q; want exit 130 and what became of %s", code, errOut, keep)
	}
	if got, err := os.ReadFile(keep); err != nil || string(got) != precious {
		t.Errorf("%s after an interrupted export: %q, %v; want it untouched", keep, got, err)
	}
	if p := partials(t, dir); len(p) > 0 {
		t.Errorf("temporary files left behind: %v", p)
	}
}

// An --out that is a symbolic link keeps being one: the link's target is
// replaced, with the target's permissions (0600 stays 0600).
func TestCreateOutThroughLink(t *testing.T) {
	dir := t.TempDir()
	real, link := filepath.Join(dir, "real.csv"), filepath.Join(dir, "link.csv")
	if err := os.WriteFile(real, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real.csv", link); err != nil {
		t.Fatal(err)
	}
	o, err := createOut(context.Background(), link)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(o.f, "new"); err != nil {
		t.Fatal(err)
	}
	if err := o.close(true); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("%s after the write: %v (%v); want it still a link", link, st.Mode(), err)
	}
	if got, _ := os.ReadFile(real); string(got) != "new" {
		t.Errorf("the link's target holds %q, want the new output", got)
	}
	if st, err := os.Stat(real); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("the target's mode %v (%v), want 0600 kept", st.Mode(), err)
	}
	if p := partials(t, dir); len(p) > 0 {
		t.Errorf("temporary files left behind: %v", p)
	}
}

// Opening a FIFO with no reader waits for one, but Ctrl-C (the context)
// ends the wait at once.
func TestCreateOutFIFOInterrupted(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "ff")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFO:", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	o, err := createOut(ctx, fifo)
	if err == nil {
		o.discard()
		t.Fatal("a FIFO without a reader opened")
	}
	if d := time.Since(start); d > 5*time.Second || !strings.Contains(err.Error(), "a FIFO") {
		t.Errorf("after %v: %v; want a prompt error naming the FIFO", d, err)
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO became %v (%v)", st.Mode(), err)
	}
}

// TestSameFile: --out is the input (run's spec, export's stream) when it
// names the same regular file under any name; a FIFO or a device, written
// directly and holding nothing to lose, never is (run refused a spec that
// was --out whatever its kind; export refused only a regular file).
func TestSameFile(t *testing.T) {
	dir := t.TempDir()
	file, other := filepath.Join(dir, "a.myelin"), filepath.Join(dir, "b.myelin")
	for _, f := range []string{file, other} {
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link, hard := filepath.Join(dir, "link"), filepath.Join(dir, "hard")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(file, hard); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	cases := []struct {
		out, in string
		want    bool
	}{
		{file, file, true},
		{link, file, true},
		{file, link, true},
		{hard, file, true},
		{file, other, false},
		{missing, file, false},
		{file, missing, false},
		{missing, missing, false},
		{file, "localhost:7070", false},
		{os.DevNull, os.DevNull, false},
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err == nil {
		cases = append(cases, struct {
			out, in string
			want    bool
		}{fifo, fifo, false})
	}
	for _, c := range cases {
		if got := sameFile(c.out, c.in); got != c.want {
			t.Errorf("sameFile(%s, %s) = %v, want %v", c.out, c.in, got, c.want)
		}
	}
}
