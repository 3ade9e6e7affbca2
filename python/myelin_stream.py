"""Read Myelin spike streams with protobuf and numpy.

A Myelin stream is a sequence of length-delimited protobuf records
(``myelin.v1.Record`` in proto/myelin.proto): a varint holding the length of
the message, then the message. The first record is a Header, then come
SpikeBlock, StateBlock and Gap records (and, at the end of a run with STDP,
Weights records: format version 3), and the last is a Trailer. A stream
without a trailer was cut short (or the run is still going); every record
before the cut is valid. From format version 2 on, every record ends with a
CRC-32C checksum of its bytes (field ``crc32c``); version 1 streams carry
none and still read (``Stream.checksummed`` is False for them). From
version 3 on, a record of a kind this reader does not know is skipped.

    import myelin_stream as ms

    s = ms.read_stream("run.myelin")
    times_ms, ids = s.population_spikes("E")
    v = s.state(1)              # samples x neurons, float32

    live = ms.read_stream("tcp://127.0.0.1:5555")   # a run with --listen

Spike times: step ``s`` advances the simulation from ``s*dt`` to
``(s+1)*dt``; a spike emitted in it has the time ``(s+1)*dt``, as NEST
stamps spikes.

This module mirrors the Go package engine/stream: the same checks (header
sanity, spike steps within the run, ids within the populations, blocks in
order, checksums; the shared table testdata/corrupt/cases.json runs through
both), the same error messages (``record 17 at byte 40213: truncated: need 812 bytes, have
95``). Needs numpy and protobuf >= 3.20 (the generated ``myelin_pb2.py``
lives next to this file).
"""

import array
import collections.abc
import os
import socket
import warnings

import numpy as np

import myelin_pb2

__all__ = [
    "FORMAT_VERSION",
    "WEIGHTS_FORMAT_VERSION",
    "OLDEST_FORMAT_VERSION",
    "MAX_NEURONS",
    "MIN_DT_MS",
    "MAX_DT_MS",
    "crc32c",
    "MAX_RECORD_BYTES",
    "StreamError",
    "NotAStreamError",
    "TruncatedError",
    "CorruptError",
    "VersionError",
    "Stream",
    "GapList",
    "iter_records",
    "read_stream",
    "decode_spikes",
    "connect",
    "is_address",
]

#: The newest stream format version this reader reads.
FORMAT_VERSION = 3

#: The most synapses a Weights record holds (stream.MaxWeightsPerRecord).
MAX_WEIGHTS_PER_RECORD = 1 << 20

#: The format version of streams with Weights records (runs with STDP); from
#: it on, records of unknown kinds are skipped.
WEIGHTS_FORMAT_VERSION = 3

#: The oldest stream format version this reader reads.
OLDEST_FORMAT_VERSION = 1

#: The most neurons a header may describe (sum of population sizes).
MAX_NEURONS = 1 << 31

#: The range of a header's dt_ms (stream.MinDtMs, stream.MaxDtMs): at most
#: the largest step a spec allows, at least a nanosecond.
MIN_DT_MS = 1e-6
MAX_DT_MS = 10.0

#: The largest record (bytes of its message) a reader accepts; a larger
#: length prefix is taken for corruption.
MAX_RECORD_BYTES = 1 << 30

_READ_CHUNK = 1 << 16

# The most neurons spike_trains makes a list entry for: a header may claim
# up to MAX_NEURONS, and a list of that many arrays would not fit in memory.
_MAX_TRAINS = 1 << 24


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
    """The header's format version is not one this reader reads."""


# ---- CRC-32C ------------------------------------------------------------

_CRC_POLY = 0x82F63B78  # Castagnoli, reflected
_CRC_TAG = 0x7D  # tag of Record.crc32c: field 15, fixed32
_CRC_SIZE = 5


def _crc_table():
    t = np.zeros(256, dtype=np.uint32)
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ _CRC_POLY if c & 1 else c >> 1
        t[i] = c
    return t


_CRC_TABLE = _crc_table()
_CRC_TABLE_LIST = [int(x) for x in _CRC_TABLE]


def _crc_raw_small(data, c=0):
    """Raw (no pre/post inversion) CRC-32C register after data, byte by byte."""
    t = _CRC_TABLE_LIST
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c


