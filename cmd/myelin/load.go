package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"github.com/spf13/pflag"
	"google.golang.org/protobuf/proto"
)

// specFlags are the flags that choose and adjust a network.
type specFlags struct {
	set      map[string]string
	duration float64
	dt       float64
	seed     uint64
	record   []string
	sample   []string
	phases   []string
}

func (s *specFlags) register(fs *pflag.FlagSet) {
	setFlagVar(fs, &s.set, "built-in model parameters, e.g. --set n=100000,regime=sr (see 'myelin models'; a key once in each --set; a later --set overrides)")
	fs.Var((*msFlag)(&s.duration), "duration", "biological time to simulate: 1000, 1000ms or 1s (a plain number is in ms; default: the model's)")
	fs.Var((*msFlag)(&s.dt), "dt", "integration step: 0.1, 0.1ms or 100us (a plain number is in ms; default: the model's, usually 0.1). Delays are whole steps, at least one: with a dt larger than a delay, that delay becomes one step of dt")
	fs.Uint64Var(&s.seed, "seed", 0, "random seed (default: the model's)")
	fs.StringSliceVar(&s.record, "record", nil, "populations whose spikes are recorded (default: all)")
	fs.StringArrayVar(&s.sample, "sample", nil, "sample state: POP[@FIRST:COUNT][/EVERY], e.g. E@0:10/10 (V_m or r of 10 neurons every 10 steps)")
	fs.StringSliceVar(&s.phases, "phase", nil, "phases of the run with their STDP learning rate: NAME:START-STOP[:RATE], e.g. learn:0-2000,recall:2000-3000:0 (times in ms or with a unit; RATE defaults to 1, and is 1 outside every phase); replaces the spec's phases")
}

// msFlag is a time flag in milliseconds: a plain number is in ms, a number
// with a unit is a Go duration (1s, 250ms, 100us, 1m30s). It must be finite
// and positive.
type msFlag float64

func (m *msFlag) String() string {
	if *m == 0 {
		return ""
	}
	return strconv.FormatFloat(float64(*m), 'g', -1, 64) + "ms"
}

// Type implements pflag.Value.
func (m *msFlag) Type() string { return "TIME" }

// Set implements pflag.Value.
func (m *msFlag) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		d, derr := time.ParseDuration(s)
		if derr != nil {
			return fmt.Errorf("want a time such as 1000 (ms), 1000ms or 1s")
		}
		v = float64(d) / float64(time.Millisecond)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
		return fmt.Errorf("want a time > 0, got %s", s)
	}
	*m = msFlag(v)
	return nil
}

// load reads a built-in model or a spec file, applies the flags, defaults and
// validation. Cancelling ctx (Ctrl-C or SIGTERM in the commands) stops it at
// once with exit status 130, even while a spec file blocks (a FIFO with no
// writer) or a large one is being decoded: the work goes on in a goroutine
// whose result is then dropped, as the command ends.
func (s *specFlags) load(ctx context.Context, fs *pflag.FlagSet, arg string) (*myelinpb.Network, error) {
	if ctx.Err() != nil {
		return nil, &exitError{130, fmt.Errorf("interrupted while loading %s", arg)}
	}
	type result struct {
		net *myelinpb.Network
		err error
	}
	done := make(chan result, 1)
	go func() {
		net, err := s.loadNow(fs, arg)
		done <- result{net, err}
	}()
	select {
	case r := <-done:
		return r.net, r.err
	case <-ctx.Done():
		return nil, &exitError{130, fmt.Errorf("interrupted while loading %s", arg)}
	}
}

