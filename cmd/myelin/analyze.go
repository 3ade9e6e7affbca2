package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/myelin-sim/myelin/engine/analysis"
	"github.com/myelin-sim/myelin/engine/live"
	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"github.com/spf13/pflag"
)

// rateModel is the model name of rate populations in the stream header.
const rateModel = "rate"

func cmdAnalyze(ctx context.Context, e *env, args []string) error {
	fs := pflag.NewFlagSet("analyze", pflag.ContinueOnError)
	rasterPath := fs.String("raster", "", "draw a spike raster to `FILE` ("+figureFormatList+"; large networks are subsampled)")
	ratesPath := fs.String("rates", "", "draw the population rates over time to `FILE` ("+figureFormatList+")")
	binMs := fs.Float64("bin", 5, fmt.Sprintf("bin width of the --rates figure in `ms`, at least the stream's dt (the default widens to dt); beyond %d points a line (fewer with many populations), each line goes through the lowest and highest rate of every group of bins, so that peaks stay drawn", analysis.MaxLinePoints))
	spectrumPath := fs.String("spectrum", "", "draw the power spectrum of each population's rate to `FILE` ("+figureFormatList+"; gamma of a ping run, say)")
	bumpPath := fs.String("bump", "", "draw the decoded bump position of each population over time to `FILE` ("+figureFormatList+"; neuron i of n at 360°·i/n: for ring populations)")
	bumpBin := fs.Float64("bump-bin", 50, "bin width of the --bump figure in `ms`, at least the stream's dt (the default widens to dt)")
	afterMs := fs.Float64("after", 0, "leave out the first `ms` of the run (an initial transient) from the statistics and figures; less than the run's length")
	bumpEvery := fs.Float64("bump-every", 100, "for rate (ring) populations sampled whole: print the decoded bump position every `ms`")
	maxNeurons := fs.Int("max-neurons", analysis.DefaultMaxNeurons, "most neurons the raster shows")
	pairs := fs.Int("pairs", analysis.DefaultCorrPairs, "neuron pairs sampled for the spike-count correlation")
	overlapsPath := fs.String("overlaps", "", "for a hopfield or consolidation run: draw the overlap with each stored pattern over time to `FILE` ("+figureFormatList+"; consolidation: FILE-HPC and FILE-CTX)")
	overlapBin := fs.Float64("overlap-bin", 100, "window of the pattern overlaps in `ms`")
	token := fs.String("token", "", "present `TOKEN` to a live server started with --listen-token (default $"+tokenEnv+")")
	if help, err := parseFlags(fs, e, args, "myelin analyze FILE|ADDRESS [--raster F.png] [--rates F.png] [--bin ms]"); help || err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return &exitError{2, fmt.Errorf("want one stream file or live address (HOST:PORT, tcp://HOST:PORT, unix:PATH), got %d arguments", fs.NArg())}
	}
	if !(*afterMs >= 0) || math.IsInf(*afterMs, 0) {
		return &exitError{2, fmt.Errorf("--after %v: must be a finite number of ms >= 0", *afterMs)}
	}
	if !(*binMs > 0) || !(*bumpEvery > 0) || *maxNeurons < 1 || *pairs < 1 || math.IsInf(*binMs, 0) || math.IsInf(*bumpEvery, 0) {
		return &exitError{2, fmt.Errorf("--bin, --bump-every, --max-neurons and --pairs must be finite and > 0")}
	}
	if !(*overlapBin > 0) || math.IsInf(*overlapBin, 0) {
		return &exitError{2, fmt.Errorf("--overlap-bin %v: must be a finite number of ms > 0", *overlapBin)}
	}
	// The figures' formats are checked before the source is opened, so
	// that a bad name does not cost a whole (live) stream.
	for _, f := range []struct{ flag, path string }{
		{"--raster", *rasterPath}, {"--rates", *ratesPath}, {"--spectrum", *spectrumPath}, {"--bump", *bumpPath}, {"--overlaps", *overlapsPath},
	} {
		if err := checkFigurePath(f.flag, f.path); err != nil {
			return &exitError{2, err}
		}
	}
	name := fs.Arg(0)
	src, err := openSource(ctx, name, *token)
	if err != nil {
		return err
	}
	// The work runs on its own goroutine so that Ctrl-C and SIGTERM stop
	// analyze at once, whatever it is reading or computing; the reader
	// stops too (ctxReader) so that the goroutine ends soon after.
	done := make(chan error, 1)
	go func() {
		defer src.Close()
		done <- analyzeStream(e.stdout, name, ctxReader{ctx, src}, *afterMs, *binMs, *bumpEvery, *maxNeurons, *pairs,
			figurePaths{raster: *rasterPath, rates: *ratesPath, spectrum: *spectrumPath, bump: *bumpPath, bumpBinMs: *bumpBin,
				binSet: fs.Changed("bin"), bumpBinSet: fs.Changed("bump-bin")}, hopfieldOpts{*overlapBin, *overlapsPath})
	}()
	select {
	case err := <-done:
		if err != nil && ctx.Err() != nil {
			return &exitError{130, fmt.Errorf("interrupted: %w", err)}
		}
		return explain(src, err)
	case <-ctx.Done():
		return &exitError{130, fmt.Errorf("interrupted while analysing %s", name)}
	}
}

