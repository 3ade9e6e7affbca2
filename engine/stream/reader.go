package stream

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"google.golang.org/protobuf/proto"

	myelinpb "github.com/myelin-sim/myelin/proto"
)

// Errors that a Reader's *Error wraps; test for them with errors.Is.
var (
	// ErrNotStream: the input does not start with a Myelin header record.
	ErrNotStream = errors.New("not a Myelin stream")
	// ErrTruncated: the input ends inside a record.
	ErrTruncated = errors.New("truncated")
	// ErrCorrupt: a record cannot be decoded or breaks the format's rules.
	ErrCorrupt = errors.New("corrupt")
	// ErrChecksum: a version-2 record's checksum is missing or does not
	// match its bytes. It wraps ErrCorrupt.
	ErrChecksum = fmt.Errorf("%w: checksum", ErrCorrupt)
	// ErrVersion: the header's format version is not one this reader reads.
	ErrVersion = errors.New("unsupported format version")
)

// Error is a Reader error tied to one record. Index counts records from 0
// (the header); Offset is the byte offset where the record's length prefix
// starts. Every record before it was read successfully.
type Error struct {
	Index  int
	Offset int64
	Err    error
}

// Error formats the error as "stream: record 17 at byte 40213: ...".
func (e *Error) Error() string {
	return fmt.Sprintf("stream: record %d at byte %d: %v", e.Index, e.Offset, e.Err)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// readChunk is the most a Reader allocates ahead of the bytes it has
// actually read, so that a garbage length prefix costs no memory.
const readChunk = 1 << 16

// Reader reads the records of a stream one at a time and checks each one
// against the format's rules before returning it (see the package
// documentation, "What a Reader checks"). Everything it allocates is
// bounded by the bytes it has read, never by what the records claim. A
// Reader is not safe for concurrent use.
type Reader struct {
	br     *bufio.Reader
	off    int64 // bytes consumed
	index  int   // index of the next record
	header *myelinpb.Header
	ended  bool  // a trailer was read
	err    error // sticky: returned by every later Next
	buf    []byte

	version  uint32
	pops     *PopIndex
	counter  *Counter // spikes per population so far
	series   map[uint32]*seriesState
	nextStep uint64 // a spike block may start here or later
	spikes   uint64 // spikes read
	steps    []uint64
	ids      []uint32 // decoded spikes: the last block, from blockAt on
	blockAt  int
	weights  map[[2]string]*weightsSeen // per pair of populations: what its records said so far
	wpairs   [][2]string                // those pairs, in stream order
	// accumulate keeps every block's spikes in steps and ids (ReadAll),
	// so that they are decoded once into their final place.
	accumulate bool
}

// seriesState is what the Reader knows of one state series.
type seriesState struct {
	width int
	every uint64
	next  uint64 // the next sample may be at this step or later
}

// NewReader returns a Reader that reads a stream from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 1<<16)}
}

// Header returns the stream's header once Next has returned it, else nil.
func (r *Reader) Header() *myelinpb.Header { return r.header }

// Populations returns the index of the header's populations once Next has
// returned the header, else nil.
func (r *Reader) Populations() *PopIndex { return r.pops }

// Checksummed reports whether the stream's records carry checksums (format
// version 2 and later). It is false before the header is read.
func (r *Reader) Checksummed() bool { return r.version >= 2 }

// Offset returns the number of bytes consumed: the end of the last record
// read.
func (r *Reader) Offset() int64 { return r.off }

// Spikes returns the spikes of the spike block Next returned last: one
// entry per spike, its step and global neuron id, ordered by step and then
// id. The slices belong to the Reader and change at the next call to Next.
func (r *Reader) Spikes() (steps []uint64, ids []uint32) {
	return r.steps[r.blockAt:], r.ids[r.blockAt:]
}

// Next returns the next record. It returns io.EOF when the input ends
// cleanly after a record (with or without a trailer). The first record must
// be a header of a version from OldestFormatVersion to NewestFormatVersion. Any
// other failure is an *Error that names the bad record's index and byte
// offset; after it, Next returns the same error again.
func (r *Reader) Next() (*myelinpb.Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	if !r.accumulate {
		r.steps, r.ids = r.steps[:0], r.ids[:0]
	}
	r.blockAt = len(r.ids)
	rec, size, err := r.next()
	if err != nil {
		if err != io.EOF {
			err = &Error{Index: r.index, Offset: r.off, Err: err}
		}
		r.err = err
		return nil, err
	}
	r.off += int64(size)
	r.index++
	return rec, nil
}