// loadNow is load without the interruption.
func (s *specFlags) loadNow(fs *pflag.FlagSet, arg string) (*myelinpb.Network, error) {
	var net *myelinpb.Network
	if m, err := models.Lookup(arg); err == nil {
		if net, err = m.Build(s.set); err != nil {
			return nil, err
		}
	} else {
		if _, statErr := os.Stat(arg); statErr != nil {
			return nil, fmt.Errorf("%q is neither a built-in model nor a readable spec file (%v); 'myelin models' lists the models", arg, statErr)
		}
		if len(s.set) > 0 {
			return nil, fmt.Errorf("--set applies to built-in models only; edit %s instead", arg)
		}
		if net, err = spec.ParseFile(arg); err != nil {
			return nil, err
		}
	}
	if fs.Changed("duration") {
		net.DurationMs = proto.Float64(s.duration)
	}
	if fs.Changed("dt") {
		net.DtMs = proto.Float64(s.dt)
	}
	if fs.Changed("seed") {
		net.Seed = s.seed
	}
	if net.Recording == nil {
		net.Recording = &myelinpb.Recording{}
	}
	if fs.Changed("record") {
		// An empty list would mean every population, the opposite of what
		// --record '' seems to ask.
		if len(s.record) == 0 || slices.Contains(s.record, "") {
			return nil, &exitError{2, fmt.Errorf("--record %q: name the populations to record (without --record, all are)", strings.Join(s.record, ","))}
		}
		net.Recording.Spikes = s.record
	}
	for _, smp := range s.sample {
		p, err := parseSample(smp)
		if err != nil {
			return nil, err
		}
		net.Recording.State = append(net.Recording.State, p)
	}
	if fs.Changed("phase") {
		net.Phases = nil
		for _, ph := range s.phases {
			p, err := parsePhase(ph)
			if err != nil {
				return nil, err
			}
			net.Phases = append(net.Phases, p)
		}
	}
	if fs.Changed("duration") && !fs.Changed("phase") {
		// A shorter run keeps the part of the model's or spec's phases
		// that it reaches (a phase of --phase must fit as given).
		d := net.GetDurationMs()
		kept := net.Phases[:0]
		for _, ph := range net.Phases {
			if ph.GetStartMs() < d {
				ph.StopMs = min(ph.GetStopMs(), d)
				kept = append(kept, ph)
			}
		}
		net.Phases = kept
	}
	spec.ApplyDefaults(net)
	if err := spec.ValidateRun(net); err != nil {
		return nil, fmt.Errorf("%s: %w", arg, err)
	}
	return net, nil
}

// parseSample parses POP[@FIRST:COUNT][/EVERY].
func parseSample(s string) (*myelinpb.StateProbe, error) {
	bad := func(why string) error {
		return fmt.Errorf("--sample %q: %s (want POP[@FIRST:COUNT][/EVERY], e.g. E@0:10/10)", s, why)
	}
	p := &myelinpb.StateProbe{Every: 1, Count: 1}
	rest := s
	if i := strings.LastIndex(rest, "/"); i >= 0 {
		e, err := strconv.ParseUint(rest[i+1:], 10, 32)
		if err != nil || e == 0 {
			return nil, bad("EVERY must be a whole number >= 1")
		}
		p.Every, rest = uint32(e), rest[:i]
	}
	if i := strings.Index(rest, "@"); i >= 0 {
		fc := strings.SplitN(rest[i+1:], ":", 2)
		if len(fc) != 2 {
			return nil, bad("missing :COUNT")
		}
		f, err1 := strconv.ParseUint(fc[0], 10, 32)
		c, err2 := strconv.ParseUint(fc[1], 10, 32)
		if err1 != nil || err2 != nil || c == 0 {
			return nil, bad("FIRST and COUNT must be whole numbers, COUNT >= 1")
		}
		p.First, p.Count, rest = uint32(f), uint32(c), rest[:i]
	}
	if rest == "" {
		return nil, bad("missing population")
	}
	p.Population = rest
	return p, nil
}

// parsePhase parses NAME:START-STOP[:RATE].
func parsePhase(s string) (*myelinpb.Phase, error) {
	bad := func(why string) error {
		return fmt.Errorf("--phase %q: %s (want NAME:START-STOP[:RATE], e.g. learn:0-2000 or recall:2000-3000:0)", s, why)
	}
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return nil, bad("want two or three fields separated by ':'")
	}
	if parts[0] == "" {
		return nil, bad("NAME is empty")
	}
	ss := strings.SplitN(parts[1], "-", 2)
	if len(ss) != 2 {
		return nil, bad("the window START-STOP has no '-'")
	}
	start, err := parseMs(ss[0])
	if err != nil {
		return nil, bad("START: " + err.Error())
	}
	stop, err := parseMs(ss[1])
	if err != nil {
		return nil, bad("STOP: " + err.Error())
	}
	p := &myelinpb.Phase{Name: parts[0], StartMs: start, StopMs: stop}
	if len(parts) == 3 {
		r, err := strconv.ParseFloat(parts[2], 64)
		if err != nil || math.IsNaN(r) || math.IsInf(r, 0) || r < 0 {
			return nil, bad(fmt.Sprintf("RATE %q: want a finite number >= 0", parts[2]))
		}
		p.LearningRate = proto.Float64(r)
	}
	return p, nil
}

// parseMs parses a time >= 0: a plain number in ms or a Go duration.
func parseMs(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		d, derr := time.ParseDuration(s)
		if derr != nil {
			return 0, fmt.Errorf("%q: want a time such as 2000 (ms), 2000ms or 2s", s)
		}
		v = float64(d) / float64(time.Millisecond)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, fmt.Errorf("%q: want a time >= 0", s)
	}
	return v, nil
}
