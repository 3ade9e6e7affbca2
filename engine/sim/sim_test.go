package sim_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/myelin-sim/myelin/engine/cpu"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/sim"
	"github.com/myelin-sim/myelin/engine/spec"
	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// twoPops: E drives I; both fire under Poisson drive.
func twoPops(t *testing.T, record []string, probeEvery uint32, blockSteps uint32) *network.Network {
	t.Helper()
	m := &myelinpb.IafPscDelta{TauM: proto.Float64(20), VTh: proto.Float64(-55), EL: proto.Float64(-70), VReset: proto.Float64(-70)}
	b := spec.New("two").Dt(0.1).Duration(50).Seed(3).BlockSteps(blockSteps).
		Population("E", 80, spec.IafPscDelta(m)).
		Population("I", 20, spec.IafPscDelta(m)).
		Project("E", "I", spec.FixedIn(10), spec.Weight(spec.Const(1))).
		Poisson("E", 30000, 0.8).Poisson("I", 30000, 0.8).
		Probe("I", 2, 3, probeEvery)
	if record != nil {
		b.Record(record...)
	}
	s, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	net, err := network.Build(s, network.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	return net
}

func run(t *testing.T, net *network.Network, ctx context.Context) (*sim.Result, *stream.Result, error) {
	t.Helper()
	var buf bytes.Buffer
	res, err := sim.Run(ctx, net, sim.Options{Backend: cpu.New(2), Out: &buf, Version: "test"})
	r, rerr := stream.ReadAll(&buf)
	if rerr != nil {
		t.Fatalf("stream does not read back: %v", rerr)
	}
	return res, r, err
}

func TestRecordSubsetAndTrailer(t *testing.T) {
	net := twoPops(t, []string{"I"}, 1, 100)
	res, r, err := run(t, net, context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.PopSpikes[0] == 0 || res.PopSpikes[1] == 0 {
		t.Fatalf("both populations should fire: %v", res.PopSpikes)
	}
	for _, id := range r.IDs {
		if id < net.Pops[1].First {
			t.Fatalf("spike of unrecorded neuron %d in the stream", id)
		}
	}
	if uint64(len(r.IDs)) != res.PopSpikes[1] {
		t.Errorf("stream holds %d spikes, I fired %d", len(r.IDs), res.PopSpikes[1])
	}
	tr := r.Trailer
	if tr.GetStatus() != myelinpb.Trailer_COMPLETE || tr.GetStepsDone() != net.Steps || tr.GetBackend() != "cpu" || tr.GetMyelinVersion() != "test" {
		t.Errorf("trailer %v", tr)
	}
	if !r.Header.GetPopulations()[1].GetRecorded() || r.Header.GetPopulations()[0].GetRecorded() {
		t.Errorf("header recorded flags wrong: %v", r.Header.GetPopulations())
	}
}

// State samples land on steps t with t % every == 0, across block
// boundaries that are not multiples of every.
func TestStateSampleSteps(t *testing.T) {
	net := twoPops(t, nil, 7, 30)
	_, r, err := run(t, net, context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sd := r.State[0]
	want := (net.Steps + 6) / 7
	if uint64(len(sd.Steps)) != want {
		t.Fatalf("%d samples, want %d", len(sd.Steps), want)
	}
	for i, st := range sd.Steps {
		if st != uint64(i)*7 {
			t.Fatalf("sample %d at step %d, want %d", i, st, i*7)
		}
		for _, v := range sd.Row(i) {
			if v < -71 || v > -54 {
				t.Fatalf("sample %d: V = %v outside [E_L, V_th]", i, v)
			}
		}
	}
	if got := sd.Series.GetNeuronIds(); len(got) != 3 || got[0] != net.Pops[1].First+2 {
		t.Errorf("series neuron ids %v", got)
	}
}

func TestCancelledRunEndsWithInterruptedTrailer(t *testing.T) {
	net := twoPops(t, nil, 1, 10)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, r, err := run(t, net, ctx)
	if !errors.Is(err, sim.ErrInterrupted) {
		t.Fatalf("error %v, want ErrInterrupted", err)
	}
	if r.Trailer.GetStatus() != myelinpb.Trailer_INTERRUPTED || res.Status != myelinpb.Trailer_INTERRUPTED {
		t.Errorf("status %v / %v, want INTERRUPTED", r.Trailer.GetStatus(), res.Status)
	}
}

// failAfter accepts n bytes, then fails every write.
type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n < len(p) {
		return 0, errors.New("disk full")
	}
	f.n -= len(p)
	return len(p), nil
}

func TestSinkErrorStopsTheRun(t *testing.T) {
	net := twoPops(t, nil, 1, 10)
	res, err := sim.Run(context.Background(), net, sim.Options{Backend: cpu.New(1), Out: &failAfter{n: 4000}})
	if err == nil || res.Status != myelinpb.Trailer_FAILED {
		t.Fatalf("err %v, status %v: want a failure", err, res.Status)
	}
	if res.Steps == net.Steps {
		t.Errorf("the run went on to the end (%d steps) after its sink failed", res.Steps)
	}
}

// The header holds only what defines the result.
func TestHeaderIsDeterministic(t *testing.T) {
	a, _ := proto.MarshalOptions{Deterministic: true}.Marshal(sim.Header(twoPops(t, nil, 1, 100)))
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(sim.Header(twoPops(t, nil, 1, 100)))
	if !bytes.Equal(a, b) {
		t.Error("two headers of one spec differ")
	}
}

// TestWeightsRecord: a run with STDP writes a version-3 stream whose
// weights records hold, synapse for synapse, the backend's final weights
// of the plastic pair (E onto E), at the run's last step; the stream's
// spikes are those of the same run without a stream.
func TestWeightsRecord(t *testing.T) {
	f := proto.Float64
	m := &myelinpb.IafPscDelta{TauM: proto.Float64(20), VTh: proto.Float64(-55), EL: proto.Float64(-70), VReset: proto.Float64(-70)}
	s, err := spec.New("stdp").Dt(0.1).Duration(100).Seed(3).BlockSteps(64).
		Population("E", 80, spec.IafPscDelta(m)).
		Population("I", 20, spec.IafPscDelta(m)).
		Project("E", "E", spec.FixedIn(10), spec.Weight(spec.UniformDist(0.2, 0.8)), spec.STDP(func(s *myelinpb.STDP) { s.WMax, s.Lambda = f(1), f(0.1) })).
		Project("E", "I", spec.FixedIn(10), spec.Weight(spec.Const(1))).
		Poisson("E", 30000, 0.8).Poisson("I", 30000, 0.8).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	net, err := network.Build(s, network.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	be := cpu.New(1)
	if _, err := sim.Run(context.Background(), net, sim.Options{Backend: be, Out: &buf}); err != nil {
		t.Fatal(err)
	}
	res, err := stream.ReadAll(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if v := res.Header.GetFormatVersion(); v != stream.WeightsFormatVersion {
		t.Errorf("format version %d, want %d", v, stream.WeightsFormatVersion)
	}
	sets := res.WeightSets()
	if len(sets) != 1 || sets[0].Pre != "E" || sets[0].Post != "E" {
		t.Fatalf("weight sets %v, want one E -> E", sets)
	}
	got := sets[0]
	wt, err := be.Weights()
	if err != nil {
		t.Fatal(err)
	}
	pre, post, w := net.PlasticWeights(&net.STDP[0], wt)
	if len(got.Fixed) != 800 || len(w) != 800 || got.Step != net.Steps || got.Shift != net.Pops[0].Shift {
		t.Fatalf("%d weights (backend %d) at step %d, shift %d", len(got.Fixed), len(w), got.Step, got.Shift)
	}
	changed := 0
	_, _, w0 := net.PlasticWeights(&net.STDP[0], net.Syn.Weight)
	for k := range w {
		if got.PreIndex[k] != pre[k] || got.PostIndex[k] != post[k] || got.Fixed[k] != w[k] {
			t.Fatalf("synapse %d: (%d, %d, %d), want (%d, %d, %d)", k, got.PreIndex[k], got.PostIndex[k], got.Fixed[k], pre[k], post[k], w[k])
		}
		if w[k] != w0[k] {
			changed++
		}
		if x := got.Weight(k); x < 0 || x > 1 {
			t.Fatalf("synapse %d: weight %v outside [0, w_max 1]", k, x)
		}
	}
	if changed < 100 {
		t.Errorf("only %d of 800 weights changed", changed)
	}
}

// TestSampleIsTheStateAfterItsStep pins the sampling convention the docs
// state: the sample of step s is the state after step s (at (s+1)·dt, the
// time a spike of step s is stamped), so a neuron that fires in step s
// shows its reset value in that sample, and one step earlier it is below
// threshold.
func TestSampleIsTheStateAfterItsStep(t *testing.T) {
	m := &myelinpb.IafPscDelta{IE: proto.Float64(2000), VTh: proto.Float64(-55), VReset: proto.Float64(-70), TRef: proto.Float64(0.5)}
	s, err := spec.New("one").Dt(0.1).Duration(5).Seed(1).
		Population("E", 1, spec.IafPscDelta(m)).
		Probe("E", 0, 1, 1).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	net, err := network.Build(s, network.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, r, err := run(t, net, context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Steps) == 0 {
		t.Fatal("the neuron never fired")
	}
	d := r.State[0]
	for _, step := range r.Steps {
		i := int(step) // one sample a step from step 0
		if d.Steps[i] != step || i == 0 {
			t.Fatalf("sample %d is of step %d, want %d", i, d.Steps[i], step)
		}
		if v := d.Row(i)[0]; v != -70 {
			t.Errorf("spike at step %d: its sample is %g mV, want the reset -70", step, v)
		}
		if v := d.Row(i - 1)[0]; !(v < -55 && v > -70) {
			t.Errorf("spike at step %d: the sample before is %g mV, want between reset and threshold", step, v)
		}
	}
}
