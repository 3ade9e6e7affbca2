"""Read Myelin spike streams with protobuf and numpy.

A Myelin stream is a sequence of length-delimited protobuf records
(``myelin.v1.Record`` in proto/myelin.proto): a varint holding the length of
the message, then the message. The first record is a Header, then come
SpikeBlock, StateBlock and Gap records, and the last is a Trailer. A stream
without a trailer was cut short (or the run is still going); every record
before the cut is valid.

    import myelin_stream as ms

    s = ms.read_stream("run.myelin")
    times_ms, ids = s.population_spikes("E")
    v = s.state(1)              # samples x neurons, float32

    live = ms.read_stream("tcp://127.0.0.1:5555")   # a run with --listen

Spike times: step ``s`` advances the simulation from ``s*dt`` to
``(s+1)*dt``; a spike emitted in it has the time ``(s+1)*dt``, as NEST
stamps spikes.

This module mirrors the Go package engine/stream: the same checks, the same
error messages (``record 17 at byte 40213: truncated: need 812 bytes, have
95``). Needs numpy and protobuf >= 3.20 (the generated ``myelin_pb2.py``
lives next to this file).
"""

import os
import socket

import numpy as np

import myelin_pb2

__all__ = [
    "FORMAT_VERSION",
    "MAX_RECORD_BYTES",
    "StreamError",
    "NotAStreamError",
    "TruncatedError",
    "CorruptError",
    "VersionError",
    "Stream",
    "iter_records",
    "read_stream",
    "decode_spikes",
    "connect",
    "is_address",
]

#: The stream format version this reader reads.
FORMAT_VERSION = 1

#: The largest record (bytes of its message) a reader accepts; a larger
#: length prefix is taken for corruption.
MAX_RECORD_BYTES = 1 << 30

_READ_CHUNK = 1 << 16


class StreamError(Exception):
    """A bad record: ``index`` counts records from 0 (the header) and
    ``offset`` is the byte where the record's length prefix starts. Every
    record before it was read. ``partial`` holds what read_stream read before
    the error (a Stream, possibly without a header), or None."""

    kind = "error"

    def __init__(self, index, offset, message):
        self.index = index
        self.offset = offset
        self.message = message
        self.partial = None
        super().__init__("record %d at byte %d: %s" % (index, offset, message))


class NotAStreamError(StreamError):
    """The input does not start with a Myelin header record."""


class TruncatedError(StreamError):
    """The input ends inside a record."""


class CorruptError(StreamError):
    """A record cannot be decoded or breaks the format's rules."""


class VersionError(StreamError):
    """The header's format version is not FORMAT_VERSION."""


# ---- framing ----------------------------------------------------------


class _Truncated(Exception):
    pass


class _Corrupt(Exception):
    pass


def _read_prefix(f):
    """Read a varint length prefix. Returns (length, nbytes) or None at a
    clean end of input."""
    n = 0
    for i in range(10):
        b = f.read(1)
        if not b:
            if i == 0:
                return None
            raise _Truncated("truncated: input ends inside the length prefix")
        b = b[0]
        if i == 9 and b > 1:
            raise _Corrupt("corrupt: length prefix overflows 64 bits")
        n |= (b & 0x7F) << (7 * i)
        if b < 0x80:
            return n, i + 1
    raise _Corrupt("corrupt: length prefix longer than 10 bytes")


def _read_body(f, size):
    """Read size bytes in growing chunks, so that a false length costs
    little memory."""
    parts = []
    have = 0
    while have < size:
        chunk = f.read(min(size - have, max(have, _READ_CHUNK)))
        if not chunk:
            raise _Truncated("truncated: need %d bytes, have %d" % (size, have))
        parts.append(chunk)
        have += len(chunk)
    return b"".join(parts)


