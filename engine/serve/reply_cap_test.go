package serve_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/serve"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// payload is what max_reply_bytes bounds: the encoded spike steps and ids
// and the sample values of d.
func payload(d *myelinpb.Data) uint64 {
	var n int
	for i, s := range d.GetSpikeSteps() {
		n += protowire.SizeVarint(s) + protowire.SizeVarint(uint64(d.GetSpikeIds()[i]))
	}
	for _, s := range d.GetSamples() {
		n += 4 * len(s.GetValues())
	}
	return uint64(n)
}

// concat joins the data of consecutive replies into the Data of one,
// failing unless each begins where the one before ended.
func concat(t *testing.T, ds []*myelinpb.Data, every map[uint32]uint64) *myelinpb.Data {
	t.Helper()
	out := &myelinpb.Data{FirstStep: ds[0].GetFirstStep()}
	series := map[uint32]*myelinpb.Samples{}
	for _, d := range ds {
		if d.GetFirstStep() != out.GetEndStep() && out.GetEndStep() != 0 {
			t.Fatalf("data of steps [%d, %d) after data that ended at %d", d.GetFirstStep(), d.GetEndStep(), out.GetEndStep())
		}
		out.EndStep = d.GetEndStep()
		out.SpikeSteps = append(out.SpikeSteps, d.GetSpikeSteps()...)
		out.SpikeIds = append(out.SpikeIds, d.GetSpikeIds()...)
		for _, s := range d.GetSamples() {
			have := series[s.GetSeries()]
			if have == nil {
				have = &myelinpb.Samples{Series: s.GetSeries(), FirstStep: s.GetFirstStep()}
				series[s.GetSeries()] = have
				out.Samples = append(out.Samples, have)
			} else if next := have.GetFirstStep() + uint64(have.GetNumSamples())*every[s.GetSeries()]; s.GetFirstStep() != next {
				t.Fatalf("series %d: rows from step %d after rows that end before step %d", s.GetSeries(), s.GetFirstStep(), next)
			}
			have.NumSamples += s.GetNumSamples()
			have.Values = append(have.Values, s.GetValues()...)
		}
	}
	return out
}

func runCmd(ms float64, maxBytes uint64) *myelinpb.Command {
	return &myelinpb.Command{Kind: &myelinpb.Command_Run{Run: &myelinpb.RunCommand{DurationMs: ms, Read: true, MaxReplyBytes: maxBytes}}}
}

