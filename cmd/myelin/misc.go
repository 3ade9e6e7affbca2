package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/neuron"
	"github.com/myelin-sim/myelin/engine/spec"
	"github.com/myelin-sim/myelin/engine/stream"
	"github.com/spf13/pflag"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

func parseFlags(fs *pflag.FlagSet, e *env, args []string, usage string) (bool, error) {
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprintf(e.stderr, "Usage: %s\n\n%s", usage, fs.FlagUsages()) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return true, nil
		}
		return false, &exitError{2, err}
	}
	return false, nil
}

func cmdModels(_ context.Context, e *env, args []string) error {
	fs := pflag.NewFlagSet("models", pflag.ContinueOnError)
	if help, err := parseFlags(fs, e, args, "myelin models"); help || err != nil {
		return err
	}
	width := 0
	for _, m := range models.All() {
		width = max(width, len(m.Name))
	}
	for _, m := range models.All() {
		fmt.Fprintf(e.stdout, "%-*s %s\n", width, m.Name, m.Short)
		for _, p := range m.Params {
			def := p.Default
			if def == "" {
				def = "-"
			}
			fmt.Fprintf(e.stdout, "    %-12s %-8s %s\n", p.Name, def, p.Help)
		}
	}
	fmt.Fprintf(e.stdout, "\nneuron models (a population's model field; unset parameters take these NEST defaults):\n")
	for _, m := range neuron.Models() {
		fmt.Fprintf(e.stdout, "%-14s %s\n", m.Name, m.Summary)
		fmt.Fprintf(e.stdout, "    %s\n", strings.Join(defaultParams(m.Defaults()), " "))
		if m.SlowDefaults != nil {
			fmt.Fprintf(e.stdout, "    slow excitatory port (receptor SLOW_EXCITATORY): %s\n", strings.Join(defaultParams(m.SlowDefaults()), " "))
		}
	}
	return nil
}

// defaultParams lists the set fields of a model's default message as
// name=value, in field order.
func defaultParams(m proto.Message) []string {
	var out []string
	r := m.ProtoReflect()
	fields := r.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if !r.Has(fd) {
			continue
		}
		v := r.Get(fd)
		s := v.String()
		if fd.Kind() == protoreflect.EnumKind {
			if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
				s = string(ev.Name())
			}
		}
		out = append(out, fmt.Sprintf("%s=%s", fd.Name(), s))
	}
	return out
}

func cmdSpec(_ context.Context, e *env, args []string) error {
	fs := pflag.NewFlagSet("spec", pflag.ContinueOnError)
	set := fs.StringToString("set", nil, "model parameters, e.g. --set n=1000")
	asJSON := fs.Bool("json", false, "print JSON instead of protobuf text")
	if help, err := parseFlags(fs, e, args, "myelin spec MODEL [--set k=v] [--json]"); help || err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return &exitError{2, fmt.Errorf("want one model name ('myelin models' lists them)")}
	}
	m, err := models.Lookup(fs.Arg(0))
	if err != nil {
		return err
	}
	n, err := m.Build(*set)
	if err != nil {
		return err
	}
	spec.ApplyDefaults(n)
	var out []byte
	if *asJSON {
		out, err = spec.FormatJSON(n)
	} else {
		out, err = spec.Format(n)
		out = append([]byte(fmt.Sprintf("# %s\n# myelin run FILE.textproto runs this spec; every field is documented in proto/myelin.proto.\n", m.Short)), out...)
	}
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(out)
	return err
}

func cmdVersion(_ context.Context, e *env, args []string) error {
	fs := pflag.NewFlagSet("version", pflag.ContinueOnError)
	if help, err := parseFlags(fs, e, args, "myelin version"); help || err != nil {
		return err
	}
	cudaState := "built without CUDA (make cuda builds bin/myelin-cuda)"
	if _, ok := cudaBackend(); ok {
		cudaState = "CUDA backend built in"
	}
	rev := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				rev = " " + s.Value
			}
		}
	}
	fmt.Fprintf(e.stdout, "myelin %s%s\n%s %s/%s, %d CPUs\nstream format version %d\n%s\n",
		Version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), stream.FormatVersion, cudaState)
	return nil
}

func readStream(path string) (*stream.Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := stream.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}