def _iter_raw(f):
    """Yield (index, offset, body) for each framed record of binary file f.
    Raises StreamError subclasses for bad framing."""
    offset = 0
    index = 0
    while True:
        try:
            pre = _read_prefix(f)
            if pre is None:
                if index == 0:
                    raise NotAStreamError(0, 0, "not a Myelin stream (input is empty)")
                return
            size, plen = pre
            if size > MAX_RECORD_BYTES:
                raise _Corrupt("corrupt: record length %d is over the %d-byte limit" % (size, MAX_RECORD_BYTES))
            body = _read_body(f, size)
        except _Truncated as e:
            raise _framing_error(TruncatedError, index, offset, str(e)) from None
        except _Corrupt as e:
            raise _framing_error(CorruptError, index, offset, str(e)) from None
        yield index, offset, body
        offset += plen + size
        index += 1


def _framing_error(cls, index, offset, message):
    if index == 0:
        return NotAStreamError(0, offset, "not a Myelin stream (%s)" % message)
    return cls(index, offset, message)


class _Order:
    """Checks each record's kind against its place in the stream."""

    def __init__(self):
        self.ended = False

    def check(self, index, offset, kind, header=None):
        if kind is None:
            err = "corrupt: record holds no known kind"
            if index == 0:
                raise NotAStreamError(index, offset, "not a Myelin stream (%s)" % err)
            raise CorruptError(index, offset, err)
        if index == 0 and kind != "header":
            raise NotAStreamError(index, offset, "not a Myelin stream (first record is not a header)")
        if index > 0 and kind == "header":
            raise CorruptError(index, offset, "corrupt: a second header")
        if self.ended:
            raise CorruptError(index, offset, "corrupt: record after the trailer")
        if kind == "header" and header.format_version != FORMAT_VERSION:
            raise VersionError(
                index,
                offset,
                "unsupported format version: stream has format version %d, this reader reads version %d"
                % (header.format_version, FORMAT_VERSION),
            )
        if kind == "trailer":
            self.ended = True


def _parse_record(index, offset, body):
    rec = myelin_pb2.Record()
    try:
        rec.ParseFromString(body)
    except Exception as e:  # google.protobuf.message.DecodeError and kin
        msg = "corrupt: %s" % (e,)
        if index == 0:
            raise NotAStreamError(index, offset, "not a Myelin stream (%s)" % msg) from None
        raise CorruptError(index, offset, msg) from None
    return rec


def _open(path_or_file):
    if isinstance(path_or_file, str) and is_address(path_or_file):
        return connect(path_or_file), True
    if isinstance(path_or_file, (str, bytes, os.PathLike)):
        return open(path_or_file, "rb"), True
    return path_or_file, False


# ---- live streams -----------------------------------------------------

_TCP_PREFIX = "tcp://"
_UNIX_PREFIX = "unix:"


def is_address(s):
    """True when s names a live stream rather than a file: "tcp://HOST:PORT"
    or "unix:PATH" (as ``myelin run --listen`` prints them)."""
    return s.startswith(_TCP_PREFIX) or s.startswith(_UNIX_PREFIX)


def connect(address, timeout=None):
    """Connect to a run that serves its stream (``myelin run --listen``) and
    return a binary file object to read it from; closing it closes the
    connection.

    address is "tcp://HOST:PORT" or "unix:PATH". timeout (seconds) bounds the
    connection and every read; None waits as long as the run takes. Pass the
    result to read_stream or iter_records, or pass them the address itself.
    When nothing serves there it raises an OSError that names the address:
    ConnectionRefusedError, FileNotFoundError for a missing socket file,
    TimeoutError, or ConnectionError for anything else.
    """
    if address.startswith(_UNIX_PREFIX):
        path = address[len(_UNIX_PREFIX):]
        if not path:
            raise ValueError("address %r: unix: needs a socket path" % address)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target = path
    elif address.startswith(_TCP_PREFIX):
        hostport = address[len(_TCP_PREFIX):]
        host, sep, port = hostport.rpartition(":")
        if not sep or not port.isdigit():
            raise ValueError("address %r: want tcp://HOST:PORT or unix:PATH" % address)
        host = host.strip("[]")
        try:
            sock = socket.create_connection((host, int(port)), timeout=timeout)
        except OSError as e:
            raise _connect_error(address, e) from None
        sock.settimeout(timeout)
        return sock.makefile("rb")
    else:
        raise ValueError("address %r: want tcp://HOST:PORT or unix:PATH" % address)
    try:
        sock.settimeout(timeout)
        sock.connect(target)
    except OSError as e:
        sock.close()
        raise _connect_error(address, e) from None
    # makefile keeps the socket open until the file object is closed.
    f = sock.makefile("rb")
    sock.close()
    return f


