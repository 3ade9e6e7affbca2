"""Example: load a Myelin stream and summarize it.

    /usr/bin/python3 python/example.py run.myelin [population]

Prints the run's populations, firing rates and the first spikes of one
population, and saves a raster plot if matplotlib is installed.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import myelin_stream as ms  # noqa: E402


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    s = ms.read_stream(sys.argv[1])
    h = s.header
    duration_ms = h.total_steps * h.dt_ms
    print("network %r, seed %d, dt %g ms, %d steps, %d spikes" % (
        h.spec.name, h.seed, h.dt_ms, h.total_steps, s.spikes_ids.size))
    if s.trailer is None:
        print("no trailer: the run was cut short")
    else:
        t = s.trailer
        print("backend %s, %s, %.2f s build, %.2f s simulation" % (
            t.backend, ms.myelin_pb2.Trailer.Status.Name(t.status), t.build_seconds, t.sim_seconds))
    for p in h.populations:
        times, ids = s.population_spikes(p.name)
        rate = times.size / p.size / (duration_ms / 1000.0) if p.size and duration_ms else 0.0
        print("  %-10s %8d neurons  %10d spikes  %7.2f Hz" % (p.name, p.size, times.size, rate))

    name = sys.argv[2] if len(sys.argv) > 2 else (h.populations[0].name if h.populations else None)
    if name is None:
        return
    times, ids = s.population_spikes(name)
    print("first spikes of %s (ms, neuron): %s" % (name, list(zip(np.round(times[:5], 3), ids[:5]))))
    for sid in (ser.id for ser in h.state_series):
        v = s.state(sid)
        print("state series %d: %d samples x %d neurons" % (sid, v.shape[0], v.shape[1]))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    plt.figure(figsize=(8, 4))
    plt.plot(times, ids, ",k")
    plt.xlabel("time (ms)")
    plt.ylabel("%s neuron" % name)
    plt.savefig("raster.png", dpi=150)
    print("wrote raster.png")


if __name__ == "__main__":
    main()
