package main

import (
	"context"
	"fmt"
	"runtime"

	"github.com/myelin-sim/myelin/engine/plan"
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
	p := plan.Estimate(s, threadCount(*threads))
	if err := p.Write(e.stdout); err != nil {
		return err
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

// checkFits stops a run that would not fit in available memory, before
// anything is allocated.
func checkFits(p *plan.Plan) error {
	avail, ok := plan.AvailableMemory()
	if !ok {
		return nil
	}
	return p.CheckFits(avail)
}