def _apply(cols, v):
    """Apply the GF(2)-linear map with columns cols (images of bit b) to the
    uint32 array v."""
    out = np.zeros_like(v)
    for b in range(32):
        out ^= cols[b] * ((v >> np.uint32(b)) & np.uint32(1))
    return out


# Width in bytes of the chunks whose CRCs crc32c computes side by side.
_CRC_WIDTH = 64


def _byte_tables(cols):
    """The linear map with columns cols as four tables of 256 entries, one
    per byte of its argument (_apply_tables)."""
    x = np.arange(256, dtype=np.uint32)
    return np.stack([_apply(cols, x << np.uint32(8 * k)) for k in range(4)])


def _apply_tables(tab, v):
    """Apply the map of _byte_tables tab to the uint32 array v."""
    return (tab[0][v & np.uint32(0xFF)] ^ tab[1][(v >> np.uint32(8)) & np.uint32(0xFF)]
            ^ tab[2][(v >> np.uint32(16)) & np.uint32(0xFF)] ^ tab[3][v >> np.uint32(24)])


def _zeros_tables(levels):
    """_byte_tables of the maps 'run the CRC register over _CRC_WIDTH * 2**k
    zero bytes', for k in range(levels): each map the square of the one
    before."""
    one = np.array([1 << b for b in range(32)], dtype=np.uint32)
    # One zero byte: c -> T[c & 0xff] ^ (c >> 8).
    op = _CRC_TABLE[one & np.uint32(0xFF)] ^ (one >> np.uint32(8))
    n = 1
    while n < _CRC_WIDTH:
        op = _apply(op, op)
        n *= 2
    tabs = []
    for _ in range(levels):
        tabs.append(_byte_tables(op))
        op = _apply(op, op)
    return tuple(tabs)


# Enough levels for 64 * 2**25 = 2 GiB, more than a record holds (the
# readers refuse records over 1 GiB); made once, at import.
_ZEROS_TABLES = _zeros_tables(26)


def crc32c(data):
    """CRC-32C (Castagnoli) of bytes-like data, as the Go writer computes
    it. Large inputs are split into chunks whose CRCs numpy computes side by
    side and then combines (CRC is linear), so that checking a stream does
    not cost a Python loop per byte."""
    data = memoryview(data).cast("B")
    n = len(data)
    if n < 4096:
        return _crc_raw_small(data, 0xFFFFFFFF) ^ 0xFFFFFFFF
    # A head of 1 to _CRC_WIDTH bytes, byte by byte from the standard
    # initial register 0xFFFFFFFF; then chunks of _CRC_WIDTH bytes, side by
    # side, each from a zero register.
    width = _CRC_WIDTH
    head = n - (n - 1) // width * width
    reg = _crc_raw_small(data[:head], 0xFFFFFFFF)
    rows = np.frombuffer(data[head:], dtype=np.uint8).reshape(-1, width)
    c = np.zeros(rows.shape[0], dtype=np.uint32)
    for j in range(width):
        c = _CRC_TABLE[(c ^ rows[:, j]) & np.uint32(0xFF)] ^ (c >> np.uint32(8))
    # Combine neighbours pairwise, crc(A||B) = Z_len(B)(crc(A)) ^ crc(B),
    # where Z_m runs the register over m zero bytes; at level k every part
    # is width * 2**k bytes. Of an odd count the first is set aside, in
    # order: what is set aside, then what is left, covers the chunks front
    # to back.
    level = 0
    parts = []  # (level, CRC) of the parts set aside, front to back
    while c.size > 1:
        if c.size % 2:
            parts.append((level, c[0]))
            c = c[1:]
        c = _apply_tables(_ZEROS_TABLES[level], c[0::2]) ^ c[1::2]
        level += 1
    parts.append((level, c[0]))
    r = np.array([reg], dtype=np.uint32)
    for lv, crc in parts:
        r = _apply_tables(_ZEROS_TABLES[lv], r) ^ crc
    return int(r[0]) ^ 0xFFFFFFFF


