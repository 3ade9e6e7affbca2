package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/myelin-sim/myelin/engine/live"
	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"github.com/spf13/pflag"
)

// Export formats.
const (
	formatCSV  = "csv"
	formatNEST = "nest"
)

// nestMinDecimals is the precision of NEST's ASCII recording backend.
const nestMinDecimals = 3

func cmdExport(ctx context.Context, e *env, args []string) error {
	fs := pflag.NewFlagSet("export", pflag.ContinueOnError)
	format := fs.StringP("format", "f", formatCSV, "`FORMAT`: csv (time_ms,neuron,population; neuron is the id within its population) or nest (NEST's spike recorder ASCII file: sender time_ms, where sender is the global id + 1, as NEST node ids start at 1)")
	out := fs.StringP("out", "o", "", "write to `FILE` (default: stdout) through a temporary "+partialPattern+" beside it, renamed over FILE when the export is complete (an export that fails leaves FILE as it was); a device or FIFO is written directly")
	pops := fs.StringSlice("population", nil, "export only these populations (default: all)")
	token := fs.String("token", "", "present `TOKEN` to a live server started with --listen-token (default $"+tokenEnv+")")
	if help, err := parseFlags(fs, e, args, "myelin export FILE|ADDRESS [--format csv|nest] [--out FILE] [--population P,...]"); help || err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return &exitError{2, fmt.Errorf("want one stream file or live address, got %d arguments", fs.NArg())}
	}
	if *format != formatCSV && *format != formatNEST {
		return &exitError{2, fmt.Errorf("--format %q: want csv or nest", *format)}
	}
	name := fs.Arg(0)
	toFile := *out != "" && *out != "-"
	if toFile {
		if err := checkOut(*out); err != nil {
			return &exitError{2, err}
		}
		if sameFile(*out, name) {
			return &exitError{2, fmt.Errorf("--out %s is the input %s itself: the export would replace the stream it reads; give another file", *out, name)}
		}
	}
	src, err := openSource(ctx, name, *token)
	if err != nil {
		return err
	}
	defer src.Close()

	dst := e.stdout
	var of *outFile
	if toFile {
		if of, err = createOut(ctx, *out); err != nil {
			return err
		}
		defer of.discard()
		of.noteStale(e.stderr)
		dst = of.f
	}
	ex := &exporter{ctx: ctx, w: bufio.NewWriterSize(dst, 1<<20), format: *format, only: *pops, source: name}
	readErr := explain(src, ex.run(src))
	// The bufio.Writer's error is sticky: a failed write while exporting
	// also fails the flush, and is reported as the output's, not the
	// input's.
	if err := ex.w.Flush(); err != nil {
		of.discard()
		if of != nil && !of.direct() {
			return fmt.Errorf("export to %s: %w (%s is as it was)", *out, err, *out)
		}
		return fmt.Errorf("export to %s: %w", outName(*out), err)
	}
	// FILE is replaced only by a complete export. When the input fails,
	// what was exported before stays in the temporary file, named in the
	// error (dest), unless that is nothing.
	dest := outName(*out)
	switch {
	case of == nil:
	case readErr == nil:
		if err := of.close(true); err != nil {
			return err
		}
	case of.direct():
		if err := of.close(false); err != nil {
			fmt.Fprintln(e.stderr, err)
		}
	case ex.written == 0:
		of.discard()
		dest = ""
	default:
		if err := of.close(false); err != nil {
			return errors.Join(fmt.Errorf("%s: %w", name, readErr), err)
		}
		dest = fmt.Sprintf("%s; %s is as it was", of.partial, *out)
	}
	if ex.pops != nil && !ex.checksummed {
		fmt.Fprintf(e.stderr, "note: %s is a format version 1 stream: its records carry no checksums, so damage that still decodes would go unnoticed\n", name)
	}
	if ex.missed > 0 {
		fmt.Fprintf(e.stderr, "warning: %s has %d gaps: %d spikes were dropped before they reached it and are not exported\n", name, ex.gaps, ex.missed)
	}
	if readErr != nil {
		interrupted := ctx.Err() != nil
		var kept string
		switch {
		case dest == "":
			kept = fmt.Sprintf("nothing was exported; %s is as it was", *out)
		case interrupted:
			kept = fmt.Sprintf("the %d spikes read before were exported to %s", ex.written, dest)
		default:
			kept = fmt.Sprintf("the %d spikes before it were exported to %s", ex.written, dest)
		}
		if interrupted {
			return &exitError{130, fmt.Errorf("interrupted: %s: %s", name, kept)}
		}
		return fmt.Errorf("%s: %w (%s)", name, readErr, kept)
	}
	if !ex.ended {
		fmt.Fprintf(e.stderr, "warning: %s has no trailer: the run was cut short (or is still going); exported the %d spikes it holds\n", name, ex.written)
	}
	if toFile {
		fmt.Fprintf(e.stderr, "exported %d spikes to %s (%s)\n", ex.written, *out, *format)
	}
	return nil
}

