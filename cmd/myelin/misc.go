package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/neuron"
	"github.com/myelin-sim/myelin/engine/plan"
	"github.com/myelin-sim/myelin/engine/spec"
	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"github.com/spf13/pflag"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/prototext"
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
	set := map[string]string{}
	setFlagVar(fs, &set, "model parameters, e.g. --set n=1000 (a key once in each --set; a later --set overrides)")
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
	n, err := m.Build(set)
	if err != nil {
		return err
	}
	// A spec that run would refuse is refused here too, with run's error.
	spec.ApplyDefaults(n)
	if err := spec.ValidateRun(n); err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	var header []byte
	if !*asJSON {
		header = fmt.Appendf(nil, "# %s\n# myelin run FILE.textproto runs this spec; every field is documented in proto/myelin.proto.\n", m.Short)
	}
	// A spec that a file could not hold (spec.MaxFileBytes) could never be
	// read back: refuse it from its estimated size, before formatting it.
	format := "protobuf text"
	if *asJSON {
		format = "JSON"
	}
	tooBig := func(size uint64, about string) error {
		return fmt.Errorf("%s: the spec would be %s%s of %s, more than the %s a spec file may hold (spec.MaxFileBytes), so it could not be read back; run the built-in model by name instead: myelin run %s",
			fs.Arg(0), about, plan.Bytes(size), format, plan.Bytes(spec.MaxFileBytes), modelCommand(fs.Arg(0), set))
	}
	est := uint64(len(header)) + specSize(n, *asJSON)
	if est > spec.MaxFileBytes {
		return tooBig(est, "about ")
	}
	// Formatted once into a buffer of the estimated size (no regrowth),
	// and written after the header as it is.
	buf := make([]byte, 0, est+est/8+4096) // before UnifySpacing, up to a byte a line more
	if *asJSON {
		buf, err = protojson.MarshalOptions{Multiline: true, Indent: "  "}.MarshalAppend(buf, n)
	} else {
		buf, err = prototext.MarshalOptions{Multiline: true, Indent: "  "}.MarshalAppend(buf, n)
	}
	if err != nil {
		return fmt.Errorf("%s: formatting the spec as %s: %w", fs.Arg(0), format, err)
	}
	buf = spec.UnifySpacing(buf)
	if size := uint64(len(header) + len(buf)); size > spec.MaxFileBytes {
		return tooBig(size, "")
	}
	if _, err := e.stdout.Write(header); err != nil {
		return fmt.Errorf("writing the spec: %w", err)
	}
	if _, err := e.stdout.Write(buf); err != nil {
		return fmt.Errorf("writing the spec: %w", err)
	}
	return nil
}

// modelCommand returns the arguments of a run of built-in model name with
// parameters set: "name --set k=v,...", keys sorted.
func modelCommand(name string, set map[string]string) string {
	if len(set) == 0 {
		return name
	}
	kv := make([]string, 0, len(set))
	for k, v := range set {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return name + " --set " + strings.Join(kv, ",")
}

// setFlag is --set k=v[,k=v...]: pflag's stringToString (the same syntax:
// one CSV record of key=value pairs; a later --set overrides an earlier
// one's keys), except that a key given twice in one --set is an error
// rather than the last value silently winning.
type setFlag struct {
	m *map[string]string
}

// setFlagVar adds --set to fs, storing its pairs in *p.
func setFlagVar(fs *pflag.FlagSet, p *map[string]string, usage string) {
	fs.Var(&setFlag{m: p}, "set", usage)
}

// Set implements pflag.Value.
func (s *setFlag) Set(val string) error {
	pairs, err := parseSetPairs(val)
	if err != nil {
		return err
	}
	seen := make(map[string]string, len(pairs))
	for _, kv := range pairs {
		if old, dup := seen[kv[0]]; dup {
			return fmt.Errorf("parameter %s given twice (%s=%s and %s=%s): give each once", kv[0], kv[0], old, kv[0], kv[1])
		}
		seen[kv[0]] = kv[1]
	}
	if *s.m == nil {
		*s.m = map[string]string{}
	}
	for k, v := range seen {
		(*s.m)[k] = v
	}
	return nil
}

// parseSetPairs parses key=value pairs as pflag's stringToString does:
// one pair, or one CSV record of them.
func parseSetPairs(val string) ([][2]string, error) {
	var fields []string
	switch strings.Count(val, "=") {
	case 0:
		return nil, fmt.Errorf("%s must be formatted as key=value", val)
	case 1:
		fields = []string{strings.Trim(val, `"`)}
	default:
		r := csv.NewReader(strings.NewReader(val))
		var err error
		if fields, err = r.Read(); err != nil {
			return nil, err
		}
		if _, err := r.Read(); err != io.EOF {
			return nil, fmt.Errorf("must be a single CSV record; quote fields containing newlines")
		}
	}
	pairs := make([][2]string, 0, len(fields))
	for _, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("%s must be formatted as key=value", f)
		}
		pairs = append(pairs, [2]string{k, v})
	}
	return pairs, nil
}

