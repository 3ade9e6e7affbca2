"""Timings of pynn_myelin over `myelin serve` (numbers for bench/RESULTS.md).

    python3 bench_serve.py overhead [--calls 2000]
    python3 bench_serve.py brunel [--n 12500] [--repeat 3]

overhead: the wall time of one run() call on a one-neuron network, through
the raw serve client and through PyNN's sim.run() (which also reads back
the recorded data), against one run of the same total duration.
brunel: describing Brunel's model A through the PyNN API and building and
loading it in the engine (sim.run(0)), against `myelin run brunel
--duration 0` (the CLI's build and load), same N, same thread count.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pynn_myelin as sim  # noqa: E402
from pynn_myelin import client  # noqa: E402
from pyNN.random import RandomDistribution  # noqa: E402


def overhead(calls):
    sim.setup(timestep=0.1)
    p = sim.Population(1, sim.IF_curr_exp(i_offset=1.0), label="p")
    p.record("spikes")
    sim.run(0.1)
    c = sim.simulator.state.client
    t0 = time.perf_counter()
    for _ in range(calls):
        c.run(0.1)
    raw = (time.perf_counter() - t0) / calls
    t0 = time.perf_counter()
    for _ in range(calls):
        sim.run(0.1)
    pynn = (time.perf_counter() - t0) / calls
    t0 = time.perf_counter()
    sim.run(0.1 * calls)
    one = time.perf_counter() - t0
    sim.end()
    print("run() of 1 step on 1 neuron, %d calls: raw serve round trip %.1f µs/call, "
          "PyNN sim.run %.1f µs/call; one run of %d steps %.1f ms in all" % (
              calls, raw * 1e6, pynn * 1e6, calls, one * 1e3))


def brunel_pynn(n, threads):
    n_e = n * 4 // 5
    n_i = n - n_e
    c_e, c_i = n_e // 10, n_i // 10
    J, eta, g = 0.1, 2.0, 5.0
    p_rate = 1000.0 * c_e * eta * 20.0 / (J * c_e * 20.0)
    t0 = time.perf_counter()
    sim.setup(timestep=0.1, threads=threads)
    params = dict(tau_m=20.0, cm=1.0, v_rest=0.0, v_reset=10.0, v_thresh=20.0, tau_refrac=2.0)
    E = sim.Population(n_e, sim.IF_curr_delta(**params), label="E")
    I = sim.Population(n_i, sim.IF_curr_delta(**params), label="I")
    for pop in (E, I):
        pop.initialize(v=RandomDistribution("uniform", low=0.0, high=20.0))
    for post in (E, I):
        sim.Projection(E, post, sim.FixedNumberPreConnector(c_e), sim.StaticSynapse(weight=J, delay=1.5))
        sim.Projection(I, post, sim.FixedNumberPreConnector(c_i), sim.StaticSynapse(weight=-g * J, delay=1.5),
                       receptor_type="inhibitory")
        d = sim.Population(post.size, sim.SpikeSourcePoisson(rate=p_rate))
        sim.Projection(d, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=J, delay=0.1))
    E.record("spikes")
    t1 = time.perf_counter()
    sim.run(0.0)
    t2 = time.perf_counter()
    loaded = sim.simulator.state.layout.loaded
    sim.end()
    return t1 - t0, t2 - t1, loaded.build_seconds, loaded.synapses


def brunel_cli(n, threads):
    exe = client.find_binary()
    t0 = time.perf_counter()
    out = subprocess.run([exe, "run", "brunel", "--set", "n=%d" % n, "--duration", "0", "--backend", "cpu",
                          "--threads", str(threads)], capture_output=True, text=True, check=True).stdout
    wall = time.perf_counter() - t0
    m = re.search(r"build ([0-9.]+)(m?s)", out)
    b = float(m.group(1)) / (1000.0 if m.group(2) == "ms" else 1.0)
    return wall, b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["overhead", "brunel"])
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--n", type=int, default=12500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.what == "overhead":
        overhead(a.calls)
        return
    py, cli = [], []
    for _ in range(a.repeat):
        describe, build_load, engine_build, syn = brunel_pynn(a.n, a.threads)
        py.append((describe, build_load, engine_build))
        cli.append(brunel_cli(a.n, a.threads))
        print("pynn: describe %.3f s + build/load %.3f s (engine build %.3f s); cli: wall %.3f s, build %.3f s"
              % (describe, build_load, engine_build, cli[-1][0], cli[-1][1]))
    tot = statistics.median(d + b for d, b, _ in py)
    cw = statistics.median(w for w, _ in cli)
    cb = statistics.median(b for _, b in cli)
    print("brunel N=%d (%d synapses): PyNN describe+build+load %.3f s (median of %d); CLI process wall %.3f s, "
          "CLI build %.3f s; ratio PyNN/CLI wall %.2f, PyNN/CLI build %.2f" % (
              a.n, syn, tot, a.repeat, cw, cb, tot / cw, tot / cb))


if __name__ == "__main__":
    main()
