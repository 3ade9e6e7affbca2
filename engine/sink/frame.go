package sink

import (
	"errors"
	"fmt"
	"sort"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// Record kinds: the field numbers of the myelinpb.Record oneof.
const (
	kindUnknown protowire.Number = 0
	kindHeader  protowire.Number = 1
	kindSpikes  protowire.Number = 2
	kindState   protowire.Number = 3
	kindTrailer protowire.Number = 4
	kindGap     protowire.Number = 5
)

// Field numbers inside SpikeBlock and Gap.
const (
	spikeFirstStep protowire.Number = 1
	spikeCounts    protowire.Number = 2
	spikeIDs       protowire.Number = 3
	gapFirstStep   protowire.Number = 1
	gapLastStep    protowire.Number = 2
	gapMissed      protowire.Number = 3
)

// maxPrefix is the longest varint length prefix.
const maxPrefix = 10

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
var errIncomplete = errors.New("incomplete record")

// frameLen returns the length of the record that starts p (prefix and
// message), errIncomplete when p holds only part of it, or an error when
// the prefix is not a valid length.
func frameLen(p []byte) (int, error) {
	var n uint64
	for i := 0; i < maxPrefix; i++ {
		if i == len(p) {
			return 0, errIncomplete
		}
		b := p[i]
		if i == maxPrefix-1 && b > 1 {
			return 0, errors.New("length prefix overflows 64 bits")
		}
		n |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			if n > stream.MaxRecordBytes {
				return 0, fmt.Errorf("record length %d is over the %d-byte limit", n, stream.MaxRecordBytes)
			}
			total := i + 1 + int(n)
			if total > len(p) {
				return total, errIncomplete
			}
			return total, nil
		}
	}
	return 0, errors.New("length prefix longer than 10 bytes")
}

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

// popRanges maps global ids to header populations.
type popRanges struct {
	first, size []uint32 // sorted by first id
	index       []int    // header index of each sorted range
	n           int      // populations in the header
}

// newPopRanges indexes the populations of a header.
func newPopRanges(h *myelinpb.Header) popRanges {
	pops := h.GetPopulations()
	pr := popRanges{n: len(pops)}
	order := make([]int, len(pops))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return pops[order[a]].GetFirstId() < pops[order[b]].GetFirstId() })
	for _, i := range order {
		pr.first = append(pr.first, pops[i].GetFirstId())
		pr.size = append(pr.size, pops[i].GetSize())
		pr.index = append(pr.index, i)
	}
	return pr
}

// find returns the sorted range holding id, or -1.
func (pr *popRanges) find(id uint32) int {
	k := sort.Search(len(pr.first), func(k int) bool { return pr.first[k] > id }) - 1
	if k >= 0 && id-pr.first[k] < pr.size[k] {
		return k
	}
	return -1
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
	cur, curFirst, curSize := -1, uint32(0), uint32(0)
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
			if id-curFirst >= curSize {
				if cur = pr.find(id); cur < 0 {
					curFirst, curSize = 0, 0
					continue
				}
				curFirst, curSize = pr.first[cur], pr.size[cur]
			}
			out[pr.index[cur]]++
		}
	}
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
		if k := pr.find(id); k >= 0 {
			out[pr.index[k]]++
		}
	}
	return out, nil
}

// marshalOpts encodes the records this package makes, as stream.Writer
// does.
var marshalOpts = proto.MarshalOptions{Deterministic: true}

// encodeRecord frames a record made by this package (a gap, a subscriber's
// trailer).
func encodeRecord(rec *myelinpb.Record) (*record, error) {
	size := marshalOpts.Size(rec)
	data := protowire.AppendVarint(make([]byte, 0, size+maxPrefix), uint64(size))
	data, err := marshalOpts.MarshalAppend(data, rec)
	if err != nil {
		return nil, err
	}
	return parseRecord(data)
}

// gapRecord makes the Gap record of steps [first, end) that missed spikes.
func gapRecord(first, end, missed uint64) *record {
	r, err := encodeRecord(&myelinpb.Record{Kind: &myelinpb.Record_Gap{Gap: &myelinpb.Gap{
		FirstStep: first, LastStep: end, MissedSpikes: missed,
	}}})
	if err != nil {
		panic(fmt.Sprintf("sink: encoding a gap: %v", err)) // cannot happen: a Gap of three integers
	}
	return r
}
