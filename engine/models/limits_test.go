package models_test

import (
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/models"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// build builds a built-in model's spec with parameters (no defaults, no
// validation).
func build(t *testing.T, model string, set map[string]string) (*myelinpb.Network, error) {
	t.Helper()
	m, err := models.Lookup(model)
	if err != nil {
		t.Fatal(err)
	}
	return m.Build(set)
}

// wantRefused fails the test at once (the next case could be a large
// build without the bound) unless the build is refused with an error that
// holds every one of want.
func wantRefused(t *testing.T, model string, set map[string]string, want ...string) {
	t.Helper()
	_, err := build(t, model, set)
	if err == nil {
		t.Fatalf("%s %v: built, want it refused", model, set)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("%s %v: error %q does not mention %q", model, set, err, w)
		}
	}
}

// TestRingSpikingSizeLimit: ring_spiking's explicit E→E list grows as n²,
// so n is bounded (4096 at the default σ = 18°, less for a wider σ), with
// an error naming the parameter and the limit, before anything is
// allocated; at the limit the spec takes little time and memory. Before,
// n = 20000 took 21 s and 8.5 GB to build and n = 100000 died "out of
// memory".
func TestRingSpikingSizeLimit(t *testing.T) {
	wantRefused(t, "ring_spiking", map[string]string{"n": "4097"}, "parameter n = 4097: must be <= 4096 at sigma_deg = 18")
	wantRefused(t, "ring_spiking", map[string]string{"n": "2246", "sigma_deg": "120"}, "parameter n = 2246: must be <= 2245 at sigma_deg = 120")
	wantRefused(t, "ring_spiking", map[string]string{"n": "20000"}, "parameter n = 20000: must be <= 4096")
	wantRefused(t, "ring_spiking", map[string]string{"n": "100000"}, "parameter n = 100000: must be <= 4096")
	wantRefused(t, "ring_spiking", map[string]string{"n": "4294967295"}, "parameter n = 4294967295: must be <= 4096")

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s, err := models.Spec("ring_spiking", map[string]string{"n": "4096"})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	const synapses = 4096 * 2 * 615 // n·2·⌈3σ/360·n⌉
	for _, pr := range s.GetProjections() {
		if x := pr.GetExplicit(); x != nil && len(x.GetPreIndex()) != synapses {
			t.Errorf("%s: %d synapses, want %d", pr.GetName(), len(x.GetPreIndex()), synapses)
		}
	}
	// Two index lists shared by both ports and two weight lists: 24 bytes
	// a synapse, 121 MB; appending without sizing the lists, and copying
	// them in spec.Builder.Build, took more than twice that.
	got := after.TotalAlloc - before.TotalAlloc
	t.Logf("n = 4096: %d synapses, %d MB allocated", synapses, got>>20)
	if got > 160<<20 {
		t.Errorf("building n = 4096 allocated %d MB, want < 160 MB", got>>20)
	}
}

// TestRingSpikingAllFast: ampa_frac = 1 puts all of the E→E weight on the
// fast port; the fast weights were computed as w/(1-frac)·frac, 0/0, and
// the spec failed validation with NaN weights.
func TestRingSpikingAllFast(t *testing.T) {
	s, err := models.Spec("ring_spiking", map[string]string{"ampa_frac": "1", "n": "64"})
	if err != nil {
		t.Fatal(err)
	}
	var fast *myelinpb.ExplicitList
	for _, pr := range s.GetProjections() {
		if pr.GetName() == "E->E ampa" {
			fast = pr.GetExplicit()
		}
	}
	if fast == nil {
		t.Fatal("no projection \"E->E ampa\"")
	}
	jee := 512.0 / 64
	for i, w := range fast.GetWeightValues() {
		d := float64(int(fast.PreIndex[i])-int(fast.PostIndex[i])) * 360 / 64
		d = math.Min(math.Abs(d), 360-math.Abs(d))
		if want := jee * math.Exp(-d*d/(2*18*18)); math.Abs(w-want) > 1e-12*want {
			t.Fatalf("weight %d (%d->%d) = %g, want %g", i, fast.PreIndex[i], fast.PostIndex[i], w, want)
		}
	}
}

