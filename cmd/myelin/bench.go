package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/plan"
	"github.com/myelin-sim/myelin/engine/sim"
	"github.com/myelin-sim/myelin/kernels/launch"
	"github.com/spf13/pflag"
)

// benchRow is one measured model: the figures of its fastest run and the
// memory of the model's build and runs.
type benchRow struct {
	model string
	figures
	// peakHost is the process's peak resident set from the model's build
	// to its last run (0: not measurable here); device the backend's
	// device memory (0: none, the CPU backend).
	peakHost, device uint64
	// partial, when not empty, says why the figures are not those of
	// every run asked for (an interrupt): the row is still printed,
	// marked with it.
	partial string
}

// deviceMemory is implemented by backends that hold the network in device
// memory (the CUDA backend).
type deviceMemory interface {
	// DeviceBytes is the device memory of the loaded network.
	DeviceBytes() int64
}

func cmdBench(ctx context.Context, e *env, args []string) error {
	fs := pflag.NewFlagSet("bench", pflag.ContinueOnError)
	backendName := fs.String("backend", "cpu", "auto | cpu | cuda")
	threads := registerThreads(fs, "the most CPU threads to use; a network whose step takes a few µs runs on fewer where they measure faster at load, and the summary says how many were used")
	set := map[string]string{}
	setFlagVar(fs, &set, "parameters for every model, e.g. --set duration_ms=500 (a key once in each --set; a later --set and MODEL:k=v override)")
	repeat := fs.Int("repeat", 1, "runs per model (the network is built once); the fastest simulation is reported")
	markdown := fs.Bool("markdown", false, "print a markdown table (for bench/RESULTS.md)")
	delivery := registerDelivery(fs)
	if help, err := parseFlags(fs, e, args, "myelin bench [MODEL[:k=v,...]...] [flags]   (default models: brunel cuba coba)"); help || err != nil {
		return err
	}
	if err := checkThreads(*threads); err != nil {
		return err
	}
	if *repeat < 1 {
		return &exitError{2, fmt.Errorf("--repeat %d: want at least 1", *repeat)}
	}
	mode, err := delivery.mode()
	if err != nil {
		return err
	}
	names := fs.Args()
	if len(names) == 0 {
		names = []string{"brunel", "cuba", "coba"}
	}
	write := writeBenchTable
	if *markdown {
		write = writeBenchMarkdown
	}
	opts := &benchOptions{backend: *backendName, threads: *threads, repeat: *repeat, delivery: mode, args: args}
	var rows []benchRow
	for _, arg := range names {
		row, handed, err := benchArg(ctx, e, arg, set, opts)
		if err != nil {
			// The models measured before the error (a bad argument, an
			// interrupt, a time limit) are still printed, and what was
			// measured of this one, marked.
			if row.partial != "" {
				rows = append(rows, row)
			}
			err = fmt.Errorf("%s: %w", arg, err)
			if len(rows) > 0 {
				if werr := write(e.stdout, rows); werr != nil {
					err = fmt.Errorf("%w (and writing the finished rows: %v)", err, werr)
				}
			}
			if ctx.Err() != nil || errors.Is(err, sim.ErrInterrupted) {
				return &exitError{130, err} // as run: interrupted
			}
			return err
		}
		if handed { // myelin-cuda ran the whole command
			return nil
		}
		rows = append(rows, row)
	}
	return write(e.stdout, rows)
}

// benchOptions are the flags of myelin bench that every model shares.
type benchOptions struct {
	// backend is --backend; the first model's first run resolves auto to
	// what it chose, so that the GPU is probed once per command.
	backend  string
	threads  int
	repeat   int
	delivery launch.SegmentsMode
	args     []string // the command's, for a hand-over to myelin-cuda
}

// benchArg measures one MODEL[:k=v,...] argument.
func benchArg(ctx context.Context, e *env, arg string, common map[string]string, o *benchOptions) (benchRow, bool, error) {
	name, params, err := modelArg(arg, common)
	if err != nil {
		return benchRow{}, false, err
	}
	row, handed, err := benchModel(ctx, e, name, params, o)
	row.model = arg
	if row.partial != "" {
		row.model += " (" + row.partial + ")"
	}
	return row, handed, err
}