// outName names the export's destination in messages.
func outName(out string) string {
	if out == "" || out == "-" {
		return "stdout"
	}
	return out
}

// exporter writes the spikes of a stream as text, record by record, so that
// streams larger than memory export and a cut stream keeps what came before
// the cut.
type exporter struct {
	ctx    context.Context // stops the export between records when done
	w      *bufio.Writer
	format string
	only   []string
	source string

	// From the header: population ranges sorted by first id.
	pops        *stream.PopIndex
	checksummed bool
	first, size []uint32 // per header population
	names       []string
	csvNames    []string // names as CSV fields, quoted where RFC 4180 needs it
	keep        []bool
	dt          float64
	decimals    int

	written, read uint64 // spikes written (after --population), read
	gaps          int
	missed        uint64
	ended         bool
	buf           []byte
}

// run exports the stream read from r.
func (x *exporter) run(r io.Reader) error {
	// The Reader checks every record (order, steps, ids within the
	// populations, totals); the exporter only formats what passes.
	rd := stream.NewReader(r)
	for {
		if x.ctx != nil {
			if err := x.ctx.Err(); err != nil {
				return err
			}
		}
		rec, err := rd.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch k := rec.GetKind().(type) {
		case *myelinpb.Record_Header:
			x.checksummed = rd.Checksummed()
			if err := x.header(k.Header, rd.Populations()); err != nil {
				return err
			}
		case *myelinpb.Record_Spikes:
			if err := x.spikes(rd.Spikes()); err != nil {
				return err
			}
		case *myelinpb.Record_Gap:
			x.gaps++
			x.missed += k.Gap.GetMissedSpikes()
		case *myelinpb.Record_Trailer:
			x.ended = true
		}
	}
}

func (x *exporter) header(h *myelinpb.Header, idx *stream.PopIndex) error {
	pops := h.GetPopulations()
	x.pops = idx
	have := map[string]bool{}
	for _, p := range pops {
		have[p.GetName()] = true
	}
	want := map[string]bool{}
	for _, n := range x.only {
		if !have[n] {
			names := make([]string, 0, len(pops))
			for _, p := range h.GetPopulations() {
				names = append(names, p.GetName())
			}
			return fmt.Errorf("--population %q: the stream has no such population (it has %s)", n, strings.Join(names, ", "))
		}
		want[n] = true
	}
	for _, p := range pops {
		x.first = append(x.first, p.GetFirstId())
		x.size = append(x.size, p.GetSize())
		x.names = append(x.names, p.GetName())
		x.csvNames = append(x.csvNames, csvField(p.GetName()))
		x.keep = append(x.keep, len(want) == 0 || want[p.GetName()])
	}
	x.dt = h.GetDtMs()
	x.decimals = decimalsOf(x.dt)
	switch x.format {
	case formatCSV:
		x.w.WriteString("time_ms,neuron,population\n")
	case formatNEST:
		x.decimals = max(x.decimals, nestMinDecimals)
		// The lines NEST's ASCII recording backend (version 2) starts its
		// files with, so that scripts reading NEST output read this.
		fmt.Fprintf(x.w, "# NEST version: none (exported by myelin %s from %s; sender = Myelin global id + 1)\n", Version, x.source)
		x.w.WriteString("# RecordingBackendASCII version: 2\n")
		x.w.WriteString("sender\ttime_ms\n")
	}
	return nil
}

