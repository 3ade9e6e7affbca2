package stream

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	myelinpb "github.com/myelin-sim/myelin/proto"
)

// writerBufferSize is the size of the Writer's bufio buffer.
const writerBufferSize = 1 << 20

// Writer writes a stream: the header at once (NewWriter), then spike, state
// and gap records, then the trailer (Close). It buffers its output; Flush
// pushes the records written so far to the underlying writer. A Writer is
// not safe for concurrent use.
//
// A call that fails validation (unsorted ids, counts that do not add up,
// overlapping steps, an unknown state series) writes nothing and leaves the
// Writer usable. An error of the underlying writer is sticky: every later
// call returns it.
type Writer struct {
	bw     *bufio.Writer
	header *myelinpb.Header

	version uint32
	// pops indexes the header's populations; popSpikes counts the spikes
	// written per header population and blockCounts those of the block
	// being written.
	pops        *PopIndex
	popSpikes   []uint64
	blockCounts *Counter
	// series maps a state series id to its number of neurons.
	series map[uint32]int

	totalSpikes uint64
	nextStep    uint64 // first step a spike block may start at
	// weightPairs holds the pairs of populations whose weights were written.
	weightPairs map[[2]string]bool

	buf    []byte        // scratch: framed record prefix
	idsBuf []byte        // scratch: packed, delta-coded ids of one block
	crcBuf [CRCSize]byte // scratch: the checksum field of a spike record

	// Select's choice, and scratch for the selected spikes of one block.
	keepID     func(id uint32) bool
	keepSeries func(series uint32) bool
	selCounts  []uint32
	selIDs     []uint32
	err        error // sticky error of the underlying writer
	closed     bool
}

// NewWriter writes the header record h to w (and flushes it, so that a
// reader of a live stream sees it at once) and returns a Writer for the
// rest of the stream. A zero h.FormatVersion is written as FormatVersion;
// version 1 (no checksums) is written on request, for tests and tools that
// must produce old streams. The header must pass CheckHeader: dt in
// [MinDtMs, MaxDtMs], population ranges that tile the ids from 0, valid
// state series.
// NewWriter keeps its own copy of h; it does not change h. The Writer does
// not close w.
func NewWriter(w io.Writer, h *myelinpb.Header) (*Writer, error) {
	if w == nil {
		return nil, errors.New("stream: NewWriter: nil io.Writer")
	}
	if h == nil {
		return nil, errors.New("stream: NewWriter: nil header")
	}
	h = proto.CloneOf(h)
	if h.GetFormatVersion() == 0 {
		h.FormatVersion = FormatVersion
	}
	pops, err := CheckHeader(h)
	if err != nil {
		return nil, fmt.Errorf("stream: NewWriter: %w", err)
	}
	sw := &Writer{
		bw:          bufio.NewWriterSize(w, writerBufferSize),
		header:      h,
		version:     h.GetFormatVersion(),
		pops:        pops,
		popSpikes:   make([]uint64, pops.Len()),
		blockCounts: pops.Counter(),
		series:      make(map[uint32]int, len(h.GetStateSeries())),
	}
	for _, s := range h.GetStateSeries() {
		sw.series[s.GetId()] = len(s.GetNeuronIds())
	}
	rec := &myelinpb.Record{Kind: &myelinpb.Record_Header{Header: h}}
	if err := sw.writeMessage(rec); err != nil {
		return nil, fmt.Errorf("stream: NewWriter: writing header: %w", err)
	}
	if err := sw.Flush(); err != nil {
		return nil, fmt.Errorf("stream: NewWriter: writing header: %w", err)
	}
	return sw, nil
}

// Select makes the Writer keep only the spikes of the neurons for which
// keepID returns true and the state blocks of the series for which
// keepSeries returns true (a nil function keeps everything). The selection
// is made as blocks are encoded: WriteSpikes drops the other ids from the
// caller's block before delta-coding it (steps stay covered, so a step with
// no selected spike is written with count 0), WriteState skips the other
// series, and the trailer counts what was written. Call it before the first
// block.
func (w *Writer) Select(keepID func(id uint32) bool, keepSeries func(series uint32) bool) {
	w.keepID, w.keepSeries = keepID, keepSeries
}

// selectSpikes returns the selected spikes of a block in the Writer's
// scratch slices.
func (w *Writer) selectSpikes(firstStep uint64, counts, ids []uint32) ([]uint32, []uint32, error) {
	var sum uint64
	for _, c := range counts {
		sum += uint64(c)
	}
	if sum != uint64(len(ids)) {
		return nil, nil, fmt.Errorf("stream: WriteSpikes: block at step %d: counts add up to %d spikes but %d ids were given", firstStep, sum, len(ids))
	}
	w.selCounts, w.selIDs = w.selCounts[:0], w.selIDs[:0]
	pos := 0
	for _, c := range counts {
		var kept uint32
		for _, id := range ids[pos : pos+int(c)] {
			if w.keepID(id) {
				w.selIDs = append(w.selIDs, id)
				kept++
			}
		}
		pos += int(c)
		w.selCounts = append(w.selCounts, kept)
	}
	return w.selCounts, w.selIDs, nil
}

