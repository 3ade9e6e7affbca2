package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"text/tabwriter"
	"time"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/cpu"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/plan"
	"github.com/myelin-sim/myelin/engine/sim"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"github.com/spf13/pflag"
)

func cmdRun(ctx context.Context, e *env, args []string) (err error) {
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var sf specFlags
	sf.register(fs)
	backendName := fs.String("backend", "auto", "auto | cpu | cuda (auto: the GPU when this is myelin-cuda or myelin-cuda is installed beside it and a GPU is present, else the CPU)")
	threads := registerThreads(fs, "the most CPU threads to use; a network whose step takes a few µs runs on fewer where they measure faster at load, and the summary says how many were used")
	out := fs.StringP("out", "o", "", "write the spike stream to FILE (through a temporary "+partialPattern+" beside it, renamed over FILE when the run ends; a refused or failed run leaves FILE as it was; a device or FIFO is written directly), or - for stdout")
	quiet := fs.BoolP("quiet", "q", false, "no progress line and no summary")
	deviceBuild := fs.Bool("device-build", false, "cuda backend: make the synapses on the GPU from the seed, byte for byte the host build's (drawn rules; a network with an explicit list or a procedural projection is built on the host, with a note)")
	delivery := registerDelivery(fs)
	lf := registerLiveFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: myelin run MODEL|SPEC.textproto|SPEC.json [flags]\n\n%s", fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return &exitError{2, err}
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return &exitError{2, fmt.Errorf("want exactly one model or spec file, got %d arguments", fs.NArg())}
	}
	if err := checkThreads(*threads); err != nil {
		return err
	}
	if *out != "" && *out != "-" {
		if err := checkOut(*out); err != nil {
			return &exitError{2, err}
		}
		if sameFile(*out, fs.Arg(0)) {
			return &exitError{2, fmt.Errorf("--out %s is the spec %s itself: the run would replace it; give another file", *out, fs.Arg(0))}
		}
	}
	mode, err := delivery.mode()
	if err != nil {
		return err
	}
	be, note, err := e.chooseBackend(ctx, "run", *backendName, *threads, args)
	if err != nil {
		return err
	}
	if be != nil && *deviceBuild && be.Name() != "cuda" {
		return &exitError{2, fmt.Errorf("--device-build: needs the cuda backend (this run has %s)", be.Name())}
	}
	if be != nil {
		if err := applyDelivery(be, mode); err != nil {
			return errors.Join(err, be.Close())
		}
	}
	if be == nil { // handed over to myelin-cuda, which has finished
		return nil
	}
	// The backend holds a device context on a GPU: close it on every path.
	closed := false
	closeBackend := func() error {
		if closed {
			return nil
		}
		closed = true
		if err := be.Close(); err != nil {
			return fmt.Errorf("backend %s: close: %w", be.Name(), err)
		}
		return nil
	}
	defer func() {
		if cerr := closeBackend(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	spec, err := sf.load(ctx, fs, fs.Arg(0))
	if err != nil {
		return err
	}
	live, err := lf.open(e, spec, *quiet)
	if err != nil {
		return err
	}
	defer live.close()
	if note != "" && !*quiet {
		fmt.Fprintln(e.stderr, note)
	}
	if note := stepsNote(spec); note != "" && !*quiet {
		fmt.Fprintln(e.stderr, note)
	}
	if be.Name() == "cpu" {
		if err := checkFits(plan.Estimate(spec, planThreads(spec, *threads))); err != nil {
			return err
		}
	}
	// Only now, with every check passed, is the output opened; FILE itself
	// is replaced only once the run has simulated.
	info := e.stdout
	var sink io.Writer
	var of *outFile
	switch *out {
	case "":
	case "-":
		sink, info = e.stdout, e.stderr
	default:
		if of, err = createOut(ctx, *out); err != nil {
			return err
		}
		defer of.discard()
		of.noteStale(e.stderr)
		sink = of.f
	}
	bopt := network.Options{Threads: *threads}
	var pl *progressLine
	if !*quiet {
		pl = newProgressLine(e.stderr)
		bopt.Progress = pl.building
	}
	var net *network.Network
	if *deviceBuild {
		net, err = buildOnDevice(ctx, e, be, spec, bopt, *quiet)
	} else {
		net, err = network.BuildContext(ctx, spec, bopt)
	}
	if pl != nil {
		pl.done()
	}
	if err != nil {
		if ctx.Err() != nil {
			return &exitError{130, fmt.Errorf("interrupted while building the network; nothing was simulated")}
		}
		return fmt.Errorf("%s: build: %w", fs.Arg(0), err)
	}
	var prog func(sim.Progress)
	if pl != nil {
		prog = pl.report
	}
	if err := live.start(ctx); err != nil {
		return err
	}
	res, runErr := sim.Run(ctx, net, sim.Options{Backend: be, Out: live.tee(sink), Progress: prog, Version: Version})
	if err := closeBackend(); err != nil && runErr == nil {
		runErr = err
	}
	if err := live.close(); err != nil && runErr == nil {
		runErr = err
	}
	if pl != nil {
		pl.done()
	}
	interrupted := errors.Is(runErr, sim.ErrInterrupted)
	loaded := res.Describe != "" // else the backend refused the network (device memory, say)
	switch {
	case !loaded:
		of.discard()
	case runErr == nil || interrupted:
		if err := of.close(true); err != nil {
			if runErr == nil {
				runErr = err
			} else {
				fmt.Fprintln(e.stderr, err)
			}
		}
	case of != nil:
		if err := of.close(false); err != nil {
			fmt.Fprintln(e.stderr, err)
		} else if of.direct() {
			fmt.Fprintf(e.stderr, "the run failed; the stream so far went to %s\n", of.path)
		} else {
			fmt.Fprintf(e.stderr, "the run failed: %s is as it was; the stream so far is in %s\n", of.path, of.partial)
		}
	}
	if !*quiet && loaded {
		printSummary(info, net, res)
		if *out == "" {
			fmt.Fprintln(info, "the stream was not kept: give --out FILE (or --out - for stdout) to keep it for analyze and export")
		}
	}
	if interrupted {
		if of != nil {
			fmt.Fprintf(e.stderr, "interrupted after %.1f ms of %.1f ms; %s ends with a trailer marked interrupted\n", float64(res.Steps)*net.Dt, float64(net.Steps)*net.Dt, *out)
		}
		return &exitError{130, runErr}
	}
	return runErr
}

// registerThreads adds --threads to fs.
func registerThreads(fs *pflag.FlagSet, what string) *int {
	return fs.Int("threads", 0, what+" (0, the default: all cores)")
}

// maxThreads bounds --threads: far more cores than any machine has, and
// few enough that what the build keeps per thread asked for stays small.
const maxThreads = 1 << 16

// checkThreads refuses a negative --threads, or one over maxThreads.
func checkThreads(n int) error {
	if n < 0 || n > maxThreads {
		return &exitError{2, fmt.Errorf("--threads %d: want 0 (all cores) or a count from 1 to %d", n, maxThreads)}
	}
	return nil
}

// chooseBackend resolves --backend for command cmdName. When this binary
// lacks CUDA but a myelin-cuda beside it can use the GPU, it hands the
// whole command over and returns a nil backend. When the GPU cannot be
// used, auto says why (the returned note) and runs on the CPU; cuda fails
// with the reason.
func (e *env) chooseBackend(ctx context.Context, cmdName, name string, threads int, args []string) (backend.Backend, string, error) {
	be, note, err := e.resolveBackend(ctx, cmdName, name, threads, args)
	if be != nil && e.backendHook != nil {
		be = e.backendHook(be)
	}
	return be, note, err
}

func (e *env) resolveBackend(ctx context.Context, cmdName, name string, threads int, args []string) (backend.Backend, string, error) {
	switch name {
	case "cpu":
		return cpu.New(threads), "", nil
	case "auto", "cuda":
		be, err := openCUDA()
		if err == nil {
			return be, "backend: cuda", nil
		}
		reason := err.Error()
		if !cudaBuilt {
			if path, ok := e.cudaSibling(); !ok {
				reason = noCUDAReason()
			} else if said, perr := probe(ctx, path, probeTimeout); perr != nil {
				reason = perr.Error()
			} else {
				if w := buildWarning(path, said); w != "" {
					fmt.Fprintln(e.stderr, w)
				}
				if err := e.handOver(cmdName, path, args); err != nil {
					return nil, "", err
				}
				return nil, "", nil
			}
		}
		if name == "cuda" {
			return nil, "", fmt.Errorf("--backend cuda: %s", reason)
		}
		return cpu.New(threads), "backend auto: chose cpu (" + reason + ")", nil
	}
	return nil, "", &exitError{2, fmt.Errorf("--backend %q: want auto, cpu or cuda", name)}
}

// progressLine prints one status line on stderr, rewritten in place on a
// terminal, for runs longer than a second.
type progressLine struct {
	w        io.Writer
	terminal bool
	shown    bool
}

func newProgressLine(w io.Writer) *progressLine {
	p := &progressLine{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

func (p *progressLine) report(s sim.Progress) {
	wall := s.Wall.Seconds()
	p.print(fmt.Sprintf("t = %.0f / %.0f ms  wall %.1f s  real-time factor %.3g  %.3g spikes/s",
		s.BioMs, float64(s.Steps)*s.BioMs/float64(max(s.Step, 1)), wall, wall/(s.BioMs/1000), float64(s.Spikes)/wall))
}

// building reports a network build's progress (network.Options.Progress,
// about once a second).
func (p *progressLine) building(b network.BuildProgress) {
	line := fmt.Sprintf("building: %s  wall %.1f s", b.Phase, b.Wall.Seconds())
	if b.Total > 0 {
		line = fmt.Sprintf("building: %s  %.0f %% of the synapses  wall %.1f s", b.Phase, 100*b.Fraction(), b.Wall.Seconds())
	}
	p.print(line)
}

func (p *progressLine) print(line string) {
	if p.terminal {
		fmt.Fprintf(p.w, "\r%s\x1b[K", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
	p.shown = true
}

// done ends the line on a terminal, so that what follows starts on a line
// of its own.
func (p *progressLine) done() {
	if p.shown && p.terminal {
		fmt.Fprintln(p.w)
	}
	p.shown = false
}

// figures are the numbers that run's summary and bench's table both give.
type figures struct {
	neurons               uint32
	synapses              uint64
	build, load, simulate time.Duration
	steps                 uint64
	bioSeconds            float64
	spikes, events        uint64
	backend               string
	status                myelinpb.Trailer_Status
}

func newFigures(net *network.Network, res *sim.Result) figures {
	f := figures{
		neurons: net.N, synapses: net.SynapseCount() + net.ProceduralSynapses(),
		build:    secondsDuration(res.BuildSeconds),
		load:     secondsDuration(res.LoadSeconds),
		simulate: secondsDuration(res.SimSeconds),
		steps:    res.Steps, bioSeconds: float64(res.Steps) * net.Dt / 1000,
		backend: res.Describe, status: res.Status,
	}
	f.spikes, f.events = countEvents(net, res)
	return f
}

func secondsDuration(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// rate returns x per second of simulation, or "-" before any.
func (f figures) rate(x uint64) string {
	if f.simulate <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.3g", float64(x)/f.simulate.Seconds())
}

// realTime is the real-time factor: wall seconds per biological second.
func (f figures) realTime() string {
	if f.bioSeconds <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.3g", f.simulate.Seconds()/f.bioSeconds)
}

// perStep is the wall time of one step in microseconds.
func (f figures) perStep() string {
	if f.steps == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3g", f.simulate.Seconds()/float64(f.steps)*1e6)
}

// stepsNote says, when the run's duration is not a whole number of steps,
// how many steps it simulates (the nearest whole number) and so for how
// long; "" otherwise.
func stepsNote(spec *myelinpb.Network) string {
	d, dt := spec.GetDurationMs(), spec.GetDtMs()
	steps := math.Round(d / dt)
	if math.Abs(d-steps*dt) <= 1e-9*max(d, 1) {
		return ""
	}
	return fmt.Sprintf("note: the duration %g ms is not a whole number of steps of %g ms: the run simulates %.0f steps (%.6g ms)", d, dt, steps, steps*dt)
}

func printSummary(w io.Writer, net *network.Network, res *sim.Result) {
	f := newFigures(net, res)
	fmt.Fprintf(w, "%s: %d neurons, %d synapses, %.6g ms in %d steps of %g ms on %s\n",
		net.Spec.GetName(), f.neurons, f.synapses, f.bioSeconds*1000, f.steps, net.Dt, f.backend)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "population\tmodel\tneurons\tsynapses in\tspikes\trate (Hz)\t")
	for i, p := range net.Pops {
		rate := "-"
		if p.Spiking() && f.bioSeconds > 0 {
			rate = fmt.Sprintf("%.2f", float64(res.PopSpikes[i])/float64(p.Size)/f.bioSeconds)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t\n", p.Name, p.Model, p.Size, p.Synapses, res.PopSpikes[i], rate)
	}
	tw.Flush()
	fmt.Fprintf(w, "build %s, load %s, simulation %s (real-time factor %s, %s spikes/s, %s synaptic events/s, %s µs/step), status %s\n",
		seconds(res.BuildSeconds), seconds(res.LoadSeconds), seconds(res.SimSeconds), f.realTime(), f.rate(f.spikes), f.rate(f.events), f.perStep(), f.status)
}

func seconds(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Millisecond).String()
}
