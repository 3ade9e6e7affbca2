package stream

import (
	"bufio"
	"errors"
	"fmt"
	"io"
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
	// ErrVersion: the header's format version is not FormatVersion.
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

// Reader reads the records of a stream one at a time. A Reader is not safe
// for concurrent use.
type Reader struct {
	br     *bufio.Reader
	off    int64 // bytes consumed
	index  int   // index of the next record
	header *myelinpb.Header
	ended  bool  // a trailer was read
	err    error // sticky: returned by every later Next
	buf    []byte

	lastIndex  int   // index of the record last returned
	lastOffset int64 // its offset
}

// NewReader returns a Reader that reads a stream from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 1<<16), lastIndex: -1}
}

// Header returns the stream's header once Next has returned it, else nil.
func (r *Reader) Header() *myelinpb.Header { return r.header }

// Offset returns the number of bytes consumed: the end of the last record
// read.
func (r *Reader) Offset() int64 { return r.off }

// Next returns the next record. It returns io.EOF when the input ends
// cleanly after a record (with or without a trailer). The first record must
// be a header of version FormatVersion. Any other failure is an *Error that
// names the bad record's index and byte offset; after it, Next returns the
// same error again.
func (r *Reader) Next() (*myelinpb.Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	rec, err := r.next()
	if err != nil {
		if err != io.EOF {
			err = &Error{Index: r.index, Offset: r.off, Err: err}
		}
		r.err = err
		return nil, err
	}
	r.lastIndex, r.lastOffset = r.index, r.off
	r.off += int64(rec.size)
	r.index++
	return rec.rec, nil
}

// framed is a decoded record and the bytes it took, prefix included.
type framed struct {
	rec  *myelinpb.Record
	size int
}

// next reads one record without advancing r.off and r.index; its errors
// are relative to the record that starts at r.off.
func (r *Reader) next() (framed, error) {
	first := r.index == 0
	fail := func(err error) (framed, error) {
		if first && !errors.Is(err, errRead) {
			err = fmt.Errorf("%w (%w)", ErrNotStream, err)
		}
		return framed{}, err
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
			return framed{}, io.EOF
		}
		if prefix == 9 && b > 1 {
			return fail(fmt.Errorf("%w: length prefix overflows 64 bits", ErrCorrupt))
		}
		n |= uint64(b&0x7f) << (7 * prefix)
		prefix++
		if b < 0x80 {
			break
		}
		if prefix == 10 {
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

	rec := &myelinpb.Record{}
	if err := proto.Unmarshal(buf, rec); err != nil {
		return fail(fmt.Errorf("%w: %v", ErrCorrupt, err))
	}
	if err := r.checkOrder(rec); err != nil {
		if errors.Is(err, ErrVersion) {
			return framed{}, err // a Myelin stream, of another version
		}
		return fail(err)
	}
	return framed{rec: rec, size: prefix + size}, nil
}

// errRead marks errors of the underlying reader, which say nothing about
// the stream's contents.
var errRead = errors.New("read error")

// checkOrder checks a record's kind against its place in the stream and
// the header's format version.
func (r *Reader) checkOrder(rec *myelinpb.Record) error {
	h, isHeader := rec.GetKind().(*myelinpb.Record_Header)
	switch {
	case rec.GetKind() == nil:
		return fmt.Errorf("%w: record holds no known kind", ErrCorrupt)
	case r.index == 0 && !isHeader:
		return errors.New("first record is not a header")
	case r.index > 0 && isHeader:
		return fmt.Errorf("%w: a second header", ErrCorrupt)
	case r.ended:
		return fmt.Errorf("%w: record after the trailer", ErrCorrupt)
	}
	if isHeader {
		if v := h.Header.GetFormatVersion(); v != FormatVersion {
			return fmt.Errorf("%w: stream has format version %d, this reader reads version %d", ErrVersion, v, FormatVersion)
		}
		r.header = h.Header
	}
	if _, ok := rec.GetKind().(*myelinpb.Record_Trailer); ok {
		r.ended = true
	}
	return nil
}