def _verify_crc(body):
    """Checks the checksum field at the end of a version-2 record; returns
    the message without it or raises _Corrupt."""
    n = len(body) - _CRC_SIZE
    if n < 0 or body[n] != _CRC_TAG:
        raise _Corrupt("corrupt: checksum: record carries no checksum (format version 2 puts one at the end of every record)")
    want = int.from_bytes(body[n + 1:], "little")
    got = crc32c(memoryview(body)[:n])
    if got != want:
        raise _Corrupt("corrupt: checksum: CRC-32C of the record is %08x, the record says %08x" % (got, want))
    return body[:n]


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
        if kind == "header" and not OLDEST_FORMAT_VERSION <= header.format_version <= FORMAT_VERSION:
            raise VersionError(
                index,
                offset,
                "unsupported format version: stream has format version %d, this reader reads versions %d to %d"
                % (header.format_version, OLDEST_FORMAT_VERSION, FORMAT_VERSION),
            )
        if kind == "trailer":
            self.ended = True


class _Checker:
    """The checks of the Go Reader (engine/stream/reader.go and check.go),
    record by record. Every method raises CorruptError (or another
    StreamError) for a bad record and otherwise returns what the record
    holds, decoded."""

    def __init__(self):
        self.order = _Order()
        self.version = 0
        self.header = None
        self.total_steps = 0
        self.neurons = 0
        self.npops = 0
        self.pop_order = None  # header index of each range sorted by first id
        self.pop_firsts = None
        self.pop_counts = None  # spikes per header population
        self.series = {}  # id -> [series, width, every, next]
        self.next_step = 0
        self.nspikes = 0
        self.weights_seen = {}  # (pre, post) -> [weights read, total, step, shift]
        self.weights_order = []  # those pairs, in stream order

    # framing and checksums

    def body(self, index, offset, raw):
        """Returns (message bytes, checksum error or None) of a record."""
        if index == 0:
            try:
                return _verify_crc(raw), None
            except _Corrupt as e:
                return raw, str(e)
        if self.version >= 2:
            try:
                return _verify_crc(raw), None
            except _Corrupt as e:
                raise CorruptError(index, offset, str(e)) from None
        return raw, None

    def parse_error(self, index, offset, raw, crc_err, err):
        if index == 0 and crc_err is not None and len(raw) >= _CRC_SIZE and raw[len(raw) - _CRC_SIZE] == _CRC_TAG:
            return CorruptError(index, offset, crc_err)
        msg = "corrupt: %s" % (err,)
        if index == 0:
            return NotAStreamError(index, offset, "not a Myelin stream (%s)" % msg)
        return CorruptError(index, offset, msg)

    # records

    def check_header(self, index, offset, h, crc_err):
        self.order.check(index, offset, "header", h)
        if h.format_version >= 2 and crc_err is not None:
            raise CorruptError(index, offset, crc_err)
        try:
            self._header(h)
        except ValueError as e:
            raise CorruptError(index, offset, "corrupt: %s" % e) from None
        self.version = h.format_version
        self.header = h

    def _header(self, h):
        dt = h.dt_ms
        if not (dt > 0) or dt == float("inf"):
            raise ValueError("header.dt_ms is %s, want a finite value > 0" % _go_float(dt))
        if dt < MIN_DT_MS or dt > MAX_DT_MS:
            raise ValueError("header.dt_ms is %s, want a step in [1e-06, 10] ms" % _go_float(dt))
        pops = list(h.populations)
        order = sorted(range(len(pops)), key=lambda i: pops[i].first_id)
        end = 0
        for k, i in enumerate(order):
            p = pops[i]
            first, size = p.first_id, p.size
            if first < end:
                prev = pops[order[k - 1]]
                raise ValueError("header.populations[%d] (%r): ids [%d, %d) overlap population %r ids [%d, %d)"
                                 % (i, p.name, first, first + size, prev.name, prev.first_id, end))
            if first > end:
                raise ValueError("header.populations[%d] (%r): ids start at %d, want %d: the populations must tile the ids from 0 without holes"
                                 % (i, p.name, first, end))
            if end + size > MAX_NEURONS:
                raise ValueError("header.populations[%d] (%r): size %d brings the network to %d neurons, more than the %d a stream may describe"
                                 % (i, p.name, size, end + size, MAX_NEURONS))
            end = first + size
        by_name = {}
        for i, p in enumerate(pops):
            if p.name in by_name:
                raise ValueError("header.populations[%d]: name %r is also the name of populations[%d]" % (i, p.name, by_name[p.name]))
            by_name[p.name] = i
        seen = {}
        for i, ser in enumerate(h.state_series):
            if ser.id in seen:
                raise ValueError("header.state_series[%d]: id %d is also the id of state_series[%d]" % (i, ser.id, seen[ser.id]))
            seen[ser.id] = i
            if len(ser.neuron_ids) == 0:
                raise ValueError("header.state_series[%d] (id %d) lists no neurons" % (i, ser.id))
            if pops:
                if ser.population not in by_name:
                    raise ValueError("header.state_series[%d] (id %d): population %r is not in the header" % (i, ser.id, ser.population))
                p = pops[by_name[ser.population]]
                ids = np.asarray(ser.neuron_ids, dtype=np.int64) - p.first_id
                bad = np.flatnonzero((ids < 0) | (ids >= p.size))
                if bad.size:
                    k = int(bad[0])
                    raise ValueError("header.state_series[%d] (id %d): neuron_ids[%d] = %d is outside population %r, ids [%d, %d)"
                                     % (i, ser.id, k, ser.neuron_ids[k], p.name, p.first_id, p.first_id + p.size))
        self.total_steps = h.total_steps
        self.neurons = end
        self.npops = len(pops)
        self.pop_order = np.asarray(order, dtype=np.int64)
        self.pop_firsts = np.asarray([pops[i].first_id for i in order], dtype=np.int64)
        self.pop_counts = np.zeros(len(pops), dtype=np.uint64)
        for ser in h.state_series:
            self.series[ser.id] = [ser, len(ser.neuron_ids), max(ser.every, 1), 0]

    def kind(self, index, offset, kind):
        """Checks a record's kind against its place; returns False for a
        record of an unknown kind that a version-3 stream lets us skip."""
        if kind is None and index > 0 and self.version >= WEIGHTS_FORMAT_VERSION:
            return False
        self.order.check(index, offset, kind)
        return True

    def weights(self, index, offset, w):
        """Checks a Weights record as the Go reader does (engine/stream/weights.go)."""
        def bad(msg):
            return CorruptError(index, offset, "corrupt: " + msg)
        pair = "weights %s -> %s" % (_q(w.pre), _q(w.post))
        if self.version < WEIGHTS_FORMAT_VERSION:
            raise bad("weights record in a format version %d stream (weights records need version %d)" % (self.version, WEIGHTS_FORMAT_VERSION))
        n = len(w.weight)
        if n > MAX_WEIGHTS_PER_RECORD:
            raise bad("%s: %d synapses in one record, more than %d" % (pair, n, MAX_WEIGHTS_PER_RECORD))
        if len(w.pre_index) != n or len(w.post_index) != n:
            raise bad("%s: %d pre indices, %d post indices and %d weights: must be as many" % (pair, len(w.pre_index), len(w.post_index), n))
        if not -60 <= w.shift <= 60:
            raise bad("%s: shift %d: must be in [-60, 60]" % (pair, w.shift))
        if w.first > w.total or n > w.total - w.first:
            raise bad("%s: synapses [%d, %d) pass the total %d" % (pair, w.first, w.first + n, w.total))
        pops = {p.name: p.size for p in self.header.populations}
        if pops:
            for side, name, idx in (("pre", w.pre, w.pre_index), ("post", w.post, w.post_index)):
                if name not in pops:
                    raise bad("%s: %s population %s is not in the header" % (pair, side, _q(name)))
                a = np.asarray(idx, dtype=np.int64)
                out = np.flatnonzero(a >= pops[name])
                if out.size:
                    k = int(out[0])
                    raise bad("%s: %s_index[%d] = %d: population %s has %d neurons" % (pair, side, k, int(a[k]), _q(name), pops[name]))
        seen = self.weights_seen.get((w.pre, w.post))
        if seen is None:
            if w.first != 0:
                raise bad("%s: the first record starts at synapse %d, want 0" % (pair, w.first))
            self.weights_seen[(w.pre, w.post)] = [n, w.total, w.step, w.shift]
            self.weights_order.append((w.pre, w.post))
            return
        if seen[0] == seen[1]:
            raise bad("%s: a record after the pair's %d synapses were all read (the records of a pair are written once)" % (pair, seen[1]))
        if w.total != seen[1]:
            raise bad("%s: total %d, an earlier record said %d" % (pair, w.total, seen[1]))
        if w.step != seen[2] or w.shift != seen[3]:
            raise bad("%s: step %d and shift %d, an earlier record of the pair said %d and %d" % (pair, w.step, w.shift, seen[2], seen[3]))
        if w.first != seen[0]:
            raise bad("%s: record starts at synapse %d, want %d (the records of a pair follow each other)" % (pair, w.first, seen[0]))
        seen[0] += n

    def spikes(self, index, offset, first, counts, deltas):
        """Returns (steps, ids) of a spike block."""
        def bad(msg):
            return CorruptError(index, offset, "corrupt: " + msg)
        n = len(counts)
        if first < self.next_step:
            raise bad("spike block at step %d overlaps the block or gap before it (ending at step %d)" % (first, self.next_step))
        if first + n > 0xFFFFFFFFFFFFFFFF:
            raise bad("spike block at step %d: %d steps pass the uint64 range" % (first, n))
        total = self.total_steps
        if total > 0 and first + n > total:
            raise bad("spike block of steps [%d, %d) passes the end of the run (header.total_steps %d)" % (first, first + n, total))
        try:
            steps, ids = _undelta(first, counts, deltas)
        except ValueError as e:
            raise bad(str(e)) from None
        if self.npops > 0 and ids.size:
            out = np.flatnonzero(ids >= self.neurons)
            if out.size:
                i = int(out[0])
                raise bad("spike block at step %d: step %d: neuron id %d lies in no population of the header (%d neurons)"
                          % (first, int(steps[i]), int(ids[i]), self.neurons))
            k = np.searchsorted(self.pop_firsts, ids.astype(np.int64), side="right") - 1
            per = np.bincount(k, minlength=self.npops).astype(np.uint64)
            self.pop_counts[self.pop_order] += per
        self.nspikes += int(ids.size)
        self.next_step = first + n
        return steps, ids

    def state(self, index, offset, series_id, first, num, values):
        """Returns (series, sample steps) of a state block."""
        def bad(msg):
            return CorruptError(index, offset, "corrupt: " + msg)
        if series_id not in self.series:
            raise bad("state block of series %d, which the header does not list" % series_id)
        st = self.series[series_id]
        ser, width, every, nxt = st
        if values.size != num * width:
            raise bad("state block of series %d: %d samples of %d neurons need %d values, it holds %d"
                      % (series_id, num, width, num * width, values.size))
        if first % every:
            raise bad("state block of series %d starts at step %d, which is not a multiple of its sampling interval %d" % (series_id, first, every))
        if first < nxt:
            raise bad("state block of series %d at step %d overlaps the block before it (ending at step %d)" % (series_id, first, nxt))
        if num == 0:
            return ser, np.zeros(0, np.uint64)
        last = first + (num - 1) * every
        if last > 0xFFFFFFFFFFFFFFFF:
            raise bad("state block of series %d at step %d: %d samples pass the uint64 range" % (series_id, first, num))
        if self.total_steps > 0 and last >= self.total_steps:
            raise bad("state block of series %d samples step %d, past the end of the run (header.total_steps %d)" % (series_id, last, self.total_steps))
        st[3] = last + 1
        return ser, np.uint64(first) + np.arange(num, dtype=np.uint64) * np.uint64(every)

    def gap(self, index, offset, g):
        def bad(msg):
            return CorruptError(index, offset, "corrupt: " + msg)
        if g.last_step < g.first_step:
            raise bad("gap ends at step %d, before its first step %d" % (g.last_step, g.first_step))
        if self.total_steps > 0 and g.last_step > self.total_steps:
            raise bad("gap of steps [%d, %d) passes the end of the run (header.total_steps %d)" % (g.first_step, g.last_step, self.total_steps))
        self.next_step = max(self.next_step, g.last_step)

    def trailer(self, index, offset, t):
        def bad(msg):
            return CorruptError(index, offset, "corrupt: " + msg)
        for pre, post in self.weights_order:
            seen = self.weights_seen[(pre, post)]
            if seen[0] != seen[1]:
                raise bad("weights %s -> %s: the records hold %d of the pair's %d synapses" % (_q(pre), _q(post), seen[0], seen[1]))
        if t.total_spikes != self.nspikes:
            raise bad("trailer counts %d spikes, the stream holds %d" % (t.total_spikes, self.nspikes))
        if self.total_steps > 0 and t.steps_done > self.total_steps:
            raise bad("trailer says %d steps were done, more than header.total_steps %d" % (t.steps_done, self.total_steps))
        # A complete run did all its steps; 0 is a trailer that does not
        # count them.
        if (self.total_steps > 0 and t.status == myelin_pb2.Trailer.COMPLETE
                and 0 < t.steps_done < self.total_steps):
            raise bad("trailer.status is COMPLETE but trailer.steps_done %d is less than header.total_steps %d" % (t.steps_done, self.total_steps))
        ps = list(t.population_spikes)
        if ps:
            if len(ps) != self.npops:
                raise bad("trailer counts spikes of %d populations, the header lists %d" % (len(ps), self.npops))
            for i, n in enumerate(self.pop_counts):
                if ps[i] != int(n):
                    raise bad("trailer counts %d spikes of population %r, the stream holds %d" % (ps[i], self.header.populations[i].name, int(n)))


