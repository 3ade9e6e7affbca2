package stream

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
)

// updateGolden rewrites testdata/golden-v1.txt from the current reader. Use
// it only when the golden file's format itself changes, never to make a
// reader change pass.
var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden-v1.txt")

// dumpResult writes what a reader made of a stream as canonical text: the
// header and trailer as digests of their deterministic encoding, every
// spike, and every state series with a digest of its samples.
func dumpResult(t *testing.T, res *Result) string {
	t.Helper()
	var b strings.Builder
	digest := func(m proto.Message) string {
		p, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%x", sha256.Sum256(p))
	}
	h := res.Header
	fmt.Fprintf(&b, "header %s\nspec %q seed %d dt %g total_steps %d\n", digest(h), h.GetSpec().GetName(), h.GetSeed(), h.GetDtMs(), h.GetTotalSteps())
	for _, p := range h.GetPopulations() {
		fmt.Fprintf(&b, "population %s [%d, %d) %s recorded=%v\n", p.GetName(), p.GetFirstId(), p.GetFirstId()+p.GetSize(), p.GetModel(), p.GetRecorded())
	}
	if res.Trailer != nil {
		fmt.Fprintf(&b, "trailer %s status %v steps_done %d total %d per-pop %v\n", digest(res.Trailer), res.Trailer.GetStatus(), res.Trailer.GetStepsDone(), res.Trailer.GetTotalSpikes(), res.Trailer.GetPopulationSpikes())
	}
	fmt.Fprintf(&b, "gaps %d\nspikes %d\n", len(res.Gaps), len(res.IDs))
	for i := range res.IDs {
		fmt.Fprintf(&b, "%d %d\n", res.Steps[i], res.IDs[i])
	}
	ids := make([]uint32, 0, len(res.State))
	for id := range res.State {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		d := res.State[id]
		fmt.Fprintf(&b, "state %d %s %s neurons %v every %d samples %d steps %v\n", id, d.Series.GetPopulation(), d.Series.GetVariable(), d.Series.GetNeuronIds(), d.Series.GetEvery(), len(d.Steps), d.Steps)
		for i := range d.Steps {
			fmt.Fprintf(&b, "  %v\n", d.Row(i))
		}
	}
	return b.String()
}

// TestGoldenV1 reads a version-1 stream that `myelin run brunel --set n=200
// --duration 30 --sample E@0:3/50` wrote before format version 2 existed,
// and checks that today's reader reads exactly what the version-1 reader
// read (testdata/golden-v1.txt, written by that reader).
func TestGoldenV1(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "golden-v1.myelin"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := ReadAll(strings.NewReader(string(data)))
	if err != nil {
		t.Fatalf("golden v1 stream: %v", err)
	}
	got := dumpResult(t, res)
	want := filepath.Join("testdata", "golden-v1.txt")
	if *updateGolden {
		if err := os.WriteFile(want, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(w) {
		t.Errorf("golden v1 stream reads differently from before:\n got %.400s\nwant %.400s", got, w)
	}
	if len(res.IDs) != 539 || res.Header.GetFormatVersion() != 1 {
		t.Errorf("golden stream: %d spikes, version %d; want 539 spikes of version 1", len(res.IDs), res.Header.GetFormatVersion())
	}
}