// ctxReader is a reader that fails once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

// Read reads from the underlying reader unless the context is done.
func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// figurePaths are the figures analyze draws, by flag ("" for none).
type figurePaths struct {
	raster, rates, spectrum, bump string
	bumpBinMs                     float64
	// binSet and bumpBinSet: --bin and --bump-bin were given. A default
	// bin narrower than the stream's dt widens to dt; a given one is
	// refused.
	binSet, bumpBinSet bool
}

// figureFormats are the extensions of the figure files analyze writes, in
// lower case: the format of a figure is that of its file's extension, in
// any case. gonum/plot would also write .jpg, .tif, .eps and .tex, but the
// figures give only PNG their resolution; --help lists these three, and
// the others are refused.
var figureFormats = []string{".png", ".svg", ".pdf"}

// figureFormatList is figureFormats for --help and errors.
const figureFormatList = ".png, .svg or .pdf"

// checkFigurePath refuses a figure file (given with flag; "" for none)
// whose extension is not one of figureFormats, naming the flag and the
// formats accepted.
func checkFigurePath(flag, path string) error {
	if path == "" {
		return nil
	}
	ext := filepath.Ext(path)
	switch {
	case ext == "":
		return fmt.Errorf("%s %s: the file name has no extension; want %s, which chooses the figure's format", flag, path, figureFormatList)
	case !slices.Contains(figureFormats, strings.ToLower(ext)):
		return fmt.Errorf("%s %s: %s is not a figure format analyze writes; want %s", flag, path, ext, figureFormatList)
	}
	return nil
}

// figureBin returns the bin a figure uses: binMs, widened to the stream's
// dt when the user did not choose it.
func figureBin(run analysis.Run, binMs float64, set bool) float64 {
	if !set {
		return max(binMs, run.DtMs)
	}
	return binMs
}

