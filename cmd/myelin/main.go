// Command myelin builds, runs and inspects spiking and rate networks.
//
//	myelin run MODEL|SPEC.textproto|SPEC.json [flags]
//	myelin models
//	myelin spec MODEL [--set k=v]
//	myelin plan MODEL|SPEC
//	myelin compare A.myelin B.myelin
//	myelin analyze FILE|ADDRESS [--raster F.png] [--rates F.png]
//	myelin export FILE|ADDRESS [--format csv|nest] [--out F]
//	myelin version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/myelin-sim/myelin/engine/backend"
)

// Version is Myelin's release.
const Version = "0.1.0"

// exitError carries a process exit code with its message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// env is what a command reads and writes; tests replace it.
type env struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	// sibling, when set, is taken for a myelin-cuda beside this binary on a
	// machine with a GPU (tests of the hand-over).
	sibling string
	// backendHook, when set, wraps every backend a command opens (tests of
	// its life cycle).
	backendHook func(backend.Backend) backend.Backend
}

type command struct {
	name, args, short string
	run               func(ctx context.Context, e *env, args []string) error
}

func commands() []command {
	return []command{
		{"run", "MODEL|SPEC [flags]", "build and simulate a network, streaming its spikes", cmdRun},
		{"models", "", "list the built-in models", cmdModels},
		{"spec", "MODEL [--set k=v] [--json]", "print a built-in model as an editable spec", cmdSpec},
		{"plan", "MODEL|SPEC [flags]", "print the memory a model needs on each backend", cmdPlan},
		{"compare", "A B", "say whether two streams hold the same spikes", cmdCompare},
		{"analyze", "FILE|ADDRESS [flags]", "rates, CV, Fano, correlation, spectrum, ring bump; raster and rate PNGs", cmdAnalyze},
		{"export", "FILE|ADDRESS [flags]", "write the spikes as CSV or NEST spike recorder text (--format)", cmdExport},
		{"bench", "[MODEL[:k=v,...]...] [flags]", "time construction and simulation of standard models", cmdBench},
		{"serve", "[--socket PATH [flags]]", "keep a network alive, driven by protobuf commands (for Python/PyNN)", cmdServe},
		{"version", "", "print version information", cmdVersion},
	}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "Myelin %s: spiking and rate network engine\n\nUsage: myelin COMMAND [ARGS]\n\nCommands:\n", Version)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %-28s %s\n", c.name, c.args, c.short)
	}
	fmt.Fprintf(w, "\nRun 'myelin COMMAND --help' for a command's flags.\n")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin}
	os.Exit(dispatch(ctx, e, os.Args[1:]))
}

// dispatch runs the command named by args[0] and returns the exit code.
func dispatch(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range append(commands(), command{name: probeCommand, run: cmdProbe}) {
		if c.name == args[0] {
			err := c.run(ctx, e, args[1:])
			if err == nil {
				return 0
			}
			fmt.Fprintf(e.stderr, "myelin %s: %v\n", c.name, err)
			var ee *exitError
			if errors.As(err, &ee) {
				return ee.code
			}
			return 1
		}
	}
	fmt.Fprintf(e.stderr, "myelin: unknown command %q\n\n", args[0])
	usage(e.stderr)
	return 2
}