def _connect_error(address, e):
    """The error of a failed connection, naming the address and the fix."""
    msg = "cannot connect to %s: %s (nothing is serving there: start a run with --listen, or check the address)" % (
        address, e.strerror or e)
    cls = type(e) if isinstance(e, (ConnectionError, FileNotFoundError, TimeoutError)) else ConnectionError
    return cls(e.errno, msg) if e.errno is not None else cls(msg)


def iter_records(f):
    """Yield the records (myelin_pb2.Record) of a stream one at a time.

    f is a path, a live address ("tcp://HOST:PORT" or "unix:PATH": the
    records arrive as the run writes them) or a binary file object. The first record must be a header of
    version FORMAT_VERSION. Raises a StreamError subclass naming the record
    index and byte offset of a bad record; the records yielded before it are
    valid. Ends quietly at a clean end of input, with or without a trailer.
    """
    f, owned = _open(f)
    try:
        order = _Order()
        for index, offset, body in _iter_raw(f):
            rec = _parse_record(index, offset, body)
            kind = rec.WhichOneof("kind")
            order.check(index, offset, kind, rec.header if kind == "header" else None)
            yield rec
    finally:
        if owned:
            f.close()


# ---- spike decoding ---------------------------------------------------


def _varint(buf, p):
    """Decode one varint of buf at p; returns (value, next p). Raises
    ValueError when it is cut short or overflows 64 bits."""
    n = 0
    for i in range(10):
        b = buf[p + i]  # IndexError when cut short
        n |= (b & 0x7F) << (7 * i)
        if b < 0x80:
            if n >> 64:
                raise ValueError("varint overflow")
            return n, p + i + 1
    raise ValueError("varint too long")


def _fields(buf):
    """Split a flat message into {field: [(wire_type, value)]}; value is an
    int for varints and a memoryview for length-delimited fields. Returns
    None for anything this fast path does not handle."""
    out = {}
    p, end = 0, len(buf)
    try:
        while p < end:
            tag, p = _varint(buf, p)
            field, wt = tag >> 3, tag & 7
            if field == 0:
                return None
            if wt == 0:
                v, p = _varint(buf, p)
            elif wt == 2:
                n, p = _varint(buf, p)
                if p + n > end:
                    return None
                v, p = buf[p : p + n], p + n
            elif wt == 1 or wt == 5:
                n = 8 if wt == 1 else 4
                if p + n > end:
                    return None
                v, p = buf[p : p + n], p + n
            else:
                return None
            out.setdefault(field, []).append((wt, v))
    except (IndexError, ValueError):
        return None
    return out


def _packed_uint32(chunks):
    """Decode packed varint chunks (memoryviews) into a uint32 array with
    numpy, or None when a value needs more than 5 bytes (left to
    protobuf)."""
    if not chunks:
        return np.zeros(0, np.uint32)
    b = np.frombuffer(b"".join(chunks), dtype=np.uint8)
    if b.size == 0:
        return np.zeros(0, np.uint32)
    if b[-1] & 0x80:
        return None
    cont = b >= 0x80
    if not cont.any():
        return b.astype(np.uint32)
    ends = np.flatnonzero(~cont)
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    lengths = ends - starts + 1
    maxlen = int(lengths.max())
    if maxlen > 5:
        return None
    low = (b & 0x7F).astype(np.uint32)
    vals = low[starts]
    for k in range(1, maxlen):
        # The k-th byte of each value; zero for values shorter than k+1
        # bytes. uint32 arithmetic wraps as protobuf's uint32 does.
        idx = np.minimum(starts + k, b.size - 1)
        term = low[idx] << np.uint32(7 * k)
        term[lengths <= k] = 0
        vals |= term
    return vals


