package live

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// Record kinds and fields: the wire format is engine/stream's.
const (
	kindUnknown    protowire.Number = 0
	kindHeader                      = stream.FieldHeader
	kindSpikes                      = stream.FieldSpikes
	kindState                       = stream.FieldState
	kindTrailer                     = stream.FieldTrailer
	kindGap                         = stream.FieldGap
	spikeFirstStep                  = stream.FieldSpikeFirstStep
	spikeCounts                     = stream.FieldSpikeCounts
	spikeIDs                        = stream.FieldSpikeIDs
	gapFirstStep                    = stream.FieldGapFirstStep
	gapLastStep                     = stream.FieldGapLastStep
	gapMissed                       = stream.FieldGapMissed
)

// record is one framed record of the stream. Once dispatched it is shared,
// read-only, by every subscriber.
type record struct {
	kind protowire.Number
	data []byte // length prefix and message
	msg  []byte // the kind's sub-message (a SpikeBlock, Gap, ...)
	// Spike blocks and gaps: steps [first, end) and the spikes the block
	// holds (or the gap misses).
	first, end uint64
	spikes     uint64
	// pops holds the block's spikes per header population, once computed
	// (by the writer's goroutine only; see Server.popCounts).
	pops []uint64
}

// errIncomplete says that a buffer ends inside a record.
var errIncomplete = stream.ErrIncomplete

// frameLen is stream.FrameLen.
func frameLen(p []byte) (int, error) { return stream.FrameLen(p) }

// parseRecord reads the kind, and for spike blocks and gaps the steps and
// spikes, of the framed record data. A record it cannot read is an error.
func parseRecord(data []byte) (*record, error) {
	_, n := protowire.ConsumeVarint(data)
	if n < 0 {
		return nil, fmt.Errorf("bad length prefix: %w", protowire.ParseError(n))
	}
	r := &record{data: data}
	body := data[n:]
	if len(body) == 0 {
		return r, nil // an empty Record: forwarded as it is
	}
	num, typ, tn := protowire.ConsumeTag(body)
	if tn < 0 {
		return nil, fmt.Errorf("bad record: %w", protowire.ParseError(tn))
	}
	if typ != protowire.BytesType || num < kindHeader || num > kindGap {
		return r, nil // not a kind this package knows: forwarded as it is
	}
	msg, mn := protowire.ConsumeBytes(body[tn:])
	if mn < 0 {
		return nil, fmt.Errorf("bad record: %w", protowire.ParseError(mn))
	}
	r.kind, r.msg = num, msg
	var err error
	switch num {
	case kindSpikes:
		err = r.scanSpikes()
	case kindGap:
		err = r.scanGap()
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// scanSpikes reads a spike block's first step, number of steps and number
// of spikes without decoding its ids.
func (r *record) scanSpikes() error {
	var first, steps, spikes uint64
	err := eachField(r.msg, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == spikeFirstStep && typ == protowire.VarintType:
			first = x
		case num == spikeCounts && typ == protowire.BytesType:
			for len(v) > 0 {
				c, n := protowire.ConsumeVarint(v)
				if n < 0 {
					return protowire.ParseError(n)
				}
				steps++
				spikes += c
				v = v[n:]
			}
		case num == spikeCounts && typ == protowire.VarintType:
			steps++
			spikes += x
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bad spike block: %w", err)
	}
	r.first, r.end, r.spikes = first, first+steps, spikes
	return nil
}

// scanGap reads a gap's steps and missed spikes.
func (r *record) scanGap() error {
	err := eachField(r.msg, func(num protowire.Number, typ protowire.Type, _ []byte, x uint64) error {
		if typ != protowire.VarintType {
			return nil
		}
		switch num {
		case gapFirstStep:
			r.first = x
		case gapLastStep:
			r.end = x
		case gapMissed:
			r.spikes = x
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bad gap: %w", err)
	}
	return nil
}

// eachField calls f for every field of a flat message: v is the payload of
// a length-delimited field, x the value of a varint field.
func eachField(msg []byte, f func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return protowire.ParseError(n)
		}
		msg = msg[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(msg)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(msg)
		default:
			n = protowire.ConsumeFieldValue(num, typ, msg)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		msg = msg[n:]
		if err := f(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
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

// countSpikes returns a spike block's spikes per header population (ids
// outside every population are not counted).
func (pr *popRanges) countSpikes(msg []byte) ([]uint64, error) {
	out := make([]uint64, pr.n)
	if pr.n == 0 {
		return out, nil
	}
	var counts, ids [][]byte
	simple := true
	err := eachField(msg, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch {
		case num == spikeCounts && typ == protowire.BytesType:
			counts = append(counts, v)
		case num == spikeIDs && typ == protowire.BytesType:
			ids = append(ids, v)
		case num == spikeCounts || num == spikeIDs:
			simple = false
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bad spike block: %w", err)
	}
	if !simple || len(counts) > 1 || len(ids) > 1 {
		// Not as stream.Writer writes it: let protobuf decode it.
		return pr.countSlow(msg, out)
	}
	var cv, iv []byte
	if len(counts) == 1 {
		cv = counts[0]
	}
	if len(ids) == 1 {
		iv = ids[0]
	}
	counter := pr.idx.Counter()
	for len(cv) > 0 {
		c, n := protowire.ConsumeVarint(cv)
		if n < 0 {
			return nil, fmt.Errorf("bad spike block: %w", protowire.ParseError(n))
		}
		cv = cv[n:]
		var id uint32
		for j := uint64(0); j < c; j++ {
			var d uint64
			if len(iv) > 0 && iv[0] < 0x80 {
				d, iv = uint64(iv[0]), iv[1:]
			} else {
				d, n = protowire.ConsumeVarint(iv)
				if n < 0 {
					return nil, fmt.Errorf("bad spike block: ids: %w", protowire.ParseError(n))
				}
				iv = iv[n:]
			}
			id += uint32(d)
			counter.Add(id) // an id outside every population is not counted
		}
	}
	copy(out, counter.Counts())
	return out, nil
}

// countSlow is countSpikes through protobuf and stream.DecodeSpikes.
func (pr *popRanges) countSlow(msg []byte, out []uint64) ([]uint64, error) {
	var b myelinpb.SpikeBlock
	if err := proto.Unmarshal(msg, &b); err != nil {
		return nil, fmt.Errorf("bad spike block: %w", err)
	}
	_, ids, err := stream.DecodeSpikes(&b)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if k := pr.idx.Find(id); k >= 0 {
			out[k]++
		}
	}
	return out, nil
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
