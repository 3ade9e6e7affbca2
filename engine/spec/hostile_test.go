package spec

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// TestParseFileSizeCap: a regular spec file over MaxFileBytes is refused
// before it is read, naming the file and the cap. Before the cap,
// os.ReadFile read all of it (and a link to /dev/zero grew the process to
// 24 GB).
func TestParseFileSizeCap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.textproto")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	// Sparse: no disk space and, with the cap, nothing read.
	if err := f.Truncate(MaxFileBytes + 1); err != nil {
		f.Close()
		t.Skip("cannot make a sparse file:", err)
	}
	f.Close()
	start := time.Now()
	_, err = ParseFile(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "1 GiB (1073741824 bytes) a spec file may hold") {
		t.Errorf("error %v, want one naming %s and the 1 GiB cap", err, path)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v to refuse: the file was read", d)
	}
}

// TestParseFileCapsStreams: a spec that is not a regular file (here a
// FIFO whose writer sends more than the cap of valid text: white space) is
// read through a limited reader and refused once it passes the cap; one
// within the cap reads.
func TestParseFileCapsStreams(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		size int
		ok   bool
	}{{"over.textproto", 1 << 20, false}, {"within.textproto", 64 << 10, true}} {
		path := filepath.Join(dir, c.name)
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			t.Skip("no FIFOs here:", err)
		}
		text := append([]byte(`name: "x"`), bytes.Repeat([]byte(" "), c.size-9)...)
		done := make(chan error, 1)
		go func() {
			w, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				done <- err
				return
			}
			_, err = w.Write(text)
			if errors.Is(err, syscall.EPIPE) {
				err = nil // the reader stopped at the cap
			}
			w.Close()
			done <- err
		}()
		n, err := parseFileLimit(path, 64<<10)
		switch {
		case c.ok && (err != nil || n.GetName() != "x"):
			t.Errorf("%s (%d bytes): %v, want it read", c.name, c.size, err)
		case !c.ok && (err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "64 KiB (65536 bytes) a spec file may hold")):
			t.Errorf("%s (%d bytes): error %v, want one naming the file and the 64 KiB cap", c.name, c.size, err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: writer: %v", c.name, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: writer still blocked", c.name)
		}
	}
}

// TestValidateNames: names that are printed or chosen on the command line
// are refused when empty, only white space, non-printable (a newline, an
// ANSI escape, a bidirectional override) or, for populations, holding a
// ',' or '@' (the separators of --record, --population, --sample and
// --listen-filter), and for phases a ',' (--phase's); the error names the
// field and quotes the name. Before, "E,x" and "E\nx\x1b[31m" were
// accepted, and the escape reached the terminal raw.
func TestValidateNames(t *testing.T) {
	base := func() string {
		return `duration_ms: 10 populations { name: "E" size: 2 iaf_psc_delta {} }`
	}
	tests := []struct {
		name, spec, want string
	}{
		{"population comma", `duration_ms: 10 populations { name: "E,x" size: 2 iaf_psc_delta {} } recording { spikes: "E,x" }`,
			`population "E,x" (populations[0]): name = "E,x": must not contain ','`},
		{"population at", `duration_ms: 10 populations { name: "E@0" size: 2 iaf_psc_delta {} }`,
			`population "E@0" (populations[0]): name = "E@0": must not contain '@'`},
		{"population escape", `duration_ms: 10 populations { name: "E\nx\x1b[31m" size: 2 iaf_psc_delta {} }`,
			`population "E\nx\x1b[31m" (populations[0]): name = "E\nx\x1b[31m": must hold printable characters only: U+000A at byte 1`},
		{"population blank", `duration_ms: 10 populations { name: "  " size: 2 iaf_psc_delta {} }`,
			`population "  " (populations[0]): name = "  ": must not be only white space`},
		{"population bidi", `duration_ms: 10 populations { name: "E\u202e" size: 2 iaf_psc_delta {} }`,
			`name = "E\u202e": must hold printable characters only: U+202E`},
		{"population nul", `duration_ms: 10 populations { name: "E\000" size: 2 iaf_psc_delta {} }`,
			`name = "E\x00": must hold printable characters only: U+0000`},
		{"projection tab", base() + ` projections { name: "a\tb" pre: "E" post: "E" all_to_all {} weight { constant: 1 } }`,
			`projection "a\tb" (projections[0]): name = "a\tb": must hold printable characters only: U+0009`},
		{"projection blank", base() + ` projections { name: " " pre: "E" post: "E" all_to_all {} weight { constant: 1 } }`,
			`projection " " (projections[0]): name = " ": must not be only white space`},
		{"input escape", base() + ` inputs { name: "\x1b[0m" target: "E" dc { amplitude: 1 } }`,
			`input "\x1b[0m" (inputs[0]): name = "\x1b[0m": must hold printable characters only: U+001B`},
		{"phase comma", base() + ` phases { name: "a,b" start_ms: 0 stop_ms: 5 }`,
			`phase "a,b" (phases[0]): name = "a,b": must not contain ','`},
		{"network newline", `name: "net\n"` + base(),
			`name = "net\n": must hold printable characters only: U+000A`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := validateText(t, tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n%v\nwant substring:\n%s", err, tc.want)
			}
			if strings.ContainsAny(err.Error(), "\x1b\t\u202e\x00") {
				t.Errorf("the error holds a raw control character: %q", err.Error())
			}
			var ve *ValidationError
			if errors.As(err, &ve) && len(ve.Errors) != 1 {
				t.Errorf("%d errors, want the name's alone (a bad name is still a population the rest may name):\n%v", len(ve.Errors), err)
			}
		})
	}
	// What stays allowed: spaces inside, any printable script, '/', '#',
	// and commas and '@' in the names nothing selects on the command line
	// (projection labels of PyNN views hold commas).
	good := `name: "ring (N=512, cue 90°)" duration_ms: 10
populations { name: "L2/3 E" size: 2 iaf_psc_delta {} }
populations { name: "Ökö#2→θ" size: 2 iaf_psc_delta {} }
projections { name: "view of 'L2/3 E' with mask slice(0, 1, None)" pre: "L2/3 E" post: "Ökö#2→θ" all_to_all {} weight { constant: 1 } }
inputs { name: "src->L2/3 E@0" target: "L2/3 E" dc { amplitude: 1 } }
phases { name: "learn: part 1" start_ms: 0 stop_ms: 5 }
recording { spikes: "L2/3 E" }`
	n, err := Parse([]byte(good), Textproto)
	if err != nil {
		t.Fatal(err)
	}
	ApplyDefaults(n)
	if err := ValidateRun(n); err != nil {
		t.Errorf("good names refused: %v", err)
	}
}