def _fast_block(body):
    """Decode a spike or state record the way the Go writer encodes it,
    without building protobuf objects. Returns ("spikes", first_step,
    counts, deltas), ("state", series, first_step, num_samples, values) or
    None (then protobuf decodes the record)."""
    top = _fields(memoryview(body))
    if top is None or len(top) != 1:
        return None
    (field, occ), = top.items()
    if len(occ) != 1 or occ[0][0] != 2:
        return None
    msg = _fields(occ[0][1])
    if msg is None:
        return None

    def scalar(num):
        vs = msg.get(num, [])
        if any(wt != 0 for wt, _ in vs):
            raise ValueError
        return vs[-1][1] if vs else 0  # last one wins, as in protobuf

    def packed(num):
        vs = msg.get(num, [])
        if any(wt != 2 for wt, _ in vs):
            raise ValueError
        return [v for _, v in vs]

    try:
        if field == 2:  # Record.spikes
            counts = _packed_uint32(packed(2))
            deltas = _packed_uint32(packed(3))
            if counts is None or deltas is None:
                return None
            return ("spikes", scalar(1) & 0xFFFFFFFFFFFFFFFF, counts, deltas)
        if field == 3:  # Record.state
            raw = b"".join(packed(4))
            if len(raw) % 4:
                return None
            values = np.frombuffer(raw, dtype="<f4").astype(np.float32)
            return (
                "state",
                scalar(1) & 0xFFFFFFFF,
                scalar(2) & 0xFFFFFFFFFFFFFFFF,
                scalar(3) & 0xFFFFFFFF,
                values,
            )
    except ValueError:
        return None
    return None


def _undelta(first_step, counts, deltas):
    """Undo the per-step delta coding. Returns (steps uint64, ids uint32) or
    raises ValueError."""
    counts = np.asarray(counts, dtype=np.int64)
    deltas = np.asarray(deltas, dtype=np.uint32)
    total = int(counts.sum()) if counts.size else 0
    if total != deltas.size:
        raise ValueError(
            "spike block at step %d: counts add up to %d spikes but it holds %d ids" % (first_step, total, deltas.size)
        )
    if first_step + counts.size > 0xFFFFFFFFFFFFFFFF:
        raise ValueError("spike block at step %d: %d steps pass the uint64 range" % (first_step, counts.size))
    steps = np.repeat(np.arange(counts.size, dtype=np.uint64) + np.uint64(first_step), counts)
    if total == 0:
        return steps, np.zeros(0, np.uint32)
    starts = np.cumsum(counts) - counts
    firsts = np.zeros(total, dtype=bool)
    firsts[starts[counts > 0]] = True
    cs = np.cumsum(deltas.astype(np.int64))
    base = np.where(starts > 0, cs[np.maximum(starts - 1, 0)], 0)
    ids = cs - np.repeat(base, counts)
    bad = (~firsts & (deltas == 0)) | (ids > 0xFFFFFFFF)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            "spike block at step %d: step %d: ids not strictly ascending or past the uint32 range (delta %d)"
            % (first_step, int(steps[i]), int(deltas[i]))
        )
    return steps, ids.astype(np.uint32)


def decode_spikes(block):
    """Undo a SpikeBlock's delta coding: returns (steps, ids) numpy arrays
    (uint64, uint32), one entry per spike, ordered by step then id. Raises
    ValueError if the counts do not add up or the ids are not strictly
    ascending within a step."""
    counts = np.array(block.counts, dtype=np.int64)
    deltas = np.array(block.ids, dtype=np.uint32)
    return _undelta(block.first_step, counts, deltas)


# ---- whole streams ----------------------------------------------------


