package cpu_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/backend/parity"
	"github.com/myelin-sim/myelin/engine/cpu"
	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// chunks are the step counts of successive Advance calls: none a multiple
// of the 4-step Poisson block, so that layout changes fall inside blocks.
var chunks = []int{7, 13, 3, 22, 1, 9}

// runChunks loads net on be and runs it in calls of chunks' sizes,
// returning all spikes and samples, the final weights (nil without STDP)
// and the threads each call ran on.
func runChunks(t *testing.T, net *network.Network, be *cpu.Backend) (backend.Block, []int32, []int) {
	t.Helper()
	if err := be.Load(net); err != nil {
		t.Fatal(err)
	}
	var all, blk backend.Block
	all.Reset(0, len(net.Probes))
	var used []int
	for st, k := uint64(0), 0; st < net.Steps; k++ {
		n := int(min(uint64(chunks[k%len(chunks)]), net.Steps-st))
		blk.Reset(st, len(net.Probes))
		if err := be.Advance(n, &blk); err != nil {
			t.Fatal(err)
		}
		used = append(used, be.Used())
		all.Counts = append(all.Counts, blk.Counts...)
		all.IDs = append(all.IDs, blk.IDs...)
		for i := range blk.Samples {
			all.Samples[i] = append(all.Samples[i], blk.Samples[i]...)
		}
		st += uint64(n)
	}
	var w []int32
	if len(net.STDP) > 0 {
		var err error
		if w, err = be.Weights(); err != nil {
			t.Fatal(err)
		}
	}
	return all, w, used
}

// Changing between the one-thread and the split layout at every Advance
// call (calls of 1 to 22 steps, across Poisson blocks, STP and STDP state,
// procedural rows, the slow port and probes) gives the spikes, samples and
// weights of a run on one thread.
func TestLayoutChangesKeepResults(t *testing.T) {
	model := func(name string, set map[string]string) func() (*myelinpb.Network, error) {
		return func() (*myelinpb.Network, error) { return models.Spec(name, set) }
	}
	probe := func(pop string, first, count, every uint32) func(*myelinpb.Network) {
		return func(s *myelinpb.Network) {
			if s.Recording == nil {
				s.Recording = &myelinpb.Recording{}
			}
			s.Recording.State = append(s.Recording.State, &myelinpb.StateProbe{Population: pop, First: first, Count: count, Every: every})
		}
	}
	all := map[string]bool{}
	for _, n := range procNames {
		all[n] = true
	}
	for _, tc := range []struct {
		name  string
		build func() (*myelinpb.Network, error)
		edit  func(*myelinpb.Network)
	}{
		{"cuba", model("cuba", map[string]string{"duration_ms": "60"}), probe("E", 1900, 200, 3)},
		{"coba", model("coba", map[string]string{"duration_ms": "60"}), probe("E", 0, 3200, 7)},
		{"brunel", model("brunel", map[string]string{"n": "2500", "duration_ms": "60"}), probe("E", 900, 300, 2)},
		{"mixed", parity.Mixed, nil},
		{"receptors", parity.Receptors, nil},
		{"procedural", procMix(all).Build, nil},
		{"stdp", func() (*myelinpb.Network, error) { return brunelSTDP(), nil }, nil},
	} {
		s, err := tc.build()
		if err != nil {
			t.Fatal(err)
		}
		if tc.edit != nil {
			tc.edit(s)
		}
		if s.GetDurationMs() > 100 {
			s.DurationMs = proto.Float64(100)
		}
		spec.ApplyDefaults(s)
		net, err := network.Build(s, network.Options{Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		ref, wref, _ := runChunks(t, net, cpu.New(1))
		t.Logf("%s: %d steps, %d spikes, %d weights", tc.name, net.Steps, len(ref.IDs), len(wref))
		if len(ref.IDs) == 0 {
			t.Fatalf("%s: no spikes: nothing compared", tc.name)
		}
		// The layouts alternate between calls; with delivery buckets
		// (held by ring slot across steps, emptied at the end of every
		// call) never flushed early, and flushed every few rows.
		for _, v := range []struct {
			name string
			be   func(int) *cpu.Backend
		}{
			{"", cpu.NewAlternating},
			{" bucketed", func(th int) *cpu.Backend { return cpu.NewAlternatingBucketed(th, 1<<30) }},
			{" bucketed, flushed past 37 events", func(th int) *cpu.Backend { return cpu.NewAlternatingBucketed(th, 37) }},
		} {
			for _, th := range []int{2, 3} {
				be := v.be(th)
				got, w, used := runChunks(t, net, be)
				if !slices.Contains(used, 1) || !slices.Contains(used, th) {
					t.Fatalf("%s%s, %d threads: calls ran on %v threads: the layouts did not alternate", tc.name, v.name, th, used)
				}
				if !slices.Equal(got.IDs, ref.IDs) || !slices.Equal(got.Counts, ref.Counts) {
					t.Errorf("%s%s, %d threads alternating: spikes differ from 1 thread (%d vs %d)", tc.name, v.name, th, len(got.IDs), len(ref.IDs))
				}
				for i := range ref.Samples {
					if !slices.Equal(got.Samples[i], ref.Samples[i]) {
						t.Errorf("%s%s, %d threads alternating: samples of probe %d differ from 1 thread", tc.name, v.name, th, i)
					}
				}
				if d := countDiff(w, wref); d != 0 || len(w) != len(wref) {
					t.Errorf("%s%s, %d threads alternating: %d of %d weights differ from 1 thread", tc.name, v.name, th, d, len(wref))
				}
			}
		}
	}
}

// A 4,000-neuron network on two threads measures both layouts over its
// first calls, keeps one, and says which; its results are those of one
// thread whatever it chose.
func TestAdaptiveChoosesALayout(t *testing.T) {
	s, err := models.Spec("cuba", map[string]string{"duration_ms": "300"})
	if err != nil {
		t.Fatal(err)
	}
	spec.ApplyDefaults(s)
	net, err := network.Build(s, network.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	be := cpu.New(2)
	if err := be.Load(net); err != nil {
		t.Fatal(err)
	}
	if got := be.Describe(); !strings.Contains(got, "measuring 1 and 2") {
		t.Fatalf("after Load: Describe() = %q, want the measurement announced", got)
	}
	ref, _, _ := runChunks(t, net, cpu.New(1))
	got, _, used := runChunks(t, net, be)
	if !slices.Equal(got.IDs, ref.IDs) || !slices.Equal(got.Counts, ref.Counts) {
		t.Errorf("spikes differ from 1 thread")
	}
	d := be.Describe()
	t.Logf("%d steps, %d calls: %s", net.Steps, len(used), d)
	last := used[len(used)-1]
	if !slices.Contains(used, 1) || !slices.Contains(used, 2) {
		t.Errorf("calls ran on %v threads: both layouts should have been measured", used)
	}
	tail := used[len(used)-len(used)/4:]
	for _, u := range tail {
		if u != last {
			t.Errorf("the last quarter of the calls ran on %v threads: no layout was kept", tail)
			break
		}
	}
	if want := "2 threads, " + map[int]string{1: "1", 2: "2"}[last] + " used after measuring "; !strings.Contains(d, want) || !strings.Contains(d, "µs/step on 1 thread") {
		t.Errorf("Describe() = %q, want %q… with the timings", d, want)
	}
}
