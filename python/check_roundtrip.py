"""Check that myelin_stream decodes a stream written by the Go writer.

Usage: check_roundtrip.py EXPECTED.json
       check_roundtrip.py --classify PATHS.json
       check_roundtrip.py --table CASES.json

EXPECTED.json is written by engine/stream's Go test (python_test.go): the
stream's path and what the Go reader found in it. Exits non-zero with a
message on the first difference.

With --classify, reads each stream listed in PATHS.json (a JSON list of
paths) and prints, as one JSON list, how read_stream fared on each: the
error class, record index and byte offset, and the spikes it kept.

With --table, runs the shared corrupt-stream table
(engine/stream/testdata/corrupt/cases.json, which the Go reader runs too):
every stream must fail with the listed error class at the listed record,
with a message containing the listed text, keeping the listed spikes.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import myelin_stream as ms  # noqa: E402


def fail(msg):
    sys.exit("check_roundtrip: " + msg)


def same(name, got, want, dtype):
    want = np.asarray(want, dtype=dtype)
    if got.dtype != want.dtype or got.shape != want.shape or not np.array_equal(got, want):
        fail("%s differs: got %s %s %r..., want %s %s %r..." % (
            name, got.dtype, got.shape, got.ravel()[:8], want.dtype, want.shape, want.ravel()[:8]))


def main():
    with open(sys.argv[1]) as f:
        exp = json.load(f)

    s = ms.read_stream(exp["stream"])
    same("spikes_steps", s.spikes_steps, exp["steps"], np.uint64)
    same("spikes_ids", s.spikes_ids, exp["ids"], np.uint32)
    if s.dt_ms != exp["dt_ms"]:
        fail("dt_ms %r, want %r" % (s.dt_ms, exp["dt_ms"]))
    for name, want in exp["populations"].items():
        times, ids = s.population_spikes(name)
        same("population %s times" % name, times, want["times_ms"], np.float64)
        same("population %s ids" % name, ids, want["local_ids"], np.uint32)
    for sid, want in exp["state"].items():
        same("state %s" % sid, s.state(int(sid)), np.asarray(want["values"], np.float32).reshape(-1, want["width"]), np.float32)
        same("state %s steps" % sid, s.state_steps(int(sid)), want["steps"], np.uint64)
    if s.trailer is None or s.trailer.total_spikes != exp["total_spikes"]:
        fail("trailer %s, want total_spikes %d" % (s.trailer, exp["total_spikes"]))
    if list(s.trailer.population_spikes) != exp["population_spikes"]:
        fail("population_spikes %s, want %s" % (list(s.trailer.population_spikes), exp["population_spikes"]))
    if len(s.gaps) != exp["gaps"]:
        fail("%d gaps, want %d" % (len(s.gaps), exp["gaps"]))
    if not s.complete:
        fail("stream should be complete")

    # The protobuf path (iter_records + decode_spikes) agrees with the
    # numpy fast path of read_stream.
    steps, ids = [], []
    for rec in ms.iter_records(exp["stream"]):
        if rec.WhichOneof("kind") == "spikes":
            st, i = ms.decode_spikes(rec.spikes)
            steps.append(st)
            ids.append(i)
    same("iter_records steps", np.concatenate(steps), exp["steps"], np.uint64)
    same("iter_records ids", np.concatenate(ids), exp["ids"], np.uint32)

    # A cut stream: the same error as the Go reader, and the records before
    # it are kept.
    t = exp["truncated"]
    try:
        ms.read_stream(t["path"])
        fail("truncated stream read without error")
    except ms.TruncatedError as e:
        if (e.index, e.offset) != (t["index"], t["offset"]) or str(e) != t["message"]:
            fail("truncated: got %r (record %d at %d), want %r" % (str(e), e.index, e.offset, t["message"]))
        same("spikes kept after truncation", e.partial.spikes_ids, exp["ids"][: t["spikes_kept"]], np.uint32)

    try:
        ms.read_stream(exp["not_stream"])
        fail("a text file was read as a stream")
    except ms.NotAStreamError as e:
        if "not a Myelin stream" not in str(e):
            fail("not a stream: message %r" % str(e))

    print("check_roundtrip: ok, %d spikes" % s.spikes_ids.size)


def classify(list_path):
    with open(list_path) as f:
        paths = json.load(f)
    out = []
    for p in paths:
        r = {"error": "", "index": -1, "offset": -1}
        try:
            st = ms.read_stream(p)
        except ms.StreamError as e:
            st = e.partial
            r.update(error=type(e).__name__, index=e.index, offset=e.offset, message=str(e))
        r["spikes"] = int(st.spikes_ids.size)
        out.append(r)
    json.dump(out, sys.stdout)


def table(cases_path):
    with open(cases_path) as f:
        cases = json.load(f)
    base = os.path.dirname(cases_path)
    bad = []
    for c in cases:
        path = os.path.join(base, c["file"])
        err, index, msg = "", -1, ""
        try:
            st = ms.read_stream(path)
        except ms.StreamError as e:
            st = e.partial
            err, index, msg = type(e).__name__, e.index, str(e)
        spikes = int(st.spikes_ids.size)
        if err != c["error"] or index != c["index"] or spikes != c["spikes"] or c["contains"] not in msg:
            bad.append("%s (%s): got %s at record %d with %d spikes (%r); want %s at record %d with %d spikes, containing %r" % (
                c["file"], c["what"], err or "no error", index, spikes, msg, c["error"] or "no error", c["index"], c["spikes"], c["contains"]))
        if not err:
            want_ck = not c["file"].startswith("valid-v1")
            if st.checksummed != want_ck:
                bad.append("%s: checksummed %s, want %s" % (c["file"], st.checksummed, want_ck))
    if bad:
        fail("%d of %d table cases differ:\n  %s" % (len(bad), len(cases), "\n  ".join(bad)))
    print("check_roundtrip: corrupt-stream table: %d cases agree" % len(cases))


if __name__ == "__main__":
    if sys.argv[1] == "--classify":
        classify(sys.argv[2])
    elif sys.argv[1] == "--table":
        table(sys.argv[2])
    else:
        main()