class Stream:
    """A stream loaded into memory by read_stream.

    Attributes:
      header       myelin_pb2.Header (None only in a StreamError's partial)
      trailer      myelin_pb2.Trailer, or None when the stream was cut short
      spikes_steps numpy uint64 array: the step of each spike
      spikes_ids   numpy uint32 array: the global id of each spike's neuron,
                   ordered by step then id
      gaps         list of myelin_pb2.Gap
    """

    def __init__(self):
        self.header = None
        self.trailer = None
        self.spikes_steps = np.zeros(0, np.uint64)
        self.spikes_ids = np.zeros(0, np.uint32)
        self.gaps = []
        self._state = {}  # series id -> [series, steps chunks, value chunks]

    @property
    def dt_ms(self):
        """The integration step in ms."""
        return self.header.dt_ms

    @property
    def complete(self):
        """True when the stream has a trailer whose status is COMPLETE."""
        return self.trailer is not None and self.trailer.status == myelin_pb2.Trailer.COMPLETE

    def spike_times_ms(self, steps=None):
        """Times in ms of spikes emitted in the given steps (default: every
        spike of the stream): (step+1)*dt."""
        if steps is None:
            steps = self.spikes_steps
        return (np.asarray(steps, dtype=np.float64) + 1.0) * self.header.dt_ms

    def population(self, name):
        """The header's PopulationRange of that name; KeyError if none."""
        for p in self.header.populations:
            if p.name == name:
                return p
        raise KeyError("no population %r in the stream (it has %s)" % (name, [p.name for p in self.header.populations]))

    def population_spikes(self, name):
        """Spikes of one population: (times_ms float64, local_ids uint32),
        local ids counting from 0 at the population's first neuron."""
        p = self.population(name)
        local = self.spikes_ids.astype(np.int64) - p.first_id
        sel = (local >= 0) & (local < p.size)
        return self.spike_times_ms(self.spikes_steps[sel]), local[sel].astype(np.uint32)

    def spikes_by_population(self):
        """Spikes of every recorded spiking population, as a dict
        name -> (times_ms float64 array, local_ids uint32 array), in header
        order (see population_spikes)."""
        return {
            p.name: self.population_spikes(p.name)
            for p in self.header.populations
            if p.recorded and p.model != "rate"
        }

    def spike_trains(self, name):
        """Spike trains of one population, one per neuron: a list of
        population-size float64 arrays of spike times in ms, ascending
        (empty for silent neurons). This is the shape Neo's SpikeTrain and
        Elephant expect; see the README for the conversion."""
        p = self.population(name)
        times, ids = self.population_spikes(name)
        order = np.lexsort((times, ids))
        times, ids = times[order], ids[order]
        bounds = np.searchsorted(ids, np.arange(p.size + 1, dtype=np.int64))
        return [times[bounds[i]:bounds[i + 1]] for i in range(p.size)]

    @property
    def missed_spikes(self):
        """Spikes the stream lacks because they were dropped for a slow live
        reader (the sum of its gaps' missed_spikes); 0 for a file."""
        return sum(g.missed_spikes for g in self.gaps)

    @property
    def duration_ms(self):
        """The simulated time the stream covers, in ms: the trailer's
        steps_done times dt, or for a stream without a trailer up to the
        last spike or gap read. Every spike time is at most this."""
        if self.trailer is not None and self.trailer.steps_done:
            steps = self.trailer.steps_done
        elif self.trailer is not None and self.complete:
            steps = self.header.total_steps
        else:
            steps = int(self.spikes_steps[-1]) + 1 if self.spikes_steps.size else 0
            steps = max([steps] + [g.last_step for g in self.gaps])
        return steps * self.header.dt_ms

    def state_series(self, series_id):
        """The header's StateSeries with that id; KeyError if none."""
        return self._state[series_id][0]

    def state(self, series_id):
        """Samples of a state series as a 2D float32 array: one row per
        sample, one column per neuron of the series."""
        series, _, values = self._state[series_id]
        width = len(series.neuron_ids)
        v = np.concatenate(values) if values else np.zeros(0, np.float32)
        return v.reshape(-1, width)

    def state_steps(self, series_id):
        """The step of each sample of a state series (uint64 array)."""
        _, steps, _ = self._state[series_id]
        return np.concatenate(steps) if steps else np.zeros(0, np.uint64)


