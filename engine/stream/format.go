package stream

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	myelinpb "github.com/myelin-sim/myelin/proto"
)

// FormatVersion is the stream format version this package writes. It
// changes whenever a reader of the previous version would misread or reject
// a stream of the new one. Version 2 added a CRC-32C checksum to every
// record (Record.crc32c); version 1 streams carry none.
const FormatVersion = 2

// OldestFormatVersion is the oldest format version a Reader still reads.
const OldestFormatVersion = 1

// WeightsFormatVersion is the format version of streams that carry Weights
// records (runs with STDP): readers of version 2 refuse such a stream with
// a version error rather than misread it, and from this version on a
// reader skips records of kinds it does not know.
const WeightsFormatVersion = 3

// NewestFormatVersion is the newest format version a Reader reads.
const NewestFormatVersion = WeightsFormatVersion

// MaxWeightsPerRecord is the most synapses a Weights record holds; a
// Writer splits larger sets into consecutive records.
const MaxWeightsPerRecord = 1 << 20

// MaxRecordBytes is the largest record, in bytes of its message, that a
// Writer writes and a Reader accepts. A length prefix above it is taken for
// corruption.
const MaxRecordBytes = 1 << 30

// MaxNeurons is the most neurons a stream's header may describe (the sum
// of its population sizes). Readers never allocate per claimed neuron; the
// ceiling keeps counts within int32 on every platform.
const MaxNeurons = 1 << 31

// Field numbers of the stream messages in proto/myelin.proto. They are
// what the hand encoders here and the live server's record scanner rely
// on; TestFieldNumbers checks them against the generated code.
const (
	// Record oneof kinds.
	FieldHeader  protowire.Number = 1 // Record.header
	FieldSpikes  protowire.Number = 2 // Record.spikes
	FieldState   protowire.Number = 3 // Record.state
	FieldTrailer protowire.Number = 4 // Record.trailer
	FieldGap     protowire.Number = 5 // Record.gap
	FieldWeights protowire.Number = 6 // Record.weights
	// FieldCRC is Record.crc32c, the last field of every version-2 record.
	FieldCRC protowire.Number = 15

	// SpikeBlock fields.
	FieldSpikeFirstStep protowire.Number = 1
	FieldSpikeCounts    protowire.Number = 2
	FieldSpikeIDs       protowire.Number = 3

	// Gap fields.
	FieldGapFirstStep protowire.Number = 1
	FieldGapLastStep  protowire.Number = 2
	FieldGapMissed    protowire.Number = 3
)

// crcTag is the one-byte tag of Record.crc32c (field 15, fixed32).
const crcTag = byte(FieldCRC)<<3 | byte(protowire.Fixed32Type)

// CRCSize is the number of bytes the checksum field adds to a record: its
// one-byte tag and the four little-endian bytes of the CRC.
const CRCSize = 5

// castagnoli is the CRC-32C table; it is read-only after package init.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Checksum returns the CRC-32C (Castagnoli) of p, as version-2 records
// carry it over their message bytes before the checksum field.
func Checksum(p []byte) uint32 { return crc32.Checksum(p, castagnoli) }

// appendCRC appends the checksum field for the message bytes msg.
func appendCRC(dst, msg []byte) []byte {
	return binary.LittleEndian.AppendUint32(append(dst, crcTag), Checksum(msg))
}

// ErrIncomplete is FrameLen's answer for a buffer that ends inside a record.
var ErrIncomplete = errors.New("incomplete record")

// MaxPrefix is the longest varint length prefix.
const MaxPrefix = 10

// FrameLen returns the length of the framed record that starts p (length
// prefix and message). It returns ErrIncomplete, with the full length when
// the prefix is complete, when p holds only part of the record, and an
// error when the prefix is not a valid length.
func FrameLen(p []byte) (int, error) {
	var n uint64
	for i := 0; i < MaxPrefix; i++ {
		if i == len(p) {
			return 0, ErrIncomplete
		}
		b := p[i]
		if i == MaxPrefix-1 && b > 1 {
			return 0, errors.New("length prefix overflows 64 bits")
		}
		n |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			if n > MaxRecordBytes {
				return 0, fmt.Errorf("record length %d is over the %d-byte limit", n, MaxRecordBytes)
			}
			total := i + 1 + int(n)
			if total > len(p) {
				return total, ErrIncomplete
			}
			return total, nil
		}
	}
	return 0, errors.New("length prefix longer than 10 bytes")
}

// marshalOpts is the deterministic marshalling every record uses.
var marshalOpts = proto.MarshalOptions{Deterministic: true}

// AppendRecord appends rec to dst framed as a record of the given format
// version: the varint length, the deterministic encoding of rec and, from
// version 2 on, the checksum field. rec.Crc32C must be unset. The bytes
// equal protodelim's framing of rec with Crc32C set to the checksum.
func AppendRecord(dst []byte, rec *myelinpb.Record, version uint32) ([]byte, error) {
	if rec.GetCrc32C() != 0 {
		return dst, errors.New("stream: AppendRecord: record already carries a checksum")
	}
	size := marshalOpts.Size(rec)
	total := size
	if version >= 2 {
		total += CRCSize
	}
	if total > MaxRecordBytes {
		return dst, fmt.Errorf("record of %d bytes is more than the %d-byte limit", total, MaxRecordBytes)
	}
	dst = protowire.AppendVarint(dst, uint64(total))
	start := len(dst)
	dst, err := marshalOpts.MarshalAppend(dst, rec)
	if err != nil {
		return dst[:start], fmt.Errorf("marshal: %w", err)
	}
	if version >= 2 {
		dst = appendCRC(dst, dst[start:])
	}
	return dst, nil
}

// verifyCRC checks the checksum field at the end of a version-2 record's
// message and returns the message without it.
func verifyCRC(body []byte) ([]byte, error) {
	n := len(body) - CRCSize
	if n < 0 || body[n] != crcTag {
		return nil, fmt.Errorf("%w: record carries no checksum (format version 2 puts one at the end of every record)", ErrChecksum)
	}
	want := binary.LittleEndian.Uint32(body[n+1:])
	if got := Checksum(body[:n]); got != want {
		return nil, fmt.Errorf("%w: CRC-32C of the record is %08x, the record says %08x", ErrChecksum, got, want)
	}
	return body[:n], nil
}