// Type implements pflag.Value.
func (s *setFlag) Type() string { return "stringToString" }

// String implements pflag.Value: the pairs, sorted, as [k=v,...], or
// nothing when there are none.
func (s *setFlag) String() string {
	if s.m == nil || len(*s.m) == 0 {
		return ""
	}
	kv := make([]string, 0, len(*s.m))
	for k, v := range *s.m {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return "[" + strings.Join(kv, ",") + "]"
}

// specSize estimates the bytes of n as written by spec.Format (protobuf
// text) or, with asJSON, spec.FormatJSON, without formatting it: field by
// field, with the width of every value (in a long repeated field, of an
// even sample of them). Explicit synapse lists, the only large part of a
// built-in model's spec, take about 21 bytes an index and 40 a weight as
// text (hopfield's index-only list: 44 bytes a synapse, so 1 GiB holds
// 24 million), 16 and 30 as JSON.
func specSize(n proto.Message, asJSON bool) uint64 {
	// The separator after a field name, as the output has it once
	// spec.UnifySpacing has taken out the second space that some builds of
	// the encoders add.
	tiny := &myelinpb.Network{Name: "x"}
	z := &sizer{json: asJSON}
	if asJSON {
		b, _ := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(tiny)
		z.sep = uint64(len(spec.UnifySpacing(b)) - len("{\n  \"name\"\"x\"\n}"))
		return 4 + z.message(n.ProtoReflect(), 0)
	}
	b, _ := prototext.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(tiny)
	z.sep = uint64(len(spec.UnifySpacing(b)) - len("name\"x\"\n"))
	return z.message(n.ProtoReflect(), 0)
}

// sizer is specSize's walk: json chooses the format, sep is the width of
// what follows a field name (": " or ":  ").
type sizer struct {
	json    bool
	sep     uint64
	scratch []byte
}

// sampleAbove is the length from which a repeated scalar field's width is
// extrapolated from sampleCount of its values.
const (
	sampleAbove = 1 << 14
	sampleCount = 1 << 12
)

// message returns the size of m's fields at nesting depth (0: top level).
func (z *sizer) message(m protoreflect.Message, depth uint64) uint64 {
	var s uint64
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		s += z.field(fd, v, depth)
		return true
	})
	return s
}