def read_stream(path_or_file):
    """Read a whole stream from a path, a live address ("tcp://HOST:PORT" or
    "unix:PATH", see connect) or a binary file object.

    Besides the framing and header checks of iter_records it checks that
    spike blocks are valid and in step order, that state blocks match their
    series and that the trailer's spike total matches. On a bad record it
    raises a StreamError subclass whose ``partial`` attribute holds the
    Stream read before it.
    """
    f, owned = _open(path_or_file)
    s = Stream()
    steps_chunks, ids_chunks = [], []
    try:
        try:
            _read_into(f, s, steps_chunks, ids_chunks)
        except StreamError as e:
            _finish(s, steps_chunks, ids_chunks)
            e.partial = s
            raise
    finally:
        if owned:
            f.close()
    _finish(s, steps_chunks, ids_chunks)
    return s


def _finish(s, steps_chunks, ids_chunks):
    if steps_chunks:
        s.spikes_steps = np.concatenate(steps_chunks)
        s.spikes_ids = np.concatenate(ids_chunks)


def _read_into(f, s, steps_chunks, ids_chunks):
    order = _Order()
    next_step = 0
    total = 0
    for index, offset, body in _iter_raw(f):
        fast = _fast_block(body) if index > 0 else None
        if fast is not None:
            kind = fast[0]
            order.check(index, offset, kind)
        else:
            rec = _parse_record(index, offset, body)
            kind = rec.WhichOneof("kind")
            order.check(index, offset, kind, rec.header if kind == "header" else None)

        def bad(msg):
            return CorruptError(index, offset, "corrupt: " + msg)

        if kind == "header":
            s.header = rec.header
            for ser in rec.header.state_series:
                if ser.id in s._state:
                    raise bad("header: state series id %d is used twice" % ser.id)
                s._state[ser.id] = (ser, [], [])
        elif kind == "spikes":
            if fast is not None:
                _, first, counts, deltas = fast
            else:
                b = rec.spikes
                first = b.first_step
                counts = np.array(b.counts, dtype=np.uint32)
                deltas = np.array(b.ids, dtype=np.uint32)
            if first < next_step:
                raise bad(
                    "spike block at step %d overlaps the block or gap before it (ending at step %d)" % (first, next_step)
                )
            try:
                steps, ids = _undelta(first, counts, deltas)
            except ValueError as e:
                raise bad(str(e)) from None
            steps_chunks.append(steps)
            ids_chunks.append(ids)
            total += ids.size
            next_step = first + len(counts)
        elif kind == "state":
            if fast is not None:
                _, series_id, first, num, values = fast
            else:
                b = rec.state
                series_id, first, num = b.series, b.first_step, b.num_samples
                values = np.array(b.values, dtype=np.float32)
            if series_id not in s._state:
                raise bad("state block of series %d, which the header does not list" % series_id)
            ser, st, vals = s._state[series_id]
            width = len(ser.neuron_ids)
            if width == 0 and num > 0:
                raise bad("state block of series %d, which has no neurons" % series_id)
            if values.size != num * width:
                raise bad(
                    "state block of series %d: %d samples of %d neurons need %d values, it holds %d"
                    % (series_id, num, width, num * width, values.size)
                )
            every = max(ser.every, 1)
            st.append(np.uint64(first) + np.arange(num, dtype=np.uint64) * np.uint64(every))
            vals.append(values)
        elif kind == "gap":
            g = rec.gap
            if g.last_step < g.first_step:
                raise bad("gap ends at step %d, before its first step %d" % (g.last_step, g.first_step))
            s.gaps.append(g)
            next_step = max(next_step, g.last_step)
        elif kind == "trailer":
            s.trailer = rec.trailer
            if rec.trailer.total_spikes != total:
                raise bad("trailer counts %d spikes, the stream holds %d" % (rec.trailer.total_spikes, total))


if __name__ == "__main__":
    import sys

    for path in sys.argv[1:]:
        st = read_stream(path)
        print("%s: %d spikes, dt %g ms, populations %s, %s" % (
            path,
            st.spikes_ids.size,
            st.dt_ms,
            ", ".join("%s[%d]" % (p.name, p.size) for p in st.header.populations),
            "complete" if st.complete else "no trailer" if st.trailer is None else myelin_pb2.Trailer.Status.Name(st.trailer.status),
        ))
