package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/cpu"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/plan"
	"github.com/myelin-sim/myelin/engine/sim"
	"github.com/spf13/pflag"
)

func cmdRun(ctx context.Context, e *env, args []string) error {
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var sf specFlags
	sf.register(fs)
	backendName := fs.String("backend", "auto", "auto | cpu | cuda (auto: the GPU when this is myelin-cuda or myelin-cuda is installed beside it and a GPU is present, else the CPU)")
	threads := fs.Int("threads", 0, "CPU threads (default: all cores)")
	out := fs.StringP("out", "o", "", "write the spike stream to FILE, or - for stdout")
	quiet := fs.BoolP("quiet", "q", false, "no progress line and no summary")
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
	be, note, err := chooseBackend(*backendName, *threads, args)
	if err != nil {
		return err
	}
	if be == nil { // handed over to myelin-cuda, which has finished
		return nil
	}
	spec, err := sf.load(fs, fs.Arg(0))
	if err != nil {
		return err
	}
	info := e.stdout
	var sink io.Writer
	switch *out {
	case "":
	case "-":
		sink, info = e.stdout, e.stderr
	default:
		f, err := os.Create(*out)
		if err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		defer f.Close()
		sink = f
	}
	live, err := lf.open(e, spec, *quiet)
	if err != nil {
		return err
	}
	defer live.close()
	if note != "" && !*quiet {
		fmt.Fprintln(e.stderr, note)
	}
	if be.Name() == "cpu" {
		if err := checkFits(plan.Estimate(spec, threadCount(*threads))); err != nil {
			return err
		}
	}
	net, err := network.BuildContext(ctx, spec, network.Options{Threads: *threads})
	if err != nil {
		if ctx.Err() != nil {
			if f, ok := sink.(*os.File); ok && f != os.Stdout {
				f.Close()
				os.Remove(*out) // created empty above; nothing was written to it
			}
			return &exitError{130, fmt.Errorf("interrupted while building the network; nothing was simulated")}
		}
		return fmt.Errorf("%s: build: %w", fs.Arg(0), err)
	}
	var prog func(sim.Progress)
	var pl *progressLine
	if !*quiet {
		pl = newProgressLine(e.stderr)
		prog = pl.report
	}
	if err := live.start(ctx); err != nil {
		return err
	}
	res, runErr := sim.Run(ctx, net, sim.Options{Backend: be, Out: live.tee(sink), Progress: prog, Version: Version})
	if err := live.close(); err != nil && runErr == nil {
		runErr = err
	}
	if pl != nil {
		pl.done()
	}
	if f, ok := sink.(*os.File); ok && f != os.Stdout {
		if err := f.Close(); err != nil && runErr == nil {
			runErr = fmt.Errorf("--out %s: %w", *out, err)
		}
	}
	if !*quiet {
		printSummary(info, net, res)
	}
	if errors.Is(runErr, sim.ErrInterrupted) {
		if *out != "" && *out != "-" {
			fmt.Fprintf(e.stderr, "interrupted after %.1f ms of %.1f ms; %s ends with a trailer marked interrupted\n", float64(res.Steps)*net.Dt, float64(net.Steps)*net.Dt, *out)
		}
		return &exitError{130, runErr}
	}
	return runErr
}

// chooseBackend resolves --backend. For cuda it may hand the whole run over
// to the myelin-cuda binary, in which case it returns a nil backend.
func chooseBackend(name string, threads int, args []string) (backend.Backend, string, error) {
	switch name {
	case "cpu":
		return cpu.New(threads), "", nil
	case "auto", "cuda":
		if be, ok := cudaBackend(); ok {
			return be, "backend: cuda", nil
		}
		if path, ok := cudaSibling(); ok {
			if err := handOver(path, args); err != nil {
				return nil, "", err
			}
			return nil, "", nil
		}
		if name == "cuda" {
			return nil, "", fmt.Errorf("--backend cuda: %s", noCUDAReason())
		}
		return cpu.New(threads), "backend auto: chose cpu (" + noCUDAReason() + ")", nil
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
	line := fmt.Sprintf("t = %.0f / %.0f ms  wall %.1f s  real-time factor %.3g  %.3g spikes/s",
		s.BioMs, float64(s.Steps)*s.BioMs/float64(max(s.Step, 1)), wall, wall/(s.BioMs/1000), float64(s.Spikes)/wall)
	if p.terminal {
		fmt.Fprintf(p.w, "\r%s\x1b[K", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
	p.shown = true
}

func (p *progressLine) done() {
	if p.shown && p.terminal {
		fmt.Fprintln(p.w)
	}
}

func printSummary(w io.Writer, net *network.Network, res *sim.Result) {
	bio := float64(res.Steps) * net.Dt / 1000
	fmt.Fprintf(w, "%s: %d neurons, %d synapses, %.0f ms in %d steps of %g ms on %s\n",
		net.Spec.GetName(), net.N, net.SynapseCount(), bio*1000, res.Steps, net.Dt, res.Describe)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "population\tmodel\tneurons\tsynapses in\tspikes\trate (Hz)\t")
	var total uint64
	for i, p := range net.Pops {
		rate := "-"
		if p.Spiking() && bio > 0 {
			rate = fmt.Sprintf("%.2f", float64(res.PopSpikes[i])/float64(p.Size)/bio)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t\n", p.Name, p.Model, p.Size, p.Synapses, res.PopSpikes[i], rate)
		total += res.PopSpikes[i]
	}
	tw.Flush()
	rtf := "-"
	if bio > 0 {
		rtf = fmt.Sprintf("%.3g", res.SimSeconds/bio)
	}
	fmt.Fprintf(w, "build %s, load %s, simulation %s (real-time factor %s, %.3g spikes/s), status %s\n",
		seconds(res.BuildSeconds), seconds(res.LoadSeconds), seconds(res.SimSeconds), rtf, float64(total)/max(res.SimSeconds, 1e-9), res.Status)
}

func seconds(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Millisecond).String()
}
