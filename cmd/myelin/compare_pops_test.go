package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// popStream writes a stream of 100 steps and no spikes whose header lists
// pops, with a COMPLETE trailer.
func popStream(t *testing.T, path string, pops ...*myelinpb.PopulationRange) {
	t.Helper()
	h := &myelinpb.Header{FormatVersion: stream.FormatVersion, DtMs: 0.1, TotalSteps: 100, Seed: 1, Populations: pops}
	writeStreamFile(t, path, &myelinpb.Record{Kind: &myelinpb.Record_Header{Header: h}},
		&myelinpb.Record{Kind: &myelinpb.Record_Trailer{Trailer: &myelinpb.Trailer{Status: myelinpb.Trailer_COMPLETE, StepsDone: 100}}})
}

// TestComparePopulationFields: two headers whose populations differ only in
// fields compare did not print (recorded, model) name the first population
// that differs and each field with both values; a different list of names
// gives both lists. The exit error counts "1 difference", not "1
// differences". Before, the line printed the same NAME[first, end) list on
// both sides: "header: populations E[0, 3200) I[3200, 4000) in a, E[0,
// 3200) I[3200, 4000) in b".
func TestComparePopulationFields(t *testing.T) {
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	pop := func(name string, first, size uint32, model string, recorded bool) *myelinpb.PopulationRange {
		return &myelinpb.PopulationRange{Name: name, FirstId: first, Size: size, Model: model, Recorded: recorded}
	}
	popStream(t, path("a.myelin"), pop("E", 0, 3200, "iaf_psc_exp", true), pop("I", 3200, 800, "iaf_psc_exp", true))
	popStream(t, path("b.myelin"), pop("E", 0, 3200, "iaf_psc_exp", true), pop("I", 3200, 800, "iaf_psc_exp", false))
	popStream(t, path("c.myelin"), pop("E", 0, 3200, "iaf_psc_delta", false), pop("I", 3200, 800, "iaf_psc_exp", false))
	popStream(t, path("d.myelin"), pop("I", 0, 800, "iaf_psc_exp", true), pop("E", 800, 3200, "iaf_psc_exp", true))
	popStream(t, path("e.myelin"), pop("E", 0, 3200, "iaf_psc_exp", true))

	for _, c := range []struct {
		a, b, want string
	}{
		{"a.myelin", "b.myelin", "header: population I: recorded true in " + path("a.myelin") + ", false in " + path("b.myelin") + "\n"},
		{"a.myelin", "c.myelin", `header: population E: model "iaf_psc_exp" in ` + path("a.myelin") + `, "iaf_psc_delta" in ` + path("c.myelin") +
			"; recorded true in " + path("a.myelin") + ", false in " + path("c.myelin") + " (and 1 more population differs)\n"},
		{"a.myelin", "d.myelin", "header: populations E[0, 3200) I[3200, 4000) in " + path("a.myelin") + ", I[0, 800) E[800, 4000) in " + path("d.myelin") + "\n"},
		{"a.myelin", "e.myelin", "header: populations E[0, 3200) I[3200, 4000) in " + path("a.myelin") + ", E[0, 3200) in " + path("e.myelin") + "\n"},
	} {
		code, out, errOut := cli(context.Background(), "compare", path(c.a), path(c.b))
		if code != 1 || out != c.want {
			t.Errorf("compare %s %s: exit %d, stdout\n%s\nwant exit 1 and\n%s", c.a, c.b, code, out, c.want)
		}
		if !strings.Contains(errOut, "the streams differ (1 difference above)") {
			t.Errorf("compare %s %s: stderr %q, want it to count 1 difference", c.a, c.b, errOut)
		}
	}
	if code, out, _ := cli(context.Background(), "compare", path("a.myelin"), path("a.myelin")); code != 0 || strings.Contains(out, "header:") {
		t.Errorf("compare a a: exit %d:\n%s", code, out)
	}
}