// next reads and checks one record without advancing r.off and r.index; its
// errors are relative to the record that starts at r.off. It returns the
// record and the bytes it took, prefix included.
func (r *Reader) next() (*myelinpb.Record, int, error) {
	first := r.index == 0
	fail := func(err error) (*myelinpb.Record, int, error) {
		if first && !errors.Is(err, errRead) {
			err = fmt.Errorf("%w (%w)", ErrNotStream, err)
		}
		return nil, 0, err
	}

	// Length prefix.
	var n uint64
	prefix := 0
	for {
		b, err := r.br.ReadByte()
		if err != nil {
			if err != io.EOF {
				return fail(fmt.Errorf("%w: %w", errRead, err))
			}
			if prefix > 0 {
				return fail(fmt.Errorf("%w: input ends inside the length prefix", ErrTruncated))
			}
			if first {
				return fail(errors.New("input is empty"))
			}
			return nil, 0, io.EOF
		}
		if prefix == 9 && b > 1 {
			return fail(fmt.Errorf("%w: length prefix overflows 64 bits", ErrCorrupt))
		}
		n |= uint64(b&0x7f) << (7 * prefix)
		prefix++
		if b < 0x80 {
			break
		}
		if prefix == MaxPrefix {
			return fail(fmt.Errorf("%w: length prefix longer than 10 bytes", ErrCorrupt))
		}
	}
	if n > MaxRecordBytes {
		return fail(fmt.Errorf("%w: record length %d is over the %d-byte limit", ErrCorrupt, n, MaxRecordBytes))
	}

	// Body, read in chunks so that a false length allocates little.
	size := int(n)
	buf := r.buf[:0]
	for len(buf) < size {
		chunk := min(size-len(buf), max(len(buf), readChunk))
		buf = slices.Grow(buf, chunk)
		got, err := io.ReadFull(r.br, buf[len(buf):len(buf)+chunk])
		buf = buf[:len(buf)+got]
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			r.buf = buf
			return fail(fmt.Errorf("%w: need %d bytes, have %d", ErrTruncated, size, len(buf)))
		}
		if err != nil {
			r.buf = buf
			return fail(fmt.Errorf("%w: %w", errRead, err))
		}
	}
	r.buf = buf

	body := buf
	var crcErr error
	switch {
	case first:
		// The version is not known yet: a version-2 header carries a
		// checksum, a version-1 header none.
		if b, err := verifyCRC(buf); err == nil {
			body = b
		} else {
			crcErr = err
		}
	case r.version >= 2:
		b, err := verifyCRC(buf)
		if err != nil {
			return nil, 0, err
		}
		body = b
	}

	rec := &myelinpb.Record{}
	if err := proto.Unmarshal(body, rec); err != nil {
		if first && crcErr != nil && len(buf) >= CRCSize && buf[len(buf)-CRCSize] == crcTag {
			// Most likely a version-2 header with a damaged byte.
			return nil, 0, crcErr
		}
		return fail(fmt.Errorf("%w: %v", ErrCorrupt, err))
	}
	if err := r.checkOrder(rec); err != nil {
		if errors.Is(err, ErrVersion) {
			return nil, 0, err // a Myelin stream, of another version
		}
		return fail(err)
	}
	if first {
		h := rec.GetHeader()
		v := h.GetFormatVersion()
		if v >= 2 && crcErr != nil {
			return nil, 0, crcErr
		}
		pops, err := CheckHeader(h)
		if err != nil {
			return nil, 0, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		r.header, r.version, r.pops, r.counter = h, v, pops, pops.Counter()
		r.series = make(map[uint32]*seriesState, len(h.GetStateSeries()))
		for _, s := range h.GetStateSeries() {
			r.series[s.GetId()] = &seriesState{width: len(s.GetNeuronIds()), every: uint64(max(s.GetEvery(), 1))}
		}
		return rec, prefix + size, nil
	}
	if err := r.check(rec); err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return rec, prefix + size, nil
}

// errRead marks errors of the underlying reader, which say nothing about
// the stream's contents.
var errRead = errors.New("read error")

// checkOrder checks a record's kind against its place in the stream and
// the header's format version.
func (r *Reader) checkOrder(rec *myelinpb.Record) error {
	h, isHeader := rec.GetKind().(*myelinpb.Record_Header)
	switch {
	case rec.GetKind() == nil && (r.index == 0 || r.version < WeightsFormatVersion):
		return fmt.Errorf("%w: record holds no known kind", ErrCorrupt)
	case r.index == 0 && !isHeader:
		return errors.New("first record is not a header")
	case r.index > 0 && isHeader:
		return fmt.Errorf("%w: a second header", ErrCorrupt)
	case r.ended:
		return fmt.Errorf("%w: record after the trailer", ErrCorrupt)
	}
	if isHeader {
		if v := h.Header.GetFormatVersion(); v < OldestFormatVersion || v > NewestFormatVersion {
			return fmt.Errorf("%w: stream has format version %d, this reader reads versions %d to %d", ErrVersion, v, OldestFormatVersion, NewestFormatVersion)
		}
	}
	if _, ok := rec.GetKind().(*myelinpb.Record_Trailer); ok {
		r.ended = true
	}
	return nil
}

