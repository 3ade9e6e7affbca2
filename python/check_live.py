"""Check that myelin_stream reads live streams (engine/live) and splits
spikes by population.

Usage: check_live.py EXPECTED.json

EXPECTED.json is written by engine/live's Go test (python_test.go). It names
two live addresses (one tcp://, one unix:) that serve the same stream once
both are connected, what the Go reader found in that stream, a file holding
a stream with a gap (a subscriber that joined late), and an address where
nothing serves. Exits non-zero with a message on the first difference.
"""

import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import myelin_stream as ms  # noqa: E402


def fail(msg):
    sys.exit("check_live: " + msg)


def same(name, got, want, dtype):
    want = np.asarray(want, dtype=dtype)
    if got.dtype != want.dtype or got.shape != want.shape or not np.array_equal(got, want):
        fail("%s differs: got %s %s %r..., want %s %s %r..." % (
            name, got.dtype, got.shape, got.ravel()[:8], want.dtype, want.shape, want.ravel()[:8]))


def check_stream(where, s, exp):
    same(where + " spikes_steps", s.spikes_steps, exp["steps"], np.uint64)
    same(where + " spikes_ids", s.spikes_ids, exp["ids"], np.uint32)
    if not s.complete or s.missed_spikes != 0:
        fail("%s: complete %s, missed %d; want a complete stream without gaps" % (where, s.complete, s.missed_spikes))
    if abs(s.duration_ms - exp["duration_ms"]) > 1e-9:
        fail("%s: duration_ms %r, want %r" % (where, s.duration_ms, exp["duration_ms"]))
    by_pop = s.spikes_by_population()
    if sorted(by_pop) != sorted(exp["populations"]):
        fail("%s: spikes_by_population has %s, want %s" % (where, sorted(by_pop), sorted(exp["populations"])))
    for name, want in exp["populations"].items():
        times, ids = by_pop[name]
        same("%s population %s times" % (where, name), times, want["times_ms"], np.float64)
        same("%s population %s ids" % (where, name), ids, want["local_ids"], np.uint32)
        trains = s.spike_trains(name)
        if len(trains) != want["size"]:
            fail("%s: %d spike trains of %s, want %d" % (where, len(trains), name, want["size"]))
        wt, wi = np.asarray(want["times_ms"], np.float64), np.asarray(want["local_ids"], np.int64)
        order = np.lexsort((wt, wi))
        lengths = np.bincount(wi, minlength=want["size"])
        if [len(tr) for tr in trains] != lengths.tolist():
            fail("%s: spike train lengths of %s differ from the spikes per neuron" % (where, name))
        got = np.concatenate(trains) if trains else np.zeros(0)
        if got.dtype != np.float64 or not np.array_equal(got, wt[order]):
            fail("%s: spike trains of %s are not the population's spikes by neuron and time" % (where, name))


def main():
    with open(sys.argv[1]) as f:
        exp = json.load(f)

    # Both subscribers must be connected before the Go side writes the
    # stream, and a subscriber that stops reading would hold the writer:
    # read them in parallel. One by address, one through connect().
    results = {}

    def by_address(addr):
        try:
            results[addr] = ms.read_stream(addr)
        except Exception as e:  # reported below
            results[addr] = e

    def by_connect(addr):
        try:
            with ms.connect(addr, timeout=20) as f:
                results[addr] = list(ms.iter_records(f))
        except Exception as e:
            results[addr] = e

    tcp, unix = exp["tcp"], exp["unix"]
    threads = [threading.Thread(target=by_address, args=(tcp,)), threading.Thread(target=by_connect, args=(unix,))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for addr in (tcp, unix):
        if isinstance(results.get(addr), Exception):
            fail("%s: %s: %s" % (addr, type(results[addr]).__name__, results[addr]))
    check_stream(tcp, results[tcp], exp)
    recs = results[unix]
    kinds = [r.WhichOneof("kind") for r in recs]
    if kinds[0] != "header" or kinds[-1] != "trailer" or kinds.count("spikes") != exp["spike_blocks"]:
        fail("%s: records %s..., want a header, %d spike blocks, a trailer" % (unix, kinds[:5], exp["spike_blocks"]))
    ids = np.concatenate([ms.decode_spikes(r.spikes)[1] for r in recs if r.WhichOneof("kind") == "spikes"])
    same(unix + " ids", ids, exp["ids"], np.uint32)

    # A stream with a gap: received + missed = the total written.
    g = ms.read_stream(exp["gapped"])
    if g.missed_spikes == 0 or g.spikes_ids.size + g.missed_spikes != exp["total"]:
        fail("gapped stream: %d received + %d missed, want %d in all with some missed" % (
            g.spikes_ids.size, g.missed_spikes, exp["total"]))
    if g.trailer.total_spikes != g.spikes_ids.size:
        fail("gapped stream: trailer counts %d, it holds %d" % (g.trailer.total_spikes, g.spikes_ids.size))

    # Nothing serves there: a clear error naming the address.
    try:
        ms.read_stream(exp["refused"])
    except ConnectionRefusedError as e:
        if exp["refused"] not in str(e) or "nothing is serving there" not in str(e):
            fail("refused: message %r" % str(e))
    else:
        fail("reading %s did not fail" % exp["refused"])
    try:
        ms.connect("tcp://nohost")
    except ValueError:
        pass
    else:
        fail("connect accepted an address without a port")
    print("check_live: %d spikes read live over tcp and unix; gapped stream %d + %d missed" % (
        len(exp["ids"]), g.spikes_ids.size, g.missed_spikes))


if __name__ == "__main__":
    main()
