// Package stream writes and reads Myelin spike streams.
//
// A stream is a sequence of length-delimited protobuf records
// (myelinpb.Record): each record is a varint holding the length of the
// message, then the message bytes, exactly as
// google.golang.org/protobuf/encoding/protodelim and Java's writeDelimitedTo
// frame them. The first record is a Header (format version, spec, seed, dt,
// populations and their global id ranges, state series); then come
// SpikeBlock, StateBlock and Gap records in any mix; the last record is a
// Trailer (status, totals, environment). A stream that ends without a
// trailer was cut short (the writer stopped or is still running); every
// record before the cut is valid.
//
// Steps and times. Step s is the step that advances the simulation from
// s·dt to (s+1)·dt. A spike emitted during step s carries the time
// (s+1)·dt, as NEST stamps its spikes; see Result.PopulationSpikes.
//
// Spike ids inside a SpikeBlock are global neuron ids, strictly ascending
// within each step and delta-coded within the step (first id as is, then the
// difference from the previous id), so a block of dense firing costs one or
// two bytes per spike.
//
// # Checksums (format version 2)
//
// From format version 2 on, every record ends with Record.crc32c: the tag
// byte 0x7d and the little-endian CRC-32C (Castagnoli) of the record's
// message bytes before it (AppendRecord, Checksum). The checksum depends only
// on the record's content, so spike records stay byte-identical between
// backends. Version-1 streams carry no checksums and still read
// (Reader.Checksummed, Result.Checksummed report which kind a stream is).
//
// # What a Reader checks
//
// A Reader is the one validating reader of the project: analyze, export,
// compare and live clients all read through it, and python/myelin_stream.py
// makes the same checks (testdata/corrupt/cases.json runs through both). It
// checks the framing and the checksums; a header with a readable version, a
// dt in [MinDtMs, MaxDtMs], populations that tile the ids from 0
// (NewPopIndex) with at most MaxNeurons neurons and unique names, and valid
// state series (CheckHeader); spike blocks in step order, within
// header.total_steps when it is set, with ascending ids inside the
// populations; state blocks that match their series, on its sampling grid,
// in order; gaps within the run; and a trailer whose totals match the stream
// and that, marked COMPLETE, did all of header.total_steps (steps_done equal
// to it, or 0: not counted). Its memory grows with the bytes it has read,
// never with what a record claims. Errors name the index and byte offset of
// the bad record (*Error).
//
// A Writer encodes spike blocks by hand (protowire) into a reused buffer;
// the bytes are those of deterministic proto.Marshal of the record followed
// by the checksum field, so two runs of one spec give byte-identical header
// and spike records on any backend. ReadAll loads a whole stream into memory
// as a Result. PopIndex is the one id → population lookup of writers,
// readers and the live server.
package stream