// Header returns the header as written (with its format version filled in).
// The caller must not change it.
func (w *Writer) Header() *myelinpb.Header { return w.header }

// TotalSpikes returns the number of spikes written so far.
func (w *Writer) TotalSpikes() uint64 { return w.totalSpikes }

// check returns the error that stops any further write, if any.
func (w *Writer) check(op string) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return fmt.Errorf("stream: %s: writer is closed", op)
	}
	return nil
}

// WriteSpikes writes one spike block for the steps [firstStep,
// firstStep+len(counts)): counts[i] spikes in step firstStep+i, whose global
// neuron ids come next in ids, strictly ascending within each step. The ids
// are delta-coded within each step in the record. The sum of counts must be
// len(ids); blocks must come in step order without overlapping; when the
// header lists populations, every id must lie in one of them. An invalid
// block writes nothing.
func (w *Writer) WriteSpikes(firstStep uint64, counts []uint32, ids []uint32) error {
	if err := w.check("WriteSpikes"); err != nil {
		return err
	}
	nsteps := uint64(len(counts))
	if firstStep < w.nextStep {
		return fmt.Errorf("stream: WriteSpikes: block starts at step %d, before the end of the previous block or gap (step %d)", firstStep, w.nextStep)
	}
	if firstStep > math.MaxUint64-nsteps {
		return fmt.Errorf("stream: WriteSpikes: block of %d steps at step %d passes the uint64 range", nsteps, firstStep)
	}
	if w.keepID != nil {
		var err error
		if counts, ids, err = w.selectSpikes(firstStep, counts, ids); err != nil {
			return err
		}
	}
	var sum uint64
	countsLen := 0
	for _, c := range counts {
		sum += uint64(c)
		countsLen += protowire.SizeVarint(uint64(c))
	}
	if sum != uint64(len(ids)) {
		return fmt.Errorf("stream: WriteSpikes: block at step %d: counts add up to %d spikes but %d ids were given", firstStep, sum, len(ids))
	}

	// Delta-code the ids into idsBuf, checking the order and counting
	// spikes per population as we go.
	havePops := w.pops.Len() > 0
	w.blockCounts.Reset()
	buf := w.idsBuf[:0]
	pos := 0
	for s, c := range counts {
		step := ids[pos : pos+int(c)]
		pos += int(c)
		var prev uint32
		for j, id := range step {
			delta := id - prev
			if j > 0 && id <= prev {
				return fmt.Errorf("stream: WriteSpikes: step %d: neuron ids not strictly ascending (%d after %d)", firstStep+uint64(s), id, prev)
			}
			buf = protowire.AppendVarint(buf, uint64(delta))
			prev = id
			if havePops && !w.blockCounts.Add(id) {
				return fmt.Errorf("stream: WriteSpikes: step %d: neuron id %d lies in no population of the header", firstStep+uint64(s), id)
			}
		}
	}
	w.idsBuf = buf
	idsLen := len(buf)

	// SpikeBlock size, as proto.Marshal computes it.
	sbLen := 0
	if firstStep != 0 {
		sbLen += protowire.SizeTag(FieldSpikeFirstStep) + protowire.SizeVarint(firstStep)
	}
	if len(counts) > 0 {
		sbLen += protowire.SizeTag(FieldSpikeCounts) + protowire.SizeBytes(countsLen)
	}
	if idsLen > 0 {
		sbLen += protowire.SizeTag(FieldSpikeIDs) + protowire.SizeBytes(idsLen)
	}
	recLen := protowire.SizeTag(FieldSpikes) + protowire.SizeBytes(sbLen)
	if w.version >= 2 {
		recLen += CRCSize
	}
	if recLen > MaxRecordBytes {
		return fmt.Errorf("stream: WriteSpikes: block at step %d encodes to %d bytes, more than the %d-byte record limit; write smaller blocks", firstStep, recLen, MaxRecordBytes)
	}

	p := w.buf[:0]
	p = protowire.AppendVarint(p, uint64(recLen))
	msgStart := len(p)
	p = protowire.AppendTag(p, FieldSpikes, protowire.BytesType)
	p = protowire.AppendVarint(p, uint64(sbLen))
	if firstStep != 0 {
		p = protowire.AppendTag(p, FieldSpikeFirstStep, protowire.VarintType)
		p = protowire.AppendVarint(p, firstStep)
	}
	if len(counts) > 0 {
		p = protowire.AppendTag(p, FieldSpikeCounts, protowire.BytesType)
		p = protowire.AppendVarint(p, uint64(countsLen))
		for _, c := range counts {
			p = protowire.AppendVarint(p, uint64(c))
		}
	}
	if idsLen > 0 {
		p = protowire.AppendTag(p, FieldSpikeIDs, protowire.BytesType)
		p = protowire.AppendVarint(p, uint64(idsLen))
	}
	w.buf = p
	if err := w.write(p); err != nil {
		return err
	}
	if err := w.write(buf); err != nil {
		return err
	}
	if w.version >= 2 {
		crc := crc32.Update(Checksum(p[msgStart:]), castagnoli, buf)
		w.crcBuf[0] = crcTag
		binary.LittleEndian.PutUint32(w.crcBuf[1:], crc)
		if err := w.write(w.crcBuf[:]); err != nil {
			return err
		}
	}

	for i, n := range w.blockCounts.Counts() {
		w.popSpikes[i] += n
	}
	w.totalSpikes += sum
	w.nextStep = firstStep + nsteps
	return nil
}

