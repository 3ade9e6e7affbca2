// Package sim drives a simulation: it loads a built network into a backend,
// advances it block by block, and hands each block to the stream writer on
// a second goroutine while the backend computes the next one (two blocks in
// flight, double-buffered). A cancelled context ends the run at the next
// block boundary with a trailer marked interrupted; a backend or sink error
// ends it with a trailer marked failed. Either way everything already
// written stays readable.
package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// ErrInterrupted is returned when the context was cancelled mid-run.
var ErrInterrupted = errors.New("simulation interrupted")

// Options configure a run.
type Options struct {
	// Backend runs the network; it must not be loaded yet.
	Backend backend.Backend
	// Out receives the stream; nil records nothing. An Out that implements
	// Outputs gets the stream through the Writers it returns instead.
	Out io.Writer
	// Progress, when set, is called about once a second from the run's
	// goroutine.
	Progress func(Progress)
	// Version is written into the trailer.
	Version string
}

// Outputs is an Options.Out that takes the stream through its own
// stream.Writers rather than as the bytes of one: each Writer is given
// every block and encodes what it keeps (a file, and a live server that
// serves only some neurons). Writers is called once, with the header.
type Outputs interface {
	io.Writer
	Writers(h *myelinpb.Header) ([]*stream.Writer, error)
}

// Progress reports how far a run is.
type Progress struct {
	Step, Steps uint64
	BioMs       float64
	Wall        time.Duration
	Spikes      uint64
}

// Result summarizes a finished (or interrupted) run.
type Result struct {
	Steps        uint64   // steps done
	PopSpikes    []uint64 // spikes per population (all populations, recorded or not)
	BuildSeconds float64
	LoadSeconds  float64
	SimSeconds   float64
	Status       myelinpb.Trailer_Status
	Backend      string
	Describe     string
}

// Header returns the stream header of net: only what defines the result.
func Header(net *network.Network) *myelinpb.Header {
	h := &myelinpb.Header{
		FormatVersion: stream.FormatVersion,
		Spec:          net.Spec,
		Seed:          net.Seed,
		DtMs:          net.Dt,
		TotalSteps:    net.Steps,
	}
	if len(net.STDP) > 0 {
		h.FormatVersion = stream.WeightsFormatVersion // the stream ends with weights records
	}
	for _, p := range net.Pops {
		h.Populations = append(h.Populations, &myelinpb.PopulationRange{
			Name: p.Name, FirstId: p.First, Size: p.Size, Model: p.Model.String(), Recorded: p.Recorded,
		})
	}
	for i, pr := range net.Probes {
		pop := &net.Pops[pr.Pop]
		s := &myelinpb.StateSeries{Id: uint32(i), Population: pop.Name, Variable: pr.Variable, Every: pr.Every}
		for k := uint32(0); k < pr.Count; k++ {
			s.NeuronIds = append(s.NeuronIds, pop.First+pr.First+k)
		}
		h.StateSeries = append(h.StateSeries, s)
	}
	return h
}

