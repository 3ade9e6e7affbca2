package stream

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	myelinpb "github.com/myelin-sim/myelin/proto"
)

// RecordInfo is what ScanRecord learns of a framed record without decoding
// it into messages: enough to route, count and drop records (the live
// server's work).
type RecordInfo struct {
	// Kind is the record's kind (FieldHeader … FieldWeights), or 0 for an
	// empty record or a kind this package does not know.
	Kind protowire.Number
	// Msg is the kind's sub-message (a SpikeBlock, Gap, …) inside the
	// framed bytes.
	Msg []byte
	// First and End are the steps [First, End) of a spike block or gap.
	First, End uint64
	// Spikes is the number of spikes a spike block holds or a gap misses.
	Spikes uint64
}

// ScanRecord reads the kind of the framed record data (length prefix and
// message) and, for spike blocks and gaps, their steps and spikes. A record
// it cannot read is an error; a kind it does not know is not.
func ScanRecord(data []byte) (RecordInfo, error) {
	var info RecordInfo
	_, n := protowire.ConsumeVarint(data)
	if n < 0 {
		return info, fmt.Errorf("bad length prefix: %w", protowire.ParseError(n))
	}
	body := data[n:]
	if len(body) == 0 {
		return info, nil
	}
	num, typ, tn := protowire.ConsumeTag(body)
	if tn < 0 {
		return info, fmt.Errorf("bad record: %w", protowire.ParseError(tn))
	}
	if typ != protowire.BytesType || num < FieldHeader || num > FieldWeights {
		return info, nil
	}
	msg, mn := protowire.ConsumeBytes(body[tn:])
	if mn < 0 {
		return info, fmt.Errorf("bad record: %w", protowire.ParseError(mn))
	}
	info.Kind, info.Msg = num, msg
	var err error
	switch num {
	case FieldSpikes:
		err = info.scanSpikes()
	case FieldGap:
		err = info.scanGap()
	}
	if err != nil {
		return RecordInfo{}, err
	}
	return info, nil
}

// scanSpikes reads a spike block's first step, number of steps and number
// of spikes without decoding its ids.
func (r *RecordInfo) scanSpikes() error {
	var first, steps, spikes uint64
	err := eachField(r.Msg, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == FieldSpikeFirstStep && typ == protowire.VarintType:
			first = x
		case num == FieldSpikeCounts && typ == protowire.BytesType:
			for len(v) > 0 {
				c, n := protowire.ConsumeVarint(v)
				if n < 0 {
					return protowire.ParseError(n)
				}
				steps++
				spikes += c
				v = v[n:]
			}
		case num == FieldSpikeCounts && typ == protowire.VarintType:
			steps++
			spikes += x
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bad spike block: %w", err)
	}
	r.First, r.End, r.Spikes = first, first+steps, spikes
	return nil
}

// scanGap reads a gap's steps and missed spikes.
func (r *RecordInfo) scanGap() error {
	err := eachField(r.Msg, func(num protowire.Number, typ protowire.Type, _ []byte, x uint64) error {
		if typ != protowire.VarintType {
			return nil
		}
		switch num {
		case FieldGapFirstStep:
			r.First = x
		case FieldGapLastStep:
			r.End = x
		case FieldGapMissed:
			r.Spikes = x
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

// CountSpikes returns the spikes of a SpikeBlock message (RecordInfo.Msg)
// per header population of pi; ids outside every population are not
// counted. It walks the delta-coded ids without decoding the block into
// slices when the block is encoded as a Writer encodes it.
func CountSpikes(msg []byte, pi *PopIndex) ([]uint64, error) {
	counter := pi.Counter()
	if pi.Len() == 0 {
		return counter.Counts(), nil
	}
	var counts, ids [][]byte
	simple := true
	err := eachField(msg, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch {
		case num == FieldSpikeCounts && typ == protowire.BytesType:
			counts = append(counts, v)
		case num == FieldSpikeIDs && typ == protowire.BytesType:
			ids = append(ids, v)
		case num == FieldSpikeCounts || num == FieldSpikeIDs:
			simple = false
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bad spike block: %w", err)
	}
	if !simple || len(counts) > 1 || len(ids) > 1 {
		// Not as a Writer writes it: let protobuf decode it.
		var b myelinpb.SpikeBlock
		if err := proto.Unmarshal(msg, &b); err != nil {
			return nil, fmt.Errorf("bad spike block: %w", err)
		}
		_, all, err := DecodeSpikes(&b)
		if err != nil {
			return nil, err
		}
		for _, id := range all {
			counter.Add(id)
		}
		return counter.Counts(), nil
	}
	var cv, iv []byte
	if len(counts) == 1 {
		cv = counts[0]
	}
	if len(ids) == 1 {
		iv = ids[0]
	}
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
			counter.Add(id)
		}
	}
	return counter.Counts(), nil
}
