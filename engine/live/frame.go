package live

import (
	"fmt"

	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// Record kinds: the wire format is engine/stream's.
const (
	kindHeader  = stream.FieldHeader
	kindSpikes  = stream.FieldSpikes
	kindState   = stream.FieldState
	kindTrailer = stream.FieldTrailer
	kindGap     = stream.FieldGap
)

// record is one framed record of the stream. Once dispatched it is shared,
// read-only, by every subscriber.
type record struct {
	stream.RecordInfo
	data []byte // length prefix and message
	// pops holds the block's spikes per header population, once computed
	// (by the writer's goroutine only; see Server.popCounts).
	pops []uint64
}

// errIncomplete says that a buffer ends inside a record.
var errIncomplete = stream.ErrIncomplete

// frameLen is stream.FrameLen.
func frameLen(p []byte) (int, error) { return stream.FrameLen(p) }

// parseRecord scans the framed record data (stream.ScanRecord).
func parseRecord(data []byte) (*record, error) {
	info, err := stream.ScanRecord(data)
	if err != nil {
		return nil, err
	}
	return &record{RecordInfo: info, data: data}, nil
}

// popRanges counts a stream's spikes per header population with the
// stream's population index.
type popRanges struct {
	idx *stream.PopIndex
	n   int // populations in the header
}

// newPopRanges indexes the populations of a header.
func newPopRanges(h *myelinpb.Header) (popRanges, error) {
	idx, err := stream.NewPopIndex(h)
	if err != nil {
		return popRanges{}, err
	}
	return popRanges{idx: idx, n: idx.Len()}, nil
}

// countSpikes returns a spike block's spikes per header population.
func (pr *popRanges) countSpikes(msg []byte) ([]uint64, error) {
	if pr.idx == nil {
		return nil, fmt.Errorf("spike block before the header")
	}
	return stream.CountSpikes(msg, pr.idx)
}

// encodeRecord frames a record made by this package (a gap, a subscriber's
// trailer) as engine/stream frames records of the given format version.
func encodeRecord(rec *myelinpb.Record, version uint32) (*record, error) {
	data, err := stream.AppendRecord(nil, rec, version)
	if err != nil {
		return nil, err
	}
	return parseRecord(data)
}

// gapRecord makes the Gap record of steps [first, end) that missed spikes.
func gapRecord(first, end, missed uint64, version uint32) *record {
	r, err := encodeRecord(&myelinpb.Record{Kind: &myelinpb.Record_Gap{Gap: &myelinpb.Gap{
		FirstStep: first, LastStep: end, MissedSpikes: missed,
	}}}, version)
	if err != nil {
		panic(fmt.Sprintf("live: encoding a gap: %v", err)) // cannot happen: a Gap of three integers
	}
	return r
}