// Run simulates net to its end (or until ctx is cancelled).
func Run(ctx context.Context, net *network.Network, opt Options) (*Result, error) {
	be := opt.Backend
	res := &Result{PopSpikes: make([]uint64, len(net.Pops)), BuildSeconds: net.BuildSeconds, Backend: be.Name()}
	t0 := time.Now()
	if err := be.Load(net); err != nil {
		return res, fmt.Errorf("backend %s: load: %w", be.Name(), err)
	}
	res.LoadSeconds = time.Since(t0).Seconds()
	res.Describe = be.Describe()

	var ws []*stream.Writer
	if outs, ok := opt.Out.(Outputs); ok {
		var err error
		if ws, err = outs.Writers(Header(net)); err != nil {
			return res, fmt.Errorf("stream header: %w", err)
		}
	} else if opt.Out != nil {
		w, err := stream.NewWriter(opt.Out, Header(net))
		if err != nil {
			return res, fmt.Errorf("stream header: %w", err)
		}
		ws = append(ws, w)
	}
	rec := newRecorder(ws, net)
	runErr := advanceAll(ctx, net, be, rec, res, opt.Progress)
	sinkErr := rec.close()
	// Again after the run: a backend may describe choices it made while
	// running (the CPU backend's measured thread layout).
	res.Describe = be.Describe()

	switch {
	case runErr == nil && sinkErr == nil:
		res.Status = myelinpb.Trailer_COMPLETE
	case errors.Is(runErr, ErrInterrupted):
		res.Status = myelinpb.Trailer_INTERRUPTED
	default:
		res.Status = myelinpb.Trailer_FAILED
	}
	if runErr == nil {
		runErr = sinkErr
	}
	if len(ws) > 0 && len(net.STDP) > 0 && res.Status != myelinpb.Trailer_FAILED {
		if err := writeWeights(net, be, ws, res.Steps); err != nil {
			runErr = err
			res.Status = myelinpb.Trailer_FAILED
		}
	}
	if len(ws) > 0 {
		t := &myelinpb.Trailer{
			Status: res.Status, StepsDone: res.Steps, Backend: be.Name(), Threads: uint32(be.Threads()),
			Device: res.Describe, BuildSeconds: res.BuildSeconds, SimSeconds: res.SimSeconds, MyelinVersion: opt.Version,
		}
		if runErr != nil {
			t.Message = runErr.Error()
		}
		for _, w := range ws {
			if err := w.Close(t); err != nil && runErr == nil {
				runErr = fmt.Errorf("stream trailer: %w", err)
				res.Status = myelinpb.Trailer_FAILED
			}
		}
	}
	return res, runErr
}

// advanceAll runs the step loop block by block.
func advanceAll(ctx context.Context, net *network.Network, be backend.Backend, sink *recorder, res *Result, progress func(Progress)) error {
	start := time.Now()
	defer func() { res.SimSeconds = time.Since(start).Seconds() }()
	lastReport := start
	var total uint64
	for step := uint64(0); step < net.Steps; {
		if ctx.Err() != nil {
			return ErrInterrupted
		}
		n := int(min(uint64(net.BlockSteps), net.Steps-step))
		blk := sink.free()
		if blk == nil {
			return sink.err()
		}
		blk.Reset(step, len(net.Probes))
		if err := be.Advance(n, blk); err != nil {
			return fmt.Errorf("backend %s: steps [%d, %d): %w", be.Name(), step, step+uint64(n), err)
		}
		for _, id := range blk.IDs {
			res.PopSpikes[net.PopOf(id)]++
		}
		total += uint64(len(blk.IDs))
		step += uint64(n)
		res.Steps = step
		sink.submit(blk)
		if progress != nil && time.Since(lastReport) >= time.Second {
			lastReport = time.Now()
			progress(Progress{Step: step, Steps: net.Steps, BioMs: float64(step) * net.Dt, Wall: time.Since(start), Spikes: total})
		}
	}
	return nil
}

// writeWeights writes the weights of every STDP set of net, as the backend
// holds them after steps steps, to every writer.
func writeWeights(net *network.Network, be backend.Backend, ws []*stream.Writer, steps uint64) error {
	pb, ok := be.(backend.Plastic)
	if !ok {
		return fmt.Errorf("backend %s: runs no STDP (no weights to write)", be.Name())
	}
	wt, err := pb.Weights()
	if err != nil {
		return fmt.Errorf("backend %s: weights: %w", be.Name(), err)
	}
	for k := range net.STDP {
		set := &net.STDP[k]
		pre, post, w := net.PlasticWeights(set, wt)
		for _, sw := range ws {
			if err := sw.WriteWeights(net.Pops[set.Pre].Name, net.Pops[set.Post].Name, steps, pre, post, w, net.Pops[set.Post].Shift); err != nil {
				return fmt.Errorf("stream weights: %w", err)
			}
		}
	}
	return nil
}
