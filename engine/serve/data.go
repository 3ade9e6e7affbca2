package serve

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Sizes of the pieces of a chunks: the first is small (most runs record
// little), each next one twice the last, up to maxChunk.
const (
	minChunk = 4 << 10
	maxChunk = 1 << 20
)

// chunks is a byte sequence held in pieces, so that it grows without
// copying what it holds and with at most one piece not yet filled.
type chunks struct {
	bufs [][]byte
	n    int // bytes held
}

// room returns the last piece, with at least k bytes free (k <= minChunk).
func (c *chunks) room(k int) *[]byte {
	if len(c.bufs) > 0 {
		if last := &c.bufs[len(c.bufs)-1]; cap(*last)-len(*last) >= k {
			return last
		}
	}
	size := minChunk
	if len(c.bufs) > 0 {
		size = min(2*cap(c.bufs[len(c.bufs)-1]), maxChunk)
	}
	c.bufs = append(c.bufs, make([]byte, 0, size))
	return &c.bufs[len(c.bufs)-1]
}

// appendVarint appends v as a varint.
func (c *chunks) appendVarint(v uint64) {
	b := c.room(protowire.SizeVarint(v))
	k := len(*b)
	*b = protowire.AppendVarint(*b, v)
	c.n += len(*b) - k
}

// appendFixed32 appends v as a little-endian fixed32.
func (c *chunks) appendFixed32(v uint32) {
	b := c.room(4)
	*b = binary.LittleEndian.AppendUint32(*b, v)
	c.n += 4
}

// writeTo writes the bytes held to w.
func (c *chunks) writeTo(w io.Writer) error {
	for _, b := range c.bufs {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// encodedData is a myelin.v1.Data message whose spikes and samples are held
// as they encode: the spike steps and ids as its packed varint fields, each
// state series' values as packed fixed32. The engine keeps the data it has
// not handed out in this form, so that it holds what the reply that will
// carry them takes and no more (not arrays of 12 bytes a spike and then an
// encoded copy), and Serve writes them into the reply as they are.
type encodedData struct {
	first, end uint64
	steps, ids chunks
	// samples holds one entry per state series (its index is the
	// series'); those with n == 0 are left out of the message.
	samples []encodedSamples
}

// encodedSamples is a myelin.v1.Samples message held as it encodes.
type encodedSamples struct {
	first  uint64
	n      uint32
	values chunks
}

// payload is the size of the spikes and sample values: what
// RunOptions.MaxReplyBytes bounds.
func (d *encodedData) payload() uint64 {
	n := d.steps.n + d.ids.n
	for i := range d.samples {
		n += d.samples[i].values.n
	}
	return uint64(n)
}

// varintField is the encoded size of a varint field (0: left out, as
// proto3 leaves out zeros).
func varintField(num protowire.Number, v uint64) int {
	if v == 0 {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeVarint(v)
}

// packedField is the encoded size of a packed field of n bytes (0: left
// out when empty).
func packedField(num protowire.Number, n int) int {
	if n == 0 {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeBytes(n)
}

// size is the encoded size of a Samples message.
func (s *encodedSamples) size(series uint32) int {
	return varintField(1, uint64(series)) + varintField(2, s.first) + varintField(3, uint64(s.n)) + packedField(4, s.values.n)
}

// size is the encoded size of the Data message.
func (d *encodedData) size() int {
	n := varintField(1, d.first) + varintField(2, d.end) + packedField(3, d.steps.n) + packedField(4, d.ids.n)
	for i := range d.samples {
		if s := &d.samples[i]; s.n > 0 {
			n += protowire.SizeTag(5) + protowire.SizeBytes(s.size(uint32(i)))
		}
	}
	return n
}

// appendVarintField appends a varint field, unless v is 0.
func appendVarintField(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), v)
}

// appendLen appends the tag and length of a length-delimited field.
func appendLen(b []byte, num protowire.Number, n int) []byte {
	return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.BytesType), uint64(n))
}

// writeTo writes the Data message (size() bytes, without a length prefix)
// to w, its fields in the order and form that proto.Marshal gives them.
func (d *encodedData) writeTo(w io.Writer) error {
	head := appendVarintField(nil, 1, d.first)
	head = appendVarintField(head, 2, d.end)
	packed := func(num protowire.Number, c *chunks) error {
		if c.n == 0 {
			return nil
		}
		if _, err := w.Write(appendLen(head[:0], num, c.n)); err != nil {
			return err
		}
		return c.writeTo(w)
	}
	if _, err := w.Write(head); err != nil {
		return err
	}
	if err := packed(3, &d.steps); err != nil {
		return err
	}
	if err := packed(4, &d.ids); err != nil {
		return err
	}
	for i := range d.samples {
		s := &d.samples[i]
		if s.n == 0 {
			continue
		}
		head = appendLen(head[:0], 5, s.size(uint32(i)))
		head = appendVarintField(head, 1, uint64(i))
		head = appendVarintField(head, 2, s.first)
		head = appendVarintField(head, 3, uint64(s.n))
		if _, err := w.Write(head); err != nil {
			return err
		}
		if err := packed(4, &s.values); err != nil {
			return err
		}
	}
	return nil
}

// decode returns the Data message, decoded.
func (d *encodedData) decode() (*myelinpb.Data, error) {
	var buf bytes.Buffer
	buf.Grow(d.size())
	if err := d.writeTo(&buf); err != nil {
		return nil, err
	}
	out := &myelinpb.Data{}
	if err := proto.Unmarshal(buf.Bytes(), out); err != nil {
		return nil, fmt.Errorf("recorded data: %w", err)
	}
	return out, nil
}

// addSpike appends a spike.
func (d *encodedData) addSpike(step uint64, id uint32) {
	d.steps.appendVarint(step)
	d.ids.appendVarint(uint64(id))
}

// addRows appends sampled rows (values, row-major) to series i, the first
// taken after step first if the series holds none yet.
func (d *encodedData) addRows(i int, first uint64, rows int, values []float32) {
	s := &d.samples[i]
	if s.n == 0 {
		s.first = first
	}
	s.n += uint32(rows)
	for _, v := range values {
		s.values.appendFixed32(math.Float32bits(v))
	}
}

// writeReply writes rep as one length-delimited message. data, when not
// nil, are the reply's recorded data, written as they are held: as its
// Data (rep's kind is then Data, its value ignored) or as its Ran's data
// (rep's Ran has none of its own). Fields may come in any order in a
// protobuf message, so the Ran's data go after its other fields.
func writeReply(w io.Writer, rep *myelinpb.Reply, data *encodedData) error {
	if data == nil {
		_, err := protodelim.MarshalTo(w, rep)
		return err
	}
	frame, err := proto.Marshal(&myelinpb.Reply{Id: rep.GetId(), Error: rep.GetError()})
	if err != nil {
		return fmt.Errorf("reply: %w", err)
	}
	dataLen := data.size()
	switch k := rep.GetKind().(type) {
	case *myelinpb.Reply_Data:
		frame = appendLen(frame, 12, dataLen)
	case *myelinpb.Reply_Ran:
		if k.Ran.GetData() != nil {
			return errors.New("reply: a Ran with data of its own and recorded data besides")
		}
		ran, err := proto.Marshal(k.Ran)
		if err != nil {
			return fmt.Errorf("reply: %w", err)
		}
		frame = appendLen(frame, 11, len(ran)+protowire.SizeTag(6)+protowire.SizeBytes(dataLen))
		frame = appendLen(append(frame, ran...), 6, dataLen)
	default:
		return fmt.Errorf("reply: recorded data for a reply of kind %T", k)
	}
	prefix := protowire.AppendVarint(nil, uint64(len(frame)+dataLen))
	if _, err := w.Write(append(prefix, frame...)); err != nil {
		return err
	}
	return data.writeTo(w)
}