// WriteState writes one state block: numSamples rows of samples of state
// series `series`, the first at step firstStep, row-major in values. The
// series must be listed in the header, and len(values) must be numSamples
// times its number of neurons.
func (w *Writer) WriteState(series uint32, firstStep uint64, numSamples uint32, values []float32) error {
	if err := w.check("WriteState"); err != nil {
		return err
	}
	if w.keepSeries != nil && !w.keepSeries(series) {
		if _, ok := w.series[series]; ok {
			return nil // not selected (see Select)
		}
	}
	width, ok := w.series[series]
	if !ok {
		return fmt.Errorf("stream: WriteState: state series %d is not in the header", series)
	}
	if want := uint64(numSamples) * uint64(width); uint64(len(values)) != want {
		return fmt.Errorf("stream: WriteState: series %d at step %d: %d samples of %d neurons need %d values, got %d", series, firstStep, numSamples, width, want, len(values))
	}
	rec := &myelinpb.Record{Kind: &myelinpb.Record_State{State: &myelinpb.StateBlock{
		Series:     series,
		FirstStep:  firstStep,
		NumSamples: numSamples,
		Values:     values,
	}}}
	if err := w.writeMessage(rec); err != nil {
		return fmt.Errorf("stream: WriteState: %w", err)
	}
	return nil
}

// WriteGap writes a gap record: the spikes of steps [firstStep, lastStep),
// missedSpikes of them, were dropped (a live subscriber that read too
// slowly). Later spike blocks must start at lastStep or after.
func (w *Writer) WriteGap(firstStep, lastStep, missedSpikes uint64) error {
	if err := w.check("WriteGap"); err != nil {
		return err
	}
	if lastStep < firstStep {
		return fmt.Errorf("stream: WriteGap: last step %d is before first step %d", lastStep, firstStep)
	}
	rec := &myelinpb.Record{Kind: &myelinpb.Record_Gap{Gap: &myelinpb.Gap{
		FirstStep:    firstStep,
		LastStep:     lastStep,
		MissedSpikes: missedSpikes,
	}}}
	if err := w.writeMessage(rec); err != nil {
		return fmt.Errorf("stream: WriteGap: %w", err)
	}
	w.nextStep = max(w.nextStep, lastStep)
	return nil
}

// Flush writes the buffered records to the underlying writer, so that every
// record written so far can be read from it.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if err := w.bw.Flush(); err != nil {
		w.err = fmt.Errorf("stream: flush: %w", err)
		return w.err
	}
	return nil
}

// Close writes the trailer and flushes. It sets the trailer's total_spikes
// to the number of spikes written and, when the header lists populations,
// population_spikes to the spikes per population in header order; the
// other fields come from t (nil t writes a trailer with only the counts).
// Close does not change t and does not close the underlying writer. Every
// later call on the Writer returns an error.
func (w *Writer) Close(t *myelinpb.Trailer) error {
	if err := w.check("Close"); err != nil {
		return err
	}
	if t == nil {
		t = &myelinpb.Trailer{}
	} else {
		t = proto.CloneOf(t)
	}
	t.TotalSpikes = w.totalSpikes
	if len(w.popSpikes) > 0 {
		t.PopulationSpikes = append([]uint64(nil), w.popSpikes...)
	}
	rec := &myelinpb.Record{Kind: &myelinpb.Record_Trailer{Trailer: t}}
	if err := w.writeMessage(rec); err != nil {
		return fmt.Errorf("stream: Close: %w", err)
	}
	w.closed = true
	return w.Flush()
}

// writeMessage frames and writes one record (see AppendRecord).
func (w *Writer) writeMessage(rec *myelinpb.Record) error {
	p, err := AppendRecord(w.buf[:0], rec, w.version)
	if err != nil {
		return err
	}
	w.buf = p
	return w.write(p)
}

// write writes p to the buffered writer and makes a failure sticky.
func (w *Writer) write(p []byte) error {
	if _, err := w.bw.Write(p); err != nil {
		w.err = fmt.Errorf("stream: write: %w", err)
		return w.err
	}
	return nil
}