// analyzeStream reads a stream and prints (and draws) its analysis. It
// checks the figures' bins against the stream's dt as soon as the header
// is read, before the rest of the stream.
func analyzeStream(w io.Writer, name string, src io.Reader, afterMs, binMs, bumpEvery float64, maxNeurons, pairs int, fig figurePaths, hop hopfieldOpts) error {
	// Only a bin given by flag needs checking (a default widens to dt),
	// and only then is the header read twice.
	if fig.rates != "" && fig.binSet || fig.bump != "" && fig.bumpBinSet {
		var h *myelinpb.Header
		h, src = peekHeader(src)
		for _, b := range []struct {
			flag, fig string
			bin       float64
			set       bool
		}{{"--bin", fig.rates, binMs, fig.binSet}, {"--bump-bin", fig.bump, fig.bumpBinMs, fig.bumpBinSet}} {
			if h != nil && b.fig != "" && b.set {
				if err := checkBin(b.flag, b.bin, h.GetDtMs()); err != nil {
					return &exitError{2, fmt.Errorf("%s: %w", name, err)}
				}
			}
		}
	}
	res, readErr := stream.ReadAll(src)
	if res.Header == nil {
		return fmt.Errorf("%s: %w", name, readErr)
	}

	run, stepsCovered := analysisRun(res)
	printStreamLine(w, name, res, stepsCovered, readErr != nil)
	if afterMs > 0 && !(afterMs < run.DurationMs) {
		err := fmt.Errorf("--after %g ms is past the end of the run: %s covers %g ms (%d steps of %g ms)", afterMs, name, run.DurationMs, stepsCovered, run.DtMs)
		if readErr != nil {
			err = fmt.Errorf("%w, read up to an error: %w", err, readErr)
		}
		return &exitError{2, err}
	}
	whole := run
	if afterMs > 0 {
		run = run.After(afterMs)
		fmt.Fprintf(w, "statistics from %g ms on (--after)\n", afterMs)
	}
	if !res.Checksummed {
		fmt.Fprintf(w, "note: %s is a format version %d stream: its records carry no checksums, so damage that still decodes would go unnoticed\n", name, res.Header.GetFormatVersion())
	}
	if len(res.Gaps) > 0 {
		var missed uint64
		for _, g := range res.Gaps {
			missed += g.GetMissedSpikes()
		}
		fmt.Fprintf(w, "warning: %d gaps: %d spikes were dropped before they reached this reader; rates and statistics are low by that much\n", len(res.Gaps), missed)
	}
	for _, p := range live.PartialPopulations(res.Header) {
		fmt.Fprintf(w, "warning: %s is a filtered live stream (--listen-filter %s): it holds the spikes of %d of %s's %d neurons, but the rates and statistics below count all %d, so %s's rates are %.3g times too low\n",
			name, p.Filter, p.Served, p.Name, p.Size, p.Size, p.Name, float64(p.Size)/float64(max(p.Served, 1)))
	}
	var errs []error
	if len(run.Pops) > 0 && run.DurationMs > 0 {
		stats, err := analysis.Analyze(run, analysis.Options{CorrPairs: pairs})
		if err != nil {
			errs = append(errs, err)
		} else {
			fmt.Fprint(w, analysis.Summary(stats))
			var pac analysis.PACOptions // the defaults: theta 4–12 Hz, gamma 30–80 Hz
			fmt.Fprint(w, analysis.RhythmSummary(analysis.Rhythms(run, stats, pac), pac))
		}
	}
	printBumps(w, res, bumpEvery)
	printWeights(w, res)
	printStpWM(w, res, whole)
	if err := printHopfield(w, res, whole, hop); err != nil {
		errs = append(errs, err)
	}

	if fig.raster != "" || fig.rates != "" || fig.spectrum != "" || fig.bump != "" {
		if len(run.Pops) == 0 || !(run.DurationMs > 0) {
			errs = append(errs, fmt.Errorf("no spikes of a recorded spiking population to draw"))
		} else {
			for _, f := range []struct {
				path string
				draw func() error
			}{
				{fig.raster, func() error { return analysis.Raster(run, fig.raster, analysis.PlotOptions{MaxNeurons: maxNeurons}) }},
				{fig.rates, func() error { return analysis.Rates(run, fig.rates, figureBin(run, binMs, fig.binSet)) }},
				{fig.spectrum, func() error { return analysis.SpectrumPlot(run, fig.spectrum) }},
				{fig.bump, func() error { return analysis.BumpPlot(run, fig.bump, figureBin(run, fig.bumpBinMs, fig.bumpBinSet)) }},
			} {
				if f.path == "" {
					continue
				}
				if err := f.draw(); err != nil {
					errs = append(errs, err)
				} else {
					fmt.Fprintf(w, "wrote %s\n", f.path)
				}
			}
		}
	}
	if readErr != nil {
		return fmt.Errorf("%s: %w; the results above cover the %d spikes of the first %.1f ms read before it", name, readErr, len(res.IDs), float64(stepsCovered)*res.Header.GetDtMs())
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s: %w", name, joinErrs(errs))
	}
	return nil
}