// A run whose recorded data pass max_reply_bytes comes back in several
// replies, each within the bound and each but the last near it (the
// engine stops only when not even one more step is sure to fit), and
// their data, joined, are byte for byte those of one reply without the
// bound, spikes and samples, and the spikes those of `myelin run`.
func TestCappedRunEqualsOneReply(t *testing.T) {
	const total, steps, limit = 200.0, 2000, 1000
	c := startServe(t)
	s := recurrent(t, total)
	spec, err := proto.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	loaded := c.call(&myelinpb.Command{Kind: &myelinpb.Command_Load{Load: &myelinpb.LoadCommand{Spec: spec, Threads: 2}}}).GetLoaded()
	every := map[uint32]uint64{}
	for _, ss := range loaded.GetStateSeries() {
		every[ss.GetId()] = uint64(ss.GetEvery())
	}
	// Every neuron (100, ids < 128) firing at every step (< 2^14), and
	// the 3 probed values of a sampled step.
	const worstStep = 100*(2+1) + 3*4

	one := c.call(runCmd(total, serve.MaxReplyBytesLimit))
	if one.GetError() != "" || one.GetRan().GetStepsLeft() != 0 || one.GetRan().GetStep() != steps {
		t.Fatalf("uncapped run: %v", one)
	}
	want := one.GetRan().GetData()
	if payload(want) < 5*limit {
		t.Fatalf("the run records %d bytes; the test needs several times %d", payload(want), limit)
	}
	c.call(&myelinpb.Command{Kind: &myelinpb.Command_Reset_{Reset_: &myelinpb.ResetCommand{}}})

	var parts []*myelinpb.Data
	var spikes uint64
	ms := total
	for {
		rep := c.call(runCmd(ms, limit))
		ran := rep.GetRan()
		if rep.GetError() != "" || ran == nil {
			t.Fatalf("capped run: %v", rep)
		}
		d := ran.GetData()
		parts = append(parts, d)
		if p := payload(d); p > limit {
			t.Errorf("reply %d: %d bytes of data, more than %d", len(parts), p, limit)
		} else if ran.GetStepsLeft() > 0 && p < limit-worstStep {
			t.Errorf("reply %d stopped at %d bytes of data, more than one step's worst case (%d) below %d", len(parts), p, worstStep, limit)
		}
		if d.GetEndStep() != ran.GetStep() || ran.GetStep()+ran.GetStepsLeft() != steps || ran.GetTimeMs() != float64(ran.GetStep())*0.1 {
			t.Fatalf("reply %d: data to step %d, at step %d with %d left", len(parts), d.GetEndStep(), ran.GetStep(), ran.GetStepsLeft())
		}
		for _, n := range ran.GetPopulationSpikes() {
			spikes += n
		}
		if ran.GetStepsLeft() == 0 {
			break
		}
		ms = float64(ran.GetStepsLeft()) * 0.1
	}
	if len(parts) < 5 {
		t.Errorf("%d replies; want one for about every %d bytes of %d", len(parts), limit, payload(want))
	}
	got := concat(t, parts, every)
	det := proto.MarshalOptions{Deterministic: true}
	gb, err := det.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	wb, err := det.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gb, wb) || len(got.GetSamples()) != 1 {
		t.Errorf("the %d replies joined (%d spikes, %d bytes) differ from one reply (%d spikes, %d bytes)",
			len(parts), len(got.GetSpikeIds()), len(gb), len(want.GetSpikeIds()), len(wb))
	}
	if spikes != uint64(len(want.GetSpikeIds())) {
		t.Errorf("the runs counted %d spikes, the data hold %d", spikes, len(want.GetSpikeIds()))
	}
	ref := runOnce(t, s)
	if !slices.Equal(got.GetSpikeSteps(), ref.Steps) || !slices.Equal(got.GetSpikeIds(), ref.IDs) {
		t.Errorf("spikes differ from one `myelin run`: %d, run %d", len(got.GetSpikeIds()), len(ref.IDs))
	}
}

// A bound below what one step can record still advances: each reply
// holds the data of one step, its last (steps that record nothing do not
// stop a run).
func TestCapBelowOneStep(t *testing.T) {
	c := startServe(t)
	spec, err := proto.Marshal(recurrent(t, 100))
	if err != nil {
		t.Fatal(err)
	}
	c.call(&myelinpb.Command{Kind: &myelinpb.Command_Load{Load: &myelinpb.LoadCommand{Spec: spec, Threads: 1}}})
	const steps = 300
	ms, at, replies := steps*0.1, uint64(0), 0
	for {
		ran := c.call(runCmd(ms, 10)).GetRan()
		d := ran.GetData()
		replies++
		if ran.GetStep() <= at || ran.GetStep()+ran.GetStepsLeft() != steps || d.GetFirstStep() != at || d.GetEndStep() != ran.GetStep() {
			t.Fatalf("reply %d: from step %d to %d, %d left, data of [%d, %d)", replies, at, ran.GetStep(), ran.GetStepsLeft(), d.GetFirstStep(), d.GetEndStep())
		}
		last := ran.GetStep() - 1
		for _, s := range d.GetSpikeSteps() {
			if s != last {
				t.Fatalf("reply %d ends at step %d and holds a spike of step %d", replies, ran.GetStep(), s)
			}
		}
		for _, s := range d.GetSamples() {
			if s.GetNumSamples() != 1 || s.GetFirstStep() != last {
				t.Fatalf("reply %d ends at step %d and holds %d rows from step %d", replies, ran.GetStep(), s.GetNumSamples(), s.GetFirstStep())
			}
		}
		if ran.GetStepsLeft() > 0 && payload(d) == 0 {
			t.Fatalf("reply %d stopped at step %d without data", replies, ran.GetStep())
		}
		if ran.GetStepsLeft() == 0 {
			break
		}
		at, ms = ran.GetStep(), float64(ran.GetStepsLeft())*0.1
	}
	if replies < steps/7 {
		t.Errorf("%d replies for %d steps, a seventh of which are sampled", replies, steps)
	}
}