// check checks a record after the header against the header and the
// records before it.
func (r *Reader) check(rec *myelinpb.Record) error {
	total := r.header.GetTotalSteps() // 0: not known
	switch k := rec.GetKind().(type) {
	case *myelinpb.Record_Spikes:
		b := k.Spikes
		first, n := b.GetFirstStep(), uint64(len(b.GetCounts()))
		if first < r.nextStep {
			return fmt.Errorf("spike block at step %d overlaps the block or gap before it (ending at step %d)", first, r.nextStep)
		}
		if first > math.MaxUint64-n {
			return fmt.Errorf("spike block at step %d: %d steps pass the uint64 range", first, n)
		}
		if total > 0 && first+n > total {
			return fmt.Errorf("spike block of steps [%d, %d) passes the end of the run (header.total_steps %d)", first, first+n, total)
		}
		var err error
		if r.steps, r.ids, err = appendSpikes(r.steps, r.ids, b); err != nil {
			return err
		}
		block := r.ids[r.blockAt:]
		if r.pops.Len() > 0 {
			for i, id := range block {
				if !r.counter.Add(id) {
					step := r.steps[r.blockAt+i]
					r.steps, r.ids = r.steps[:r.blockAt], r.ids[:r.blockAt]
					return fmt.Errorf("spike block at step %d: step %d: neuron id %d lies in no population of the header (%d neurons)", first, step, id, r.pops.Neurons())
				}
			}
		}
		r.spikes += uint64(len(block))
		r.nextStep = first + n
	case *myelinpb.Record_State:
		b := k.State
		s, ok := r.series[b.GetSeries()]
		if !ok {
			return fmt.Errorf("state block of series %d, which the header does not list", b.GetSeries())
		}
		num := uint64(b.GetNumSamples())
		if want := num * uint64(s.width); uint64(len(b.GetValues())) != want {
			return fmt.Errorf("state block of series %d: %d samples of %d neurons need %d values, it holds %d", b.GetSeries(), num, s.width, want, len(b.GetValues()))
		}
		first := b.GetFirstStep()
		if first%s.every != 0 {
			return fmt.Errorf("state block of series %d starts at step %d, which is not a multiple of its sampling interval %d", b.GetSeries(), first, s.every)
		}
		if first < s.next {
			return fmt.Errorf("state block of series %d at step %d overlaps the block before it (ending at step %d)", b.GetSeries(), first, s.next)
		}
		if num == 0 {
			break
		}
		last := first + (num-1)*s.every
		if last < first || (num-1) > math.MaxUint64/s.every {
			return fmt.Errorf("state block of series %d at step %d: %d samples pass the uint64 range", b.GetSeries(), first, num)
		}
		if total > 0 && last >= total {
			return fmt.Errorf("state block of series %d samples step %d, past the end of the run (header.total_steps %d)", b.GetSeries(), last, total)
		}
		s.next = last + 1
	case *myelinpb.Record_Gap:
		g := k.Gap
		if g.GetLastStep() < g.GetFirstStep() {
			return fmt.Errorf("gap ends at step %d, before its first step %d", g.GetLastStep(), g.GetFirstStep())
		}
		if total > 0 && g.GetLastStep() > total {
			return fmt.Errorf("gap of steps [%d, %d) passes the end of the run (header.total_steps %d)", g.GetFirstStep(), g.GetLastStep(), total)
		}
		r.nextStep = max(r.nextStep, g.GetLastStep())
	case *myelinpb.Record_Weights:
		return r.checkWeights(k.Weights)
	case *myelinpb.Record_Trailer:
		t := k.Trailer
		if err := r.checkWeightsComplete(); err != nil {
			return err
		}
		if got, want := r.spikes, t.GetTotalSpikes(); got != want {
			return fmt.Errorf("trailer counts %d spikes, the stream holds %d", want, got)
		}
		if total > 0 && t.GetStepsDone() > total {
			return fmt.Errorf("trailer says %d steps were done, more than header.total_steps %d", t.GetStepsDone(), total)
		}
		// A complete run did all its steps; 0 is a trailer that does not
		// count them (analyze then takes total_steps).
		if done := t.GetStepsDone(); total > 0 && t.GetStatus() == myelinpb.Trailer_COMPLETE && done != 0 && done < total {
			return fmt.Errorf("trailer.status is COMPLETE but trailer.steps_done %d is less than header.total_steps %d", done, total)
		}
		if ps := t.GetPopulationSpikes(); len(ps) > 0 {
			if len(ps) != r.pops.Len() {
				return fmt.Errorf("trailer counts spikes of %d populations, the header lists %d", len(ps), r.pops.Len())
			}
			for i, n := range r.counter.Counts() {
				if ps[i] != n {
					return fmt.Errorf("trailer counts %d spikes of population %q, the stream holds %d", ps[i], r.header.GetPopulations()[i].GetName(), n)
				}
			}
		}
	}
	return nil
}
