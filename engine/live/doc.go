// Package live serves a Myelin stream live, over TCP or Unix sockets, to
// subscribers while the run goes on.
//
// A Server is an io.Writer: give it to sim.Options.Out (alone, or beside a
// file through io.MultiWriter) and it receives the length-delimited records
// that stream.Writer writes; a filtered server is fed through StreamWriter
// instead (see Filters). It re-frames the bytes it is given by their
// varint length prefixes, so it forwards whole records however the writer
// chunks them, and passes every record to every subscriber in order. A
// subscriber is anything that connects and reads: `nc HOST PORT > run.myelin`,
// stream.NewReader on a net.Conn (see Dial), or the Python reader's
// read_stream("tcp://HOST:PORT"). Subscribers send nothing, except the
// token line when the listener requires one (ListenOptions.Token, DialToken,
// `myelin run --listen-token`): a connection without the right token is
// closed before it is sent anything. At most 32 connections
// (MaxPendingAuth) may be presenting a token at once, each for at most
// ListenOptions.AuthTimeout (2 s); a newcomer beyond them displaces the
// one that has waited longest, so that idle connections cannot keep out a
// client that sends its token.
//
// At most Options.MaxSubscribers (DefaultMaxSubscribers, 256, unless set;
// at most MaxSubscribersCeiling; `myelin run --listen-max`) subscribers are
// served at once, over all of a Server's listeners, since each holds a
// 64 KiB write buffer, a queue and a goroutine: a connection beyond them
// (with a token: once it has presented it) is closed at once, before it is
// sent anything or anything is allocated for it, and counted in
// Stats.Refused; it reads an empty stream. A subscriber that leaves gives
// its place up: once the stream has begun, as soon as a write finds its
// connection closed; before, when every place is taken and someone else
// connects, a client that hung up (as WaitSubscribers sees it) is
// disconnected to make room. WaitSubscribers refuses to wait for more than
// MaxSubscribers. Without a token, anyone who can connect can take every
// place: use a token where others can reach the address.
// Refused connections are logged at most once every 2 s, with a count.
//
// # What a subscriber receives
//
// Every subscriber receives a valid stream: the header first, then the
// records in the order they were written, then the trailer, after which the
// server closes the connection. In particular:
//
//   - A subscriber that connects before the header is written (see
//     Server.WaitSubscribers; `myelin run --wait N`, which counts the
//     subscribers still connected, not a client that connected and hung
//     up) receives the whole stream.
//   - A subscriber that connects later receives the header, then a Gap record
//     covering steps [0, s) and the spikes it missed, where s is the end of
//     the last spike block written before it joined, then every record from
//     its join point on. State samples before s are not sent to it.
//   - A subscriber that connects after the trailer is refused: the server
//     stops listening once the stream is complete.
//
// # Backpressure
//
// Each subscriber has a bounded queue (ListenOptions.Queue records, at
// most MaxQueue) emptied by its own goroutine. What happens when it is
// full is the listener's Policy:
//
//   - Block (the default): the writer, and so the run, waits until the
//     subscriber has taken a record. A slow subscriber slows the run and
//     misses nothing, but one that takes nothing for
//     ListenOptions.StallTimeout (5 s) is cut off (its stream ends without
//     a trailer), so that one idle or stuck subscriber cannot freeze the
//     run; the others are unaffected. The stall timeouts of subscribers
//     that stall together run at once: N idle subscribers hold the run up
//     for one StallTimeout, not N.
//   - Drop: a spike block that finds the queue full is dropped for that
//     subscriber, and consecutive dropped blocks are merged into one Gap
//     record (first_step, last_step, missed_spikes) that the subscriber
//     receives in-band before the next record it gets. Header, state blocks,
//     gaps and the trailer are never dropped: for them the writer waits as in
//     Block mode, but for at most ListenOptions.StallTimeout (5 s), after
//     which the subscriber is disconnected, so that a stuck subscriber cannot
//     stop a run it must not slow down. So, for every subscriber, spikes
//     received plus the missed_spikes of its gaps equals the spikes written:
//     no spike is lost silently (a disconnected subscriber sees its stream
//     end without a trailer).
//
// A subscriber's trailer counts the spikes of its own stream: total_spikes
// and population_spikes are the ones the trailer as written says, less what
// the subscriber missed, so the stream passes stream.ReadAll's checks.
//
// A subscriber that disconnects, or whose connection fails, is dropped from
// the server; the run goes on. At the end of the stream (End, or Close,
// which waits), each subscriber is left to take what is queued for it; one
// that takes nothing for its StallTimeout is cut off, so that a stalled
// subscriber holds up the end of a run for at most that long. Abort
// disconnects everyone at once (for an interrupted run whose subscribers
// may be stuck, or Ctrl-C while Close waits).
//
// # Filters
//
// A Filter (Options.Filter) restricts what the sockets serve to some
// populations or neuron ranges, e.g. "E@0:100,I". A filtered server is fed
// through StreamWriter, whose stream.Writer drops the unselected ids from
// each block before encoding it (stream.Writer.Select): a filtered stream is
// never decoded and encoded again. Blocks keep their steps (a step without a
// selected spike has count 0); populations without a selected neuron are
// marked recorded = false in the served header; state blocks of series in
// other populations are not served; the trailer counts the spikes served. A
// file written beside the server (sim.Outputs, `myelin run --out`) has its
// own Writer and is not filtered.
//
// A filtered stream says so in its header, in a field every reader already
// has: the spec's recording.spikes lists the filter's selections, e.g.
// ["E@79:1", "I"] (a population name has no '@'). The populations keep
// their sizes and ids, so that ids, state series, weights and decoders stay
// right, but a rate computed from a population's size over the spikes of
// some of its neurons is low: PartialPopulations finds such populations,
// and `myelin analyze` warns about them.
//
// # Addresses
//
// An address is HOST:PORT (":PORT" listens on every interface; port 0 picks
// a free port, see Server.Addrs), tcp://HOST:PORT, or unix:PATH for a Unix
// domain socket. IsLoopback tells whether an address is reachable only from
// this machine (`myelin run` warns when it is not). A failed Accept (too
// many open files) does not stop a listener: it backs off (5 ms doubling to
// 1 s) and tries again. A stale Unix socket file left by a finished server is
// replaced; any other existing file is an error.
package live