// What the engine holds unread is bounded: runs that do not read stop
// at the bound, and once it is reached run no step until a read; a read
// returns at most the largest bound of the runs since the last one. The
// bound is checked, and a run without one gets the default.
func TestUnreadDataBounded(t *testing.T) {
	e := serve.New(nil)
	defer e.Close()
	mustLoad(t, e, recurrent(t, 100), 1)
	ctx := context.Background()
	small := serve.RunOptions{MaxReplyBytes: 2000}
	r1, err := e.RunWith(ctx, 200, small)
	if err != nil {
		t.Fatal(err)
	}
	if r1.GetStepsLeft() == 0 || r1.GetStep()+r1.GetStepsLeft() != 2000 {
		t.Fatalf("run of 2000 steps with 2000 bytes: at step %d, %d left", r1.GetStep(), r1.GetStepsLeft())
	}
	r2, err := e.RunWith(ctx, 200, small)
	if err != nil {
		t.Fatal(err)
	}
	if r2.GetStep() != r1.GetStep() || r2.GetStepsLeft() != 2000 {
		t.Errorf("run with the bound reached: from step %d to %d, %d left; want no step", r1.GetStep(), r2.GetStep(), r2.GetStepsLeft())
	}
	// A larger bound lets the engine hold more; the read returns it all.
	r3, err := e.RunWith(ctx, 200, serve.RunOptions{MaxReplyBytes: 6000})
	if err != nil {
		t.Fatal(err)
	}
	d := mustRead(t, e)
	if p := payload(d); p > 6000 || p <= 2000 || d.GetFirstStep() != 0 || d.GetEndStep() != r3.GetStep() {
		t.Errorf("read after runs bound to 2000 and 6000 bytes: %d bytes of steps [%d, %d), at step %d", p, d.GetFirstStep(), d.GetEndStep(), r3.GetStep())
	}
	// A run without a bound gets the default, far above what this runs.
	if r, err := e.Run(100); err != nil || r.GetStepsLeft() != 0 {
		t.Errorf("run with the default bound: %v, %v", r, err)
	}
	at := e.Step()
	for _, bad := range []uint64{serve.MaxReplyBytesLimit + 1, 1 << 63} {
		if _, err := e.RunWith(ctx, 10, serve.RunOptions{MaxReplyBytes: bad}); err == nil || !strings.Contains(err.Error(), "max_reply_bytes") || !strings.Contains(err.Error(), "at most 1073741824") {
			t.Errorf("max_reply_bytes %d: %v", bad, err)
		}
	}
	if e.Step() != at {
		t.Errorf("refused runs moved the engine from step %d to %d", at, e.Step())
	}
	c := startServe(t)
	spec, err := proto.Marshal(recurrent(t, 100))
	if err != nil {
		t.Fatal(err)
	}
	c.call(&myelinpb.Command{Kind: &myelinpb.Command_Load{Load: &myelinpb.LoadCommand{Spec: spec, Threads: 1}}})
	if rep := c.call(runCmd(1, serve.MaxReplyBytesLimit+1)); !strings.HasPrefix(rep.GetError(), "run: max_reply_bytes = 1073741825: at most") {
		t.Errorf("over the protocol: %q", rep.GetError())
	}
}