// TestValidateDurationAtLeastOneStep: a duration shorter than one step of
// dt_ms (which ran no step and reported the run complete) is refused,
// naming the field, as --duration 0 is on the command line; 0 stays
// allowed for Validate (myelin serve runs a network on command, without a
// length) but not for ValidateRun.
func TestValidateDurationAtLeastOneStep(t *testing.T) {
	n, err := Parse([]byte(`populations { name: "E" size: 2 iaf_psc_delta {} }`), Textproto)
	if err != nil {
		t.Fatal(err)
	}
	ApplyDefaults(n)
	for _, c := range []struct {
		dt, d       float64
		valid, runs bool
	}{
		{0.1, 0, true, false},
		{0.1, 0.01, true, false}, // Validate (myelin serve) ignores the duration: it runs on command
		{0.1, 0.09, true, false},
		{0.1, 0.1, true, true},
		{1, 0.5, true, false},
		{1, 1000, true, true},
	} {
		n.DtMs, n.DurationMs = proto.Float64(c.dt), proto.Float64(c.d)
		for _, v := range []struct {
			name string
			f    func(*myelinpb.Network) error
			ok   bool
		}{{"Validate", Validate, c.valid}, {"ValidateRun", ValidateRun, c.runs}} {
			err := v.f(n)
			if v.ok != (err == nil) {
				t.Errorf("%s(dt_ms %g, duration_ms %g) = %v, want ok %v", v.name, c.dt, c.d, err, v.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "duration_ms = "+fnum(c.d)+": must be at least one step of dt_ms = "+fnum(c.dt)) {
				t.Errorf("%s: error %v does not name duration_ms and the step", v.name, err)
			}
		}
	}
}

// TestBuildSharesLists: Build copies the network but shares the long
// lists (explicit synapses, spike times) with the builder, even a list
// that serves two projections, so that a spec of millions of synapses is
// not held twice while it is built (ring_spiking at its largest n took
// 269 MB instead of 115); the builder stays usable and its network whole.
func TestBuildSharesLists(t *testing.T) {
	l := &myelinpb.ExplicitList{PreIndex: []uint32{0, 1}, PostIndex: []uint32{1, 0}, WeightValues: []float64{1, 2}}
	ids, times := []uint32{0, 1}, []float64{1, 2}
	b := New("share").Duration(10).Population("E", 2, IafPscDelta(nil)).
		Project("E", "E", Explicit(l), Name("a")).
		Project("E", "E", Explicit(l), Name("b"), Via(myelinpb.Receptor_INHIBITORY)).
		SpikeTimes("E", ids, times, 1)
	first, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	second, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(first, second) {
		t.Errorf("a second Build differs:\n%v\n%v", first, second)
	}
	for _, n := range []*myelinpb.Network{first, second} {
		for _, pr := range n.Projections {
			x := pr.GetExplicit()
			if len(x.PreIndex) != 2 || &x.PreIndex[0] != &l.PreIndex[0] || &x.PostIndex[0] != &l.PostIndex[0] || &x.WeightValues[0] != &l.WeightValues[0] {
				t.Errorf("projection %s: list %v not shared with the builder's", pr.Name, x)
			}
			if x == l {
				t.Errorf("projection %s: the list message itself is the builder's, want a copy sharing its slices", pr.Name)
			}
		}
		a := n.Inputs[0].GetSpikeTimes()
		if len(a.Neuron) != 2 || &a.Neuron[0] != &ids[0] || &a.TimeMs[0] != &times[0] {
			t.Errorf("spike array %v not shared", a)
		}
	}
	if len(l.PreIndex) != 2 || len(l.PostIndex) != 2 || len(l.WeightValues) != 2 {
		t.Errorf("the builder's list lost its slices: %v", l)
	}
	if got := b.Network(); len(got.Projections[1].GetExplicit().GetPreIndex()) != 2 || len(got.Inputs[0].GetSpikeTimes().GetTimeMs()) != 2 {
		t.Errorf("the builder's network lost its lists: %v", got)
	}
}