def _q(s):
    """Quotes a name as Go's %q does (for printable names)."""
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def _go_float(x):
    """Formats a float as Go's %v does for the values a bad dt takes."""
    if x != x:
        return "NaN"
    if x == float("inf"):
        return "+Inf"
    if x == float("-inf"):
        return "-Inf"
    if x == int(x) and abs(x) < 1e21:
        return "%d" % x if x != 0 or str(x)[0] != "-" else "-0"
    return repr(x)


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


def connect(address, timeout=None, token=None):
    """Connect to a run that serves its stream (``myelin run --listen``) and
    return a binary file object to read it from; closing it closes the
    connection.

    address is "tcp://HOST:PORT" or "unix:PATH". timeout (seconds) bounds the
    connection and every read; None waits as long as the run takes. Pass the
    result to read_stream or iter_records, or pass them the address itself.
    When nothing serves there it raises an OSError that names the address:
    ConnectionRefusedError, FileNotFoundError for a missing socket file,
    TimeoutError, or ConnectionError for anything else.

    token is presented to a run started with ``--listen-token`` (default:
    the MYELIN_LISTEN_TOKEN environment variable); a server that refuses it
    hangs up without sending anything, which reads as an empty input.
    """
    if token is None:
        token = os.environ.get("MYELIN_LISTEN_TOKEN", "")
    if "\n" in token or "\r" in token:
        raise ValueError("token must be one line")
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
        if token:
            sock.sendall(token.encode() + b"\n")
        return sock.makefile("rb")
    else:
        raise ValueError("address %r: want tcp://HOST:PORT or unix:PATH" % address)
    try:
        sock.settimeout(timeout)
        sock.connect(target)
    except OSError as e:
        sock.close()
        raise _connect_error(address, e) from None
    if token:
        sock.sendall(token.encode() + b"\n")
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
    records arrive as the run writes them) or a binary file object. The
    first record must be a header of a version from OLDEST_FORMAT_VERSION to
    FORMAT_VERSION. Raises a StreamError subclass naming the record
    index and byte offset of a bad record; the records yielded before it are
    valid. Ends quietly at a clean end of input, with or without a trailer.
    """
    f, owned = _open(f)
    try:
        ck = _Checker()
        for index, offset, raw in _iter_raw(f):
            body, crc_err = ck.body(index, offset, raw)
            rec = _parse(ck, index, offset, raw, body, crc_err)
            kind = rec.WhichOneof("kind")
            if kind == "header" and index == 0:
                ck.check_header(index, offset, rec.header, crc_err)
                yield rec
                continue
            if not ck.kind(index, offset, kind):
                continue
            if kind == "spikes":
                b = rec.spikes
                ck.spikes(index, offset, b.first_step, np.array(b.counts, dtype=np.uint32), np.array(b.ids, dtype=np.uint32))
            elif kind == "state":
                b = rec.state
                ck.state(index, offset, b.series, b.first_step, b.num_samples, np.array(b.values, dtype=np.float32))
            elif kind == "gap":
                ck.gap(index, offset, rec.gap)
            elif kind == "weights":
                ck.weights(index, offset, rec.weights)
            elif kind == "trailer":
                ck.trailer(index, offset, rec.trailer)
            rec.ClearField("crc32c")
            yield rec
    finally:
        if owned:
            f.close()


def _parse(ck, index, offset, raw, body, crc_err):
    """Parses a record's message with protobuf; a bad one raises the error
    the Go reader reports."""
    rec = myelin_pb2.Record()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            n = rec.MergeFromString(body)
        if n != len(body):
            # protobuf stops quietly at a stray end-group tag; Go's parser
            # (and so the Go reader) calls it invalid wire-format data.
            raise ValueError("invalid wire-format data (end-group tag at byte %d of the record)" % n)
    except Exception as e:  # google.protobuf.message.DecodeError and kin
        raise ck.parse_error(index, offset, raw, crc_err, e) from None
    if index == 0:
        kind = rec.WhichOneof("kind")
        if kind != "header":
            ck.order.check(index, offset, kind)
    return rec


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


class GapList(collections.abc.Sequence):
    """The gaps of a stream, a sequence of myelin_pb2.Gap in stream order.
    It keeps three integers a gap (24 bytes), not the parsed records, which
    would keep ~500 bytes for each ~16-byte gap read; each item is made as it
    is asked for."""

    def __init__(self):
        self._first = array.array("Q")
        self._last = array.array("Q")
        self._missed = array.array("Q")

    def append(self, gap):
        """Adds a myelin_pb2.Gap."""
        self._first.append(gap.first_step)
        self._last.append(gap.last_step)
        self._missed.append(gap.missed_spikes)

    def __len__(self):
        return len(self._first)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        return myelin_pb2.Gap(first_step=self._first[i], last_step=self._last[i], missed_spikes=self._missed[i])

    def __eq__(self, other):
        if not isinstance(other, collections.abc.Sequence):
            return NotImplemented
        return len(other) == len(self) and all(x == y for x, y in zip(self, other))

    __hash__ = None

    def __repr__(self):
        return "GapList(%d gaps, %d missed spikes)" % (len(self), self.missed_spikes)

    @property
    def missed_spikes(self):
        """The sum of the gaps' missed_spikes."""
        return sum(self._missed)

    @property
    def last_step(self):
        """The largest last_step of the gaps, 0 for none."""
        return max(self._last, default=0)


