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
// A Writer encodes spike blocks by hand (protowire) into a reused buffer; the
// bytes are identical to deterministic proto.Marshal of the same record, so
// two runs of one spec give byte-identical header and spike records on any
// backend. A Reader checks the framing, the header and the format version;
// its errors name the index and byte offset of the bad record (*Error).
// ReadAll loads a whole stream into memory as a Result.
package stream