// checkBin refuses a figure's bin (given with flag) narrower than the
// stream's step dtMs: a bin inside one step holds the spikes of that step
// or none. A bin of dt or more that makes more than analysis.MaxBins bins
// of the run is left to the figure, whose error gives the smallest bin
// that works.
func checkBin(flag string, binMs, dtMs float64) error {
	if binMs < dtMs {
		return fmt.Errorf("%s %g ms is narrower than the stream's dt %g ms; use %s %g or more", flag, binMs, dtMs, flag, dtMs)
	}
	return nil
}

// peekHeader reads the header record of src. It returns the header (nil
// when src does not start with one a Reader accepts) and a reader of all of
// src's bytes from the start, the header's included: those read are kept
// and read again, so that reading the whole stream from it reports any
// error where it lies.
func peekHeader(src io.Reader) (*myelinpb.Header, io.Reader) {
	var seen bytes.Buffer
	rec, err := stream.NewReader(io.TeeReader(src, &seen)).Next()
	again := io.MultiReader(&seen, src)
	if err != nil {
		return nil, again
	}
	return rec.GetHeader(), again
}

// joinErrs joins errors into one line.
func joinErrs(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	parts := make([]string, len(errs))
	for i, err := range errs {
		parts[i] = err.Error()
	}
	return fmt.Errorf("%s", strings.Join(parts, "; "))
}

// analysisRun converts a stream to an analysis.Run: one population per
// recorded spiking population of the header. It returns the steps the run
// covers: the trailer's steps_done, or for a stream without a trailer up to
// the last spike, sample or gap read.
func analysisRun(res *stream.Result) (analysis.Run, uint64) {
	h := res.Header
	var steps uint64
	if t := res.Trailer; t != nil {
		steps = t.GetStepsDone()
		if steps == 0 && t.GetStatus() == myelinpb.Trailer_COMPLETE {
			steps = h.GetTotalSteps()
		}
	}
	if n := len(res.Steps); n > 0 {
		steps = max(steps, res.Steps[n-1]+1)
	}
	for _, d := range res.State {
		if n := len(d.Steps); n > 0 {
			steps = max(steps, d.Steps[n-1]+1)
		}
	}
	for _, g := range res.Gaps {
		steps = max(steps, g.GetLastStep())
	}
	run := analysis.Run{DtMs: h.GetDtMs(), DurationMs: float64(steps) * h.GetDtMs()}
	pops := h.GetPopulations()
	// The spikes of every population in one pass (the reader checked that
	// each id lies in a population), so that the work grows with the
	// spikes and the populations, not with their product.
	at := make([]int, len(pops)) // index into run.Pops, or -1
	for i, p := range pops {
		at[i] = -1
		if !p.GetRecorded() || p.GetModel() == rateModel {
			continue
		}
		at[i] = len(run.Pops)
		run.Pops = append(run.Pops, analysis.Population{Name: p.GetName(), Size: int(p.GetSize())})
	}
	idx, err := stream.NewPopIndex(h)
	if err != nil {
		// Not a header a Reader accepts: population by population.
		for i := range run.Pops {
			run.Pops[i].TimesMs, run.Pops[i].IDs = res.PopulationSpikes(run.Pops[i].Name)
		}
		return run, steps
	}
	// owner returns the index in run.Pops of the population holding id, and
	// the header's; -1 for a population left out.
	owner := func(id uint32) (int, int) {
		if i := idx.Find(id); i >= 0 && at[i] >= 0 {
			return at[i], i
		}
		return -1, -1
	}
	n := make([]int, len(run.Pops)) // spikes per population: one allocation each
	for _, id := range res.IDs {
		if j, _ := owner(id); j >= 0 {
			n[j]++
		}
	}
	for j := range run.Pops {
		run.Pops[j].TimesMs, run.Pops[j].IDs = make([]float64, 0, n[j]), make([]uint32, 0, n[j])
	}
	for k, id := range res.IDs {
		if j, i := owner(id); j >= 0 {
			q := &run.Pops[j]
			q.TimesMs = append(q.TimesMs, res.SpikeTimeMs(res.Steps[k]))
			q.IDs = append(q.IDs, id-pops[i].GetFirstId())
		}
	}
	return run, steps
}