// spikes writes one decoded spike block.
func (x *exporter) spikes(steps []uint64, ids []uint32) error {
	x.read += uint64(len(ids))
	cur := -1
	b := x.buf[:0]
	for i, id := range ids {
		if cur < 0 || id-x.first[cur] >= x.size[cur] {
			if cur = x.pops.Find(id); cur < 0 {
				return fmt.Errorf("spike of neuron %d, which lies in no population of the header", id)
			}
		}
		if !x.keep[cur] {
			continue
		}
		t := float64(steps[i]+1) * x.dt // NEST's stamp: the end of the step
		switch x.format {
		case formatCSV:
			b = strconv.AppendFloat(b, t, 'f', x.decimals, 64)
			b = append(b, ',')
			b = strconv.AppendUint(b, uint64(id-x.first[cur]), 10)
			b = append(b, ',')
			b = append(b, x.csvNames[cur]...)
		case formatNEST:
			b = strconv.AppendUint(b, uint64(id)+1, 10)
			b = append(b, '\t')
			b = strconv.AppendFloat(b, t, 'f', x.decimals, 64)
		}
		b = append(b, '\n')
		x.written++
		if len(b) > 1<<16 {
			if _, err := x.w.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	x.buf = b
	_, err := x.w.Write(b)
	return err
}

// csvField returns s as one CSV field (RFC 4180, as encoding/csv writes
// it): quoted, with quotes doubled, when it holds a comma, a quote, a line
// break or leading space, so that any name reads back whole.
func csvField(s string) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write([]string{s}) // a strings.Builder does not fail
	w.Flush()
	return strings.TrimSuffix(b.String(), "\n")
}

// decimalsOf returns the fewest decimals (at most 9) that write every
// multiple of dt exactly, e.g. 1 for 0.1 ms and 3 for 0.025 ms.
func decimalsOf(dt float64) int {
	for d := 0; d < 9; d++ {
		s := dt * math.Pow10(d)
		if math.Abs(s-math.Round(s)) < 1e-9*math.Max(1, s) {
			return d
		}
	}
	return 9
}

// openSource opens a stream file, or connects to a live server when arg is
// written as an address (HOST:PORT, tcp://HOST:PORT, unix:PATH) and is not
// the name of an existing file. It stops when ctx is done (exit status 130),
// even while a FIFO waits for its writer; the file or connection is closed
// when ctx is done, so that a read that blocks on a FIFO or a live stream
// stops on Ctrl-C too.
func openSource(ctx context.Context, arg, token string) (io.ReadCloser, error) {
	interrupted := func(err error) error {
		if ctx.Err() != nil {
			return &exitError{130, fmt.Errorf("interrupted: %w", err)}
		}
		return err
	}
	if _, err := os.Stat(arg); err == nil || !live.IsAddr(arg) {
		f, err := stream.Open(ctx, arg)
		if err != nil {
			return nil, interrupted(err)
		}
		return f, nil
	}
	if token == "" {
		token = os.Getenv(tokenEnv)
	}
	c, err := live.DialToken(ctx, arg, token)
	if err != nil {
		if errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) {
			// The server hung up before it read the token: a server
			// reads it, then hangs up on a wrong one.
			err = fmt.Errorf("%w; the server at %s hung up at once: it may have refused the connection because --listen-max subscribers were already connected", err, arg)
		}
		return nil, interrupted(err)
	}
	return &liveSource{Conn: c, stop: context.AfterFunc(ctx, func() { c.Close() }), addr: arg, token: token != ""}, nil
}

// liveSource is a connection to a live server.
type liveSource struct {
	net.Conn
	stop  func() bool
	addr  string // as given
	token bool   // a token was presented
	read  int64  // bytes read
}

// Read reads from the connection, counting the bytes.
func (s *liveSource) Read(p []byte) (int, error) {
	n, err := s.Conn.Read(p)
	s.read += int64(n)
	return n, err
}

// explain adds to err, an error of reading the stream of src (from
// openSource), why a live server may have sent nothing at all: a server
// started with --listen-token hangs up on a connection without the right
// token, and one with --listen-max subscribers connected hangs up on the
// next, both without a byte, which the reader sees as an empty input (or,
// when the server hung up before it read the token sent, as a connection
// reset). Any other error, or that of a file, is returned as it is. src
// must not be read meanwhile.
func explain(src io.Reader, err error) error {
	s, ok := src.(*liveSource)
	if !ok || s.read > 0 || !errors.Is(err, stream.ErrNotStream) && !errors.Is(err, syscall.ECONNRESET) {
		return err
	}
	why := "it may need a token (a run started with --listen-token: give it with --token or $" + tokenEnv + ")"
	if s.token {
		why = "it may have refused the token (the --token or $" + tokenEnv + " given is not the run's --listen-token)"
	}
	return fmt.Errorf("%w; the server at %s sent nothing: %s, or it may have refused the connection because --listen-max subscribers were already connected", err, s.addr, why)
}

// Close stops watching the context and closes the connection.
func (s *liveSource) Close() error {
	s.stop()
	err := s.Conn.Close()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