// TestHopfieldListBounds: the clipped Hebbian list of hopfield and
// consolidation is bounded by its length (80 million synapses, counted
// before the list is allocated) and by the work of summing P·K² pairs, and
// hopfield's cue by its number of spikes, each with an error naming the
// parameters. Before, n = 20000, a = 0.5, P = 10 (380 million synapses)
// ran out of memory, and a = 0.9, P = 900 would have summed 3·10¹¹ pairs.
func TestHopfieldListBounds(t *testing.T) {
	for _, model := range []string{"hopfield", "consolidation"} {
		// 82 million synapses: over the bound, but cheap to refuse.
		wantRefused(t, model, map[string]string{"n": "20000", "patterns": "23"},
			"parameters n = 20000, patterns = 23, sparseness = 0.1", "would hold 82", "more than 80000000")
		wantRefused(t, model, map[string]string{"n": "20000", "sparseness": "0.5", "patterns": "10"},
			"parameters n = 20000, patterns = 10, sparseness = 0.5", "more than 80000000")
		wantRefused(t, model, map[string]string{"n": "20000", "sparseness": "0.9", "patterns": "900"},
			"parameter patterns = 900: P·K² = 900·18000²", "more than 2000000000")
	}
	wantRefused(t, "hopfield", map[string]string{"n": "20000", "sparseness": "0.5", "patterns": "1", "learning": "stdp",
		"cue_fraction": "1", "cue_ms": "10000", "duration_ms": "20000"}, "parameter cue_ms = 10000: the cue would be 2e+07 spikes")
	if testing.Short() {
		return
	}
	// The documented largest n with the default patterns still builds.
	s, err := build(t, "hopfield", map[string]string{"n": "20000"})
	if err != nil {
		t.Fatal(err)
	}
	if l := s.GetProjections()[0].GetExplicit(); len(l.GetPreIndex()) < 70_000_000 || cap(l.PreIndex)-len(l.PreIndex) > 4096 {
		t.Errorf("hebb at n = 20000: %d synapses in a list of capacity %d, want about 73 million, sized exactly", len(l.GetPreIndex()), cap(l.PreIndex))
	}
}

// TestRingRateCue: ring_rate's cue covers the neurons within ±σ of
// cue_deg, each once, all of the ring at most; σ is bounded. Before, a σ
// wider than the ring drove neurons two or more times over (σ = 360° at
// n = 16: 33 cue neurons on a ring of 16), and σ = 1e12 made inputs until
// the process had 24 GB.
func TestRingRateCue(t *testing.T) {
	for _, c := range []struct {
		set  map[string]string
		want int
	}{
		{map[string]string{"n": "16", "sigma_deg": "360"}, 16},
		{map[string]string{"n": "16", "sigma_deg": "180", "cue_deg": "-700"}, 16},
		{map[string]string{"n": "360", "sigma_deg": "20", "cue_deg": "-90"}, 41},
		{map[string]string{"n": "360", "sigma_deg": "20", "cue_deg": "5"}, 41},
	} {
		s, err := models.Spec("ring_rate", c.set)
		if err != nil {
			t.Fatalf("%v: %v", c.set, err)
		}
		n := int(s.GetPopulations()[0].GetSize())
		driven := make([]int, n)
		for _, in := range s.GetInputs() {
			dc := in.GetDc()
			for i := dc.GetFirst(); i < dc.GetFirst()+dc.GetCount(); i++ {
				driven[i]++
			}
		}
		total := 0
		for i, k := range driven {
			if k > 1 {
				t.Fatalf("%v: neuron %d driven by %d cue inputs", c.set, i, k)
			}
			total += k
		}
		if total != c.want {
			t.Fatalf("%v: %d cued neurons, want %d", c.set, total, c.want)
		}
	}
	// Last: without the bound, these would make inputs without end.
	wantRefused(t, "ring_rate", map[string]string{"sigma_deg": "0"}, "parameter sigma_deg = 0: must be in (0, 360]")
	wantRefused(t, "ring_rate", map[string]string{"sigma_deg": "1e12"}, "parameter sigma_deg = 1e+12: must be in (0, 360]")
}
