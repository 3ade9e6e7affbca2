package main

import (
	"context"
	"fmt"
	"runtime"

	"github.com/myelin-sim/myelin/engine/plan"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"github.com/spf13/pflag"
)

func cmdPlan(ctx context.Context, e *env, args []string) error {
	fs := pflag.NewFlagSet("plan", pflag.ContinueOnError)
	var sf specFlags
	sf.register(fs)
	threads := registerThreads(fs, "CPU threads of the build")
	if help, err := parseFlags(fs, e, args, "myelin plan MODEL|SPEC [flags]"); help || err != nil {
		return err
	}
	if err := checkThreads(*threads); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return &exitError{2, fmt.Errorf("want one model or spec file")}
	}
	s, err := sf.load(ctx, fs, fs.Arg(0))
	if err != nil {
		return err
	}
	used := planThreads(s, *threads)
	p := plan.Estimate(s, used)
	if err := p.Write(e.stdout); err != nil {
		return err
	}
	if t := threadCount(*threads); t > used {
		fmt.Fprintf(e.stdout, "threads: %d asked, %d planned: a build or a CPU run uses at most one thread per neuron\n", t, used)
	}
	if avail, ok := plan.AvailableMemory(); ok {
		fit := "fits"
		if p.CPU() > avail {
			fit = "does NOT fit"
		}
		fmt.Fprintf(e.stdout, "cpu: %s %s in the %s of available memory\n", plan.Bytes(p.CPU()), fit, plan.Bytes(avail))
	}
	return nil
}

func threadCount(t int) int {
	if t <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return t
}

// planThreads returns the threads a build or a CPU run of s uses when
// asked for t (0: all cores): at most one per neuron, as the CPU backend
// splits its step loop and the builder its units of work (engine/cpu,
// engine/network), so that a plan does not count per-thread parts for
// threads that never run.
func planThreads(s *myelinpb.Network, t int) int {
	var neurons uint64
	for _, p := range s.GetPopulations() {
		neurons += uint64(p.GetSize())
	}
	return int(min(uint64(threadCount(t)), max(neurons, 1)))
}

// checkFits stops a run that would not fit in available memory, before
// anything is allocated.
func checkFits(p *plan.Plan) error {
	avail, ok := plan.AvailableMemory()
	if !ok {
		return nil
	}
	return p.CheckFits(avail)
}