// field returns the size of field fd, value v, of a message at depth.
func (z *sizer) field(fd protoreflect.FieldDescriptor, v protoreflect.Value, depth uint64) uint64 {
	indent := 2 * depth
	if z.json {
		// "name": VALUE,\n inside an object whose fields are indented
		// one level more than its braces.
		key := 2*(depth+1) + uint64(len(fd.JSONName())) + 2 + z.sep + 2
		switch {
		case fd.IsList():
			l := v.List()
			elem := 2*(depth+2) + 2
			s := key + 2 + 2*(depth+1) + 1 // [\n ... ]
			if fd.Message() != nil {
				for i := range l.Len() {
					s += elem + 2 + z.message(l.Get(i).Message(), depth+2) + 2*(depth+2) + 1
				}
				return s
			}
			return s + z.list(l, fd, elem)
		case fd.IsMap():
			return key + 2 + 2*(depth+1) + 1 + uint64(v.Map().Len())*(2*(depth+2)+32)
		case fd.Message() != nil:
			return key + 2 + z.message(v.Message(), depth+1) + 2*(depth+1) + 1
		}
		return key + z.scalar(fd, v)
	}
	// name: VALUE\n, or name: {\n ... }\n for a message, once per element
	// of a repeated field.
	key := indent + uint64(len(fd.TextName())) + z.sep
	switch {
	case fd.IsList():
		l := v.List()
		if fd.Message() != nil {
			var s uint64
			for i := range l.Len() {
				s += key + 2 + z.message(l.Get(i).Message(), depth+1) + indent + 2
			}
			return s
		}
		return z.list(l, fd, key+1)
	case fd.IsMap():
		return uint64(v.Map().Len()) * (key + 64)
	case fd.Message() != nil:
		return key + 2 + z.message(v.Message(), depth+1) + indent + 2
	}
	return key + z.scalar(fd, v) + 1
}

// list returns the size of the elements of a repeated scalar field, each
// taking its value's width and per more.
func (z *sizer) list(l protoreflect.List, fd protoreflect.FieldDescriptor, per uint64) uint64 {
	n := l.Len()
	if n <= sampleAbove {
		s := uint64(n) * per
		for i := range n {
			s += z.scalar(fd, l.Get(i))
		}
		return s
	}
	var w uint64
	for k := range sampleCount {
		w += z.scalar(fd, l.Get(int(uint64(k)*uint64(n)/sampleCount)))
	}
	return uint64(n)*per + (w*uint64(n)+sampleCount-1)/sampleCount
}

// scalar returns the width of a scalar value as the format writes it.
func (z *sizer) scalar(fd protoreflect.FieldDescriptor, v protoreflect.Value) uint64 {
	b := z.scratch[:0]
	quoted := false
	switch fd.Kind() {
	case protoreflect.BoolKind:
		b = strconv.AppendBool(b, v.Bool())
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			b, quoted = append(b, ev.Name()...), true
		} else {
			b = strconv.AppendInt(b, int64(v.Enum()), 10)
		}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		b = strconv.AppendInt(b, v.Int(), 10)
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		b, quoted = strconv.AppendInt(b, v.Int(), 10), true // JSON: a string
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		b = strconv.AppendUint(b, v.Uint(), 10)
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		b, quoted = strconv.AppendUint(b, v.Uint(), 10), true
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		bits := 64
		if fd.Kind() == protoreflect.FloatKind {
			bits = 32
		}
		b = strconv.AppendFloat(b, v.Float(), 'g', -1, bits)
	case protoreflect.StringKind:
		b, quoted = strconv.AppendQuote(b, v.String()), false
	case protoreflect.BytesKind:
		b = strconv.AppendQuote(b, string(v.Bytes()))
	}
	z.scratch = b
	w := uint64(len(b))
	if quoted && z.json {
		w += 2
	}
	return w
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
	fmt.Fprintf(e.stdout, "myelin %s\n%s %s/%s, %d CPUs\n%s\n%s\n",
		buildID(), runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), formatVersionLine(), cudaState)
	return nil
}

// formatVersionLine says which stream format versions myelin writes (runs
// with STDP write the weights records' version) and reads.
func formatVersionLine() string {
	return fmt.Sprintf("stream format version %d (%d with STDP weights records); reads versions %d to %d",
		stream.FormatVersion, stream.WeightsFormatVersion, stream.OldestFormatVersion, stream.NewestFormatVersion)
}
