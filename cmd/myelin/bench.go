package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/sim"
	"github.com/spf13/pflag"
)

// benchRow is one measured run.
type benchRow struct {
	model           string
	neurons         uint32
	synapses        uint64
	build, simulate time.Duration
	bioSeconds      float64
	spikes, events  uint64
	backend         string
}

func cmdBench(ctx context.Context, e *env, args []string) error {
	fs := pflag.NewFlagSet("bench", pflag.ContinueOnError)
	backendName := fs.String("backend", "cpu", "auto | cpu | cuda")
	threads := fs.Int("threads", 0, "CPU threads (default: all cores)")
	set := fs.StringToString("set", nil, "parameters for every model, e.g. --set duration_ms=500")
	repeat := fs.Int("repeat", 1, "runs per model; the fastest simulation is reported")
	markdown := fs.Bool("markdown", false, "print a markdown table (for bench/RESULTS.md)")
	if help, err := parseFlags(fs, e, args, "myelin bench [MODEL[:k=v,...]...] [flags]   (default models: brunel cuba coba)"); help || err != nil {
		return err
	}
	names := fs.Args()
	if len(names) == 0 {
		names = []string{"brunel", "cuba", "coba"}
	}
	var rows []benchRow
	for _, arg := range names {
		name, params, err := modelArg(arg, *set)
		if err != nil {
			return err
		}
		var best benchRow
		for r := 0; r < max(*repeat, 1); r++ {
			row, err := benchOne(ctx, name, params, *backendName, *threads, args)
			if err != nil {
				return fmt.Errorf("%s: %w", arg, err)
			}
			if r == 0 || row.simulate < best.simulate {
				best = row
			}
		}
		best.model = arg
		rows = append(rows, best)
	}
	if *markdown {
		return writeBenchMarkdown(e.stdout, rows)
	}
	return writeBenchTable(e.stdout, rows)
}

// modelArg parses MODEL[:k=v,...] and merges the common --set values.
func modelArg(arg string, common map[string]string) (string, map[string]string, error) {
	name, rest, _ := strings.Cut(arg, ":")
	params := map[string]string{}
	for k, v := range common {
		params[k] = v
	}
	if rest != "" {
		for _, kv := range strings.Split(rest, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return "", nil, &exitError{2, fmt.Errorf("model %q: parameter %q: want k=v", arg, kv)}
			}
			params[k] = v
		}
	}
	return name, params, nil
}

func benchOne(ctx context.Context, name string, params map[string]string, backendName string, threads int, args []string) (benchRow, error) {
	s, err := models.Spec(name, params)
	if err != nil {
		return benchRow{}, err
	}
	be, _, err := chooseBackend(backendName, threads, args)
	if err != nil {
		return benchRow{}, err
	}
	if be == nil {
		return benchRow{}, fmt.Errorf("--backend %s: myelin bench must run in the binary that has the backend (use myelin-cuda bench)", backendName)
	}
	t0 := time.Now()
	net, err := network.BuildContext(ctx, s, network.Options{Threads: threads})
	if err != nil {
		return benchRow{}, err
	}
	build := time.Since(t0)
	res, err := sim.Run(ctx, net, sim.Options{Backend: be, Out: io.Discard, Version: Version})
	if err != nil {
		return benchRow{}, err
	}
	row := benchRow{
		neurons: net.N, synapses: net.SynapseCount(), build: build,
		simulate:   time.Duration(res.SimSeconds * float64(time.Second)),
		bioSeconds: float64(res.Steps) * net.Dt / 1000, backend: res.Describe,
	}
	row.spikes, row.events = countEvents(net, res)
	return row, nil
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
		events += uint64(float64(res.PopSpikes[i]) * float64(out) / float64(p.Size))
	}
	return spikes, events
}

func writeBenchTable(w io.Writer, rows []benchRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "model\tneurons\tsynapses\tbuild\tsimulation\tbio\treal-time factor\tspikes/s\tevents/s\tbackend\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%.3g s\t%.3g\t%.3g\t%.3g\t%s\t\n", r.model, r.neurons, r.synapses,
			r.build.Round(time.Millisecond), r.simulate.Round(time.Millisecond), r.bioSeconds,
			r.simulate.Seconds()/r.bioSeconds, float64(r.spikes)/r.simulate.Seconds(), float64(r.events)/r.simulate.Seconds(), r.backend)
	}
	return tw.Flush()
}

func writeBenchMarkdown(w io.Writer, rows []benchRow) error {
	fmt.Fprintf(w, "| model | neurons | synapses | build (s) | simulation (s) | biological (s) | real-time factor | spikes/s | synaptic events/s | backend |\n")
	fmt.Fprintf(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %d | %d | %.3f | %.3f | %.3g | %.3g | %.3g | %.3g | %s (%s) |\n", r.model, r.neurons, r.synapses,
			r.build.Seconds(), r.simulate.Seconds(), r.bioSeconds, r.simulate.Seconds()/r.bioSeconds,
			float64(r.spikes)/r.simulate.Seconds(), float64(r.events)/r.simulate.Seconds(), r.backend, runtime.Version())
	}
	return nil
}