class Stream:
    """A stream loaded into memory by read_stream.

    Attributes:
      header       myelin_pb2.Header (None only in a StreamError's partial)
      trailer      myelin_pb2.Trailer, or None when the stream was cut short
      spikes_steps numpy uint64 array: the step of each spike
      spikes_ids   numpy uint32 array: the global id of each spike's neuron,
                   ordered by step then id
      gaps         the gap records: a GapList, a sequence of myelin_pb2.Gap
      weights      list of myelin_pb2.Weights records (runs with STDP; see
                   weight_sets)
      checksummed  True when the records carried checksums (format version
                   2 and later); a version-1 stream has none, so damage that
                   still decodes goes unnoticed
    """

    def __init__(self):
        self.header = None
        self.checksummed = False
        self.trailer = None
        self.spikes_steps = np.zeros(0, np.uint64)
        self.spikes_ids = np.zeros(0, np.uint32)
        self.gaps = GapList()
        self.weights = []
        self._state = {}  # series id -> [series, steps chunks, value chunks]

    def weight_sets(self):
        """The final weights of the plastic synapses, one dict per pair of
        populations keyed by (pre, post), in stream order. Each holds
        pre_index and post_index (uint32 arrays of neurons local to the
        populations), fixed (int32 fixed-point weights), shift, weight
        (float64: fixed * 2**-shift, in the projection's units) and step
        (the step at which they were taken)."""
        out = {}
        for w in self.weights:
            k = (w.pre, w.post)
            if k not in out:
                out[k] = {"pre_index": [], "post_index": [], "fixed": [], "shift": w.shift, "step": w.step}
            d = out[k]
            d["pre_index"].append(np.asarray(w.pre_index, dtype=np.uint32))
            d["post_index"].append(np.asarray(w.post_index, dtype=np.uint32))
            d["fixed"].append(np.asarray(w.weight, dtype=np.int32))
        for d in out.values():
            for f, t in (("pre_index", np.uint32), ("post_index", np.uint32), ("fixed", np.int32)):
                d[f] = np.concatenate(d[f]) if d[f] else np.zeros(0, t)
            d["weight"] = np.ldexp(d["fixed"].astype(np.float64), -d["shift"])
        return out

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
        if p.size > _MAX_TRAINS:
            raise ValueError(
                "population %r claims %d neurons, more than the %d spike_trains builds one array for; use population_spikes"
                % (name, p.size, _MAX_TRAINS))
        times, ids = self.population_spikes(name)
        order = np.lexsort((times, ids))
        times, ids = times[order], ids[order]
        bounds = np.searchsorted(ids, np.arange(p.size + 1, dtype=np.int64))
        return [times[bounds[i]:bounds[i + 1]] for i in range(p.size)]

    @property
    def missed_spikes(self):
        """Spikes the stream lacks because they were dropped for a slow live
        reader (the sum of its gaps' missed_spikes); 0 for a file."""
        return self.gaps.missed_spikes

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
            steps = max(steps, self.gaps.last_step)
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
        """The step of each sample of a state series (uint64 array). The
        sample of step s is the state after step s, at (s+1)*dt ms, the time
        spike_times_ms gives a spike of step s."""
        _, steps, _ = self._state[series_id]
        return np.concatenate(steps) if steps else np.zeros(0, np.uint64)