// printStreamLine says what the stream is.
func printStreamLine(w io.Writer, name string, res *stream.Result, steps uint64, partial bool) {
	h := res.Header
	var n uint64
	for _, p := range h.GetPopulations() {
		n += uint64(p.GetSize())
	}
	status := "no trailer (cut short or still running)"
	if partial {
		status = "cut short by an error (see below)"
	}
	if t := res.Trailer; t != nil {
		status = t.GetStatus().String()
		if t.GetBackend() != "" {
			status += " on " + t.GetBackend()
		}
	}
	model := h.GetSpec().GetName()
	if model == "" {
		model = "network"
	}
	fmt.Fprintf(w, "%s: %s, %d neurons, seed %d, dt %g ms, %.1f ms (%d steps), %d spikes, %s\n",
		name, model, n, h.GetSeed(), h.GetDtMs(), float64(steps)*h.GetDtMs(), steps, len(res.IDs), status)
}

// printBumps prints, for every state series that samples a whole rate
// population, the bump position decoded from the rates (population vector
// on the ring) about every `every` ms.
func printBumps(w io.Writer, res *stream.Result, every float64) {
	h := res.Header
	ids := make([]uint32, 0, len(res.State))
	for id := range res.State {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		d := res.State[id]
		p := wholePopulation(h, d.Series)
		if p == nil || p.GetModel() != rateModel || len(d.Steps) == 0 {
			continue
		}
		fmt.Fprintf(w, "bump position on the ring %q (population vector of r, %d neurons, state series %d):\n", p.GetName(), p.GetSize(), id)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "time (ms)\tposition (deg)\tamplitude\t")
		next := 0.0
		for i, step := range d.Steps {
			t := float64(step) * h.GetDtMs()
			if t+1e-9 < next && i != len(d.Steps)-1 {
				continue
			}
			deg, amp := analysis.BumpPosition(d.Row(i))
			pos := "-"
			if !math.IsNaN(deg) {
				pos = fmt.Sprintf("%.1f", deg)
			}
			fmt.Fprintf(tw, "%.1f\t%s\t%.3g\t\n", t, pos, amp)
			// The next print time after t, computed rather than stepped
			// to, so that a tiny --bump-every cannot make this loop long.
			next = (math.Floor((t+1e-9)/every) + 1) * every
		}
		tw.Flush()
	}
}

// wholePopulation returns the population a state series samples when it
// samples all of it, in order; else nil.
func wholePopulation(h *myelinpb.Header, s *myelinpb.StateSeries) *myelinpb.PopulationRange {
	for _, p := range h.GetPopulations() {
		if p.GetName() != s.GetPopulation() {
			continue
		}
		ids := s.GetNeuronIds()
		if uint32(len(ids)) != p.GetSize() {
			return nil
		}
		for i, id := range ids {
			if id != p.GetFirstId()+uint32(i) {
				return nil
			}
		}
		return p
	}
	return nil
}