// benchModel builds one model once and runs it o.repeat times, each run on
// a backend of its own that is closed before the next is opened (a GPU
// context with the whole network on the device is not kept). It reports
// the fastest simulation, or handed when the command went to myelin-cuda.
// The first backend resolves o.backend: auto becomes what it chose (after
// saying so), so that the GPU is probed once per command.
func benchModel(ctx context.Context, e *env, name string, params map[string]string, o *benchOptions) (best benchRow, handed bool, err error) {
	threads := o.threads
	s, err := models.Spec(name, params)
	if err != nil {
		return best, false, err
	}
	// The previous model's network is garbage now: return its memory to
	// the system first, so that the reset mark starts from this model.
	debug.FreeOSMemory()
	// As run does: a CPU run (or an automatic choice, which may be one)
	// that cannot fit is refused before anything is allocated; a GPU
	// backend checks its device at Load.
	if o.backend != "cuda" {
		if err := checkFits(plan.Estimate(s, planThreads(s, threads))); err != nil {
			return best, false, err
		}
	}
	measured := resetPeakRSS()
	net, err := network.BuildContext(ctx, s, network.Options{Threads: threads})
	if err != nil {
		return best, false, err
	}
	peak := func() {
		if p, ok := peakRSS(); ok && measured {
			best.peakHost = p
		}
	}
	for r := 0; r < o.repeat; r++ {
		be, note, err := e.chooseBackend(ctx, "bench", o.backend, threads, o.args)
		if err != nil {
			return best, false, err
		}
		if be == nil {
			return best, true, nil
		}
		if err := applyDelivery(be, o.delivery); err != nil {
			return best, false, errors.Join(err, be.Close())
		}
		if o.backend == "auto" {
			if note != "" {
				fmt.Fprintln(e.stderr, note)
			}
			o.backend = be.Name()
		}
		res, err := sim.Run(ctx, net, sim.Options{Backend: be, Out: io.Discard, Version: Version})
		if dm, ok := be.(deviceMemory); ok && err == nil {
			best.device = uint64(max(0, dm.DeviceBytes()))
		}
		if cerr := be.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("backend %s: close: %w", be.Name(), cerr)
		}
		if err != nil {
			// Interrupted: the runs that finished give the row; without
			// one, the interrupted run's own figures (its status says so).
			if errors.Is(err, sim.ErrInterrupted) {
				switch {
				case r > 0:
					best.partial = fmt.Sprintf("interrupted: best of %d of %d runs", r, o.repeat)
				case res != nil && res.Describe != "" && res.Steps > 0:
					best.figures = newFigures(net, res)
					best.partial = "interrupted part way"
				}
				peak()
			}
			return best, false, err
		}
		f := newFigures(net, res)
		if r == 0 || f.simulate < best.simulate {
			best.figures = f
		}
	}
	peak()
	return best, false, nil
}

// modelArg parses MODEL[:k=v,...] and merges the common --set values.
func modelArg(arg string, common map[string]string) (string, map[string]string, error) {
	name, rest, _ := strings.Cut(arg, ":")
	params := map[string]string{}
	for k, v := range common {
		params[k] = v
	}
	if rest != "" {
		// The argument's own values override --set's; within it, each
		// key once.
		own := map[string]string{}
		for _, kv := range strings.Split(rest, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return "", nil, &exitError{2, fmt.Errorf("model %q: parameter %q: want k=v", arg, kv)}
			}
			if old, dup := own[k]; dup {
				return "", nil, &exitError{2, fmt.Errorf("model %q: parameter %s given twice (%s=%s and %s=%s): give each once", arg, k, k, old, k, v)}
			}
			own[k] = v
			params[k] = v
		}
	}
	return name, params, nil
}

// countEvents returns the spikes and the synaptic events they caused, from
// the spike counts per population and the mean out-degree of each.
func countEvents(net *network.Network, res *sim.Result) (spikes, events uint64) {
	for i, p := range net.Pops {
		spikes += res.PopSpikes[i]
		if !p.Spiking() || p.Size == 0 {
			continue
		}
		out := net.Syn.RowPtr[p.First+p.Size] - net.Syn.RowPtr[p.First]
		for _, pr := range net.Procedural {
			if pr.Pre == i {
				out += pr.Synapses
			}
		}
		events += uint64(float64(res.PopSpikes[i]) * float64(out) / float64(p.Size))
	}
	return spikes, events
}

// writeBenchTable writes rows as an aligned table and returns the first
// write error (tabwriter keeps the rows until Flush, which writes them).
func writeBenchTable(w io.Writer, rows []benchRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "model\tneurons\tsynapses\tbuild\tload\tsimulation\tbio\treal-time factor\tspikes/s\tevents/s\tµs/step\tpeak host MiB\tdevice MiB\tstatus\tbackend\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%.3g s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.model, r.neurons, r.synapses,
			r.build.Round(time.Millisecond), r.load.Round(time.Millisecond), r.simulate.Round(time.Millisecond), r.bioSeconds,
			r.realTime(), r.rate(r.spikes), r.rate(r.events), r.perStep(), mib(r.peakHost), mib(r.device), r.status, r.backend)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing the table: %w", err)
	}
	return nil
}

// writeBenchMarkdown writes rows as a markdown table, in one write whose
// error it returns.
func writeBenchMarkdown(w io.Writer, rows []benchRow) error {
	var b strings.Builder
	fmt.Fprintf(&b, "| model | neurons | synapses | build (s) | load (s) | simulation (s) | biological (s) | real-time factor | spikes/s | synaptic events/s | µs/step | peak host (MiB) | device (MiB) | status | backend |\n")
	fmt.Fprintf(&b, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %d | %d | %.3f | %.3f | %.3f | %.3g | %s | %s | %s | %s | %s | %s | %s | %s (%s) |\n", r.model, r.neurons, r.synapses,
			r.build.Seconds(), r.load.Seconds(), r.simulate.Seconds(), r.bioSeconds, r.realTime(),
			r.rate(r.spikes), r.rate(r.events), r.perStep(), mib(r.peakHost), mib(r.device), r.status, r.backend, runtime.Version())
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing the table: %w", err)
	}
	return nil
}

// mib formats a byte count in MiB, or "-" for 0 (not measured, or none).
func mib(b uint64) string {
	if b == 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(b)/(1<<20), 'f', 0, 64)
}