def read_stream(path_or_file):
    """Read a whole stream from a path, a live address ("tcp://HOST:PORT" or
    "unix:PATH", see connect) or a binary file object.

    It makes the Go Reader's checks: framing and checksums; a header with a
    finite dt > 0, populations that tile the ids from 0 (at most
    MAX_NEURONS) and valid state series; spike blocks in step order, within
    header.total_steps, with ascending ids inside the populations; state
    blocks that match their series, in order; gaps within the run; and a
    trailer whose totals match. Memory grows with the bytes read, never with
    what a record claims. On a bad record it raises a StreamError subclass
    whose ``partial`` attribute holds the Stream read before it.
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
    ck = _Checker()
    for index, offset, raw in _iter_raw(f):
        body, crc_err = ck.body(index, offset, raw)
        fast = _fast_block(body) if index > 0 else None
        if fast is not None:
            kind = fast[0]
            ck.kind(index, offset, kind)
        else:
            rec = _parse(ck, index, offset, raw, body, crc_err)
            kind = rec.WhichOneof("kind")
            if kind == "header" and index == 0:
                ck.check_header(index, offset, rec.header, crc_err)
                s.header = rec.header
                s.checksummed = rec.header.format_version >= 2
                for ser in rec.header.state_series:
                    s._state[ser.id] = (ser, [], [])
                continue
            if not ck.kind(index, offset, kind):
                continue

        if kind == "spikes":
            if fast is not None:
                _, first, counts, deltas = fast
            else:
                b = rec.spikes
                first = b.first_step
                counts = np.array(b.counts, dtype=np.uint32)
                deltas = np.array(b.ids, dtype=np.uint32)
            steps, ids = ck.spikes(index, offset, first, counts, deltas)
            # A block without spikes (a quiet stretch) keeps nothing: two
            # empty arrays would keep ~350 bytes for the ~15 bytes read.
            if ids.size:
                steps_chunks.append(steps)
                ids_chunks.append(ids)
        elif kind == "state":
            if fast is not None:
                _, series_id, first, num, values = fast
            else:
                b = rec.state
                series_id, first, num = b.series, b.first_step, b.num_samples
                values = np.array(b.values, dtype=np.float32)
            _, steps = ck.state(index, offset, series_id, first, num, values)
            if steps.size:
                _, st, vals = s._state[series_id]
                st.append(steps)
                vals.append(values)
        elif kind == "gap":
            ck.gap(index, offset, rec.gap)
            s.gaps.append(rec.gap)
        elif kind == "weights":
            ck.weights(index, offset, rec.weights)
            s.weights.append(rec.weights)
        elif kind == "trailer":
            ck.trailer(index, offset, rec.trailer)
            rec.ClearField("crc32c")
            s.trailer = rec.trailer


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
